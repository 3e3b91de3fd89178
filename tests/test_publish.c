/*
 * The log's side of witnessing, end to end (spec §5.4, §7.4, §10.6): a
 * real ledgerd with a witness policy and real tlog-witness processes on
 * loopback (tests/witnessrun.c): `ledgerd witness` as w1 and the Python
 * witness, an implementation apart, as w2.  Published checkpoints carry the
 * witnesses' cosignatures, ?wait=witnessed answers with a checkpoint whose
 * cosignatures satisfy the policy, a forked log is refused and raises the
 * alarm, a witness that is away holds nothing up and is caught up when it
 * returns, and cosignatures survive a restart.  Nothing waits on a clock:
 * every wait polls with a generous bound.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"
#include "witnessrun.h"

#define TOKEN "witnessed-app-token"
#define OPERATOR "witnessed-operator-token"
#define ORIGIN "ledger.example.org/witnessed"
#define INTERVAL_MS 50		/* the log's checkpoint interval here */
#define MAX_WITNESSES 3

/* One witnessed log: the daemon, its witnesses, the policy naming them. */
struct setup {
	struct daemon d;
	struct witness_proc w[MAX_WITNESSES];
	int n_w;
	char *policy_text;		/* with the log's line: for verifiers */
	struct ledger_policy *policy;
	struct http_client hc;
};

/* The log's configuration; witnesses (may be "") goes in as it is. */
static char *
config_text(const char *witnesses)
{
	char app[65], op[65];

	sha256_hex(TOKEN, app);
	sha256_hex(OPERATOR, op);
	return xasprintf("{\n  \"listen\": \"127.0.0.1:0\",\n"
	    "  \"origin\": \"" ORIGIN "\",\n"
	    "  \"principals\": [\n"
	    "    {\"id\": \"app\", \"org\": \"police\", \"roles\": [\"writer\", "
	    "\"reader\", \"supervisor\"], \"token_sha256\": \"%s\"},\n"
	    "    {\"id\": \"operator\", \"org\": \"board\", \"roles\": "
	    "[\"operator\"], \"token_sha256\": \"%s\"}\n  ]%s%s\n}\n",
	    app, op, witnesses[0] ? ",\n  " : "", witnesses);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int wrote;

	if (f == NULL)
		return -1;
	wrote = fputs(text, f) != EOF;
	/* fclose always, even after a failed write. */
	if (fclose(f) != 0 || !wrote)
		return -1;
	return 0;
}

/*
 * Starts a log with n witnesses of the implementations impl and the quorum
 * line quorum (e.g. "group all 2 w1 w2\nquorum all").  The
 * log starts once without witnesses to make its key, which the witnesses
 * must know; then with the policy.  down: the last witness is stopped
 * before the log comes back (its URL leads nowhere).
 */
static int
setup_start(struct setup *S, int n, const enum witness_impl *impl,
    const char *quorum, int wait_seconds, int down)
{
	char *config, *witnesses, path[700], name[16];
	char line[1200];
	size_t len;
	int i;

	memset(S, 0, sizeof(*S));
	config = config_text("");
	if (daemon_start_config(&S->d, config) != 0 || daemon_stop(&S->d) != 0) {
		free(config);
		return -1;
	}
	free(config);
	S->policy_text = xasprintf("# a verifier's policy for " ORIGIN "\n"
	    "log %s\n", S->d.vkey);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "w%d", i + 1);
		if (witness_start(&S->w[i], S->d.root, name, impl[i],
		    S->d.vkey) != 0)
			return -1;
		S->n_w++;
		snprintf(line, sizeof(line), "witness %s %s %s\n", name,
		    S->w[i].vkey, S->w[i].url);
		len = strlen(S->policy_text);
		S->policy_text = xrealloc(S->policy_text, len + strlen(line) + 1);
		memcpy(S->policy_text + len, line, strlen(line) + 1);
	}
	len = strlen(S->policy_text);
	S->policy_text = xrealloc(S->policy_text, len + strlen(quorum) + 2);
	snprintf(S->policy_text + len, strlen(quorum) + 2, "%s\n", quorum);
	if (ledger_policy_parse(S->policy_text, strlen(S->policy_text),
	    &S->policy, line, sizeof(line)) != 0) {
		fprintf(stderr, "  policy: %s\n%s", line, S->policy_text);
		return -1;
	}
	if (down && witness_stop(&S->w[n - 1]) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/witnesses.policy", S->d.root);
	if (write_file(path, S->policy_text) != 0)
		return -1;
	witnesses = xasprintf("\"witnesses\": {\"policy\": \"witnesses.policy\", "
	    "\"timeout_seconds\": 5, \"wait_seconds\": %d}", wait_seconds);
	config = config_text(witnesses);
	free(witnesses);
	if (write_file(S->d.config, config) != 0) {
		free(config);
		return -1;
	}
	free(config);
	S->d.interval_ms = INTERVAL_MS;
	if (daemon_restart(&S->d) != 0)
		return -1;
	http_client_init(&S->hc, S->d.port, TOKEN);
	return 0;
}

