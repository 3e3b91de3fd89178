/*
 * Tests of the tlog-tiles paths, tile widths, hash-tile contents (against an
 * in-memory tree and an independent Merkle tree hash) and entry bundles.
 */
#include <stdint.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/tile.h"
#include "testlib.h"

/*
 * The tlog-tiles encoding of N written a second way: the decimal digits,
 * left-padded with zeros to a multiple of three, cut into groups.
 */
static void
reference_index(uint64_t n, char *out, size_t cap)
{
	char digits[32], padded[40];
	size_t len, pad, i, o = 0;

	snprintf(digits, sizeof(digits), "%" PRIu64, n);
	len = strlen(digits);
	pad = (3 - len % 3) % 3;
	memset(padded, '0', pad);
	memcpy(padded + pad, digits, len + 1);
	len += pad;
	for (i = 0; i < len; i += 3) {
		if (i + 3 < len)
			o += (size_t)snprintf(out + o, cap - o, "x%.3s/",
			    padded + i);
		else
			o += (size_t)snprintf(out + o, cap - o, "%.3s",
			    padded + i);
	}
}

static void
reference_path(const struct ledger_tile *t, char *out, size_t cap)
{
	char index[64];
	char level[16];

	reference_index(t->index, index, sizeof(index));
	if (t->level == LEDGER_TILE_LEVEL_ENTRIES)
		snprintf(level, sizeof(level), "entries");
	else
		snprintf(level, sizeof(level), "%d", t->level);
	if (t->width == LEDGER_TILE_WIDTH)
		snprintf(out, cap, "tile/%s/%s", level, index);
	else
		snprintf(out, cap, "tile/%s/%s.p/%u", level, index, t->width);
}

/* Formats t, checks the text against want, parses it back. */
static void
check_round_trip(int level, uint64_t index, unsigned width, const char *want)
{
	struct ledger_tile t = { level, index, width }, back;
	char path[LEDGER_TILE_PATH_MAX], ref[128], slashed[LEDGER_TILE_PATH_MAX + 1];

	CHECK_INT(ledger_tile_path_format(&t, path), 0);
	reference_path(&t, ref, sizeof(ref));
	CHECK_STR(path, ref);
	if (want != NULL)
		CHECK_STR(path, want);
	CHECK(strlen(path) < LEDGER_TILE_PATH_MAX);

	memset(&back, 0xa5, sizeof(back));
	CHECK_INT(ledger_tile_path_parse(path, &back), 0);
	CHECK_INT(back.level, level);
	CHECK(back.index == index);
	CHECK_INT(back.width, width);

	snprintf(slashed, sizeof(slashed), "/%s", path);
	memset(&back, 0xa5, sizeof(back));
	CHECK_INT(ledger_tile_path_parse(slashed, &back), 0);
	CHECK_INT(back.level, level);
	CHECK(back.index == index);
	CHECK_INT(back.width, width);
}

static void
test_path_known(void)
{
	check_round_trip(0, 0, 256, "tile/0/000");
	check_round_trip(0, 1, 256, "tile/0/001");
	check_round_trip(0, 999, 256, "tile/0/999");
	check_round_trip(0, 1000, 256, "tile/0/x001/000");
	check_round_trip(0, 1001, 256, "tile/0/x001/001");
	check_round_trip(0, 999999, 256, "tile/0/x999/999");
	check_round_trip(0, 1000000, 256, "tile/0/x001/x000/000");
	check_round_trip(0, 1234067, 256, "tile/0/x001/x234/067");
	check_round_trip(1, 1234067, 256, "tile/1/x001/x234/067");
	check_round_trip(2, 1234067, 112, "tile/2/x001/x234/067.p/112");
	check_round_trip(63, 5, 1, "tile/63/005.p/1");
	check_round_trip(0, UINT64_C(1) << 40, 256,
	    "tile/0/x001/x099/x511/x627/776");
	check_round_trip(0, (UINT64_C(1) << 40) + 1, 255,
	    "tile/0/x001/x099/x511/x627/777.p/255");
	check_round_trip(3, UINT64_C(1) << 56, 256,
	    "tile/3/x072/x057/x594/x037/x927/936");
	check_round_trip(0, UINT64_MAX, 256,
	    "tile/0/x018/x446/x744/x073/x709/x551/615");
	check_round_trip(LEDGER_TILE_LEVEL_ENTRIES, 0, 256, "tile/entries/000");
	check_round_trip(LEDGER_TILE_LEVEL_ENTRIES, 1234067, 17,
	    "tile/entries/x001/x234/067.p/17");
	check_round_trip(LEDGER_TILE_LEVEL_ENTRIES, UINT64_MAX, 1,
	    "tile/entries/x018/x446/x744/x073/x709/x551/615.p/1");
}

