/*
 * Index records of one entry: type, actor org, actor org/user, each
 * recipient, each subject token, the object ref and each ref (reversed, so
 * that lineage can find what rests on an entry).
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "indexer.h"
#include "store.h"

static int
emit_string(index_emit_fn emit, void *ctx, enum store_index kind,
    const json_t *v, uint64_t seq)
{
	if (!json_is_string(v))
		return LEDGER_OK;
	return emit(ctx, kind, json_string_value(v), json_string_length(v), seq);
}

/*
 * The records of fields: the subjects' tokens are tokens[i] when tokens is
 * set, else made under subject_key when that is set, else the subjects as
 * they are (fields is an entry).
 */
static int
records(uint64_t seq, const json_t *fields, const uint8_t *subject_key,
    const char *const *tokens, index_emit_fn emit, void *ctx)
{
	const json_t *actor = json_object_get(fields, "actor");
	const json_t *org = json_object_get(actor, "org");
	const json_t *user = json_object_get(actor, "user");
	const json_t *object = json_object_get(fields, "object");
	const json_t *v;
	size_t i;
	int rc;

	if ((rc = emit_string(emit, ctx, STORE_IDX_TYPE, json_object_get(fields, "type"), seq)) ||
	    (rc = emit_string(emit, ctx, STORE_IDX_ORG, org, seq)) ||
	    (rc = emit_string(emit, ctx, STORE_IDX_OBJECT, json_object_get(object, "ref"), seq)))
		return rc;
	if (json_is_string(org) && json_is_string(user)) {
		/* org ids cannot hold '/', so "org/user" is unambiguous. */
		size_t olen = json_string_length(org), ulen = json_string_length(user);
		char key[LEDGER_ID_MAX + 1 + LEDGER_STRING_MAX + 1];

		if (olen <= LEDGER_ID_MAX && ulen <= LEDGER_STRING_MAX) {
			memcpy(key, json_string_value(org), olen);
			key[olen] = '/';
			memcpy(key + olen + 1, json_string_value(user), ulen);
			if ((rc = emit(ctx, STORE_IDX_USER, key, olen + 1 + ulen, seq)))
				return rc;
		}
	}
	json_array_foreach(json_object_get(fields, "recipients"), i, v)
		if ((rc = emit_string(emit, ctx, STORE_IDX_RECIPIENT, v, seq)))
			return rc;
	json_array_foreach(json_object_get(fields, "subjects"), i, v) {
		char token[LEDGER_SUBJECT_TOKEN_LEN + 1];

		if (!json_is_string(v))
			continue;
		if (tokens != NULL) {
			rc = emit(ctx, STORE_IDX_SUBJECT, tokens[i],
			    strlen(tokens[i]), seq);
		} else if (subject_key == NULL) {
			rc = emit_string(emit, ctx, STORE_IDX_SUBJECT, v, seq);
		} else {
			rc = ledger_subject_token(subject_key, json_string_value(v),
			    json_string_length(v), token);
			if (rc == 0)
				rc = emit(ctx, STORE_IDX_SUBJECT, token, strlen(token), seq);
		}
		if (rc)
			return rc;
	}
	json_array_foreach(json_object_get(fields, "refs"), i, v) {
		uint8_t be[8];
		uint64_t ref = (uint64_t)json_integer_value(v);

		if (!json_is_integer(v))
			continue;
		for (int b = 7; b >= 0; b--, ref >>= 8)
			be[b] = ref & 0xff;
		if ((rc = emit(ctx, STORE_IDX_REFERRED, be, sizeof(be), seq)))
			return rc;
	}
	return LEDGER_OK;
}

int
index_records(uint64_t seq, const json_t *fields, const uint8_t *subject_key,
    index_emit_fn emit, void *ctx)
{
	return records(seq, fields, subject_key, NULL, emit, ctx);
}

int
index_event_records(uint64_t seq, const json_t *event,
    const char *const *tokens, index_emit_fn emit, void *ctx)
{
	return records(seq, event, NULL, tokens, emit, ctx);
}

/* A gathered record: its value sits in the batch's byte arena. */
struct index_record {
	uint64_t seq;
	size_t off;
	size_t len;
	int kind;
};

struct index_batch {
	struct index_record *recs;
	size_t n, cap;
	uint8_t *arena;
	size_t used, arena_cap;
};

struct index_batch *
index_batch_new(void)
{
	return xcalloc(1, sizeof(struct index_batch));
}

void
index_batch_free(struct index_batch *b)
{
	if (b == NULL)
		return;
	free(b->recs);
	free(b->arena);
	free(b);
}

void
index_batch_clear(struct index_batch *b)
{
	b->n = 0;
	b->used = 0;
}

static int
gather(void *ctx, int kind, const void *value, size_t len, uint64_t seq)
{
	struct index_batch *b = ctx;
	struct index_record *r;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->recs = xrealloc(b->recs, b->cap * sizeof(*b->recs));
	}
	if (len > b->arena_cap - b->used) {
		while (len > b->arena_cap - b->used)
			b->arena_cap = b->arena_cap ? b->arena_cap * 2 : 1 << 16;
		b->arena = xrealloc(b->arena, b->arena_cap);
	}
	memcpy(b->arena + b->used, value, len);
	r = &b->recs[b->n++];
	r->seq = seq;
	r->off = b->used;
	r->len = len;
	r->kind = kind;
	b->used += len;
	return LEDGER_OK;
}

int
index_batch_add(struct index_batch *b, uint64_t seq, const json_t *fields,
    const uint8_t *subject_key)
{
	return index_records(seq, fields, subject_key, gather, b);
}

/*
 * Kind, then the value's bytes, then seq: the store's key order (but for
 * values too long to be keys, which it stores by their hash).
 */
static int
cmp_record(const void *x, const void *y, void *arg)
{
	const struct index_record *a = x, *b = y;
	const uint8_t *arena = arg;
	size_t n = a->len < b->len ? a->len : b->len;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = memcmp(arena + a->off, arena + b->off, n)) != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int
same_key(const struct index_batch *b, const struct index_record *x,
    const struct index_record *y)
{
	return x->kind == y->kind && x->len == y->len &&
	    memcmp(b->arena + x->off, b->arena + y->off, x->len) == 0;
}

int
index_batch_write(struct index_batch *b, struct store_txn *txn)
{
	uint64_t *seqs = NULL;
	size_t cap = 0;
	int rc = LEDGER_OK;

	qsort_r(b->recs, b->n, sizeof(*b->recs), cmp_record, b->arena);
	/* Each key once, with all its seqs of the batch (repeats dropped). */
	for (size_t i = 0, j; i < b->n && rc == 0; i = j) {
		const struct index_record *r = &b->recs[i];
		size_t n = 0;

		for (j = i; j < b->n && same_key(b, r, &b->recs[j]); j++) {
			if (j > i && b->recs[j].seq == b->recs[j - 1].seq)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				seqs = xrealloc(seqs, cap * sizeof(*seqs));
			}
			seqs[n++] = b->recs[j].seq;
		}
		rc = store_index_put_seqs(txn, (enum store_index)r->kind,
		    b->arena + r->off, r->len, seqs, n);
	}
	free(seqs);
	index_batch_clear(b);
	return rc;
}
