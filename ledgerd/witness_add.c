/*
 * The tlog-witness add-checkpoint decision (C2SP tlog-witness, current
 * text; docs/spec.md §10.2).  The order of the checks decides which status
 * a request with several faults gets: framing (400), the checkpoint's form
 * (400), its origin (404), the log's signature (403), the sizes (400),
 * the empty-tree and empty-proof rules (422); then, inside one LMDB write
 * transaction, the size the witness last cosigned (409), the roots and the
 * consistency proof (422, keeping evidence), and the cosignature (200).
 * Nothing is written unless a cosignature or evidence results.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/witness_proto.h"
#include "ledger/xmalloc.h"

#include "log.h"
#include "witness.h"

#define TEXT "text/plain; charset=utf-8"

static void
answer(struct witness_answer *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer(struct witness_answer *out, int status, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	out->status = status;
	out->content_type = TEXT;
	out->body = xasprintf("%s\n", msg);
	out->len = strlen(out->body);
	free(msg);
}

/*
 * open_checkpoint - the note's structure and its checkpoint body: the whole
 * signed text must be the body (it formats back to the same bytes), so a
 * cosignature never covers lines that were not read.
 */
static int
open_checkpoint(const char *note, size_t len, struct ledger_checkpoint *cp,
    size_t *text_len)
{
	struct ledger_note_sig *sigs;
	size_t nsigs;
	char *body = NULL;
	int rc;

	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	rc = ledger_note_split(note, len, sigs, LEDGER_NOTE_MAX_SIGS, &nsigs,
	    text_len);
	free(sigs);
	if (rc != 0)
		return rc;
	if (ledger_checkpoint_parse(note, *text_len, cp) != 0 ||
	    (body = ledger_checkpoint_format(cp)) == NULL ||
	    strlen(body) != *text_len || memcmp(body, note, *text_len) != 0)
		rc = LEDGER_EINVAL;
	free(body);
	return rc;
}

/* The log's signature, with every key configured for the origin. */
static int
verify_log_signature(const struct witness_config *cfg, const char *origin,
    const char *note, size_t len)
{
	struct ledger_verifier keys[WITNESS_MAX_LOGS];
	size_t i, n = 0;

	for (i = 0; i < cfg->n_logs; i++)
		if (strcmp(cfg->logs[i].key.name, origin) == 0)
			keys[n++] = cfg->logs[i].key;
	return ledger_note_verify(note, len, keys, n, NULL);
}

/* SHA-256 of kind || "\n" || the signed checkpoint body: evidence's identity. */
static void
evidence_seen(const char *kind, const char *text, size_t text_len,
    uint8_t out[LEDGER_HASH_LEN])
{
	char *buf = xmalloc(strlen(kind) + 1 + text_len);

	memcpy(buf, kind, strlen(kind));
	buf[strlen(kind)] = '\n';
	memcpy(buf + strlen(kind) + 1, text, text_len);
	if (ledger_sha256(buf, strlen(kind) + 1 + text_len, out) != 0)
		memset(out, 0, LEDGER_HASH_LEN);
	free(buf);
}

/*
 * keep_evidence - stores the document in t and commits: the 422 that
 * follows is answered only once the evidence is on disk.
 */
static int
keep_evidence(struct witness *w, struct wstore_txn *t, const char *kind,
    const char *origin, uint64_t now, const struct wstore_log *stored,
    const struct ledger_checkpoint *cp, const char *note, size_t len,
    size_t text_len, const struct ledger_add_checkpoint *req)
{
	uint8_t seen[LEDGER_HASH_LEN];
	uint64_t id = 0;
	char *doc;
	int is_new = 0, rc;

	evidence_seen(kind, note, text_len, seen);
	doc = witness_evidence_doc(w, kind, origin, now, stored, cp, note, len,
	    req->old_size, (const uint8_t (*)[LEDGER_HASH_LEN])req->proof,
	    req->n_proof);
	rc = wstore_txn_add_evidence(t, seen, doc, strlen(doc), &id, &is_new);
	free(doc);
	if (rc != 0) {
		wstore_abort(t);
		return rc;
	}
	if ((rc = wstore_commit(t)) != 0)
		return rc;
	if (is_new)
		w->metrics.evidence_kept++;
	log_warnx("add-checkpoint %s: SPLIT VIEW: %s: cosigned size %" PRIu64
	    ", submitted size %" PRIu64 " (old %" PRIu64 "): evidence %" PRIu64
	    "%s", origin, kind, stored->tree_size, cp->tree_size, req->old_size,
	    id, is_new ? " kept" : " (kept before)");
	return LEDGER_OK;
}

