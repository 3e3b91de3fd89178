/*
 * ledger_entry_scan against the canonical step it stands in for (parse with
 * JSON_REJECT_DUPLICATES, ledger_entry_dump, compare): every byte inside a
 * string, \u escapes of many code points in both cases, every order of two
 * keys, numbers at the edges of int64, nesting, and the view of an entry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "testlib.h"

/* The canonical step of ledger_entry_parse, done the long way. */
static int
canonical(const char *bytes, size_t len)
{
	json_t *j;
	char *again;
	size_t again_len;
	int same = 0;

	if (len > LEDGER_ENTRY_MAX)
		return 0;
	j = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(j) && ledger_entry_dump(j, &again, &again_len) == 0) {
		same = again_len == len && memcmp(again, bytes, len) == 0;
		free(again);
	}
	json_decref(j);
	return same;
}

static size_t undecided;

/*
 * The scanner's verdict on bytes equals the canonical step's, or is
 * undecided when undecided_ok.
 */
static void
agrees_(const char *file, int line, const char *bytes, size_t len,
    int undecided_ok)
{
	enum ledger_scan_verdict v = ledger_entry_scan(bytes, len, NULL);
	int want = canonical(bytes, len);

	if (v == LEDGER_SCAN_UNDECIDED && undecided_ok) {
		undecided++;
		return;
	}
	if (v == (want ? LEDGER_SCAN_CANONICAL : LEDGER_SCAN_NOT_CANONICAL))
		return;
	fprintf(stderr, "  %s:%d: scanner says %d, canonical step %d, for\n"
	    "  %.*s\n", file, line, (int)v, want, (int)(len > 300 ? 300 : len),
	    bytes);
	test_failures_++;
}
#define AGREES(b, n) agrees_(__FILE__, __LINE__, (b), (n), 0)
#define AGREES_OR_UNDECIDED(b, n) agrees_(__FILE__, __LINE__, (b), (n), 1)
#define AGREES_S(s) AGREES((s), strlen(s))

/* Every byte, raw, inside a string value, in a key, and after a value. */
static void
test_every_byte(void)
{
	char b[32];
	int c;

	for (c = 0; c < 256; c++) {
		snprintf(b, sizeof(b), "{\"a\":\"x%cy\"}", c);
		b[6] = (char)c;
		AGREES(b, 11);
		/* Alone, at the end of the string. */
		snprintf(b, sizeof(b), "{\"a\":\"x%c\"}", c);
		b[6] = (char)c;
		AGREES(b, 10);
		/* In a key: escapes are left undecided, nothing else. */
		snprintf(b, sizeof(b), "{\"a%c\":1}", c);
		b[3] = (char)c;
		if (c == '\\')
			AGREES_OR_UNDECIDED(b, 9);
		else
			AGREES(b, 9);
		/* Where the grammar wants a structural character. */
		snprintf(b, sizeof(b), "{\"a\":1%c}", c);
		b[6] = (char)c;
		if (c == '.' || c == 'e' || c == 'E')
			AGREES_OR_UNDECIDED(b, 8);
		else
			AGREES(b, 8);
		snprintf(b, sizeof(b), "{\"a\":[1%c2]}", c);
		b[7] = (char)c;
		if (c == '.' || c == 'e' || c == 'E')
			AGREES_OR_UNDECIDED(b, 11);
		else
			AGREES(b, 11);
		/* Any escape letter. */
		snprintf(b, sizeof(b), "{\"a\":\"\\%c\"}", c);
		b[7] = (char)c;
		AGREES(b, 10);
	}
}

/* \uXXXX of many code points, uppercase and lowercase, and pairs. */
static void
test_unicode_escapes(void)
{
	static const unsigned extra[] = { 0x7ff, 0x800, 0xfff, 0x1000, 0xabcd,
	    0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfeff, 0xfffd,
	    0xfffe, 0xffff };
	static const unsigned halves[] = { 0xd800, 0xd83d, 0xdbff, 0xdc00,
	    0xde00, 0xdfff, 0x0041, 0x00e9, 0xe000 };
	static const char *const fmts[] = { "%04X", "%04x" };
	char b[64], h1[8], h2[8];
	unsigned cp, i, j, f, g, n = 0;

	for (cp = 0; cp < 0x400 + sizeof(extra) / sizeof(extra[0]); cp++) {
		unsigned u = cp < 0x400 ? cp : extra[cp - 0x400];

		for (f = 0; f < 2; f++) {
			snprintf(h1, sizeof(h1), fmts[f], u);
			snprintf(b, sizeof(b), "{\"a\":\"\\u%s\"}", h1);
			AGREES_S(b);
			snprintf(b, sizeof(b), "{\"a\":\"x\\u%sy\"}", h1);
			AGREES_S(b);
			n++;
		}
	}
	for (i = 0; i < sizeof(halves) / sizeof(halves[0]); i++)
		for (j = 0; j < sizeof(halves) / sizeof(halves[0]); j++)
			for (f = 0; f < 2; f++)
				for (g = 0; g < 2; g++) {
					snprintf(h1, sizeof(h1), fmts[f], halves[i]);
					snprintf(h2, sizeof(h2), fmts[g], halves[j]);
					snprintf(b, sizeof(b),
					    "{\"a\":\"\\u%s\\u%s\"}", h1, h2);
					AGREES_S(b);
					snprintf(b, sizeof(b),
					    "{\"a\":\"\\u%s\\\\u%s\"}", h1, h2);
					AGREES_S(b);
					n++;
				}
	/* Cut short. */
	AGREES_S("{\"a\":\"\\u00E\"}");
	AGREES_S("{\"a\":\"\\uD83D\\uDE0\"}");
	AGREES_S("{\"a\":\"\\uD83D\\u\"}");
	AGREES_S("{\"a\":\"\\uD83D\"}");
	AGREES_S("{\"a\":\"\\uD83D");
	CHECK(n > 2000);
}

