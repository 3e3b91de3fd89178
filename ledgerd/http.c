/*
 * The HTTP front end: the evhttp listener (plain on loopback, else TLS),
 * the route table of spec §7.3, authentication by bearer token or client
 * certificate, the connection limits, and the reply helpers every route
 * answers through.  Everything here runs on the event loop's thread.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "ledger/hash.h"
#include "ledger/number.h"
#include "ledger/utf8.h"
#include "ledger/xmalloc.h"

#include "auth.h"
#include "config.h"
#include "framing.h"
#include "http.h"
#include "http_guard.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "tls.h"

#define READ_ROLES (ROLE_READER | ROLE_SUPERVISOR)
/* One entry and its inclusion proof: a writer too, for its own (spec §9.4). */
#define ENTRY_ROLES (READ_ROLES | ROLE_WRITER)

/*
 * Routes of spec §7.3, first match wins: a path that matches with another
 * method answers 405, one that matches nothing 404.  The roles are the
 * access matrix of docs/access.md (tests/test_access.c holds the same
 * table).  /tile/entries/ comes before /tile/: an entry bundle holds every
 * org's entries and cannot be filtered without breaking the tile format, so
 * only those who see all may fetch one; hash tiles are public.  A subject
 * route's path ends in a person's identifier: the log names its prefix only.
 */
static const struct route routes[] = {
	{ EVHTTP_REQ_POST, "/v1/events", ROLE_WRITER, route_events_post, 0 },
	{ EVHTTP_REQ_GET, "/v1/events", READ_ROLES, route_events_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/events/batch", ROLE_WRITER, route_events_batch, 0 },
	{ EVHTTP_REQ_GET, "/v1/events/", ENTRY_ROLES, route_events_get, 0 },
	{ EVHTTP_REQ_GET, "/v1/proof/inclusion", ENTRY_ROLES, route_proof_inclusion, 0 },
	{ EVHTTP_REQ_GET, "/v1/proof/consistency", ROUTE_PUBLIC, route_proof_consistency, 0 },
	{ EVHTTP_REQ_GET, "/checkpoint", ROUTE_PUBLIC, route_checkpoint, 0 },
	{ EVHTTP_REQ_GET, "/tile/entries/", ROLE_SUPERVISOR, route_tile, 0 },
	{ EVHTTP_REQ_GET, "/tile/", ROUTE_PUBLIC, route_tile, 0 },
	{ EVHTTP_REQ_GET, "/healthz", ROUTE_PUBLIC, route_healthz, 0 },
	{ EVHTTP_REQ_GET, "/metrics", ROLE_OPERATOR, route_metrics, 0 },
	{ EVHTTP_REQ_GET, "/v1/provenance/subjects/", ROLE_SUPERVISOR,
	    route_provenance_subject, 1 },
	{ EVHTTP_REQ_GET, "/v1/provenance/actors/", ROLE_SUPERVISOR, route_provenance_actor, 0 },
	{ EVHTTP_REQ_GET, "/v1/provenance/objects/", ROLE_SUPERVISOR, route_provenance_object, 0 },
	{ EVHTTP_REQ_GET, "/v1/export", ROLE_SUPERVISOR, route_export, 0 },
	{ EVHTTP_REQ_GET, "/console/", ROUTE_PUBLIC, route_console, 0 },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/*
 * What the front end keeps per request besides what routes see; r comes
 * first so that a struct request * is also a struct http_request_ctx *.
 */
struct http_request_ctx {
	struct request r;
	char *path;		/* decoded */
	char *log_path;		/* what the log line says of the path */
	struct evkeyvalq query;
	const char *method;
	struct config *cfg;	/* a reference: r.principal points into it */
};

static uint64_t next_request_id = 1;

/*
 * One accepted connection.  evhttp has no hook at accept time but the
 * bufferevent callback, which runs before the connection object exists, so
 * the connection is picked up by an event made active there: it runs before
 * the loop polls again, hence before any byte of the connection is read.
 * evhttp calls the close callback once, whenever it frees the connection.
 */
struct conn {
	struct http_front *front;
	struct bufferevent *bev;		/* evhttp's: the guard's filter */
	struct http_guard_conn *guard;
	struct evhttp_connection *evcon;	/* NULL until attached */
	struct event *deadline;		/* the next request must be in by then */
	void (*on_close)(void *arg);	/* a streamed answer still going */
	void *on_close_arg;
	LIST_ENTRY(conn) link;
};

LIST_HEAD(conn_list, conn);

#define CONN_BUCKETS 1024

struct http_front {
	struct server *srv;
	SSL_CTX *ssl_ctx;		/* NULL: plain HTTP */
	struct auth_throttle *throttle;
	struct http_guard *guard;		/* frames requests before evhttp */
	struct conn_list conns[CONN_BUCKETS];	/* by evhttp_connection */
	size_t n_conns;
	int refusing;			/* over max_connections (logged once) */
};

static struct conn_list *
conn_bucket(struct http_front *f, const struct evhttp_connection *evcon)
{
	return &f->conns[((uintptr_t)evcon >> 4) % CONN_BUCKETS];
}

static struct conn *
conn_find(struct http_front *f, const struct evhttp_connection *evcon)
{
	struct conn *c;

	if (evcon == NULL)
		return NULL;
	LIST_FOREACH(c, conn_bucket(f, evcon), link)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	void (*on_close)(void *) = c->on_close;

	http_guard_closing(c->guard);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (on_close != NULL) {
		c->on_close = NULL;
		on_close(c->on_close_arg);
	}
	LIST_REMOVE(c, link);
	c->front->n_conns--;
	event_free(c->deadline);
	free(c);
}

/*
 * A connection that has not sent a whole request within timeout_seconds of
 * its start or of its last answer is closed.  evhttp's own timeout only
 * bounds the wait for each read, which a client trickling a byte at a time
 * (slowloris) renews forever.
 */
static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char *addr = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(c->evcon, &addr, &port);
	log_info("http: closing the connection from %s:%u: no whole request "
	    "within %d s", addr != NULL ? addr : "?", (unsigned)port,
	    c->front->srv->cfg->limits.timeout_seconds);
	metrics_inc(&c->front->srv->metrics.connections_timed_out, 1);
	evhttp_connection_free(c->evcon);	/* conn_closed frees c */
}

static void
conn_arm(struct conn *c)
{
	struct timeval tv = { c->front->srv->cfg->limits.timeout_seconds, 0 };

	evtimer_add(c->deadline, &tv);
}

/* Runs just after evhttp accepted the connection; see struct conn. */
static void
conn_attach(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct http_front *f = c->front;
	struct server *srv = f->srv;
	void *evcon = NULL;
	int one = 1;

	/* evhttp's callbacks on its bufferevent take the connection as arg. */
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
	if (evcon == NULL)
		fatalx("http: a connection without its evhttp_connection");
	c->evcon = evcon;
	if (f->n_conns >= srv->cfg->limits.max_connections) {
		if (!f->refusing)
			log_warnx("http: %zu connections open, the "
			    "max_connections limit: closing new ones",
			    f->n_conns);
		f->refusing = 1;
		metrics_inc(&srv->metrics.connections_refused, 1);
		evhttp_connection_free(c->evcon);
		free(c);
		return;
	}
	if (f->refusing)
		log_info("http: accepting connections again");
	f->refusing = 0;
	if ((c->deadline = evtimer_new(srv->base, conn_deadline, c)) == NULL)
		fatalx("evtimer_new: out of memory");
	/*
	 * An answer may leave in several writes (TLS records): without
	 * TCP_NODELAY, Nagle holds the last one for the client's delayed ACK.
	 */
	if (setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) != 0)
		log_debug("http: TCP_NODELAY: %s", strerror(errno));
	LIST_INSERT_HEAD(conn_bucket(f, c->evcon), c, link);
	f->n_conns++;
	evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	conn_arm(c);
}

