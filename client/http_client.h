/*
 * A small blocking HTTP/1.1 client on OpenSSL BIOs: one kept-alive
 * connection to the ledger, plain HTTP or HTTPS with the certificate chain
 * and host name checked, an optional client certificate for mutual TLS.
 */
#ifndef LEDGERCTL_HTTP_CLIENT_H
#define LEDGERCTL_HTTP_CLIENT_H

#include <stddef.h>

/* How to reach the server; every string is borrowed for the client's life. */
struct http_client_opts {
	const char *url;	/* http://host[:port][/base] or https://… */
	const char *token;	/* bearer token, or NULL */
	const char *cert;	/* client certificate chain (PEM), or NULL */
	const char *cert_key;	/* its private key (PEM); NULL: in cert */
	const char *cacert;	/* CA file to trust; NULL: the system's */
	int timeout_ms;		/* per read or write; 0 for 60 s */
};

struct http_client;

/* A whole answer; body is NUL-terminated (the NUL is not in len). */
struct http_reply {
	int status;
	char *body;
	size_t len;
	char content_type[128];
	/* X-Ledger-Export-Seq and X-Ledger-Export-Range, or "" (export). */
	char export_seq[24];
	char export_range[48];
};

/*
 * Called with each piece of a streamed body, in order.  Returns 0 to go on,
 * non-zero to stop (http_client_stream then returns -1).
 */
typedef int (*http_sink)(void *arg, const char *data, size_t len);

/*
 * http_client_new - checks the URL and prepares TLS; connects lazily.
 *	err, errlen	out: why it failed
 * Returns a new client (http_client_free() it), or NULL.
 */
struct http_client *http_client_new(const struct http_client_opts *o,
    char *err, size_t errlen);

/* http_client_free - closes the connection; NULL is allowed. */
void http_client_free(struct http_client *c);

/*
 * http_client_request - sends one request and reads the whole answer.
 *	method, target	in: "GET", "/v1/events/0" (the URL's base path is
 *			put in front)
 *	content_type	in: NULL when there is no body
 *	body, len	in: the request body (may be NULL)
 *	out		out: the answer; http_reply_free() it on success
 * A kept-alive connection the server closed meanwhile is reopened once.
 * Returns 0, or -1 with the reason in http_client_error().
 */
int http_client_request(struct http_client *c, const char *method,
    const char *target, const char *content_type, const void *body,
    size_t len, struct http_reply *out);

/*
 * http_client_stream - GET target; a 200 answer's body goes to sink piece
 * by piece (constant memory), any other status is read whole into out.
 *	out	out: status (and body when not 200); http_reply_free() it
 * Returns 0, or -1 (transport error, or the sink stopped).
 */
int http_client_stream(struct http_client *c, const char *target,
    http_sink sink, void *arg, struct http_reply *out);

/*
 * http_reply_parse - reads one answer to a request of method from bytes as
 * they would come from the server, with the code that reads them from a
 * connection (for tests and fuzzing).
 *	sink, arg	as for http_client_stream; sink may be NULL
 *	out		out: as for http_client_request
 * Returns 0, or -1 when the bytes are not a whole answer.
 */
int http_reply_parse(const char *bytes, size_t len, const char *method,
    http_sink sink, void *arg, struct http_reply *out);

/* http_client_error - the last transport error, for messages (borrowed). */
const char *http_client_error(const struct http_client *c);

/* http_reply_free - frees the body; the struct may be reused. */
void http_reply_free(struct http_reply *r);

/*
 * http_reply_message - the server's {"error":{"message"}} text, or a short
 * excerpt of the body (static buffer, for one message at a time).
 */
const char *http_reply_message(const struct http_reply *r);

/*
 * http_path_escape - percent-encodes s for one path segment or query value
 * (everything but unreserved characters).  Returns a new string.
 */
char *http_path_escape(const char *s);

/*
 * http_query_add - appends name=escaped(value) to the query string *q (a
 * new string, "" or starting with '?'), with '?' or '&' as due; nothing
 * when value is NULL.  *q is replaced by a new string.
 */
void http_query_add(char **q, const char *name, const char *value);

#endif
