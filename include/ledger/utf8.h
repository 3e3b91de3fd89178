/*
 * UTF-8 decoding and checks shared by the note, checkpoint and HTTP code.
 */
#ifndef LEDGER_UTF8_H
#define LEDGER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * ledger_utf8_next - decodes the sequence at the start of s (len > 0).
 * Overlong forms, surrogates and code points above U+10FFFF are refused.
 *	cp	out: the code point
 * Returns the sequence's length in bytes, or 0 when it is not valid UTF-8.
 */
size_t ledger_utf8_next(const unsigned char *s, size_t len, uint32_t *cp);

/* ledger_utf8_is_control - Unicode general category Cc (C0, DEL, C1). */
int ledger_utf8_is_control(uint32_t cp);

/*
 * ledger_utf8_text_valid - 1 when s is well-formed UTF-8 holding no control
 * character (Cc) at all, 0 otherwise.  For identifiers and other one-line
 * text that reaches the log.
 */
int ledger_utf8_text_valid(const char *s, size_t len);

#endif
