/* LMDB's return codes as LEDGER_E… codes (see lmdb_code.h). */
#include <errno.h>

#include <lmdb.h>

#include "ledger/error.h"

#include "lmdb_code.h"
#include "log.h"

int
lmdb_code(const char *who, const char *what, int rc)
{
	switch (rc) {
	case 0:
		return LEDGER_OK;
	case MDB_NOTFOUND:
		return LEDGER_ENOTFOUND;
	case MDB_KEYEXIST:
		return LEDGER_EINVAL;
	case MDB_MAP_FULL:
	case ENOSPC:
		log_warnx("%s: %s: %s", who, what, mdb_strerror(rc));
		return LEDGER_ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		log_warnx("%s: %s: %s", who, what, mdb_strerror(rc));
		return LEDGER_ECORRUPT;
	default:
		log_warnx("%s: %s: %s", who, what, mdb_strerror(rc));
		return LEDGER_EIO;
	}
}
