/*
 * GET /console/ against the real daemon: the console's files are served
 * from the binary byte for byte as in console/, with their media types, a
 * strict Content-Security-Policy, an ETag that answers 304, and the usual
 * 404, 405 and 400 of any route.  (The console itself is tested in a real
 * browser by tests/console_browser.py.)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* The source file's bytes (the tests run from the repository's root). */
static char *
source(const char *path, size_t *len)
{
	char full[256], *buf;
	FILE *f;
	long n;

	snprintf(full, sizeof(full), "console/%s", path);
	if ((f = fopen(full, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * If-None-Match as RFC 9110 §13.1.2 reads it: "*" and lists naming the
 * file's tag (weakly) are answered 304; other tags, and fields that are
 * not entity tags at all, get the file.
 */
static void
revalidations(struct http_client *hc, const char *target, const char *tag)
{
	char matching[4][200], other[4][200], extra[1024];
	struct http_response r;
	size_t i, len = strlen(tag);

	snprintf(matching[0], sizeof(matching[0]), "*");
	snprintf(matching[1], sizeof(matching[1]), "\"nope\", W/%s", tag);
	snprintf(matching[2], sizeof(matching[2]), " ,%s ,\"x\"", tag);
	snprintf(matching[3], sizeof(matching[3]), "W/\"a\",\t%s", tag);
	snprintf(other[0], sizeof(other[0]), "\"nope\"");
	/* The tag without its closing quote, and with more inside it. */
	snprintf(other[1], sizeof(other[1]), "%.*s", (int)(len - 1), tag);
	snprintf(other[2], sizeof(other[2]), "%.*sx\"", (int)(len - 1), tag);
	snprintf(other[3], sizeof(other[3]), "nonsense %s", tag);
	for (i = 0; i < 8; i++) {
		snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n",
		    i < 4 ? matching[i] : other[i - 4]);
		REQUIRE(http_request(hc, "GET", target, NULL, NULL, extra, NULL,
		    0, &r) == 0);
		if (i < 4) {
			CHECK_INT(r.status, 304);
			CHECK_INT((int)r.body_len, 0);
		} else {
			CHECK_INT(r.status, 200);
			CHECK(r.body_len > 0);
		}
		if (r.status != (i < 4 ? 304 : 200))
			fprintf(stderr, "  If-None-Match: %s\n",
			    i < 4 ? matching[i] : other[i - 4]);
		http_response_free(&r);
	}
}

static void
files_served(struct daemon *d)
{
	static const struct {
		const char *target, *file, *type;
	} files[] = {
		{ "/console/", "index.html", "text/html; charset=utf-8" },
		{ "/console/index.html", "index.html", "text/html; charset=utf-8" },
		{ "/console/console.css", "console.css", "text/css; charset=utf-8" },
		{ "/console/js/app.js", "js/app.js", "text/javascript; charset=utf-8" },
		{ "/console/js/verify.js", "js/verify.js", "text/javascript; charset=utf-8" },
		{ "/console/js/i18n.js", "js/i18n.js", "text/javascript; charset=utf-8" },
	};
	struct http_client hc;
	struct http_response r;
	char extra[160], tag[128];
	const char *csp, *etag;
	size_t i, len = 0;
	char *want;

	http_client_init(&hc, d->port, "");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		REQUIRE((want = source(files[i].file, &len)) != NULL);
		REQUIRE(http_request(&hc, "GET", files[i].target, NULL, NULL, NULL,
		    NULL, 0, &r) == 0);
		CHECK_INT(r.status, 200);
		CHECK_STR(http_header_get(&r, "Content-Type"), files[i].type);
		CHECK(r.body_len == len && memcmp(r.body, want, len) == 0);
		csp = http_header_get(&r, "Content-Security-Policy");
		CHECK(csp != NULL && strstr(csp, "default-src 'self'") != NULL &&
		    strstr(csp, "frame-ancestors 'none'") != NULL &&
		    strstr(csp, "unsafe-inline") == NULL &&
		    strstr(csp, "unsafe-eval") == NULL);
		CHECK_STR(http_header_get(&r, "X-Content-Type-Options"), "nosniff");
		CHECK_STR(http_header_get(&r, "Cache-Control"), "no-cache");
		etag = http_header_get(&r, "ETag");
		CHECK(etag != NULL && etag[0] == '"');
		snprintf(tag, sizeof(tag), "%s", etag != NULL ? etag : "\"x\"");
		snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", tag);
		http_response_free(&r);
		REQUIRE(http_request(&hc, "GET", files[i].target, NULL, NULL, extra,
		    NULL, 0, &r) == 0);
		CHECK_INT(r.status, 304);
		CHECK_INT((int)r.body_len, 0);
		http_response_free(&r);
		revalidations(&hc, files[i].target, tag);
		free(want);
	}
	http_client_close(&hc);
}

static void
refusals(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;

	http_client_init(&hc, d->port, "");
	REQUIRE(http_request(&hc, "GET", "/console/nothing.js", NULL, NULL, NULL,
	    NULL, 0, &r) == 0);
	CHECK_ERROR(&r, 404, "not_found", NULL);
	http_response_free(&r);
	/* No path walks out of the table: names are looked up, not opened. */
	REQUIRE(http_request(&hc, "GET", "/console/js/../index.html", NULL, NULL,
	    NULL, NULL, 0, &r) == 0);
	CHECK_INT(r.status, 404);
	http_response_free(&r);
	REQUIRE(http_request(&hc, "GET", "/console/test/verify.test.mjs", NULL,
	    NULL, NULL, NULL, 0, &r) == 0);
	CHECK_INT(r.status, 404);
	http_response_free(&r);
	REQUIRE(http_request(&hc, "POST", "/console/", NULL, "application/json",
	    NULL, "{}", 2, &r) == 0);
	CHECK_ERROR(&r, 405, "method_not_allowed", NULL);
	CHECK_STR(http_header_get(&r, "Allow"), "GET, HEAD");
	http_response_free(&r);
	REQUIRE(http_request(&hc, "GET", "/console/?x=1", NULL, NULL, NULL,
	    NULL, 0, &r) == 0);
	CHECK_ERROR(&r, 400, "unknown_parameter", "x");
	http_response_free(&r);
	REQUIRE(http_request(&hc, "HEAD", "/console/", NULL, NULL, NULL,
	    NULL, 0, &r) == 0);
	CHECK_INT(r.status, 200);
	CHECK_INT((int)r.body_len, 0);
	CHECK(http_header_get(&r, "Content-Security-Policy") != NULL);
	http_response_free(&r);
	http_client_close(&hc);
}

static void
test_files_served(void)
{
	daemon_test(files_served);
}

static void
test_refusals(void)
{
	daemon_test(refusals);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_files_served);
	RUN(test_refusals);
	return TEST_SUMMARY();
}
