/*
 * RFC 9162 §2.1 Merkle tree over a hash store.
 *
 * The store keeps the hash of every complete subtree: at level L, index i,
 * the root of the 2^L leaves starting at leaf i * 2^L (level 0 holds the leaf
 * hashes; these are also the tlog-tiles hashes).  With them any root, audit
 * path or consistency proof costs O(log n) store reads, and an append
 * computes on average one node hash.
 */
#ifndef LEDGER_MERKLE_H
#define LEDGER_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

/* Longest proof for trees of up to 2^64 - 1 leaves. */
#define LEDGER_MAX_PROOF 64

/*
 * A hash store: callbacks the tree reads and writes complete-subtree hashes
 * through.  Each returns 0, LEDGER_ENOTFOUND for a hash never stored, or
 * another negative code, which the tree passes back to its caller unchanged.
 */
struct ledger_hash_store {
	int (*get)(void *ctx, unsigned level, uint64_t index,
	    uint8_t out[LEDGER_HASH_LEN]);
	int (*put)(void *ctx, unsigned level, uint64_t index,
	    const uint8_t hash[LEDGER_HASH_LEN]);
	void *ctx;
};

/*
 * ledger_merkle_append - add a leaf to a tree of tree_size leaves: stores
 * its hash at (0, tree_size) and the hash of every subtree it completes.
 *	store		in: the hash store of the tree
 *	tree_size	in: the number of leaves before the append
 *	leaf_hash	in: ledger_leaf_hash() of the entry
 * Returns 0, LEDGER_ECRYPTO, or a store error.  The caller keeps tree_size.
 */
int ledger_merkle_append(const struct ledger_hash_store *store,
    uint64_t tree_size, const uint8_t leaf_hash[LEDGER_HASH_LEN]);

/*
 * ledger_merkle_root - root hash of the tree of the first tree_size leaves
 * (the empty-tree hash for 0).
 * Returns 0, LEDGER_ECRYPTO, or a store error (LEDGER_ENOTFOUND when the
 * store holds fewer than tree_size leaves).
 */
int ledger_merkle_root(const struct ledger_hash_store *store,
    uint64_t tree_size, uint8_t root[LEDGER_HASH_LEN]);

/*
 * ledger_merkle_subtree_hash - MTH(D[start:end]) for any 0 <= start < end
 * with start a multiple of the largest power of two < end - start (the
 * subtrees RFC 9162's recursions visit).
 * Returns 0, LEDGER_ERANGE for other ranges, LEDGER_ECRYPTO or a store error.
 */
int ledger_merkle_subtree_hash(const struct ledger_hash_store *store,
    uint64_t start, uint64_t end, uint8_t out[LEDGER_HASH_LEN]);

/*
 * ledger_merkle_inclusion_proof - RFC 9162 §2.1.3.1 audit path of leaf
 * index in the tree of tree_size leaves, from the leaf upward.
 *	proof	out: up to LEDGER_MAX_PROOF hashes
 *	len	out: how many were written
 * Returns 0, LEDGER_ERANGE unless index < tree_size, LEDGER_ECRYPTO or a
 * store error.
 */
int ledger_merkle_inclusion_proof(const struct ledger_hash_store *store,
    uint64_t index, uint64_t tree_size,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *len);

/*
 * The incomplete subtrees on the right edge of one tree size, hashed once.
 * Every proof in a tree of that size needs at most one of them, and computing
 * it costs up to log n node hashes: many proofs against one checkpoint (a
 * provenance answer, a benchmark) share the work through this.  Plain data;
 * valid for as long as the store holds the tree (an append-only store always
 * does).
 */
