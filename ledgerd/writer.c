/*
 * The sequencer thread (spec §7.4; docs/design.md): group commit of queued appends into one
 * synced LMDB write transaction, a signed checkpoint per commit, the
 * publication of checkpoints at an interval (spec §5.4), the storage of
 * witness cosignatures, and the hand-back of finished work to the event
 * loop's thread.  Beside it, the merging thread moves the index tail into
 * the index's own LMDB environment (tail.h, tail_merge.h), so that a merge
 * never holds the write transaction appends wait for.
 *
 * Locking: mu guards the queues, the counters beside them, the latest
 * publication handed to the loop and the merging thread's state; nothing
 * else is shared.  Neither thread holds it while it touches the disk.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_write.h"
#include "ledger/error.h"
#include "ledger/jsonparse.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "auth.h"
#include "config.h"
#include "cosigned.h"
#include "crash.h"
#include "keyring.h"
#include "log.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "tail.h"
#include "tail_merge.h"
#include "writer.h"

TAILQ_HEAD(request_list, append_request);
TAILQ_HEAD(cosign_list, writer_cosign);

/* A publication handed to the loop: the latest only. */
struct publication {
	char *note;			/* NULL: nothing new */
	size_t len;
	uint64_t tree_size;
};

#define DELIVER_TURN 32		/* answers per turn of the loop */

struct writer {
	struct server *srv;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* on the monotonic clock */
	/*
	 * The merging thread (merger_main): merge_cv wakes it (a segment
	 * committed, or stopping), room_cv the writer waiting for the tail
	 * to shrink below its bound.  Both on the monotonic clock, with mu.
	 */
	pthread_t merger;
	int merger_started, merger_stopping;
	int merge_kick;			/* set with merge_cv's signal, cleared
					   by the merging thread as it looks */
	pthread_cond_t merge_cv, room_cv;
	struct request_list queue;	/* waiting for the thread */
	struct request_list done;	/* waiting for the loop */
	struct cosign_list cosign_queue;
	struct cosign_list cosign_done;
	struct publication published;	/* for the loop */
	size_t queued_events;
	int stopping;
	struct event *notify;		/* made active by the thread */
	struct event *more;		/* the loop's next turn of answers */
	struct store_state state;	/* the committed head; the thread's alone */
	/*
	 * The index records of the entries above the watermark (tail.h):
	 * added as entries are appended, merged into LMDB by the merging
	 * thread.
	 */
	struct tail *tail;
	/*
	 * Publication, the thread's alone: the size last published and when
	 * (monotonic microseconds).
	 */
	uint64_t published_size;
	int64_t published_at_us;
	void (*on_publish)(void *arg, uint64_t tree_size, const char *note,
	    size_t len);
	void *on_publish_arg;
	/*
	 * Copied from the config at start: a reload (SIGHUP) swaps srv->cfg
	 * on the loop's thread, so this thread never reads it.
	 */
	char origin[LEDGER_KEY_NAME_MAX + 1];
	size_t max_commit_events;
	int64_t interval_us;
	size_t tail_max_entries;
	int64_t merge_interval_us;
	int64_t merge_retry_us;		/* after a failed merge: not before
					   (with mu) */
	int64_t retention_next_us;	/* monotonic: the next look for periods
					   due for destruction (retention.h) */
	int retention_rc;		/* of the last retention pass */
};

static int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Whether the latest checkpoint is to be published now: the tree grew since
 * the last publication, and the interval has passed since then (spec §5.4).
 */
static int
publication_due(const struct writer *w, uint64_t tree_size, int64_t now)
{
	return tree_size > w->published_size &&
	    now >= w->published_at_us + w->interval_us;
}

/* After a commit that published note: tell the loop (the latest only). */
static void
hand_publication(struct writer *w, uint64_t tree_size, const char *note,
    size_t len, int64_t now)
{
	w->published_size = tree_size;
	w->published_at_us = now;
	pthread_mutex_lock(&w->mu);
	free(w->published.note);
	w->published.note = xstrndup(note, len);
	w->published.len = len;
	w->published.tree_size = tree_size;
	pthread_mutex_unlock(&w->mu);
	metrics_inc(&w->srv->metrics.checkpoints_published, 1);
	log_debug("writer: published the checkpoint of tree size %llu",
	    (unsigned long long)tree_size);
}

void
writer_cosign_free(struct writer_cosign *c)
{
	if (c == NULL)
		return;
	free(c->witness);
	free(c->lines);
	free(c->note);
	free(c);
}

struct append_request *
append_request_new(json_t *events, const struct principal *p)
{
	struct append_request *req = xcalloc(1, sizeof(*req));
	size_t n = json_array_size(events);

	req->events = events;
	req->submitter = xstrdup(p->id);
	req->org = xstrdup(p->org);
	req->sees_all = auth_sees_all(p);
	req->idem_keys = xcalloc(n ? n : 1, sizeof(char *));
	req->request_hashes = xcalloc(n ? n : 1, LEDGER_HASH_LEN);
	req->results = xcalloc(n ? n : 1, sizeof(struct append_result));
	return req;
}

void
append_request_free(struct append_request *req)
{
	if (req == NULL)
		return;
	for (size_t i = 0; i < json_array_size(req->events); i++)
		free(req->idem_keys[i]);
	json_decref(req->events);
	free(req->submitter);
	free(req->org);
	free(req->idem_keys);
	free(req->request_hashes);
	free(req->results);
	free(req->checkpoint);
	free(req);
}

static void
set_error(struct append_request *req, int status, size_t index,
    const char *code, const char *field, const char *message)
{
	req->status = status;
	req->err_index = index;
	snprintf(req->err.code, sizeof(req->err.code), "%s", code);
	snprintf(req->err.field, sizeof(req->err.field), "%s", field);
	snprintf(req->err.message, sizeof(req->err.message), "%s", message);
}

/* The status and code a storage failure is reported with. */
static void
set_store_error(struct append_request *req, int rc)
{
	if (rc == LEDGER_ENOSPC)
		set_error(req, 507, 0, "storage_full", "",
		    "the ledger's storage is full; nothing was written");
	else if (rc == KEYRING_EUNAVAILABLE || rc == KEYRING_EDESTROYED ||
	    rc == KEYRING_ENOPERIOD)
		set_error(req, 503, 0, "keys_unavailable", "",
		    "the ledger's keys are unavailable; nothing was written");
	else
		set_error(req, 500, 0, "internal",
		    "", "storage failure; nothing was written");
}

/* An idempotent repeat: report the original entry. */
static int
repeat_result(struct store_txn *txn, uint64_t seq, struct append_result *res)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	const char *bytes;
	json_t *entry;
	size_t len;
	int rc;

	if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0 ||
	    (rc = hs.get(hs.ctx, 0, seq, res->leaf_hash)) != 0)
		return rc;
	entry = ledger_json_loadb(bytes, len, 0, NULL);
	snprintf(res->received_at, sizeof(res->received_at), "%s",
	    json_string_value(json_object_get(entry, "received_at")) ?: "");
	json_decref(entry);
	res->seq = seq;
	res->repeated = 1;
	return LEDGER_OK;
}

