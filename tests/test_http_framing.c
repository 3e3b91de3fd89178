/*
 * HTTP framing against the real daemon: a request whose length can be read
 * two ways (repeated or conflicting Content-Length, Transfer-Encoding with
 * Content-Length, a body on HEAD) is refused and its connection closed, so
 * bytes smuggled after it are never answered; versions other than
 * HTTP/1.0 and 1.1 are refused in HTTP/1.1; a %00 in a query is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* A request that must never be answered when it follows a refused one. */
#define SMUGGLED "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

/*
 * Sends raw on a new connection and reads one answer into r; then checks
 * that nothing else comes and the server closes the connection.
 * half_close: shut down the sending side after raw (a request that evhttp
 * would otherwise wait on forever ends).
 * Returns 0 when an answer was read (free r), or the HTTP_E* code.
 */
static int
send_alone(struct daemon *d, const char *raw, size_t len, int half_close,
    struct http_response *r, int *more)
{
	struct http_conn c;
	struct http_response next;
	int rc;

	*more = 0;
	if ((rc = http_connect(&c, d->port, 5000)) != 0)
		return rc;
	if ((rc = http_send_raw(&c, raw, len)) == 0 && half_close)
		http_shutdown_write(&c);	/* nothing more will come */
	if (rc == 0 &&
	    (rc = http_read_response(&c, r, strncmp(raw, "HEAD ", 5) == 0)) == 0) {
		/* Whatever else arrives is an answer to smuggled bytes. */
		if (http_read_response(&c, &next, 0) != HTTP_ECLOSED) {
			*more = 1;
			if (next.body != NULL)
				http_response_free(&next);
		}
	}
	http_close(&c);
	return rc;
}

#define F_CHUNKED 1	/* the body goes chunked (evhttp decodes it) */
#define F_FILL 2	/* pad to the first Content-Length, which is larger */

struct framing_case {
	const char *name;
	const char *method;
	const char *headers;	/* printf format: %1$zu is the body's length */
	int flags;
	const char *field;	/* of the JSON 400 */
};

static const struct framing_case framing_cases[] = {
	{ "Content-Length twice, equal", "POST",
	    "Content-Length: %1$zu\r\nContent-Length: %1$zu\r\n", 0,
	    "Content-Length" },
	{ "Content-Length twice, the first smaller", "POST",
	    "Content-Length: %1$zu\r\nContent-Length: 9%1$zu\r\n", 0,
	    "Content-Length" },
	{ "Content-Length twice, the first larger", "POST",
	    "Content-Length: 9%1$zu\r\nContent-Length: %1$zu\r\n", F_FILL,
	    "Content-Length" },
	{ "Content-Length in two spellings", "POST",
	    "Content-Length: %1$zu\r\ncontent-length: 2\r\n", 0,
	    "Content-Length" },
	{ "Content-Length three times", "POST",
	    "Content-Length: %1$zu\r\nContent-Length: %1$zu\r\n"
	    "CONTENT-LENGTH: %1$zu\r\n", 0, "Content-Length" },
	{ "Content-Length with a sign", "POST",
	    "Content-Length: +%1$zu\r\n", 0, "Content-Length" },
	{ "Content-Length as a list", "POST",
	    "Content-Length: %1$zu, %1$zu\r\n", 0, "Content-Length" },
	{ "Content-Length then Transfer-Encoding", "POST",
	    "Content-Length: %1$zu\r\nTransfer-Encoding: chunked\r\n",
	    F_CHUNKED, "Transfer-Encoding" },
	{ "Transfer-Encoding then Content-Length", "POST",
	    "Transfer-Encoding: chunked\r\nContent-Length: %1$zu\r\n",
	    F_CHUNKED, "Transfer-Encoding" },
	{ "Transfer-Encoding then Content-Length 0", "POST",
	    "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
	    F_CHUNKED, "Transfer-Encoding" },
	{ "Transfer-Encoding twice", "POST",
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	    F_CHUNKED, "Transfer-Encoding" },
	{ "Transfer-Encoding gzip", "POST", "Transfer-Encoding: gzip\r\n", 0,
	    "Transfer-Encoding" },
	{ "Transfer-Encoding identity", "POST",
	    "Transfer-Encoding: identity\r\n", 0, "Transfer-Encoding" },
	{ "Transfer-Encoding gzip, chunked", "POST",
	    "Transfer-Encoding: gzip, chunked\r\n", 0, "Transfer-Encoding" },
	{ "Transfer-Encoding chunked, gzip", "POST",
	    "Transfer-Encoding: chunked, gzip\r\n", 0, "Transfer-Encoding" },
	{ "GET with two Content-Length", "GET",
	    "Content-Length: %1$zu\r\nContent-Length: 0\r\n", 0,
	    "Content-Length" },
	{ "HEAD with a body", "HEAD", "Content-Length: %1$zu\r\n", 0,
	    "Content-Length" },
	{ "TRACE with a body", "TRACE", "Content-Length: %1$zu\r\n", 0,
	    "Content-Length" },
	{ "HEAD with Transfer-Encoding", "HEAD",
	    "Transfer-Encoding: chunked\r\n", F_CHUNKED, "Content-Length" },
};

