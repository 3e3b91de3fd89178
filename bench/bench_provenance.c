/*
 * Provenance at scale.  Two parts:
 *
 *  1. The writer's per-entry cost against the store itself, with and
 *     without the provenance indexes, on the writer's own path: entry encoding, leaf hash, entry and
 *     tree writes, index records, one synced commit per 10,000 entries (as
 *     the writer's group commit does).  No HTTP, no validation: only what
 *     the indexes add to, so the overhead is not diluted.
 *  2. A real ledgerd loaded with ENTRIES events (default 1,000,000) through
 *     the batch API by LOADERS (4) processes at once, so that the writer's
 *     queue is never empty and the index tail fills as under sustained
 *     load (its largest entries and bytes, sampled from /metrics, are
 *     printed).  Then more events of other subjects, again by LOADERS at
 *     once, until the tail holds 90,000 entries (nine tenths of the
 *     default limits.tail_max_entries): the daemon is killed there
 *     (SIGKILL) and restarted, and the restart's time and the tail it
 *     rebuilt are printed.  Then, in three rounds, the latency of a
 *     subject timeline of 100 events with their proofs (ENTRIES / 100
 *     subjects), of the lineage of an object with 50 descendants, each
 *     including its audit entry's synced commit, and of an actor page; and
 *     the database size per entry.
 *
 *	bench_provenance [ENTRIES]	(LEDGERD_BIN names the daemon;
 *					 SKIP_STORE=1 skips part 1;
 *					 QUIET_FILE=PATH: the queries wait
 *					 while PATH exists, so other work on
 *					 a shared machine can end first;
 *					 KEEP_ROOT=DIR: the loaded daemon's
 *					 directory is kept as DIR, and when
 *					 DIR already holds one, only the
 *					 queries run, on it: builds compare
 *					 on one store without loading again)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/indexer.h"
#include "../ledgerd/store.h"
#include "../tests/daemon.h"
#include "../tests/http.h"

#define N_ORGS 10
#define N_USERS 200
#define SUBJECT_EVENTS 100	/* events naming each subject */
#define LOAD_BATCH 1000
#define COMMIT 10000
#define LINEAGE_EVERY 20000	/* a share with 50 descendants every ... */
#define DESCENDANTS 50
#define STORE_ENTRIES 200000
#define STORE_RUNS 5

static uint64_t n_entries = 1000000;
static uint64_t n_subjects = 10000;	/* n_entries / SUBJECT_EVENTS */
static const char *subject_prefix = "person";
#define FULL_TAIL 90000		/* the tail at the kill */
#define FULL_EXTRA 400000	/* events to get there, at most */

