/*
 * Listings tell a reader nothing about entries it may not see: with more
 * entries of another org than a page may examine (10,001 and more), and
 * with more of their bytes than a page may parse, a reader's answer (its
 * entries, its next_cursor, whether there is one) is the one it would get
 * if those entries were not there, whatever filter and cursor it sends.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define TOK_READER_POLICE "listing-reader-police"
#define TOK_READER_KMAR "listing-reader-kmar"
#define TOK_WRITER_POLICE "listing-writer-police"
#define TOK_WRITER_KMAR "listing-writer-kmar"
#define TOK_SUPERVISOR "listing-supervisor"

#define LIST_MAX_EXAMINED 10000		/* route_events.c's bound */

/* ledgerd with readers and writers of police and kmar and a supervisor. */
static int
start_daemon(struct daemon *d)
{
	char h[5][65], *config;
	int rc;

	sha256_hex(TOK_READER_POLICE, h[0]);
	sha256_hex(TOK_READER_KMAR, h[1]);
	sha256_hex(TOK_WRITER_POLICE, h[2]);
	sha256_hex(TOK_WRITER_KMAR, h[3]);
	sha256_hex(TOK_SUPERVISOR, h[4]);
	config = xasprintf("{\"listen\": \"127.0.0.1:0\", \"origin\": "
	    "\"ledger.example.org/listing-test\", \"principals\": [\n"
	    "{\"id\": \"reader-police\", \"org\": \"police\", \"roles\": "
	    "[\"reader\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"reader-kmar\", \"org\": \"kmar\", \"roles\": "
	    "[\"reader\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"writer-police\", \"org\": \"police\", \"roles\": "
	    "[\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"writer-kmar\", \"org\": \"kmar\", \"roles\": "
	    "[\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"board\", \"org\": \"board\", \"roles\": "
	    "[\"supervisor\"], \"token_sha256\": \"%s\"}]}\n",
	    h[0], h[1], h[2], h[3], h[4]);
	rc = daemon_start_config(d, config);
	free(config);
	return rc;
}

/*
 * Appends n events of org (police or kmar, the actor) for recipient, in
 * batches, through that org's writer; pad: bytes of details, to make large
 * entries.  Returns 0 or -1 (printed).
 */
static int
post_events_of(struct http_client *hc, const char *org, const char *recipient,
    int first, int n, size_t pad)
{
	struct http_response r;
	char *ev, *buf, *extra = NULL, *fill;
	size_t len, cap, batch = pad > 0 ? 200 : 5000;
	int i, j, rc;

	if (pad > 0) {
		fill = xmalloc(pad + 1);
		memset(fill, 'x', pad);
		fill[pad] = '\0';
		extra = xasprintf("\"details\":{\"note\":\"%s\"}", fill);
		free(fill);
	}
	for (i = 0; i < n; i += (int)batch) {
		cap = 1024;
		buf = xmalloc(cap);
		len = 0;
		for (j = i; j < n && j < i + (int)batch; j++) {
			ev = sample_event_of("share", org, "analyst-1", recipient,
			    extra, first + j);
			if (len + strlen(ev) + 2 > cap) {
				cap = 2 * (len + strlen(ev) + 2);
				buf = xrealloc(buf, cap);
			}
			len += (size_t)sprintf(buf + len, "%s\n", ev);
			free(ev);
		}
		rc = http_request(hc, "POST", "/v1/events/batch",
		    strcmp(org, "police") == 0 ? "Bearer " TOK_WRITER_POLICE :
		    "Bearer " TOK_WRITER_KMAR, "application/x-ndjson", NULL, buf,
		    len, &r);
		free(buf);
		if (rc != 0 || r.status != 201) {
			fprintf(stderr, "  POST /v1/events/batch: %d %d %.300s\n",
			    rc, rc == 0 ? r.status : 0, rc == 0 ? r.body : "");
			if (rc == 0)
				http_response_free(&r);
			free(extra);
			return -1;
		}
		http_response_free(&r);
	}
	free(extra);
	return 0;
}

/*
 * GET target with token; checks 200 and that the answer lists exactly the
 * seqs of want (n of them) with the next_cursor want_cursor (NULL: null).
 */
