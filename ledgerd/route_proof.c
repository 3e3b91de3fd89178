/*
 * Merkle proofs over the stored tree: inclusion (RFC 9162 §2.1.3.1) and
 * consistency (§2.1.4.1), hashes ordered from the leaf (or old root) up.
 * Each answer comes from one short read transaction.
 */
#include <stdint.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/jsonparse.h"
#include "ledger/merkle.h"

#include "auth.h"
#include "hash_json.h"
#include "http.h"
#include "log.h"
#include "retention.h"
#include "server.h"
#include "store.h"

/* Reads a required parameter; answers 400 and returns -1 when it is not there. */
static int
required_u64(struct request *r, const char *name, uint64_t *out)
{
	int rc;

	if ((rc = query_u64(r, name, out)) == 0) {
		reply_error(r, 400, "missing_field", name,
		    "query parameter %s is required", name);
		return -1;
	}
	return rc == 1 ? 0 : -1;
}

static void
reply_store_error(struct request *r, const char *what, int rc)
{
	log_warnx("request %llu: %s: %s", (unsigned long long)r->id, what,
	    ledger_strerror(rc));
	reply_error(r, 500, "internal", NULL, "cannot compute the %s", what);
}

/*
 * Whether r's principal may see the entry at index.  Returns 1, or 0 after
 * answering 403 (or 500 when the entry cannot be read).
 */
static int
entry_visible_at(struct request *r, struct store_txn *txn, uint64_t index)
{
	const char *bytes;
	json_t *entry;
	size_t len;
	int rc, visible;

	if ((rc = store_get_entry(txn, index, &bytes, &len)) != 0) {
		reply_store_error(r, "inclusion proof", rc);
		return 0;
	}
	if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL) {
		reply_store_error(r, "inclusion proof", LEDGER_EINVAL);
		return 0;
	}
	/* Restricted entries too (§9.4): their proofs are theirs. */
	visible = retention_entry_visible(r->srv, r->principal, entry);
	json_decref(entry);
	if (!visible)
		reply_error(r, 403, "forbidden", "index", "entry %llu is not "
		    "visible to org %s", (unsigned long long)index,
		    r->principal->org);
	return visible;
}

void
route_proof_inclusion(struct request *r)
{
	static const char *const params[] = { "index", "tree_size", NULL };
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t leaf_hash[LEDGER_HASH_LEN];
	struct ledger_hash_store hs;
	struct store_txn *txn = NULL;
	struct store_state st;
	uint64_t index, tree_size;
	size_t len;
	int rc;

	if (query_check(r, params) != 0 ||
	    required_u64(r, "index", &index) != 0 ||
	    required_u64(r, "tree_size", &tree_size) != 0)
		return;
	if ((rc = store_read_begin(r->srv->store, &txn)) != 0 ||
	    (rc = store_get_state(txn, &st)) != 0) {
		reply_store_error(r, "inclusion proof", rc);
		goto out;
	}
	if (tree_size > st.tree_size) {
		reply_error(r, 400, "out_of_range", "tree_size",
		    "tree_size %llu exceeds the log's size %llu",
		    (unsigned long long)tree_size,
		    (unsigned long long)st.tree_size);
		goto out;
	}
	if (index >= tree_size) {
		reply_error(r, 400, "out_of_range", "index",
		    "index %llu is not below tree_size %llu",
		    (unsigned long long)index, (unsigned long long)tree_size);
		goto out;
	}
	/* Spec §9.4: a proof for an entry the reader may not see is refused. */
	if (!auth_sees_all(r->principal) && !entry_visible_at(r, txn, index))
		goto out;
	hs = store_hash_store(txn);
	if ((rc = hs.get(hs.ctx, 0, index, leaf_hash)) != 0 ||
	    (rc = ledger_merkle_inclusion_proof(&hs, index, tree_size, proof,
	    &len)) != 0) {
		reply_store_error(r, "inclusion proof", rc);
		goto out;
	}
	reply_json(r, 200, json_pack("{s:I, s:I, s:o, s:o}",
	    "index", (json_int_t)index, "tree_size", (json_int_t)tree_size,
	    "leaf_hash", hash_json(leaf_hash),
	    "hashes", hashes_json(proof, len)));
out:
	store_txn_end(txn);
}

void
route_proof_consistency(struct request *r)
{
	static const char *const params[] = { "from", "to", NULL };
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	struct ledger_hash_store hs;
	struct store_txn *txn = NULL;
	struct store_state st;
	uint64_t from, to;
	size_t len;
	int rc;

	if (query_check(r, params) != 0 ||
	    required_u64(r, "from", &from) != 0 ||
	    required_u64(r, "to", &to) != 0)
		return;
	if ((rc = store_read_begin(r->srv->store, &txn)) != 0 ||
	    (rc = store_get_state(txn, &st)) != 0) {
		reply_store_error(r, "consistency proof", rc);
		goto out;
	}
	if (to > st.tree_size) {
		reply_error(r, 400, "out_of_range", "to",
		    "to %llu exceeds the log's size %llu",
		    (unsigned long long)to, (unsigned long long)st.tree_size);
		goto out;
	}
	if (from > to) {
		reply_error(r, 400, "out_of_range", "from",
		    "from %llu exceeds to %llu", (unsigned long long)from,
		    (unsigned long long)to);
		goto out;
	}
	hs = store_hash_store(txn);
	if ((rc = ledger_merkle_consistency_proof(&hs, from, to, proof,
	    &len)) != 0) {
		reply_store_error(r, "consistency proof", rc);
		goto out;
	}
	reply_json(r, 200, json_pack("{s:I, s:I, s:o}", "from",
	    (json_int_t)from, "to", (json_int_t)to,
	    "hashes", hashes_json(proof, len)));
out:
	store_txn_end(txn);
}
