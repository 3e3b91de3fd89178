/*
 * The tree hashes in LMDB, and the one-time move of a store written before
 * their stratum layout (store.h: the database tree).
 *
 * Why strata.  An inclusion proof reads one hash per level, each the
 * sibling of the path's node there.  Keyed by level, then index, those
 * hashes lie in as many pages as the proof has levels, and at ten million
 * entries the lower levels' pages are rarely in any cache: the pages, not
 * the hashing, were most of a subject timeline's time.  Keyed by stratum
 * (four levels: a node of the stratum's top level and the 30 nodes below
 * it), then row, then position, a path's hashes in four levels lie side by
 * side in one page or two.
 */
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/error.h"

#include "crash.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"

#define STRATUM_LEVELS 4
#define STRATUM_WIDTH (1u << STRATUM_LEVELS)	/* nodes in its bottom row */
#define MAX_LEVELS 64
#define TREE_KEY_LEN 10
#define LEGACY_KEY_LEN 9
#define MIGRATED_KEY "tree-migrated"	/* meta: the next stratum to copy */

/*
 * stratum (1 byte) || stratum index (8-byte BE) || row << 4 | position:
 * node (level, index) sits in stratum level / 4, row level % 4 (0 at the
 * bottom), and the stratum's row r holds 16 >> r consecutive nodes.
 */
static void
tree_key(uint8_t key[TREE_KEY_LEN], unsigned level, uint64_t index)
{
	unsigned row = level % STRATUM_LEVELS;
	unsigned width_bits = STRATUM_LEVELS - row;

	key[0] = (uint8_t)(level / STRATUM_LEVELS);
	ledger_put_be64(key + 1, index >> width_bits);
	key[9] = (uint8_t)(row << STRATUM_LEVELS |
	    (index & ((1u << width_bits) - 1)));
}

/* The older layout: level (1 byte) || index (8-byte BE). */
static void
legacy_key(uint8_t key[LEGACY_KEY_LEN], unsigned level, uint64_t index)
{
	key[0] = (uint8_t)level;
	ledger_put_be64(key + 1, index);
}

/*
 * A release that predates tree, started on a moved store, creates an
 * empty hashes and refuses to start, finding no tree hashes there.  Such a
 * hashes beside a tree that holds hashes is not the older layout: it is
 * stale, and the next move drops it.
 */
static int
older_release_opened(struct store *st, MDB_txn *txn)
{
	MDB_stat old, tree;
	int rc;

	if ((rc = mdb_stat(txn, st->hashes, &old)) != 0 ||
	    (rc = mdb_stat(txn, st->tree, &tree)) != 0)
		return rc;
	if (old.ms_entries == 0 && tree.ms_entries > 0) {
		st->legacy = 0;
		st->stale_hashes = 1;
	}
	return 0;
}