static void
test_path_many_indexes(void)
{
	uint64_t p10, x = UINT64_C(0x9e3779b97f4a7c15);
	int i, level;

	/* Every group boundary: 10^k - 1, 10^k, 10^k + 1. */
	for (p10 = 1, i = 0; i < 20; i++, p10 *= 10) {
		check_round_trip(0, p10 - 1, 256, NULL);
		check_round_trip(0, p10, 256, NULL);
		check_round_trip(1, p10 + 1, 200, NULL);
	}
	/* Powers of two up to 2^63, and their neighbours. */
	for (i = 0; i < 64; i++) {
		uint64_t v = UINT64_C(1) << i;

		check_round_trip(i % 8, v, 256, NULL);
		check_round_trip(LEDGER_TILE_LEVEL_ENTRIES, v - 1, 3, NULL);
		check_round_trip(63 - i, v + 1, 256, NULL);
	}
	/* Everything below 2100 (one, two and three groups of small values). */
	for (i = 0; i < 2100; i++)
		check_round_trip(0, (uint64_t)i, 256, NULL);
	/* xorshift64: indexes of every magnitude. */
	for (i = 0; i < 3000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		level = (int)(x % 65) - 1;
		check_round_trip(level, x >> (x % 64), 256, NULL);
	}
}

static void
test_path_widths(void)
{
	unsigned w;

	for (w = 1; w <= 256; w++) {
		check_round_trip(0, 7, w, NULL);
		check_round_trip(4, 1234067, w, NULL);
		check_round_trip(LEDGER_TILE_LEVEL_ENTRIES, 1000, w, NULL);
	}
	check_round_trip(0, 0, 1, "tile/0/000.p/1");
	check_round_trip(0, 0, 9, "tile/0/000.p/9");
	check_round_trip(0, 0, 10, "tile/0/000.p/10");
	check_round_trip(0, 0, 100, "tile/0/000.p/100");
	check_round_trip(0, 0, 255, "tile/0/000.p/255");
}

static void
test_path_format_rejects(void)
{
	struct ledger_tile t;
	char path[LEDGER_TILE_PATH_MAX];

	strcpy(path, "unchanged");
	t = (struct ledger_tile){ 0, 0, 0 };
	CHECK_INT(ledger_tile_path_format(&t, path), LEDGER_EINVAL);
	t = (struct ledger_tile){ 0, 0, 257 };
	CHECK_INT(ledger_tile_path_format(&t, path), LEDGER_EINVAL);
	t = (struct ledger_tile){ 64, 0, 256 };
	CHECK_INT(ledger_tile_path_format(&t, path), LEDGER_EINVAL);
	t = (struct ledger_tile){ -2, 0, 256 };
	CHECK_INT(ledger_tile_path_format(&t, path), LEDGER_EINVAL);
	CHECK_STR(path, "unchanged");
}