void
witness_add_checkpoint(struct witness *w, const char *body, size_t len,
    uint64_t now, struct witness_answer *out)
{
	struct ledger_add_checkpoint *req;
	struct ledger_checkpoint cp;
	struct wstore_txn *t = NULL;
	struct wstore_log stored, next;
	uint8_t empty[LEDGER_HASH_LEN];
	char *line = NULL;
	const char *origin;
	size_t text_len;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&stored, 0, sizeof(stored));
	req = xcalloc(1, sizeof(*req));
	if ((rc = ledger_add_checkpoint_parse(body, len, req)) != 0) {
		log_info("add-checkpoint: 400: malformed request body (%s)",
		    ledger_strerror(rc));
		answer(out, 400, "malformed request body");
		goto out;
	}
	if ((rc = open_checkpoint(req->checkpoint, req->checkpoint_len, &cp,
	    &text_len)) != 0) {
		log_info("add-checkpoint: 400: malformed checkpoint (%s)",
		    ledger_strerror(rc));
		answer(out, 400, "malformed checkpoint");
		goto out;
	}
	origin = cp.origin;
	if (witness_find_origin(w->cfg, origin) < 0) {
		log_info("add-checkpoint %s: 404: unknown origin", origin);
		answer(out, 404, "unknown log");
		goto out;
	}
	/* Unknown signers are ignored; a bad one by a trusted key fails. */
	if ((rc = verify_log_signature(w->cfg, origin, req->checkpoint,
	    req->checkpoint_len)) != 0) {
		log_info("add-checkpoint %s: 403: size %" PRIu64 ": %s", origin,
		    cp.tree_size, rc == LEDGER_EVERIFY ? "no valid signature "
		    "by a trusted key, or a bad one" : ledger_strerror(rc));
		answer(out, rc == LEDGER_EVERIFY || rc == LEDGER_EINVAL ? 403 :
		    500, "checkpoint not signed by a trusted key");
		goto out;
	}
	if (req->old_size > cp.tree_size) {
		log_info("add-checkpoint %s: 400: old %" PRIu64 " > size %" PRIu64,
		    origin, req->old_size, cp.tree_size);
		answer(out, 400, "old size larger than the checkpoint's size");
		goto out;
	}
	ledger_empty_tree_hash(empty);
	if (cp.tree_size == 0 && memcmp(cp.root, empty, LEDGER_HASH_LEN) != 0) {
		log_info("add-checkpoint %s: 422: size 0 with a root that is not "
		    "the empty tree's", origin);
		answer(out, 422, "size 0 checkpoint with a non-empty root");
		goto out;
	}
	if (req->old_size == 0 && req->n_proof != 0) {
		log_info("add-checkpoint %s: 422: old 0 with %zu proof hashes",
		    origin, req->n_proof);
		answer(out, 422, "non-empty consistency proof from size 0");
		goto out;
	}

	/*
	 * From here to the commit, one LMDB write transaction: no other
	 * request can change the stored size between the check and the
	 * update (the race tlog-witness describes).
	 */
	if ((rc = wstore_begin(w->store, &t)) != 0)
		goto store_error;
	rc = wstore_txn_get_log(t, origin, &stored);
	if (rc == LEDGER_ENOTFOUND) {
		memset(&stored, 0, sizeof(stored));
		memcpy(stored.root, empty, LEDGER_HASH_LEN);
	} else if (rc != 0)
		goto store_error;
	if (req->old_size != stored.tree_size) {
		log_info("add-checkpoint %s: 409: old %" PRIu64 ", last cosigned "
		    "%" PRIu64 ", size %" PRIu64, origin, req->old_size,
		    stored.tree_size, cp.tree_size);
		out->status = 409;
		out->content_type = LEDGER_TLOG_SIZE_TYPE;
		out->body = ledger_tlog_size_format(stored.tree_size);
		out->len = strlen(out->body);
		goto out;
	}
	if (cp.tree_size == stored.tree_size &&
	    memcmp(cp.root, stored.root, LEDGER_HASH_LEN) != 0) {
		/* Both signed by the log: a split view, proven. */
		if ((rc = keep_evidence(w, t, "same_size_different_root", origin,
		    now, &stored, &cp, req->checkpoint, req->checkpoint_len,
		    text_len, req)) != 0) {
			t = NULL;
			goto store_error;
		}
		t = NULL;
		answer(out, 422, "same size as the checkpoint last cosigned, "
		    "different root hash");
		goto out;
	}
	if (ledger_merkle_verify_consistency(stored.tree_size, cp.tree_size,
	    stored.root, cp.root, (const uint8_t (*)[LEDGER_HASH_LEN])req->proof,
	    req->n_proof) != 0) {
		if (stored.note != NULL) {
			if ((rc = keep_evidence(w, t, "inconsistent_proof",
			    origin, now, &stored, &cp, req->checkpoint,
			    req->checkpoint_len, text_len, req)) != 0) {
				t = NULL;
				goto store_error;
			}
			t = NULL;
		} else
			log_info("add-checkpoint %s: 422: proof from 0 fails",
			    origin);
		answer(out, 422, "consistency proof does not verify");
		goto out;
	}

	if ((rc = ledger_cosignature_sign(w->signer, req->checkpoint, text_len,
	    now, &line)) != 0)
		goto store_error;
	memset(&next, 0, sizeof(next));
	next.tree_size = cp.tree_size;
	memcpy(next.root, cp.root, LEDGER_HASH_LEN);
	next.note = xasprintf("%.*s%s", (int)req->checkpoint_len,
	    req->checkpoint, line);
	next.note_len = strlen(next.note);
	rc = wstore_txn_put_log(t, origin, &next);
	free(next.note);
	if (rc != 0)
		goto store_error;
	rc = wstore_commit(t);
	t = NULL;
	if (rc != 0)
		goto store_error;
	/* Only now, on disk: the cosignature may leave. */
	w->metrics.cosigned++;
	log_info("add-checkpoint %s: 200: cosigned size %" PRIu64 " (old %"
	    PRIu64 ", %zu proof hashes) at %" PRIu64, origin, cp.tree_size,
	    req->old_size, req->n_proof, now);
	out->status = 200;
	out->content_type = TEXT;
	out->body = line;
	out->len = strlen(line);
	line = NULL;
	goto out;

store_error:
	log_warnx("add-checkpoint %s: 5xx: %s", cp.origin, ledger_strerror(rc));
	answer(out, rc == LEDGER_ENOSPC ? 503 : 500, "%s",
	    rc == LEDGER_ENOSPC ? "storage full" : "internal error");
out:
	wstore_abort(t);
	free(stored.note);
	free(line);
	free(req);
}
