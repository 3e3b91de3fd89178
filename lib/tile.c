/*
 * C2SP tlog-tiles with tile height 8: the tile and entry-bundle paths, the
 * width of the right-edge tiles at a tree size, the contents of hash tiles,
 * and the uint16 length-prefixed entry bundles.
 */
#include <stdio.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/tile.h"

/* Most three-digit groups a uint64_t index needs: 18446744073709551615. */
#define INDEX_GROUPS_MAX 7
#define LEVEL_MAX 63

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
tile_is_valid(const struct ledger_tile *t)
{
	if (t->level != LEDGER_TILE_LEVEL_ENTRIES &&
	    (t->level < 0 || t->level > LEVEL_MAX))
		return 0;
	return t->width >= 1 && t->width <= LEDGER_TILE_WIDTH;
}

int
ledger_tile_path_format(const struct ledger_tile *t, char *out)
{
	unsigned groups[INDEX_GROUPS_MAX];
	uint64_t n;
	size_t off;
	int ngroups, i, r;

	if (!tile_is_valid(t))
		return LEDGER_EINVAL;

	if (t->level == LEDGER_TILE_LEVEL_ENTRIES)
		r = snprintf(out, LEDGER_TILE_PATH_MAX, "tile/entries/");
	else
		r = snprintf(out, LEDGER_TILE_PATH_MAX, "tile/%d/", t->level);
	off = (size_t)r;

	/* Least significant group first; 0 is one group, "000". */
	n = t->index;
	ngroups = 0;
	do {
		groups[ngroups++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n != 0);

	for (i = ngroups - 1; i > 0; i--) {
		r = snprintf(out + off, LEDGER_TILE_PATH_MAX - off, "x%03u/",
		    groups[i]);
		off += (size_t)r;
	}
	r = snprintf(out + off, LEDGER_TILE_PATH_MAX - off, "%03u", groups[0]);
	off += (size_t)r;

	if (t->width < LEDGER_TILE_WIDTH)
		snprintf(out + off, LEDGER_TILE_PATH_MAX - off, ".p/%u",
		    t->width);
	return LEDGER_OK;
}

/*
 * A decimal in min..max with no sign and no leading zeros ("0" alone is the
 * only spelling of zero), as tlog-tiles requires of <L> and <W>.
 */
static int
parse_small(const char **pp, unsigned min, unsigned max, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;
	int digits = 0;

	if (!is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
		return LEDGER_EINVAL;
	while (is_digit(*p)) {
		/* max is below 1000: a fourth digit is always too big. */
		if (++digits > 3)
			return LEDGER_EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (v < min || v > max)
		return LEDGER_EINVAL;
	*pp = p;
	*out = v;
	return LEDGER_OK;
}

/*
 * <N>: groups of exactly three digits, all but the last starting with 'x'.
 * A value has one spelling only, so a leading "x000" group is refused, and
 * so is anything above UINT64_MAX.
 */
static int
parse_index(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t n = 0;
	unsigned group;
	int prefixed, first = 1;

	for (;;) {
		prefixed = (*p == 'x');
		if (prefixed)
			p++;
		if (!is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
			return LEDGER_EINVAL;
		group = (unsigned)(p[0] - '0') * 100 +
		    (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
		p += 3;
		if (prefixed && first && group == 0)
			return LEDGER_EINVAL;
		if (n > (UINT64_MAX - group) / 1000)
			return LEDGER_EINVAL;
		n = n * 1000 + group;
		if (!prefixed)
			break;
		if (*p != '/')
			return LEDGER_EINVAL;
		p++;
		first = 0;
	}
	*pp = p;
	*out = n;
	return LEDGER_OK;
}

int
ledger_tile_path_parse(const char *path, struct ledger_tile *out)
{
	struct ledger_tile t;
	const char *p = path;
	unsigned level;

	if (*p == '/')
		p++;
	if (strncmp(p, "tile/", 5) != 0)
		return LEDGER_EINVAL;
	p += 5;

	if (strncmp(p, "entries/", 8) == 0) {
		t.level = LEDGER_TILE_LEVEL_ENTRIES;
		p += 8;
	} else {
		if (parse_small(&p, 0, LEVEL_MAX, &level) != 0 || *p != '/')
			return LEDGER_EINVAL;
		t.level = (int)level;
		p++;
	}

	if (parse_index(&p, &t.index) != 0)
		return LEDGER_EINVAL;

	/* A full tile has no suffix: ".p/256" is not its other name. */
	t.width = LEDGER_TILE_WIDTH;
	if (*p != '\0') {
		if (strncmp(p, ".p/", 3) != 0)
			return LEDGER_EINVAL;
		p += 3;
		if (parse_small(&p, 1, LEDGER_TILE_WIDTH - 1, &t.width) != 0)
			return LEDGER_EINVAL;
		if (*p != '\0')
			return LEDGER_EINVAL;
	}

	*out = t;
	return LEDGER_OK;
}

unsigned
ledger_tile_width_at(int level, uint64_t index, uint64_t tree_size)
{
	uint64_t count, full;

	if (level == LEDGER_TILE_LEVEL_ENTRIES)
		level = 0;
	if (level < 0 || level > LEVEL_MAX)
		return 0;

	/*
	 * The tree has floor(s / 256^L) hashes at tree level 8L (tlog-tiles,
	 * "Partial Tiles"); no 64-bit tree size reaches level 64.  Comparing
	 * against count / 256 keeps 256 * index from overflowing.
	 */
	if (level >= 8)
		return 0;
	count = tree_size >> (LEDGER_TILE_HEIGHT * level);
	full = count / LEDGER_TILE_WIDTH;
	if (index < full)
		return LEDGER_TILE_WIDTH;
	if (index == full)
		return (unsigned)(count % LEDGER_TILE_WIDTH);
	return 0;
}

int
ledger_tile_hashes(const struct ledger_hash_store *store,
    const struct ledger_tile *t, uint8_t *out)
{
	uint64_t max_count, first;
	unsigned level, i;
	int r;

	if (!tile_is_valid(t) || t->level == LEDGER_TILE_LEVEL_ENTRIES)
		return LEDGER_EINVAL;

	/*
	 * A tree of at most UINT64_MAX leaves has at most UINT64_MAX >> 8L
	 * hashes at tree level 8L; a tile reaching past them lies outside
	 * every tree, and 256 * index + width would overflow.
	 */
	if (t->level >= 8)
		return LEDGER_ERANGE;
	level = (unsigned)t->level * LEDGER_TILE_HEIGHT;
	max_count = UINT64_MAX >> level;
	if (t->index > max_count / LEDGER_TILE_WIDTH)
		return LEDGER_ERANGE;
	first = t->index * LEDGER_TILE_WIDTH;
	if (max_count - first < t->width)
		return LEDGER_ERANGE;

	for (i = 0; i < t->width; i++) {
		r = store->get(store->ctx, level, first + i,
		    out + (size_t)i * LEDGER_HASH_LEN);
		if (r != 0)
			return r;
	}
	return LEDGER_OK;
}

int
ledger_bundle_append(uint8_t *buf, size_t cap, size_t *used,
    const void *entry, size_t len)
{
	size_t at = *used;

	if (len > UINT16_MAX)
		return LEDGER_ETOOBIG;
	if (at > cap || cap - at < 2 || cap - at - 2 < len)
		return LEDGER_ETOOBIG;

	/* tlog-tiles "Log entries": big-endian uint16 length, then bytes. */
	buf[at] = (uint8_t)(len >> 8);
	buf[at + 1] = (uint8_t)len;
	if (len > 0)
		memcpy(buf + at + 2, entry, len);
	*used = at + 2 + len;
	return LEDGER_OK;
}

int
ledger_bundle_next(const uint8_t *buf, size_t len, size_t *pos,
    const uint8_t **entry, size_t *entry_len)
{
	size_t at = *pos, n;

	if (at == len)
		return LEDGER_ENOTFOUND;
	if (at > len || len - at < 2)
		return LEDGER_EINVAL;
	n = (size_t)buf[at] << 8 | buf[at + 1];
	if (len - at - 2 < n)
		return LEDGER_EINVAL;

	*entry = buf + at + 2;
	*entry_len = n;
	*pos = at + 2 + n;
	return LEDGER_OK;
}