/*
 * Each badly framed request, carrying a valid event and followed by a
 * request that a misreading server would answer: one JSON 400 naming the
 * header, decided on the head before evhttp reads it (ledgerd/framing.c),
 * the connection closed, nothing appended.
 */
static void
body_framing(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	char *event = sample_event(1), *headers, *raw, *body, *cl;
	size_t i, len = strlen(event), n, want;
	int more, rc;

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < sizeof(framing_cases) / sizeof(framing_cases[0]); i++) {
		const struct framing_case *fc = &framing_cases[i];
		const char *target = strcmp(fc->method, "POST") == 0 ?
		    "/v1/events" : "/healthz";

		headers = xasprintf(fc->headers, len);
		body = fc->flags & F_CHUNKED ?
		    xasprintf("%zx\r\n%s\r\n0\r\n\r\n", len, event) :
		    xstrdup(event);
		raw = xasprintf("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
		    "Content-Type: application/json\r\n%s\r\n%s" SMUGGLED,
		    fc->method, target, d->auth, headers, body);
		n = strlen(raw);
		if (fc->flags & F_FILL) {
			/* The smuggled request ends inside the longer body. */
			cl = strstr(raw, "Content-Length: ") + 16;
			want = strtoul(cl, NULL, 10) + (strstr(raw, "\r\n\r\n") +
			    4 - raw);
			raw = xrealloc(raw, want + 1);
			memset(raw + n, ' ', want - n);
			raw[n = want] = '\0';
		}
		rc = send_alone(d, raw, n, 0, &r, &more);
		if (rc != 0) {
			fprintf(stderr, "  %s: no answer (%d)\n", fc->name, rc);
			test_failures_++;
		} else {
			if (r.status != 400 || more || !r.closed)
				fprintf(stderr, "  case: %s\n", fc->name);
			if (strcmp(fc->method, "HEAD") == 0)
				CHECK_INT(r.status, 400);
			else
				CHECK_ERROR(&r, 400, "invalid_value", fc->field);
			CHECK_STR(r.version, "HTTP/1.1");
			CHECK(r.closed);
			CHECK(!more);	/* the smuggled request got no answer */
			http_response_free(&r);
		}
		free(headers);
		free(body);
		free(raw);
	}
	CHECK_INT(tree_size_now(&hc, &d->verifier), 0);

	/* Chunked alone is well framed: the event is appended. */
	raw = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
	    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n"
	    "%zx\r\n%s\r\n0\r\n\r\n", d->auth, len, event);
	rc = send_alone(d, raw, strlen(raw), 0, &r, &more);
	CHECK_INT(rc, 0);
	if (rc == 0) {
		CHECK_INT(r.status, 201);
		http_response_free(&r);
	}
	free(raw);
	/* One Content-Length is well framed, and the next request is read. */
	free(event);
	event = sample_event(2);
	len = strlen(event);
	raw = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s"
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    d->auth, len, event);
	rc = send_alone(d, raw, strlen(raw), 0, &r, &more);
	CHECK_INT(rc, 0);
	if (rc == 0) {
		CHECK_INT(r.status, 201);
		CHECK(more);			/* the healthz answer */
		http_response_free(&r);
	}
	free(raw);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 2);
	free(event);
	http_client_close(&hc);
}

static void
test_framing(void)
{
	daemon_test(body_framing);
}

/*
 * HTTP/1.0 and 1.1 are answered in their version; every other version gets
 * the JSON 505 in HTTP/1.1, the connection closed and nothing done.
 */
static void
body_versions(struct daemon *d)
{
	static const struct {
		const char *version;
		int status;
		const char *code;
	} cases[] = {
		{ "0.9", 505, "http_version_not_supported" },
		{ "1.2", 505, "http_version_not_supported" },
		{ "1.9", 505, "http_version_not_supported" },
		{ "1.226", 505, "http_version_not_supported" },
		{ "0.0", 505, "http_version_not_supported" },
		{ "2.0", 505, "http_version_not_supported" },
		{ "9.9", 505, "http_version_not_supported" },
		{ "3.1", 505, "http_version_not_supported" },
	};
	struct http_client hc;
	struct http_response r;
	char *event = sample_event(7), *raw;
	size_t i, m;
	int more, rc;

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (m = 0; m < 2; m++) {
			if (m == 0)
				raw = xasprintf("GET /healthz HTTP/%s\r\nHost: x\r\n\r\n"
				    SMUGGLED, cases[i].version);
			else
				raw = xasprintf("POST /v1/events HTTP/%s\r\nHost: x\r\n"
				    "Authorization: %s\r\nContent-Type: "
				    "application/json\r\nContent-Length: %zu\r\n\r\n%s"
				    SMUGGLED, cases[i].version, d->auth,
				    strlen(event), event);
			rc = send_alone(d, raw, strlen(raw), 0, &r, &more);
			free(raw);
			if (rc != 0) {
				fprintf(stderr, "  HTTP/%s: no answer (%d)\n",
				    cases[i].version, rc);
				test_failures_++;
				continue;
			}
			if (r.status != cases[i].status)
				fprintf(stderr, "  HTTP/%s\n", cases[i].version);
			CHECK_INT(r.status, cases[i].status);
			CHECK_STR(r.version, "HTTP/1.1");
			if (cases[i].code != NULL)
				CHECK_ERROR(&r, cases[i].status, cases[i].code, NULL);
			CHECK(r.closed);
			CHECK(!more);
			http_response_free(&r);
		}
	}
	CHECK_INT(tree_size_now(&hc, &d->verifier), 0);

	/* The two spoken versions, answered in kind. */
	rc = send_alone(d, "GET /healthz HTTP/1.0\r\n\r\n", 25, 0, &r, &more);
	CHECK_INT(rc, 0);
	if (rc == 0) {
		CHECK_INT(r.status, 200);
		CHECK_STR(r.version, "HTTP/1.0");
		http_response_free(&r);
	}
	REQUIRE(http_get_public(&hc, "/healthz", &r) == 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.version, "HTTP/1.1");
	http_response_free(&r);
	free(event);
	http_client_close(&hc);
}

