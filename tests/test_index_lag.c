/*
 * An index that lags the log at start, against the real daemon
 * (docs/operations.md): index.mdb whose watermark is more than twice
 * limits.tail_max_entries behind the tree size is rebuilt from the entries
 * before the daemon listens, with a warning; one exactly twice that behind
 * (or less) is not, its entries above the watermark are read into the index
 * tail instead.  Either way a provenance query answers with every appended
 * entry, and fsck finds the stopped directory consistent.
 *
 * The lag is made as a crash leaves it: entries appended under limits whose
 * tail never merges (a segment larger than the log, an hour's interval),
 * then kill -9, so the watermark stays at 0; the restart lowers
 * tail_max_entries to one side of the bound or the other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/store.h"
#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "rawlmdb.h"
#include "testlib.h"

#define TOK_WRITER "lag-writer-token"
#define TOK_BOARD "lag-board-token"
#define TOK_OPERATOR "lag-operator-token"
#define N_USERS 4
/*
 * Entries appended before the kill: the lag.  Even, and at least twice the
 * smallest tail_max_entries (1,000), so that LAG / 2 is a limit the config
 * accepts and the lag sits exactly on the bound.
 */
#define LAG 2400
#define BATCH 200
#define PAGE 1000		/* limits.max_page's default */
#define HOUR_MS 3600000		/* limits.tail_merge_interval_ms's largest */

/* The seq and actor of each appended event, in the order appended. */
static struct {
	uint64_t seq;
	int user;
} evs[LAG];
static size_t n_evs;

/* The config with these tail limits; the interval is always an hour. */
static char *
config_text(unsigned tail_max, unsigned tail_merge)
{
	char w[65], b[65], o[65];

	sha256_hex(TOK_WRITER, w);
	sha256_hex(TOK_BOARD, b);
	sha256_hex(TOK_OPERATOR, o);
	return xasprintf("{\"listen\": \"127.0.0.1:0\", \"origin\": "
	    "\"ledger.example.org/lag-test\",\n"
	    "\"limits\": {\"tail_max_entries\": %u, \"tail_merge_entries\": "
	    "%u, \"tail_merge_interval_ms\": %d},\n\"principals\": [\n"
	    "{\"id\": \"police-app\", \"org\": \"police\", \"roles\": "
	    "[\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"board\", \"org\": \"board\", \"roles\": "
	    "[\"supervisor\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"operator\", \"org\": \"board\", \"roles\": "
	    "[\"operator\"], \"token_sha256\": \"%s\"}]}\n", tail_max,
	    tail_merge, HOUR_MS, w, b, o);
}

/* Rewrites the stopped daemon's config with these limits and restarts it. */
static int
restart_with(struct daemon *d, unsigned tail_max, unsigned tail_merge)
{
	char *config = config_text(tail_max, tail_merge);
	FILE *f = fopen(d->config, "w");
	int wrote = 0;

	if (f != NULL) {
		wrote = fputs(config, f) != EOF;
		/* fclose always, even after a failed write. */
		wrote &= fclose(f) == 0;
	}
	free(config);
	if (!wrote) {
		fprintf(stderr, "  cannot write %s\n", d->config);
		return -1;
	}
	return daemon_restart(d);
}

/* Event k: a share by police/u(k mod N_USERS). */
static char *
event_text(int k)
{
	return xasprintf("{\"type\":\"share\",\"actor\":{\"org\":\"police\","
	    "\"user\":\"u%d\"},\"subjects\":[\"lag-subject-%d\"],"
	    "\"recipients\":[\"kmar\"],\"object\":{\"ref\":\"lag-doc-%d\"},"
	    "\"purpose\":\"case %d\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}",
	    k % N_USERS, k, k, k);
}

/* Appends events n_evs..n_evs+n-1 in one batch and records their seqs. */
static int
post_batch(struct daemon *d, int n)
{
	struct http_client hc;
	struct http_response r;
	char *body = xstrdup("["), *ev, *next;
	json_t *ans;
	int ok = 0;

	for (int i = 0; i < n; i++) {
		ev = event_text((int)n_evs + i);
		next = xasprintf("%s%s%s", body, i ? "," : "", ev);
		free(body);
		free(ev);
		body = next;
	}
	next = xasprintf("%s]", body);
	free(body);
	body = next;
	http_client_init(&hc, d->port, TOK_WRITER);
	if (http_post_json(&hc, "/v1/events/batch", body, &r) != 0) {
		fprintf(stderr, "  POST /v1/events/batch: no answer\n");
		goto out;
	}
	if (r.status == 201 && (ans = http_response_json(&r)) != NULL) {
		json_t *first = json_object_get(ans, "first_seq");

		if (json_is_integer(first)) {
			for (int i = 0; i < n && n_evs < LAG; i++) {
				evs[n_evs].seq = (uint64_t)json_integer_value(first) +
				    (uint64_t)i;
				evs[n_evs].user = (int)(n_evs % N_USERS);
				n_evs++;
			}
			ok = 1;
		}
		json_decref(ans);
	}
	if (!ok)
		fprintf(stderr, "  POST /v1/events/batch: %d %.300s\n", r.status,
		    r.body);
	http_response_free(&r);
out:
	http_client_close(&hc);
	free(body);
	return ok ? 0 : -1;
}