static void
test_path_parse_rejects(void)
{
	static const char *bad[] = {
		"",
		"/",
		"tile",
		"tile/",
		"tile/0",
		"tile/0/",
		"tiles/0/000",
		"Tile/0/000",
		"//tile/0/000",
		"tile//0/000",
		" tile/0/000",
		"tile/0/000 ",
		/* level: leading zeros, out of range, signs, not decimal */
		"tile/00/000",
		"tile/01/000",
		"tile/64/000",
		"tile/100/000",
		"tile/-1/000",
		"tile/+1/000",
		"tile/a/000",
		"tile/1x/000",
		"tile/entry/000",
		"tile/entries000",
		"tile/entries/",
		"tile/ENTRIES/000",
		/* index: not three digits per group */
		"tile/0/0",
		"tile/0/00",
		"tile/0/0000",
		"tile/0/1",
		"tile/0/12",
		"tile/0/1234",
		"tile/0/x01/000",
		"tile/0/x0001/000",
		"tile/0/x001/00",
		"tile/0/x001/0000",
		"tile/0/x1/234/067",
		/* index: 'x' missing or misplaced */
		"tile/0/001/234",
		"tile/0/x001/234/067",
		"tile/0/001/x234/067",
		"tile/0/x001/x234/x067",
		"tile/0/x001",
		"tile/0/x001/",
		"tile/0/x001x234/067",
		"tile/0/X001/234",
		"tile/0/xx001/234",
		"tile/0/x",
		"tile/0/x/000",
		/* index: leading all-zero groups */
		"tile/0/x000/000",
		"tile/0/x000/001",
		"tile/0/x000/x001/000",
		"tile/0/x000/x000/000",
		"tile/entries/x000/999",
		/* index: signs, spaces, non-digits */
		"tile/0/-001",
		"tile/0/-1",
		"tile/0/+001",
		"tile/0/ 01",
		"tile/0/0a0",
		"tile/0/x00a/000",
		/* index: above UINT64_MAX */
		"tile/0/x018/x446/x744/x073/x709/x551/616",
		"tile/0/x018/x446/x744/x073/x709/x552/000",
		"tile/0/x019/x000/x000/x000/x000/x000/000",
		"tile/0/x999/x999/x999/x999/x999/x999/999",
		"tile/0/x001/x000/x000/x000/x000/x000/x000/000",
		"tile/entries/x018/x446/x744/x073/x709/x551/616.p/1",
		/* width */
		"tile/0/000.p/0",
		"tile/0/000.p/00",
		"tile/0/000.p/256",
		"tile/0/000.p/999",
		"tile/0/000.p/1000",
		"tile/0/000.p/01",
		"tile/0/000.p/001",
		"tile/0/000.p/010",
		"tile/0/000.p/-1",
		"tile/0/000.p/+1",
		"tile/0/000.p/",
		"tile/0/000.p",
		"tile/0/000.p1",
		"tile/0/000.P/1",
		"tile/0/000.q/1",
		"tile/0/000p/1",
		"tile/0/000/.p/1",
		"tile/0/000.p//1",
		"tile/0/000.p/1/",
		"tile/0/000.p/1.p/1",
		"tile/0/000.p/ 1",
		"tile/entries/000.p/256",
		"tile/entries/000.p/0",
		/* trailing junk */
		"tile/0/000/",
		"tile/0/000x",
		"tile/0/000?",
		"tile/0/000?x=1",
		"tile/0/000#",
		"tile/0/000\n",
		"tile/0/000.p/1\n",
		"tile/0/000.p/1x",
		"tile/0/x001/234/",
		"tile/0/000/000",
		"tile/0/000.json",
	};
	struct ledger_tile t, sentinel;
	size_t i;

	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = sentinel;
		if (ledger_tile_path_parse(bad[i], &t) != LEDGER_EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
			test_failures_++;
		}
		CHECK_MEM(&t, &sentinel, sizeof(t));
	}
}

struct width_case {
	int level;
	uint64_t index;
	uint64_t tree_size;
	unsigned width;
};

