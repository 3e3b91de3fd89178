/*
 * C2SP tlog-cosignature (cosignature/v1): the witness's signature over a
 * checkpoint, its signed message, its note signature line, and the keys.
 *
 * A witness key is an Ed25519 key of signature type 0x04
 * (LEDGER_SIGTYPE_COSIGNATURE).  Its key ID is the first four bytes of
 * SHA-256(name || 0x0A || 0x04 || public key), its verifier key is
 * `<name>+<8 hex key ID>+<base64(0x04 || public key)>` and its signer key
 * `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x04 || seed)>`, the same forms
 * note.h reads and writes for log keys: make a witness signer with
 * ledger_signer_from_seed(name, LEDGER_SIGTYPE_COSIGNATURE, ...) or
 * ledger_signer_parse(), its verifier with ledger_verifier_parse().
 *
 * The witness signs
 *	"cosignature/v1\ntime " <decimal unix seconds> "\n" <checkpoint body>
 * and its line on the checkpoint is
 *	"— " <name> " " base64(key ID || 8-byte big-endian time || signature) "\n".
 * The time is never 0 and at most 2^63 - 1.  A signature line is matched to a
 * witness key by its name and its key ID together.
 */
#ifndef LEDGER_COSIGNATURE_H
#define LEDGER_COSIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/note.h"

/* key ID (4) || timestamp (8) || Ed25519 signature (64) */
#define LEDGER_COSIG_BLOB_LEN (4 + 8 + LEDGER_SIG_LEN)
/* The largest timestamp a cosignature may carry (2^63 - 1). */
#define LEDGER_COSIG_TIME_MAX UINT64_C(0x7fffffffffffffff)

/*
 * A parsed cosignature line.  Plain data; copy it freely.
 */
struct ledger_cosignature {
	char name[LEDGER_KEY_NAME_MAX + 1];	/* the witness's key name */
	uint32_t key_id;
	uint64_t timestamp;			/* unix seconds, 1..2^63-1 */
	uint8_t signature[LEDGER_SIG_LEN];
};

/*
 * ledger_cosignature_message - the bytes a witness signs for one checkpoint:
 * "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body.
 *	body, len	in: the checkpoint body (note text, final newline
 *			included, blank line and signatures not)
 *	timestamp	in: unix seconds, 1..LEDGER_COSIG_TIME_MAX
 *	out, out_len	out: a new buffer (free() it) and its length
 * Returns 0 or LEDGER_EINVAL (timestamp 0 or above the maximum, a body that
 * is empty or does not end in a newline).
 */
int ledger_cosignature_message(const char *body, size_t len, uint64_t timestamp,
    char **out, size_t *out_len);

/*
 * ledger_cosignature_sign - a witness's cosignature line over a checkpoint.
 *	witness		in: a signer of type LEDGER_SIGTYPE_COSIGNATURE
 *	body, len	in: the checkpoint body, as for ledger_cosignature_message
 *	timestamp	in: unix seconds, 1..LEDGER_COSIG_TIME_MAX (from the
 *			clock; never 0)
 *	line		out: a new string `— <name> <base64>\n` (free() it)
 * Returns 0, LEDGER_EINVAL (wrong key type, bad timestamp, bad body) or
 * LEDGER_ECRYPTO.
 */
int ledger_cosignature_sign(const struct ledger_signer *witness,
    const char *body, size_t len, uint64_t timestamp, char **line);

/*
 * ledger_cosignature_parse - reads one cosignature line, `— <name> <base64>`
 * with or without its final newline, whose blob is exactly
 * LEDGER_COSIG_BLOB_LEN bytes with a timestamp in 1..LEDGER_COSIG_TIME_MAX.
 *	line, len	in: the line (need not be NUL-terminated)
 *	out		out: the parsed cosignature
 * Returns 0 or LEDGER_EINVAL.  Nothing is verified.
 */
int ledger_cosignature_parse(const char *line, size_t len,
    struct ledger_cosignature *out);

/*
 * ledger_cosignature_from_sig - the cosignature in a signature line that
 * ledger_note_split() found.
 * Returns 0, or LEDGER_EINVAL when the blob is not a cosignature/v1 blob
 * (wrong length, timestamp 0 or above the maximum).
 */
int ledger_cosignature_from_sig(const struct ledger_note_sig *sig,
    struct ledger_cosignature *out);

/*
 * ledger_cosignature_matches - 1 when the cosignature claims to be by this
 * witness key (same name and same key ID, and the key is of type 0x04),
 * 0 otherwise.
 */
int ledger_cosignature_matches(const struct ledger_verifier *witness,
    const struct ledger_cosignature *c);

/*
 * ledger_cosignature_verify - checks a cosignature by a witness over a
 * checkpoint body.
 *	witness		in: the witness's verifier key (type 0x04)
 *	c		in: the cosignature (its name and key ID must match)
 *	body, len	in: the checkpoint body
 * Returns 0, LEDGER_EINVAL (the key is not a cosignature key, or the
 * cosignature is by another key), LEDGER_EVERIFY (bad signature or
 * timestamp) or LEDGER_ECRYPTO.
 */
int ledger_cosignature_verify(const struct ledger_verifier *witness,
    const struct ledger_cosignature *c, const char *body, size_t len);

/*
 * ledger_cosignature_accept - reads a witness's add-checkpoint 200 answer
 * (one or more signature lines, each ending in a newline) and keeps the
 * lines of one witness key that verify over the checkpoint body, as a log
 * does before appending them to its checkpoint.  Lines from other keys are
 * ignored (tlog-witness: "the client MUST ignore any cosignatures from
 * unknown keys").
 *	answer, len	in: the response body
 *	body, body_len	in: the checkpoint body that was submitted
 *	witness		in: the witness's verifier key
 *	lines		out: a new string holding the kept lines, each with its
 *			newline, ready to append to the signed checkpoint
 *			(free() it); set only on success
 *	timestamp	out (may be NULL): the timestamp of the last kept line
 * Returns 0 (at least one line kept), LEDGER_EINVAL (the answer is not a
 * sequence of signature lines), LEDGER_EVERIFY (a line by this key does not
 * verify), LEDGER_ENOTFOUND (no line by this key) or LEDGER_ECRYPTO.
 */
int ledger_cosignature_accept(const char *answer, size_t len,
    const char *body, size_t body_len, const struct ledger_verifier *witness,
    char **lines, uint64_t *timestamp);

#endif
