/*
 * ledger_entry_parse, the one reading of entry bytes that the daemon and
 * ledgerctl share: a real entry is accepted and every other spelling of it
 * (escapes, key orders, white space, number forms, duplicate keys, bytes
 * around it) is refused, so that no reader can find a field another misses.
 * Every spelling tried is also given to ledger_entry_scan, whose verdict
 * must be the canonical step's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "testlib.h"

static const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN] = { 7, 7, 7, 7 };

/* Strings that the canonical form spells in several ways: '/', é, \n, \". */
static const char event_text[] =
    "{\"type\":\"share\",\"actor\":{\"org\":\"police\",\"user\":\"u-1047\","
    "\"role\":\"analyst\"},\"subjects\":[\"NL-BSN-123456782\","
    "\"NL-BSN-987654321\"],\"recipients\":[\"kmar\",\"om\"],"
    "\"object\":{\"ref\":\"CASE-2026-0042/doc-7\",\"digest\":\"sha256:"
    "139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c4196055232202\"},"
    "\"purpose\":\"joint risk assessment, caf\\u00e9 meeting\","
    "\"occurred_at\":\"2026-03-14T09:26:53Z\",\"legal_basis\":\"Art. 20 Wpg\","
    "\"details\":{\"channel\":\"case meeting\",\"pages\":12,"
    "\"note\":\"line one\\nsaid \\\"yes\\\" \\\\ done\",\"ratio\":0.5}}";

static char *entry;		/* the canonical entry bytes */
static size_t entry_len;
static char token1[LEDGER_SUBJECT_TOKEN_LEN + 1];
static char token2[LEDGER_SUBJECT_TOKEN_LEN + 1];
static size_t scanned, scan_decided;	/* spellings given to the scanner */

static void
make_entry(void)
{
	struct ledger_entry_meta meta;
	json_t *ev = json_loads(event_text, 0, NULL);

	memset(&meta, 0, sizeof(meta));
	meta.seq = 5;
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:26:54.123456Z");
	meta.submitter = "police-app";
	memset(meta.prev, 0xab, sizeof(meta.prev));
	if (ev == NULL || ledger_entry_encode(ev, &meta, subject_key, &entry,
	    &entry_len) != 0) {
		fprintf(stderr, "cannot build the sample entry\n");
		exit(1);
	}
	json_decref(ev);
	ledger_subject_token(subject_key, "NL-BSN-123456782", 16, token1);
	ledger_subject_token(subject_key, "NL-BSN-987654321", 16, token2);
}

/* Bytes with [at, at + cut) replaced by put. */
static char *
splice(const char *s, size_t len, size_t at, size_t cut, const char *put,
    size_t put_len, size_t *out_len)
{
	char *r = xmalloc(len - cut + put_len + 1);

	memcpy(r, s, at);
	memcpy(r + at, put, put_len);
	memcpy(r + at + put_len, s + at + cut, len - at - cut);
	*out_len = len - cut + put_len;
	r[*out_len] = '\0';
	return r;
}

/* The entry with the first occurrence of from replaced by to. */
static char *
replace(const char *from, const char *to, size_t *out_len)
{
	const char *p = memmem(entry, entry_len, from, strlen(from));

	if (p == NULL) {
		fprintf(stderr, "  the sample entry holds no %s\n", from);
		exit(1);
	}
	return splice(entry, entry_len, (size_t)(p - entry), strlen(from), to,
	    strlen(to), out_len);
}

/*
 * ledger_entry_scan's verdict on bytes is that of the canonical step
 * (parse with JSON_REJECT_DUPLICATES, dump, compare), or undecided.
 */