static int
cmp_key_index(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

/* One idempotency key used twice in a request would make it ambiguous. */
static int
check_repeated_keys(struct append_request *req)
{
	size_t n = json_array_size(req->events), m = 0;
	char **keys = xcalloc(n ? n : 1, sizeof(char *));
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (req->idem_keys[i] != NULL)
			keys[m++] = req->idem_keys[i];
	qsort(keys, m, sizeof(char *), cmp_key_index);
	for (size_t i = 1; i < m && rc == 0; i++) {
		if (strcmp(keys[i - 1], keys[i]) != 0)
			continue;
		for (size_t j = n; j-- > 0;) {
			if (req->idem_keys[j] != NULL && strcmp(req->idem_keys[j], keys[i]) == 0) {
				set_error(req, 400, j, "invalid_value", "idempotency_key",
				    "this idempotency key is used twice in the batch");
				break;
			}
		}
		rc = -1;
	}
	free(keys);
	return rc;
}

/* An entry built in the checking pass, written in the second. */
struct pending_entry {
	const json_t *event;	/* the request's: what is indexed, with the
				   subjects' tokens */
	char *bytes;		/* NULL for an idempotent repeat */
	size_t len;
	struct retention_sealed sealed;	/* its sealed values (retention.h) */
};

/*
 * Whether the poster of req may rest an event on entry ref: the entry exists,
 * committed or earlier in this request, and the poster's org may read it
 * (retention_org_may_read: the readers' rule, and not restricted).  An
 * entry it may not read gets the answer of one that does not exist, so refs
 * confirm nothing about entries of other orgs.  The request's entries from
 * seq first on are those of
 * pending, entry first + k at pending[fresh_at[k]]; seqs from end on do not
 * exist yet.  Returns 1, 0, or a LEDGER_E code (storage).
 */
static int
ref_readable(const struct server *srv, struct store_txn *txn,
    const struct append_request *req, uint64_t ref, uint64_t first,
    uint64_t end, const struct pending_entry *pending, const size_t *fresh_at)
{
	const char *bytes;
	json_t *entry;
	size_t len;
	int rc;

	if (ref >= end)
		return 0;
	if (req->sees_all)
		return 1;
	/*
	 * An entry of this commit is read from its event: the same org and
	 * recipients, and no received_at, which is now, so never restricted.
	 */
	if (ref >= first)
		return retention_org_may_read(srv, req->org,
		    pending[fresh_at[ref - first]].event);
	if ((rc = store_get_entry(txn, ref, &bytes, &len)) != 0)
		return rc == LEDGER_ENOTFOUND ? LEDGER_ECORRUPT : rc;
	if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL)
		return LEDGER_ECORRUPT;
	rc = retention_org_may_read(srv, req->org, entry);
	json_decref(entry);
	return rc;
}

/*
 * What the keyring gave one request of a commit: each event's received_at,
 * its subjects' tokens under the period of that time and, under a retention
 * policy, its sealed values.  All subjects and values of a commit go to the
 * keyring in one keyring_run (one round trip).
 */
struct request_keys {
	int64_t *received_us;		/* per event */
	size_t *first_token;		/* per event: its first in tokens */
	char (*tokens)[LEDGER_SUBJECT_TOKEN_LEN + 1];
	size_t n_tokens;
	struct retention_seal *seals;	/* per event */
	size_t n_events;
};

/*
 * The tokens of event i's subjects (in tokens[]), and how many: never more
 * than tokens[] holds, so that an event with more subjects than the rules
 * allow is refused by ledger_entry_write rather than read past the array.
 */
static size_t
event_tokens(const struct request_keys *keys, size_t i, const json_t *ev,
    const char *tokens[LEDGER_SUBJECTS_MAX])
{
	size_t j, n = json_array_size(json_object_get(ev, "subjects"));

	for (j = 0; j < n && j < LEDGER_SUBJECTS_MAX; j++)
		tokens[j] = keys->tokens[keys->first_token[i] + j];
	return j;
}

static void
request_keys_free(struct request_keys *k, size_t n)
{
	for (size_t i = 0; k != NULL && i < n; i++) {
		free(k[i].received_us);
		free(k[i].first_token);
		free(k[i].tokens);
		for (size_t e = 0; e < k[i].n_events; e++)
			retention_seal_free(&k[i].seals[e]);
		free(k[i].seals);
	}
	free(k);
}

/* The subjects of the events of batch: as many TOKEN ops. */
static size_t
batch_subjects(struct request_list *batch, size_t *n_req, size_t *n_events)
{
	struct append_request *req;
	size_t n = 0;

	*n_req = 0;
	*n_events = 0;
	TAILQ_FOREACH(req, batch, link) {
		(*n_req)++;
		*n_events += json_array_size(req->events);
		for (size_t i = 0; i < json_array_size(req->events); i++)
			n += json_array_size(json_object_get(
			    json_array_get(req->events, i), "subjects"));
	}
	return n;
}

/*
 * Takes the tokens and sealed values of keys[0..n_req) out of ops, in the
 * order batch_keys made them: every TOKEN op first, then the SEAL ops.  A
 * token that cannot be made fails the commit; a value that cannot be sealed
 * refuses its request only (its seal's rc, in apply_request).
 */
static int
take_keys(struct request_keys *keys, size_t n_req, struct keyring_op *ops)
{
	size_t j, t, e, k = 0;
	int rc;

	for (j = 0; j < n_req; j++) {
		for (t = 0; t < keys[j].n_tokens; t++, k++) {
			if ((rc = ops[k].rc) != LEDGER_OK) {
				log_warnx("writer: no subject token under "
				    "period %s: %s", ops[k].period,
				    keyring_strerror(rc));
				return rc;
			}
			memcpy(keys[j].tokens[t], ops[k].token,
			    sizeof(keys[j].tokens[t]));
		}
	}
	for (j = 0; j < n_req; j++)
		for (e = 0; e < keys[j].n_events; e++)
			k += retention_seal_take(&keys[j].seals[e], ops + k);
	return LEDGER_OK;
}

/*
 * batch_keys - the received_at of every event of batch (never decreasing,
 * even when the clock steps back), the tokens of their subjects and, under
 * a retention policy, their sealed values, in one keyring_run.  keys[j] is
 * for the j-th request.  Returns 0, KEYRING_EUNAVAILABLE (the keeper is
 * gone) or another error (logged); a value that cannot be sealed is its
 * event's error (retention_seal_for_entry), not the commit's.
 */
static int
batch_keys(struct writer *w, struct request_list *batch,
    struct request_keys **keys_out, size_t *n_out)
{
	struct append_request *req;
	struct request_keys *keys;
	struct keyring_op *ops = NULL;
	size_t n_req, n_events, n_tokens, n_ops, j = 0, k = 0, s;
	int64_t last = w->state.last_received_us;
	int rc = LEDGER_OK;

