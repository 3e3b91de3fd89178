/*
 * RFC 9162 §2.1 Merkle tree: appends, roots, audit paths and consistency
 * proofs over a store of complete-subtree hashes, and their verification.
 */
#include <string.h>

#include "ledger/error.h"
#include "ledger/merkle.h"

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = (uint64_t)1 << (63 - __builtin_clzll(n - 1));

	return k;
}

static int
is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

int
ledger_merkle_append(const struct ledger_hash_store *store, uint64_t tree_size,
    const uint8_t leaf_hash[LEDGER_HASH_LEN])
{
	uint8_t hash[LEDGER_HASH_LEN], left[LEDGER_HASH_LEN];
	uint64_t index = tree_size;
	unsigned level = 0;
	int rc;

	if ((rc = store->put(store->ctx, 0, index, leaf_hash)) != 0)
		return rc;
	memcpy(hash, leaf_hash, LEDGER_HASH_LEN);
	/* Each odd index completes its parent with the left sibling. */
	while (index & 1) {
		if ((rc = store->get(store->ctx, level, index - 1, left)) != 0)
			return rc;
		if ((rc = ledger_node_hash(left, hash, hash)) != 0)
			return rc;
		index >>= 1;
		level++;
		if ((rc = store->put(store->ctx, level, index, hash)) != 0)
			return rc;
	}
	return LEDGER_OK;
}

