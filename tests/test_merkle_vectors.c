/*
 * The RFC 6962 reference vectors shared by the Certificate Transparency and
 * transparency-dev Merkle tree implementations: eight leaf inputs, the roots
 * of the trees of size 0..8, the hashes of every complete subtree, and the
 * inclusion and consistency proofs those implementations test against.
 */
#include <stdint.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "testlib.h"

#define NLEAVES 8

static const char *leaf_inputs[NLEAVES] = {
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

/* Root of the tree of the first n leaves, n = 0..8. */
static const char *roots_hex[NLEAVES + 1] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Hash of the complete subtree (level, index) of the 8-leaf tree. */
static const char *node_hex[4][NLEAVES] = {
	{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
		"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
	}, {
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	}, {
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	}, {
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	},
};

#define MAX_VECTOR_PROOF 4

/* Proofs listed as hashes (index is 0-based). */
struct inclusion_vector {
	uint64_t index, tree_size;
	size_t len;
	const char *proof[MAX_VECTOR_PROOF];
};

static const struct inclusion_vector inclusion_vectors[] = {
	{ 0, 1, 0, { NULL } },
	{ 0, 8, 3, {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	} },
	{ 5, 8, 3, {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	} },
	{ 2, 3, 1, {
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	} },
	{ 1, 5, 3, {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	} },
};

struct consistency_vector {
	uint64_t old_size, new_size;
	size_t len;
	const char *proof[MAX_VECTOR_PROOF];
};

static const struct consistency_vector consistency_vectors[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3, {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	} },
	{ 6, 8, 3, {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	} },
	{ 2, 5, 2, {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	} },
	{ 6, 7, 3, {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	} },
};

/*
 * Proofs listed as the subtrees they consist of, in the tree
 *
 *                hash
 *               /    \
 *              k      l            level 2 (l of size 7 = hash(i, j))
 *             / \    / \
 *            g   h  i   [ ]        level 1
 *           / \ / \ / \  /
 *           a b c d e f j          level 0
 *
 * R7 stands for the right subtree l of the tree of size 7.
 */
struct node_ref {
	int level;	/* -1 for R7 */
	int index;
};

#define N(l, i) { (l), (i) }
#define R7 { -1, 0 }

struct inclusion_nodes {
	uint64_t index, tree_size;
	size_t len;
	struct node_ref nodes[MAX_VECTOR_PROOF];
};

static const struct inclusion_nodes inclusion_node_vectors[] = {
	{ 0, 1, 0, { N(0, 0) } },
	{ 0, 2, 1, { N(0, 1) } },
	{ 1, 2, 1, { N(0, 0) } },
	{ 1, 3, 2, { N(0, 0), N(0, 2) } },
	{ 0, 7, 3, { N(0, 1), N(1, 1), R7 } },
	{ 1, 7, 3, { N(0, 0), N(1, 1), R7 } },
	{ 2, 7, 3, { N(0, 3), N(1, 0), R7 } },
	{ 3, 7, 3, { N(0, 2), N(1, 0), R7 } },
	{ 4, 7, 3, { N(0, 5), N(0, 6), N(2, 0) } },
	{ 5, 7, 3, { N(0, 4), N(0, 6), N(2, 0) } },
	{ 6, 7, 2, { N(1, 2), N(2, 0) } },
	{ 2, 4, 2, { N(0, 3), N(1, 0) } },
	{ 3, 5, 3, { N(0, 2), N(1, 0), N(0, 4) } },
	{ 3, 6, 3, { N(0, 2), N(1, 0), N(1, 2) } },
	{ 4, 6, 2, { N(0, 5), N(2, 0) } },
};

struct consistency_nodes {
	uint64_t old_size, new_size;
	size_t len;
	struct node_ref nodes[MAX_VECTOR_PROOF];
};

