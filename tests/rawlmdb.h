/*
 * A store's files opened with LMDB directly, under the daemon's code: for
 * tests that write a store as an older release did, or look at its
 * databases as they are on disk.
 */
#ifndef TESTS_RAWLMDB_H
#define TESTS_RAWLMDB_H

#include <lmdb.h>

/*
 * raw_begin - opens DIR/file (an LMDB file, not a directory) and a
 * transaction on it (flags: 0 or MDB_RDONLY, for both).  Returns 0 or -1.
 */
int raw_begin(const char *dir, const char *file, unsigned flags,
    MDB_env **env, MDB_txn **txn);

/* raw_end - commits (ok) or aborts txn and closes env; 0 when committed. */
int raw_end(MDB_env *env, MDB_txn *txn, int ok);

/*
 * raw_has - whether DIR/file has a database of that name (key NULL), or
 * whether that database holds key: 1 or 0.  -1 when the file does not
 * open, or a key is asked of a database that is not there.
 */
int raw_has(const char *dir, const char *file, const char *database,
    const char *key);

#endif
