/*
 * ledger_json_parse against json_loadb, which it stands in for: the same
 * inputs refused, and for the rest the same tree, compared node by node
 * (types, integer values, reals bit for bit, string bytes, object members
 * in order), for every flag combination.  Every input of up to four bytes
 * over an alphabet of the grammar's bytes, alone and inside an array and
 * an object; every \u escape and surrogate pair edge; every byte and pair
 * of bytes in a string; numbers at the edges of int64 and double; nesting
 * at Jansson's depth limit; duplicate keys; random documents serialised by
 * Jansson, and mutations of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/jsonparse.h"
#include "ledger/xmalloc.h"

#include "rnd.h"
#include "same_tree.h"
#include "testlib.h"

/* Every OR of the flags the fast parser decides on its own. */
static const size_t flag_sets[] = {
	0,
	JSON_REJECT_DUPLICATES,
	JSON_DECODE_ANY,
	JSON_ALLOW_NUL,
	JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	JSON_DECODE_ANY | JSON_ALLOW_NUL,
	JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
};
#define N_FLAG_SETS (sizeof(flag_sets) / sizeof(flag_sets[0]))

static size_t compared, accepted;


static void
show(const char *buf, size_t len)
{
	size_t i;

	fputs("  input: \"", stderr);
	for (i = 0; i < len && i < 200; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\"%s (%zu bytes)\n", i < len ? "..." : "", len);
}

/* ledger_json_parse decides as json_loadb on buf with flags. */
static int
agrees_flags(const char *file, int line, const char *buf, size_t len,
    size_t flags)
{
	json_error_t err;
	json_t *want, *got;
	int ok;

	want = json_loadb(buf, len, flags, &err);
	got = ledger_json_parse(buf, len, flags);
	ok = (want == NULL) == (got == NULL) &&
	    (want == NULL || (json_equal(want, got) && same_tree(want, got)));
	compared++;
	if (want != NULL)
		accepted++;
	if (!ok) {
		fprintf(stderr, "  %s:%d: flags 0x%zx: json_loadb %s, "
		    "ledger_json_parse %s%s\n", file, line, flags,
		    want ? "accepts" : err.text, got ? "accepts" : "refuses",
		    want && got ? ", another tree" : "");
		show(buf, len);
		test_failures_++;
	}
	json_decref(want);
	json_decref(got);
	return ok;
}

/* The same with every flag combination; stops at the first difference. */
static void
agrees_(const char *file, int line, const char *buf, size_t len)
{
	size_t f;

	for (f = 0; f < N_FLAG_SETS; f++)
		if (!agrees_flags(file, line, buf, len, flag_sets[f]))
			return;
}
#define AGREES(b, n) agrees_(__FILE__, __LINE__, (b), (n))
#define AGREES_S(s) AGREES((s), strlen(s))

/*
 * Every input of up to four bytes over the grammar's bytes, NUL, DEL,
 * UTF-8 pieces and the letters of the literals, and of up to three as an
 * array's element and as an object's member.
 */
static void
test_exhaustive_small(void)
{
	static const char alphabet[] = "{}[]\":,0-1.eE \\u\0\x7f\xc3\xa9\xff"
	    "trualsnf\n9+";
	const size_t na = sizeof(alphabet) - 1;
	char in[8], b[32];
	size_t len, i, k, total, code;

	for (len = 0; len <= 4; len++) {
		for (total = 1, i = 0; i < len; i++)
			total *= na;
		for (code = 0; code < total; code++) {
			for (k = code, i = 0; i < len; i++, k /= na)
				in[i] = alphabet[k % na];
			AGREES(in, len);
			if (len == 4)
				continue;
			b[0] = '[';
			memcpy(b + 1, in, len);
			b[len + 1] = ']';
			AGREES(b, len + 2);
			memcpy(b, "{\"k\":", 5);
			memcpy(b + 5, in, len);
			b[len + 5] = '}';
			AGREES(b, len + 6);
		}
	}
	/* Up to three bytes three ways, four bytes alone; eight flag sets. */
	CHECK_INT(na, 32);
	CHECK_INT(compared, ((1 + 32 + 32 * 32 + 32 * 32 * 32) * 3 +
	    32 * 32 * 32 * 32) * 8);
}

