/*
 * LMDB's return codes as the project's LEDGER_E… codes, for the two
 * modules that own an LMDB database: the log's store and the witness's.
 */
#ifndef LEDGERD_LMDB_CODE_H
#define LEDGERD_LMDB_CODE_H

/*
 * lmdb_code - translates rc, the result of an LMDB call.  Codes other than
 * "absent" and "exists" are logged as "<who>: <what>: <LMDB's message>".
 *	who	in: the module, for the log line ("store", "witness store")
 *	what	in: the operation, for the log line
 * Returns LEDGER_OK (0), LEDGER_ENOTFOUND (MDB_NOTFOUND), LEDGER_EINVAL
 * (MDB_KEYEXIST), LEDGER_ENOSPC (map or disk full), LEDGER_ECORRUPT (a
 * damaged or foreign file) or LEDGER_EIO (anything else).
 */
int lmdb_code(const char *who, const char *what, int rc);

#endif
