/*
 * The retention policy (spec §2.11): its one reading, from the
 * configuration and from the policy entries of the log alike, and the
 * calendar arithmetic that decides restriction and destruction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/error.h"
#include "ledger/retention.h"

#define DURATION_MAX 9999
#define USEC 1000000LL

static const char *const period_kinds[] = { "quarter", "month", "year" };
static const char *const sealable_order[] = { "purpose", "legal_basis", "details" };

void
ledger_retention_default(struct ledger_retention *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->period, sizeof(p->period), "quarter");
	ledger_duration_parse("5y", &p->restrict_after);
	ledger_duration_parse("10y", &p->destroy_after);
	snprintf(p->sealed[0], sizeof(p->sealed[0]), "purpose");
	snprintf(p->sealed[1], sizeof(p->sealed[1]), "details");
	p->n_sealed = 2;
}

int
ledger_duration_parse(const char *s, struct ledger_duration *out)
{
	size_t len = strlen(s), i;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (len < 2 || len > 5 || s[0] == '0')
		return LEDGER_EINVAL;
	for (i = 0; i + 1 < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return LEDGER_EINVAL;
		n = n * 10 + (s[i] - '0');
	}
	if (n < 1 || n > DURATION_MAX)
		return LEDGER_EINVAL;
	switch (s[len - 1]) {
	case 'y': out->years = n; break;
	case 'm': out->months = n; break;
	case 'd': out->days = n; break;
	default: return LEDGER_EINVAL;
	}
	snprintf(out->text, sizeof(out->text), "%s", s);
	return LEDGER_OK;
}

int64_t
ledger_duration_add(int64_t usec, const struct ledger_duration *d)
{
	int64_t sec = usec / USEC, frac = usec % USEC;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += USEC;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL)
		return usec;
	tm.tm_year += d->years;
	tm.tm_mon += d->months;
	tm.tm_mday += d->days;
	return (int64_t)timegm(&tm) * USEC + frac;
}

static int
bad(char *field, size_t fieldlen, char *msg, size_t msglen, const char *f,
    const char *m)
{
	snprintf(field, fieldlen, "%s", f);
	snprintf(msg, msglen, "%s", m);
	return LEDGER_EINVAL;
}

int
ledger_retention_from_json(const json_t *obj, struct ledger_retention *p,
    char *field, size_t fieldlen, char *msg, size_t msglen)
{
	static const char *const members[] = { "period", "restrict_after",
	    "destroy_after", "sealed_fields" };
	const json_t *v, *s;
	const char *key;
	char path[48];
	size_t i, j;
	int seen[LEDGER_SEALED_FIELDS_MAX] = { 0 };
	int64_t base = 946684800LL * USEC;	/* 2000-01-01: any date does */

	ledger_retention_default(p);
	if (!json_is_object(obj))
		return bad(field, fieldlen, msg, msglen, "", "must be an object");
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; i < 4 && strcmp(key, members[i]) != 0; i++)
			;
		if (i == 4)
			return bad(field, fieldlen, msg, msglen, key, "unknown key");
	}
	if ((v = json_object_get(obj, "period")) != NULL) {
		for (i = 0; i < 3 && !(json_is_string(v) &&
		    strcmp(json_string_value(v), period_kinds[i]) == 0); i++)
			;
		if (i == 3)
			return bad(field, fieldlen, msg, msglen, "period",
			    "must be \"quarter\", \"month\" or \"year\"");
		snprintf(p->period, sizeof(p->period), "%s", period_kinds[i]);
	}
	if ((v = json_object_get(obj, "restrict_after")) != NULL &&
	    (!json_is_string(v) ||
	    ledger_duration_parse(json_string_value(v), &p->restrict_after) != 0))
		return bad(field, fieldlen, msg, msglen, "restrict_after",
		    "must be a duration such as \"5y\", \"60m\" or \"1826d\" (1 to 9999)");
	if ((v = json_object_get(obj, "destroy_after")) != NULL &&
	    (!json_is_string(v) ||
	    ledger_duration_parse(json_string_value(v), &p->destroy_after) != 0))
		return bad(field, fieldlen, msg, msglen, "destroy_after",
		    "must be a duration such as \"10y\", \"120m\" or \"3652d\" (1 to 9999)");
	if (ledger_duration_add(base, &p->restrict_after) >
	    ledger_duration_add(base, &p->destroy_after))
		return bad(field, fieldlen, msg, msglen, "restrict_after",
		    "must not be longer than destroy_after");
	if ((v = json_object_get(obj, "sealed_fields")) != NULL) {
		if (!json_is_array(v))
			return bad(field, fieldlen, msg, msglen, "sealed_fields",
			    "must be an array of field names");
		json_array_foreach(v, i, s) {
			snprintf(path, sizeof(path), "sealed_fields[%zu]", i);
			for (j = 0; j < LEDGER_SEALED_FIELDS_MAX && !(json_is_string(s) &&
			    strcmp(json_string_value(s), sealable_order[j]) == 0); j++)
				;
			if (j == LEDGER_SEALED_FIELDS_MAX)
				return bad(field, fieldlen, msg, msglen, path,
				    "must be purpose, legal_basis or details");
			if (seen[j]++)
				return bad(field, fieldlen, msg, msglen, path,
				    "named twice");
		}
		/* One order, so that two equal policies record equally. */
		p->n_sealed = 0;
		for (j = 0; j < LEDGER_SEALED_FIELDS_MAX; j++)
			if (seen[j])
				snprintf(p->sealed[p->n_sealed++], sizeof(p->sealed[0]),
				    "%s", sealable_order[j]);
	}
	return LEDGER_OK;
}

