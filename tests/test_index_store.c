/*
 * The provenance index in its own LMDB environment (store.h, index.mdb),
 * against the real daemon: a store whose index is still in ledger.mdb (as
 * releases before index.mdb wrote it) is moved at start, through crashes
 * before the copy's commit, after it and before the older index is
 * dropped, and then compacted; an index.mdb that is lost is rebuilt from
 * the entries at start.  After each step fsck (which checks every entry's
 * records against the index, and their count) finds the store sound, the
 * records are exactly those the daemon had written, and queries answer
 * through the moved or rebuilt index.  An index.mdb newer than the
 * ledger.mdb beside it (a restore of two copies taken apart) is rebuilt.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <jansson.h>
#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/store.h"
#include "apiutil.h"
#include "rawlmdb.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define EVENTS 200

/* The records of an index database: "hex(key) seq" lines, in LMDB's order. */
struct dump {
	char *text;
	size_t len, cap;
	long long records;
	long long watermark;	/* -1: none */
};

static void
dump_add(struct dump *d, const MDB_val *k, const MDB_val *v)
{
	size_t need = 2 * k->mv_size + 32;

	if (d->len + need > d->cap) {
		d->cap = (d->cap + need) * 2;
		d->text = xrealloc(d->text, d->cap);
	}
	for (size_t i = 0; i < k->mv_size; i++)
		d->len += (size_t)sprintf(d->text + d->len, "%02x",
		    ((const unsigned char *)k->mv_data)[i]);
	d->len += (size_t)sprintf(d->text + d->len, " %" PRIu64 "\n",
	    v->mv_size == 8 ? ledger_get_be64(v->mv_data) : UINT64_MAX);
	d->records++;
}

/*
 * Reads the index and watermark of file: ledger.mdb's older ones, or
 * index.mdb's.  Returns 0, 1 when the file or the database is absent, -1.
 */