static void
setup_cleanup(struct setup *S)
{
	int i;

	http_client_close(&S->hc);
	for (i = 0; i < S->n_w; i++)
		witness_cleanup(&S->w[i]);
	ledger_policy_free(S->policy);
	free(S->policy_text);
	daemon_cleanup(&S->d);
}

/* The log's published checkpoint, as GET /checkpoint serves it (new). */
static char *
get_published(struct http_client *hc)
{
	struct http_response r;
	char *note = NULL;

	if (http_get_public(hc, "/checkpoint", &r) != 0)
		return NULL;
	if (r.status == 200) {
		note = r.body;
		r.body = NULL;
	}
	http_response_free(&r);
	return note;
}

/*
 * Polls GET /checkpoint until it is of at least min_size and carries good
 * cosignatures of at least n_cosigned witnesses of the policy.  Returns
 * the note (free() it) with res filled, or NULL after the bound.
 */
static char *
wait_cosigned(struct setup *S, uint64_t min_size, size_t n_cosigned,
    struct ledger_policy_result *res)
{
	long long deadline = now_ms() + PUBLISH_WAIT_MS;
	struct ledger_policy_result got;
	char *note;

	for (;;) {
		if ((note = get_published(&S->hc)) != NULL) {
			memset(&got, 0, sizeof(got));
			ledger_policy_verify(S->policy, note, strlen(note), &got);
			if (got.log_verified && got.checkpoint.tree_size >= min_size &&
			    got.n_cosigned >= n_cosigned) {
				if (res != NULL)
					*res = got;
				return note;
			}
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "  no checkpoint of size >= %" PRIu64 " with "
			    "%zu cosignatures within %d ms; the last:\n%s\n",
			    min_size, n_cosigned, PUBLISH_WAIT_MS,
			    note ? note : "(none)");
			free(note);
			return NULL;
		}
		free(note);
		sleep_ms(10);
	}
}

/* A metric of the log (labels included in name); -1 when absent. */
static long long
metric(const struct setup *S, const char *name)
{
	return metric_value(S->d.port, OPERATOR, name);
}

/* Polls metric name until it is at least min; its value, or -1. */
static long long
wait_metric(const struct setup *S, const char *name, long long min)
{
	long long deadline = now_ms() + PUBLISH_WAIT_MS, v;

	while ((v = metric(S, name)) < min) {
		if (now_ms() > deadline) {
			fprintf(stderr, "  %s stays %lld, not >= %lld\n", name, v,
			    min);
			return -1;
		}
		sleep_ms(10);
	}
	return v;
}

/*
 * The witnessed answer of an append: its checkpoint satisfies the policy
 * and covers the entry, and its inclusion proof leads from the entry's
 * leaf to the checkpoint's root.
 */
static void
check_witnessed_answer(struct setup *S, const struct http_response *r,
    uint64_t seq, uint64_t need_size)
{
	struct ledger_policy_result res;
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	json_t *body = http_response_json(r), *ip;
	const char *note;
	size_t n;

	CHECK(body != NULL);
	if (body == NULL)
		return;
	note = json_string_value(json_object_get(body, "checkpoint"));
	ip = json_object_get(body, "inclusion_proof");
	CHECK(note != NULL && ip != NULL);
	if (note == NULL || ip == NULL)
		goto out;
	memset(&res, 0, sizeof(res));
	CHECK_INT(ledger_policy_verify(S->policy, note, strlen(note), &res), 0);
	CHECK(res.quorum_met);
	CHECK(res.checkpoint.tree_size >= need_size);
	CHECK_INT(json_integer_value(json_object_get(ip, "index")), seq);
	CHECK_INT(json_integer_value(json_object_get(ip, "tree_size")),
	    res.checkpoint.tree_size);
	CHECK_INT(decode_hash(json_string_value(json_object_get(ip,
	    "leaf_hash")), leaf), 0);
	CHECK_INT(decode_hashes(json_object_get(ip, "hashes"), proof,
	    LEDGER_MAX_PROOF, &n), 0);
	CHECK_INT(ledger_merkle_verify_inclusion(leaf, seq,
	    res.checkpoint.tree_size, (const uint8_t (*)[LEDGER_HASH_LEN])proof,
	    n, res.checkpoint.root), 0);
out:
	json_decref(body);
}

/*
 * Published checkpoints carry both witnesses' cosignatures; the witnesses
 * hold the same checkpoint; ?wait=witnessed answers with a checkpoint that
 * satisfies a quorum of two; and the cosignatures survive a restart.
 */