/* Every \uXXXX alone in a string and in a key, and surrogate pairs. */
static void
test_unicode_escapes(void)
{
	static const unsigned halves[] = { 0x0000, 0x0041, 0x00e9, 0xd7ff,
	    0xd800, 0xd801, 0xd83d, 0xdbfe, 0xdbff, 0xdc00, 0xdc01, 0xde00,
	    0xdffe, 0xdfff, 0xe000, 0xffff };
	const size_t nh = sizeof(halves) / sizeof(halves[0]);
	char b[64];
	unsigned cp;
	size_t i, j, f;

	for (cp = 0; cp <= 0xffff; cp++) {
		snprintf(b, sizeof(b), cp & 1 ? "[\"\\u%04X\"]" : "[\"\\u%04x\"]",
		    cp);
		agrees_flags(__FILE__, __LINE__, b, strlen(b), 0);
		agrees_flags(__FILE__, __LINE__, b, strlen(b), JSON_ALLOW_NUL);
		snprintf(b, sizeof(b), "{\"a\\u%04xb\":1}", cp);
		agrees_flags(__FILE__, __LINE__, b, strlen(b), JSON_ALLOW_NUL);
	}
	for (i = 0; i < nh; i++)
		for (j = 0; j < nh; j++) {
			snprintf(b, sizeof(b), "[\"\\u%04X\\u%04x\"]", halves[i],
			    halves[j]);
			AGREES_S(b);
			snprintf(b, sizeof(b), "[\"x\\u%04X\\\\u%04Xy\"]",
			    halves[i], halves[j]);
			AGREES_S(b);
			snprintf(b, sizeof(b), "{\"\\u%04X\\u%04X\":[]}",
			    halves[i], halves[j]);
			AGREES_S(b);
		}
	/* A high half followed by something else, or cut short. */
	for (i = 0; i < nh; i++)
		for (f = 0; f < 8; f++) {
			static const char *const after[] = { "", "\\", "\\u",
			    "\\uDC0", "\\uDC0G", "\\n", "x", "\\/" };

			snprintf(b, sizeof(b), "[\"\\u%04X%s\"]", halves[i],
			    after[f]);
			AGREES_S(b);
			snprintf(b, sizeof(b), "[\"\\u%04X%s", halves[i],
			    after[f]);
			AGREES_S(b);
		}
	AGREES_S("[\"\\u00G0\"]");
	AGREES_S("[\"\\u00\"]");
	AGREES_S("[\"\\U0041\"]");
	AGREES_S("[\"\\b\\f\\n\\r\\t\\/\\\\\\\"\"]");
	AGREES_S("[\"\\a\"]");
	AGREES_S("[\"\\'\"]");
	AGREES_S("{\"\\u0000\":1}");
	AGREES_S("{\"a\\u0000\":1}");
	AGREES_S("[\"\\u0000\",\"a\\u0000b\"]");
}

