/*
 * The provenance index in LMDB (store.h): its records, its watermark, its
 * reads through the tail, and its own environment, index.mdb.
 *
 * The index lives apart from the log so that a merge (tail_merge.h), whose
 * commit writes every page its random keys touch, never holds the write
 * transaction that appends wait for: two LMDB environments have a writer
 * each.  Nothing in it is needed to prove anything: it is derived from the
 * entries, and rebuilt from them when it is missing.  Stores written
 * before keep the index in the log's environment (index_legacy) until
 * store_index_move() has copied it here and dropped it there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "crash.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "tail.h"

#define WATERMARK_KEY "indexed"

/*
 * The tree size the log's state record begins with, from its value as
 * read raw under "state" here (store.c writes the record and reads it
 * whole, store_get_state()): 0, or MDB_CORRUPTED when it is too short to
 * hold one.
 */
static int
state_tree_size(const MDB_val *state, uint64_t *tree_size)
{
	if (state->mv_size < 8)
		return MDB_CORRUPTED;
	*tree_size = ledger_get_be64(state->mv_data);
	return 0;
}

/*
 * An empty log's index is built as it is created: its watermark is 0.  (A
 * log with entries and no index.mdb has it rebuilt from them.)
 */
static int
index_if_empty(struct store *st, MDB_txn *txn, MDB_txn *itxn)
{
	MDB_val sk = { .mv_size = 5, .mv_data = "state" };
	MDB_val k = { .mv_size = strlen(WATERMARK_KEY), .mv_data = WATERMARK_KEY };
	uint8_t zero[8] = { 0 };
	MDB_val v = { .mv_size = sizeof(zero), .mv_data = zero }, sv;
	uint64_t tree_size;
	int rc = mdb_get(txn, st->meta, &sk, &sv);

	/* A record too short to read is left for the store's own checks. */
	if (rc == 0 && (state_tree_size(&sv, &tree_size) != 0 ||
	    tree_size != 0))
		return 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_put(itxn, st->imeta, &k, &v, 0)) == 0)
		st->index_built = 1;
	return rc;
}

/*
 * Opens the main environment's index database if it is there (a store
 * written before index.mdb), then index.mdb: created unless read_only;
 * absent in a read-only open, the store has no index to read.
 */
