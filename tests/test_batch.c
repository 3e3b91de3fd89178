/*
 * Batches and retries (spec §2.7, §7.4): what a batch answer says per event
 * and about the entries it wrote, and that a retried batch writes nothing
 * twice.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

static json_t *
post_batch_to(struct daemon *d, struct http_client *hc, const char *target,
    const char *body, int *status)
{
	struct http_response r;
	json_t *ans;

	*status = -1;
	if (http_request(hc, "POST", target, d->auth,
	    "application/json", NULL, body, strlen(body), &r) != 0)
		return NULL;
	*status = r.status;
	ans = http_response_json(&r);
	http_response_free(&r);
	return ans;
}

static json_t *
post_batch_json(struct daemon *d, struct http_client *hc, const char *body,
    int *status)
{
	return post_batch_to(d, hc, "/v1/events/batch", body, status);
}

static int
event_repeat(const json_t *ans, size_t i)
{
	return json_is_true(json_object_get(json_array_get(json_object_get(ans,
	    "events"), i), "repeat"));
}

static json_int_t
event_seq(const json_t *ans, size_t i)
{
	return json_integer_value(json_object_get(json_array_get(
	    json_object_get(ans, "events"), i), "seq"));
}

/*
 * A batch mixing a repeat of an earlier entry with new events: each event
 * says whether it was a repeat, first_seq/count cover exactly the new
 * entries, and the same batch again is all repeats (200, count 0, no
 * first_seq) with the same seqs.
 */
static void
body_batch_repeats(struct daemon *d)
{
	struct http_client hc;
	struct appended a;
	struct http_response r;
	char *k1 = sample_event_of("share", "police", "u", "kmar",
	    "\"idempotency_key\":\"k1\"", 1);
	char *k2 = sample_event_of("share", "police", "u", "kmar",
	    "\"idempotency_key\":\"k2\"", 2);
	char *plain = sample_event(3), *body;
	json_t *ans;
	int status;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_event(&hc, plain, NULL, NULL, &a, &r) == 201);
	ans = http_response_json(&r);
	CHECK(json_is_false(json_object_get(ans, "repeat")));
	json_decref(ans);
	http_response_free(&r);
	REQUIRE(post_event(&hc, k1, NULL, NULL, &a, NULL) == 201);
	CHECK_INT(a.seq, 1);
	REQUIRE(post_event(&hc, k1, NULL, NULL, &a, &r) == 200);
	ans = http_response_json(&r);
	CHECK(json_is_true(json_object_get(ans, "repeat")));
	json_decref(ans);
	http_response_free(&r);

	/* [repeat of seq 1, new, new keyed] */
	body = xasprintf("[%s,%s,%s]", k1, plain, k2);
	ans = post_batch_json(d, &hc, body, &status);
	CHECK_INT(status, 201);
	CHECK_INT(json_integer_value(json_object_get(ans, "count")), 2);
	CHECK_INT(json_integer_value(json_object_get(ans, "first_seq")), 2);
	CHECK_INT(json_integer_value(json_object_get(ans, "tree_size")), 4);
	CHECK_INT(json_array_size(json_object_get(ans, "events")), 3);
	CHECK(event_repeat(ans, 0) && !event_repeat(ans, 1) &&
	    !event_repeat(ans, 2));
	CHECK_INT(event_seq(ans, 0), 1);
	CHECK_INT(event_seq(ans, 1), 2);
	CHECK_INT(event_seq(ans, 2), 3);
	json_decref(ans);

	/* The keyed events again: nothing new. */
	free(body);
	body = xasprintf("[%s,%s]", k2, k1);
	ans = post_batch_json(d, &hc, body, &status);
	CHECK_INT(status, 200);
	CHECK_INT(json_integer_value(json_object_get(ans, "count")), 0);
	CHECK(json_object_get(ans, "first_seq") == NULL);
	CHECK(event_repeat(ans, 0) && event_repeat(ans, 1));
	CHECK_INT(event_seq(ans, 0), 3);
	CHECK_INT(event_seq(ans, 1), 1);
	json_decref(ans);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 4);
	free(body);
	free(k1);
	free(k2);
	free(plain);
	http_client_close(&hc);
}

static void
test_batch_repeats(void)
{
	daemon_test(body_batch_repeats);
}

