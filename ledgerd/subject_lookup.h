/*
 * Looking a subject identifier up (spec §3.3): its token under every period
 * whose secret still exists, and the union of what the subject index holds
 * for those tokens, in seq order.  For the provenance and export routes.
 */
#ifndef LEDGERD_SUBJECT_LOOKUP_H
#define LEDGERD_SUBJECT_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/entry.h"

struct request;
struct server;
struct store_txn;

/*
 * The tokens of one identifier.  tokens[0] is its token under the period of
 * now (the token the writer gives it today); the others, under every other
 * live period, sorted by period.
 */
struct subject_lookup {
	char (*tokens)[LEDGER_SUBJECT_TOKEN_LEN + 1];
	size_t n;
};

/*
 * subject_lookup_make - the tokens of id (len bytes), in two keyring
 * exchanges (the periods, then every token at once).  The period of now is
 * made when missing, so an answer always names the subject's current token.
 *	out	out: filled; subject_lookup_free() it, also on failure
 * Returns 0, KEYRING_EUNAVAILABLE (the key keeper is gone) or another
 * error (logged).
 */
int subject_lookup_make(struct server *srv, const char *id, size_t len,
    struct subject_lookup *out);

/*
 * subject_lookup_reply_error - answers r for a failed subject_lookup_make:
 * 503 keys_unavailable when the key keeper is gone, else 500 internal.
 */
void subject_lookup_reply_error(struct request *r, int rc);

/* subject_lookup_free - frees what l holds; leaves it empty. */
void subject_lookup_free(struct subject_lookup *l);

/*
 * subject_lookup_scan - the seqs the subject index holds for any token of
 * l, from the first >= from, increasing, without repeats: store_index_scan
 * over the union.
 *	seqs, max	out: up to max seqs
 *	n		out: how many were written (0 when none)
 * Returns 0 or a store error.
 */
int subject_lookup_scan(struct store_txn *txn, const struct subject_lookup *l,
    uint64_t from, uint64_t *seqs, size_t max, size_t *n);

#endif
