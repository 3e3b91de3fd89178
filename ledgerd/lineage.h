/*
 * An object's lineage (spec §7.8): the entries whose object.ref is the ref
 * (the roots, depth 0), then breadth first every entry resting on one
 * already found through its refs (the REFERRED index), down to a depth.
 * Refs only point backwards, so a child's seq is above its parent's and the
 * walk cannot loop.  Both the lineage answer (route_provenance.c) and the
 * object export (route_export.c) walk it here, so they hold the same set.
 */
#ifndef LEDGERD_LINEAGE_H
#define LEDGERD_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

struct store_txn;

#define LINEAGE_DEFAULT_DEPTH 16
#define LINEAGE_MAX_DEPTH 64

struct lineage {
	uint64_t *nodes;		/* the entries' seqs, increasing */
	size_t n;
	uint64_t (*edges)[2];		/* [parent, child], sorted; or NULL */
	size_t nedges;
	int full;			/* stopped at max_nodes or max_edges */
	int depth_cut;			/* an entry at depth has children */
};

/*
 * lineage_walk - the lineage of ref below tree_size, down to depth levels
 * (at most 255).
 *	max_nodes	in: the most entries it may hold; more sets full
 *	max_edges	in: the most edges recorded; more sets full.  0: the
 *			edges are not recorded (out->edges stays NULL)
 * Returns 0 or a store error; out is to be freed with lineage_free()
 * either way.
 */
int lineage_walk(struct store_txn *txn, const char *ref, size_t ref_len,
    uint64_t depth, uint64_t tree_size, size_t max_nodes, size_t max_edges,
    struct lineage *out);

void lineage_free(struct lineage *l);

#endif
