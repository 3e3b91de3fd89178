/*
 * The CSV rows of the export (see ledger/csv.h): RFC 4180 quoting after
 * one guard against spreadsheet formulas, the same for every column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/csv.h"
#include "ledger/xmalloc.h"

const char ledger_csv_header[] = "seq,received_at,type,actor_org,actor_user,"
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
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

int
ledger_csv_cell_guarded(const char *s, size_t len)
{
	return s != NULL && len > 0 && strchr("=+-@\t\r'", s[0]) != NULL &&
	    s[0] != '\0';
}

/* One cell: the guard, then RFC 4180 quoting; then ',' or CRLF. */
static void
cell(struct sbuf *b, const char *s, size_t len, int last)
{
	int quoted = 0;
	size_t i;

	for (i = 0; s != NULL && i < len && !quoted; i++)
		quoted = s[i] == ',' || s[i] == '"' || s[i] == '\r' ||
		    s[i] == '\n';
	if (quoted)
		put(b, "\"", 1);
	if (ledger_csv_cell_guarded(s, len))
		put(b, "'", 1);
	for (i = 0; s != NULL && i < len; i++) {
		if (s[i] == '"')
			put(b, "\"", 1);
		put(b, &s[i], 1);
	}
	if (quoted)
		put(b, "\"", 1);
	put(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void
str_cell(struct sbuf *b, const json_t *v)
{
	cell(b, json_string_value(v), json_string_length(v), 0);
}

/* An array of strings or integers joined by ';'. */
static void
list_cell(struct sbuf *b, const json_t *array)
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
	cell(b, tmp.p, tmp.len, 0);
	free(tmp.p);
}

void
ledger_csv_row(const json_t *entry, const uint8_t leaf[LEDGER_HASH_LEN],
    char **out, size_t *len)
{
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1], num[24], *details;
	struct sbuf b = { NULL, 0, 0 };
	const json_t *actor, *object, *seq;

	actor = json_object_get(entry, "actor");
	object = json_object_get(entry, "object");
	seq = json_object_get(entry, "seq");
	if (json_is_integer(seq)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(seq));
		cell(&b, num, strlen(num), 0);
	} else
		cell(&b, NULL, 0, 0);
	str_cell(&b, json_object_get(entry, "received_at"));
	str_cell(&b, json_object_get(entry, "type"));
	str_cell(&b, json_object_get(actor, "org"));
	str_cell(&b, json_object_get(actor, "user"));
	str_cell(&b, json_object_get(actor, "role"));
	str_cell(&b, json_object_get(entry, "submitter"));
	list_cell(&b, json_object_get(entry, "subjects"));
	list_cell(&b, json_object_get(entry, "recipients"));
	str_cell(&b, json_object_get(object, "ref"));
	str_cell(&b, json_object_get(object, "digest"));
	str_cell(&b, json_object_get(entry, "purpose"));
	str_cell(&b, json_object_get(entry, "legal_basis"));
	str_cell(&b, json_object_get(entry, "occurred_at"));
	list_cell(&b, json_object_get(entry, "refs"));
	details = json_object_get(entry, "details") == NULL ? NULL :
	    json_dumps(json_object_get(entry, "details"),
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	cell(&b, details, details ? strlen(details) : 0, 0);
	free(details);
	str_cell(&b, json_object_get(entry, "prev"));
	ledger_b64_encode(leaf, LEDGER_HASH_LEN, b64);
	cell(&b, b64, strlen(b64), 1);
	*out = b.p;
	*len = b.len;
}