static void
test_width_at(void)
{
	static const struct width_case cases[] = {
		{ 0, 0, 0, 0 }, { 1, 0, 0, 0 }, { 2, 0, 0, 0 },
		{ 0, 0, 1, 1 }, { 1, 0, 1, 0 },
		{ 0, 0, 255, 255 }, { 0, 1, 255, 0 }, { 1, 0, 255, 0 },
		{ 2, 0, 255, 0 },
		{ 0, 0, 256, 256 }, { 0, 1, 256, 0 }, { 1, 0, 256, 1 },
		{ 1, 1, 256, 0 }, { 2, 0, 256, 0 },
		{ 0, 0, 257, 256 }, { 0, 1, 257, 1 }, { 0, 2, 257, 0 },
		{ 1, 0, 257, 1 }, { 2, 0, 257, 0 },
		{ 0, 254, 65535, 256 }, { 0, 255, 65535, 255 },
		{ 0, 256, 65535, 0 }, { 1, 0, 65535, 255 }, { 1, 1, 65535, 0 },
		{ 2, 0, 65535, 0 },
		{ 0, 255, 65536, 256 }, { 0, 256, 65536, 0 },
		{ 1, 0, 65536, 256 }, { 1, 1, 65536, 0 }, { 2, 0, 65536, 1 },
		{ 3, 0, 65536, 0 },
		{ 0, 255, 65537, 256 }, { 0, 256, 65537, 1 },
		{ 0, 257, 65537, 0 }, { 1, 0, 65537, 256 }, { 1, 1, 65537, 0 },
		{ 2, 0, 65537, 1 }, { 2, 1, 65537, 0 },
		/* The tlog-tiles example: a tree of size 70,000. */
		{ 0, 272, 70000, 256 }, { 0, 273, 70000, 112 },
		{ 0, 274, 70000, 0 }, { 1, 0, 70000, 256 },
		{ 1, 1, 70000, 17 }, { 1, 2, 70000, 0 }, { 2, 0, 70000, 1 },
		{ 3, 0, 70000, 0 },
		/* Entry bundles follow level 0. */
		{ LEDGER_TILE_LEVEL_ENTRIES, 273, 70000, 112 },
		{ LEDGER_TILE_LEVEL_ENTRIES, 0, 70000, 256 },
		{ LEDGER_TILE_LEVEL_ENTRIES, 274, 70000, 0 },
		/* The 64-bit edges. */
		{ 0, (UINT64_C(1) << 56) - 2, UINT64_MAX, 256 },
		{ 0, (UINT64_C(1) << 56) - 1, UINT64_MAX, 255 },
		{ 0, UINT64_C(1) << 56, UINT64_MAX, 0 },
		{ 0, UINT64_MAX, UINT64_MAX, 0 },
		{ 7, 0, UINT64_MAX, 255 },
		{ 7, 1, UINT64_MAX, 0 },
		{ 8, 0, UINT64_MAX, 0 },
		{ 63, 0, UINT64_MAX, 0 },
		{ 64, 0, UINT64_MAX, 0 },
		{ -2, 0, UINT64_MAX, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct width_case *c = &cases[i];
		unsigned got = ledger_tile_width_at(c->level, c->index,
		    c->tree_size);

		if (got != c->width) {
			fprintf(stderr, "  width_at(%d, %" PRIu64 ", %" PRIu64
			    ") = %u, want %u\n", c->level, c->index,
			    c->tree_size, got, c->width);
			test_failures_++;
		}
	}
}

/* Width is the spec's floor(s / 256^L) mod 256 on the right edge. */
static void
test_width_at_formula(void)
{
	uint64_t s, count;
	int level;

	for (s = 0; s < 70000; s += 37) {
		for (level = 0; level <= 2; level++) {
			count = s >> (8 * level);
			CHECK_INT(ledger_tile_width_at(level, count / 256, s),
			    count % 256);
			if (count >= 256)
				CHECK_INT(ledger_tile_width_at(level,
				    count / 256 - 1, s), 256);
			CHECK_INT(ledger_tile_width_at(level, count / 256 + 1,
			    s), 0);
		}
	}
}

/* MTH(D[0:n]) over leaf hashes, straight from RFC 9162 §2.1.1. */
static void
reference_mth(const uint8_t *leaves, size_t n, uint8_t out[LEDGER_HASH_LEN])
{
	uint8_t left[LEDGER_HASH_LEN], right[LEDGER_HASH_LEN];
	size_t k = 1;

	if (n == 1) {
		memcpy(out, leaves, LEDGER_HASH_LEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	reference_mth(leaves, k, left);
	reference_mth(leaves + k * LEDGER_HASH_LEN, n - k, right);
	ledger_node_hash(left, right, out);
}

#define TREE_SIZE 70000

static uint8_t *tree_leaves;	/* TREE_SIZE leaf hashes */
static struct ledger_memstore *tree_ms;

/* Builds the 70,000-leaf tree of the tlog-tiles example once. */
static int
tree_setup(struct ledger_hash_store *hs)
{
	uint64_t i;
	uint8_t entry[8];
	int j;

	if (tree_ms == NULL) {
		tree_leaves = malloc((size_t)TREE_SIZE * LEDGER_HASH_LEN);
		if (tree_leaves == NULL)
			return -1;
		tree_ms = ledger_memstore_new();
		*hs = ledger_memstore_hash_store(tree_ms);
		for (i = 0; i < TREE_SIZE; i++) {
			for (j = 0; j < 8; j++)
				entry[j] = (uint8_t)(i >> (56 - 8 * j));
			if (ledger_leaf_hash(entry, sizeof(entry),
			    tree_leaves + i * LEDGER_HASH_LEN) != 0 ||
			    ledger_merkle_append(hs, i,
			    tree_leaves + i * LEDGER_HASH_LEN) != 0)
				return -1;
		}
	}
	*hs = ledger_memstore_hash_store(tree_ms);
	return 0;
}

static void
test_hashes_level0(void)
{
	struct ledger_hash_store hs;
	struct ledger_tile t;
	uint8_t *tile = malloc(LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);
	uint64_t n;

	REQUIRE(tile != NULL);
	if (tree_setup(&hs) != 0) {
		free(tile);
		REQUIRE(0);
	}
	for (n = 0; n <= 273; n++) {
		t.level = 0;
		t.index = n;
		t.width = ledger_tile_width_at(0, n, TREE_SIZE);
		CHECK_INT(t.width, n < 273 ? 256 : 112);
		CHECK_INT(ledger_tile_hashes(&hs, &t, tile), 0);
		CHECK_MEM(tile, tree_leaves + n * 256 * LEDGER_HASH_LEN,
		    (size_t)t.width * LEDGER_HASH_LEN);
	}
	/* A partial read of a full tile is its prefix. */
	t = (struct ledger_tile){ 0, 5, 3 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), 0);
	CHECK_MEM(tile, tree_leaves + 5 * 256 * LEDGER_HASH_LEN,
	    3 * LEDGER_HASH_LEN);
	free(tile);
}

static void
test_hashes_level1(void)
{
	struct ledger_hash_store hs;
	struct ledger_tile t;
	uint8_t *tile = malloc(LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);
	uint8_t *lower = malloc(LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);
	uint8_t want[LEDGER_HASH_LEN], root[LEDGER_HASH_LEN];
	uint64_t i;

	if (tile == NULL || lower == NULL || tree_setup(&hs) != 0) {
		free(tile);
		free(lower);
		REQUIRE(0);
	}

	/* Tile 1/000 is full: 256 roots of 256-leaf subtrees. */
	t = (struct ledger_tile){ 1, 0, ledger_tile_width_at(1, 0, TREE_SIZE) };
	CHECK_INT(t.width, 256);
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), 0);
	for (i = 0; i < 256; i++) {
		reference_mth(tree_leaves + i * 256 * LEDGER_HASH_LEN, 256, want);
		CHECK_MEM(tile + i * LEDGER_HASH_LEN, want, LEDGER_HASH_LEN);
	}
	/* The first is the root of the tree of size 256. */
	CHECK_INT(ledger_merkle_root(&hs, 256, root), 0);
	CHECK_MEM(tile, root, LEDGER_HASH_LEN);
	/* Each level-1 hash is the tree hash of the full level-0 tile below. */
	for (i = 0; i < 256; i += 51) {
		struct ledger_tile below = { 0, i, 256 };

		CHECK_INT(ledger_tile_hashes(&hs, &below, lower), 0);
		reference_mth(lower, 256, want);
		CHECK_MEM(tile + i * LEDGER_HASH_LEN, want, LEDGER_HASH_LEN);
	}

	/* Tile 1/001.p/17: subtrees 256..272; the partial 273rd is absent. */
	t = (struct ledger_tile){ 1, 1, ledger_tile_width_at(1, 1, TREE_SIZE) };
	CHECK_INT(t.width, 17);
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), 0);
	for (i = 0; i < 17; i++) {
		reference_mth(tree_leaves + (256 + i) * 256 * LEDGER_HASH_LEN,
		    256, want);
		CHECK_MEM(tile + i * LEDGER_HASH_LEN, want, LEDGER_HASH_LEN);
	}
	t.width = 18;
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ENOTFOUND);
	free(tile);
	free(lower);
}

