/*
 * Every error is the JSON of spec §7.2: each class of refusal (framing,
 * version, authentication, 404, 405, a route's own, the size limits)
 * answers application/json with error.code and error.message strings,
 * error.field a string or absent, and error.request_id equal to the
 * X-Request-Id header and to the id of the request's line in the daemon's
 * log.  (tests/test_http_guard.c goes through the size limits in detail.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* Checks r is the JSON error of spec §7.2 with code, logged under its id. */
static void
check_error(const struct daemon *d, const char *what,
    const struct http_response *r, int status, const char *code)
{
	const char *ctype = http_header_get(r, "Content-Type");
	const char *header_id = http_header_get(r, "X-Request-Id");
	json_t *body = http_response_json(r), *error, *field, *id;

	printf("  %s\n", what);
	CHECK_INT(r->status, status);
	CHECK(ctype != NULL && strcmp(ctype, "application/json") == 0);
	REQUIRE(body != NULL);
	error = json_object_get(body, "error");
	REQUIRE(json_is_object(error));
	CHECK_STR(json_string_value(json_object_get(error, "code")), code);
	CHECK(json_is_string(json_object_get(error, "message")));
	/* A string when there is one, else absent: never null. */
	field = json_object_get(error, "field");
	CHECK(field == NULL || json_is_string(field));
	id = json_object_get(error, "request_id");
	REQUIRE(json_is_string(id));
	REQUIRE(header_id != NULL);
	CHECK_STR(json_string_value(id), header_id);
	CHECK(daemon_logged_request(d, json_string_value(id), status));
	json_decref(body);
}

/* Sends raw on a new connection and reads one answer. */
static int
send_raw(const struct daemon *d, const char *raw, struct http_response *r)
{
	struct http_conn c;
	int rc;

	if ((rc = http_connect(&c, d->port, 5000)) != 0)
		return rc;
	if ((rc = http_send_raw(&c, raw, strlen(raw))) == 0)
		rc = http_read_response(&c, r, 0);
	http_close(&c);
	return rc;
}

static const struct raw_case {
	const char *what;
	const char *raw;
	int status;
	const char *code;
} raw_cases[] = {
	{ "framing: Content-Length twice",
	    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\n{}", 400, "invalid_value" },
	{ "version: HTTP/1.2", "GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n",
	    505, "http_version_not_supported" },
	{ "no route", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404,
	    "not_found" },
	{ "method", "DELETE /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n", 405,
	    "method_not_allowed" },
	{ "no credentials", "GET /v1/events/0 HTTP/1.1\r\nHost: x\r\n\r\n",
	    401, "unauthorized" },
	{ "a query parameter with a NUL",
	    "GET /checkpoint?a=%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400,
	    "invalid_value" },
	/* The error names the parameter: a name not UTF-8 ended the daemon. */
	{ "a query parameter with a NUL, its name not UTF-8",
	    "GET /checkpoint?a\xc9" "b=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
	    400, "invalid_value" },
};

static void
errors_body(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	size_t i;

	for (i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		REQUIRE(send_raw(d, raw_cases[i].raw, &r) == 0);
		check_error(d, raw_cases[i].what, &r, raw_cases[i].status,
		    raw_cases[i].code);
		http_response_free(&r);
	}
	http_client_init(&hc, d->port, d->token);
	/* A route's own refusals, with and without a field. */
	REQUIRE(http_get(&hc, "/v1/events/x", &r) == 0);
	check_error(d, "route: malformed seq", &r, 400, "invalid_value");
	http_response_free(&r);
	REQUIRE(http_post_json(&hc, "/v1/events", "{", &r) == 0);
	check_error(d, "route: malformed JSON", &r, 400, "invalid_json");
	http_response_free(&r);
	REQUIRE(http_get(&hc, "/v1/events/999999", &r) == 0);
	check_error(d, "route: no such event", &r, 404, "not_found");
	http_response_free(&r);
	/* A success carries the header too. */
	REQUIRE(http_get_public(&hc, "/healthz", &r) == 0);
	CHECK_INT(r.status, 200);
	CHECK(http_header_get(&r, "X-Request-Id") != NULL);
	http_response_free(&r);
	http_client_close(&hc);
}

#define MAX_BODY (8u << 20)	/* limits.max_body, default */
#define MAX_HEADERS 16384	/* limits.max_headers, default */

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
		if ((body = http_response_json(&r)) != NULL)
			n = json_integer_value(json_object_get(body, "tree_size"));
		json_decref(body);
		http_response_free(&r);
	}
	http_client_close(&hc);
	return n;
}

