/*
 * The tail index (tail.h): per segment, a hash table from (kind, value) to
 * the increasing seqs carrying it; epochs that keep merged segments alive
 * for the readers that may still need them.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "indexer.h"
#include "log.h"
#include "tail.h"

/* One (kind, value) of a segment and the seqs carrying it. */
struct tail_key {
	struct tail_key *next;		/* hash chain */
	uint64_t *seqs;			/* &one until a second seq comes */
	uint64_t one;
	uint32_t n, cap;
	uint32_t len;
	uint32_t hash;
	int kind;
	unsigned char value[];
};

struct tail_segment {
	struct tail_segment *next;	/* the next newer */
	uint64_t lo, hi;		/* entries [lo, hi) */
	int sealed;
	int merged;
	uint64_t retired_in;		/* epoch current at its merge commit */
	int64_t opened_us;		/* monotonic, at its first entry */
	struct tail_key **buckets;
	size_t nbuckets, nkeys;
	size_t bytes;
};

struct tail_epoch {
	struct tail_epoch *next;	/* the next newer */
	uint64_t id;
	unsigned long refs;		/* readers pinned in it */
};

struct tail {
	pthread_rwlock_t lock;		/* segments' contents and list */
	pthread_mutex_t pin_mu;		/* epochs */
	struct tail_segment *oldest, *newest;
	struct tail_epoch *epoch_oldest, *epoch_current;
	size_t segment_entries;
	uint64_t next_seq;		/* the writer's: the seq tail_add expects */
	uint64_t committed;		/* entries below are durable (tail_committed) */
	/* For tail_stats, written by the writer with relaxed atomics. */
	uint64_t watermark, end, held_lo, bytes, segments;
};

#define BUCKETS_MIN 1024

