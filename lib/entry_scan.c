/*
 * Deciding without a JSON tree whether entry bytes are canonical (spec
 * §2.4): a scanner of the exact grammar of Jansson 2.14's output, so that a
 * reader of the whole log (the audit) needs neither json_loadb nor a second
 * serialisation per entry.  It never accepts what ledger_entry_parse's
 * canonical step refuses, nor refuses what it accepts; what it cannot decide
 * cheaply (real numbers, keys with escapes) it leaves to ledger_entry_parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ledger/entry.h"

/* The classes of bytes inside a string. */
enum {
	CH_PLAIN,	/* written as it is: 0x20 to 0x7F but '"' and '\\' */
	CH_QUOTE,
	CH_ESCAPE,
	CH_BAD		/* control characters and non-ASCII: never raw */
};

static const unsigned char char_class[256] = {
	[0x00 ... 0x1f] = CH_BAD,	/* the rest, 0x20 to 0x7F: CH_PLAIN */
	['"'] = CH_QUOTE,
	['\\'] = CH_ESCAPE,
	[0x80 ... 0xff] = CH_BAD,
};

/* Jansson writes \uXXXX with uppercase hex digits. */
static int
hex4_upper(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (end - p < 4)
		return 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/*
 * A string from its opening quote; *pp ends after the closing one.  In a
 * key any escape leaves the verdict open: keys are ordered by their decoded
 * bytes, which this scanner does not compute.
 */
static enum ledger_scan_verdict
scan_string(const unsigned char **pp, const unsigned char *end, int is_key)
{
	const unsigned char *p = *pp + 1;
	unsigned cp, low;

	for (;;) {
		while (p < end && char_class[*p] == CH_PLAIN)
			p++;
		if (p == end)
			return LEDGER_SCAN_NOT_CANONICAL;
		switch (char_class[*p++]) {
		case CH_QUOTE:
			*pp = p;
			return LEDGER_SCAN_CANONICAL;
		case CH_BAD:
			/* Jansson refuses raw control characters and
			 * escapes every non-ASCII character. */
			return LEDGER_SCAN_NOT_CANONICAL;
		}
		if (is_key)
			return LEDGER_SCAN_UNDECIDED;
		if (p == end)
			return LEDGER_SCAN_NOT_CANONICAL;
		switch (*p++) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r':
		case 't':
			continue;
		case 'u':
			break;
		default:	/* \/ is never written; others are not JSON */
			return LEDGER_SCAN_NOT_CANONICAL;
		}
		if (!hex4_upper(p, end, &cp))
			return LEDGER_SCAN_NOT_CANONICAL;
		p += 4;
		if (cp < 0x20) {
			/* NUL is refused without JSON_ALLOW_NUL; these five
			 * have their short escapes. */
			if (cp == 0 || cp == '\b' || cp == '\f' || cp == '\n' ||
			    cp == '\r' || cp == '\t')
				return LEDGER_SCAN_NOT_CANONICAL;
			continue;
		}
		if (cp < 0x80 || (cp >= 0xDC00 && cp <= 0xDFFF))
			return LEDGER_SCAN_NOT_CANONICAL;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			/* A high surrogate: only as the first half of a pair. */
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    !hex4_upper(p + 2, end, &low) || low < 0xDC00 ||
			    low > 0xDFFF)
				return LEDGER_SCAN_NOT_CANONICAL;
			p += 6;
		}
	}
}

/*
 * An integer, as Jansson writes json_int_t; a real leaves the verdict open.
 * *neg and *mag are its sign and magnitude.
 */
