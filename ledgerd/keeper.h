/*
 * The key keeper (security.md, "The key keeper"): the small process that
 * `ledgerd serve` forks before it opens its store and serves requests.  It
 * alone reads the key files, confines itself (sandbox.h) and answers the
 * frames of keeper_proto.h; the network-facing process holds no key byte.
 */
#ifndef LEDGERD_KEEPER_H
#define LEDGERD_KEEPER_H

#include <sys/types.h>

#include "config.h"

struct keystore;

/*
 * keeper_load - the keys of data directory dir, held in this process: the
 * log key (made on first start with create), DIR/subject.key moved into
 * the legacy period, the period secrets' directory.  For the keeper, and
 * for tools that run while no daemon does.
 *	cfg	in: borrowed; NULL only without create (datadir_open)
 *	out	out: a new keystore (keystore_free)
 * Returns 0 or what datadir_open and keystore_open return (logged).
 */
int keeper_load(const char *dir, const struct config *cfg, int create,
    struct keystore **out);

/*
 * keeper_spawn - forks the key keeper for cfg->data_dir.  Call it while the
 * process has one thread.  The child loads the keys, sends READY, confines
 * itself and serves until its socket ends; it never returns.
 *	fd	out: the daemon's end of the socketpair (close-on-exec)
 *	pid	out: the keeper's pid
 * Returns 0 or LEDGER_EIO (logged).
 */
int keeper_spawn(const struct config *cfg, int *fd, pid_t *pid);

#endif