static const struct consistency_nodes consistency_node_vectors[] = {
	{ 1, 2, 1, { N(0, 1) } },
	{ 1, 4, 2, { N(0, 1), N(1, 1) } },
	{ 1, 6, 3, { N(0, 1), N(1, 1), N(1, 2) } },
	{ 2, 3, 1, { N(0, 2) } },
	{ 2, 8, 2, { N(1, 1), N(2, 1) } },
	{ 3, 7, 4, { N(0, 2), N(0, 3), N(1, 0), R7 } },
	{ 4, 7, 1, { R7 } },
	{ 5, 7, 4, { N(0, 4), N(0, 5), N(0, 6), N(2, 0) } },
	{ 6, 7, 3, { N(1, 2), N(0, 6), N(2, 0) } },
	{ 7, 8, 4, { N(0, 6), N(0, 7), N(1, 2), N(2, 0) } },
	{ 1, 1, 0, { N(0, 0) } },
	{ 2, 2, 0, { N(0, 0) } },
	{ 3, 3, 0, { N(0, 0) } },
	{ 4, 4, 0, { N(0, 0) } },
	{ 5, 5, 0, { N(0, 0) } },
	{ 7, 7, 0, { N(0, 0) } },
	{ 8, 8, 0, { N(0, 0) } },
	{ 2, 4, 1, { N(1, 1) } },
	{ 3, 5, 4, { N(0, 2), N(0, 3), N(1, 0), N(0, 4) } },
	{ 3, 6, 4, { N(0, 2), N(0, 3), N(1, 0), N(1, 2) } },
	{ 4, 6, 1, { N(1, 2) } },
	{ 1, 7, 3, { N(0, 1), N(1, 1), R7 } },
};

static struct ledger_memstore *ms;
static struct ledger_hash_store store;
static uint8_t leaf_hashes[NLEAVES][LEDGER_HASH_LEN];
static uint8_t roots[NLEAVES + 1][LEDGER_HASH_LEN];
static uint8_t nodes[4][NLEAVES][LEDGER_HASH_LEN];
static uint8_t r7[LEDGER_HASH_LEN];
static int setup_failed;

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes lowercase hex; returns the byte count or -1. */
static int
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex), i;
	int hi, lo;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = hex_value(hex[2 * i]);
		lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

static void
unhex_hash(const char *hex, uint8_t out[LEDGER_HASH_LEN])
{
	if (unhex(hex, out, LEDGER_HASH_LEN) != LEDGER_HASH_LEN)
		setup_failed = 1;
}

/* Decodes the tables and appends the eight leaves to an in-memory tree. */
static void
setup(void)
{
	uint8_t input[16];
	int i, level, len;

	for (i = 0; i <= NLEAVES; i++)
		unhex_hash(roots_hex[i], roots[i]);
	for (level = 0; level < 4; level++)
		for (i = 0; i < NLEAVES >> level; i++)
			unhex_hash(node_hex[level][i], nodes[level][i]);
	if (ledger_node_hash(nodes[1][2], nodes[0][6], r7) != 0)
		setup_failed = 1;

	ms = ledger_memstore_new();
	store = ledger_memstore_hash_store(ms);
	for (i = 0; i < NLEAVES; i++) {
		len = unhex(leaf_inputs[i], input, sizeof(input));
		if (len < 0 ||
		    ledger_leaf_hash(input, (size_t)len, leaf_hashes[i]) != 0 ||
		    ledger_merkle_append(&store, (uint64_t)i, leaf_hashes[i]) != 0)
			setup_failed = 1;
	}
}

static void
test_setup(void)
{
	CHECK(!setup_failed);
}

static void
test_empty_tree(void)
{
	uint8_t root[LEDGER_HASH_LEN], sha_empty[LEDGER_HASH_LEN];

	ledger_empty_tree_hash(root);
	CHECK_MEM(root, roots[0], LEDGER_HASH_LEN);
	CHECK_INT(ledger_sha256(NULL, 0, sha_empty), 0);
	CHECK_MEM(sha_empty, roots[0], LEDGER_HASH_LEN);

	/* The root of size 0 comes from any store, even an empty one. */
	memset(root, 0, sizeof(root));
	CHECK_INT(ledger_merkle_root(&store, 0, root), 0);
	CHECK_MEM(root, roots[0], LEDGER_HASH_LEN);
}

static void
test_leaf_hashes(void)
{
	int i;

	/* Level 0 of the subtree table is the leaf hashes. */
	for (i = 0; i < NLEAVES; i++)
		CHECK_MEM(leaf_hashes[i], nodes[0][i], LEDGER_HASH_LEN);
}

static void
test_roots(void)
{
	uint8_t root[LEDGER_HASH_LEN];
	uint64_t n;

	for (n = 1; n <= NLEAVES; n++) {
		memset(root, 0, sizeof(root));
		CHECK_INT(ledger_merkle_root(&store, n, root), 0);
		if (memcmp(root, roots[n], LEDGER_HASH_LEN) != 0) {
			fprintf(stderr, "  root of size %" PRIu64 " differs\n", n);
			test_failures_++;
		}
	}
	/* The store holds 8 leaves: size 9 is not there. */
	CHECK_INT(ledger_merkle_root(&store, 9, root), LEDGER_ENOTFOUND);
}

