/*
 * The canonical number forms of the wire formats: decimal as checkpoints,
 * tile paths and the API write them (digits only, no sign, no leading
 * zeros), and hexadecimal digits.
 */
#ifndef LEDGER_NUMBER_H
#define LEDGER_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/*
 * ledger_parse_u64 - the len bytes at s as a canonical decimal uint64.
 * Returns 0, or LEDGER_EINVAL for anything else (empty, a sign, a leading
 * zero, a non-digit, a value above UINT64_MAX).
 */
int ledger_parse_u64(const char *s, size_t len, uint64_t *out);

/* ledger_hex_digit - the value of one hex digit (either case), or -1. */
int ledger_hex_digit(char c);

#endif
