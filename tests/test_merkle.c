/*
 * The Merkle tree against a naive recursive reference written straight from
 * RFC 9162 §2.1: every tree size and index up to 300 for inclusion, every
 * pair of sizes up to 160 for consistency, and single-bit tampering of every
 * input of the verifiers.
 */
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "testlib.h"

#define MAX_LEAVES 300
#define MAX_CONSISTENCY 160
/* Leaves built: enough for the roots of sizes a bit flip reaches from 300. */
#define TREE_LEAVES 1024

typedef uint8_t hash_t[LEDGER_HASH_LEN];

static hash_t leaves[TREE_LEAVES];

/* Reference MTH(D[lo:hi]) by the definition. */
static void
ref_mth(uint64_t lo, uint64_t hi, uint8_t out[LEDGER_HASH_LEN])
{
	hash_t l, r;
	uint64_t k = 1;

	if (hi - lo == 1) {
		memcpy(out, leaves[lo], LEDGER_HASH_LEN);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	ref_mth(lo, lo + k, l);
	ref_mth(lo + k, hi, r);
	ledger_node_hash(l, r, out);
}

/* Reference PATH(m, D[lo:hi]), leaf first. */
static void
ref_path(uint64_t m, uint64_t lo, uint64_t hi, hash_t *out, size_t *n)
{
	uint64_t k = 1;

	if (hi - lo <= 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		ref_path(m, lo, lo + k, out, n);
		ref_mth(lo + k, hi, out[(*n)++]);
	} else {
		ref_path(m - k, lo + k, hi, out, n);
		ref_mth(lo, lo + k, out[(*n)++]);
	}
}

/* Reference SUBPROOF(m, D[lo:hi], b). */
static void
ref_subproof(uint64_t m, uint64_t lo, uint64_t hi, int b, hash_t *out, size_t *n)
{
	uint64_t k = 1;

	if (m == hi - lo) {
		if (!b)
			ref_mth(lo, hi, out[(*n)++]);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	if (m <= k) {
		ref_subproof(m, lo, lo + k, b, out, n);
		ref_mth(lo + k, hi, out[(*n)++]);
	} else {
		ref_subproof(m - k, lo + k, hi, 0, out, n);
		ref_mth(lo, lo + k, out[(*n)++]);
	}
}

static struct ledger_memstore *ms;
static struct ledger_hash_store hs;
static hash_t roots[TREE_LEAVES + 1];

static void
build_tree(void)
{
	char buf[32];

	ms = ledger_memstore_new();
	hs = ledger_memstore_hash_store(ms);
	for (uint64_t i = 0; i < TREE_LEAVES; i++) {
		int len = snprintf(buf, sizeof(buf), "leaf %llu", (unsigned long long)i);
		ledger_leaf_hash(buf, (size_t)len, leaves[i]);
		ledger_merkle_append(&hs, i, leaves[i]);
	}
	ledger_empty_tree_hash(roots[0]);
	for (uint64_t n = 1; n <= TREE_LEAVES; n++)
		ref_mth(0, n, roots[n]);
}

static void
test_empty_tree(void)
{
	static const char sha256_empty_b64[] =
	    "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14\x9a\xfb\xf4\xc8\x99\x6f\xb9\x24"
	    "\x27\xae\x41\xe4\x64\x9b\x93\x4c\xa4\x95\x99\x1b\x78\x52\xb8\x55";
	hash_t root, direct;

	CHECK_INT(ledger_merkle_root(&hs, 0, root), 0);
	CHECK_MEM(root, sha256_empty_b64, LEDGER_HASH_LEN);
	ledger_sha256("", 0, direct);
	CHECK_MEM(root, direct, LEDGER_HASH_LEN);
}

static void
test_leaf_and_node_hash(void)
{
	uint8_t buf[65];
	hash_t a, b, l, r;

	/* Leaf: 0x00 prefix; node: 0x01 prefix (RFC 9162 §2.1.1). */
	buf[0] = 0x00;
	memcpy(buf + 1, "abc", 3);
	ledger_sha256(buf, 4, a);
	ledger_leaf_hash("abc", 3, b);
	CHECK_MEM(a, b, LEDGER_HASH_LEN);
	memset(l, 0x11, sizeof(l));
	memset(r, 0x22, sizeof(r));
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	ledger_sha256(buf, 65, a);
	ledger_node_hash(l, r, b);
	CHECK_MEM(a, b, LEDGER_HASH_LEN);
	ledger_node_hash(l, r, l);	/* output aliasing an input */
	CHECK_MEM(a, l, LEDGER_HASH_LEN);
}

static void
test_roots_match_reference(void)
{
	hash_t root;

	for (uint64_t n = 0; n <= TREE_LEAVES; n++) {
		CHECK_INT(ledger_merkle_root(&hs, n, root), 0);
		CHECK_MEM(root, roots[n], LEDGER_HASH_LEN);
	}
	CHECK_INT(ledger_merkle_root(&hs, TREE_LEAVES + 1, root), LEDGER_ENOTFOUND);
}

/* Valid ranges: a complete aligned subtree, or lo aligned to the split. */
static void
test_subtree_hash_ranges(void)
{
	hash_t h, ref;

	for (uint64_t lo = 0; lo < 64; lo++)
		for (uint64_t hi = lo + 1; hi <= 128; hi++) {
			uint64_t size = hi - lo, k = 1;
			int rc = ledger_merkle_subtree_hash(&hs, lo, hi, h);

			while (k * 2 < size)
				k *= 2;
			if ((size & (size - 1)) == 0)
				k = size;
			if (lo % k == 0) {
				CHECK_INT(rc, 0);
				ref_mth(lo, hi, ref);
				CHECK_MEM(h, ref, LEDGER_HASH_LEN);
			} else {
				CHECK_INT(rc, LEDGER_ERANGE);
			}
		}
	CHECK_INT(ledger_merkle_subtree_hash(&hs, 5, 5, h), LEDGER_ERANGE);
}

static int
verify_inclusion(const hash_t leaf, uint64_t index, uint64_t size,
    hash_t *proof, size_t len, const hash_t root)
{
	return ledger_merkle_verify_inclusion(leaf, index, size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len, root);
}

static void
test_inclusion_exhaustive(void)
{
	hash_t proof[LEDGER_MAX_PROOF], ref[LEDGER_MAX_PROOF], leaf;
	size_t len, ref_len;
	long verified = 0, rejected = 0;

	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		for (uint64_t m = 0; m < n; m++) {
			REQUIRE(ledger_merkle_inclusion_proof(&hs, m, n, proof, &len) == 0);
			ref_len = 0;
			ref_path(m, 0, n, ref, &ref_len);
			CHECK_INT(len, ref_len);
			CHECK_MEM(proof, ref, len * LEDGER_HASH_LEN);
			CHECK_INT(verify_inclusion(leaves[m], m, n, proof, len, roots[n]), 0);
			verified++;

			/* Every proof hash, one bit each (every bit for small trees). */
			for (size_t i = 0; i < len; i++) {
				unsigned bits = n <= 48 ? 256 : 1;
				for (unsigned b = 0; b < bits; b++) {
					unsigned bit = bits == 1 ? (unsigned)((m * 31 + i * 7) % 256) : b;
					proof[i][bit / 8] ^= 1u << (bit % 8);
					if (verify_inclusion(leaves[m], m, n, proof, len, roots[n]) == 0)
						CHECK(!"tampered proof verified");
					rejected++;
					proof[i][bit / 8] ^= 1u << (bit % 8);
				}
			}
			/* The leaf hash, and the root. */
			memcpy(leaf, leaves[m], LEDGER_HASH_LEN);
			leaf[(m + n) % 32] ^= 1u << (m % 8);
			CHECK_INT(verify_inclusion(leaf, m, n, proof, len, roots[n]), LEDGER_EVERIFY);
			memcpy(leaf, roots[n], LEDGER_HASH_LEN);
			leaf[m % 32] ^= 0x80;
			CHECK_INT(verify_inclusion(leaves[m], m, n, proof, len, leaf), LEDGER_EVERIFY);
			/*
			 * Every single-bit change of index and of size.  A size
			 * comes with its root in a checkpoint, so a changed size
			 * is checked against that size's root (the same path
			 * can fit trees of two sizes).  Beyond TREE_LEAVES the
			 * path length alone differs.
			 */
			for (int bit = 0; bit < 64; bit++) {
				uint64_t flip = (uint64_t)1 << bit, n2 = n ^ flip;
				const uint8_t *root2 = n2 <= TREE_LEAVES ? roots[n2] : roots[n];
				if (verify_inclusion(leaves[m], m ^ flip, n, proof, len, roots[n]) == 0)
					CHECK(!"proof verified at another index");
				if (verify_inclusion(leaves[m], m, n2, proof, len, root2) == 0)
					CHECK(!"proof verified at another size");
				rejected += 2;
			}
			/* A path one hash too short or too long. */
			if (len > 0)
				CHECK_INT(verify_inclusion(leaves[m], m, n, proof, len - 1, roots[n]),
				    LEDGER_EVERIFY);
			memcpy(proof[len], roots[n], LEDGER_HASH_LEN);
			CHECK_INT(verify_inclusion(leaves[m], m, n, proof, len + 1, roots[n]),
			    LEDGER_EVERIFY);
		}
		CHECK_INT(ledger_merkle_inclusion_proof(&hs, n, n, proof, &len), LEDGER_ERANGE);
	}
	printf("     %ld inclusion proofs verified, %ld tampered ones rejected\n",
	    verified, rejected);
}

/* Proofs through the right-edge cache equal the plain ones. */
static void
test_inclusion_with_edge(void)
{
	hash_t proof[LEDGER_MAX_PROOF], plain[LEDGER_MAX_PROOF];
	struct ledger_merkle_edge edge;
	size_t len, plain_len;

	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		REQUIRE(ledger_merkle_edge_init(&hs, n, &edge) == 0);
		CHECK_INT(edge.tree_size, n);
		for (uint64_t m = 0; m < n; m++) {
			REQUIRE(ledger_merkle_inclusion_proof_edge(&hs, &edge, m, proof, &len) == 0);
			REQUIRE(ledger_merkle_inclusion_proof(&hs, m, n, plain, &plain_len) == 0);
			CHECK_INT(len, plain_len);
			CHECK_MEM(proof, plain, len * LEDGER_HASH_LEN);
		}
		CHECK_INT(ledger_merkle_inclusion_proof_edge(&hs, &edge, n, proof, &len),
		    LEDGER_ERANGE);
		/* Each cached hash is the subtree hash it claims to be. */
		for (unsigned i = 0; i < edge.count; i++) {
			hash_t ref;
			ref_mth(edge.start[i], n, ref);
			CHECK_MEM(edge.hash[i], ref, LEDGER_HASH_LEN);
		}
	}
}

