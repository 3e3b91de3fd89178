/*
 * Error codes shared by every ledger_ function: 0 is success, a negative
 * LEDGER_E* value is a failure that ledger_strerror() describes.
 */
#ifndef LEDGER_ERROR_H
#define LEDGER_ERROR_H

enum {
	LEDGER_OK = 0,
	LEDGER_EINVAL = -1,	/* malformed input or argument out of range */
	LEDGER_ECRYPTO = -2,	/* an OpenSSL call failed */
	LEDGER_EVERIFY = -3,	/* a proof or signature does not verify */
	LEDGER_ENOTFOUND = -4,	/* a stored value is missing */
	LEDGER_EIO = -5,	/* a file or storage operation failed (see errno) */
	LEDGER_ERANGE = -6,	/* index or size outside the tree */
	LEDGER_ETOOBIG = -7,	/* input exceeds a documented limit */
	LEDGER_ESTORE = -8,	/* the hash store reported a failure */
	LEDGER_EPERM = -9,	/* a key file is readable by group or others */
	LEDGER_ENOSPC = -10,	/* storage is full (disk or database map) */
	LEDGER_ECORRUPT = -11,	/* stored data is inconsistent */
};

/*
 * ledger_strerror - a static, human-readable description of an error code.
 * Never returns NULL; unknown codes give "unknown error".
 */
const char *ledger_strerror(int err);

#endif