	n_tokens = batch_subjects(batch, &n_req, &n_events);
	n_ops = n_tokens + (w->srv->has_retention ?
	    n_events * LEDGER_SEALED_FIELDS_MAX : 0);
	keys = xcalloc(n_req ? n_req : 1, sizeof(*keys));
	ops = xcalloc(n_ops ? n_ops : 1, sizeof(*ops));
	s = n_tokens;		/* the SEAL ops follow the TOKEN ops */
	TAILQ_FOREACH(req, batch, link) {
		size_t n = json_array_size(req->events), t = 0;
		struct request_keys *rk = &keys[j++];

		rk->received_us = xcalloc(n ? n : 1, sizeof(*rk->received_us));
		rk->first_token = xcalloc(n ? n : 1, sizeof(*rk->first_token));
		rk->seals = xcalloc(n ? n : 1, sizeof(*rk->seals));
		rk->n_events = n;
		for (size_t i = 0; i < n; i++) {
			json_t *ev = json_array_get(req->events, i);
			json_t *subjects = json_object_get(ev, "subjects"), *sj;
			char received_at[LEDGER_TIME_LEN + 1];
			char period[LEDGER_PERIOD_ID_MAX + 1];
			size_t x;

			rk->received_us[i] = server_now_us();
			if (rk->received_us[i] < last)
				rk->received_us[i] = last;
			last = rk->received_us[i];
			rk->first_token[i] = t;
			ledger_time_format(last, received_at);
			/* Its failure refuses the event, in apply_request. */
			retention_seal_plan(w->srv, ev, received_at, &rk->seals[i]);
			s += retention_seal_ops(&rk->seals[i], ops + s);
			if (json_array_size(subjects) == 0)
				continue;
			if ((rc = ledger_period_name(received_at,
			    w->srv->period_kind, period)) != 0)
				goto out;
			json_array_foreach(subjects, x, sj) {
				struct keyring_op *op = &ops[k++];

				op->kind = KEYRING_TOKEN;
				op->create = 1;
				memcpy(op->period, period, sizeof(op->period));
				op->msg = json_string_value(sj);
				op->msg_len = json_string_length(sj);
				t++;
			}
		}
		rk->tokens = xcalloc(t ? t : 1, sizeof(*rk->tokens));
		rk->n_tokens = t;
	}
	/*
	 * One exchange, unless the commit has more subjects and values than
	 * one holds.  A keeper gone was logged once, when found.
	 */
	if ((rc = keyring_run_all(w->srv->keyring, ops, s)) == 0)
		rc = take_keys(keys, n_req, ops);
out:
	keyring_op_release(ops, s);
	free(ops);
	*keys_out = keys;
	*n_out = n_req;
	return rc;
}

/*
 * Appends the events of one request to txn, advancing *state.  A first pass
 * checks and builds every entry without writing, so a refused request
 * (status 4xx set, returns -1) leaves no trace; only a storage failure in the
 * second pass (returns -2) spoils the transaction, and the caller then
 * aborts the whole batch.
 */
static int
apply_request(struct writer *w, struct store_txn *txn, struct append_request *req,
    struct request_keys *keys, struct store_state *state)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	size_t i, n = json_array_size(req->events), fresh = 0;
	struct pending_entry *pending = xcalloc(n ? n : 1, sizeof(*pending));
	size_t *fresh_at = xcalloc(n ? n : 1, sizeof(*fresh_at));
	struct store_state next = *state;
	int rc, result = -1;

	if (check_repeated_keys(req) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *ev = json_array_get(req->events, i);
		struct append_result *res = &req->results[i];
		const char *key = req->idem_keys[i];
		uint8_t stored_hash[LEDGER_HASH_LEN];
		struct ledger_entry_meta meta;
		uint64_t seq;

		if (key != NULL) {
			rc = store_get_idem(txn, req->submitter, key, &seq, stored_hash);
			if (rc == 0) {
				if (memcmp(stored_hash, req->request_hashes[i],
				    LEDGER_HASH_LEN) != 0) {
					set_error(req, 409, i, "idempotency_conflict",
					    "idempotency_key", "this idempotency key was "
					    "used for a different event");
					goto out;
				}
				if ((rc = repeat_result(txn, seq, res)) != 0)
					goto store_fail;
				continue;
			}
			if (rc != LEDGER_ENOTFOUND)
				goto store_fail;
		}

		/*
		 * refs point backwards, to entries committed or earlier here,
		 * that the poster's org may read: a writer cannot plant its
		 * event in the lineage of an entry it cannot see.
		 */
		json_t *ref;
		size_t j;
		json_array_foreach(json_object_get(ev, "refs"), j, ref) {
			rc = ref_readable(w->srv, txn, req,
			    (uint64_t)json_integer_value(ref),
			    state->tree_size, next.tree_size, pending, fresh_at);
			if (rc < 0)
				goto store_fail;
			if (rc == 0) {
				char field[32];
				snprintf(field, sizeof(field), "refs[%zu]", j);
				set_error(req, 400, i, "unknown_ref", field,
				    "refers to an entry that does not exist");
				goto out;
			}
		}

		/* received_at never decreases, even when the clock steps back. */
		int64_t now = keys->received_us[i];
		if (now < next.last_received_us)
			now = next.last_received_us;
		meta.seq = next.tree_size;
		ledger_time_format(now, meta.received_at);
		meta.submitter = req->submitter;
		memcpy(meta.prev, next.last_leaf_hash, LEDGER_HASH_LEN);
		if ((rc = ledger_entry_salt_new(meta.salt)) != 0)
			goto store_fail;
		const char *tokens[LEDGER_SUBJECTS_MAX];
		size_t n_tokens = event_tokens(keys, i, ev, tokens);
		struct ledger_entry_sealing sealing;
		pending[i].event = ev;
		/* Under a retention policy, free text leaves the entry (§2.10). */
		rc = retention_seal_for_entry(&keys->seals[i], &sealing,
		    &pending[i].sealed);
		if (rc == 0)
			rc = ledger_entry_write(ev, &meta, tokens, n_tokens,
			    pending[i].sealed.period[0] != '\0' ? &sealing : NULL,
			    &pending[i].bytes, &pending[i].len);
		if (rc == LEDGER_ETOOBIG) {
			set_error(req, 400, i, "too_large", "",
			    "the entry would exceed 65,535 bytes");
			goto out;
		}
		if (rc != 0 ||
		    (rc = ledger_leaf_hash(pending[i].bytes, pending[i].len,
		    res->leaf_hash)) != 0)
			goto store_fail;
		res->seq = meta.seq;
		memcpy(res->received_at, meta.received_at, sizeof(res->received_at));
		fresh_at[next.tree_size - state->tree_size] = i;
		next.tree_size++;
		next.last_received_us = now;
		memcpy(next.last_leaf_hash, res->leaf_hash, LEDGER_HASH_LEN);
	}

	/* Everything checks out: write. */
	result = -2;
	for (i = 0; i < n; i++) {
		struct append_result *res = &req->results[i];
		const char *tokens[LEDGER_SUBJECTS_MAX];

		if (pending[i].bytes == NULL)
			continue;
		event_tokens(keys, i, pending[i].event, tokens);
		if ((rc = store_put_entry(txn, res->seq, pending[i].bytes,
		    pending[i].len)) != 0 ||
		    (rc = ledger_merkle_append(&hs, res->seq, res->leaf_hash)) != 0 ||
		    (rc = tail_add(w->tail, res->seq, pending[i].event,
		    tokens)) != 0 ||
		    (rc = retention_record_entry(txn, res->seq, pending[i].event,
		    &pending[i].sealed)) != 0)
			goto store_fail;
		if (req->idem_keys[i] != NULL &&
		    (rc = store_put_idem(txn, req->submitter, req->idem_keys[i],
		    res->seq, req->request_hashes[i])) != 0)
			goto store_fail;
		fresh++;
	}
	*state = next;
	req->status = fresh > 0 ? 201 : 200;
	result = 0;
	goto out;