static void
scan_verdict_agrees(const char *file, int line, const char *bytes, size_t len)
{
	enum ledger_scan_verdict v = ledger_entry_scan(bytes, len, NULL);
	json_t *j = NULL;
	char *again;
	size_t again_len;
	int want = 0;

	if (len <= LEDGER_ENTRY_MAX)
		j = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(j) && ledger_entry_dump(j, &again, &again_len) == 0) {
		want = again_len == len && memcmp(again, bytes, len) == 0;
		free(again);
	}
	json_decref(j);
	scanned++;
	if (v == LEDGER_SCAN_UNDECIDED)
		return;
	scan_decided++;
	if (v == (want ? LEDGER_SCAN_CANONICAL : LEDGER_SCAN_NOT_CANONICAL))
		return;
	fprintf(stderr, "  %s:%d: ledger_entry_scan says %d, the canonical "
	    "step %d, for\n  %.*s\n", file, line, (int)v, want,
	    (int)(len > 400 ? 400 : len), bytes);
	test_failures_++;
}

/*
 * The same for the bytes as they are and, since the sample's real number
 * leaves the scanner undecided, for their twin with the integer 505 in
 * place of "ratio":0.5 (same length), where it must decide.
 */
static void
scan_agrees_(const char *file, int line, const char *bytes, size_t len)
{
	static const char real[] = "\"ratio\":0.5";
	const char *p;
	char *twin;

	scan_verdict_agrees(file, line, bytes, len);
	if ((p = memmem(bytes, len, real, sizeof(real) - 1)) == NULL)
		return;
	twin = xmalloc(len);
	memcpy(twin, bytes, len);
	memcpy(twin + (p - bytes) + sizeof(real) - 4, "505", 3);
	scan_verdict_agrees(file, line, twin, len);
	free(twin);
}
#define SCAN_AGREES(b, n) scan_agrees_(__FILE__, __LINE__, (b), (n))

static int
refused_(const char *file, int line, const char *bytes, size_t len,
    const char *code)
{
	struct ledger_field_error err;
	json_t *e = (json_t *)1;
	int rc = ledger_entry_parse(bytes, len, &e, &err);

	scan_agrees_(file, line, bytes, len);
	if (rc == LEDGER_EINVAL && e == NULL && (code == NULL ||
	    strcmp(err.code, code) == 0))
		return 1;
	fprintf(stderr, "  %s:%d: want refused (%s), got rc %d code %s for\n"
	    "  %.*s\n", file, line, code ? code : "any", rc,
	    rc ? err.code : "-", (int)(len > 400 ? 400 : len), bytes);
	if (rc == 0)
		json_decref(e);
	test_failures_++;
	return 0;
}
#define REFUSED(b, n, code) refused_(__FILE__, __LINE__, (b), (n), (code))

/* Refuses the entry with from replaced by to. */
#define REFUSED_WITH(from, to, code)					\
	do {								\
		size_t n_;						\
		char *b_ = replace((from), (to), &n_);			\
		REFUSED(b_, n_, (code));				\
		free(b_);						\
	} while (0)

static void
test_accepts_the_entry(void)
{
	struct ledger_field_error err;
	json_t *e = NULL;
	char *again;
	size_t len;

	REQUIRE(ledger_entry_parse(entry, entry_len, &e, &err) == 0);
	SCAN_AGREES(entry, entry_len);
	/* The sample holds a real (ratio): the scanner leaves it open. */
	CHECK(ledger_entry_scan(entry, entry_len, NULL) ==
	    LEDGER_SCAN_UNDECIDED);
	CHECK_INT(json_integer_value(json_object_get(e, "seq")), 5);
	CHECK_STR(json_string_value(json_array_get(json_object_get(e,
	    "subjects"), 0)), token1);
	/* A subject in second place is read like the first. */
	CHECK_STR(json_string_value(json_array_get(json_object_get(e,
	    "subjects"), 1)), token2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(e,
	    "object"), "ref")), "CASE-2026-0042/doc-7");
	CHECK(ledger_entry_dump(e, &again, &len) == 0);
	CHECK_INT(len, entry_len);
	CHECK(len == entry_len && memcmp(again, entry, len) == 0);
	free(again);
	json_decref(e);
	/* The spellings the canonical form itself uses. */
	CHECK(memmem(entry, entry_len, "caf\\u00E9", 9) != NULL);
	CHECK(memmem(entry, entry_len, "one\\nsaid \\\"yes\\\" \\\\", 20) != NULL);
	CHECK(memmem(entry, entry_len, "\"pages\":12,", 11) != NULL);
	CHECK(memmem(entry, entry_len, "\"ratio\":0.5}", 12) != NULL);
}

