/*
 * What an operator meets running ledgerd, against the real daemon: an
 * address already in use, the throttle of failed authentications by
 * address and credential, rotating a principal's token, and the metrics:
 * every 403 counted, every metric in docs/operations.md; org typos.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* Tokens of the test principals; configs hold their SHA-256. */
#define TOK_POLICE "police-app-token"
#define TOK_OPERATOR "operator-token"
#define TOK_KMAR "kmar-reader-token"

/*
 * start_ops - a daemon from a config file: police-app (writer and reader
 * of police), operator and kmar-reader (reader of kmar), each with a token; extra (may be "") is put
 * into "limits", top (may be "") among the top-level members.
 */
static int
start_ops_top(struct daemon *d, const char *limits, const char *top)
{
	char config[4096], police[65], operator[65], kmar[65];

	sha256_hex(TOK_POLICE, police);
	sha256_hex(TOK_OPERATOR, operator);
	sha256_hex(TOK_KMAR, kmar);
	snprintf(config, sizeof(config),
	    "{\n  \"listen\": \"127.0.0.1:0\",\n"
	    "  \"origin\": \"ledger.example.org/ops-test\",\n"
	    "  \"limits\": {%s},\n%s"
	    "  \"principals\": [\n"
	    "    {\"id\": \"police-app\", \"org\": \"police\", "
	    "\"roles\": [\"writer\", \"reader\"], \"token_sha256\": \"%s\"},\n"
	    "    {\"id\": \"operator\", \"org\": \"board\", "
	    "\"roles\": [\"operator\"], \"token_sha256\": \"%s\"},\n"
	    "    {\"id\": \"kmar-reader\", \"org\": \"kmar\", "
	    "\"roles\": [\"reader\"], \"token_sha256\": \"%s\"}\n"
	    "  ]\n}\n", limits, top, police, operator, kmar);
	return daemon_start_config(d, config);
}

