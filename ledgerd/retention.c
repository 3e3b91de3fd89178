/*
 * Retention in the daemon (retention.h; spec §2.10 to §2.12).  The order
 * of a destruction is what makes it safe to interrupt: the destruction
 * entry is committed first, the secrets are destroyed after, and every
 * start completes a destruction the log records but the key ring does not
 * yet show; a secret is never gone without its record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/be64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsonparse.h"
#include "ledger/retention.h"
#include "ledger/xmalloc.h"

#include "auth.h"
#include "crash.h"
#include "keyring.h"
#include "log.h"
#include "retention.h"
#include "server.h"
#include "store.h"

/* "period/P": first seq, last seq, entries, sealed values; big-endian. */
#define PERIOD_RECORD_LEN 32

static const struct ledger_retention *
policy(const struct server *srv)
{
	return srv->has_retention ? &srv->retention : NULL;
}

/* The server's own entries state the policy; they are never sealed. */
static int
own_entry(const json_t *entry, const char *type)
{
	const char *t = json_string_value(json_object_get(entry, "type"));

	return t != NULL && strcmp(t, type) == 0;
}

/*
 * The policy's sealed fields for an event of type: the rules themselves
 * are never sealed.  The details of audit and export entries are the
 * server's own record of a query (filters, subject tokens, never an
 * identifier) and the claim a bundle is checked against (spec §8.4):
 * their purpose is sealed, not them.
 */
static size_t
fields_to_seal(const struct ledger_retention *p, const json_t *event,
    const char *fields[LEDGER_SEALED_FIELDS_MAX])
{
	size_t i, n = 0;

	if (own_entry(event, "policy") || own_entry(event, "destruction"))
		return 0;
	for (i = 0; i < p->n_sealed && n < LEDGER_SEALED_FIELDS_MAX; i++)
		if (strcmp(p->sealed[i], "details") != 0 ||
		    (!own_entry(event, "audit") && !own_entry(event, "export")))
			fields[n++] = p->sealed[i];
	return n;
}

int
retention_seal_plan(struct server *srv, const json_t *event,
    const char *received_at, struct retention_seal *out)
{
	const struct ledger_retention *p = policy(srv);
	size_t i;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return LEDGER_OK;
	if ((out->rc = ledger_period_name(received_at, srv->period_kind,
	    out->sealed.period)) != 0)
		return out->rc;
	out->n_fields = fields_to_seal(p, event, out->fields);
	if ((out->rc = ledger_sealed_plain_make(event, out->fields,
	    out->n_fields, out->plain, &out->n_plain)) != 0)
		return out->rc;
	/* Refused as the key ring would refuse it, without asking it. */
	for (i = 0; i < out->n_plain; i++)
		if (out->plain[i].plain_len > KEYRING_VALUE_MAX)
			out->rc = LEDGER_ETOOBIG;
	return out->rc;
}

size_t
retention_seal_ops(const struct retention_seal *s, struct keyring_op *ops)
{
	size_t i;

	if (s->rc != 0)
		return 0;
	for (i = 0; i < s->n_plain; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].kind = KEYRING_SEAL;
		ops[i].create = 1;
		memcpy(ops[i].period, s->sealed.period, sizeof(ops[i].period));
		ops[i].msg = s->plain[i].plain;
		ops[i].msg_len = s->plain[i].plain_len;
	}
	return s->n_plain;
}

size_t
retention_seal_take(struct retention_seal *s, struct keyring_op *ops)
{
	struct retention_sealed *out = &s->sealed;
	size_t i, made = s->rc == 0 ? s->n_plain : 0;

	for (i = 0; i < s->n_plain && s->rc == 0; i++) {
		if ((s->rc = ops[i].rc) != 0) {
			log_warnx("retention: cannot seal %s under period %s: %s",
			    s->plain[i].field, out->period, keyring_strerror(s->rc));
			break;
		}
		snprintf(out->field[i], sizeof(out->field[i]), "%s",
		    s->plain[i].field);
		out->sealed[i] = ops[i].out;
		out->sealed_len[i] = ops[i].out_len;
		ops[i].out = NULL;
		out->n++;
	}
	return made;
}

int
retention_seal_for_entry(struct retention_seal *s,
    struct ledger_entry_sealing *sealing, struct retention_sealed *out)
{
	memset(out, 0, sizeof(*out));
	memset(sealing, 0, sizeof(*sealing));
	if (s->rc != 0 || s->sealed.period[0] == '\0')
		return s->rc;
	sealing->fields = s->fields;
	sealing->n_fields = s->n_fields;
	sealing->plain = s->plain;
	sealing->n_plain = s->n_plain;
	*out = s->sealed;
	memset(&s->sealed, 0, sizeof(s->sealed));
	return LEDGER_OK;
}

