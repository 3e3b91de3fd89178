/*
 * The REST API of the real daemon (spec §2, §4–§7): appends read back
 * byte for byte, checkpoints and proofs verify with the shared core's
 * verifiers, tiles rebuild the tree, idempotency survives a restart.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

static const uint8_t zero_hash[LEDGER_HASH_LEN];

/* A memstore holding the leaves given. */
static struct ledger_memstore *
tree_of(uint8_t (*leaves)[LEDGER_HASH_LEN], uint64_t n)
{
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	uint64_t i;

	for (i = 0; i < n; i++)
		if (ledger_merkle_append(&hs, i, leaves[i]) != 0) {
			ledger_memstore_free(ms);
			return NULL;
		}
	return ms;
}

/* The member name of obj as a string, or "". */
static const char *
str_of(const json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));

	return s ? s : "";
}

static void
body_append_read_back(struct daemon *d)
{
	struct http_client hc;
	struct appended a, b;
	uint8_t leaf[LEDGER_HASH_LEN];
	char prev0[48], prev1[48];
	char *ev, *bytes = NULL, *canon = NULL;
	size_t len, i;
	json_t *entry = NULL;
	int64_t t;

	http_client_init(&hc, d->port, d->token);
	ev = sample_event(1);
	CHECK_INT(post_event(&hc, ev, NULL, NULL, &a, NULL), 201);
	free(ev);
	CHECK_INT(a.seq, 0);
	CHECK_INT(a.tree_size, 1);
	CHECK_INT(ledger_time_parse_rfc3339(a.received_at, &t), 0);
	CHECK_INT(strlen(a.received_at), LEDGER_TIME_LEN);

	{
		struct http_response r;
		const char *ct;

		REQUIRE(http_get(&hc, "/v1/events/0", &r) == 0);
		ct = http_header_get(&r, "Content-Type");
		CHECK(ct != NULL && strncmp(ct, "application/json", 16) == 0);
		http_response_free(&r);
	}
	REQUIRE(fetch_entry(&hc, 0, &bytes, &len) == 200);
	ledger_leaf_hash(bytes, len, leaf);
	CHECK_MEM(leaf, a.leaf_hash, LEDGER_HASH_LEN);
	entry = json_loadb(bytes, len, 0, NULL);
	CHECK(json_is_object(entry));
	/* spec §2.4: the stored bytes are the canonical serialisation */
	canon = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	CHECK(canon != NULL && strlen(canon) == len && memcmp(canon, bytes, len) == 0);
	CHECK_INT(json_integer_value(json_object_get(entry, "v")), 2);
	CHECK_INT(json_integer_value(json_object_get(entry, "seq")), 0);
	hash_b64(zero_hash, prev0);
	CHECK_STR(str_of(entry, "prev"), prev0);
	CHECK_STR(str_of(entry, "received_at"), a.received_at);
	CHECK(strlen(str_of(entry, "submitter")) > 0);
	CHECK_STR(str_of(entry, "type"), "share");
	CHECK_STR(str_of(json_object_get(entry, "actor"), "org"), "police");
	CHECK_STR(str_of(json_object_get(entry, "actor"), "user"), "analyst-1");
	CHECK_STR(str_of(json_object_get(entry, "object"), "ref"), "doc-1");
	CHECK_STR(str_of(entry, "occurred_at"), "2026-01-02T03:04:01.5Z");
	CHECK_STR(json_string_value(json_array_get(json_object_get(entry,
	    "recipients"), 0)), "kmar");
	/* spec §3: subjects are stored as tokens, never in the clear */
	CHECK_INT(strlen(json_string_value(json_array_get(json_object_get(entry,
	    "subjects"), 0)) ?: ""), LEDGER_SUBJECT_TOKEN_LEN);
	CHECK(memmem(bytes, len, "person-1", 8) == NULL);
	json_decref(entry);
	entry = NULL;
	free(canon);
	free(bytes);
	bytes = NULL;

	/* The next entry points at the first; non-ASCII is stored escaped. */
	ev = sample_event_of("query", "kmar", "analyst-\xc3\xa9", NULL,
	    "\"legal_basis\":\"art. 8 \xe2\x80\x94 \xc3\xa9t\xc3\xa9\"", 2);
	CHECK_INT(post_event(&hc, ev, NULL, NULL, &b, NULL), 201);
	free(ev);
	CHECK_INT(b.seq, 1);
	REQUIRE(fetch_entry(&hc, 1, &bytes, &len) == 200);
	for (i = 0; i < len; i++)
		if ((unsigned char)bytes[i] >= 0x80)
			break;
	CHECK_INT(i, len);
	entry = json_loadb(bytes, len, 0, NULL);
	hash_b64(a.leaf_hash, prev1);
	CHECK_STR(str_of(entry, "prev"), prev1);
	CHECK_STR(str_of(json_object_get(entry, "actor"), "user"), "analyst-\xc3\xa9");
	CHECK_STR(str_of(entry, "legal_basis"), "art. 8 \xe2\x80\x94 \xc3\xa9t\xc3\xa9");
	ledger_leaf_hash(bytes, len, leaf);
	CHECK_MEM(leaf, b.leaf_hash, LEDGER_HASH_LEN);
	json_decref(entry);
	free(bytes);

	/* Nothing past the end. */
	CHECK_INT(fetch_entry(&hc, 2, &bytes, &len), 404);
	free(bytes);
	http_client_close(&hc);
}

static void
test_append_read_back(void)
{
	daemon_test(body_append_read_back);
}

