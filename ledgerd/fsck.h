/*
 * Offline checks and repairs of a stopped data directory.
 */
#ifndef LEDGERD_FSCK_H
#define LEDGERD_FSCK_H

#include <stdint.h>

/*
 * fsck_run - recomputes the hash chain and the tree from the entries and
 * compares them with the stored hashes, the head, the indexes, the
 * idempotency records and the signed checkpoint (verified with
 * DIR/verifier.vkey).  Prints progress and the first inconsistency, with
 * its seq, on stdout.
 * Returns 0 when everything matches, 1 on an inconsistency, 2 when the
 * directory cannot be read.
 */
int fsck_run(const char *dir, uint64_t map_size);

/*
 * reindex_run - drops and rebuilds every provenance index from the entries,
 * in one transaction.  Returns 0, or 1 on failure (printed).
 */
int reindex_run(const char *dir, uint64_t map_size);

struct store;

/*
 * reindex_store - the rebuild of reindex_run on an open store (ledgerd
 * serve makes it when index.mdb is missing): the index cleared and every
 * entry's records written, with the watermark at the tree size, in one
 * transaction of the index.
 *	entries	out: the entries indexed
 * Returns 0, LEDGER_ECORRUPT (an entry that is not JSON) or a store error.
 */
int reindex_store(struct store *st, uint64_t *entries);

#endif
