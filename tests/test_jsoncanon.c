/*
 * ledger_canon_dump against the Jansson 2.14 dump it stands in for
 * (json_dumpb with JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
 * JSON_ENCODE_ANY): every Unicode scalar value, every byte and every pair
 * of bytes as a string and as a key, key orders Jansson's compare_keys
 * decides (prefixes, bytes >= 0x80, NUL), integers at the edges of int64,
 * reals that are hard to print, nesting at and past the limit, cycles, a
 * seeded generator of random trees, the short-buffer contract, and the
 * entry and sealed-value bytes made with it.
 */
#include <float.h>
#include <math.h>		/* isfinite */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsoncanon.h"
#include "ledger/sealed.h"
#include "ledger/xmalloc.h"

#include "testlib.h"

#define FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | \
	JSON_ENCODE_ANY)
#define RANDOM_TREES 200000

static const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN] = { 1, 2, 3 };

/*
 * Jansson's text of v and ours are the same bytes (or both refused), and
 * so is every prefix a buffer of cap bytes receives; the byte past cap is
 * left alone.
 */
static int
same_at(const json_t *v, const char *want, size_t n, size_t cap)
{
	char *got = xmalloc(cap + 1);
	int ok;

	got[cap] = 0x5a;
	ok = ledger_canon_dump(v, got, cap) == n &&
	    memcmp(got, want, n < cap ? n : cap) == 0 &&
	    (unsigned char)got[cap] == 0x5a;
	free(got);
	return ok;
}

static void
same_(const char *file, int line, const json_t *v, size_t extra_cap)
{
	size_t n, m, caps[5];
	char *want, *got;
	unsigned i;

	n = json_dumpb(v, NULL, 0, FLAGS);
	m = ledger_canon_dump(v, NULL, 0);
	want = xmalloc(n + 1);
	got = xmalloc(m + 1);
	if (n > 0 && json_dumpb(v, want, n, FLAGS) != n)
		n = (size_t)-1;
	if (m > 0 && ledger_canon_dump(v, got, m) != m)
		m = (size_t)-1;
	if (n != m || memcmp(want, got, n) != 0) {
		fprintf(stderr, "  %s:%d: Jansson wrote %zu bytes, we %zu:\n"
		    "  %.*s\n  %.*s\n", file, line, n, m,
		    (int)(n > 300 ? 300 : n), want, (int)(m > 300 ? 300 : m),
		    got);
		test_failures_++;
	} else if (n > 0) {
		caps[0] = 0;
		caps[1] = 1;
		caps[2] = n / 2;
		caps[3] = n - 1;
		caps[4] = extra_cap % (n + 2);
		for (i = 0; i < 5; i++)
			if (!same_at(v, want, n, caps[i])) {
				fprintf(stderr, "  %s:%d: short buffer of %zu "
				    "bytes for %.*s\n", file, line, caps[i],
				    (int)(n > 300 ? 300 : n), want);
				test_failures_++;
				break;
			}
	}
	free(want);
	free(got);
}
#define SAME(v) same_(__FILE__, __LINE__, (v), 0)

/* json_t for the len bytes at s, UTF-8 or not. */
static json_t *
raw_string(const char *s, size_t len)
{
	return json_stringn_nocheck(s, len);
}

static size_t
utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string of the bytes, alone and as the one key of an object. */
static void
same_string_and_key_(const char *file, int line, const char *s, size_t len)
{
	json_t *v = raw_string(s, len), *o = json_object();

	same_(file, line, v, len + 3);
	json_object_setn_new_nocheck(o, s, len, json_true());
	json_object_set_new(o, "\x7f", json_null());
	same_(file, line, o, len + 5);
	json_decref(v);
	json_decref(o);
}
#define SAME_STRING_AND_KEY(s, n) same_string_and_key_(__FILE__, __LINE__, (s), (n))

