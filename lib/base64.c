/*
 * Base64 encoders and a strict decoder.  Hand-written rather than OpenSSL's
 * EVP_EncodeBlock/DecodeBlock because the latter accepts white space and
 * non-canonical padding bits, and a verifier must see one encoding per value.
 */
#include <string.h>

#include "ledger/base64.h"
#include "ledger/error.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t
encode(const char *alphabet, int pad, const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
ledger_b64_encode(const uint8_t *in, size_t len, char *out)
{
	return encode(b64_std, 1, in, len, out);
}

size_t
ledger_b64url_encode(const uint8_t *in, size_t len, char *out)
{
	return encode(b64_url, 0, in, len, out);
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
ledger_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	size_t i, o = 0, pad = 0;

	if (len % 4 != 0)
		return LEDGER_EINVAL;
	if (len > 0 && in[len - 1] == '=')
		pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return LEDGER_ETOOBIG;
	for (i = 0; i < len; i += 4) {
		int last = (i + 4 == len);
		int v[4];
		for (int j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				v[j] = 0;
				continue;
			}
			v[j] = b64_value(in[i + j]);
			if (v[j] < 0)
				return LEDGER_EINVAL;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		out[o++] = w >> 16;
		if (!last || pad < 2)
			out[o++] = (w >> 8) & 0xff;
		else if (w & 0xffff)
			return LEDGER_EINVAL;	/* non-canonical trailing bits */
		if (!last || pad < 1)
			out[o++] = w & 0xff;
		else if (pad == 1 && (w & 0xff))
			return LEDGER_EINVAL;
	}
	*outlen = o;
	return LEDGER_OK;
}
