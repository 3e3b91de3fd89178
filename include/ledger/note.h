/*
 * C2SP signed-note: Ed25519 signer and verifier keys, their text forms, and
 * signing and verifying notes that may carry several signatures.
 */
#ifndef LEDGER_NOTE_H
#define LEDGER_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define LEDGER_KEY_NAME_MAX 255		/* longest key name accepted */
#define LEDGER_ED25519_LEN 32		/* public key and seed length */
#define LEDGER_SIG_LEN 64		/* Ed25519 signature length */
#define LEDGER_NOTE_MAX_SIGS 100	/* more signature lines are refused */

/* Signature type bytes of the signed-note key registry. */
#define LEDGER_SIGTYPE_ED25519 0x01
#define LEDGER_SIGTYPE_COSIGNATURE 0x04

/*
 * A verifier: a key name, its type, key ID and public key.  Plain data; copy
 * it freely.
 */
struct ledger_verifier {
	char name[LEDGER_KEY_NAME_MAX + 1];
	uint8_t type;			/* LEDGER_SIGTYPE_* */
	uint32_t key_id;
	uint8_t public_key[LEDGER_ED25519_LEN];
};

/*
 * A signer: the verifier half plus the private key.  Opaque because it owns
 * an OpenSSL key; create with ledger_signer_from_seed() or
 * ledger_signer_parse(), free with ledger_signer_free().
 */
struct ledger_signer;

/*
 * ledger_key_name_valid - a signed-note key name: non-empty, at most
 * LEDGER_KEY_NAME_MAX bytes, printable, no space and no '+'.
 * Returns 1 when valid, 0 when not.
 */
int ledger_key_name_valid(const char *name);

/*
 * ledger_key_id - first four bytes, big-endian, of
 * SHA-256(name || 0x0A || type || public key).
 */
uint32_t ledger_key_id(const char *name, uint8_t type,
    const uint8_t public_key[LEDGER_ED25519_LEN]);

/*
 * ledger_verifier_parse - reads `<name>+<8 hex key ID>+<base64(type||key)>`.
 * Accepts the Ed25519 (0x01) and cosignature (0x04) types, and checks that
 * the key ID matches the name and key.
 *	text	in: NUL-terminated; surrounding white space is not allowed
 *	out	out: the verifier
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_verifier_parse(const char *text, struct ledger_verifier *out);

/*
 * ledger_verifier_format - the text form of a verifier.
 * Returns a new NUL-terminated string (free() it); never NULL.
 */
char *ledger_verifier_format(const struct ledger_verifier *v);

/*
 * ledger_signer_from_seed - a signer from a name and a 32-byte Ed25519 seed.
 *	type	in: LEDGER_SIGTYPE_ED25519 for logs, _COSIGNATURE for witnesses
 *	out	out: the new signer (ledger_signer_free() it)
 * Returns 0, LEDGER_EINVAL for a bad name or type, LEDGER_ECRYPTO.
 */
int ledger_signer_from_seed(const char *name, uint8_t type,
    const uint8_t seed[LEDGER_ED25519_LEN], struct ledger_signer **out);

/*
 * ledger_signer_parse - reads `PRIVATE+KEY+<name>+<hex ID>+<base64(type||seed)>`
 * and checks that the key ID matches.
 * Returns 0, LEDGER_EINVAL or LEDGER_ECRYPTO.
 */
int ledger_signer_parse(const char *text, struct ledger_signer **out);

/*
 * ledger_signer_format - the PRIVATE+KEY+... text.  A new string holding a
 * secret: OPENSSL_cleanse and free it.  Returns NULL on OpenSSL failure.
 */
char *ledger_signer_format(const struct ledger_signer *s);

/* ledger_signer_verifier - the public half; borrowed, valid while s lives. */
const struct ledger_verifier *ledger_signer_verifier(const struct ledger_signer *s);

/* ledger_signer_free - frees a signer and wipes its key; NULL is allowed. */
void ledger_signer_free(struct ledger_signer *s);

/*
 * ledger_ed25519_sign / ledger_ed25519_verify - raw Ed25519 over msg with a
 * signer's key or a verifier's public key (one-shot EVP_DigestSign/Verify).
 * Return 0, LEDGER_EVERIFY (verify only) or LEDGER_ECRYPTO.
 */
int ledger_ed25519_sign(const struct ledger_signer *s, const void *msg,
    size_t len, uint8_t sig[LEDGER_SIG_LEN]);
int ledger_ed25519_verify(const struct ledger_verifier *v, const void *msg,
    size_t len, const uint8_t sig[LEDGER_SIG_LEN]);

/*
 * ledger_note_sign - the signature line `— <name> <base64(id||sig)>\n` of an
 * Ed25519 signer over text (which must end in a newline).
 * Returns a new string (free() it), or NULL when text is not valid note text
 * or OpenSSL fails.
 */
char *ledger_note_sign(const struct ledger_signer *s, const char *text,
    size_t len);

/*
 * ledger_note_sig_line - the signature line ledger_note_sign makes, from an
 * Ed25519 signature sig over the note text made elsewhere (a key keeper) by
 * v's key.  The signature is checked against text first, so a wrong one
 * never becomes a line.
 *	v	in: an Ed25519 (LEDGER_SIGTYPE_ED25519) verifier
 * Returns a new string (free() it), or NULL when text is not valid note
 * text, v is not Ed25519 or sig does not verify.
 */
char *ledger_note_sig_line(const struct ledger_verifier *v, const char *text,
    size_t len, const uint8_t sig[LEDGER_SIG_LEN]);

/*
 * ledger_note_verify - checks a whole signed note: its text, the blank line,
 * and its signature lines.  Lines from unknown keys, or of unknown types, are
 * ignored; a line from a known key that does not verify fails the note.  At
 * least one Ed25519 (0x01) signature by a known verifier must verify.  A
 * known cosignature (0x04) verifier's line is checked as a tlog-cosignature
 * cosignature/v1 over the text.
 *	note, len	in: the note
 *	verifiers, n	in: the keys to trust
 *	text_len	out (may be NULL): length of the note text, final newline
 *			included
 * Returns 0, LEDGER_EINVAL for a malformed note, LEDGER_EVERIFY when no
 * known signature verifies or a known one is bad, LEDGER_ECRYPTO.
 */
int ledger_note_verify(const char *note, size_t len,
    const struct ledger_verifier *verifiers, size_t n, size_t *text_len);

/*
 * A signature line of a note, as ledger_note_split() finds it.  Pointers
 * are into the note and valid while it lives.  A blob longer than blob
 * (types this code does not know, such as ML-DSA-44) keeps only its first
 * sizeof(blob) bytes, and blob_len is then sizeof(blob).
 */
struct ledger_note_sig {
	const char *name;
	size_t name_len;
	uint8_t blob[256];	/* decoded base64: key ID || signature ... */
	size_t blob_len;
};

/*
 * ledger_note_split - parses a note's structure without checking any
 * signature: text up to the blank line, then signature lines.
 *	sigs, cap	out: up to cap signature lines
 *	nsigs		out: how many there are
 *	text_len	out: length of the text, final newline included
 * Returns 0, LEDGER_EINVAL for malformed notes, LEDGER_ETOOBIG for more than
 * cap (or LEDGER_NOTE_MAX_SIGS) signature lines.
 */
int ledger_note_split(const char *note, size_t len, struct ledger_note_sig *sigs,
    size_t cap, size_t *nsigs, size_t *text_len);

#endif
