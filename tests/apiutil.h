/*
 * Helpers the daemon tests share: sample events, checking error replies,
 * fetching and verifying checkpoints, entries and proofs over the REST API.
 */
#ifndef LEDGER_TEST_APIUTIL_H
#define LEDGER_TEST_APIUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

#include "http.h"

/*
 * metric_value - the value of the metric name (a line `name value`) in
 * GET /metrics on port with token; -1 when it cannot be read.
 */
long long metric_value(unsigned port, const char *token, const char *name);

/*
 * sample_event - a valid share event as JSON text (free() it); i makes it
 * unique (object.ref, subjects).
 */
char *sample_event(int i);

/*
 * sample_event_of - a valid event of the given type from org/user;
 * recipient may be NULL for a query.  extra: NULL or members to add, written
 * as `"k":v,...` without braces.
 */
char *sample_event_of(const char *type, const char *org, const char *user,
    const char *recipient, const char *extra, int i);

/*
 * check_error_ - checks that r is an error reply with this status and a
 * JSON body {"error":{"code","message","field"}}.  code: "a|b" accepts
 * either, "*" any code, NULL means the body is not checked (answers the
 * HTTP layer gives for broken HTTP).  field: NULL skips the check; a
 * trailing '*' makes it a prefix; "" (the body as a whole) also accepts a
 * null or absent field.  Returns 1 when all is as expected.
 */
int check_error_(const char *file, int line, const struct http_response *r,
    int status, const char *code, const char *field);
#define CHECK_ERROR(r, status, code, field) \
	check_error_(__FILE__, __LINE__, (r), (status), (code), (field))

/* decode_hash - base64 of exactly 32 bytes; 0 or -1. */
int decode_hash(const char *b64, uint8_t out[LEDGER_HASH_LEN]);

/* decode_hashes - a JSON array of base64 hashes; 0 or -1. */
int decode_hashes(const json_t *array, uint8_t out[][LEDGER_HASH_LEN],
    size_t cap, size_t *n);

/* hash_b64 - base64 of a hash into out (45 bytes). */
void hash_b64(const uint8_t h[LEDGER_HASH_LEN], char out[48]);

/* How long a test waits for a checkpoint to be published (generous). */
#define PUBLISH_WAIT_MS 30000

/* healthz_tree_size - the log's size from GET /healthz, or -1. */
long long healthz_tree_size(struct http_client *hc);

/*
 * wait_published - polls GET /checkpoint (without credentials) until the
 * published checkpoint covers min_size entries (-1: every entry committed
 * when it asks, by /healthz), at most PUBLISH_WAIT_MS, and opens it with
 * the log's key.  Checkpoints are published at an interval (spec §5.4):
 * a test that posts and then reads the published tree waits here.
 *	cp	out (may be NULL): the checkpoint
 *	note	out (may be NULL): the note text (free() it)
 * Returns 0, or -1 after printing why.
 */
int wait_published(struct http_client *hc, const struct ledger_verifier *v,
    long long min_size, struct ledger_checkpoint *cp, char **note);

/*
 * fetch_checkpoint - wait_published(hc, v, -1, ...): the published
 * checkpoint of the log's whole tree, as it was when asked.
 */
int fetch_checkpoint(struct http_client *hc, const struct ledger_verifier *v,
    struct ledger_checkpoint *cp, char **note);

/*
 * fetch_entry - GET /v1/events/{seq}.
 *	bytes, len	out: the body (free() it), only for status 200
 * Returns the HTTP status or a negative HTTP_E* code.
 */
int fetch_entry(struct http_client *hc, uint64_t seq, char **bytes, size_t *len);

/* The answer to one appended event. */
struct appended {
	uint64_t seq;
	uint64_t tree_size;
	uint8_t leaf_hash[LEDGER_HASH_LEN];
	char received_at[64];
};

/*
 * post_event - POST /v1/events?query (query may be NULL) with the client's
 * token; extra_headers as for http_request.
 *	out	out (may be NULL): filled from a 200/201 answer
 *	resp	out (may be NULL): the whole response, to free; only when
 *		the return value is a status
 * Returns the HTTP status or a negative HTTP_E* code (HTTP_EPROTO also for
 * a 200/201 answer that does not parse).
 */
int post_event(struct http_client *hc, const char *json, const char *query,
    const char *extra_headers, struct appended *out, struct http_response *resp);

/* parse_appended - reads {seq, leaf_hash, received_at, tree_size}; 0 or -1. */
int parse_appended(const json_t *obj, struct appended *out);

/*
 * post_events - appends n sample events (numbered from first) in batches of
 * batch events (1: single POSTs).  Returns 0 or -1 (printed).
 */
int post_events(struct http_client *hc, int first, int n, int batch);

/*
 * check_entry - GETs entry seq and checks it is the entry the append
 * answer describes: its leaf hash and its seq field.  Returns 1 when good.
 */
int check_entry_(const char *file, int line, struct http_client *hc,
    const struct appended *a);
#define CHECK_ENTRY(hc, a) check_entry_(__FILE__, __LINE__, (hc), (a))

/*
 * leaf_hashes - GETs entries 0..n-1 and returns their leaf hashes (free()
 * the array), or NULL (printed).
 */
uint8_t (*leaf_hashes(struct http_client *hc, uint64_t n))[LEDGER_HASH_LEN];

/* hex of a hash, for messages (static buffer). */
const char *hash_hex(const uint8_t h[LEDGER_HASH_LEN]);

/* sha256_hex - a token's config form: SHA-256 of s, 64 lowercase hex. */
void sha256_hex(const char *s, char out[65]);

/* tree_size_now - the tree size of the latest checkpoint, or -1. */
long long tree_size_now(struct http_client *hc, const struct ledger_verifier *v);

/*
 * period_token_key - the subject token key of the current period (calendar
 * quarter of now) of the daemon with data directory data: derived from
 * DATA/keys/<period>.key as the key keeper does (spec §3.2), so a test can
 * compute the tokens the daemon writes.  Returns 0 or -1 (no such secret).
 */
int period_token_key(const char *data, uint8_t key[LEDGER_SUBJECT_KEY_LEN]);

#endif