static int
check_listing_(const char *file, int line, struct http_client *hc,
    const char *token, const char *target, const uint64_t *want, size_t n,
    const char *want_cursor)
{
	struct http_response r;
	json_t *body = NULL, *events, *cursor, *ev;
	char auth[300];
	size_t i;
	int ok = 0;

	snprintf(auth, sizeof(auth), "Bearer %s", token);
	if (http_request(hc, "GET", target, auth, NULL, NULL, NULL, 0, &r) != 0) {
		fprintf(stderr, "  %s:%d: GET %s: no answer\n", file, line, target);
		goto out;
	}
	if (r.status != 200 || (body = http_response_json(&r)) == NULL) {
		fprintf(stderr, "  %s:%d: GET %s: %d %.200s\n", file, line,
		    target, r.status, r.body);
		goto free_r;
	}
	events = json_object_get(body, "events");
	cursor = json_object_get(body, "next_cursor");
	if (json_array_size(events) != n)
		goto wrong;
	for (i = 0; i < n; i++) {
		ev = json_array_get(events, i);
		if ((uint64_t)json_integer_value(json_object_get(ev, "seq")) !=
		    want[i])
			goto wrong;
	}
	if (want_cursor == NULL ? !json_is_null(cursor) :
	    (!json_is_string(cursor) ||
	    strcmp(json_string_value(cursor), want_cursor) != 0))
		goto wrong;
	ok = 1;
	goto free_r;
wrong:
	fprintf(stderr, "  %s:%d: GET %s as %s: %zu events (want %zu), "
	    "next_cursor %s (want %s); body %.300s\n", file, line, target,
	    token, json_array_size(events), n,
	    json_is_string(cursor) ? json_string_value(cursor) : "null",
	    want_cursor ? want_cursor : "null", r.body);
free_r:
	json_decref(body);
	http_response_free(&r);
out:
	if (!ok)
		test_failures_++;
	return ok;
}
#define CHECK_LISTING(hc, token, target, want, n, cursor) \
	check_listing_(__FILE__, __LINE__, (hc), (token), (target), (want), \
	    (n), (cursor))

/*
 * The queries a police reader may send, and what each must answer when
 * police sees exactly the seqs vis (nvis of them): the same, whatever lies
 * between them.
 */
static void
check_police_view(struct http_client *hc, const uint64_t *vis, size_t nvis,
    uint64_t tree_size)
{
	static const char *const unfiltered[] = { "/v1/events",
	    "/v1/events?type=share", "/v1/events?limit=1000",
	    "/v1/events?since=2000-01-01T00:00:00Z",
	    "/v1/events?until=2999-01-01T00:00:00Z" };
	uint64_t kmar_to_police[8], to_om[8];
	size_t i, nk = 0, nom = 0, p;
	char target[256], cursor[32];

	for (i = 0; i < sizeof(unfiltered) / sizeof(unfiltered[0]); i++)
		CHECK_LISTING(hc, TOK_READER_POLICE, unfiltered[i], vis, nvis,
		    NULL);
	/* Seq 3 is kmar's, addressed to police; the only kmar entry seen. */
	kmar_to_police[nk++] = 3;
	CHECK_LISTING(hc, TOK_READER_POLICE, "/v1/events?org=kmar",
	    kmar_to_police, nk, NULL);
	CHECK_LISTING(hc, TOK_READER_POLICE,
	    "/v1/events?org=kmar&user=analyst-1", kmar_to_police, nk, NULL);
	CHECK_LISTING(hc, TOK_READER_POLICE, "/v1/events?recipient=ind",
	    NULL, 0, NULL);
	for (i = 0; i < nvis; i++)
		if (vis[i] != 3)
			to_om[nom++] = vis[i];
	CHECK_LISTING(hc, TOK_READER_POLICE, "/v1/events?recipient=om",
	    to_om, nom, NULL);
	CHECK_LISTING(hc, TOK_READER_POLICE, "/v1/events?type=query",
	    NULL, 0, NULL);
	/* Stepping the cursor through the invisible entries: nothing. */
	for (i = 4; i < tree_size; i += tree_size / 7) {
		snprintf(target, sizeof(target),
		    "/v1/events?org=kmar&cursor=%" PRIu64, (uint64_t)i);
		CHECK_LISTING(hc, TOK_READER_POLICE, target, NULL, 0, NULL);
		snprintf(target, sizeof(target),
		    "/v1/events?recipient=ind&cursor=%" PRIu64, (uint64_t)i);
		CHECK_LISTING(hc, TOK_READER_POLICE, target, NULL, 0, NULL);
	}
	/* Page by page, one entry a page: each cursor follows a seen entry. */
	for (p = 0; p < nvis; p++) {
		if (p == 0)
			snprintf(target, sizeof(target), "/v1/events?limit=1");
		else
			snprintf(target, sizeof(target),
			    "/v1/events?limit=1&cursor=%" PRIu64, vis[p - 1] + 1);
		snprintf(cursor, sizeof(cursor), "%" PRIu64, vis[p] + 1);
		CHECK_LISTING(hc, TOK_READER_POLICE, target, vis + p, 1,
		    p + 1 < nvis ? cursor : NULL);
	}
}

/*
 * police: seqs 0-2 and one after the others; kmar: seq 3 to police, then
 * 10,001 more (to ind), more than a page may examine.
 */
