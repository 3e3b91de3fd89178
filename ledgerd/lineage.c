/* An object's lineage, as the lineage answer and the object export read it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "lineage.h"
#include "store.h"

#define INDEX_CHUNK 256

/* A set of seqs, open addressing; capacity a power of two > 2 * entries. */
struct seq_set {
	uint64_t *slot;			/* seq + 1; 0 is empty */
	size_t mask;
	unsigned shift;			/* 64 - log2(capacity) */
};

static void
seq_set_init(struct seq_set *s, size_t entries)
{
	size_t cap = 16;
	unsigned bits = 4;

	while (cap <= 2 * entries) {
		cap <<= 1;
		bits++;
	}
	s->slot = xcalloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
	s->shift = 64 - bits;
}

/* Adds seq; returns 1 when it was new. */
static int
seq_set_add(struct seq_set *s, uint64_t seq)
{
	size_t i = (size_t)((seq * 0x9e3779b97f4a7c15ULL) >> s->shift) &
	    s->mask;

	while (s->slot[i] != 0) {
		if (s->slot[i] == seq + 1)
			return 0;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = seq + 1;
	return 1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_edge(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* The walk under way: nodes[] doubles as the breadth-first queue. */
struct walk {
	struct store_txn *txn;
	struct lineage *out;
	struct seq_set seen;
	uint8_t *depth;			/* per node */
	uint64_t tree_size;
	size_t max_nodes, max_edges;
};

/* Adds seq at depth d unless it is known; 0, or 1 when full. */
static int
add_node(struct walk *w, uint64_t seq, uint8_t d)
{
	struct lineage *l = w->out;

	if (!seq_set_add(&w->seen, seq))
		return 0;
	if (l->n == w->max_nodes) {
		l->full = 1;
		return 1;
	}
	w->depth[l->n] = d;
	l->nodes[l->n++] = seq;
	return 0;
}

/* The roots: every entry about the object itself. */
static int
add_roots(struct walk *w, const char *ref, size_t ref_len)
{
	uint64_t seqs[INDEX_CHUNK], pos = 0;
	size_t n, i;
	int rc;

	for (;;) {
		if ((rc = store_index_scan(w->txn, STORE_IDX_OBJECT, ref,
		    ref_len, pos, 0, seqs, INDEX_CHUNK, &n)) != 0)
			return rc;
		for (i = 0; i < n && seqs[i] < w->tree_size; i++) {
			if (w->out->n == w->max_nodes) {
				w->out->full = 1;
				return 0;
			}
			add_node(w, seqs[i], 0);
		}
		if (i < n || n < INDEX_CHUNK)
			return 0;
		pos = seqs[n - 1] + 1;
	}
}

/* The entries resting on node head: its children, one level down. */
static int
add_children(struct walk *w, size_t head, uint64_t depth)
{
	struct lineage *l = w->out;
	uint64_t seqs[INDEX_CHUNK], from = l->nodes[head], pos;
	uint8_t key[8];
	size_t n, i;
	int b, rc;

	for (b = 7, pos = from; b >= 0; b--, pos >>= 8)
		key[b] = pos & 0xff;
	for (pos = from + 1;;) {
		if ((rc = store_index_scan(w->txn, STORE_IDX_REFERRED, key,
		    sizeof(key), pos, 0, seqs, INDEX_CHUNK, &n)) != 0)
			return rc;
		for (i = 0; i < n && seqs[i] < w->tree_size; i++) {
			if (w->depth[head] >= depth) {
				l->depth_cut = 1;
				return 0;
			}
			if (l->edges != NULL && l->nedges == w->max_edges) {
				l->full = 1;
				return 0;
			}
			if (add_node(w, seqs[i], w->depth[head] + 1))
				return 0;
			if (l->edges != NULL) {
				l->edges[l->nedges][0] = from;
				l->edges[l->nedges++][1] = seqs[i];
			}
		}
		if (i < n || n < INDEX_CHUNK)
			return 0;
		pos = seqs[n - 1] + 1;
	}
}

int
lineage_walk(struct store_txn *txn, const char *ref, size_t ref_len,
    uint64_t depth, uint64_t tree_size, size_t max_nodes, size_t max_edges,
    struct lineage *out)
{
	struct walk w = { txn, out, { NULL, 0, 0 }, NULL, tree_size,
	    max_nodes, max_edges };
	size_t head;
	int rc;

	memset(out, 0, sizeof(*out));
	out->nodes = xcalloc(max_nodes > 0 ? max_nodes : 1,
	    sizeof(*out->nodes));
	if (max_edges > 0)
		out->edges = xcalloc(max_edges, sizeof(*out->edges));
	w.depth = xcalloc(max_nodes > 0 ? max_nodes : 1, 1);
	seq_set_init(&w.seen, max_nodes);
	if ((rc = add_roots(&w, ref, ref_len)) != 0)
		goto out;
	/*
	 * A full walk goes on over the nodes it holds, so that their edges
	 * among themselves are all recorded.
	 */
	for (head = 0; head < out->n; head++)
		if ((rc = add_children(&w, head, depth)) != 0)
			goto out;
	/* Oldest first, like every provenance answer. */
	qsort(out->nodes, out->n, sizeof(*out->nodes), cmp_u64);
	if (out->edges != NULL)
		qsort(out->edges, out->nedges, sizeof(*out->edges), cmp_edge);
out:
	free(w.seen.slot);
	free(w.depth);
	return rc;
}

void
lineage_free(struct lineage *l)
{
	free(l->nodes);
	free(l->edges);
	l->nodes = NULL;
	l->edges = NULL;
}
