/*
 * The failed-authentication throttle (ledgerd/auth.c) against a naive
 * reference: unbounded tables with the same windows and counts.  While no
 * set of the real tables overflows, both must give the same wait and the
 * same counts after every step of long random runs; when one overflows,
 * the real table forgets its oldest window and nothing else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ledgerd/auth.h"
#include "testlib.h"

#define MAX_FAILURES 3
#define WINDOW_S 10
#define SECOND_US 1000000LL

/* The reference: one record per address and per (address, credential). */
struct ref_window {
	int used;
	int64_t since_us;
	size_t failures;
};

#define REF_ADDRS 2
#define REF_CREDS 2

static const char *const ref_addr[REF_ADDRS] = { "192.0.2.1", "2001:db8::7" };
static const char *const ref_cred[REF_CREDS] = { "token-a", "token-b" };

struct ref {
	struct ref_window addr[REF_ADDRS];
	struct ref_window pair[REF_ADDRS][REF_CREDS];
};

static int
over(const struct ref_window *w, int64_t now_us)
{
	return now_us - w->since_us >= WINDOW_S * SECOND_US;
}

static int
left(const struct ref_window *w, int64_t now_us)
{
	int64_t us = w->since_us + WINDOW_S * SECOND_US - now_us;

	return (int)((us + SECOND_US - 1) / SECOND_US);
}

static int
ref_wait(const struct ref *r, int a, int c, int64_t now_us)
{
	const struct ref_window *aw = &r->addr[a], *pw;
	int wait = 0;

	if (aw->used && aw->failures >= MAX_FAILURES && !over(aw, now_us))
		wait = left(aw, now_us);
	if (c >= 0) {
		pw = &r->pair[a][c];
		if (pw->used && pw->failures >= MAX_FAILURES &&
		    !over(pw, now_us) && left(pw, now_us) > wait)
			wait = left(pw, now_us);
	}
	return wait;
}

/* A window that has run out starts again at the next failure. */
static void
ref_touch(struct ref_window *w, int64_t now_us)
{
	if (!w->used || over(w, now_us))
		w->failures = 0;
	w->used = 1;
	if (w->failures == 0)
		w->since_us = now_us;
}

static size_t
ref_fail(struct ref *r, int a, int c, int64_t now_us, size_t *credentials)
{
	struct ref_window *pw = &r->pair[a][c], *aw = &r->addr[a];

	ref_touch(pw, now_us);
	ref_touch(aw, now_us);
	if (pw->failures == 0)
		aw->failures++;	/* a credential counts once per its window */
	*credentials = aw->failures;
	return ++pw->failures;
}

static int64_t
step_us(void)
{
	switch (rand() % 4) {
	case 0:
		return 0;
	case 1:
		return rand() % SECOND_US;
	case 2:
		return (rand() % 4) * SECOND_US;
	default:
		/* Land near a window's end, on either side of it. */
		return WINDOW_S * SECOND_US + (rand() % 3 - 1);
	}
}

static void
test_random_runs_match_reference(void)
{
	struct auth_throttle *t;
	struct ref r;
	int64_t now_us;
	size_t got_creds, want_creds, got, want;
	int run, i, a, c;

	for (run = 0; run < 300 && test_failures_ == 0; run++) {
		srand((unsigned)run + 1);
		t = auth_throttle_new();
		memset(&r, 0, sizeof(r));
		now_us = 1700000000LL * SECOND_US;
		for (i = 0; i < 400 && test_failures_ == 0; i++) {
			now_us += step_us();
			a = rand() % REF_ADDRS;
			c = rand() % (REF_CREDS + 1) - 1;	/* -1: none */
			CHECK_INT(auth_throttle_wait(t, ref_addr[a],
			    c < 0 ? NULL : ref_cred[c],
			    c < 0 ? 0 : strlen(ref_cred[c]), MAX_FAILURES,
			    WINDOW_S, now_us), ref_wait(&r, a, c, now_us));
			if (c < 0 || rand() % 3 == 0)
				continue;
			got = auth_throttle_fail(t, ref_addr[a], ref_cred[c],
			    strlen(ref_cred[c]), WINDOW_S, now_us, &got_creds);
			want = ref_fail(&r, a, c, now_us, &want_creds);
			CHECK_INT(got, want);
			CHECK_INT(got_creds, want_creds);
		}
		if (test_failures_)
			fprintf(stderr, "  run %d, step %d\n", run, i);
		auth_throttle_free(t);
	}
}