static int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
stat_set(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint64_t
stat_get(uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* FNV-1a over the kind and the value. */
static uint32_t
key_hash(int kind, const void *value, size_t len)
{
	const unsigned char *p = value;
	uint32_t h = 2166136261u;

	h = (h ^ (unsigned char)kind) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct tail_key *
key_find(const struct tail_segment *s, uint32_t h, int kind, const void *value,
    size_t len)
{
	struct tail_key *k;

	if (s->nbuckets == 0)
		return NULL;
	for (k = s->buckets[h & (s->nbuckets - 1)]; k != NULL; k = k->next)
		if (k->hash == h && k->kind == kind && k->len == len &&
		    memcmp(k->value, value, len) == 0)
			return k;
	return NULL;
}

static void
segment_grow(struct tail_segment *s)
{
	size_t n = s->nbuckets ? s->nbuckets * 2 : BUCKETS_MIN;
	struct tail_key **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < s->nbuckets; i++) {
		struct tail_key *k, *next;

		for (k = s->buckets[i]; k != NULL; k = next) {
			next = k->next;
			k->next = b[k->hash & (n - 1)];
			b[k->hash & (n - 1)] = k;
		}
	}
	s->bytes += (n - s->nbuckets) * sizeof(*b);
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static void
segment_free(struct tail_segment *s)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct tail_key *k, *next;

		for (k = s->buckets[i]; k != NULL; k = next) {
			next = k->next;
			if (k->seqs != &k->one)
				free(k->seqs);
			free(k);
		}
	}
	free(s->buckets);
	free(s);
}

/* index_emit_fn: one record into the open segment (under the write lock). */
static int
add_record(void *ctx, int kind, const void *value, size_t len, uint64_t seq)
{
	struct tail_segment *s = ctx;
	uint32_t h = key_hash(kind, value, len);
	struct tail_key *k = key_find(s, h, kind, value, len);

	if (k == NULL) {
		if (s->nkeys >= s->nbuckets)
			segment_grow(s);
		k = xcalloc(1, sizeof(*k) + len);
		k->hash = h;
		k->kind = kind;
		k->len = (uint32_t)len;
		memcpy(k->value, value, len);
		k->seqs = &k->one;
		k->cap = 1;
		k->next = s->buckets[h & (s->nbuckets - 1)];
		s->buckets[h & (s->nbuckets - 1)] = k;
		s->nkeys++;
		s->bytes += sizeof(*k) + len;
	}
	/* An entry naming one value twice has one record of it. */
	if (k->n > 0 && k->seqs[k->n - 1] == seq)
		return LEDGER_OK;
	if (k->n == k->cap) {
		uint32_t cap = k->cap * 2;

		if (k->seqs == &k->one) {
			k->seqs = xcalloc(cap, sizeof(uint64_t));
			k->seqs[0] = k->one;
		} else
			k->seqs = xrealloc(k->seqs, cap * sizeof(uint64_t));
		s->bytes += (cap - (k->cap == 1 ? 0 : k->cap)) * sizeof(uint64_t);
		k->cap = cap;
	}
	k->seqs[k->n++] = seq;
	return LEDGER_OK;
}

struct tail *
tail_new(uint64_t base, size_t segment_entries)
{
	struct tail *t = xcalloc(1, sizeof(*t));

	pthread_rwlock_init(&t->lock, NULL);
	pthread_mutex_init(&t->pin_mu, NULL);
	t->epoch_oldest = t->epoch_current = xcalloc(1, sizeof(struct tail_epoch));
	t->segment_entries = segment_entries ? segment_entries : 1;
	t->next_seq = t->committed = base;
	t->watermark = t->end = t->held_lo = base;
	return t;
}

void
tail_free(struct tail *t)
{
	struct tail_segment *s, *snext;
	struct tail_epoch *e, *enext;

	if (t == NULL)
		return;
	for (s = t->oldest; s != NULL; s = snext) {
		snext = s->next;
		segment_free(s);
	}
	for (e = t->epoch_oldest; e != NULL; e = enext) {
		enext = e->next;
		free(e);
	}
	pthread_rwlock_destroy(&t->lock);
	pthread_mutex_destroy(&t->pin_mu);
	free(t);
}

/* The figures of tail_stats; with t->lock held, read or write. */
static void
update_stats(struct tail *t)
{
	uint64_t bytes = 0, n = 0;

	for (struct tail_segment *s = t->oldest; s != NULL; s = s->next) {
		bytes += sizeof(*s) + s->bytes;
		n++;
	}
	stat_set(&t->bytes, bytes);
	stat_set(&t->segments, n);
	stat_set(&t->held_lo, t->oldest != NULL ? t->oldest->lo :
	    stat_get(&t->end));
}

int
tail_add(struct tail *t, uint64_t seq, const json_t *fields,
    const char *const *tokens)
{
	struct tail_segment *s;
	int rc;

	if (seq != t->next_seq)
		fatalx("tail: entry seq %llu added, %llu expected",
		    (unsigned long long)seq, (unsigned long long)t->next_seq);
	/* Under the lock: the merging thread may reclaim the newest. */
	pthread_rwlock_wrlock(&t->lock);
	s = t->newest;
	if (s == NULL || s->sealed) {
		s = xcalloc(1, sizeof(*s));
		s->lo = s->hi = seq;
		s->opened_us = monotonic_us();
		if (t->newest != NULL)
			t->newest->next = s;
		else
			t->oldest = s;
		t->newest = s;
	}
	rc = tokens != NULL ?
	    index_event_records(seq, fields, tokens, add_record, s) :
	    index_records(seq, fields, NULL, add_record, s);
	s->hi = seq + 1;
	if (s->hi - s->lo >= t->segment_entries)
		s->sealed = 1;
	t->next_seq = seq + 1;
	stat_set(&t->end, t->next_seq);
	update_stats(t);
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

/* Drops the seqs >= size of every key of s. */
static void
segment_cut(struct tail_segment *s, uint64_t size)
{
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct tail_key *k = s->buckets[i]; k != NULL; k = k->next)
			while (k->n > 0 && k->seqs[k->n - 1] >= size)
				k->n--;
	s->hi = size;
}

int
tail_truncate(struct tail *t, uint64_t size)
{
	struct tail_segment *s, *prev = NULL, *drop = NULL;
	int ready;

	if (size >= t->next_seq)
		return 0;
	pthread_rwlock_wrlock(&t->lock);
	for (s = t->oldest; s != NULL; prev = s, s = s->next) {
		if (s->lo >= size) {
			/* This one and every newer: nothing of theirs committed. */
			drop = s;
			if (prev != NULL)
				prev->next = NULL;
			else
				t->oldest = NULL;
			t->newest = prev;
			break;
		}
		if (s->hi > size)
			segment_cut(s, size);
	}
	t->next_seq = size;
	stat_set(&t->end, t->next_seq);
	update_stats(t);
	/* A segment sealed by age during the failed commit may be merged now. */
	for (s = t->oldest; s != NULL && s->merged; s = s->next)
		;
	ready = s != NULL && s->sealed && s->hi <= t->committed;
	pthread_rwlock_unlock(&t->lock);
	while (drop != NULL) {
		s = drop->next;
		segment_free(drop);
		drop = s;
	}
	return ready;
}

int
tail_committed(struct tail *t, uint64_t size)
{
	struct tail_segment *s;
	int ready = 0;

	pthread_rwlock_wrlock(&t->lock);
	/* A segment begun in this commit: its age now counts (tail_due). */
	ready = t->newest != NULL && !t->newest->sealed &&
	    t->newest->lo >= t->committed && t->newest->hi > t->newest->lo;
	t->committed = size;
	for (s = t->oldest; s != NULL && s->merged; s = s->next)
		;
	if (s != NULL && s->sealed && s->hi <= size)
		ready = 1;
	pthread_rwlock_unlock(&t->lock);
	return ready;
}

void
tail_seal_older(struct tail *t, int64_t now_us, int64_t age_us)
{
	struct tail_segment *s;

	pthread_rwlock_wrlock(&t->lock);
	s = t->newest;
	if (s != NULL && !s->sealed && s->hi > s->lo &&
	    s->opened_us + age_us <= now_us)
		s->sealed = 1;
	pthread_rwlock_unlock(&t->lock);
}

int64_t
tail_due(struct tail *t, int64_t now_us, int64_t age_us)
{
	struct tail_segment *s;
	int64_t due = INT64_MAX;

	pthread_rwlock_rdlock(&t->lock);
	for (s = t->oldest; s != NULL; s = s->next) {
		if (s->merged)
			due = now_us + age_us;
		else if (s->sealed && s->hi <= t->committed) {
			due = 0;
			break;
		} else if (!s->sealed && s->hi > s->lo &&
		    s->opened_us + age_us < due)
			due = s->opened_us + age_us;
	}
	pthread_rwlock_unlock(&t->lock);
	return due;
}

struct tail_segment *
tail_next_merge(struct tail *t)
{
	struct tail_segment *s, *next = NULL;

	pthread_rwlock_rdlock(&t->lock);
	for (s = t->oldest; s != NULL; s = s->next)
		if (!s->merged) {
			/* Only entries a commit made durable. */
			if (s->sealed && s->hi <= t->committed)
				next = s;
			break;
		}
	pthread_rwlock_unlock(&t->lock);
	return next;
}

void
tail_segment_range(const struct tail_segment *s, uint64_t *lo, uint64_t *hi)
{
	*lo = s->lo;
	*hi = s->hi;
}

static int
cmp_key(const void *x, const void *y)
{
	const struct tail_key *a = *(const struct tail_key *const *)x;
	const struct tail_key *b = *(const struct tail_key *const *)y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = memcmp(a->value, b->value, n)) != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

int
tail_segment_each(struct tail_segment *s,
    int (*fn)(void *ctx, int kind, const void *value, size_t len,
    const uint64_t *seqs, size_t n), void *ctx)
{
	struct tail_key **keys = xcalloc(s->nkeys ? s->nkeys : 1, sizeof(*keys));
	size_t m = 0;
	int rc = 0;

	/* Sealed: no writer changes it, and readers only read. */
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct tail_key *k = s->buckets[i]; k != NULL; k = k->next)
			keys[m++] = k;
	/* In key order: one walk down the index B-tree instead of a jump per key. */
	qsort(keys, m, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < m && rc == 0; i++)
		if (keys[i]->n > 0)
			rc = fn(ctx, keys[i]->kind, keys[i]->value, keys[i]->len,
			    keys[i]->seqs, keys[i]->n);
	free(keys);
	return rc;
}

