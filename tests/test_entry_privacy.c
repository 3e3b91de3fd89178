/*
 * Public leaf hashes confirm no guess about entries a caller may not read.
 * Against the real daemon: a guessing attack on the leaf hash of a
 * supervisor's audit entry (which user the board looked at) and of another
 * org's share (which document was shared), with an attacker who knows every
 * other field.  Without the entry's salt no guess matches; given the salt,
 * the very same attack finds the answer, so the test can fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define CANDIDATES 1000		/* guesses of the hidden value */
#define SALT_TRIES 16		/* salts an attacker without it tries a guess with */
#define SALT_BYTES 16

/* What the attacker is after, and what it has. */
struct attack {
	const char *object;	/* member of the entry holding the hidden value */
	const char *member;	/* its member that is hidden */
	const char *format;	/* candidate i is format % i */
	const json_t *known;	/* every other field of the entry */
	uint8_t target[LEDGER_HASH_LEN];	/* the public leaf hash */
};

/* Whether the entry known, with candidate and salt member salt, hashes to target. */
static int
try_guess(const struct attack *a, const char *candidate, json_t *salt, long *tries)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	json_t *guess = json_deep_copy(a->known);
	char *bytes;
	size_t len;
	int hit = 0;

	json_object_set_new(json_object_get(guess, a->object), a->member,
	    json_string(candidate));
	if (salt != NULL)
		json_object_set(guess, "salt", salt);
	else
		json_object_del(guess, "salt");
	if (ledger_entry_dump(guess, &bytes, &len) == 0) {
		hit = ledger_leaf_hash(bytes, len, leaf) == 0 &&
		    memcmp(leaf, a->target, LEDGER_HASH_LEN) == 0;
		free(bytes);
		(*tries)++;
	}
	json_decref(guess);
	return hit;
}

/*
 * The attack: every candidate, hashed as the entry would be.  salt_b64 is
 * the entry's salt when the attacker is given it; without it the attacker
 * tries the entry as it would be without a salt, with an all-zero salt, and
 * with SALT_TRIES random ones.  Returns the matching candidate (free()), or
 * NULL.
 */
static char *
guess(const struct attack *a, const char *salt_b64, long *tries)
{
	uint8_t raw[SALT_BYTES];
	char b64[LEDGER_B64_LEN(SALT_BYTES) + 1], *candidate;
	json_t *salts = json_array();
	size_t k;
	json_t *s;

	if (salt_b64 != NULL)
		json_array_append_new(salts, json_string(salt_b64));
	else {
		json_array_append_new(salts, json_null());	/* no salt at all */
		memset(raw, 0, sizeof(raw));
		ledger_b64_encode(raw, sizeof(raw), b64);
		json_array_append_new(salts, json_string(b64));
		for (k = 0; k < SALT_TRIES; k++) {
			if (RAND_bytes(raw, sizeof(raw)) != 1)
				break;
			ledger_b64_encode(raw, sizeof(raw), b64);
			json_array_append_new(salts, json_string(b64));
		}
	}
	*tries = 0;
	for (int i = 0; i < CANDIDATES; i++) {
		candidate = xasprintf(a->format, i);
		json_array_foreach(salts, k, s) {
			if (try_guess(a, candidate, json_is_null(s) ? NULL : s, tries)) {
				json_decref(salts);
				return candidate;
			}
		}
		free(candidate);
	}
	json_decref(salts);
	return NULL;
}

/* The leaf hash of entry seq from the public hash tile of a tree of size n. */
static int
public_leaf_hash(struct http_client *hc, uint64_t seq, uint64_t n,
    uint8_t out[LEDGER_HASH_LEN])
{
	struct http_response r;
	char path[64];
	int rc = -1;

	snprintf(path, sizeof(path), "/tile/0/000.p/%llu", (unsigned long long)n);
	if (http_get_public(hc, path, &r) != 0)
		return -1;
	if (r.status == 200 && r.body_len == n * LEDGER_HASH_LEN) {
		memcpy(out, r.body + seq * LEDGER_HASH_LEN, LEDGER_HASH_LEN);
		rc = 0;
	}
	http_response_free(&r);
	return rc;
}

/*
 * Runs the attack on entry seq of a log of n entries (n < 256): the target
 * is read from the public hash tile, and from the prev of entry seq + 1; the
 * attacker is handed the entry minus the hidden value and its salt.
 */
