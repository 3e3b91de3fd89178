/*
 * Published checkpoints on the loop's thread (publish.h): the writer says
 * what it published, the witness clients push it and bring cosignatures
 * back, the writer stores them with the checkpoint, and the policy's quorum
 * over them decides which checkpoint is witnessed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "cosigned.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "server.h"
#include "store.h"
#include "witness_client.h"
#include "witnessed_wait.h"
#include "writer.h"

/* How far back a start looks for the latest witnessed checkpoint. */
#define WITNESSED_LOOKBACK 64

struct publisher {
	struct server *srv;
	struct config *cfg;		/* a reference: its policy stays */
	const struct ledger_policy *policy;	/* NULL: no witnesses */
	struct witness_client **clients;	/* witnesses with a URL */
	size_t n_clients;
	struct witnessed_waiters *waiters;
	/* The latest published checkpoint, as stored (with cosignatures). */
	uint64_t published_size;
	char *published;
	size_t published_len;
	int stopped;
};

int
publisher_has_policy(const struct publisher *p)
{
	return p != NULL && p->policy != NULL;
}

/*
 * Whether note's cosignatures satisfy the policy's quorum: each line of a
 * policy witness's key (name and key ID) is checked as cosignature/v1 over
 * the checkpoint; lines of other keys count for nothing.  The log's own
 * signature is not checked again here: the log wrote it.
 */
static int
quorum_met(const struct publisher *p, const char *note, size_t len)
{
	size_t n = ledger_policy_witness_count(p->policy), nsigs, text_len;
	uint8_t *flags = xcalloc(n ? n : 1, 1);
	struct ledger_note_sig *sigs;
	struct ledger_cosignature c;
	size_t i, j;
	int met = 0;

	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	if (ledger_note_split(note, len, sigs, LEDGER_NOTE_MAX_SIGS, &nsigs,
	    &text_len) != 0)
		goto out;
	for (i = 0; i < nsigs; i++) {
		if (ledger_cosignature_from_sig(&sigs[i], &c) != 0)
			continue;
		for (j = 0; j < n; j++) {
			const struct ledger_policy_witness *w =
			    ledger_policy_witness(p->policy, j);

			if (ledger_cosignature_matches(&w->key, &c) &&
			    ledger_cosignature_verify(&w->key, &c, note,
			    text_len) == 0)
				flags[j] = 1;
		}
	}
	met = ledger_policy_quorum_met(p->policy, flags, n);
out:
	free(sigs);
	free(flags);
	return met;
}

/* Whether note holds a valid cosignature of the policy's witness i. */
static int
cosigned_by(const struct publisher *p, size_t i, const char *note, size_t len)
{
	const struct ledger_policy_witness *w = ledger_policy_witness(p->policy, i);
	struct ledger_note_sig *sigs;
	struct ledger_cosignature c;
	size_t nsigs, text_len, k;
	int found = 0;

	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	if (ledger_note_split(note, len, sigs, LEDGER_NOTE_MAX_SIGS, &nsigs,
	    &text_len) == 0)
		for (k = 0; k < nsigs && !found; k++)
			found = ledger_cosignature_from_sig(&sigs[k], &c) == 0 &&
			    ledger_cosignature_matches(&w->key, &c) &&
			    ledger_cosignature_verify(&w->key, &c, note,
			    text_len) == 0;
	free(sigs);
	return found;
}

/* A checkpoint with its cosignatures, as stored: witnessed yet? */
static void
consider(struct publisher *p, uint64_t tree_size, const char *note, size_t len)
{
	if (p->policy == NULL || !quorum_met(p, note, len))
		return;
	if (tree_size >= witnessed_waiters_size(p->waiters))
		log_debug("publish: the checkpoint of tree size %" PRIu64
		    " has its quorum", tree_size);
	witnessed_waiters_reached(p->waiters, tree_size, note, len);
}

/* The writer stored a witness's cosignatures (writer_add_cosignatures). */
static void
cosignatures_stored(struct writer_cosign *c, void *arg)
{
	struct publisher *p = arg;

	if (c->rc == 0) {
		if (c->tree_size == p->published_size) {
			free(p->published);
			p->published = xstrndup(c->note, c->note_len);
			p->published_len = c->note_len;
		}
		consider(p, c->tree_size, c->note, c->note_len);
	}
	writer_cosign_free(c);
}

/* A witness client brought back verified cosignature lines. */
static void
cosigned(void *arg, const char *witness, uint64_t tree_size, const char *lines,
    size_t len)
{
	struct publisher *p = arg;
	struct writer_cosign *c;

	if (p->stopped)
		return;
	c = xcalloc(1, sizeof(*c));
	c->tree_size = tree_size;
	c->witness = xstrdup(witness);
	c->lines = xstrndup(lines, len);
	c->done = cosignatures_stored;
	c->arg = p;
	if (writer_add_cosignatures(p->srv->writer, c) != 0)
		writer_cosign_free(c);	/* stopping: the witness cosigns again */
}

/* The writer published a checkpoint: push it (writer_on_publish). */
static void
published(void *arg, uint64_t tree_size, const char *note, size_t len)
{
	struct publisher *p = arg;
	size_t i;

	free(p->published);
	p->published = xstrndup(note, len);
	p->published_len = len;
	p->published_size = tree_size;
	if (p->stopped)
		return;
	for (i = 0; i < p->n_clients; i++)
		witness_client_offer(p->clients[i], tree_size, note, len, 0);
	/* A policy of `quorum none` is satisfied by the log's signature. */
	consider(p, tree_size, note, len);
}