store_fail:
	set_store_error(req, rc);
out:
	for (i = 0; i < n; i++) {
		free(pending[i].bytes);
		retention_sealed_free(&pending[i].sealed);
	}
	free(pending);
	free(fresh_at);
	return result;
}

/*
 * Signs the checkpoint of the tree in txn and stores it there.  The keyring
 * signs the body (one round trip); the signature is checked against the
 * log's public key before it is stored, so nothing unsigned or wrongly
 * signed is ever kept.  KEYRING_EUNAVAILABLE when the keeper is gone.
 */
static int
sign_checkpoint(struct writer *w, struct store_txn *txn, uint64_t tree_size,
    char **note_out)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	struct ledger_checkpoint cp;
	struct keyring_op op;
	char *body = NULL, *line = NULL, *note = NULL;
	int rc;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", w->origin);
	cp.tree_size = tree_size;
	if ((rc = ledger_merkle_root(&hs, tree_size, cp.root)) != 0)
		return rc;
	crash_point("sign");
	if ((body = ledger_checkpoint_format(&cp)) == NULL)
		return LEDGER_ECRYPTO;
	memset(&op, 0, sizeof(op));
	op.kind = KEYRING_SIGN;
	op.msg = body;
	op.msg_len = strlen(body);
	if ((rc = keyring_run(w->srv->keyring, &op, 1)) != 0 ||
	    (rc = op.rc) != 0)
		goto out;
	if ((line = ledger_note_sig_line(&w->srv->verifier, body, strlen(body),
	    op.sig)) == NULL) {
		log_warnx("writer: the checkpoint signature of tree size %llu "
		    "does not verify with the log's key",
		    (unsigned long long)tree_size);
		rc = LEDGER_EVERIFY;
		goto out;
	}
	note = xasprintf("%s\n%s", body, line);
	rc = store_put_checkpoint(txn, note, strlen(note));
	if (rc == 0 && note_out != NULL) {
		*note_out = note;
		note = NULL;
	}
out:
	free(body);
	free(line);
	free(note);
	return rc;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Adds c's lines to the published checkpoint they sign, in txn, and records
 * the witness's size.  Returns 0 (c->rc 0), 1 when c alone is refused
 * (c->rc says why; txn is still good), or a store error: txn is spoiled.
 */
static int
add_cosignatures(struct store_txn *txn, struct writer_cosign *c)
{
	const char *note;
	size_t len;
	int rc;

	free(c->note);
	c->note = NULL;
	c->rc = LEDGER_EIO;
	rc = store_get_published_at(txn, c->tree_size, 0, NULL, &note, &len);
	if (rc == LEDGER_ENOTFOUND) {
		c->rc = rc;
		return 1;
	}
	if (rc != 0)
		return rc;
	if ((rc = cosigned_merge(note, len, c->lines, strlen(c->lines),
	    &c->note, &c->note_len)) != 0) {
		c->rc = rc;
		return 1;
	}
	if ((rc = store_put_published(txn, c->tree_size, c->note,
	    c->note_len)) != 0 ||
	    (rc = store_put_witness_size(txn, c->witness, c->tree_size)) != 0)
		return rc;
	c->rc = LEDGER_OK;
	return 0;
}

/* c was refused, or its commit failed (rc): say so, keep no note. */
static void
cosign_failed(struct writer *w, struct writer_cosign *c, int rc)
{
	if (c->rc == LEDGER_OK)
		c->rc = rc;
	free(c->note);
	c->note = NULL;
	log_warnx("writer: cannot store the cosignatures of witness %s for tree "
	    "size %llu: %s", c->witness, (unsigned long long)c->tree_size,
	    ledger_strerror(c->rc));
}

