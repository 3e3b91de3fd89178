/*
 * The canonical JSON text of spec §2.4 without Jansson's dump.  Jansson's
 * json_dumpb with JSON_SORT_KEYS copies and qsorts each object's keys on
 * the heap and hands every token to a callback; the entry writer paid for
 * that on each entry.  Here each object's keys are sorted in place on a
 * stack of key references (on the C stack for the usual entry) and the
 * text goes straight into the caller's buffer.  Every rule below is
 * Jansson 2.14's (src/dump.c, src/strconv.c, src/utf.c); the tests hold
 * the two against each other.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/jsoncanon.h"
#include "ledger/utf8.h"
#include "ledger/xmalloc.h"

#define KEYS_ON_STACK 128	/* key references before the heap is used */
#define INSERTION_MAX 32	/* objects this small are insertion sorted */
#define FIRST_TRY 4096		/* bytes: room for the usual entry */

struct key_ref {
	const char *key;
	size_t len;
	const json_t *value;
};

struct canon {
	char *buf;
	size_t cap;
	size_t len;		/* the text's length so far, may exceed cap */
	struct key_ref *keys;	/* the open objects' keys, a stack */
	size_t keys_cap;
	size_t keys_used;
};

/* 1 for the bytes a string holds as they are: printable ASCII but " \ */
static const unsigned char plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* DEL too */
};

static const char hex[] = "0123456789ABCDEF";

static int put_value(struct canon *, const json_t *, int);

/* Whatever does not fit is counted, not written, as json_dumpb does. */
static inline void
put(struct canon *c, const void *s, size_t n)
{
	size_t room;

	if (c->len < c->cap) {
		room = c->cap - c->len;
		memcpy(c->buf + c->len, s, n < room ? n : room);
	}
	c->len += n;
}

static inline void
put_char(struct canon *c, char ch)
{
	if (c->len < c->cap)
		c->buf[c->len] = ch;
	c->len++;
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/*
 * Whether the 8 bytes at p are all plain, a word at a time: none has its
 * high bit set, none is below 0x20 (subtracting 0x20 from such a byte sets
 * its high bit), none is '"' or '\\' (x ^ c has a zero byte then).
 */
static inline int
plain8(const unsigned char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, sizeof(x));
	q = x ^ (ONES * '"');
	b = x ^ (ONES * '\\');
	return ((x | (x - ONES * 0x20) | (q - ONES) | (b - ONES)) & HIGHS) == 0;
}

/* \uXXXX, uppercase hex (dump.c: "\\u%04X"). */
static void
put_u(struct canon *c, uint32_t u)
{
	char e[6] = { '\\', 'u', hex[u >> 12 & 15], hex[u >> 8 & 15],
	    hex[u >> 4 & 15], hex[u & 15] };

	put(c, e, sizeof(e));
}

/*
 * A string's text.  Returns 0, or -1 when s is not UTF-8.  Jansson ignores
 * that failure for an object key (dump.c drops dump_string's result there)
 * and keeps what it has written by then: the opening quote and the text up
 * to the last escape, since it writes a run of plain characters only when
 * an escape or the end follows.  With key set, the same happens here.
 */
static int
put_string(struct canon *c, const char *s, size_t n, int key)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
	size_t mark, k;
	uint32_t cp;

	put_char(c, '"');
	mark = c->len;
	for (;;) {
		for (run = p; end - p >= 8 && plain8(p); p += 8)
			;
		for (; p < end && plain[*p]; p++)
			;
		put(c, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p < 0x80) {
			switch (*p) {
			case '"':	put(c, "\\\"", 2); break;
			case '\\':	put(c, "\\\\", 2); break;
			case '\b':	put(c, "\\b", 2); break;
			case '\f':	put(c, "\\f", 2); break;
			case '\n':	put(c, "\\n", 2); break;
			case '\r':	put(c, "\\r", 2); break;
			case '\t':	put(c, "\\t", 2); break;
			default:	put_u(c, *p); break;	/* NUL too */
			}
			p++;
		} else if ((k = ledger_utf8_next(p, (size_t)(end - p), &cp)) == 0) {
			if (!key)
				return -1;
			c->len = mark;
			return 0;
		} else {
			p += k;
			if (cp < 0x10000)
				put_u(c, cp);
			else {
				cp -= 0x10000;
				put_u(c, 0xd800 | cp >> 10);
				put_u(c, 0xdc00 | (cp & 0x3ff));
			}
		}
		mark = c->len;
	}
	put_char(c, '"');
	return 0;
}