void
tail_merged(struct tail *t, struct tail_segment *s)
{
	struct tail_epoch *e = xcalloc(1, sizeof(*e));
	uint64_t retired;

	pthread_mutex_lock(&t->pin_mu);
	retired = t->epoch_current->id;
	e->id = t->epoch_current->id + 1;
	t->epoch_current->next = e;
	t->epoch_current = e;
	pthread_mutex_unlock(&t->pin_mu);
	pthread_rwlock_wrlock(&t->lock);
	s->merged = 1;
	s->retired_in = retired;
	pthread_rwlock_unlock(&t->lock);
	stat_set(&t->watermark, s->hi);
	tail_reclaim(t);
}

void
tail_reclaim(struct tail *t)
{
	struct tail_segment *s, *drop = NULL, **tailp = &drop;
	struct tail_epoch *e;
	uint64_t live;
	int any;

	pthread_rwlock_rdlock(&t->lock);
	any = t->oldest != NULL && t->oldest->merged;
	pthread_rwlock_unlock(&t->lock);
	if (!any)
		return;

	/* The oldest epoch a reader may still be pinned in. */
	pthread_mutex_lock(&t->pin_mu);
	while ((e = t->epoch_oldest) != t->epoch_current && e->refs == 0) {
		t->epoch_oldest = e->next;
		free(e);
	}
	live = t->epoch_oldest->id;
	pthread_mutex_unlock(&t->pin_mu);

	/* Merged segments are the oldest; the newest goes too once merged. */
	pthread_rwlock_wrlock(&t->lock);
	while ((s = t->oldest) != NULL && s->merged && s->retired_in < live) {
		t->oldest = s->next;
		if (t->newest == s)
			t->newest = NULL;
		s->next = NULL;
		*tailp = s;
		tailp = &s->next;
	}
	update_stats(t);
	pthread_rwlock_unlock(&t->lock);
	while (drop != NULL) {
		s = drop->next;
		segment_free(drop);
		drop = s;
	}
}

