/*
 * Access rules beyond a route's roles (spec §9.4): reader scoping of
 * entries, writers' own entries, and a bounded table that slows down addresses guessing
 * credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ledger/xmalloc.h"

#include "auth.h"
#include "config.h"
#include "log.h"

int
auth_sees_all(const struct principal *p)
{
	return p->any_org || (p->roles & ROLE_SUPERVISOR) != 0;
}

int
auth_org_may_read(const char *org, const json_t *entry)
{
	const json_t *recipients, *v;
	const char *actor_org;
	size_t i;

	actor_org = json_string_value(json_object_get(json_object_get(entry,
	    "actor"), "org"));
	if (actor_org != NULL && strcmp(actor_org, org) == 0)
		return 1;
	recipients = json_object_get(entry, "recipients");
	json_array_foreach(recipients, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), org) == 0)
			return 1;
	return 0;
}

int
auth_entry_visible(const struct principal *p, const json_t *entry)
{
	const char *submitter;

	if (auth_sees_all(p))
		return 1;
	if ((p->roles & ROLE_READER) != 0 && auth_org_may_read(p->org, entry))
		return 1;
	/*
	 * A writer sees what it submitted, so that an application without
	 * the reader role can prove its own entries included; not its org's
	 * other entries, which another application may have posted.
	 */
	submitter = json_string_value(json_object_get(entry, "submitter"));
	return (p->roles & ROLE_WRITER) != 0 && submitter != NULL &&
	    strcmp(submitter, p->id) == 0;
}

/* Bytes of the keyed hash that stands for an (address, credential) pair. */
#define PAIR_ID_LEN 16

struct address_slot {
	char addr[INET6_ADDRSTRLEN];	/* "" when free */
	int64_t since_us;		/* first failure of the window */
	size_t failures;		/* distinct credentials that failed */
};

struct pair_slot {
	uint8_t id[PAIR_ID_LEN];	/* keyed hash of address and credential */
	int used;
	int64_t since_us;
	size_t failures;		/* failures of this credential */
};

struct auth_throttle {
	EVP_MAC_CTX *mac;		/* HMAC-SHA-256 keyed for pair ids */
	int failed;			/* any failure recorded yet */
	int64_t last_failure_us;	/* the latest failure's time */
	struct address_slot addresses[AUTH_THROTTLE_SETS][AUTH_THROTTLE_WAYS];
	struct pair_slot pairs[AUTH_THROTTLE_SETS][AUTH_THROTTLE_WAYS];
};

struct auth_throttle *
auth_throttle_new(void)
{
	struct auth_throttle *t = xcalloc(1, sizeof(struct auth_throttle));
	OSSL_PARAM params[2];
	uint8_t key[32];
	EVP_MAC *hmac;

	/* A key of its own per table: pair ids mean nothing outside it. */
	if (RAND_bytes(key, sizeof(key)) != 1)
		fatalx("auth: no random bytes for the throttle's key");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (t->mac = EVP_MAC_CTX_new(hmac)) == NULL ||
	    EVP_MAC_init(t->mac, key, sizeof(key), params) != 1)
		fatalx("auth: cannot set up HMAC-SHA-256");
	EVP_MAC_free(hmac);
	OPENSSL_cleanse(key, sizeof(key));
	return t;
}

void
auth_throttle_free(struct auth_throttle *t)
{
	if (t == NULL)
		return;
	EVP_MAC_CTX_free(t->mac);
	free(t);
}

/* FNV-1a: addresses are not secret, and a set only bounds the search. */
static struct address_slot *
address_set(struct auth_throttle *t, const char *addr)
{
	uint32_t h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (uint8_t)*addr) * 16777619u;
	return t->addresses[h % AUTH_THROTTLE_SETS];
}

/*
 * The pair's id: HMAC-SHA-256 under the table's key of the address, a NUL
 * and the credential, cut to PAIR_ID_LEN bytes.  A guessable credential (a
 * password pasted into the token field) is not recoverable from the table,
 * and no client can aim its pairs at one set.
 */
static void
pair_id(const struct auth_throttle *t, const char *addr, const void *cred,
    size_t cred_len, uint8_t id[PAIR_ID_LEN])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	EVP_MAC_CTX *ctx;
	size_t len;

	if ((ctx = EVP_MAC_CTX_dup(t->mac)) == NULL ||
	    EVP_MAC_update(ctx, (const uint8_t *)addr, strlen(addr) + 1) != 1 ||
	    EVP_MAC_update(ctx, cred, cred_len) != 1 ||
	    EVP_MAC_final(ctx, mac, &len, sizeof(mac)) != 1 || len < PAIR_ID_LEN)
		fatalx("auth: HMAC-SHA-256 failed");
	EVP_MAC_CTX_free(ctx);
	memcpy(id, mac, PAIR_ID_LEN);
}