/* The same credential text from another address is another pair. */
static void
test_pairs_are_per_address(void)
{
	struct auth_throttle *t = auth_throttle_new();
	int64_t now_us = 1000 * SECOND_US;
	size_t creds, i;

	for (i = 0; i < MAX_FAILURES; i++)
		auth_throttle_fail(t, "192.0.2.1", "x", 1, WINDOW_S, now_us,
		    &creds);
	CHECK_INT(creds, 1);
	CHECK_INT(auth_throttle_wait(t, "192.0.2.1", "x", 1, MAX_FAILURES,
	    WINDOW_S, now_us), WINDOW_S);
	CHECK_INT(auth_throttle_wait(t, "192.0.2.2", "x", 1, MAX_FAILURES,
	    WINDOW_S, now_us), 0);
	/* Another credential from the locked pair's address still goes on. */
	CHECK_INT(auth_throttle_wait(t, "192.0.2.1", "y", 1, MAX_FAILURES,
	    WINDOW_S, now_us), 0);
	CHECK_INT(auth_throttle_wait(t, "192.0.2.1", "x", 1, MAX_FAILURES,
	    WINDOW_S, now_us + WINDOW_S * SECOND_US), 0);
	auth_throttle_free(t);
}

/* FNV-1a as auth.c spreads addresses over its sets. */
static uint32_t
address_set_of(const char *addr)
{
	uint32_t h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (uint8_t)*addr) * 16777619u;
	return h % AUTH_THROTTLE_SETS;
}

/*
 * One address more than a set holds, all in one set: the oldest window is
 * forgotten (its address may try again), the others are kept, and nothing
 * grows.
 */
static void
test_full_set_forgets_oldest(void)
{
	char addrs[AUTH_THROTTLE_WAYS + 1][32];
	struct auth_throttle *t = auth_throttle_new();
	int64_t now_us = 1000 * SECOND_US;
	uint32_t set = address_set_of("198.51.100.0");
	size_t n = 0, creds, i;
	char cred[16];
	int k;

	snprintf(addrs[n++], sizeof(addrs[0]), "198.51.100.0");
	for (k = 1; n < AUTH_THROTTLE_WAYS + 1 && k < 1 << 24; k++) {
		snprintf(addrs[n], sizeof(addrs[0]), "10.%d.%d.%d", k >> 16,
		    (k >> 8) & 0xff, k & 0xff);
		if (address_set_of(addrs[n]) == set)
			n++;
	}
	REQUIRE(n == AUTH_THROTTLE_WAYS + 1);

	/* Each address guesses MAX_FAILURES distinct credentials. */
	for (n = 0; n < AUTH_THROTTLE_WAYS + 1; n++) {
		for (i = 0; i < MAX_FAILURES; i++) {
			snprintf(cred, sizeof(cred), "guess-%zu", i);
			auth_throttle_fail(t, addrs[n], cred, strlen(cred),
			    WINDOW_S, now_us, &creds);
		}
		CHECK_INT(creds, MAX_FAILURES);
		now_us += SECOND_US;
	}
	/* The first address's window was the oldest: it was evicted. */
	CHECK_INT(auth_throttle_wait(t, addrs[0], NULL, 0, MAX_FAILURES,
	    WINDOW_S, now_us), 0);
	for (n = 1; n < AUTH_THROTTLE_WAYS + 1; n++)
		CHECK(auth_throttle_wait(t, addrs[n], NULL, 0, MAX_FAILURES,
		    WINDOW_S, now_us) > 0);
	auth_throttle_free(t);
}

int
main(void)
{
	RUN(test_random_runs_match_reference);
	RUN(test_pairs_are_per_address);
	RUN(test_full_set_forgets_oldest);
	return TEST_SUMMARY();
}
