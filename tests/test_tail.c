/*
 * The index tail through the real daemon: provenance answers while entries
 * sit in the tail, across merges, stops, SIGKILLs and a crash at every
 * point of a merge (the test daemon's crash points), each compared with a
 * naive answer computed from every acknowledged event; fsck finds the
 * directory consistent after each crash.  Small segments and a short merge
 * interval make merges frequent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "rnd.h"
#include "testlib.h"

#define TOK_WRITER "tail-writer-token"
#define TOK_BOARD "tail-board-token"
#define TOK_OPERATOR "tail-operator-token"
#define N_SUBJECTS 9
#define N_USERS 4
#define MAX_EVENTS 4000

/* The test's mirror of each committed event, in seq order. */
static struct {
	uint64_t seq;
	int subject, user;
	int64_t ref;		/* the seq of the share it rests on, or -1 */
} evs[MAX_EVENTS];
static size_t n_evs;

static int
start(struct daemon *d)
{
	char w[65], b[65], o[65], *config;
	int rc;

	sha256_hex(TOK_WRITER, w);
	sha256_hex(TOK_BOARD, b);
	sha256_hex(TOK_OPERATOR, o);
	config = xasprintf("{\"listen\": \"127.0.0.1:0\", \"origin\": "
	    "\"ledger.example.org/tail-test\",\n"
	    "\"limits\": {\"tail_max_entries\": 1000, \"tail_merge_entries\": "
	    "100, \"tail_merge_interval_ms\": 50},\n\"principals\": [\n"
	    "{\"id\": \"police-app\", \"org\": \"police\", \"roles\": "
	    "[\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"board\", \"org\": \"board\", \"roles\": "
	    "[\"supervisor\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"operator\", \"org\": \"board\", \"roles\": "
	    "[\"operator\"], \"token_sha256\": \"%s\"}]}\n", w, b, o);
	rc = daemon_start_config(d, config);
	free(config);
	return rc;
}

/* Event k of the test: shares, and advice resting on an earlier share. */
static char *
event_text(int subject, int user, int64_t ref, int k)
{
	if (ref >= 0)
		return xasprintf("{\"type\":\"advice\",\"actor\":{\"org\":\"police\","
		    "\"user\":\"u%d\"},\"subjects\":[\"tail-subject-%d\"],"
		    "\"recipients\":[\"kmar\"],\"object\":{\"ref\":\"tdoc-%d\"},"
		    "\"refs\":[%" PRId64 "],\"occurred_at\":"
		    "\"2026-01-02T03:04:05Z\"}", user, subject, k, ref);
	return xasprintf("{\"type\":\"share\",\"actor\":{\"org\":\"police\","
	    "\"user\":\"u%d\"},\"subjects\":[\"tail-subject-%d\"],"
	    "\"recipients\":[\"kmar\"],\"object\":{\"ref\":\"tdoc-%d\"},"
	    "\"purpose\":\"case %d\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}",
	    user, subject, k, k);
}

/* A share among the committed events to rest on, or -1. */
static int64_t
some_share(void)
{
	for (int tries = 0; tries < 8 && n_evs > 0; tries++) {
		size_t i = rnd(n_evs);
		if (evs[i].ref < 0)
			return (int64_t)evs[i].seq;
	}
	return -1;
}

/*
 * Posts n events in one batch.  Returns the HTTP status, or a negative
 * code when no answer came (the daemon died); the events are recorded
 * when answered 201, and left pending otherwise (*pending their count).
 */
static struct {
	int subject, user;
	int64_t ref;
} pend[100];
static size_t n_pend;

static int
post_batch(struct daemon *d, int n)
{
	struct http_client hc;
	struct http_response r;
	char *body = xstrdup("["), *ev, *next;
	json_t *ans;
	int status;

	n_pend = (size_t)n;
	for (int i = 0; i < n; i++) {
		pend[i].subject = (int)rnd(N_SUBJECTS);
		pend[i].user = (int)rnd(N_USERS);
		pend[i].ref = rnd(3) == 0 ? some_share() : -1;
		ev = event_text(pend[i].subject, pend[i].user, pend[i].ref,
		    (int)(n_evs + (size_t)i));
		next = xasprintf("%s%s%s", body, i ? "," : "", ev);
		free(body);
		free(ev);
		body = next;
	}
	next = xasprintf("%s]", body);
	free(body);
	body = next;
	http_client_init(&hc, d->port, TOK_WRITER);
	status = http_post_json(&hc, "/v1/events/batch", body, &r);
	free(body);
	http_client_close(&hc);
	if (status != 0)
		return status < 0 ? status : -1;
	status = r.status;
	if (status == 201 && (ans = http_response_json(&r)) != NULL) {
		uint64_t first = (uint64_t)json_integer_value(json_object_get(ans,
		    "first_seq"));
		for (size_t i = 0; i < n_pend && n_evs < MAX_EVENTS; i++) {
			evs[n_evs].seq = first + i;
			evs[n_evs].subject = pend[i].subject;
			evs[n_evs].user = pend[i].user;
			evs[n_evs].ref = pend[i].ref;
			n_evs++;
		}
		n_pend = 0;
		json_decref(ans);
	}
	http_response_free(&r);
	return status;
}

