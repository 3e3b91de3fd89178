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
 * index_records - calls emit for every index record of entry seq (same
 * arguments as index_entry); stops at and returns the first non-zero result.
 */
int index_records(uint64_t seq, const json_t *fields, const uint8_t *subject_key,
    index_emit_fn emit, void *ctx);

/*
 * index_entry - writes the index records of entry seq.
 *	fields		in: the event or the entry object
 *	subject_key	in: when fields is an event, the key that turns its
 *			subjects into tokens; NULL when fields is an entry
 *			(its subjects are tokens already)
 * Returns 0 or a store error.
 */
int index_entry(struct store_txn *txn, uint64_t seq, const json_t *fields,
    const uint8_t *subject_key);

#endif