/* A store that reads through hs and can be told to fail its nth read. */
static long reads, fail_at = -1;

static int
counting_get(void *ctx, unsigned level, uint64_t index,
    uint8_t out[LEDGER_HASH_LEN])
{
	if (reads++ == fail_at)
		return LEDGER_EIO;
	return hs.get(hs.ctx, level, index, out);
}

static const struct ledger_hash_store counting = { counting_get, NULL, NULL };

/* One proof through the memo, checked against the plain proof. */
static void
check_memo_proof(const struct ledger_merkle_edge *edge,
    struct ledger_merkle_path_memo *memo, uint64_t m)
{
	hash_t proof[LEDGER_MAX_PROOF], plain[LEDGER_MAX_PROOF];
	size_t len, plain_len;

	REQUIRE(ledger_merkle_inclusion_proof_memo(&counting, edge, memo, m,
	    proof, &len) == 0);
	REQUIRE(ledger_merkle_inclusion_proof(&hs, m, edge->tree_size, plain,
	    &plain_len) == 0);
	CHECK_INT(len, plain_len);
	CHECK_MEM(proof, plain, len * LEDGER_HASH_LEN);
}

/*
 * Proofs through a path memo equal the plain ones whatever came before:
 * every pair of indexes (the memo holding the first, then proving the
 * second) in every tree size up to 130, runs in increasing and decreasing
 * order, and a memo carried from one tree size to another.
 */