/* A gauge from /metrics, or -1. */
static double
metric(struct daemon *d, const char *name)
{
	struct http_client hc;
	struct http_response r;
	size_t n = strlen(name);
	double v = -1;

	http_client_init(&hc, d->port, TOK_OPERATOR);
	if (http_get(&hc, "/metrics", &r) == 0) {
		for (const char *p = r.body; p != NULL && *p; p = strchr(p, '\n')) {
			if (*p == '\n')
				p++;
			if (strncmp(p, name, n) == 0 && p[n] == ' ') {
				v = strtod(p + n + 1, NULL);
				break;
			}
		}
		http_response_free(&r);
	}
	http_client_close(&hc);
	return v;
}

/*
 * The seqs of the events of one provenance answer, sorted, against want
 * (sorted).  Returns 1 when they are the same.
 */
static int
answer_is(struct daemon *d, const char *target, uint64_t *want, size_t n_want)
{
	struct http_client hc;
	struct http_response r;
	uint64_t got[MAX_EVENTS];
	size_t n = 0, i;
	json_t *ans, *ev;
	int same;

	http_client_init(&hc, d->port, TOK_BOARD);
	if (http_get(&hc, target, &r) != 0 || r.status != 200) {
		fprintf(stderr, "  GET %s failed\n", target);
		http_client_close(&hc);
		return 0;
	}
	ans = http_response_json(&r);
	json_array_foreach(json_object_get(ans, "events"), i, ev)
		if (n < MAX_EVENTS)
			got[n++] = (uint64_t)json_integer_value(json_object_get(ev,
			    "seq"));
	json_decref(ans);
	http_response_free(&r);
	http_client_close(&hc);
	qsort(got, n, sizeof(*got), cmp_u64);
	same = n == n_want && memcmp(got, want, n * sizeof(*got)) == 0;
	if (!same)
		fprintf(stderr, "  GET %s: %zu events, %zu expected\n", target, n,
		    n_want);
	return same;
}

/* One query of each kind (which = -1: all of them) against the mirror. */
static int
answers_agree(struct daemon *d, int which)
{
	static uint64_t want[MAX_EVENTS];
	char target[128];
	size_t n;
	int ok = 1;

	for (int s = 0; s < N_SUBJECTS; s++) {
		if (which >= 0 && which != s)
			continue;
		n = 0;
		for (size_t i = 0; i < n_evs; i++)
			if (evs[i].subject == s)
				want[n++] = evs[i].seq;
		snprintf(target, sizeof(target),
		    "/v1/provenance/subjects/tail-subject-%d?limit=1000", s);
		ok &= answer_is(d, target, want, n);
	}
	for (int u = 0; u < N_USERS; u++) {
		if (which >= 0 && which != u)
			continue;
		n = 0;
		for (size_t i = 0; i < n_evs; i++)
			if (evs[i].user == u)
				want[n++] = evs[i].seq;
		snprintf(target, sizeof(target),
		    "/v1/provenance/actors/police/u%d?limit=1000", u);
		ok &= answer_is(d, target, want, n);
	}
	/* Lineages: a share and the advice resting on it. */
	for (int k = 0; k < (which >= 0 ? 1 : 6) && n_evs > 0; k++) {
		size_t root = rnd(n_evs);

		if (evs[root].ref >= 0)
			continue;
		n = 0;
		want[n++] = evs[root].seq;
		for (size_t i = 0; i < n_evs; i++)
			if (evs[i].ref == (int64_t)evs[root].seq)
				want[n++] = evs[i].seq;
		qsort(want, n, sizeof(*want), cmp_u64);
		snprintf(target, sizeof(target), "/v1/provenance/objects/tdoc-%zu",
		    root);
		ok &= answer_is(d, target, want, n);
	}
	return ok;
}

/* The events of a batch whose answer was lost: committed when the tree says so. */
static void
settle_pending(struct daemon *d, uint64_t size_before)
{
	double size = metric(d, "ledgerd_tree_size");

	if (n_pend > 0 && size >= (double)(size_before + n_pend)) {
		for (size_t i = 0; i < n_pend; i++) {
			evs[n_evs].seq = size_before + i;
			evs[n_evs].subject = pend[i].subject;
			evs[n_evs].user = pend[i].user;
			evs[n_evs].ref = pend[i].ref;
			n_evs++;
		}
	}
	n_pend = 0;
}

/* Waits until every entry is merged (bounded); 1 when it is. */
static int
wait_merged(struct daemon *d)
{
	long long until = now_ms() + 20000;

	while (now_ms() < until) {
		if (metric(d, "ledgerd_index_tail_entries") == 0)
			return 1;
		sleep_ms(20);
	}
	return 0;
}

static int
wait_dead(struct daemon *d)
{
	long long until = now_ms() + DAEMON_STOP_TIMEOUT_MS;

	while (daemon_running(d) && now_ms() < until)
		sleep_ms(10);
	if (daemon_running(d))
		return 0;
	daemon_kill(d);
	return 1;
}

