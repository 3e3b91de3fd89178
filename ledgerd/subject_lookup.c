/*
 * A subject looked up under every live period (spec §3.3): the keyring gives
 * the tokens, the subject index is read for each and the seqs merged.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "http.h"
#include "keyring.h"
#include "log.h"
#include "offload.h"
#include "server.h"
#include "store.h"
#include "subject_lookup.h"

int
subject_lookup_make(struct server *srv, const char *id, size_t len,
    struct subject_lookup *out)
{
	struct keyring_periods periods;
	struct keyring_op *ops = NULL;
	char received_at[LEDGER_TIME_LEN + 1];
	char now[LEDGER_PERIOD_ID_MAX + 1];
	size_t n = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	ledger_time_format(server_now_us(), received_at);
	if ((rc = ledger_period_name(received_at, srv->period_kind, now)) != 0)
		return rc;
	if ((rc = keyring_periods(srv->keyring, &periods)) != 0)
		return rc;
	ops = xcalloc(periods.n_live + 1, sizeof(*ops));
	ops[n].kind = KEYRING_TOKEN;
	ops[n].create = 1;
	snprintf(ops[n].period, sizeof(ops[n].period), "%s", now);
	n++;
	for (i = 0; i < periods.n_live; i++) {
		if (strcmp(periods.live[i], now) == 0)
			continue;
		ops[n].kind = KEYRING_TOKEN;
		snprintf(ops[n].period, sizeof(ops[n].period), "%s",
		    periods.live[i]);
		n++;
	}
	for (i = 0; i < n; i++) {
		ops[i].msg = id;
		ops[i].msg_len = len;
	}
	if ((rc = keyring_run(srv->keyring, ops, n)) != 0)
		goto out;
	out->tokens = xcalloc(n, sizeof(*out->tokens));
	for (i = 0; i < n; i++) {
		/* Destroyed meanwhile: nothing of it can be found any more. */
		if (i > 0 && (ops[i].rc == KEYRING_EDESTROYED ||
		    ops[i].rc == KEYRING_ENOPERIOD))
			continue;
		if ((rc = ops[i].rc) != 0) {
			log_warnx("subject token under period %s: %s",
			    ops[i].period, keyring_strerror(rc));
			goto out;
		}
		memcpy(out->tokens[out->n++], ops[i].token,
		    sizeof(out->tokens[0]));
	}
	rc = LEDGER_OK;
out:
	keyring_op_release(ops, n);
	free(ops);
	keyring_periods_free(&periods);
	return rc;
}

/* A lookup on a worker: the identifier is the request's, copied. */
struct lookup_job {
	struct offload o;		/* first */
	char *id;
	size_t len;
	int rc;
	struct subject_lookup lookup;
	subject_lookup_done_fn done;
	void *arg;
};

static void
lookup_work(struct offload *o)
{
	struct lookup_job *j = (struct lookup_job *)o;

	j->rc = subject_lookup_make(o->srv, j->id, j->len, &j->lookup);
}

static void
lookup_done(struct offload *o, struct request *r)
{
	struct lookup_job *j = (struct lookup_job *)o;

	offload_release(o);
	j->done(r, j->rc, &j->lookup, j->arg);
	subject_lookup_free(&j->lookup);
	/* A clear subject identifier: this copy is wiped before it is freed. */
	OPENSSL_cleanse(j->id, j->len);
	free(j->id);
	free(j);
}

int
subject_lookup_start(struct request *r, const char *id, size_t len,
    subject_lookup_done_fn done, void *arg)
{
	struct lookup_job *j = xcalloc(1, sizeof(*j));

	j->id = xmalloc(len + 1);
	memcpy(j->id, id, len);
	j->id[len] = '\0';
	j->len = len;
	/* Skipped work (the client left) reports this, with r NULL. */
	j->rc = LEDGER_EINVAL;
	j->done = done;
	j->arg = arg;
	if (offload_submit(r, &j->o, lookup_work, lookup_done) != 0) {
		offload_release(&j->o);
		OPENSSL_cleanse(j->id, j->len);
		free(j->id);
		free(j);
		return -1;
	}
	return 0;
}

void
subject_lookup_name(const struct subject_lookup *l, json_t *obj)
{
	json_object_set_new(obj, "subject_token", json_string(l->tokens[0]));
	if (l->n > 1) {
		json_t *all = json_array();

		for (size_t i = 0; i < l->n; i++)
			json_array_append_new(all, json_string(l->tokens[i]));
		json_object_set_new(obj, "subject_tokens", all);
	}
}

void
subject_lookup_reply_error(struct request *r, int rc)
{
	if (rc == KEYRING_EUNAVAILABLE) {
		/* As for appends refused for the same reason (route_events.c). */
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		reply_error(r, 503, "keys_unavailable", NULL, "the ledger's "
		    "keys are unavailable; try again once it is restarted");
	} else if (rc == KEYRING_EDESTROYED)
		/* Only with the clock behind a destruction (spec §7.2). */
		reply_error(r, 503, "keys_unavailable", NULL, "the secret of "
		    "the current period was destroyed: the server's clock is "
		    "behind the log");
	else
		reply_error(r, 500, "internal", NULL, "cannot compute the "
		    "subject token");
}

void
subject_lookup_free(struct subject_lookup *l)
{
	if (l == NULL)
		return;
	free(l->tokens);
	memset(l, 0, sizeof(*l));
}

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
subject_lookup_scan(struct store_txn *txn, const struct subject_lookup *l,
    uint64_t from, uint64_t *seqs, size_t max, size_t *n)
{
	uint64_t *all;
	size_t got, total = 0, i, k;
	int rc = LEDGER_OK;

	*n = 0;
	if (l->n == 1 || max == 0)
		return l->n == 0 ? LEDGER_OK : store_index_scan(txn,
		    STORE_IDX_SUBJECT, l->tokens[0], LEDGER_SUBJECT_TOKEN_LEN,
		    from, 0, seqs, max, n);
	/*
	 * The max smallest seqs of the union are each among the max smallest
	 * of their own token: max from each, merged, is enough.
	 */
	all = xcalloc(l->n * max, sizeof(*all));
	for (i = 0; i < l->n; i++) {
		if ((rc = store_index_scan(txn, STORE_IDX_SUBJECT, l->tokens[i],
		    LEDGER_SUBJECT_TOKEN_LEN, from, 0, all + total, max,
		    &got)) != 0)
			goto out;
		total += got;
	}
	qsort(all, total, sizeof(*all), cmp_seq);
	for (i = 0, k = 0; i < total && k < max; i++)
		if (k == 0 || all[i] != seqs[k - 1])
			seqs[k++] = all[i];
	*n = k;
out:
	free(all);
	return rc;
}
