/*
 * Fuzzes proof JSON as the API answers it (spec §4.5, §7.6), parsed and verified
 * with the lib the client uses:
 *	{"index": N, "tree_size": M, "leaf_hash": "<b64>", "hashes": [...]}
 *	{"from": M, "to": N, "hashes": [...]}
 * against a known tree of TREE_LEAVES leaves.  Soundness: a proof that
 * verifies against the true roots is the one true proof, for the true
 * leaf.  Completeness: the true proof of the same sizes verifies.
 * Optional "root" / "old_root", "new_root" fields are checked against
 * sizes beyond the known tree (no crash, no out-of-bounds read).
 */
#include <string.h>

#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"

#include "fuzz.h"

#define INPUT_MAX (16 * 1024)
#define TREE_LEAVES 300

static struct ledger_memstore *ms;
static struct ledger_hash_store hs;
static uint8_t leaves[TREE_LEAVES][LEDGER_HASH_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char entry[32];

	ms = ledger_memstore_new();
	hs = ledger_memstore_hash_store(ms);
	for (int i = 0; i < TREE_LEAVES; i++) {
		snprintf(entry, sizeof(entry), "entry %d", i);
		if (ledger_leaf_hash(entry, strlen(entry), leaves[i]) != 0 ||
		    ledger_merkle_append(&hs, (uint64_t)i, leaves[i]) != 0)
			abort();
	}
	return 0;
}

static int
get_u64(const json_t *obj, const char *name, uint64_t *out)
{
	const json_t *v = json_object_get(obj, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
get_hash(const json_t *v, uint8_t out[LEDGER_HASH_LEN])
{
	size_t n;

	if (!json_is_string(v) ||
	    ledger_b64_decode(json_string_value(v), json_string_length(v), out,
	    LEDGER_HASH_LEN, &n) != 0 || n != LEDGER_HASH_LEN)
		return -1;
	return 0;
}

static int
get_hashes(const json_t *obj, uint8_t out[][LEDGER_HASH_LEN], size_t *n)
{
	const json_t *arr = json_object_get(obj, "hashes"), *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > LEDGER_MAX_PROOF)
		return -1;
	json_array_foreach(arr, i, v)
		if (get_hash(v, out[i]) != 0)
			return -1;
	*n = json_array_size(arr);
	return 0;
}

static void
inclusion(const json_t *obj)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	uint8_t root[LEDGER_HASH_LEN], truth[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint64_t index, tree_size;
	size_t n, tn;
	int rc;

	if (get_u64(obj, "index", &index) != 0 ||
	    get_u64(obj, "tree_size", &tree_size) != 0 ||
	    get_hash(json_object_get(obj, "leaf_hash"), leaf) != 0 ||
	    get_hashes(obj, proof, &n) != 0)
		return;
	if (tree_size > TREE_LEAVES) {
		if (get_hash(json_object_get(obj, "root"), root) == 0) {
			rc = ledger_merkle_verify_inclusion(leaf, index, tree_size,
			    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, root);
			FUZZ_ASSERT(rc == 0 || rc == LEDGER_EVERIFY);
		}
		return;
	}
	FUZZ_ASSERT(ledger_merkle_root(&hs, tree_size, root) == 0);
	rc = ledger_merkle_verify_inclusion(leaf, index, tree_size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, root);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EVERIFY);
	if (index >= tree_size) {
		FUZZ_ASSERT(rc != 0);
		return;
	}
	FUZZ_ASSERT(ledger_merkle_inclusion_proof(&hs, index, tree_size, truth,
	    &tn) == 0);
	FUZZ_ASSERT(ledger_merkle_verify_inclusion(leaves[index], index, tree_size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])truth, tn, root) == 0);
	if (rc == 0) {
		FUZZ_ASSERT(memcmp(leaf, leaves[index], LEDGER_HASH_LEN) == 0);
		FUZZ_ASSERT(n == tn && memcmp(proof, truth, n * LEDGER_HASH_LEN) == 0);
	}
}

static void
consistency(const json_t *obj)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t truth[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t old_root[LEDGER_HASH_LEN], new_root[LEDGER_HASH_LEN];
	uint64_t from, to;
	size_t n, tn;
	int rc;

	if (get_u64(obj, "from", &from) != 0 || get_u64(obj, "to", &to) != 0 ||
	    get_hashes(obj, proof, &n) != 0)
		return;
	if (to > TREE_LEAVES || from > to) {
		if (get_hash(json_object_get(obj, "old_root"), old_root) == 0 &&
		    get_hash(json_object_get(obj, "new_root"), new_root) == 0) {
			rc = ledger_merkle_verify_consistency(from, to, old_root,
			    new_root, (const uint8_t (*)[LEDGER_HASH_LEN])proof, n);
			FUZZ_ASSERT(rc == 0 || rc == LEDGER_EVERIFY);
			if (from > to)
				FUZZ_ASSERT(rc != 0);
		}
		return;
	}
	FUZZ_ASSERT(ledger_merkle_root(&hs, from, old_root) == 0);
	FUZZ_ASSERT(ledger_merkle_root(&hs, to, new_root) == 0);
	rc = ledger_merkle_verify_consistency(from, to, old_root, new_root,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EVERIFY);
	FUZZ_ASSERT(ledger_merkle_consistency_proof(&hs, from, to, truth, &tn) == 0);
	FUZZ_ASSERT(ledger_merkle_verify_consistency(from, to, old_root, new_root,
	    (const uint8_t (*)[LEDGER_HASH_LEN])truth, tn) == 0);
	if (rc == 0)
		FUZZ_ASSERT(n == tn && memcmp(proof, truth, n * LEDGER_HASH_LEN) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj;

	if (size > INPUT_MAX)
		return -1;
	if ((obj = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	if (json_object_get(obj, "index") != NULL)
		inclusion(obj);
	else
		consistency(obj);
	json_decref(obj);
	return 0;
}