/* Every byte and pair of bytes in a string; longer UTF-8 sequences. */
static void
test_every_byte(void)
{
	static const unsigned char thirds[] = { 0x00, 0x41, 0x7f, 0x80,
	    0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	const size_t nt = sizeof(thirds);
	char b[32];
	unsigned c, d;
	size_t i, j;

	for (c = 0; c < 256; c++) {
		memcpy(b, "[\"x?y\"]", 7);
		b[3] = (char)c;
		AGREES(b, 7);
		memcpy(b, "{\"?\":0}", 7);
		b[2] = (char)c;
		AGREES(b, 7);
		/* After a value, between values, before the first. */
		memcpy(b, "[1?]", 4);
		b[2] = (char)c;
		AGREES(b, 4);
		memcpy(b, "[null?,0]", 9);
		b[5] = (char)c;
		AGREES(b, 9);
		memcpy(b, "{}?", 3);
		b[2] = (char)c;
		AGREES(b, 3);
		memcpy(b, "?[]", 3);
		b[0] = (char)c;
		AGREES(b, 3);
		memcpy(b, "1.5?", 4);
		b[3] = (char)c;
		AGREES(b, 4);
		for (d = 0; d < 256; d++) {
			memcpy(b, "[\"??\"]", 6);
			b[2] = (char)c;
			b[3] = (char)d;
			agrees_flags(__FILE__, __LINE__, b, 6, 0);
			memcpy(b, "[\"??", 4);
			agrees_flags(__FILE__, __LINE__, b, 4, 0);
			if (c < 0xe0)
				continue;
			for (i = 0; i < nt; i++) {
				memcpy(b, "[\"???\"]", 7);
				b[2] = (char)c;
				b[3] = (char)d;
				b[4] = (char)thirds[i];
				agrees_flags(__FILE__, __LINE__, b, 7, 0);
				if (c < 0xf0)
					continue;
				for (j = 0; j < nt; j++) {
					memcpy(b, "[\"????\"]", 8);
					b[2] = (char)c;
					b[3] = (char)d;
					b[4] = (char)thirds[i];
					b[5] = (char)thirds[j];
					agrees_flags(__FILE__, __LINE__, b, 8,
					    0);
				}
			}
		}
	}
	/* Long strings: the eight-byte scan, with the odd byte anywhere. */
	for (i = 0; i < 40; i++)
		for (c = 0; c < 256; c += 1) {
			char s[64];

			memset(s, 'a', sizeof(s));
			s[0] = '[';
			s[1] = '"';
			s[2 + i] = (char)c;
			s[50] = '"';
			s[51] = ']';
			agrees_flags(__FILE__, __LINE__, s, 52, 0);
		}
	/* A byte order mark, white space of every kind and of none. */
	AGREES_S("\xef\xbb\xbf{}");
	AGREES_S("[\"\xef\xbb\xbf\"]");
	AGREES_S(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n"
	    "2 \t\r\n} \t\r\n] \t\r\n");
	AGREES_S("[1,\f2]");
	AGREES_S("[1,\v2]");
	AGREES_S("[1,\xc2\xa0" "2]");
}

/* A NUL byte inside the buffer, where Jansson's lexer skips one. */
static void
test_nul_bytes(void)
{
	static const char *const docs[] = { "[1\0]", "[1\0\0]", "[1\0,2]",
	    "[true\0]", "[false\0,null\0]", "[1.5\0]", "[1e5\0 ]", "[-0\0]",
	    "{\"a\":1\0}", "{\"a\":null\0,\"b\":2}", "[\"a\"\0]", "[[]\0]",
	    "[{}\0]", "{}\0", "[]\0", "1\0", "true\0", "true\0 ", "1\0\0",
	    "\0[]", "[\0]", "[\0 1]", "[1 \0]", "[tru\0e]", "[1\0x]",
	    "{\"a\"\0:1}", "{\"a\":\0 1}", "[\"a\0\"]", "[-\0]", "[1.\0]",
	    "[1e\0]", "[1\0.5]" };
	static const size_t lens[] = { 4, 5, 6, 7, 15, 6, 7, 5, 8, 18, 6, 5,
	    5, 3, 3, 2, 5, 6, 3, 3, 3, 5, 5, 7, 5, 9, 9, 6, 4, 5, 5, 6 };
	size_t i;

	CHECK(sizeof(docs) / sizeof(docs[0]) == sizeof(lens) / sizeof(lens[0]));
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		AGREES(docs[i], lens[i]);
	/* The surprise itself: json_loadb reads [1\0] as [1]. */
	{
		json_t *j = json_loadb("[1\0]", 4, 0, NULL);

		CHECK(j != NULL && json_array_size(j) == 1);
		json_decref(j);
	}
}

/* Numbers at the edges of int64 and double, and malformed ones. */
static void
test_numbers(void)
{
	static const char *const nums[] = { "0", "-0", "00", "-00", "01",
	    "-01", "0.0", "-0.0", "-", "+1", "1.", ".5", "-.5", "1e", "1E+",
	    "1e-", "1E+2", "1e+2", "1e-2", "1E2", "1.5e3", "0e0", "-0e0",
	    "0.e1", "1.e1", "1..2", "1ee2", "1e2.5", "1e2e3", "0x10", "1_000",
	    "9223372036854775807", "9223372036854775808",
	    "-9223372036854775808", "-9223372036854775809",
	    "9223372036854775806", "-9223372036854775807",
	    "18446744073709551615", "18446744073709551616",
	    "99999999999999999999", "-99999999999999999999",
	    "9223372036854775807.0", "9223372036854775808.0",
	    "9223372036854775807e0", "1e308", "1.7976931348623157e308",
	    "1.7976931348623158e308", "1.7976931348623159e308", "1e309",
	    "-1e309", "1e400", "-1e400", "1e-307", "2.2250738585072014e-308",
	    "2.2250738585072011e-308", "4.9e-324", "5e-324", "2.4703282292062327e-324",
	    "2.4703282292062328e-324", "1e-324", "1e-400", "-1e-400",
	    "0.1", "0.30000000000000004", "123456789012345678901234567890",
	    "1e00000000000000000000001", "1e-0000000000000000000000400",
	    "Infinity", "-Infinity", "NaN", "inf", "1 2", "- 1", "1-" };
	char b[1024], digits[1200];
	size_t i, n;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(b, sizeof(b), "[%s]", nums[i]);
		AGREES_S(b);
		AGREES_S(nums[i]);
		snprintf(b, sizeof(b), "{\"n\":%s}", nums[i]);
		AGREES_S(b);
	}
	/* Long mantissas: past the stack copy of the token. */
	for (n = 1; n <= 1100; n += n < 80 ? 1 : 37) {
		memset(digits, '7', n);
		digits[n] = '\0';
		snprintf(b, sizeof(b), "[%.*s]", (int)n, digits);
		AGREES_S(b);
		snprintf(b, sizeof(b), "[0.%.*s1]", (int)(n > 1000 ? 1000 : n),
		    digits);
		AGREES_S(b);
		snprintf(b, sizeof(b), "[%.*s.5e-%zu]", (int)(n > 900 ? 900 : n),
		    digits, n);
		AGREES_S(b);
	}
	/* Every integer near 2^63 in both signs. */
	for (i = 0; i < 20; i++) {
		snprintf(b, sizeof(b), "[%llu,-%llu]",
		    (unsigned long long)INT64_MAX - 10 + i,
		    (unsigned long long)INT64_MAX - 10 + i);
		AGREES_S(b);
	}
}

