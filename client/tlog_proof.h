/*
 * C2SP tlog-proof: the self-contained inclusion proof of one entry
 * ("c2sp.org/tlog-proof@v1", optional "extra", "index N", the audit path one
 * base64 hash a line, a blank line, the signed checkpoint).
 */
#ifndef LEDGERCTL_TLOG_PROOF_H
#define LEDGERCTL_TLOG_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/merkle.h"

#define TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"

/*
 * tlog_proof_format - the proof text.
 *	checkpoint	in: the whole signed note, ending in a newline
 * Returns a new string (free() it).
 */
char *tlog_proof_format(uint64_t index, const uint8_t proof[][LEDGER_HASH_LEN],
    size_t n, const char *checkpoint);

/* One parsed proof; checkpoint points into the parsed text. */
struct tlog_proof {
	uint64_t index;
	uint8_t hashes[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	size_t n;
	const char *checkpoint;
	size_t checkpoint_len;
};

/*
 * tlog_proof_parse - reads one proof from the start of text.  The proof's
 * checkpoint ends after its last signature line (lines starting with
 * U+2014 after the note's blank line), so proofs can be concatenated.
 *	consumed	out: bytes of text the proof took
 *	why		out: a short reason when it does not parse (static)
 * Returns 0 or -1.
 */
int tlog_proof_parse(const char *text, size_t len, struct tlog_proof *out,
    size_t *consumed, const char **why);

#endif