static void
test_cosigned(void)
{
	static const enum witness_impl impl[2] = { WITNESS_LEDGERD,
	    WITNESS_PYTHON };
	struct ledger_policy_result res;
	struct ledger_checkpoint cp;
	struct http_response r;
	struct appended a;
	struct setup S;
	char *note, *after, *ev;
	int i;

	REQUIRE(setup_start(&S, 2, impl, "group both all w1 w2\nquorum both",
	    20, 0) == 0);
	REQUIRE(post_events(&S.hc, 0, 5, 1) == 0);
	note = wait_cosigned(&S, 5, 2, &res);
	REQUIRE(note != NULL);
	CHECK(res.quorum_met);
	CHECK_INT(res.checkpoint.tree_size, 5);
	/* A verifier that knows only the log's key ignores the witnesses. */
	CHECK_INT(ledger_checkpoint_open(note, strlen(note), &S.d.verifier,
	    &cp), 0);
	/* Both witnesses hold the very checkpoint the log published. */
	for (i = 0; i < 2; i++)
		CHECK_INT(witness_cosigned_size(&S.w[i], ORIGIN), 5);
	CHECK_INT(metric(&S, "ledgerd_cosigning_tree_size{witness=\"w1\"}"), 5);
	CHECK_INT(metric(&S, "ledgerd_cosigning_tree_size{witness=\"w2\"}"), 5);
	CHECK_INT(metric(&S, "ledgerd_cosigning_alarms_total{witness=\"w1\"}"), 0);
	CHECK(metric(&S, "ledgerd_cosigning_pushes_total{witness=\"w2\"}") >= 1);
	CHECK_INT(metric(&S, "ledgerd_published_tree_size"), 5);
	CHECK_INT(wait_metric(&S, "ledgerd_witnessed_tree_size", 5), 5);
	free(note);
	/* ledgerctl holds /checkpoint to the same policy. */
	{
		const char *args[] = { "--url", NULL, "--policy", NULL,
		    "checkpoint", NULL };
		char url[64], path[700];
		struct ctl_result cr;

		snprintf(url, sizeof(url), "http://127.0.0.1:%u", S.d.port);
		snprintf(path, sizeof(path), "%s/witnesses.policy", S.d.root);
		args[1] = url;
		args[3] = path;
		ctl_exec(&cr, S.d.root, NULL, args);
		CTL_EXPECT(&cr, 0, "cosigned by");
		ctl_result_free(&cr);
	}

	/* One event, waiting for witnesses. */
	ev = sample_event(100);
	CHECK_INT(post_event(&S.hc, ev, "wait=witnessed", NULL, &a, &r), 201);
	free(ev);
	if (r.status == 201)
		check_witnessed_answer(&S, &r, a.seq, a.seq + 1);
	http_response_free(&r);

	/* A batch: the checkpoint covers all of it. */
	{
		char *b0 = sample_event(101), *b1 = sample_event(102);
		char *batch = xasprintf("[%s,%s]", b0, b1);
		json_t *body;

		REQUIRE(http_request(&S.hc, "POST",
		    "/v1/events/batch?wait=witnessed", "Bearer " TOKEN,
		    "application/json",
		    NULL, batch, strlen(batch), &r) == 0);
		CHECK_INT(r.status, 201);
		body = http_response_json(&r);
		if (r.status == 201 && body != NULL) {
			uint64_t first = (uint64_t)json_integer_value(
			    json_object_get(body, "first_seq"));

			check_witnessed_answer(&S, &r, first, first + 2);
		}
		json_decref(body);
		http_response_free(&r);
		free(b0);
		free(b1);
		free(batch);
	}

	/* A restart keeps the checkpoint and its cosignatures. */
	note = wait_cosigned(&S, 8, 2, NULL);
	REQUIRE(note != NULL);
	for (i = 0; i < 2; i++)
		CHECK_INT(witness_stop(&S.w[i]), 0);
	CHECK_INT(daemon_stop(&S.d), 0);
	REQUIRE(daemon_restart(&S.d) == 0);
	http_client_close(&S.hc);
	http_client_init(&S.hc, S.d.port, TOKEN);
	after = get_published(&S.hc);
	CHECK_STR(after, note);
	if (after != NULL) {
		memset(&res, 0, sizeof(res));
		CHECK_INT(ledger_policy_verify(S.policy, after, strlen(after),
		    &res), 0);
		CHECK_INT(res.n_cosigned, 2);
	}
	/* The witnessed checkpoint is found again: a wait for it is short. */
	CHECK_INT(wait_metric(&S, "ledgerd_witnessed_tree_size", 8), 8);
	free(after);
	free(note);
	setup_cleanup(&S);
}