static void
test_subtree_hashes(void)
{
	uint8_t hash[LEDGER_HASH_LEN];
	uint64_t width;
	int level, i;

	for (level = 0; level < 4; level++) {
		width = UINT64_C(1) << level;
		for (i = 0; i < NLEAVES >> level; i++) {
			CHECK_INT(ledger_merkle_subtree_hash(&store,
			    (uint64_t)i * width, (uint64_t)(i + 1) * width,
			    hash), 0);
			CHECK_MEM(hash, nodes[level][i], LEDGER_HASH_LEN);
		}
	}
	/* l of the tree of size 7 is MTH(D[4:7]). */
	CHECK_INT(ledger_merkle_subtree_hash(&store, 4, 7, hash), 0);
	CHECK_MEM(hash, r7, LEDGER_HASH_LEN);
}

/*
 * Checks that the tree produces exactly want for (index, tree_size), that
 * want verifies, and that the corruptions the reference test suites try are
 * all refused.
 */
static void
check_inclusion(uint64_t index, uint64_t tree_size,
    uint8_t want[][LEDGER_HASH_LEN], size_t len)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t bad[MAX_VECTOR_PROOF + 1][LEDGER_HASH_LEN];
	uint8_t root[LEDGER_HASH_LEN], other[LEDGER_HASH_LEN];
	const uint8_t *leaf = leaf_hashes[index];
	const uint8_t *tree_root = roots[tree_size];
	size_t got_len = 99, i;

	CHECK_INT(ledger_merkle_inclusion_proof(&store, index, tree_size,
	    proof, &got_len), 0);
	CHECK_INT(got_len, len);
	if (got_len == len && len > 0 &&
	    memcmp(proof, want, len * LEDGER_HASH_LEN) != 0) {
		fprintf(stderr, "  inclusion proof of %" PRIu64 " in %" PRIu64
		    " differs\n", index, tree_size);
		test_failures_++;
	}

	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index, tree_size,
	    want, len, tree_root), 0);
	memset(root, 0, sizeof(root));
	CHECK_INT(ledger_merkle_root_from_inclusion(leaf, index, tree_size,
	    want, len, root), 0);
	CHECK_MEM(root, tree_root, LEDGER_HASH_LEN);

	/* Wrong index or tree size. */
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index - 1, tree_size,
	    want, len, tree_root), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index + 1, tree_size,
	    want, len, tree_root), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index ^ 2, tree_size,
	    want, len, tree_root), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index, tree_size * 2,
	    want, len, tree_root), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index, tree_size / 2,
	    want, len, tree_root), LEDGER_EVERIFY);
	/* Wrong leaf or root. */
	memcpy(other, leaf, LEDGER_HASH_LEN);
	other[0] ^= 1;
	CHECK_INT(ledger_merkle_verify_inclusion(other, index, tree_size,
	    want, len, tree_root), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index, tree_size,
	    want, len, roots[0]), LEDGER_EVERIFY);
	/* A hash added at the end or the front. */
	memcpy(bad, want, len * LEDGER_HASH_LEN);
	memcpy(bad[len], tree_root, LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index, tree_size,
	    bad, len + 1, tree_root), LEDGER_EVERIFY);
	memcpy(bad[0], tree_root, LEDGER_HASH_LEN);
	memcpy(bad[1], want, len * LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, index, tree_size,
	    bad, len + 1, tree_root), LEDGER_EVERIFY);
	/* A hash removed, or one bit flipped in any hash. */
	if (len > 0)
		CHECK_INT(ledger_merkle_verify_inclusion(leaf, index,
		    tree_size, want, len - 1, tree_root), LEDGER_EVERIFY);
	for (i = 0; i < len; i++) {
		memcpy(bad, want, len * LEDGER_HASH_LEN);
		bad[i][0] ^= 8;
		CHECK_INT(ledger_merkle_verify_inclusion(leaf, index,
		    tree_size, bad, len, tree_root), LEDGER_EVERIFY);
	}
}

