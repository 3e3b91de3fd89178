/*
 * Time ranges over the log: received_at never decreases along seq, so a
 * time bound is a seq bound found by binary search, with no time index.
 */
#ifndef LEDGERD_TIMERANGE_H
#define LEDGERD_TIMERANGE_H

#include <stdint.h>

struct store_txn;

/*
 * seq_by_received_at - the first seq in [lo, hi) whose received_at is >= t
 * (strictly_after 0) or > t (strictly_after 1), or hi when there is none;
 * O(log n) entry reads.
 *	t	in: microseconds since the epoch
 * Returns 0, LEDGER_ECORRUPT (an entry without a valid received_at) or a
 * store error.
 */
int seq_by_received_at(struct store_txn *txn, uint64_t lo, uint64_t hi,
    int64_t t, int strictly_after, uint64_t *out);

#endif
