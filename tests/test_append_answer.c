/*
 * append_answer_text against json_dumps(append_answer(), JSON_COMPACT):
 * single and batch answers, with and without repeats, checkpoint and
 * proof, over every small batch shape and random large ones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ledgerd/append_answer.h"

#include "testlib.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* A checkpoint with what a note holds: newlines, an em dash, base64. */
static const char *const notes[] = {
	"example.org/log\n12\nAAAA+/==\n\n\xe2\x80\x94 example.org/log Zm9v\n",
	"a \"quoted\" \\ origin\n0\n\x01\x1f\t\r\b\f\n",
	"",
};

static size_t compared;

static void
agrees(const struct append_request *a, int batch)
{
	json_t *body = append_answer(a, batch);
	char *want = json_dumps(body, JSON_COMPACT), *got;
	size_t len;

	got = append_answer_text(a, batch, &len);
	compared++;
	if (want == NULL || strcmp(got, want) != 0 || len != strlen(want)) {
		fprintf(stderr, "  batch %d, %zu events:\n    got  %s\n    want %s\n",
		    batch, json_array_size(a->events), got, want ? want : "?");
		test_failures_++;
	}
	free(got);
	free(want);
	json_decref(body);
}

/* A request of n results, filled at random; shape bits choose the rest. */
static struct append_request *
request(size_t n, unsigned shape)
{
	struct append_request *a = calloc(1, sizeof(*a));
	size_t i;

	a->events = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a->events, json_null());
	a->results = calloc(n ? n : 1, sizeof(*a->results));
	for (i = 0; i < n; i++) {
		struct append_result *res = &a->results[i];

		res->seq = (shape & 1) ? next() >> 1 : i;
		for (size_t b = 0; b < sizeof(res->leaf_hash); b++)
			res->leaf_hash[b] = (uint8_t)next();
		snprintf(res->received_at, sizeof(res->received_at),
		    "2026-12-01T09:%02u:%02u.%06uZ", (unsigned)(next() % 60),
		    (unsigned)(next() % 60), (unsigned)(next() % 1000000));
		res->repeated = (shape & 2) ? (int)(next() & 1) :
		    (shape & 4) != 0;
	}
	a->tree_size = (shape & 8) ? next() >> 1 : n + 7;
	a->want_proof = (shape & 16) != 0;
	if (shape & 32)
		a->checkpoint = strdup(notes[next() % 3]);
	a->proof_len = (shape & 64) ? next() % (LEDGER_MAX_PROOF + 1) : 0;
	for (i = 0; i < a->proof_len; i++)
		for (size_t b = 0; b < LEDGER_HASH_LEN; b++)
			a->proof[i][b] = (uint8_t)next();
	return a;
}

static void
request_free(struct append_request *a)
{
	json_decref(a->events);
	free(a->results);
	free(a->checkpoint);
	free(a);
}

static void
test_shapes(void)
{
	for (size_t n = 1; n <= 6; n++)
		for (unsigned shape = 0; shape < 128; shape++)
			for (int batch = 0; batch <= 1; batch++) {
				struct append_request *a = request(n, shape);
				agrees(a, batch);
				request_free(a);
			}
}

static void
test_random(void)
{
	for (int round = 0; round < 300; round++) {
		struct append_request *a = request(1 + next() % 3000,
		    (unsigned)next() % 128);
		agrees(a, 1);
		request_free(a);
		if (test_failures_ > 3)
			break;
	}
}

int
main(void)
{
	RUN(test_shapes);
	RUN(test_random);
	fprintf(stderr, "  %zu answers compared\n", compared);
	return TEST_SUMMARY();
}
