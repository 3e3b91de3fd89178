/*
 * An in-memory hash store: one growable array of hashes per tree level.
 * Used by tests, benchmarks and the client's full audit.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#define MEMSTORE_LEVELS 64

struct level {
	uint8_t (*hashes)[LEDGER_HASH_LEN];
	uint64_t count;		/* hashes stored: indexes 0..count-1 */
	uint64_t cap;
};

struct ledger_memstore {
	struct level levels[MEMSTORE_LEVELS];
};

struct ledger_memstore *
ledger_memstore_new(void)
{
	return xcalloc(1, sizeof(struct ledger_memstore));
}

void
ledger_memstore_free(struct ledger_memstore *ms)
{
	if (ms == NULL)
		return;
	for (int i = 0; i < MEMSTORE_LEVELS; i++)
		free(ms->levels[i].hashes);
	free(ms);
}

static int
memstore_get(void *ctx, unsigned level, uint64_t index,
    uint8_t out[LEDGER_HASH_LEN])
{
	struct ledger_memstore *ms = ctx;

	if (level >= MEMSTORE_LEVELS || index >= ms->levels[level].count)
		return LEDGER_ENOTFOUND;
	memcpy(out, ms->levels[level].hashes[index], LEDGER_HASH_LEN);
	return LEDGER_OK;
}

/* Appends happen in index order; a put may also overwrite an existing hash. */
static int
memstore_put(void *ctx, unsigned level, uint64_t index,
    const uint8_t hash[LEDGER_HASH_LEN])
{
	struct ledger_memstore *ms = ctx;
	struct level *l;

	if (level >= MEMSTORE_LEVELS)
		return LEDGER_ERANGE;
	l = &ms->levels[level];
	if (index > l->count)
		return LEDGER_ERANGE;	/* would leave a hole */
	if (index == l->count) {
		if (l->count == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 1024;
			l->hashes = xrealloc(l->hashes, l->cap * LEDGER_HASH_LEN);
		}
		l->count++;
	}
	memcpy(l->hashes[index], hash, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

struct ledger_hash_store
ledger_memstore_hash_store(struct ledger_memstore *ms)
{
	struct ledger_hash_store hs = {
		.get = memstore_get,
		.put = memstore_put,
		.ctx = ms,
	};

	return hs;
}