static void
test_hashes_level2(void)
{
	struct ledger_hash_store hs;
	struct ledger_tile t;
	uint8_t hash[LEDGER_HASH_LEN], want[LEDGER_HASH_LEN];

	REQUIRE(tree_setup(&hs) == 0);
	/* Tile 2/000.p/1: the root of the first 65,536 leaves. */
	t = (struct ledger_tile){ 2, 0, ledger_tile_width_at(2, 0, TREE_SIZE) };
	CHECK_INT(t.width, 1);
	CHECK_INT(ledger_tile_hashes(&hs, &t, hash), 0);
	reference_mth(tree_leaves, 65536, want);
	CHECK_MEM(hash, want, LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_root(&hs, 65536, want), 0);
	CHECK_MEM(hash, want, LEDGER_HASH_LEN);
	t.width = 2;
	CHECK_INT(ledger_tile_hashes(&hs, &t, hash), LEDGER_ENOTFOUND);
}

static void
test_hashes_rejects(void)
{
	struct ledger_hash_store hs;
	struct ledger_tile t;
	uint8_t *tile = malloc(LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);

	if (tile == NULL || tree_setup(&hs) != 0) {
		free(tile);
		REQUIRE(0);
	}
	t = (struct ledger_tile){ LEDGER_TILE_LEVEL_ENTRIES, 0, 256 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_EINVAL);
	t = (struct ledger_tile){ 0, 0, 0 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_EINVAL);
	t = (struct ledger_tile){ 0, 0, 257 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_EINVAL);
	t = (struct ledger_tile){ 64, 0, 1 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_EINVAL);
	t = (struct ledger_tile){ 8, 0, 1 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ERANGE);
	t = (struct ledger_tile){ 0, UINT64_MAX, 256 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ERANGE);
	t = (struct ledger_tile){ 0, UINT64_C(1) << 56, 1 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ERANGE);
	/* The last leaf a 64-bit tree can have is UINT64_MAX - 1. */
	t = (struct ledger_tile){ 0, (UINT64_C(1) << 56) - 1, 256 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ERANGE);
	t = (struct ledger_tile){ 7, 1, 1 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ERANGE);
	/* Well-formed but not stored yet. */
	t = (struct ledger_tile){ 0, 274, 1 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ENOTFOUND);
	t = (struct ledger_tile){ 0, 273, 113 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ENOTFOUND);
	t = (struct ledger_tile){ 3, 0, 1 };
	CHECK_INT(ledger_tile_hashes(&hs, &t, tile), LEDGER_ENOTFOUND);
	free(tile);
}