/*
 * evhttp's bufferevent callback, once per accepted connection: TLS through
 * bufferevent_openssl (the handshake runs as evhttp first reads), or a
 * plain socket, as evhttp would make itself; either behind the guard,
 * which frames the requests before evhttp reads them (http_guard.h).
 */
static struct bufferevent *
http_new_bev(struct event_base *base, void *arg)
{
	struct http_front *f = arg;
	struct bufferevent *bev;
	struct conn *c;
	SSL *ssl;

	if (f->ssl_ctx != NULL) {
		if ((ssl = SSL_new(f->ssl_ctx)) == NULL)
			fatalx("SSL_new: out of memory");
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("http: cannot make a bufferevent");
	c = xcalloc(1, sizeof(*c));
	c->front = f;
	c->bev = bev = http_guard_wrap(f->guard, bev, &c->guard);
	if (event_base_once(base, -1, EV_TIMEOUT, conn_attach, c, NULL) != 0)
		fatalx("event_base_once failed");
	return bev;
}

size_t
http_connections(const struct server *srv)
{
	return srv->front != NULL ? srv->front->n_conns : 0;
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return status < 300 ? "OK" : "Error";
	}
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static void
request_free(struct http_request_ctx *ctx)
{
	evhttp_clear_headers(&ctx->query);
	free(ctx->path);
	free(ctx->log_path);
	config_free(ctx->cfg);
	free(ctx);
}

/*
 * Sends the answer already in the output buffer, counts and logs it, and
 * frees r.  Every reply goes through here, so each request gets exactly one
 * evhttp_send_reply.  If the client has gone meanwhile evhttp_send_reply
 * still works: libevent detached the request from its connection and frees
 * it now.
 */
static void
reply_send(struct request *r, int status)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct evbuffer *body = evhttp_request_get_output_buffer(r->req);
	char length[24];
	struct conn *c;

	if (evhttp_find_header(out, "Cache-Control") == NULL)
		evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	/*
	 * RFC 9110 §9.3.2: HEAD answers the headers GET would, without the
	 * body; evhttp would send the body, which a client keeping the
	 * connection reads as the start of the next answer.
	 */
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD) {
		snprintf(length, sizeof(length), "%zu", evbuffer_get_length(body));
		if (evhttp_find_header(out, "Content-Length") == NULL)
			evhttp_add_header(out, "Content-Length", length);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	/* The connection's next request has timeout_seconds from now. */
	if ((c = conn_find(r->srv->front,
	    evhttp_request_get_connection(r->req))) != NULL)
		conn_arm(c);
	evhttp_send_reply(r->req, status, status_reason(status), NULL);
	reply_stream_done(r, status);
}