/* The entry at seq, parsed, without the fields that differ between any two entries. */
static json_t *
entry_sans_server_fields(struct http_client *hc, uint64_t seq, char *key,
    size_t key_size)
{
	static const char *const drop[] = { "seq", "received_at", "prev",
	    "salt", "idempotency_key" };
	json_t *entry = NULL;
	char *bytes;
	size_t len, i;

	key[0] = '\0';
	if (fetch_entry(hc, seq, &bytes, &len) != 200) {
		free(bytes);
		return NULL;
	}
	if ((entry = json_loadb(bytes, len, 0, NULL)) != NULL) {
		snprintf(key, key_size, "%s", json_string_value(json_object_get(
		    entry, "idempotency_key")) ?: "");
		for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			json_object_del(entry, drop[i]);
	}
	free(bytes);
	return entry;
}

/*
 * Spec §2.7: a key in the Idempotency-Key header and the same key in the
 * body are one thing: either repeats the other, and the entries are the
 * same apart from seq, received_at, prev and salt, the key stored in both.
 */
static void
body_header_key_is_body_key(struct daemon *d)
{
	struct http_client hc;
	struct appended a;
	char *plain = sample_event(5), key0[160], key1[160];
	char *k1 = sample_event_of("share", "police", "analyst-1", "kmar",
	    "\"idempotency_key\":\"k1\"", 5);
	char *k2 = sample_event_of("share", "police", "analyst-1", "kmar",
	    "\"idempotency_key\":\"k2\"", 5);
	json_t *e0, *e1;

	http_client_init(&hc, d->port, d->token);
	/* k1 by header first, then in the body: a repeat. */
	CHECK_INT(post_event(&hc, plain, NULL, "Idempotency-Key: k1\r\n", &a,
	    NULL), 201);
	CHECK_INT(a.seq, 0);
	CHECK_INT(post_event(&hc, k1, NULL, NULL, &a, NULL), 200);
	CHECK_INT(a.seq, 0);
	/* k2 in the body first, then by header: a repeat. */
	CHECK_INT(post_event(&hc, k2, NULL, NULL, &a, NULL), 201);
	CHECK_INT(a.seq, 1);
	CHECK_INT(post_event(&hc, plain, NULL, "Idempotency-Key: k2\r\n", &a,
	    NULL), 200);
	CHECK_INT(a.seq, 1);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 2);

	e0 = entry_sans_server_fields(&hc, 0, key0, sizeof(key0));
	e1 = entry_sans_server_fields(&hc, 1, key1, sizeof(key1));
	CHECK(e0 != NULL && e1 != NULL);
	CHECK_STR(key0, "k1");
	CHECK_STR(key1, "k2");
	CHECK(json_equal(e0, e1));
	json_decref(e0);
	json_decref(e1);
	free(plain);
	free(k1);
	free(k2);
	http_client_close(&hc);
}

static void
test_header_key_is_body_key(void)
{
	daemon_test(body_header_key_is_body_key);
}

/* ---- ledgerctl post --batch ---- */

#define MAX_CTL_ARGS 16

static struct daemon *ctl_daemon;

