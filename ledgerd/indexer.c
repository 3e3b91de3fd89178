/*
 * Index records of one entry: type, actor org, actor org/user, each
 * recipient, each subject token, the object ref and each ref (reversed, so
 * that lineage can find what rests on an entry).
 */
#include <string.h>

#include "ledger/error.h"

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

int
index_records(uint64_t seq, const json_t *fields, const uint8_t *subject_key,
    index_emit_fn emit, void *ctx)
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
		if (subject_key == NULL) {
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

static int
emit_to_store(void *ctx, int kind, const void *value, size_t len, uint64_t seq)
{
	return store_index_put(ctx, (enum store_index)kind, value, len, seq);
}

int
index_entry(struct store_txn *txn, uint64_t seq, const json_t *fields,
    const uint8_t *subject_key)
{
	return index_records(seq, fields, subject_key, emit_to_store, txn);
}
