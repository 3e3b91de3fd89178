/*
 * The guard in front of evhttp: every connection's bufferevent (plain or
 * TLS) is wrapped in a filter that frames its requests (framing.h) before
 * evhttp reads them, so that a request over the size limits or badly framed
 * is refused by the daemon, in the JSON of spec §7.2, before its body is
 * read; and that closes a refused connection gracefully (lingering close).
 * libevent 2.1 has no hook of its own before it refuses such a request.
 */
#ifndef LEDGERD_HTTP_GUARD_H
#define LEDGERD_HTTP_GUARD_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct framing_refusal;
struct limits;

/* The guard of one front end (opaque). */
struct http_guard;

/* The guard of one connection (opaque). */
struct http_guard_conn;

/*
 * After a refusal the connection is closed once its answer is out; what
 * the client still sends meanwhile is read and dropped, so that it gets the
 * answer rather than a reset (RFC 9112 §9.6): until the client closes its
 * side, for at most timeout_seconds after the answer, and at most
 * max_headers bytes more than the larger of max_body and the body the
 * refused request declared.
 */

/*
 * http_guard_new - the guard of a front end on base, holding connections
 * to lim's max_headers and max_body (the lingering close to its
 * timeout_seconds; at most max_connections connections linger at once).
 * Returns a new guard (http_guard_free() it); never NULL.
 */
struct http_guard *http_guard_new(struct event_base *base,
    const struct limits *lim);

/*
 * http_guard_free - closes the connections still lingering and lets go of
 * the others: call it before evhttp_free(), which frees them.  NULL is
 * fine.
 */
void http_guard_free(struct http_guard *g);

/*
 * http_guard_wrap - wraps bev, a new connection's bufferevent without its
 * socket yet (evhttp's bufferevent callback makes it, evhttp sets the
 * socket), made with BEV_OPT_CLOSE_ON_FREE.
 *	gc	out: the connection's guard, for http_guard_request(); it lives
 *		as long as the returned bufferevent
 * Returns the bufferevent to hand to evhttp instead of bev: freeing it
 * frees bev (after a lingering close, when a request was refused).
 */
struct bufferevent *http_guard_wrap(struct http_guard *g,
    struct bufferevent *bev, struct http_guard_conn **gc);

/*
 * http_guard_closing - call it from evhttp's close callback, before evhttp
 * shuts the connection's socket down and frees its bufferevent: output
 * still waiting there can no longer leave, and is dropped rather than
 * written after the shutdown.
 */
void http_guard_closing(struct http_guard_conn *gc);

/*
 * http_guard_request - call it once for every request evhttp hands over on
 * the connection, in order.  Returns why that request was refused (answer
 * it with this error and close the connection), or NULL when it was not.
 * Borrowed: valid until the connection is freed.
 */
const struct framing_refusal *http_guard_request(struct http_guard_conn *gc);

/*
 * http_guard_answered - call it once a request's answer has been handed to
 * the connection (evhttp's on-complete callback).  A client that ended its
 * sending side is told so (the EOF evhttp takes for the end of the
 * connection) only once every request it sent has been answered and the
 * answers are out.
 */
void http_guard_answered(struct http_guard_conn *gc);

#endif