static int
dump_index(const char *dir, const char *file, struct dump *out)
{
	MDB_val wk = { 7, "indexed" }, k, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi index, meta;
	MDB_cursor *c;
	int rc;

	memset(out, 0, sizeof(*out));
	out->watermark = -1;
	if (raw_begin(dir, file, MDB_RDONLY, &env, &txn) != 0)
		return 1;
	if (mdb_dbi_open(txn, "index", 0, &index) != 0 ||
	    mdb_dbi_open(txn, "meta", 0, &meta) != 0) {
		raw_end(env, txn, 0);
		return 1;
	}
	if (mdb_get(txn, meta, &wk, &v) == 0 && v.mv_size == 8)
		out->watermark = (long long)ledger_get_be64(v.mv_data);
	if (mdb_cursor_open(txn, index, &c) != 0) {
		raw_end(env, txn, 0);
		return -1;
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		dump_add(out, &k, &v);
	mdb_cursor_close(c);
	raw_end(env, txn, 0);
	return rc == MDB_NOTFOUND ? 0 : -1;
}

static void
dump_free(struct dump *d)
{
	free(d->text);
	memset(d, 0, sizeof(*d));
}

static int
same_dump(const struct dump *a, const struct dump *b)
{
	return a->records == b->records && a->len == b->len &&
	    (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
}

static void
remove_index_file(const char *dir)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_INDEX_FILE);
	REQUIRE(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/%s-lock", dir, STORE_INDEX_FILE);
	if (unlink(path) != 0)
		REQUIRE(errno == ENOENT);
}

/*
 * Writes index.mdb's records and watermark into ledger.mdb's "index" and
 * "meta", as a release before index.mdb kept them, and removes index.mdb.
 * Returns the records written, or -1.
 */
static long long
make_older_layout(const char *dir)
{
	MDB_env *ienv, *env;
	MDB_txn *itxn, *txn;
	MDB_dbi iindex, imeta, index, meta;
	MDB_cursor *c;
	MDB_val wk = { 7, "indexed" }, k, v;
	long long n = 0;
	int rc;

	if (raw_begin(dir, STORE_INDEX_FILE, MDB_RDONLY, &ienv, &itxn) != 0)
		return -1;
	if (raw_begin(dir, STORE_FILE, 0, &env, &txn) != 0) {
		raw_end(ienv, itxn, 0);
		return -1;
	}
	if (mdb_dbi_open(itxn, "index", 0, &iindex) != 0 ||
	    mdb_dbi_open(itxn, "meta", 0, &imeta) != 0 ||
	    mdb_dbi_open(txn, "index", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
	    &index) != 0 || mdb_dbi_open(txn, "meta", 0, &meta) != 0 ||
	    mdb_get(itxn, imeta, &wk, &v) != 0 ||
	    mdb_put(txn, meta, &wk, &v, 0) != 0 ||
	    mdb_cursor_open(itxn, iindex, &c) != 0) {
		raw_end(ienv, itxn, 0);
		raw_end(env, txn, 0);
		return -1;
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (mdb_put(txn, index, &k, &v, 0) != 0)
			break;
		n++;
	}
	mdb_cursor_close(c);
	raw_end(ienv, itxn, 0);
	if (raw_end(env, txn, rc == MDB_NOTFOUND) != 0)
		return -1;
	remove_index_file(dir);
	return n;
}

/* An LMDB file with its meta pages and no database: a creation cut short. */
static int
make_empty_env(const char *dir, const char *file)
{
	char path[700];
	MDB_env *env;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (mdb_env_create(&env) != 0)
		return -1;
	rc = mdb_env_open(env, path, MDB_NOSUBDIR, 0600);
	mdb_env_close(env);
	return rc == 0 ? 0 : -1;
}

/* Copies DIR/from to DIR/to (a stopped store's file). */
static int
copy_file(const char *dir, const char *from, const char *to)
{
	char a[700], b[700], buf[65536];
	FILE *in, *out;
	size_t n;
	int rc = 0;

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	if ((in = fopen(a, "rb")) == NULL)
		return -1;
	if ((out = fopen(b, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (ferror(in))
		rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

/* The daemon answers a subject's timeline through its index: event i. */
static int
subject_answers(struct daemon *d, int i)
{
	struct http_client hc;
	struct http_response r;
	char target[96];
	json_t *body, *events;
	int ok = 0;

	http_client_init(&hc, d->port, d->token);
	snprintf(target, sizeof(target), "/v1/provenance/subjects/person-%d", i);
	if (http_get(&hc, target, &r) == 0) {
		body = r.status == 200 ? http_response_json(&r) : NULL;
		events = json_object_get(body, "events");
		ok = json_array_size(events) == 1;
		if (!ok)
			fprintf(stderr, "  %s: %d %.300s\n", target, r.status,
			    r.body);
		json_decref(body);
		http_response_free(&r);
	}
	http_client_close(&hc);
	return ok;
}

static void
check_fsck(struct daemon *d, const char *says)
{
	const char *const fsck[] = { "fsck", d->data, NULL };
	char out[4096];

	CHECK_INT(daemon_tool(d, fsck, out, sizeof(out)), 0);
	CHECK(strstr(out, "fsck: OK") != NULL);
	if (says != NULL && strstr(out, says) == NULL) {
		fprintf(stderr, "  fsck did not say \"%s\":\n%s", says, out);
		CHECK(0);
	}
}

static void
body_index_moved_and_rebuilt(struct daemon *d)
{
	const char *faults = getenv("LEDGERD_FAULTS_BIN");
	const char *const reindex[] = { "reindex", d->data, NULL };
	static const char *const crashes[] = { "index-move-put", "index-moved",
	    "index-drop-commit" };
	char *release = xstrdup(daemon_bin()), *log;
	struct dump before, now;
	struct http_client hc;
	long long older;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, EVENTS, 10) == 0);
	http_client_close(&hc);
	CHECK(subject_answers(d, 7));
	REQUIRE(daemon_stop(d) == 0);
	/* Every entry in LMDB's index: what the move must carry over. */
	CHECK_INT(daemon_tool(d, reindex, NULL, 0), 0);
	REQUIRE(dump_index(d->data, STORE_INDEX_FILE, &before) == 0);
	CHECK(before.records > 4 * EVENTS);
	CHECK(before.watermark > EVENTS);
	check_fsck(d, NULL);

	REQUIRE((older = make_older_layout(d->data)) == before.records);
	CHECK_INT(raw_has(d->data, STORE_FILE, "index", NULL), 1);
	check_fsck(d, "the index is in its older place");

	if (faults == NULL || faults[0] == '\0')
		faults = "build/ledgerd-faults";
	setenv("LEDGERD_BIN", faults, 1);
	for (size_t i = 0; i < sizeof(crashes) / sizeof(*crashes); i++) {
		setenv("LEDGERD_CRASH_AT", crashes[i], 1);
		CHECK(daemon_restart(d) != 0);
		/* Before the copy's commit, nothing of it; after, all of it. */
		if (i == 0)
			CHECK(dump_index(d->data, STORE_INDEX_FILE, &now) != 0 ||
			    now.watermark == -1);
		else
			CHECK(dump_index(d->data, STORE_INDEX_FILE, &now) == 0 &&
			    same_dump(&now, &before) &&
			    now.watermark == before.watermark);
		dump_free(&now);
		CHECK_INT(raw_has(d->data, STORE_FILE, "index", NULL), 1);
		check_fsck(d, NULL);
	}
	unsetenv("LEDGERD_CRASH_AT");
	setenv("LEDGERD_BIN", release, 1);
	free(release);

	REQUIRE(daemon_restart(d) == 0);
	log = daemon_log_read(d);
	CHECK(log != NULL && strstr(log, "store: compacted in") != NULL);
	free(log);
	CHECK(subject_answers(d, 7));
	CHECK(subject_answers(d, EVENTS - 1));
	http_client_init(&hc, d->port, d->token);
	CHECK(post_events(&hc, EVENTS, 20, 5) == 0);
	http_client_close(&hc);
	CHECK(subject_answers(d, EVENTS + 3));
	REQUIRE(daemon_stop(d) == 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "index", NULL), 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "meta", "indexed"), 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "meta", "compact-due"), 0);
	check_fsck(d, NULL);

	/* index.mdb lost: fsck says so, and the next start rebuilds it. */
	CHECK_INT(daemon_tool(d, reindex, NULL, 0), 0);
	dump_free(&before);
	REQUIRE(dump_index(d->data, STORE_INDEX_FILE, &before) == 0);
	remove_index_file(d->data);
	check_fsck(d, "no index");
	/* Killed between creating index.mdb and its first commit: the same. */
	REQUIRE(make_empty_env(d->data, STORE_INDEX_FILE) == 0);
	check_fsck(d, "no index");
	REQUIRE(daemon_restart(d) == 0);
	log = daemon_log_read(d);
	CHECK(log != NULL && strstr(log, "rebuilt in") != NULL);
	free(log);
	CHECK(subject_answers(d, 7));
	CHECK(subject_answers(d, EVENTS + 3));
	REQUIRE(daemon_stop(d) == 0);
	/* The rebuilt index holds what the last reindex wrote, and more. */
	REQUIRE(dump_index(d->data, STORE_INDEX_FILE, &now) == 0);
	CHECK(now.records >= before.records);
	CHECK(now.len >= before.len);
	dump_free(&now);
	dump_free(&before);
	check_fsck(d, NULL);

	/*
	 * A restore that pairs ledger.mdb with a later index.mdb: the index
	 * holds records of entries the log does not, and is rebuilt.
	 */
	REQUIRE(copy_file(d->data, STORE_FILE, "ledger.mdb.older") == 0);
	REQUIRE(daemon_restart(d) == 0);
	http_client_init(&hc, d->port, d->token);
	CHECK(post_events(&hc, EVENTS + 20, 30, 10) == 0);
	http_client_close(&hc);
	REQUIRE(daemon_stop(d) == 0);
	CHECK_INT(daemon_tool(d, reindex, NULL, 0), 0);
	REQUIRE(copy_file(d->data, "ledger.mdb.older", STORE_FILE) == 0);
	REQUIRE(daemon_restart(d) == 0);
	log = daemon_log_read(d);
	CHECK(log != NULL && strstr(log, "was ahead of the log") != NULL);
	free(log);
	CHECK(subject_answers(d, EVENTS + 3));
	REQUIRE(daemon_stop(d) == 0);
	check_fsck(d, NULL);
}

static void
test_index_moved_and_rebuilt(void)
{
	daemon_test(body_index_moved_and_rebuilt);
}

int
main(void)
{
	RUN(test_index_moved_and_rebuilt);
	return TEST_SUMMARY();
}
