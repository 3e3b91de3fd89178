/*
 * Counters and histograms shared by the loop and the writer thread, and
 * their Prometheus text exposition (format 0.0.4) for GET /metrics.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "log.h"
#include "metrics.h"

const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
};

const double metrics_batch_bounds[METRICS_BATCH_BUCKETS] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 1024,
};

void
metrics_inc(uint64_t *counter, uint64_t by)
{
	__atomic_fetch_add(counter, by, __ATOMIC_RELAXED);
}

static uint64_t
load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/*
 * Buckets are stored per bucket, not cumulatively: an observation touches
 * one bucket, and the exposition adds them up.
 */
void
metrics_observe(struct histogram *h, const double *bounds, size_t nbounds,
    double v)
{
	double sum;
	size_t i;

	for (i = 0; i < nbounds; i++)
		if (v <= bounds[i])
			break;
	metrics_inc(&h->buckets[i], 1);
	/* Only the owning thread writes sum; the atomics keep a scrape tear-free. */
	__atomic_load(&h->sum, &sum, __ATOMIC_RELAXED);
	sum += v;
	__atomic_store(&h->sum, &sum, __ATOMIC_RELAXED);
	metrics_inc(&h->count, 1);
}

/* A growing string; xrealloc never fails. */

void
metrics_printf(struct metrics_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->buf == NULL) {
		t->cap = 4096;
		t->buf = xmalloc(t->cap);
		t->len = 0;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->cap = t->cap * 2 + (size_t)n;
		t->buf = xrealloc(t->buf, t->cap);
	}
}

static void
counter(struct metrics_text *t, const char *name, const char *help, uint64_t v)
{
	metrics_printf(t, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n",
	    name, help, name, name, v);
}

static void
gauge(struct metrics_text *t, const char *name, const char *help, uint64_t v)
{
	metrics_printf(t, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRIu64 "\n",
	    name, help, name, name, v);
}

static void
histogram(struct metrics_text *t, const char *name, const char *help,
    const struct histogram *h, const double *bounds, size_t nbounds)
{
	uint64_t cumulative = 0, count;
	double sum;
	size_t i;

	metrics_printf(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < nbounds; i++) {
		cumulative += load(&h->buckets[i]);
		metrics_printf(t, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
		    bounds[i], cumulative);
	}
	cumulative += load(&h->buckets[nbounds]);
	/*
	 * Read without a lock, count may run ahead of the buckets; Prometheus
	 * wants the +Inf bucket to equal _count, so both print the larger.
	 */
	count = load(&h->count);
	if (count < cumulative)
		count = cumulative;
	__atomic_load(&h->sum, &sum, __ATOMIC_RELAXED);
	metrics_printf(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, count);
	metrics_printf(t, "%s_sum %.9g\n%s_count %" PRIu64 "\n", name, sum, name,
	    count);
}