static void
ctl_run(struct ctl_result *r, const char *first, ...)
{
	const char *args[MAX_CTL_ARGS + 1];
	size_t n = 0;
	va_list ap;

	args[n++] = first;
	va_start(ap, first);
	while (n < MAX_CTL_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	ctl_exec(r, ctl_daemon->root, NULL, args);
}

#define CTL(code, phrase, ...)						\
	do {								\
		struct ctl_result r_;					\
		ctl_run(&r_, __VA_ARGS__, (const char *)NULL);		\
		CTL_EXPECT(&r_, (code), (phrase));			\
		ctl_result_free(&r_);					\
	} while (0)

/* Writes the lines (NULL-terminated) as an NDJSON file in the daemon's directory. */
static char *
ndjson_file(struct daemon *d, const char *name, const char *const lines[])
{
	char *path = xasprintf("%s/%s", d->root, name);
	FILE *f = fopen(path, "wb");
	size_t i;

	if (f == NULL) {
		CHECK(f != NULL);
		return path;
	}
	for (i = 0; lines[i] != NULL; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
	return path;
}

/*
 * A run that fails half-way names the refused input line and what is
 * stored; after the line is fixed, running the same command again stores
 * the rest and nothing twice, and says which lines were repeats.
 */
static void
body_ctl_rerun(struct daemon *d)
{
	char *ev[6], *bad, *path, url[64];
	const char *lines[8];
	struct http_client hc;
	struct ctl_result r;
	int i;

	ctl_daemon = d;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", d->token, 1);
	unsetenv("LEDGER_KEY");
	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < 6; i++)
		ev[i] = sample_event(i + 1);
	bad = sample_event_of("share", "police", "u", NULL, NULL, 9);

	/* Input line 6 (the fifth event; line 3 is blank) lacks recipients. */
	lines[0] = ev[0];
	lines[1] = ev[1];
	lines[2] = "";
	lines[3] = ev[2];
	lines[4] = ev[3];
	lines[5] = bad;
	lines[6] = ev[5];
	lines[7] = NULL;
	path = ndjson_file(d, "in.ndjson", lines);
	ctl_run(&r, "post", "--batch", path, "--chunk", "2", (const char *)NULL);
	CTL_EXPECT(&r, 3, "input line 6 was refused");
	CTL_EXPECT(&r, 3, "input lines 1..5 are stored");
	ctl_result_free(&r);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 4);

	/* Fixed, and again: only lines 6 and 7 are new. */
	lines[5] = ev[4];
	free(path);
	path = ndjson_file(d, "in.ndjson", lines);
	ctl_run(&r, "post", "--batch", path, "--chunk", "2", (const char *)NULL);
	CTL_EXPECT(&r, 0, "appended 2 events, 4 were already stored; the "
	    "input's 6 events are at seq 0..5 (tree size 6)");
	CTL_EXPECT(&r, 0, "input lines 1-2, 4-5\n");
	ctl_result_free(&r);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 6);

	/* A third run is all repeats, with another chunk size too. */
	CTL(0, "\"count\":6,\"first_seq\":0,\"last_seq\":5,\"new\":0,"
	    "\"repeat_lines\":[[1,2],[4,7]],\"repeats\":6,\"tree_size\":6",
	    "--json", "post", "--batch", path, "--chunk", "5");
	CHECK_INT(tree_size_now(&hc, &d->verifier), 6);

	/*
	 * The same event twice: two entries (the second copy's key differs),
	 * and again nothing new; without derived keys, two more.
	 */
	lines[0] = ev[0];
	lines[1] = ev[0];
	lines[2] = NULL;
	free(path);
	path = ndjson_file(d, "twice.ndjson", lines);
	CTL(0, "appended 1 events, 1 were already stored; the input's 2 "
	    "events are at seq 0..6", "post", "--batch", path);
	CTL(0, "appended 0 events, 2 were already stored", "post", "--batch",
	    path);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 7);
	CTL(0, "appended 2 events, seq 7..8", "post", "--batch", path,
	    "--no-derived-keys");
	CTL(2, "--no-derived-keys is for --batch", "post", "--no-derived-keys",
	    path);

	/* Not JSON: the line is named before anything is sent. */
	lines[1] = "{\"type\":";
	free(path);
	path = ndjson_file(d, "broken.ndjson", lines);
	CTL(2, "broken.ndjson line 2", "post", "--batch", path);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 9);

	for (i = 0; i < 6; i++)
		free(ev[i]);
	free(bad);
	free(path);
	http_client_close(&hc);
}

static void
test_ctl_rerun(void)
{
	daemon_test(body_ctl_rerun);
}

/*
 * A batch takes ?wait=checkpoint as a single append does (spec §7.4): the
 * answer adds the signed checkpoint and the inclusion proof of the batch's
 * first entry in its tree.
 */
static void
body_batch_wait_checkpoint(struct daemon *d)
{
	struct http_client hc;
	struct ledger_checkpoint cp;
	char *e0 = sample_event(1), *e1 = sample_event(2), *body;
	const char *note;
	json_t *ans, *ip;
	int status;

	http_client_init(&hc, d->port, d->token);
	body = xasprintf("[%s,%s]", e0, e1);
	ans = post_batch_to(d, &hc, "/v1/events/batch?wait=checkpoint", body,
	    &status);
	CHECK_INT(status, 201);
	note = json_string_value(json_object_get(ans, "checkpoint"));
	CHECK(note != NULL);
	if (note != NULL) {
		CHECK_INT(ledger_checkpoint_open(note, strlen(note), &d->verifier,
		    &cp), 0);
		CHECK_INT(cp.tree_size, 2);
	}
	ip = json_object_get(ans, "inclusion_proof");
	CHECK_INT(json_integer_value(json_object_get(ip, "index")), 0);
	CHECK_INT(json_integer_value(json_object_get(ip, "tree_size")), 2);
	json_decref(ans);
	free(body);
	free(e0);
	free(e1);
	http_client_close(&hc);
}

static void
test_batch_wait_checkpoint(void)
{
	daemon_test(body_batch_wait_checkpoint);
}

int
main(void)
{
	RUN(test_batch_repeats);
	RUN(test_batch_wait_checkpoint);
	RUN(test_ctl_rerun);
	RUN(test_header_key_is_body_key);
	return TEST_SUMMARY();
}