static int
start_ops(struct daemon *d, const char *limits)
{
	return start_ops_top(d, limits, "");
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

/* wait_status - polls GET target with token until it answers want (10 s). */
static int
wait_status(const struct daemon *d, const char *token, const char *target,
    int want)
{
	long long deadline = now_ms() + 10000;
	int st;

	while ((st = status(d, token, target)) != want && now_ms() < deadline)
		sleep_ms(20);
	return st;
}

/*
 * token_tool - `ledgerd token VERB --principal police-app [--keep-old]
 * --config CONFIG`; the new token, if one is printed, into token.
 * Returns the exit code.
 */
static int
token_tool(struct daemon *d, const char *verb, int keep_old,
    char token[65], char *out, size_t cap)
{
	const char *args[] = { "token", verb, "--principal", "police-app",
	    "--config", d->config, keep_old ? "--keep-old" : NULL, NULL };
	size_t i;
	int rc;

	rc = daemon_tool(d, args, out, cap);
	token[0] = '\0';
	/* stdout comes first: the token alone on its line. */
	for (i = 0; i < 64 && isxdigit((unsigned char)out[i]); i++)
		;
	if (i == 64 && out[64] == '\n')
		snprintf(token, 65, "%.64s", out);
	return rc;
}

/*
 * A token rotates without a moment where the application is locked out:
 * token new --keep-old and SIGHUP, both tokens work; token retire and
 * SIGHUP, only the new one does.
 */
static void
test_token_rotation(void)
{
	struct daemon d;
	char fresh[65], other[65], out[4096];

	/* Polling a token the daemon does not know yet must not throttle it. */
	REQUIRE(start_ops(&d, "\"auth_failures\": 100000") == 0);
	CHECK_INT(status(&d, TOK_POLICE, "/v1/events"), 200);

	CHECK_INT(token_tool(&d, "new", 1, fresh, out, sizeof(out)), 0);
	CHECK_INT(strlen(fresh), 64);
	CHECK(strstr(out, "beside the old one") != NULL);
	CHECK_INT(status(&d, fresh, "/v1/events"), 401);	/* not reloaded */
	kill(d.pid, SIGHUP);
	CHECK_INT(wait_status(&d, fresh, "/v1/events", 200), 200);
	CHECK_INT(status(&d, TOK_POLICE, "/v1/events"), 200);

	/* Two at most: a third is refused and the file stays as it was. */
	CHECK_INT(token_tool(&d, "new", 1, other, out, sizeof(out)), 1);
	CHECK(strstr(out, "holds two tokens already") != NULL);
	CHECK_INT(strlen(other), 0);

	CHECK_INT(token_tool(&d, "retire", 0, other, out, sizeof(out)), 0);
	kill(d.pid, SIGHUP);
	CHECK_INT(wait_status(&d, TOK_POLICE, "/v1/events", 401), 401);
	CHECK_INT(status(&d, fresh, "/v1/events"), 200);
	CHECK_INT(token_tool(&d, "retire", 0, other, out, sizeof(out)), 1);
	CHECK(strstr(out, "nothing to retire") != NULL);

	/* Without --keep-old the old token goes at the reload. */
	CHECK_INT(token_tool(&d, "new", 0, other, out, sizeof(out)), 0);
	CHECK_INT(strlen(other), 64);
	kill(d.pid, SIGHUP);
	CHECK_INT(wait_status(&d, other, "/v1/events", 200), 200);
	CHECK_INT(status(&d, fresh, "/v1/events"), 401);
	daemon_cleanup(&d);
}

/* metric - the value of metric name in GET /metrics (as the operator), or -1. */
static long long
metric(const struct daemon *d, const char *name)
{
	return metric_value(d->port, TOK_OPERATOR, name);
}

/* post - POST body to target with token; the status or -1. */
static int
post(const struct daemon *d, const char *token, const char *target,
    const char *body)
{
	struct http_client hc;
	struct http_response r;
	int st = -1;

	http_client_init(&hc, d->port, token);
	if (http_post_json(&hc, target, body, &r) == 0) {
		st = r.status;
		http_response_free(&r);
	}
	http_client_close(&hc);
	return st;
}

/*
 * Each kind of 403 adds one to ledgerd_auth_forbidden_total: a role the
 * principal lacks, a writer posting for another org (alone or in a
 * batch), a reader asking for an entry or a proof outside its org, a
 * reader asking for an entry bundle.
 */
static void
test_forbidden_counted(void)
{
	struct daemon d;
	char *police_event, *kmar_event, *batch;
	long long before;

	REQUIRE(start_ops(&d, "") == 0);
	police_event = sample_event_of("share", "police", "analyst-1", "om",
	    NULL, 1);
	kmar_event = sample_event_of("share", "kmar", "analyst-2", "ind",
	    NULL, 2);
	batch = xasprintf("[%s]", kmar_event);
	CHECK_INT(post(&d, TOK_POLICE, "/v1/events?wait=checkpoint",
	    police_event), 201);
	CHECK_INT(metric(&d, "ledgerd_auth_forbidden_total"), 0);

#define FORBIDDEN(call) do {						\
	before = metric(&d, "ledgerd_auth_forbidden_total");		\
	CHECK_INT((call), 403);						\
	CHECK_INT(metric(&d, "ledgerd_auth_forbidden_total"), before + 1); \
} while (0)
	FORBIDDEN(status(&d, TOK_POLICE, "/metrics"));
	FORBIDDEN(post(&d, TOK_POLICE, "/v1/events", kmar_event));
	FORBIDDEN(post(&d, TOK_POLICE, "/v1/events/batch", batch));
	FORBIDDEN(post(&d, TOK_KMAR, "/v1/events", kmar_event));
	FORBIDDEN(status(&d, TOK_KMAR, "/v1/events/0"));
	FORBIDDEN(status(&d, TOK_KMAR,
	    "/v1/proof/inclusion?index=0&tree_size=1"));
	FORBIDDEN(status(&d, TOK_KMAR, "/tile/entries/000.p/1"));
#undef FORBIDDEN
	/* What is allowed is not counted. */
	before = metric(&d, "ledgerd_auth_forbidden_total");
	CHECK_INT(status(&d, TOK_POLICE, "/v1/events/0"), 200);
	CHECK_INT(status(&d, TOK_KMAR, "/v1/events"), 200);
	CHECK_INT(metric(&d, "ledgerd_auth_forbidden_total"), before);
	free(police_event);
	free(kmar_event);
	free(batch);
	daemon_cleanup(&d);
}