/* Every scalar value as a one-character string, and inside text. */
static void
test_every_scalar(void)
{
	char b[16];
	uint32_t cp;
	size_t n;
	json_t *v;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8_put(cp, b);
		v = json_stringn(b, n);
		REQUIRE(v != NULL);
		SAME(v);
		json_decref(v);
		if (cp % 61 == 0 || cp < 0x800) {
			b[0] = 'x';
			n = 1 + utf8_put(cp, b + 1);
			b[n++] = '/';
			SAME_STRING_AND_KEY(b, n);
		}
	}
	/* Surrogates encoded in UTF-8 (CESU) are refused by both. */
	for (cp = 0xd800; cp <= 0xdfff; cp++) {
		n = utf8_put(cp, b);
		v = raw_string(b, n);
		SAME(v);
		CHECK_INT(ledger_canon_dump(v, NULL, 0), 0);
		json_decref(v);
	}
}

/* Every byte and every pair of bytes; three bytes at the edges. */
static void
test_every_byte(void)
{
	static const unsigned char third[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
	    0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	char b[8];
	unsigned i, j, k;
	json_t *v;

	for (i = 0; i < 256; i++) {
		b[0] = (char)i;
		v = raw_string(b, 1);
		SAME(v);
		CHECK_INT(ledger_canon_dump(v, NULL, 0) == 0, i >= 0x80);
		json_decref(v);
		SAME_STRING_AND_KEY(b, 1);
		for (j = 0; j < 256; j++) {
			b[1] = (char)j;
			SAME_STRING_AND_KEY(b, 2);
			if (i < 0xe0 || i > 0xf7)
				continue;
			for (k = 0; k < sizeof(third); k++) {
				b[2] = (char)third[k];
				SAME_STRING_AND_KEY(b, 3);
				b[3] = (char)0x80;
				SAME_STRING_AND_KEY(b, 4);
			}
		}
	}
	/* Every byte at every place of a long run of plain ones. */
	for (i = 0; i < 256; i++)
		for (j = 0; j < 20; j++) {
			char run[20];

			memset(run, 'a', sizeof(run));
			run[j] = (char)i;
			SAME_STRING_AND_KEY(run, sizeof(run));
			run[j] = (char)0xc3;
			run[(j + 1) % sizeof(run)] = (char)i;
			SAME_STRING_AND_KEY(run, sizeof(run));
		}
	/* Escapes and runs around a bad byte, in keys above all. */
	SAME_STRING_AND_KEY("a\n\xc3\xa9x\xffzz", 8);
	SAME_STRING_AND_KEY("abc\xff", 4);
	SAME_STRING_AND_KEY("\xff", 1);
	SAME_STRING_AND_KEY("\t\xe2\x82", 3);
	SAME_STRING_AND_KEY("\"\\/\b\f\n\r\t\x01\x1f\x7f", 11);
	SAME_STRING_AND_KEY("a\0b", 3);
	SAME_STRING_AND_KEY("\0", 1);
	SAME_STRING_AND_KEY("", 0);
}

static void
shuffle(const char **k, size_t *len, size_t n, unsigned seed)
{
	const char *t;
	size_t i, j, tl;

	for (i = n; i > 1; i--) {
		seed = seed * 1103515245 + 12345;
		j = (seed >> 8) % i;
		t = k[i - 1];
		k[i - 1] = k[j];
		k[j] = t;
		tl = len[i - 1];
		len[i - 1] = len[j];
		len[j] = tl;
	}
}

/* compare_keys: memcmp over the shorter length, then the shorter first. */
#define K(s) { s, sizeof(s) - 1 }
static void
test_key_order(void)
{
	static const struct {
		const char *s;
		size_t len;
	} all[] = { K(""), K("a"), K("ab"), K("abc"), K("a\0"), K("a\0b"),
	    K("\0"), K("\0\0"), K("b"), K("B"), K("\x7f"), K("\xc3\xa9"),
	    K("\xc3\xa9" "a"), K("e"), K("\xf0\x9f\x98\x80"),
	    K("\xef\xbf\xbf"), K("ab\x01"), K("a b"), K("ab "), K("~"),
	    K("\""), K("\\"), K("aa"), K("A"), K("0"), K("9"), K("-"), K("_"),
	    K("z"), K("zz"), K("zzz"), K("\xc2\x80"), K("\xc2\x80\0") };
	const char *keys[sizeof(all) / sizeof(all[0])];
	size_t len[sizeof(all) / sizeof(all[0])];
	size_t n = sizeof(all) / sizeof(all[0]), i, m;
	unsigned seed;
	char name[24];
	json_t *o, *big, *nest, *cur;

	for (i = 0; i < n; i++) {
		keys[i] = all[i].s;
		len[i] = all[i].len;
	}
	for (seed = 1; seed <= 300; seed++) {
		/* Every subset size too, so the sort sees many shapes. */
		m = seed % n + 1;
		shuffle(keys, len, n, seed);
		o = json_object();
		for (i = 0; i < m; i++)
			REQUIRE(json_object_setn_new(o, keys[i], len[i],
			    json_integer((json_int_t)i)) == 0);
		SAME(o);
		json_decref(o);
	}
	/* Objects bigger than the insertion sort and the key stack. */
	for (m = 30; m <= 3000; m = m * 3 + 1) {
		big = json_object();
		for (i = 0; i < m; i++) {
			snprintf(name, sizeof(name), "%zx", (i * 7919) % m);
			json_object_set_new(big, name, json_integer((json_int_t)i));
		}
		SAME(big);
		json_decref(big);
	}
	/* Nested objects whose keys together overflow the key stack. */
	nest = json_object();
	cur = nest;
	for (i = 0; i < 12; i++) {
		json_t *inner = json_object();

		for (m = 0; m < 40; m++) {
			snprintf(name, sizeof(name), "k%zu", 40 - m);
			json_object_set_new(cur, name, json_integer((json_int_t)m));
		}
		json_object_set_new(cur, "k20", inner);
		cur = inner;
	}
	SAME(nest);
	json_decref(nest);
}

static void
test_integers(void)
{
	json_int_t p = 1, d;
	int k;
	json_t *v;

	/* 10^k - 1, 10^k and 10^k + 1 for k up to 18, and their negatives. */
	for (k = 0; k <= 18; k++) {
		for (d = -1; d <= 1; d++) {
			v = json_integer(p + d);
			SAME(v);
			json_integer_set(v, -(p + d));
			SAME(v);
			json_decref(v);
		}
		if (k < 18)
			p *= 10;
	}
	v = json_integer(INT64_MAX);
	SAME(v);
	json_integer_set(v, INT64_MIN);
	SAME(v);
	json_integer_set(v, INT64_MIN + 1);
	SAME(v);
	json_integer_set(v, INT64_MAX - 1);
	SAME(v);
	json_decref(v);
}

static uint64_t rng_state;

/* splitmix64: a fixed sequence for a fixed seed. */
static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
random_double(void)
{
	uint64_t bits;
	double d;

	do {
		bits = rng();
		memcpy(&d, &bits, sizeof(d));
	} while (!isfinite(d));
	return d;
}

static void
test_reals(void)
{
	static const double tricky[] = { 0.0, -0.0, 1e-300, 5e-324,
	    -5e-324, 2.2250738585072014e-308, 2.2250738585072009e-308,
	    1.7976931348623157e308, -1.7976931348623157e308, 0.1, 0.2, 0.3,
	    1.0 / 3, 2.0 / 3, 100.0, 1.0, -1.0, 1e15, 1e16, 1e17, 1e21, 1e22,
	    1e23, 123456789012345678.0, 9007199254740992.0,
	    9007199254740993.0, 1e-4, 1e-5, 1.5e-5, 1e-7, 0.000123, 1.5e-7,
	    1e-10, 1e-100, 1e100, 1e-99, 1e99, 3.14159, 2.718281828459045,
	    4.35, 0.5, 1e308, 1.2345e-320, 123.456, -123.456e-200,
	    12345678901234567890.0, 0.30000000000000004, 5e-310 };
	char text[32];
	size_t i;
	json_t *v;

	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		v = json_real(tricky[i]);
		REQUIRE(v != NULL);
		SAME(v);
		json_decref(v);
	}
	rng_state = 42;
	v = json_real(0);
	for (i = 0; i < 100000; i++) {
		json_real_set(v, random_double());
		SAME(v);
		/* Numbers with few digits and every exponent. */
		snprintf(text, sizeof(text), "%de%d", (int)(rng() % 1000),
		    (int)(rng() % 640) - 330);
		json_real_set(v, strtod(text, NULL));
		SAME(v);
	}
	json_decref(v);
}

