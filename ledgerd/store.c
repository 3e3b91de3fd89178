/*
 * LMDB storage of entries, the log's head, the latest checkpoint, the
 * published checkpoints with their cosignatures, idempotency records and
 * provenance indexes (schema in store.h); the tree hashes are in
 * store_tree.c, the file as a whole in store_file.c.  With them, the only
 * files that open LMDB databases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "lmdb_code.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "tail.h"

/* Translates an LMDB code, logging the ones that are not plain "absent". */
int
store_lmdb_error(const char *what, int rc)
{
	return lmdb_code("store", what, rc);
}

int
store_open(const char *dir, uint64_t map_size, int read_only, struct store **out)
{
	struct store *st = xcalloc(1, sizeof(*st));
	unsigned env_flags = MDB_NOSUBDIR | MDB_NOTLS;
	MDB_txn *txn = NULL;
	int rc;

	st->path = xasprintf("%s/%s", dir, STORE_FILE);
	if ((rc = mdb_env_create(&st->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(st->env, 16)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, map_size)) != 0)
		goto fail;
	/* Room for read transactions of many concurrent requests. */
	if ((rc = mdb_env_set_maxreaders(st->env, 512)) != 0)
		goto fail;
	if (read_only)
		env_flags |= MDB_RDONLY;
	/*
	 * No MDB_NOSYNC/MDB_NOMETASYNC: a commit returns only once the data
	 * and the meta page are on disk, which is what an acknowledgement
	 * promises.
	 */
	if ((rc = mdb_env_open(st->env, st->path, env_flags, 0600)) != 0)
		goto fail;
	if (store_file_truncated(st->env, st->path)) {
		log_warnx("store: %s ends before a page in use: truncated",
		    st->path);
		rc = MDB_CORRUPTED;
		goto fail;
	}
	if ((rc = mdb_txn_begin(st->env, NULL, read_only ? MDB_RDONLY : 0, &txn)) != 0)
		goto fail;
	unsigned create = read_only ? 0 : MDB_CREATE;
	if ((rc = mdb_dbi_open(txn, "entries", create, &st->entries)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", create, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "idem", create, &st->idem)) != 0 ||
	    (rc = store_tree_open(st, txn, read_only)) != 0 ||
	    (rc = store_index_open(st, txn, dir, map_size, read_only)) != 0)
		goto fail;
	rc = mdb_dbi_open(txn, "published", create, &st->published);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "witnesses", create, &st->witnesses);
	if (rc == MDB_NOTFOUND && read_only)
		rc = 0;
	else if (rc == 0)
		st->has_published = 1;
	else
		goto fail;
	rc = mdb_dbi_open(txn, "sealed", create, &st->sealed);
	if (rc == MDB_NOTFOUND && read_only)
		rc = 0;
	else if (rc == 0)
		st->has_sealed = 1;
	else
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = st;
	return LEDGER_OK;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	rc = store_lmdb_error(st->path, rc == MDB_NOTFOUND ? MDB_INVALID : rc);
	store_index_close(st);
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st->path);
	free(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_index_close(st);
	mdb_env_close(st->env);
	free(st->path);
	free(st);
}

void
store_set_tail(struct store *st, struct tail *tail)
{
	st->tail = tail;
}

static int
txn_begin(struct store *st, MDB_txn *parent, unsigned flags,
    struct store_txn **out)
{
	struct store_txn *t = xcalloc(1, sizeof(*t));
	int rc;

	/* Pinned first: the snapshot then cannot predate a reclaimed merge. */
	if ((flags & MDB_RDONLY) && st->tail != NULL)
		t->pin = tail_pin(st->tail);
	if ((rc = mdb_txn_begin(st->env, parent, flags, &t->txn)) != 0) {
		if (t->pin != NULL)
			tail_unpin(st->tail, t->pin);
		free(t);
		return store_lmdb_error("begin transaction", rc);
	}
	t->st = st;
	t->write = !(flags & MDB_RDONLY);
	*out = t;
	return LEDGER_OK;
}

