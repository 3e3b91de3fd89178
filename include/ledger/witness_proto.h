/*
 * C2SP tlog-witness wire formats: the add-checkpoint request body and the
 * `text/x.tlog.size` body of a 409 answer.
 *
 * add-checkpoint body:
 *	"old " <decimal size, no leading zeros> "\n"
 *	zero to 63 lines, each one base64 hash of the consistency proof
 *	"\n"
 *	the signed checkpoint (a whole note, with its signatures)
 * 409 body: <decimal size> "\n", content type text/x.tlog.size.
 */
#ifndef LEDGER_WITNESS_PROTO_H
#define LEDGER_WITNESS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

#define LEDGER_WITNESS_MAX_PROOF 63	/* proof lines a client may send */
#define LEDGER_TLOG_SIZE_TYPE "text/x.tlog.size"
#define LEDGER_WITNESS_ADD_PATH "/add-checkpoint"

/*
 * A parsed add-checkpoint request.  checkpoint points into the body that
 * was parsed and is valid while that lives; the rest is plain data.
 */
struct ledger_add_checkpoint {
	uint64_t old_size;
	size_t n_proof;
	uint8_t proof[LEDGER_WITNESS_MAX_PROOF][LEDGER_HASH_LEN];
	const char *checkpoint;		/* the signed note, not NUL-terminated */
	size_t checkpoint_len;
};

/*
 * ledger_add_checkpoint_parse - reads an add-checkpoint body.  Only the
 * framing is checked here: the old size line (canonical decimal), each
 * proof line (exactly 32 bytes of strict base64), the blank line and a
 * non-empty rest; the checkpoint itself is the caller's to open.
 *	body, len	in: the request body (need not be NUL-terminated)
 *	out		out: the parsed request (pointers into body)
 * Returns 0, LEDGER_EINVAL (malformed) or LEDGER_ETOOBIG (more than
 * LEDGER_WITNESS_MAX_PROOF proof lines).
 */
int ledger_add_checkpoint_parse(const char *body, size_t len,
    struct ledger_add_checkpoint *out);

/*
 * ledger_add_checkpoint_format - the body of an add-checkpoint request.
 *	old_size	in: the size the witness last cosigned (0 at first)
 *	proof, n_proof	in: the consistency proof from old_size to the
 *			checkpoint's size (at most LEDGER_WITNESS_MAX_PROOF)
 *	checkpoint, len	in: the signed checkpoint note
 *	out_len		out: the body's length
 * Returns a new NUL-terminated string (free() it), or NULL when n_proof is
 * over the limit or the checkpoint is empty or lacks its final newline.
 */
char *ledger_add_checkpoint_format(uint64_t old_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t n_proof,
    const char *checkpoint, size_t len, size_t *out_len);

/*
 * ledger_tlog_size_parse - reads a text/x.tlog.size body: a canonical
 * decimal and a newline, nothing else.
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_tlog_size_parse(const char *body, size_t len, uint64_t *size);

/*
 * ledger_tlog_size_format - the text/x.tlog.size body for size.
 * Returns a new string (free() it); never NULL.
 */
char *ledger_tlog_size_format(uint64_t size);

#endif
