/*
 * C2SP tlog-tiles (height 8): hash tiles /tile/<L>/<N>[.p/<W>], served
 * from one read transaction on the loop's thread, and entry bundles
 * /tile/entries/<N>[.p/<W>], assembled on a worker.
 */
#include <stdint.h>
#include <stdlib.h>

#include <event2/http.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "auth.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "offload.h"
#include "server.h"
#include "store.h"

static const char *const no_params[] = { NULL };

/*
 * Full tiles never change.  A partial tile of width W never changes either,
 * but tlog-tiles lets a log drop it once the full tile exists, so it is
 * revalidated.  Entry bundles need read rights: no shared caches.
 */
static void
cache_headers(struct request *r, int entries, int full)
{
	const char *v;

	if (!full)
		v = "no-cache";
	else if (entries)
		v = "private, max-age=31536000, immutable";
	else
		v = "public, max-age=31536000, immutable";
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Cache-Control", v);
}

static void
serve_hashes(struct request *r, struct store_txn *txn,
    const struct ledger_tile *t)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	uint8_t *buf = xmalloc((size_t)t->width * LEDGER_HASH_LEN);
	int rc;

	if ((rc = ledger_tile_hashes(&hs, t, buf)) != 0) {
		log_warnx("request %llu: tile %s: %s",
		    (unsigned long long)r->id, r->path, ledger_strerror(rc));
		reply_error(r, 500, "internal", NULL, "cannot read the tile");
		goto out;
	}
	cache_headers(r, 0, t->width == LEDGER_TILE_WIDTH);
	reply_bytes(r, 200, "application/octet-stream", buf,
	    (size_t)t->width * LEDGER_HASH_LEN);
out:
	free(buf);
}

/*
 * An entry bundle holds up to 256 entries of up to 64 KiB: it is read and
 * assembled on a worker (offload.h), in its own read transaction.  The
 * tile exists (route_tile checked it), and entries never change.
 */
struct bundle_job {
	struct offload o;		/* first */
	struct ledger_tile t;
	char *path;			/* for the log */
};

static void
bundle_work(struct offload *o)
{
	struct bundle_job *b = (struct bundle_job *)o;
	const struct ledger_tile *t = &b->t;
	const char *entries[LEDGER_TILE_WIDTH];
	size_t lens[LEDGER_TILE_WIDTH], cap = 0, used = 0;
	uint64_t first = t->index * LEDGER_TILE_WIDTH;
	struct store_txn *txn = NULL;
	uint8_t *buf = NULL;
	unsigned i = 0;
	int rc;

	if ((rc = store_read_begin(o->srv->store, &txn)) != 0)
		goto fail;
	/* Two passes: the bytes stay valid in txn, so size first, then copy. */
	for (i = 0; i < t->width; i++) {
		if ((rc = store_get_entry(txn, first + i, &entries[i],
		    &lens[i])) != 0)
			goto fail;
		cap += 2 + lens[i];
	}
	buf = xmalloc(cap > 0 ? cap : 1);
	for (i = 0; i < t->width; i++)
		if ((rc = ledger_bundle_append(buf, cap, &used, entries[i],
		    lens[i])) != 0)
			goto fail;
	store_txn_end(txn);
	offload_answer_owned(o, 200, "application/octet-stream", (char *)buf,
	    used);
	return;

fail:
	log_warnx("request %llu: bundle %s: entry %llu: %s",
	    (unsigned long long)o->request_id, b->path,
	    (unsigned long long)(first + i), ledger_strerror(rc));
	offload_answer_error(o, 500, "internal", NULL,
	    "cannot read the entry bundle");
	free(buf);
	store_txn_end(txn);
}

static void
bundle_done(struct offload *o, struct request *r)
{
	struct bundle_job *b = (struct bundle_job *)o;

	if (r != NULL && o->code[0] == '\0' && o->status == 200)
		cache_headers(r, 1, b->t.width == LEDGER_TILE_WIDTH);
	offload_reply(o, r);
	offload_release(o);
	free(b->path);
	free(b);
}

static void
serve_bundle(struct request *r, const struct ledger_tile *t)
{
	struct bundle_job *b = xcalloc(1, sizeof(*b));

	b->t = *t;
	b->path = xstrdup(r->path);
	if (offload_submit(r, &b->o, bundle_work, bundle_done) != 0) {
		offload_release(&b->o);
		free(b->path);
		free(b);
	}
}

void
route_tile(struct request *r)
{
	struct store_txn *txn = NULL;
	struct store_state st;
	struct ledger_tile t;
	unsigned avail;
	int rc;

	if (query_check(r, no_params) != 0)
		return;
	if (ledger_tile_path_parse(r->path, &t) != 0) {
		reply_error(r, 400, "invalid_value", "path",
		    "not a tlog-tiles path");
		return;
	}
	/*
	 * The route table sends entry bundles through the supervisor route:
	 * a bundle holds every org's entries (docs/access.md).
	 */
	if (t.level == LEDGER_TILE_LEVEL_ENTRIES && (r->principal == NULL ||
	    !auth_sees_all(r->principal))) {
		reply_error(r, 403, "forbidden", NULL,
		    "entry bundles hold every org's entries: only supervisors "
		    "may fetch them");
		return;
	}
	if ((rc = store_read_begin(r->srv->store, &txn)) != 0 ||
	    (rc = store_get_state(txn, &st)) != 0) {
		log_warnx("request %llu: tile: %s", (unsigned long long)r->id,
		    ledger_strerror(rc));
		reply_error(r, 500, "internal", NULL, "cannot read the log");
		goto out;
	}
	/*
	 * tlog-tiles: a full tile exists once the tree covers it; a partial
	 * tile of width W exists for every tree size that had W hashes there,
	 * and since every batch is checkpointed, serve it whenever the tree has
	 * at least W.  An empty tile is never served.
	 */
	avail = ledger_tile_width_at(t.level, t.index, st.tree_size);
	if (avail == 0 || t.width > avail) {
		reply_error(r, 404, "not_found", NULL,
		    "the tree of size %llu has no such tile",
		    (unsigned long long)st.tree_size);
		goto out;
	}
	if (t.level == LEDGER_TILE_LEVEL_ENTRIES)
		serve_bundle(r, &t);
	else
		serve_hashes(r, txn, &t);
out:
	store_txn_end(txn);
}
