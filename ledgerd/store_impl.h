/*
 * What the store's files share: its LMDB handles and transactions.
 * store.c holds the records, store_tree.c the tree hashes' layout and its
 * migration, store_file.c the file as a whole (truncation, compaction);
 * no other file includes this.
 */
#ifndef LEDGERD_STORE_IMPL_H
#define LEDGERD_STORE_IMPL_H

#include <stdint.h>

#include <lmdb.h>

#define STORE_MAX_KEY 511	/* LMDB's default maximum key size */
#define STORE_LOW_SPACE (1024 * 1024)	/* free bytes below which a disk is full */

struct store {
	MDB_env *env;
	MDB_dbi entries, meta, idem, index, published, witnesses;
	MDB_dbi sealed;		/* sealed values (spec §2.10), apart from entries */
	int has_sealed;		/* absent in a read-only open of an older store */
	/*
	 * A data directory written before checkpoints were published has
	 * neither database; a read-only open (fsck) cannot create them, and
	 * then reads them as empty.
	 */
	int has_published;
	/*
	 * The tree hashes (store_tree.c): tree, keyed by stratum; in a store
	 * written before that layout, hashes, keyed by level, which serves
	 * every read and write (legacy set) until store_tree_migrate() has
	 * copied it into tree and dropped it.  stale_hashes: an empty hashes
	 * an older release left beside tree, dropped by the next move.
	 */
	MDB_dbi tree, hashes;
	int legacy;
	int stale_hashes;
	char *path;
	struct tail *tail;	/* index records above the watermark, or NULL */
	/*
	 * The provenance index (store_index.c): in index.mdb (ienv, its
	 * databases iindex and imeta), built once it holds a watermark.  A
	 * store written before that has index in the log's environment
	 * (main_index); it serves (index_legacy) until store_index_move()
	 * has copied it, and is dropped after.  ienv is NULL in a read-only
	 * open of a store without index.mdb.
	 */
	MDB_env *ienv;
	MDB_dbi iindex, imeta;
	char *ipath;
	int main_index, index_legacy, index_built;
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;		/* the log's; NULL in an index write transaction */
	int write;
	/*
	 * index.mdb's: a snapshot opened at the first index read, or the
	 * write transaction of store_index_write_begin (iwrite).
	 */
	MDB_txn *itxn;
	int iwrite, wrote_watermark;
	/*
	 * A read transaction of a store with a tail: the epoch pinned before
	 * the snapshot opened, and once an index is read, the snapshot's
	 * watermark and tree size: the tail answers for seqs in [indexed,
	 * tree_size), LMDB for those below.
	 */
	struct tail_epoch *pin;
	int have_bounds;
	uint64_t indexed, tree_size;
	/*
	 * A read transaction's cursor on the tree hashes, opened at the first
	 * read: LMDB looks a key up in the cursor's current page before it
	 * descends from the root, and a proof's hashes share few pages.
	 */
	MDB_cursor *tree_cursor;
};

/*
 * store_file_truncated - 1 when the file ends before a page in use (and
 * LMDB would fault reading it), else 0 (store_file.c).
 */
int store_file_truncated(MDB_env *env, const char *path);

/*
 * store_index_open - opens the index (store_index.c) in store_open, txn
 * being the log's open transaction; store_index_close undoes it.  Returns
 * an LMDB code.
 */
int store_index_open(struct store *st, MDB_txn *txn, const char *dir,
    uint64_t map_size, int read_only);
void store_index_close(struct store *st);

/* store_lmdb_error - an LMDB code as a LEDGER_E* code, logged unless absent. */
int store_lmdb_error(const char *what, int rc);

/*
 * store_tree_open - opens the tree hashes' databases in the open
 * transaction txn (creating tree unless read_only); sets st->legacy when
 * the older layout is still there.  Returns an LMDB code.
 */
int store_tree_open(struct store *st, MDB_txn *txn, int read_only);

/* store_tree_txn_end - closes t's cursor; before its transaction ends. */
void store_tree_txn_end(struct store_txn *t);

#endif
