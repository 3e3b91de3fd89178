/*
 * Retention periods (spec §3.2): the period an entry's received_at falls in,
 * and the two keys HKDF draws from a period's secret.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "ledger/error.h"
#include "ledger/period.h"

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
ledger_period_name(const char *received_at, enum ledger_period_kind kind,
    char out[LEDGER_PERIOD_ID_MAX + 1])
{
	int month;

	out[0] = '\0';
	/* "YYYY-MM-": the rest of the time does not choose the period. */
	if (strnlen(received_at, 8) < 8 || !digits(received_at, 4) ||
	    received_at[4] != '-' || !digits(received_at + 5, 2) ||
	    received_at[7] != '-')
		return LEDGER_EINVAL;
	month = (received_at[5] - '0') * 10 + (received_at[6] - '0');
	if (month < 1 || month > 12)
		return LEDGER_EINVAL;
	switch (kind) {
	case LEDGER_PERIOD_QUARTER:
		memcpy(out, received_at, 4);
		memcpy(out + 4, "-Q", 2);
		out[6] = (char)('1' + (month - 1) / 3);
		out[7] = '\0';
		return LEDGER_OK;
	case LEDGER_PERIOD_MONTH:
		memcpy(out, received_at, 7);
		out[7] = '\0';
		return LEDGER_OK;
	case LEDGER_PERIOD_YEAR:
		memcpy(out, received_at, 4);
		out[4] = '\0';
		return LEDGER_OK;
	default:
		return LEDGER_EINVAL;
	}
}

int
ledger_period_kind_parse(const char *s, enum ledger_period_kind *out)
{
	static const char *const names[LEDGER_PERIOD_KIND_MAX] = {
		[LEDGER_PERIOD_QUARTER] = "quarter",
		[LEDGER_PERIOD_MONTH] = "month",
		[LEDGER_PERIOD_YEAR] = "year",
	};

	for (int i = 0; i < LEDGER_PERIOD_KIND_MAX; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum ledger_period_kind)i;
			return LEDGER_OK;
		}
	return LEDGER_EINVAL;
}

/* HKDF-SHA-256 (RFC 5869), extract and expand, empty salt. */
static int
hkdf(const uint8_t *secret, size_t secret_len, const char *info,
    uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[4];
	int rc = LEDGER_ECRYPTO;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		goto out;
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)secret, secret_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = LEDGER_OK;
out:
	if (rc != LEDGER_OK) {
		ERR_clear_error();
		OPENSSL_cleanse(out, out_len);
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
ledger_period_token_key(const uint8_t secret[LEDGER_PERIOD_SECRET_LEN],
    uint8_t key[LEDGER_SUBJECT_KEY_LEN])
{
	return hkdf(secret, LEDGER_PERIOD_SECRET_LEN,
	    "ledgerd subject token key v1", key, LEDGER_SUBJECT_KEY_LEN);
}

int
ledger_period_seal_key(const uint8_t secret[LEDGER_PERIOD_SECRET_LEN],
    uint8_t key[32])
{
	return hkdf(secret, LEDGER_PERIOD_SECRET_LEN, "ledgerd sealing key v1",
	    key, 32);
}