int
store_index_open(struct store *st, MDB_txn *txn, const char *dir,
    uint64_t map_size, int read_only)
{
	MDB_txn *itxn = NULL;
	MDB_val k = { .mv_size = strlen(WATERMARK_KEY), .mv_data = WATERMARK_KEY };
	MDB_val v;
	int rc;

	rc = mdb_dbi_open(txn, "index", MDB_DUPSORT | MDB_DUPFIXED, &st->index);
	if (rc == 0)
		st->main_index = 1;
	else if (rc != MDB_NOTFOUND)
		return rc;
	st->ipath = xasprintf("%s/%s", dir, STORE_INDEX_FILE);
	if ((rc = mdb_env_create(&st->ienv)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(st->ienv, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->ienv, map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->ienv, 512)) != 0)
		goto fail;
	rc = mdb_env_open(st->ienv, st->ipath, MDB_NOSUBDIR | MDB_NOTLS |
	    (read_only ? MDB_RDONLY : 0), 0600);
	if (rc == ENOENT && read_only) {
		mdb_env_close(st->ienv);
		st->ienv = NULL;
		st->index_legacy = st->main_index;
		return 0;
	}
	if (rc != 0)
		goto fail;
	if (store_file_truncated(st->ienv, st->ipath)) {
		log_warnx("store: %s ends before a page in use: truncated",
		    st->ipath);
		rc = MDB_CORRUPTED;
		goto fail;
	}
	if ((rc = mdb_txn_begin(st->ienv, NULL, read_only ? MDB_RDONLY : 0,
	    &itxn)) != 0)
		goto fail;
	unsigned create = read_only ? 0 : MDB_CREATE;
	if ((rc = mdb_dbi_open(itxn, "index", create | MDB_DUPSORT |
	    MDB_DUPFIXED, &st->iindex)) != 0 ||
	    (rc = mdb_dbi_open(itxn, "meta", create, &st->imeta)) != 0) {
		/*
		 * A start killed between creating the file and its first
		 * commit leaves an empty environment: read-only, that is
		 * no index (the next start makes it), not a broken store.
		 */
		if (rc == MDB_NOTFOUND && read_only) {
			mdb_txn_abort(itxn);
			mdb_env_close(st->ienv);
			st->ienv = NULL;
			st->index_legacy = st->main_index;
			return 0;
		}
		goto fail;
	}
	rc = mdb_get(itxn, st->imeta, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	st->index_built = rc == 0;
	if (!st->index_built && !st->main_index && !read_only &&
	    (rc = index_if_empty(st, txn, itxn)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(itxn)) != 0) {
		itxn = NULL;
		goto fail;
	}
	/* Until the move has copied it, the older index is the index. */
	if (st->main_index && !st->index_built)
		st->index_legacy = 1;
	return 0;
fail:
	if (itxn != NULL)
		mdb_txn_abort(itxn);
	if (st->ienv != NULL)
		mdb_env_close(st->ienv);
	st->ienv = NULL;
	if (rc == MDB_NOTFOUND)
		rc = MDB_INVALID;
	return rc;
}

void
store_index_close(struct store *st)
{
	if (st->ienv != NULL)
		mdb_env_close(st->ienv);
	st->ienv = NULL;
	free(st->ipath);
	st->ipath = NULL;
}

int
store_index_present(struct store *st)
{
	return st->index_legacy || (st->ienv != NULL && st->index_built);
}

int
store_index_in_log(struct store *st)
{
	return st->main_index;
}

/*
 * The index's transaction for t, and its databases: the main one's in a
 * store of the older layout; else one of index.mdb, opened at the first
 * use, a snapshot, or t's own in an index write transaction.
 */
static int
index_txn(struct store_txn *t, MDB_txn **txn, MDB_dbi *index, MDB_dbi *meta)
{
	struct store *st = t->st;
	int rc;

	if (st->index_legacy) {
		*txn = t->txn;
		*index = st->index;
		*meta = st->meta;
		return 0;
	}
	if (st->ienv == NULL)
		return MDB_NOTFOUND;
	if (t->itxn == NULL &&
	    (rc = mdb_txn_begin(st->ienv, NULL, MDB_RDONLY, &t->itxn)) != 0)
		return rc;
	*txn = t->itxn;
	*index = st->iindex;
	*meta = st->imeta;
	return 0;
}

/* The same, for writing: only in a transaction of store_index_write_begin. */
static int
index_write_txn(struct store_txn *t, MDB_txn **txn, MDB_dbi *index,
    MDB_dbi *meta)
{
	if (!t->st->index_legacy && !t->iwrite)
		return EINVAL;
	if (t->st->index_legacy && !t->write)
		return EINVAL;
	return index_txn(t, txn, index, meta);
}

int
store_index_write_begin(struct store *st, struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	if (st->index_legacy)
		return store_write_begin(st, out);
	if (st->ienv == NULL)
		return LEDGER_ENOTFOUND;
	t = xcalloc(1, sizeof(*t));
	if ((rc = mdb_txn_begin(st->ienv, NULL, 0, &t->itxn)) != 0) {
		free(t);
		return store_lmdb_error("begin index transaction", rc);
	}
	t->st = st;
	t->iwrite = 1;
	*out = t;
	return LEDGER_OK;
}

/*
 * Index keys are kind || value; values longer than LMDB's key limit are
 * replaced by kind || 0xff || SHA-256(value), which cannot collide with a
 * short value because 0xff never starts valid UTF-8.
 */
static size_t
index_key(uint8_t *buf, enum store_index kind, const void *value, size_t len)
{
	buf[0] = (uint8_t)kind;
	if (1 + len <= STORE_MAX_KEY && (len == 0 || ((const uint8_t *)value)[0] != 0xff)) {
		memcpy(buf + 1, value, len);
		return 1 + len;
	}
	buf[1] = 0xff;
	ledger_sha256(value, len, buf + 2);
	return 2 + LEDGER_HASH_LEN;
}

/* One value at a time, skipping any already there. */
static int
index_put_each(MDB_cursor *c, MDB_val *k, const uint8_t *be, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		MDB_val v = { .mv_size = 8, .mv_data = (void *)(be + 8 * i) };

		rc = mdb_cursor_put(c, k, &v, MDB_NODUPDATA);
		if (rc == MDB_KEYEXIST)
			rc = 0;
	}
	return rc;
}

