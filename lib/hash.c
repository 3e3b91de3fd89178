/*
 * SHA-256 and the RFC 9162 §2.1 leaf/node hashes.  Each thread keeps one
 * EVP_MD_CTX and the fetched EVP_MD, so a hash costs no allocation and no
 * algorithm lookup: appends are bounded by SHA-256 itself.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "ledger/error.h"
#include "ledger/hash.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;
static pthread_key_t ctx_key;

static void
ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void
sha256_init(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	pthread_key_create(&ctx_key, ctx_free);
}

static EVP_MD_CTX *
thread_ctx(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_init);
	if (sha256_md == NULL)
		return NULL;
	ctx = pthread_getspecific(ctx_key);
	if (ctx == NULL) {
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL)
			return NULL;
		pthread_setspecific(ctx_key, ctx);
	}
	return ctx;
}

/* Hashes up to three buffers; the others wrap it. */
static int
sha256_3(const void *a, size_t alen, const void *b, size_t blen,
    const void *c, size_t clen, uint8_t out[LEDGER_HASH_LEN])
{
	EVP_MD_CTX *ctx = thread_ctx();
	unsigned int outlen;

	if (ctx == NULL || !EVP_DigestInit_ex2(ctx, sha256_md, NULL))
		return LEDGER_ECRYPTO;
	if ((alen && !EVP_DigestUpdate(ctx, a, alen)) ||
	    (blen && !EVP_DigestUpdate(ctx, b, blen)) ||
	    (clen && !EVP_DigestUpdate(ctx, c, clen)) ||
	    !EVP_DigestFinal_ex(ctx, out, &outlen))
		return LEDGER_ECRYPTO;
	return LEDGER_OK;
}

int
ledger_sha256(const void *data, size_t len, uint8_t out[LEDGER_HASH_LEN])
{
	return sha256_3(data, len, NULL, 0, NULL, 0, out);
}

int
ledger_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[LEDGER_HASH_LEN])
{
	return sha256_3(a, alen, b, blen, NULL, 0, out);
}

int
ledger_leaf_hash(const void *entry, size_t len, uint8_t out[LEDGER_HASH_LEN])
{
	static const uint8_t prefix = 0x00;

	return sha256_3(&prefix, 1, entry, len, NULL, 0, out);
}

int
ledger_node_hash(const uint8_t left[LEDGER_HASH_LEN],
    const uint8_t right[LEDGER_HASH_LEN], uint8_t out[LEDGER_HASH_LEN])
{
	uint8_t buf[1 + 2 * LEDGER_HASH_LEN];

	/* One contiguous buffer: out may alias left or right. */
	buf[0] = 0x01;
	memcpy(buf + 1, left, LEDGER_HASH_LEN);
	memcpy(buf + 1 + LEDGER_HASH_LEN, right, LEDGER_HASH_LEN);
	return sha256_3(buf, sizeof(buf), NULL, 0, NULL, 0, out);
}

void
ledger_empty_tree_hash(uint8_t out[LEDGER_HASH_LEN])
{
	static const uint8_t empty[LEDGER_HASH_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
		0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};

	memcpy(out, empty, LEDGER_HASH_LEN);
}
