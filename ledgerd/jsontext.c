/* JSON text written as it is read (jsontext.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "jsontext.h"

void
jsontext_reserve(struct json_text *t, size_t more)
{
	if (t->cap - t->len >= more)
		return;
	t->cap = t->cap * 2 + more;
	t->buf = xrealloc(t->buf, t->cap);
}

void
jsontext_raw(struct json_text *t, const char *s, size_t n)
{
	if (n == 0)
		return;		/* s may be an empty text's NULL */
	jsontext_reserve(t, n);
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

void
jsontext_str(struct json_text *t, const char *s)
{
	jsontext_raw(t, s, strlen(s));
}

void
jsontext_u64(struct json_text *t, uint64_t v)
{
	char digits[24];

	jsontext_raw(t, digits, (size_t)snprintf(digits, sizeof(digits),
	    "%" PRIu64, v));
}

/* Whether s holds only printable ASCII, where JSON escapes just " and \. */
static int
printable_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * Entries are ASCII (their encoding escapes the rest), so the common case is
 * done here; any other text goes through jansson itself.
 */
int
jsontext_string(struct json_text *t, const char *s, size_t n)
{
	json_t *str;
	size_t i, need;

	if (printable_ascii(s, n)) {
		jsontext_reserve(t, 2 * n + 2);
		t->buf[t->len++] = '"';
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				t->buf[t->len++] = '\\';
			t->buf[t->len++] = s[i];
		}
		t->buf[t->len++] = '"';
		return 0;
	}
	if ((str = json_stringn(s, n)) == NULL)
		return LEDGER_ECORRUPT;
	if ((need = json_dumpb(str, NULL, 0, JSON_ENCODE_ANY |
	    JSON_COMPACT)) > 0) {
		jsontext_reserve(t, need);
		t->len += json_dumpb(str, t->buf + t->len, need,
		    JSON_ENCODE_ANY | JSON_COMPACT);
	}
	json_decref(str);
	return need > 0 ? 0 : LEDGER_ECORRUPT;
}
