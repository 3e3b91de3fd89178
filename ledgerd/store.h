/*
 * The ledger's storage: the only module that knows LMDB and its schema
 * (store.c; store_tree.c for the tree hashes, store_file.c for the file
 * as a whole).
 *
 * Databases (in DIR/ledger.mdb):
 *	entries	seq (8-byte big-endian) -> entry bytes (the Merkle leaf)
 *	tree	the hash of every complete subtree, by stratum (store_tree.c):
 *		level / 4 (1 byte) || index >> (4 - level % 4) (8-byte BE) ||
 *		(level % 4) << 4 | the index's low 4 - level % 4 bits
 *		-> 32-byte hash.  A stratum is four levels, 30 nodes, kept
 *		side by side so that a proof's path through them is one page.
 *		(Stores written before it keep hashes, level (1 byte) ||
 *		index (8-byte BE), until store_tree_migrate() has moved them.)
 *	meta	"state" -> struct store_state; "checkpoint" -> signed note;
 *		"tree-migrated" ->
 *		the next stratum to copy, while hashes is being copied;
 *		"compact-due" -> 1 byte, until store_compact()
 *	published	tree size (8-byte BE) -> a published checkpoint: the signed
 *			note, then the witness cosignature lines collected for it
 *	witnesses	witness name -> tree size (8-byte BE) it last cosigned
 *	idem	principal NUL key -> seq (8-byte BE) || request SHA-256
 *
 * In DIR/index.mdb, an LMDB environment of its own (store_index.c), so that
 * merging into the index never holds the log's write transaction:
 *	index	kind (1 byte) || value -> seq (8-byte BE), sorted duplicates
 *	meta	"indexed" -> the watermark (8-byte BE): the index holds the
 *		records of exactly the entries below it
 * The index is derived from the entries: a store without index.mdb has it
 * rebuilt (store_index_move).  Stores written before it keep index in
 * ledger.mdb, and "indexed" in its meta, until store_index_move().
 *
 * One write transaction at a time in each environment (the writer thread
 * in the log's, the merges in the index's); read transactions from any
 * thread, never blocked by a writer.  The index records of the
 * entries above the watermark are in the tail (tail.h), not in LMDB: a read
 * transaction of a store given its tail reads both as one index.  Every function returns 0
 * or a negative LEDGER_E* code: LEDGER_ENOTFOUND for a missing key,
 * LEDGER_ENOSPC when the map or the disk is full, LEDGER_EIO otherwise (the
 * LMDB message is logged).
 */
#ifndef LEDGERD_STORE_H
#define LEDGERD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/merkle.h"

/* The database file in the data directory (LMDB adds "-lock" beside it). */
#define STORE_FILE "ledger.mdb"
#define STORE_INDEX_FILE "index.mdb"	/* the provenance index */

struct store;
struct store_txn;
struct tail;

/* The log's head, updated in the transaction that appends. */
struct store_state {
	uint64_t tree_size;
	int64_t last_received_us;	/* received_at of entry tree_size - 1 */
	uint8_t last_leaf_hash[LEDGER_HASH_LEN];	/* prev of the next entry */
};

/* Index kinds: the first byte of an index key. */
enum store_index {
	STORE_IDX_TYPE = 't',		/* type */
	STORE_IDX_ORG = 'o',		/* actor.org */
	STORE_IDX_USER = 'u',		/* actor.org "/" actor.user */
	STORE_IDX_RECIPIENT = 'r',	/* each recipient org */
	STORE_IDX_SUBJECT = 's',	/* each subject token */
	STORE_IDX_OBJECT = 'f',		/* object.ref */
	STORE_IDX_REFERRED = 'p',	/* 8-byte BE seq of each ref: who rests on it */
};

/*
 * store_open - opens (creating if needed) the database in dir.
 *	map_size	in: LMDB map size in bytes (virtual; the file grows as used)
 *	read_only	in: open without write access (fsck)
 * Returns 0, LEDGER_EIO or LEDGER_ECORRUPT.
 */
int store_open(const char *dir, uint64_t map_size, int read_only,
    struct store **out);
void store_close(struct store *st);

