/*
 * C2SP signed-note: Ed25519 keys and their text forms, signature lines, and
 * the verification of notes that carry several signatures (a log signature
 * plus witness cosignatures, and lines of types this code does not know).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/number.h"
#include "ledger/note.h"
#include "ledger/utf8.h"
#include "ledger/xmalloc.h"

#define SIG_DASH "\xe2\x80\x94 "	/* U+2014 EM DASH, then a space */
#define SIG_DASH_LEN 4
#define KEY_BLOB_LEN (1 + LEDGER_ED25519_LEN)	/* type || key */
#define ED25519_BLOB_LEN (4 + LEDGER_SIG_LEN)	/* key ID || signature */
#define COSIG_BLOB_LEN (4 + 8 + LEDGER_SIG_LEN)	/* key ID || time || sig */
#define SIGNER_PREFIX "PRIVATE+KEY+"

struct ledger_signer {
	struct ledger_verifier verifier;
	EVP_PKEY *pkey;
};


/* Unicode White_Space (what Go's unicode.IsSpace refuses in key names). */
static int
is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/*
 * Note text: valid UTF-8 without control characters other than newline,
 * ending in a newline (C2SP signed-note, "Note text").
 */
static int
note_text_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i, n;
	uint32_t c;

	if (len == 0 || text[len - 1] != '\n')
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = ledger_utf8_next(s + i, len - i, &c)) == 0)
			return 0;
		if (ledger_utf8_is_control(c) && c != '\n')
			return 0;
	}
	return 1;
}

static int
key_name_valid_len(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i, n;
	uint32_t c;

	if (len == 0 || len > LEDGER_KEY_NAME_MAX)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = ledger_utf8_next(s + i, len - i, &c)) == 0)
			return 0;
		if (c == '+' || ledger_utf8_is_control(c) || is_space(c))
			return 0;
	}
	return 1;
}

int
ledger_key_name_valid(const char *name)
{
	if (name == NULL)
		return 0;
	return key_name_valid_len(name, strnlen(name, LEDGER_KEY_NAME_MAX + 1));
}

static uint32_t
key_id_len(const char *name, size_t name_len, uint8_t type,
    const uint8_t public_key[LEDGER_ED25519_LEN])
{
	uint8_t digest[LEDGER_HASH_LEN];
	uint8_t *buf;
	size_t len = name_len + 2 + LEDGER_ED25519_LEN;
	uint32_t id = 0;

	buf = xmalloc(len);
	memcpy(buf, name, name_len);
	buf[name_len] = '\n';
	buf[name_len + 1] = type;
	memcpy(buf + name_len + 2, public_key, LEDGER_ED25519_LEN);
	/*
	 * SHA-256 fails only when OpenSSL cannot allocate; the ID is then 0,
	 * which no parsed key can be checked against by accident because the
	 * same failure would have to recur for the comparison to match.
	 */
	if (ledger_sha256(buf, len, digest) == LEDGER_OK)
		id = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
		    (uint32_t)digest[2] << 8 | digest[3];
	free(buf);
	return id;
}

uint32_t
ledger_key_id(const char *name, uint8_t type,
    const uint8_t public_key[LEDGER_ED25519_LEN])
{
	return key_id_len(name, strlen(name), type, public_key);
}

/*
 * parse_key - the common tail of verifier and signer keys:
 * `<name>+<8 hex>+<base64(type || 32 bytes)>`.  The name cannot hold '+',
 * so the first '+' ends it; base64 can, so the rest after the ID is base64.
 *	key	out: type || key bytes (a secret for signer keys)
 */
static int
parse_key(const char *text, char name[LEDGER_KEY_NAME_MAX + 1],
    uint32_t *key_id, uint8_t key[KEY_BLOB_LEN])
{
	const char *plus, *hex, *b64;
	size_t name_len, n;
	uint32_t id = 0;
	int i, d;

	if ((plus = strchr(text, '+')) == NULL)
		return LEDGER_EINVAL;
	name_len = plus - text;
	if (!key_name_valid_len(text, name_len))
		return LEDGER_EINVAL;
	hex = plus + 1;
	for (i = 0; i < 8; i++) {
		if ((d = ledger_hex_digit(hex[i])) < 0)
			return LEDGER_EINVAL;
		id = id << 4 | (uint32_t)d;
	}
	if (hex[8] != '+')
		return LEDGER_EINVAL;
	b64 = hex + 9;
	if (ledger_b64_decode(b64, strlen(b64), key, KEY_BLOB_LEN, &n) != 0 ||
	    n != KEY_BLOB_LEN)
		return LEDGER_EINVAL;
	memcpy(name, text, name_len);
	name[name_len] = '\0';
	*key_id = id;
	return LEDGER_OK;
}

