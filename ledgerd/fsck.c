/*
 * ledgerd fsck and reindex: everything the daemon stores is derivable from
 * the entries (plus the keys), so both walk the entries once and either
 * compare or rebuild.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsonparse.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "cosigned.h"
#include "fsck.h"
#include "indexer.h"
#include "log.h"
#include "store.h"

struct fsck {
	struct store_txn *txn;
	uint64_t index_records;		/* expected */
	uint64_t tree_size;
	uint64_t indexed;		/* the watermark */
	uint64_t bad_seq;		/* first index record missing */
	int bad_kind;
	uint64_t sealed_values;		/* of the entries' sealed fields */
};

static int
problem(uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
problem(uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	printf("fsck: seq %" PRIu64 ": ", seq);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

static int
read_verifier(const char *dir, struct ledger_verifier *v)
{
	char *path = xasprintf("%s/verifier.vkey", dir), line[1024];
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (f == NULL) {
		printf("fsck: cannot read %s\n", path);
		goto out;
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		printf("fsck: %s is empty\n", path);
		goto out;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (ledger_verifier_parse(line, v) != 0) {
		printf("fsck: %s does not hold a verifier key\n", path);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(path);
	return rc;
}

static int
check_index_record(void *ctx, int kind, const void *value, size_t len,
    uint64_t seq)
{
	struct fsck *fk = ctx;

	fk->index_records++;
	if (store_index_contains(fk->txn, (enum store_index)kind, value, len, seq) != 0) {
		fk->bad_seq = seq;
		fk->bad_kind = kind;
		return 1;
	}
	return 0;
}

/* Above the watermark an entry's records are the daemon's tail's, not LMDB's. */
static int
check_no_index_record(void *ctx, int kind, const void *value, size_t len,
    uint64_t seq)
{
	struct fsck *fk = ctx;

	if (store_index_contains(fk->txn, (enum store_index)kind, value, len,
	    seq) == 0) {
		fk->bad_seq = seq;
		fk->bad_kind = kind;
		return 1;
	}
	return 0;
}

static int
check_idem(void *ctx, const char *principal, const char *key, uint64_t seq)
{
	struct fsck *fk = ctx;

	if (seq >= fk->tree_size) {
		printf("fsck: idempotency key \"%s\" of %s points past the log "
		    "(seq %" PRIu64 ")\n", key, principal, seq);
		return 1;
	}
	return 0;
}

/*
 * Checks one entry: it reads as every verifier reads it (ledger_entry_parse:
 * canonical bytes, every server field, salt included, well-formed), and its
 * fields fit its position in the chain.  The format version never goes
 * back: a version 1 entry (no salt) after a version 2 one is damage, or
 * a server dropping the salts.
 */
static int
check_entry(uint64_t seq, const char *bytes, size_t len,
    const uint8_t prev[LEDGER_HASH_LEN], int64_t *last_us, int64_t *last_version,
    json_t **out)
{
	char prev_b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	struct ledger_field_error err;
	json_t *entry, *v;
	int64_t us;

	if (ledger_entry_parse(bytes, len, &entry, &err) != 0)
		return problem(seq, "not a well-formed entry: %s%s%s (%s)",
		    err.field, err.field[0] != '\0' ? ": " : "", err.message,
		    err.code);
	*out = entry;
	v = json_object_get(entry, "seq");
	if ((uint64_t)json_integer_value(v) != seq)
		return problem(seq, "entry names another seq");
	if (json_integer_value(json_object_get(entry, "v")) < *last_version)
		return problem(seq, "entry format version %" JSON_INTEGER_FORMAT
		    " after version %" PRId64, json_integer_value(json_object_get(entry,
		    "v")), *last_version);
	*last_version = json_integer_value(json_object_get(entry, "v"));
	ledger_b64_encode(prev, LEDGER_HASH_LEN, prev_b64);
	v = json_object_get(entry, "prev");
	if (strcmp(json_string_value(v), prev_b64) != 0)
		return problem(seq, "prev does not match the leaf hash of entry %" PRIu64
		    " (hash chain broken)", seq - 1);
	/* Well-formed, as ledger_entry_parse checked. */
	ledger_time_parse_rfc3339(json_string_value(json_object_get(entry,
	    "received_at")), &us);
	if (us < *last_us)
		return problem(seq, "received_at goes backwards");
	*last_us = us;
	return 0;
}

/*
 * An entry that seals fields (spec §2.10) has the sealed value of each in
 * the store: without it the value could never be opened.
 */
static int
check_sealed_values(struct fsck *fk, uint64_t seq, const json_t *entry)
{
	const json_t *sealed = json_object_get(entry, "sealed"), *c;
	const char *field, *period;
	const uint8_t *value;
	size_t len;
	int rc;

	if (!json_is_object(sealed))
		return 0;
	json_object_foreach((json_t *)sealed, field, c) {
		rc = store_get_sealed(fk->txn, seq, field, &period, &value, &len);
		if (rc == LEDGER_ENOTFOUND)
			return problem(seq, "the entry seals %s and no sealed "
			    "value of it is stored", field);
		if (rc != 0)
			return problem(seq, "cannot read the sealed value of %s: "
			    "%s", field, ledger_strerror(rc));
		fk->sealed_values++;
	}
	return 0;
}

/*
 * A stored sealed value belongs to an entry that seals its field: with
 * check_sealed_values, exactly one per sealed field (the store's key is
 * the entry's seq and the field).
 */
static int
check_sealed_record(void *ctx, uint64_t seq, const char *field)
{
	struct fsck *fk = ctx;
	const char *bytes;
	json_t *entry;
	size_t len;
	int seals;

	if (seq >= fk->tree_size)
		return problem(seq, "a sealed value of %s is stored for an entry "
		    "beyond the log's head (size %" PRIu64 ")", field,
		    fk->tree_size);
	/* Jansson, not the daemon's own parser: what checks the store
	 * reads it independently of what wrote and serves it. */
	if (store_get_entry(fk->txn, seq, &bytes, &len) != 0 ||
	    (entry = json_loadb(bytes, len, 0, NULL)) == NULL)
		return problem(seq, "cannot read the entry of the sealed value "
		    "of %s", field);
	seals = json_object_get(json_object_get(entry, "sealed"), field) != NULL;
	json_decref(entry);
	if (!seals)
		return problem(seq, "a sealed value of %s is stored and the entry "
		    "does not seal %s", field, field);
	return 0;
}

/*
 * Every published checkpoint (spec §5.4): the log's own signature verifies,
 * and it names the tree of the entries at its size (mhs, of size tree_size).
 * Cosignature lines are not checked: that needs the witness policy.
 * Returns the number checked, or -1 after printing the first problem.
 */
static int64_t
check_published(struct store_txn *txn, struct ledger_hash_store *mhs,
    uint64_t tree_size, const struct ledger_verifier *verifier)
{
	uint8_t root[LEDGER_HASH_LEN];
	struct ledger_checkpoint cp;
	const char *note;
	uint64_t size;
	size_t len, part;
	int64_t n = 0;
	int rc;

	for (rc = store_get_published(txn, &size, &note, &len); rc == 0;
	    rc = store_get_published_at(txn, size, 1, &size, &note, &len)) {
		if (cosigned_log_part(note, len, &part) != 0 ||
		    ledger_checkpoint_open(note, part, verifier, &cp) != 0 ||
		    cp.tree_size != size) {
			printf("fsck: the published checkpoint of tree size %"
			    PRIu64 " does not verify with verifier.vkey\n", size);
			return -1;
		}
		if (size > tree_size ||
		    ledger_merkle_root(mhs, size, root) != 0 ||
		    memcmp(root, cp.root, LEDGER_HASH_LEN) != 0) {
			printf("fsck: the published checkpoint of tree size %"
			    PRIu64 " does not match the entries\n", size);
			return -1;
		}
		n++;
		if (size == 0)
			break;
	}
	if (rc != 0 && rc != LEDGER_ENOTFOUND) {
		printf("fsck: cannot read the published checkpoints: %s\n",
		    ledger_strerror(rc));
		return -1;
	}
	return n;
}

int
fsck_run(const char *dir, uint64_t map_size)
{
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store mhs = ledger_memstore_hash_store(ms), shs;
	uint8_t prev[LEDGER_HASH_LEN] = { 0 }, leaf[LEDGER_HASH_LEN], h[LEDGER_HASH_LEN];
	uint8_t root[LEDGER_HASH_LEN];
	struct ledger_verifier verifier;
	struct ledger_checkpoint cp;
	struct store_state state;
	struct store *st = NULL;
	struct fsck fk = { 0 };
	int64_t last_us = INT64_MIN, last_version = 1, published;
	uint64_t seq, count, expected_hashes = 0;
	const char *bytes, *note;
	size_t len;
	int rc, result = 2, no_index = 0;

	if (read_verifier(dir, &verifier) != 0)
		goto out;
	if ((rc = store_open(dir, map_size, 1, &st)) != 0) {
		printf("fsck: cannot open the database in %s: %s\n", dir,
		    ledger_strerror(rc));
		goto out;
	}
	if ((rc = store_read_begin(st, &fk.txn)) != 0 ||
	    (rc = store_get_state(fk.txn, &state)) != 0) {
		printf("fsck: cannot read the log's head: %s\n", ledger_strerror(rc));
		goto out;
	}
	result = 1;
	shs = store_hash_store(fk.txn);
	fk.tree_size = state.tree_size;
	/*
	 * A store from before the watermark indexed every entry as it came;
	 * one without its index (index.mdb lost) has nothing to check, and
	 * the daemon rebuilds it at its start.
	 */
	no_index = !store_index_present(st);
	rc = no_index ? 0 : store_get_indexed(fk.txn, &fk.indexed);
	if (rc == LEDGER_ENOTFOUND)
		fk.indexed = state.tree_size;
	else if (rc != 0) {
		printf("fsck: cannot read the index watermark: %s\n",
		    ledger_strerror(rc));
		goto out;
	}
	if (fk.indexed > state.tree_size) {
		printf("fsck: the index watermark %" PRIu64 " is beyond the log's "
		    "head (size %" PRIu64 ") (run ledgerd reindex)\n", fk.indexed,
		    state.tree_size);
		goto out;
	}
	for (seq = 0;; seq++) {
		json_t *entry = NULL;

		rc = store_get_entry(fk.txn, seq, &bytes, &len);
		if (rc == LEDGER_ENOTFOUND)
			break;
		if (rc != 0) {
			problem(seq, "cannot read the entry: %s", ledger_strerror(rc));
			goto out;
		}
		if (seq >= state.tree_size) {
			problem(seq, "entry beyond the log's head (size %" PRIu64 ")",
			    state.tree_size);
			goto out;
		}
		if (check_entry(seq, bytes, len, prev, &last_us, &last_version,
		    &entry) != 0) {
			json_decref(entry);
			goto out;
		}
		ledger_leaf_hash(bytes, len, leaf);
		rc = shs.get(shs.ctx, 0, seq, h);
		if (rc != 0 || memcmp(h, leaf, LEDGER_HASH_LEN) != 0) {
			json_decref(entry);
			problem(seq, "stored leaf hash does not match the entry bytes");
			goto out;
		}
		ledger_merkle_append(&mhs, seq, leaf);
		if (check_sealed_values(&fk, seq, entry) != 0) {
			json_decref(entry);
			goto out;
		}
		/* Below the watermark exactly its records (with the count below). */
		if (no_index)
			rc = 0;
		else if (seq < fk.indexed)
			rc = index_records(seq, entry, NULL, check_index_record, &fk);
		else
			rc = index_records(seq, entry, NULL, check_no_index_record,
			    &fk);
		json_decref(entry);
		if (rc != 0) {
			if (seq < fk.indexed)
				problem(fk.bad_seq, "index record of kind '%c' "
				    "missing (run ledgerd reindex)", fk.bad_kind);
			else
				problem(fk.bad_seq, "index record of kind '%c' "
				    "above the index watermark %" PRIu64 " (run "
				    "ledgerd reindex)", fk.bad_kind, fk.indexed);
			goto out;
		}
		memcpy(prev, leaf, LEDGER_HASH_LEN);
	}
	if (seq != state.tree_size) {
		problem(seq, "entry missing: the head says the log holds %" PRIu64,
		    state.tree_size);
		goto out;
	}
	if (seq > 0 && (memcmp(state.last_leaf_hash, prev, LEDGER_HASH_LEN) != 0 ||
	    state.last_received_us != last_us)) {
		problem(seq - 1, "the log's head does not match the last entry");
		goto out;
	}

	/* Every complete subtree hash, at every level. */
	for (unsigned level = 1; level < 64 && (seq >> level) > 0; level++) {
		for (uint64_t i = 0; i < (seq >> level); i++) {
			uint8_t want[LEDGER_HASH_LEN];
			mhs.get(mhs.ctx, level, i, want);
			if (shs.get(shs.ctx, level, i, h) != 0 ||
			    memcmp(h, want, LEDGER_HASH_LEN) != 0) {
				problem(i << level, "stored tree hash at level %u "
				    "index %" PRIu64 " is wrong", level, i);
				goto out;
			}
		}
	}
	for (unsigned level = 0; level < 64; level++)
		expected_hashes += seq >> level;
	if (store_hash_count(fk.txn, &count) != 0 || count != expected_hashes) {
		printf("fsck: %" PRIu64 " tree hashes stored, %" PRIu64 " expected\n",
		    count, expected_hashes);
		goto out;
	}
	if (!no_index && (store_index_count(fk.txn, &count) != 0 ||
	    count != fk.index_records)) {
		printf("fsck: %" PRIu64 " index records stored, %" PRIu64
		    " expected (run ledgerd reindex)\n", count, fk.index_records);
		goto out;
	}
	if (store_idem_each(fk.txn, check_idem, &fk) != 0)
		goto out;
	if ((rc = store_sealed_each(fk.txn, check_sealed_record, &fk)) != 0) {
		if (rc < 0)
			printf("fsck: cannot read the sealed values: %s\n",
			    ledger_strerror(rc));
		goto out;
	}

	ledger_merkle_root(&mhs, seq, root);
	if ((rc = store_get_checkpoint(fk.txn, &note, &len)) != 0) {
		printf("fsck: no checkpoint stored\n");
		goto out;
	}
	if ((rc = ledger_checkpoint_open(note, len, &verifier, &cp)) != 0) {
		printf("fsck: the stored checkpoint does not verify with "
		    "verifier.vkey: %s\n", ledger_strerror(rc));
		goto out;
	}
	if (cp.tree_size != seq || memcmp(cp.root, root, LEDGER_HASH_LEN) != 0) {
		printf("fsck: the checkpoint (size %" PRIu64 ") does not match the "
		    "entries (size %" PRIu64 ")\n", cp.tree_size, seq);
		goto out;
	}
	if ((published = check_published(fk.txn, &mhs, seq, &verifier)) < 0)
		goto out;
	char root_b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	ledger_b64_encode(root, LEDGER_HASH_LEN, root_b64);
	printf("fsck: OK: %" PRIu64 " entries, hash chain, tree, %s%"
	    PRIu64 " sealed values, checkpoint and %" PRId64 " published "
	    "checkpoints consistent; root %s\n", seq, no_index ? "" :
	    "indexes, ", fk.sealed_values, published, root_b64);
	if (no_index)
		printf("fsck: no index (%s missing): the next ledgerd serve "
		    "rebuilds it from the entries\n", STORE_INDEX_FILE);
	else if (store_index_in_log(st))
		printf("fsck: the index is in its older place: the next "
		    "ledgerd serve moves it into %s\n", STORE_INDEX_FILE);
	if (store_tree_legacy(st))
		printf("fsck: the tree hashes are in their older layout: the "
		    "next ledgerd serve moves them, then compacts the store\n");
	else if (store_compact_due(st) == 1)
		printf("fsck: a compaction is due: the next ledgerd serve makes "
		    "it\n");
	result = 0;
out:
	store_txn_end(fk.txn);
	store_close(st);
	ledger_memstore_free(ms);
	return result;
}

#define REINDEX_SLICE 65536	/* entries whose records are sorted together */

int
reindex_store(struct store *st, uint64_t *entries)
{
	struct index_batch *batch = index_batch_new();
	struct store_txn *rtx = NULL, *itx = NULL;
	uint64_t seq;
	const char *bytes;
	size_t len;
	int rc;

	*entries = 0;
	if ((rc = store_read_begin(st, &rtx)) != 0 ||
	    (rc = store_index_write_begin(st, &itx)) != 0 ||
	    (rc = store_index_clear(itx)) != 0)
		goto out;
	for (seq = 0; (rc = store_get_entry(rtx, seq, &bytes, &len)) == 0; seq++) {
		json_t *entry = ledger_json_loadb(bytes, len, 0, NULL);

		if (entry == NULL) {
			log_warnx("reindex: seq %" PRIu64 ": entry is not JSON", seq);
			rc = LEDGER_ECORRUPT;
			goto out;
		}
		rc = index_batch_add(batch, seq, entry, NULL);
		json_decref(entry);
		/* In key order, a slice at a time: memory stays bounded. */
		if (rc == 0 && (seq + 1) % REINDEX_SLICE == 0)
			rc = index_batch_write(batch, itx);
		if (rc != 0)
			goto out;
	}
	/* Every entry indexed: the watermark is the tree size. */
	if (rc != LEDGER_ENOTFOUND ||
	    (rc = index_batch_write(batch, itx)) != 0 ||
	    (rc = store_put_indexed(itx, seq)) != 0)
		goto out;
	rc = store_commit(itx);
	itx = NULL;
	if (rc == 0)
		*entries = seq;
out:
	store_txn_end(itx);
	store_txn_end(rtx);
	index_batch_free(batch);
	return rc;
}

int
reindex_run(const char *dir, uint64_t map_size)
{
	struct store *st = NULL;
	uint64_t entries;
	int rc;

	if ((rc = store_open(dir, map_size, 0, &st)) != 0) {
		printf("reindex: cannot open the database in %s: %s\n", dir,
		    ledger_strerror(rc));
		return 1;
	}
	/* An index in its older place is moved first, then rebuilt. */
	if ((rc = store_index_move(st)) < 0 ||
	    (rc = reindex_store(st, &entries)) != 0) {
		printf("reindex: failed: %s\n", ledger_strerror(rc));
		store_close(st);
		return 1;
	}
	printf("reindex: rebuilt the indexes of %" PRIu64 " entries\n", entries);
	store_close(st);
	return 0;
}