/*
 * Sends head, then (unless expect) body_len bytes of fill, reads one answer
 * and checks it is the JSON error status/code naming limit, and the
 * connection's end.  expect: head asks for 100-continue, and the answer
 * must come without the body.
 */
static void
check_refused(const struct daemon *d, const char *what, const char *head,
    size_t body_len, int expect, int status, const char *code,
    const char *limit)
{
	struct http_conn c;
	struct http_response r;
	json_t *body;
	const char *message;
	char *fill = NULL;

	REQUIRE(http_connect(&c, d->port, 5000) == 0);
	REQUIRE(http_send_raw(&c, head, strlen(head)) == 0);
	if (body_len > 0 && !expect) {
		fill = xmalloc(body_len);
		memset(fill, '{', body_len);
		/* The refusal came on the head: the rest is read and dropped. */
		CHECK(http_send_raw(&c, fill, body_len) == 0);
		free(fill);
	}
	REQUIRE(http_read_response(&c, &r, 0) == 0);
	check_error(d, what, &r, status, code);
	CHECK(r.closed);
	body = http_response_json(&r);
	message = json_string_value(json_object_get(json_object_get(body,
	    "error"), "message"));
	CHECK(message != NULL && strstr(message, limit) != NULL);
	json_decref(body);
	http_response_free(&r);
	http_close(&c);
}

static void
limits_body(struct daemon *d)
{
	long long before = tree_size(d);
	char head[600], *big, limit[64];
	size_t n;

	REQUIRE(before >= 0);
	snprintf(limit, sizeof(limit), "max_body limit of %u bytes", MAX_BODY);
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %u\r\n\r\n", d->auth, MAX_BODY + 1);
	check_refused(d, "a body one byte over max_body", head, MAX_BODY + 1,
	    0, 413, "body_too_large", limit);
	/* Refused on the head alone: the client need not send the body. */
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Expect: 100-continue\r\nContent-Length: %u\r\n\r\n", d->auth,
	    MAX_BODY + 1);
	check_refused(d, "Expect: 100-continue over max_body", head,
	    MAX_BODY + 1, 1, 413, "body_too_large", limit);
	/* A chunk that would take the body over the limit, refused on its size. */
	snprintf(head, sizeof(head), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n%x\r\n", d->auth,
	    MAX_BODY + 1);
	check_refused(d, "a chunked body over max_body", head, MAX_BODY + 1,
	    1, 413, "body_too_large", limit);
	/* One header line past max_headers. */
	n = MAX_HEADERS + 64;
	big = xmalloc(n + 64);
	snprintf(big, n + 64, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fill: %*s"
	    "\r\n\r\n", (int)n, "");
	memset(strstr(big, "X-Fill: ") + 8, 'a', n);
	snprintf(limit, sizeof(limit), "max_headers limit of %u bytes",
	    MAX_HEADERS);
	check_refused(d, "headers over max_headers", big, 0, 0, 431,
	    "headers_too_large", limit);
	free(big);
	CHECK_INT(tree_size(d), before);
}

static void
test_limits(void)
{
	daemon_test(limits_body);
}

static void
test_every_error_is_json(void)
{
	daemon_test(errors_body);
}

int
main(void)
{
	RUN(test_every_error_is_json);
	RUN(test_limits);
	return TEST_SUMMARY();
}