/*
 * Without a witness policy there is nothing to wait for: 400 naming the
 * parameter, and nothing is written.
 */
static void
body_no_policy(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	char *ev = sample_event(1);

	http_client_init(&hc, d->port, d->token);
	CHECK_INT(post_event(&hc, ev, "wait=witnessed", NULL, NULL, &r), 400);
	CHECK_ERROR(&r, 400, "invalid_value", "wait");
	http_response_free(&r);
	CHECK_INT(healthz_tree_size(&hc), 0);
	CHECK_INT(post_event(&hc, ev, "wait=witnesses", NULL, NULL, &r), 400);
	CHECK_ERROR(&r, 400, "invalid_value", "wait");
	http_response_free(&r);
	free(ev);
	http_client_close(&hc);
}

static void
test_no_policy(void)
{
	daemon_test(body_no_policy);
}

/*
 * A quorum that cannot be met: one of the two witnesses is away.  Appends
 * are answered at once, the checkpoint goes on being published with the
 * one cosignature there is, and ?wait=witnessed gives up with 504 after
 * its bound; a stop answers a waiting append with 503.  The entries are
 * stored all the same.
 */
static void
test_quorum_away(void)
{
	static const enum witness_impl impl[2] = { WITNESS_LEDGERD,
	    WITNESS_PYTHON };
	struct ledger_policy_result res;
	struct http_response r;
	struct http_conn c;
	struct setup S;
	char *ev, *req, *note;
	long long size;

	REQUIRE(setup_start(&S, 2, impl, "group both all w1 w2\nquorum both", 1,
	    1) == 0);
	/* Plain appends do not wait for anyone. */
	REQUIRE(post_events(&S.hc, 0, 20, 1) == 0);
	note = wait_cosigned(&S, 20, 1, &res);
	REQUIRE(note != NULL);
	CHECK(!res.quorum_met);
	CHECK(res.cosigned[0] && !res.cosigned[1]);
	free(note);
	CHECK(wait_metric(&S, "ledgerd_cosigning_push_failures_total"
	    "{witness=\"w2\"}", 1) >= 1);
	CHECK_INT(metric(&S, "ledgerd_cosigning_alarms_total{witness=\"w2\"}"), 0);

	ev = sample_event(50);
	CHECK_INT(post_event(&S.hc, ev, "wait=witnessed", NULL, NULL, &r), 504);
	CHECK_ERROR(&r, 504, "witness_timeout", "wait");
	http_response_free(&r);
	CHECK_INT(healthz_tree_size(&S.hc), 21);	/* stored all the same */
	CHECK_INT(metric(&S, "ledgerd_wait_witnessed_timeouts_total"), 1);

	/* A stop answers a waiting append. */
	CHECK_INT(daemon_stop(&S.d), 0);
	S.d.interval_ms = INTERVAL_MS;
	{
		/* wait_seconds long enough that only the stop can answer. */
		char *witnesses = xasprintf("\"witnesses\": {\"policy\": "
		    "\"witnesses.policy\", \"wait_seconds\": 600}");
		char *config = config_text(witnesses);

		CHECK_INT(write_file(S.d.config, config), 0);
		free(config);
		free(witnesses);
	}
	REQUIRE(daemon_restart(&S.d) == 0);
	REQUIRE(http_connect(&c, S.d.port, HTTP_DEFAULT_TIMEOUT_MS) == 0);
	req = xasprintf("POST /v1/events?wait=witnessed HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer " TOKEN "\r\nContent-Type: application/json"
	    "\r\nContent-Length: %zu\r\n\r\n%s", strlen(ev), ev);
	CHECK_INT(http_send_raw(&c, req, strlen(req)), 0);
	/* Once it is stored, the append waits: then stop the daemon. */
	http_client_close(&S.hc);
	http_client_init(&S.hc, S.d.port, TOKEN);
	{
		long long deadline = now_ms() + PUBLISH_WAIT_MS;

		while ((size = healthz_tree_size(&S.hc)) < 22 &&
		    now_ms() < deadline)
			sleep_ms(10);
	}
	CHECK_INT(size, 22);
	CHECK_INT(daemon_stop(&S.d), 0);
	CHECK_INT(http_read_response(&c, &r, 0), 0);
	CHECK_ERROR(&r, 503, "unavailable", "wait");
	http_response_free(&r);
	http_close(&c);
	free(req);
	free(ev);
	setup_cleanup(&S);
}

/*
 * A witness that is down holds nothing up, and is caught up when it comes
 * back, here restored from a backup older than what the log knows of it:
 * it answers 409 naming the size it holds, the log adopts that size and
 * pushes again with a consistency proof from there.
 */
