/*
 * The canonical JSON text of spec §2.4, written without Jansson's dump:
 * byte for byte what json_dumpb(v, ..., JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENSURE_ASCII | JSON_ENCODE_ANY) writes with Jansson 2.14, in a
 * fraction of the time (no qsort, no allocation, no callback per token for
 * the usual entry).  tests/test_jsoncanon.c and tests/fuzz/fuzz_jsoncanon.c
 * hold the two against each other.
 */
#ifndef LEDGER_JSONCANON_H
#define LEDGER_JSONCANON_H

#include <stddef.h>

#include <jansson.h>

/*
 * Containers nested deeper than this are refused.  It is the depth
 * Jansson's parser accepts (JSON_PARSER_DEFAULT_DEPTH), so whatever
 * json_loadb reads can be written; Jansson's dump itself has no limit and
 * overflows the stack on a deep enough tree.
 */
#define LEDGER_CANON_DEPTH_MAX 2048

/*
 * ledger_canon_dump - writes the canonical text of v into buf.
 *	v	in: borrowed; any type at the top level
 *	buf	out: the first min(cap, returned length) bytes of the text, not
 *		NUL-terminated; may be NULL when cap is 0
 * Returns the text's full length, which may exceed cap (call again with a
 * buffer that long), or 0 when v cannot be written: v NULL, a string that
 * is not UTF-8, nesting past LEDGER_CANON_DEPTH_MAX, or a real that does
 * not format.  As with Jansson, an object key that is not UTF-8 (only the
 * _nocheck setters make one) is not an error: it is written as Jansson
 * writes it, cut short after its last escape and without its closing quote.
 */
size_t ledger_canon_dump(const json_t *v, char *buf, size_t cap);

/*
 * ledger_canon_dump_member - ledger_canon_dump of v as a value inside an
 * object: its nesting counts one level more (an entry's member, written on
 * its own, is refused exactly when the whole entry would be).
 */
size_t ledger_canon_dump_member(const json_t *v, char *buf, size_t cap);

/*
 * ledger_canon_dump_string - the canonical text of the JSON string of the
 * n bytes at s (which may hold NULs), as ledger_canon_dump writes it.
 * Returns its full length, as ledger_canon_dump does, or 0 when the bytes
 * are not UTF-8.
 */
size_t ledger_canon_dump_string(const char *s, size_t n, char *buf, size_t cap);

/*
 * ledger_canon_dump_alloc - the canonical text of v in a new buffer.
 *	max	in: the largest text accepted, bytes
 *	out, len out: new buffer (free() it), not NUL-terminated; NULL and 0
 *		on failure
 * Returns 0, LEDGER_EINVAL when v cannot be written, or LEDGER_ETOOBIG
 * when its text is longer than max.
 */
int ledger_canon_dump_alloc(const json_t *v, size_t max, char **out,
    size_t *len);

#endif