static const char *const orgs[N_ORGS] = {
	"police", "kmar", "aivd", "mivd", "om", "ind", "fiod", "fiu", "szw", "nctv",
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Event i: subject i % n_subjects, so each subject is named by
 * SUBJECT_EVENTS events.  Every LINEAGE_EVERY events a share "lin-K"
 * followed by DESCENDANTS advice in a binary tree resting on it; the share
 * lands at seq root (its refs name seqs).
 */
static int
is_lineage(uint64_t i)
{
	return i % LINEAGE_EVERY <= DESCENDANTS;
}

static int
event_json(char *buf, size_t size, uint64_t i, uint64_t root)
{
	uint64_t k = i % LINEAGE_EVERY;
	int user = (int)(i * 7919 % N_USERS);
	char extra[96] = "";
	const char *type = i % 3 == 0 ? "share" : i % 3 == 1 ? "query" : "advice";
	char object[48];

	snprintf(object, sizeof(object), "doc-%" PRIu64, i);
	if (k == 0) {
		type = "share";
		snprintf(object, sizeof(object), "lin-%" PRIu64, i / LINEAGE_EVERY);
	} else if (k <= DESCENDANTS) {
		type = "advice";
		snprintf(extra, sizeof(extra), ",\"refs\":[%" PRIu64 "]",
		    root + (k - 1) / 2);
	} else if (strcmp(type, "advice") == 0)
		type = "share";		/* no stray advice: lineages stay exact */
	return snprintf(buf, size, "{\"type\":\"%s\",\"actor\":{\"org\":\"%s\","
	    "\"user\":\"analyst-%03d\"},\"subjects\":[\"%s-%07" PRIu64 "\"],"
	    "%s\"object\":{\"ref\":\"%s\"},\"purpose\":\"case %" PRIu64 "\","
	    "\"occurred_at\":\"2026-03-01T12:00:00Z\"%s}", type,
	    orgs[user % N_ORGS], user, subject_prefix, i % n_subjects,
	    strcmp(type, "query") == 0 ? "" : "\"recipients\":[\"om\"],",
	    object, i % 1000, extra);
}

/* Part 1: entries per second into the store, with or without indexes. */
static double
store_rate(const char *dir, int with_index, uint64_t n)
{
	uint8_t key[LEDGER_SUBJECT_KEY_LEN] = { 1, 2, 3 };
	uint8_t prev[LEDGER_HASH_LEN] = { 0 }, leaf[LEDGER_HASH_LEN];
	struct ledger_entry_meta meta;
	struct ledger_hash_store hs;
	struct store_state state;
	struct store_txn *txn;
	struct store *st;
	char buf[1024], *bytes;
	size_t len;
	struct index_batch *batch;
	json_t *ev, *entry;
	uint64_t i;
	double t0;

	if (store_open(dir, 64ULL << 30, 0, &st) != 0)
		return -1;
	batch = index_batch_new();
	memset(&state, 0, sizeof(state));
	t0 = now_s();
	for (i = 0; i < n;) {
		if (store_write_begin(st, &txn) != 0)
			return -1;
		hs = store_hash_store(txn);
		for (uint64_t end = i + COMMIT; i < end && i < n; i++) {
			event_json(buf, sizeof(buf), i, i - i % LINEAGE_EVERY);
			ev = json_loads(buf, 0, NULL);
			meta.seq = i;
			ledger_time_format(1767225600000000LL + (int64_t)i, meta.received_at);
			meta.submitter = "bench";
			memcpy(meta.prev, prev, sizeof(prev));
			if (ledger_entry_salt_new(meta.salt) != 0 ||
			    ledger_entry_build(ev, &meta, key, &entry) != 0 ||
			    ledger_entry_dump(entry, &bytes, &len) != 0 ||
			    ledger_leaf_hash(bytes, len, leaf) != 0 ||
			    store_put_entry(txn, i, bytes, len) != 0 ||
			    ledger_merkle_append(&hs, i, leaf) != 0 ||
			    (with_index && index_batch_add(batch, i, entry, NULL) != 0))
				return -1;
			memcpy(prev, leaf, sizeof(prev));
			free(bytes);
			json_decref(entry);
			json_decref(ev);
		}
		state.tree_size = i;
		memcpy(state.last_leaf_hash, prev, sizeof(prev));
		if ((with_index && index_batch_write(batch, txn) != 0) ||
		    store_put_state(txn, &state) != 0 || store_commit(txn) != 0)
			return -1;
	}
	t0 = now_s() - t0;
	store_close(st);
	index_batch_free(batch);
	return (double)n / t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Times n GETs of the targets fn makes; prints p50, p95 and the events seen. */
static void
time_queries(struct http_client *hc, const char *what, int n,
    void (*target)(int k, char *out, size_t size))
{
	double *ms = xcalloc((size_t)n, sizeof(double)), t0;
	struct http_response r;
	char url[256];
	size_t events = 0;
	json_t *j;
	int k, bad = 0;

	for (k = 0; k < n; k++) {
		target(k, url, sizeof(url));
		t0 = now_s();
		if (http_get(hc, url, &r) != 0) {
			bad++;
			continue;
		}
		ms[k] = (now_s() - t0) * 1000;
		if (r.status != 200)
			bad++;
		j = http_response_json(&r);
		events += json_array_size(json_object_get(j, "events"));
		json_decref(j);
		http_response_free(&r);
	}
	qsort(ms, (size_t)n, sizeof(double), cmp_double);
	printf("%-34s p50 %6.2f ms  p95 %6.2f ms  (%d queries, %.1f events "
	    "each, %d failed)\n", what, ms[n / 2], ms[n * 95 / 100], n,
	    (double)events / n, bad);
	free(ms);
}

static void
subject_target(int k, char *out, size_t size)
{
	snprintf(out, size, "/v1/provenance/subjects/person-%07" PRIu64
	    "?limit=1000", (uint64_t)k * 7919 % n_subjects);
}

static void
lineage_target(int k, char *out, size_t size)
{
	snprintf(out, size, "/v1/provenance/objects/lin-%" PRIu64,
	    (uint64_t)k % (n_entries / LINEAGE_EVERY));
}

static void
actor_target(int k, char *out, size_t size)
{
	snprintf(out, size, "/v1/provenance/actors/%s/analyst-%03d?limit=100",
	    orgs[k % N_USERS % N_ORGS], k % N_USERS);
}

static uint64_t
dir_bytes(const char *dir)
{
	char path[1024];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/ledger.mdb", dir);
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		return (uint64_t)sb.st_blocks * 512;
	snprintf(path, sizeof(path), "%s/ledger.mdb/data.mdb", dir);
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
}

/* A gauge of the daemon's /metrics, or -1. */
static double
metric(struct http_client *hc, const char *name)
{
	struct http_response r;
	const char *p;
	size_t n = strlen(name);
	double v = -1;

	if (http_get(hc, "/metrics", &r) != 0)
		return -1;
	for (p = r.body; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	}
	http_response_free(&r);
	return v;
}

/* Loader k of loaders: batches k, k + loaders, ... of events [first, end). */
static int
load_part(const struct daemon *d, int k, int loaders, uint64_t first,
    uint64_t end)
{
	size_t cap = (size_t)LOAD_BATCH * 512, len;
	char *text = xmalloc(cap);
	struct http_client hc;
	struct http_response r;
	uint64_t i, b;
	int rc = 0;

	http_client_init(&hc, d->port, d->token);
	hc.timeout_ms = 300000;
	for (i = first + (uint64_t)k * LOAD_BATCH; i < end;
	    i += (uint64_t)loaders * LOAD_BATCH) {
		len = 0;
		text[len++] = '[';
		/* Lineages come afterwards (post_lineages): refs name seqs. */
		for (b = i; b < i + LOAD_BATCH && b < end; b++) {
			if (is_lineage(b))
				continue;
			if (len > 1)
				text[len++] = ',';
			len += (size_t)event_json(text + len, cap - len, b, 0);
		}
		text[len++] = ']';
		text[len] = '\0';
		if (len == 2)
			continue;
		if ((rc = http_post_json(&hc, "/v1/events/batch", text, &r)) != 0 ||
		    r.status != 201) {
			fprintf(stderr, "load failed at %" PRIu64 ": %d %s\n", i,
			    rc ? rc : r.status, rc ? "" : r.body);
			rc = 1;
			break;
		}
		http_response_free(&r);
	}
	http_client_close(&hc);
	free(text);
	return rc;
}

/*
 * The lineages first, one request each, with nothing else appending: a
 * lineage's share lands at the tree size before its request.
 */
static int
post_lineages(struct http_client *hc, uint64_t tree_size)
{
	char *text = xmalloc((size_t)(DESCENDANTS + 1) * 512);
	struct http_response r;
	size_t len;
	int rc;

	for (uint64_t base = 0; base < n_entries; base += LINEAGE_EVERY) {
		len = 0;
		text[len++] = '[';
		for (uint64_t b = base; b <= base + DESCENDANTS; b++) {
			if (b > base)
				text[len++] = ',';
			len += (size_t)event_json(text + len, 512, b, tree_size);
		}
		text[len++] = ']';
		text[len] = '\0';
		if ((rc = http_post_json(hc, "/v1/events/batch", text, &r)) != 0 ||
		    r.status != 201) {
			fprintf(stderr, "lineage %" PRIu64 " failed: %d %s\n", base,
			    rc ? rc : r.status, rc ? "" : r.body);
			free(text);
			return 1;
		}
		http_response_free(&r);
		tree_size += DESCENDANTS + 1;
	}
	free(text);
	return 0;
}

/* The tail rebuilt at the last start, from the daemon's log line. */
static void
print_rebuild(const struct daemon *d)
{
	char *log = daemon_log_read(d), *p, *last = NULL;

	for (p = log; p != NULL && (p = strstr(p, "index tail of")) != NULL; p++)
		last = p;
	if (last != NULL) {
		char *nl = strchr(last, '\n');
		if (nl != NULL)
			*nl = '\0';
		printf("restart: %s\n", last);
	}
	free(log);
}

int
main(int argc, char **argv)
{
	char tmp[] = "/tmp/bench-prov.XXXXXX", dir[64];
	double with, without, t0, max_tail = 0, max_tail_bytes = 0;
	struct http_client hc;
	struct daemon d;
	int loaders = getenv("LOADERS") ? atoi(getenv("LOADERS")) : 4;
	const char *keep = getenv("KEEP_ROOT");
	pid_t *kids = NULL;
	struct stat sb;
	int status, failed = 0;

	if (argc > 1)
		n_entries = strtoull(argv[1], NULL, 10);
	n_subjects = n_entries / SUBJECT_EVENTS;
	if (n_entries < LINEAGE_EVERY || loaders < 1 || mkdtemp(tmp) == NULL) {
		fprintf(stderr, "usage: bench_provenance [ENTRIES >= %d]\n",
		    LINEAGE_EVERY);
		return 2;
	}

	/*
	 * 1. what the indexes cost the writer, per entry: alternating runs,
	 * the best of STORE_RUNS each: on a shared machine the fastest run is
	 * the one least disturbed, and alternating skews both alike.
	 */
	without = with = 0;
	for (int run = 0; run < STORE_RUNS && getenv("SKIP_STORE") == NULL; run++) {
		double rate;

		snprintf(dir, sizeof(dir), "%s/noidx", tmp);
		remove_tree(dir);
		mkdir(dir, 0700);
		if ((rate = store_rate(dir, 0, STORE_ENTRIES)) > without)
			without = rate;
		snprintf(dir, sizeof(dir), "%s/idx", tmp);
		remove_tree(dir);
		mkdir(dir, 0700);
		if ((rate = store_rate(dir, 1, STORE_ENTRIES)) > with)
			with = rate;
	}
	if (getenv("SKIP_STORE") == NULL) {
		printf("store appends, %d entries, commit every %d, best of %d:\n"
		    "  without indexes %8.0f entries/s (%.1f us each)\n"
		    "  with indexes    %8.0f entries/s (%.1f us each)\n"
		    "  index overhead  %5.1f %% of the append rate\n",
		    STORE_ENTRIES, COMMIT, STORE_RUNS, without, 1e6 / without,
		    with, 1e6 / with, (1 - with / without) * 100);
		snprintf(dir, sizeof(dir), "%s/noidx", tmp);
		printf("  database: %.0f MB per million entries without indexes, ",
		    dir_bytes(dir) / 1e6 * (1e6 / STORE_ENTRIES));
		snprintf(dir, sizeof(dir), "%s/idx", tmp);
		printf("%.0f MB with\n", dir_bytes(dir) / 1e6 *
		    (1e6 / STORE_ENTRIES));
	}
	remove_tree(tmp);

	/* 2. a real daemon with n_entries events, or the one kept before */
	if (keep != NULL && stat(keep, &sb) == 0) {
		memset(&d, 0, sizeof(d));
		snprintf(d.root, sizeof(d.root), "%s", keep);
		snprintf(d.data, sizeof(d.data), "%s/data", keep);
		snprintf(d.log_path, sizeof(d.log_path), "%s/ledgerd.log", keep);
		if (daemon_restart(&d) != 0)
			return 1;
		printf("queries only, on the store kept in %s\n", keep);
		goto queries;
	}
	if (daemon_start(&d) != 0)
		return 1;
	http_client_init(&hc, d.port, d.token);
	hc.timeout_ms = 300000;
	kids = xcalloc((size_t)loaders, sizeof(*kids));
	t0 = now_s();
	if (post_lineages(&hc, 0) != 0) {
		daemon_cleanup(&d);
		return 1;
	}
	for (int k = 0; k < loaders; k++) {
		fflush(stdout);
		if ((kids[k] = fork()) == 0)
			_exit(load_part(&d, k, loaders, 0, n_entries));
	}
	/* The tail's largest figures while the load runs. */
	for (int left = loaders; left > 0;) {
		double e = metric(&hc, "ledgerd_index_tail_entries");
		double b = metric(&hc, "ledgerd_index_tail_bytes");

		if (e > max_tail)
			max_tail = e;
		if (b > max_tail_bytes)
			max_tail_bytes = b;
		for (int k = 0; k < loaders; k++) {
			if (kids[k] > 0 && waitpid(kids[k], &status, WNOHANG) ==
			    kids[k]) {
				failed |= !WIFEXITED(status) || WEXITSTATUS(status);
				kids[k] = 0;
				left--;
			}
		}
		sleep_ms(50);
	}
	t0 = now_s() - t0;
	if (failed) {
		daemon_cleanup(&d);
		return 1;
	}
	printf("loaded %" PRIu64 " events through the batch API (%d loaders) in "
	    "%.1f s (%.0f events/s)\n", n_entries, loaders, t0, n_entries / t0);
	printf("index tail during the load: at most %.0f entries, %.1f MiB "
	    "(%.0f bytes per entry)\n", max_tail, max_tail_bytes / 1048576,
	    max_tail > 0 ? max_tail_bytes / max_tail : 0);

	/* More load, of other subjects, until the tail is nearly full. */
	for (int k = 0; k < loaders; k++) {
		fflush(stdout);
		if ((kids[k] = fork()) == 0) {
			subject_prefix = "extra";
			_exit(load_part(&d, k, loaders, n_entries,
			    n_entries + FULL_EXTRA));
		}
	}
	for (double e = 0; e < FULL_TAIL;) {
		int left = 0;

		e = metric(&hc, "ledgerd_index_tail_entries");
		for (int k = 0; k < loaders; k++)
			if (kids[k] > 0 && waitpid(kids[k], &status, WNOHANG) != kids[k])
				left++;
		if (left == 0)
			break;
		sleep_ms(5);
	}
	printf("index tail at the kill: %.0f entries, %.1f MiB, watermark %.0f\n",
	    metric(&hc, "ledgerd_index_tail_entries"),
	    metric(&hc, "ledgerd_index_tail_bytes") / 1048576,
	    metric(&hc, "ledgerd_index_watermark"));
	http_client_close(&hc);

	/* A crash with the tail nearly full, and the restart. */
	daemon_kill(&d);
	for (int k = 0; k < loaders; k++)
		if (kids[k] > 0)
			waitpid(kids[k], &status, 0);
	t0 = now_s();
	if (daemon_restart(&d) != 0) {
		daemon_cleanup(&d);
		return 1;
	}
	printf("restart after SIGKILL: listening after %.3f s\n", now_s() - t0);
	print_rebuild(&d);
queries:
	http_client_init(&hc, d.port, d.token);
	hc.timeout_ms = 300000;
	{
		double size = metric(&hc, "ledgerd_tree_size");

		printf("database: %.0f MB for %.0f entries, %.0f bytes per entry\n",
		    dir_bytes(d.data) / 1e6, size, (double)dir_bytes(d.data) /
		    (size > 0 ? size : (double)n_entries));
	}

	while (getenv("QUIET_FILE") != NULL && access(getenv("QUIET_FILE"), F_OK) == 0)
		sleep_ms(1000);
	for (int round = 1; round <= 3; round++) {
		printf("round %d\n", round);
		time_queries(&hc, "subject timeline (~100 events)", 200,
		    subject_target);
		time_queries(&hc, "lineage (root + 50 descendants)", 100,
		    lineage_target);
		time_queries(&hc, "actor page (100 events)", 100, actor_target);
	}
	http_client_close(&hc);
	if (keep != NULL) {
		int code = daemon_stop(&d);

		if (code != 0 || (strcmp(d.root, keep) != 0 &&
		    rename(d.root, keep) != 0)) {
			fprintf(stderr, "could not keep the store as %s\n", keep);
			daemon_cleanup(&d);
			return 1;
		}
		free(kids);
		return 0;
	}
	daemon_cleanup(&d);
	free(kids);
	return 0;
}
