/*
 * The index tail (ledgerd/tail.h) with the store and its merges, in
 * process: random interleavings of commits, failed commits, merges,
 * reclaims, restarts and queries, every answer compared with a naive scan
 * of the entries the querying snapshot holds.  Readers that hold their
 * snapshot across merges, and reader threads that query while the writer
 * appends and merges, must see every entry of their snapshot exactly once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/indexer.h"
#include "../ledgerd/store.h"
#include "../ledgerd/tail.h"
#include "../ledgerd/tail_merge.h"
#include "daemon.h"
#include "rnd.h"
#include "testlib.h"

#define N_SUBJECTS 7
#define N_USERS 3
#define MAX_ENTRIES 6000
#define SEGMENT 37		/* small: many merges, segments split commits */
#define MAP_SIZE (256ULL << 20)

/* The test's mirror of each entry: what the naive scan looks at. */
static struct {
	int subject[2];		/* -1: none */
	int user;
	int type;
	int64_t ref;		/* the seq it rests on, or -1 */
} ents[MAX_ENTRIES];

static const char *const types[] = { "share", "query", "advice" };

static void
subject_value(int s, char *out, size_t size)
{
	snprintf(out, size, "tok-subject-%d", s);
}

/* The entry object of seq, as the writer indexes it (subjects are tokens). */
static char *
entry_text(uint64_t seq)
{
	char subjects[96] = "", refs[48] = "";

	if (ents[seq].subject[0] >= 0 && ents[seq].subject[1] >= 0)
		snprintf(subjects, sizeof(subjects),
		    ",\"subjects\":[\"tok-subject-%d\",\"tok-subject-%d\"]",
		    ents[seq].subject[0], ents[seq].subject[1]);
	else if (ents[seq].subject[0] >= 0)
		snprintf(subjects, sizeof(subjects),
		    ",\"subjects\":[\"tok-subject-%d\"]", ents[seq].subject[0]);
	if (ents[seq].ref >= 0)
		snprintf(refs, sizeof(refs), ",\"refs\":[%lld]",
		    (long long)ents[seq].ref);
	return xasprintf("{\"seq\":%llu,\"type\":\"%s\",\"actor\":{\"org\":"
	    "\"police\",\"user\":\"u%d\"},\"object\":{\"ref\":\"doc-%llu\"}%s%s}",
	    (unsigned long long)seq, types[ents[seq].type], ents[seq].user,
	    (unsigned long long)seq, subjects, refs);
}

static void
make_entry(uint64_t seq)
{
	ents[seq].subject[0] = rnd(4) == 0 ? -1 : (int)rnd(N_SUBJECTS);
	/* Sometimes a second subject (never the same one: events name each once). */
	ents[seq].subject[1] = ents[seq].subject[0] < 0 || rnd(3) != 0 ? -1 :
	    (ents[seq].subject[0] + 1 + (int)rnd(N_SUBJECTS - 1)) % N_SUBJECTS;
	ents[seq].user = (int)rnd(N_USERS);
	ents[seq].type = (int)rnd(3);
	ents[seq].ref = seq > 0 && rnd(3) == 0 ? (int64_t)rnd(seq) : -1;
}

/* Whether entry seq carries (kind, value). */
static int
carries(uint64_t seq, int kind, const char *value)
{
	char buf[64];

	switch (kind) {
	case STORE_IDX_SUBJECT:
		for (int i = 0; i < 2; i++) {
			if (ents[seq].subject[i] < 0)
				continue;
			subject_value(ents[seq].subject[i], buf, sizeof(buf));
			if (strcmp(buf, value) == 0)
				return 1;
		}
		return 0;
	case STORE_IDX_USER:
		snprintf(buf, sizeof(buf), "police/u%d", ents[seq].user);
		return strcmp(buf, value) == 0;
	case STORE_IDX_TYPE:
		return strcmp(types[ents[seq].type], value) == 0;
	case STORE_IDX_OBJECT:
		snprintf(buf, sizeof(buf), "doc-%llu", (unsigned long long)seq);
		return strcmp(buf, value) == 0;
	}
	return 0;
}