int
reply_stream_watch(struct request *r, void (*gone)(void *arg), void *arg)
{
	struct conn *c = conn_find(r->srv->front,
	    evhttp_request_get_connection(r->req));

	if (c == NULL)
		return -1;
	c->on_close = gone;
	c->on_close_arg = arg;
	return 0;
}

void
reply_stream_end(struct request *r)
{
	struct conn *c = conn_find(r->srv->front,
	    evhttp_request_get_connection(r->req));

	if (c != NULL) {
		c->on_close = NULL;
		conn_arm(c);	/* as reply_send does */
	}
	evhttp_send_reply_end(r->req);
	reply_stream_done(r, 200);
}

void
reply_stream_done(struct request *r, int status)
{
	struct http_request_ctx *ctx = (struct http_request_ctx *)r;
	struct metrics *m = &r->srv->metrics;
	int64_t took;
	int class;

	class = status >= 100 && status < 600 ? status / 100 : 0;
	metrics_inc(&m->http_status[class], 1);
	/*
	 * Every 403 passes here, whoever refused: a route's roles, a
	 * reader's org scope, a writer posting for another org, a bundle.
	 */
	if (status == 403)
		metrics_inc(&m->auth_forbidden, 1);
	metrics_inc(&m->http_requests, 1);
	took = server_now_us() - r->start_us;
	/* An error's line is kept by default: its request_id points here. */
	(status >= 400 ? log_info : log_debug)("request %" PRIu64 " %s %s %d %" PRId64 ".%03dms%s%s", r->id,
	    ctx->method, ctx->log_path, status, took / 1000,
	    (int)(took % 1000 < 0 ? 0 : took % 1000),
	    r->principal ? " by " : "", r->principal ? r->principal->id : "");
	request_free(ctx);
}

void
reply_bytes(struct request *r, int status, const char *content_type,
    const void *body, size_t len)
{
	struct evbuffer *buf = evhttp_request_get_output_buffer(r->req);

	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", content_type);
	if (len > 0 && evbuffer_add(buf, body, len) != 0)
		fatalx("evbuffer_add: out of memory");
	reply_send(r, status);
}

void
reply_json(struct request *r, int status, json_t *body)
{
	char *text;

	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("json_dumps: out of memory");
	json_decref(body);
	reply_bytes(r, status, "application/json", text, strlen(text));
	free(text);
}

void
reply_error(struct request *r, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	char message[512], id[24];
	json_t *error;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/*
	 * A message may quote client input cut mid-character: keep it UTF-8.
	 * field is absent rather than null (spec §7.2); request_id is the
	 * id of the request's log line and of its X-Request-Id header.
	 */
	snprintf(id, sizeof(id), "%" PRIu64, r->id);
	error = json_pack("{s:s, s:s?, s:s}", "code", code, "message",
	    message, "request_id", id);
	if (error == NULL)
		error = json_pack("{s:s, s:s, s:s}", "code", code, "message",
		    "(message not representable)", "request_id", id);
	/* A field named by client input (a query parameter) may not be UTF-8. */
	if (error != NULL && field != NULL && json_object_set_new(error,
	    "field", json_string(field)) != 0 && json_object_set_new(error,
	    "field", json_string("(name not representable)")) != 0)
		error = NULL;
	if (error == NULL)
		fatalx("json_pack: out of memory");
	reply_json(r, status, json_pack("{s:o}", "error", error));
}