/*
 * store_set_tail - from now on read transactions answer index queries from
 * the LMDB index below the watermark and from tail above it, up to their
 * snapshot's tree size.  Call before the first reader; tail outlives st's
 * read transactions.
 */
void store_set_tail(struct store *st, struct tail *tail);

/*
 * store_read_begin - a read transaction: a consistent snapshot that stays
 * valid until store_txn_end().  Pointers returned through it live as long.
 */
int store_read_begin(struct store *st, struct store_txn **out);

/* store_write_begin - the write transaction; only the writer calls it. */
int store_write_begin(struct store *st, struct store_txn **out);

/*
 * store_commit - commits and frees txn; for a top-level write transaction
 * the data is synced to disk before it returns.  On failure the transaction
 * is aborted and freed all the same.
 */
int store_commit(struct store_txn *txn);

/* store_txn_end - aborts (write) or ends (read) and frees txn; NULL is fine. */
void store_txn_end(struct store_txn *txn);

/* State; an empty log reads as all zeros. */
int store_get_state(struct store_txn *txn, struct store_state *out);
int store_put_state(struct store_txn *txn, const struct store_state *state);

/* Entries.  store_get_entry's bytes are valid until the txn ends. */
int store_get_entry(struct store_txn *txn, uint64_t seq, const char **bytes,
    size_t *len);
int store_put_entry(struct store_txn *txn, uint64_t seq, const char *bytes,
    size_t len);

/* The tree's hash store, bound to txn (valid until it ends). */
struct ledger_hash_store store_hash_store(struct store_txn *txn);

/* The latest signed checkpoint, valid until the txn ends. */
int store_get_checkpoint(struct store_txn *txn, const char **note, size_t *len);
int store_put_checkpoint(struct store_txn *txn, const char *note, size_t len);

/*
 * Published checkpoints (spec §5.4): the latest per-commit checkpoint, copied
 * at the publication interval, and then the cosignature lines witnesses
 * returned for it.  The latest is the one with the largest tree size.
 *
 * store_get_published - the latest: its tree size and note (valid until the
 * txn ends).  Returns 0 or LEDGER_ENOTFOUND when nothing is published yet.
 */
int store_get_published(struct store_txn *txn, uint64_t *tree_size,
    const char **note, size_t *len);

/*
 * store_get_published_at - the published checkpoint of tree_size, or with
 * before set the latest one of a smaller size (its size in *found, which
 * may be NULL without before).  Returns 0 or LEDGER_ENOTFOUND.
 */
int store_get_published_at(struct store_txn *txn, uint64_t tree_size,
    int before, uint64_t *found, const char **note, size_t *len);

/* store_put_published - writes (or rewrites) the record of tree_size. */
int store_put_published(struct store_txn *txn, uint64_t tree_size,
    const char *note, size_t len);

/* store_count_published - how many checkpoints have been published. */
int store_count_published(struct store_txn *txn, uint64_t *count);

/*
 * The tree size each witness last cosigned, by witness name (a key name of
 * at most LEDGER_KEY_NAME_MAX bytes).  store_get_witness_size returns 0 or
 * LEDGER_ENOTFOUND for a witness that never cosigned.
 */
int store_get_witness_size(struct store_txn *txn, const char *name,
    uint64_t *tree_size);
int store_put_witness_size(struct store_txn *txn, const char *name,
    uint64_t tree_size);

/* Idempotency records, per principal. */
int store_get_idem(struct store_txn *txn, const char *principal,
    const char *key, uint64_t *seq, uint8_t request_hash[LEDGER_HASH_LEN]);
int store_put_idem(struct store_txn *txn, const char *principal,
    const char *key, uint64_t seq, const uint8_t request_hash[LEDGER_HASH_LEN]);

/*
 * The watermark: the LMDB index holds the records of exactly the entries
 * below it.  store_get_indexed returns 0, LEDGER_ENOTFOUND when the index
 * was never built, or in a store of the older layout predates the
 * watermark (its index then covers every entry), or a store error.
 * store_put_indexed, store_index_put_seqs and store_index_clear write, in
 * a transaction of store_index_write_begin only.
 */