/* Wakes the merging thread: the tail has work it has not seen. */
static void
kick_merger(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->merge_kick = 1;
	pthread_cond_signal(&w->merge_cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * One group commit of the requests in batch, and of the cosignatures in
 * cosigns: under load they ride along in the commit the appends pay for
 * anyway.
 */
static void
commit_batch(struct writer *w, struct request_list *batch,
    struct cosign_list *cosigns)
{
	struct store_state state = w->state;
	struct append_request *req;
	struct writer_cosign *c;
	struct store_txn *txn = NULL;
	size_t appended = 0, accepted = 0, cosigned = 0;
	char *note = NULL;
	struct request_keys *keys = NULL;
	size_t n_keys = 0, i_req = 0;
	struct timespec t0;
	int64_t now = 0;
	int rc, publish = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = batch_keys(w, batch, &keys, &n_keys)) != 0)
		goto fail;
	if ((rc = store_write_begin(w->srv->store, &txn)) != 0)
		goto fail;
	TAILQ_FOREACH(req, batch, link) {
		uint64_t before = state.tree_size;

		rc = apply_request(w, txn, req, &keys[i_req++], &state);
		if (rc == -2) {
			/* Keep "storage full" (507) for every request of the batch. */
			rc = req->status == 507 ? LEDGER_ENOSPC : LEDGER_EIO;
			goto fail;
		}
		if (rc != 0)
			continue;
		appended += state.tree_size - before;
		accepted++;
	}
	request_keys_free(keys, n_keys);
	keys = NULL;
	TAILQ_FOREACH(c, cosigns, link) {
		if ((rc = add_cosignatures(txn, c)) < 0)
			goto fail;
		if (rc == 0)
			cosigned++;
		else
			cosign_failed(w, c, c->rc);
	}
	if (appended > 0) {
		/*
		 * No index records: they are in the tail already, which
		 * readers consult above the watermark, and reach LMDB in a
		 * merge of their own (tail_merge.h).
		 */
		if ((rc = store_put_state(txn, &state)) != 0 ||
		    (rc = sign_checkpoint(w, txn, state.tree_size, &note)) != 0)
			goto fail;
		/* Published in the commit that signs it: no commit of its own. */
		now = monotonic_us();
		if (publication_due(w, state.tree_size, now)) {
			if ((rc = store_put_published(txn, state.tree_size, note,
			    strlen(note))) != 0)
				goto fail;
			publish = 1;
		}
	} else {
		/* Only repeats and refusals: the current checkpoint covers them. */
		const char *stored;
		size_t len;
		if ((rc = store_get_checkpoint(txn, &stored, &len)) != 0)
			goto fail;
		note = xstrndup(stored, len);
	}
	TAILQ_FOREACH(req, batch, link) {
		if (req->status >= 300)
			continue;
		req->tree_size = state.tree_size;
		if (req->want_proof) {
			struct ledger_hash_store hs = store_hash_store(txn);
			rc = ledger_merkle_inclusion_proof(&hs, req->results[0].seq,
			    state.tree_size, req->proof, &req->proof_len);
			if (rc != 0)
				goto fail;
			req->checkpoint = xstrdup(note);
		}
	}
	if (appended == 0 && cosigned == 0) {
		store_txn_end(txn);
		free(note);
		return;
	}
	crash_point("before-commit");
	rc = store_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	crash_point("after-commit");
	metrics_inc(&w->srv->metrics.commits, 1);
	if (appended == 0) {
		free(note);
		return;		/* cosignatures only */
	}
	w->state = state;
	if (tail_committed(w->tail, state.tree_size))
		kick_merger(w);
	if (publish)
		hand_publication(w, state.tree_size, note, strlen(note), now);
	metrics_inc(&w->srv->metrics.appends, appended);
	metrics_observe(&w->srv->metrics.commit_seconds, metrics_latency_bounds,
	    METRICS_LATENCY_BUCKETS, seconds_since(&t0));
	metrics_observe(&w->srv->metrics.batch_events, metrics_batch_bounds,
	    METRICS_BATCH_BUCKETS, (double)appended);
	log_debug("writer: committed %zu entries of %zu requests, tree size %llu",
	    appended, accepted, (unsigned long long)state.tree_size);
	free(note);
	return;
fail:
	request_keys_free(keys, n_keys);
	store_txn_end(txn);
	/* Readers never saw these entries; their seqs will be reused. */
	if (tail_truncate(w->tail, w->state.tree_size))
		kick_merger(w);
	free(note);
	metrics_inc(&w->srv->metrics.commit_failures, 1);
	/*
	 * Nothing of the batch is durable and w->state still describes the
	 * last commit, so the next batch starts from the committed head.
	 */
	if (rc == LEDGER_ENOSPC)
		log_warnx("writer: storage full: commit of %zu requests refused "
		    "with 507, tree size stays %llu; appends resume once space "
		    "is freed", accepted, (unsigned long long)w->state.tree_size);
	else
		log_warnx("writer: commit failed, %zu requests refused: %s",
		    accepted, keyring_strerror(rc));
	TAILQ_FOREACH(req, batch, link) {
		if (req->status < 300) {
			free(req->checkpoint);
			req->checkpoint = NULL;
			set_store_error(req, rc);
		}
	}
	TAILQ_FOREACH(c, cosigns, link)
		if (c->rc == LEDGER_OK || c->rc == LEDGER_EIO)
			cosign_failed(w, c, rc);
}

/*
 * Publishes the latest checkpoint in a commit of its own: the tree grew and
 * the interval passed with no append to carry the publication.
 */
static void
publish_alone(struct writer *w)
{
	struct store_txn *txn = NULL;
	const char *note;
	char *copy = NULL;
	size_t len;
	int64_t now = monotonic_us();
	int rc;

	if ((rc = store_write_begin(w->srv->store, &txn)) != 0 ||
	    (rc = store_get_checkpoint(txn, &note, &len)) != 0)
		goto fail;
	copy = xstrndup(note, len);
	if ((rc = store_put_published(txn, w->state.tree_size, copy, len)) != 0)
		goto fail;
	rc = store_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	hand_publication(w, w->state.tree_size, copy, len, now);
	free(copy);
	return;
fail:
	store_txn_end(txn);
	free(copy);
	metrics_inc(&w->srv->metrics.commit_failures, 1);
	/* Tried again after another interval, not in a tight loop. */
	w->published_at_us = now;
	log_warnx("writer: cannot publish the checkpoint of tree size %llu: %s",
	    (unsigned long long)w->state.tree_size, ledger_strerror(rc));
}

/* The absolute monotonic time a timed wait ends at. */
static struct timespec
deadline(int64_t at_us)
{
	struct timespec ts;

	ts.tv_sec = at_us / 1000000;
	ts.tv_nsec = (at_us % 1000000) * 1000;
	return ts;
}

/*
 * One merge of the oldest committed segment into the index, with its
 * metrics; after a failure (logged) none is tried for an interval, not in
 * a tight loop.  Appends go on meanwhile (a full disk refuses them by
 * itself), so the tail may pass its bound while merges fail.
 */
static void
merge_once(struct writer *w)
{
	struct timespec t0;
	uint64_t merged;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = tail_merge_one(w->srv->store, w->tail, &merged)) != 0) {
		metrics_inc(&w->srv->metrics.merge_failures, 1);
		pthread_mutex_lock(&w->mu);
		w->merge_retry_us = monotonic_us() + w->merge_interval_us;
		pthread_mutex_unlock(&w->mu);
		return;
	}
	if (merged == 0)
		return;
	metrics_inc(&w->srv->metrics.merges, 1);
	metrics_observe(&w->srv->metrics.merge_seconds, metrics_latency_bounds,
	    METRICS_LATENCY_BUCKETS, seconds_since(&t0));
	log_debug("writer: merged %llu entries into the index",
	    (unsigned long long)merged);
}

/*
 * The merging thread: seals the open segment once it is
 * limits.tail_merge_interval_ms old, merges committed segments as they
 * come, and frees the merged ones no reader needs.  Its transactions are
 * the index environment's, so appends commit while it merges; only the
 * disk is shared.
 */