int
query_u64(struct request *r, const char *name, uint64_t *out)
{
	const char *v;

	if ((v = query_str(r, name)) == NULL)
		return 0;
	if (ledger_parse_u64(v, strlen(v), out) != 0) {
		reply_error(r, 400, "invalid_value", name,
		    "%s must be a decimal integer without leading zeros", name);
		return -1;
	}
	return 1;
}

const char *
query_str(struct request *r, const char *name)
{
	return evhttp_find_header(r->query, name);
}

int
query_check(struct request *r, const char *const *allowed)
{
	struct evkeyval *kv, *kv2;
	size_t i;

	TAILQ_FOREACH(kv, r->query, next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(kv->key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			reply_error(r, 400, "unknown_parameter", kv->key,
			    "unknown query parameter \"%.64s\"", kv->key);
			return -1;
		}
		for (kv2 = TAILQ_NEXT(kv, next); kv2 != NULL;
		    kv2 = TAILQ_NEXT(kv2, next))
			if (strcmp(kv->key, kv2->key) == 0) {
				reply_error(r, 400, "invalid_value", kv->key,
				    "query parameter %s given twice", kv->key);
				return -1;
			}
	}
	return 0;
}

char *
read_body(struct request *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t n = evbuffer_get_length(in);
	size_t max = r->srv->cfg->limits.max_body;
	char *body;

	/*
	 * The guard (framing.c) refuses a larger body before it is read;
	 * this keeps the promise local.
	 */
	if (n > max) {
		reply_error(r, 413, "body_too_large", NULL,
		    "request body of %zu bytes exceeds %zu", n, max);
		return NULL;
	}
	body = xmalloc(n + 1);
	if (n > 0 && evbuffer_copyout(in, body, n) != (ev_ssize_t)n)
		fatalx("evbuffer_copyout: short copy");
	body[n] = '\0';
	*len = n;
	return body;
}

/* What a request's credentials came to. */
struct credential {
	const struct principal *principal;	/* NULL: not authenticated */
	int given;			/* a token or certificate was presented */
	int token;			/* ... and it was a token */
	/*
	 * What the throttle counts failures of when given: the SHA-256 of the
	 * Authorization header's value, or of the client certificate.
	 */
	uint8_t presented[LEDGER_HASH_LEN];
	char why[160];			/* when not authenticated: the 401's text */
};

/*
 * A bearer token ("Bearer <token>", the scheme case-insensitive, RFC 7235
 * §2.1) decides when there is one; else a client certificate that chains to
 * tls.client_ca names the principal by fingerprint or subject.
 */
static void
authenticate(struct request *r, struct credential *cr)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	uint8_t token_hash[LEDGER_HASH_LEN];
	struct tls_peer peer;
	const char *auth, *token;

	memset(cr, 0, sizeof(*cr));
	if ((auth = evhttp_find_header(in, "Authorization")) != NULL) {
		cr->given = cr->token = 1;
		snprintf(cr->why, sizeof(cr->why), "the bearer token is not valid");
		if (ledger_sha256(auth, strlen(auth), cr->presented) != 0)
			fatalx("SHA-256 failed");
		if (strncasecmp(auth, "Bearer ", 7) != 0)
			return;
		for (token = auth + 7; *token == ' '; token++)
			;
		if (*token == '\0' ||
		    ledger_sha256(token, strlen(token), token_hash) != 0)
			return;
		cr->principal = config_principal_by_token(r->srv->cfg,
		    token_hash);
		OPENSSL_cleanse(token_hash, sizeof(token_hash));
		return;
	}
	if (tls_peer_get(r->req, &peer) != 0 || (peer.has_cert &&
	    !peer.verified)) {
		cr->given = 1;
		if (peer.has_cert)
			memcpy(cr->presented, peer.cert_sha256, LEDGER_HASH_LEN);
		snprintf(cr->why, sizeof(cr->why), "the client certificate is "
		    "not accepted: %s", peer.error);
		return;
	}
	if (peer.has_cert) {
		cr->given = 1;
		memcpy(cr->presented, peer.cert_sha256, LEDGER_HASH_LEN);
		cr->principal = config_principal_by_cert(r->srv->cfg,
		    peer.cert_sha256, peer.subject[0] != '\0' ? peer.subject :
		    NULL);
		snprintf(cr->why, sizeof(cr->why), "the client certificate "
		    "names no principal");
		return;
	}
	snprintf(cr->why, sizeof(cr->why), peer.tls ? "this resource needs "
	    "an Authorization: Bearer token or a client certificate" :
	    "this resource needs an Authorization: Bearer token");
}

/* The client's address, for the throttle and log lines ("?" if unknown). */
static const char *
peer_address(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &addr, &port);
	return addr != NULL ? addr : "?";
}

