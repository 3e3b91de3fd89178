/*
 * Subject tokens (design §5): the ledger stores HMAC-SHA-256(subject key, id)
 * instead of a person's identifier, so the log is not a second register of
 * the people it is about, yet a supervisor holding the key can find them.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"

/* Fetched once: an algorithm lookup per subject would dominate the cost. */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac;

static void
hmac_init(void)
{
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int
ledger_subject_token(const uint8_t key[LEDGER_SUBJECT_KEY_LEN],
    const char *id, size_t id_len, char out[LEDGER_SUBJECT_TOKEN_LEN + 1])
{
	char digest_name[] = "SHA256";
	OSSL_PARAM params[2];
	uint8_t mac[EVP_MAX_MD_SIZE];
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	EVP_MAC_CTX *ctx = NULL;
	size_t mac_len = 0;
	int rc = LEDGER_ECRYPTO;

	if (pthread_once(&hmac_once, hmac_init) != 0 || hmac == NULL)
		return LEDGER_ECRYPTO;
	if ((ctx = EVP_MAC_CTX_new(hmac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, LEDGER_SUBJECT_KEY_LEN, params))
		goto out;
	if (id_len > 0 && !EVP_MAC_update(ctx, (const unsigned char *)id, id_len))
		goto out;
	if (!EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) ||
	    mac_len != LEDGER_HASH_LEN)
		goto out;
	/* The encoder's contract asks for room for padding; a token has none. */
	if (ledger_b64url_encode(mac, LEDGER_HASH_LEN, b64) != LEDGER_SUBJECT_TOKEN_LEN)
		goto out;
	memcpy(out, b64, LEDGER_SUBJECT_TOKEN_LEN + 1);
	rc = LEDGER_OK;
out:
	EVP_MAC_CTX_free(ctx);
	return rc;
}