/* The latest witnessed checkpoint at start: among the latest published. */
static void
find_witnessed(struct publisher *p, struct store_txn *txn)
{
	uint64_t size = p->published_size, found;
	const char *note;
	size_t len;
	int i;

	if (quorum_met(p, p->published, p->published_len)) {
		consider(p, p->published_size, p->published, p->published_len);
		return;
	}
	for (i = 0; i < WITNESSED_LOOKBACK && size > 0; i++) {
		if (store_get_published_at(txn, size, 1, &found, &note,
		    &len) != 0)
			return;
		if (quorum_met(p, note, len)) {
			consider(p, found, note, len);
			return;
		}
		size = found;
	}
}

/* The clients, one per witness of the policy that has a URL. */
static int
start_clients(struct publisher *p, struct store_txn *txn)
{
	const struct config *cfg = p->cfg;
	size_t n = ledger_policy_witness_count(p->policy), i, part;
	struct witness_client_config wcfg;
	int64_t min_backoff = cfg->checkpoint_interval_ms;
	char err[512];
	uint64_t size;

	if (cosigned_log_part(p->published, p->published_len, &part) != 0)
		return -1;
	p->clients = xcalloc(n ? n : 1, sizeof(*p->clients));
	for (i = 0; i < n; i++) {
		const struct ledger_policy_witness *w =
		    ledger_policy_witness(p->policy, i);
		struct witness_client *wc;
		int64_t last = -1;

		if (w->url == NULL) {
			log_warnx("publish: witness %s has no URL in %s: its "
			    "cosignatures are not collected", w->name,
			    cfg->witness_policy);
			continue;
		}
		if (store_get_witness_size(txn, w->name, &size) == 0)
			last = (int64_t)size;
		memset(&wcfg, 0, sizeof(wcfg));
		wcfg.name = w->name;
		wcfg.key = &w->key;
		wcfg.url = w->url;
		wcfg.timeout_seconds = cfg->witness_timeout_seconds;
		wcfg.min_backoff_ms = min_backoff;
		wcfg.ca_file = cfg->witness_ca_file;
		if ((wc = witness_client_new(p->srv, &wcfg, last, cosigned, p,
		    err, sizeof(err))) == NULL) {
			log_warnx("publish: %s", err);
			return -1;
		}
		p->clients[p->n_clients++] = wc;
		witness_client_offer(wc, p->published_size, p->published, part,
		    cosigned_by(p, i, p->published, p->published_len));
		if (last < 0)
			log_info("publish: witness %s at %s, the tree size it "
			    "last cosigned unknown (its first answer says)",
			    w->name, w->url);
		else
			log_info("publish: witness %s at %s, last cosigned tree "
			    "size %" PRId64, w->name, w->url, last);
	}
	if (ledger_policy_find_log(p->policy, cfg->origin) == NULL)
		log_info("publish: %s lists no log %s: clients given this "
		    "policy need the log's key from elsewhere",
		    cfg->witness_policy, cfg->origin);
	return 0;
}

struct publisher *
publisher_start(struct server *srv)
{
	struct publisher *p = xcalloc(1, sizeof(*p));
	struct store_txn *txn = NULL;
	const char *note;
	size_t len;
	int rc;

	p->srv = srv;
	p->cfg = config_ref(srv->cfg);
	p->policy = p->cfg->policy;
	p->waiters = witnessed_waiters_new(srv, p->cfg->witness_wait_seconds);
	if ((rc = store_read_begin(srv->store, &txn)) != 0 ||
	    (rc = store_get_published(txn, &p->published_size, &note,
	    &len)) != 0) {
		log_warnx("publish: cannot read the published checkpoint: %s",
		    ledger_strerror(rc));
		goto fail;
	}
	p->published = xstrndup(note, len);
	p->published_len = len;
	if (p->policy != NULL) {
		if (start_clients(p, txn) != 0)
			goto fail;
		find_witnessed(p, txn);
	}
	store_txn_end(txn);
	writer_on_publish(srv->writer, published, p);
	return p;
fail:
	store_txn_end(txn);
	publisher_free(p);
	return NULL;
}

void
publisher_wait_witnessed(struct publisher *p, struct request *r, int status,
    json_t *body, uint64_t index, uint64_t need_size)
{
	witnessed_waiters_add(p->waiters, r, status, body, index, need_size);
}

void
publisher_stop(struct publisher *p)
{
	size_t i;

	if (p == NULL || p->stopped)
		return;
	p->stopped = 1;
	for (i = 0; i < p->n_clients; i++)
		witness_client_free(p->clients[i]);
	p->n_clients = 0;
	witnessed_waiters_stop(p->waiters);
}

void
publisher_metrics(const struct publisher *p, uint64_t *published_size,
    uint64_t *witnessed_size, struct metrics_text *t)
{
	*published_size = p->published_size;
	*witnessed_size = witnessed_waiters_size(p->waiters);
	witness_client_metrics(p->clients, p->n_clients, t);
}

void
publisher_free(struct publisher *p)
{
	if (p == NULL)
		return;
	publisher_stop(p);
	if (p->srv->writer != NULL)
		writer_on_publish(p->srv->writer, NULL, NULL);
	witnessed_waiters_free(p->waiters);
	free(p->clients);
	free(p->published);
	config_free(p->cfg);
	free(p);
}