json_t *
ledger_retention_to_json(const struct ledger_retention *p)
{
	json_t *fields = json_array();
	size_t i;

	for (i = 0; i < p->n_sealed; i++)
		json_array_append_new(fields, json_string(p->sealed[i]));
	return json_pack("{s:s, s:s, s:s, s:o}", "period", p->period,
	    "restrict_after", p->restrict_after.text,
	    "destroy_after", p->destroy_after.text, "sealed_fields", fields);
}

int
ledger_period_end(const char *id, int64_t *end)
{
	int year, n = 0, consumed = 0;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strlen(id) == 7 && sscanf(id, "%4d-Q%1d%n", &year, &n, &consumed) == 2 &&
	    consumed == 7 && n >= 1 && n <= 4) {
		tm.tm_year = year - 1900;
		tm.tm_mon = 3 * n;
	} else if (strlen(id) == 7 && sscanf(id, "%4d-%2d%n", &year, &n, &consumed) == 2 &&
	    consumed == 7 && n >= 1 && n <= 12 && id[5] >= '0' && id[5] <= '1') {
		tm.tm_year = year - 1900;
		tm.tm_mon = n;
	} else if (strlen(id) == 4 && sscanf(id, "%4d%n", &year, &consumed) == 1 &&
	    consumed == 4) {
		tm.tm_year = year + 1 - 1900;
	} else
		return LEDGER_EINVAL;
	if (id[0] < '0' || id[0] > '9' || id[1] < '0' || id[1] > '9' ||
	    id[2] < '0' || id[2] > '9' || id[3] < '0' || id[3] > '9')
		return LEDGER_EINVAL;
	tm.tm_mday = 1;
	*end = (int64_t)timegm(&tm) * USEC;
	return LEDGER_OK;
}

int
ledger_retention_due(const struct ledger_retention *p, const char *period, int64_t now)
{
	int64_t end;

	if (ledger_period_end(period, &end) != 0)
		return 0;
	return ledger_duration_add(end, &p->destroy_after) <= now;
}

int
ledger_retention_restricted(const struct ledger_retention *p, int64_t received_at,
    int64_t now)
{
	return ledger_duration_add(received_at, &p->restrict_after) <= now;
}
