/*
 * The HTTP front end: evhttp setup, routing, authentication and the helpers
 * every route uses to answer.  Each handler ends in exactly one reply (or
 * hands the request to the writer, whose completion replies).
 */
#ifndef LEDGERD_HTTP_H
#define LEDGERD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evhttp_request;
struct evkeyvalq;
struct principal;
struct server;

/*
 * One request as a route sees it.  It lives from the moment the front end
 * routes it until its reply: every reply_* function sends the answer and
 * frees r, so a handler never touches r after replying.
 */
struct request {
	struct server *srv;
	struct evhttp_request *req;
	const struct principal *principal;	/* NULL for anonymous */
	const char *path;		/* decoded path, without the query */
	struct evkeyvalq *query;	/* parsed query string */
	uint64_t id;			/* request id, for log lines */
	int64_t start_us;
};

/* Access a route demands: nobody, any authenticated principal with one of the roles. */
struct route {
	int method;			/* EVHTTP_REQ_GET / _POST */
	const char *prefix;		/* exact path, or prefix when it ends in '/' */
	unsigned roles;			/* enum role bits; 0 = public */
	void (*handler)(struct request *r);
};

/* http_start - binds the listener and installs the routes.  Returns 0 or -1. */
int http_start(struct server *srv);

/*
 * http_stop - closes the listener and frees every connection.  Call it
 * after writer_stop() and after the loop has delivered the completions the
 * writer handed back: a request still waiting for the writer is freed here.
 */
void http_stop(struct server *srv);

/*
 * reply_json - answers status with a JSON body (Content-Type
 * application/json); steals body.
 */
void reply_json(struct request *r, int status, json_t *body);

/*
 * reply_error - answers {"error": {"code", "message", "field"}}; field may
 * be NULL.  message is a printf format.
 */
void reply_error(struct request *r, int status, const char *code,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* reply_bytes - answers status with an exact body of the given content type. */
void reply_bytes(struct request *r, int status, const char *content_type,
    const void *body, size_t len);

/*
 * query_u64 - reads query parameter name as a decimal uint64.
 * Returns 1 when present and valid, 0 when absent; on a malformed value it
 * answers 400 naming the parameter and returns -1 (the handler just returns).
 */
int query_u64(struct request *r, const char *name, uint64_t *out);

/* query_str - the raw value of a query parameter, or NULL. */
const char *query_str(struct request *r, const char *name);

/*
 * query_check - refuses query parameters outside allowed (a NULL-terminated
 * list) and repeated ones.  Returns 0, or -1 after answering 400 naming them.
 */
int query_check(struct request *r, const char *const *allowed);

/*
 * read_body - copies the request body out once (NUL-terminated).
 * Returns a new buffer (free() it) or NULL after answering 413/400.
 */
char *read_body(struct request *r, size_t *len);

/* Route handlers, one file each concern. */
void route_events_post(struct request *r);
void route_events_batch(struct request *r);
void route_events_get(struct request *r);	/* /v1/events/{seq} */
void route_events_list(struct request *r);	/* /v1/events?... */
void route_checkpoint(struct request *r);
void route_proof_inclusion(struct request *r);
void route_proof_consistency(struct request *r);
void route_tile(struct request *r);
void route_healthz(struct request *r);
void route_metrics(struct request *r);

#endif