struct tail_epoch *
tail_pin(struct tail *t)
{
	struct tail_epoch *e;

	pthread_mutex_lock(&t->pin_mu);
	e = t->epoch_current;
	e->refs++;
	pthread_mutex_unlock(&t->pin_mu);
	return e;
}

void
tail_unpin(struct tail *t, struct tail_epoch *e)
{
	pthread_mutex_lock(&t->pin_mu);
	e->refs--;
	pthread_mutex_unlock(&t->pin_mu);
}

/* The index of the first seq >= v in k (k->n when none). */
static size_t
lower_bound(const struct tail_key *k, uint64_t v)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->seqs[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
tail_scan(struct tail *t, int kind, const void *value, size_t len,
    uint64_t lo, uint64_t hi, uint64_t from, int reverse, uint64_t *seqs,
    size_t max, size_t *n)
{
	uint32_t h = key_hash(kind, value, len);
	struct tail_segment *s, *segs[64], **all = segs;
	size_t nsegs = 0, cap = 64;

	*n = 0;
	if (max == 0 || lo >= hi)
		return;
	/* The bounds of the scan: [lo, hi) and the side of from. */
	if (reverse) {
		if (from < lo)
			return;
		if (from < hi - 1)
			hi = from + 1;
	} else {
		if (from >= hi)
			return;
		if (from > lo)
			lo = from;
	}
	pthread_rwlock_rdlock(&t->lock);
	for (s = t->oldest; s != NULL; s = s->next) {
		if (s->hi <= lo || s->lo >= hi)
			continue;
		if (nsegs == cap) {
			struct tail_segment **more = xcalloc(cap * 2, sizeof(*more));
			memcpy(more, all, nsegs * sizeof(*more));
			if (all != segs)
				free(all);
			all = more;
			cap *= 2;
		}
		all[nsegs++] = s;
	}
	for (size_t i = 0; i < nsegs && *n < max; i++) {
		struct tail_key *k;
		size_t j;

		s = all[reverse ? nsegs - 1 - i : i];
		if ((k = key_find(s, h, kind, value, len)) == NULL)
			continue;
		if (reverse) {
			for (j = lower_bound(k, hi); j > 0 && *n < max; j--) {
				if (k->seqs[j - 1] < lo)
					break;
				seqs[(*n)++] = k->seqs[j - 1];
			}
		} else {
			for (j = lower_bound(k, lo); j < k->n && *n < max; j++) {
				if (k->seqs[j] >= hi)
					break;
				seqs[(*n)++] = k->seqs[j];
			}
		}
	}
	pthread_rwlock_unlock(&t->lock);
	if (all != segs)
		free(all);
}

int
tail_contains(struct tail *t, int kind, const void *value, size_t len,
    uint64_t seq)
{
	uint32_t h = key_hash(kind, value, len);
	int found = 0;

	pthread_rwlock_rdlock(&t->lock);
	for (struct tail_segment *s = t->oldest; s != NULL; s = s->next) {
		struct tail_key *k;
		size_t j;

		if (seq < s->lo || seq >= s->hi)
			continue;
		if ((k = key_find(s, h, kind, value, len)) != NULL) {
			j = lower_bound(k, seq);
			found = j < k->n && k->seqs[j] == seq;
		}
		break;
	}
	pthread_rwlock_unlock(&t->lock);
	return found;
}

void
tail_stats(struct tail *t, struct tail_stats *out)
{
	uint64_t end = stat_get(&t->end);

	out->watermark = stat_get(&t->watermark);
	out->entries = end - out->watermark;
	out->held_entries = end - stat_get(&t->held_lo);
	out->bytes = stat_get(&t->bytes);
	out->segments = stat_get(&t->segments);
}
