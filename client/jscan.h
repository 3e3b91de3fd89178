/*
 * A fast look at the top-level members of an entry without building it:
 * audits check the seq, prev and subjects of every entry of the log, and a
 * full parse would dominate their time.  The scan follows JSON's string
 * and nesting rules, so a member nested in details never passes for a
 * top-level one.
 */
#ifndef LEDGERCTL_JSCAN_H
#define LEDGERCTL_JSCAN_H

#include <stddef.h>
#include <stdint.h>

/* A raw value: its text as it stands in the entry (strings keep their quotes). */
struct jspan {
	const char *p;
	size_t len;		/* 0 when the member is absent */
};

/*
 * jscan_members - finds the members named in names (n of them) at the top
 * level of the object text s.
 *	out	out: n spans, in the order of names
 * The scan stops at the last member found (at most 8 names).
 * Returns 0, or -1 when s is not an object or its structure is broken.
 */
int jscan_members(const char *s, size_t len, const char *const *names,
    size_t n, struct jspan *out);

/* jscan_u64 - a span holding a non-negative integer; 0 or -1. */
int jscan_u64(const struct jspan *v, uint64_t *out);

/*
 * jscan_string_is - whether the span is the JSON string "want" exactly
 * (want holds no character JSON escapes).
 */
int jscan_string_is(const struct jspan *v, const char *want, size_t want_len);

/* jscan_array_has - whether an array of such strings holds "want". */
int jscan_array_has(const struct jspan *v, const char *want, size_t want_len);

#endif