char *
metrics_format(const struct metrics *m, const struct metrics_gauges *g)
{
	static const char *classes[METRICS_STATUS_CLASSES] = {
		"other", "1xx", "2xx", "3xx", "4xx", "5xx",
	};
	struct metrics_text t = { xmalloc(4096), 0, 4096 };
	size_t i;

	counter(&t, "ledgerd_appends_total", "Entries committed to the log.",
	    load(&m->appends));
	counter(&t, "ledgerd_append_requests_total",
	    "Append requests answered 200 or 201.", load(&m->append_requests));
	counter(&t, "ledgerd_idempotent_repeats_total",
	    "Events answered with an existing entry by idempotency key.",
	    load(&m->idempotent_repeats));
	counter(&t, "ledgerd_commits_total",
	    "Write transactions committed.", load(&m->commits));
	counter(&t, "ledgerd_commit_failures_total",
	    "Write transactions that failed.", load(&m->commit_failures));
	counter(&t, "ledgerd_rejected_overload_total",
	    "Append requests refused with 503 for a full queue.",
	    load(&m->rejected_overload));
	counter(&t, "ledgerd_jobs_rejected_total",
	    "Heavy requests refused with 503 for a full worker pool.",
	    load(&m->jobs_rejected));
	counter(&t, "ledgerd_auth_failures_total",
	    "Requests refused with 401: missing or bad credentials.",
	    load(&m->auth_failures));
	counter(&t, "ledgerd_auth_forbidden_total",
	    "Requests refused with 403: the principal lacks the role, or the "
	    "entry or org is outside its scope.",
	    load(&m->auth_forbidden));
	counter(&t, "ledgerd_auth_throttled_total",
	    "Requests refused with 429 after repeated failed authentications.",
	    load(&m->auth_throttled));
	counter(&t, "ledgerd_connections_refused_total",
	    "Connections closed at once for max_connections.",
	    load(&m->connections_refused));
	counter(&t, "ledgerd_connections_timed_out_total",
	    "Connections closed for not sending a whole request in time.",
	    load(&m->connections_timed_out));
	counter(&t, "ledgerd_config_reloads_total",
	    "Configurations taken on SIGHUP.", load(&m->reloads));
	counter(&t, "ledgerd_config_reload_failures_total",
	    "SIGHUPs whose configuration was refused.",
	    load(&m->reload_failures));
	counter(&t, "ledgerd_checkpoints_published_total",
	    "Checkpoints published (at most one per checkpoint interval).",
	    load(&m->checkpoints_published));
	counter(&t, "ledgerd_wait_witnessed_timeouts_total",
	    "Appends with wait=witnessed answered 504: no quorum in time.",
	    load(&m->witnessed_timeouts));
	counter(&t, "ledgerd_index_merges_total",
	    "Segments of the index tail merged into the LMDB index.",
	    load(&m->merges));
	counter(&t, "ledgerd_index_merge_failures_total",
	    "Merges of the index tail that failed (retried).",
	    load(&m->merge_failures));
	counter(&t, "ledgerd_log_lines_dropped_total",
	    "Log lines dropped because stderr took none while 1 MiB waited.",
	    (uint64_t)log_dropped_lines());
	counter(&t, "ledgerd_http_requests_total", "HTTP requests answered.",
	    load(&m->http_requests));
	metrics_printf(&t, "# HELP ledgerd_http_responses_total "
	    "HTTP responses by status class.\n"
	    "# TYPE ledgerd_http_responses_total counter\n");
	for (i = 1; i < METRICS_STATUS_CLASSES; i++)
		metrics_printf(&t, "ledgerd_http_responses_total{class=\"%s\"} %"
		    PRIu64 "\n", classes[i], load(&m->http_status[i]));
	metrics_printf(&t, "ledgerd_http_responses_total{class=\"%s\"} %" PRIu64
	    "\n", classes[0], load(&m->http_status[0]));

	histogram(&t, "ledgerd_commit_seconds",
	    "Duration of one commit, fsync included.", &m->commit_seconds,
	    metrics_latency_bounds, METRICS_LATENCY_BUCKETS);
	histogram(&t, "ledgerd_append_seconds",
	    "Time from queueing an append request to answering it.",
	    &m->append_seconds, metrics_latency_bounds,
	    METRICS_LATENCY_BUCKETS);
	histogram(&t, "ledgerd_batch_events", "Events per commit.",
	    &m->batch_events, metrics_batch_bounds, METRICS_BATCH_BUCKETS);
	histogram(&t, "ledgerd_index_merge_seconds",
	    "Duration of one merge of the index tail, fsync included.",
	    &m->merge_seconds, metrics_latency_bounds, METRICS_LATENCY_BUCKETS);

	gauge(&t, "ledgerd_tree_size", "Entries in the log.", g->tree_size);
	gauge(&t, "ledgerd_queue_depth", "Events waiting for the writer.",
	    g->queue_depth);
	gauge(&t, "ledgerd_db_bytes", "Bytes of the database files (log and index).",
	    g->db_bytes);
	gauge(&t, "ledgerd_index_watermark",
	    "Entries below this seq have their index records in LMDB.",
	    g->index_watermark);
	gauge(&t, "ledgerd_index_tail_entries",
	    "Entries above the watermark, indexed in memory.",
	    g->tail_entries);
	gauge(&t, "ledgerd_index_tail_held_entries",
	    "Entries the tail holds: those, and merged ones readers may need.",
	    g->tail_held_entries);
	gauge(&t, "ledgerd_index_tail_bytes",
	    "Bytes of memory the index tail holds.", g->tail_bytes);
	counter(&t, "ledgerd_keyring_exchanges_total",
	    "Exchanges with the key keeper: a commit makes two.",
	    g->keyring_exchanges);
	gauge(&t, "ledgerd_connections", "Open HTTP connections.",
	    g->connections);
	gauge(&t, "ledgerd_jobs_in_progress",
	    "Heavy requests queued for or worked on by the worker pool.",
	    g->jobs_in_progress);
	gauge(&t, "ledgerd_published_tree_size",
	    "Tree size of the latest published checkpoint.",
	    g->published_tree_size);
	gauge(&t, "ledgerd_witnessed_tree_size",
	    "Tree size of the latest published checkpoint whose cosignatures "
	    "satisfy the witness policy's quorum.", g->witnessed_tree_size);
	return t.buf;
}