static void
test_inclusion_with_memo(void)
{
	struct ledger_merkle_path_memo memo;
	struct ledger_merkle_edge edge, other;
	long plain_reads = 0, memo_reads;

	for (uint64_t n = 1; n <= 130; n++) {
		REQUIRE(ledger_merkle_edge_init(&hs, n, &edge) == 0);
		for (uint64_t a = 0; a < n; a++) {
			for (uint64_t b = 0; b < n; b++) {
				memset(&memo, 0, sizeof(memo));
				check_memo_proof(&edge, &memo, a);
				check_memo_proof(&edge, &memo, b);
			}
		}
		memset(&memo, 0, sizeof(memo));
		for (uint64_t m = n; m-- > 0;)
			check_memo_proof(&edge, &memo, m);
		/* The memo holds a path of another size: it is not used. */
		if (n > 1) {
			REQUIRE(ledger_merkle_edge_init(&hs, n - 1, &other) == 0);
			check_memo_proof(&other, &memo, 0);
			check_memo_proof(&edge, &memo, 0);
		}
	}
	/* In increasing order the memo saves reads: the top of each path. */
	REQUIRE(ledger_merkle_edge_init(&hs, MAX_LEAVES, &edge) == 0);
	memset(&memo, 0, sizeof(memo));
	for (uint64_t m = 0; m < MAX_LEAVES; m++) {
		hash_t proof[LEDGER_MAX_PROOF];
		size_t len;

		reads = 0;
		REQUIRE(ledger_merkle_inclusion_proof_edge(&counting, &edge, m,
		    proof, &len) == 0);
		plain_reads += reads;
	}
	reads = 0;
	for (uint64_t m = 0; m < MAX_LEAVES; m++)
		check_memo_proof(&edge, &memo, m);
	memo_reads = reads;
	CHECK(memo_reads * 3 < plain_reads);
	printf("     %ld reads for %d proofs in order, %ld without the memo\n",
	    memo_reads, MAX_LEAVES, plain_reads);
}