int
store_read_begin(struct store *st, struct store_txn **out)
{
	return txn_begin(st, NULL, MDB_RDONLY, out);
}

int
store_write_begin(struct store *st, struct store_txn **out)
{
	return txn_begin(st, NULL, 0, out);
}

/*
 * LMDB reports a short write as EIO ("short write, filesystem full?"):
 * when the file system is all but full, that is ENOSPC.
 */
static int
short_of_space(const struct store *st)
{
	struct statvfs sv;

	return statvfs(st->path, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < STORE_LOW_SPACE;
}

int
store_commit(struct store_txn *txn)
{
	int rc;

	store_tree_txn_end(txn);
	if (txn->iwrite) {
		rc = mdb_txn_commit(txn->itxn);
		if (rc == 0 && txn->wrote_watermark)
			txn->st->index_built = 1;
	} else {
		if (txn->itxn != NULL)
			mdb_txn_abort(txn->itxn);
		rc = mdb_txn_commit(txn->txn);
		if (rc == 0 && txn->wrote_watermark)
			txn->st->index_built = 1;
	}
	if (rc == EIO && short_of_space(txn->st))
		rc = ENOSPC;
	if (txn->pin != NULL)
		tail_unpin(txn->st->tail, txn->pin);
	free(txn);
	return store_lmdb_error("commit", rc);
}

void
store_txn_end(struct store_txn *txn)
{
	if (txn == NULL)
		return;
	store_tree_txn_end(txn);
	if (txn->itxn != NULL)
		mdb_txn_abort(txn->itxn);
	if (txn->txn != NULL)
		mdb_txn_abort(txn->txn);
	if (txn->pin != NULL)
		tail_unpin(txn->st->tail, txn->pin);
	free(txn);
}

static int count_records(struct store_txn *txn, MDB_dbi dbi, uint64_t *count);

static int
get(struct store_txn *t, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };

	return store_lmdb_error("get", mdb_get(t->txn, dbi, &k, val));
}

static int
put(struct store_txn *t, MDB_dbi dbi, const void *key, size_t klen,
    const void *data, size_t dlen, unsigned flags)
{
	MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
	MDB_val v = { .mv_size = dlen, .mv_data = (void *)data };

	return store_lmdb_error("put", mdb_put(t->txn, dbi, &k, &v, flags));
}

/* The state record: tree_size, last_received_us, last_leaf_hash, big-endian. */
#define STATE_LEN (8 + 8 + LEDGER_HASH_LEN)

int
store_get_state(struct store_txn *txn, struct store_state *out)
{
	MDB_val v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = get(txn, txn->st->meta, "state", 5, &v);
	if (rc == LEDGER_ENOTFOUND)
		return LEDGER_OK;	/* an empty log */
	if (rc != 0)
		return rc;
	if (v.mv_size != STATE_LEN) {
		log_warnx("store: state record of %zu bytes", v.mv_size);
		return LEDGER_ECORRUPT;
	}
	const uint8_t *p = v.mv_data;
	out->tree_size = ledger_get_be64(p);
	out->last_received_us = (int64_t)ledger_get_be64(p + 8);
	memcpy(out->last_leaf_hash, p + 16, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

int
store_put_state(struct store_txn *txn, const struct store_state *state)
{
	uint8_t buf[STATE_LEN];

	ledger_put_be64(buf, state->tree_size);
	ledger_put_be64(buf + 8, (uint64_t)state->last_received_us);
	memcpy(buf + 16, state->last_leaf_hash, LEDGER_HASH_LEN);
	return put(txn, txn->st->meta, "state", 5, buf, sizeof(buf), 0);
}

int
store_get_entry(struct store_txn *txn, uint64_t seq, const char **bytes,
    size_t *len)
{
	uint8_t key[8];
	MDB_val v;
	int rc;

	ledger_put_be64(key, seq);
	if ((rc = get(txn, txn->st->entries, key, sizeof(key), &v)) != 0)
		return rc;
	*bytes = v.mv_data;
	*len = v.mv_size;
	return LEDGER_OK;
}

int
store_put_entry(struct store_txn *txn, uint64_t seq, const char *bytes,
    size_t len)
{
	uint8_t key[8];

	ledger_put_be64(key, seq);
	/* Entries are appended in seq order: MDB_APPEND keeps pages full. */
	return put(txn, txn->st->entries, key, sizeof(key), bytes, len,
	    MDB_NOOVERWRITE | MDB_APPEND);
}

int
store_get_checkpoint(struct store_txn *txn, const char **note, size_t *len)
{
	MDB_val v;
	int rc;

	if ((rc = get(txn, txn->st->meta, "checkpoint", 10, &v)) != 0)
		return rc;
	*note = v.mv_data;
	*len = v.mv_size;
	return LEDGER_OK;
}

int
store_put_checkpoint(struct store_txn *txn, const char *note, size_t len)
{
	return put(txn, txn->st->meta, "checkpoint", 10, note, len, 0);
}

int
store_get_published(struct store_txn *txn, uint64_t *tree_size,
    const char **note, size_t *len)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!txn->st->has_published)
		return LEDGER_ENOTFOUND;
	if ((rc = mdb_cursor_open(txn->txn, txn->st->published, &c)) != 0)
		return store_lmdb_error("cursor", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size != 8)
		rc = MDB_CORRUPTED;
	if (rc != 0)
		return store_lmdb_error("published checkpoint", rc);
	*tree_size = ledger_get_be64(k.mv_data);
	*note = v.mv_data;
	*len = v.mv_size;
	return LEDGER_OK;
}

