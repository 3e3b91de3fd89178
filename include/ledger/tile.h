/*
 * C2SP tlog-tiles, height 8: tile paths, hash-tile contents and entry
 * bundles.
 */
#ifndef LEDGER_TILE_H
#define LEDGER_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/merkle.h"

#define LEDGER_TILE_HEIGHT 8
#define LEDGER_TILE_WIDTH 256
#define LEDGER_TILE_PATH_MAX 96
#define LEDGER_TILE_LEVEL_ENTRIES (-1)	/* level value of entry bundles */

/*
 * A tile: level (0..63, or LEDGER_TILE_LEVEL_ENTRIES), index, and width
 * (1..256; 256 is a full tile, fewer a partial one).
 */
struct ledger_tile {
	int level;
	uint64_t index;
	unsigned width;
};

/*
 * ledger_tile_path_format - "tile/<L>/<N>[.p/<W>]" or
 * "tile/entries/<N>[.p/<W>]" with N in x-prefixed groups of three digits.
 *	out	out: at least LEDGER_TILE_PATH_MAX bytes, NUL-terminated
 * Returns 0, or LEDGER_EINVAL for an out-of-range tile.
 */
int ledger_tile_path_format(const struct ledger_tile *t, char *out);

/*
 * ledger_tile_path_parse - the inverse, for a path starting at "tile/"
 * (a leading '/' is allowed).  Only canonical paths are accepted: every
 * group three digits, every group but the last with an 'x', no leading
 * all-zero groups, W in 1..255.
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_tile_path_parse(const char *path, struct ledger_tile *out);

/*
 * ledger_tile_width_at - width of tile index of a level in a tree of
 * tree_size leaves: 256 for a full tile, 1..255 for the partial right edge,
 * 0 when the tile does not exist yet.  Use level 0 for entry bundles.
 */
unsigned ledger_tile_width_at(int level, uint64_t index, uint64_t tree_size);

/*
 * ledger_tile_hashes - the contents of hash tile t: width hashes of tree
 * level 8 * t->level, from hash index 256 * t->index, read from the store.
 *	out	out: t->width * 32 bytes
 * Returns 0, LEDGER_EINVAL for an entries tile, or a store error.
 */
int ledger_tile_hashes(const struct ledger_hash_store *store,
    const struct ledger_tile *t, uint8_t *out);

/*
 * ledger_bundle_append - appends one entry to an entry bundle: a big-endian
 * uint16 length then the bytes.
 *	buf, cap, used	in/out: the bundle buffer, its capacity and fill
 * Returns 0, LEDGER_ETOOBIG for entries over 65,535 bytes or a short buffer.
 */
int ledger_bundle_append(uint8_t *buf, size_t cap, size_t *used,
    const void *entry, size_t len);

/*
 * ledger_bundle_next - reads the next entry of a bundle.
 *	pos	in/out: offset into buf, advanced past the entry
 *	entry	out: pointer into buf, valid while buf lives
 * Returns 0, LEDGER_ENOTFOUND at the end, LEDGER_EINVAL when truncated.
 */
int ledger_bundle_next(const uint8_t *buf, size_t len, size_t *pos,
    const uint8_t **entry, size_t *entry_len);

#endif
