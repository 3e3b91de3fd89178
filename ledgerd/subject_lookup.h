/*
 * Looking a subject identifier up (spec §3.3): its token under every period
 * whose secret still exists, and the union of what the subject index holds
 * for those tokens, in seq order.  For the provenance and export routes.
 */
#ifndef LEDGERD_SUBJECT_LOOKUP_H
#define LEDGERD_SUBJECT_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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
 * Called on the loop's thread once subject_lookup_start's lookup is done.
 * r is NULL when the client left (its request is freed already): done then
 * only frees arg.  Otherwise rc is subject_lookup_make's, and on failure
 * done answers r (subject_lookup_reply_error).  done may take what l holds
 * (copy *l, then zero it); whatever it leaves is freed after it returns.
 */
typedef void (*subject_lookup_done_fn)(struct request *r, int rc,
    struct subject_lookup *l, void *arg);

/*
 * subject_lookup_start - subject_lookup_make on a worker (offload.h).  Its
 * keyring exchanges wait for the writer's (one exchange at a time) and, on
 * a keeper that stopped answering, for up to the keyring's timeout: the
 * loop must never wait with them.  id (len bytes) is copied.
 * Returns 0, and done is called exactly once; or -1 after answering 503
 * overloaded, and done is not called.
 */
int subject_lookup_start(struct request *r, const char *id, size_t len,
    subject_lookup_done_fn done, void *arg);

/*
 * subject_lookup_name - names the subject in obj, an audit or export
 * entry's details, by token only (spec §3.3): "subject_token", its token of
 * now, and "subject_tokens", every live period's, when there are more.
 */
void subject_lookup_name(const struct subject_lookup *l, json_t *obj);

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
