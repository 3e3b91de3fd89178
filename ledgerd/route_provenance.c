/*
 * Provenance queries for oversight bodies (spec §7.8): a subject's
 * timeline, an actor's activity and an object's lineage, each answered with
 * one signed checkpoint and an inclusion proof per entry against it.  Every
 * query is first recorded as an audit entry; only then is it answered,
 * the answer built on a worker (offload.h).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsonparse.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "http.h"
#include "jsontext.h"
#include "keyring.h"
#include "lineage.h"
#include "log.h"
#include "offload.h"
#include "opened.h"
#include "oversight.h"
#include "server.h"
#include "store.h"
#include "subject_lookup.h"
#include "timerange.h"

#define DEFAULT_PAGE 100
#define PAGE_MAX_EXAMINED 10000		/* index hits looked at per page */
#define INDEX_CHUNK 256
#define LINEAGE_MAX_NODES 2000		/* entries in one lineage answer */
#define LINEAGE_MAX_EDGES 20000

/* Entry types as bits, for the type filter. */
enum {
	T_SHARE = 1 << 0, T_QUERY = 1 << 1, T_ADVICE = 1 << 2,
	T_AUDIT = 1 << 3, T_EXPORT = 1 << 4,
	T_APPLICATION = T_SHARE | T_QUERY | T_ADVICE,
};

static const char *const type_names[] = {
	"share", "query", "advice", "audit", "export",
};

enum prov_kind { PROV_SUBJECT, PROV_ACTOR, PROV_OBJECT };

/*
 * One query, parsed before its audit entry is written and answered after.
 * It owns its strings: the answer is built on a worker, which never reads
 * the request.
 */
struct prov_query {
	enum prov_kind kind;
	enum store_index index;		/* the index walked */
	char *index_value;		/* owned */
	size_t index_len;
	char subject_token[LEDGER_SUBJECT_TOKEN_LEN + 1];
	struct subject_lookup lookup;	/* subjects: every live period's */
	unsigned types;			/* accepted entry types, T_* bits */
	char *org;			/* subjects: actor.org filter; owned */
	int has_since, has_until;
	int64_t since, until;
	uint64_t cursor, limit;
	uint64_t depth;			/* lineage */
};

static void
prov_query_free(struct prov_query *q)
{
	if (q == NULL)
		return;
	free(q->index_value);
	free(q->org);
	subject_lookup_free(&q->lookup);
	free(q);
}

static unsigned
type_bit(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < sizeof(type_names) /
	    sizeof(type_names[0]); i++)
		if (strcmp(type, type_names[i]) == 0)
			return 1u << i;
	return 0;
}

/* A path segment taken as an identifier: 1 to LEDGER_STRING_MAX bytes. */
static int
id_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LEDGER_STRING_MAX;
}

/*
 * The filters subjects and actors queries share: since, until, type,
 * cursor, limit.  allowed: the type bits the type filter may name.
 * Records what was given in filters (for the audit entry).  Returns 0 or
 * -1 after answering.
 */
static int
parse_page_params(struct request *r, struct prov_query *q, unsigned allowed,
    json_t *filters)
{
	size_t max_page = r->srv->cfg->limits.max_page;
	const char *s;
	int rc;

	if ((q->has_since = oversight_time_param(r, "since", &q->since)) < 0 ||
	    (q->has_until = oversight_time_param(r, "until", &q->until)) < 0)
		return -1;
	q->types = T_APPLICATION;
	if ((s = query_str(r, "type")) != NULL) {
		if ((q->types = type_bit(s) & allowed) == 0) {
			reply_error(r, 400, "invalid_value", "type",
			    allowed & T_AUDIT ? "type must be share, query, "
			    "advice, audit or export" :
			    "type must be share, query or advice");
			return -1;
		}
	}
	if ((rc = query_u64(r, "limit", &q->limit)) < 0)
		return -1;
	if (rc == 0)
		q->limit = DEFAULT_PAGE < max_page ? DEFAULT_PAGE : max_page;
	else if (q->limit < 1 || q->limit > max_page) {
		reply_error(r, 400, "out_of_range", "limit",
		    "limit must be 1 to %zu", max_page);
		return -1;
	}
	if ((rc = query_u64(r, "cursor", &q->cursor)) < 0)
		return -1;
	if ((s = query_str(r, "since")) != NULL)
		json_object_set_new(filters, "since", json_string(s));
	if ((s = query_str(r, "until")) != NULL)
		json_object_set_new(filters, "until", json_string(s));
	if ((s = query_str(r, "type")) != NULL)
		json_object_set_new(filters, "type", json_string(s));
	if (query_str(r, "limit") != NULL)
		json_object_set_new(filters, "limit",
		    json_integer((json_int_t)q->limit));
	return 0;
}

