/*
 * The guard in front of evhttp (ledgerd/http_guard.c, ledgerd/framing.c)
 * against the real daemon, over raw sockets, plain and TLS.  A head over
 * max_headers is 431 and a body over max_body 413, in the JSON of spec
 * §7.2 naming the limit, logged under the request's id, decided before the
 * body is read (Expect: 100-continue gets the 413, never 100 Continue),
 * answered after the requests before it on the connection, and closing
 * it; exactly at the limits a request is taken; nothing is appended; a
 * client that sends its body anyway still reads the answer.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* The defaults of development mode (docs/limits.md). */
#define MAX_BODY (8u << 20)
#define MAX_HEADERS 16384u
#define BODY_LIMIT "max_body limit of 8388608 bytes"
#define HEADERS_LIMIT "max_headers limit of 16384 bytes"

/* The limits of the TLS daemon's configuration. */
#define TLS_MAX_BODY 65536u
#define TLS_MAX_HEADERS 2048u
#define TLS_BODY_LIMIT "max_body limit of 65536 bytes"
#define TLS_HEADERS_LIMIT "max_headers limit of 2048 bytes"

#define IO_TIMEOUT_MS 20000

/*
 * Checks that r is the refusal of spec §7.2 with status and code: JSON,
 * field as given (NULL: absent), a message naming limit, request_id equal
 * to X-Request-Id and to the id of the request's line in the log, and the
 * connection closing after it.
 */
static void
check_refusal_(const char *file, int line, const struct daemon *d,
    const struct http_response *r, int status, const char *code,
    const char *field, const char *limit)
{
	const char *ctype = http_header_get(r, "Content-Type");
	const char *header_id = http_header_get(r, "X-Request-Id");
	const char *message, *id;
	json_t *body = http_response_json(r), *error;
	int before = test_failures_;

	CHECK_INT(r->status, status);
	CHECK(ctype != NULL && strcmp(ctype, "application/json") == 0);
	CHECK(r->closed);
	error = json_object_get(body, "error");
	CHECK_STR(json_string_value(json_object_get(error, "code")), code);
	if (field == NULL)
		CHECK(json_object_get(error, "field") == NULL);
	else
		CHECK_STR(json_string_value(json_object_get(error, "field")), field);
	message = json_string_value(json_object_get(error, "message"));
	if (message == NULL || strstr(message, limit) == NULL) {
		fprintf(stderr, "  message \"%s\" does not say \"%s\"\n",
		    message ? message : "(none)", limit);
		test_failures_++;
	}
	id = json_string_value(json_object_get(error, "request_id"));
	CHECK(id != NULL && header_id != NULL && strcmp(id, header_id) == 0);
	if (id != NULL)
		CHECK(daemon_logged_request(d, id, status));
	if (test_failures_ != before)
		fprintf(stderr, "  ^ the refusal checked at %s:%d\n", file, line);
	json_decref(body);
}
#define CHECK_REFUSAL(d, r, status, code, field, limit) \
	check_refusal_(__FILE__, __LINE__, (d), (r), (status), (code), (field), (limit))

/* The request id of an answer, as a number (0 when there is none). */
static unsigned long long
request_id(const struct http_response *r)
{
	const char *id = http_header_get(r, "X-Request-Id");

	return id != NULL ? strtoull(id, NULL, 10) : 0;
}

/*
 * Reads what the server sends until it closes the connection (bytes the
 * client had already read past the last response first).
 *	len	out: how many
 * Returns the bytes, NUL-terminated (free() them), or NULL when the server
 * neither sends nor closes within the timeout.
 */