/* Checks a ?wait=checkpoint answer: signed checkpoint and inclusion proof. */
static void
check_wait_answer(const struct daemon *d, const struct http_response *r)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	struct ledger_checkpoint cp;
	struct appended a;
	json_t *body = http_response_json(r), *ip;
	const char *note;
	size_t n = 0;
	int rc;

	if (!json_is_object(body) || parse_appended(body, &a) != 0) {
		fprintf(stderr, "  malformed answer: %s\n", r->body);
		test_failures_++;
		goto out;
	}
	note = json_string_value(json_object_get(body, "checkpoint"));
	CHECK(note != NULL);
	if (note == NULL)
		goto out;
	rc = ledger_checkpoint_open(note, strlen(note), &d->verifier, &cp);
	CHECK_INT(rc, 0);
	if (rc != 0)
		goto out;
	CHECK(cp.tree_size >= a.seq + 1);
	ip = json_object_get(body, "inclusion_proof");
	CHECK(json_is_object(ip));
	CHECK_INT(json_integer_value(json_object_get(ip, "index")), a.seq);
	CHECK_INT(json_integer_value(json_object_get(ip, "tree_size")), cp.tree_size);
	CHECK_INT(decode_hash(str_of(ip, "leaf_hash"), leaf), 0);
	CHECK_MEM(leaf, a.leaf_hash, LEDGER_HASH_LEN);
	CHECK_INT(decode_hashes(json_object_get(ip, "hashes"), proof,
	    LEDGER_MAX_PROOF, &n), 0);
	CHECK_INT(ledger_merkle_verify_inclusion(a.leaf_hash, a.seq, cp.tree_size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, cp.root), 0);
out:
	json_decref(body);
}

static void
body_wait_checkpoint(struct daemon *d)
{
	struct ledger_checkpoint cp;
	struct http_client hc;
	struct http_response r;
	struct appended a;
	const char *ct;
	char *ev;
	int i;

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < 6; i++) {
		if (i == 3)
			REQUIRE(post_events(&hc, 100, 7, 7) == 0);
		ev = sample_event(i);
		CHECK_INT(post_event(&hc, ev, "wait=checkpoint", NULL, &a, &r), 201);
		free(ev);
		if (r.status == 201)
			check_wait_answer(d, &r);
		http_response_free(&r);
	}
	/*
	 * The public checkpoint is signed by the key in verifier.vkey; it is
	 * published at the checkpoint interval (spec §5.4).
	 */
	REQUIRE(wait_published(&hc, &d->verifier, 13, NULL, NULL) == 0);
	REQUIRE(http_get_public(&hc, "/checkpoint", &r) == 0);
	CHECK_INT(r.status, 200);
	ct = http_header_get(&r, "Content-Type");
	CHECK(ct != NULL && strncmp(ct, "text/plain", 10) == 0);
	CHECK_INT(ledger_checkpoint_open(r.body, r.body_len, &d->verifier, &cp), 0);
	CHECK_INT(cp.tree_size, 13);
	CHECK_STR(cp.origin, d->verifier.name);
	http_response_free(&r);
	http_client_close(&hc);
}

static void
test_wait_checkpoint(void)
{
	daemon_test(body_wait_checkpoint);
}

/* POSTs NDJSON (n events numbered from first) to the batch route. */
static int
post_ndjson(struct http_client *hc, int first, int n, struct http_response *r)
{
	char *buf = xstrdup(""), *ev, *next, auth[300];
	int i, rc;

	for (i = 0; i < n; i++) {
		ev = sample_event(first + i);
		next = xasprintf("%s%s\n", buf, ev);
		free(ev);
		free(buf);
		buf = next;
	}
	snprintf(auth, sizeof(auth), "Bearer %s", hc->token);
	rc = http_request(hc, "POST", "/v1/events/batch", auth,
	    "application/x-ndjson", NULL, buf, strlen(buf), r);
	free(buf);
	return rc;
}

static void
body_prev_chain(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	uint8_t prev_leaf[LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	char want[48], *bytes;
	size_t len;
	int64_t t, last_t = 0;
	json_t *e;
	uint64_t i;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 5, 1) == 0);
	REQUIRE(post_events(&hc, 5, 10, 10) == 0);
	REQUIRE(post_ndjson(&hc, 15, 5, &r) == 0);
	CHECK_INT(r.status, 201);
	http_response_free(&r);
	REQUIRE(post_events(&hc, 20, 5, 1) == 0);
	memset(prev_leaf, 0, sizeof(prev_leaf));
	for (i = 0; i < 25; i++) {
		REQUIRE(fetch_entry(&hc, i, &bytes, &len) == 200);
		e = json_loadb(bytes, len, 0, NULL);
		CHECK_INT(json_integer_value(json_object_get(e, "seq")), i);
		hash_b64(prev_leaf, want);
		if (strcmp(str_of(e, "prev"), want) != 0) {
			fprintf(stderr, "  entry %" PRIu64 ": prev %s, want %s\n", i,
			    str_of(e, "prev"), want);
			test_failures_++;
		}
		CHECK_INT(ledger_time_parse_rfc3339(str_of(e, "received_at"), &t), 0);
		if (t < last_t) {
			fprintf(stderr, "  entry %" PRIu64 ": received_at %s goes back\n",
			    i, str_of(e, "received_at"));
			test_failures_++;
		}
		last_t = t;
		ledger_leaf_hash(bytes, len, leaf);
		memcpy(prev_leaf, leaf, LEDGER_HASH_LEN);
		json_decref(e);
		free(bytes);
	}
	http_client_close(&hc);
}

static void
test_prev_chain(void)
{
	daemon_test(body_prev_chain);
}

/* Checks a 201 batch answer for count events and reads each back. */
static void
check_batch_answer(struct http_client *hc, const struct http_response *r,
    uint64_t first_seq, int count)
{
	json_t *body = http_response_json(r), *events;
	struct appended a;
	int i;

	CHECK_INT(r->status, 201);
	CHECK_INT(json_integer_value(json_object_get(body, "first_seq")), first_seq);
	CHECK_INT(json_integer_value(json_object_get(body, "count")), count);
	CHECK(json_integer_value(json_object_get(body, "tree_size")) >=
	    (json_int_t)first_seq + count);
	events = json_object_get(body, "events");
	CHECK_INT(json_array_size(events), count);
	for (i = 0; i < count && i < (int)json_array_size(events); i++) {
		if (parse_appended(json_array_get(events, i), &a) != 0) {
			fprintf(stderr, "  events[%d] malformed: %s\n", i, r->body);
			test_failures_++;
			continue;
		}
		CHECK_INT(a.seq, first_seq + (uint64_t)i);
		CHECK_ENTRY(hc, &a);
	}
	json_decref(body);
}

