/*
 * C2SP tlog-tiles on the client side: fetching a tile as the spec lets a
 * client (a partial tile that is gone is cut from its full tile), and a
 * hash store over a tree of fixed size from a bounded cache of tiles, read
 * from the server or from anywhere else (a mirror directory).  Tiles are
 * not trusted: whatever is computed from them is checked against a signed
 * root by the caller.
 */
#ifndef LEDGERCTL_TILES_H
#define LEDGERCTL_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/merkle.h"
#include "ledger/tile.h"

#include "ctl.h"

/*
 * tile_get - GET /tile/… for t (a hash tile or an entry bundle).  A
 * partial tile answered 404 is read from the full tile of the same index,
 * cut to t's width (tlog-tiles lets a log delete a partial tile once the
 * full one exists, and a mirror does): the first W hashes, or the first
 * W entries of a bundle.  Nothing is checked beyond that.
 *	out	out: the answer (http_reply_free() it) on success
 *	status	out (may be NULL): the HTTP status of the failure, or 0 when
 *		the server could not be reached
 * Returns 0, or EXIT_SERVER after printing the path and the server's
 * message.
 */
int tile_get(struct ctl *ctl, const struct ledger_tile *t,
    struct http_reply *out, int *status);

/*
 * A source of hash tiles: reads t->width hashes of tile t into out.
 * Returns 0, LEDGER_EIO (could not be read; said on stderr) or
 * LEDGER_EVERIFY (the tile a signed tree needs is missing or has the wrong
 * length; said on stderr).
 */
typedef int (*tile_reader)(void *arg, const struct ledger_tile *t,
    uint8_t *out);

struct tile_store;

/*
 * tile_store_new - a store over the tree of tree_size leaves read from the
 * server (tile_get), keeping at most cache_tiles tiles (each with its inner
 * levels, about 16 KiB).  A tile the server does not have (404) is
 * LEDGER_EVERIFY: a log serves every tile of the trees it signs.
 * Never returns NULL.
 */
struct tile_store *tile_store_new(struct ctl *ctl, uint64_t tree_size,
    size_t cache_tiles);

/* tile_store_new_reader - the same over another source of tiles. */
struct tile_store *tile_store_new_reader(uint64_t tree_size,
    size_t cache_tiles, tile_reader read, void *arg);

/* tile_store_free - NULL is allowed. */
void tile_store_free(struct tile_store *ts);

/*
 * tile_store_hash_store - the callbacks for ledger_merkle_*; get() returns
 * the reader's error (LEDGER_EIO, LEDGER_EVERIFY), LEDGER_ENOTFOUND past
 * the tree.
 */
struct ledger_hash_store tile_store_hash_store(struct tile_store *ts);

/* tile_store_fetches - how many tiles were read so far. */
uint64_t tile_store_fetches(const struct tile_store *ts);

/*
 * tile_subtree_root - the Merkle tree hash over a full tile's 256 hashes:
 * the hash its parent tile holds for it (tlog-tiles: "each hash in a tile
 * is the Merkle Tree Hash of a full tile at the level below").
 * Returns 0 or LEDGER_ECRYPTO.
 */
int tile_subtree_root(const uint8_t *hashes, uint8_t out[LEDGER_HASH_LEN]);

#endif
