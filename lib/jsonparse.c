/*
 * JSON text to the json_t tree Jansson 2.14's json_loadb builds, in one
 * pass over the buffer.  Jansson reads a byte at a time through a stream
 * callback and copies every token into a string buffer; here the lexer
 * walks the buffer itself, and a string without escapes goes from the input
 * to json_stringn_nocheck once its UTF-8 is checked.  The values are made
 * with Jansson's own constructors, so the tree is Jansson's.
 * tests/test_jsonparse.c and tests/fuzz/fuzz_jsonparse.c hold the result
 * equal to json_loadb's on every input.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/jsonparse.h"

/* The classes of bytes inside a string. */
enum {
	S_PLAIN,	/* itself: 0x20 to 0x7F but '"' and '\\' */
	S_QUOTE,
	S_ESCAPE,
	S_CONTROL,	/* refused raw, NUL included */
	S_UTF8		/* the first byte of a multi-byte sequence, or not */
};

static const unsigned char str_class[256] = {
	[0x00 ... 0x1f] = S_CONTROL,
	['"'] = S_QUOTE,
	['\\'] = S_ESCAPE,
	[0x80 ... 0xff] = S_UTF8,
};

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* The first byte from p on that is not S_PLAIN, or end. */
static const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end)
{
	uint64_t w, m;

	/* Eight bytes at a time: a byte below 0x20, a quote, a backslash or
	 * a byte with its high bit set ends the run. */
	while (end - p >= 8) {
		memcpy(&w, p, 8);
		m = ((w - ONES * 0x20) & ~w) |
		    (((w ^ (ONES * '"')) - ONES) & ~(w ^ (ONES * '"'))) |
		    (((w ^ (ONES * '\\')) - ONES) & ~(w ^ (ONES * '\\'))) | w;
		if (m & HIGHS)
			break;
		p += 8;
	}
	while (p < end && str_class[*p] == S_PLAIN)
		p++;
	return p;
}

/*
 * The length of the UTF-8 sequence at p, or 0 where Jansson's stream
 * refuses it: overlong forms, surrogates, beyond U+10FFFF, cut short.
 */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned c = p[0];

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (avail < 3 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;
		return 3;
	}
	if (avail < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
	    (p[3] & 0xc0) != 0x80)
		return 0;
	if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return 4;
}

/* A growable buffer for strings with escapes, freed at the end. */
struct buf {
	char *s;
	size_t cap;
};

static int
buf_reserve(struct buf *b, size_t n)
{
	char *s;

	if (n <= b->cap)
		return 0;
	if ((s = realloc(b->s, n)) == NULL)
		return -1;
	b->s = s;
	b->cap = n;
	return 0;
}

/* Four hex digits at p, either case, or -1. */
static long
hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static char *
utf8_put(char *t, unsigned long cp)
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

/*
 * The rest of a string from its first escape at p, decoded into b (never
 * longer than its text).  start is just past the opening quote.
 */
static int
string_escaped(const unsigned char **pp, const unsigned char *end,
    const unsigned char *start, const unsigned char *p, struct buf *b,
    const char **s, size_t *n, int *nul)
{
	const unsigned char *q;
	char *t;
	long cp, lo;
	size_t k;

	/* Where the string ends, to size the buffer once. */
	for (q = p; q < end && *q != '"'; q++)
		if (*q == '\\' && ++q == end)
			return -1;
	if (q == end || buf_reserve(b, (size_t)(q - start)) == -1)
		return -1;
	memcpy(b->s, start, (size_t)(p - start));
	t = b->s + (p - start);
	for (;;) {
		switch (str_class[*p]) {
		case S_PLAIN:
			*t++ = (char)*p++;
			continue;
		case S_QUOTE:
			*pp = p + 1;
			*s = b->s;
			*n = (size_t)(t - b->s);
			return 0;
		case S_UTF8:
			if ((k = utf8_len(p, end)) == 0)
				return -1;
			memcpy(t, p, k);
			t += k;
			p += k;
			continue;
		case S_CONTROL:
			return -1;
		}
		/* An escape; q bounds the string, so p + 1 < end. */
		switch (*++p) {
		case '"': case '\\': case '/':
			*t++ = (char)*p++;
			continue;
		case 'b': *t++ = '\b'; p++; continue;
		case 'f': *t++ = '\f'; p++; continue;
		case 'n': *t++ = '\n'; p++; continue;
		case 'r': *t++ = '\r'; p++; continue;
		case 't': *t++ = '\t'; p++; continue;
		case 'u':
			break;
		default:
			return -1;
		}
		if ((cp = hex4(p + 1, end)) < 0)
			return -1;
		p += 5;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			/* Only as the first half of a pair. */
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    (lo = hex4(p + 2, end)) < 0xdc00 || lo > 0xdfff)
				return -1;
			p += 6;
			cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
		}
		if (cp == 0)
			*nul = 1;
		t = utf8_put(t, (unsigned long)cp);
	}
}