static void
body_batch(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	char *a = sample_event(1), *b = sample_event(2), *c = sample_event(3), *body;

	http_client_init(&hc, d->port, d->token);
	body = xasprintf("[%s,%s,%s]", a, b, c);
	REQUIRE(http_request(&hc, "POST", "/v1/events/batch", d->auth,
	    "application/json", NULL, body, strlen(body), &r) == 0);
	check_batch_answer(&hc, &r, 0, 3);
	http_response_free(&r);
	free(body);

	REQUIRE(post_ndjson(&hc, 10, 4, &r) == 0);
	check_batch_answer(&hc, &r, 3, 4);
	http_response_free(&r);

	/* NDJSON without the final newline, with CRLF line ends. */
	body = xasprintf("%s\r\n%s", a, b);
	REQUIRE(http_request(&hc, "POST", "/v1/events/batch", d->auth,
	    "application/x-ndjson", NULL, body, strlen(body), &r) == 0);
	check_batch_answer(&hc, &r, 7, 2);
	http_response_free(&r);
	free(body);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 9);
	free(a);
	free(b);
	free(c);
	http_client_close(&hc);
}

static void
test_batch(void)
{
	daemon_test(body_batch);
}

/* POSTs a batch that must be refused with code and field. */
static void
batch_refused(struct daemon *d, struct http_client *hc, const char *content_type,
    const char *body, const char *code, const char *field)
{
	struct http_response r;
	int rc;

	rc = http_request(hc, "POST", "/v1/events/batch", d->auth, content_type,
	    NULL, body, strlen(body), &r);
	CHECK_INT(rc, 0);
	if (rc != 0)
		return;
	if (!CHECK_ERROR(&r, 400, code, field))
		fprintf(stderr, "  ^ batch (%s): %s\n", content_type, body);
	http_response_free(&r);
}

static void
body_batch_all_or_nothing(struct daemon *d)
{
	struct ledger_checkpoint before, after;
	struct http_client hc;
	struct http_response r;
	char *ok1 = sample_event(1), *ok2 = sample_event(2), *body, *bytes;
	size_t len;
	const char *no_purpose = "{\"type\":\"share\",\"actor\":{\"org\":\"police\","
	    "\"user\":\"a\"},\"recipients\":[\"kmar\"],\"object\":{\"ref\":\"x\"},"
	    "\"occurred_at\":\"2026-01-02T03:04:05Z\"}";
	const char *unknown = "{\"type\":\"query\",\"actor\":{\"org\":\"police\","
	    "\"user\":\"a\"},\"object\":{\"ref\":\"x\"},\"purpose\":\"p\","
	    "\"colour\":\"red\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}";
	const char *bad_ref = "{\"type\":\"advice\",\"actor\":{\"org\":\"nctv\","
	    "\"user\":\"a\"},\"recipients\":[\"om\"],\"object\":{\"ref\":\"x\"},"
	    "\"refs\":[0,999999],\"occurred_at\":\"2026-01-02T03:04:05Z\"}";

	http_client_init(&hc, d->port, d->token);
	if (post_events(&hc, 0, 3, 1) != 0 ||
	    fetch_checkpoint(&hc, &d->verifier, &before, NULL) != 0) {
		test_failures_++;
		goto out;
	}
	CHECK_INT(before.tree_size, 3);

	body = xasprintf("[%s,%s,%s]", ok1, ok2, no_purpose);
	batch_refused(d, &hc, "application/json", body, "missing_field", "[2].purpose");
	free(body);
	body = xasprintf("%s\n%s\n%s\n", ok1, unknown, ok2);
	batch_refused(d, &hc, "application/x-ndjson", body, "unknown_field",
	    "[1].colour");
	free(body);
	/* refs are checked against the log, in the batch's transaction */
	body = xasprintf("[%s,%s]", ok1, bad_ref);
	batch_refused(d, &hc, "application/json", body, "unknown_ref", "[1].refs*");
	free(body);
	body = xasprintf("%s\n{\"type\":\n%s\n", ok1, ok2);
	batch_refused(d, &hc, "application/x-ndjson", body, "invalid_json", NULL);
	free(body);
	body = xasprintf("[%s,%s", ok1, ok2);
	batch_refused(d, &hc, "application/json", body, "invalid_json", NULL);
	free(body);

	/* Nothing was written, and no seq was used up. */
	if (fetch_checkpoint(&hc, &d->verifier, &after, NULL) != 0) {
		test_failures_++;
		goto out;
	}
	CHECK_INT(after.tree_size, before.tree_size);
	CHECK_MEM(after.root, before.root, LEDGER_HASH_LEN);
	CHECK_INT(fetch_entry(&hc, 3, &bytes, &len), 404);
	free(bytes);
	body = xasprintf("[%s,%s]", ok1, ok2);
	if (http_request(&hc, "POST", "/v1/events/batch", d->auth,
	    "application/json", NULL, body, strlen(body), &r) == 0) {
		check_batch_answer(&hc, &r, 3, 2);
		http_response_free(&r);
	} else {
		test_failures_++;
	}
	free(body);
out:
	free(ok1);
	free(ok2);
	http_client_close(&hc);
}

static void
test_batch_all_or_nothing(void)
{
	daemon_test(body_batch_all_or_nothing);
}

/* GET a proof; the parsed body or NULL (printed). */
static json_t *
get_json(struct http_client *hc, const char *target, int public)
{
	struct http_response r;
	json_t *body = NULL;
	int rc;

	rc = public ? http_get_public(hc, target, &r) : http_get(hc, target, &r);
	if (rc != 0) {
		fprintf(stderr, "  GET %s: transport error %d\n", target, rc);
		return NULL;
	}
	if (r.status != 200 || (body = http_response_json(&r)) == NULL)
		fprintf(stderr, "  GET %s: %d %s\n", target, r.status, r.body);
	http_response_free(&r);
	return body;
}