static void *
merger_main(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->merger_stopping) {
		int64_t now = monotonic_us(), due;

		if (now >= w->merge_retry_us) {
			w->merge_kick = 0;
			pthread_mutex_unlock(&w->mu);
			tail_seal_older(w->tail, now, w->merge_interval_us);
			if (tail_next_merge(w->tail) != NULL)
				merge_once(w);
			tail_reclaim(w->tail);
			due = tail_due(w->tail, monotonic_us(),
			    w->merge_interval_us);
			pthread_mutex_lock(&w->mu);
			pthread_cond_broadcast(&w->room_cv);
			/* A commit meanwhile may have brought work due now. */
			if (due == 0 || w->merge_kick)
				continue;
		} else
			due = w->merge_retry_us;
		if (w->merger_stopping)
			break;
		if (due < w->merge_retry_us)
			due = w->merge_retry_us;
		if (due == INT64_MAX) {
			pthread_cond_wait(&w->merge_cv, &w->mu);
		} else {
			struct timespec ts = deadline(due);
			pthread_cond_timedwait(&w->merge_cv, &w->mu, &ts);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * The back-pressure that bounds the tail's memory: while it holds
 * limits.tail_max_entries unmerged entries, the writer takes no more
 * appends (the queue then fills, and appends beyond it are refused 503)
 * until the merging thread has made room, unless merges are failing.
 * With mu held.
 */
static void
wait_for_room(struct writer *w)
{
	struct tail_stats ts;

	for (;;) {
		tail_stats(w->tail, &ts);
		if (ts.entries < w->tail_max_entries || w->stopping ||
		    monotonic_us() < w->merge_retry_us)
			return;
		struct timespec at = deadline(monotonic_us() + 100000);
		pthread_cond_timedwait(&w->room_cv, &w->mu, &at);
	}
}

/*
 * Appends the server's own event (a policy or destruction entry) in a
 * commit of its own, on the writer's thread or before it starts.  Its
 * retention records are written with it (retention_record_entry).
 * Returns 0 with *seq set, or the refusal's error (logged).
 */
static int
append_own(struct writer *w, json_t *event, uint64_t *seq)
{
	struct principal own;
	struct request_list batch = TAILQ_HEAD_INITIALIZER(batch);
	struct cosign_list cosigns = TAILQ_HEAD_INITIALIZER(cosigns);
	struct append_request *req;
	int rc = LEDGER_OK;

	memset(&own, 0, sizeof(own));
	own.id = (char *)RETENTION_ACTOR_ORG;
	own.org = (char *)RETENTION_ACTOR_ORG;
	own.any_org = 1;
	req = append_request_new(json_pack("[o]", event), &own);
	TAILQ_INSERT_TAIL(&batch, req, link);
	commit_batch(w, &batch, &cosigns);
	if (req->status != 201) {
		log_warnx("writer: the %s entry was not written (%d %s: %s)",
		    json_string_value(json_object_get(event, "type")),
		    req->status, req->err.code, req->err.message);
		rc = req->status == 507 ? LEDGER_ENOSPC : LEDGER_EIO;
	} else
		*seq = req->results[0].seq;
	append_request_free(req);
	return rc;
}

/*
 * The start of retention (spec §2.11, §2.12): complete any destruction the
 * log records whose secrets remain, then record the policy in force if it
 * is not the last recorded.  Before any other append; an error stops the
 * start.
 */
static int
retention_start(struct writer *w)
{
	struct store_txn *txn = NULL;
	json_t *event = NULL;
	uint64_t seq;
	int rc;

	if ((rc = retention_complete(w->srv)) != 0)
		return rc;
	if ((rc = store_read_begin(w->srv->store, &txn)) != 0)
		return rc;
	rc = retention_policy_event(w->srv, txn, &event);
	store_txn_end(txn);
	if (rc != 0 || event == NULL)
		return rc;
	if ((rc = append_own(w, event, &seq)) != 0)
		return rc;
	log_info("retention: policy recorded as entry %" PRIu64, seq);
	return LEDGER_OK;
}

/*
 * The retention pass (spec §2.12): destroys the periods due, the
 * destruction entry committed first, the secrets after.
 */
static int
retention_pass(struct writer *w)
{
	struct store_txn *txn = NULL;
	json_t *event = NULL;
	char **periods = NULL;
	size_t n = 0;
	uint64_t seq;
	int rc;

	if ((rc = store_read_begin(w->srv->store, &txn)) != 0)
		return rc;
	rc = retention_destruction_event(w->srv, txn, server_now_us(), &event,
	    &periods, &n);
	store_txn_end(txn);
	if (rc != 0 || event == NULL)
		return rc;
	crash_point("retention-entry");
	if ((rc = append_own(w, event, &seq)) != 0)
		goto out;
	log_info("retention: destruction of %zu periods recorded as entry %"
	    PRIu64, n, seq);
	/* Only now, with the record durable, do the secrets go. */
	crash_point("retention-committed");
	rc = retention_complete(w->srv);
out:
	retention_periods_free(periods, n);
	return rc;
}

/* Runs the retention pass and sets when the next falls due. */
static void
retention_turn(struct writer *w)
{
	if ((w->retention_rc = retention_pass(w)) != 0)
		log_warnx("retention: the pass failed (%s); tried again in %d s",
		    keyring_strerror(w->retention_rc), RETENTION_CHECK_SECONDS);
	w->retention_next_us = monotonic_us() +
	    (int64_t)RETENTION_CHECK_SECONDS * 1000000;
}

int
writer_retention_rc(const struct writer *w)
{
	return w->retention_rc;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	size_t max = w->max_commit_events;

	for (;;) {
		struct request_list batch = TAILQ_HEAD_INITIALIZER(batch);
		struct cosign_list cosigns = TAILQ_HEAD_INITIALIZER(cosigns);
		struct append_request *req;
		size_t events = 0;
		int publish = 0, retention = 0;

		pthread_mutex_lock(&w->mu);
		wait_for_room(w);
		/*
		 * Sleep until there is work, until a publication falls due
		 * (the tree grew, and the interval will have passed), or
		 * until the next look for periods due for destruction.
		 */
		while (TAILQ_EMPTY(&w->queue) && TAILQ_EMPTY(&w->cosign_queue) &&
		    !w->stopping) {
			int64_t now = monotonic_us();
			int64_t due = INT64_MAX;

			if (w->srv->has_retention) {
				if (now >= w->retention_next_us) {
					retention = 1;
					break;
				}
				if (w->retention_next_us < due)
					due = w->retention_next_us;
			}
			if (w->state.tree_size > w->published_size) {
				int64_t pdue = w->published_at_us + w->interval_us;

				if (now >= pdue) {
					publish = 1;
					break;
				}
				if (pdue < due)
					due = pdue;
			}
			if (due == INT64_MAX) {
				pthread_cond_wait(&w->cv, &w->mu);
			} else {
				struct timespec ts = deadline(due);
				pthread_cond_timedwait(&w->cv, &w->mu, &ts);
			}
		}
		if (retention) {
			pthread_mutex_unlock(&w->mu);
			retention_turn(w);
			continue;
		}
		if (!publish && TAILQ_EMPTY(&w->queue) &&
		    TAILQ_EMPTY(&w->cosign_queue)) {
			pthread_mutex_unlock(&w->mu);
			break;		/* stopping, nothing left */
		}
		TAILQ_CONCAT(&cosigns, &w->cosign_queue, link);
		/* Everything queued, up to max events (at least one request). */
		while ((req = TAILQ_FIRST(&w->queue)) != NULL) {
			size_t n = json_array_size(req->events);
			if (events > 0 && events + n > max)
				break;
			TAILQ_REMOVE(&w->queue, req, link);
			TAILQ_INSERT_TAIL(&batch, req, link);
			events += n;
		}
		w->queued_events -= events;
		pthread_mutex_unlock(&w->mu);

		/* Tests hold appends here, taken but not committed. */
		if (!TAILQ_EMPTY(&batch))
			crash_hold("commit");
		/* Cosignatures alone make a small commit of their own. */
		if (!TAILQ_EMPTY(&batch) || !TAILQ_EMPTY(&cosigns))
			commit_batch(w, &batch, &cosigns);
		if (TAILQ_EMPTY(&batch) &&
		    publication_due(w, w->state.tree_size, monotonic_us()))
			publish_alone(w);

		pthread_mutex_lock(&w->mu);
		TAILQ_CONCAT(&w->done, &batch, link);
		TAILQ_CONCAT(&w->cosign_done, &cosigns, link);
		pthread_mutex_unlock(&w->mu);
		event_active(w->notify, EV_READ, 0);
	}
	return NULL;
}

/*
 * Answers at most max of the requests the writer finished, on the loop's
 * thread.  Returns 1 when more are waiting.
 */
static int
deliver_some(struct writer *w, size_t max)
{
	struct request_list done = TAILQ_HEAD_INITIALIZER(done);
	struct cosign_list cosigns = TAILQ_HEAD_INITIALIZER(cosigns);
	struct publication pub;
	struct append_request *req;
	struct writer_cosign *c;
	size_t n;
	int more;

	pthread_mutex_lock(&w->mu);
	for (n = 0; n < max && (req = TAILQ_FIRST(&w->done)) != NULL; n++) {
		TAILQ_REMOVE(&w->done, req, link);
		TAILQ_INSERT_TAIL(&done, req, link);
	}
	more = !TAILQ_EMPTY(&w->done);
	TAILQ_CONCAT(&cosigns, &w->cosign_done, link);
	pub = w->published;
	w->published.note = NULL;
	pthread_mutex_unlock(&w->mu);
	/*
	 * The publication first: a request answered below may wait for a
	 * witnessed checkpoint, and learns of the newest one this way.
	 */
	if (pub.note != NULL && w->on_publish != NULL)
		w->on_publish(w->on_publish_arg, pub.tree_size, pub.note,
		    pub.len);
	free(pub.note);
	while ((c = TAILQ_FIRST(&cosigns)) != NULL) {
		TAILQ_REMOVE(&cosigns, c, link);
		c->done(c, c->arg);
	}
	while ((req = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, req, link);
		req->done(req, req->arg);
	}
	return more;
}

/*
 * On the loop's thread: answer what the writer finished, DELIVER_TURN at a
 * time.  A group commit of single appends can finish a request per open
 * connection; the rest waits for the loop's next turn (a timer of zero runs
 * after the sockets found ready meanwhile), so other requests are read and
 * answered in between.
 */
static void
deliver_done(evutil_socket_t fd, short what, void *arg)
{
	struct writer *w = arg;
	struct timeval now = { 0, 0 };

	if (deliver_some(w, DELIVER_TURN))
		evtimer_add(w->more, &now);
}

/*
 * The newest entry's bytes must hash to its stored leaf hash and to the
 * head's prev: a cheap start-up check of the entry most exposed to a torn
 * or damaged write.  Older entries are fsck's (O(n)); clients check every
 * entry they are served against its inclusion proof anyway.
 */
static int
check_last_entry(struct store_txn *txn, const struct store_state *state)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	uint8_t stored[LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	uint64_t seq = state->tree_size - 1;
	const char *bytes;
	size_t len;
	int rc;

	if (state->tree_size == 0)
		return LEDGER_OK;
	if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0 ||
	    (rc = hs.get(hs.ctx, 0, seq, stored)) != 0 ||
	    (rc = ledger_leaf_hash(bytes, len, leaf)) != 0) {
		log_warnx("store: cannot read entry seq %llu: %s",
		    (unsigned long long)seq, ledger_strerror(rc));
		return rc == LEDGER_ENOTFOUND ? LEDGER_ECORRUPT : rc;
	}
	if (memcmp(leaf, stored, LEDGER_HASH_LEN) != 0 ||
	    memcmp(leaf, state->last_leaf_hash, LEDGER_HASH_LEN) != 0) {
		log_warnx("store: entry seq %llu does not hash to its stored leaf "
		    "hash; refusing to serve; run ledgerd fsck",
		    (unsigned long long)seq);
		return LEDGER_ECORRUPT;
	}
	return LEDGER_OK;
}

/*
 * The published checkpoint at start, in txn (which this commits or ends):
 * it must verify and name a prefix of the stored tree.  A data directory
 * from before checkpoints were published gets its latest checkpoint
 * published at once.  A log whose latest checkpoint is newer than the
 * published one (it stopped between two publications) publishes at the
 * first chance; otherwise the interval runs from now.
 */
static int
open_published(struct writer *w, struct store_txn *txn, const char *latest,
    size_t latest_len)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	struct ledger_checkpoint cp;
	uint8_t root[LEDGER_HASH_LEN];
	const char *note;
	size_t len, part;
	uint64_t size;
	int rc;

	rc = store_get_published(txn, &size, &note, &len);
	if (rc == LEDGER_ENOTFOUND) {
		if ((rc = store_put_published(txn, w->state.tree_size, latest,
		    latest_len)) != 0)
			goto out;
		rc = store_commit(txn);
		txn = NULL;
		w->published_size = w->state.tree_size;
		w->published_at_us = monotonic_us();
		goto out;
	}
	if (rc != 0)
		goto out;
	/* Witnesses add lines; the log's own signature comes first. */
	if ((rc = cosigned_log_part(note, len, &part)) != 0 ||
	    (rc = ledger_checkpoint_open(note, part, &w->srv->verifier,
	    &cp)) != 0 || cp.tree_size != size) {
		log_warnx("store: the published checkpoint of tree size %llu "
		    "does not verify with the log's key; run ledgerd fsck",
		    (unsigned long long)size);
		rc = LEDGER_ECORRUPT;
		goto out;
	}
	if (size > w->state.tree_size ||
	    (rc = ledger_merkle_root(&hs, size, root)) != 0 ||
	    memcmp(root, cp.root, LEDGER_HASH_LEN) != 0) {
		log_warnx("store: the published checkpoint (size %llu) is not "
		    "of the stored tree (size %llu); run ledgerd fsck",
		    (unsigned long long)size,
		    (unsigned long long)w->state.tree_size);
		rc = rc != 0 ? rc : LEDGER_ECORRUPT;
		goto out;
	}
	w->published_size = size;
	w->published_at_us = size == w->state.tree_size ? monotonic_us() :
	    monotonic_us() - w->interval_us;
	rc = LEDGER_OK;
out:
	store_txn_end(txn);
	return rc;
}