int
store_index_put_seqs(struct store_txn *txn, enum store_index kind,
    const void *value, size_t len, const uint64_t *seqs, size_t n)
{
	uint8_t key[STORE_MAX_KEY], *be;
	MDB_val k = { .mv_data = key }, v[2];
	MDB_txn *itxn;
	MDB_dbi index, meta;
	MDB_cursor *c;
	int rc;

	if (n == 0)
		return LEDGER_OK;
	if ((rc = index_write_txn(txn, &itxn, &index, &meta)) != 0)
		return store_lmdb_error("index put", rc);
	k.mv_size = index_key(key, kind, value, len);
	be = xcalloc(n, 8);
	for (size_t i = 0; i < n; i++)
		ledger_put_be64(be + 8 * i, seqs[i]);
	if ((rc = mdb_cursor_open(itxn, index, &c)) != 0) {
		free(be);
		return store_lmdb_error("cursor", rc);
	}
	/*
	 * The values go in with one call (fixed-size duplicates), appended
	 * after the key's last: seqs only grow.  Should any not be bigger
	 * (MDB_KEYEXIST), they take the ordinary path one by one.
	 */
	v[0].mv_size = 8;
	v[0].mv_data = be;
	v[1].mv_size = n;
	rc = mdb_cursor_put(c, &k, v, MDB_MULTIPLE | MDB_APPENDDUP);
	if (rc == MDB_KEYEXIST)
		rc = index_put_each(c, &k, be, n);
	mdb_cursor_close(c);
	free(be);
	return store_lmdb_error("index put", rc);
}

/*
 * The seqs of (kind, value) in LMDB, as store_index_scan: only those below
 * `below`, which a snapshot of index.mdb newer than the log's may hold.
 */