/*
 * An answer being written as JSON text (jsontext.h: a hundred entries with
 * two thousand proof hashes cost more as a jansson tree and its dump than
 * reading the log), how many events it holds so far, and the path of its
 * last proof (events come in increasing seq order, so each proof shares the
 * top of its path with the one before).  The text is byte for byte what
 * json_dumps(JSON_COMPACT) makes of the documented object, keys in the same
 * order.
 */
struct answer {
	struct json_text text;
	size_t events;
	struct ledger_merkle_path_memo memo;
	struct server *srv;	/* for sealed values and restriction */
	struct opened_answer *opened;	/* under a retention policy */
};

/*
 * Appends the event {"seq":...,"entry":"...","proof":[...]}, and under a
 * retention policy its "opened" and "restricted" members (opened.h).
 */
static int
answer_add_event(struct answer *a, struct store_txn *txn, uint64_t seq,
    const char *bytes, size_t len, uint8_t proof[][LEDGER_HASH_LEN], size_t n)
{
	struct json_text *t = &a->text;
	json_t *entry;
	size_t i;
	int rc;

	jsontext_str(t, a->events > 0 ? ",{\"seq\":" : "{\"seq\":");
	jsontext_u64(t, seq);
	/* The entry travels as a string, so that its bytes survive exactly. */
	jsontext_str(t, ",\"entry\":");
	if ((rc = jsontext_string(t, bytes, len)) != 0)
		return rc;
	jsontext_str(t, ",\"proof\":[");
	/* Base64 needs no escaping; a comma, two quotes and its NUL each. */
	jsontext_reserve(t, n * (LEDGER_B64_LEN(LEDGER_HASH_LEN) + 4));
	for (i = 0; i < n; i++) {
		if (i > 0)
			t->buf[t->len++] = ',';
		t->buf[t->len++] = '"';
		t->len += ledger_b64_encode(proof[i], LEDGER_HASH_LEN,
		    t->buf + t->len);
		t->buf[t->len++] = '"';
	}
	jsontext_str(t, "]");
	if (a->opened != NULL) {
		if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL)
			return LEDGER_ECORRUPT;
		rc = opened_answer_mark(a->opened, txn, seq, entry, t);
		json_decref(entry);
		if (rc != 0)
			return rc;
	}
	jsontext_str(t, "}");
	a->events++;
	return 0;
}

/*
 * Appends {seq, entry, proof} for entry seq, proven against the tree whose
 * right edge is hashed in edge (shared by every proof of the answer).
 */
static int
add_event(struct store_txn *txn, struct answer *out, uint64_t seq,
    const struct ledger_merkle_edge *edge)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	struct ledger_hash_store hs = store_hash_store(txn);
	const char *bytes;
	size_t len, n;
	int rc;

	if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0)
		return rc;
	if ((rc = ledger_merkle_inclusion_proof_memo(&hs, edge, &out->memo, seq,
	    proof, &n)) != 0)
		return rc;
	return answer_add_event(out, txn, seq, bytes, len, proof, n);
}

/* Whether the index records (kind, value) for entry seq. */
static int
index_has(struct store_txn *txn, enum store_index kind, const char *value,
    uint64_t seq, int *has)
{
	int rc = store_index_contains(txn, kind, value, strlen(value), seq);

	*has = rc == 0;
	return rc == LEDGER_ENOTFOUND ? 0 : rc;
}

