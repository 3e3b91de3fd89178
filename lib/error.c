/* Descriptions of the LEDGER_E* codes. */
#include "ledger/error.h"

const char *
ledger_strerror(int err)
{
	switch (err) {
	case LEDGER_OK:
		return "success";
	case LEDGER_EINVAL:
		return "invalid input";
	case LEDGER_ECRYPTO:
		return "cryptographic library failure";
	case LEDGER_EVERIFY:
		return "verification failed";
	case LEDGER_ENOTFOUND:
		return "not found";
	case LEDGER_EIO:
		return "input/output error";
	case LEDGER_ERANGE:
		return "index or size out of range";
	case LEDGER_ETOOBIG:
		return "input too large";
	case LEDGER_ESTORE:
		return "hash store failure";
	case LEDGER_EPERM:
		return "key file permissions too open";
	case LEDGER_ENOSPC:
		return "storage full";
	case LEDGER_ECORRUPT:
		return "stored data is corrupt";
	}
	return "unknown error";
}
