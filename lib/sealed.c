/*
 * Sealed fields (spec §2.10): taking free-text fields out of an entry in
 * exchange for salted commitments, and checking the opened values an answer
 * carries against them.  The sealing itself (AES-256-GCM under the period's
 * key) is the key ring's; this file never sees a key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "ledger/jsoncanon.h"
#include "ledger/sealed.h"
#include "ledger/xmalloc.h"

/* Domain separation: no other hash of this log starts with these bytes. */
#define COMMIT_DOMAIN "ledgerd sealed v1"

/* The free-text fields; the others carry structure readers rely on. */
static const char *const sealable[LEDGER_SEALED_FIELDS_MAX] = {
	"purpose", "legal_basis", "details",
};

int
ledger_sealable_field(const char *name)
{
	size_t i;

	for (i = 0; i < LEDGER_SEALED_FIELDS_MAX; i++)
		if (strcmp(name, sealable[i]) == 0)
			return 1;
	return 0;
}

int
ledger_sealed_value_bytes(const json_t *value, char **out, size_t *len)
{
	/*
	 * What json_dumpb writes with JSON_COMPACT | JSON_SORT_KEYS |
	 * JSON_ENSURE_ASCII | JSON_ENCODE_ANY, byte for byte (jsoncanon.h).
	 */
	return ledger_canon_dump_alloc(value, SIZE_MAX, out, len);
}

int
ledger_sealed_commitment(const char *field, const uint8_t salt[LEDGER_SEAL_SALT_LEN],
    const char *value, size_t len, uint8_t out[LEDGER_HASH_LEN])
{
	static const uint8_t zero = 0;
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	int ok;

	/*
	 * The field name and the domain end in a NUL and the salt has a fixed
	 * length, so the value is everything after it: one reading only.
	 */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return LEDGER_ECRYPTO;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, COMMIT_DOMAIN, strlen(COMMIT_DOMAIN)) == 1 &&
	    EVP_DigestUpdate(ctx, &zero, 1) == 1 &&
	    EVP_DigestUpdate(ctx, field, strlen(field)) == 1 &&
	    EVP_DigestUpdate(ctx, &zero, 1) == 1 &&
	    EVP_DigestUpdate(ctx, salt, LEDGER_SEAL_SALT_LEN) == 1 &&
	    EVP_DigestUpdate(ctx, value, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == LEDGER_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? LEDGER_OK : LEDGER_ECRYPTO;
}

void
ledger_sealed_plain_free(struct ledger_sealed_plain *plain, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (plain[i].plain != NULL)
			OPENSSL_cleanse(plain[i].plain, plain[i].plain_len);
		free(plain[i].plain);
		plain[i].plain = NULL;
		plain[i].plain_len = 0;
	}
}

/* The index of name in fields[0..n), or n. */
static size_t
field_index(const char *const *fields, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i], name) == 0)
			break;
	return i;
}

int
ledger_sealed_plain_make(const json_t *source, const char *const *fields,
    size_t n, struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX],
    size_t *n_plain)
{
	uint8_t salt[LEDGER_SEAL_SALT_LEN];
	const json_t *value;
	char *bytes = NULL;
	size_t i, len = 0, k = 0;
	int rc = LEDGER_EINVAL;

	*n_plain = 0;
	if (!json_is_object(source) || n > LEDGER_SEALED_FIELDS_MAX)
		return LEDGER_EINVAL;
	for (i = 0; i < n; i++) {
		rc = LEDGER_EINVAL;
		if (!ledger_sealable_field(fields[i]) ||
		    field_index(fields, i, fields[i]) != i)
			goto fail;	/* not sealable, or named twice */
		if ((value = json_object_get(source, fields[i])) == NULL)
			continue;
		if ((rc = ledger_sealed_value_bytes(value, &bytes, &len)) != 0)
			goto fail;
		rc = LEDGER_ECRYPTO;
		if (RAND_bytes(salt, sizeof(salt)) != 1)
			goto fail;
		snprintf(plain[k].field, sizeof(plain[k].field), "%s", fields[i]);
		plain[k].plain_len = sizeof(salt) + len;
		plain[k].plain = xmalloc(plain[k].plain_len);
		memcpy(plain[k].plain, salt, sizeof(salt));
		memcpy(plain[k].plain + sizeof(salt), bytes, len);
		k++;
		OPENSSL_cleanse(bytes, len);
		free(bytes);
		bytes = NULL;
	}
	OPENSSL_cleanse(salt, sizeof(salt));
	*n_plain = k;
	return LEDGER_OK;
fail:
	OPENSSL_cleanse(salt, sizeof(salt));
	if (bytes != NULL)
		OPENSSL_cleanse(bytes, len);
	free(bytes);
	ledger_sealed_plain_free(plain, k);
	return rc;
}