struct ledger_merkle_edge {
	uint64_t tree_size;
	unsigned count;
	uint64_t start[LEDGER_MAX_PROOF];	/* MTH(D[start[i]:tree_size]) */
	uint8_t hash[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
};

/*
 * ledger_merkle_edge_init - hashes the right edge of the tree of tree_size
 * leaves.  Returns 0, LEDGER_ECRYPTO or a store error.
 */
int ledger_merkle_edge_init(const struct ledger_hash_store *store,
    uint64_t tree_size, struct ledger_merkle_edge *edge);

/*
 * ledger_merkle_inclusion_proof_edge - as ledger_merkle_inclusion_proof, in
 * the tree of edge->tree_size leaves, reading the right edge from edge: a
 * proof then costs only store reads.
 */
int ledger_merkle_inclusion_proof_edge(const struct ledger_hash_store *store,
    const struct ledger_merkle_edge *edge, uint64_t index,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *len);

/*
 * The path of the last proof made through it, root first.  Two leaves'
 * paths are the same from the root down to where the leaves part, so
 * proofs of nearby leaves, or of leaves in increasing order (the lineage
 * of a document, a subject's timeline), share their top hashes: those are
 * copied from the memo instead of read from the store.  Zero it before
 * the first proof; it notes the tree size it holds a path of.
 */
struct ledger_merkle_path_memo {
	uint64_t tree_size;
	uint64_t index;
	size_t len;				/* 0: nothing held */
	uint8_t path[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
};

/*
 * ledger_merkle_inclusion_proof_memo - as ledger_merkle_inclusion_proof_edge,
 * taking what it can from the previous path in memo and leaving its own
 * there.  A failed proof leaves the memo as it was.
 */
int ledger_merkle_inclusion_proof_memo(const struct ledger_hash_store *store,
    const struct ledger_merkle_edge *edge, struct ledger_merkle_path_memo *memo,
    uint64_t index, uint8_t proof[][LEDGER_HASH_LEN], size_t *len);

/*
 * ledger_merkle_consistency_proof - RFC 9162 §2.1.4.1 proof that the tree of
 * old_size leaves is a prefix of the tree of new_size leaves.
 *	proof	out: up to LEDGER_MAX_PROOF hashes
 *	len	out: how many were written (0 when old_size is 0 or equals new_size)
 * Returns 0, LEDGER_ERANGE unless old_size <= new_size, LEDGER_ECRYPTO or a
 * store error.
 */
int ledger_merkle_consistency_proof(const struct ledger_hash_store *store,
    uint64_t old_size, uint64_t new_size,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *len);

/*
 * ledger_merkle_root_from_inclusion - RFC 9162 §2.1.3.2: the root that an
 * audit path leads to from a leaf hash.
 * Returns 0, LEDGER_EVERIFY when the path has the wrong length for
 * (index, tree_size) or index >= tree_size, or LEDGER_ECRYPTO.
 */
int ledger_merkle_root_from_inclusion(const uint8_t leaf_hash[LEDGER_HASH_LEN],
    uint64_t index, uint64_t tree_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t len,
    uint8_t root[LEDGER_HASH_LEN]);

/*
 * ledger_merkle_verify_inclusion - checks an audit path against a root.
 * Returns 0 when it verifies, LEDGER_EVERIFY when not, LEDGER_ECRYPTO.
 */
int ledger_merkle_verify_inclusion(const uint8_t leaf_hash[LEDGER_HASH_LEN],
    uint64_t index, uint64_t tree_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t len,
    const uint8_t root[LEDGER_HASH_LEN]);

/*
 * ledger_merkle_verify_consistency - RFC 9162 §2.1.4.2.  An old_size of 0
 * is consistent with anything (with an empty proof); equal sizes need equal
 * roots and an empty proof.
 * Returns 0 when it verifies, LEDGER_EVERIFY when not, LEDGER_ECRYPTO.
 */
int ledger_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[LEDGER_HASH_LEN],
    const uint8_t new_root[LEDGER_HASH_LEN],
    const uint8_t proof[][LEDGER_HASH_LEN], size_t len);

/*
 * An in-memory hash store (tests, benchmarks, the client's audit).  Each
 * level is a growable array; memory is about 64 bytes per leaf.
 */
struct ledger_memstore;

/* ledger_memstore_new - an empty store; never returns NULL (aborts on OOM). */
struct ledger_memstore *ledger_memstore_new(void);
/* ledger_memstore_free - frees the store; NULL is allowed. */
void ledger_memstore_free(struct ledger_memstore *ms);
/* ledger_memstore_hash_store - the callbacks; valid while ms lives. */
struct ledger_hash_store ledger_memstore_hash_store(struct ledger_memstore *ms);

#endif