static void
test_versions(void)
{
	daemon_test(body_versions);
}

/* Every query parameter of every route, and a few that no route takes. */
static const struct {
	const char *method;
	const char *path;
	const char *params[9];
} query_routes[] = {
	{ "GET", "/v1/events", { "type", "org", "user", "recipient", "since",
	    "until", "cursor", "limit", NULL } },
	{ "POST", "/v1/events", { "wait", NULL } },
	{ "POST", "/v1/events/batch", { "wait", NULL } },
	{ "GET", "/v1/events/0", { "x", NULL } },
	{ "GET", "/v1/proof/inclusion", { "index", "tree_size", NULL } },
	{ "GET", "/v1/proof/consistency", { "from", "to", NULL } },
	{ "GET", "/v1/provenance/subjects/p-1", { "since", "until", "type",
	    "org", "cursor", "limit", "purpose", NULL } },
	{ "GET", "/v1/provenance/actors/police/a", { "since", "until", "type",
	    "cursor", "limit", "purpose", NULL } },
	{ "GET", "/v1/provenance/objects/d", { "depth", "purpose", NULL } },
	{ "GET", "/v1/export", { "since", "until", "org", "subject", "format",
	    "purpose", NULL } },
	{ "GET", "/checkpoint", { "x", NULL } },
	{ "GET", "/healthz", { "x", NULL } },
	{ "GET", "/metrics", { "x", NULL } },
	{ "GET", "/tile/0/000.p/1", { "x", NULL } },
};

/*
 * A %00 anywhere in a query value or name is 400 (evhttp would cut the
 * value short at the NUL), naming the parameter (a NUL in a name: the
 * field "query"): in the middle, at the start, at the end, in lower and
 * upper case hex, and beside valid parameters.
 */
static void
body_query_nul(struct daemon *d)
{
	static const char *const values[] = { "share%00x", "%00", "1%00",
	    "x%00%00", "%2500%00" };
	struct http_client hc;
	struct http_response r;
	char *target;
	size_t i, j, v;
	int rc;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 2, 1) == 0);
	for (i = 0; i < sizeof(query_routes) / sizeof(query_routes[0]); i++) {
		for (j = 0; query_routes[i].params[j] != NULL; j++) {
			for (v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				target = xasprintf("%s?%s=%s", query_routes[i].path,
				    query_routes[i].params[j], values[v]);
				rc = http_request(&hc, query_routes[i].method,
				    target, d->auth, "application/json", NULL,
				    "{}", 2, &r);
				CHECK_INT(rc, 0);
				if (rc == 0) {
					if (r.status != 400)
						fprintf(stderr, "  %s %s\n",
						    query_routes[i].method, target);
					CHECK_ERROR(&r, 400, "invalid_value",
					    query_routes[i].params[j]);
					http_response_free(&r);
				}
				free(target);
			}
			/* In the name, and after a valid parameter. */
			target = xasprintf("%s?limit=1&%s%%00=1",
			    query_routes[i].path, query_routes[i].params[j]);
			rc = http_request(&hc, query_routes[i].method, target,
			    d->auth, "application/json", NULL, "{}", 2, &r);
			CHECK_INT(rc, 0);
			if (rc == 0) {
				CHECK_ERROR(&r, 400, "invalid_value", "query");
				http_response_free(&r);
			}
			free(target);
		}
	}
	/* A "%2500" is a percent sign followed by "00", not a NUL. */
	REQUIRE(http_get(&hc, "/v1/events?type=%2500", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	/* Nothing was appended: no audit or export entry either. */
	CHECK_INT(tree_size_now(&hc, &d->verifier), 2);
	http_client_close(&hc);
}

static void
test_query_nul(void)
{
	daemon_test(body_query_nul);
}

int
main(void)
{
	RUN(test_framing);
	RUN(test_versions);
	RUN(test_query_nul);
	return TEST_SUMMARY();
}