static void
body_proofs(struct daemon *d)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], root_m[LEDGER_HASH_LEN],
	    root_n[LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	uint8_t (*leaves)[LEDGER_HASH_LEN] = NULL;
	struct ledger_checkpoint cp1, cp2;
	struct ledger_memstore *ms = NULL;
	struct ledger_hash_store hs;
	struct http_client hc;
	char target[128];
	uint64_t m, n;
	size_t len;
	json_t *p;
	int bad;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 13, 1) == 0);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &cp1, NULL) == 0);
	CHECK_INT(cp1.tree_size, 13);
	REQUIRE((leaves = leaf_hashes(&hc, 13)) != NULL);
	REQUIRE((ms = tree_of(leaves, 13)) != NULL);
	hs = ledger_memstore_hash_store(ms);
	ledger_merkle_root(&hs, 13, root_n);
	CHECK_MEM(root_n, cp1.root, LEDGER_HASH_LEN);

	/* Every inclusion proof of every tree size so far. */
	bad = 0;
	for (n = 1; n <= 13; n++) {
		ledger_merkle_root(&hs, n, root_n);
		for (m = 0; m < n; m++) {
			snprintf(target, sizeof(target),
			    "/v1/proof/inclusion?index=%" PRIu64 "&tree_size=%" PRIu64,
			    m, n);
			if ((p = get_json(&hc, target, 0)) == NULL) {
				bad++;
				continue;
			}
			if (json_integer_value(json_object_get(p, "index")) != (json_int_t)m ||
			    json_integer_value(json_object_get(p, "tree_size")) != (json_int_t)n ||
			    decode_hash(str_of(p, "leaf_hash"), leaf) != 0 ||
			    memcmp(leaf, leaves[m], LEDGER_HASH_LEN) != 0 ||
			    decode_hashes(json_object_get(p, "hashes"), proof,
			    LEDGER_MAX_PROOF, &len) != 0 ||
			    ledger_merkle_verify_inclusion(leaves[m], m, n,
			    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len, root_n) != 0) {
				fprintf(stderr, "  %s: does not verify\n", target);
				bad++;
			}
			json_decref(p);
		}
	}
	CHECK_INT(bad, 0);

	/* Every consistency proof between sizes 1..13 (public). */
	bad = 0;
	for (n = 1; n <= 13; n++) {
		ledger_merkle_root(&hs, n, root_n);
		for (m = 1; m <= n; m++) {
			ledger_merkle_root(&hs, m, root_m);
			snprintf(target, sizeof(target),
			    "/v1/proof/consistency?from=%" PRIu64 "&to=%" PRIu64, m, n);
			if ((p = get_json(&hc, target, 1)) == NULL) {
				bad++;
				continue;
			}
			if (json_integer_value(json_object_get(p, "from")) != (json_int_t)m ||
			    json_integer_value(json_object_get(p, "to")) != (json_int_t)n ||
			    decode_hashes(json_object_get(p, "hashes"), proof,
			    LEDGER_MAX_PROOF, &len) != 0 ||
			    ledger_merkle_verify_consistency(m, n, root_m, root_n,
			    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len) != 0) {
				fprintf(stderr, "  %s: does not verify\n", target);
				bad++;
			}
			json_decref(p);
		}
	}
	CHECK_INT(bad, 0);

	/* Two signed checkpoints around more appends are consistent. */
	REQUIRE(post_events(&hc, 13, 4, 1) == 0);
	REQUIRE(post_events(&hc, 17, 6, 3) == 0);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &cp2, NULL) == 0);
	CHECK_INT(cp2.tree_size, 23);
	snprintf(target, sizeof(target), "/v1/proof/consistency?from=%" PRIu64
	    "&to=%" PRIu64, cp1.tree_size, cp2.tree_size);
	p = get_json(&hc, target, 1);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(decode_hashes(json_object_get(p, "hashes"), proof,
		    LEDGER_MAX_PROOF, &len), 0);
		CHECK_INT(ledger_merkle_verify_consistency(cp1.tree_size,
		    cp2.tree_size, cp1.root, cp2.root,
		    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len), 0);
		json_decref(p);
	}
	ledger_memstore_free(ms);
	free(leaves);
	http_client_close(&hc);
}

static void
test_proofs(void)
{
	daemon_test(body_proofs);
}

/* GETs a tile; its body (free() it) for a 200, else NULL with *status. */
static uint8_t *
get_tile(struct http_client *hc, const struct ledger_tile *t, int with_token,
    size_t *len, int *status)
{
	struct http_response r;
	char path[LEDGER_TILE_PATH_MAX + 1];
	uint8_t *body = NULL;

	path[0] = '/';
	*status = -1;
	if (ledger_tile_path_format(t, path + 1) != 0)
		return NULL;
	if ((with_token ? http_get(hc, path, &r) : http_get_public(hc, path, &r)) != 0)
		return NULL;
	*status = r.status;
	if (r.status == 200) {
		body = (uint8_t *)r.body;
		*len = r.body_len;
		r.body = NULL;
	} else if (r.status != 404 && r.status != 401) {
		fprintf(stderr, "  GET %s: %d %s\n", path, r.status, r.body);
	}
	http_response_free(&r);
	return body;
}

static int
tile_status(struct http_client *hc, int level, uint64_t index, unsigned width,
    int with_token)
{
	struct ledger_tile t = { level, index, width };
	uint8_t *body;
	size_t len;
	int status;

	body = get_tile(hc, &t, with_token, &len, &status);
	free(body);
	return status;
}