/* Whether the type index gives entry seq one of the types q accepts. */
static int
type_accepted(struct store_txn *txn, const struct prov_query *q, uint64_t seq,
    int *accepted)
{
	size_t i;
	int rc;

	*accepted = 0;
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if ((q->types & 1u << i) == 0)
			continue;
		if ((rc = index_has(txn, STORE_IDX_TYPE, type_names[i], seq,
		    accepted)) != 0 || *accepted)
			return rc;
	}
	return 0;
}

/*
 * Whether entry seq passes the type and org filters.  The type and org
 * indexes are written in the entry's own transaction, so they answer this
 * without the entry being read and parsed.
 */
static int
entry_matches(struct store_txn *txn, const struct prov_query *q,
    uint64_t seq, int *match)
{
	int rc;

	/*
	 * Only applications' entries name subjects (the server's own audit
	 * and export entries never do), so an unfiltered subject timeline
	 * takes whatever the subject index found.
	 */
	if (q->kind == PROV_SUBJECT && q->types == T_APPLICATION)
		*match = 1;
	else if ((rc = type_accepted(txn, q, seq, match)) != 0)
		return rc;
	if (*match && q->org != NULL)
		return index_has(txn, STORE_IDX_ORG, q->org, seq, match);
	return 0;
}

/*
 * One page of a timeline (subjects, actors): the entries of the index
 * value with seq in [max(cursor, since), until] and below tree_size,
 * oldest first.  *next is set when the page stopped early.
 */
static int
timeline_page(struct store_txn *txn, const struct prov_query *q,
    const struct ledger_merkle_edge *edge, struct answer *out,
    int *has_next, uint64_t *next)
{
	uint64_t tree_size = edge->tree_size;
	uint64_t seqs[INDEX_CHUNK], lo = q->cursor, hi = tree_size, pos, seq;
	size_t n, i, examined = 0;
	int rc, match;

	*has_next = 0;
	if (lo > hi)
		lo = hi;
	if (q->has_since &&
	    (rc = seq_by_received_at(txn, lo, hi, q->since, 0, &lo)) != 0)
		return rc;
	if (q->has_until &&
	    (rc = seq_by_received_at(txn, lo, hi, q->until, 1, &hi)) != 0)
		return rc;
	for (pos = lo; pos < hi;) {
		if (q->kind == PROV_SUBJECT)
			rc = subject_lookup_scan(txn, &q->lookup, pos, seqs,
			    INDEX_CHUNK, &n);
		else
			rc = store_index_scan(txn, q->index, q->index_value,
			    q->index_len, pos, 0, seqs, INDEX_CHUNK, &n);
		if (rc != 0)
			return rc;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if ((seq = seqs[i]) >= hi)
				return 0;
			pos = seq + 1;
			if ((rc = entry_matches(txn, q, seq, &match)) != 0)
				return rc;
			if (match && (rc = add_event(txn, out, seq, edge)) != 0)
				return rc;
			/* Bounded work per page; the cursor says where to go on. */
			if (out->events >= q->limit ||
			    ++examined >= PAGE_MAX_EXAMINED) {
				if (pos < hi) {
					*has_next = 1;
					*next = pos;
				}
				return 0;
			}
		}
	}
	return 0;
}

/*
 * Lineage (lineage.h), at most LINEAGE_MAX_NODES entries and
 * LINEAGE_MAX_EDGES edges, all below tree_size; truncated when it holds
 * less than the whole lineage or an entry at q->depth has children.
 */
static int
lineage(struct store_txn *txn, const struct prov_query *q,
    const struct ledger_merkle_edge *edge, struct answer *out,
    struct json_text *edges_out, int *truncated)
{
	struct lineage l;
	size_t i;
	int rc;

	if ((rc = lineage_walk(txn, q->index_value, q->index_len, q->depth,
	    edge->tree_size, LINEAGE_MAX_NODES, LINEAGE_MAX_EDGES, &l)) != 0)
		goto out;
	*truncated = l.full || l.depth_cut;
	for (i = 0; i < l.n; i++)
		if ((rc = add_event(txn, out, l.nodes[i], edge)) != 0)
			goto out;
	for (i = 0; i < l.nedges; i++) {
		jsontext_str(edges_out, i > 0 ? ",[" : "[");
		jsontext_u64(edges_out, l.edges[i][0]);
		jsontext_str(edges_out, ",");
		jsontext_u64(edges_out, l.edges[i][1]);
		jsontext_str(edges_out, "]");
	}
out:
	lineage_free(&l);
	return rc;
}

