/*
 * C2SP tlog-checkpoint: the body of a signed checkpoint (origin, tree size,
 * root hash, optional extension lines).
 */
#ifndef LEDGER_CHECKPOINT_H
#define LEDGER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/note.h"

#define LEDGER_ORIGIN_MAX 255
#define LEDGER_CHECKPOINT_MAX_EXT 16

/*
 * A parsed checkpoint body.  Extension lines are copied into ext (each
 * without its newline), so the struct is plain data.
 */
struct ledger_checkpoint {
	char origin[LEDGER_ORIGIN_MAX + 1];
	uint64_t tree_size;
	uint8_t root[LEDGER_HASH_LEN];
	size_t n_ext;
	char ext[LEDGER_CHECKPOINT_MAX_EXT][LEDGER_ORIGIN_MAX + 1];
};

/*
 * ledger_checkpoint_format - the body text: origin, decimal size, base64
 * root, then the extension lines, each ending in a newline.
 * Returns a new string (free() it), or NULL when the origin or an extension
 * line is empty or contains a control character.
 */
char *ledger_checkpoint_format(const struct ledger_checkpoint *cp);

/*
 * ledger_checkpoint_parse - parses a checkpoint body (the note text, or a
 * whole signed note: parsing stops at the blank line).  Sizes with leading
 * zeros, roots that are not 32 bytes of canonical base64 and missing final
 * newlines are refused.
 * Returns 0, LEDGER_EINVAL or LEDGER_ETOOBIG (too many or too long lines).
 */
int ledger_checkpoint_parse(const char *text, size_t len,
    struct ledger_checkpoint *out);

/*
 * ledger_checkpoint_sign - formats cp and signs it with s (whose name must
 * equal the origin): the whole signed note.
 * Returns a new string (free() it), or NULL on a bad checkpoint, a name
 * mismatch or an OpenSSL failure.
 */
char *ledger_checkpoint_sign(const struct ledger_checkpoint *cp,
    const struct ledger_signer *s);

/*
 * ledger_checkpoint_open - verifies a signed checkpoint with the log's key
 * (whose name must equal the origin) and parses it.
 * Returns 0, LEDGER_EINVAL (malformed, or origin differs from the key name),
 * LEDGER_EVERIFY or LEDGER_ECRYPTO.
 */
int ledger_checkpoint_open(const char *note, size_t len,
    const struct ledger_verifier *log_key, struct ledger_checkpoint *out);

#endif