static void
body_tiles(struct daemon *d)
{
	const uint64_t size = 600;
	struct ledger_checkpoint cp;
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	struct http_client hc;
	uint8_t root[LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN], sub[LEDGER_HASH_LEN];
	uint8_t *tile = NULL, *bundle = NULL, *first_tile = NULL;
	const uint8_t *entry;
	size_t tile_len, bundle_len, pos, entry_len, first_len = 0;
	char *bytes;
	size_t blen;
	uint64_t n, i, leaves = 0;
	unsigned w;
	int status;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, (int)size, 50) == 0);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &cp, NULL) == 0);
	REQUIRE(cp.tree_size == size);

	/* Level 0 hash tiles and the entry bundles beside them. */
	for (n = 0; (w = ledger_tile_width_at(0, n, size)) != 0; n++) {
		struct ledger_tile t = { 0, n, w };
		struct ledger_tile e = { LEDGER_TILE_LEVEL_ENTRIES, n, w };

		tile = get_tile(&hc, &t, 0, &tile_len, &status);
		CHECK_INT(status, 200);
		bundle = get_tile(&hc, &e, 1, &bundle_len, &status);
		CHECK_INT(status, 200);
		if (tile == NULL || bundle == NULL)
			goto out;
		CHECK_INT(tile_len, (size_t)w * LEDGER_HASH_LEN);
		pos = 0;
		for (i = 0; i < w; i++) {
			if (ledger_bundle_next(bundle, bundle_len, &pos, &entry,
			    &entry_len) != 0) {
				fprintf(stderr, "  bundle %" PRIu64 " ends at %" PRIu64
				    "\n", n, i);
				test_failures_++;
				goto out;
			}
			ledger_leaf_hash(entry, entry_len, leaf);
			if (i * LEDGER_HASH_LEN + LEDGER_HASH_LEN <= tile_len &&
			    memcmp(leaf, tile + i * LEDGER_HASH_LEN, LEDGER_HASH_LEN) != 0) {
				fprintf(stderr, "  tile 0/%" PRIu64 " hash %" PRIu64
				    " is not the bundle's leaf\n", n, i);
				test_failures_++;
			}
			if (leaves == 0 || leaves == size - 1) {
				/* bundles carry the exact entry bytes */
				REQUIRE(fetch_entry(&hc, leaves, &bytes, &blen) == 200);
				CHECK(blen == entry_len && memcmp(bytes, entry, blen) == 0);
				free(bytes);
			}
			ledger_merkle_append(&hs, leaves++, leaf);
		}
		CHECK_INT(ledger_bundle_next(bundle, bundle_len, &pos, &entry,
		    &entry_len), LEDGER_ENOTFOUND);
		if (n == 0) {
			first_tile = tile;
			first_len = tile_len;
		} else {
			free(tile);
		}
		tile = NULL;
		free(bundle);
		bundle = NULL;
	}
	CHECK_INT(leaves, size);
	CHECK_INT(ledger_merkle_root(&hs, size, root), 0);
	CHECK_MEM(root, cp.root, LEDGER_HASH_LEN);

	/* Level 1: one hash per complete 256-leaf subtree, partial tile. */
	w = ledger_tile_width_at(1, 0, size);
	CHECK_INT(w, 2);
	{
		struct ledger_tile t = { 1, 0, w };

		tile = get_tile(&hc, &t, 0, &tile_len, &status);
		CHECK_INT(status, 200);
		if (tile != NULL) {
			CHECK_INT(tile_len, (size_t)w * LEDGER_HASH_LEN);
			for (i = 0; i < w && (i + 1) * LEDGER_HASH_LEN <= tile_len; i++) {
				ledger_merkle_subtree_hash(&hs, i * 256, i * 256 + 256, sub);
				CHECK_MEM(tile + i * LEDGER_HASH_LEN, sub, LEDGER_HASH_LEN);
			}
		}
		free(tile);
		tile = NULL;
	}

	/* Tiles that do not exist (yet). */
	CHECK_INT(tile_status(&hc, 0, 2, 256, 0), 404);	/* not full yet */
	CHECK_INT(tile_status(&hc, 0, 2, 89, 0), 404);	/* wider than the log */
	CHECK_INT(tile_status(&hc, 0, 3, 1, 0), 404);
	CHECK_INT(tile_status(&hc, 1, 0, 256, 0), 404);
	CHECK_INT(tile_status(&hc, 1, 0, 3, 0), 404);
	CHECK_INT(tile_status(&hc, 2, 0, 1, 0), 404);
	CHECK_INT(tile_status(&hc, LEDGER_TILE_LEVEL_ENTRIES, 2, 256, 1), 404);
	CHECK_INT(tile_status(&hc, LEDGER_TILE_LEVEL_ENTRIES, 3, 1, 1), 404);
	/* Entry bundles need read rights; hash tiles do not. */
	CHECK_INT(tile_status(&hc, LEDGER_TILE_LEVEL_ENTRIES, 0, 256, 0), 401);

	/* Full tiles never change; the partial edge grows. */
	REQUIRE(post_events(&hc, 1000, 10, 10) == 0);
	{
		struct ledger_tile t = { 0, 0, 256 };

		tile = get_tile(&hc, &t, 0, &tile_len, &status);
		CHECK_INT(status, 200);
		CHECK(tile != NULL && tile_len == first_len &&
		    memcmp(tile, first_tile, tile_len) == 0);
		free(tile);
		tile = NULL;
	}
	CHECK_INT(tile_status(&hc, 0, 2, 98, 0), 200);
	CHECK_INT(tile_status(&hc, LEDGER_TILE_LEVEL_ENTRIES, 2, 98, 1), 200);
	/* tlog-tiles: full tiles may be cached for good, partial ones not. */
	{
		struct http_response r;
		const char *cc;

		REQUIRE(http_get_public(&hc, "/tile/0/001", &r) == 0);
		cc = http_header_get(&r, "Cache-Control");
		CHECK(cc != NULL && (strstr(cc, "immutable") || strstr(cc, "max-age=")));
		http_response_free(&r);
		REQUIRE(http_get_public(&hc, "/tile/0/002.p/98", &r) == 0);
		cc = http_header_get(&r, "Cache-Control");
		CHECK(cc == NULL || strstr(cc, "immutable") == NULL);
		http_response_free(&r);
	}
out:
	free(tile);
	free(bundle);
	free(first_tile);
	ledger_memstore_free(ms);
	http_client_close(&hc);
}

static void
test_tiles(void)
{
	daemon_test(body_tiles);
}