static json_t *
nested(size_t depth, int objects)
{
	json_t *root = NULL, *v;
	size_t i;

	for (i = 0; i < depth; i++) {
		v = objects ? json_object() : json_array();
		if (root != NULL) {
			if (objects)
				json_object_set_new(v, "a", root);
			else
				json_array_append_new(v, root);
		}
		root = v;
	}
	return root;
}

/*
 * The deepest text Jansson's parser reads is written; one level more is
 * refused, where Jansson's dump has no limit.  A cycle ends too.
 */
static void
test_depth(void)
{
	json_t *v, *a, *b;
	char *text;
	size_t n;
	int objects;

	for (objects = 0; objects < 2; objects++) {
		v = nested(LEDGER_CANON_DEPTH_MAX, objects);
		SAME(v);
		n = ledger_canon_dump(v, NULL, 0);
		CHECK(n > 0);
		text = xmalloc(n);
		CHECK(ledger_canon_dump(v, text, n) == n);
		json_decref(v);
		/* As deep as json_loadb reads. */
		v = json_loadb(text, n, 0, NULL);
		CHECK(v != NULL);
		json_decref(v);
		free(text);

		v = nested(LEDGER_CANON_DEPTH_MAX + 1, objects);
		n = json_dumpb(v, NULL, 0, FLAGS);
		CHECK(n > 0);
		text = xmalloc(n);
		CHECK(json_dumpb(v, text, n, FLAGS) == n);
		/* Nothing json_loadb reads is that deep. */
		CHECK(json_loadb(text, n, 0, NULL) == NULL);
		CHECK_INT(ledger_canon_dump(v, NULL, 0), 0);
		free(text);
		json_decref(v);
	}
	a = json_array();
	b = json_array();
	json_array_append(a, b);
	json_array_append(b, a);
	CHECK_INT(json_dumpb(a, NULL, 0, FLAGS), 0);
	CHECK_INT(ledger_canon_dump(a, NULL, 0), 0);
	json_array_clear(b);
	json_decref(a);
	json_decref(b);
}