void
retention_seal_free(struct retention_seal *s)
{
	ledger_sealed_plain_free(s->plain, s->n_plain);
	retention_sealed_free(&s->sealed);
	memset(s, 0, sizeof(*s));
}

void
retention_sealed_free(struct retention_sealed *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->sealed[i]);
	memset(s, 0, sizeof(*s));
}

/* Adds entry seq (with n sealed values) to its period's counts. */
static int
count_in_period(struct store_txn *txn, const char *period, uint64_t seq, size_t n)
{
	uint8_t rec[PERIOD_RECORD_LEN];
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "period/%s", period);
	rc = store_get_retention(txn, name, rec, sizeof(rec));
	if (rc == LEDGER_ENOTFOUND) {
		memset(rec, 0, sizeof(rec));
		ledger_put_be64(rec, seq);
	} else if (rc != 0)
		return rc;
	ledger_put_be64(rec + 8, seq);
	ledger_put_be64(rec + 16, ledger_get_be64(rec + 16) + 1);
	ledger_put_be64(rec + 24, ledger_get_be64(rec + 24) + n);
	return store_put_retention(txn, name, rec, sizeof(rec));
}

int
retention_record_entry(struct store_txn *txn, uint64_t seq, const json_t *fields,
    const struct retention_sealed *s)
{
	uint8_t be[8];
	const json_t *pr;
	char name[64];
	size_t i;
	int rc;

	if (s->period[0] == '\0')
		return LEDGER_OK;
	for (i = 0; i < s->n; i++)
		if ((rc = store_put_sealed(txn, seq, s->field[i], s->period,
		    s->sealed[i], s->sealed_len[i])) != 0)
			return rc;
	if ((rc = count_in_period(txn, s->period, seq, s->n)) != 0)
		return rc;
	ledger_put_be64(be, seq);
	if (own_entry(fields, "policy"))
		return store_put_retention(txn, "policy", be, sizeof(be));
	if (own_entry(fields, "destruction")) {
		json_array_foreach(json_object_get(json_object_get(fields, "details"),
		    "periods"), i, pr) {
			snprintf(name, sizeof(name), "destroyed/%s",
			    json_string_value(json_object_get(pr, "period")));
			if ((rc = store_put_retention(txn, name, be, sizeof(be))) != 0)
				return rc;
		}
	}
	return LEDGER_OK;
}

int
retention_destroyed_by(struct store_txn *txn, const char *period, uint64_t *seq)
{
	uint8_t be[8];
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "destroyed/%s", period);
	if ((rc = store_get_retention(txn, name, be, sizeof(be))) == 0)
		*seq = ledger_get_be64(be);
	return rc;
}

int
retention_restricted(const struct server *srv, const json_t *entry)
{
	const char *s = json_string_value(json_object_get(entry, "received_at"));
	int64_t at;

	if (policy(srv) == NULL || s == NULL ||
	    ledger_time_parse_rfc3339(s, &at) != 0)
		return 0;
	return ledger_retention_restricted(policy(srv), at, server_now_us());
}

int
retention_entry_visible(const struct server *srv, const struct principal *p,
    const json_t *entry)
{
	if (auth_sees_all(p))
		return 1;
	return auth_entry_visible(p, entry) && !retention_restricted(srv, entry);
}

int
retention_org_may_read(const struct server *srv, const char *org,
    const json_t *entry)
{
	return auth_org_may_read(org, entry) && !retention_restricted(srv, entry);
}

/* An event of the server's own, for the writer. */
static json_t *
own_event(const char *type, json_t *details)
{
	char now[LEDGER_TIME_LEN + 1];

	ledger_time_format(server_now_us(), now);
	return json_pack("{s:s, s:{s:s, s:s}, s:s, s:o}", "type", type, "actor",
	    "org", RETENTION_ACTOR_ORG, "user", RETENTION_ACTOR_USER,
	    "occurred_at", now, "details", details);
}

int
retention_policy_event(struct server *srv, struct store_txn *txn, json_t **event)
{
	const struct ledger_retention *p = policy(srv);
	json_t *want = NULL, *entry = NULL;
	const char *bytes;
	uint8_t be[8];
	size_t len;
	int rc;

	*event = NULL;
	rc = store_get_retention(txn, "policy", be, sizeof(be));
	if (rc != 0 && rc != LEDGER_ENOTFOUND)
		return rc;
	if (p == NULL) {
		if (rc == 0) {
			log_warnx("retention: the log records a retention policy "
			    "(entry %" PRIu64 ") and the configuration has none; "
			    "a policy is ended only by recording another",
			    ledger_get_be64(be));
			return LEDGER_EINVAL;
		}
		return LEDGER_OK;
	}
	want = ledger_retention_to_json(p);
	if (rc == 0) {
		if ((rc = store_get_entry(txn, ledger_get_be64(be), &bytes, &len)) != 0)
			goto out;
		if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL) {
			rc = LEDGER_ECORRUPT;
			goto out;
		}
		if (json_equal(json_object_get(entry, "details"), want)) {
			rc = LEDGER_OK;
			goto out;
		}
	}
	*event = own_event("policy", want);
	want = NULL;
	rc = LEDGER_OK;