/* A random query key. */
static int
random_key(uint64_t size, char *value, size_t cap)
{
	switch (rnd(4)) {
	case 0:
		subject_value((int)rnd(N_SUBJECTS + 1), value, cap);
		return STORE_IDX_SUBJECT;
	case 1:
		snprintf(value, cap, "police/u%d", (int)rnd(N_USERS));
		return STORE_IDX_USER;
	case 2:
		snprintf(value, cap, "%s", types[rnd(3)]);
		return STORE_IDX_TYPE;
	default:
		snprintf(value, cap, "doc-%llu",
		    (unsigned long long)(size ? rnd(size + 2) : 0));
		return STORE_IDX_OBJECT;
	}
}

/*
 * One scan through txn (a snapshot of size entries) against the naive
 * answer.  Returns 1 when they agree.
 */
static int
scan_agrees(struct store_txn *txn, uint64_t size, int kind, const char *value,
    uint64_t from, int reverse, size_t max)
{
	uint64_t got[64], want[64];
	size_t n = 0, m = 0;
	int rc;

	if (max > 64)
		max = 64;
	rc = store_index_scan(txn, kind, value, strlen(value), from, reverse,
	    got, max, &n);
	if (rc != 0)
		return 0;
	if (reverse) {
		for (uint64_t s = (from < size ? from + 1 : size); s-- > 0 && m < max;)
			if (carries(s, kind, value))
				want[m++] = s;
	} else {
		for (uint64_t s = from; s < size && m < max; s++)
			if (carries(s, kind, value))
				want[m++] = s;
	}
	if (n != m || memcmp(got, want, n * sizeof(uint64_t)) != 0) {
		fprintf(stderr, "  scan '%c' %s from %llu%s max %zu at size %llu: "
		    "%zu seqs, %zu expected\n", kind, value,
		    (unsigned long long)from, reverse ? " reverse" : "", max,
		    (unsigned long long)size, n, m);
		return 0;
	}
	/* And the point lookup of each, and of a seq it does not carry. */
	for (size_t i = 0; i < n; i++)
		if (store_index_contains(txn, kind, value, strlen(value),
		    got[i]) != 0)
			return 0;
	if (size > 0) {
		uint64_t s = rnd(size + 1);
		int has = s < size && carries(s, kind, value);
		rc = store_index_contains(txn, kind, value, strlen(value), s);
		if ((rc == 0) != has) {
			fprintf(stderr, "  contains '%c' %s seq %llu: %d\n", kind,
			    value, (unsigned long long)s, rc);
			return 0;
		}
	}
	return 1;
}

static int
random_scan_agrees(struct store_txn *txn, uint64_t size)
{
	char value[64];
	int kind = random_key(size, value, sizeof(value));

	return scan_agrees(txn, size, kind, value, rnd(size + 2), (int)rnd(2),
	    1 + rnd(40));
}

struct ledger {
	char dir[600];
	struct store *st;
	struct tail *tail;
	uint64_t size;
};

/*
 * Appends n entries in one commit, as the writer does: records into the
 * tail, then the entries and the head; fail makes the commit abort (the
 * writer's failed commit).
 */
static int
commit(struct ledger *l, int n, int fail)
{
	struct store_state state = { .tree_size = l->size };
	struct store_txn *txn;
	int rc;

	if ((rc = store_write_begin(l->st, &txn)) != 0)
		return rc;
	for (int i = 0; i < n && l->size + i < MAX_ENTRIES; i++) {
		uint64_t seq = l->size + i;
		char *text;
		json_t *entry;

		make_entry(seq);
		text = entry_text(seq);
		entry = json_loads(text, 0, NULL);
		if (entry == NULL || (rc = tail_add(l->tail, seq, entry, NULL)) != 0 ||
		    (rc = store_put_entry(txn, seq, text, strlen(text))) != 0) {
			json_decref(entry);
			free(text);
			store_txn_end(txn);
			return rc ? rc : LEDGER_EIO;
		}
		json_decref(entry);
		free(text);
		state.tree_size = seq + 1;
	}
	if (fail) {
		store_txn_end(txn);
		tail_truncate(l->tail, l->size);
		return 0;
	}
	if ((rc = store_put_state(txn, &state)) != 0 ||
	    (rc = store_commit(txn)) != 0)
		return rc;
	l->size = state.tree_size;
	tail_committed(l->tail, l->size);
	return 0;
}

