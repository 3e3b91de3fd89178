/*
 * Making and ending a keyring (keyring.h): the calls only the process that
 * sets the keys up makes.  Everyone else sees keyring.h alone.
 */
#ifndef LEDGERD_KEYRING_IMPL_H
#define LEDGERD_KEYRING_IMPL_H

#include "ledger/note.h"

#include "config.h"
#include "keyring.h"

struct keeper_conn;
struct keystore;

/*
 * keyring_open_local - a keyring over keys held in this process.
 *	ks	in: stolen; freed by keyring_free
 * Returns a new keyring; never NULL.
 */
struct keyring *keyring_open_local(struct keystore *ks);

/*
 * keyring_start_keeper - forks the key keeper for cfg->data_dir (keeper.h)
 * and returns a keyring whose every operation is a round trip to it.  This
 * process reads no key file and holds no key byte.  Call it while the
 * process has one thread.
 *	out	out: a new keyring (keyring_free), NULL on failure
 * Returns 0 or an error (logged by the keeper or here).
 */
int keyring_start_keeper(const struct config *cfg, struct keyring **out);

/*
 * keyring_available - 0 once the key keeper is known to be gone (then
 * every keyring_run fails with KEYRING_EUNAVAILABLE), else 1.  A look at
 * its socket, no round trip, and no wait for an exchange under way (it
 * then says what that exchange has found so far).  Always 1 for keys held
 * in this process.
 */
int keyring_available(struct keyring *kr);

/* keyring_free - ends kr and wipes what it holds (NULL is fine); a keeper
   sees its socket end and exits. */
void keyring_free(struct keyring *kr);

/*
 * The keeper's socket, for keyring.c (keyring_client.c).  keeper_conn_start
 * spawns the keeper and reads its READY (the verifier into v); the others
 * are keyring_run, keyring_periods and keyring_destroy over it;
 * keeper_conn_alive is keyring_available's look.  All but start return
 * KEYRING_EUNAVAILABLE once the keeper is gone.  keeper_conn_known_gone,
 * alone of them callable without the keyring's lock, says whether an
 * exchange has found the keeper gone.
 */
int keeper_conn_start(const struct config *cfg, struct keeper_conn **out,
    struct ledger_verifier *v);
void keeper_conn_free(struct keeper_conn *c);
int keeper_conn_alive(struct keeper_conn *c);
int keeper_conn_known_gone(const struct keeper_conn *c);
int keeper_conn_run(struct keeper_conn *c, struct keyring_op *ops, size_t n);
int keeper_conn_periods(struct keeper_conn *c, struct keyring_periods *out);
int keeper_conn_destroy(struct keeper_conn *c, const char *period);

#endif