static void
test_bundle_round_trip(void)
{
	static const size_t lens[] = { 0, 1, 2, 255, 256, 1000, 65535, 0, 3 };
	size_t n = sizeof(lens) / sizeof(lens[0]), cap = 0, used = 0, pos = 0;
	size_t i, j, entry_len;
	const uint8_t *entry;
	uint8_t *buf, *data;

	for (i = 0; i < n; i++)
		cap += 2 + lens[i];
	buf = malloc(cap);
	/* Entry i starts at data + i: room for the longest at any i. */
	data = malloc(65535 + n);
	if (buf == NULL || data == NULL) {
		free(buf);
		free(data);
		REQUIRE(0);
	}
	for (j = 0; j < 65535 + n; j++)
		data[j] = (uint8_t)(j * 31 + 7);

	for (i = 0; i < n; i++)
		CHECK_INT(ledger_bundle_append(buf, cap, &used,
		    lens[i] ? data + i : NULL, lens[i]), 0);
	CHECK_INT(used, cap);
	/* Big-endian length prefixes. */
	CHECK_INT(buf[0], 0);
	CHECK_INT(buf[1], 0);
	CHECK_INT(buf[2], 0);
	CHECK_INT(buf[3], 1);
	CHECK_INT(buf[5], 0);
	CHECK_INT(buf[6], 2);

	for (i = 0; i < n; i++) {
		CHECK_INT(ledger_bundle_next(buf, used, &pos, &entry,
		    &entry_len), 0);
		CHECK_INT(entry_len, lens[i]);
		if (entry_len == lens[i] && lens[i] > 0)
			CHECK_MEM(entry, data + i, lens[i]);
	}
	CHECK_INT(pos, used);
	CHECK_INT(ledger_bundle_next(buf, used, &pos, &entry, &entry_len),
	    LEDGER_ENOTFOUND);
	CHECK_INT(pos, used);

	/* The largest entry has the prefix ff ff. */
	used = 0;
	CHECK_INT(ledger_bundle_append(buf, cap, &used, data, 65535), 0);
	CHECK_INT(used, 65537);
	CHECK_INT(buf[0], 0xff);
	CHECK_INT(buf[1], 0xff);
	free(buf);
	free(data);
}