/*
 * Checks the stored head against the stored checkpoint before anything is
 * served, writes the checkpoint of the empty tree on first start, and reads
 * the published checkpoint.
 */
static int
open_head(struct writer *w)
{
	struct store_txn *txn = NULL;
	struct ledger_checkpoint cp;
	struct ledger_hash_store hs;
	uint8_t root[LEDGER_HASH_LEN];
	const char *note;
	size_t len;
	int rc;

	if ((rc = store_write_begin(w->srv->store, &txn)) != 0)
		goto out;
	if ((rc = store_get_state(txn, &w->state)) != 0)
		goto out;
	rc = store_get_checkpoint(txn, &note, &len);
	if (rc == LEDGER_ENOTFOUND && w->state.tree_size == 0) {
		char *first = NULL;

		/* The empty tree's checkpoint is signed and published at once. */
		if ((rc = sign_checkpoint(w, txn, 0, &first)) != 0 ||
		    (rc = store_put_published(txn, 0, first, strlen(first))) != 0) {
			free(first);
			goto out;
		}
		free(first);
		rc = store_commit(txn);
		txn = NULL;
		w->published_size = 0;
		w->published_at_us = monotonic_us();
		goto out;
	}
	if (rc != 0)
		goto out;
	hs = store_hash_store(txn);
	if ((rc = ledger_checkpoint_open(note, len, &w->srv->verifier, &cp)) != 0) {
		log_warnx("store: the stored checkpoint does not verify with the "
		    "log's key: %s", ledger_strerror(rc));
		rc = LEDGER_ECORRUPT;
		goto out;
	}
	if ((rc = ledger_merkle_root(&hs, w->state.tree_size, root)) != 0)
		goto out;
	if ((rc = check_last_entry(txn, &w->state)) != 0)
		goto out;
	if (cp.tree_size != w->state.tree_size ||
	    memcmp(cp.root, root, LEDGER_HASH_LEN) != 0) {
		log_warnx("store: the checkpoint (size %llu) does not match the "
		    "stored tree (size %llu); run ledgerd fsck",
		    (unsigned long long)cp.tree_size,
		    (unsigned long long)w->state.tree_size);
		rc = LEDGER_ECORRUPT;
		goto out;
	}
	rc = open_published(w, txn, note, len);
	txn = NULL;
out:
	store_txn_end(txn);
	return rc;
}

