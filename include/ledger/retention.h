/*
 * The retention policy (spec §2.11): how long entries are shown to partner
 * applications (restrict_after), when a period's secrets are destroyed
 * (destroy_after), how periods are cut and which fields are sealed.  Pure
 * functions shared by the daemon's configuration, its writer and the
 * client, which reads the policy entries the log records.
 */
#ifndef LEDGER_RETENTION_H
#define LEDGER_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/sealed.h"

#define LEDGER_DURATION_TEXT_MAX 8	/* "9999y" and a NUL, with room */

/* A calendar duration: whole years, months or days, as written ("5y"). */
struct ledger_duration {
	int years, months, days;
	char text[LEDGER_DURATION_TEXT_MAX];
};

struct ledger_retention {
	char period[8];			/* "quarter", "month" or "year" */
	struct ledger_duration restrict_after;	/* default 5y */
	struct ledger_duration destroy_after;	/* default 10y */
	size_t n_sealed;
	char sealed[LEDGER_SEALED_FIELDS_MAX][16];	/* in the order of
							   ledger_sealable_field */
};

/* ledger_retention_default - quarter, 5y, 10y, purpose and details sealed. */
void ledger_retention_default(struct ledger_retention *p);

/*
 * ledger_duration_parse - "<N>y", "<N>m" (months) or "<N>d", N 1 to 9999
 * without leading zeros.  Returns 0 or LEDGER_EINVAL.
 */
int ledger_duration_parse(const char *s, struct ledger_duration *out);

/*
 * ledger_duration_add - usec (microseconds since the epoch, UTC) plus d on
 * the proleptic Gregorian calendar (a day past the end of a month rolls
 * over: 2024-02-29 plus 1y is 2025-03-01).  Returns the sum.
 */
int64_t ledger_duration_add(int64_t usec, const struct ledger_duration *d);

/*
 * ledger_retention_from_json - reads a policy object (the config's
 * "retention" section or a policy entry's details): every member optional
 * and defaulting as ledger_retention_default, no other member;
 * sealed_fields an array of distinct sealable fields (may be empty);
 * restrict_after not longer than destroy_after.
 *	obj	in: borrowed
 *	p	out: the policy
 *	field	out: on failure, the offending member ("restrict_after",
 *		"sealed_fields[1]", or "" for obj itself)
 *	msg	out: on failure, a sentence
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_retention_from_json(const json_t *obj, struct ledger_retention *p,
    char *field, size_t fieldlen, char *msg, size_t msglen);

/*
 * ledger_retention_to_json - the policy as recorded in a policy entry's
 * details: {"period", "restrict_after", "destroy_after", "sealed_fields"}
 * with every member written out.  Returns a new object (json_decref it).
 */
json_t *ledger_retention_to_json(const struct ledger_retention *p);

/*
 * ledger_period_end - the first microsecond after the period id (of the
 * forms "2026-Q4", "2026-11", "2026") ends, UTC.
 * Returns 0 or LEDGER_EINVAL (not such an id, e.g. "legacy").
 */
int ledger_period_end(const char *id, int64_t *end);

/*
 * ledger_retention_due - whether a period is due for destruction at now:
 * its end plus destroy_after is not after now.  Returns 1, 0, or 0 for an
 * id ledger_period_end does not read.
 */
int ledger_retention_due(const struct ledger_retention *p, const char *period,
    int64_t now);

/*
 * ledger_retention_restricted - whether an entry received at received_at
 * (microseconds) is restricted at now: received_at plus restrict_after is
 * not after now.  Returns 1 or 0.
 */
int ledger_retention_restricted(const struct ledger_retention *p,
    int64_t received_at, int64_t now);

#endif