static int
lmdb_index_scan(struct store_txn *txn, enum store_index kind, const void *value,
    size_t len, uint64_t from, int reverse, uint64_t below, uint64_t *seqs,
    size_t max, size_t *n)
{
	uint8_t key[STORE_MAX_KEY], data[8];
	size_t klen = index_key(key, kind, value, len);
	MDB_val k = { .mv_size = klen, .mv_data = key };
	MDB_val v = { .mv_size = 8, .mv_data = data };
	MDB_txn *itxn;
	MDB_dbi index, meta;
	MDB_cursor *c;
	int rc;

	*n = 0;
	if (max == 0 || below == 0)
		return LEDGER_OK;
	if (reverse && from >= below)
		from = below - 1;
	if ((rc = index_txn(txn, &itxn, &index, &meta)) != 0)
		return rc == MDB_NOTFOUND ? LEDGER_OK : store_lmdb_error("index", rc);
	if ((rc = mdb_cursor_open(itxn, index, &c)) != 0)
		return store_lmdb_error("cursor", rc);
	ledger_put_be64(data, from);
	/* Positions at the first duplicate >= from. */
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	if (reverse) {
		if (rc == MDB_NOTFOUND) {
			/* Every duplicate is < from: start at the last one. */
			k.mv_size = klen;
			k.mv_data = key;
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
			if (rc == 0)
				rc = mdb_cursor_get(c, &k, &v, MDB_LAST_DUP);
		} else if (rc == 0 && ledger_get_be64(v.mv_data) > from) {
			rc = mdb_cursor_get(c, &k, &v, MDB_PREV_DUP);
		}
	}
	while (rc == 0 && *n < max) {
		if (v.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		uint64_t seq = ledger_get_be64(v.mv_data);
		if (seq >= below)
			break;	/* forward only: reverse starts below */
		seqs[(*n)++] = seq;
		rc = mdb_cursor_get(c, &k, &v, reverse ? MDB_PREV_DUP : MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return store_lmdb_error("index scan", rc);
}

static int
lmdb_index_contains(struct store_txn *txn, enum store_index kind,
    const void *value, size_t len, uint64_t seq)
{
	uint8_t key[STORE_MAX_KEY], data[8];
	MDB_val k = { .mv_data = key }, v = { .mv_size = 8, .mv_data = data };
	MDB_txn *itxn;
	MDB_dbi index, meta;
	MDB_cursor *c;
	int rc;

	if ((rc = index_txn(txn, &itxn, &index, &meta)) != 0)
		return store_lmdb_error("index", rc);
	k.mv_size = index_key(key, kind, value, len);
	ledger_put_be64(data, seq);
	if ((rc = mdb_cursor_open(itxn, index, &c)) != 0)
		return store_lmdb_error("cursor", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH);
	mdb_cursor_close(c);
	return store_lmdb_error("index lookup", rc);
}

int
store_get_indexed(struct store_txn *txn, uint64_t *indexed)
{
	MDB_val k = { .mv_size = strlen(WATERMARK_KEY), .mv_data = WATERMARK_KEY };
	MDB_val v;
	MDB_txn *itxn;
	MDB_dbi index, meta;
	int rc;

	if ((rc = index_txn(txn, &itxn, &index, &meta)) != 0 ||
	    (rc = mdb_get(itxn, meta, &k, &v)) != 0)
		return store_lmdb_error("watermark", rc);
	if (v.mv_size != 8) {
		log_warnx("store: watermark record of %zu bytes", v.mv_size);
		return LEDGER_ECORRUPT;
	}
	*indexed = ledger_get_be64(v.mv_data);
	return LEDGER_OK;
}

int
store_put_indexed(struct store_txn *txn, uint64_t indexed)
{
	MDB_val k = { .mv_size = strlen(WATERMARK_KEY), .mv_data = WATERMARK_KEY };
	uint8_t be[8];
	MDB_val v = { .mv_size = sizeof(be), .mv_data = be };
	MDB_txn *itxn;
	MDB_dbi index, meta;
	int rc;

	ledger_put_be64(be, indexed);
	if ((rc = index_write_txn(txn, &itxn, &index, &meta)) == 0)
		rc = mdb_put(itxn, meta, &k, &v, 0);
	if (rc == 0)
		txn->wrote_watermark = 1;
	return store_lmdb_error("put watermark", rc);
}

/*
 * The bounds of a read transaction with a tail: the log's snapshot gives
 * the tree size; index.mdb's, opened after it, the watermark, which may be
 * beyond that tree size (a merge committed in between): then LMDB answers
 * for all of the snapshot's seqs, and for none above it.  A store written
 * before the watermark existed indexed every entry in the commit that
 * appended it.
 */
static int
index_bounds(struct store_txn *txn)
{
	struct store_state state;
	int rc;

	if (txn->have_bounds)
		return LEDGER_OK;
	if ((rc = store_get_state(txn, &state)) != 0)
		return rc;
	rc = store_get_indexed(txn, &txn->indexed);
	if (rc == LEDGER_ENOTFOUND && txn->st->index_legacy) {
		txn->indexed = state.tree_size;
		rc = LEDGER_OK;
	}
	if (rc != 0)
		return rc;
	if (txn->indexed > state.tree_size) {
		if (txn->st->index_legacy) {
			log_warnx("store: watermark %llu beyond the tree size "
			    "%llu", (unsigned long long)txn->indexed,
			    (unsigned long long)state.tree_size);
			return LEDGER_ECORRUPT;
		}
		txn->indexed = state.tree_size;
	}
	txn->tree_size = state.tree_size;
	txn->have_bounds = 1;
	return LEDGER_OK;
}

/*
 * LMDB holds the records of seqs below the watermark only, the tail those
 * of seqs from it to the snapshot's tree size: the two lists concatenate.
 */
int
store_index_scan(struct store_txn *txn, enum store_index kind, const void *value,
    size_t len, uint64_t from, int reverse, uint64_t *seqs, size_t max,
    size_t *n)
{
	size_t m = 0;
	int rc = 0;

	*n = 0;
	if (txn->pin == NULL)
		return lmdb_index_scan(txn, kind, value, len, from, reverse,
		    UINT64_MAX, seqs, max, n);
	if ((rc = index_bounds(txn)) != 0)
		return rc;
	if (reverse) {
		tail_scan(txn->st->tail, kind, value, len, txn->indexed,
		    txn->tree_size, from, 1, seqs, max, &m);
		if (m < max && txn->indexed > 0)
			rc = lmdb_index_scan(txn, kind, value, len, from, 1,
			    txn->indexed, seqs + m, max - m, n);
	} else {
		if (from < txn->indexed)
			rc = lmdb_index_scan(txn, kind, value, len, from, 0,
			    txn->indexed, seqs, max, &m);
		if (rc == 0 && m < max)
			tail_scan(txn->st->tail, kind, value, len, txn->indexed,
			    txn->tree_size, from, 0, seqs + m, max - m, n);
	}
	*n += m;
	return rc;
}

int
store_index_contains(struct store_txn *txn, enum store_index kind,
    const void *value, size_t len, uint64_t seq)
{
	int rc;

	if (txn->pin == NULL)
		return lmdb_index_contains(txn, kind, value, len, seq);
	if ((rc = index_bounds(txn)) != 0)
		return rc;
	if (seq < txn->indexed)
		return lmdb_index_contains(txn, kind, value, len, seq);
	if (seq < txn->tree_size &&
	    tail_contains(txn->st->tail, kind, value, len, seq))
		return LEDGER_OK;
	return LEDGER_ENOTFOUND;
}

int
store_index_count(struct store_txn *txn, uint64_t *count)
{
	MDB_txn *itxn;
	MDB_dbi index, meta;
	MDB_stat ms;
	int rc;

	*count = 0;
	if ((rc = index_txn(txn, &itxn, &index, &meta)) != 0 ||
	    (rc = mdb_stat(itxn, index, &ms)) != 0)
		return store_lmdb_error("index stat", rc);
	*count = ms.ms_entries;
	return LEDGER_OK;
}

int
store_index_clear(struct store_txn *txn)
{
	MDB_txn *itxn;
	MDB_dbi index, meta;
	int rc;

	if ((rc = index_write_txn(txn, &itxn, &index, &meta)) == 0)
		rc = mdb_drop(itxn, index, 0);
	return store_lmdb_error("clear index", rc);
}

/*
 * The move of an older store's index into index.mdb: every record copied
 * in key order (LMDB appends, its pages full) with the watermark, in one
 * transaction of index.mdb; then, in one of the log's, the older index
 * dropped and a compaction marked due.  A crash before the first commit
 * leaves the older index serving, and the next start copies again from an
 * empty index.mdb; after it, index.mdb serves and the next start drops the
 * older one.
 */
static int
copy_main_index(struct store *st, uint64_t *records)
{
	MDB_txn *from = NULL, *to = NULL;
	MDB_cursor *c = NULL, *w = NULL;
	MDB_val k, v, watermark_key = {
		.mv_size = strlen(WATERMARK_KEY), .mv_data = WATERMARK_KEY };
	MDB_val wv;
	uint8_t be[8], last[STORE_MAX_KEY];
	size_t last_len = 0;
	uint64_t indexed = 0;
	int rc;

	*records = 0;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &from)) != 0 ||
	    (rc = mdb_txn_begin(st->ienv, NULL, 0, &to)) != 0)
		goto out;
	/* The older index's watermark; before it had one, the tree size. */
	rc = mdb_get(from, st->meta, &watermark_key, &wv);
	if (rc == MDB_NOTFOUND) {
		MDB_val sk = { .mv_size = 5, .mv_data = "state" };
		rc = mdb_get(from, st->meta, &sk, &wv);
		if (rc == MDB_NOTFOUND) {
			indexed = 0;
			rc = 0;
		} else if (rc == 0) {
			rc = state_tree_size(&wv, &indexed);
		}
	} else if (rc == 0) {
		if (wv.mv_size != 8)
			rc = MDB_CORRUPTED;
		else
			indexed = ledger_get_be64(wv.mv_data);
	}
	if (rc != 0)
		goto out;
	if ((rc = mdb_drop(to, st->iindex, 0)) != 0 ||
	    (rc = mdb_cursor_open(from, st->index, &c)) != 0 ||
	    (rc = mdb_cursor_open(to, st->iindex, &w)) != 0)
		goto out;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		/* Keys in order, each key's seqs in order: appends all. */
		unsigned flags = MDB_APPENDDUP;

		if (k.mv_size > STORE_MAX_KEY) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		if (*records == 0 || k.mv_size != last_len ||
		    memcmp(last, k.mv_data, k.mv_size) != 0) {
			flags = MDB_APPEND;
			memcpy(last, k.mv_data, k.mv_size);
			last_len = k.mv_size;
		}
		if ((rc = mdb_cursor_put(w, &k, &v, flags)) != 0)
			goto out;
		++*records;
		if (*records % 4000000 == 0)
			log_info("store: index move: %llu records copied",
			    (unsigned long long)*records);
	}
	if (rc != MDB_NOTFOUND)
		goto out;
	crash_point("index-move-put");
	ledger_put_be64(be, indexed);
	wv.mv_size = sizeof(be);
	wv.mv_data = be;
	if ((rc = mdb_put(to, st->imeta, &watermark_key, &wv, 0)) != 0)
		goto out;
	mdb_cursor_close(w);
	w = NULL;
	rc = mdb_txn_commit(to);
	to = NULL;
