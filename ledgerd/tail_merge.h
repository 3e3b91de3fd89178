/*
 * Moving the tail (tail.h) into the LMDB index, and rebuilding it at start:
 * the only ways the daemon writes index records (merges on the merging
 * thread, into the index's own environment: store_index_write_begin).
 */
#ifndef LEDGERD_TAIL_MERGE_H
#define LEDGERD_TAIL_MERGE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct tail;

/*
 * tail_open - the tail of the store at start: records the watermark when
 * the store predates it (its index covers every entry then), and rebuilds
 * the records of the entries above it from their bytes.
 *	segment_entries	in: entries per segment (tail_new)
 *	out		out: the tail (tail_free() it); *rebuilt the entries
 *			read into it
 * Returns 0, LEDGER_ECORRUPT (an entry that is not JSON, a watermark beyond
 * the head) or a store error.
 */
int tail_open(struct store *st, size_t segment_entries, struct tail **out,
    uint64_t *rebuilt);

/*
 * tail_merge_one - writes the records of the oldest sealed segment into
 * the LMDB index, in key order, with the watermark moved past it, in one
 * write transaction of its own; then hands the segment back to the tail.
 * A crash at any point leaves either the old watermark and none of the
 * segment's records, or the new one and all of them (one transaction).
 *	merged	out: the entries merged (0: nothing was sealed)
 * Returns 0 or a store error (the segment stays in the tail; the next
 * call tries again).
 */
int tail_merge_one(struct store *st, struct tail *t, uint64_t *merged);

#endif
