/*
 * The tail index: the provenance index records (indexer.h) of the entries
 * above the merged watermark, held in memory so that a durable commit writes
 * entries, tree hashes and the head only.  tail_merge.h moves them into the
 * LMDB index in large sorted transactions of their own.
 *
 * The records sit in segments of consecutive entries [lo, hi); the newest
 * is open and grows, the others are sealed, waiting to be merged or merged.
 *
 * Concurrency.  Only the writer thread adds, truncates and reports commits
 * (tail_committed); only the merging thread seals by age, merges and
 * reclaims; readers on any thread look records up.  lock (a reader-writer
 * lock) guards the segments' list and contents for the short time of one
 * add, one lookup or one change of state; no lock is held across I/O.  A
 * segment is merged only once a commit made all its entries durable, so
 * a failed commit (tail_truncate) never cuts one being merged.
 *
 * What a reader sees: a store read transaction pins the current epoch
 * (tail_pin) before it opens its LMDB snapshot, then takes the records of
 * seqs in [watermark, tree_size) of that snapshot from the tail, and those
 * below from LMDB.  Records are added before the commit that makes their
 * entries visible, so a snapshot never shows an entry the tail lacks.  A
 * merged segment stays in the tail until every reader pinned in an epoch
 * current at or before its merge commit is gone (tail_reclaim): such a
 * reader's snapshot may predate the merge.  A reader pinned later opened
 * its snapshot after the merge commit, so LMDB holds those records for it,
 * and its bounds keep it from counting them twice.
 */
#ifndef LEDGERD_TAIL_H
#define LEDGERD_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct tail;
struct tail_epoch;
struct tail_segment;

/*
 * tail_new - an empty tail whose first entry will be seq base (the
 * watermark).  segment_entries: entries per segment, the unit of a merge.
 */
struct tail *tail_new(uint64_t base, size_t segment_entries);

/* tail_free - frees t and every segment; no reader may hold a pin. */
void tail_free(struct tail *t);

/*
 * tail_add - adds the index records of entry seq: fields is the entry
 * object (tokens NULL: its subjects are tokens already), or the event the
 * entry was made of with the tokens of its subjects, one per subject.
 * seq is the next one: the last added + 1.  Writer thread.  Returns 0
 * (allocation failure is fatal).
 */
int tail_add(struct tail *t, uint64_t seq, const json_t *fields,
    const char *const *tokens);

/*
 * tail_truncate - drops the records of seqs >= size: the commit that was
 * to make them visible failed.  Returns 1 when that leaves the oldest
 * segment not merged sealed and committed (the merging thread sealed it
 * by age during the commit, and has work now), else 0.  Writer thread.
 */
int tail_truncate(struct tail *t, uint64_t size);

/*
 * tail_committed - the entries below size are durable: segments that end
 * there may be merged.  Returns 1 when the merging thread has something
 * new to look at: the oldest segment not merged may now be, or a segment
 * began in this commit (its age counts from now: tail_due); else 0.
 * Writer thread.
 */
int tail_committed(struct tail *t, uint64_t size);

/*
 * tail_seal_older - seals the open segment when its first entry was added
 * at or before now_us - age_us (monotonic microseconds), so that a quiet
 * log merges too.  Merging thread.
 */
void tail_seal_older(struct tail *t, int64_t now_us, int64_t age_us);

/*
 * tail_due - when the merging thread next has work in t, in monotonic
 * microseconds: at once (0) for a sealed, committed segment to merge,
 * age_us after the open segment's first entry (tail_seal_older), age_us
 * from now_us while merged segments wait for readers to go, INT64_MAX for
 * none.
 */
int64_t tail_due(struct tail *t, int64_t now_us, int64_t age_us);

/*
 * tail_next_merge - the oldest segment not yet merged when it is sealed
 * and committed, else NULL.  tail_segment_range gives its entries [*lo,
 * *hi).  Merging thread.
 */
struct tail_segment *tail_next_merge(struct tail *t);
void tail_segment_range(const struct tail_segment *s, uint64_t *lo,
    uint64_t *hi);

/*
 * tail_segment_each - calls fn once per (kind, value) of s, in the store's
 * key order (kind, then value bytes, shorter first), with its seqs
 * (increasing, no repeats); stops at and returns the first non-zero result.
 * Merging thread, s sealed.
 */
int tail_segment_each(struct tail_segment *s,
    int (*fn)(void *ctx, int kind, const void *value, size_t len,
    const uint64_t *seqs, size_t n), void *ctx);

/*
 * tail_merged - s's records are committed to LMDB with the watermark
 * s's hi: a new epoch starts, and s is freed once the readers of older
 * epochs are gone (tail_reclaim).  Merging thread.
 */
void tail_merged(struct tail *t, struct tail_segment *s);

/* tail_reclaim - frees the merged segments no reader can need.  Merging thread. */
void tail_reclaim(struct tail *t);

/*
 * tail_pin / tail_unpin - a reader's hold on the current epoch, taken
 * before its LMDB snapshot and released after it ends.  Any thread.
 */
struct tail_epoch *tail_pin(struct tail *t);
void tail_unpin(struct tail *t, struct tail_epoch *e);

/*
 * tail_scan - as store_index_scan, over the tail's records of seqs in
 * [lo, hi): up to max seqs carrying (kind, value), increasing from the
 * first >= from, or with reverse decreasing from the last <= from.
 *	n	out: how many were written
 */
void tail_scan(struct tail *t, int kind, const void *value, size_t len,
    uint64_t lo, uint64_t hi, uint64_t from, int reverse, uint64_t *seqs,
    size_t max, size_t *n);

/* tail_contains - 1 when the tail records (kind, value) -> seq, else 0. */
int tail_contains(struct tail *t, int kind, const void *value, size_t len,
    uint64_t seq);

/* What /metrics shows of the tail; any thread. */
struct tail_stats {
	uint64_t watermark;	/* entries below are merged into LMDB */
	uint64_t entries;	/* entries above it, held in the tail */
	uint64_t held_entries;	/* those, and the merged ones readers may need */
	uint64_t bytes;		/* memory of every segment held */
	uint64_t segments;
};
void tail_stats(struct tail *t, struct tail_stats *out);

#endif