out:
	if (w != NULL)
		mdb_cursor_close(w);
	if (c != NULL)
		mdb_cursor_close(c);
	if (to != NULL)
		mdb_txn_abort(to);
	if (from != NULL)
		mdb_txn_abort(from);
	return rc;
}

/* Drops the log's older index and its watermark; marks a compaction due. */
static int
drop_main_index(struct store *st)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_write_begin(st, &t)) != 0)
		return rc;
	rc = store_lmdb_error("drop the older index", mdb_drop(t->txn,
	    st->index, 1));
	if (rc == 0) {
		rc = store_del_meta(t, WATERMARK_KEY);
		if (rc == LEDGER_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = store_mark_compact_due(t);
	if (rc != 0) {
		store_txn_end(t);
		return rc;
	}
	crash_point("index-drop-commit");
	if ((rc = store_commit(t)) == 0)
		st->main_index = 0;
	return rc;
}

int
store_index_move(struct store *st)
{
	struct timespec t0, t1;
	uint64_t records;
	int rc;

	if (st->ienv == NULL)
		return LEDGER_EINVAL;
	if (st->index_legacy) {
		log_info("store: moving the index into %s", STORE_INDEX_FILE);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((rc = copy_main_index(st, &records)) != 0)
			return store_lmdb_error("index move", rc);
		st->index_legacy = 0;
		st->index_built = 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_info("store: %llu index records moved in %.1f s",
		    (unsigned long long)records, (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		crash_point("index-moved");
	}
	if (st->main_index && (rc = drop_main_index(st)) != 0)
		return rc;
	return st->index_built ? 0 : 1;
}

int
store_index_lag(struct store *st, uint64_t *lag)
{
	struct store_txn *t;
	struct store_state state;
	uint64_t indexed = 0;
	int rc;

	*lag = 0;
	if ((rc = store_read_begin(st, &t)) != 0)
		return rc;
	if ((rc = store_get_state(t, &state)) == 0)
		rc = store_get_indexed(t, &indexed);
	store_txn_end(t);
	if (rc != 0)
		return rc;
	if (indexed > state.tree_size)
		return 1;
	*lag = state.tree_size - indexed;
	return 0;
}