/* %lld, by hand. */
static void
put_integer(struct canon *c, json_int_t i)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u = i < 0 ? 0 - (unsigned long long)i :
	    (unsigned long long)i;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (i < 0)
		*--p = '-';
	put(c, p, (size_t)(d + sizeof(d) - p));
}

/*
 * jsonp_dtostr with Jansson's default precision: %.17g, the locale's
 * decimal point made '.', ".0" appended when neither '.' nor 'e' shows,
 * and the exponent's '+' and leading zeros taken out.  Reals are rare in
 * entries (only inside details), so snprintf is good enough.
 */
static int
put_real(struct canon *c, double v)
{
	char b[64], *e, *from, *to;
	int n;
	size_t len;

	n = snprintf(b, sizeof(b), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(b) - 2)
		return -1;
	len = (size_t)n;
	/* A finite double prints digits, '-', 'e', '+' and one point. */
	for (e = b; *e != '\0'; e++)
		if ((*e < '0' || *e > '9') && *e != '-' && *e != '+' &&
		    *e != 'e') {
			*e = '.';
			break;
		}
	if (strchr(b, '.') == NULL && strchr(b, 'e') == NULL) {
		memcpy(b + len, ".0", 3);
		len += 2;
	}
	if ((e = strchr(b, 'e')) != NULL) {
		to = e + 1;
		from = to + 1;
		if (*to == '-')
			to++;
		while (*from == '0')
			from++;
		if (from != to) {
			memmove(to, from, len - (size_t)(from - b) + 1);
			len -= (size_t)(from - to);
		}
	}
	put(c, b, len);
	return 0;
}

/*
 * dump.c's compare_keys: bytes over the shorter length, then shorter
 * first.  Keys are short and mostly differ early: a byte loop beats a call
 * to memcmp.
 */
static int
key_cmp(const struct key_ref *a, const struct key_ref *b)
{
	const unsigned char *x = (const unsigned char *)a->key;
	const unsigned char *y = (const unsigned char *)b->key;
	size_t n = a->len < b->len ? a->len : b->len, i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int
key_qcmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* Keys are distinct, so any sort gives Jansson's order. */
static void
sort_keys(struct key_ref *k, size_t n)
{
	struct key_ref t;
	size_t i, j;

	if (n > INSERTION_MAX) {
		qsort(k, n, sizeof(*k), key_qcmp);
		return;
	}
	for (i = 1; i < n; i++) {
		t = k[i];
		for (j = i; j > 0 && key_cmp(&t, &k[j - 1]) < 0; j--)
			k[j] = k[j - 1];
		k[j] = t;
	}
}

static int
put_object(struct canon *c, const json_t *o, int depth)
{
	struct key_ref *keys, *own = NULL;
	size_t n = json_object_size(o), i = 0;
	void *it;
	int rc = 0;

	if (n == 0) {
		put(c, "{}", 2);
		return 0;
	}
	/*
	 * The keys of the objects being written sit on one stack; an object
	 * that does not fit what is left of it has its own array.
	 */
	if (c->keys_cap - c->keys_used >= n) {
		keys = c->keys + c->keys_used;
		c->keys_used += n;
	} else {
		if (n > SIZE_MAX / sizeof(*keys))
			return -1;
		keys = own = xmalloc(n * sizeof(*keys));
	}
	for (it = json_object_iter((json_t *)o); it != NULL && i < n;
	    it = json_object_iter_next((json_t *)o, it), i++) {
		keys[i].key = json_object_iter_key(it);
		keys[i].len = json_object_iter_key_len(it);
		keys[i].value = json_object_iter_value(it);
	}
	if (i != n || it != NULL)
		rc = -1;	/* not reached: the size is the count */
	else {
		sort_keys(keys, n);
		put_char(c, '{');
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0)
				put_char(c, ',');
			put_string(c, keys[i].key, keys[i].len, 1);
			put_char(c, ':');
			rc = put_value(c, keys[i].value, depth);
		}
		put_char(c, '}');
	}
	if (own != NULL)
		free(own);
	else
		c->keys_used -= n;
	return rc;
}