int
ledger_merkle_subtree_hash(const struct ledger_hash_store *store,
    uint64_t start, uint64_t end, uint8_t out[LEDGER_HASH_LEN])
{
	uint8_t right[LEDGER_HASH_LEN];
	uint64_t size, k;
	int rc;

	if (end <= start)
		return LEDGER_ERANGE;
	size = end - start;
	if (is_pow2(size)) {
		if (start % size != 0)
			return LEDGER_ERANGE;
		return store->get(store->ctx, __builtin_ctzll(size), start / size, out);
	}
	/*
	 * Walk the right edge iteratively: the left part of each split is a
	 * complete, aligned subtree (one read), the right part recurses.  The
	 * parts are folded from the right, so collect the left hashes first.
	 */
	uint8_t lefts[64][LEDGER_HASH_LEN];
	unsigned n = 0;

	k = split_point(size);
	if (start % k != 0)
		return LEDGER_ERANGE;
	while (!is_pow2(size)) {
		k = split_point(size);
		if ((rc = store->get(store->ctx, __builtin_ctzll(k), start / k,
		    lefts[n])) != 0)
			return rc;
		n++;
		start += k;
		size -= k;
	}
	if ((rc = store->get(store->ctx, __builtin_ctzll(size), start / size,
	    right)) != 0)
		return rc;
	while (n > 0) {
		n--;
		if ((rc = ledger_node_hash(lefts[n], right, right)) != 0)
			return rc;
	}
	memcpy(out, right, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

int
ledger_merkle_root(const struct ledger_hash_store *store, uint64_t tree_size,
    uint8_t root[LEDGER_HASH_LEN])
{
	if (tree_size == 0) {
		ledger_empty_tree_hash(root);
		return LEDGER_OK;
	}
	return ledger_merkle_subtree_hash(store, 0, tree_size, root);
}

/* MTH(D[lo:hi]), from the edge cache when it holds that range. */
static int
range_hash(const struct ledger_hash_store *store,
    const struct ledger_merkle_edge *edge, uint64_t lo, uint64_t hi,
    uint8_t out[LEDGER_HASH_LEN])
{
	if (edge != NULL && hi == edge->tree_size && !is_pow2(hi - lo)) {
		for (unsigned i = 0; i < edge->count; i++) {
			if (edge->start[i] == lo) {
				memcpy(out, edge->hash[i], LEDGER_HASH_LEN);
				return LEDGER_OK;
			}
		}
	}
	return ledger_merkle_subtree_hash(store, lo, hi, out);
}

int
ledger_merkle_edge_init(const struct ledger_hash_store *store,
    uint64_t tree_size, struct ledger_merkle_edge *edge)
{
	uint64_t lo = 0;
	unsigned n = 0;
	int rc;

	/* The right parts [lo + k, tree_size) that RFC 9162's recursion visits. */
	while (tree_size - lo > 1) {
		uint64_t k = split_point(tree_size - lo);

		lo += k;
		if (!is_pow2(tree_size - lo))
			edge->start[n++] = lo;
	}
	edge->tree_size = tree_size;
	edge->count = 0;
	/* Smallest first: each folds a stored left half onto the next one. */
	for (unsigned i = n; i-- > 0;) {
		uint64_t start = edge->start[i];
		uint64_t k = split_point(tree_size - start);
		uint8_t left[LEDGER_HASH_LEN], right[LEDGER_HASH_LEN];

		if ((rc = store->get(store->ctx, __builtin_ctzll(k), start / k, left)) != 0)
			return rc;
		if (i + 1 < n)
			memcpy(right, edge->hash[i + 1], LEDGER_HASH_LEN);
		else if ((rc = ledger_merkle_subtree_hash(store, start + k, tree_size,
		    right)) != 0)
			return rc;
		if ((rc = ledger_node_hash(left, right, edge->hash[i])) != 0)
			return rc;
	}
	edge->count = n;
	return LEDGER_OK;
}

/* Reverses a proof collected root-first: proofs are read from the leaf up. */
static void
reverse_proof(uint8_t proof[][LEDGER_HASH_LEN], size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t tmp[LEDGER_HASH_LEN];

		memcpy(tmp, proof[i], LEDGER_HASH_LEN);
		memcpy(proof[i], proof[n - 1 - i], LEDGER_HASH_LEN);
		memcpy(proof[n - 1 - i], tmp, LEDGER_HASH_LEN);
	}
}

/*
 * RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), unrolled from the top: at each split
 * the sibling of the half holding m joins the path.  With a memo of the
 * previous path in the same tree, the splits both indexes take the same way
 * give the same siblings, which are copied instead of read.
 */
static int
inclusion_proof(const struct ledger_hash_store *store,
    const struct ledger_merkle_edge *edge, struct ledger_merkle_path_memo *memo,
    uint64_t index, uint64_t tree_size, uint8_t proof[][LEDGER_HASH_LEN],
    size_t *len)
{
	uint64_t lo = 0, hi = tree_size;
	int shared = memo != NULL && memo->len > 0 &&
	    memo->tree_size == tree_size;
	size_t n = 0;
	int rc;

	if (index >= tree_size)
		return LEDGER_ERANGE;
	while (hi - lo > 1) {
		uint64_t k = split_point(hi - lo);
		int left = index < lo + k;

		shared = shared && left == (memo->index < lo + k);
		if (shared) {
			memcpy(proof[n], memo->path[n], LEDGER_HASH_LEN);
			rc = LEDGER_OK;
		} else if (left)
			rc = range_hash(store, edge, lo + k, hi, proof[n]);
		else
			rc = range_hash(store, edge, lo, lo + k, proof[n]);
		if (left)
			hi = lo + k;
		else
			lo += k;
		if (rc != 0)
			return rc;
		n++;
	}
	if (memo != NULL) {
		memcpy(memo->path, proof, n * LEDGER_HASH_LEN);
		memo->tree_size = tree_size;
		memo->index = index;
		memo->len = n;
	}
	reverse_proof(proof, n);
	*len = n;
	return LEDGER_OK;
}

int
ledger_merkle_inclusion_proof(const struct ledger_hash_store *store,
    uint64_t index, uint64_t tree_size,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *len)
{
	return inclusion_proof(store, NULL, NULL, index, tree_size, proof, len);
}

int
ledger_merkle_inclusion_proof_edge(const struct ledger_hash_store *store,
    const struct ledger_merkle_edge *edge, uint64_t index,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *len)
{
	return inclusion_proof(store, edge, NULL, index, edge->tree_size, proof,
	    len);
}

int
ledger_merkle_inclusion_proof_memo(const struct ledger_hash_store *store,
    const struct ledger_merkle_edge *edge, struct ledger_merkle_path_memo *memo,
    uint64_t index, uint8_t proof[][LEDGER_HASH_LEN], size_t *len)
{
	return inclusion_proof(store, edge, memo, index, edge->tree_size, proof,
	    len);
}

/*
 * RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b), unrolled: while m falls inside
 * the subtree, descend towards it and record the other half.  When m is the
 * whole remaining subtree, its own hash ends the proof unless it is the old
 * tree itself (b true).
 */
int
ledger_merkle_consistency_proof(const struct ledger_hash_store *store,
    uint64_t old_size, uint64_t new_size,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *len)
{
	uint64_t lo = 0, hi = new_size, m = old_size;
	int complete = 1;
	size_t n = 0;
	int rc;

	if (old_size > new_size)
		return LEDGER_ERANGE;
	*len = 0;
	if (old_size == 0 || old_size == new_size)
		return LEDGER_OK;
	while (m != hi - lo) {
		uint64_t k = split_point(hi - lo);

		if (m <= k) {
			rc = ledger_merkle_subtree_hash(store, lo + k, hi, proof[n]);
			hi = lo + k;
		} else {
			rc = ledger_merkle_subtree_hash(store, lo, lo + k, proof[n]);
			lo += k;
			m -= k;
			complete = 0;
		}
		if (rc != 0)
			return rc;
		n++;
	}
	if (!complete) {
		if ((rc = ledger_merkle_subtree_hash(store, lo, hi, proof[n])) != 0)
			return rc;
		n++;
	}
	reverse_proof(proof, n);
	*len = n;
	return LEDGER_OK;
}

/*
 * The verification step of RFC 9162 §2.1.3.2 and §2.1.4.2 for a node that
 * is the last of its level: it has no right sibling on the levels above
 * until fn's LSB is set (or fn is 0), so shift those levels away.
 */
static void
skip_right_edge(uint64_t *fn, uint64_t *sn)
{
	while (*fn != 0 && !(*fn & 1)) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

/* RFC 9162 §2.1.3.2 */
int
ledger_merkle_root_from_inclusion(const uint8_t leaf_hash[LEDGER_HASH_LEN],
    uint64_t index, uint64_t tree_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t len,
    uint8_t root[LEDGER_HASH_LEN])
{
	uint64_t fn = index, sn = tree_size - 1;
	uint8_t r[LEDGER_HASH_LEN];
	int rc;

	if (index >= tree_size)
		return LEDGER_EVERIFY;
	memcpy(r, leaf_hash, LEDGER_HASH_LEN);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return LEDGER_EVERIFY;
		if ((fn & 1) || fn == sn) {
			if ((rc = ledger_node_hash(proof[i], r, r)) != 0)
				return rc;
			skip_right_edge(&fn, &sn);
		} else {
			if ((rc = ledger_node_hash(r, proof[i], r)) != 0)
				return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return LEDGER_EVERIFY;
	memcpy(root, r, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

int
ledger_merkle_verify_inclusion(const uint8_t leaf_hash[LEDGER_HASH_LEN],
    uint64_t index, uint64_t tree_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t len,
    const uint8_t root[LEDGER_HASH_LEN])
{
	uint8_t computed[LEDGER_HASH_LEN];
	int rc;

	rc = ledger_merkle_root_from_inclusion(leaf_hash, index, tree_size,
	    proof, len, computed);
	if (rc != 0)
		return rc;
	return memcmp(computed, root, LEDGER_HASH_LEN) == 0 ? LEDGER_OK :
	    LEDGER_EVERIFY;
}

/* RFC 9162 §2.1.4.2 */
int
ledger_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[LEDGER_HASH_LEN],
    const uint8_t new_root[LEDGER_HASH_LEN],
    const uint8_t proof[][LEDGER_HASH_LEN], size_t len)
{
	uint8_t fr[LEDGER_HASH_LEN], sr[LEDGER_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;
	int rc;

	if (old_size > new_size)
		return LEDGER_EVERIFY;
	if (old_size == 0)
		return len == 0 ? LEDGER_OK : LEDGER_EVERIFY;
	if (old_size == new_size) {
		if (len != 0)
			return LEDGER_EVERIFY;
		return memcmp(old_root, new_root, LEDGER_HASH_LEN) == 0 ?
		    LEDGER_OK : LEDGER_EVERIFY;
	}
	if (len == 0)
		return LEDGER_EVERIFY;
	/* A power-of-two old tree is itself the first node of the path. */
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {	/* right-shift while LSB(fn) is set */
		fn >>= 1;
		sn >>= 1;
	}
	if (is_pow2(old_size)) {
		memcpy(fr, old_root, LEDGER_HASH_LEN);
		memcpy(sr, old_root, LEDGER_HASH_LEN);
	} else {
		memcpy(fr, proof[0], LEDGER_HASH_LEN);
		memcpy(sr, proof[0], LEDGER_HASH_LEN);
		i = 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return LEDGER_EVERIFY;
		if ((fn & 1) || fn == sn) {
			if ((rc = ledger_node_hash(proof[i], fr, fr)) != 0)
				return rc;
			if ((rc = ledger_node_hash(proof[i], sr, sr)) != 0)
				return rc;
			skip_right_edge(&fn, &sn);
		} else {
			if ((rc = ledger_node_hash(sr, proof[i], sr)) != 0)
				return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return LEDGER_EVERIFY;
	if (memcmp(fr, old_root, LEDGER_HASH_LEN) != 0 ||
	    memcmp(sr, new_root, LEDGER_HASH_LEN) != 0)
		return LEDGER_EVERIFY;
	return LEDGER_OK;
}
