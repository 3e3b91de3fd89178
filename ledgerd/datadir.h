/*
 * The data directory's key material: the log's Ed25519 signing key, the
 * subject key, the published verifier key and the development token —
 * created on first start, read back and checked on every later one.
 */
#ifndef LEDGERD_DATADIR_H
#define LEDGERD_DATADIR_H

#include <stdint.h>

#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/note.h"

#include "config.h"

/* File names inside the data directory. */
#define DATADIR_LOG_KEY "log.key"		/* Ed25519 PKCS#8 PEM, 0600 */
#define DATADIR_SUBJECT_KEY "subject.key"	/* 32 raw bytes, 0600: only in
						   directories from before
						   period secrets */
#define DATADIR_KEYS "keys"			/* period secrets (keystore.h) */
#define DATADIR_VERIFIER "verifier.vkey"	/* note-verifier text + "\n", 0644 */
#define DATADIR_DEV_TOKEN "dev.token"		/* 64 lowercase hex + "\n", 0600 */
#define DATADIR_DATABASE "ledger.mdb"		/* the store's; its presence
						   means the log has begun */
#define DATADIR_LOCK "ledgerd.lock"		/* the holder's pid + "\n", 0600 */

#define DATADIR_TOKEN_LEN 32			/* random bytes of a dev token */
#define DATADIR_TOKEN_HEX (2 * DATADIR_TOKEN_LEN)

/*
 * The keys of one data directory.  Holds secrets: release it with
 * datadir_keys_free(), which wipes them.  Everything stays valid until then.
 */
struct datadir_keys {
	struct ledger_signer *signer;		/* the log's checkpoint key */
	struct ledger_verifier verifier;	/* its public half (a copy) */
	char *verifier_text;			/* note-verifier string, no
						   newline */
	uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN];	/* the legacy period's */
	int has_subject_key;			/* 1 when subject.key exists */
	int created;				/* 1 when this call made a new
						   log key (first start) */
	int has_dev_token;			/* development mode only */
	char dev_token[DATADIR_TOKEN_HEX + 1];	/* the bearer token, NUL-ended */
	uint8_t dev_token_sha256[LEDGER_HASH_LEN];	/* SHA-256 of its 64
							   characters */
};

/*
 * datadir_open - opens the data directory dir and loads its keys.
 *
 * With create set (serve): creates dir (mode 0700, and missing parents) when
 * needed, and on first start generates DIR/log.key (0600, never
 * overwriting) and then writes DIR/verifier.vkey (0644) for the key name
 * cfg->origin.  DIR/subject.key, the one subject key of data directories
 * made before period secrets, is read when it exists (has_subject_key) and
 * never made.  In development mode (cfg->dev_mode) it also creates
 * DIR/dev.token (0600) once and reuses it on later starts.  A key is never
 * silently replaced: a missing log.key is an error when DIR/ledger.mdb or
 * DIR/verifier.vkey already exist, and so is a missing subject.key when
 * the log has begun and DIR/keys/ does not exist (a log from before
 * periods), unless its legacy period was destroyed.  A missing
 * verifier.vkey beside an existing log key is written again (with a warning).
 *
 * Without create (fsck, tools): nothing is created or written; every file
 * must exist.  cfg may then be NULL: the key name is taken from
 * DIR/verifier.vkey and no development token is read.
 *
 * Key files readable by group or others are refused.  verifier.vkey must be
 * exactly the key's verifier string for cfg->origin (and a newline): a
 * different origin or key is refused, since a log's name and key never
 * change.  Every failure is logged (log_warnx) naming the file and the fix;
 * no key or token is ever logged.
 *	dir	in: the data directory
 *	cfg	in: origin and dev_mode; borrowed (NULL only without create)
 *	create	in: 1 to initialise what is missing, 0 to only read
 *	out	out: the keys, zeroed on failure (datadir_keys_free() either way
 *		is safe)
 * Returns 0, LEDGER_EIO (errno set: a file or directory operation failed),
 * LEDGER_EPERM (a key file is accessible to group or others),
 * LEDGER_EINVAL (a file is malformed, or cfg is NULL with create),
 * LEDGER_ENOTFOUND (a key is missing where it may not be made),
 * LEDGER_EVERIFY (verifier.vkey does not match the key and origin),
 * LEDGER_ECRYPTO.
 */
int datadir_open(const char *dir, const struct config *cfg, int create,
    struct datadir_keys *out);

/*
 * datadir_keys_free - frees the signer and the verifier text and wipes the
 * subject key and the development token.  Leaves *keys zeroed; NULL is
 * allowed.  The struct itself is the caller's.
 */
void datadir_keys_free(struct datadir_keys *keys);

/*
 * datadir_lock - takes the data directory for this process alone: an
 * exclusive flock(2) on DIR/ledgerd.lock, which then holds this process's
 * pid.  Every program that opens the store (serve, fsck, reindex) takes it
 * first, so that no two of them use one directory at once.  The lock goes
 * with the process (or with datadir_unlock): a daemon killed by any signal
 * leaves no stale lock behind; the file itself stays.
 *
 * With create set, dir (and missing parents) is made as by datadir_open.
 * Without it, a directory whose lock file cannot be created because the
 * directory is read-only is used unlocked (no daemon can be writing there),
 * with a warning.  When another process holds the lock, the warning names
 * its pid and the lock file.
 *	dir	in: the data directory
 *	create	in: 1 to create dir when missing
 *	fd	out: the lock's descriptor (-1 when used unlocked); keep it
 *		open for as long as the directory is used
 * Returns 0, LEDGER_EPERM (another process holds the lock), LEDGER_EIO
 * (errno set).  Every failure is logged.
 */
int datadir_lock(const char *dir, int create, int *fd);

/* datadir_unlock - releases what datadir_lock took; -1 is allowed. */
void datadir_unlock(int fd);

/*
 * datadir_keygen - `ledgerd keygen --out FILE --name ORIGIN`: writes a new
 * Ed25519 key (PKCS#8 PEM, 0600, never overwriting an existing file) and
 * prints its note-verifier string and a newline on stdout.  Failures are
 * logged.
 * Returns 0, LEDGER_EINVAL (name is not a valid key name), LEDGER_EIO
 * (errno set; EEXIST when path exists), LEDGER_ECRYPTO.
 */
int datadir_keygen(const char *path, const char *name);

#endif