/*
 * The tail at start: the records of the entries above the watermark,
 * rebuilt from their bytes (work bounded by limits.tail_max_entries plus a
 * segment, as merges leave it), then handed to the store's readers.
 */
static int
open_tail(struct writer *w)
{
	struct timespec t0;
	uint64_t rebuilt;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = tail_open(w->srv->store, w->srv->cfg->limits.tail_merge_entries,
	    &w->tail, &rebuilt)) != 0)
		return rc;
	store_set_tail(w->srv->store, w->tail);
	log_info("writer: index tail of %llu entries rebuilt in %.3f s",
	    (unsigned long long)rebuilt, seconds_since(&t0));
	return LEDGER_OK;
}

void
writer_tail_stats(struct writer *w, struct tail_stats *out)
{
	tail_stats(w->tail, out);
}

/*
 * Stops the merging thread, after the writer's: what it has not merged is
 * rebuilt from the entries at the next start.
 */
static void
stop_merger(struct writer *w)
{
	if (!w->merger_started)
		return;
	pthread_mutex_lock(&w->mu);
	w->merger_stopping = 1;
	pthread_cond_signal(&w->merge_cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->merger, NULL);
	w->merger_started = 0;
}

struct writer *
writer_start(struct server *srv, struct event_base *base)
{
	struct writer *w = xcalloc(1, sizeof(*w));
	int rc;

	pthread_condattr_t attr;

	w->srv = srv;
	snprintf(w->origin, sizeof(w->origin), "%s", srv->cfg->origin);
	w->max_commit_events = srv->cfg->limits.max_commit_events;
	w->interval_us = (int64_t)srv->cfg->checkpoint_interval_ms * 1000;
	w->tail_max_entries = srv->cfg->limits.tail_max_entries;
	w->merge_interval_us = (int64_t)srv->cfg->limits.tail_merge_interval_ms * 1000;
	TAILQ_INIT(&w->queue);
	TAILQ_INIT(&w->done);
	TAILQ_INIT(&w->cosign_queue);
	TAILQ_INIT(&w->cosign_done);
	pthread_mutex_init(&w->mu, NULL);
	/* Publication deadlines are monotonic: a clock step moves none. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &attr);
	pthread_cond_init(&w->merge_cv, &attr);
	pthread_cond_init(&w->room_cv, &attr);
	pthread_condattr_destroy(&attr);
	if ((rc = open_head(w)) != 0) {
		log_warnx("writer: cannot open the log: %s", ledger_strerror(rc));
		goto fail;
	}
	if ((rc = open_tail(w)) != 0) {
		log_warnx("writer: cannot rebuild the index tail: %s",
		    ledger_strerror(rc));
		goto fail;
	}
	w->notify = event_new(base, -1, 0, deliver_done, w);
	w->more = evtimer_new(base, deliver_done, w);
	if (w->notify == NULL || w->more == NULL)
		goto fail;
	if (pthread_create(&w->merger, NULL, merger_main, w) != 0) {
		log_warnx("writer: cannot start the merging thread");
		goto fail;
	}
	w->merger_started = 1;
	/*
	 * Before the thread and any request: the policy in force is the
	 * first thing appended (spec §2.11), and an interrupted destruction
	 * is completed.  A failed destruction is tried again later; a policy
	 * that cannot be recorded stops the start.
	 */
	if ((rc = retention_start(w)) != 0) {
		log_warnx("writer: cannot start under the retention policy: %s",
		    keyring_strerror(rc));
		goto fail;
	}
	if (srv->has_retention)
		retention_turn(w);
	/* Said before the thread starts: then the state is this thread's. */
	log_info("writer: log open at tree size %llu, published %llu; "
	    "checkpoints published at most every %d ms",
	    (unsigned long long)w->state.tree_size,
	    (unsigned long long)w->published_size,
	    srv->cfg->checkpoint_interval_ms);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		log_warnx("writer: cannot start its thread");
		goto fail;
	}
	return w;
fail:
	stop_merger(w);
	if (w->notify != NULL)
		event_free(w->notify);
	if (w->more != NULL)
		event_free(w->more);
	store_set_tail(srv->store, NULL);
	tail_free(w->tail);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->merge_cv);
	pthread_cond_destroy(&w->room_cv);
	free(w);
	return NULL;
}

int
writer_submit(struct writer *w, struct append_request *req)
{
	size_t n = json_array_size(req->events);

	req->queued_us = server_now_us();
	pthread_mutex_lock(&w->mu);
	if (w->stopping ||
	    w->queued_events + n > w->srv->cfg->limits.max_queue_events) {
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	TAILQ_INSERT_TAIL(&w->queue, req, link);
	w->queued_events += n;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
writer_on_publish(struct writer *w, void (*fn)(void *arg, uint64_t tree_size,
    const char *note, size_t len), void *arg)
{
	w->on_publish = fn;
	w->on_publish_arg = arg;
}

int
writer_add_cosignatures(struct writer *w, struct writer_cosign *c)
{
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	TAILQ_INSERT_TAIL(&w->cosign_queue, c, link);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

size_t
writer_queue_depth(struct writer *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->queued_events;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
writer_stop(struct writer *w)
{
	int joined;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	joined = w->stopping;
	w->stopping = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (!joined)
		pthread_join(w->thread, NULL);
	/*
	 * The thread has drained the queue; answer what it finished before
	 * waiting for a merge under way, which may take a second or more.
	 */
	while (deliver_some(w, SIZE_MAX))
		;
	stop_merger(w);
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_stop(w);
	event_free(w->notify);
	event_free(w->more);
	free(w->published.note);
	/* Every reader is gone (workers and connections stop first). */
	store_set_tail(w->srv->store, NULL);
	tail_free(w->tail);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->merge_cv);
	pthread_cond_destroy(&w->room_cv);
	free(w);
}
