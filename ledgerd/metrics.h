/*
 * Counters and histograms for GET /metrics (Prometheus text format).  The
 * writer thread and the loop thread update them with relaxed atomics; a
 * scrape reads them without locking.
 */
#ifndef LEDGERD_METRICS_H
#define LEDGERD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_LATENCY_BUCKETS 12
#define METRICS_BATCH_BUCKETS 10
#define METRICS_STATUS_CLASSES 6	/* index = status / 100 (1xx..5xx), 0 other */

struct histogram {
	uint64_t buckets[METRICS_LATENCY_BUCKETS + 1];	/* last: +Inf */
	uint64_t count;
	double sum;			/* only the owning thread writes it */
};

struct metrics {
	uint64_t appends;		/* entries committed */
	uint64_t append_requests;	/* requests answered 201/200 */
	uint64_t idempotent_repeats;
	uint64_t commits;		/* write transactions committed */
	uint64_t commit_failures;
	uint64_t rejected_overload;	/* 503 answers for a full queue */
	uint64_t jobs_rejected;		/* 503 answers for a full worker pool */
	uint64_t auth_failures;		/* 401: missing or bad credentials */
	uint64_t auth_forbidden;	/* every 403 answer (reply_stream_done) */
	uint64_t auth_throttled;	/* 429: too many failures from an address */
	uint64_t connections_refused;	/* closed at once: max_connections */
	uint64_t connections_timed_out;	/* no whole request within the timeout */
	uint64_t reloads;		/* configurations taken on SIGHUP */
	uint64_t reload_failures;	/* SIGHUPs whose config was refused */
	uint64_t checkpoints_published;	/* publications (spec §5.4) */
	uint64_t witnessed_timeouts;	/* ?wait=witnessed answered 504 */
	uint64_t merges;		/* tail segments merged into the index */
	uint64_t merge_failures;
	uint64_t http_status[METRICS_STATUS_CLASSES];
	uint64_t http_requests;
	struct histogram commit_seconds;	/* writer: one commit, incl. fsync */
	struct histogram append_seconds;	/* loop: queued to answered */
	struct histogram batch_events;		/* events per commit */
	struct histogram merge_seconds;		/* writer: one tail merge */
};

/* Bucket upper bounds (seconds / events), shared by exposition and updates. */
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];
extern const double metrics_batch_bounds[METRICS_BATCH_BUCKETS];

/* Values sampled when /metrics is scraped rather than counted. */
struct metrics_gauges {
	uint64_t tree_size;
	uint64_t queue_depth;		/* writer_queue_depth() */
	uint64_t db_bytes;		/* store_disk_usage() */
	uint64_t connections;		/* open HTTP connections */
	uint64_t jobs_in_progress;	/* workers_in_progress() */
	uint64_t published_tree_size;	/* of the latest published checkpoint */
	uint64_t witnessed_tree_size;	/* of the latest one with its quorum */
	uint64_t index_watermark;	/* entries below are in the LMDB index */
	uint64_t tail_entries;		/* entries above it, in the tail */
	uint64_t tail_held_entries;	/* and merged ones readers may need */
	uint64_t tail_bytes;		/* memory of the tail */
	uint64_t keyring_exchanges;	/* keyring_exchanges() */
};

void metrics_inc(uint64_t *counter, uint64_t by);
/* metrics_observe - adds v to h, whose bucket bounds are bounds[nbounds]. */
void metrics_observe(struct histogram *h, const double *bounds, size_t nbounds,
    double v);

/*
 * metrics_format - the Prometheus text exposition (format 0.0.4) of m and g.
 * Returns a new string (free() it).
 */
char *metrics_format(const struct metrics *m, const struct metrics_gauges *g);

/*
 * Writing exposition text: metrics_format's own, and that of modules with
 * labelled series of their own (one per witness).
 */
struct metrics_text {
	char *buf;
	size_t len, cap;
};

/* metrics_printf - appends to t (t->buf NULL starts it). */
void metrics_printf(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