static int
route_is_prefix(const struct route *rt)
{
	return rt->prefix[strlen(rt->prefix) - 1] == '/';
}

static int
route_path_matches_one(const struct route *rt, const char *path)
{
	size_t n = strlen(rt->prefix);

	if (route_is_prefix(rt))
		return strncmp(path, rt->prefix, n) == 0 &&
		    /* The console's index is its prefix itself. */
		    (path[n] != '\0' || rt->handler == route_console);
	return strcmp(path, rt->prefix) == 0;
}

/*
 * Whether rt takes path.  A path that some route names exactly belongs to
 * the exact routes alone: GET /v1/events/batch is a method the batch route
 * does not allow (405), not an entry "batch" of the /v1/events/ route.
 */
static int
route_path_matches(const struct route *rt, const char *path)
{
	size_t i;

	if (!route_path_matches_one(rt, path))
		return 0;
	if (!route_is_prefix(rt))
		return 1;
	for (i = 0; i < NROUTES; i++)
		if (!route_is_prefix(&routes[i]) &&
		    strcmp(path, routes[i].prefix) == 0)
			return 0;
	return 1;
}

/*
 * What the log line says of a path (spec §3.3: no subject's identifier in
 * the log).  It is decided on the decoded path, the one the routes match,
 * so no spelling of a route (%73ubjects, subjects%2F) escapes it: a path
 * of a subject route is logged as its route's prefix; a path no route
 * takes is not logged at all, since it may be a misspelt subject route
 * ("//v1/provenance/subjects/..."); any other is logged as sent (the log
 * module escapes its bytes).
 */
static char *
path_for_log(const char *raw, const char *decoded)
{
	size_t i;

	for (i = 0; i < NROUTES; i++) {
		if (!route_path_matches(&routes[i], decoded))
			continue;
		if (routes[i].log_prefix_only)
			return xstrdup(routes[i].prefix);
		return xstrdup(raw);
	}
	return xstrdup("(no route)");
}

/*
 * 401.  Presented credentials that fail are logged with the address and
 * count towards its throttle (a missing credential guesses nothing).
 */
static void
reply_unauthorized(struct request *r, const struct credential *cr)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	const struct limits *lim = &r->srv->cfg->limits;
	const char *addr = peer_address(r->req);
	size_t n = 0, credentials = 0;

	metrics_inc(&r->srv->metrics.auth_failures, 1);
	if (cr->given) {
		if (!r->srv->cfg->dev_mode)
			n = auth_throttle_fail(r->srv->front->throttle, addr,
			    cr->presented, sizeof(cr->presented),
			    lim->auth_window_seconds, server_now_us(),
			    &credentials);
		log_info("request %" PRIu64 ": authentication failed from %s: "
		    "%s (within %d s: failures of this credential %zu, "
		    "failing credentials from the address %zu)", r->id, addr,
		    cr->why, lim->auth_window_seconds, n, credentials);
	}
	evhttp_add_header(out, "WWW-Authenticate", cr->token ?
	    "Bearer realm=\"ledgerd\", error=\"invalid_token\"" :
	    "Bearer realm=\"ledgerd\"");
	reply_error(r, 401, "unauthorized", NULL, "%s", cr->why);
}

/*
 * The header that shows r was sent by a browser for another site's page
 * (spec §9.3), or NULL: Sec-Fetch-Site other than same-origin or none (the
 * officer typed the address), or an Origin that is not the origin of the
 * Host r was sent to.  A browser presents a client certificate to any
 * page's request, as it sends a cookie, so without this any page an
 * officer opened could append audit and export entries in the officer's
 * name with a purpose of its choosing (it could not read the answers).
 * Programs send neither header.
 */
static const char *
cross_site(struct request *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	const char *site = evhttp_find_header(in, "Sec-Fetch-Site");
	const char *origin = evhttp_find_header(in, "Origin");
	const char *host = evhttp_find_header(in, "Host");
	const char *sep;

	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return "Sec-Fetch-Site";
	if (origin != NULL && (host == NULL ||
	    (sep = strstr(origin, "://")) == NULL ||
	    strcasecmp(sep + 3, host) != 0))
		return "Origin";
	return NULL;
}

/*
 * Decides access to route (spec §9.3, docs/access.md).  Returns 1 when the
 * handler may run, 0 after answering 401, 403 or 429.
 */