int store_get_indexed(struct store_txn *txn, uint64_t *indexed);
int store_put_indexed(struct store_txn *txn, uint64_t indexed);

/*
 * store_index_put_seqs - records that entries seqs carry (kind, value).
 *	seqs	in: n seqs, increasing, no repeats
 * Returns 0 or a store error.
 */
int store_index_put_seqs(struct store_txn *txn, enum store_index kind,
    const void *value, size_t len, const uint64_t *seqs, size_t n);

/*
 * store_index_scan - the seqs carrying (kind, value), in increasing order,
 * starting at the first >= from (or, with reverse, the last <= from).  In a
 * read transaction of a store with a tail: of the LMDB index below the
 * watermark and of the tail from it to the snapshot's tree size.
 *	seqs, max	out: up to max seqs
 *	n		out: how many were written (0 when none)
 */
int store_index_scan(struct store_txn *txn, enum store_index kind,
    const void *value, size_t len, uint64_t from, int reverse,
    uint64_t *seqs, size_t max, size_t *n);

/*
 * store_index_contains - 0 when (kind, value) -> seq is recorded (in LMDB
 * or, as for store_index_scan, in the tail), LEDGER_ENOTFOUND when not.
 */
int store_index_contains(struct store_txn *txn, enum store_index kind,
    const void *value, size_t len, uint64_t seq);

/* store_index_count - how many index records LMDB holds in all. */
int store_index_count(struct store_txn *txn, uint64_t *count);

/* store_hash_count - how many tree hashes are stored, all levels. */
int store_hash_count(struct store_txn *txn, uint64_t *count);

/*
 * Moving the tree hashes of a store written before their stratum layout.
 * Until the move ends, the old database serves every read and write, so a
 * store opened read-only (fsck) or half moved answers as before.
 *
 * store_tree_legacy - 1 while the old layout serves, else 0.
 *
 * store_tree_migrate_step - one write transaction of the move: copies up
 * to about max_copy more hashes, recording how far the copy has come; the
 * one that copies the last drops the old database and marks a compaction
 * due (store_compact()).  A crash at any point leaves a store that
 * answers, and the next call goes on where the last commit left.
 *	copied	out: hashes copied
 *	done	out: 1 once the old database is gone (at once for a store
 *		without one)
 * Returns 0, LEDGER_ECORRUPT (a hash the tree size needs is missing) or a
 * store error, after which st must be closed.
 *
 * store_tree_migrate - runs the steps to the end, logging its progress.
 */
int store_tree_legacy(struct store *st);
int store_tree_migrate_step(struct store *st, uint64_t max_copy,
    uint64_t *copied, int *done);
int store_tree_migrate(struct store *st);

/*
 * Compaction: a copy of the store without its free pages, taken in place of
 * it.  LMDB rewrites the part of its free list it has loaded at every
 * commit, so a store that freed much at once (the move of its tree hashes)
 * appends slowly until those pages are used again; compacted, it does not.
 *
 * store_mark_compact_due - in txn, marks a compaction due (it survives
 * restarts until store_compact_done()).
 * store_compact_due - 1 when it is due, 0 when not, or a store error.
 * store_compact - writes the compact copy beside the file (".compact"),
 * syncs it and renames it over the file, which st then no longer is: close
 * st and open the store again, then store_compact_done().  Refuses
 * (LEDGER_ENOSPC, logged) when the file system has less room than the
 * pages in use and an eighth; a crash at any point leaves the old file or
 * the new one, each whole.  Only while nothing else uses st.
 * store_compact_done - removes the mark.
 */
int store_mark_compact_due(struct store_txn *txn);
int store_compact_due(struct store *st);
int store_compact(struct store *st);
int store_compact_done(struct store *st);

/*
 * store_get_meta / store_put_meta / store_del_meta - a fixed-size record
 * of meta named name (NUL-terminated): get copies exactly len bytes into
 * out.  Returns 0, LEDGER_ENOTFOUND, LEDGER_ECORRUPT (another size) or a
 * store error.
 */
int store_get_meta(struct store_txn *txn, const char *name, void *out,
    size_t len);
