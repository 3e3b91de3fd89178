/*
 * ?wait=witnessed (spec §7.4): appends answered with a published checkpoint
 * that covers them and carries its quorum of cosignatures.  The entries are
 * durable before a request waits here; what waits is only the answer.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "append_answer.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "server.h"
#include "store.h"
#include "witnessed_wait.h"

struct waiter {
	struct witnessed_waiters *ws;
	struct request *r;
	json_t *body;			/* the append's answer */
	int status;
	uint64_t index;			/* the entry proven */
	uint64_t need_size;		/* the tree that covers the request */
	struct event *timer;		/* the bound on the wait */
	TAILQ_ENTRY(waiter) link;
};

TAILQ_HEAD(waiter_list, waiter);

struct witnessed_waiters {
	struct server *srv;
	int wait_seconds;
	struct waiter_list waiting;
	int stopped;
	/* The latest witnessed checkpoint; note NULL before the first. */
	char *note;
	size_t note_len;
	uint64_t tree_size;
};

static void
waiter_free(struct waiter *w)
{
	TAILQ_REMOVE(&w->ws->waiting, w, link);
	event_free(w->timer);
	json_decref(w->body);
	free(w);
}

/*
 * Answers of more events than this (a batch's: a receipt each) are made on
 * a worker; smaller ones on the loop, as many at once as a checkpoint
 * releases, without taking a place in the worker pool from other requests.
 */
#define INLINE_EVENTS 64

/*
 * Completes body, the append's answer, with the witnessed checkpoint note
 * and the inclusion proof of entry index in tree_size (one read
 * transaction).  Any thread.  Returns 0 or a store error (logged).
 */
static int
complete_answer(struct server *srv, uint64_t request_id, json_t *body,
    uint64_t index, uint64_t tree_size, const char *note, size_t note_len)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	struct ledger_hash_store hs;
	struct store_txn *txn = NULL;
	size_t n;
	int rc;

	if ((rc = store_read_begin(srv->store, &txn)) != 0)
		goto fail;
	hs = store_hash_store(txn);
	if ((rc = hs.get(hs.ctx, 0, index, leaf)) != 0 ||
	    (rc = ledger_merkle_inclusion_proof(&hs, index, tree_size, proof,
	    &n)) != 0)
		goto fail;
	store_txn_end(txn);
	append_answer_set_proof(body, note, note_len, index, tree_size, leaf,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n);
	return 0;
fail:
	store_txn_end(txn);
	log_warnx("request %" PRIu64 ": the proof against the witnessed "
	    "checkpoint of tree size %" PRIu64 ": %s", request_id, tree_size,
	    ledger_strerror(rc));
	return rc;
}

#define PROOF_FAILED "the entries are stored, but their proof against the " \
	"witnessed checkpoint failed"

/* A large answer being made on a worker: what it needs, off the loop. */
struct witnessed_answer {
	struct offload o;		/* first */
	json_t *body;			/* the append's answer; the work takes it */
	int status;
	uint64_t index;
	uint64_t tree_size;
	char *note;
	size_t note_len;
};

static void
answer_work(struct offload *o)
{
	struct witnessed_answer *a = (struct witnessed_answer *)o;

	if (complete_answer(o->srv, o->request_id, a->body, a->index,
	    a->tree_size, a->note, a->note_len) != 0) {
		offload_answer_error(o, 500, "internal", NULL, PROOF_FAILED);
		return;
	}
	/* The dump, and the free of a receipt per event, happen here. */
	offload_answer_json(o, a->status, a->body);
	a->body = NULL;
}

static void
answer_done(struct offload *o, struct request *r)
{
	struct witnessed_answer *a = (struct witnessed_answer *)o;

	offload_reply(o, r);
	offload_release(o);
	json_decref(a->body);		/* the work was skipped: its client left */
	free(a->note);
	free(a);
}