static int
check_access(struct request *r, const struct route *route)
{
	const struct limits *lim = &r->srv->cfg->limits;
	struct credential cr;
	const char *header;
	char retry[16];
	int wait;

	if (route->roles == ROUTE_PUBLIC)
		return 1;
	if ((header = cross_site(r)) != NULL) {
		reply_error(r, 403, "forbidden", header, "a browser's request "
		    "on behalf of another site is refused");
		return 0;
	}
	authenticate(r, &cr);
	/*
	 * A credential that keeps failing from this address waits, and so
	 * does every credential from an address that tried many: the
	 * outcome of authenticate() is not acted on, so a guess made while
	 * waiting tells nothing.
	 */
	if (!r->srv->cfg->dev_mode && (wait = auth_throttle_wait(
	    r->srv->front->throttle, peer_address(r->req),
	    cr.given ? cr.presented : NULL, sizeof(cr.presented),
	    lim->auth_failures, lim->auth_window_seconds,
	    server_now_us())) > 0) {
		metrics_inc(&r->srv->metrics.auth_throttled, 1);
		snprintf(retry, sizeof(retry), "%d", wait);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", retry);
		reply_error(r, 429, "too_many_failures", NULL, "too many failed "
		    "authentications from this address; retry in %d s", wait);
		return 0;
	}
	if ((r->principal = cr.principal) == NULL) {
		reply_unauthorized(r, &cr);
		return 0;
	}
	/* Deny by default: roles 0 admits nobody. */
	if ((r->principal->roles & route->roles) == 0) {
		reply_error(r, 403, "forbidden", NULL,
		    "principal %s lacks the role this resource needs",
		    r->principal->id);
		return 0;
	}
	return 1;
}

static void
reply_method_not_allowed(struct request *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	const char *allow;
	int get = 0, post = 0;
	size_t i;

	for (i = 0; i < NROUTES; i++) {
		if (!route_path_matches(&routes[i], r->path))
			continue;
		get |= routes[i].method == EVHTTP_REQ_GET;
		post |= routes[i].method == EVHTTP_REQ_POST;
	}
	allow = get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : "POST";
	evhttp_add_header(out, "Allow", allow);
	reply_error(r, 405, "method_not_allowed", NULL,
	    "%s is not allowed here; use %s",
	    ((struct http_request_ctx *)r)->method, allow);
}

/*
 * The connection ends after this request's answer: evhttp closes it once
 * the reply with "Connection: close" is written, and reads nothing more
 * from it, so bytes after a badly framed request never become a request.
 */
static void
reply_error_close(struct request *r, int status, const char *code,
    const char *field, const char *message)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Connection", "close");
	reply_error(r, status, code, field, "%s", message);
}

/*
 * RFC 9112 §2.3: the version is "HTTP/" DIGIT "." DIGIT.  evhttp accepts
 * any "HTTP/%d.%d" with a major of at most 1 and answers in it, so a
 * request in HTTP/1.226 or HTTP/0.9 got an answer in that made-up version.
 * Only 1.0 and 1.1 are spoken; the rest get 505 in HTTP/1.1 (RFC 9110
 * §15.6.6).  evhttp refuses a major above 1 itself, with its own 400.
 * Returns 0, or -1 after answering.
 */
static int
check_version(struct request *r)
{
	struct evhttp_request *req = r->req;

	if (req->major == 1 && (req->minor == 0 || req->minor == 1))
		return 0;
	req->major = 1;
	req->minor = 1;
	reply_error_close(r, 505, "http_version_not_supported", NULL,
	    "only HTTP/1.0 and HTTP/1.1 are supported");
	return -1;
}

/*
 * evhttp decodes query values into C strings, so a "%00" would cut a value
 * short without a trace: a value is refused instead.  (A NUL in the path
 * is refused with the path's other checks, on its decoded length.)
 * Returns the name of the parameter whose value holds it (in name, cap
 * bytes; "query" when the NUL is in a name, or the name is not plain
 * text), or NULL when there is none.
 */
static const char *
query_has_nul(const char *q, char *name, size_t cap)
{
	const char *p, *start, *eq;
	size_t n;

	for (p = q; (p = strchr(p, '%')) != NULL; p++) {
		if (p[1] != '0' || p[2] != '0')
			continue;
		for (start = p; start > q && start[-1] != '&'; start--)
			;
		/* A NUL in the name itself: no name to give. */
		eq = memchr(start, '=', (size_t)(p - start));
		n = eq != NULL ? (size_t)(eq - start) : 0;
		snprintf(name, cap, "query");
		if (n > 0 && n < cap && strcspn(start, "%+&=") >= n) {
			memcpy(name, start, n);
			name[n] = '\0';
		}
		return name;
	}
	return NULL;
}

/* evhttp's on-complete callback: the request's answer is handed over. */
static void
request_answered(struct evhttp_request *req, void *arg)
{
	http_guard_answered(arg);
}

