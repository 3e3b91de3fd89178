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
struct config;
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

/*
 * Access a route demands (spec §9.3, docs/access.md): ROUTE_PUBLIC for
 * anyone, else an authenticated principal holding one of the roles.  Deny
 * by default: a route with roles 0 is closed to everyone.
 */
#define ROUTE_PUBLIC (1u << 16)		/* beyond every enum role bit */

struct route {
	int method;			/* EVHTTP_REQ_GET / _POST */
	const char *prefix;		/* exact path, or prefix when it ends in '/' */
	unsigned roles;			/* enum role bits, or ROUTE_PUBLIC */
	void (*handler)(struct request *r);
	int log_prefix_only;		/* the rest of the path names a person */
};

/*
 * http_listen - opens the listening socket for listen ("host:port"), bound
 * and listening.  server_serve() calls it before it touches the data
 * directory, so that an address in use stops the start before anything
 * is created or opened.
 *	fd	out: the socket (http_start() takes it over)
 *	err	out: why not, e.g. "listen 127.0.0.1:8080: the address is
 *		already in use (another process listens there)"
 * Returns 0 or -1.
 */
int http_listen(const char *listen, int *fd, char *err, size_t errlen);

/*
 * http_start - serves on srv->listen_fd (from http_listen(); it is closed
 * by http_stop() from then on, or here on failure) with TLS when srv->cfg
 * has tls.cert, and installs the routes.  Returns 0 or -1 (logged).
 */
int http_start(struct server *srv);

/*
 * http_reload - prepares the front end for next, a configuration about to
 * replace srv->cfg (SIGHUP): a new TLS context from next's files, used by
 * connections accepted from now on (open ones keep theirs).  Call it on the
 * loop's thread, just before the swap.
 *	err	out: why next's TLS files are refused (the old context stays)
 * Returns 0 or -1.
 */
int http_reload(struct server *srv, const struct config *next, char *err,
    size_t errlen);

/* http_connections - open HTTP connections now. */
size_t http_connections(const struct server *srv);

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
 * reply_error - answers {"error": {"code", "message", "field",
 * "request_id"}}; field may be NULL (then absent).  code is one of the
 * catalogue of spec §7.2; message is a printf format.
 */
void reply_error(struct request *r, int status, const char *code,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Streamed answers: a route sends evhttp_send_reply_start and chunks
 * itself, then ends with reply_stream_end(), or, when the connection died
 * meanwhile, reply_stream_done().
 *
 * reply_stream_watch - calls gone(arg) once if r's connection closes before
 * reply_stream_end (from evhttp's close callback: the connection is being
 * freed, r->req is detached from it or about to be freed with it); gone
 * NULL stops watching.  Returns 0, or -1 when the connection is gone already.
 */
int reply_stream_watch(struct request *r, void (*gone)(void *arg), void *arg);

/* reply_stream_end - sends the last chunk, counts and logs a 200, frees r. */
void reply_stream_end(struct request *r);

/*
 * reply_stream_done - counts and logs the answer and frees r, without
 * touching r->req (which may be gone with its connection).
 */
void reply_stream_done(struct request *r, int status);

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
void route_provenance_subject(struct request *r);	/* /v1/provenance/subjects/{id} */
void route_provenance_actor(struct request *r);	/* .../actors/{org}/{user} */
void route_provenance_object(struct request *r);	/* .../objects/{ref} */
void route_export(struct request *r);		/* /v1/export?... */
void route_console(struct request *r);		/* /console/... (console.c) */

#endif