/*
 * Every character of every string written as \u00XX, in lower and upper
 * case hex: the same value, another spelling.
 */
static void
test_unicode_escapes(void)
{
	char esc[8], *b;
	size_t i, n, tried = 0;
	int in_string = 0;

	for (i = 0; i < entry_len; i++) {
		char c = entry[i];

		if (c == '"') {
			in_string = !in_string;
			continue;
		}
		if (c == '\\') {
			/* Leave escapes as they are. */
			i += entry[i + 1] == 'u' ? 5 : 1;
			continue;
		}
		if (!in_string)
			continue;
		snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)c);
		b = splice(entry, entry_len, i, 1, esc, 6, &n);
		REFUSED(b, n, "not_canonical");
		free(b);
		snprintf(esc, sizeof(esc), "\\u%04X", (unsigned char)c);
		b = splice(entry, entry_len, i, 1, esc, 6, &n);
		REFUSED(b, n, "not_canonical");
		free(b);
		tried++;
	}
	CHECK(tried > 300);
}

/* The other escapes of JSON, and raw bytes where an escape is due. */
static void
test_other_escapes(void)
{
	REFUSED_WITH("0042/doc", "0042\\/doc", "not_canonical");
	REFUSED_WITH("\"share\"", "\"sh\\u0061re\"", "not_canonical");
	REFUSED_WITH("\"type\"", "\"\\u0074ype\"", "not_canonical");
	REFUSED_WITH("\"subjects\"", "\"subject\\u0073\"", "not_canonical");
	/* Jansson writes upper-case hex digits. */
	REFUSED_WITH("caf\\u00E9", "caf\\u00e9", "not_canonical");
	REFUSED_WITH("caf\\u00E9", "caf\xc3\xa9", "not_canonical");
	REFUSED_WITH("caf\\u00E9", "caf\\ud83d\\ude00", "not_canonical");
	REFUSED_WITH("one\\nsaid", "one\\u000asaid", "not_canonical");
	REFUSED_WITH("one\\nsaid", "one\\u000Asaid", "not_canonical");
	REFUSED_WITH("\\\"yes\\\"", "\\u0022yes\\u0022", "not_canonical");
	REFUSED_WITH("\\\\ done", "\\u005c done", "not_canonical");
	/* A NUL, escaped or raw, inside a string. */
	REFUSED_WITH("case meeting", "case\\u0000meeting", NULL);
	{
		size_t n;
		char *b = replace("case meeting", "case meeting", &n);
		char *p = memmem(b, n, "case meeting", 12);

		p[4] = '\0';
		REFUSED(b, n, NULL);
		free(b);
	}
	/* A subject token escaped is still not its canonical spelling. */
	{
		char from[64], to[64];
		size_t n;
		char *b;

		snprintf(from, sizeof(from), "\"%s\"", token2);
		snprintf(to, sizeof(to), "\"\\u%04x%s\"", token2[0], token2 + 1);
		b = replace(from, to, &n);
		REFUSED(b, n, "not_canonical");
		free(b);
	}
}

/* White space anywhere outside strings, of each kind JSON allows. */
static void
test_white_space(void)
{
	static const char *const ws[] = { " ", "\t", "\n", "\r", "\r\n" };
	size_t i, k, n, tried = 0;
	int in_string = 0;
	char *b;

	for (i = 0; i <= entry_len; i++) {
		if (i > 0 && entry[i - 1] == '"' && (i < 2 ||
		    entry[i - 2] != '\\'))
			in_string = !in_string;
		if (in_string)
			continue;
		for (k = 0; k < sizeof(ws) / sizeof(ws[0]); k++) {
			b = splice(entry, entry_len, i, 0, ws[k], strlen(ws[k]),
			    &n);
			REFUSED(b, n, NULL);
			free(b);
		}
		tried++;
	}
	CHECK(tried > 50);
}

