/*
 * A JSON parser that builds exactly the tree Jansson 2.14's json_loadb
 * builds, in one pass over the buffer, for the daemon's hot paths (events
 * received, entries read back).  Jansson stays the arbiter: what the fast
 * parser refuses goes to json_loadb, which gives the error text.
 */
#ifndef LEDGER_JSONPARSE_H
#define LEDGER_JSONPARSE_H

#include <stddef.h>

#include <jansson.h>

/* The json_loadb flags ledger_json_parse decides on its own. */
#define LEDGER_JSON_PARSE_FLAGS \
	(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/*
 * ledger_json_parse - the value json_loadb(buf, len, flags, NULL) returns:
 * the same types (integer or real), values (reals through strtod on the
 * same text), string bytes, object members in the same insertion order,
 * and the same inputs refused.
 *	buf, len	in: need not be NUL-terminated
 *	flags		in: an OR of LEDGER_JSON_PARSE_FLAGS; any other flag
 *			makes it return NULL at once
 * Returns a new reference, or NULL when the input is refused, a flag is
 * not supported, or memory ran out: ask json_loadb then (as
 * ledger_json_loadb does), for the answer and its error text.
 */
json_t *ledger_json_parse(const char *buf, size_t len, size_t flags);

/*
 * ledger_json_loadb - a drop-in for json_loadb: ledger_json_parse, and on
 * NULL json_loadb itself, which fills err (may be NULL) and whose answer
 * stands.  On success through the fast parser err is left as it was.
 */
json_t *ledger_json_loadb(const char *buf, size_t len, size_t flags,
    json_error_t *err);

/*
 * ledger_json_fallback_accepts - how many times json_loadb accepted, with
 * supported flags, an input ledger_json_parse had refused (short of memory,
 * or a difference the tests must find): 0 in a healthy process.
 */
unsigned long ledger_json_fallback_accepts(void);

#endif