int
ledger_verifier_parse(const char *text, struct ledger_verifier *out)
{
	struct ledger_verifier v;
	uint8_t key[KEY_BLOB_LEN];
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = parse_key(text, v.name, &v.key_id, key)) != 0)
		return rc;
	v.type = key[0];
	if (v.type != LEDGER_SIGTYPE_ED25519 &&
	    v.type != LEDGER_SIGTYPE_COSIGNATURE)
		return LEDGER_EINVAL;
	memcpy(v.public_key, key + 1, LEDGER_ED25519_LEN);
	if (ledger_key_id(v.name, v.type, v.public_key) != v.key_id)
		return LEDGER_EINVAL;
	*out = v;
	return LEDGER_OK;
}

char *
ledger_verifier_format(const struct ledger_verifier *v)
{
	uint8_t key[KEY_BLOB_LEN];
	char b64[LEDGER_B64_LEN(KEY_BLOB_LEN) + 1];

	key[0] = v->type;
	memcpy(key + 1, v->public_key, LEDGER_ED25519_LEN);
	ledger_b64_encode(key, sizeof(key), b64);
	return xasprintf("%s+%08" PRIx32 "+%s", v->name, v->key_id, b64);
}

int
ledger_signer_from_seed(const char *name, uint8_t type,
    const uint8_t seed[LEDGER_ED25519_LEN], struct ledger_signer **out)
{
	struct ledger_signer *s;
	size_t publen = LEDGER_ED25519_LEN;

	if (!ledger_key_name_valid(name))
		return LEDGER_EINVAL;
	if (type != LEDGER_SIGTYPE_ED25519 && type != LEDGER_SIGTYPE_COSIGNATURE)
		return LEDGER_EINVAL;
	s = xcalloc(1, sizeof(*s));
	s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    LEDGER_ED25519_LEN);
	if (s->pkey == NULL)
		goto fail;
	if (EVP_PKEY_get_raw_public_key(s->pkey, s->verifier.public_key,
	    &publen) != 1 || publen != LEDGER_ED25519_LEN)
		goto fail;
	strcpy(s->verifier.name, name);
	s->verifier.type = type;
	s->verifier.key_id = ledger_key_id(name, type, s->verifier.public_key);
	*out = s;
	return LEDGER_OK;
fail:
	ledger_signer_free(s);
	return LEDGER_ECRYPTO;
}