/* Swapping any two neighbouring top-level members gives another order. */
static void
test_key_orders(void)
{
	json_t *e = json_loadb(entry, entry_len, 0, NULL);
	const char *keys[32], *k;
	json_t *v;
	size_t n = 0, i, j, len;
	char *text, *part, *tmp;

	REQUIRE(e != NULL);
	json_object_foreach(e, k, v)
		if (n < 32)
			keys[n++] = k;
	/* Sorted, as the canonical form has them. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			k = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = k;
		}
	for (i = 0; i + 1 < n; i++) {
		text = xstrdup("{");
		for (j = 0; j < n; j++) {
			size_t at = j == i ? i + 1 : j == i + 1 ? i : j;

			part = json_dumps(json_object_get(e, keys[at]),
			    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
			    JSON_ENCODE_ANY);
			tmp = xasprintf("%s%s\"%s\":%s", text, j ? "," : "",
			    keys[at], part);
			free(part);
			free(text);
			text = tmp;
		}
		tmp = xasprintf("%s}", text);
		free(text);
		text = tmp;
		len = strlen(text);
		CHECK_INT(len, entry_len);
		REFUSED(text, len, "not_canonical");
		free(text);
	}
	/* Nested: actor's members out of order. */
	REFUSED_WITH("{\"org\":\"police\",\"role\":\"analyst\",\"user\":\"u-1047\"}",
	    "{\"role\":\"analyst\",\"org\":\"police\",\"user\":\"u-1047\"}",
	    "not_canonical");
	json_decref(e);
}

/* A key twice, at the top level and nested, with the same or another value. */
static void
test_duplicate_keys(void)
{
	char from[128], to[256];

	/* The subject only in the second "subjects": a reader of the first
	 * would miss it. */
	snprintf(from, sizeof(from), "\"subjects\":[\"%s\",\"%s\"]", token1,
	    token2);
	snprintf(to, sizeof(to), "\"subjects\":[\"%s\"],\"subjects\":[\"%s\"]",
	    token1, token2);
	REFUSED_WITH(from, to, "invalid_json");
	REFUSED_WITH("\"type\":\"share\"",
	    "\"type\":\"share\",\"type\":\"share\"", "invalid_json");
	REFUSED_WITH("\"seq\":5", "\"seq\":5,\"seq\":6", "invalid_json");
	REFUSED_WITH("\"org\":\"police\"", "\"org\":\"police\",\"org\":\"om\"",
	    "invalid_json");
	REFUSED_WITH("\"channel\":\"case meeting\"",
	    "\"channel\":\"case meeting\",\"channel\":\"case meeting\"",
	    "invalid_json");
	/* The same key spelled twice differently. */
	REFUSED_WITH("\"type\":\"share\"",
	    "\"type\":\"share\",\"typ\\u0065\":\"share\"", "invalid_json");
}

/* Numbers: one spelling each; integers in server fields. */
static void
test_number_forms(void)
{
	/* 12.0 is a real, not the integer 12: another entry, canonical. */
	{
		json_t *e = NULL;
		size_t n;
		char *b = replace("\"pages\":12,", "\"pages\":12.0,", &n);

		CHECK_INT(ledger_entry_parse(b, n, &e, NULL), 0);
		SCAN_AGREES(b, n);
		CHECK(json_is_real(json_object_get(json_object_get(e,
		    "details"), "pages")));
		json_decref(e);
		free(b);
	}
	REFUSED_WITH("\"pages\":12,", "\"pages\":1.2e1,", "not_canonical");
	REFUSED_WITH("\"pages\":12,", "\"pages\":12e0,", "not_canonical");
	REFUSED_WITH("\"pages\":12,", "\"pages\":12E0,", "not_canonical");
	REFUSED_WITH("\"pages\":12,", "\"pages\":012,", NULL);
	REFUSED_WITH("\"pages\":12,", "\"pages\":+12,", NULL);
	REFUSED_WITH("\"ratio\":0.5}", "\"ratio\":0.50}", "not_canonical");
	REFUSED_WITH("\"ratio\":0.5}", "\"ratio\":5e-1}", "not_canonical");
	REFUSED_WITH("\"ratio\":0.5}", "\"ratio\":.5}", NULL);
	REFUSED_WITH("\"seq\":5", "\"seq\":5.0", NULL);
	REFUSED_WITH("\"seq\":5", "\"seq\":5e0", NULL);
	REFUSED_WITH("\"seq\":5", "\"seq\":-0", NULL);
	REFUSED_WITH("\"seq\":5", "\"seq\":-5", "invalid_value");
	REFUSED_WITH("\"seq\":5", "\"seq\":\"5\"", "invalid_value");
	REFUSED_WITH("\"v\":2", "\"v\":2.0", "invalid_value");
	REFUSED_WITH("\"v\":2", "\"v\":4", "invalid_value");
}