/* evhttp's one callback: parse, route, authenticate, hand to the route. */
static void
http_dispatch(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct http_request_ctx *ctx;
	struct request *r;
	const struct evhttp_uri *uri;
	const struct route *route = NULL;
	const char *raw, *q;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct framing_refusal *refused = NULL;
	struct conn *c;
	int path_known = 0;
	struct evkeyval *kv;
	const char *nul_in;
	char nul_name[64];
	size_t i, len;
	char id[24];

	/* The request is in: no deadline while it is being answered. */
	if ((c = conn_find(srv->front, evhttp_request_get_connection(req))) !=
	    NULL) {
		evtimer_del(c->deadline);
		refused = http_guard_request(c->guard);
		evhttp_request_set_on_complete_cb(req, request_answered,
		    c->guard);
	}
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->cfg = config_ref(srv->cfg);
	TAILQ_INIT(&ctx->query);
	r = &ctx->r;
	r->srv = srv;
	r->req = req;
	r->query = &ctx->query;
	r->id = next_request_id++;
	r->start_us = server_now_us();
	ctx->method = method_name(method);
	ctx->log_path = xstrdup("-");	/* until the path is known */
	snprintf(id, sizeof(id), "%" PRIu64, r->id);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "X-Request-Id", id);

	if (check_version(r) != 0)
		return;
	/*
	 * A request the guard refused (over a size limit, or badly framed:
	 * framing.c) comes as a stand-in without headers or body, or with
	 * its body cut short: it is answered with the refusal, and the
	 * connection closed.
	 */
	if (refused != NULL) {
		reply_error_close(r, refused->status, refused->code,
		    refused->field, refused->message);
		return;
	}
	uri = evhttp_request_get_evhttp_uri(req);
	raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (raw == NULL || *raw == '\0')
		raw = "/";
	if ((ctx->path = evhttp_uridecode(raw, 0, &len)) == NULL)
		fatalx("evhttp_uridecode: out of memory");
	r->path = ctx->path;
	free(ctx->log_path);
	ctx->log_path = path_for_log(raw, ctx->path);
	/*
	 * Path segments and query values become identifiers in answers and
	 * in audit entries: they must be text, like every JSON string.
	 */
	if (!ledger_utf8_text_valid(ctx->path, len)) {
		reply_error(r, 400, "invalid_value", "path",
		    "the decoded path is not UTF-8 text (a NUL, a control "
		    "character or a malformed sequence)");
		return;
	}
	q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (q != NULL && (nul_in = query_has_nul(q, nul_name,
	    sizeof(nul_name))) != NULL) {
		reply_error(r, 400, "invalid_value", nul_in,
		    "a query parameter holds a NUL (%%00)");
		return;
	}
	if (q != NULL && evhttp_parse_query_str(q, &ctx->query) != 0) {
		reply_error(r, 400, "invalid_value", "query",
		    "malformed query string");
		return;
	}
	TAILQ_FOREACH(kv, &ctx->query, next) {
		if (!ledger_utf8_text_valid(kv->value, strlen(kv->value)) ||
		    !ledger_utf8_text_valid(kv->key, strlen(kv->key))) {
			/* Named when its name is text, as the field. */
			reply_error(r, 400, "invalid_value",
			    ledger_utf8_text_valid(kv->key, strlen(kv->key)) ?
			    kv->key : "query",
			    "a query parameter is not UTF-8 text");
			return;
		}
	}

	/* HEAD is GET without a body; evhttp drops the body itself. */
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	for (i = 0; i < NROUTES; i++) {
		if (!route_path_matches(&routes[i], r->path))
			continue;
		path_known = 1;
		if ((int)method == routes[i].method) {
			route = &routes[i];
			break;
		}
	}
	if (route == NULL) {
		if (path_known)
			reply_method_not_allowed(r);
		else
			reply_error(r, 404, "not_found", NULL,
			    "no such resource");
		return;
	}

	if (check_access(r, route))
		route->handler(r);
}

int
http_listen(const char *listen_addr, int *fd, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], port_text[8];
	unsigned port;
	int s = -1, on = 1, rc;

	if (config_split_listen(listen_addr, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "listen %s: malformed address", listen_addr);
		return -1;
	}
	snprintf(port_text, sizeof(port_text), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port_text, &hints, &ai)) != 0) {
		snprintf(err, errlen, "listen %s: %s", listen_addr,
		    gai_strerror(rc));
		return -1;
	}
	/* As evhttp_bind_socket would: the first address, SO_REUSEADDR. */
	if ((s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0)
		goto fail;
	if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno == EADDRINUSE) {
			snprintf(err, errlen, "listen %s: the address is "
			    "already in use (another process listens there); "
			    "stop it or choose another address (--listen)", listen_addr);
			goto out;
		}
		goto fail;
	}
	if (listen(s, 128) != 0)
		goto fail;
	freeaddrinfo(ai);
	*fd = s;
	return 0;