/* Nesting at and past Jansson's JSON_PARSER_MAX_DEPTH. */
static void
test_depth(void)
{
	static const size_t depths[] = { 1, 31, 32, 33, 127, 128, 129, 2046,
	    2047, 2048, 2049, 2050, 5000 };
	static const char *const inner[] = { "", "1", "\"s\"", "[]", "{}",
	    "true" };
	size_t i, j, k, n, d;
	char *b;

	CHECK(JSON_PARSER_MAX_DEPTH == 2048);
	for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
		for (j = 0; j < sizeof(inner) / sizeof(inner[0]); j++) {
			d = depths[i];
			b = xmalloc(10 * d + 16);
			/* Arrays. */
			n = 0;
			for (k = 0; k < d; k++)
				b[n++] = '[';
			memcpy(b + n, inner[j], strlen(inner[j]));
			n += strlen(inner[j]);
			for (k = 0; k < d; k++)
				b[n++] = ']';
			AGREES(b, n);
			AGREES(b, n - 1);
			/* Objects, and the two mixed. */
			n = 0;
			for (k = 0; k < d; k++) {
				memcpy(b + n, k & 1 ? "[" : "{\"a\":", k & 1 ?
				    1 : 5);
				n += k & 1 ? 1 : 5;
			}
			if (d & 1)
				/* The innermost level is an object. */
				memcpy(b + n, "\"a\":", 4), n += 4;
			if (!(d & 1) || strlen(inner[j]) > 0) {
				memcpy(b + n, *inner[j] ? inner[j] : "0",
				    *inner[j] ? strlen(inner[j]) : 1);
				n += *inner[j] ? strlen(inner[j]) : 1;
			}
			for (k = d; k-- > 0;)
				b[n++] = k & 1 ? ']' : '}';
			AGREES(b, n);
			free(b);
		}
}