/*
 * The base64 commitment to field's value in entry under the salt of p,
 * whose value bytes must be the entry's: 0 or LEDGER_EINVAL, LEDGER_ECRYPTO.
 */
static int
commit_plain(const json_t *value, const struct ledger_sealed_plain *p,
    char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1])
{
	uint8_t digest[LEDGER_HASH_LEN];
	char *bytes = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ledger_sealed_value_bytes(value, &bytes, &len)) != 0)
		return rc;
	if (p->plain_len != LEDGER_SEAL_SALT_LEN + len ||
	    memcmp(p->plain + LEDGER_SEAL_SALT_LEN, bytes, len) != 0)
		rc = LEDGER_EINVAL;	/* not the value of this entry */
	else
		rc = ledger_sealed_commitment(p->field, p->plain, bytes, len,
		    digest);
	OPENSSL_cleanse(bytes, len);
	free(bytes);
	if (rc == 0)
		ledger_b64_encode(digest, sizeof(digest), b64);
	return rc;
}

int
ledger_entry_seal_plain(json_t *entry, const char *const *fields, size_t n,
    const struct ledger_sealed_plain *plain, size_t n_plain)
{
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	json_t *sealed, *value;
	size_t i, k = 0;
	int rc;

	if (!json_is_object(entry) || json_object_get(entry, "sealed") != NULL ||
	    n > LEDGER_SEALED_FIELDS_MAX)
		return LEDGER_EINVAL;
	sealed = json_object();
	for (i = 0; i < n; i++) {
		if ((value = json_object_get(entry, fields[i])) == NULL)
			continue;
		rc = LEDGER_EINVAL;
		if (k == n_plain || strcmp(plain[k].field, fields[i]) != 0 ||
		    (rc = commit_plain(value, &plain[k], b64)) != 0) {
			json_decref(sealed);
			return rc;
		}
		json_object_set_new(sealed, fields[i], json_string(b64));
		json_object_del(entry, fields[i]);
		k++;
	}
	if (k != n_plain) {
		json_decref(sealed);
		return LEDGER_EINVAL;	/* a value the entry does not hold */
	}
	if (k > 0)
		json_object_set_new(entry, "sealed", sealed);
	else
		json_decref(sealed);
	json_object_set_new(entry, "v", json_integer(LEDGER_ENTRY_VERSION_SEALED));
	return LEDGER_OK;
}

int
ledger_entry_seal(json_t *entry, const char *const *fields, size_t n,
    struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX], size_t *n_plain)
{
	size_t k;
	int rc;

	*n_plain = 0;
	if (!json_is_object(entry) || json_object_get(entry, "sealed") != NULL)
		return LEDGER_EINVAL;
	if ((rc = ledger_sealed_plain_make(entry, fields, n, plain, &k)) != 0)
		return rc;
	if ((rc = ledger_entry_seal_plain(entry, fields, n, plain, k)) != 0) {
		ledger_sealed_plain_free(plain, k);
		return rc;
	}
	*n_plain = k;
	return LEDGER_OK;
}