static void
body_idempotency(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	struct appended a1, a2, b1, b2, c;
	struct ledger_verifier before;
	char *ev = sample_event(7), *other = sample_event(8);
	char *fev = sample_event_of("query", "fiod", "u", NULL,
	    "\"idempotency_key\":\"field-key-1\"", 9);
	char *fother = sample_event_of("query", "fiod", "u", NULL,
	    "\"idempotency_key\":\"field-key-1\"", 10);
	const char *hdr = "Idempotency-Key: header-key-1\r\n";
	int round;

	http_client_init(&hc, d->port, d->token);
	CHECK_INT(post_event(&hc, ev, NULL, hdr, &a1, NULL), 201);
	CHECK_INT(post_event(&hc, fev, NULL, NULL, &b1, NULL), 201);
	CHECK_INT(a1.seq, 0);
	CHECK_INT(b1.seq, 1);
	for (round = 0; round < 2; round++) {
		if (round == 1) {
			/* The keys outlive the process. */
			before = d->verifier;
			CHECK_INT(daemon_stop(d), 0);
			REQUIRE(daemon_restart(d) == 0);
			CHECK(memcmp(&before, &d->verifier, sizeof(before)) == 0);
			http_client_close(&hc);
			http_client_init(&hc, d->port, d->token);
		}
		CHECK_INT(post_event(&hc, ev, NULL, hdr, &a2, NULL), 200);
		CHECK_INT(a2.seq, a1.seq);
		CHECK_MEM(a2.leaf_hash, a1.leaf_hash, LEDGER_HASH_LEN);
		CHECK_STR(a2.received_at, a1.received_at);
		CHECK_INT(post_event(&hc, other, NULL, hdr, NULL, &r), 409);
		CHECK_ERROR(&r, 409, "idempotency_conflict", NULL);
		http_response_free(&r);

		CHECK_INT(post_event(&hc, fev, NULL, NULL, &b2, NULL), 200);
		CHECK_INT(b2.seq, b1.seq);
		CHECK_MEM(b2.leaf_hash, b1.leaf_hash, LEDGER_HASH_LEN);
		CHECK_INT(post_event(&hc, fother, NULL, NULL, NULL, &r), 409);
		CHECK_ERROR(&r, 409, "idempotency_conflict", NULL);
		http_response_free(&r);

		CHECK_INT(tree_size_now(&hc, &d->verifier), 2);
	}
	/* The log goes on after the restart, chained to what was there. */
	CHECK_INT(post_event(&hc, other, NULL, NULL, &c, NULL), 201);
	CHECK_INT(c.seq, 2);
	CHECK_ENTRY(&hc, &c);
	free(ev);
	free(other);
	free(fev);
	free(fother);
	http_client_close(&hc);
}

static void
test_idempotency(void)
{
	daemon_test(body_idempotency);
}

/* One of the clients that post the same request at the same time. */
struct racer {
	pthread_t thread;
	pthread_barrier_t *start;
	unsigned port;
	const char *token, *body, *header;
	int status;
	struct appended a;
};

static void *
racer_main(void *arg)
{
	struct racer *rc = arg;
	struct http_client hc;

	http_client_init(&hc, rc->port, rc->token);
	/* Connect first, so that the requests leave together. */
	if (http_connect(&hc.conn, rc->port, HTTP_DEFAULT_TIMEOUT_MS) != 0)
		rc->status = -1;
	pthread_barrier_wait(rc->start);
	if (rc->status == 0)
		rc->status = post_event(&hc, rc->body, NULL, rc->header, &rc->a, NULL);
	http_client_close(&hc);
	return NULL;
}

/*
 * The same idempotent request from several clients at once is written
 * once: one 201, the others 200 with the same seq.
 */
static void
body_idempotency_race(struct daemon *d)
{
	enum { RACERS = 8, ROUNDS = 10 };
	struct racer racers[RACERS];
	pthread_barrier_t start;
	struct http_client hc;
	char header[128], field[64], *ev;
	int round, i, created;
	long long size;

	http_client_init(&hc, d->port, d->token);
	for (round = 0; round < ROUNDS; round++) {
		/* odd rounds: the header; even rounds: the field */
		snprintf(field, sizeof(field), "\"idempotency_key\":\"race-%d\"", round);
		ev = round % 2 ? sample_event(round) :
		    sample_event_of("query", "aivd", "u", NULL, field, round);
		snprintf(header, sizeof(header), "Idempotency-Key: race-%d\r\n", round);
		pthread_barrier_init(&start, NULL, RACERS);
		for (i = 0; i < RACERS; i++) {
			memset(&racers[i], 0, sizeof(racers[i]));
			racers[i].start = &start;
			racers[i].port = d->port;
			racers[i].token = d->token;
			racers[i].body = ev;
			racers[i].header = round % 2 ? header : NULL;
			if (pthread_create(&racers[i].thread, NULL, racer_main,
			    &racers[i]) != 0)
				abort();
		}
		for (i = 0; i < RACERS; i++)
			pthread_join(racers[i].thread, NULL);
		pthread_barrier_destroy(&start);
		created = 0;
		for (i = 0; i < RACERS; i++) {
			if (racers[i].status != 200 && racers[i].status != 201) {
				fprintf(stderr, "  round %d racer %d: %d\n", round, i,
				    racers[i].status);
				test_failures_++;
				continue;
			}
			created += racers[i].status == 201;
			if (racers[i].a.seq != racers[0].a.seq ||
			    memcmp(racers[i].a.leaf_hash, racers[0].a.leaf_hash,
			    LEDGER_HASH_LEN) != 0) {
				fprintf(stderr, "  round %d: racer %d got seq %" PRIu64
				    ", racer 0 seq %" PRIu64 "\n", round, i,
				    racers[i].a.seq, racers[0].a.seq);
				test_failures_++;
			}
		}
		if (created != 1) {
			fprintf(stderr, "  round %d: %d answers were 201\n", round, created);
			test_failures_++;
		}
		free(ev);
	}
	size = tree_size_now(&hc, &d->verifier);
	CHECK_INT(size, ROUNDS);
	http_client_close(&hc);
}

static void
test_idempotency_race(void)
{
	daemon_test(body_idempotency_race);
}

