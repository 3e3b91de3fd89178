/*
 * The HTTP front end: the evhttp listener, the route table of design §6,
 * bearer-token authentication, and the reply helpers every route answers
 * through.  Everything here runs on the event loop's thread.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

#define READ_ROLES (ROLE_READER | ROLE_SUPERVISOR)

/*
 * Routes of design §6, first match wins: a path that matches with another
 * method answers 405, one that matches nothing 404.  The roles are the
 * access matrix of docs/access.md (tests/test_access.c holds the same
 * table).  /tile/entries/ comes before /tile/: an entry bundle holds every
 * org's entries and cannot be filtered without breaking the tile format, so
 * only those who see all may fetch one; hash tiles are public.
 */
static const struct route routes[] = {
	{ EVHTTP_REQ_POST, "/v1/events", ROLE_WRITER, route_events_post },
	{ EVHTTP_REQ_GET, "/v1/events", READ_ROLES, route_events_list },
	{ EVHTTP_REQ_POST, "/v1/events/batch", ROLE_WRITER, route_events_batch },
	{ EVHTTP_REQ_GET, "/v1/events/", READ_ROLES, route_events_get },
	{ EVHTTP_REQ_GET, "/v1/proof/inclusion", READ_ROLES, route_proof_inclusion },
	{ EVHTTP_REQ_GET, "/v1/proof/consistency", ROUTE_PUBLIC, route_proof_consistency },
	{ EVHTTP_REQ_GET, "/checkpoint", ROUTE_PUBLIC, route_checkpoint },
	{ EVHTTP_REQ_GET, "/tile/entries/", ROLE_SUPERVISOR, route_tile },
	{ EVHTTP_REQ_GET, "/tile/", ROUTE_PUBLIC, route_tile },
	{ EVHTTP_REQ_GET, "/healthz", ROUTE_PUBLIC, route_healthz },
	{ EVHTTP_REQ_GET, "/metrics", ROLE_OPERATOR, route_metrics },
	{ EVHTTP_REQ_GET, "/v1/provenance/subjects/", ROLE_SUPERVISOR, route_provenance_subject },
	{ EVHTTP_REQ_GET, "/v1/provenance/actors/", ROLE_SUPERVISOR, route_provenance_actor },
	{ EVHTTP_REQ_GET, "/v1/provenance/objects/", ROLE_SUPERVISOR, route_provenance_object },
	{ EVHTTP_REQ_GET, "/v1/export", ROLE_SUPERVISOR, route_export },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/*
 * What the front end keeps per request besides what routes see; r comes
 * first so that a struct request * is also a struct http_request_ctx *.
 */
struct http_request_ctx {
	struct request r;
	char *path;		/* decoded */
	char *raw_path;		/* as sent, for the log line */
	struct evkeyvalq query;
	const char *method;
};

static uint64_t next_request_id = 1;

static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
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
	free(ctx->raw_path);
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

	if (evhttp_find_header(out, "Cache-Control") == NULL)
		evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(r->req, status, status_reason(status), NULL);
	reply_stream_done(r, status);
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
	metrics_inc(&m->http_requests, 1);
	took = server_now_us() - r->start_us;
	log_debug("request %" PRIu64 " %s %s %d %" PRId64 ".%03dms%s%s", r->id,
	    ctx->method, ctx->raw_path, status, took / 1000,
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
	char message[512];
	json_t *error;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* A message may quote client input cut mid-character: keep it UTF-8. */
	error = json_pack("{s:s, s:s?, s:o}", "code", code, "message",
	    message, "field", field ? json_string(field) : json_null());
	if (error == NULL)
		error = json_pack("{s:s, s:s, s:n}", "code", code, "message",
		    "(message not representable)", "field");
	if (error == NULL)
		fatalx("json_pack: out of memory");
	reply_json(r, status, json_pack("{s:o}", "error", error));
}

/* A decimal uint64 as the API writes them: digits only, no leading zeros. */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int
query_u64(struct request *r, const char *name, uint64_t *out)
{
	const char *v;

	if ((v = query_str(r, name)) == NULL)
		return 0;
	if (parse_u64(v, out) != 0) {
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

	/* evhttp enforces max_body already; this keeps the promise local. */
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

/* "Bearer <token>", the scheme case-insensitive (RFC 7235 §2.1). */
static const struct principal *
authenticate(struct request *r, int *given)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	uint8_t token_hash[LEDGER_HASH_LEN];
	const struct principal *p;
	const char *auth, *token;

	*given = 0;
	if ((auth = evhttp_find_header(in, "Authorization")) == NULL)
		return NULL;
	*given = 1;
	if (strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	for (token = auth + 7; *token == ' '; token++)
		;
	if (*token == '\0')
		return NULL;
	if (ledger_sha256(token, strlen(token), token_hash) != 0)
		return NULL;
	p = config_principal_by_token(r->srv->cfg, token_hash);
	return p != NULL && p->has_token ? p : NULL;
}

static int
route_path_matches(const struct route *rt, const char *path)
{
	size_t n = strlen(rt->prefix);

	if (rt->prefix[n - 1] == '/')
		return strncmp(path, rt->prefix, n) == 0 && path[n] != '\0';
	return strcmp(path, rt->prefix) == 0;
}

static void
reply_unauthorized(struct request *r, int given)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);

	metrics_inc(&r->srv->metrics.auth_failures, 1);
	evhttp_add_header(out, "WWW-Authenticate", given ?
	    "Bearer realm=\"ledgerd\", error=\"invalid_token\"" :
	    "Bearer realm=\"ledgerd\"");
	reply_error(r, 401, "unauthorized", NULL, given ?
	    "the bearer token is not valid" :
	    "this resource needs an Authorization: Bearer token");
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
	int path_known = 0, given;
	size_t i, len;

	ctx = xcalloc(1, sizeof(*ctx));
	TAILQ_INIT(&ctx->query);
	r = &ctx->r;
	r->srv = srv;
	r->req = req;
	r->query = &ctx->query;
	r->id = next_request_id++;
	r->start_us = server_now_us();
	ctx->method = method_name(method);

	uri = evhttp_request_get_evhttp_uri(req);
	raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	ctx->raw_path = xstrdup(raw != NULL && *raw != '\0' ? raw : "/");
	ctx->path = evhttp_uridecode(ctx->raw_path, 0, &len);
	if (ctx->path == NULL)
		fatalx("evhttp_uridecode: out of memory");
	r->path = ctx->path;
	/* Design §5: a subject's identifier never reaches the log line. */
	if (strncmp(ctx->raw_path, "/v1/provenance/subjects/", 24) == 0)
		ctx->raw_path[24] = '\0';
	if (strlen(ctx->path) != len) {
		reply_error(r, 400, "invalid_value", "path",
		    "the path holds a NUL byte");
		return;
	}
	q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (q != NULL && evhttp_parse_query_str(q, &ctx->query) != 0) {
		reply_error(r, 400, "invalid_value", "query",
		    "malformed query string");
		return;
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

	if (route->roles != 0) {
		/* Deny by default (design §8). */
		if ((r->principal = authenticate(r, &given)) == NULL) {
			reply_unauthorized(r, given);
			return;
		}
		if ((r->principal->roles & route->roles) == 0) {
			metrics_inc(&srv->metrics.auth_failures, 1);
			reply_error(r, 403, "forbidden", NULL,
			    "principal %s lacks the role this resource needs",
			    r->principal->id);
			return;
		}
	}
	route->handler(r);
}

int
http_start(struct server *srv)
{
	const struct limits *lim = &srv->cfg->limits;
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256], addr[INET6_ADDRSTRLEN];
	unsigned port;

	if (srv->cfg->tls_cert != NULL) {
		/* Never fall back to plain HTTP when TLS was asked for. */
		log_warnx("http: TLS listeners are not supported yet; "
		    "refusing to serve %s in plain HTTP", srv->cfg->listen);
		return -1;
	}
	if (config_split_listen(srv->cfg->listen, host, sizeof(host),
	    &port) != 0) {
		log_warnx("http: malformed listen address %s",
		    srv->cfg->listen);
		return -1;
	}
	if ((srv->http = evhttp_new(srv->base)) == NULL) {
		log_warnx("http: evhttp_new failed");
		return -1;
	}
	evhttp_set_max_body_size(srv->http, lim->max_body);
	evhttp_set_max_headers_size(srv->http, lim->max_headers);
	evhttp_set_timeout(srv->http, lim->timeout_seconds);
	/*
	 * Every method reaches the dispatcher, which answers 405 or 404 in
	 * JSON; evhttp's own refusal would be a 501 HTML page.
	 */
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/*
	 * A body over max_body is refused by evhttp itself, before any route
	 * sees it, with its own (HTML) 413: libevent 2.1 has no hook for that
	 * answer.  Lingering close reads the rest of the body first, so the
	 * client gets the 413 instead of a reset connection.
	 */
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(srv->http, http_dispatch, srv);

	if ((bound = evhttp_bind_socket_with_handle(srv->http, host,
	    (ev_uint16_t)port)) == NULL) {
		log_warn("http: cannot listen on %s", srv->cfg->listen);
		goto fail;
	}
	/* Port 0 lets the system choose: report the one it chose. */
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sslen) != 0) {
		log_warn("http: getsockname");
		goto fail;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		log_info("listening on http://[%s]:%u", addr,
		    (unsigned)ntohs(sin6->sin6_port));
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		log_info("listening on http://%s:%u", addr,
		    (unsigned)ntohs(sin->sin_port));
	}
	return 0;

fail:
	evhttp_free(srv->http);
	srv->http = NULL;
	return -1;
}

void
http_stop(struct server *srv)
{
	if (srv->http == NULL)
		return;
	evhttp_free(srv->http);
	srv->http = NULL;
}