/* One metric: from a row of the doc's table, or from the exposition. */
struct metric_row {
	char name[80];
	char type[16];
	char labels[80];	/* ",a,b," : each label between commas */
};

#define MAX_METRICS 64

/* cell - the text of a table cell without spaces and backticks. */
static void
cell(const char *from, const char *to, char *out, size_t cap)
{
	size_t n = 0;

	for (; from < to && n + 1 < cap; from++)
		if (*from != ' ' && *from != '`')
			out[n++] = *from;
	out[n] = '\0';
}

/*
 * doc_metrics - the rows of the metrics table in docs/operations.md (run
 * from the top of the tree, as make test does).  Returns how many, or -1.
 */
static int
doc_metrics(struct metric_row *rows, int max)
{
	char line[1024], labels[64];
	const char *bar[5];
	FILE *f = fopen("docs/operations.md", "r");
	int n = 0, in_section = 0, i;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && n < max) {
		if (strncmp(line, "## ", 3) == 0)
			in_section = strncmp(line, "## Metrics", 10) == 0;
		if (!in_section || strncmp(line, "| `ledgerd_", 11) != 0)
			continue;
		/* | name | type | labels | meaning | */
		bar[0] = line;
		for (i = 1; i < 5; i++)
			if (bar[i - 1] == NULL ||
			    (bar[i] = strchr(bar[i - 1] + 1, '|')) == NULL)
				break;
		if (i < 5)
			continue;
		cell(bar[0] + 1, bar[1], rows[n].name, sizeof(rows[n].name));
		cell(bar[1] + 1, bar[2], rows[n].type, sizeof(rows[n].type));
		cell(bar[2] + 1, bar[3], labels, sizeof(labels));
		snprintf(rows[n].labels, sizeof(rows[n].labels), ",%s,", labels);
		n++;
	}
	fclose(f);
	return n;
}

static struct metric_row *
find_row(struct metric_row *rows, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/*
 * exposed_metrics - the metrics of GET /metrics: a row per "# TYPE" line,
 * with the label names its samples carry.  Returns how many, or -1.
 */
static int
exposed_metrics(const struct daemon *d, struct metric_row *rows, int max)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	struct http_client hc;
	struct http_response r;
	char name[80], label[40], mark[48];
	const char *line, *next, *p, *eq, *end;
	struct metric_row *row;
	size_t len, i;
	int n = 0;

	http_client_init(&hc, d->port, TOK_OPERATOR);
	if (http_get(&hc, "/metrics", &r) != 0 || r.status != 200) {
		http_client_close(&hc);
		return -1;
	}
	for (line = r.body; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		next = next != NULL ? next + 1 : line + strlen(line);
		if (strncmp(line, "# TYPE ", 7) == 0 && n < max) {
			sscanf(line + 7, "%79s %15s", rows[n].name, rows[n].type);
			snprintf(rows[n].labels, sizeof(rows[n].labels), ",");
			n++;
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		len = strcspn(line, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)len, line);
		if ((row = find_row(rows, n, name)) == NULL) {
			/* A histogram's series carry a suffix. */
			for (i = 0; i < 3 && row == NULL; i++) {
				size_t sl = strlen(suffixes[i]);

				if (len > sl && strcmp(name + len - sl,
				    suffixes[i]) == 0) {
					name[len - sl] = '\0';
					row = find_row(rows, n, name);
				}
			}
		}
		CHECK(row != NULL);	/* every sample under a TYPE line */
		if (row == NULL || line[len] != '{')
			continue;
		/* {a="x",b="y"}: the names, once each (no quote in values). */
		for (p = line + len + 1; (eq = strchr(p, '=')) != NULL &&
		    eq < next && eq[1] == '"'; p = end + 2) {
			snprintf(label, sizeof(label), "%.*s", (int)(eq - p), p);
			snprintf(mark, sizeof(mark), ",%s,", label);
			if (strstr(row->labels, mark) == NULL)
				snprintf(row->labels + strlen(row->labels),
				    sizeof(row->labels) - strlen(row->labels),
				    "%s,", label);
			if ((end = strchr(eq + 2, '"')) == NULL || end[1] != ',')
				break;
		}
	}
	http_response_free(&r);
	http_client_close(&hc);
	return n;
}