/* Every order of two keys from a set, at the top and nested. */
static void
test_key_orders(void)
{
	static const char *const extra[] = { "", "ab", "aa", "a a", "A",
	    "b", "ba", "\x7f", "~", "a\x7f", "seq", "sequence", "se" };
	char keys[128][8], b[64];
	size_t n = 0, i, j;
	int c;

	for (c = 0x20; c <= 0x7f; c++)
		if (c != '"' && c != '\\') {
			keys[n][0] = (char)c;
			keys[n++][1] = '\0';
		}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		snprintf(keys[n++], sizeof(keys[0]), "%s", extra[i]);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			snprintf(b, sizeof(b), "{\"%s\":1,\"%s\":2}", keys[i],
			    keys[j]);
			AGREES_S(b);
			snprintf(b, sizeof(b), "{\"x\":{\"%s\":[],\"%s\":{}}}",
			    keys[i], keys[j]);
			AGREES_S(b);
		}
	/* Three keys; an escaped key is left to the parser. */
	AGREES_S("{\"a\":1,\"b\":2,\"c\":3}");
	AGREES_S("{\"a\":1,\"c\":2,\"b\":3}");
	AGREES_S("{\"a\":{\"b\":1},\"a\":{\"b\":1}}");
	AGREES_OR_UNDECIDED("{\"\\u00E9\":1}", 12);
	CHECK(ledger_entry_scan("{\"\\u00E9\":1}", 12, NULL) ==
	    LEDGER_SCAN_UNDECIDED);
}

/* Numbers, literals, and the shape of the whole. */
static void
test_values(void)
{
	static const char *const values[] = { "0", "-0", "1", "-1", "01",
	    "-01", "00", "10", "123456789", "9223372036854775807",
	    "9223372036854775808", "-9223372036854775808",
	    "-9223372036854775809", "18446744073709551615",
	    "18446744073709551616", "99999999999999999999999", "+1", "-",
	    "--1", "1-", "0x10", "true", "false", "null", "tru", "truex",
	    "True", "nul", "\"\"", "[]", "{}", "[1,2]", "[1,]", "[,1]", "[1 ,2]",
	    "{\"b\":1,}", "[[]]", "[{}]", "[\"a\",\"b\"]", "Infinity", "NaN" };
	static const char *const reals[] = { "1.0", "0.5", "-0.0", "1e5",
	    "1E5", "1.5e-7", "12.", "1.e5", "0.1", "1e400" };
	static const char *const wholes[] = { "", "{", "}", "{}", "[]", "{} ",
	    " {}", "{}{}", "{},", "{\"a\"}", "{\"a\":}", "{\"a\" :1}",
	    "{\"a\":1", "{\"a\":1]", "[{}]", "\"a\"", "1", "null", "{\"a\":[}",
	    "{\"a\":[1}", "{\"a\":{]}", "{\"a\":{\"b\":1]}", "{:1}", "{1:1}" };
	char b[128];
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(b, sizeof(b), "{\"a\":%s}", values[i]);
		AGREES_S(b);
		snprintf(b, sizeof(b), "{\"a\":[%s],\"b\":%s}", values[i],
		    values[i]);
		AGREES_S(b);
	}
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		snprintf(b, sizeof(b), "{\"a\":%s}", reals[i]);
		AGREES_OR_UNDECIDED(b, strlen(b));
	}
	for (i = 0; i < sizeof(wholes) / sizeof(wholes[0]); i++)
		AGREES(wholes[i], strlen(wholes[i]));
	AGREES("{\"a\":1}\0", 8);
	AGREES("{\"a\":\"\0\"}", 9);
}