int
ledger_signer_parse(const char *text, struct ledger_signer **out)
{
	struct ledger_signer *s = NULL;
	char name[LEDGER_KEY_NAME_MAX + 1];
	uint8_t key[KEY_BLOB_LEN];
	uint32_t id;
	int rc;

	if (strncmp(text, SIGNER_PREFIX, strlen(SIGNER_PREFIX)) != 0)
		return LEDGER_EINVAL;
	if ((rc = parse_key(text + strlen(SIGNER_PREFIX), name, &id, key)) != 0)
		goto out;
	if ((rc = ledger_signer_from_seed(name, key[0], key + 1, &s)) != 0)
		goto out;
	if (s->verifier.key_id != id) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	*out = s;
	s = NULL;
out:
	ledger_signer_free(s);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

char *
ledger_signer_format(const struct ledger_signer *s)
{
	uint8_t key[KEY_BLOB_LEN];
	char b64[LEDGER_B64_LEN(KEY_BLOB_LEN) + 1];
	size_t seedlen = LEDGER_ED25519_LEN;
	char *text = NULL;

	key[0] = s->verifier.type;
	if (EVP_PKEY_get_raw_private_key(s->pkey, key + 1, &seedlen) != 1 ||
	    seedlen != LEDGER_ED25519_LEN)
		goto out;
	ledger_b64_encode(key, sizeof(key), b64);
	text = xasprintf(SIGNER_PREFIX "%s+%08" PRIx32 "+%s", s->verifier.name,
	    s->verifier.key_id, b64);
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(b64, sizeof(b64));
	return text;
}

const struct ledger_verifier *
ledger_signer_verifier(const struct ledger_signer *s)
{
	return &s->verifier;
}

void
ledger_signer_free(struct ledger_signer *s)
{
	if (s == NULL)
		return;
	/* EVP_PKEY_free wipes the ECX private key it holds. */
	EVP_PKEY_free(s->pkey);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

int
ledger_ed25519_sign(const struct ledger_signer *s, const void *msg,
    size_t len, uint8_t sig[LEDGER_SIG_LEN])
{
	static const uint8_t empty[1];
	EVP_MD_CTX *ctx;
	size_t siglen = LEDGER_SIG_LEN;
	int rc = LEDGER_ECRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return LEDGER_ECRYPTO;
	/* Ed25519 is a one-shot scheme: no digest, no Update calls. */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, &siglen, msg ? msg : empty, len) != 1 ||
	    siglen != LEDGER_SIG_LEN)
		goto out;
	rc = LEDGER_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
ledger_ed25519_verify(const struct ledger_verifier *v, const void *msg,
    size_t len, const uint8_t sig[LEDGER_SIG_LEN])
{
	static const uint8_t empty[1];
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = LEDGER_ECRYPTO;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    v->public_key, LEDGER_ED25519_LEN);
	if (pkey == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
		goto out;
	/*
	 * Anything but 1 is a bad signature: OpenSSL reports some malformed
	 * signatures (S out of range) as errors rather than as 0.
	 */
	if (EVP_DigestVerify(ctx, sig, LEDGER_SIG_LEN, msg ? msg : empty,
	    len) == 1)
		rc = LEDGER_OK;
	else
		rc = LEDGER_EVERIFY;
out:
	if (rc != LEDGER_OK)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}

char *
ledger_note_sign(const struct ledger_signer *s, const char *text, size_t len)
{
	uint8_t blob[ED25519_BLOB_LEN];
	char b64[LEDGER_B64_LEN(ED25519_BLOB_LEN) + 1];
	uint32_t id = s->verifier.key_id;

	/* A cosignature signs a different message: see tlog-cosignature. */
	if (s->verifier.type != LEDGER_SIGTYPE_ED25519)
		return NULL;
	if (!note_text_valid(text, len))
		return NULL;
	blob[0] = id >> 24;
	blob[1] = id >> 16;
	blob[2] = id >> 8;
	blob[3] = id;
	if (ledger_ed25519_sign(s, text, len, blob + 4) != LEDGER_OK)
		return NULL;
	ledger_b64_encode(blob, sizeof(blob), b64);
	return xasprintf(SIG_DASH "%s %s\n", s->verifier.name, b64);
}

char *
ledger_note_sig_line(const struct ledger_verifier *v, const char *text,
    size_t len, const uint8_t sig[LEDGER_SIG_LEN])
{
	uint8_t blob[ED25519_BLOB_LEN];
	char b64[LEDGER_B64_LEN(ED25519_BLOB_LEN) + 1];

	if (v->type != LEDGER_SIGTYPE_ED25519 || !note_text_valid(text, len) ||
	    ledger_ed25519_verify(v, text, len, sig) != LEDGER_OK)
		return NULL;
	blob[0] = v->key_id >> 24;
	blob[1] = v->key_id >> 16;
	blob[2] = v->key_id >> 8;
	blob[3] = v->key_id;
	memcpy(blob + 4, sig, LEDGER_SIG_LEN);
	ledger_b64_encode(blob, sizeof(blob), b64);
	return xasprintf(SIG_DASH "%s %s\n", v->name, b64);
}

/*
 * parse_sig_line - `— <name> <base64>` (line without its newline).  A blob
 * longer than sig->blob keeps only its first bytes (see note.h).
 */
static int
parse_sig_line(const char *line, size_t len, struct ledger_note_sig *sig)
{
	const char *name, *sp, *b64;
	size_t name_len, b64_len, n;
	uint8_t *buf;
	int rc;

	if (len < SIG_DASH_LEN || memcmp(line, SIG_DASH, SIG_DASH_LEN) != 0)
		return LEDGER_EINVAL;
	name = line + SIG_DASH_LEN;
	if ((sp = memchr(name, ' ', len - SIG_DASH_LEN)) == NULL)
		return LEDGER_EINVAL;
	name_len = sp - name;
	if (!key_name_valid_len(name, name_len))
		return LEDGER_EINVAL;
	b64 = sp + 1;
	b64_len = line + len - b64;
	if (b64_len == 0)
		return LEDGER_EINVAL;
	if (b64_len / 4 * 3 <= sizeof(sig->blob)) {
		rc = ledger_b64_decode(b64, b64_len, sig->blob,
		    sizeof(sig->blob), &n);
	} else {
		/* Large blobs (ML-DSA-44 is 2420 bytes) of unknown types. */
		buf = xmalloc(b64_len / 4 * 3);
		rc = ledger_b64_decode(b64, b64_len, buf, b64_len / 4 * 3, &n);
		if (rc == 0) {
			if (n > sizeof(sig->blob))
				n = sizeof(sig->blob);
			memcpy(sig->blob, buf, n);
		}
		free(buf);
	}
	/* A key ID and at least one byte of signature. */
	if (rc != 0 || n < 5)
		return LEDGER_EINVAL;
	sig->name = name;
	sig->name_len = name_len;
	sig->blob_len = n;
	return LEDGER_OK;
}

int
ledger_note_split(const char *note, size_t len, struct ledger_note_sig *sigs,
    size_t cap, size_t *nsigs, size_t *text_len)
{
	const char *p, *end, *nl;
	size_t split, count = 0;
	int rc;

	/*
	 * The text may itself hold blank lines, signature lines cannot: the
	 * last blank line separates them (as Go's note.Open does).
	 */
	if (len < 2 || note[len - 1] != '\n')
		return LEDGER_EINVAL;
	for (split = len - 1; split > 0; split--)
		if (note[split - 1] == '\n' && note[split] == '\n')
			break;
	if (split == 0)
		return LEDGER_EINVAL;
	/* note[split - 1] ends the text, note[split] is the blank line. */
	if (!note_text_valid(note, split))
		return LEDGER_EINVAL;
	p = note + split + 1;
	end = note + len;
	if (p == end)
		return LEDGER_EINVAL;
	while (p < end) {
		nl = memchr(p, '\n', end - p);	/* found: end[-1] is '\n' */
		if (count >= cap || count >= LEDGER_NOTE_MAX_SIGS)
			return LEDGER_ETOOBIG;
		if ((rc = parse_sig_line(p, nl - p, &sigs[count])) != 0)
			return rc;
		count++;
		p = nl + 1;
	}
	*nsigs = count;
	*text_len = split;
	return LEDGER_OK;
}

static uint32_t
blob_key_id(const struct ledger_note_sig *sig)
{
	return (uint32_t)sig->blob[0] << 24 | (uint32_t)sig->blob[1] << 16 |
	    (uint32_t)sig->blob[2] << 8 | sig->blob[3];
}

static const struct ledger_verifier *
find_verifier(const struct ledger_note_sig *sig,
    const struct ledger_verifier *verifiers, size_t n)
{
	uint32_t id = blob_key_id(sig);
	size_t i;

	for (i = 0; i < n; i++)
		if (verifiers[i].key_id == id &&
		    strlen(verifiers[i].name) == sig->name_len &&
		    memcmp(verifiers[i].name, sig->name, sig->name_len) == 0)
			return &verifiers[i];
	return NULL;
}

/*
 * verify_cosignature - tlog-cosignature cosignature/v1: the witness signs
 * "cosignature/v1\ntime <seconds>\n" followed by the checkpoint body.
 */
static int
verify_cosignature(const struct ledger_verifier *v,
    const struct ledger_note_sig *sig, const char *text, size_t text_len)
{
	uint64_t t = 0;
	char *msg;
	int i, hlen, rc;

	if (sig->blob_len != COSIG_BLOB_LEN)
		return LEDGER_EVERIFY;
	for (i = 0; i < 8; i++)
		t = t << 8 | sig->blob[4 + i];
	/* tlog-cosignature: the time is never 0 and fits in 63 bits. */
	if (t == 0 || t > UINT64_C(0x7fffffffffffffff))
		return LEDGER_EVERIFY;
	msg = xmalloc(64 + text_len);
	hlen = snprintf(msg, 64, "cosignature/v1\ntime %" PRIu64 "\n", t);
	memcpy(msg + hlen, text, text_len);
	rc = ledger_ed25519_verify(v, msg, hlen + text_len, sig->blob + 12);
	free(msg);
	return rc;
}

int
ledger_note_verify(const char *note, size_t len,
    const struct ledger_verifier *verifiers, size_t n, size_t *text_len)
{
	struct ledger_note_sig *sigs;
	const struct ledger_verifier *v;
	size_t i, nsigs, tlen;
	int rc, verified = 0;

	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	rc = ledger_note_split(note, len, sigs, LEDGER_NOTE_MAX_SIGS, &nsigs,
	    &tlen);
	if (rc != 0) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	for (i = 0; i < nsigs; i++) {
		if ((v = find_verifier(&sigs[i], verifiers, n)) == NULL)
			continue;	/* unknown key: ignored */
		switch (v->type) {
		case LEDGER_SIGTYPE_ED25519:
			if (sigs[i].blob_len != ED25519_BLOB_LEN)
				rc = LEDGER_EVERIFY;
			else
				rc = ledger_ed25519_verify(v, note, tlen,
				    sigs[i].blob + 4);
			if (rc == LEDGER_OK)
				verified = 1;
			break;
		case LEDGER_SIGTYPE_COSIGNATURE:
			rc = verify_cosignature(v, &sigs[i], note, tlen);
			break;
		default:
			continue;	/* a type this code cannot check */
		}
		if (rc != LEDGER_OK)
			goto out;
	}
	if (!verified) {
		rc = LEDGER_EVERIFY;
		goto out;
	}
	if (text_len != NULL)
		*text_len = tlen;
	rc = LEDGER_OK;
out:
	free(sigs);
	return rc;
}