/*
 * docs/operations.md's table of metrics and GET /metrics name the same
 * metrics, with the same types and labels.
 */
static void
test_metrics_documented(void)
{
	struct metric_row doc[MAX_METRICS], live[MAX_METRICS];
	const struct metric_row *row;
	struct ledger_signer *witness;
	char policy[64], top[256], *vkey;
	uint8_t seed[32] = { 7 };
	struct daemon d;
	int n_doc, n_live, i, fd;
	FILE *f;

	n_doc = doc_metrics(doc, MAX_METRICS);
	REQUIRE(n_doc > 0);
	/*
	 * A witness policy, so that the per-witness series are there (with
	 * no witness behind the URL: its pushes just fail).
	 */
	snprintf(policy, sizeof(policy), "/tmp/ledgerd-ops-policy.XXXXXX");
	REQUIRE((fd = mkstemp(policy)) >= 0 && (f = fdopen(fd, "w")) != NULL);
	REQUIRE(ledger_signer_from_seed("w.example/ops", LEDGER_SIGTYPE_COSIGNATURE,
	    seed, &witness) == 0);
	vkey = ledger_verifier_format(ledger_signer_verifier(witness));
	fprintf(f, "witness ops %s http://127.0.0.1:1\nquorum ops\n", vkey);
	fclose(f);
	free(vkey);
	ledger_signer_free(witness);
	snprintf(top, sizeof(top), "  \"witnesses\": {\"policy\": \"%s\"},\n",
	    policy);
	i = start_ops_top(&d, "", top);
	unlink(policy);
	REQUIRE(i == 0);
	n_live = exposed_metrics(&d, live, MAX_METRICS);
	CHECK(n_live > 0);
	for (i = 0; i < n_live; i++) {
		if ((row = find_row(doc, n_doc, live[i].name)) == NULL) {
			fprintf(stderr, "  %s is exposed but not in "
			    "docs/operations.md\n", live[i].name);
			CHECK(row != NULL);
			continue;
		}
		CHECK_STR(row->type, live[i].type);
		/* ",," in the doc: no labels; "," exposed: none seen. */
		CHECK_STR(strcmp(row->labels, ",,") == 0 ? "," : row->labels,
		    live[i].labels);
	}
	for (i = 0; i < n_doc; i++) {
		if ((row = find_row(live, n_live, doc[i].name)) == NULL)
			fprintf(stderr, "  %s is in docs/operations.md but not "
			    "exposed\n", doc[i].name);
		CHECK(row != NULL);
	}
	CHECK_INT(n_doc, n_live);
	daemon_cleanup(&d);
}

/*
 * The README's promise: a misspelt org is refused (400 unknown_org) with a
 * configuration file, and taken in development mode.
 */
static void
test_org_typo(void)
{
	struct daemon d;
	struct http_client hc;
	struct http_response r;
	char *event = sample_event_of("share", "police", "analyst-1", "kmr",
	    NULL, 3);

	REQUIRE(start_ops(&d, "") == 0);
	http_client_init(&hc, d.port, TOK_POLICE);
	if (http_post_json(&hc, "/v1/events", event, &r) == 0) {
		CHECK_ERROR(&r, 400, "unknown_org", "recipients[0]");
		http_response_free(&r);
	} else
		CHECK(0);	/* no answer */
	http_client_close(&hc);
	daemon_cleanup(&d);

	REQUIRE(daemon_start(&d) == 0);
	CHECK_INT(post(&d, d.token, "/v1/events", event), 201);
	daemon_cleanup(&d);
	free(event);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(run_listen_in_use);
	RUN(test_throttle_per_credential);
	RUN(test_throttle_guessing);
	RUN(test_token_rotation);
	RUN(test_forbidden_counted);
	RUN(test_metrics_documented);
	RUN(test_org_typo);
	return TEST_SUMMARY();
}