/* Duplicate keys: refused with JSON_REJECT_DUPLICATES, else the later
 * value in the earlier key's place. */
static void
test_duplicates(void)
{
	static const char *const docs[] = {
	    "{\"a\":1,\"a\":2}",
	    "{\"a\":1,\"b\":2,\"a\":3}",
	    "{\"a\":1,\"b\":2,\"a\":3,\"c\":4,\"b\":5}",
	    "{\"a\":{\"x\":1},\"b\":2,\"a\":[3]}",
	    "{\"a\":[1],\"a\":{\"y\":{\"a\":1,\"a\":2}}}",
	    "{\"a\":1,\"\\u0061\":2}",
	    "{\"\\u00e9\":1,\"\xc3\xa9\":2}",
	    "{\"a\":1,\"A\":2}",
	    "{\"\":1,\"\":2}",
	    "[{\"a\":1},{\"a\":2}]",
	    "{\"a\":1,\"b\":{\"a\":2}}",
	};
	json_t *j;
	void *it;
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		AGREES_S(docs[i]);
	/* Where the key stays: Jansson keeps its first place. */
	j = ledger_json_parse(docs[2], strlen(docs[2]), 0);
	REQUIRE(j != NULL);
	it = json_object_iter(j);
	CHECK_STR(json_object_iter_key(it), "a");
	CHECK_INT(json_integer_value(json_object_iter_value(it)), 3);
	it = json_object_iter_next(j, it);
	CHECK_STR(json_object_iter_key(it), "b");
	CHECK_INT(json_integer_value(json_object_iter_value(it)), 5);
	json_decref(j);
	CHECK(ledger_json_parse(docs[2], strlen(docs[2]),
	    JSON_REJECT_DUPLICATES) == NULL);
}

/* cp as UTF-8 at t; the end of what it wrote. */
static char *
utf8_put_test(char *t, unsigned long cp)
{
	if (cp < 0x80)
		*t++ = (char)cp;
	else if (cp < 0x800) {
		*t++ = (char)(0xc0 | cp >> 6);
		*t++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*t++ = (char)(0xe0 | cp >> 12);
		*t++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*t++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*t++ = (char)(0xf0 | cp >> 18);
		*t++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*t++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*t++ = (char)(0x80 | (cp & 0x3f));
	}
	return t;
}

/* A random string: ASCII, control characters, UTF-8 of every length,
 * NUL when nul. */
static json_t *
random_string(int nul)
{
	static const unsigned long cps[] = { 0x0, 0x1, 0x8, 0x9, 0xa, 0x1f,
	    '"', '\\', '/', 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0xfeff, 0xffff,
	    0x10000, 0x1f600, 0x10ffff };
	char s[256], *t = s;
	size_t n = rnd(12) == 0 ? rnd(60) : rnd(8), i;
	unsigned long cp;

	for (i = 0; i < n; i++) {
		if (rnd(3))
			cp = 'a' + rnd(26);
		else if (rnd(2))
			cp = cps[rnd(sizeof(cps) / sizeof(cps[0]))];
		else {
			cp = rnd(0x110000);
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 'x';
		}
		if (cp == 0 && !nul)
			cp = '0';
		t = utf8_put_test(t, cp);
	}
	return json_stringn(s, (size_t)(t - s));
}