static enum ledger_scan_verdict
scan_number(const unsigned char **pp, const unsigned char *end, int *neg,
    uint64_t *mag)
{
	const unsigned char *p = *pp;
	uint64_t v = 0;
	int overflow = 0;

	*neg = 0;
	if (*p == '-') {
		*neg = 1;
		p++;
	}
	if (p == end || *p < '0' || *p > '9')
		return LEDGER_SCAN_NOT_CANONICAL;
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return LEDGER_SCAN_NOT_CANONICAL;
	} else
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			unsigned d = (unsigned)(*p - '0');

			if (v > (UINT64_MAX - d) / 10)
				overflow = 1;
			else
				v = v * 10 + d;
		}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return LEDGER_SCAN_UNDECIDED;
	/* -0 reads as 0; beyond int64 Jansson refuses the number. */
	if ((*neg && v == 0) || overflow ||
	    v > (*neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return LEDGER_SCAN_NOT_CANONICAL;
	*pp = p;
	*mag = v;
	return LEDGER_SCAN_CANONICAL;
}

/* One open object or array, and an object's last key so far. */
struct level {
	const unsigned char *key;
	size_t key_len;
	int is_object;
	int has_key;
};

/* The top-level member a key names, as its LEDGER_VIEW_ bit, or 0. */
static unsigned
view_member(const unsigned char *k, size_t n)
{
	static const struct {
		const char *name;
		size_t len;
		unsigned bit;
	} members[] = {
		{ "v", 1, LEDGER_VIEW_V },
		{ "seq", 3, LEDGER_VIEW_SEQ },
		{ "received_at", 11, LEDGER_VIEW_RECEIVED_AT },
		{ "submitter", 9, LEDGER_VIEW_SUBMITTER },
		{ "prev", 4, LEDGER_VIEW_PREV },
		{ "salt", 4, LEDGER_VIEW_SALT },
		{ "subjects", 8, LEDGER_VIEW_SUBJECTS },
	};
	size_t i;

	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (n == members[i].len && memcmp(k, members[i].name, n) == 0)
			return members[i].bit;
	return 0;
}

static struct ledger_span *
view_string(struct ledger_entry_view *view, unsigned member)
{
	switch (member) {
	case LEDGER_VIEW_RECEIVED_AT: return &view->received_at;
	case LEDGER_VIEW_SUBMITTER: return &view->submitter;
	case LEDGER_VIEW_PREV: return &view->prev;
	case LEDGER_VIEW_SALT: return &view->salt;
	}
	return NULL;
}

enum ledger_scan_verdict
ledger_entry_scan(const char *bytes, size_t len, struct ledger_entry_view *out)
{
	const unsigned char *p = (const unsigned char *)bytes, *end = p + len;
	const unsigned char *start, *key;
	struct level stack[LEDGER_SCAN_DEPTH_MAX];
	struct ledger_entry_view scratch, *view = out ? out : &scratch;
	struct ledger_span *span;
	enum ledger_scan_verdict r;
	unsigned member = 0;	/* the top-level member being read */
	size_t depth = 0, key_len;
	uint64_t mag;
	int neg, cmp;

	memset(view, 0, offsetof(struct ledger_entry_view, subjects));
	/* ledger_entry_dump refuses what is longer; Jansson's top value
	 * here is an object. */
	if (len == 0 || len > LEDGER_ENTRY_MAX || *p != '{')
		return LEDGER_SCAN_NOT_CANONICAL;

value:
	if (p == end)
		return LEDGER_SCAN_NOT_CANONICAL;
	start = p;
	switch (*p) {
	case '{':
	case '[':
		if (depth == LEDGER_SCAN_DEPTH_MAX)
			return LEDGER_SCAN_UNDECIDED;
		if (depth == 2 && member == LEDGER_VIEW_SUBJECTS)
			view->typed &= ~LEDGER_VIEW_SUBJECTS;
		stack[depth].is_object = *p == '{';
		stack[depth].has_key = 0;
		depth++;
		if (depth == 2 && member == LEDGER_VIEW_SUBJECTS &&
		    *p == '[')
			view->typed |= LEDGER_VIEW_SUBJECTS;
		p++;
		if (p < end && *p == (stack[depth - 1].is_object ? '}' : ']')) {
			p++;
			depth--;
			goto after_value;
		}
		if (stack[depth - 1].is_object)
			goto key;
		goto value;
	case '"':
		if ((r = scan_string(&p, end, 0)) != LEDGER_SCAN_CANONICAL)
			return r;
		if (depth == 1 && (span = view_string(view, member)) != NULL) {
			view->typed |= member;
			span->s = (const char *)start + 1;
			span->len = (size_t)(p - start) - 2;
		} else if (depth == 2 && member == LEDGER_VIEW_SUBJECTS &&
		    (view->typed & LEDGER_VIEW_SUBJECTS)) {
			if (view->n_subjects == LEDGER_SUBJECTS_MAX)
				view->typed &= ~LEDGER_VIEW_SUBJECTS;
			else {
				span = &view->subjects[view->n_subjects++];
				span->s = (const char *)start + 1;
				span->len = (size_t)(p - start) - 2;
			}
		}
		goto after_value;
	case 't':
	case 'f':
	case 'n': {
		const char *word = *p == 't' ? "true" : *p == 'f' ? "false" :
		    "null";
		size_t n = strlen(word);

		if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
			return LEDGER_SCAN_NOT_CANONICAL;
		p += n;
		if (depth == 2 && member == LEDGER_VIEW_SUBJECTS)
			view->typed &= ~LEDGER_VIEW_SUBJECTS;
		goto after_value;
	}
	default:
		if ((r = scan_number(&p, end, &neg, &mag)) !=
		    LEDGER_SCAN_CANONICAL)
			return r;
		if (depth == 1 && member == LEDGER_VIEW_V) {
			view->typed |= LEDGER_VIEW_V;
			view->v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		} else if (depth == 1 && member == LEDGER_VIEW_SEQ && !neg) {
			view->typed |= LEDGER_VIEW_SEQ;
			view->seq = mag;
		} else if (depth == 2 && member == LEDGER_VIEW_SUBJECTS)
			view->typed &= ~LEDGER_VIEW_SUBJECTS;
		goto after_value;
	}

after_value:
	if (depth == 0)
		/* The entry's object closed: nothing may follow it. */
		return p == end ? LEDGER_SCAN_CANONICAL :
		    LEDGER_SCAN_NOT_CANONICAL;
	if (p == end)
		return LEDGER_SCAN_NOT_CANONICAL;
	if (*p == ',') {
		p++;
		if (stack[depth - 1].is_object)
			goto key;
		goto value;
	}
	if (*p != (stack[depth - 1].is_object ? '}' : ']'))
		return LEDGER_SCAN_NOT_CANONICAL;
	p++;
	depth--;
	goto after_value;

key:
	if (p == end || *p != '"')
		return LEDGER_SCAN_NOT_CANONICAL;
	key = p + 1;
	if ((r = scan_string(&p, end, 1)) != LEDGER_SCAN_CANONICAL)
		return r;
	key_len = (size_t)(p - key) - 1;
	/*
	 * Without escapes a key's bytes are its decoded bytes, and Jansson
	 * sorts keys by those (memcmp, then length).  Strictly ascending also
	 * refuses a duplicate, which JSON_REJECT_DUPLICATES refuses.
	 */
	if (stack[depth - 1].has_key) {
		size_t n = stack[depth - 1].key_len < key_len ?
		    stack[depth - 1].key_len : key_len;

		cmp = memcmp(stack[depth - 1].key, key, n);
		if (cmp > 0 || (cmp == 0 && stack[depth - 1].key_len >= key_len))
			return LEDGER_SCAN_NOT_CANONICAL;
	}
	stack[depth - 1].key = key;
	stack[depth - 1].key_len = key_len;
	stack[depth - 1].has_key = 1;
	if (depth == 1) {
		member = view_member(key, key_len);
		view->present |= member;
	}
	if (p == end || *p != ':')
		return LEDGER_SCAN_NOT_CANONICAL;
	p++;
	goto value;
}
