/*
 * JSON text written as it is read, for answers too big to build as a
 * jansson tree and dump: for a thousand entries the tree and its dump cost
 * more than reading the log.  What these write is byte for byte what
 * json_dumps(JSON_COMPACT) makes of the same values, so an answer written
 * here is the one a tree would have given.  Any thread.
 */
#ifndef LEDGERD_JSONTEXT_H
#define LEDGERD_JSONTEXT_H

#include <stddef.h>
#include <stdint.h>

/* A growing text; start it zeroed, free(buf) when done.  Not NUL-terminated. */
struct json_text {
	char *buf;
	size_t len, cap;
};

/* jsontext_reserve - room for more bytes after len (xrealloc: never fails). */
void jsontext_reserve(struct json_text *t, size_t more);

/* jsontext_raw - n bytes as they are; jsontext_str a C string as it is. */
void jsontext_raw(struct json_text *t, const char *s, size_t n);
void jsontext_str(struct json_text *t, const char *s);

/* jsontext_u64 - v in decimal, as jansson writes an integer. */
void jsontext_u64(struct json_text *t, uint64_t v);

/*
 * jsontext_string - s (n bytes) as a JSON string, quoted and escaped as
 * jansson escapes it.  Returns 0, or LEDGER_ECORRUPT when s is not UTF-8
 * (nothing is written then).
 */
int jsontext_string(struct json_text *t, const char *s, size_t n);

#endif
