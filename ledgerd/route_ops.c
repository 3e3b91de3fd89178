/*
 * Operational routes: the latest checkpoint (C2SP tlog-tiles /checkpoint),
 * liveness, and the Prometheus metrics.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "http.h"
#include "keyring_impl.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "server.h"
#include "store.h"
#include "tail.h"
#include "workers.h"
#include "writer.h"

static const char *const no_params[] = { NULL };

/*
 * The latest published checkpoint (spec §5.4, §7.7) with every witness
 * cosignature kept for it: what witnesses were sent, so that all who read
 * it see the same checkpoint for a whole interval.
 */
void
route_checkpoint(struct request *r)
{
	struct store_txn *txn = NULL;
	const char *note;
	uint64_t size;
	size_t len;
	int rc;

	if (query_check(r, no_params) != 0)
		return;
	if ((rc = store_read_begin(r->srv->store, &txn)) != 0)
		goto fail;
	if ((rc = store_get_published(txn, &size, &note, &len)) ==
	    LEDGER_ENOTFOUND) {
		reply_error(r, 404, "not_found", NULL,
		    "no checkpoint has been signed yet");
		goto out;
	}
	if (rc != 0)
		goto fail;
	/* tlog-tiles: mutable, so no caching beyond a few seconds. */
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Cache-Control", "no-store");
	reply_bytes(r, 200, "text/plain; charset=utf-8", note, len);
	goto out;

fail:
	log_warnx("request %llu: checkpoint: %s", (unsigned long long)r->id,
	    ledger_strerror(rc));
	reply_error(r, 500, "internal", NULL, "cannot read the checkpoint");
out:
	store_txn_end(txn);
}

/* tree_size - the current size, from a short read transaction. */
static int
current_tree_size(struct server *srv, uint64_t *out)
{
	struct store_txn *txn;
	struct store_state st;
	int rc;

	if ((rc = store_read_begin(srv->store, &txn)) != 0)
		return rc;
	rc = store_get_state(txn, &st);
	store_txn_end(txn);
	if (rc == 0)
		*out = st.tree_size;
	return rc;
}

void
route_healthz(struct request *r)
{
	uint64_t tree_size;
	int rc;

	if (query_check(r, no_params) != 0)
		return;
	if ((rc = current_tree_size(r->srv, &tree_size)) != 0) {
		log_warnx("request %llu: healthz: %s",
		    (unsigned long long)r->id, ledger_strerror(rc));
		reply_error(r, 503, "unavailable", NULL,
		    "the store cannot be read");
		return;
	}
	/* Without its keeper the log cannot sign: not healthy (spec §7.2). */
	if (!keyring_available(r->srv->keyring)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		reply_error(r, 503, "keys_unavailable", NULL, "the key keeper "
		    "is gone: appends are refused until ledgerd is restarted");
		return;
	}
	reply_json(r, 200, json_pack("{s:s, s:I}", "status", "ok",
	    "tree_size", (json_int_t)tree_size));
}

void
route_metrics(struct request *r)
{
	struct metrics_text witnesses = { NULL, 0, 0 };
	struct metrics_gauges g;
	char *text;
	int rc;

	if (query_check(r, no_params) != 0)
		return;
	memset(&g, 0, sizeof(g));
	if (r->srv->publisher != NULL)
		publisher_metrics(r->srv->publisher, &g.published_tree_size,
		    &g.witnessed_tree_size, &witnesses);
	if ((rc = current_tree_size(r->srv, &g.tree_size)) != 0)
		log_warnx("request %llu: metrics: %s",
		    (unsigned long long)r->id, ledger_strerror(rc));
	if (r->srv->writer != NULL) {
		struct tail_stats ts;

		g.queue_depth = writer_queue_depth(r->srv->writer);
		writer_tail_stats(r->srv->writer, &ts);
		g.index_watermark = ts.watermark;
		g.tail_entries = ts.entries;
		g.tail_held_entries = ts.held_entries;
		g.tail_bytes = ts.bytes;
	}
	g.db_bytes = store_disk_usage(r->srv->store);
	g.connections = http_connections(r->srv);
	g.jobs_in_progress = workers_in_progress(r->srv->workers);
	if (r->srv->keyring != NULL)
		g.keyring_exchanges = keyring_exchanges(r->srv->keyring);
	text = metrics_format(&r->srv->metrics, &g);
	if (witnesses.len > 0) {
		text = xrealloc(text, strlen(text) + witnesses.len + 1);
		memcpy(text + strlen(text), witnesses.buf, witnesses.len + 1);
	}
	reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    strlen(text));
	free(text);
	free(witnesses.buf);
}
