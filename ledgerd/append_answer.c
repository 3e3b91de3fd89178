/* The answer to an accepted append (append_answer.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/xmalloc.h"

#include "append_answer.h"
#include "hash_json.h"
#include "log.h"

void
append_answer_set_proof(json_t *body, const char *checkpoint,
    size_t checkpoint_len, uint64_t index, uint64_t tree_size,
    const uint8_t leaf[LEDGER_HASH_LEN],
    const uint8_t (*proof)[LEDGER_HASH_LEN], size_t n)
{
	json_t *hashes = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(hashes, hash_json(proof[i]));
	json_object_set_new(body, "checkpoint",
	    json_stringn(checkpoint, checkpoint_len));
	json_object_set_new(body, "inclusion_proof", json_pack(
	    "{s:I, s:I, s:o, s:o}", "index", (json_int_t)index,
	    "tree_size", (json_int_t)tree_size, "leaf_hash", hash_json(leaf),
	    "hashes", hashes));
}

/* The checkpoint and inclusion proof of ?wait=checkpoint, when asked. */
static void
add_proof(json_t *body, const struct append_request *a)
{
	if (!a->want_proof || a->checkpoint == NULL)
		return;
	append_answer_set_proof(body, a->checkpoint, strlen(a->checkpoint),
	    a->results[0].seq, a->tree_size, a->results[0].leaf_hash,
	    (const uint8_t (*)[LEDGER_HASH_LEN])a->proof, a->proof_len);
}

json_t *
append_answer(const struct append_request *a, int batch)
{
	size_t n = json_array_size(a->events), i, repeats = 0;
	const struct append_result *first = NULL;
	json_t *body, *events;

	for (i = 0; i < n; i++)
		repeats += a->results[i].repeated != 0;
	if (!batch) {
		body = json_pack("{s:I, s:o, s:s, s:I, s:b}",
		    "seq", (json_int_t)a->results[0].seq,
		    "leaf_hash", hash_json(a->results[0].leaf_hash),
		    "received_at", a->results[0].received_at,
		    "tree_size", (json_int_t)a->tree_size,
		    "repeat", a->results[0].repeated != 0);
	} else {
		/*
		 * Spec §7.4: first_seq and count describe the entries this
		 * request wrote, which lie at consecutive seqs; repeats keep
		 * their original seqs and are only in events.
		 */
		events = json_array();
		for (i = 0; i < n; i++) {
			json_array_append_new(events, json_pack(
			    "{s:I, s:o, s:s, s:b}",
			    "seq", (json_int_t)a->results[i].seq,
			    "leaf_hash", hash_json(a->results[i].leaf_hash),
			    "received_at", a->results[i].received_at,
			    "repeat", a->results[i].repeated != 0));
			if (!a->results[i].repeated && first == NULL)
				first = &a->results[i];
		}
		body = json_pack("{s:I, s:I, s:o}",
		    "count", (json_int_t)(n - repeats),
		    "tree_size", (json_int_t)a->tree_size,
		    "events", events);
		if (body != NULL && first != NULL)
			json_object_set_new(body, "first_seq",
			    json_integer((json_int_t)first->seq));
	}
	if (body == NULL)
		fatalx("json_pack failed");
	add_proof(body, a);
	return body;
}

/* The answer's text as it grows. */
struct text {
	char *buf;
	size_t len, cap;
};

static void
put(struct text *t, const char *s, size_t n)
{
	if (n > t->cap - t->len) {
		while (n > t->cap - t->len)
			t->cap *= 2;
		t->buf = xrealloc(t->buf, t->cap);
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void
put_str(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void
put_u64(struct text *t, uint64_t v)
{
	char digits[24];

	put(t, digits, (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v));
}

/*
 * A JSON string as Jansson's JSON_COMPACT writes it: ", \ and characters
 * below U+0020 escaped, everything else as it is.  The strings here are
 * the server's own (base64, times, its signed note), valid UTF-8.
 */
static void
put_json_string(struct text *t, const char *s)
{
	const char *run = s;
	char esc[8];

	put(t, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(t, run, (size_t)(s - run));
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			e = esc;
		}
		put_str(t, e);
		run = s + 1;
	}
	put(t, run, (size_t)(s - run));
	put(t, "\"", 1);
}

static void
put_hash(struct text *t, const uint8_t hash[LEDGER_HASH_LEN])
{
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];

	ledger_b64_encode(hash, LEDGER_HASH_LEN, b64);
	put(t, "\"", 1);
	put_str(t, b64);
	put(t, "\"", 1);
}

static void
put_proof(struct text *t, const struct append_request *a)
{
	if (!a->want_proof || a->checkpoint == NULL)
		return;
	put_str(t, ",\"checkpoint\":");
	put_json_string(t, a->checkpoint);
	put_str(t, ",\"inclusion_proof\":{\"index\":");
	put_u64(t, a->results[0].seq);
	put_str(t, ",\"tree_size\":");
	put_u64(t, a->tree_size);
	put_str(t, ",\"leaf_hash\":");
	put_hash(t, a->results[0].leaf_hash);
	put_str(t, ",\"hashes\":[");
	for (size_t i = 0; i < a->proof_len; i++) {
		if (i > 0)
			put(t, ",", 1);
		put_hash(t, a->proof[i]);
	}
	put_str(t, "]}");
}

/* One event's member of the answer: seq, leaf_hash, received_at (, ...). */
static void
put_result(struct text *t, const struct append_result *res)
{
	put_str(t, "{\"seq\":");
	put_u64(t, res->seq);
	put_str(t, ",\"leaf_hash\":");
	put_hash(t, res->leaf_hash);
	put_str(t, ",\"received_at\":");
	put_json_string(t, res->received_at);
}

char *
append_answer_text(const struct append_request *a, int batch, size_t *len)
{
	size_t n = json_array_size(a->events), i, repeats = 0;
	const struct append_result *first = NULL;
	struct text t;

	t.cap = 256 + (batch ? n * 144 : 0);
	t.buf = xmalloc(t.cap);
	t.len = 0;
	for (i = 0; i < n; i++)
		repeats += a->results[i].repeated != 0;
	/* Members in the order append_answer() sets them. */
	if (!batch) {
		put_result(&t, &a->results[0]);
		put_str(&t, ",\"tree_size\":");
		put_u64(&t, a->tree_size);
		put_str(&t, a->results[0].repeated ? ",\"repeat\":true" :
		    ",\"repeat\":false");
	} else {
		put_str(&t, "{\"count\":");
		put_u64(&t, n - repeats);
		put_str(&t, ",\"tree_size\":");
		put_u64(&t, a->tree_size);
		put_str(&t, ",\"events\":[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				put(&t, ",", 1);
			put_result(&t, &a->results[i]);
			put_str(&t, a->results[i].repeated ? ",\"repeat\":true}" :
			    ",\"repeat\":false}");
			if (!a->results[i].repeated && first == NULL)
				first = &a->results[i];
		}
		put(&t, "]", 1);
		if (first != NULL) {
			put_str(&t, ",\"first_seq\":");
			put_u64(&t, first->seq);
		}
	}
	put_proof(&t, a);
	put(&t, "}", 2);	/* with the NUL */
	*len = t.len - 1;
	return t.buf;
}