int store_put_meta(struct store_txn *txn, const char *name, const void *data,
    size_t len);
int store_del_meta(struct store_txn *txn, const char *name);

/*
 * store_sealed_each - calls fn for every sealed value's record (entry seq,
 * field), in order of seq; stops at non-zero and returns it.  Nothing in a
 * store without sealed values.  Returns 0, fn's value, or a store error.
 */
int store_sealed_each(struct store_txn *txn,
    int (*fn)(void *ctx, uint64_t seq, const char *field), void *ctx);

/* store_idem_each - calls fn for every idempotency record; stops at non-zero. */
int store_idem_each(struct store_txn *txn,
    int (*fn)(void *ctx, const char *principal, const char *key, uint64_t seq),
    void *ctx);

/* store_index_clear - drops every index record (for a rebuild). */
int store_index_clear(struct store_txn *txn);

/*
 * store_index_write_begin - a write transaction of the index alone
 * (index.mdb's; the log's in a store of the older layout), for merges and
 * rebuilds; store_commit() or store_txn_end() it.  Only the index
 * functions apply to it.
 */
int store_index_write_begin(struct store *st, struct store_txn **out);

/*
 * store_index_present - 1 when the store has an index to read (built in
 * index.mdb, or the older one), 0 when index.mdb is missing or was never
 * built: a rebuild from the entries makes it.
 */
int store_index_present(struct store *st);

/* store_index_in_log - 1 while ledger.mdb holds an index store_index_move drops. */
int store_index_in_log(struct store *st);

/*
 * store_index_move - at start, before anything else writes: copies the
 * index of a store of the older layout into index.mdb with its watermark
 * (one transaction), then drops the older one and marks a compaction due
 * (another).  A crash at any point leaves a store whose index answers,
 * and the next call goes on.  Returns 0, 1 when the index must be rebuilt
 * from the entries (index.mdb new or lost), or a store error.
 */
int store_index_move(struct store *st);

/*
 * store_index_lag - in *lag, the entries of the log above the built
 * index's watermark (what a start holds in memory until merged).  Returns
 * 0, 1 when the watermark is past the log's tree size (an index.mdb newer
 * than its ledger.mdb, as a restore may pair them), or a store error.
 */
int store_index_lag(struct store *st, uint64_t *lag);

/*
 * store_put_sealed - stores the sealed value of field of entry seq (spec
 * §2.10): the key ring's AES-256-GCM output under period's sealing key.
 * Written in the entry's own transaction, so an acknowledged entry's
 * sealed values are as durable as the entry.
 *	field, period	in: NUL-terminated, not empty
 * Returns 0, LEDGER_EINVAL, or a store error.
 */
int store_put_sealed(struct store_txn *txn, uint64_t seq, const char *field,
    const char *period, const uint8_t *sealed, size_t len);

/*
 * store_get_sealed - the sealed value of field of entry seq and the period
 * it was sealed under.  period and sealed point into the map: valid until
 * the transaction ends (or the next update in a write transaction).
 * Returns 0, LEDGER_ENOTFOUND, LEDGER_ECORRUPT, or a store error.
 */
int store_get_sealed(struct store_txn *txn, uint64_t seq, const char *field,
    const char **period, const uint8_t **sealed, size_t *len);

/*
 * store_get_retention / store_put_retention - a fixed-size retention record
 * (spec §2.11, §2.12) named name: "policy" (the seq of the policy entry in
 * force), "destroyed/PERIOD" (the seq of the entry recording the period's
 * destruction), "period/PERIOD" (what the period holds).  get copies
 * exactly len bytes into out.
 * Returns 0, LEDGER_ENOTFOUND, LEDGER_ECORRUPT (another size), LEDGER_EINVAL
 * (name too long) or a store error.
 */
int store_get_retention(struct store_txn *txn, const char *name, void *out,
    size_t len);
int store_put_retention(struct store_txn *txn, const char *name,
    const void *data, size_t len);

/* store_disk_usage - bytes of the database files (log and index), for /metrics. */
uint64_t store_disk_usage(struct store *st);

#endif
