/*
 * Fuzzes the request framing that guards evhttp (ledgerd/framing.c) on
 * arbitrary byte streams.  The first three bytes choose max_headers,
 * max_body and how the rest is cut into pieces; the rest is what a client
 * sends on one connection.  Invariants: the stream framed whole and framed
 * piece by piece gives the same bytes for evhttp, the same refusal and the
 * same counts (the framing never depends on how TCP cut the bytes); what
 * it gives evhttp is well framed and within the limits, so that framing it
 * again passes it unchanged and refuses nothing; nothing leaks.
 */
#include <string.h>

#include <event2/buffer.h>

#include "../../ledgerd/framing.h"

#include "fuzz.h"

#define INPUT_MAX (64 * 1024)

struct outcome {
	struct framing *f;
	struct evbuffer *src, *dst;
};

static void
outcome_new(struct outcome *o, const struct framing_limits *lim)
{
	o->f = framing_new(lim);
	o->src = evbuffer_new();
	o->dst = evbuffer_new();
	FUZZ_ASSERT(o->src != NULL && o->dst != NULL);
}

static void
outcome_free(struct outcome *o)
{
	framing_free(o->f);
	evbuffer_free(o->src);
	evbuffer_free(o->dst);
}

/* Appends len bytes to the connection and frames what it holds. */
static void
feed(struct outcome *o, const uint8_t *data, size_t len)
{
	size_t before = evbuffer_get_length(o->dst);
	int passed;

	FUZZ_ASSERT(evbuffer_add(o->src, data, len) == 0);
	passed = framing_feed(o->f, o->src, o->dst);
	FUZZ_ASSERT(passed == (evbuffer_get_length(o->dst) > before));
	/* After a refusal nothing is kept, and nothing more is given. */
	if (framing_refusal(o->f) != NULL)
		FUZZ_ASSERT(evbuffer_get_length(o->src) == 0);
}

static int
same_bytes(struct evbuffer *a, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(a);

	return n == evbuffer_get_length(b) && (n == 0 ||
	    memcmp(evbuffer_pullup(a, -1), evbuffer_pullup(b, -1), n) == 0);
}

static int
same_refusal(const struct framing_refusal *a, const struct framing_refusal *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->status == b->status && strcmp(a->code, b->code) == 0 &&
	    (a->field == NULL ? b->field == NULL : b->field != NULL &&
	    strcmp(a->field, b->field) == 0) &&
	    strcmp(a->message, b->message) == 0 && a->declared == b->declared;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct framing_refusal *why;
	struct framing_limits lim;
	struct outcome whole, pieces, again;
	uint32_t rng;
	size_t off, n;

	if (size < 3 || size > INPUT_MAX)
		return 0;
	/* Small limits, so that short inputs reach them. */
	lim.max_headers = 64 + (size_t)data[0] * 4;
	lim.max_body = (size_t)data[1] * 16;
	rng = data[2] | 1u;
	data += 3;
	size -= 3;

	outcome_new(&whole, &lim);
	feed(&whole, data, size);
	outcome_new(&pieces, &lim);
	for (off = 0; off < size; off += n) {
		rng = rng * 1103515245u + 12345u;
		n = 1 + (rng >> 16) % 97;
		if (n > size - off)
			n = size - off;
		feed(&pieces, data + off, n);
	}
	FUZZ_ASSERT(same_bytes(whole.dst, pieces.dst));
	FUZZ_ASSERT(same_bytes(whole.src, pieces.src));
	FUZZ_ASSERT(same_refusal(framing_refusal(whole.f),
	    framing_refusal(pieces.f)));
	FUZZ_ASSERT(framing_requests(whole.f) == framing_requests(pieces.f));
	FUZZ_ASSERT(framing_discarded(whole.f) == framing_discarded(pieces.f));
	if ((why = framing_refusal(whole.f)) != NULL) {
		FUZZ_ASSERT(why->status == 400 || why->status == 413 ||
		    why->status == 417 || why->status == 431 ||
		    why->status == 501 || why->status == 505);
		FUZZ_ASSERT(why->code != NULL && why->message[0] != '\0');
		FUZZ_ASSERT(framing_requests(whole.f) > 0);
	}

	/* What evhttp gets is framed already: framing it again changes nothing. */
	outcome_new(&again, &lim);
	n = evbuffer_get_length(whole.dst);
	feed(&again, n > 0 ? evbuffer_pullup(whole.dst, -1) : (const uint8_t *)"", n);
	FUZZ_ASSERT(framing_refusal(again.f) == NULL);
	FUZZ_ASSERT(same_bytes(again.dst, whole.dst));
	FUZZ_ASSERT(evbuffer_get_length(again.src) == 0);
	FUZZ_ASSERT(framing_requests(again.f) == framing_requests(whole.f));

	outcome_free(&again);
	outcome_free(&pieces);
	outcome_free(&whole);
	return 0;
}