/* A proof that fails on a read leaves the memo as it was. */
static void
test_memo_after_failed_read(void)
{
	struct ledger_merkle_path_memo memo, before;
	struct ledger_merkle_edge edge;
	hash_t proof[LEDGER_MAX_PROOF];
	size_t len;

	REQUIRE(ledger_merkle_edge_init(&hs, 200, &edge) == 0);
	for (long at = 0; at < 8; at++) {
		memset(&memo, 0, sizeof(memo));
		check_memo_proof(&edge, &memo, 3);
		memcpy(&before, &memo, sizeof(memo));
		reads = 0;
		fail_at = at;
		CHECK_INT(ledger_merkle_inclusion_proof_memo(&counting, &edge,
		    &memo, 150, proof, &len), LEDGER_EIO);
		fail_at = -1;
		CHECK(memcmp(&memo, &before, sizeof(memo)) == 0);
		check_memo_proof(&edge, &memo, 150);
		check_memo_proof(&edge, &memo, 4);
	}
}

static int
verify_consistency(uint64_t m, uint64_t n, const hash_t r1, const hash_t r2,
    hash_t *proof, size_t len)
{
	return ledger_merkle_verify_consistency(m, n, r1, r2,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len);
}

static void
test_consistency_exhaustive(void)
{
	hash_t proof[LEDGER_MAX_PROOF + 1], ref[LEDGER_MAX_PROOF + 1], bad;
	size_t len, ref_len;
	long verified = 0, rejected = 0;

	for (uint64_t n = 1; n <= MAX_CONSISTENCY; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			REQUIRE(ledger_merkle_consistency_proof(&hs, m, n, proof, &len) == 0);
			ref_len = 0;
			if (m < n)
				ref_subproof(m, 0, n, 1, ref, &ref_len);
			CHECK_INT(len, ref_len);
			CHECK_MEM(proof, ref, len * LEDGER_HASH_LEN);
			CHECK_INT(verify_consistency(m, n, roots[m], roots[n], proof, len), 0);
			verified++;

			for (size_t i = 0; i < len; i++) {
				unsigned bit = (unsigned)((m * 13 + n * 3 + i) % 256);
				proof[i][bit / 8] ^= 1u << (bit % 8);
				if (verify_consistency(m, n, roots[m], roots[n], proof, len) == 0)
					CHECK(!"tampered consistency proof verified");
				proof[i][bit / 8] ^= 1u << (bit % 8);
				rejected++;
			}
			memcpy(bad, roots[m], LEDGER_HASH_LEN);
			bad[n % 32] ^= 1;
			CHECK_INT(verify_consistency(m, n, bad, roots[n], proof, len), LEDGER_EVERIFY);
			memcpy(bad, roots[n], LEDGER_HASH_LEN);
			bad[m % 32] ^= 2;
			CHECK_INT(verify_consistency(m, n, roots[m], bad, proof, len), LEDGER_EVERIFY);
			/* Sizes travel with their roots, as for inclusion. */
			for (int bit = 0; bit < 64; bit++) {
				uint64_t flip = (uint64_t)1 << bit, m2 = m ^ flip, n2 = n ^ flip;
				const uint8_t *r1 = m2 <= TREE_LEAVES ? roots[m2] : roots[m];
				const uint8_t *r2 = n2 <= TREE_LEAVES ? roots[n2] : roots[n];
				if (m2 != 0 && verify_consistency(m2, n, r1, roots[n], proof, len) == 0)
					CHECK(!"consistency verified with another old size");
				if (verify_consistency(m, n2, roots[m], r2, proof, len) == 0)
					CHECK(!"consistency verified with another new size");
				rejected += 2;
			}
			if (len > 0)
				CHECK_INT(verify_consistency(m, n, roots[m], roots[n], proof, len - 1),
				    LEDGER_EVERIFY);
			memcpy(proof[len], roots[n], LEDGER_HASH_LEN);
			CHECK_INT(verify_consistency(m, n, roots[m], roots[n], proof, len + 1),
			    LEDGER_EVERIFY);
			/* A fork: the new root of a different tree of the same size. */
			if (m < n)
				CHECK_INT(verify_consistency(m, n, roots[m], roots[n + 1], proof, len),
				    LEDGER_EVERIFY);
		}
		CHECK_INT(ledger_merkle_consistency_proof(&hs, n + 1, n, proof, &len),
		    LEDGER_ERANGE);
	}
	/* Size 0 is consistent with anything, with an empty proof only. */
	CHECK_INT(ledger_merkle_consistency_proof(&hs, 0, 10, proof, &len), 0);
	CHECK_INT(len, 0);
	CHECK_INT(verify_consistency(0, 10, roots[0], roots[10], proof, 0), 0);
	CHECK_INT(verify_consistency(0, 10, roots[0], roots[10], proof, 1), LEDGER_EVERIFY);
	printf("     %ld consistency proofs verified, %ld tampered ones rejected\n",
	    verified, rejected);
}