static char *
read_until_closed(struct http_conn *c, size_t *len)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	size_t cap = c->len + 65536, n = c->len;
	char *buf = xmalloc(cap + 1);
	ssize_t got;
	int rc;

	if (c->len > 0)
		memcpy(buf, c->buf, c->len);
	c->len = 0;
	for (;;) {
		if (cap - n < 16384)
			buf = xrealloc(buf, (cap *= 2) + 1);
		do
			rc = poll(&p, 1, IO_TIMEOUT_MS);
		while (rc < 0 && errno == EINTR);
		if (rc <= 0) {
			free(buf);
			return NULL;
		}
		if ((got = recv(c->fd, buf + n, cap - n, 0)) <= 0)
			break;		/* closed, or reset after the answer */
		n += (size_t)got;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * Reads until the bytes so far end in end (the server must send nothing
 * after them before the client speaks again).  Returns them (free()) or
 * NULL.
 */
static char *
read_until(struct http_conn *c, const char *end, size_t *len)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	size_t cap = 4096, n = 0, e = strlen(end);
	char *buf = xmalloc(cap + 1);
	ssize_t got;
	int rc;

	while (n < e || memcmp(buf + n - e, end, e) != 0) {
		if (n == cap)
			goto fail;
		do
			rc = poll(&p, 1, IO_TIMEOUT_MS);
		while (rc < 0 && errno == EINTR);
		if (rc <= 0 || (got = recv(c->fd, buf + n, 1, 0)) <= 0)
			goto fail;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	return NULL;
}

/*
 * The responses in len bytes of raw, read by the tests' own HTTP client
 * through a socket pair.  Returns how many (at most max; free each).
 */
static size_t
parse_raw(const char *raw, size_t len, struct http_response *out, size_t max)
{
	struct http_conn c;
	size_t n = 0, off = 0;
	ssize_t w;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 0;
	/* Answers are small: the pair's buffer holds them. */
	while (off < len && (w = write(sv[1], raw + off, len - off)) > 0)
		off += (size_t)w;
	close(sv[1]);
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	c.timeout_ms = IO_TIMEOUT_MS;
	while (n < max && http_read_response(&c, &out[n], 0) == 0)
		n++;
	http_close(&c);
	return n;
}

/* The tree size /healthz reports, or -1. */
static long long
tree_size(const struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	json_t *body;
	long long n = -1;

	http_client_init(&hc, d->port, "");
	if (http_get_public(&hc, "/healthz", &r) == 0) {
		if (r.status == 200 && (body = http_response_json(&r)) != NULL) {
			n = json_integer_value(json_object_get(body, "tree_size"));
			json_decref(body);
		}
		http_response_free(&r);
	}
	http_client_close(&hc);
	return n;
}

/* A buffer of n bytes of c (free() it). */
static char *
fill(size_t n, char c)
{
	char *buf = xmalloc(n + 1);

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/*
 * A GET /healthz whose head is exactly len bytes, line ends included,
 * padded with one header (free() it); chunked says so in its first header.
 */
static char *
head_of_size_te(size_t len, int chunked)
{
	const char *start = chunked ? "GET /healthz HTTP/1.1\r\n"
	    "Transfer-Encoding: chunked\r\nX-Fill: " :
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fill: ";
	size_t fixed = strlen(start) + 4;	/* and "\r\n\r\n" */
	char *s = fill(len, 'a');

	memcpy(s, start, strlen(start));
	memcpy(s + len - 4, "\r\n\r\n", 4);
	if (len < fixed + 1)
		abort();
	return s;
}

static char *
head_of_size(size_t len)
{
	return head_of_size_te(len, 0);
}

/* Sends head and, unless body is NULL, body_len bytes of it on a new connection. */
static int
open_and_send(const struct daemon *d, struct http_conn *c, const char *head,
    const char *body, size_t body_len)
{
	int rc;

	if ((rc = http_connect(c, d->port, IO_TIMEOUT_MS)) != 0)
		return rc;
	if ((rc = http_send_raw(c, head, strlen(head))) == 0 && body != NULL)
		rc = http_send_raw(c, body, body_len);
	if (rc != 0)
		http_close(c);
	return rc;
}

/*
 * A body declared by Content-Length: at max_body it is read and the
 * connection kept; one byte over, refused on the head.  A client that
 * sends the body anyway has it read and dropped (every byte is taken: the
 * server keeps reading until the client is done) and reads the 413; one
 * that asked for 100-continue gets the 413 at once and no 100 Continue,
 * sends no body and sees the connection closed.
 */
static void
body_content_length(struct daemon *d)
{
	struct http_conn c;
	struct http_response r[2];
	char head[512], *body = fill(MAX_BODY + 1, 'x'), *raw;
	long long before = tree_size(d);
	size_t n;

	REQUIRE(before >= 0);
	printf("  exactly max_body, then one byte over on the same connection\n");
	snprintf(head, sizeof(head), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %u\r\n\r\n", MAX_BODY);
	REQUIRE(open_and_send(d, &c, head, body, MAX_BODY) == 0);
	REQUIRE(http_read_response(&c, &r[0], 0) == 0);
	CHECK_INT(r[0].status, 200);
	CHECK(!r[0].closed);
	http_response_free(&r[0]);
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %u\r\n\r\n", d->auth, MAX_BODY + 1);
	CHECK(http_send_raw(&c, head, strlen(head)) == 0);
	CHECK(http_send_raw(&c, body, MAX_BODY + 1) == 0);
	REQUIRE(http_read_response(&c, &r[0], 0) == 0);
	CHECK_REFUSAL(d, &r[0], 413, "body_too_large", "Content-Length",
	    BODY_LIMIT);
	http_response_free(&r[0]);
	CHECK(http_wait_closed(&c));
	http_close(&c);

	printf("  Expect: 100-continue over max_body: the 413 without the body\n");
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Expect: 100-continue\r\nContent-Length: %u\r\n\r\n", d->auth,
	    MAX_BODY + 1);
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	raw = read_until_closed(&c, &n);
	http_close(&c);
	REQUIRE(raw != NULL);
	CHECK(n > 13 && memcmp(raw, "HTTP/1.1 413 ", 13) == 0);
	CHECK(memmem(raw, n, " 100 ", 5) == NULL);
	CHECK_INT(parse_raw(raw, n, r, 2), 1);
	CHECK_REFUSAL(d, &r[0], 413, "body_too_large", "Content-Length",
	    BODY_LIMIT);
	http_response_free(&r[0]);
	free(raw);

	printf("  Expect: 100-continue at max_body: 100 Continue, then read\n");
	snprintf(head, sizeof(head), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Expect: 100-continue\r\nContent-Length: %u\r\n\r\n", MAX_BODY);
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	raw = read_until(&c, "\r\n\r\n", &n);
	CHECK(raw != NULL && strcmp(raw, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
	free(raw);
	CHECK(http_send_raw(&c, body, MAX_BODY) == 0);
	REQUIRE(http_read_response(&c, &r[0], 0) == 0);
	CHECK_INT(r[0].status, 200);
	http_response_free(&r[0]);
	http_close(&c);

	printf("  a Content-Length of 20 digits\n");
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: 99999999999999999999\r\n\r\n", d->auth);
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	REQUIRE(http_read_response(&c, &r[0], 0) == 0);
	CHECK_REFUSAL(d, &r[0], 413, "body_too_large", "Content-Length",
	    BODY_LIMIT);
	http_response_free(&r[0]);
	http_close(&c);
	free(body);
	CHECK_INT(tree_size(d), before);
}

static void
test_content_length(void)
{
	daemon_test(body_content_length);
}

/* Sends n chunks of size bytes each. */
static int
send_chunks(struct http_conn *c, size_t n, size_t size)
{
	char line[32], *data = fill(size, 'x');
	size_t i;
	int rc = 0;

	snprintf(line, sizeof(line), "%zx\r\n", size);
	for (i = 0; i < n && rc == 0; i++)
		if ((rc = http_send_raw(c, line, strlen(line))) == 0 &&
		    (rc = http_send_raw(c, data, size)) == 0)
			rc = http_send_raw(c, "\r\n", 2);
	free(data);
	return rc;
}

/*
 * A chunked body: chunks of max_body in all are read; the chunk size that
 * would take the body past it is refused at once, before its data comes.
 * Chunk extensions and trailers are taken (and dropped).
 */
static void
body_chunked(struct daemon *d)
{
	struct http_conn c;
	struct http_response r;
	char head[512], *event, *raw;
	long long before = tree_size(d);
	size_t len;

	REQUIRE(before >= 0);
	printf("  chunks of max_body in all, then one byte more\n");
	REQUIRE(open_and_send(d, &c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", NULL, 0) == 0);
	CHECK(send_chunks(&c, 8, MAX_BODY / 8) == 0);
	CHECK(http_send_raw(&c, "0\r\n\r\n", 5) == 0);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_INT(r.status, 200);
	CHECK(!r.closed);
	http_response_free(&r);
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", d->auth);
	CHECK(http_send_raw(&c, head, strlen(head)) == 0);
	CHECK(send_chunks(&c, 8, MAX_BODY / 8) == 0);
	/* The size line alone: its byte is never sent. */
	CHECK(http_send_raw(&c, "1\r\n", 3) == 0);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_REFUSAL(d, &r, 413, "body_too_large", NULL, BODY_LIMIT);
	http_response_free(&r);
	CHECK(http_wait_closed(&c));
	http_close(&c);

	printf("  one chunk larger than max_body, refused on its size\n");
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	CHECK(http_send_raw(&c, "FFFFFFFFFFFFFFFFFFFF\r\n", 22) == 0);
	raw = read_until_closed(&c, &len);
	REQUIRE(raw != NULL);
	CHECK_INT(parse_raw(raw, len, &r, 1), 1);
	CHECK_REFUSAL(d, &r, 413, "body_too_large", NULL, BODY_LIMIT);
	http_response_free(&r);
	free(raw);
	http_close(&c);
	CHECK_INT(tree_size(d), before);

	printf("  a chunked head of max_headers: the empty trailers fit\n");
	raw = head_of_size_te(MAX_HEADERS, 1);
	REQUIRE(open_and_send(d, &c, raw, "0\r\n\r\n", 5) == 0);
	free(raw);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	printf("  trailers that take the head past max_headers\n");
	raw = head_of_size_te(MAX_HEADERS - 8, 1);
	CHECK(http_send_raw(&c, raw, strlen(raw)) == 0);
	free(raw);
	/* 8 bytes of trailer fit; 9 do not. */
	CHECK(http_send_raw(&c, "0\r\nX-T: a\r\n\r\n", 13) == 0);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	raw = head_of_size_te(MAX_HEADERS - 8, 1);
	CHECK(http_send_raw(&c, raw, strlen(raw)) == 0);
	free(raw);
	CHECK(http_send_raw(&c, "0\r\nX-T: ab\r\n\r\n", 14) == 0);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_REFUSAL(d, &r, 431, "headers_too_large", NULL, HEADERS_LIMIT);
	http_response_free(&r);
	http_close(&c);

	printf("  chunk extensions and trailers\n");
	event = sample_event(1);
	raw = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
	    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "%zx;name=\"value\"\r\n%s\r\n0;last\r\nX-Trailer: t\r\n\r\n",
	    d->auth, strlen(event), event);
	REQUIRE(open_and_send(d, &c, raw, NULL, 0) == 0);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_INT(r.status, 201);
	http_response_free(&r);
	http_close(&c);
	free(raw);
	free(event);
	CHECK_INT(tree_size(d), before + 1);
}

static void
test_chunked(void)
{
	daemon_test(body_chunked);
}

/*
 * The head: max_headers bytes with its line ends are taken, one more is
 * 431; so are many small headers over the limit, and a head that never
 * ends, refused once it has passed the limit.
 */
static void
body_headers(struct daemon *d)
{
	struct http_conn c;
	struct http_response r;
	char *head, *raw;
	size_t i, o, len;

	printf("  a head of exactly max_headers bytes, then one byte more\n");
	head = head_of_size(MAX_HEADERS);
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	free(head);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_INT(r.status, 200);
	CHECK(!r.closed);
	http_response_free(&r);
	head = head_of_size(MAX_HEADERS + 1);
	CHECK(http_send_raw(&c, head, strlen(head)) == 0);
	free(head);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_REFUSAL(d, &r, 431, "headers_too_large", NULL, HEADERS_LIMIT);
	http_response_free(&r);
	CHECK(http_wait_closed(&c));
	http_close(&c);

	printf("  many small headers\n");
	head = xmalloc(64 + 2000 * 16);
	o = (size_t)sprintf(head, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 2000; i++)
		o += (size_t)sprintf(head + o, "X-H-%04zu: v\r\n", i);
	sprintf(head + o, "\r\n");
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	free(head);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_REFUSAL(d, &r, 431, "headers_too_large", NULL, HEADERS_LIMIT);
	http_response_free(&r);
	http_close(&c);

	printf("  a head that never ends\n");
	head = fill(MAX_HEADERS + 1, 'h');
	memcpy(head, "GET /healthz HTTP/1.1\r\nX-A: ", 28);
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	free(head);
	raw = read_until_closed(&c, &len);
	REQUIRE(raw != NULL);
	CHECK_INT(parse_raw(raw, len, &r, 1), 1);
	CHECK_REFUSAL(d, &r, 431, "headers_too_large", NULL, HEADERS_LIMIT);
	http_response_free(&r);
	free(raw);
	http_close(&c);
}

static void
test_headers(void)
{
	daemon_test(body_headers);
}

/*
 * Requests sent in one write: those before the refused one are answered
 * first, in order (an append, which waits for the writer, included), then
 * the refusal with the next request id; the connection closes after it.
 */
static void
body_pipelined(struct daemon *d)
{
	static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_conn c;
	struct http_response r[4];
	char *raw, *big, *event, *all;
	long long before = tree_size(d);
	size_t len, n, i;

	REQUIRE(before >= 0);
	printf("  a GET, then a POST over max_body\n");
	raw = xasprintf("%sPOST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: "
	    "%s\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n",
	    healthz, d->auth, MAX_BODY + 1);
	REQUIRE(open_and_send(d, &c, raw, NULL, 0) == 0);
	free(raw);
	raw = read_until_closed(&c, &len);
	http_close(&c);
	REQUIRE(raw != NULL);
	n = parse_raw(raw, len, r, 4);
	free(raw);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(r[0].status, 200);
		CHECK(!r[0].closed);
		CHECK_REFUSAL(d, &r[1], 413, "body_too_large", "Content-Length",
		    BODY_LIMIT);
		CHECK_INT(request_id(&r[1]), request_id(&r[0]) + 1);
	}
	for (i = 0; i < n; i++)
		http_response_free(&r[i]);

	printf("  an append, a GET, then a head over max_headers\n");
	event = sample_event(2);
	big = head_of_size(MAX_HEADERS + 100);
	all = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s%s%s",
	    d->auth, strlen(event), event, healthz, big);
	REQUIRE(open_and_send(d, &c, all, NULL, 0) == 0);
	free(all);
	free(big);
	free(event);
	raw = read_until_closed(&c, &len);
	http_close(&c);
	REQUIRE(raw != NULL);
	n = parse_raw(raw, len, r, 4);
	free(raw);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(r[0].status, 201);
		CHECK_INT(r[1].status, 200);
		CHECK_REFUSAL(d, &r[2], 431, "headers_too_large", NULL,
		    HEADERS_LIMIT);
		CHECK_INT(request_id(&r[1]), request_id(&r[0]) + 1);
		CHECK_INT(request_id(&r[2]), request_id(&r[1]) + 1);
	}
	for (i = 0; i < n; i++)
		http_response_free(&r[i]);

	printf("  a GET, then a chunked POST over max_body\n");
	raw = xasprintf("%sPOST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: "
	    "%s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n%x\r\n", healthz, d->auth, MAX_BODY + 1);
	REQUIRE(open_and_send(d, &c, raw, NULL, 0) == 0);
	free(raw);
	raw = read_until_closed(&c, &len);
	http_close(&c);
	REQUIRE(raw != NULL);
	n = parse_raw(raw, len, r, 4);
	free(raw);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(r[0].status, 200);
		CHECK_REFUSAL(d, &r[1], 413, "body_too_large", NULL, BODY_LIMIT);
	}
	for (i = 0; i < n; i++)
		http_response_free(&r[i]);
	CHECK_INT(tree_size(d), before + 1);
}

static void
test_pipelined(void)
{
	daemon_test(body_pipelined);
}

/*
 * After the answer, the server keeps reading what the client still sends
 * (lingering close): a client that reads the 413 first and sends its
 * declared body afterwards gets every byte taken, not a reset, and the
 * server closes once the client has.
 */
static void
body_linger(struct daemon *d)
{
	struct http_conn c;
	struct http_response r;
	char head[512], *body = fill(MAX_BODY + 1, 'x');

	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %u\r\n\r\n", d->auth, MAX_BODY + 1);
	REQUIRE(open_and_send(d, &c, head, NULL, 0) == 0);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_REFUSAL(d, &r, 413, "body_too_large", "Content-Length",
	    BODY_LIMIT);
	http_response_free(&r);
	/* More than the socket buffers hold: taken only if it is read. */
	CHECK_INT(http_send_raw(&c, body, MAX_BODY + 1), 0);
	http_shutdown_write(&c);
	CHECK(http_wait_closed(&c));
	http_close(&c);
	free(body);
}

static void
test_linger(void)
{
	daemon_test(body_linger);
}

/*
 * A client may end its sending side once its requests are out: each still
 * gets its answer, an append (answered once the writer has committed it)
 * included, and then the connection's end.
 */
static void
body_half_close(struct daemon *d)
{
	static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_conn c;
	struct http_response r[3];
	long long before = tree_size(d);
	char *event, *raw;
	size_t len, n, i;
	int k;

	REQUIRE(before >= 0);
	for (k = 0; k < 5; k++) {
		event = sample_event(100 + k);
		raw = xasprintf("%sPOST /v1/events HTTP/1.1\r\nHost: x\r\n"
		    "Authorization: %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", k % 2 ? healthz : "",
		    d->auth, strlen(event), event);
		REQUIRE(open_and_send(d, &c, raw, NULL, 0) == 0);
		free(raw);
		free(event);
		http_shutdown_write(&c);
		raw = read_until_closed(&c, &len);
		http_close(&c);
		REQUIRE(raw != NULL);
		n = parse_raw(raw, len, r, 3);
		free(raw);
		CHECK_INT(n, (size_t)(k % 2 ? 2 : 1));
		if (n > 0)
			CHECK_INT(r[n - 1].status, 201);
		for (i = 0; i < n; i++)
			http_response_free(&r[i]);
	}
	CHECK_INT(tree_size(d), before + 5);
}

static void
test_half_close(void)
{
	daemon_test(body_half_close);
}

/* Framing the guard refuses in JSON, each on a new connection. */
static const struct framing_case {
	const char *what;
	const char *raw;	/* %s: the Authorization value */
	int nul;		/* the first '_' becomes a NUL */
	int status;
	const char *code;
	const char *field;
	const char *says;	/* in the message */
} framing_cases[] = {
	{ "obsolete line folding", "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\r\n b\r\n\r\n", 0, 400, "invalid_value", NULL, "folding" },
	{ "white space before a colon", "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Length : 2\r\n\r\n{}", 0, 400,
	    "invalid_value", NULL, "token" },
	{ "a bare CR", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
	    0, 400, "invalid_value", NULL, "CR" },
	{ "a NUL", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a_b\r\n\r\n", 1,
	    400, "invalid_value", NULL, "NUL" },
	{ "a header line without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "no colon\r\n\r\n", 0, 400, "invalid_value", NULL, "colon" },
	{ "a chunk size that is not hexadecimal", "POST /v1/events HTTP/1.1\r\n"
	    "Host: x\r\nAuthorization: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n{}\r\n0\r\n\r\n", 0, 400, "invalid_value",
	    "Transfer-Encoding", "chunk size" },
	{ "chunk data without its CRLF", "POST /v1/events HTTP/1.1\r\n"
	    "Host: x\r\nAuthorization: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\n{}xx\r\n0\r\n\r\n", 0, 400, "invalid_value",
	    "Transfer-Encoding", "CRLF" },
	{ "an Expect other than 100-continue", "POST /v1/events HTTP/1.1\r\n"
	    "Host: x\r\nAuthorization: %s\r\nExpect: something\r\n"
	    "Content-Length: 2\r\n\r\n{}", 0, 417, "expectation_failed",
	    "Expect", "100-continue" },
	{ "Content-Length twice", "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n"
	    "{}", 0, 400, "invalid_value", "Content-Length", "more than once" },
	{ "Transfer-Encoding and Content-Length", "POST /v1/events HTTP/1.1\r\n"
	    "Host: x\r\nAuthorization: %s\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 7\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 0, 400, "invalid_value",
	    "Transfer-Encoding", "together" },
};

static void
body_framing(struct daemon *d)
{
	struct http_conn c;
	struct http_response r;
	long long before = tree_size(d);
	char *raw;
	size_t i, len;

	REQUIRE(before >= 0);
	for (i = 0; i < sizeof(framing_cases) / sizeof(framing_cases[0]); i++) {
		const struct framing_case *fc = &framing_cases[i];

		printf("  %s\n", fc->what);
		raw = xasprintf(fc->raw, d->auth);
		len = strlen(raw);
		if (fc->nul)
			*strchr(raw, '_') = '\0';
		REQUIRE(http_connect(&c, d->port, IO_TIMEOUT_MS) == 0);
		CHECK(http_send_raw(&c, raw, len) == 0);
		free(raw);
		if (http_read_response(&c, &r, 0) != 0) {
			fprintf(stderr, "  %s: no answer\n", fc->what);
			test_failures_++;
		} else {
			CHECK_REFUSAL(d, &r, fc->status, fc->code, fc->field,
			    fc->says);
			http_response_free(&r);
		}
		CHECK(http_wait_closed(&c));
		http_close(&c);
	}
	/*
	 * A chunk refused in the body of a request in an unspoken version:
	 * the version is refused first, in HTTP/1.1 (spec §7.2).
	 */
	REQUIRE(http_connect(&c, d->port, IO_TIMEOUT_MS) == 0);
	raw = xasprintf("POST /v1/events HTTP/0.1\r\nHost: x\r\nAuthorization: %s"
	    "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", d->auth);
	CHECK(http_send_raw(&c, raw, strlen(raw)) == 0);
	free(raw);
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_STR(r.version, "HTTP/1.1");
	CHECK_ERROR(&r, 505, "http_version_not_supported", NULL);
	CHECK(r.closed);
	http_response_free(&r);
	http_close(&c);
	/*
	 * Request lines evhttp would refuse in HTML of its own, or close on
	 * without a word: JSON, closing, nothing written.
	 */
	{
		static const struct {
			const char *line;
			int status;
			const char *code;
		} lines[] = {
			{ "BREW /healthz HTTP/1.1", 501, "not_implemented" },
			{ "get /healthz HTTP/1.1", 501, "not_implemented" },
			{ "GET /healthz", 400, "invalid_value" },
			{ "GET", 400, "invalid_value" },
			{ "GET /healthz HTTP/1.1 x", 400, "invalid_value" },
			{ "GET /healthz HTTP/1.x", 400, "invalid_value" },
			{ "GET /healthz HTTP/2.0", 505, "http_version_not_supported" },
			{ "POST /v1/events HTTP/3.0", 505, "http_version_not_supported" },
		};

		for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			printf("  request line \"%s\"\n", lines[i].line);
			REQUIRE(http_connect(&c, d->port, IO_TIMEOUT_MS) == 0);
			raw = xasprintf("%s\r\nHost: x\r\nAuthorization: %s"
			    "\r\n\r\n", lines[i].line, d->auth);
			CHECK(http_send_raw(&c, raw, strlen(raw)) == 0);
			free(raw);
			if (http_read_response(&c, &r, 0) != 0) {
				fprintf(stderr, "  no answer\n");
				test_failures_++;
			} else {
				CHECK_ERROR(&r, lines[i].status, lines[i].code,
				    NULL);
				CHECK(r.closed);
				http_response_free(&r);
			}
			http_close(&c);
		}
	}
	/* An Expect nobody acts on: a request without a body. */
	REQUIRE(http_connect(&c, d->port, IO_TIMEOUT_MS) == 0);
	raw = xstrdup("\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Expect: something\r\n\r\n");
	CHECK(http_send_raw(&c, raw, strlen(raw)) == 0);
	free(raw);
	/* (and empty lines before a request line are ignored, RFC 9112 §2.2) */
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	http_close(&c);
	CHECK_INT(tree_size(d), before);
}

static void
test_framing(void)
{
	daemon_test(body_framing);
}

/* ledgerd_http_responses_total{class="4xx"} from /metrics, or -1. */
static long long
responses_4xx(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	const char *line;
	long long n = -1;

	http_client_init(&hc, d->port, d->token);
	if (http_get(&hc, "/metrics", &r) == 0) {
		if (r.status == 200 && (line = strstr(r.body,
		    "\nledgerd_http_responses_total{class=\"4xx\"} ")) != NULL)
			n = strtoll(strchr(line, '}') + 2, NULL, 10);
		http_response_free(&r);
	}
	http_client_close(&hc);
	return n;
}

/*
 * Through the tests' client (so that tests/openapi_check.py holds the
 * exchanges against schema/openapi.yaml): a 413, a 431 and a 417, each
 * counted among the 4xx answers of /metrics.
 */
static void
body_recorded(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	char *body = fill(MAX_BODY + 1, ' '), *extra;
	long long before = responses_4xx(d);

	REQUIRE(before >= 0);
	http_client_init(&hc, d->port, d->token);
	REQUIRE(http_request(&hc, "POST", "/v1/events", d->auth,
	    "application/json", NULL, body, MAX_BODY + 1, &r) == 0);
	CHECK_REFUSAL(d, &r, 413, "body_too_large", "Content-Length",
	    BODY_LIMIT);
	http_response_free(&r);
	extra = xasprintf("X-Fill: %s\r\n", body + MAX_BODY + 1 - MAX_HEADERS);
	REQUIRE(http_request(&hc, "GET", "/healthz", NULL, NULL, extra, NULL, 0,
	    &r) == 0);
	CHECK_REFUSAL(d, &r, 431, "headers_too_large", NULL, HEADERS_LIMIT);
	http_response_free(&r);
	REQUIRE(http_request(&hc, "POST", "/v1/events", d->auth,
	    "application/json", "Expect: something\r\n", "{}", 2, &r) == 0);
	CHECK_REFUSAL(d, &r, 417, "expectation_failed", "Expect",
	    "100-continue");
	http_response_free(&r);
	http_client_close(&hc);
	CHECK_INT(responses_4xx(d), before + 3);
	free(extra);
	free(body);
}

static void
test_recorded(void)
{
	daemon_test(body_recorded);
}

/* A client TLS connection with a timeout on every read and write. */
struct tls_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static void
tls_close(struct tls_conn *t)
{
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	if (t->ctx != NULL)
		SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	t->ssl = NULL;
	t->ctx = NULL;
	t->fd = -1;
}

static int
tls_connect(struct tls_conn *t, unsigned port, const char *ca)
{
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	struct sockaddr_in sa;

	memset(t, 0, sizeof(*t));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	/* The server closes after a refusal without a close_notify. */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
	    "127.0.0.1") != 1 || SSL_set_fd(t->ssl, t->fd) != 1 ||
	    SSL_connect(t->ssl) != 1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "  cannot open TLS to port %u\n", port);
	tls_close(t);
	return -1;
}