int
store_get_published_at(struct store_txn *txn, uint64_t tree_size, int before,
    uint64_t *found, const char **note, size_t *len)
{
	uint8_t key[8];
	MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;
	MDB_cursor *c;
	int rc;

	if (!txn->st->has_published)
		return LEDGER_ENOTFOUND;
	ledger_put_be64(key, tree_size);
	if (!before) {
		if ((rc = get(txn, txn->st->published, key, sizeof(key), &v)) != 0)
			return rc;
		if (found != NULL)
			*found = tree_size;
		*note = v.mv_data;
		*len = v.mv_size;
		return LEDGER_OK;
	}
	if ((rc = mdb_cursor_open(txn->txn, txn->st->published, &c)) != 0)
		return store_lmdb_error("cursor", rc);
	/* The first key >= tree_size, then one back; or the last of all. */
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size != 8)
		rc = MDB_CORRUPTED;
	if (rc != 0)
		return store_lmdb_error("published checkpoint", rc);
	if (found != NULL)
		*found = ledger_get_be64(k.mv_data);
	*note = v.mv_data;
	*len = v.mv_size;
	return LEDGER_OK;
}

int
store_put_published(struct store_txn *txn, uint64_t tree_size,
    const char *note, size_t len)
{
	uint8_t key[8];

	if (!txn->st->has_published)
		return LEDGER_EIO;
	ledger_put_be64(key, tree_size);
	return put(txn, txn->st->published, key, sizeof(key), note, len, 0);
}

int
store_count_published(struct store_txn *txn, uint64_t *count)
{
	if (!txn->st->has_published) {
		*count = 0;
		return LEDGER_OK;
	}
	return count_records(txn, txn->st->published, count);
}

