/*
 * A small blocking HTTP/1.1 client for the tests: one loopback TCP
 * connection, kept alive between requests, with a timeout on every read and
 * write.  It also sends raw bytes, so that tests can speak broken HTTP.
 */
#ifndef LEDGER_TEST_HTTP_H
#define LEDGER_TEST_HTTP_H

#include <stddef.h>

#include <jansson.h>

/* Errors of the functions below (all negative). */
#define HTTP_EIO (-1)		/* socket error */
#define HTTP_ETIMEOUT (-2)	/* no byte within the timeout */
#define HTTP_ECLOSED (-3)	/* the peer closed before a whole response */
#define HTTP_EPROTO (-4)	/* the peer's answer is not HTTP/1.x */

#define HTTP_DEFAULT_TIMEOUT_MS 20000

/* A connection; buf holds bytes read past the last response. */
struct http_conn {
	int fd;			/* -1 when not connected */
	unsigned port;
	int timeout_ms;
	char *buf;
	size_t len, cap;
};

struct http_header {
	char *name;
	char *value;
};

/* A response; every string is new and freed by http_response_free(). */
struct http_response {
	int status;
	struct http_header *headers;
	size_t n_headers;
	char *body;		/* NUL-terminated (the NUL is not in body_len) */
	size_t body_len;
	int closed;		/* the server closes the connection after it */
	char version[16];	/* of the status line, e.g. "HTTP/1.1" */
};

/*
 * http_connect - connects to 127.0.0.1:port.
 * Returns 0 or HTTP_EIO / HTTP_ETIMEOUT.
 */
int http_connect(struct http_conn *c, unsigned port, int timeout_ms);

/* http_close - closes the connection (idempotent); c can be reconnected. */
void http_close(struct http_conn *c);

/*
 * http_send_raw - writes len bytes as they are.  A peer that closes early
 * gives HTTP_ECLOSED (no SIGPIPE).  Returns 0 or a negative HTTP_E* code.
 */
int http_send_raw(struct http_conn *c, const void *buf, size_t len);

/* http_shutdown_write - half-closes the connection (the peer reads EOF). */
void http_shutdown_write(struct http_conn *c);

/*
 * http_read_response - reads one response (skipping 1xx ones): status line,
 * headers, and a body framed by Content-Length, chunked encoding or the end
 * of the connection.  head: the request was HEAD (no body).
 *	r	out: the response; free with http_response_free() on success
 * Returns 0 or a negative HTTP_E* code (r is then empty).
 */
int http_read_response(struct http_conn *c, struct http_response *r, int head);

/*
 * http_wait_closed - whether the peer closes the connection within the
 * timeout (bytes it still sends are discarded).  Returns 1 when closed.
 */
int http_wait_closed(struct http_conn *c);

void http_response_free(struct http_response *r);

/* http_header_get - value of a response header (case-insensitive), or NULL. */
const char *http_header_get(const struct http_response *r, const char *name);

/*
 * http_response_json - the body parsed as JSON, or NULL.  New reference.
 */
json_t *http_response_json(const struct http_response *r);

/*
 * A client of one server: a kept-alive connection that is reopened when the
 * server closed it, and the bearer token to send.
 */
struct http_client {
	struct http_conn conn;
	unsigned port;
	char token[256];	/* "" for none */
	int timeout_ms;
};

void http_client_init(struct http_client *hc, unsigned port, const char *token);
void http_client_close(struct http_client *hc);

/*
 * http_request - sends one request and reads its response.
 *	method, target	in: e.g. "GET", "/v1/events/0"
 *	auth		in: the whole Authorization value ("Bearer x"), NULL
 *			for none
 *	content_type	in: NULL for none
 *	extra_headers	in: NULL or lines each ending in "\r\n"
 *	body, len	in: sent with a Content-Length when body is not NULL
 *	r		out: the response (http_response_free() it on success)
 * A kept-alive connection that the server had closed is reopened once.
 * When the environment variable LEDGER_TEST_RECORD names a file, each
 * exchange that got a response is appended to it as one JSON line
 * ({method, target, content_type, status, headers: [[name, value], ...],
 * body or body_base64}) for tests/openapi_check.py.
 * Returns 0 or a negative HTTP_E* code.
 */
int http_request(struct http_client *hc, const char *method, const char *target,
    const char *auth, const char *content_type, const char *extra_headers,
    const void *body, size_t len, struct http_response *r);

/* GET with the client's token. */
int http_get(struct http_client *hc, const char *target, struct http_response *r);
/* GET without credentials. */
int http_get_public(struct http_client *hc, const char *target,
    struct http_response *r);
/* POST of a JSON text (NUL-terminated) with the client's token. */
int http_post_json(struct http_client *hc, const char *target, const char *json,
    struct http_response *r);

#endif