static void
body_restart_keeps_log(struct daemon *d)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t (*leaves1)[LEDGER_HASH_LEN] = NULL, (*leaves2)[LEDGER_HASH_LEN] = NULL;
	struct ledger_checkpoint cp1, cp2, cp3;
	struct http_client hc;
	char target[128], *bytes, prev[48];
	size_t len;
	json_t *p, *e;
	int64_t t8 = 0, t9 = 0;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 9, 3) == 0);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &cp1, NULL) == 0);
	REQUIRE((leaves1 = leaf_hashes(&hc, 9)) != NULL);
	http_client_close(&hc);
	CHECK_INT(daemon_stop(d), 0);
	REQUIRE(daemon_restart(d) == 0);
	http_client_init(&hc, d->port, d->token);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &cp2, NULL) == 0);
	CHECK_INT(cp2.tree_size, 9);
	CHECK_MEM(cp2.root, cp1.root, LEDGER_HASH_LEN);
	REQUIRE((leaves2 = leaf_hashes(&hc, 9)) != NULL);
	CHECK_MEM(leaves1, leaves2, 9 * LEDGER_HASH_LEN);
	REQUIRE(post_events(&hc, 9, 4, 1) == 0);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &cp3, NULL) == 0);
	CHECK_INT(cp3.tree_size, 13);
	REQUIRE(fetch_entry(&hc, 8, &bytes, &len) == 200);
	e = json_loadb(bytes, len, 0, NULL);
	CHECK_INT(ledger_time_parse_rfc3339(str_of(e, "received_at"), &t8), 0);
	json_decref(e);
	free(bytes);
	REQUIRE(fetch_entry(&hc, 9, &bytes, &len) == 200);
	e = json_loadb(bytes, len, 0, NULL);
	hash_b64(leaves1[8], prev);
	CHECK_STR(str_of(e, "prev"), prev);
	/* received_at never goes back, across a restart too */
	CHECK_INT(ledger_time_parse_rfc3339(str_of(e, "received_at"), &t9), 0);
	CHECK(t9 >= t8);
	json_decref(e);
	free(bytes);
	snprintf(target, sizeof(target), "/v1/proof/consistency?from=9&to=13");
	p = get_json(&hc, target, 1);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(decode_hashes(json_object_get(p, "hashes"), proof,
		    LEDGER_MAX_PROOF, &len), 0);
		CHECK_INT(ledger_merkle_verify_consistency(9, 13, cp1.root, cp3.root,
		    (const uint8_t (*)[LEDGER_HASH_LEN])proof, len), 0);
		json_decref(p);
	}
	free(leaves1);
	free(leaves2);
	http_client_close(&hc);
}

static void
test_restart_keeps_log(void)
{
	daemon_test(body_restart_keeps_log);
}

/* What the listing test posted. */
struct posted {
	const char *type, *org, *user, *recipient;
};

static const char *const list_types[] = { "share", "query", "advice" };
static const char *const list_orgs[] = { "police", "kmar", "fiod", "nctv" };
static const char *const list_users[] = { "u0", "u1", "u2", "u3", "u4" };
static const char *const list_recipients[] = { "om", "ind" };

/* Whether posted event p matches a filter "k=v[&k=v]". */
static int
matches(const struct posted *p, const char *filter)
{
	char buf[256], *save = NULL, *kv, *v;
	int ok = 1;

	snprintf(buf, sizeof(buf), "%s", filter);
	for (kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		if ((v = strchr(kv, '=')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(kv, "type") == 0)
			ok &= strcmp(p->type, v) == 0;
		else if (strcmp(kv, "org") == 0)
			ok &= strcmp(p->org, v) == 0;
		else if (strcmp(kv, "user") == 0)
			ok &= strcmp(p->user, v) == 0;
		else if (strcmp(kv, "recipient") == 0)
			ok &= p->recipient != NULL && strcmp(p->recipient, v) == 0;
		else if (strcmp(kv, "since") == 0)
			ok &= strncmp(v, "2000", 4) == 0;
		else if (strcmp(kv, "until") == 0)
			ok &= strncmp(v, "9000", 4) == 0;
	}
	return ok;
}

/* Pages through GET /v1/events?filter; checks every match comes once. */
static void
check_listing(struct http_client *hc, const struct posted *posted, int n,
    char **entries, size_t *entry_lens, const char *filter, int limit)
{
	char target[1024], cursor[512] = "";
	int *seen = xcalloc((size_t)n, sizeof(int)), pages = 0, i, bad = 0;
	json_t *body, *events, *ev, *next;

	for (;;) {
		snprintf(target, sizeof(target), "/v1/events?%s%slimit=%d%s%s",
		    filter, filter[0] ? "&" : "", limit,
		    cursor[0] ? "&cursor=" : "", cursor);
		if ((body = get_json(hc, target, 0)) == NULL) {
			bad++;
			break;
		}
		events = json_object_get(body, "events");
		if (!json_is_array(events) || json_array_size(events) > (size_t)limit) {
			fprintf(stderr, "  %s: bad events array\n", target);
			bad++;
		}
		for (i = 0; i < (int)json_array_size(events); i++) {
			json_int_t seq;
			const char *s;

			ev = json_array_get(events, (size_t)i);
			seq = json_integer_value(json_object_get(ev, "seq"));
			s = json_string_value(json_object_get(ev, "entry"));
			if (seq < 0 || seq >= n || s == NULL) {
				fprintf(stderr, "  %s: bad element %d\n", target, i);
				bad++;
				continue;
			}
			if (seen[seq]++)
				fprintf(stderr, "  %s: seq %d again\n", target, (int)seq), bad++;
			if (!matches(&posted[seq], filter))
				fprintf(stderr, "  %s: seq %d does not match\n", target,
				    (int)seq), bad++;
			if (json_string_length(json_object_get(ev, "entry")) != entry_lens[seq] ||
			    memcmp(s, entries[seq], entry_lens[seq]) != 0)
				fprintf(stderr, "  %s: seq %d entry differs from its "
				    "stored bytes\n", target, (int)seq), bad++;
		}
		next = json_object_get(body, "next_cursor");
		if (json_is_string(next) && json_string_length(next) > 0 &&
		    json_string_length(next) < sizeof(cursor)) {
			/* Cursors are opaque; keep them URL-safe on the way back. */
			const char *c = json_string_value(next);
			size_t o = 0;

			for (; *c && o + 4 < sizeof(cursor); c++) {
				if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || strchr("-_.~", *c))
					cursor[o++] = *c;
				else
					o += (size_t)snprintf(cursor + o, 4, "%%%02X",
					    (unsigned char)*c);
			}
			cursor[o] = '\0';
		} else {
			if (!json_is_null(next) && next != NULL) {
				fprintf(stderr, "  %s: next_cursor neither string nor null\n",
				    target);
				bad++;
			}
			json_decref(body);
			break;
		}
		json_decref(body);
		if (++pages > 2 * n + 2) {
			fprintf(stderr, "  %s: paging does not end\n", filter);
			bad++;
			break;
		}
	}
	for (i = 0; i < n; i++)
		if (matches(&posted[i], filter) && seen[i] != 1) {
			fprintf(stderr, "  filter \"%s\": seq %d seen %d times\n", filter,
			    i, seen[i]);
			bad++;
		}
	if (bad)
		test_failures_++;
	free(seen);
}

