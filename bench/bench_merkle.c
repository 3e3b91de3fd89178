/*
 * Merkle core throughput: leaf hashes appended to an in-memory tree per
 * second, and inclusion proofs generated per second in a large tree.  Each
 * figure is the median of RUNS runs.
 *
 *	build/bench/bench_merkle [leaves]	(default 10,000,000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#define RUNS 5

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	uint64_t leaves = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	uint64_t proofs = 1000000;
	uint8_t (*leaf_hashes)[LEDGER_HASH_LEN];
	double append_rate[RUNS], proof_rate[RUNS];
	struct ledger_memstore *ms = NULL;

	/* Leaf hashes are prepared first: the figure is the tree's cost. */
	leaf_hashes = xmalloc(leaves * LEDGER_HASH_LEN);
	for (uint64_t i = 0; i < leaves; i++)
		ledger_leaf_hash(&i, sizeof(i), leaf_hashes[i]);

	for (int r = 0; r < RUNS; r++) {
		struct ledger_hash_store hs;

		ledger_memstore_free(ms);
		ms = ledger_memstore_new();
		hs = ledger_memstore_hash_store(ms);
		double t0 = now();
		for (uint64_t i = 0; i < leaves; i++)
			if (ledger_merkle_append(&hs, i, leaf_hashes[i]) != 0)
				abort();
		append_rate[r] = leaves / (now() - t0);
	}

	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	struct ledger_merkle_edge edge;

	/* Proofs against one tree size share its right edge, as a server's do. */
	if (ledger_merkle_edge_init(&hs, leaves, &edge) != 0)
		abort();
	size_t len;
	uint64_t x = 88172645463325252ULL, sink = 0;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now();
		for (uint64_t i = 0; i < proofs; i++) {
			x ^= x << 13;	/* xorshift: spread the indexes */
			x ^= x >> 7;
			x ^= x << 17;
			if (ledger_merkle_inclusion_proof_edge(&hs, &edge, x % leaves,
			    proof, &len) != 0)
				abort();
			sink += proof[0][0];
		}
		proof_rate[r] = proofs / (now() - t0);
	}
	printf("merkle append: %.0f leaves/s (median of %d runs, %llu leaves)\n",
	    median(append_rate, RUNS), RUNS, (unsigned long long)leaves);
	printf("inclusion proofs: %.0f proofs/s at %llu leaves (median of %d runs; %llu)\n",
	    median(proof_rate, RUNS), (unsigned long long)leaves, RUNS,
	    (unsigned long long)(sink & 1));
	ledger_memstore_free(ms);
	free(leaf_hashes);
	return 0;
}