static int
ledger_open(struct ledger *l)
{
	uint64_t rebuilt;
	int rc;

	if ((rc = store_open(l->dir, MAP_SIZE, 0, &l->st)) != 0 ||
	    (rc = tail_open(l->st, SEGMENT, &l->tail, &rebuilt)) != 0)
		return rc;
	store_set_tail(l->st, l->tail);
	return 0;
}

static void
ledger_close(struct ledger *l)
{
	store_set_tail(l->st, NULL);
	tail_free(l->tail);
	store_close(l->st);
	l->tail = NULL;
	l->st = NULL;
}

/* The record checks fsck makes, through a reader without the tail. */
struct exact {
	struct store_txn *txn;
	int below;		/* the entry is below the watermark */
	int bad;
	uint64_t records;
};

static int
check_record(void *ctx, int kind, const void *value, size_t len, uint64_t seq)
{
	struct exact *x = ctx;
	int rc = store_index_contains(x->txn, kind, value, len, seq);

	if (x->below) {
		x->records++;
		x->bad |= rc != 0;
	} else
		x->bad |= rc == 0;
	return 0;
}

/* LMDB holds exactly the records of the entries below the watermark. */
static int
lmdb_holds_exactly_below(struct ledger *l)
{
	struct exact x = { 0 };
	struct store *st;
	uint64_t indexed, stored;
	int ok = 1;

	if (store_open(l->dir, MAP_SIZE, 1, &st) != 0)
		return 0;
	if (store_read_begin(st, &x.txn) != 0) {
		store_close(st);
		return 0;
	}
	if (store_get_indexed(x.txn, &indexed) != 0 || indexed > l->size)
		ok = 0;
	for (uint64_t s = 0; ok && s < l->size; s++) {
		char *text = entry_text(s);
		json_t *entry = json_loads(text, 0, NULL);

		x.below = s < indexed;
		index_records(s, entry, NULL, check_record, &x);
		json_decref(entry);
		free(text);
	}
	if (!ok || x.bad || store_index_count(x.txn, &stored) != 0 ||
	    stored != x.records)
		ok = 0;
	printf("  watermark %llu of %llu entries; %llu records in LMDB\n",
	    (unsigned long long)indexed, (unsigned long long)l->size,
	    (unsigned long long)x.records);
	store_txn_end(x.txn);
	store_close(st);
	return ok;
}

static void
test_interleavings(void)
{
	struct ledger l = { .size = 0 };
	char tmp[] = "/tmp/test-tail.XXXXXX";
	struct store_txn *held = NULL;
	uint64_t held_size = 0, merged;
	int steps = 1500;

	REQUIRE(mkdtemp(tmp) != NULL);
	snprintf(l.dir, sizeof(l.dir), "%s", tmp);
	REQUIRE(ledger_open(&l) == 0);
	for (int step = 0; step < steps && test_failures_ == 0; step++) {
		uint64_t r = rnd(100);
		struct store_txn *txn;

		if (r < 30) {
			CHECK_INT(commit(&l, 1 + (int)rnd(r < 5 ? 120 : 8), 0), 0);
		} else if (r < 34) {
			CHECK_INT(commit(&l, 1 + (int)rnd(50), 1), 0);
		} else if (r < 44) {
			/* The writer's turn between commits. */
			tail_seal_older(l.tail, INT64_MAX / 2, 0);
			CHECK_INT(tail_merge_one(l.st, l.tail, &merged), 0);
			tail_reclaim(l.tail);
		} else if (r < 48) {
			/* A reader holding its snapshot across merges. */
			if (held == NULL) {
				CHECK_INT(store_read_begin(l.st, &held), 0);
				held_size = l.size;
			} else {
				store_txn_end(held);
				held = NULL;
			}
		} else if (r < 50 && held == NULL) {
			/* A stop (or a crash: the tail is memory only). */
			ledger_close(&l);
			REQUIRE(ledger_open(&l) == 0);
		} else {
			CHECK_INT(store_read_begin(l.st, &txn), 0);
			for (int q = 0; q < 4; q++)
				CHECK(random_scan_agrees(txn, l.size));
			store_txn_end(txn);
			if (held != NULL)
				CHECK(random_scan_agrees(held, held_size));
		}
	}
	store_txn_end(held);
	CHECK(lmdb_holds_exactly_below(&l));
	printf("  %llu entries\n", (unsigned long long)l.size);
	ledger_close(&l);
	remove_tree(tmp);
}