static void
test_witness_returns(void)
{
	static const enum witness_impl impl[2] = { WITNESS_LEDGERD,
	    WITNESS_PYTHON };
	struct ledger_policy_result res;
	char path[700], backup[700], *note, *state;
	struct setup S;
	long long pushes;

	REQUIRE(setup_start(&S, 2, impl, "group both all w1 w2\nquorum both",
	    20, 0) == 0);
	REQUIRE(post_events(&S.hc, 0, 3, 1) == 0);
	note = wait_cosigned(&S, 3, 2, NULL);
	REQUIRE(note != NULL);
	free(note);
	/* w2's state at tree size 3, kept aside. */
	snprintf(path, sizeof(path), "%s/state.json", S.w[1].dir);
	snprintf(backup, sizeof(backup), "%s/state.backup", S.w[1].dir);
	state = read_whole_file(path, NULL);
	REQUIRE(state[0] != '\0' && write_file(backup, state) == 0);
	free(state);
	REQUIRE(post_events(&S.hc, 3, 4, 1) == 0);
	note = wait_cosigned(&S, 7, 2, NULL);
	REQUIRE(note != NULL);
	free(note);

	/* w2 goes away; appends go on, w1 goes on cosigning. */
	CHECK_INT(witness_stop(&S.w[1]), 0);
	pushes = metric(&S, "ledgerd_cosigning_pushes_total{witness=\"w2\"}");
	REQUIRE(post_events(&S.hc, 7, 6, 1) == 0);
	note = wait_cosigned(&S, 13, 1, &res);
	REQUIRE(note != NULL);
	CHECK(res.cosigned[0]);
	free(note);
	CHECK(wait_metric(&S, "ledgerd_cosigning_push_failures_total"
	    "{witness=\"w2\"}", 1) >= 1);

	/* It comes back from its backup, holding tree size 3. */
	REQUIRE(rename(backup, path) == 0);
	REQUIRE(witness_restart(&S.w[1]) == 0);
	note = wait_cosigned(&S, 13, 2, &res);
	REQUIRE(note != NULL);
	CHECK(res.quorum_met);
	free(note);
	CHECK_INT(witness_cosigned_size(&S.w[1], ORIGIN), 13);
	CHECK(metric(&S, "ledgerd_cosigning_pushes_total{witness=\"w2\"}") >
	    pushes);
	CHECK_INT(metric(&S, "ledgerd_cosigning_tree_size"
	    "{witness=\"w2\"}"), 13);
	CHECK_INT(metric(&S, "ledgerd_cosigning_alarms_total{witness=\"w2\"}"), 0);
	/* The log said what it adopted. */
	CHECK(daemon_log_wait(&S.d, "witness w2: holds tree size 3"));
	setup_cleanup(&S);
}

/*
 * Clients that leave while their appends wait for a witnessed checkpoint
 * (one event, and a batch of 2,000 whose answer holds a receipt each):
 * once it comes, their answers are made on a worker and meet connections
 * already closed; the daemon goes on, and a client that waits then gets
 * its witnessed answer.
 */