/* w's checkpoint is here: answer it, and w goes. */
static void
answer(struct waiter *w)
{
	struct witnessed_waiters *ws = w->ws;
	struct witnessed_answer *a;
	struct request *r = w->r;

	if (json_array_size(json_object_get(w->body, "events")) <=
	    INLINE_EVENTS) {
		if (complete_answer(ws->srv, r->id, w->body, w->index,
		    ws->tree_size, ws->note, ws->note_len) == 0)
			reply_json(r, w->status, json_incref(w->body));
		else
			reply_error(r, 500, "internal", NULL, PROOF_FAILED);
		waiter_free(w);
		return;
	}
	a = xcalloc(1, sizeof(*a));
	a->body = w->body;
	w->body = NULL;
	a->status = w->status;
	a->index = w->index;
	a->tree_size = ws->tree_size;
	a->note = xstrndup(ws->note, ws->note_len);
	a->note_len = ws->note_len;
	waiter_free(w);
	/* The second part of an append under way: never refused. */
	offload_continue(r, &a->o, answer_work, answer_done);
}

static void
timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;
	struct witnessed_waiters *ws = w->ws;
	struct request *r = w->r;

	metrics_inc(&ws->srv->metrics.witnessed_timeouts, 1);
	log_info("request %" PRIu64 ": no witnessed checkpoint of tree size "
	    "%" PRIu64 " or more within %d s (the latest is %" PRIu64 ")",
	    r->id, w->need_size, ws->wait_seconds, ws->tree_size);
	/*
	 * The client learns where its entries are: a repeat of the request
	 * with its idempotency key finds them without a second copy.
	 */
	reply_error(r, 504, "witness_timeout", "wait", "the entries are "
	    "stored (seq %" PRIu64 ", tree size %" PRIu64 "), but no published "
	    "checkpoint covering them reached the witness quorum within %d s",
	    w->index, w->need_size, ws->wait_seconds);
	waiter_free(w);
}

struct witnessed_waiters *
witnessed_waiters_new(struct server *srv, int wait_seconds)
{
	struct witnessed_waiters *ws = xcalloc(1, sizeof(*ws));

	ws->srv = srv;
	ws->wait_seconds = wait_seconds;
	TAILQ_INIT(&ws->waiting);
	return ws;
}

void
witnessed_waiters_add(struct witnessed_waiters *ws, struct request *r,
    int status, json_t *body, uint64_t index, uint64_t need_size)
{
	struct timeval tv = { ws->wait_seconds, 0 };
	struct waiter *w;

	if (ws->stopped) {
		json_decref(body);
		reply_error(r, 503, "unavailable", "wait", "the entries are "
		    "stored (seq %" PRIu64 "), but the daemon is stopping "
		    "before they were witnessed", index);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->ws = ws;
	w->r = r;
	w->body = body;
	w->status = status;
	w->index = index;
	w->need_size = need_size;
	if ((w->timer = evtimer_new(ws->srv->base, timed_out, w)) == NULL)
		fatalx("evtimer_new: out of memory");
	TAILQ_INSERT_TAIL(&ws->waiting, w, link);
	if (ws->note != NULL && ws->tree_size >= need_size) {
		answer(w);
		return;
	}
	evtimer_add(w->timer, &tv);
}

void
witnessed_waiters_reached(struct witnessed_waiters *ws, uint64_t tree_size,
    const char *note, size_t len)
{
	struct waiter *w, *next;

	if (ws->note != NULL && tree_size < ws->tree_size)
		return;
	free(ws->note);
	ws->note = xstrndup(note, len);
	ws->note_len = len;
	ws->tree_size = tree_size;
	for (w = TAILQ_FIRST(&ws->waiting); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->need_size <= tree_size)
			answer(w);
	}
}

uint64_t
witnessed_waiters_size(const struct witnessed_waiters *ws)
{
	return ws->note != NULL ? ws->tree_size : 0;
}

void
witnessed_waiters_stop(struct witnessed_waiters *ws)
{
	struct request *r;
	struct waiter *w;

	ws->stopped = 1;
	while ((w = TAILQ_FIRST(&ws->waiting)) != NULL) {
		r = w->r;
		reply_error(r, 503, "unavailable", "wait", "the entries are "
		    "stored (seq %" PRIu64 "), but the daemon is stopping "
		    "before they were witnessed", w->index);
		waiter_free(w);
	}
}

void
witnessed_waiters_free(struct witnessed_waiters *ws)
{
	if (ws == NULL)
		return;
	witnessed_waiters_stop(ws);
	free(ws->note);
	free(ws);
}
