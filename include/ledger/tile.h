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
 * A tile: level (0..63, or LEDGER_TILE_LEVEL_ENTRIES), index (any uint64_t:
 * tlog-tiles sets no maximum), and width (1..256; 256 is a full tile, fewer
 * a partial one).  Levels 8 and up are well-formed paths but hold no hash of
 * a tree with 64-bit size.
 */
struct ledger_tile {
	int level;
	uint64_t index;
	unsigned width;
};

/*
 * ledger_tile_path_format - "tile/<L>/<N>[.p/<W>]" or
 * "tile/entries/<N>[.p/<W>]" (C2SP tlog-tiles): L in decimal, N in groups
 * of three digits with an 'x' before every group but the last (0 is "000",
 * 1234067 is "x001/x234/067"), and the ".p/<W>" suffix only for widths
 * 1..255 (a full tile has none).  No leading '/'.
 *	t	in: the tile
 *	out	out: at least LEDGER_TILE_PATH_MAX bytes, NUL-terminated;
 *		untouched on error
 * Returns 0, or LEDGER_EINVAL for a level outside 0..63 (other than
 * LEDGER_TILE_LEVEL_ENTRIES) or a width outside 1..256.
 */
int ledger_tile_path_format(const struct ledger_tile *t, char *out);

/*
 * ledger_tile_path_parse - the inverse, for a path starting at "tile/"
 * (one leading '/' is allowed; a query string must already be cut off).
 * Only the canonical spelling that ledger_tile_path_format gives is
 * accepted: L in 0..63 without leading zeros; every group of N exactly three
 * digits, every group but the last with an 'x', no leading "x000" group,
 * N at most UINT64_MAX; W in 1..255 without leading zeros ("000.p/256" is
 * not another name of the full tile "000"); nothing after the end.
 *	path	in: NUL-terminated
 *	out	out: the tile, width 256 when there is no ".p/"; untouched on
 *		error
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_tile_path_parse(const char *path, struct ledger_tile *out);

/*
 * ledger_tile_width_at - width of tile index of a level in a tree of
 * tree_size leaves: 256 for a full tile, 1..255 for the partial right edge
 * (floor(tree_size / 256^level) mod 256), 0 when the tile does not exist
 * (yet), which tlog-tiles says is never served.  Entry bundles have the
 * widths of level 0; level may be 0 or LEDGER_TILE_LEVEL_ENTRIES for them.
 * Levels outside 0..63 give 0.
 */
unsigned ledger_tile_width_at(int level, uint64_t index, uint64_t tree_size);

/*
 * ledger_tile_hashes - the contents of hash tile t: t->width hashes of tree
 * level 8 * t->level, from hash index 256 * t->index, read from the store
 * (store level 8 * t->level; each is the root of a complete subtree of
 * 256^t->level leaves).  The caller checks t->width against the tree size
 * with ledger_tile_width_at first: the store may hold hashes past it.
 *	store	in: the tree's hash store
 *	t	in: the tile
 *	out	out: t->width * LEDGER_HASH_LEN bytes
 * Returns 0, LEDGER_EINVAL for an entries tile or an invalid level or
 * width, LEDGER_ERANGE for a tile past the largest 64-bit tree (level 8
 * and up, or an index too large), or the store's error unchanged
 * (LEDGER_ENOTFOUND for a hash not stored yet).
 */
int ledger_tile_hashes(const struct ledger_hash_store *store,
    const struct ledger_tile *t, uint8_t *out);

/*
 * ledger_bundle_append - appends one entry to an entry bundle: a big-endian
 * uint16 length then the bytes.
 *	buf, cap	in/out: the bundle buffer and its capacity
 *	used		in/out: bytes of buf in use; advanced on success
 *	entry, len	in: the entry (entry may be NULL when len is 0)
 * Returns 0, or LEDGER_ETOOBIG for an entry over 65,535 bytes or when
 * 2 + len bytes do not fit; buf and *used are untouched then.
 */
int ledger_bundle_append(uint8_t *buf, size_t cap, size_t *used,
    const void *entry, size_t len);

/*
 * ledger_bundle_next - reads the next entry of a bundle.
 *	buf, len	in: the bundle
 *	pos		in/out: offset into buf (start at 0), advanced past
 *			the entry on success only
 *	entry		out: borrowed pointer into buf, valid while buf lives
 *	entry_len	out: its length (0 is a valid entry)
 * Returns 0, LEDGER_ENOTFOUND when *pos is exactly len (the end), or
 * LEDGER_EINVAL when the bundle is truncated or *pos is past len.
 */
int ledger_bundle_next(const uint8_t *buf, size_t len, size_t *pos,
    const uint8_t **entry, size_t *entry_len);

#endif