static json_t *
random_value(int depth, int nul)
{
	static const json_int_t ints[] = { 0, 1, -1, 9, 10, 255, -256,
	    INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 1LL << 53,
	    -(1LL << 53) };
	static const double reals[] = { 0.0, -0.0, 0.5, -1.5, 1e308,
	    -1.7976931348623157e308, 2.2250738585072014e-308, 4.9e-324,
	    1e-320, 0.1, 1e21, 123456.789, 1.0, 100.0 };
	json_t *v, *m;
	uint64_t bits;
	double d;
	size_t i, n;
	char key[16];

	switch (rnd(depth < 5 ? 9 : 6)) {
	case 0:
		return rnd(3) == 0 ? json_null() : json_boolean(rnd(2));
	case 1:
		if (rnd(2))
			return json_integer(ints[rnd(sizeof(ints) /
			    sizeof(ints[0]))]);
		/* One call per statement: the same stream with any
		 * compiler. */
		bits = rnd64();
		bits >>= rnd(64);
		return json_integer((json_int_t)(rnd(2) ? bits : 0 - bits));
	case 2:
		if (rnd(2))
			return json_real(reals[rnd(sizeof(reals) /
			    sizeof(reals[0]))]);
		do {
			bits = rnd64();
			memcpy(&d, &bits, sizeof(d));
		} while (d != d || d - d != 0);	/* NaN or infinite */
		return json_real(d);
	case 3:
		d = (double)(int64_t)rnd64();
		return json_real(d / (double)(1 + rnd(100000)));
	case 4:
	case 5:
		return random_string(nul);
	case 6:
	case 7:
		v = json_array();
		for (i = 0, n = rnd(6); i < n; i++)
			json_array_append_new(v, random_value(depth + 1, nul));
		return v;
	default:
		v = json_object();
		for (i = 0, n = rnd(6); i < n; i++) {
			m = random_string(0);
			if (rnd(3) == 0) {
				snprintf(key, sizeof(key), "k%d", (int)rnd(4));
				json_object_set_new(v, key, random_value(depth +
				    1, nul));
			} else
				json_object_setn_new(v, json_string_value(m),
				    json_string_length(m), random_value(depth +
				    1, nul));
			json_decref(m);
		}
		return v;
	}
}

/* Changes text in place (cap bytes of room); its new length. */
static size_t
mutate(char *text, size_t len, size_t cap)
{
	static const char *const pieces[] = { "\"", "\\", ",", ":", "[",
	    "]", "{", "}", " ", "\n", "\0", "\xff", "\xc3", "\xa9",
	    "\x7f", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00",
	    "1e999", "-", ".", "0", "e", "true", "null", "1", "\"a\":1",
	    "\x01", "\t" };
	const char *piece;
	size_t i, n, k, at, pn;

	for (n = 1 + rnd(3), k = 0; k < n && len > 0; k++) {
		at = rnd(len);
		switch (rnd(6)) {
		case 0:
			text[at] ^= (char)(1 << rnd(8));
			break;
		case 1:
			len = at;
			break;
		case 2:
			i = 1 + rnd(4);
			if (at + i > len)
				i = len - at;
			memmove(text + at, text + at + i, len - at - i);
			len -= i;
			break;
		case 3:
			i = 1 + rnd(16);
			if (at + i > len)
				i = len - at;
			if (len + i > cap)
				break;
			memmove(text + at + i, text + at, len - at);
			len += i;
			break;
		default:
			piece = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
			pn = *piece ? strlen(piece) : 1;	/* "\0" */
			if (len + pn > cap)
				break;
			memmove(text + at + pn, text + at, len - at);
			memcpy(text + at, piece, pn);
			len += pn;
			break;
		}
	}
	return len;
}

/*
 * Random trees serialised by Jansson with random flags (indentation,
 * compact, ASCII only, sorted keys, escaped slashes, precision), read with
 * random flags; half of them mutated first.
 */
