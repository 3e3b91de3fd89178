/*
 * Merges of the tail into the LMDB index, and its rebuild at start
 * (tail_merge.h).
 */
#include <stdlib.h>

#include <jansson.h>

#include "ledger/error.h"
#include "ledger/jsonparse.h"

#include "crash.h"
#include "log.h"
#include "store.h"
#include "tail.h"
#include "tail_merge.h"

int
tail_open(struct store *st, size_t segment_entries, struct tail **out,
    uint64_t *rebuilt)
{
	struct store_txn *txn = NULL;
	struct store_state state;
	struct tail *t = NULL;
	uint64_t indexed, seq;
	const char *bytes;
	size_t len;
	int rc;

	*out = NULL;
	*rebuilt = 0;
	if ((rc = store_read_begin(st, &txn)) != 0 ||
	    (rc = store_get_state(txn, &state)) != 0)
		goto fail;
	rc = store_get_indexed(txn, &indexed);
	if (rc == LEDGER_ENOTFOUND && store_index_present(st)) {
		/* An older index without a watermark covers every entry. */
		struct store_txn *w;

		indexed = state.tree_size;
		if ((rc = store_index_write_begin(st, &w)) != 0)
			goto fail;
		if ((rc = store_put_indexed(w, indexed)) != 0) {
			store_txn_end(w);
			goto fail;
		}
		if ((rc = store_commit(w)) != 0)
			goto fail;
	} else if (rc != 0)
		goto fail;
	if (indexed > state.tree_size) {
		log_warnx("store: watermark %llu beyond the tree size %llu; run "
		    "ledgerd fsck", (unsigned long long)indexed,
		    (unsigned long long)state.tree_size);
		rc = LEDGER_ECORRUPT;
		goto fail;
	}
	t = tail_new(indexed, segment_entries);
	for (seq = indexed; seq < state.tree_size; seq++) {
		json_t *entry;

		if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0) {
			if (rc == LEDGER_ENOTFOUND)
				rc = LEDGER_ECORRUPT;
			goto fail;
		}
		if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL) {
			log_warnx("store: entry seq %llu is not JSON; run ledgerd "
			    "fsck", (unsigned long long)seq);
			rc = LEDGER_ECORRUPT;
			goto fail;
		}
		rc = tail_add(t, seq, entry, NULL);
		json_decref(entry);
		if (rc != 0)
			goto fail;
	}
	store_txn_end(txn);
	tail_committed(t, state.tree_size);
	*rebuilt = state.tree_size - indexed;
	*out = t;
	return LEDGER_OK;
fail:
	store_txn_end(txn);
	tail_free(t);
	return rc;
}

static int
put_key(void *ctx, int kind, const void *value, size_t len,
    const uint64_t *seqs, size_t n)
{
	return store_index_put_seqs(ctx, (enum store_index)kind, value, len,
	    seqs, n);
}

int
tail_merge_one(struct store *st, struct tail *t, uint64_t *merged)
{
	struct tail_segment *s = tail_next_merge(t);
	struct store_txn *txn = NULL;
	uint64_t lo, hi, indexed;
	int rc;

	*merged = 0;
	if (s == NULL)
		return LEDGER_OK;
	tail_segment_range(s, &lo, &hi);
	crash_point("merge-begin");
	if ((rc = store_index_write_begin(st, &txn)) != 0 ||
	    (rc = store_get_indexed(txn, &indexed)) != 0)
		goto fail;
	/* The segments follow the watermark without a gap or an overlap. */
	if (indexed != lo) {
		log_warnx("tail: merge of entries [%llu, %llu) at watermark %llu",
		    (unsigned long long)lo, (unsigned long long)hi,
		    (unsigned long long)indexed);
		rc = LEDGER_ECORRUPT;
		goto fail;
	}
	if ((rc = tail_segment_each(s, put_key, txn)) != 0)
		goto fail;
	crash_point("merge-put");
	if ((rc = store_put_indexed(txn, hi)) != 0)
		goto fail;
	crash_point("merge-before-commit");
	rc = store_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	crash_point("merge-after-commit");
	tail_merged(t, s);
	*merged = hi - lo;
	return LEDGER_OK;
fail:
	store_txn_end(txn);
	log_warnx("tail: cannot merge entries [%llu, %llu) into the index: %s",
	    (unsigned long long)lo, (unsigned long long)hi, ledger_strerror(rc));
	return rc;
}