/*
 * Reader threads against a writer that appends (and fails commits) and a
 * merging thread that seals, merges and reclaims, as in the daemon.
 */
struct race {
	struct ledger *l;
	_Atomic int stop;
	int failures;
	uint64_t queries;
	uint64_t seed;
};

/*
 * Reads subject s's whole timeline in one snapshot, in pages of 64, and
 * compares it with the entries the snapshot holds.  Returns the mismatches
 * (1 when the store cannot be read).
 */
static int
timeline_agrees(struct ledger *l, int s)
{
	struct store_txn *txn;
	struct store_state st;
	char value[64];
	uint64_t got[64], n_want = 0, want = 0;
	size_t n;
	int failures = 0;

	subject_value(s, value, sizeof(value));
	if (store_read_begin(l->st, &txn) != 0)
		return 1;
	if (store_get_state(txn, &st) != 0)
		failures++;
	for (uint64_t from = 0;;) {
		if (store_index_scan(txn, STORE_IDX_SUBJECT, value,
		    strlen(value), from, 0, got, 64, &n) != 0) {
			failures++;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			/* Entries of the snapshot only, in order, each once. */
			if (got[i] >= st.tree_size || got[i] < from ||
			    !carries(got[i], STORE_IDX_SUBJECT, value))
				failures++;
			from = got[i] + 1;
		}
		n_want += n;
		if (n < 64)
			break;
	}
	for (uint64_t q = 0; q < st.tree_size; q++)
		want += carries(q, STORE_IDX_SUBJECT, value);
	if (want != n_want)
		failures++;
	store_txn_end(txn);
	return failures;
}

static void *
reader(void *arg)
{
	struct race *rc = arg;
	uint64_t state = rc->seed;

	while (!rc->stop) {
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		rc->failures += timeline_agrees(rc->l,
		    (int)((state >> 33) % N_SUBJECTS));
		rc->queries++;
	}
	return NULL;
}

struct merging {
	struct ledger *l;
	_Atomic int stop;
	int always_seal;		/* seal before every merge */
	int failures;
	uint64_t merges;
};

static void *
merger(void *arg)
{
	struct merging *m = arg;
	uint64_t state = 99, merged;

	while (!m->stop) {
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		/* Seals the open segment at any point of a commit. */
		if (m->always_seal || (state >> 40) % 3 == 0)
			tail_seal_older(m->l->tail, INT64_MAX / 2, 0);
		if (tail_merge_one(m->l->st, m->l->tail, &merged) != 0)
			m->failures++;
		m->merges += merged > 0;
		tail_reclaim(m->l->tail);
		if (merged == 0)
			usleep(50);
	}
	return NULL;
}

