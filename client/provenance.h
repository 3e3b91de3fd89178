/*
 * Fetching and verifying provenance answers (GET /v1/provenance/...): every
 * page's checkpoint signature, every inclusion proof, consistency between
 * the checkpoints of successive pages, and that each entry names what was
 * asked.  Shared by who-saw, history, lineage and audit --subject.
 */
#ifndef LEDGERCTL_PROVENANCE_H
#define LEDGERCTL_PROVENANCE_H

#include <stdint.h>

#include <jansson.h>

#include "ledger/entry.h"

#include "ctl.h"

/* The deepest lineage the server walks (--depth). */
#define PROV_MAX_DEPTH 64

enum prov_kind { PROV_SUBJECT, PROV_ACTOR, PROV_OBJECT };

struct prov_query {
	enum prov_kind kind;
	const char *subject;		/* PROV_SUBJECT */
	const char *org, *user;		/* PROV_ACTOR */
	const char *ref;		/* PROV_OBJECT */
	const char *since, *until, *type, *purpose, *depth, *org_filter;
	const uint8_t *subject_key;	/* NULL, or the key to compute tokens */
};

/* A verified answer, all pages together. */
struct prov_result {
	json_t *events;		/* [{"seq": N, "entry": {...}}], oldest first */
	json_t *edges;		/* lineage: [[from, to]…], else NULL */
	char subject_token[LEDGER_SUBJECT_TOKEN_LEN + 1];
	json_t *subject_tokens;	/* every live period's (spec §3.2), or NULL
				   when the server looked up one */
	char *checkpoint;	/* the first page's note */
	uint64_t tree_size;	/* the first page's tree size */
	int truncated;		/* lineage: the server cut the walk short */
	size_t pages;
};

/*
 * provenance_fetch - asks every page and verifies it; nothing is returned
 * that did not verify.
 * Returns 0, or an exit code (printed); res is then empty.
 */
int provenance_fetch(struct ctl *ctl, const struct prov_query *q,
    struct prov_result *res);

/* provenance_result_free - frees what res holds. */
void provenance_result_free(struct prov_result *res);

#endif
