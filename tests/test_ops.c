/*
 * What an operator meets running ledgerd, against the real daemon: an
 * address already in use, and the throttle of failed authentications by
 * address and credential.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ledger/hash.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* Tokens of the test principals; configs hold their SHA-256. */
#define TOK_POLICE "police-app-token"
#define TOK_OPERATOR "operator-token"

/* sha256_hex - the config form of a token: SHA-256, 64 lowercase hex. */
static void
sha256_hex(const char *token, char out[65])
{
	uint8_t h[LEDGER_HASH_LEN];

	ledger_sha256(token, strlen(token), h);
	snprintf(out, 65, "%s", hash_hex(h));
}

/*
 * start_ops - a daemon from a config file: police-app (writer and reader
 * of police) and operator, each with a token; extra (may be "") is put
 * into "limits".
 */
static int
start_ops(struct daemon *d, const char *limits)
{
	char config[4096], police[65], operator[65];

	sha256_hex(TOK_POLICE, police);
	sha256_hex(TOK_OPERATOR, operator);
	snprintf(config, sizeof(config),
	    "{\n  \"listen\": \"127.0.0.1:0\",\n"
	    "  \"origin\": \"ledger.example.org/ops-test\",\n"
	    "  \"limits\": {%s},\n"
	    "  \"principals\": [\n"
	    "    {\"id\": \"police-app\", \"org\": \"police\", "
	    "\"roles\": [\"writer\", \"reader\"], \"token_sha256\": \"%s\"},\n"
	    "    {\"id\": \"operator\", \"org\": \"board\", "
	    "\"roles\": [\"operator\"], \"token_sha256\": \"%s\"}\n"
	    "  ]\n}\n", limits, police, operator);
	return daemon_start_config(d, config);
}

/* status - GET target with token (NULL: none); the status or -1. */
static int
status(const struct daemon *d, const char *token, const char *target)
{
	struct http_client hc;
	struct http_response r;
	int st = -1;

	http_client_init(&hc, d->port, token != NULL ? token : "");
	if ((token != NULL ? http_get(&hc, target, &r) :
	    http_get_public(&hc, target, &r)) == 0) {
		st = r.status;
		http_response_free(&r);
	}
	http_client_close(&hc);
	return st;
}

/*
 * A second ledgerd on a port in use says so, naming the address, and exits
 * 1 before it creates anything in its own data directory.
 */
static void
test_listen_in_use(struct daemon *d)
{
	char other[700], listen[64], out[8192];
	const char *args[] = { "serve", "--data", other, "--listen", listen,
	    NULL };

	snprintf(other, sizeof(other), "%s/other", d->root);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", d->port);
	CHECK_INT(daemon_tool(d, args, out, sizeof(out)), 1);
	CHECK(strstr(out, listen) != NULL);
	CHECK(strstr(out, "already in use") != NULL);
	/* Nothing before it: no key, no database, not even the directory. */
	CHECK(strstr(out, "created") == NULL);
	CHECK(strstr(out, "writer") == NULL);
	CHECK(access(other, F_OK) != 0);
	/* The first daemon serves on. */
	CHECK(daemon_running(d));
}

static void
run_listen_in_use(void)
{
	daemon_test(test_listen_in_use);
}

/*
 * One application behind an address retrying a bad token is throttled for
 * that token only: another application's valid token from the same
 * address goes on, and the bad token may try again once its window ends.
 */
static void
test_throttle_per_credential(void)
{
	struct daemon d;
	int i;

	REQUIRE(start_ops(&d, "\"auth_failures\": 3, "
	    "\"auth_window_seconds\": 2") == 0);
	for (i = 0; i < 3; i++)
		CHECK_INT(status(&d, "stale-token-of-app-a", "/v1/events"), 401);
	for (i = 0; i < 5; i++)
		CHECK_INT(status(&d, "stale-token-of-app-a", "/v1/events"), 429);
	/* The same address, other credentials: not throttled. */
	CHECK_INT(status(&d, TOK_POLICE, "/v1/events"), 200);
	CHECK_INT(status(&d, TOK_OPERATOR, "/metrics"), 200);
	CHECK_INT(status(&d, "stale-token-of-app-b", "/v1/events"), 401);
	CHECK_INT(status(&d, TOK_POLICE, "/v1/events"), 200);
	/* The window ends: app A's token is answered 401 again, not 429. */
	sleep_ms(2100);
	CHECK_INT(status(&d, "stale-token-of-app-a", "/v1/events"), 401);
	daemon_cleanup(&d);
}

/*
 * Someone trying many credentials from one address is throttled for every
 * credential, valid ones included, once auth_failures distinct ones have
 * failed; public resources stay open.
 */
static void
test_throttle_guessing(void)
{
	struct daemon d;
	char guess[32];
	int i;

	REQUIRE(start_ops(&d, "\"auth_failures\": 4") == 0);
	for (i = 0; i < 4; i++) {
		snprintf(guess, sizeof(guess), "guess-%d", i);
		CHECK_INT(status(&d, guess, "/v1/events"), 401);
	}
	CHECK_INT(status(&d, "guess-4", "/v1/events"), 429);
	CHECK_INT(status(&d, TOK_POLICE, "/v1/events"), 429);
	CHECK_INT(status(&d, NULL, "/checkpoint"), 200);
	daemon_cleanup(&d);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(run_listen_in_use);
	RUN(test_throttle_per_credential);
	RUN(test_throttle_guessing);
	return TEST_SUMMARY();
}