/* Random text for a key or a string: ASCII, escapes, non-ASCII, NUL. */
static size_t
random_text(char *b, size_t max, int bad_ok)
{
	static const char *const pieces[] = { "a", "b", "ab", "z", "A", " ",
	    "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f", "\0",
	    "\xc3\xa9", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x82\xac",
	    "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80",
	    "\xf4\x8f\xbf\xbf", "0", "~" };
	static const size_t plens[] = { 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	    1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 1, 1 };
	size_t n = 0, k, parts = rng() % 6, i;

	for (i = 0; i < parts; i++) {
		k = rng() % (sizeof(plens) / sizeof(plens[0]));
		if (n + plens[k] > max)
			break;
		memcpy(b + n, pieces[k], plens[k]);
		n += plens[k];
	}
	if (bad_ok && n < max && rng() % 500 == 0)
		b[n++] = (char)(0x80 + rng() % 0x80);
	return n;
}

static json_t *
random_tree(int depth)
{
	char b[64];
	size_t i, n;
	json_t *v;
	unsigned kind = (unsigned)(rng() % (depth < 8 ? 10 : 7));

	switch (kind) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rng() & 1);
	case 2:
		return json_integer((json_int_t)(rng() >> (rng() % 64)) *
		    (rng() & 1 ? -1 : 1));
	case 3:
		return json_real(rng() & 1 ? random_double() :
		    (double)(int)(rng() % 20000 - 10000) / 64);
	case 4:
	case 5:
	case 6:
		return raw_string(b, random_text(b, sizeof(b), 1));
	case 7:
		v = json_array();
		n = rng() % 6;
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_tree(depth + 1));
		return v;
	default:
		v = json_object();
		n = rng() % 8 == 0 ? rng() % 41 : rng() % 6;
		for (i = 0; i < n; i++) {
			size_t kl = random_text(b, 16, 1);

			json_object_setn_new_nocheck(v, b, kl,
			    random_tree(depth + 1));
		}
		return v;
	}
}

static void
test_random_trees(void)
{
	json_t *v;
	size_t i;

	rng_state = 20260101;
	for (i = 0; i < RANDOM_TREES; i++) {
		v = random_tree(0);
		same_(__FILE__, __LINE__, v, (size_t)rng());
		json_decref(v);
		if (test_failures_ > 10)
			return;
	}
}