/*
 * The string whose opening quote is at *pp: its decoded bytes in s and n,
 * pointing into the input when it has no escape, else into b.  *nul is
 * set when it holds a NUL (from \u0000: a raw one is refused).
 */
static int
string(const unsigned char **pp, const unsigned char *end, struct buf *b,
    const char **s, size_t *n, int *nul)
{
	const unsigned char *start = *pp + 1, *p = start;
	size_t k;

	*nul = 0;
	for (;;) {
		p = skip_plain(p, end);
		if (p == end)
			return -1;
		switch (str_class[*p]) {
		case S_QUOTE:
			*pp = p + 1;
			*s = (const char *)start;
			*n = (size_t)(p - start);
			return 0;
		case S_UTF8:
			if ((k = utf8_len(p, end)) == 0)
				return -1;
			p += k;
			continue;
		case S_ESCAPE:
			return string_escaped(pp, end, start, p, b, s, n, nul);
		default:
			return -1;
		}
	}
}

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/*
 * A real as Jansson reads it: strtod on the token's text, '.' turned into
 * the locale's decimal point first; an overflow is refused, an underflow
 * is not.
 */
static json_t *
real(const unsigned char *start, size_t n)
{
	char small[64], *text = small, *dot;
	const char *point;
	double d;

	if (n >= sizeof(small) && (text = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(text, start, n);
	text[n] = '\0';
	point = localeconv()->decimal_point;
	if (*point != '.' && (dot = strchr(text, '.')) != NULL)
		*dot = *point;
	errno = 0;
	d = strtod(text, NULL);
	if (text != small)
		free(text);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		return NULL;
	return json_real(d);
}

/*
 * The number at *pp: an integer unless it has a fraction or an exponent,
 * and then one within int64 (Jansson's strtoll refuses the rest), "-0"
 * being 0.
 */
static json_t *
number(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *start = *pp, *p = start;
	uint64_t mag = 0;
	int neg = 0, big = 0, is_real = 0;
	unsigned d;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p == end || !IS_DIGIT(*p))
		return NULL;
	if (*p == '0') {
		if (++p < end && IS_DIGIT(*p))
			return NULL;
	} else
		for (; p < end && IS_DIGIT(*p); p++) {
			d = (unsigned)(*p - '0');
			if (mag > (UINT64_MAX - d) / 10)
				big = 1;
			else
				mag = mag * 10 + d;
		}
	if (p < end && *p == '.') {
		if (++p == end || !IS_DIGIT(*p))
			return NULL;
		while (p < end && IS_DIGIT(*p))
			p++;
		is_real = 1;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !IS_DIGIT(*p))
			return NULL;
		while (p < end && IS_DIGIT(*p))
			p++;
		is_real = 1;
	}
	*pp = p;
	if (is_real)
		return real(start, (size_t)(p - start));
	if (big || mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return NULL;
	return json_integer(neg ? (json_int_t)(0 - mag) : (json_int_t)mag);
}

static const unsigned char *
skip_space(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

/* An open object or array. */
struct level {
	json_t *v;		/* borrowed: its parent (or the root) owns it */
	int is_object;
};

#define STACK_INLINE 32

struct parser {
	json_t *root;
	struct level *stack;
	size_t depth, cap;
	struct level inline_stack[STACK_INLINE];
	struct buf keys, strings;
};

/*
 * Puts v in place, taking its reference: as the root, an array's next
 * element or an object's member key.  A container goes in as soon as it
 * opens: no other member of its parent can come in between, so the order
 * of members is the one Jansson's (which inserts it once it closes) gives.
 */
static int
attach(struct parser *ps, json_t *v, const char *key, size_t key_len)
{
	struct level *top;

	if (v == NULL)
		return -1;
	if (ps->depth == 0) {
		ps->root = v;
		return 0;
	}
	top = &ps->stack[ps->depth - 1];
	if (top->is_object)
		return json_object_setn_new_nocheck(top->v, key, key_len, v);
	return json_array_append_new(top->v, v);
}

static int
push(struct parser *ps, json_t *v, int is_object)
{
	struct level *s;
	size_t cap;

	if (ps->depth == ps->cap) {
		cap = ps->cap * 4;
		if (ps->stack == ps->inline_stack) {
			if ((s = malloc(cap * sizeof(*s))) == NULL)
				return -1;
			memcpy(s, ps->stack, ps->depth * sizeof(*s));
		} else if ((s = realloc(ps->stack, cap * sizeof(*s))) == NULL)
			return -1;
		ps->stack = s;
		ps->cap = cap;
	}
	ps->stack[ps->depth].v = v;
	ps->stack[ps->depth].is_object = is_object;
	ps->depth++;
	return 0;
}

json_t *
ledger_json_parse(const char *buf, size_t len, size_t flags)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	struct parser ps;
	struct level *top;
	const char *key = NULL, *s;
	size_t key_len = 0, n;
	json_t *v;
	int nul;

	if (buf == NULL || (flags & ~(size_t)LEDGER_JSON_PARSE_FLAGS))
		return NULL;
	ps.root = NULL;
	ps.stack = ps.inline_stack;
	ps.depth = 0;
	ps.cap = STACK_INLINE;
	ps.keys.s = ps.strings.s = NULL;
	ps.keys.cap = ps.strings.cap = 0;

	p = skip_space(p, end);
	if (!(flags & JSON_DECODE_ANY) &&
	    (p == end || (*p != '{' && *p != '[')))
		goto fail;

value:
	/* Jansson counts every value, scalars too, the top one being at
	 * depth 1. */
	if (ps.depth >= JSON_PARSER_MAX_DEPTH || p == end)
		goto fail;
	switch (*p) {
	case '{':
	case '[':
		v = *p == '{' ? json_object() : json_array();
		if (attach(&ps, v, key, key_len) == -1 ||
		    push(&ps, v, *p == '{') == -1)
			goto fail;
		p = skip_space(p + 1, end);
		if (p < end && *p == (ps.stack[ps.depth - 1].is_object ?
		    '}' : ']')) {
			p++;
			ps.depth--;
			goto after_value;
		}
		if (ps.stack[ps.depth - 1].is_object)
			goto key;
		goto value;
	case '"':
		if (string(&p, end, &ps.strings, &s, &n, &nul) == -1 ||
		    (nul && !(flags & JSON_ALLOW_NUL)))
			goto fail;
		v = json_stringn_nocheck(s, n);
		break;
	case 't':
		if (end - p < 4 || memcmp(p, "true", 4) != 0)
			goto fail;
		p += 4;
		v = json_true();
		goto after_token;
	case 'f':
		if (end - p < 5 || memcmp(p, "false", 5) != 0)
			goto fail;
		p += 5;
		v = json_false();
		goto after_token;
	case 'n':
		if (end - p < 4 || memcmp(p, "null", 4) != 0)
			goto fail;
		p += 4;
		v = json_null();
		goto after_token;
	default:
		if (*p != '-' && !IS_DIGIT(*p))
			goto fail;
		if ((v = number(&p, end)) == NULL)
			goto fail;
	after_token:
		/*
		 * Jansson's lexer gives back the byte after a number or a
		 * word; when that byte is NUL its stream then reads on past
		 * it, as if it were not there: "[1\0]" is [1].
		 */
		if (p < end && *p == '\0')
			p++;
		break;
	}
	if (attach(&ps, v, key, key_len) == -1)
		goto fail;

after_value:
	p = skip_space(p, end);
	if (ps.depth == 0) {
		/* The top value is complete: only white space may follow. */
		if (p != end)
			goto fail;
		goto done;
	}
	if (p == end)
		goto fail;
	top = &ps.stack[ps.depth - 1];
	if (*p == ',') {
		p = skip_space(p + 1, end);
		if (top->is_object)
			goto key;
		goto value;
	}
	if (*p != (top->is_object ? '}' : ']'))
		goto fail;
	p++;
	ps.depth--;
	goto after_value;

key:
	if (p == end || *p != '"' ||
	    string(&p, end, &ps.keys, &key, &key_len, &nul) == -1)
		goto fail;
	/* Jansson refuses a NUL in a key whatever the flags. */
	if (nul)
		goto fail;
	if ((flags & JSON_REJECT_DUPLICATES) &&
	    json_object_getn(ps.stack[ps.depth - 1].v, key, key_len) != NULL)
		goto fail;
	p = skip_space(p, end);
	if (p == end || *p != ':')
		goto fail;
	p = skip_space(p + 1, end);
	goto value;

done:
	if (ps.stack != ps.inline_stack)
		free(ps.stack);
	free(ps.keys.s);
	free(ps.strings.s);
	return ps.root;

fail:
	json_decref(ps.root);
	ps.root = NULL;
	goto done;
}

static unsigned long fallback_accepts;

json_t *
ledger_json_loadb(const char *buf, size_t len, size_t flags,
    json_error_t *err)
{
	json_t *v;

	if ((flags & ~(size_t)LEDGER_JSON_PARSE_FLAGS) == 0) {
		if ((v = ledger_json_parse(buf, len, flags)) != NULL)
			return v;
		if ((v = json_loadb(buf, len, flags, err)) != NULL)
			__atomic_add_fetch(&fallback_accepts, 1,
			    __ATOMIC_RELAXED);
		return v;
	}
	return json_loadb(buf, len, flags, err);
}

unsigned long
ledger_json_fallback_accepts(void)
{
	return __atomic_load_n(&fallback_accepts, __ATOMIC_RELAXED);
}
