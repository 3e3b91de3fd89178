/*
 * Batches and retries (spec §2.7, §7.4): what a batch answer says per event
 * and about the entries it wrote, and that a retried batch writes nothing
 * twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

static json_t *
post_batch_json(struct daemon *d, struct http_client *hc, const char *body,
    int *status)
{
	struct http_response r;
	json_t *ans;

	*status = -1;
	if (http_request(hc, "POST", "/v1/events/batch", d->auth,
	    "application/json", NULL, body, strlen(body), &r) != 0)
		return NULL;
	*status = r.status;
	ans = http_response_json(&r);
	http_response_free(&r);
	return ans;
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

int
main(void)
{
	RUN(test_batch_repeats);
	return TEST_SUMMARY();
}