static void
body_listing(struct daemon *d)
{
	enum { N = 30 };
	struct posted posted[N];
	char *entries[N] = { 0 };
	size_t lens[N];
	struct http_client hc;
	static const char *const filters[] = {
		"", "type=query", "type=advice", "org=kmar", "org=police&user=u0",
		"recipient=om", "type=share&org=police", "type=share&recipient=ind",
		"since=2000-01-01T00:00:00Z", "until=2000-01-01T00:00:00Z",
		"since=9000-01-01T00:00:00Z", "until=9000-01-01T00:00:00Z",
		"org=nobody", "recipient=kmar",
		/* a percent-encoded offset ('+' would read as a space) */
		"since=2000-01-01T01%3A00%3A00%2B01%3A00",
	};
	static const int limits[] = { 1, 4, 7, 100 };
	size_t f, l;
	int i;

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < N; i++) {
		struct posted *p = &posted[i];
		char *ev;

		p->type = list_types[i % 3];
		p->org = list_orgs[i % 4];
		p->user = list_users[i % 5];
		p->recipient = strcmp(p->type, "query") == 0 ? NULL :
		    list_recipients[(i / 3) % 2];
		ev = sample_event_of(p->type, p->org, p->user, p->recipient, NULL, i);
		CHECK_INT(post_event(&hc, ev, NULL, NULL, NULL, NULL), 201);
		free(ev);
	}
	for (i = 0; i < N; i++)
		REQUIRE(fetch_entry(&hc, (uint64_t)i, &entries[i], &lens[i]) == 200);
	for (f = 0; f < sizeof(filters) / sizeof(filters[0]); f++)
		for (l = 0; l < sizeof(limits) / sizeof(limits[0]); l++)
			check_listing(&hc, posted, N, entries, lens, filters[f], limits[l]);
	for (i = 0; i < N; i++)
		free(entries[i]);
	http_client_close(&hc);
}

static void
test_listing(void)
{
	daemon_test(body_listing);
}

static void
body_health_metrics(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 2, 1) == 0);
	REQUIRE(http_get(&hc, "/healthz", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	REQUIRE(http_get(&hc, "/metrics", &r) == 0);
	CHECK_INT(r.status, 200);
	CHECK(strstr(r.body, "# TYPE ") != NULL);
	CHECK(strstr(r.body, "# HELP ") != NULL);
	http_response_free(&r);
	REQUIRE(http_get_public(&hc, "/metrics", &r) == 0);
	CHECK_ERROR(&r, 401, "unauthorized", NULL);
	http_response_free(&r);
	http_client_close(&hc);
}

static void
test_health_metrics(void)
{
	daemon_test(body_health_metrics);
}

static void
body_auth(struct daemon *d)
{
	static const char *const bad_auth[] = {
		NULL, "Bearer ", "Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer",
		"Token x",
	};
	static const char *const reader_routes[] = {
		"/v1/events/0", "/v1/events", "/v1/events?type=share",
		"/v1/proof/inclusion?index=0&tree_size=1", "/tile/entries/000.p/1",
		"/metrics",
	};
	static const char *const public_routes[] = {
		"/checkpoint", "/v1/proof/consistency?from=1&to=1", "/tile/0/000.p/1",
	};
	struct http_client hc;
	struct http_response r;
	char *ev = sample_event(1), longer[300], *prefix;
	size_t i, j;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 1, 1) == 0);
	snprintf(longer, sizeof(longer), "Bearer %sx", d->token);
	prefix = xasprintf("Bearer %.*s", (int)strlen(d->token) - 1, d->token);
	for (i = 0; i < sizeof(bad_auth) / sizeof(bad_auth[0]) + 2; i++) {
		const char *auth = i < sizeof(bad_auth) / sizeof(bad_auth[0]) ?
		    bad_auth[i] : i == sizeof(bad_auth) / sizeof(bad_auth[0]) ?
		    longer : prefix;

		REQUIRE(http_request(&hc, "POST", "/v1/events", auth,
		    "application/json", NULL, ev, strlen(ev), &r) == 0);
		if (!CHECK_ERROR(&r, 401, "unauthorized", NULL))
			fprintf(stderr, "  with Authorization: %s\n", auth ? auth : "(none)");
		if (i == 0)
			CHECK(http_header_get(&r, "WWW-Authenticate") != NULL);
		http_response_free(&r);
		for (j = 0; j < sizeof(reader_routes) / sizeof(reader_routes[0]); j++) {
			REQUIRE(http_request(&hc, "GET", reader_routes[j], auth, NULL,
			    NULL, NULL, 0, &r) == 0);
			if (!CHECK_ERROR(&r, 401, "unauthorized", NULL))
				fprintf(stderr, "  GET %s with Authorization: %s\n",
				    reader_routes[j], auth ? auth : "(none)");
			http_response_free(&r);
		}
	}
	for (j = 0; j < sizeof(public_routes) / sizeof(public_routes[0]); j++) {
		REQUIRE(http_get_public(&hc, public_routes[j], &r) == 0);
		if (r.status != 200)
			fprintf(stderr, "  GET %s without credentials: %d\n",
			    public_routes[j], r.status);
		CHECK_INT(r.status, 200);
		http_response_free(&r);
	}
	CHECK_INT(tree_size_now(&hc, &d->verifier), 1);
	/* RFC 9110 §11.1: the scheme is case-insensitive. */
	snprintf(longer, sizeof(longer), "bEARER %s", d->token);
	REQUIRE(http_request(&hc, "POST", "/v1/events", longer, "application/json",
	    NULL, ev, strlen(ev), &r) == 0);
	CHECK_INT(r.status, 201);
	http_response_free(&r);
	free(prefix);
	free(ev);
	http_client_close(&hc);
}

static void
test_auth(void)
{
	daemon_test(body_auth);
}

int
main(void)
{
	RUN(test_append_read_back);
	RUN(test_wait_checkpoint);
	RUN(test_prev_chain);
	RUN(test_batch);
	RUN(test_batch_all_or_nothing);
	RUN(test_proofs);
	RUN(test_tiles);
	RUN(test_idempotency);
	RUN(test_idempotency_race);
	RUN(test_restart_keeps_log);
	RUN(test_listing);
	RUN(test_health_metrics);
	RUN(test_auth);
	return TEST_SUMMARY();
}
