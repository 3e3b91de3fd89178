/*
 * The witness's LMDB storage (schema in witness_store.h): the latest
 * cosigned checkpoint per log and the split-view evidence.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "lmdb_code.h"
#include "log.h"
#include "witness_store.h"

#define RECORD_HEAD (8 + LEDGER_HASH_LEN)

struct wstore {
	MDB_env *env;
	MDB_dbi logs, evidence, seen;
	char *path;
};

struct wstore_txn {
	struct wstore *ws;
	MDB_txn *txn;
};

/* Translates an LMDB code, logging the ones that are not plain "absent". */
static int
lmdb_error(const char *what, int rc)
{
	return lmdb_code("witness store", what, rc);
}

int
wstore_open(const char *dir, uint64_t map_size, struct wstore **out)
{
	struct wstore *ws = xcalloc(1, sizeof(*ws));
	MDB_txn *txn = NULL;
	int rc;

	ws->path = xasprintf("%s/%s", dir, WSTORE_FILE);
	if ((rc = mdb_env_create(&ws->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(ws->env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(ws->env, map_size)) != 0)
		goto fail;
	/*
	 * No MDB_NOSYNC: a cosignature is answered only once the checkpoint
	 * it attests to is on disk, or a crash could make the witness forget
	 * it and cosign a fork of it.
	 */
	if ((rc = mdb_env_open(ws->env, ws->path, MDB_NOSUBDIR | MDB_NOTLS,
	    0600)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(ws->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "logs", MDB_CREATE, &ws->logs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "evidence", MDB_CREATE, &ws->evidence)) != 0 ||
	    (rc = mdb_dbi_open(txn, "evidence_seen", MDB_CREATE, &ws->seen)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	*out = ws;
	return LEDGER_OK;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	rc = lmdb_error(ws->path, rc);
	wstore_close(ws);
	return rc == LEDGER_ENOTFOUND ? LEDGER_EIO : rc;
}

void
wstore_close(struct wstore *ws)
{
	if (ws == NULL)
		return;
	if (ws->env != NULL)
		mdb_env_close(ws->env);
	free(ws->path);
	free(ws);
}

int
wstore_origins(struct wstore *ws, char ***origins, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char **list = NULL;
	size_t count = 0;
	int rc;

	if ((rc = mdb_txn_begin(ws->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, ws->logs, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		list = xrealloc(list, (count + 1) * sizeof(*list));
		list[count++] = xstrndup(k.mv_data, k.mv_size);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		while (count > 0)
			free(list[--count]);
		free(list);
		return lmdb_error("origins", rc) == LEDGER_ENOTFOUND ?
		    LEDGER_EIO : lmdb_error("origins", rc);
	}
	*origins = list;
	*n = count;
	return LEDGER_OK;
}

static int
get_log(MDB_txn *txn, MDB_dbi dbi, const char *origin, struct wstore_log *out)
{
	MDB_val k = { strlen(origin), (void *)origin }, v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return lmdb_error("get log", rc);
	if (v.mv_size < RECORD_HEAD) {
		log_warnx("witness store: the record of %s is %zu bytes: corrupt",
		    origin, v.mv_size);
		return LEDGER_ECORRUPT;
	}
	out->tree_size = ledger_get_be64(v.mv_data);
	memcpy(out->root, (uint8_t *)v.mv_data + 8, LEDGER_HASH_LEN);
	out->note_len = v.mv_size - RECORD_HEAD;
	out->note = xstrndup((char *)v.mv_data + RECORD_HEAD, out->note_len);
	return LEDGER_OK;
}

int
wstore_get_log(struct wstore *ws, const char *origin, struct wstore_log *out)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(ws->env, NULL, MDB_RDONLY, &txn)) != 0)
		return lmdb_error("read", rc);
	rc = get_log(txn, ws->logs, origin, out);
	mdb_txn_abort(txn);
	return rc;
}

int
wstore_begin(struct wstore *ws, struct wstore_txn **out)
{
	struct wstore_txn *t = xcalloc(1, sizeof(*t));
	int rc;

	t->ws = ws;
	if ((rc = mdb_txn_begin(ws->env, NULL, 0, &t->txn)) != 0) {
		free(t);
		rc = lmdb_error("begin", rc);
		return rc == LEDGER_ENOTFOUND ? LEDGER_EIO : rc;
	}
	*out = t;
	return LEDGER_OK;
}

int
wstore_txn_get_log(struct wstore_txn *t, const char *origin,
    struct wstore_log *out)
{
	return get_log(t->txn, t->ws->logs, origin, out);
}

int
wstore_txn_put_log(struct wstore_txn *t, const char *origin,
    const struct wstore_log *log)
{
	MDB_val k = { strlen(origin), (void *)origin }, v;
	uint8_t *buf;
	int rc;

	v.mv_size = RECORD_HEAD + log->note_len;
	buf = xmalloc(v.mv_size);
	ledger_put_be64(buf, log->tree_size);
	memcpy(buf + 8, log->root, LEDGER_HASH_LEN);
	memcpy(buf + RECORD_HEAD, log->note, log->note_len);
	v.mv_data = buf;
	rc = mdb_put(t->txn, t->ws->logs, &k, &v, 0);
	free(buf);
	return lmdb_error("put log", rc);
}

int
wstore_txn_add_evidence(struct wstore_txn *t,
    const uint8_t seen[LEDGER_HASH_LEN], const char *doc, size_t len,
    uint64_t *id, int *is_new)
{
	MDB_val sk = { LEDGER_HASH_LEN, (void *)seen }, sv, k, v;
	MDB_cursor *cur = NULL;
	uint8_t key[8];
	uint64_t next = 1;
	int rc;

	*is_new = 0;
	if ((rc = mdb_get(t->txn, t->ws->seen, &sk, &sv)) == 0 &&
	    sv.mv_size == 8) {
		*id = ledger_get_be64(sv.mv_data);
		return LEDGER_OK;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_error("evidence seen", rc);
	if ((rc = mdb_cursor_open(t->txn, t->ws->evidence, &cur)) != 0)
		return lmdb_error("evidence cursor", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		next = ledger_get_be64(k.mv_data) + 1;
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_error("evidence last", rc);
	ledger_put_be64(key, next);
	k.mv_size = 8;
	k.mv_data = key;
	v.mv_size = len;
	v.mv_data = (void *)doc;
	if ((rc = mdb_put(t->txn, t->ws->evidence, &k, &v, MDB_NOOVERWRITE)) != 0)
		return lmdb_error("put evidence", rc);
	sv.mv_size = 8;
	sv.mv_data = key;
	if ((rc = mdb_put(t->txn, t->ws->seen, &sk, &sv, 0)) != 0)
		return lmdb_error("put evidence seen", rc);
	*id = next;
	*is_new = 1;
	return LEDGER_OK;
}

int
wstore_commit(struct wstore_txn *t)
{
	int rc = mdb_txn_commit(t->txn);

	free(t);
	rc = lmdb_error("commit", rc);
	return rc == LEDGER_ENOTFOUND ? LEDGER_EIO : rc;
}

void
wstore_abort(struct wstore_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

int
wstore_evidence_get(struct wstore *ws, uint64_t id, char **doc, size_t *len)
{
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t key[8];
	int rc;

	ledger_put_be64(key, id);
	k.mv_size = 8;
	k.mv_data = key;
	if ((rc = mdb_txn_begin(ws->env, NULL, MDB_RDONLY, &txn)) != 0)
		return lmdb_error("read", rc);
	rc = mdb_get(txn, ws->evidence, &k, &v);
	if (rc == 0) {
		*doc = xstrndup(v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	mdb_txn_abort(txn);
	return lmdb_error("get evidence", rc);
}

int
wstore_evidence_each(struct wstore *ws,
    int (*fn)(void *arg, uint64_t id, const char *doc, size_t len), void *arg)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(ws->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, ws->evidence, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		if (fn(arg, ledger_get_be64(k.mv_data), v.mv_data, v.mv_size) != 0)
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	rc = lmdb_error("evidence list", rc);
	return rc == LEDGER_ENOTFOUND ? LEDGER_EIO : rc;
}

uint64_t
wstore_evidence_count(struct wstore *ws)
{
	MDB_txn *txn;
	MDB_stat st;
	uint64_t n = 0;

	if (mdb_txn_begin(ws->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_stat(txn, ws->evidence, &st) == 0)
		n = st.ms_entries;
	mdb_txn_abort(txn);
	return n;
}