/* Bytes before or after the object, and other JSON values. */
static void
test_around_the_object(void)
{
	static const char *const tails[] = { "\n", " ", "\r\n", "x", "{}",
	    ",", "\0" };
	size_t i, n;
	char *b;

	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t tl = tails[i][0] ? strlen(tails[i]) : 1;

		b = splice(entry, entry_len, entry_len, 0, tails[i], tl, &n);
		REFUSED(b, n, NULL);
		free(b);
	}
	b = splice(entry, entry_len, 0, 0, "\xef\xbb\xbf", 3, &n);
	REFUSED(b, n, NULL);
	free(b);
	b = splice(entry, entry_len, 0, 0, " ", 1, &n);
	REFUSED(b, n, NULL);
	free(b);
	REFUSED(entry, entry_len - 1, NULL);
	REFUSED("", 0, NULL);
	REFUSED("[]", 2, NULL);
	REFUSED("null", 4, NULL);
	REFUSED("{}", 2, NULL);
}

/* Well-formed JSON, canonical, but not an entry the server writes. */
static void
test_fields(void)
{
	char from[64];

	snprintf(from, sizeof(from), "\"%s\"", token1);
	REFUSED_WITH(from, "\"NL-BSN-123456782\"", "invalid_value");
	/* A token whose unused last bits are not zero. */
	{
		char to[64];

		snprintf(to, sizeof(to), "\"%.*sB\"",
		    LEDGER_SUBJECT_TOKEN_LEN - 1, token1);
		if (token1[LEDGER_SUBJECT_TOKEN_LEN - 1] != 'B')
			REFUSED_WITH(from, to, "invalid_value");
	}
	REFUSED_WITH("\"prev\":\"", "\"prev\":\"A", "invalid_value");
	REFUSED_WITH("\"received_at\":\"2026-03-14T09:26:54.123456Z\"",
	    "\"received_at\":\"2026-03-14T09:26:54Z\"", "invalid_value");
	REFUSED_WITH("\"submitter\":\"police-app\"", "\"submitter\":\"\"",
	    "invalid_value");
	REFUSED_WITH("\"type\":\"share\"", "\"type\":\"share\",\"zz\":1",
	    "not_canonical");
	REFUSED_WITH("\"v\":2}", "\"v\":2,\"zz\":1}", "unknown_field");
	/* received_at exactly as the server writes it: UTC, six digits. */
	REFUSED_WITH("\"received_at\":\"2026-03-14T09:26:54.123456Z\"",
	    "\"received_at\":\"2026-03-14T10:26:54.1+01:00\"", "invalid_value");
	REFUSED_WITH("\"submitter\":\"police-app\"",
	    "\"submitter\":\"police\\u0007app\"", "invalid_value");
}

int
main(void)
{
	make_entry();
	RUN(test_accepts_the_entry);
	RUN(test_unicode_escapes);
	RUN(test_other_escapes);
	RUN(test_white_space);
	RUN(test_key_orders);
	RUN(test_duplicate_keys);
	RUN(test_number_forms);
	RUN(test_around_the_object);
	RUN(test_fields);
	printf("  %zu spellings given to ledger_entry_scan, %zu decided\n",
	    scanned, scan_decided);
	free(entry);
	return TEST_SUMMARY();
}