/*
 * A crash at each point of a merge, at its first and its second merge
 * after a start: nothing acknowledged is lost, nothing is answered twice,
 * and fsck agrees.
 */
static void
test_merge_crash_points(void)
{
	static const char *points[] = { "merge-begin", "merge-put",
	    "merge-before-commit", "merge-after-commit" };
	const char *faults = getenv("LEDGERD_FAULTS_BIN");
	char *release = xstrdup(daemon_bin());
	struct daemon d;

	if (faults == NULL || faults[0] == '\0')
		faults = "build/ledgerd-faults";
	setenv("LEDGERD_BIN", faults, 1);
	n_evs = 0;
	memset(&d, 0, sizeof(d));
	if (start(&d) != 0) {
		CHECK(0);
		goto out;
	}
	/*
	 * Each start with nothing unmerged: the armed merges are those of
	 * the batches below, never one racing the start.
	 */
	CHECK_INT(post_batch(&d, 20), 201);
	CHECK(wait_merged(&d));
	CHECK_INT(daemon_stop(&d), 0);
	for (size_t p = 0; p < 4 && test_failures_ == 0; p++) {
		for (int pass = 1; pass <= 2 && test_failures_ == 0; pass++) {
			char spec[64];
			uint64_t size_before = 0;
			int status = 201, posts = 0;

			snprintf(spec, sizeof(spec), "%s:%d", points[p], pass);
			setenv("LEDGERD_CRASH_AT", spec, 1);
			status = daemon_restart(&d);
			unsetenv("LEDGERD_CRASH_AT");
			if (status != 0) {
				CHECK(0);
				break;
			}
			/* Batches until the daemon dies in a merge. */
			status = 201;
			while (status == 201 && posts++ < 400) {
				double size = metric(&d, "ledgerd_tree_size");

				if (size < 0) {
					status = -1;	/* died after the last */
					break;
				}
				size_before = (uint64_t)size;
				status = post_batch(&d, 1 + (int)rnd(40));
			}
			CHECK(status != 201);
			CHECK(wait_dead(&d));
			CHECK_INT(daemon_restart(&d), 0);
			settle_pending(&d, size_before);
			CHECK(metric(&d, "ledgerd_tree_size") >=
			    (n_evs ? evs[n_evs - 1].seq + 1 : 0));
			/* The tail rebuilt holds what the crash left unmerged. */
			CHECK(answers_agree(&d, -1));
			printf("  crash at %-19s pass %d: %zu events, watermark "
			    "%.0f, tail %.0f\n", points[p], pass, n_evs,
			    metric(&d, "ledgerd_index_watermark"),
			    metric(&d, "ledgerd_index_tail_entries"));
			CHECK(wait_merged(&d));
			CHECK_INT(daemon_stop(&d), 0);
			CHECK_INT(daemon_fsck(&d), 0);
		}
	}
	if (test_failures_ == 0) {
		CHECK_INT(daemon_restart(&d), 0);
		CHECK(wait_merged(&d));
		CHECK(answers_agree(&d, -1));
	}
	daemon_cleanup(&d);
out:
	setenv("LEDGERD_BIN", release, 1);
	free(release);
}

/*
 * Random interleavings of single and batch appends, queries, waits for
 * the merges, stops and SIGKILLs: every answer is the naive one.
 */
static void
body_interleavings(struct daemon *d)
{
	int steps = 160;

	for (int step = 0; step < steps && test_failures_ == 0; step++) {
		uint64_t r = rnd(100);

		if (r < 45) {
			CHECK_INT(post_batch(d, r < 25 ? 1 : 1 + (int)rnd(90)), 201);
		} else if (r < 85) {
			CHECK(answers_agree(d, (int)rnd(N_USERS)));
		} else if (r < 92) {
			CHECK(wait_merged(d));
			CHECK(answers_agree(d, (int)rnd(N_USERS)));
		} else if (r < 96) {
			CHECK_INT(daemon_stop(d), 0);
			CHECK_INT(daemon_restart(d), 0);
		} else {
			daemon_kill(d);
			CHECK_INT(daemon_restart(d), 0);
		}
	}
	CHECK(answers_agree(d, -1));
	printf("  %zu events, watermark %.0f, tail %.0f\n", n_evs,
	    metric(d, "ledgerd_index_watermark"),
	    metric(d, "ledgerd_index_tail_entries"));
	CHECK_INT(daemon_stop(d), 0);
	CHECK_INT(daemon_fsck(d), 0);
}

static void
test_interleavings(void)
{
	struct daemon d;

	n_evs = 0;
	memset(&d, 0, sizeof(d));
	if (start(&d) != 0) {
		CHECK(0);
		return;
	}
	body_interleavings(&d);
	daemon_cleanup(&d);
}

int
main(void)
{
	rnd_seed(0x7a11da7a5eed0001ULL);
	RUN(test_interleavings);
	RUN(test_merge_crash_points);
	return TEST_SUMMARY();
}
