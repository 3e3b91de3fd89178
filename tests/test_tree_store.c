/*
 * The tree hashes in the store (store.h, "tree"): every node of every tree
 * size up to a few hundred leaves, read back in a shuffled order through a
 * read transaction's cursor, and every proof, against an in-memory tree;
 * the key layout on disk decoded independently from its documentation; a
 * store of the older layout answering as before, then moved in steps
 * interrupted by closes, with reads checked after each; a missing hash
 * stopping the move without loss; and the real daemon moving such a store
 * after a crash in the middle of the move.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/store.h"
#include "apiutil.h"
#include "rawlmdb.h"
#include "daemon.h"
#include "http.h"
#include "rnd.h"
#include "testlib.h"

#define MAP_SIZE (64ULL << 20)

static void
leaf_of(uint64_t i, uint8_t out[LEDGER_HASH_LEN])
{
	char buf[32];

	snprintf(buf, sizeof(buf), "leaf %" PRIu64, i);
	ledger_leaf_hash(buf, strlen(buf), out);
}

/* Appends leaves [from, to) to the store in commits of 1..13 leaves. */
static int
append_leaves(struct store *st, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t end = from + 1 + rnd(13);
		struct store_txn *txn;
		struct ledger_hash_store hs;
		struct store_state state = { 0 };

		if (end > to)
			end = to;
		if (store_write_begin(st, &txn) != 0)
			return -1;
		hs = store_hash_store(txn);
		for (; from < end; from++) {
			uint8_t leaf[LEDGER_HASH_LEN];

			leaf_of(from, leaf);
			if (ledger_merkle_append(&hs, from, leaf) != 0) {
				store_txn_end(txn);
				return -1;
			}
		}
		state.tree_size = end;
		if (store_put_state(txn, &state) != 0 || store_commit(txn) != 0)
			return -1;
	}
	return 0;
}

static struct ledger_memstore *
memtree(uint64_t size)
{
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	uint64_t i;

	for (i = 0; i < size; i++) {
		uint8_t leaf[LEDGER_HASH_LEN];

		leaf_of(i, leaf);
		ledger_merkle_append(&hs, i, leaf);
	}
	return ms;
}

static uint64_t
expected_nodes(uint64_t size)
{
	uint64_t n = 0;
	unsigned level;

	for (level = 0; level < 64; level++)
		n += size >> level;
	return n;
}

/*
 * Checks, in one read transaction, that the store holds the tree of size
 * leaves: every node (in a shuffled order, so that the cursor jumps between
 * pages and back), the count, every inclusion proof (all of them up to 300
 * leaves, else 300 drawn) and consistency proofs.  Returns the mismatches.
 */