static int
tls_send(struct tls_conn *t, const void *buf, size_t len)
{
	const char *p = buf;
	int n;

	while (len > 0) {
		if ((n = SSL_write(t->ssl, p, len > INT_MAX ? INT_MAX :
		    (int)len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the server closes; the bytes, NUL-terminated (free()). */
static char *
tls_read_all(struct tls_conn *t, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = xmalloc(cap + 1);
	int got;

	for (;;) {
		if (cap - n < 16384)
			buf = xrealloc(buf, (cap *= 2) + 1);
		if ((got = SSL_read(t->ssl, buf + n, (int)(cap - n))) <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * One TLS connection: sends head, then body_len bytes of body (body may be
 * NULL), reads until the server closes and parses the answers.
 * Returns how many (free each), or -1 when TLS could not be opened.
 */
static int
tls_exchange(const struct daemon *d, const char *ca, const char *head,
    const char *body, size_t body_len, struct http_response *out, size_t max,
    char **raw_out, size_t *raw_len)
{
	struct tls_conn t;
	char *raw;
	size_t len;
	int n;

	if (tls_connect(&t, d->port, ca) != 0)
		return -1;
	if (tls_send(&t, head, strlen(head)) != 0 ||
	    (body != NULL && tls_send(&t, body, body_len) != 0))
		fprintf(stderr, "  TLS: the server stopped reading\n");
	raw = tls_read_all(&t, &len);
	tls_close(&t);
	n = (int)parse_raw(raw, len, out, max);
	if (raw_out != NULL) {
		*raw_out = raw;
		*raw_len = len;
	} else
		free(raw);
	return n;
}

/* The tree size over TLS, or -1. */
static long long
tls_tree_size(const struct daemon *d, const char *ca)
{
	struct http_response r;
	json_t *body;
	long long n = -1;

	if (tls_exchange(d, ca, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", NULL, 0, &r, 1, NULL, NULL) != 1)
		return -1;
	if (r.status == 200 && (body = http_response_json(&r)) != NULL) {
		n = json_integer_value(json_object_get(body, "tree_size"));
		json_decref(body);
	}
	http_response_free(&r);
	return n;
}

#define TLS_TOKEN "guard-test-writer-token"

/*
 * The same over TLS, where the guard sits above the TLS bufferevent, with
 * limits from the configuration file.
 */
static void
test_tls(void)
{
	const char *tmp = getenv("TMPDIR");
	char pki[512], ca[600], cmd[700], hex[LEDGER_HASH_LEN * 2 + 1];
	char *config, *head, *body, *raw;
	uint8_t h[LEDGER_HASH_LEN];
	struct http_response r[3];
	struct daemon d;
	long long before;
	size_t i, len;
	int n;

	snprintf(pki, sizeof(pki), "%s/ledgerd-guard-pki.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	REQUIRE(mkdtemp(pki) != NULL);
	snprintf(cmd, sizeof(cmd), "sh tests/access_pki.sh '%s'", pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "  tests/access_pki.sh failed\n");
		test_failures_++;
		goto out;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
	REQUIRE(ledger_sha256(TLS_TOKEN, strlen(TLS_TOKEN), h) == 0);
	for (i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	config = xasprintf("{\"listen\": \"127.0.0.1:0\", \"origin\": "
	    "\"ledger.example.org/guard-test\", \"tls\": {\"cert\": "
	    "\"%s/server.pem\", \"key\": \"%s/server.key\"}, \"limits\": "
	    "{\"max_body\": %u, \"max_headers\": %u}, \"principals\": [{\"id\": "
	    "\"writer-police\", \"org\": \"police\", \"roles\": [\"writer\", "
	    "\"reader\"], \"token_sha256\": \"%s\"}]}", pki, pki, TLS_MAX_BODY,
	    TLS_MAX_HEADERS, hex);
	n = daemon_start_config(&d, config);
	free(config);
	if (n != 0) {
		test_failures_++;
		goto out;
	}
	before = tls_tree_size(&d, ca);
	CHECK(before >= 0);
	body = fill(TLS_MAX_BODY + 1, 'x');

	printf("  TLS: max_body read, then Expect: 100-continue one byte over\n");
	head = xasprintf("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %u"
	    "\r\n\r\n", TLS_MAX_BODY);
	raw = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: "
	    "Bearer " TLS_TOKEN "\r\nContent-Type: application/json\r\n"
	    "Expect: 100-continue\r\nContent-Length: %u\r\n\r\n",
	    TLS_MAX_BODY + 1);
	/* The second head right after the first body, in one write. */
	free(body);
	body = xmalloc(TLS_MAX_BODY + strlen(raw) + 1);
	memset(body, 'x', TLS_MAX_BODY);
	strcpy(body + TLS_MAX_BODY, raw);
	free(raw);
	n = tls_exchange(&d, ca, head, body, strlen(body), r, 3, &raw, &len);
	free(head);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(r[0].status, 200);
		CHECK_REFUSAL(&d, &r[1], 413, "body_too_large", "Content-Length",
		    TLS_BODY_LIMIT);
		CHECK(memmem(raw, len, " 100 ", 5) == NULL);
	}
	free(raw);
	for (i = 0; i < (size_t)(n > 0 ? n : 0); i++)
		http_response_free(&r[i]);
	free(body);

	printf("  TLS: an append over max_body, its body sent anyway\n");
	body = fill(TLS_MAX_BODY + 1, 'x');
	head = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: "
	    "Bearer " TLS_TOKEN "\r\nContent-Type: application/json\r\n"
	    "Content-Length: %u\r\n\r\n", TLS_MAX_BODY + 1);
	n = tls_exchange(&d, ca, head, body, TLS_MAX_BODY + 1, r, 3, NULL, NULL);
	free(head);
	free(body);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_REFUSAL(&d, &r[0], 413, "body_too_large", "Content-Length",
		    TLS_BODY_LIMIT);
	for (i = 0; i < (size_t)(n > 0 ? n : 0); i++)
		http_response_free(&r[i]);

	printf("  TLS: a GET, then chunks past max_body\n");
	head = xasprintf("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
	    TLS_TOKEN "\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n%x\r\n", TLS_MAX_BODY);
	body = fill(TLS_MAX_BODY + 8, 'x');
	memcpy(body + TLS_MAX_BODY, "\r\n1\r\n", 5);
	n = tls_exchange(&d, ca, head, body, TLS_MAX_BODY + 5, r, 3, NULL, NULL);
	free(head);
	free(body);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(r[0].status, 200);
		CHECK_REFUSAL(&d, &r[1], 413, "body_too_large", NULL,
		    TLS_BODY_LIMIT);
	}
	for (i = 0; i < (size_t)(n > 0 ? n : 0); i++)
		http_response_free(&r[i]);

	printf("  TLS: a head of max_headers, then one over\n");
	head = head_of_size(TLS_MAX_HEADERS);
	raw = head_of_size(TLS_MAX_HEADERS + 1);
	n = tls_exchange(&d, ca, head, raw, strlen(raw), r, 3, NULL, NULL);
	free(head);
	free(raw);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(r[0].status, 200);
		CHECK_REFUSAL(&d, &r[1], 431, "headers_too_large", NULL,
		    TLS_HEADERS_LIMIT);
	}
	for (i = 0; i < (size_t)(n > 0 ? n : 0); i++)
		http_response_free(&r[i]);

	CHECK_INT(tls_tree_size(&d, ca), before);
	daemon_cleanup(&d);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
	if (system(cmd) != 0)
		fprintf(stderr, "  cannot remove %s\n", pki);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_content_length);
	RUN(test_chunked);
	RUN(test_headers);
	RUN(test_pipelined);
	RUN(test_linger);
	RUN(test_half_close);
	RUN(test_framing);
	RUN(test_recorded);
	RUN(test_tls);
	return TEST_SUMMARY();
}
