/*
 * A request's heavy part, run on a worker (workers.h) so that the event
 * loop never holds still for it: the route copies what the work needs out
 * of the request on the loop's thread, the work builds the answer without
 * touching libevent's HTTP objects or the request, and the answer is sent
 * back on the loop's thread.
 *
 * The client may leave while the work waits or runs.  The request's
 * connection is watched (reply_stream_watch): once it closes, work not yet
 * started is skipped, and the request is never answered; it is freed on the
 * loop's thread when the job comes back, whichever of evhttp and this module
 * owned it by then.
 */
#ifndef LEDGERD_OFFLOAD_H
#define LEDGERD_OFFLOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "workers.h"

struct config;
struct evbuffer;
struct principal;
struct request;
struct server;

struct offload;

/*
 * The route's completion, on the loop's thread, once the work has run (or
 * was skipped).  r is the request to answer, or NULL when its client left:
 * r is then freed already, and done only frees what the route allocated.
 * done() owns o and frees it (after offload_reply(), or offload_release()).
 */
typedef void (*offload_done_fn)(struct offload *o, struct request *r);

/*
 * One offloaded request part; a route embeds it first in its own job
 * struct.  The work reads the "for the work" members and writes the answer;
 * it never touches r.
 */
struct offload {
	struct job job;			/* the pool's; first */
	struct request *r;		/* loop's thread only */
	offload_done_fn done;
	void (*work)(struct offload *o);

	/* For the work, set by offload_submit()/offload_continue(). */
	struct server *srv;		/* store, subject key: fixed while serving */
	struct config *cfg;		/* a reference to the config at submission */
	const struct principal *principal;	/* r's; lives until done() */
	uint64_t request_id;		/* for log lines */
	atomic_int cancelled;		/* the client left: skip the work */
	int gone;			/* r went with its connection (loop's) */

	/* The answer the work leaves: a body, or an error (code set). */
	int status;
	const char *content_type;	/* static */
	struct evbuffer *body;		/* owned; NULL for none */
	char code[32];			/* spec §7.2 catalogue; "" for none */
	char field[160];		/* "" for none */
	char message[512];
	int retry_after;		/* add Retry-After: 1 */
};

/*
 * offload_submit - hands o's work to a worker for request r.  Call it on the
 * loop's thread, with o zeroed apart from the route's own members.
 *	work	in: on a worker; fills the answer (offload_answer_*)
 *	done	in: on the loop's thread, exactly once, when 0 is returned
 * Returns 0; or -1 after answering 503 overloaded (with Retry-After: 1)
 * when the pool is full or stopping, and then done is not called: the
 * caller frees o (offload_release(), then its own members).
 */
int offload_submit(struct request *r, struct offload *o,
    void (*work)(struct offload *o), offload_done_fn done);

/*
 * offload_continue - as offload_submit, for the second part of a request
 * already under way (workers_continue): never refused.  done may be
 * called before this returns.
 */
void offload_continue(struct request *r, struct offload *o,
    void (*work)(struct offload *o), offload_done_fn done);

/*
 * For the work: the answer.  offload_answer_json steals body and dumps it
 * as reply_json would (compact); offload_answer_owned takes text (malloc'd,
 * len bytes) and sends it where it lies.  offload_answer_error is
 * reply_error's answer, message a printf format.
 */
void offload_answer_json(struct offload *o, int status, json_t *body);
void offload_answer_owned(struct offload *o, int status,
    const char *content_type, char *text, size_t len);
void offload_answer_error(struct offload *o, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * offload_answer_failure - the answer to work that failed with rc: 503
 * keys_unavailable with Retry-After when the key keeper is gone (an answer
 * with opened values needs it), else 500 internal with message.
 */
void offload_answer_failure(struct offload *o, int rc, const char *message);

/*
 * offload_reply - sends the answer the work left in o to r (a 500 when it
 * left none).  r may be NULL (nothing is sent).
 */
void offload_reply(struct offload *o, struct request *r);

/* offload_release - frees what the offload part of o holds (not o). */
void offload_release(struct offload *o);

#endif
