/*
 * Tiles on the client (see tiles.h).  A tile of width W at tile level L
 * holds W hashes of tree level 8L; the seven levels above them inside the
 * tile are computed once when it is loaded, so that any hash of tree
 * levels 8L..8L+7 is a lookup.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "http_client.h"
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
	tile_reader read;
	void *arg;
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

int
tile_get(struct ctl *ctl, const struct ledger_tile *t, struct http_reply *out,
    int *status)
{
	struct ledger_tile full = *t;
	char path[LEDGER_TILE_PATH_MAX + 2], full_path[LEDGER_TILE_PATH_MAX + 2];
	struct http_client *c;
	const uint8_t *entry;
	size_t pos = 0, elen;
	unsigned i;

	if (status != NULL)
		*status = 0;
	path[0] = full_path[0] = '/';
	full.width = LEDGER_TILE_WIDTH;
	if (ledger_tile_path_format(t, path + 1) != 0 ||
	    ledger_tile_path_format(&full, full_path + 1) != 0)
		return ctl_fail(EXIT_USAGE, "no such tile");
	if ((c = ctl_http(ctl)) == NULL)
		return EXIT_USAGE;
	if (http_client_request(c, "GET", path, NULL, NULL, 0, out) != 0)
		return ctl_fail(EXIT_SERVER, "GET %s: %s", path,
		    http_client_error(c));
	if (out->status == 404 && t->width < LEDGER_TILE_WIDTH) {
		http_reply_free(out);
		if (http_client_request(c, "GET", full_path, NULL, NULL, 0,
		    out) != 0)
			return ctl_fail(EXIT_SERVER, "GET %s: %s", full_path,
			    http_client_error(c));
		if (out->status != 200) {
			/* Say what was asked for first. */
			out->status = 404;
		} else if (t->level == LEDGER_TILE_LEVEL_ENTRIES) {
			for (i = 0; i < t->width && ledger_bundle_next(
			    (const uint8_t *)out->body, out->len, &pos, &entry,
			    &elen) == 0; i++)
				;
			if (i == t->width)
				out->len = pos;
		} else if (out->len >= (size_t)t->width * LEDGER_HASH_LEN)
			out->len = (size_t)t->width * LEDGER_HASH_LEN;
	}
	if (out->status != 200) {
		if (status != NULL)
			*status = out->status;
		ctl_fail(EXIT_SERVER, "GET %s: %d %s", path, out->status,
		    http_reply_message(out));
		http_reply_free(out);
		return EXIT_SERVER;
	}
	return 0;
}

/* The server as a source of hash tiles. */
static int
read_http(void *arg, const struct ledger_tile *t, uint8_t *out)
{
	char path[LEDGER_TILE_PATH_MAX + 2];
	struct http_reply r;
	int status;

	if (tile_get(arg, t, &r, &status) != 0)
		return status == 404 ? LEDGER_EVERIFY : LEDGER_EIO;
	if (r.len != (size_t)t->width * LEDGER_HASH_LEN) {
		path[0] = '/';
		ledger_tile_path_format(t, path + 1);
		fprintf(stderr, "ledgerctl: %s: %zu bytes, want %u\n", path,
		    r.len, t->width * LEDGER_HASH_LEN);
		http_reply_free(&r);
		return LEDGER_EVERIFY;
	}
	memcpy(out, r.body, r.len);
	http_reply_free(&r);
	return 0;
}

struct tile_store *
tile_store_new_reader(uint64_t tree_size, size_t cache_tiles,
    tile_reader read, void *arg)
{
	struct tile_store *ts = xcalloc(1, sizeof(*ts));

	ts->read = read;
	ts->arg = arg;
	ts->tree_size = tree_size;
	ts->n = cache_tiles > 0 ? cache_tiles : 1;
	ts->cache = xcalloc(ts->n, sizeof(*ts->cache));
	return ts;
}

struct tile_store *
tile_store_new(struct ctl *ctl, uint64_t tree_size, size_t cache_tiles)
{
	return tile_store_new_reader(tree_size, cache_tiles, read_http, ctl);
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

/* The inner levels: only the complete subtrees of a partial tile. */
static int
inner_levels(uint8_t (*node)[LEDGER_HASH_LEN], unsigned width)
{
	unsigned s, m, n;

	for (s = 1; s < 8; s++) {
		n = width >> s;
		for (m = 0; m < n; m++)
			if (ledger_node_hash(node[level_offset(s - 1) + 2 * m],
			    node[level_offset(s - 1) + 2 * m + 1],
			    node[level_offset(s) + m]) != 0)
				return LEDGER_ECRYPTO;
	}
	return 0;
}

int
tile_subtree_root(const uint8_t *hashes, uint8_t out[LEDGER_HASH_LEN])
{
	uint8_t (*node)[LEDGER_HASH_LEN] = xmalloc(TILE_NODES * LEDGER_HASH_LEN);
	int rc;

	memcpy(node[0], hashes, LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);
	if ((rc = inner_levels(node, LEDGER_TILE_WIDTH)) == 0)
		rc = ledger_node_hash(node[level_offset(7)],
		    node[level_offset(7) + 1], out) == 0 ? 0 : LEDGER_ECRYPTO;
	free(node);
	return rc;
}

static int
load(struct tile_store *ts, struct cached_tile *t, int level, uint64_t index,
    unsigned width)
{
	struct ledger_tile tile = { level, index, width };
	int rc;

	t->valid = 0;
	if ((rc = ts->read(ts->arg, &tile, t->node[0])) != 0)
		return rc;
	ts->fetches++;
	if ((rc = inner_levels(t->node, width)) != 0)
		return rc;
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
