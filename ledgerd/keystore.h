/*
 * The key files of a data directory and what is done with them: the log's
 * signing key, the period secrets under DIR/keys/ (and a legacy subject.key),
 * and the operations of keyring.h carried out on them.  Only the process
 * that holds the keys uses this: the key keeper under `ledgerd serve`, or a
 * tool that runs alone.
 */
#ifndef LEDGERD_KEYSTORE_H
#define LEDGERD_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/entry.h"
#include "ledger/note.h"

#include "keyring.h"

#define KEYSTORE_SECRET_SUFFIX ".key"	/* <period>.key: 32 random bytes, 0600 */
#define KEYSTORE_TOMBSTONE_SUFFIX ".destroyed"	/* <period>.destroyed: empty,
						   0600, the period is gone */

struct keystore;

/*
 * keystore_open - the key store of data directory dir.
 *	dir		in: the data directory; DIR/keys/ is made (0700) when
 *			create is set and it is missing
 *	signer		in: the log's signing key; stolen (freed by
 *			keystore_free, also on failure)
 *	legacy_key	in: DIR/subject.key's bytes when the directory has one
 *			(period "legacy": its token key is these bytes, so
 *			tokens written before periods stay findable), or NULL;
 *			copied, the caller cleanses its own
 *	out		out: a new store (keystore_free)
 * Returns 0 or LEDGER_EIO (logged).
 */
int keystore_open(const char *dir, int create, struct ledger_signer *signer,
    const uint8_t *legacy_key, struct keystore **out);

/* keystore_free - wipes every secret it holds and frees ks (NULL is fine). */
void keystore_free(struct keystore *ks);

/* keystore_verifier - the log's public key; borrowed, valid as ks. */
const struct ledger_verifier *keystore_verifier(const struct keystore *ks);

/*
 * keystore_run - carries out ops[0..n) as keyring_run() describes; each op
 * gets its own rc.  Not thread-safe: the caller serialises.
 * Returns LEDGER_OK or LEDGER_EINVAL (n above KEYRING_OPS_MAX).
 */
int keystore_run(struct keystore *ks, struct keyring_op *ops, size_t n);

/* keystore_periods / keystore_destroy - as keyring_periods/keyring_destroy. */
int keystore_periods(struct keystore *ks, struct keyring_periods *out);
int keystore_destroy(struct keystore *ks, const char *period);

#endif
