/*
 * The opened values of an answer's entries (spec §2.10), made in one
 * exchange with the key ring however many entries the answer holds: the
 * answer is written with a mark where each entry's "opened" member goes,
 * and opened_answer_finish opens them all at once and puts each member at
 * its mark.  A page of a hundred sealed entries costs one round trip to the
 * key keeper, not a hundred.  One answer, one thread.
 */
#ifndef LEDGERD_OPENED_H
#define LEDGERD_OPENED_H

#include <stdint.h>

#include <jansson.h>

struct json_text;
struct server;
struct store_txn;
struct opened_answer;

/* opened_answer_new - an empty set of marks for one answer (never NULL). */
struct opened_answer *opened_answer_new(struct server *srv);

/*
 * opened_answer_mark - what the answer carries beside entry seq: marks t's
 * end as the place of ',"opened":{...}' when the entry seals fields (its
 * sealed values are read from txn now, and opened by
 * opened_answer_finish), then appends ',"restricted":true' when the
 * policy restricts it (spec §9.4).
 *	entry	in: the parsed entry
 * Returns 0, LEDGER_ECORRUPT (a sealed value missing) or a store error.
 */
int opened_answer_mark(struct opened_answer *a, struct store_txn *txn,
    uint64_t seq, const json_t *entry, struct json_text *t);

/*
 * opened_answer_finish - opens every value marked, in as few key ring
 * exchanges as its frames allow (keyring_run_all), and writes each entry's
 * "opened" member at its mark in t.  Call it before txn ends: the marks
 * point into the values it read.  No copy of t that held a value is left
 * behind unwiped.
 * Returns 0, KEYRING_EUNAVAILABLE, or LEDGER_ECORRUPT (a value of a live
 * period that cannot be opened).
 */
int opened_answer_finish(struct opened_answer *a, struct json_text *t);

/* opened_answer_free - frees a (NULL is fine), wiping what was opened. */
void opened_answer_free(struct opened_answer *a);

#endif
