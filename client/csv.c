/*
 * The rows of entries.csv (see csv.h).  RFC 4180: a field holding a comma,
 * quote, CR or LF is quoted, with quotes doubled.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "csv.h"

const char csv_header[] = "seq,received_at,type,actor_org,actor_user,"
    "actor_role,submitter,subjects,recipients,object_ref,object_digest,"
    "purpose,legal_basis,occurred_at,refs,details,prev,leaf_hash\r\n";

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
field(struct sbuf *b, const char *s, size_t len, int last)
{
	size_t i;

	if (s != NULL && strcspn(s, ",\"\r\n") < len) {
		put(b, "\"", 1);
		for (i = 0; i < len; i++) {
			if (s[i] == '"')
				put(b, "\"", 1);
			put(b, &s[i], 1);
		}
		put(b, "\"", 1);
	} else if (s != NULL)
		put(b, s, len);
	put(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void
str_field(struct sbuf *b, const json_t *v)
{
	field(b, json_string_value(v), json_string_length(v), 0);
}

static void
list_field(struct sbuf *b, const json_t *array)
{
	struct sbuf tmp = { NULL, 0, 0 };
	const json_t *v;
	char num[24];
	size_t i;

	put(&tmp, "", 0);
	json_array_foreach(array, i, v) {
		if (i > 0)
			put(&tmp, ";", 1);
		if (json_is_string(v))
			put(&tmp, json_string_value(v), json_string_length(v));
		else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			put(&tmp, num, strlen(num));
		}
	}
	field(b, tmp.p, tmp.len, 0);
	free(tmp.p);
}

char *
csv_row(const char *bytes, size_t bytes_len, size_t *len)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1], num[24], *details;
	struct sbuf b = { NULL, 0, 0 };
	const json_t *actor, *object;
	json_t *entry;

	if ((entry = json_loadb(bytes, bytes_len, 0, NULL)) == NULL ||
	    !json_is_object(entry) ||
	    ledger_leaf_hash(bytes, bytes_len, leaf) != 0) {
		json_decref(entry);
		return NULL;
	}
	actor = json_object_get(entry, "actor");
	object = json_object_get(entry, "object");
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(entry, "seq")));
	field(&b, num, strlen(num), 0);
	str_field(&b, json_object_get(entry, "received_at"));
	str_field(&b, json_object_get(entry, "type"));
	str_field(&b, json_object_get(actor, "org"));
	str_field(&b, json_object_get(actor, "user"));
	str_field(&b, json_object_get(actor, "role"));
	str_field(&b, json_object_get(entry, "submitter"));
	list_field(&b, json_object_get(entry, "subjects"));
	list_field(&b, json_object_get(entry, "recipients"));
	str_field(&b, json_object_get(object, "ref"));
	str_field(&b, json_object_get(object, "digest"));
	str_field(&b, json_object_get(entry, "purpose"));
	str_field(&b, json_object_get(entry, "legal_basis"));
	str_field(&b, json_object_get(entry, "occurred_at"));
	list_field(&b, json_object_get(entry, "refs"));
	details = json_object_get(entry, "details") == NULL ? NULL :
	    json_dumps(json_object_get(entry, "details"),
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	field(&b, details, details ? strlen(details) : 0, 0);
	free(details);
	str_field(&b, json_object_get(entry, "prev"));
	ledger_b64_encode(leaf, LEDGER_HASH_LEN, b64);
	field(&b, b64, strlen(b64), 1);
	json_decref(entry);
	*len = b.len;
	return b.p;
}
