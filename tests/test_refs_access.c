/*
 * refs name only entries the writer's org may read (design, "The entry"):
 * against the real daemon with a config of writers of three orgs, a ref to
 * another org's entry is answered byte for byte like a ref to a seq that
 * does not exist, in single and batch appends, and writes nothing; refs to
 * entries the org may read (as actor or recipient), committed or earlier in
 * the same batch, work; a supervisor may name any entry.
 */
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

#define TOK_POLICE "writer-police-token"
#define TOK_KMAR "writer-kmar-token"
#define TOK_BOARD "writer-board-token"

/*
 * Writers of police and kmar (writer role only: refs follow the org, not
 * the reader role) and a supervisor of board that also writes; new string.
 */
static char *
config_text(void)
{
	char h_police[65], h_kmar[65], h_board[65];

	sha256_hex(TOK_POLICE, h_police);
	sha256_hex(TOK_KMAR, h_kmar);
	sha256_hex(TOK_BOARD, h_board);
	return xasprintf("{\n  \"listen\": \"127.0.0.1:0\",\n"
	    "  \"origin\": \"ledger.example.org/refs-test\",\n"
	    "  \"principals\": [\n"
	    "    {\"id\": \"writer-police\", \"org\": \"police\", "
	    "\"roles\": [\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "    {\"id\": \"writer-kmar\", \"org\": \"kmar\", "
	    "\"roles\": [\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "    {\"id\": \"board\", \"org\": \"board\", "
	    "\"roles\": [\"writer\", \"supervisor\"], \"token_sha256\": \"%s\"}\n"
	    "  ]\n}\n", h_police, h_kmar, h_board);
}

/* ledgerd with that configuration; daemon_cleanup() d in either case. */
static int
start_daemon(struct daemon *d)
{
	char *config = config_text();
	int rc = daemon_start_config(d, config);

	free(config);
	return rc;
}

/* One answer: status and body bytes (free() body). */
struct answer {
	int status;
	char *body;
};

static struct answer
post(struct http_client *hc, const char *target, const char *json)
{
	struct http_response r;
	struct answer a = { -1, NULL };

	json_t *body;

	if (http_post_json(hc, target, json, &r) == 0) {
		a.status = r.status;
		a.body = xstrdup(r.body != NULL ? r.body : "");
		/* An error's request_id differs by design; the rest may not. */
		if ((body = http_response_json(&r)) != NULL &&
		    json_object_del(json_object_get(body, "error"),
		    "request_id") == 0) {
			free(a.body);
			if ((a.body = json_dumps(body, JSON_COMPACT |
			    JSON_PRESERVE_ORDER)) == NULL)
				a.body = xstrdup("");
		}
		json_decref(body);
		http_response_free(&r);
	}
	return a;
}

/* An advice of org on document i resting on refs (JSON array text). */
static char *
advice(const char *org, const char *refs, int i)
{
	char extra[128];

	snprintf(extra, sizeof(extra), "\"refs\":%s", refs);
	return sample_event_of("advice", org, "adviser-1",
	    strcmp(org, "police") == 0 ? "kmar" : "police", extra, i);
}

/* Posts an advice of org resting on refs; returns the status. */
static int
post_advice(struct http_client *hc, const char *org, const char *refs, int i)
{
	char *ev = advice(org, refs, i);
	struct answer a = post(hc, "/v1/events", ev);

	free(ev);
	free(a.body);
	return a.status;
}

/*
 * The answers to the same request made once with a hidden ref and once with
 * a ref to a seq that does not exist must not differ by a byte but for
 * their request ids.
 */
static void
check_same_answer(struct http_client *hc, const char *target,
    const char *hidden, const char *missing, const char *field)
{
	struct answer a = post(hc, target, hidden), b = post(hc, target, missing);
	struct http_response fake = { 0 };

	CHECK_INT(a.status, 400);
	CHECK_INT(b.status, 400);
	REQUIRE(a.body != NULL && b.body != NULL);
	CHECK_STR(a.body, b.body);
	fake.status = a.status;
	fake.body = a.body;
	fake.body_len = strlen(a.body);
	CHECK_ERROR(&fake, 400, "unknown_ref", field);
	free(a.body);
	free(b.body);
}

static long long
tree_size(struct http_client *hc, const struct daemon *d)
{
	return tree_size_now(hc, &d->verifier);
}

static void
test_refs_need_read_access(void)
{
	struct http_client police, kmar, board;
	struct daemon d;
	char *ev, *hidden, *missing, *first;
	struct answer a;

	REQUIRE(start_daemon(&d) == 0);
	http_client_init(&police, d.port, TOK_POLICE);
	http_client_init(&kmar, d.port, TOK_KMAR);
	http_client_init(&board, d.port, TOK_BOARD);

	/* 0: kmar to om, hidden from police; 1: police's own; 2: kmar to police. */
	ev = sample_event_of("share", "kmar", "officer-1", "om", NULL, 100);
	CHECK_INT(post_event(&kmar, ev, NULL, NULL, NULL, NULL), 201);
	free(ev);
	ev = sample_event_of("share", "police", "analyst-1", "kmar", NULL, 101);
	CHECK_INT(post_event(&police, ev, NULL, NULL, NULL, NULL), 201);
	free(ev);
	ev = sample_event_of("share", "kmar", "officer-1", "police", NULL, 102);
	CHECK_INT(post_event(&kmar, ev, NULL, NULL, NULL, NULL), 201);
	free(ev);
	REQUIRE(tree_size(&police, &d) == 3);

	/* Readable as actor, as recipient: accepted. */
	CHECK_INT(post_advice(&police, "police", "[1]", 200), 201);	/* 3 */
	CHECK_INT(post_advice(&police, "police", "[2,1]", 201), 201);	/* 4 */
	/* kmar may rest on its own entry 0. */
	CHECK_INT(post_advice(&kmar, "kmar", "[0]", 202), 201);	/* 5 */

	/* Single appends: entry 0 is to police what seq 999 is. */
	hidden = advice("police", "[0]", 210);
	missing = advice("police", "[999]", 210);
	check_same_answer(&police, "/v1/events", hidden, missing, "refs[0]");
	free(hidden);
	free(missing);
	hidden = advice("police", "[1,0]", 211);
	missing = advice("police", "[1,999]", 211);
	check_same_answer(&police, "/v1/events", hidden, missing, "refs[1]");
	free(hidden);
	free(missing);

	/* Batches: the same, with the event's position in the field. */
	first = sample_event_of("query", "police", "analyst-1", NULL, NULL, 220);
	ev = advice("police", "[0]", 221);
	hidden = xasprintf("[%s,%s]", first, ev);
	free(ev);
	ev = advice("police", "[999]", 221);
	missing = xasprintf("[%s,%s]", first, ev);
	free(ev);
	check_same_answer(&police, "/v1/events/batch", hidden, missing,
	    "[1].refs[0]");
	free(hidden);
	free(missing);
	free(first);
	/* Nothing of the refused requests was written. */
	CHECK_INT(tree_size(&police, &d), 6);

	/*
	 * Earlier entries of the same batch count, by the same rule: police's
	 * share becomes entry 6 and the advice after it rests on it.
	 */
	first = sample_event_of("share", "police", "analyst-1", "om", NULL, 230);
	ev = advice("police", "[6,2]", 231);
	hidden = xasprintf("[%s,%s]", first, ev);
	a = post(&police, "/v1/events/batch", hidden);
	CHECK_INT(a.status, 201);
	free(a.body);
	free(hidden);
	free(ev);
	free(first);
	CHECK_INT(tree_size(&police, &d), 8);
	/* kmar may not rest on police's entry 6 (recipient om), nor may om. */
	hidden = advice("kmar", "[6]", 240);
	missing = advice("kmar", "[998]", 240);
	check_same_answer(&kmar, "/v1/events", hidden, missing, "refs[0]");
	free(hidden);
	free(missing);

	/* A supervisor sees all, so it may name any entry. */
	CHECK_INT(post_advice(&board, "board", "[0,6]", 250), 201);
	CHECK_INT(tree_size(&police, &d), 9);

	http_client_close(&police);
	http_client_close(&kmar);
	http_client_close(&board);
	daemon_cleanup(&d);
}

int
main(void)
{
	RUN(test_refs_need_read_access);
	return TEST_SUMMARY();
}