static void
test_append_stores_complete_subtrees(void)
{
	hash_t h, ref;

	/* Level L index i: root of the 2^L leaves from i * 2^L. */
	for (unsigned level = 0; level <= 8; level++) {
		uint64_t width = (uint64_t)1 << level;
		for (uint64_t i = 0; (i + 1) * width <= TREE_LEAVES; i++) {
			CHECK_INT(hs.get(hs.ctx, level, i, h), 0);
			ref_mth(i * width, (i + 1) * width, ref);
			CHECK_MEM(h, ref, LEDGER_HASH_LEN);
		}
		/* The incomplete right edge is never stored. */
		CHECK_INT(hs.get(hs.ctx, level, TREE_LEAVES / width, h), LEDGER_ENOTFOUND);
	}
}

/* Proof sizes stay logarithmic at sizes far beyond what is stored densely. */
static void
test_large_tree(void)
{
	struct ledger_memstore *big = ledger_memstore_new();
	struct ledger_hash_store bhs = ledger_memstore_hash_store(big);
	hash_t leaf, root, proof[LEDGER_MAX_PROOF];
	const uint64_t n = 100003;
	size_t len;

	for (uint64_t i = 0; i < n; i++) {
		ledger_leaf_hash(&i, sizeof(i), leaf);
		REQUIRE(ledger_merkle_append(&bhs, i, leaf) == 0);
	}
	REQUIRE(ledger_merkle_root(&bhs, n, root) == 0);
	for (uint64_t i = 0; i < n; i += 997) {
		ledger_leaf_hash(&i, sizeof(i), leaf);
		CHECK_INT(ledger_merkle_inclusion_proof(&bhs, i, n, proof, &len), 0);
		CHECK(len <= 17);
		CHECK_INT(verify_inclusion(leaf, i, n, proof, len, root), 0);
	}
	for (uint64_t m = 1; m < n; m = m * 3 + 1) {
		hash_t old_root;
		CHECK_INT(ledger_merkle_root(&bhs, m, old_root), 0);
		CHECK_INT(ledger_merkle_consistency_proof(&bhs, m, n, proof, &len), 0);
		CHECK_INT(verify_consistency(m, n, old_root, root, proof, len), 0);
	}
	ledger_memstore_free(big);
}

int
main(void)
{
	build_tree();
	RUN(test_empty_tree);
	RUN(test_leaf_and_node_hash);
	RUN(test_roots_match_reference);
	RUN(test_subtree_hash_ranges);
	RUN(test_append_stores_complete_subtrees);
	RUN(test_inclusion_exhaustive);
	RUN(test_inclusion_with_edge);
	RUN(test_inclusion_with_memo);
	RUN(test_memo_after_failed_read);
	RUN(test_consistency_exhaustive);
	RUN(test_large_tree);
	ledger_memstore_free(ms);
	return TEST_SUMMARY();
}
