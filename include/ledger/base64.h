/*
 * Base64 (RFC 4648 §4, with padding) as the C2SP formats use it, and the
 * unpadded URL-safe form (spec §3) used for subject tokens.
 */
#ifndef LEDGER_BASE64_H
#define LEDGER_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, without the terminating NUL. */
#define LEDGER_B64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * ledger_b64_encode - standard base64 with padding.
 *	out	out: at least LEDGER_B64_LEN(len) + 1 bytes; NUL-terminated
 * Returns the number of characters written (without the NUL).
 */
size_t ledger_b64_encode(const uint8_t *in, size_t len, char *out);

/*
 * ledger_b64url_encode - URL-safe base64 without padding.
 *	out	out: at least LEDGER_B64_LEN(len) + 1 bytes; NUL-terminated
 * Returns the number of characters written.
 */
size_t ledger_b64url_encode(const uint8_t *in, size_t len, char *out);

/*
 * ledger_b64_decode - strict standard base64 with padding: every length,
 * alphabet and padding rule is checked, and non-canonical trailing bits are
 * refused so that each byte string has exactly one encoding.
 *	in, len		in: the text (need not be NUL-terminated)
 *	out, cap	out: the decoded bytes, at most cap of them
 *	outlen		out: how many bytes were decoded
 * Returns 0, LEDGER_EINVAL for malformed text, LEDGER_ETOOBIG when cap is short.
 */
int ledger_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen);

#endif