static long long
metric(struct daemon *d, const char *name)
{
	return metric_value(d->port, TOK_OPERATOR, name);
}

/* index.mdb's watermark, read from the file of a stopped daemon; -1. */
static long long
watermark_on_disk(const char *dir)
{
	MDB_val k = { 7, "indexed" }, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	long long w = -1;

	if (raw_begin(dir, STORE_INDEX_FILE, MDB_RDONLY, &env, &txn) != 0)
		return -1;
	if (mdb_dbi_open(txn, "meta", 0, &meta) == 0 &&
	    mdb_get(txn, meta, &k, &v) == 0 && v.mv_size == 8)
		w = (long long)ledger_get_be64(v.mv_data);
	raw_end(env, txn, 0);
	return w;
}

/* The size of the daemon's log: where the lines of the next start begin. */
static size_t
log_size(const struct daemon *d)
{
	char *log = daemon_log_read(d);
	size_t n = log != NULL ? strlen(log) : 0;

	free(log);
	return n;
}

/* Whether the log, from byte from on, holds text. */
static int
logged_since(const struct daemon *d, size_t from, const char *text)
{
	char *log = daemon_log_read(d);
	int found = log != NULL && strlen(log) >= from &&
	    strstr(log + from, text) != NULL;

	free(log);
	return found;
}

/*
 * The seqs of police/u<user>'s activity, every page of it, in *got (at
 * most cap).  Returns 0, or -1 after printing why.
 */
static int
actor_seqs(struct daemon *d, int user, uint64_t *got, size_t cap, size_t *n)
{
	struct http_client hc;
	char target[160], cursor[32] = "";
	int rc = 0;

	*n = 0;
	http_client_init(&hc, d->port, TOK_BOARD);
	for (int pages = 0; rc == 0; pages++) {
		struct http_response r;
		json_t *ans, *ev, *next;
		size_t i;

		snprintf(target, sizeof(target),
		    "/v1/provenance/actors/police/u%d?limit=%d%s%s", user, PAGE,
		    cursor[0] ? "&cursor=" : "", cursor);
		if (pages > LAG / PAGE + 2 || http_get(&hc, target, &r) != 0) {
			fprintf(stderr, "  GET %s: no answer\n", target);
			rc = -1;
			break;
		}
		if (r.status != 200 || (ans = http_response_json(&r)) == NULL) {
			fprintf(stderr, "  GET %s: %d %.300s\n", target, r.status,
			    r.body);
			http_response_free(&r);
			rc = -1;
			break;
		}
		json_array_foreach(json_object_get(ans, "events"), i, ev) {
			if (*n == cap) {
				fprintf(stderr, "  GET %s: more than %zu events\n",
				    target, cap);
				rc = -1;
				break;
			}
			got[(*n)++] = (uint64_t)json_integer_value(
			    json_object_get(ev, "seq"));
		}
		next = json_object_get(ans, "next_cursor");
		if (json_is_string(next))
			snprintf(cursor, sizeof(cursor), "%s",
			    json_string_value(next));
		json_decref(ans);
		http_response_free(&r);
		if (!json_is_string(next))
			break;
	}
	http_client_close(&hc);
	return rc;
}

/*
 * Every actor's activity, through the index as this start made it, is
 * exactly the entries appended for that actor: none missing, none twice.
 */
static int
answers_every_entry(struct daemon *d)
{
	static uint64_t got[LAG + 1], want[LAG];
	size_t n, m, total = 0;
	int ok = 1;

	for (int u = 0; u < N_USERS; u++) {
		m = 0;
		for (size_t i = 0; i < n_evs; i++)
			if (evs[i].user == u)
				want[m++] = evs[i].seq;
		if (actor_seqs(d, u, got, LAG + 1, &n) != 0) {
			ok = 0;
			continue;
		}
		qsort(got, n, sizeof(*got), cmp_u64);
		if (n != m || memcmp(got, want, n * sizeof(*got)) != 0) {
			fprintf(stderr, "  police/u%d: %zu events answered, %zu "
			    "appended\n", u, n, m);
			ok = 0;
		}
		total += n;
	}
	printf("  %zu of %zu appended entries answered\n", total, n_evs);
	return ok;
}

/*
 * fsck on the stopped directory: consistent, indexes checked (index.mdb
 * there, every entry's records against it).
 */