static struct pair_slot *
pair_set(struct auth_throttle *t, const uint8_t id[PAIR_ID_LEN])
{
	uint32_t h;

	memcpy(&h, id, sizeof(h));
	return t->pairs[h % AUTH_THROTTLE_SETS];
}

static int
window_over(int64_t since_us, int window_s, int64_t now_us)
{
	return now_us - since_us >= (int64_t)window_s * 1000000;
}

/* Seconds until since_us's window ends, at least 1. */
static int
seconds_left(int64_t since_us, int window_s, int64_t now_us)
{
	int64_t left_us = since_us + (int64_t)window_s * 1000000 - now_us;

	return (int)((left_us + 999999) / 1000000);
}

static struct address_slot *
address_find(struct auth_throttle *t, const char *addr)
{
	struct address_slot *set = address_set(t, addr);
	size_t i;

	for (i = 0; i < AUTH_THROTTLE_WAYS; i++)
		if (strcmp(set[i].addr, addr) == 0)
			return &set[i];
	return NULL;
}

static struct pair_slot *
pair_find(struct auth_throttle *t, const uint8_t id[PAIR_ID_LEN])
{
	struct pair_slot *set = pair_set(t, id);
	size_t i;

	for (i = 0; i < AUTH_THROTTLE_WAYS; i++)
		if (set[i].used && memcmp(set[i].id, id, PAIR_ID_LEN) == 0)
			return &set[i];
	return NULL;
}

int
auth_throttle_wait(struct auth_throttle *t, const char *addr,
    const void *cred, size_t cred_len, size_t max, int window_s,
    int64_t now_us)
{
	const struct address_slot *a;
	const struct pair_slot *p = NULL;
	uint8_t id[PAIR_ID_LEN];
	int wait = 0, w;

	/*
	 * Every window starts at a failure: with none in the last window no
	 * slot can hold an open one, and the keyed hash of the pair (the
	 * costly part of a request's check) is not needed.
	 */
	if (!t->failed || window_over(t->last_failure_us, window_s, now_us))
		return 0;
	a = address_find(t, addr);
	if (a != NULL && a->failures >= max &&
	    !window_over(a->since_us, window_s, now_us))
		wait = seconds_left(a->since_us, window_s, now_us);
	if (cred != NULL) {
		pair_id(t, addr, cred, cred_len, id);
		p = pair_find(t, id);
	}
	if (p != NULL && p->failures >= max &&
	    !window_over(p->since_us, window_s, now_us) &&
	    (w = seconds_left(p->since_us, window_s, now_us)) > wait)
		wait = w;
	return wait;
}

size_t
auth_throttle_fail(struct auth_throttle *t, const char *addr,
    const void *cred, size_t cred_len, int window_s, int64_t now_us,
    size_t *credentials)
{
	struct address_slot *a, *aset;
	struct pair_slot *p, *pset;
	uint8_t id[PAIR_ID_LEN];
	size_t i;

	/* The latest, should the clock step back. */
	if (!t->failed || now_us > t->last_failure_us)
		t->last_failure_us = now_us;
	t->failed = 1;
	pair_id(t, addr, cred, cred_len, id);
	if ((p = pair_find(t, id)) == NULL) {
		/* A free or expired slot, else the oldest window. */
		pset = pair_set(t, id);
		p = &pset[0];
		for (i = 0; i < AUTH_THROTTLE_WAYS; i++) {
			if (!pset[i].used || window_over(pset[i].since_us,
			    window_s, now_us)) {
				p = &pset[i];
				break;
			}
			if (pset[i].since_us < p->since_us)
				p = &pset[i];
		}
		memcpy(p->id, id, PAIR_ID_LEN);
		p->used = 1;
		p->failures = 0;
	} else if (window_over(p->since_us, window_s, now_us))
		p->failures = 0;
	if (p->failures == 0)
		p->since_us = now_us;

	if ((a = address_find(t, addr)) == NULL) {
		aset = address_set(t, addr);
		a = &aset[0];
		for (i = 0; i < AUTH_THROTTLE_WAYS; i++) {
			if (aset[i].addr[0] == '\0' || window_over(
			    aset[i].since_us, window_s, now_us)) {
				a = &aset[i];
				break;
			}
			if (aset[i].since_us < a->since_us)
				a = &aset[i];
		}
		snprintf(a->addr, sizeof(a->addr), "%s", addr);
		a->failures = 0;
	} else if (window_over(a->since_us, window_s, now_us))
		a->failures = 0;
	if (a->failures == 0)
		a->since_us = now_us;
	/*
	 * The address counts credentials, not attempts: a credential is
	 * counted once per window of its own, so retries of one bad token do
	 * not reach the address's bound, and a run of guesses does.
	 */
	if (p->failures == 0)
		a->failures++;
	if (credentials != NULL)
		*credentials = a->failures;
	return ++p->failures;
}