/*
 * The head of the answer, up to the events: what is known before any entry
 * is read.
 */
static int
answer_head(struct json_text *t, const char *note, size_t note_len,
    uint64_t tree_size)
{
	int rc;

	jsontext_str(t, "{\"checkpoint\":");
	if ((rc = jsontext_string(t, note, note_len)) != 0)
		return rc;
	jsontext_str(t, ",\"tree_size\":");
	jsontext_u64(t, tree_size);
	jsontext_str(t, ",\"events\":[");
	return 0;
}

/* The rest of the answer, after the events. */
static void
answer_tail(struct json_text *t, const struct prov_query *q,
    uint64_t audit_seq, int has_next, uint64_t next,
    const struct json_text *edges, int truncated)
{
	jsontext_str(t, "],\"next_cursor\":");
	if (has_next) {
		jsontext_str(t, "\"");
		jsontext_u64(t, next);
		jsontext_str(t, "\"");
	} else
		jsontext_str(t, "null");
	jsontext_str(t, ",\"audit_seq\":");
	jsontext_u64(t, audit_seq);
	if (q->kind == PROV_SUBJECT) {
		/* Base64url: nothing to escape. */
		jsontext_str(t, ",\"subject_token\":\"");
		jsontext_str(t, q->subject_token);
		jsontext_str(t, "\"");
		if (q->lookup.n > 1) {
			jsontext_str(t, ",\"subject_tokens\":[");
			for (size_t i = 0; i < q->lookup.n; i++) {
				jsontext_str(t, i ? ",\"" : "\"");
				jsontext_str(t, q->lookup.tokens[i]);
				jsontext_str(t, "\"");
			}
			jsontext_str(t, "]");
		}
	}
	if (q->kind == PROV_OBJECT) {
		jsontext_str(t, ",\"edges\":[");
		jsontext_raw(t, edges->buf, edges->len);
		jsontext_str(t, truncated ? "],\"truncated\":true" :
		    "],\"truncated\":false");
	}
	jsontext_str(t, "}");
}

/*
 * The answer, once the audit entry is durable: everything read in one
 * transaction, against the checkpoint stored in it (which covers the
 * audit entry itself).  A page may hold max_page events with their proofs
 * and a lineage 2,000: it is built on a worker.
 */
struct prov_answer {
	struct offload o;		/* first */
	struct prov_query *q;
	uint64_t audit_seq;
};

static void
answer_work(struct offload *o)
{
	struct prov_answer *pa = (struct prov_answer *)o;
	struct prov_query *q = pa->q;
	struct ledger_checkpoint cp;
	struct ledger_merkle_edge edge;
	struct ledger_hash_store hs;
	struct store_txn *txn = NULL;
	struct answer a;
	struct json_text edges = { NULL, 0, 0 };
	const char *note;
	uint64_t next = 0;
	size_t note_len;
	int rc, has_next = 0, truncated = 0;

	memset(&a, 0, sizeof(a));
	a.srv = o->srv;
	if (o->srv->has_retention)
		a.opened = opened_answer_new(o->srv);
	if ((rc = store_read_begin(o->srv->store, &txn)) != 0 ||
	    (rc = store_get_checkpoint(txn, &note, &note_len)) != 0)
		goto fail;
	if ((rc = ledger_checkpoint_parse(note, note_len, &cp)) != 0) {
		rc = LEDGER_ECORRUPT;
		goto fail;
	}
	hs = store_hash_store(txn);
	if ((rc = ledger_merkle_edge_init(&hs, cp.tree_size, &edge)) != 0 ||
	    (rc = answer_head(&a.text, note, note_len, cp.tree_size)) != 0)
		goto fail;
	if (q->kind == PROV_OBJECT)
		rc = lineage(txn, q, &edge, &a, &edges, &truncated);
	else
		rc = timeline_page(txn, q, &edge, &a, &has_next, &next);
	/* The answer's sealed values, all in one exchange (opened.h). */
	if (rc == 0 && a.opened != NULL)
		rc = opened_answer_finish(a.opened, &a.text);
	if (rc != 0)
		goto fail;
	store_txn_end(txn);
	txn = NULL;
	answer_tail(&a.text, q, pa->audit_seq, has_next, next, &edges,
	    truncated);
	offload_answer_owned(o, 200, "application/json", a.text.buf,
	    a.text.len);
	a.text.buf = NULL;
	goto out;

fail:
	log_warnx("request %" PRIu64 ": provenance: %s", o->request_id,
	    keyring_strerror(rc));
	offload_answer_failure(o, rc, "cannot read the log");
out:
	if (a.text.buf != NULL)
		OPENSSL_cleanse(a.text.buf, a.text.len);
	free(a.text.buf);
	opened_answer_free(a.opened);
	free(edges.buf);
	store_txn_end(txn);
}