/* Nesting up to and past the scanner's depth and Jansson's. */
static void
test_depth(void)
{
	static const size_t depths[] = { 1, 2, 63, 64, 65, 2047, 2048, 2049,
	    3000 };
	size_t i, k, d, n;
	char *b;

	for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		d = depths[i];
		b = xmalloc(2 * d + 16);
		n = 0;
		b[n++] = '{';
		memcpy(b + n, "\"a\":", 4);
		n += 4;
		for (k = 1; k < d; k++)
			b[n++] = '[';
		for (k = 1; k < d; k++)
			b[n++] = ']';
		b[n++] = '}';
		if (d == 1)
			n = 1, b[n++] = '}';
		if (d <= LEDGER_SCAN_DEPTH_MAX) {
			AGREES(b, n);
			CHECK(ledger_entry_scan(b, n, NULL) ==
			    LEDGER_SCAN_CANONICAL);
		} else {
			AGREES_OR_UNDECIDED(b, n);
		}
		/* Not closed. */
		AGREES_OR_UNDECIDED(b, n - 1);
		free(b);
	}
	b = xmalloc(LEDGER_ENTRY_MAX + 2);
	for (n = LEDGER_ENTRY_MAX - 1; n <= LEDGER_ENTRY_MAX + 1; n++) {
		memset(b, 'x', n);
		memcpy(b, "{\"a\":\"", 6);
		memcpy(b + n - 2, "\"}", 2);
		AGREES(b, n);
	}
	free(b);
}

static const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN] = { 9 };

static int
span_is(struct ledger_span sp, const json_t *s)
{
	return json_is_string(s) && sp.len == json_string_length(s) &&
	    memcmp(sp.s, json_string_value(s), sp.len) == 0;
}

/* The view of a real entry: what Jansson reads there. */
static void
test_view(void)
{
	struct ledger_entry_meta meta;
	struct ledger_entry_view view;
	json_t *ev, *e;
	char *bytes, *b;
	size_t len, n;

	ev = json_loads("{\"type\":\"share\",\"actor\":{\"org\":\"a\","
	    "\"user\":\"u\"},\"subjects\":[\"x\",\"y\",\"z\"],\"recipients\":"
	    "[\"b\"],\"purpose\":\"p\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
	    "\"object\":{\"ref\":\"r\",\"digest\":\"sha256:"
	    "139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c4196055232202\"},"
	    "\"details\":{\"subjects\":[1],\"seq\":-4,\"list\":[[\"q\"]]}}", 0,
	    NULL);
	REQUIRE(ev != NULL);
	memset(&meta, 0, sizeof(meta));
	meta.seq = 1234567;
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:26:54.123456Z");
	meta.submitter = "app";
	memset(meta.salt, 0x5a, sizeof(meta.salt));
	REQUIRE(ledger_entry_encode(ev, &meta, subject_key, &bytes, &len) == 0);
	REQUIRE(ledger_entry_parse(bytes, len, &e, NULL) == 0);
	CHECK(ledger_entry_scan(bytes, len, &view) == LEDGER_SCAN_CANONICAL);
	CHECK_INT(view.present, 0x7f);
	CHECK_INT(view.typed, 0x7f);
	CHECK_INT(view.v, 2);
	CHECK_INT(view.seq, 1234567);
	CHECK(span_is(view.received_at, json_object_get(e, "received_at")));
	CHECK(span_is(view.submitter, json_object_get(e, "submitter")));
	CHECK(span_is(view.prev, json_object_get(e, "prev")));
	CHECK(span_is(view.salt, json_object_get(e, "salt")));
	CHECK_INT(view.n_subjects, 3);
	for (n = 0; n < 3; n++)
		CHECK(span_is(view.subjects[n], json_array_get(json_object_get(e,
		    "subjects"), n)));
	json_decref(e);

	/* Members of other types: present but not typed. */
	b = "{\"prev\":1,\"salt\":null,\"seq\":-1,\"subjects\":[\"a\",1],"
	    "\"v\":\"2\"}";
	CHECK(ledger_entry_scan(b, strlen(b), &view) == LEDGER_SCAN_CANONICAL);
	CHECK_INT(view.present, LEDGER_VIEW_PREV | LEDGER_VIEW_SALT |
	    LEDGER_VIEW_SEQ | LEDGER_VIEW_SUBJECTS | LEDGER_VIEW_V);
	CHECK_INT(view.typed, 0);
	b = "{\"subjects\":[[\"a\"]],\"v\":-9223372036854775808}";
	CHECK(ledger_entry_scan(b, strlen(b), &view) == LEDGER_SCAN_CANONICAL);
	CHECK_INT(view.typed, LEDGER_VIEW_V);
	CHECK(view.v == INT64_MIN);
	b = "{\"subjects\":{\"a\":\"b\"}}";
	CHECK(ledger_entry_scan(b, strlen(b), &view) == LEDGER_SCAN_CANONICAL);
	CHECK_INT(view.typed, 0);
	CHECK_INT(view.n_subjects, 0);
	free(bytes);
	json_decref(ev);
}

int
main(void)
{
	RUN(test_every_byte);
	RUN(test_unicode_escapes);
	RUN(test_key_orders);
	RUN(test_values);
	RUN(test_depth);
	RUN(test_view);
	printf("  (%zu inputs left undecided, as allowed)\n", undecided);
	return TEST_SUMMARY();
}