static int
check_tree(struct store *st, uint64_t size)
{
	struct ledger_memstore *ms = memtree(size);
	struct ledger_hash_store mhs = ledger_memstore_hash_store(ms);
	struct ledger_hash_store shs;
	struct store_txn *txn;
	uint64_t *order, n = 0, i, count;
	unsigned level;
	int bad = 0;

	if (store_read_begin(st, &txn) != 0) {
		ledger_memstore_free(ms);
		return 1;
	}
	shs = store_hash_store(txn);
	order = xcalloc(expected_nodes(size) + 1, sizeof(*order));
	for (level = 0; level < 64; level++)
		for (i = 0; i < size >> level; i++)
			order[n++] = (uint64_t)level << 58 | i;
	for (i = n; i > 1; i--) {
		uint64_t j = rnd(i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		uint8_t a[LEDGER_HASH_LEN], b[LEDGER_HASH_LEN];
		unsigned lv = (unsigned)(order[i] >> 58);
		uint64_t idx = order[i] & ((1ULL << 58) - 1);

		if (shs.get(shs.ctx, lv, idx, a) != 0 ||
		    mhs.get(mhs.ctx, lv, idx, b) != 0 ||
		    memcmp(a, b, LEDGER_HASH_LEN) != 0) {
			if (bad++ < 5)
				fprintf(stderr, "  size %" PRIu64 ": node (%u, %"
				    PRIu64 ") differs\n", size, lv, idx);
		}
	}
	free(order);
	if (store_hash_count(txn, &count) != 0 || count != expected_nodes(size)) {
		fprintf(stderr, "  size %" PRIu64 ": %" PRIu64 " hashes stored\n",
		    size, count);
		bad++;
	}
	for (i = 0; i < (size <= 300 ? size : 300); i++) {
		uint8_t p1[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
		uint8_t p2[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
		uint64_t leaf = size <= 300 ? i : rnd(size), old = 1 + rnd(size);
		size_t n1, n2;

		if (ledger_merkle_inclusion_proof(&shs, leaf, size, p1, &n1) != 0 ||
		    ledger_merkle_inclusion_proof(&mhs, leaf, size, p2, &n2) != 0 ||
		    n1 != n2 || memcmp(p1, p2, n1 * LEDGER_HASH_LEN) != 0)
			bad++;
		if (ledger_merkle_consistency_proof(&shs, old, size, p1, &n1) != 0 ||
		    ledger_merkle_consistency_proof(&mhs, old, size, p2, &n2) != 0 ||
		    n1 != n2 || memcmp(p1, p2, n1 * LEDGER_HASH_LEN) != 0)
			bad++;
	}
	store_txn_end(txn);
	ledger_memstore_free(ms);
	return bad;
}

static int
fresh_store(char dir[64], struct store **st)
{
	snprintf(dir, 64, "/tmp/ledger-tree.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return store_open(dir, MAP_SIZE, 0, st);
}

/* Every tree size up to 300, and a few around powers of 16, from empty. */
static void
test_every_size(void)
{
	static const uint64_t big[] = { 4095, 4096, 4097, 5000 };
	struct store *st;
	char dir[64];
	uint64_t size = 0;
	size_t k;

	REQUIRE(fresh_store(dir, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 0);
	CHECK_INT(check_tree(st, 0), 0);
	while (size < 300 && test_failures_ == 0) {
		uint64_t next = size + 1 + rnd(3);

		REQUIRE(append_leaves(st, size, next) == 0);
		size = next;
		CHECK_INT(check_tree(st, size), 0);
	}
	for (k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
		REQUIRE(append_leaves(st, size, big[k]) == 0);
		size = big[k];
		CHECK_INT(check_tree(st, size), 0);
	}
	store_close(st);
	remove_tree(dir);
}

/*
 * The layout of store.h, decoded here on its own: stratum level / 4, then
 * the stratum's index, then row << 4 | position.
 */
static void
decode_tree_key(const uint8_t *key, unsigned *level, uint64_t *index)
{
	unsigned row = key[9] >> 4, pos = key[9] & 15;

	*level = key[0] * 4u + row;
	*index = ledger_get_be64(key + 1) << (4 - row) | pos;
}

/*
 * Rewrites the store's tree database as the older layout (hashes: level
 * (1 byte) || index (8-byte BE)), as a store written before the strata
 * was.  Every key found must decode to a node of a tree of size leaves,
 * and each only once.  Returns the records moved, or -1.
 */
static long long
make_legacy(const char *dir, uint64_t size)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi tree, hashes;
	MDB_cursor *c;
	MDB_val k, v;
	long long moved = 0;
	int rc = -1;

	if (raw_begin(dir, STORE_FILE, 0, &env, &txn) != 0)
		return -1;
	if (mdb_dbi_open(txn, "tree", 0, &tree) != 0 ||
	    mdb_dbi_open(txn, "hashes", MDB_CREATE, &hashes) != 0 ||
	    mdb_cursor_open(txn, tree, &c) != 0)
		return raw_end(env, txn, 0);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		uint8_t old[9];
		MDB_val ok = { sizeof(old), old };
		unsigned level;
		uint64_t index;

		if (k.mv_size != 10 || v.mv_size != LEDGER_HASH_LEN)
			break;
		decode_tree_key(k.mv_data, &level, &index);
		if (level >= 64 || index >= size >> level)
			break;
		old[0] = (uint8_t)level;
		ledger_put_be64(old + 1, index);
		if (mdb_put(txn, hashes, &ok, &v, MDB_NOOVERWRITE) != 0)
			break;
		moved++;
	}
	mdb_cursor_close(c);
	if (raw_end(env, txn, rc == MDB_NOTFOUND &&
	    mdb_drop(txn, tree, 1) == 0) != 0)
		return -1;
	return moved;
}

/* What an older release does on opening a moved store: an empty hashes. */
static int
create_empty_hashes(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	if (raw_begin(dir, STORE_FILE, 0, &env, &txn) != 0)
		return -1;
	return raw_end(env, txn, mdb_dbi_open(txn, "hashes", MDB_CREATE,
	    &dbi) == 0);
}

/* Deletes the older layout's hash (level, index). */
static int
delete_legacy_hash(const char *dir, unsigned level, uint64_t index)
{
	uint8_t key[9];
	MDB_val k = { sizeof(key), key };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	key[0] = (uint8_t)level;
	ledger_put_be64(key + 1, index);
	if (raw_begin(dir, STORE_FILE, 0, &env, &txn) != 0)
		return -1;
	return raw_end(env, txn, mdb_dbi_open(txn, "hashes", 0, &dbi) == 0 &&
	    mdb_del(txn, dbi, &k, NULL) == 0);
}

/*
 * An older store answers as before, takes appends in its own layout, and
 * is moved in small steps with the store closed and opened again between
 * some of them (a stop on the way); after each, reads are right.
 */
static void
test_legacy_moved_in_steps(void)
{
	struct store *st;
	char dir[64];
	uint64_t size = 1000, moved, copied = 0;
	int done = 0, steps = 0;

	REQUIRE(fresh_store(dir, &st) == 0);
	REQUIRE(append_leaves(st, 0, size) == 0);
	store_close(st);
	CHECK_INT(make_legacy(dir, size), (long long)expected_nodes(size));
	CHECK_INT(raw_has(dir, STORE_FILE, "tree", NULL), 0);

	/* Read-only (fsck) first: it cannot create tree, and reads hashes. */
	REQUIRE(store_open(dir, MAP_SIZE, 1, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 1);
	CHECK_INT(check_tree(st, size), 0);
	store_close(st);

	REQUIRE(store_open(dir, MAP_SIZE, 0, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 1);
	CHECK_INT(check_tree(st, size), 0);
	/* Appends before the move go to the older layout. */
	REQUIRE(append_leaves(st, size, size + 77) == 0);
	size += 77;
	CHECK_INT(check_tree(st, size), 0);

	while (!done) {
		REQUIRE(store_tree_migrate_step(st, 1 + rnd(40), &moved,
		    &done) == 0);
		copied += moved;
		REQUIRE(++steps < 10000);
		/* The older layout serves until the copy's last commit. */
		CHECK_INT(store_tree_legacy(st), !done);
		if (steps % 7 == 0 || done) {
			CHECK_INT(check_tree(st, size), 0);
			if (test_failures_)
				break;
		}
		if (steps % 5 == 0) {
			store_close(st);
			REQUIRE(store_open(dir, MAP_SIZE, 0, &st) == 0);
			CHECK_INT(store_tree_legacy(st), !done);
			/* fsck's open, half moved, reads the same tree. */
			if (steps % 3 == 0 && !done) {
				struct store *ro;

				REQUIRE(store_open(dir, MAP_SIZE, 1, &ro) == 0);
				CHECK_INT(store_tree_legacy(ro), 1);
				CHECK_INT(check_tree(ro, size), 0);
				store_close(ro);
			}
		}
	}
	CHECK(steps > 20);
	CHECK_INT(copied, expected_nodes(size));
	/* Done: nothing left to move, the older database gone. */
	REQUIRE(store_tree_migrate_step(st, 10, &moved, &done) == 0);
	CHECK_INT(moved, 0);
	CHECK_INT(done, 1);
	CHECK_INT(store_compact_due(st), 1);
	REQUIRE(append_leaves(st, size, size + 50) == 0);
	size += 50;
	CHECK_INT(check_tree(st, size), 0);
	store_close(st);
	CHECK_INT(raw_has(dir, STORE_FILE, "hashes", NULL), 0);
	CHECK_INT(raw_has(dir, STORE_FILE, "tree", NULL), 1);
	REQUIRE(store_open(dir, MAP_SIZE, 1, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 0);
	CHECK_INT(check_tree(st, size), 0);
	store_close(st);

	/*
	 * An older release started on the moved store creates an empty
	 * hashes (and refuses to start): not taken for the older layout,
	 * and dropped by the next move.
	 */
	REQUIRE(create_empty_hashes(dir) == 0);
	REQUIRE(store_open(dir, MAP_SIZE, 1, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 0);
	CHECK_INT(check_tree(st, size), 0);
	store_close(st);
	REQUIRE(store_open(dir, MAP_SIZE, 0, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 0);
	REQUIRE(store_compact_done(st) == 0);
	REQUIRE(store_tree_migrate(st) == 0);
	CHECK_INT(store_compact_due(st), 0);
	CHECK_INT(check_tree(st, size), 0);
	store_close(st);
	CHECK_INT(raw_has(dir, STORE_FILE, "hashes", NULL), 0);
	remove_tree(dir);
}

/*
 * A hash the tree needs is missing from the older layout: the move stops
 * with LEDGER_ECORRUPT where it is, and keeps the older database.
 */
static void
test_missing_hash_stops_the_move(void)
{
	struct store *st;
	char dir[64];
	uint64_t size = 300, moved;
	int done = 0;

	REQUIRE(fresh_store(dir, &st) == 0);
	REQUIRE(append_leaves(st, 0, size) == 0);
	store_close(st);
	REQUIRE(make_legacy(dir, size) > 0);
	REQUIRE(delete_legacy_hash(dir, 2, 40) == 0);
	REQUIRE(store_open(dir, MAP_SIZE, 0, &st) == 0);
	CHECK_INT(store_tree_migrate_step(st, 1000000, &moved, &done),
	    LEDGER_ECORRUPT);
	CHECK_INT(done, 0);
	store_close(st);
	CHECK_INT(raw_has(dir, STORE_FILE, "hashes", NULL), 1);
	REQUIRE(store_open(dir, MAP_SIZE, 0, &st) == 0);
	CHECK_INT(store_tree_legacy(st), 1);
	store_close(st);
	remove_tree(dir);
}

/*
 * Pages the store's file lacks at its end: the meta page's last page + 1
 * minus the file's pages (<= 0 when it holds them all).
 */
static long long
pages_short(const char *dir)
{
	char path[700];
	MDB_envinfo info;
	MDB_env *env;
	MDB_txn *txn;
	struct stat sb;
	long long n = -1000000;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	if (raw_begin(dir, STORE_FILE, MDB_RDONLY, &env, &txn) != 0)
		return n;
	if (mdb_env_info(env, &info) == 0 && stat(path, &sb) == 0)
		n = (long long)info.me_last_pgno + 1 - sb.st_size / 4096;
	raw_end(env, txn, 0);
	return n;
}

/*
 * Records put and deleted again in one transaction: the pages they took
 * at the end of the file are freed before they are ever written, so the
 * file ends before the meta page's last page.
 */
static int
leave_free_pages_unwritten(const char *dir)
{
	enum { VALUES = 4, VALUE_LEN = 100000 };
	char *val = xcalloc(1, VALUE_LEN);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t i;
	int ok, rc;

	if (raw_begin(dir, STORE_FILE, 0, &env, &txn) != 0) {
		free(val);
		return -1;
	}
	ok = mdb_dbi_open(txn, "scratch", MDB_CREATE, &dbi) == 0;
	/* Values this large take runs of pages at the file's end. */
	for (i = 0; ok && i < VALUES; i++) {
		uint8_t key[8];
		MDB_val k = { sizeof(key), key }, v = { VALUE_LEN, val };

		ledger_put_be64(key, i);
		ok = mdb_put(txn, dbi, &k, &v, 0) == 0;
	}
	for (i = 0; ok && i < VALUES; i++) {
		uint8_t key[8];
		MDB_val k = { sizeof(key), key };

		ledger_put_be64(key, i);
		ok = mdb_del(txn, dbi, &k, NULL) == 0;
	}
	rc = raw_end(env, txn, ok && mdb_drop(txn, dbi, 1) == 0);
	free(val);
	return rc;
}

/*
 * A file that ends before its meta page's last page opens when every page
 * past its end is free (LMDB leaves such files), and is refused as
 * truncated when pages in use are missing.
 */
static void
test_short_file(void)
{
	struct store *st;
	char dir[64], path[128];
	struct stat sb;

	REQUIRE(fresh_store(dir, &st) == 0);
	REQUIRE(append_leaves(st, 0, 500) == 0);
	store_close(st);
	REQUIRE(leave_free_pages_unwritten(dir) == 0);
	REQUIRE(pages_short(dir) > 0);
	REQUIRE(store_open(dir, MAP_SIZE, 1, &st) == 0);
	CHECK_INT(check_tree(st, 500), 0);
	store_close(st);
	REQUIRE(store_open(dir, MAP_SIZE, 0, &st) == 0);
	CHECK_INT(check_tree(st, 500), 0);
	REQUIRE(append_leaves(st, 500, 600) == 0);
	CHECK_INT(check_tree(st, 600), 0);
	store_close(st);

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	REQUIRE(stat(path, &sb) == 0);
	REQUIRE(truncate(path, sb.st_size / 2) == 0);
	CHECK(store_open(dir, MAP_SIZE, 1, &st) != 0);
	CHECK(store_open(dir, MAP_SIZE, 0, &st) != 0);
	remove_tree(dir);
}

/* Every inclusion proof of the log's tree, against leaves and a checkpoint. */
static int
daemon_tree_good(struct daemon *d, uint64_t n)
{
	uint8_t (*leaves)[LEDGER_HASH_LEN], proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	struct ledger_checkpoint cp;
	struct http_client hc;
	uint64_t i;
	int bad = 0;

	http_client_init(&hc, d->port, d->token);
	if (wait_published(&hc, &d->verifier, (long long)n, &cp, NULL) != 0 ||
	    cp.tree_size != n || (leaves = leaf_hashes(&hc, n)) == NULL) {
		http_client_close(&hc);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct http_response r;
		char target[96];
		json_t *body;
		size_t len;

		snprintf(target, sizeof(target), "/v1/proof/inclusion?index=%"
		    PRIu64 "&tree_size=%" PRIu64, i, n);
		if (http_get(&hc, target, &r) != 0) {
			bad++;
			continue;
		}
		if (r.status != 200) {
			if (bad++ == 0)
				fprintf(stderr, "  %s: %d %.200s\n", target,
				    r.status, r.body);
			http_response_free(&r);
			continue;
		}
		body = http_response_json(&r);
		if (body == NULL || decode_hashes(json_object_get(body, "hashes"),
		    proof, LEDGER_MAX_PROOF, &len) != 0 ||
		    ledger_merkle_verify_inclusion(leaves[i], i, n,
		    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len, cp.root) != 0) {
			if (bad++ == 0)
				fprintf(stderr, "  %s: does not verify: %.200s\n",
				    target, r.body);
		}
		json_decref(body);
		http_response_free(&r);
	}
	free(leaves);
	http_client_close(&hc);
	return bad;
}

/*
 * The real daemon on a store of the older layout: the test daemon dies in
 * the move's commit, then just after it, then once the compact copy that
 * follows the move has replaced the file (smaller); fsck finds the store
 * sound after each; the daemon started again compacts again, answers
 * every proof against its checkpoint, appends, and fsck finds it sound.
 */
static void
body_daemon_moves_a_legacy_store(struct daemon *d)
{
	const char *faults = getenv("LEDGERD_FAULTS_BIN");
	char *release = xstrdup(daemon_bin()), *log, path[700], out[4096];
	const char *const fsck[] = { "fsck", d->data, NULL };
	struct stat before, after;
	struct http_client hc;
	long long moved;
	uint64_t n = 150;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, (int)n, 10) == 0);
	http_client_close(&hc);
	REQUIRE(daemon_stop(d) == 0);
	REQUIRE((moved = make_legacy(d->data, n)) == (long long)expected_nodes(n));
	CHECK_INT(daemon_tool(d, fsck, out, sizeof(out)), 0);
	CHECK(strstr(out, "fsck: OK") != NULL);
	CHECK(strstr(out, "in their older layout") != NULL);

	if (faults == NULL || faults[0] == '\0')
		faults = "build/ledgerd-faults";
	/*
	 * Dies before the copy's commit, after it (the older database gone,
	 * the compaction due), and once the compact copy has replaced the
	 * file; each time fsck finds the store sound.
	 */
	setenv("LEDGERD_BIN", faults, 1);
	setenv("LEDGERD_CRASH_AT", "tree-migrate-put", 1);
	CHECK(daemon_restart(d) != 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "hashes", NULL), 1);
	CHECK_INT(daemon_fsck(d), 0);
	setenv("LEDGERD_CRASH_AT", "tree-migrate-commit", 1);
	CHECK(daemon_restart(d) != 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "hashes", NULL), 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "meta", "compact-due"), 1);
	CHECK_INT(daemon_tool(d, fsck, out, sizeof(out)), 0);
	CHECK(strstr(out, "fsck: OK") != NULL);
	CHECK(strstr(out, "a compaction is due") != NULL);
	snprintf(path, sizeof(path), "%s/%s", d->data, STORE_FILE);
	REQUIRE(stat(path, &before) == 0);
	setenv("LEDGERD_CRASH_AT", "compact-renamed", 1);
	CHECK(daemon_restart(d) != 0);
	unsetenv("LEDGERD_CRASH_AT");
	setenv("LEDGERD_BIN", release, 1);
	free(release);
	CHECK_INT(raw_has(d->data, STORE_FILE, "meta", "compact-due"), 1);
	REQUIRE(stat(path, &after) == 0);
	CHECK(after.st_size < before.st_size);
	CHECK_INT(daemon_fsck(d), 0);

	REQUIRE(daemon_restart(d) == 0);
	log = daemon_log_read(d);
	/* Compacted again at the restart, the mark gone. */
	CHECK(log != NULL && strstr(log, "store: compacted in") != NULL);
	free(log);
	CHECK_INT(raw_has(d->data, STORE_FILE, "meta", "compact-due"), 0);
	CHECK_INT(daemon_tree_good(d, n), 0);
	http_client_init(&hc, d->port, d->token);
	CHECK(post_events(&hc, (int)n, 20, 1) == 0);
	http_client_close(&hc);
	CHECK_INT(daemon_tree_good(d, n + 20), 0);
	REQUIRE(daemon_stop(d) == 0);
	CHECK_INT(raw_has(d->data, STORE_FILE, "hashes", NULL), 0);
	CHECK_INT(daemon_fsck(d), 0);
}

static void
test_daemon_moves_a_legacy_store(void)
{
	daemon_test(body_daemon_moves_a_legacy_store);
}

int
main(void)
{
	rnd_seed(0x7ee5a1afc0ffee01ULL);
	RUN(test_every_size);
	RUN(test_legacy_moved_in_steps);
	RUN(test_missing_hash_stops_the_move);
	RUN(test_short_file);
	RUN(test_daemon_moves_a_legacy_store);
	return TEST_SUMMARY();
}
