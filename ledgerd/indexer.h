/*
 * Which index records an entry gets (store.h's index kinds): the one place
 * that maps event fields to provenance indexes, used by the writer as it
 * appends and by reindex/fsck as they rebuild or check.
 */
#ifndef LEDGERD_INDEXER_H
#define LEDGERD_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/entry.h"

struct store_txn;

/* Receives one index record of an entry. */
typedef int (*index_emit_fn)(void *ctx, int kind, const void *value,
    size_t len, uint64_t seq);

/*
 * index_records - calls emit for every index record of entry seq (fields
 * and subject_key as for index_batch_add); stops at and returns the first
 * non-zero result.
 */
int index_records(uint64_t seq, const json_t *fields, const uint8_t *subject_key,
    index_emit_fn emit, void *ctx);

/*
 * index_event_records - index_records of the entry the writer makes of
 * event: its subjects are tokens[i] (one per subject), as in the entry.
 */
int index_event_records(uint64_t seq, const json_t *event,
    const char *const *tokens, index_emit_fn emit, void *ctx);

/*
 * The index records of many entries, gathered as they are appended and
 * written in key order just before the commit: inserting in order walks
 * the index B-tree once instead of jumping to a random page per record,
 * which halves the index's cost in a large commit.
 *	fields		in: the event or the entry object
 *	subject_key	in: when fields is an event, the key that turns its
 *			subjects into tokens; NULL when fields is an entry
 *			(its subjects are tokens already)
 */
struct index_batch;

struct index_batch *index_batch_new(void);
void index_batch_free(struct index_batch *b);

/* index_batch_add - gathers the records of entry seq. */
int index_batch_add(struct index_batch *b, uint64_t seq, const json_t *fields,
    const uint8_t *subject_key);

/*
 * index_batch_write - writes the gathered records to txn in key order and
 * empties the batch.  Returns 0 or a store error.
 */
int index_batch_write(struct index_batch *b, struct store_txn *txn);

/* index_batch_clear - drops the gathered records (the commit was abandoned). */
void index_batch_clear(struct index_batch *b);

#endif