static int
put_array(struct canon *c, const json_t *a, int depth)
{
	size_t n = json_array_size(a), i;

	put_char(c, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			put_char(c, ',');
		if (put_value(c, json_array_get(a, i), depth) != 0)
			return -1;
	}
	put_char(c, ']');
	return 0;
}

/*
 * depth is the number of containers around v.  The limit also ends a
 * cycle, which Jansson refuses with its visited set.
 */
static int
put_value(struct canon *c, const json_t *v, int depth)
{
	if (v == NULL)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth >= LEDGER_CANON_DEPTH_MAX)
			return -1;
		return put_object(c, v, depth + 1);
	case JSON_ARRAY:
		if (depth >= LEDGER_CANON_DEPTH_MAX)
			return -1;
		return put_array(c, v, depth + 1);
	case JSON_STRING:
		return put_string(c, json_string_value(v),
		    json_string_length(v), 0);
	case JSON_INTEGER:
		put_integer(c, json_integer_value(v));
		return 0;
	case JSON_REAL:
		return put_real(c, json_real_value(v));
	case JSON_TRUE:
		put(c, "true", 4);
		return 0;
	case JSON_FALSE:
		put(c, "false", 5);
		return 0;
	case JSON_NULL:
		put(c, "null", 4);
		return 0;
	}
	return -1;
}

size_t
ledger_canon_dump(const json_t *v, char *buf, size_t cap)
{
	struct key_ref keys[KEYS_ON_STACK];
	struct canon c = { buf, cap, 0, keys, KEYS_ON_STACK, 0 };

	if (put_value(&c, v, 0) != 0)
		return 0;
	return c.len;
}

size_t
ledger_canon_dump_member(const json_t *v, char *buf, size_t cap)
{
	struct key_ref keys[KEYS_ON_STACK];
	struct canon c = { buf, cap, 0, keys, KEYS_ON_STACK, 0 };

	if (put_value(&c, v, 1) != 0)
		return 0;
	return c.len;
}

size_t
ledger_canon_dump_string(const char *s, size_t n, char *buf, size_t cap)
{
	struct canon c = { buf, cap, 0, NULL, 0, 0 };

	if (put_string(&c, s, n, 0) != 0)
		return 0;
	return c.len;
}

int
ledger_canon_dump_alloc(const json_t *v, size_t max, char **out, size_t *len)
{
	char first[FIRST_TRY];
	char *buf;
	size_t n;

	*out = NULL;
	*len = 0;
	/*
	 * Most values fit the stack buffer.  A longer one is written again
	 * at its exact size, and one over max is refused without that.
	 */
	if ((n = ledger_canon_dump(v, first, sizeof(first))) == 0)
		return LEDGER_EINVAL;
	if (n > max) {
		OPENSSL_cleanse(first, sizeof(first));
		return LEDGER_ETOOBIG;
	}
	buf = xmalloc(n);
	if (n <= sizeof(first))
		memcpy(buf, first, n);
	else if (ledger_canon_dump(v, buf, n) != n) {
		OPENSSL_cleanse(first, sizeof(first));
		OPENSSL_cleanse(buf, n);
		free(buf);
		return LEDGER_EINVAL;
	}
	/* It may have been a sealed value: leave no copy on the stack. */
	OPENSSL_cleanse(first, n < sizeof(first) ? n : sizeof(first));
	*out = buf;
	*len = n;
	return LEDGER_OK;
}