out:
	json_decref(want);
	json_decref(entry);
	return rc;
}

void
retention_periods_free(char **periods, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(periods[i]);
	free(periods);
}

int
retention_destruction_event(struct server *srv, struct store_txn *txn,
    int64_t now, json_t **event, char ***periods_out, size_t *n_out)
{
	const struct ledger_retention *p = policy(srv);
	struct keyring_periods kp;
	uint8_t rec[PERIOD_RECORD_LEN], be[8];
	json_t *list = NULL, *o;
	char **periods = NULL, name[64];
	uint64_t by;
	size_t i, n = 0;
	int rc;

	*event = NULL;
	*periods_out = NULL;
	*n_out = 0;
	if (p == NULL)
		return LEDGER_OK;
	if ((rc = keyring_periods(srv->keyring, &kp)) != 0)
		return rc;
	list = json_array();
	periods = xcalloc(kp.n_live ? kp.n_live : 1, sizeof(*periods));
	for (i = 0; i < kp.n_live; i++) {
		if (!ledger_retention_due(p, kp.live[i], now))
			continue;
		/* Recorded already: only its completion is missing. */
		if ((rc = retention_destroyed_by(txn, kp.live[i], &by)) == 0)
			continue;
		if (rc != LEDGER_ENOTFOUND)
			goto out;
		snprintf(name, sizeof(name), "period/%s", kp.live[i]);
		rc = store_get_retention(txn, name, rec, sizeof(rec));
		if (rc == 0)
			o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "period", kp.live[i],
			    "first_seq", (json_int_t)ledger_get_be64(rec),
			    "last_seq", (json_int_t)ledger_get_be64(rec + 8),
			    "entries", (json_int_t)ledger_get_be64(rec + 16),
			    "sealed_values", (json_int_t)ledger_get_be64(rec + 24));
		else if (rc == LEDGER_ENOTFOUND)
			o = json_pack("{s:s, s:i, s:i}", "period", kp.live[i],
			    "entries", 0, "sealed_values", 0);
		else
			goto out;
		json_array_append_new(list, o);
		periods[n++] = xstrdup(kp.live[i]);
	}
	rc = LEDGER_OK;
	if (n == 0)
		goto out;
	if ((rc = store_get_retention(txn, "policy", be, sizeof(be))) != 0)
		goto out;
	*event = own_event("destruction", json_pack("{s:o, s:I, s:s}", "periods",
	    list, "policy_seq", (json_int_t)ledger_get_be64(be), "destroyed",
	    "period secret: subject token key and sealing key"));
	list = NULL;
	*periods_out = periods;
	*n_out = n;
	periods = NULL;
	n = 0;
out:
	json_decref(list);
	retention_periods_free(periods, n);
	keyring_periods_free(&kp);
	return rc;
}

int
retention_complete(struct server *srv)
{
	struct keyring_periods kp;
	struct store_txn *txn = NULL;
	uint64_t *by;
	size_t i;
	int rc;

	if ((rc = keyring_periods(srv->keyring, &kp)) != 0)
		return rc;
	by = xcalloc(kp.n_live ? kp.n_live : 1, sizeof(*by));
	/* Which live periods the log says are destroyed; UINT64_MAX: not. */
	if ((rc = store_read_begin(srv->store, &txn)) != 0)
		goto out;
	for (i = 0; i < kp.n_live; i++) {
		rc = retention_destroyed_by(txn, kp.live[i], &by[i]);
		if (rc == LEDGER_ENOTFOUND)
			by[i] = UINT64_MAX;
		else if (rc != 0)
			goto out;
	}
	store_txn_end(txn);
	txn = NULL;
	for (i = 0; i < kp.n_live; i++) {
		if (by[i] == UINT64_MAX)
			continue;
		if ((rc = keyring_destroy(srv->keyring, kp.live[i])) != 0) {
			log_warnx("retention: cannot destroy the secret of period "
			    "%s: %s", kp.live[i], keyring_strerror(rc));
			goto out;
		}
		log_info("retention: destroyed the secret of period %s "
		    "(destruction entry %" PRIu64 ")", kp.live[i], by[i]);
		crash_point("retention-destroyed");
	}
	rc = LEDGER_OK;
out:
	store_txn_end(txn);
	free(by);
	keyring_periods_free(&kp);
	return rc;
}
