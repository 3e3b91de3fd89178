/*
 * Subject tokens (spec §3): the ledger stores HMAC-SHA-256(subject key, id)
 * instead of a person's identifier, so the log is not a second register of
 * the people it is about, yet a supervisor holding the key can find them.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"

#define HMAC_BLOCK 64		/* SHA-256's block size */

_Static_assert(LEDGER_SUBJECT_KEY_LEN <= HMAC_BLOCK, "the key is padded, not hashed");

/*
 * HMAC (RFC 2104) written out over the thread's SHA-256 context: the key is
 * shorter than a block, so it is padded, not hashed.  Going through
 * EVP_MAC instead costs a context allocation and a parameter lookup per
 * token, and the writer makes a token for every subject it stores.
 */
int
ledger_subject_token(const uint8_t key[LEDGER_SUBJECT_KEY_LEN],
    const char *id, size_t id_len, char out[LEDGER_SUBJECT_TOKEN_LEN + 1])
{
	uint8_t ipad[HMAC_BLOCK], opad[HMAC_BLOCK];
	uint8_t inner[LEDGER_HASH_LEN], mac[LEDGER_HASH_LEN];
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	int rc;

	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < LEDGER_SUBJECT_KEY_LEN; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	rc = ledger_sha256_2(ipad, sizeof(ipad), id, id_len, inner);
	if (rc == 0)
		rc = ledger_sha256_2(opad, sizeof(opad), inner, sizeof(inner), mac);
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	if (rc != 0)
		return rc;
	/* The encoder's contract asks for room for padding; a token has none. */
	if (ledger_b64url_encode(mac, LEDGER_HASH_LEN, b64) != LEDGER_SUBJECT_TOKEN_LEN)
		return LEDGER_ECRYPTO;
	memcpy(out, b64, LEDGER_SUBJECT_TOKEN_LEN + 1);
	return LEDGER_OK;
}

/* Unpadded base64url of 32 bytes. */
int
ledger_subject_token_valid(const char *s, size_t len)
{
	size_t i;

	if (len != LEDGER_SUBJECT_TOKEN_LEN)
		return 0;
	for (i = 0; i < LEDGER_SUBJECT_TOKEN_LEN; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	/* 32 bytes leave 4 unused bits in the last character: they are 0. */
	return memchr("AEIMQUYcgkosw048", s[LEDGER_SUBJECT_TOKEN_LEN - 1], 16) != NULL;
}
