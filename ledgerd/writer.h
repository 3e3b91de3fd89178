/*
 * The sequencer: the one thread that appends.  It takes every queued append
 * request at once, assigns seq, received_at and prev, writes the entries,
 * extends the tree and the indexes, signs a checkpoint, and commits the lot
 * in one synced LMDB transaction (group commit).  Finished requests go back
 * to the event loop's thread, which answers them.
 *
 * It also publishes checkpoints (spec §5.4): when the tree has grown and the
 * publication interval has passed since the last publication, the latest
 * checkpoint becomes the published one, in the commit that signs it or, when
 * no append comes, in a commit of its own.  And it stores the witness
 * cosignatures the loop collects for published checkpoints.
 */
#ifndef LEDGERD_WRITER_H
#define LEDGERD_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"

struct event_base;
struct principal;
struct server;

/* What the writer reports for one event of a request. */
struct append_result {
	uint64_t seq;
	uint8_t leaf_hash[LEDGER_HASH_LEN];
	char received_at[LEDGER_TIME_LEN + 1];
	int repeated;		/* an idempotent repeat of an existing entry */
};

/*
 * One append request: one event (POST /v1/events) or a batch, all or
 * nothing.  The loop fills the input part, the writer the output part; the
 * request belongs to the writer from writer_submit() until done() is called
 * on the loop's thread.
 */
struct append_request {
	/* in */
	json_t *events;		/* array of validated events; owned */
	char *submitter;	/* principal id; owned */
	char *org;		/* the principal's org; owned */
	int sees_all;		/* auth_sees_all of the principal */
	char **idem_keys;	/* per event, NULL or an idempotency key; owned */
	uint8_t (*request_hashes)[LEDGER_HASH_LEN];	/* per event, for repeats */
	int want_proof;		/* ?wait=checkpoint: checkpoint + inclusion proof */
	int want_witnessed;	/* ?wait=witnessed: the route waits after the
				   commit (the writer does nothing more) */

	/* out */
	int status;		/* 201 created, 200 all repeats, or an error status */
	struct ledger_field_error err;	/* for 4xx */
	size_t err_index;	/* which event of the request err is about */
	struct append_result *results;	/* one per event */
	char *checkpoint;	/* signed note covering the entries (want_proof) */
	uint64_t tree_size;	/* of the log after the commit */
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];	/* want_proof, first event */
	size_t proof_len;

	/* completion, on the loop's thread */
	void (*done)(struct append_request *req, void *arg);
	void *arg;
	int64_t queued_us;	/* when it was queued (latency metrics) */
	TAILQ_ENTRY(append_request) link;
};

/*
 * append_request_new - a request for events (stolen: the request owns the
 * reference), posted by principal p.  The request copies what the writer
 * needs of p (its id, the entries' submitter; its org and whether it sees
 * all, which decide the entries its events may name in refs), so a reload
 * may free p while the request waits.  idem_keys and request_hashes are
 * allocated for json_array_size(events) entries, zeroed.
 */
struct append_request *append_request_new(json_t *events, const struct principal *p);
void append_request_free(struct append_request *req);

/*
 * Cosignatures to keep with a published checkpoint: the loop hands them to
 * the writer, which adds them to the stored note (replacing older lines of
 * the same key) and records the witness's size, in one commit.  The job
 * belongs to the writer from writer_add_cosignatures() until done() is
 * called on the loop's thread.
 */
struct writer_cosign {
	/* in */
	uint64_t tree_size;	/* of the published checkpoint they sign */
	char *witness;		/* the witness's name; owned */
	char *lines;		/* its verified cosignature lines, each ending
				   in a newline; owned */
	/* out */
	int rc;			/* 0 or a LEDGER_E code */
	char *note;		/* the checkpoint as now stored; owned */
	size_t note_len;

	void (*done)(struct writer_cosign *c, void *arg);
	void *arg;
	TAILQ_ENTRY(writer_cosign) link;
};

/* writer_cosign_free - frees c and what it owns; NULL is allowed. */
void writer_cosign_free(struct writer_cosign *c);

/*
 * writer_start - starts the writer thread for srv; completions are
 * delivered on base's thread.  The publication interval is
 * srv->cfg->checkpoint_interval_ms.  Returns NULL on failure (logged).
 */
struct writer *writer_start(struct server *srv, struct event_base *base);

/*
 * writer_on_publish - fn(arg, tree_size, note, len) is called on the loop's
 * thread after each publication is durable, with the published note
 * (borrowed for the call).  Publications that follow each other before the
 * loop runs are reported once, with the latest.  Set it before the loop
 * runs.
 */
void writer_on_publish(struct writer *w, void (*fn)(void *arg,
    uint64_t tree_size, const char *note, size_t len), void *arg);

/*
 * writer_add_cosignatures - queues c.  Returns 0, or -1 when the writer is
 * stopping: the caller still owns c.
 */
int writer_add_cosignatures(struct writer *w, struct writer_cosign *c);

/*
 * writer_submit - queues req.  Returns 0, or -1 when the queue already holds
 * limits.max_queue_events events or the writer is stopping: the caller still
 * owns req and answers 503.
 */
int writer_submit(struct writer *w, struct append_request *req);

/* writer_queue_depth - events waiting, for /metrics. */
size_t writer_queue_depth(struct writer *w);

/* writer_tail_stats - the index tail's figures (tail.h), for /metrics. */
struct tail_stats;
void writer_tail_stats(struct writer *w, struct tail_stats *out);

/*
 * writer_stop - refuses new requests (writer_submit then returns -1), lets
 * the thread commit everything queued, joins it and calls every completion.
 * Call it on the loop's thread.  w stays valid until writer_free().
 */
void writer_stop(struct writer *w);

/* writer_free - frees a stopped writer; NULL is allowed. */
void writer_free(struct writer *w);

/*
 * writer_retention_rc - the result of the writer's last retention pass
 * (spec §2.12): 0, or the error that stopped it (it is tried again every
 * RETENTION_CHECK_SECONDS).  For `ledgerd retention run`, whose pass runs
 * in writer_start.
 */
int writer_retention_rc(const struct writer *w);

#endif