static void
answer_done(struct offload *o, struct request *r)
{
	struct prov_answer *pa = (struct prov_answer *)o;

	offload_reply(o, r);
	offload_release(o);
	prov_query_free(pa->q);
	free(pa);
}

/* The audit entry is written (r NULL: it could not be; r was answered). */
static void
answer(struct request *r, uint64_t audit_seq, void *arg)
{
	struct prov_query *q = arg;
	struct prov_answer *pa;

	if (r == NULL) {
		prov_query_free(q);
		return;
	}
	pa = xcalloc(1, sizeof(*pa));
	pa->q = q;
	pa->audit_seq = audit_seq;
	offload_continue(r, &pa->o, answer_work, answer_done);
}

/* Records the query in the log, then answers it (answer()). */
static void
audit_then_answer(struct request *r, struct prov_query *q, json_t *details)
{
	const char *cursor = query_str(r, "cursor");

	json_object_set_new(details, "cursor", cursor != NULL ?
	    json_string(cursor) : json_null());
	oversight_record(r, "audit", query_str(r, "purpose"), details, answer,
	    q);
}

/* A subjects query while its identifier's tokens are looked up. */
struct subject_query {
	struct prov_query *q;
	json_t *filters;		/* for the audit entry */
};

/* The tokens are known (subject_lookup_start): record the query, answer. */
static void
subject_found(struct request *r, int rc, struct subject_lookup *l, void *arg)
{
	struct subject_query *sq = arg;
	struct prov_query *q = sq->q;
	json_t *filters = sq->filters, *details;

	free(sq);
	if (r == NULL)
		goto fail;
	if (rc != 0) {
		subject_lookup_reply_error(r, rc);
		goto fail;
	}
	q->lookup = *l;
	memset(l, 0, sizeof(*l));
	memcpy(q->subject_token, q->lookup.tokens[0], sizeof(q->subject_token));
	q->index = STORE_IDX_SUBJECT;
	q->index_value = xstrdup(q->subject_token);
	q->index_len = strlen(q->index_value);
	details = json_pack("{s:s, s:o}", "query", "subjects", "filters",
	    filters);
	subject_lookup_name(&q->lookup, details);
	audit_then_answer(r, q, details);
	return;
fail:
	json_decref(filters);
	prov_query_free(q);
}

