/*
 * The top-level member scan (see jscan.h).  It skips values by their
 * syntax only: strings with their escapes, nested objects and arrays by
 * depth, anything else up to the next delimiter.
 */
#include <string.h>

#include "jscan.h"

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns past the closing one, or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	const char *q = p + 1 < end ? memchr(p + 1, '"',
	    (size_t)(end - p - 1)) : NULL;

	if (q == NULL)
		return NULL;
	/* Most strings hold no escape: then the first quote ends them. */
	if (memchr(p + 1, '\\', (size_t)(q - p - 1)) == NULL)
		return q + 1;
	for (q = p + 1; q < end && *q != '"'; q++)
		if (*q == '\\')
			q++;
	return q < end ? q + 1 : NULL;
}

static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

int
jscan_members(const char *s, size_t len, const char *const *names, size_t n,
    struct jspan *out)
{
	const char *p = s, *end = s + len, *key, *kend, *v;
	size_t i, klen, found = 0, nlen[8];

	if (n > 8)
		return -1;
	for (i = 0; i < n; i++)
		nlen[i] = strlen(names[i]);
	memset(out, 0, n * sizeof(*out));
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		if (p >= end || *p != '"')
			return -1;
		key = p + 1;
		if ((kend = skip_string(p, end)) == NULL)
			return -1;
		p = skip_ws(kend, end);
		if (p >= end || *p != ':')
			return -1;
		v = skip_ws(p + 1, end);
		if ((p = skip_value(v, end)) == NULL || p == v)
			return -1;
		klen = (size_t)(kend - 1 - key);
		for (i = 0; i < n; i++)
			if (klen == nlen[i] && out[i].p == NULL &&
			    memcmp(key, names[i], klen) == 0) {
				out[i].p = v;
				out[i].len = (size_t)(p - v);
				found++;
			}
		/* Keys are unique in an entry: stop once all are found. */
		if (found == n)
			return 0;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? 0 : -1;
		return -1;
	}
}

int
jscan_u64(const struct jspan *v, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (v->len == 0 || (v->p[0] == '0' && v->len > 1))
		return -1;
	for (i = 0; i < v->len; i++) {
		if (v->p[i] < '0' || v->p[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v->p[i] - '0');
	}
	*out = x;
	return 0;
}

int
jscan_string_is(const struct jspan *v, const char *want, size_t want_len)
{
	return v->len == want_len + 2 && v->p[0] == '"' &&
	    v->p[want_len + 1] == '"' && memcmp(v->p + 1, want, want_len) == 0;
}

int
jscan_array_has(const struct jspan *v, const char *want, size_t want_len)
{
	const char *p = v->p, *end = v->p + v->len;

	if (v->len < 2 || p[0] != '[')
		return 0;
	/* Elements are strings without escapes: a quoted match is an element. */
	while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) >= want_len + 2 &&
		    memcmp(p + 1, want, want_len) == 0 &&
		    p[want_len + 1] == '"' &&
		    (p[-1] == '[' || p[-1] == ','))
			return 1;
		/* Skip this whole string. */
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\')
				p++;
		if (p >= end)
			return 0;
		p++;
	}
	return 0;
}
