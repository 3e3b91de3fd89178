/*
 * The witness's storage (DIR/witness.mdb, LMDB): per log, the latest
 * checkpoint it cosigned; and the split-view evidence it kept.  The only
 * file that knows this schema.
 *
 * Databases:
 *	logs		origin -> tree size (8 bytes, big-endian) || root (32)
 *			|| the cosigned checkpoint (the log's signed note with
 *			this witness's cosignature line appended)
 *	evidence	id (8 bytes, big-endian, from 1) -> the evidence
 *			document (JSON text, docs/spec.md §10.4)
 *	evidence_seen	SHA-256 of (kind || submitted checkpoint) -> id, so
 *			that a replayed checkpoint is kept once
 */
#ifndef LEDGERD_WITNESS_STORE_H
#define LEDGERD_WITNESS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

#define WSTORE_FILE "witness.mdb"

struct wstore;
struct wstore_txn;

/*
 * What the witness holds for one log.  note is new (free() it) when filled
 * by a get; borrowed by a put.
 */
struct wstore_log {
	uint64_t tree_size;
	uint8_t root[LEDGER_HASH_LEN];
	char *note;
	size_t note_len;
};

/*
 * wstore_open - opens (creating) DIR/witness.mdb.  Commits are synced: a
 * commit returns once the data is on disk.
 * Returns 0, LEDGER_EIO, LEDGER_ECORRUPT (logged).
 */
int wstore_open(const char *dir, uint64_t map_size, struct wstore **out);

/* wstore_close - closes the store; NULL is allowed. */
void wstore_close(struct wstore *ws);

/*
 * wstore_origins - every origin the witness holds a checkpoint for.
 *	origins, n	out: a new array of new strings (free each and it)
 * Returns 0 or LEDGER_EIO.
 */
int wstore_origins(struct wstore *ws, char ***origins, size_t *n);

/*
 * wstore_get_log - the latest cosigned checkpoint of origin (read
 * transaction).  Returns 0, LEDGER_ENOTFOUND, LEDGER_ECORRUPT, LEDGER_EIO.
 */
int wstore_get_log(struct wstore *ws, const char *origin, struct wstore_log *out);

/*
 * wstore_begin - a write transaction: LMDB runs one at a time, so what is
 * read in it cannot change before it commits (the size check and the
 * update of add-checkpoint are one atomic step).
 * Returns 0 or LEDGER_EIO.
 */
int wstore_begin(struct wstore *ws, struct wstore_txn **out);

/* As wstore_get_log, inside the transaction. */
int wstore_txn_get_log(struct wstore_txn *t, const char *origin,
    struct wstore_log *out);

/* wstore_txn_put_log - replaces origin's record.  Returns 0, LEDGER_ENOSPC, LEDGER_EIO. */
int wstore_txn_put_log(struct wstore_txn *t, const char *origin,
    const struct wstore_log *log);

/*
 * wstore_txn_add_evidence - keeps an evidence document unless one with the
 * same seen key is kept already.
 *	seen		in: SHA-256 of what identifies it
 *	doc, len	in: the document
 *	id		out: its id (the existing one when seen before)
 *	is_new		out: 1 when stored now
 * Returns 0, LEDGER_ENOSPC, LEDGER_EIO.
 */
int wstore_txn_add_evidence(struct wstore_txn *t,
    const uint8_t seen[LEDGER_HASH_LEN], const char *doc, size_t len,
    uint64_t *id, int *is_new);

/* wstore_commit - commits (synced) and frees t.  Returns 0, LEDGER_ENOSPC, LEDGER_EIO. */
int wstore_commit(struct wstore_txn *t);

/* wstore_abort - drops t's changes and frees it; NULL is allowed. */
void wstore_abort(struct wstore_txn *t);

/*
 * wstore_evidence_get - the document with this id.
 *	doc, len	out: a new NUL-terminated copy (free() it)
 * Returns 0, LEDGER_ENOTFOUND, LEDGER_EIO.
 */
int wstore_evidence_get(struct wstore *ws, uint64_t id, char **doc, size_t *len);

/*
 * wstore_evidence_each - calls fn for every document in id order, within
 * one read transaction (doc is valid during the call only; not
 * NUL-terminated).  Stops when fn returns non-zero.
 * Returns 0 or LEDGER_EIO.
 */
int wstore_evidence_each(struct wstore *ws,
    int (*fn)(void *arg, uint64_t id, const char *doc, size_t len), void *arg);

/* wstore_evidence_count - how many documents are kept. */
uint64_t wstore_evidence_count(struct wstore *ws);

#endif