int
store_tree_open(struct store *st, MDB_txn *txn, int read_only)
{
	int rc = mdb_dbi_open(txn, "hashes", 0, &st->hashes);

	if (rc == 0)
		st->legacy = 1;
	else if (rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_dbi_open(txn, "tree", read_only ? 0 : MDB_CREATE, &st->tree);
	if (rc != 0 && (rc != MDB_NOTFOUND || !st->legacy))
		return rc;
	if (rc == 0 && st->legacy)
		return older_release_opened(st, txn);
	return 0;
}

void
store_tree_txn_end(struct store_txn *t)
{
	if (t->tree_cursor != NULL)
		mdb_cursor_close(t->tree_cursor);
	t->tree_cursor = NULL;
}

static int
tree_lookup(struct store_txn *t, unsigned level, uint64_t index, MDB_val *v)
{
	uint8_t key[TREE_KEY_LEN];
	MDB_val k = { .mv_data = key };
	int rc;

	if (t->st->legacy) {
		legacy_key(key, level, index);
		k.mv_size = LEGACY_KEY_LEN;
		return mdb_get(t->txn, t->st->hashes, &k, v);
	}
	tree_key(key, level, index);
	k.mv_size = TREE_KEY_LEN;
	/* A write transaction's puts would move a cursor: plain gets there. */
	if (t->write)
		return mdb_get(t->txn, t->st->tree, &k, v);
	if (t->tree_cursor == NULL &&
	    (rc = mdb_cursor_open(t->txn, t->st->tree, &t->tree_cursor)) != 0)
		return rc;
	return mdb_cursor_get(t->tree_cursor, &k, v, MDB_SET_KEY);
}

static int
hash_get(void *ctx, unsigned level, uint64_t index, uint8_t out[LEDGER_HASH_LEN])
{
	MDB_val v;
	int rc;

	if (level >= MAX_LEVELS)
		return LEDGER_ENOTFOUND;
	if ((rc = tree_lookup(ctx, level, index, &v)) != 0)
		return store_lmdb_error("get tree hash", rc);
	if (v.mv_size != LEDGER_HASH_LEN)
		return LEDGER_ECORRUPT;
	memcpy(out, v.mv_data, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

static int
hash_put(void *ctx, unsigned level, uint64_t index,
    const uint8_t hash[LEDGER_HASH_LEN])
{
	struct store_txn *t = ctx;
	uint8_t key[TREE_KEY_LEN];
	MDB_val k = { .mv_data = key };
	MDB_val v = { .mv_size = LEDGER_HASH_LEN, .mv_data = (void *)hash };

	if (level >= MAX_LEVELS)
		return LEDGER_EINVAL;
	if (t->st->legacy) {
		legacy_key(key, level, index);
		k.mv_size = LEGACY_KEY_LEN;
		return store_lmdb_error("put tree hash",
		    mdb_put(t->txn, t->st->hashes, &k, &v, 0));
	}
	tree_key(key, level, index);
	k.mv_size = TREE_KEY_LEN;
	return store_lmdb_error("put tree hash",
	    mdb_put(t->txn, t->st->tree, &k, &v, 0));
}

struct ledger_hash_store
store_hash_store(struct store_txn *txn)
{
	struct ledger_hash_store hs = {
		.get = hash_get,
		.put = hash_put,
		.ctx = txn,
	};

	return hs;
}

int
store_hash_count(struct store_txn *txn, uint64_t *count)
{
	MDB_stat ms;
	int rc;

	rc = mdb_stat(txn->txn, txn->st->legacy ? txn->st->hashes :
	    txn->st->tree, &ms);
	if (rc != 0)
		return store_lmdb_error("stat", rc);
	*count = ms.ms_entries;
	return LEDGER_OK;
}

int
store_tree_legacy(struct store *st)
{
	return st->legacy;
}

/*
 * Copies the nodes of stratum (s, j) of a tree of size leaves from the old
 * database into tree, in key order (so appended: full pages).
 */
static int
copy_stratum(struct store_txn *t, uint64_t size, unsigned s, uint64_t j,
    uint64_t *copied)
{
	unsigned row;
	int rc;

	for (row = 0; row < STRATUM_LEVELS; row++) {
		unsigned level = s * STRATUM_LEVELS + row;
		uint64_t width = STRATUM_WIDTH >> row, k, nodes;

		if (level >= MAX_LEVELS)
			break;
		nodes = size >> level;	/* complete subtrees at this level */
		for (k = 0; k < width && j * width + k < nodes; k++) {
			uint64_t index = j * width + k;
			uint8_t old[LEGACY_KEY_LEN], key[TREE_KEY_LEN];
			MDB_val ok = { LEGACY_KEY_LEN, old };
			MDB_val nk = { TREE_KEY_LEN, key };
			MDB_val v;

			legacy_key(old, level, index);
			if ((rc = mdb_get(t->txn, t->st->hashes, &ok, &v)) != 0) {
				log_warnx("store: tree hash (%u, %llu) missing "
				    "from a tree of %llu leaves", level,
				    (unsigned long long)index,
				    (unsigned long long)size);
				return rc == MDB_NOTFOUND ? LEDGER_ECORRUPT :
				    store_lmdb_error("get tree hash", rc);
			}
			if (v.mv_size != LEDGER_HASH_LEN)
				return LEDGER_ECORRUPT;
			tree_key(key, level, index);
			if ((rc = mdb_put(t->txn, t->st->tree, &nk, &v,
			    MDB_APPEND)) != 0)
				return store_lmdb_error("copy tree hash", rc);
			(*copied)++;
		}
	}
	return LEDGER_OK;
}

/* Strata at stratum level s of a tree of size leaves: ceil(nodes / 16). */
static uint64_t
strata(uint64_t size, unsigned s)
{
	uint64_t bottom;

	if (s * STRATUM_LEVELS >= MAX_LEVELS)
		return 0;
	bottom = size >> (s * STRATUM_LEVELS);
	return bottom / STRATUM_WIDTH + (bottom % STRATUM_WIDTH != 0);
}

/*
 * Copies up to about max strata's worth of hashes from hashes into tree
 * (none when hashes is stale); the commit that copies the last one drops
 * hashes and marks a compaction due: the older layout's pages (some
 * 300,000 at 10 M entries) are then free, and LMDB rewrites the part of
 * its free list it has loaded at every commit until they are used again
 * (store_compact()).
 */
static int
copy_step(struct store *st, uint64_t max, uint64_t *copied)
{
	struct store_txn *t = NULL;
	struct store_state state;
	uint8_t marker[9];
	unsigned s = 0;
	uint64_t j = 0;
	int rc, finished = st->stale_hashes;

	if ((rc = store_write_begin(st, &t)) != 0 ||
	    (rc = store_get_state(t, &state)) != 0)
		goto out;
	rc = store_get_meta(t, MIGRATED_KEY, marker, sizeof(marker));
	if (rc == 0) {
		s = marker[0];
		j = ledger_get_be64(marker + 1);
	} else if (rc != LEDGER_ENOTFOUND)
		goto out;
	for (; !finished; s++, j = 0) {
		uint64_t n = strata(state.tree_size, s);

		if (n == 0) {
			finished = 1;
			break;
		}
		for (; j < n && *copied < max; j++)
			if ((rc = copy_stratum(t, state.tree_size, s, j,
			    copied)) != 0)
				goto out;
		if (j < n)
			break;
	}
	if (finished) {
		if ((rc = mdb_drop(t->txn, st->hashes, 1)) != 0) {
			rc = store_lmdb_error("drop the older tree hashes", rc);
			goto out;
		}
		rc = store_del_meta(t, MIGRATED_KEY);
		if (rc != 0 && rc != LEDGER_ENOTFOUND)
			goto out;
		/* An empty hashes freed nothing worth a compaction. */
		if (!st->stale_hashes && (rc = store_mark_compact_due(t)) != 0)
			goto out;
	} else {
		marker[0] = (uint8_t)s;
		ledger_put_be64(marker + 1, j);
		if ((rc = store_put_meta(t, MIGRATED_KEY, marker,
		    sizeof(marker))) != 0)
			goto out;
	}
	crash_point("tree-migrate-put");
	rc = store_commit(t);
	t = NULL;
	if (rc != 0)
		goto out;
	crash_point("tree-migrate-commit");
	if (finished)
		st->legacy = st->stale_hashes = 0;
out:
	store_txn_end(t);
	return rc;
}

int
store_tree_migrate_step(struct store *st, uint64_t max_copy,
    uint64_t *copied, int *done)
{
	int rc;

	*copied = 0;
	if (!st->legacy && !st->stale_hashes) {
		*done = 1;
		return LEDGER_OK;
	}
	rc = copy_step(st, max_copy, copied);
	*done = rc == 0 && !st->legacy && !st->stale_hashes;
	return rc;
}

#define MIGRATE_COPY_NODES (1u << 20)	/* about 64 MB of pages a commit */

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int
store_tree_migrate(struct store *st)
{
	struct timespec t0;
	uint64_t copied, total = 0;
	int rc, done = !st->legacy && !st->stale_hashes;

	if (done)
		return LEDGER_OK;
	log_info("store: moving the tree hashes into their stratum layout "
	    "(once; a stop on the way loses nothing)");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done) {
		if ((rc = store_tree_migrate_step(st, MIGRATE_COPY_NODES,
		    &copied, &done)) != 0) {
			log_warnx("store: cannot move the tree hashes: %s",
			    ledger_strerror(rc));
			return rc;
		}
		total += copied;
		if (!done)
			log_info("store: %llu tree hashes copied so far",
			    (unsigned long long)total);
	}
	log_info("store: %llu tree hashes moved in %.1f s",
	    (unsigned long long)total, seconds_since(&t0));
	return LEDGER_OK;
}