static void
check_fsck(struct daemon *d)
{
	const char *const fsck[] = { "fsck", d->data, NULL };
	char out[4096];

	CHECK_INT(daemon_tool(d, fsck, out, sizeof(out)), 0);
	if (strstr(out, "fsck: OK") == NULL ||
	    strstr(out, "indexes, ") == NULL) {
		fprintf(stderr, "  fsck said:\n%s", out);
		CHECK(0);
	}
}

/*
 * A fresh daemon under limits that never merge its tail, LAG entries
 * appended, then kill -9: index.mdb's watermark stays at 0, LAG behind.
 */
static void
make_lag(struct daemon *d)
{
	char *config = config_text(LAG * 4, LAG * 4);
	struct http_client hc;
	int rc;

	n_evs = 0;
	rc = daemon_start_config(d, config);
	free(config);
	REQUIRE(rc == 0);
	while (n_evs < LAG)
		REQUIRE(post_batch(d, BATCH) == 0);
	/* Nothing but the appends in the log, and all of them in the tail. */
	http_client_init(&hc, d->port, NULL);
	CHECK_INT(healthz_tree_size(&hc), LAG);
	http_client_close(&hc);
	CHECK_INT(metric(d, "ledgerd_index_watermark"), 0);
	CHECK_INT(metric(d, "ledgerd_index_tail_entries"), LAG);
	daemon_kill(d);
	REQUIRE(watermark_on_disk(d->data) == 0);
}

/*
 * tail_max_entries LAG / 2 - 1: the lag of LAG entries is two past twice
 * that.  The start rebuilds the index, its watermark the tree size, and
 * reads nothing into the tail.
 */
static void
body_lag_past_the_bound(struct daemon *d)
{
	char line[160];
	size_t from;

	make_lag(d);
	if (test_failures_)
		return;
	from = log_size(d);
	REQUIRE(restart_with(d, LAG / 2 - 1, 1000) == 0);
	/* server.c's warning, and the rebuild's own line after it. */
	snprintf(line, sizeof(line), "store: %s lags the log by %d entries: "
	    "rebuilding it from the entries", STORE_INDEX_FILE, LAG);
	CHECK(logged_since(d, from, line));
	snprintf(line, sizeof(line), "store: %s lagged the log: the index of "
	    "%d entries rebuilt in", STORE_INDEX_FILE, LAG);
	CHECK(logged_since(d, from, line));
	CHECK(logged_since(d, from, "writer: index tail of 0 entries rebuilt"));
	/* Before any query (each appends its audit entry): nothing above it. */
	CHECK_INT(metric(d, "ledgerd_tree_size"), LAG);
	CHECK_INT(metric(d, "ledgerd_index_watermark"), LAG);
	CHECK_INT(metric(d, "ledgerd_index_tail_entries"), 0);
	CHECK(answers_every_entry(d));
	CHECK_INT(daemon_stop(d), 0);
	/*
	 * What the rebuild wrote: the queries' audit entries above it stay
	 * in the tail (no merge is due for an hour).
	 */
	CHECK_INT(watermark_on_disk(d->data), LAG);
	check_fsck(d);
}

/*
 * A lag of exactly twice tail_max_entries: not rebuilt; the entries above
 * the watermark are read into the tail, which merges its full segments
 * afterwards, never the last, partial one (an hour's interval).
 */
static void
body_lag_on_the_bound(struct daemon *d)
{
	char line[160];
	size_t from;
	long long w;

	make_lag(d);
	if (test_failures_)
		return;
	from = log_size(d);
	REQUIRE(restart_with(d, LAG / 2, 1000) == 0);
	CHECK(!logged_since(d, from, "lags the log"));
	CHECK(!logged_since(d, from, "rebuilding it from the entries"));
	snprintf(line, sizeof(line), "writer: index tail of %d entries rebuilt",
	    LAG);
	CHECK(logged_since(d, from, line));
	CHECK(answers_every_entry(d));
	CHECK_INT(daemon_stop(d), 0);
	/* A rebuild would have left it at LAG; merges of 1,000 stop below. */
	w = watermark_on_disk(d->data);
	CHECK(w >= 0 && w < LAG);
	printf("  watermark %lld after the start that read the tail\n", w);
	check_fsck(d);
}

static void
with_daemon(void (*body)(struct daemon *d))
{
	struct daemon d;

	memset(&d, 0, sizeof(d));
	body(&d);
	daemon_cleanup(&d);
}

static void
test_lag_past_the_bound_rebuilds(void)
{
	with_daemon(body_lag_past_the_bound);
}

static void
test_lag_on_the_bound_fills_the_tail(void)
{
	with_daemon(body_lag_on_the_bound);
}

int
main(void)
{
	RUN(test_lag_past_the_bound_rebuilds);
	RUN(test_lag_on_the_bound_fills_the_tail);
	return TEST_SUMMARY();
}