static void
test_witnessed_client_leaves(void)
{
	static const enum witness_impl impl[2] = { WITNESS_LEDGERD,
	    WITNESS_LEDGERD };
	struct http_response r;
	struct http_conn gone[2];
	struct setup S;
	char *ev, *req, *batch, *note;
	long long size = 0;

	REQUIRE(setup_start(&S, 2, impl, "group both all w1 w2\nquorum both",
	    600, 0) == 0);
	REQUIRE(post_events(&S.hc, 0, 3, 1) == 0);
	note = wait_cosigned(&S, 3, 2, NULL);
	REQUIRE(note != NULL);
	free(note);
	/* w2 away: no checkpoint is witnessed until it is back. */
	CHECK_INT(witness_stop(&S.w[1]), 0);

	ev = sample_event(60);
	req = xasprintf("POST /v1/events?wait=witnessed HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer " TOKEN "\r\nContent-Type: application/json"
	    "\r\nContent-Length: %zu\r\n\r\n%s", strlen(ev), ev);
	REQUIRE(http_connect(&gone[0], S.d.port, HTTP_DEFAULT_TIMEOUT_MS) == 0);
	CHECK_INT(http_send_raw(&gone[0], req, strlen(req)), 0);
	free(req);
	{
		json_t *events = json_array();

		for (int i = 0; i < 2000; i++) {
			char *one = sample_event(100 + i);

			json_array_append_new(events, json_loads(one, 0, NULL));
			free(one);
		}
		batch = json_dumps(events, JSON_COMPACT);
		json_decref(events);
	}
	req = xasprintf("POST /v1/events/batch?wait=witnessed HTTP/1.1\r\n"
	    "Host: x\r\nAuthorization: Bearer " TOKEN "\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(batch), batch);
	REQUIRE(http_connect(&gone[1], S.d.port, HTTP_DEFAULT_TIMEOUT_MS) == 0);
	CHECK_INT(http_send_raw(&gone[1], req, strlen(req)), 0);
	free(req);
	free(batch);
	{
		long long deadline = now_ms() + PUBLISH_WAIT_MS;

		while ((size = healthz_tree_size(&S.hc)) < 2004 &&
		    now_ms() < deadline)
			sleep_ms(10);
	}
	CHECK_INT(size, 2004);		/* stored: both wait now */
	http_close(&gone[0]);
	http_close(&gone[1]);

	/* w2 back: the checkpoint covering them is witnessed. */
	REQUIRE(witness_restart(&S.w[1]) == 0);
	note = wait_cosigned(&S, 2004, 2, NULL);
	CHECK(note != NULL);
	free(note);
	/* The daemon goes on; a client that waits is answered. */
	{
		struct appended a;

		int status = post_event(&S.hc, ev, "wait=witnessed", NULL, &a,
		    &r);

		CHECK_INT(status, 201);
		if (status == 201)
			check_witnessed_answer(&S, &r, a.seq, a.seq + 1);
		if (status > 0)
			http_response_free(&r);
	}
	free(ev);
	setup_cleanup(&S);
}

/* Starts a copy of S's log (stopped) from the copy of its data at data. */
static int
fork_start(struct setup *S, struct daemon *f, const char *data)
{
	char *config = config_text(""), cmd[2048], path[700];
	char *witnesses;
	int rc = -1;

	/* A daemon of its own (root, log file), then the copied data. */
	if (daemon_start_config(f, config) != 0 || daemon_stop(f) != 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", f->data,
	    data, f->data);
	if (system(cmd) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/witnesses.policy", f->root);
	if (write_file(path, S->policy_text) != 0)
		goto out;
	free(config);
	witnesses = xasprintf("\"witnesses\": {\"policy\": "
	    "\"witnesses.policy\", \"timeout_seconds\": 5}");
	config = config_text(witnesses);
	free(witnesses);
	if (write_file(f->config, config) != 0)
		goto out;
	f->interval_ms = INTERVAL_MS;
	rc = daemon_restart(f);
out:
	free(config);
	return rc;
}

/*
 * A forked log: a copy of the data directory, same key, grown with other
 * entries, pushing to the same witnesses.  The current witness answers 422
 * (same size, another root; or a proof that does not verify), a v1.0.0
 * witness 409 naming the very size sent: the fork raises the alarm (an
 * error line, the alarm counter), and never pushes to them again; the
 * witnesses keep the evidence and go on cosigning the true log.
 */
static void
test_fork(void)
{
	static const enum witness_impl impl[2] = { WITNESS_LEDGERD,
	    WITNESS_PYTHON_V1 };
	char copy[700], cmd[1400], *note, *evidence;
	struct daemon fork_a, fork_b;
	struct http_client fc;
	struct setup S;
	long long pushes;
	int i;

	memset(&fork_a, 0, sizeof(fork_a));
	memset(&fork_b, 0, sizeof(fork_b));
	REQUIRE(setup_start(&S, 2, impl, "group both all w1 w2\nquorum both",
	    20, 0) == 0);
	REQUIRE(post_events(&S.hc, 0, 4, 1) == 0);
	note = wait_cosigned(&S, 4, 2, NULL);
	REQUIRE(note != NULL);
	free(note);
	/* The copy, taken from the stopped log. */
	CHECK_INT(daemon_stop(&S.d), 0);
	snprintf(copy, sizeof(copy), "%s/data-copy", S.d.root);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", S.d.data, copy);
	REQUIRE(system(cmd) == 0);
	REQUIRE(daemon_restart(&S.d) == 0);
	http_client_close(&S.hc);
	http_client_init(&S.hc, S.d.port, TOKEN);
	/* The true log grows to 7, cosigned by both. */
	REQUIRE(post_events(&S.hc, 4, 3, 1) == 0);
	note = wait_cosigned(&S, 7, 2, NULL);
	REQUIRE(note != NULL);
	free(note);

	/* Fork A: the same size, 7, with other entries. */
	REQUIRE(fork_start(&S, &fork_a, copy) == 0);
	http_client_init(&fc, fork_a.port, TOKEN);
	REQUIRE(post_events(&fc, 1000, 3, 3) == 0);	/* one commit */
	http_client_close(&fc);
	for (i = 0; i < 2; i++) {
		char name[96];

		snprintf(name, sizeof(name), "ledgerd_cosigning_alarms_total"
		    "{witness=\"w%d\"}", i + 1);
		{
			long long deadline = now_ms() + PUBLISH_WAIT_MS;

			while (metric_value(fork_a.port, OPERATOR, name) < 1 &&
			    now_ms() < deadline)
				sleep_ms(10);
		}
		CHECK_INT(metric_value(fork_a.port, OPERATOR, name), 1);
	}
	CHECK(daemon_log_wait(&fork_a, "error: ALARM: witness w1"));
	CHECK(daemon_log_wait(&fork_a, "answered 422"));
	CHECK(daemon_log_wait(&fork_a, "error: ALARM: witness w2"));
	CHECK(daemon_log_wait(&fork_a, "answered 409 naming the size sent"));
	/* Never pushed to again: more appends, no more requests. */
	pushes = metric_value(fork_a.port, OPERATOR,
	    "ledgerd_cosigning_pushes_total{witness=\"w1\"}");
	http_client_init(&fc, fork_a.port, TOKEN);
	REQUIRE(post_events(&fc, 1100, 2, 1) == 0);
	CHECK_INT(wait_published(&fc, &fork_a.verifier, 9, NULL, NULL), 0);
	http_client_close(&fc);
	CHECK_INT(metric_value(fork_a.port, OPERATOR,
	    "ledgerd_cosigning_pushes_total{witness=\"w1\"}"), pushes);

	/* Fork B: bigger, 9: the proof from 7 does not verify (422 from both). */
	REQUIRE(fork_start(&S, &fork_b, copy) == 0);
	http_client_init(&fc, fork_b.port, TOKEN);
	REQUIRE(post_events(&fc, 2000, 5, 5) == 0);	/* one commit */
	http_client_close(&fc);
	for (i = 0; i < 2; i++) {
		char name[96];
		long long deadline = now_ms() + PUBLISH_WAIT_MS;

		snprintf(name, sizeof(name), "ledgerd_cosigning_alarms_total"
		    "{witness=\"w%d\"}", i + 1);
		while (metric_value(fork_b.port, OPERATOR, name) < 1 &&
		    now_ms() < deadline)
			sleep_ms(10);
		CHECK_INT(metric_value(fork_b.port, OPERATOR, name), 1);
	}
	CHECK(daemon_log_wait(&fork_b, "holds tree size 7"));	/* 409 adopted */
	CHECK(daemon_log_wait(&fork_b, "answered 422 to the checkpoint of "
	    "tree size 9 (old 7)"));

	/* The witnesses kept what the forks sent. */
	evidence = witness_evidence(&S.w[0]);
	CHECK(evidence != NULL &&
	    strstr(evidence, "same_size_different_root") != NULL);
	CHECK(evidence != NULL && strstr(evidence, "inconsistent_proof") != NULL);
	free(evidence);
	evidence = witness_evidence(&S.w[1]);
	CHECK(evidence != NULL && strstr(evidence, "\"status\": 409") != NULL);
	CHECK(evidence != NULL && strstr(evidence, "\"status\": 422") != NULL);
	free(evidence);

	/* The true log goes on, cosigned, with no alarm. */
	REQUIRE(post_events(&S.hc, 10, 3, 1) == 0);
	note = wait_cosigned(&S, 10, 2, NULL);
	CHECK(note != NULL);
	free(note);
	CHECK_INT(metric(&S, "ledgerd_cosigning_alarms_total{witness=\"w1\"}"), 0);
	CHECK_INT(metric(&S, "ledgerd_cosigning_alarms_total{witness=\"w2\"}"), 0);
	daemon_cleanup(&fork_a);
	daemon_cleanup(&fork_b);
	setup_cleanup(&S);
}

/*
 * A witness behind HTTPS: the log checks its certificate against
 * witnesses.ca_file (here the test PKI's CA, for 127.0.0.1) and collects its
 * cosignature; one whose certificate comes from another CA is never sent
 * the checkpoint, and counts failures.
 */
static void
test_tls_witness(void)
{
	char cmd[1400], cert[700], key[700], other[700], otherkey[700];
	char path[700], *config, *note, *policy;
	struct ledger_policy_result res;
	struct witness_proc good, bad;
	struct setup S;

	memset(&S, 0, sizeof(S));
	memset(&good, 0, sizeof(good));
	memset(&bad, 0, sizeof(bad));
	config = config_text("");
	REQUIRE(daemon_start_config(&S.d, config) == 0);
	free(config);
	CHECK_INT(daemon_stop(&S.d), 0);
	snprintf(cmd, sizeof(cmd), "sh tests/access_pki.sh '%s'", S.d.root);
	REQUIRE(system(cmd) == 0);
	snprintf(cert, sizeof(cert), "%s/server.pem", S.d.root);
	snprintf(key, sizeof(key), "%s/server.key", S.d.root);
	/* A certificate of the other CA, for the same address. */
	snprintf(other, sizeof(other), "%s/other.pem", S.d.root);
	snprintf(otherkey, sizeof(otherkey), "%s/other.key", S.d.root);
	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out "
	    "other.pem -days 2 -subj /CN=127.0.0.1 -addext "
	    "subjectAltName=IP:127.0.0.1 2>/dev/null", S.d.root);
	REQUIRE(system(cmd) == 0);
	REQUIRE(witness_start_tls(&good, S.d.root, "w1", S.d.vkey, cert,
	    key) == 0);
	REQUIRE(witness_start_tls(&bad, S.d.root, "w2", S.d.vkey, other,
	    otherkey) == 0);
	policy = xasprintf("log %s\nwitness w1 %s %s\nwitness w2 %s %s\n"
	    "quorum w1\n", S.d.vkey, good.vkey, good.url, bad.vkey, bad.url);
	REQUIRE(ledger_policy_parse(policy, strlen(policy), &S.policy, NULL,
	    0) == 0);
	S.policy_text = policy;
	snprintf(path, sizeof(path), "%s/witnesses.policy", S.d.root);
	REQUIRE(write_file(path, policy) == 0);
	config = config_text("\"witnesses\": {\"policy\": \"witnesses.policy\", "
	    "\"ca_file\": \"ca.pem\"}");
	REQUIRE(write_file(S.d.config, config) == 0);
	free(config);
	S.d.interval_ms = INTERVAL_MS;
	REQUIRE(daemon_restart(&S.d) == 0);
	http_client_init(&S.hc, S.d.port, TOKEN);
	REQUIRE(post_events(&S.hc, 0, 3, 1) == 0);
	note = wait_cosigned(&S, 3, 1, &res);
	CHECK(note != NULL);
	CHECK(res.quorum_met && res.cosigned[0] && !res.cosigned[1]);
	free(note);
	CHECK(wait_metric(&S, "ledgerd_cosigning_push_failures_total"
	    "{witness=\"w2\"}", 1) >= 1);
	CHECK_INT(witness_cosigned_size(&bad, ORIGIN), -1);
	CHECK_INT(metric(&S, "ledgerd_cosigning_alarms_total{witness=\"w2\"}"), 0);
	witness_cleanup(&good);
	witness_cleanup(&bad);
	setup_cleanup(&S);
}

/*
 * ledgerctl keeps working while /checkpoint lags the tree by up to an
 * interval: prove and get of an entry just written, and an export (whose
 * own export entry is the newest), wait for the publication that covers
 * them.
 */
static void
test_clients_wait(void)
{
	const char *prove[] = { "prove", "1", NULL };
	const char *get[] = { "get", "1", NULL };
	const char *list[] = { "list", "--json", "--verify", NULL };
	const char *export[] = { "export", "--out", NULL, NULL };
	const char *check[] = { "verify-export", NULL, NULL };
	struct http_client hc;
	struct ctl_result r;
	struct daemon d;
	char url[64], dir[700];

	REQUIRE(daemon_start(&d) == 0);
	CHECK_INT(daemon_stop(&d), 0);
	d.interval_ms = 2000;
	REQUIRE(daemon_restart(&d) == 0);
	http_client_init(&hc, d.port, d.token);
	REQUIRE(post_events(&hc, 0, 2, 1) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d.port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", d.token, 1);
	setenv("LEDGER_KEY", d.vkey, 1);
	ctl_exec(&r, d.root, NULL, prove);
	CTL_EXPECT(&r, 0, "is included");
	ctl_result_free(&r);
	ctl_exec(&r, d.root, NULL, get);
	CTL_EXPECT(&r, 0, "\"seq\":1,");
	ctl_result_free(&r);
	REQUIRE(post_events(&hc, 2, 1, 1) == 0);	/* newer than /checkpoint */
	ctl_exec(&r, d.root, NULL, list);
	CTL_EXPECT(&r, 0, "\"seq\":2,");
	ctl_result_free(&r);
	snprintf(dir, sizeof(dir), "%s/bundle", d.root);
	export[2] = dir;
	check[1] = dir;
	ctl_exec(&r, d.root, NULL, export);
	CTL_EXPECT(&r, 0, "exported");
	ctl_result_free(&r);
	ctl_exec(&r, d.root, NULL, check);
	CTL_EXPECT(&r, 0, "verifies");
	ctl_result_free(&r);
	unsetenv("LEDGER_URL");
	unsetenv("LEDGER_TOKEN");
	unsetenv("LEDGER_KEY");
	http_client_close(&hc);
	daemon_cleanup(&d);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_no_policy);
	RUN(test_cosigned);
	RUN(test_quorum_away);
	RUN(test_witness_returns);
	RUN(test_witnessed_client_leaves);
	RUN(test_fork);
	RUN(test_tls_witness);
	RUN(test_clients_wait);
	return TEST_SUMMARY();
}