static void
check_consistency(uint64_t old_size, uint64_t new_size,
    uint8_t want[][LEDGER_HASH_LEN], size_t len)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t bad[MAX_VECTOR_PROOF + 1][LEDGER_HASH_LEN];
	uint8_t wrong[LEDGER_HASH_LEN];
	const uint8_t *old_root = roots[old_size], *new_root = roots[new_size];
	size_t got_len = 99, i;

	CHECK_INT(ledger_merkle_consistency_proof(&store, old_size, new_size,
	    proof, &got_len), 0);
	CHECK_INT(got_len, len);
	if (got_len == len && len > 0 &&
	    memcmp(proof, want, len * LEDGER_HASH_LEN) != 0) {
		fprintf(stderr, "  consistency proof %" PRIu64 " -> %" PRIu64
		    " differs\n", old_size, new_size);
		test_failures_++;
	}

	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, want, len), 0);
	/* The corruptions below only make sense for a non-trivial proof. */
	if (len == 0)
		return;

	CHECK_INT(ledger_merkle_verify_consistency(old_size - 1, new_size,
	    old_root, new_root, want, len), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size + 1, new_size,
	    old_root, new_root, want, len), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size ^ 2, new_size,
	    old_root, new_root, want, len), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size * 2,
	    old_root, new_root, want, len), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size / 2,
	    old_root, new_root, want, len), LEDGER_EVERIFY);
	memcpy(wrong, old_root, LEDGER_HASH_LEN);
	wrong[31] ^= 1;
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    wrong, new_root, want, len), LEDGER_EVERIFY);
	memcpy(wrong, new_root, LEDGER_HASH_LEN);
	wrong[31] ^= 1;
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, wrong, want, len), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    new_root, old_root, want, len), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, want, 0), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, want, len - 1), LEDGER_EVERIFY);

	/* Hashes added at the end or the front. */
	memcpy(bad, want, len * LEDGER_HASH_LEN);
	memcpy(bad[len], old_root, LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, bad, len + 1), LEDGER_EVERIFY);
	memcpy(bad[len], new_root, LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, bad, len + 1), LEDGER_EVERIFY);
	memcpy(bad[1], want, len * LEDGER_HASH_LEN);
	memcpy(bad[0], old_root, LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, bad, len + 1), LEDGER_EVERIFY);
	memcpy(bad[0], new_root, LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, bad, len + 1), LEDGER_EVERIFY);
	memcpy(bad[0], want[0], LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
	    old_root, new_root, bad, len + 1), LEDGER_EVERIFY);

	for (i = 0; i < len; i++) {
		memcpy(bad, want, len * LEDGER_HASH_LEN);
		bad[i][0] ^= 16;
		CHECK_INT(ledger_merkle_verify_consistency(old_size, new_size,
		    old_root, new_root, bad, len), LEDGER_EVERIFY);
	}
}

static void
test_inclusion_vectors(void)
{
	uint8_t want[MAX_VECTOR_PROOF][LEDGER_HASH_LEN];
	size_t v, i;

	for (v = 0; v < sizeof(inclusion_vectors) /
	    sizeof(inclusion_vectors[0]); v++) {
		const struct inclusion_vector *iv = &inclusion_vectors[v];

		for (i = 0; i < iv->len; i++)
			REQUIRE(unhex(iv->proof[i], want[i], LEDGER_HASH_LEN) ==
			    LEDGER_HASH_LEN);
		check_inclusion(iv->index, iv->tree_size, want, iv->len);
	}
}

static void
test_consistency_vectors(void)
{
	uint8_t want[MAX_VECTOR_PROOF][LEDGER_HASH_LEN];
	size_t v, i;

	for (v = 0; v < sizeof(consistency_vectors) /
	    sizeof(consistency_vectors[0]); v++) {
		const struct consistency_vector *cv = &consistency_vectors[v];

		for (i = 0; i < cv->len; i++)
			REQUIRE(unhex(cv->proof[i], want[i], LEDGER_HASH_LEN) ==
			    LEDGER_HASH_LEN);
		check_consistency(cv->old_size, cv->new_size, want, cv->len);
	}
}

static void
resolve(const struct node_ref *refs, size_t len,
    uint8_t out[][LEDGER_HASH_LEN])
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (refs[i].level < 0)
			memcpy(out[i], r7, LEDGER_HASH_LEN);
		else
			memcpy(out[i], nodes[refs[i].level][refs[i].index],
			    LEDGER_HASH_LEN);
	}
}

static void
test_inclusion_node_vectors(void)
{
	uint8_t want[MAX_VECTOR_PROOF][LEDGER_HASH_LEN];
	size_t v;

	for (v = 0; v < sizeof(inclusion_node_vectors) /
	    sizeof(inclusion_node_vectors[0]); v++) {
		const struct inclusion_nodes *in = &inclusion_node_vectors[v];

		resolve(in->nodes, in->len, want);
		check_inclusion(in->index, in->tree_size, want, in->len);
	}
}