/* Entries and sealed values made with it are Jansson's bytes. */
static void
test_entries(void)
{
	static const char *const events[] = {
	    "{\"type\":\"share\",\"actor\":{\"org\":\"a\",\"user\":\"u\"},"
	    "\"subjects\":[\"x\",\"y\",\"z\"],\"recipients\":[\"b\"],"
	    "\"purpose\":\"p\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
	    "\"object\":{\"ref\":\"r\",\"digest\":\"sha256:139d544b821b13eb"
	    "ea14f1b0fe18577222e415c2966e3a3511c4196055232202\"},"
	    "\"details\":{\"subjects\":[1],\"seq\":-4,\"list\":[[\"q\"]],"
	    "\"r\":1.5e-7,\"u\":\"\\u00e9\\ud83d\\ude00/\\u007f\"}}",
	    "{\"type\":\"query\",\"actor\":{\"org\":\"org-1\",\"user\":"
	    "\"J\\u00f6rg\"},\"purpose\":\"fraud\\ncheck\",\"occurred_at\":"
	    "\"2026-01-01T00:00:00.5Z\",\"object\":{\"ref\":\"case/1\"}}",
	};
	struct ledger_entry_meta meta;
	json_t *ev, *e, *big;
	char *bytes, *want;
	size_t len, n, i;

	memset(&meta, 0, sizeof(meta));
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:26:54.123456Z");
	meta.submitter = "app";
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		ev = json_loads(events[i], 0, NULL);
		REQUIRE(ev != NULL);
		meta.seq = 1234567 + i;
		memset(meta.salt, 0x5a + (int)i, sizeof(meta.salt));
		memset(meta.prev, 0xa5, sizeof(meta.prev));
		REQUIRE(ledger_entry_build(ev, &meta, subject_key, &e) == 0);
		REQUIRE(ledger_entry_dump(e, &bytes, &len) == 0);
		n = json_dumpb(e, NULL, 0, FLAGS & ~JSON_ENCODE_ANY);
		want = xmalloc(n);
		CHECK(json_dumpb(e, want, n, FLAGS & ~JSON_ENCODE_ANY) == n);
		CHECK(len == n && memcmp(bytes, want, n) == 0);
		free(want);
		free(bytes);
		SAME(json_object_get(e, "details"));
		REQUIRE(ledger_sealed_value_bytes(json_object_get(e, "purpose"),
		    &bytes, &len) == 0);
		CHECK(len > 2 && bytes[0] == '"');
		free(bytes);
		json_decref(e);
		json_decref(ev);
	}
	/* Refused as before: a bare value, a bad string, too big. */
	e = json_string("x");
	CHECK_INT(ledger_entry_dump(e, &bytes, &len), LEDGER_EINVAL);
	CHECK(bytes == NULL && len == 0);
	CHECK_INT(ledger_sealed_value_bytes(e, &bytes, &len), 0);
	CHECK(len == 3 && memcmp(bytes, "\"x\"", 3) == 0);
	free(bytes);
	json_decref(e);
	e = json_pack("{s:o}", "a", json_stringn_nocheck("\xff", 1));
	CHECK_INT(ledger_entry_dump(e, &bytes, &len), LEDGER_EINVAL);
	CHECK_INT(ledger_sealed_value_bytes(e, &bytes, &len), LEDGER_EINVAL);
	json_decref(e);
	want = xmalloc(LEDGER_ENTRY_MAX);
	memset(want, 'x', LEDGER_ENTRY_MAX);
	big = json_object();
	json_object_set_new(big, "a", json_stringn(want, LEDGER_ENTRY_MAX - 8));
	CHECK_INT(ledger_entry_dump(big, &bytes, &len), 0);
	CHECK_INT(len, LEDGER_ENTRY_MAX);
	free(bytes);
	json_object_set_new(big, "a", json_stringn(want, LEDGER_ENTRY_MAX - 7));
	CHECK_INT(ledger_entry_dump(big, &bytes, &len), LEDGER_ETOOBIG);
	CHECK(bytes == NULL && len == 0);
	SAME(big);
	json_decref(big);
	free(want);
}

int
main(void)
{
	RUN(test_every_scalar);
	RUN(test_every_byte);
	RUN(test_key_order);
	RUN(test_integers);
	RUN(test_reals);
	RUN(test_depth);
	RUN(test_random_trees);
	RUN(test_entries);
	return TEST_SUMMARY();
}