static void
test_readers_race_merges(void)
{
	struct ledger l = { .size = 0 };
	char tmp[] = "/tmp/test-tail.XXXXXX";
	struct race rc[3];
	struct merging mg = { .l = &l };
	pthread_t th[3], mth;
	uint64_t queries = 0;

	REQUIRE(mkdtemp(tmp) != NULL);
	snprintf(l.dir, sizeof(l.dir), "%s", tmp);
	REQUIRE(ledger_open(&l) == 0);
	/* Entries the readers' carries() may look at are written before. */
	for (int k = 0; k < 3; k++) {
		rc[k] = (struct race){ .l = &l, .seed = 17 + (uint64_t)k };
		REQUIRE(pthread_create(&th[k], NULL, reader, &rc[k]) == 0);
	}
	REQUIRE(pthread_create(&mth, NULL, merger, &mg) == 0);
	while (l.size < 3000 && test_failures_ == 0)
		CHECK_INT(commit(&l, 1 + (int)rnd(30), rnd(10) == 0), 0);
	mg.stop = 1;
	pthread_join(mth, NULL);
	CHECK_INT(mg.failures, 0);
	CHECK(mg.merges > 10);
	for (int k = 0; k < 3; k++) {
		rc[k].stop = 1;
		pthread_join(th[k], NULL);
		CHECK_INT(rc[k].failures, 0);
		queries += rc[k].queries;
	}
	printf("  %llu entries, %llu timelines read while appending and "
	    "merging (%llu merges on their own thread)\n",
	    (unsigned long long)l.size, (unsigned long long)queries,
	    (unsigned long long)mg.merges);
	ledger_close(&l);
	remove_tree(tmp);
}

/*
 * A quiet log, as the daemon's merging thread sees it: no reader holds a
 * pin, so every merged segment, the newest included, is freed at once,
 * while the writer goes on adding (the writer must never reach a segment
 * through a pointer read before the lock).
 */
static void
test_writer_races_reclaim(void)
{
	struct ledger l = { .size = 0 };
	char tmp[] = "/tmp/test-tail.XXXXXX";
	struct merging mg = { .l = &l };
	pthread_t mth;
	int failures = 0;

	REQUIRE(mkdtemp(tmp) != NULL);
	snprintf(l.dir, sizeof(l.dir), "%s", tmp);
	REQUIRE(ledger_open(&l) == 0);
	mg.always_seal = 1;
	REQUIRE(pthread_create(&mth, NULL, merger, &mg) == 0);
	while (l.size < 3000 && test_failures_ == 0)
		CHECK_INT(commit(&l, 1 + (int)rnd(3), rnd(20) == 0), 0);
	mg.stop = 1;
	pthread_join(mth, NULL);
	CHECK_INT(mg.failures, 0);
	CHECK(mg.merges > 100);
	for (int s = 0; s < N_SUBJECTS; s++)
		failures += timeline_agrees(&l, s);
	CHECK_INT(failures, 0);
	printf("  %llu entries, %llu merges, each segment freed as merged\n",
	    (unsigned long long)l.size, (unsigned long long)mg.merges);
	ledger_close(&l);
	CHECK(lmdb_holds_exactly_below(&l));
	remove_tree(tmp);
}

/*
 * A segment sealed by age while a commit of its entries runs cannot be
 * merged (they are not durable); when that commit fails and the tail is
 * cut back, it can, and tail_truncate says so, or a quiet log would keep
 * it in memory until the next commit.
 */
static void
test_truncate_releases_a_sealed_segment(void)
{
	struct tail *t = tail_new(0, 1000);
	uint64_t lo, hi;

	for (uint64_t seq = 0; seq < 8; seq++) {
		char *text;
		json_t *entry;

		make_entry(seq);
		text = entry_text(seq);
		entry = json_loads(text, 0, NULL);
		REQUIRE(entry != NULL);
		CHECK_INT(tail_add(t, seq, entry, NULL), 0);
		json_decref(entry);
		free(text);
		if (seq == 4)
			CHECK_INT(tail_committed(t, 5), 1);	/* a segment begun */
	}
	/* Entries 5..7 are in a commit under way; the segment seals by age. */
	tail_seal_older(t, INT64_MAX / 2, 0);
	CHECK(tail_next_merge(t) == NULL);
	CHECK(tail_due(t, 0, 1000) != 0);
	/* The commit fails: back to 5 entries, all durable. */
	CHECK_INT(tail_truncate(t, 5), 1);
	REQUIRE(tail_next_merge(t) != NULL);
	tail_segment_range(tail_next_merge(t), &lo, &hi);
	CHECK_INT(lo, 0);
	CHECK_INT(hi, 5);
	CHECK_INT(tail_due(t, 0, 1000), 0);
	/* A truncation that leaves nothing to merge says so. */
	CHECK_INT(tail_truncate(t, 5), 0);
	tail_free(t);
}