int
store_get_witness_size(struct store_txn *txn, const char *name,
    uint64_t *tree_size)
{
	size_t n = strlen(name);
	MDB_val v;
	int rc;

	if (!txn->st->has_published)
		return LEDGER_ENOTFOUND;
	if (n == 0 || n > STORE_MAX_KEY)
		return LEDGER_EINVAL;
	if ((rc = get(txn, txn->st->witnesses, name, n, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return LEDGER_ECORRUPT;
	*tree_size = ledger_get_be64(v.mv_data);
	return LEDGER_OK;
}

int
store_put_witness_size(struct store_txn *txn, const char *name,
    uint64_t tree_size)
{
	size_t n = strlen(name);
	uint8_t v[8];

	if (!txn->st->has_published)
		return LEDGER_EIO;
	if (n == 0 || n > STORE_MAX_KEY)
		return LEDGER_EINVAL;
	ledger_put_be64(v, tree_size);
	return put(txn, txn->st->witnesses, name, n, v, sizeof(v), 0);
}

/* principal NUL key; both are bounded by the config and the validator. */
static size_t
idem_key(uint8_t *buf, size_t cap, const char *principal, const char *key)
{
	size_t plen = strlen(principal), klen = strlen(key);

	if (plen + 1 + klen > cap)
		return 0;
	memcpy(buf, principal, plen);
	buf[plen] = '\0';
	memcpy(buf + plen + 1, key, klen);
	return plen + 1 + klen;
}

int
store_get_idem(struct store_txn *txn, const char *principal, const char *key,
    uint64_t *seq, uint8_t request_hash[LEDGER_HASH_LEN])
{
	uint8_t k[STORE_MAX_KEY];
	size_t klen = idem_key(k, sizeof(k), principal, key);
	MDB_val v;
	int rc;

	if (klen == 0)
		return LEDGER_ETOOBIG;
	if ((rc = get(txn, txn->st->idem, k, klen, &v)) != 0)
		return rc;
	if (v.mv_size != 8 + LEDGER_HASH_LEN)
		return LEDGER_ECORRUPT;
	*seq = ledger_get_be64(v.mv_data);
	memcpy(request_hash, (uint8_t *)v.mv_data + 8, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

int
store_put_idem(struct store_txn *txn, const char *principal, const char *key,
    uint64_t seq, const uint8_t request_hash[LEDGER_HASH_LEN])
{
	uint8_t k[STORE_MAX_KEY], v[8 + LEDGER_HASH_LEN];
	size_t klen = idem_key(k, sizeof(k), principal, key);

	if (klen == 0)
		return LEDGER_ETOOBIG;
	ledger_put_be64(v, seq);
	memcpy(v + 8, request_hash, LEDGER_HASH_LEN);
	return put(txn, txn->st->idem, k, klen, v, sizeof(v), MDB_NOOVERWRITE);
}

static int
count_records(struct store_txn *txn, MDB_dbi dbi, uint64_t *count)
{
	MDB_stat ms;
	int rc;

	if ((rc = mdb_stat(txn->txn, dbi, &ms)) != 0)
		return store_lmdb_error("stat", rc);
	*count = ms.ms_entries;
	return LEDGER_OK;
}

int
store_idem_each(struct store_txn *txn,
    int (*fn)(void *ctx, const char *principal, const char *key, uint64_t seq),
    void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn->txn, txn->st->idem, &c)) != 0)
		return store_lmdb_error("cursor", rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		char buf[STORE_MAX_KEY + 1];
		const char *nul;

		memcpy(buf, k.mv_data, k.mv_size);
		buf[k.mv_size] = '\0';
		nul = memchr(buf, '\0', k.mv_size);
		if (nul == NULL || v.mv_size != 8 + LEDGER_HASH_LEN) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = fn(ctx, buf, nul + 1, ledger_get_be64(v.mv_data))) != 0) {
			mdb_cursor_close(c);
			return rc;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? LEDGER_OK : store_lmdb_error("idempotency scan", rc);
}

uint64_t
store_disk_usage(struct store *st)
{
	struct stat sb;
	uint64_t bytes = 0;

	if (stat(st->path, &sb) == 0)
		bytes += (uint64_t)sb.st_blocks * 512;
	if (st->ipath != NULL && stat(st->ipath, &sb) == 0)
		bytes += (uint64_t)sb.st_blocks * 512;
	return bytes;
}

/* Sealed values: key seq (8 bytes, big-endian) || field; value period NUL sealed. */
static size_t
sealed_key(uint8_t *buf, size_t cap, uint64_t seq, const char *field)
{
	size_t n = strlen(field);

	if (n == 0 || 8 + n > cap)
		return 0;
	ledger_put_be64(buf, seq);
	memcpy(buf + 8, field, n);
	return 8 + n;
}

int
store_put_sealed(struct store_txn *txn, uint64_t seq, const char *field,
    const char *period, const uint8_t *sealed, size_t len)
{
	uint8_t key[64], *val;
	size_t klen, plen = strlen(period);
	int rc;

	if (!txn->st->has_sealed)
		return LEDGER_EIO;
	if ((klen = sealed_key(key, sizeof(key), seq, field)) == 0 || plen == 0)
		return LEDGER_EINVAL;
	val = xmalloc(plen + 1 + len);
	memcpy(val, period, plen + 1);
	memcpy(val + plen + 1, sealed, len);
	rc = put(txn, txn->st->sealed, key, klen, val, plen + 1 + len, 0);
	free(val);
	return rc;
}

int
store_get_sealed(struct store_txn *txn, uint64_t seq, const char *field,
    const char **period, const uint8_t **sealed, size_t *len)
{
	uint8_t key[64];
	const char *p;
	size_t klen, plen;
	MDB_val v;
	int rc;

	if (!txn->st->has_sealed)
		return LEDGER_ENOTFOUND;
	if ((klen = sealed_key(key, sizeof(key), seq, field)) == 0)
		return LEDGER_EINVAL;
	if ((rc = get(txn, txn->st->sealed, key, klen, &v)) != 0)
		return rc;
	p = v.mv_data;
	plen = strnlen(p, v.mv_size);
	if (plen == 0 || plen == v.mv_size)
		return LEDGER_ECORRUPT;
	*period = p;
	*sealed = (const uint8_t *)p + plen + 1;
	*len = v.mv_size - plen - 1;
	return LEDGER_OK;
}

int
store_sealed_each(struct store_txn *txn,
    int (*fn)(void *ctx, uint64_t seq, const char *field), void *ctx)
{
	char field[64];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!txn->st->has_sealed)
		return LEDGER_OK;
	if ((rc = mdb_cursor_open(txn->txn, txn->st->sealed, &c)) != 0)
		return store_lmdb_error("cursor", rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		/* As sealed_key makes them: seq, then the field's name. */
		if (k.mv_size <= 8 || k.mv_size - 8 >= sizeof(field)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(field, (const uint8_t *)k.mv_data + 8, k.mv_size - 8);
		field[k.mv_size - 8] = '\0';
		if ((rc = fn(ctx, ledger_get_be64(k.mv_data), field)) != 0) {
			mdb_cursor_close(c);
			return rc;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? LEDGER_OK : store_lmdb_error("sealed scan", rc);
}

/* Retention records live in meta under "retention/" NAME. */
static size_t
retention_key(char *buf, size_t cap, const char *name)
{
	int n = snprintf(buf, cap, "retention/%s", name);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int
store_get_meta(struct store_txn *txn, const char *name, void *out, size_t len)
{
	MDB_val v;
	int rc;

	if ((rc = get(txn, txn->st->meta, name, strlen(name), &v)) != 0)
		return rc;
	if (v.mv_size != len)
		return LEDGER_ECORRUPT;
	memcpy(out, v.mv_data, len);
	return LEDGER_OK;
}

int
store_put_meta(struct store_txn *txn, const char *name, const void *data,
    size_t len)
{
	return put(txn, txn->st->meta, name, strlen(name), data, len, 0);
}

int
store_del_meta(struct store_txn *txn, const char *name)
{
	MDB_val k = { .mv_size = strlen(name), .mv_data = (void *)name };

	return store_lmdb_error("delete", mdb_del(txn->txn, txn->st->meta, &k, NULL));
}

int
store_get_retention(struct store_txn *txn, const char *name, void *out, size_t len)
{
	char key[96];

	if (retention_key(key, sizeof(key), name) == 0)
		return LEDGER_EINVAL;
	return store_get_meta(txn, key, out, len);
}

int
store_put_retention(struct store_txn *txn, const char *name, const void *data,
    size_t len)
{
	char key[96];

	if (retention_key(key, sizeof(key), name) == 0)
		return LEDGER_EINVAL;
	return store_put_meta(txn, key, data, len);
}