int
ledger_sealed_opened(const char *field, const uint8_t *plain, size_t len, json_t **out)
{
	char b64[LEDGER_B64_LEN(LEDGER_SEAL_SALT_LEN) + 1];
	json_t *value;

	*out = NULL;
	if (len <= LEDGER_SEAL_SALT_LEN)
		return LEDGER_EINVAL;
	value = json_loadb((const char *)plain + LEDGER_SEAL_SALT_LEN,
	    len - LEDGER_SEAL_SALT_LEN, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (value == NULL || (strcmp(field, "details") == 0 ? !json_is_object(value) :
	    !json_is_string(value))) {
		json_decref(value);
		return LEDGER_EINVAL;
	}
	ledger_b64_encode(plain, LEDGER_SEAL_SALT_LEN, b64);
	*out = json_pack("{s:s, s:o}", "salt", b64, "value", value);
	return *out != NULL ? LEDGER_OK : LEDGER_EINVAL;
}

static int
mismatch(struct ledger_field_error *err, const char *field, const char *code,
    const char *message)
{
	if (err != NULL) {
		snprintf(err->field, sizeof(err->field), "opened.%s", field);
		snprintf(err->code, sizeof(err->code), "%s", code);
		snprintf(err->message, sizeof(err->message), "%s: %s", field, message);
	}
	return LEDGER_EVERIFY;
}

/* One opened value against the commitment b64 of the entry. */
static int
check_one(const char *field, const char *commitment, const json_t *o,
    struct ledger_field_error *err)
{
	uint8_t salt[LEDGER_SEAL_SALT_LEN], want[LEDGER_HASH_LEN], got[LEDGER_HASH_LEN];
	const json_t *v, *s, *d;
	char *bytes = NULL;
	size_t n, len;
	int rc;

	if (!json_is_object(o))
		return mismatch(err, field, "invalid_value", "not an object");
	d = json_object_get(o, "destroyed");
	if (d != NULL) {
		if (json_object_size(o) != 1 || !json_is_integer(d) ||
		    json_integer_value(d) < 0)
			return mismatch(err, field, "invalid_value",
			    "destroyed is not the seq of a destruction entry");
		return LEDGER_OK;
	}
	d = json_object_get(o, "withheld");
	if (d != NULL) {
		if (json_object_size(o) != 1 || !json_is_true(d))
			return mismatch(err, field, "invalid_value",
			    "withheld must be true and alone");
		return LEDGER_OK;
	}
	v = json_object_get(o, "value");
	s = json_object_get(o, "salt");
	if (v == NULL || !json_is_string(s) || json_object_size(o) != 2 ||
	    ledger_b64_decode(json_string_value(s), json_string_length(s), salt,
	    sizeof(salt), &n) != 0 || n != sizeof(salt) ||
	    ledger_b64_decode(commitment, strlen(commitment), want, sizeof(want),
	    &n) != 0 || n != sizeof(want))
		return mismatch(err, field, "invalid_value",
		    "an opened value is {value, salt} with a 32-byte salt");
	if (ledger_sealed_value_bytes(v, &bytes, &len) != 0)
		return mismatch(err, field, "invalid_value", "the value is not JSON");
	rc = ledger_sealed_commitment(field, salt, bytes, len, got);
	free(bytes);
	if (rc != 0 || memcmp(got, want, sizeof(got)) != 0)
		return mismatch(err, field, "commitment_mismatch",
		    "the opened value is not the one the entry commits to");
	return LEDGER_OK;
}

int
ledger_entry_check_opened(const json_t *entry, const json_t *opened,
    struct ledger_field_error *err)
{
	const json_t *sealed, *c;
	const char *field;
	int rc;

	sealed = json_object_get(entry, "sealed");
	if (sealed == NULL) {
		if (opened == NULL || (json_is_object(opened) &&
		    json_object_size(opened) == 0))
			return LEDGER_OK;
		return mismatch(err, "", "unknown_field",
		    "opened values for an entry that seals nothing");
	}
	if (!json_is_object(opened))
		return mismatch(err, "", "missing_field",
		    "the entry seals fields and the answer opens none");
	json_object_foreach((json_t *)opened, field, c)
		if (json_object_get(sealed, field) == NULL)
			return mismatch(err, field, "unknown_field",
			    "the entry does not seal this field");
	json_object_foreach((json_t *)sealed, field, c) {
		if (json_object_get(opened, field) == NULL)
			return mismatch(err, field, "missing_field",
			    "no opened value, destroyed or withheld marker");
		if ((rc = check_one(field, json_string_value(c),
		    json_object_get(opened, field), err)) != 0)
			return rc;
	}
	return LEDGER_OK;
}

int
ledger_entry_with_opened(const json_t *entry, const json_t *opened, json_t **out)
{
	const char *field;
	json_t *copy, *o, *v;

	copy = json_copy((json_t *)entry);
	if (json_is_object(opened))
		json_object_foreach((json_t *)opened, field, o)
			if ((v = json_object_get(o, "value")) != NULL)
				json_object_set(copy, field, v);
	*out = copy;
	return LEDGER_OK;
}