fail:
	snprintf(err, errlen, "listen %s: %s", listen_addr, strerror(errno));
out:
	if (s >= 0)
		close(s);
	freeaddrinfo(ai);
	return -1;
}

int
http_start(struct server *srv)
{
	const struct limits *lim = &srv->cfg->limits;
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char addr[INET6_ADDRSTRLEN], err[512];
	const char *scheme = srv->cfg->tls_cert != NULL ? "https" : "http";
	struct http_front *f;
	size_t i;

	/* config_finish() refused plain HTTP off loopback already. */
	if (srv->cfg->tls_cert == NULL &&
	    !config_listen_is_loopback(srv->cfg->listen))
		fatalx("http: plain HTTP on %s", srv->cfg->listen);
	f = xcalloc(1, sizeof(*f));
	f->srv = srv;
	f->throttle = auth_throttle_new();
	f->guard = http_guard_new(srv->base, lim);
	for (i = 0; i < CONN_BUCKETS; i++)
		LIST_INIT(&f->conns[i]);
	srv->front = f;
	if (srv->cfg->tls_cert != NULL &&
	    (f->ssl_ctx = tls_ctx_new(srv->cfg, err, sizeof(err))) == NULL) {
		log_warnx("http: %s", err);
		goto fail;
	}
	if ((srv->http = evhttp_new(srv->base)) == NULL) {
		log_warnx("http: evhttp_new failed");
		goto fail;
	}
	/* Every connection, plain or TLS, is counted and guarded (struct conn). */
	evhttp_set_bevcb(srv->http, http_new_bev, f);
	/*
	 * The guard holds requests to these limits before evhttp reads them,
	 * and answers in JSON.  evhttp's own checks, set to the same values,
	 * stay as a second line that the guard keeps it from reaching (and
	 * linger, should it be reached): the guard counts a head with its
	 * line ends (evhttp without) and never hands over more than max_body
	 * bytes of a body.
	 */
	evhttp_set_max_body_size(srv->http, lim->max_body);
	evhttp_set_max_headers_size(srv->http, lim->max_headers);
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_timeout(srv->http, lim->timeout_seconds);
	/*
	 * Every method reaches the dispatcher, which answers 405 or 404 in
	 * JSON; a method evhttp does not know at all is refused before it
	 * (framing.c), also in JSON.
	 */
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(srv->http, http_dispatch, srv);

	if ((bound = evhttp_accept_socket_with_handle(srv->http,
	    srv->listen_fd)) == NULL) {
		log_warnx("http: cannot accept on %s", srv->cfg->listen);
		goto fail;
	}
	srv->listen_fd = -1;	/* evhttp_free() closes it */
	/* Port 0 lets the system choose: report the one it chose. */
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sslen) != 0) {
		log_warn("http: getsockname");
		goto fail;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		log_info("listening on %s://[%s]:%u", scheme, addr,
		    (unsigned)ntohs(sin6->sin6_port));
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		log_info("listening on %s://%s:%u", scheme, addr,
		    (unsigned)ntohs(sin->sin_port));
	}
	if (f->ssl_ctx != NULL)
		log_info("TLS with %s%s%s", srv->cfg->tls_cert,
		    srv->cfg->tls_client_ca != NULL ?
		    "; client certificates from " : "",
		    srv->cfg->tls_client_ca != NULL ? srv->cfg->tls_client_ca : "");
	return 0;

fail:
	http_stop(srv);
	return -1;
}

int
http_reload(struct server *srv, const struct config *next, char *err,
    size_t errlen)
{
	struct http_front *f = srv->front;
	SSL_CTX *ctx;

	if (next->tls_cert == NULL)
		return 0;
	if ((ctx = tls_ctx_new(next, err, errlen)) == NULL)
		return -1;
	/* Open connections hold a reference to the context they began with. */
	SSL_CTX_free(f->ssl_ctx);
	f->ssl_ctx = ctx;
	return 0;
}

void
http_stop(struct server *srv)
{
	struct http_front *f = srv->front;

	/* Lingering connections close; the others are evhttp's to free. */
	if (f != NULL) {
		http_guard_free(f->guard);
		f->guard = NULL;
	}
	/* Frees every connection: conn_closed() needs the front still. */
	if (srv->http != NULL)
		evhttp_free(srv->http);
	srv->http = NULL;
	if (f == NULL)
		return;
	auth_throttle_free(f->throttle);
	SSL_CTX_free(f->ssl_ctx);
	free(f);
	srv->front = NULL;
}
