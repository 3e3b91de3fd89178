/*
 * A hash store read from the server's C2SP tlog-tiles: any complete-subtree
 * hash of a tree of fixed size, from a bounded cache of tiles.  Tiles are
 * public and not trusted: whatever is computed from them is checked against
 * a signed root by the caller.
 */
#ifndef LEDGERCTL_TILES_H
#define LEDGERCTL_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/merkle.h"

#include "ctl.h"

struct tile_store;

/*
 * tile_store_new - a store over the tree of tree_size leaves, keeping at
 * most cache_tiles tiles (each with its inner levels, about 16 KiB).
 * Never returns NULL.
 */
struct tile_store *tile_store_new(struct ctl *ctl, uint64_t tree_size,
    size_t cache_tiles);

/* tile_store_free - NULL is allowed. */
void tile_store_free(struct tile_store *ts);

/*
 * tile_store_hash_store - the callbacks for ledger_merkle_*; get() returns
 * LEDGER_EIO when a tile cannot be fetched (said on stderr), LEDGER_EVERIFY
 * when one has the wrong length, LEDGER_ENOTFOUND past the tree.
 */
struct ledger_hash_store tile_store_hash_store(struct tile_store *ts);

/* tile_store_fetches - how many tiles were downloaded so far. */
uint64_t tile_store_fetches(const struct tile_store *ts);

#endif
