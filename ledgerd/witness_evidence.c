/*
 * Split-view evidence: a checkpoint that contradicts what the witness
 * cosigned, kept as a self-contained JSON document that a third party can
 * check offline with the log's and the witness's public keys alone
 * (docs/spec.md §10.4), and the listing of those documents.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/xmalloc.h"

#include "log.h"
#include "witness.h"

#define EVIDENCE_FORMAT "ledgerd-witness-evidence/v1"

static json_t *
b64(const uint8_t *bytes, size_t len)
{
	char *s = xmalloc(LEDGER_B64_LEN(len) + 1);
	json_t *v;

	ledger_b64_encode(bytes, len, s);
	v = json_string(s);
	free(s);
	return v;
}

static json_t *
rfc3339(uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(buf);
}

char *
witness_evidence_doc(const struct witness *w, const char *kind,
    const char *origin, uint64_t now, const struct wstore_log *cosigned,
    const struct ledger_checkpoint *submitted_cp, const char *submitted,
    size_t submitted_len, uint64_t old_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t n_proof)
{
	json_t *doc, *keys, *hashes, *c, *s;
	size_t i;
	char *text;

	keys = json_array();
	for (i = 0; i < w->cfg->n_logs; i++)
		if (strcmp(w->cfg->logs[i].key.name, origin) == 0)
			json_array_append_new(keys,
			    json_string(w->cfg->logs[i].vkey));
	hashes = json_array();
	for (i = 0; i < n_proof; i++)
		json_array_append_new(hashes, b64(proof[i], LEDGER_HASH_LEN));
	c = json_pack("{s:I, s:o, s:s%}", "tree_size",
	    (json_int_t)cosigned->tree_size, "root",
	    b64(cosigned->root, LEDGER_HASH_LEN), "checkpoint",
	    cosigned->note, cosigned->note_len);
	s = json_pack("{s:I, s:o, s:I, s:o, s:s%}", "tree_size",
	    (json_int_t)submitted_cp->tree_size, "root",
	    b64(submitted_cp->root, LEDGER_HASH_LEN), "old_size",
	    (json_int_t)old_size, "consistency_proof", hashes, "checkpoint",
	    submitted, submitted_len);
	doc = json_pack("{s:s, s:s, s:s, s:o, s:I, s:{s:s, s:s}, s:o, s:o, s:o, s:s}",
	    "format", EVIDENCE_FORMAT,
	    "kind", kind,
	    "origin", origin,
	    "observed_at", rfc3339(now),
	    "observed_at_unix", (json_int_t)now,
	    "witness", "name", ledger_signer_verifier(w->signer)->name,
	    "vkey", w->vkey,
	    "log_vkeys", keys,
	    "cosigned", c,
	    "submitted", s,
	    "how_to_verify",
	    "Both checkpoints must verify as C2SP signed notes under a key in "
	    "log_vkeys; cosigned.checkpoint also carries this witness's "
	    "cosignature/v1 line (witness.vkey). same_size_different_root: "
	    "two log-signed checkpoints of one size with different roots are "
	    "a split view by themselves. inconsistent_proof: the RFC 9162 "
	    "consistency proof from cosigned to submitted does not verify; "
	    "ask the log for a proof between the two sizes: none can exist if "
	    "the log forked.");
	if (doc == NULL)
		fatalx("evidence: cannot build the document");
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL)
		fatalx("evidence: cannot serialise the document");
	return text;
}

static int
list_one(void *arg, uint64_t id, const char *doc, size_t len)
{
	json_t *list = arg, *d, *item;
	json_error_t jerr;

	if ((d = json_loadb(doc, len, 0, &jerr)) == NULL) {
		log_warnx("evidence %" PRIu64 ": not JSON: %s", id, jerr.text);
		return 0;
	}
	item = json_pack("{s:I, s:O, s:O, s:O, s:O, s:O}", "id", (json_int_t)id,
	    "kind", json_object_get(d, "kind"),
	    "origin", json_object_get(d, "origin"),
	    "observed_at", json_object_get(d, "observed_at"),
	    "cosigned_size", json_object_get(json_object_get(d, "cosigned"),
	    "tree_size"),
	    "submitted_size", json_object_get(json_object_get(d, "submitted"),
	    "tree_size"));
	if (item != NULL)
		json_array_append_new(list, item);
	json_decref(d);
	return 0;
}

char *
witness_evidence_list(struct witness *w)
{
	json_t *list = json_array(), *root;
	char *text;

	if (wstore_evidence_each(w->store, list_one, list) != 0) {
		json_decref(list);
		return NULL;
	}
	root = json_pack("{s:o}", "evidence", list);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}
