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

#endif
