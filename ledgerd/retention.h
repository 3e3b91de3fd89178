/*
 * Retention in the daemon (spec §2.10 to §2.12): sealing an entry's
 * free-text fields as the writer builds it, opening them for answers,
 * restriction, and the destruction of period secrets past their term with
 * its record in the log.  The policy is cfg->retention; without one,
 * nothing here changes an entry or an answer.
 */
#ifndef LEDGERD_RETENTION_H
#define LEDGERD_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/period.h"
#include "ledger/sealed.h"

struct server;
struct store_txn;

#define RETENTION_ACTOR_ORG "ledgerd"	/* actor of policy and destruction entries */
#define RETENTION_ACTOR_USER "retention"
#define RETENTION_CHECK_SECONDS 3600	/* how often the writer looks for
					   periods due for destruction */

/*
 * What retention_seal_entry made of one entry: the period it belongs to
 * and the sealed values (the key ring's output) to store beside it.
 */
struct retention_sealed {
	char period[LEDGER_PERIOD_ID_MAX + 1];
	size_t n;
	char field[LEDGER_SEALED_FIELDS_MAX][16];
	uint8_t *sealed[LEDGER_SEALED_FIELDS_MAX];	/* malloc'ed */
	size_t sealed_len[LEDGER_SEALED_FIELDS_MAX];
};

/*
 * retention_seal_entry - under a policy, puts entry (built by the writer,
 * received_at set) into the version 3 form: the policy's sealed fields
 * taken out for commitments (ledger_entry_seal), each value sealed by the
 * key ring under the period of received_at (made if missing).
 *	entry	in/out: modified
 *	out	out: zeroed, then filled (retention_sealed_free it)
 * Returns 0 (also without a policy: out->period is then empty),
 * KEYRING_EUNAVAILABLE, KEYRING_EDESTROYED, LEDGER_ECRYPTO or LEDGER_EINVAL.
 */
int retention_seal_entry(struct server *srv, json_t *entry,
    struct retention_sealed *out);

/* retention_sealed_free - frees what retention_seal_entry made. */
void retention_sealed_free(struct retention_sealed *s);

/*
 * retention_record_entry - writes, in the entry's own transaction, what
 * retention keeps of entry seq: its sealed values, its period's counts
 * ("period/P": first and last seq, entries, sealed values), and for the
 * server's own entries the record of the policy in force ("policy") or of
 * each destroyed period ("destroyed/P").  Nothing without a period.
 * Returns 0 or a store error.
 */
int retention_record_entry(struct store_txn *txn, uint64_t seq, const json_t *entry,
    const struct retention_sealed *s);

/*
 * retention_opened - the "opened" object of an answer for entry seq
 * (spec §2.10): per sealed field {"value", "salt"}, or {"destroyed": seq}
 * once its period is destroyed.  NULL in *out when the entry seals
 * nothing.  Asks the key ring (one round trip).
 *	entry	in: the parsed entry
 *	out	out: new object (json_decref it) or NULL
 * Returns 0, KEYRING_EUNAVAILABLE, LEDGER_ECORRUPT (a sealed value missing
 * or unreadable while its period lives) or a store error.
 */
int retention_opened(struct server *srv, struct store_txn *txn, uint64_t seq,
    const json_t *entry, json_t **out);

/*
 * retention_restricted - 1 when the policy restricts entry at now
 * (received_at plus restrict_after has passed): only supervisors see it,
 * marked.  0 without a policy.
 */
int retention_restricted(const struct server *srv, const json_t *entry);

/*
 * retention_answer_members - what an answer carries beside entry seq
 * (spec §2.10, §9.4), appended to t as JSON members: ',"opened":{...}'
 * when the entry seals fields, ',"restricted":true' when it is restricted.
 *	entry	in: the parsed entry
 * Returns 0 or an error of retention_opened.
 */
struct json_text;
int retention_answer_members(struct server *srv, struct store_txn *txn,
    uint64_t seq, const json_t *entry, struct json_text *t);

/*
 * retention_policy_event - the policy entry's event to append before any
 * other when the policy in force is not the one last recorded (or none
 * is): NULL in *event when none is needed.
 * Returns 0, LEDGER_EINVAL (a policy is recorded and the configuration has
 * none: a policy is never silently dropped) or a store error.
 */
int retention_policy_event(struct server *srv, struct store_txn *txn, json_t **event);

/*
 * retention_destruction_event - the destruction entry's event for every
 * period whose secret lives and is due at now (ledger_retention_due), or
 * NULL in *event.  periods gets their ids (free with
 * retention_periods_free).
 * Returns 0, KEYRING_EUNAVAILABLE or a store error.
 */
int retention_destruction_event(struct server *srv, struct store_txn *txn,
    int64_t now, json_t **event, char ***periods, size_t *n);
void retention_periods_free(char **periods, size_t n);

/*
 * retention_complete - destroys the secret of every live period whose
 * destruction the log records (an interrupted destruction, or the one just
 * committed), one by one, crash points "destroy-between" after each.
 * Idempotent.  Returns 0 or the first error (logged).
 */
int retention_complete(struct server *srv);

#endif