static void
test_many_invisible(void)
{
	enum { N_INVISIBLE = LIST_MAX_EXAMINED + 1 };
	uint64_t vis[5] = { 0, 1, 2, 3, 4 + N_INVISIBLE }, tree_size;
	struct http_client hc;
	struct daemon d;
	char target[128], cursor[32];
	uint64_t *kmar;
	size_t i;

	if (start_daemon(&d) != 0) {
		test_failures_++;
		daemon_cleanup(&d);
		return;
	}
	http_client_init(&hc, d.port, "");
	if (post_events_of(&hc, "police", "om", 0, 3, 0) != 0 ||
	    post_events_of(&hc, "kmar", "police", 3, 1, 0) != 0 ||
	    post_events_of(&hc, "kmar", "ind", 4, N_INVISIBLE, 0) != 0 ||
	    post_events_of(&hc, "police", "om", 4 + N_INVISIBLE, 1, 0) != 0) {
		test_failures_++;
		goto out;
	}
	tree_size = 5 + N_INVISIBLE;
	check_police_view(&hc, vis, 5, tree_size);

	/* Those who see the entries page through them as before. */
	kmar = xcalloc(1000, sizeof(*kmar));
	for (i = 0; i < 1000; i++)
		kmar[i] = 3 + i;
	CHECK_LISTING(&hc, TOK_READER_KMAR, "/v1/events?org=kmar&limit=1000",
	    kmar, 1000, "1003");
	CHECK_LISTING(&hc, TOK_READER_KMAR, "/v1/events?limit=1000", kmar,
	    1000, "1003");
	for (i = 0; i < 1000; i++)
		kmar[i] = 4 + N_INVISIBLE - 1000 + i;
	snprintf(target, sizeof(target), "/v1/events?org=kmar&limit=1000&"
	    "cursor=%d", 4 + N_INVISIBLE - 1000);
	CHECK_LISTING(&hc, TOK_READER_KMAR, target, kmar, 1000, NULL);
	/* The supervisor's unfiltered page stops at the work bound. */
	for (i = 0; i < 1000; i++)
		kmar[i] = i;
	snprintf(cursor, sizeof(cursor), "%d", 1000);
	CHECK_LISTING(&hc, TOK_SUPERVISOR, "/v1/events?limit=1000", kmar, 1000,
	    cursor);
	CHECK_LISTING(&hc, TOK_SUPERVISOR, "/v1/events?type=query", NULL, 0,
	    NULL);
	free(kmar);
out:
	http_client_close(&hc);
	daemon_cleanup(&d);
}

/*
 * The byte bound: kmar's large entries (about 17 KiB each) add up to more
 * than a page may parse (16 MiB); police's view is the same.  The
 * supervisor's pages end at the byte bound and their cursors go on.
 */
static void
test_large_invisible(void)
{
	enum { N_LARGE = 1100 };
	uint64_t vis[5] = { 0, 1, 2, 3, 4 + N_LARGE }, next = 0, total = 0;
	struct http_client hc;
	struct http_response r;
	struct daemon d;
	char target[128], auth[300];
	json_t *body;
	int pages = 0;

	if (start_daemon(&d) != 0) {
		test_failures_++;
		daemon_cleanup(&d);
		return;
	}
	http_client_init(&hc, d.port, "");
	if (post_events_of(&hc, "police", "om", 0, 3, 0) != 0 ||
	    post_events_of(&hc, "kmar", "police", 3, 1, 0) != 0 ||
	    post_events_of(&hc, "kmar", "ind", 4, N_LARGE, 16000) != 0 ||
	    post_events_of(&hc, "police", "om", 4 + N_LARGE, 1, 0) != 0) {
		test_failures_++;
		goto out;
	}
	check_police_view(&hc, vis, 5, 5 + N_LARGE);

	/* The supervisor pages through all of it, each page under 16 MiB. */
	snprintf(auth, sizeof(auth), "Bearer %s", TOK_SUPERVISOR);
	for (;;) {
		snprintf(target, sizeof(target), "/v1/events?limit=1000&cursor=%"
		    PRIu64, next);
		REQUIRE(http_request(&hc, "GET", target, auth, NULL, NULL, NULL,
		    0, &r) == 0);
		CHECK_INT(r.status, 200);
		body = http_response_json(&r);
		http_response_free(&r);
		REQUIRE(body != NULL);
		total += json_array_size(json_object_get(body, "events"));
		pages++;
		if (json_is_null(json_object_get(body, "next_cursor"))) {
			json_decref(body);
			break;
		}
		next = strtoull(json_string_value(json_object_get(body,
		    "next_cursor")), NULL, 10);
		CHECK_INT(next, total);
		json_decref(body);
		REQUIRE(pages < 10);
	}
	CHECK_INT(total, 5 + N_LARGE);
	CHECK(pages >= 2);
out:
	http_client_close(&hc);
	daemon_cleanup(&d);
}

int
main(void)
{
	RUN(test_many_invisible);
	RUN(test_large_invisible);
	return TEST_SUMMARY();
}
