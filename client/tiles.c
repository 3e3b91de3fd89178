/*
 * The tile-backed hash store (see tiles.h).  A tile of width W at tile
 * level L holds W hashes of tree level 8L; the seven levels above them
 * inside the tile are computed once when it is loaded, so that any hash of
 * tree levels 8L..8L+7 is a lookup.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "tiles.h"

/* Offsets of the levels inside a tile: 256 + 128 + … + 1 = 511 hashes. */
#define TILE_NODES 511

struct cached_tile {
	int valid;
	int level;
	uint64_t index;
	unsigned width;
	uint64_t used;		/* for least-recently-used replacement */
	uint8_t node[TILE_NODES][LEDGER_HASH_LEN];
};

struct tile_store {
	struct ctl *ctl;
	uint64_t tree_size;
	struct cached_tile *cache;
	size_t n;
	uint64_t clock, fetches;
};

static unsigned
level_offset(unsigned s)
{
	/* 256 + 128 + … for the levels below s */
	return 512 - (512u >> s);
}

struct tile_store *
tile_store_new(struct ctl *ctl, uint64_t tree_size, size_t cache_tiles)
{
	struct tile_store *ts = xcalloc(1, sizeof(*ts));

	ts->ctl = ctl;
	ts->tree_size = tree_size;
	ts->n = cache_tiles > 0 ? cache_tiles : 1;
	ts->cache = xcalloc(ts->n, sizeof(*ts->cache));
	return ts;
}

void
tile_store_free(struct tile_store *ts)
{
	if (ts == NULL)
		return;
	free(ts->cache);
	free(ts);
}

uint64_t
tile_store_fetches(const struct tile_store *ts)
{
	return ts->fetches;
}

static int
load(struct tile_store *ts, struct cached_tile *t, int level, uint64_t index,
    unsigned width)
{
	struct ledger_tile tile = { level, index, width };
	char path[LEDGER_TILE_PATH_MAX + 2];
	struct http_reply r;
	unsigned s, m, n;

	path[0] = '/';
	if (ledger_tile_path_format(&tile, path + 1) != 0)
		return LEDGER_EINVAL;
	t->valid = 0;
	if (ctl_get(ts->ctl, path, &r) != 0)
		return LEDGER_EIO;
	ts->fetches++;
	if (r.len != (size_t)width * LEDGER_HASH_LEN) {
		fprintf(stderr, "ledgerctl: %s: %zu bytes, want %u\n", path,
		    r.len, width * LEDGER_HASH_LEN);
		http_reply_free(&r);
		return LEDGER_EVERIFY;
	}
	memcpy(t->node[0], r.body, r.len);
	http_reply_free(&r);
	/* Inner levels: only the complete subtrees of a partial tile. */
	for (s = 1; s < 8; s++) {
		n = width >> s;
		for (m = 0; m < n; m++)
			if (ledger_node_hash(t->node[level_offset(s - 1) + 2 * m],
			    t->node[level_offset(s - 1) + 2 * m + 1],
			    t->node[level_offset(s) + m]) != 0)
				return LEDGER_ECRYPTO;
	}
	t->valid = 1;
	t->level = level;
	t->index = index;
	t->width = width;
	return 0;
}

static int
ts_get(void *ctx, unsigned level, uint64_t index, uint8_t out[LEDGER_HASH_LEN])
{
	struct tile_store *ts = ctx;
	struct cached_tile *t = NULL, *victim = NULL;
	unsigned tl = level / 8, sub = level % 8, width;
	uint64_t first, n;
	size_t i;
	int rc;

	if (tl >= 8 || index > (UINT64_MAX >> sub))
		return LEDGER_ENOTFOUND;
	first = index << sub;		/* first hash of level 8*tl covered */
	n = first / LEDGER_TILE_WIDTH;
	width = ledger_tile_width_at((int)tl, n, ts->tree_size);
	if (width == 0 || (first % LEDGER_TILE_WIDTH) + (1u << sub) > width)
		return LEDGER_ENOTFOUND;
	for (i = 0; i < ts->n; i++) {
		if (ts->cache[i].valid && ts->cache[i].level == (int)tl &&
		    ts->cache[i].index == n && ts->cache[i].width == width) {
			t = &ts->cache[i];
			break;
		}
		if (victim == NULL || !ts->cache[i].valid ||
		    (victim->valid && ts->cache[i].used < victim->used))
			victim = &ts->cache[i];
	}
	if (t == NULL) {
		t = victim;
		if ((rc = load(ts, t, (int)tl, n, width)) != 0)
			return rc;
	}
	t->used = ++ts->clock;
	memcpy(out, t->node[level_offset(sub) +
	    (first % LEDGER_TILE_WIDTH >> sub)], LEDGER_HASH_LEN);
	return 0;
}

static int
ts_put(void *ctx, unsigned level, uint64_t index,
    const uint8_t hash[LEDGER_HASH_LEN])
{
	return LEDGER_EINVAL;	/* read-only */
}

struct ledger_hash_store
tile_store_hash_store(struct tile_store *ts)
{
	struct ledger_hash_store hs = { ts_get, ts_put, ts };

	return hs;
}