static void
attack_entry(struct http_client *hc, uint64_t seq, uint64_t n,
    struct attack *a, const char *answer)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	char *bytes, *next, *found, prev_b64[48];
	const char *salt;
	size_t len, next_len;
	json_t *entry, *after;
	long tries = 0;

	REQUIRE(public_leaf_hash(hc, seq, n, a->target) == 0);
	REQUIRE(fetch_entry(hc, seq, &bytes, &len) == 200);
	REQUIRE(fetch_entry(hc, seq + 1, &next, &next_len) == 200);
	/* The same hash is public twice: in the tile and as the next prev. */
	CHECK_INT(ledger_leaf_hash(bytes, len, leaf), 0);
	CHECK_MEM(leaf, a->target, LEDGER_HASH_LEN);
	REQUIRE((after = json_loadb(next, next_len, 0, NULL)) != NULL);
	hash_b64(a->target, prev_b64);
	CHECK_STR(json_string_value(json_object_get(after, "prev")), prev_b64);
	json_decref(after);
	free(next);

	REQUIRE((entry = json_loadb(bytes, len, 0, NULL)) != NULL);
	free(bytes);
	CHECK_STR(json_string_value(json_object_get(json_object_get(entry,
	    a->object), a->member)), answer);
	salt = json_string_value(json_object_get(entry, "salt"));
	a->known = entry;

	/* The attacker without the salt: no guess is confirmed. */
	found = guess(a, NULL, &tries);
	if (found != NULL) {
		fprintf(stderr, "  entry %llu: the leaf hash confirmed the guess "
		    "%s after %ld hashes\n", (unsigned long long)seq, found, tries);
		test_failures_++;
	}
	CHECK_INT(tries, (long)CANDIDATES * (SALT_TRIES + 2));
	free(found);

	/* The same attack given the salt finds the hidden value. */
	CHECK(salt != NULL);
	if (salt != NULL) {
		found = guess(a, salt, &tries);
		CHECK(found != NULL);
		if (found != NULL)
			CHECK_STR(found, answer);
		free(found);
	}
	json_decref(entry);
}

/*
 * Entry 0: a police share; 1: a supervisor's audit entry recording which
 * user the board looked at (analyst-737); 2: kmar's share of doc-612 to om;
 * 3: a police query, so that 2 has a next entry too.
 */
static void
make_log(struct daemon *d, struct http_client *hc)
{
	struct http_response r;
	char *ev;

	http_client_init(hc, d->port, d->token);
	ev = sample_event_of("share", "police", "analyst-1", "kmar", NULL, 1);
	CHECK_INT(post_event(hc, ev, NULL, NULL, NULL, NULL), 201);
	free(ev);
	REQUIRE(http_get(hc, "/v1/provenance/actors/police/analyst-737"
	    "?purpose=case%20review", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	ev = sample_event_of("share", "kmar", "officer-2", "om", NULL, 612);
	CHECK_INT(post_event(hc, ev, NULL, NULL, NULL, NULL), 201);
	free(ev);
	ev = sample_event_of("query", "police", "analyst-1", NULL, NULL, 3);
	CHECK_INT(post_event(hc, ev, NULL, NULL, NULL, NULL), 201);
	free(ev);
}

/* A partner who knows an org's user ids tries each on the audit entry. */
static void
body_audit_user(struct daemon *d)
{
	struct http_client hc;
	struct attack a = { .object = "details", .member = "user",
	    .format = "analyst-%d" };

	make_log(d, &hc);
	if (test_failures_ == 0)
		attack_entry(&hc, 1, 4, &a, "analyst-737");
	http_client_close(&hc);
}

/* Police tries the documents kmar might have given om. */
static void
body_share_document(struct daemon *d)
{
	struct http_client hc;
	struct attack a = { .object = "object", .member = "ref",
	    .format = "doc-%d" };

	make_log(d, &hc);
	if (test_failures_ == 0)
		attack_entry(&hc, 2, 4, &a, "doc-612");
	http_client_close(&hc);
}

static void
test_guess_audit_user(void)
{
	daemon_test(body_audit_user);
}

static void
test_guess_share_document(void)
{
	daemon_test(body_share_document);
}

int
main(void)
{
	RUN(test_guess_audit_user);
	RUN(test_guess_share_document);
	return TEST_SUMMARY();
}