static void
test_random(void)
{
	static const size_t dump_flags[] = { 0, JSON_COMPACT,
	    JSON_ENSURE_ASCII, JSON_SORT_KEYS, JSON_ESCAPE_SLASH,
	    JSON_REAL_PRECISION(3), JSON_REAL_PRECISION(17) };
	size_t i, k, flags, len, cap, docs = 0, mutated = 0;
	char *text;
	json_t *v;
	int nul;

	for (i = 0; i < 200000; i++) {
		nul = rnd(4) == 0;
		v = rnd(8) == 0 ? random_value(4, nul) : rnd(2) ? json_object() :
		    json_array();
		if (json_is_object(v) || json_is_array(v))
			for (k = 0, cap = rnd(6); k < cap; k++) {
				const char *key = rnd(2) ? "a" : "event";

				if (json_is_array(v))
					json_array_append_new(v,
					    random_value(1, nul));
				else
					json_object_set_new(v, key,
					    random_value(1, nul));
			}
		flags = JSON_INDENT(rnd(5)) | JSON_ENCODE_ANY;
		for (k = 0; k < 3; k++)
			flags |= dump_flags[rnd(sizeof(dump_flags) /
			    sizeof(dump_flags[0]))];
		len = json_dumpb(v, NULL, 0, flags);
		cap = len + 64;
		text = xmalloc(cap);
		REQUIRE(json_dumpb(v, text, len, flags) == len);
		json_decref(v);
		if (i & 1) {
			len = mutate(text, len, cap);
			mutated++;
		}
		flags = flag_sets[rnd(N_FLAG_SETS)];
		if (nul && rnd(2))
			flags |= JSON_ALLOW_NUL;
		agrees_flags(__FILE__, __LINE__, text, len, flags);
		free(text);
		docs++;
		if (test_failures_ > 10)
			return;
	}
	CHECK(docs == 200000);
	CHECK(mutated == 100000);
}

/* ledger_json_loadb: Jansson's answer and error text; other flags go to
 * json_loadb; json_loadb never accepted what the fast parser refused. */
static void
test_drop_in(void)
{
	static const char *const bad[] = { "", "{", "[1,]", "{\"a\":1,\"a\":2}",
	    "[\"\\ud800\"]", "\n\n  [01]", "[1e999]", "[\"\x01\"]", "1",
	    "[\"\\u0000\"]" };
	json_error_t e1, e2;
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e1, 0, sizeof(e1));
		memset(&e2, 0, sizeof(e2));
		CHECK(ledger_json_loadb(bad[i], strlen(bad[i]),
		    JSON_REJECT_DUPLICATES, &e1) == NULL);
		CHECK(json_loadb(bad[i], strlen(bad[i]),
		    JSON_REJECT_DUPLICATES, &e2) == NULL);
		CHECK_STR(e1.text, e2.text);
		CHECK_INT(e1.line, e2.line);
		CHECK_INT(e1.column, e2.column);
		CHECK_INT(e1.position, e2.position);
	}
	j = ledger_json_loadb("{\"a\":[1,2.5,\"x\"]}", 17, 0, NULL);
	CHECK(json_is_array(json_object_get(j, "a")));
	json_decref(j);
	/* A flag it leaves to Jansson. */
	CHECK(ledger_json_parse("[1] x", 5, JSON_DISABLE_EOF_CHECK) == NULL);
	j = ledger_json_loadb("[1] x", 5, JSON_DISABLE_EOF_CHECK, NULL);
	CHECK(json_is_array(j));
	json_decref(j);
	CHECK(ledger_json_parse(NULL, 0, 0) == NULL);
	CHECK(ledger_json_loadb(NULL, 0, 0, NULL) == NULL);
	/* Over every test here: the fast parser's refusals all stood. */
	CHECK_INT(ledger_json_fallback_accepts(), 0);
}

int
main(void)
{
	rnd_seed(0x9e3779b97f4a7c15ULL);
	RUN(test_exhaustive_small);
	RUN(test_unicode_escapes);
	RUN(test_every_byte);
	RUN(test_nul_bytes);
	RUN(test_numbers);
	RUN(test_depth);
	RUN(test_duplicates);
	RUN(test_random);
	RUN(test_drop_in);
	printf("  (%zu inputs compared, %zu of them accepted)\n", compared,
	    accepted);
	return TEST_SUMMARY();
}