static void
test_consistency_node_vectors(void)
{
	uint8_t want[MAX_VECTOR_PROOF][LEDGER_HASH_LEN];
	size_t v;

	for (v = 0; v < sizeof(consistency_node_vectors) /
	    sizeof(consistency_node_vectors[0]); v++) {
		const struct consistency_nodes *cn = &consistency_node_vectors[v];

		resolve(cn->nodes, cn->len, want);
		check_consistency(cn->old_size, cn->new_size, want, cn->len);
	}
}

/* Every (index, size) and (old, new) pair of the 8-leaf tree verifies. */
static void
test_all_pairs(void)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint64_t m, n;
	size_t len;

	for (n = 1; n <= NLEAVES; n++) {
		for (m = 0; m < n; m++) {
			CHECK_INT(ledger_merkle_inclusion_proof(&store, m, n,
			    proof, &len), 0);
			CHECK_INT(ledger_merkle_verify_inclusion(leaf_hashes[m],
			    m, n, proof, len, roots[n]), 0);
		}
	}
	for (n = 0; n <= NLEAVES; n++) {
		for (m = 0; m <= n; m++) {
			CHECK_INT(ledger_merkle_consistency_proof(&store, m, n,
			    proof, &len), 0);
			if (m == 0 || m == n)
				CHECK_INT(len, 0);
			CHECK_INT(ledger_merkle_verify_consistency(m, n,
			    roots[m], roots[n], proof, len), 0);
		}
	}
}

static void
test_bad_parameters(void)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t some[LEDGER_HASH_LEN];
	size_t len;
	int i;
	static const uint64_t probes[][2] = {
		{ 0, 0 }, { 0, 1 }, { 1, 0 }, { 2, 1 },
	};

	/* Proofs asked for outside the tree. */
	CHECK_INT(ledger_merkle_inclusion_proof(&store, 0, 0, proof, &len),
	    LEDGER_ERANGE);
	CHECK_INT(ledger_merkle_inclusion_proof(&store, 2, 1, proof, &len),
	    LEDGER_ERANGE);
	CHECK_INT(ledger_merkle_inclusion_proof(&store, 8, 7, proof, &len),
	    LEDGER_ERANGE);
	CHECK_INT(ledger_merkle_consistency_proof(&store, 5, 0, proof, &len),
	    LEDGER_ERANGE);
	CHECK_INT(ledger_merkle_consistency_proof(&store, 9, 8, proof, &len),
	    LEDGER_ERANGE);

	/* An empty path proves nothing but a one-leaf tree's own root. */
	memset(some, 0xab, sizeof(some));
	for (i = 0; i < 4; i++)
		CHECK_INT(ledger_merkle_verify_inclusion(some, probes[i][0],
		    probes[i][1], proof, 0, roots[0]), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_inclusion(some, 0, 1, proof, 0, some),
	    0);

	/* Sizes that are always consistent, and those never. */
	CHECK_INT(ledger_merkle_verify_consistency(0, 0, roots[0], roots[0],
	    proof, 0), 0);
	CHECK_INT(ledger_merkle_verify_consistency(0, 1, some, roots[1],
	    proof, 0), 0);
	CHECK_INT(ledger_merkle_verify_consistency(1, 1, roots[1], roots[1],
	    proof, 0), 0);
	CHECK_INT(ledger_merkle_verify_consistency(1, 1, roots[1], roots[2],
	    proof, 0), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(1, 0, roots[1], roots[0],
	    proof, 0), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(2, 1, roots[2], roots[1],
	    proof, 0), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(1, 2, roots[1], roots[2],
	    proof, 0), LEDGER_EVERIFY);
	/* Equal or empty trees with a proof that should have been empty. */
	memcpy(proof[0], roots[0], LEDGER_HASH_LEN);
	CHECK_INT(ledger_merkle_verify_consistency(0, 0, roots[0], roots[0],
	    proof, 1), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(0, 1, roots[0], roots[1],
	    proof, 1), LEDGER_EVERIFY);
	CHECK_INT(ledger_merkle_verify_consistency(1, 1, roots[1], roots[1],
	    proof, 1), LEDGER_EVERIFY);
}

int
main(void)
{
	int rc;

	setup();
	RUN(test_setup);
	RUN(test_empty_tree);
	RUN(test_leaf_hashes);
	RUN(test_roots);
	RUN(test_subtree_hashes);
	RUN(test_inclusion_vectors);
	RUN(test_consistency_vectors);
	RUN(test_inclusion_node_vectors);
	RUN(test_consistency_node_vectors);
	RUN(test_all_pairs);
	RUN(test_bad_parameters);
	rc = TEST_SUMMARY();
	ledger_memstore_free(ms);
	return rc;
}
