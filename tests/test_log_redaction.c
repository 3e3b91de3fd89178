/*
 * What requests leave in the daemon's log, at its most talkative level
 * (--debug, one line per request): no subject identifier however the
 * subject route is spelt (spec §3.3), and no raw control byte from the
 * request line, only its \xNN escape.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* The identifier that must never reach the log, in any spelling. */
#define SECRET "Zq7x-subject-4417"
#define SUBJECTS "/v1/provenance/subjects/"

/*
 * Runs body against a daemon started with --debug: LEDGERD_BIN becomes a
 * script that adds the flag, so daemon.c starts, watches and cleans up as
 * for any other test.
 */
static void
debug_daemon_test(void (*body)(struct daemon *d))
{
	const char *real = daemon_bin(), *tmp = getenv("TMPDIR");
	char dir[512], script[600], *saved = xstrdup(real), *text;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/ledgerd-debug.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(script, sizeof(script), "%s/ledgerd", dir);
	text = xasprintf("#!/bin/sh\nexec '%s' \"$@\" --debug\n", saved);
	if ((f = fopen(script, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	free(text);
	CHECK(chmod(script, 0700) == 0);
	setenv("LEDGERD_BIN", script, 1);
	daemon_test(body);
	setenv("LEDGERD_BIN", saved, 1);
	unlink(script);
	rmdir(dir);
	free(saved);
}

/* The daemon's log so far, NUL-terminated (free() it); len its bytes. */
static char *
read_log(const struct daemon *d, size_t *len)
{
	FILE *f = fopen(d->log_path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return xstrdup("");
	for (;;) {
		if (cap - n < 65536)
			buf = xrealloc(buf, cap = cap * 2 + 65536);
		if ((got = fread(buf + n, 1, cap - n - 1, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Number of non-overlapping occurrences of needle in the log. */
static size_t
count(const char *log, const char *needle)
{
	size_t n = 0;

	for (; (log = strstr(log, needle)) != NULL; log += strlen(needle))
		n++;
	return n;
}

/* Sends a request for target with the development token; the status. */
static int
request(struct http_client *hc, const char *method, const char *target)
{
	struct http_response r;
	char auth[300];
	int status;

	snprintf(auth, sizeof(auth), "Bearer %s", hc->token);
	if (http_request(hc, method, target, auth, NULL, NULL, NULL, 0, &r) != 0)
		return -1;
	status = r.status;
	http_response_free(&r);
	return status;
}

/*
 * Every spelling of the subject route's prefix: each of its characters
 * percent-encoded alone (upper- and lower-case hex), all of them at once,
 * and every slash doubled.  Plus the identifier itself percent-encoded.
 */
static void
body_subject_redaction(struct daemon *d)
{
	static const char *const methods[] = { "GET", "HEAD", "POST" };
	const char *prefix = SUBJECTS;
	size_t n = strlen(prefix), i, j, m, len, sent = 0;
	char spelt[256], secret_encoded[128], *target, *log;
	struct http_client hc;
	int status;

	http_client_init(&hc, d->port, d->token);
	for (i = 0, secret_encoded[0] = '\0'; SECRET[i] != '\0'; i++)
		snprintf(secret_encoded + 3 * i, 4, "%%%02X",
		    (unsigned char)SECRET[i]);

	for (i = 0; i <= n; i++) {
		for (j = 0; j < 4; j++) {
			/* i == n: all characters; j: upper/lower, slash doubled */
			size_t k, o = 0;

			if (j >= 2 && (i == n || prefix[i] != '/'))
				continue;
			for (k = 0; k < n; k++) {
				if ((k == i || i == n) && j < 2)
					o += (size_t)snprintf(spelt + o,
					    sizeof(spelt) - o, j ? "%%%02x" :
					    "%%%02X", (unsigned char)prefix[k]);
				else if (k == i && j == 2)
					o += (size_t)snprintf(spelt + o,
					    sizeof(spelt) - o, "//");
				else
					spelt[o++] = prefix[k];
			}
			spelt[o] = '\0';
			if (j == 3)	/* the slash doubled in the decoded path */
				snprintf(spelt, sizeof(spelt), "%.*s%%2F%s",
				    (int)(i + 1), prefix, prefix + i + 1);
			for (m = 0; m < 3; m++) {
				target = xasprintf("%s%s%s", spelt, m == 2 ?
				    secret_encoded : SECRET, m == 1 ?
				    "?purpose=test" : "");
				status = request(&hc, methods[m], target);
				/*
				 * 200 when the route is taken, 404 when the
				 * spelling is another path, 405 for POST.
				 */
				if (status != 200 && status != 404 &&
				    status != 405) {
					fprintf(stderr, "  %s %s: %d\n",
					    methods[m], target, status);
					test_failures_++;
				}
				free(target);
				sent++;
			}
		}
	}
	/* The route spelt plainly is still answered, and logged. */
	REQUIRE(request(&hc, "GET", SUBJECTS SECRET) == 200);
	REQUIRE(request(&hc, "GET", "/healthz") == 200);
	log = read_log(d, &len);
	if (count(log, SECRET) != 0 || count(log, secret_encoded) != 0) {
		fprintf(stderr, "  the subject identifier is in the log\n");
		test_failures_++;
	}
	/* Not vacuous: every request was logged, by its route's prefix. */
	CHECK(count(log, " " SUBJECTS " 200 ") >= n);
	CHECK(count(log, " /healthz 200 ") == 1);
	/* An error answer is logged at info, the rest at debug. */
	CHECK(count(log, "debug: request ") + count(log, "info: request ") >= sent);
	free(log);
	http_client_close(&hc);
}

static void
test_subject_redaction(void)
{
	debug_daemon_test(body_subject_redaction);
}

/*
 * Each control byte, DEL and a few bytes above 0x7f, raw in the request
 * line's path, of a route and of no route: the log holds only printable
 * ASCII lines, and the byte shows as its \xNN escape.
 */
static void
body_control_bytes(struct daemon *d)
{
	static const char *const paths[] = { "/v1/events/1", "/tile/0/",
	    "/nothing" };
	unsigned char bytes[40];
	size_t nbytes = 0, i, p, len, bad = 0;
	struct http_conn c;
	struct http_response r;
	char *raw, *log, escape[8];
	int b;

	for (b = 1; b < 0x20; b++)
		bytes[nbytes++] = (unsigned char)b;
	bytes[nbytes++] = 0x7f;
	bytes[nbytes++] = 0x80;
	bytes[nbytes++] = 0x9b;	/* CSI in 8-bit terminals */
	bytes[nbytes++] = 0xff;
	for (i = 0; i < nbytes; i++) {
		for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			raw = xasprintf("GET %s%cx%c HTTP/1.1\r\nHost: x\r\n"
			    "Authorization: %s\r\nConnection: close\r\n\r\n",
			    paths[p], bytes[i], bytes[i], d->auth);
			if (http_connect(&c, d->port, 5000) == 0) {
				if (http_send_raw(&c, raw, strlen(raw)) == 0 &&
				    http_read_response(&c, &r, 0) == 0)
					http_response_free(&r);
				http_close(&c);
			}
			free(raw);
		}
	}
	/* A last request, so that every earlier line is written. */
	REQUIRE(http_connect(&c, d->port, 5000) == 0);
	REQUIRE(http_send_raw(&c, "GET /healthz HTTP/1.0\r\n\r\n", 25) == 0);
	if (http_read_response(&c, &r, 0) == 0)
		http_response_free(&r);
	http_close(&c);

	log = read_log(d, &len);
	for (i = 0; i < len; i++)
		if (log[i] != '\n' && ((unsigned char)log[i] < 0x20 ||
		    (unsigned char)log[i] > 0x7e))
			bad++;
	if (bad != 0) {
		fprintf(stderr, "  %zu raw control or non-ASCII bytes in the "
		    "log\n", bad);
		test_failures_++;
	}
	/* Not vacuous: bytes evhttp lets through are logged escaped. */
	for (i = 0; i < nbytes; i++) {
		if (bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == ' ' ||
		    bytes[i] == '\t')
			continue;	/* end or split the request line */
		snprintf(escape, sizeof(escape), "\\x%02x", bytes[i]);
		if (count(log, escape) == 0) {
			fprintf(stderr, "  no %s in the log\n", escape);
			test_failures_++;
		}
	}
	free(log);
}

static void
test_control_bytes(void)
{
	debug_daemon_test(body_control_bytes);
}

int
main(void)
{
	RUN(test_subject_redaction);
	RUN(test_control_bytes);
	return TEST_SUMMARY();
}