static void
test_bundle_append_rejects(void)
{
	uint8_t *big = calloc(1, 65536 + 2);
	uint8_t small[8];
	size_t used;

	REQUIRE(big != NULL);
	used = 0;
	CHECK_INT(ledger_bundle_append(big, 65536 + 2, &used, big, 65536),
	    LEDGER_ETOOBIG);
	CHECK_INT(used, 0);
	CHECK_INT(ledger_bundle_append(big, 65536 + 2, &used, big, SIZE_MAX),
	    LEDGER_ETOOBIG);

	/* Exactly full is fine; one byte more is not. */
	memset(small, 0xee, sizeof(small));
	used = 0;
	CHECK_INT(ledger_bundle_append(small, sizeof(small), &used, "abcdef",
	    6), 0);
	CHECK_INT(used, 8);
	used = 0;
	CHECK_INT(ledger_bundle_append(small, sizeof(small), &used, "abcdefg",
	    7), LEDGER_ETOOBIG);
	CHECK_INT(used, 0);
	used = 7;
	CHECK_INT(ledger_bundle_append(small, sizeof(small), &used, NULL, 0),
	    LEDGER_ETOOBIG);
	CHECK_INT(used, 7);
	used = 6;
	CHECK_INT(ledger_bundle_append(small, sizeof(small), &used, NULL, 0),
	    0);
	CHECK_INT(used, 8);
	used = 9;
	CHECK_INT(ledger_bundle_append(small, sizeof(small), &used, NULL, 0),
	    LEDGER_ETOOBIG);
	free(big);
}

static void
test_bundle_truncated(void)
{
	static const size_t lens[] = { 3, 0, 5, 1 };
	uint8_t buf[64];
	size_t bounds[5], nbounds = 0, used = 0, cut, pos, entry_len, i;
	const uint8_t *entry;
	int r, entries;

	bounds[nbounds++] = 0;
	for (i = 0; i < 4; i++) {
		CHECK_INT(ledger_bundle_append(buf, sizeof(buf), &used,
		    "xxxxx", lens[i]), 0);
		bounds[nbounds++] = used;
	}

	/* Every prefix reads whole entries, then ends or is truncated. */
	for (cut = 0; cut <= used; cut++) {
		int at_boundary = 0;

		for (i = 0; i < nbounds; i++)
			if (bounds[i] == cut)
				at_boundary = 1;
		pos = 0;
		entries = 0;
		while ((r = ledger_bundle_next(buf, cut, &pos, &entry,
		    &entry_len)) == 0) {
			CHECK_INT(entry_len, lens[entries]);
			entries++;
		}
		CHECK_INT(r, at_boundary ? LEDGER_ENOTFOUND : LEDGER_EINVAL);
		CHECK_INT(pos, bounds[entries]);
	}

	/* A length prefix larger than what follows. */
	buf[0] = 0xff;
	buf[1] = 0xff;
	buf[2] = 'a';
	pos = 0;
	CHECK_INT(ledger_bundle_next(buf, 3, &pos, &entry, &entry_len),
	    LEDGER_EINVAL);
	CHECK_INT(pos, 0);
	/* One lone byte. */
	CHECK_INT(ledger_bundle_next(buf, 1, &pos, &entry, &entry_len),
	    LEDGER_EINVAL);
	/* A position past the end. */
	pos = 4;
	CHECK_INT(ledger_bundle_next(buf, 3, &pos, &entry, &entry_len),
	    LEDGER_EINVAL);
	CHECK_INT(pos, 4);
	/* An empty bundle has no entries. */
	pos = 0;
	CHECK_INT(ledger_bundle_next(buf, 0, &pos, &entry, &entry_len),
	    LEDGER_ENOTFOUND);
}

int
main(void)
{
	RUN(test_path_known);
	RUN(test_path_many_indexes);
	RUN(test_path_widths);
	RUN(test_path_format_rejects);
	RUN(test_path_parse_rejects);
	RUN(test_width_at);
	RUN(test_width_at_formula);
	RUN(test_hashes_level0);
	RUN(test_hashes_level1);
	RUN(test_hashes_level2);
	RUN(test_hashes_rejects);
	RUN(test_bundle_round_trip);
	RUN(test_bundle_append_rejects);
	RUN(test_bundle_truncated);
	ledger_memstore_free(tree_ms);
	free(tree_leaves);
	return TEST_SUMMARY();
}