void
route_provenance_subject(struct request *r)
{
	static const char *const params[] = { "since", "until", "type", "org",
	    "cursor", "limit", "purpose", NULL };
	const char *id = r->path + strlen("/v1/provenance/subjects/");
	struct subject_query *sq;
	struct prov_query *q;
	json_t *filters;

	if (query_check(r, params) != 0)
		return;
	if (!id_valid(id)) {
		reply_error(r, 400, "invalid_value", "id", "a subject "
		    "identifier is 1 to %d bytes", LEDGER_STRING_MAX);
		return;
	}
	q = xcalloc(1, sizeof(*q));
	filters = json_object();
	q->kind = PROV_SUBJECT;
	if (parse_page_params(r, q, T_APPLICATION, filters) != 0)
		goto fail;
	if (query_str(r, "org") != NULL) {
		q->org = xstrdup(query_str(r, "org"));
		if (!config_org_registered(r->srv->cfg, q->org)) {
			reply_error(r, 400, "unknown_org", "org",
			    "org is not a registered organisation");
			goto fail;
		}
		json_object_set_new(filters, "org", json_string(q->org));
	}
	/*
	 * Spec §3.3: the identifier is only ever looked up as its tokens, one
	 * per period whose secret exists; on a worker (subject_found next).
	 */
	sq = xcalloc(1, sizeof(*sq));
	sq->q = q;
	sq->filters = filters;
	if (subject_lookup_start(r, id, strlen(id), subject_found, sq) != 0) {
		free(sq);
		goto fail;
	}
	return;
fail:
	json_decref(filters);
	prov_query_free(q);
}

void
route_provenance_actor(struct request *r)
{
	static const char *const params[] = { "since", "until", "type",
	    "cursor", "limit", "purpose", NULL };
	const char *org = r->path + strlen("/v1/provenance/actors/"), *user;
	struct prov_query *q;
	json_t *filters;
	char org_id[LEDGER_ID_MAX + 1];
	size_t org_len;

	if (query_check(r, params) != 0)
		return;
	/* Org ids hold no '/', so the first one ends the org. */
	if ((user = strchr(org, '/')) == NULL || !id_valid(user + 1)) {
		reply_error(r, 400, "invalid_value", "user",
		    "the path is /v1/provenance/actors/{org}/{user}");
		return;
	}
	org_len = (size_t)(user - org);
	user++;
	if (org_len == 0 || org_len > LEDGER_ID_MAX) {
		reply_error(r, 400, "invalid_value", "org",
		    "org must match [a-z0-9-]{1,32}");
		return;
	}
	memcpy(org_id, org, org_len);
	org_id[org_len] = '\0';
	if (!config_org_registered(r->srv->cfg, org_id)) {
		reply_error(r, 400, "unknown_org", "org",
		    "org is not a registered organisation");
		return;
	}
	q = xcalloc(1, sizeof(*q));
	filters = json_object();
	q->kind = PROV_ACTOR;
	/* A supervisor's own audit and export entries can be asked for too. */
	if (parse_page_params(r, q, T_APPLICATION | T_AUDIT | T_EXPORT,
	    filters) != 0) {
		json_decref(filters);
		prov_query_free(q);
		return;
	}
	q->index = STORE_IDX_USER;
	q->index_value = xasprintf("%s/%s", org_id, user);
	q->index_len = strlen(q->index_value);
	audit_then_answer(r, q, json_pack("{s:s, s:s, s:s, s:o}", "query",
	    "actors", "org", org_id, "user", user, "filters", filters));
}

void
route_provenance_object(struct request *r)
{
	static const char *const params[] = { "depth", "purpose", NULL };
	const char *ref = r->path + strlen("/v1/provenance/objects/");
	struct prov_query *q;
	uint64_t depth = LINEAGE_DEFAULT_DEPTH;
	json_t *filters;
	int rc;

	if (query_check(r, params) != 0)
		return;
	if (!id_valid(ref)) {
		reply_error(r, 400, "invalid_value", "ref", "an object ref is "
		    "1 to %d bytes", LEDGER_STRING_MAX);
		return;
	}
	if ((rc = query_u64(r, "depth", &depth)) < 0)
		return;
	if (depth > LINEAGE_MAX_DEPTH) {
		reply_error(r, 400, "out_of_range", "depth",
		    "depth must be 0 to %d", LINEAGE_MAX_DEPTH);
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->kind = PROV_OBJECT;
	q->depth = depth;
	q->index = STORE_IDX_OBJECT;
	q->index_value = xstrdup(ref);
	q->index_len = strlen(ref);
	filters = json_pack("{s:I}", "depth", (json_int_t)depth);
	audit_then_answer(r, q, json_pack("{s:s, s:s, s:o}", "query",
	    "objects", "ref", ref, "filters", filters));
}