/* Index records gathered as "kind:value" lines. */
struct record_text {
	char buf[8192];
	size_t len;
};

static int
record_line(void *ctx, int kind, const void *value, size_t len, uint64_t seq)
{
	struct record_text *t = ctx;
	int n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len,
	    "%d:%llu:%.*s\n", kind, (unsigned long long)seq, (int)len,
	    (const char *)value);

	if (n > 0 && (size_t)n < sizeof(t->buf) - t->len)
		t->len += (size_t)n;
	return LEDGER_OK;
}

/*
 * The writer indexes the event with its subjects' tokens
 * (index_event_records); fsck and reindex index the entry made of it
 * (index_records).  Both must give the same records, in the same order.
 */
static void
test_event_records(void)
{
	static const char *const tokens[] = {
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-0",
		"ZZECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	};
	struct ledger_entry_meta meta;
	struct record_text a, b;

	memset(&meta, 0, sizeof(meta));
	snprintf(meta.received_at, sizeof(meta.received_at), "%s",
	    "2026-03-04T05:06:07.123456Z");
	meta.submitter = "police-app";
	for (int round = 0; round < 2000; round++) {
		size_t n_subjects = rnd(4), n_recipients = rnd(3), i;
		json_t *ev = json_pack("{s:s, s:{s:s, s:s}, s:s}",
		    "type", types[rnd(3)], "actor", "org", "police", "user",
		    rnd(2) ? "u1" : "officer \xc3\xa9", "occurred_at",
		    "2026-03-04T05:00:00Z");
		json_t *subjects = json_array(), *recipients = json_array();
		json_t *refs = json_array(), *entry;

		for (i = 0; i < n_subjects; i++)
			json_array_append_new(subjects, json_sprintf("NL-%zu", i));
		for (i = 0; i < n_recipients; i++)
			json_array_append_new(recipients,
			    json_string(i ? "fiod" : "kmar"));
		for (i = 0, n_recipients = rnd(3); i < n_recipients; i++)
			json_array_append_new(refs, json_integer((json_int_t)
			    (rnd(1000) * 1000 + i)));
		if (n_subjects > 0 || rnd(2))
			json_object_set_new(ev, "subjects", subjects);
		else
			json_decref(subjects);
		json_object_set_new(ev, "recipients", recipients);
		json_object_set_new(ev, "refs", refs);
		if (rnd(4))
			json_object_set_new(ev, "object", json_pack("{s:s}",
			    "ref", rnd(2) ? "doc-1" : "case/\xe2\x82\xac"));
		meta.seq = rnd(1000000);
		REQUIRE(ledger_entry_build_tokens(ev, &meta, tokens,
		    json_array_size(json_object_get(ev, "subjects")),
		    &entry) == 0);
		a.len = b.len = 0;
		CHECK_INT(index_event_records(meta.seq, ev, tokens, record_line,
		    &a), 0);
		CHECK_INT(index_records(meta.seq, entry, NULL, record_line, &b),
		    0);
		CHECK(a.len > 0);
		CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
		json_decref(entry);
		json_decref(ev);
		if (test_failures_)
			return;
	}
}

int
main(void)
{
	rnd_seed(0x7a11beefcafe0001ULL);
	RUN(test_event_records);
	RUN(test_interleavings);
	RUN(test_readers_race_merges);
	RUN(test_writer_races_reclaim);
	RUN(test_truncate_releases_a_sealed_segment);
	return TEST_SUMMARY();
}
