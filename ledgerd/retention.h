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

#include "ledger/entry_write.h"
#include "ledger/period.h"
#include "ledger/sealed.h"

struct keyring_op;
struct server;
struct store_txn;

#define RETENTION_ACTOR_ORG "ledgerd"	/* actor of policy and destruction entries */
#define RETENTION_ACTOR_USER "retention"
#define RETENTION_CHECK_SECONDS 3600	/* how often the writer looks for
					   periods due for destruction */

/*
 * The sealed values of one entry: the period it belongs to and the key
 * ring's output, to store beside it.
 */
struct retention_sealed {
	char period[LEDGER_PERIOD_ID_MAX + 1];
	size_t n;
	char field[LEDGER_SEALED_FIELDS_MAX][16];
	uint8_t *sealed[LEDGER_SEALED_FIELDS_MAX];	/* malloc'ed */
	size_t sealed_len[LEDGER_SEALED_FIELDS_MAX];
};

/*
 * An event's values to seal under the policy.  They are made from the
 * event before its entry is built, so that the writer seals the values of
 * a whole commit in the round trip that makes its subject tokens:
 * retention_seal_plan, then the key ring runs the operations of
 * retention_seal_ops, retention_seal_take keeps what it made, and
 * retention_seal_for_entry hands ledger_entry_write what the entry seals.
 */
struct retention_seal {
	int rc;				/* of making or sealing the values:
					   the event is refused with it */
	const char *fields[LEDGER_SEALED_FIELDS_MAX];	/* the policy's, for
							   this event's type */
	size_t n_fields;
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	size_t n_plain;
	struct retention_sealed sealed;	/* its period, the key ring's output */
};

/*
 * retention_seal_plan - under a policy, the plaintexts of the fields event
 * holds that the policy seals (ledger_sealed_plain_make), and the period of
 * received_at they are sealed under.  Without a policy nothing (the period
 * stays empty).
 *	out	out: zeroed, then filled (retention_seal_free it); out->rc is
 *		the return value
 * Returns 0, LEDGER_ETOOBIG (a value larger than the key ring seals),
 * LEDGER_ECRYPTO or LEDGER_EINVAL.
 */
int retention_seal_plan(struct server *srv, const json_t *event,
    const char *received_at, struct retention_seal *out);

/*
 * retention_seal_ops - fills ops (room for LEDGER_SEALED_FIELDS_MAX) with
 * the KEYRING_SEAL operations of s: none once s->rc is set.  Returns how
 * many.
 */
size_t retention_seal_ops(const struct retention_seal *s, struct keyring_op *ops);

/*
 * retention_seal_take - after keyring_run, takes the sealed values out of
 * the ops retention_seal_ops made; a value that could not be sealed sets
 * s->rc (logged).  Returns how many ops were s's (retention_seal_ops').
 */
size_t retention_seal_take(struct retention_seal *s, struct keyring_op *ops);

/*
 * retention_seal_for_entry - under a policy, what the entry of the event
 * of s seals (the policy's fields and the plaintexts of s, which stay s's:
 * for ledger_entry_write), and moves the sealed values to out.
 *	sealing	out: zeroed, then filled under a policy
 *	out	out: zeroed, then filled (retention_sealed_free it)
 * Returns 0 (also without a policy: out->period is then empty, and the
 * entry seals nothing), or s->rc when set (KEYRING_EUNAVAILABLE,
 * KEYRING_EDESTROYED, LEDGER_ETOOBIG, LEDGER_ECRYPTO, LEDGER_EINVAL).
 */
int retention_seal_for_entry(struct retention_seal *s,
    struct ledger_entry_sealing *sealing, struct retention_sealed *out);

/* retention_seal_free - frees s (what retention_seal_for_entry did not take). */
void retention_seal_free(struct retention_seal *s);

/* retention_sealed_free - frees what retention_seal_for_entry gave. */
void retention_sealed_free(struct retention_sealed *s);

/*
 * retention_record_entry - writes, in the entry's own transaction, what
 * retention keeps of entry seq: its sealed values, its period's counts
 * ("period/P": first and last seq, entries, sealed values), and for the
 * server's own entries the record of the policy in force ("policy") or of
 * each destroyed period ("destroyed/P").  Nothing without a period.
 * fields: the entry object, or the event it was made of (the fields read
 * here, type and a destruction's details, are never sealed).
 * Returns 0 or a store error.
 */
int retention_record_entry(struct store_txn *txn, uint64_t seq, const json_t *fields,
    const struct retention_sealed *s);

/*
 * retention_destroyed_by - the seq of the destruction entry that recorded
 * period's destruction (spec §2.12).
 * Returns 0, LEDGER_ENOTFOUND (the period lives) or a store error.
 */
int retention_destroyed_by(struct store_txn *txn, const char *period,
    uint64_t *seq);

/*
 * retention_restricted - 1 when the policy restricts entry at now
 * (received_at plus restrict_after has passed): only supervisors see it,
 * marked.  0 without a policy.
 */
int retention_restricted(const struct server *srv, const json_t *entry);

/*
 * retention_entry_visible - whether principal p may see entry now: the
 * readers' rule (auth_entry_visible), and past restrict_after only if p
 * sees all (spec §9.4).  The test of every route that shows a partner an
 * entry or its proof.
 */
struct principal;
int retention_entry_visible(const struct server *srv, const struct principal *p,
    const json_t *entry);

/*
 * retention_org_may_read - whether org may rest an event on entry (spec
 * §2.6): it may read it (auth_org_may_read) and the entry is not
 * restricted (§9.4), so that no writer places its event in the lineage of
 * an entry it can no longer see.
 */
int retention_org_may_read(const struct server *srv, const char *org,
    const json_t *entry);

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
