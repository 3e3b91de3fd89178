/*
 * The event loop never waits for heavy work (docs/limits.md, "Heavy
 * requests"): batches, listings, provenance answers, entry bundles and
 * opened values are worked on by the worker pool, so /healthz is answered
 * while they are under way; a client that leaves mid-job, a full pool, and
 * a stop while jobs are under way are each handled cleanly.  The test
 * daemon's hold point (ledgerd/crash.h, LEDGERD_HOLD_AT) keeps jobs from
 * starting while a file exists, so every check here is about order and
 * outcome, never time.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define WAIT_MS 60000		/* bound on waiting for the daemon to get somewhere */
#define BIG_BATCH 10000

static char hold_dir[64];
static char hold_file[128];

/*
 * The test daemon, with hold point `point` (ledgerd/crash.h: "job" for the
 * workers' jobs, "commit" for the writer's commits) armed on hold_file
 * (absent yet).
 */
static int
hold_arm_at(const char *point)
{
	const char *faults = getenv("LEDGERD_FAULTS_BIN");
	char spec[160];

	snprintf(hold_dir, sizeof(hold_dir), "/tmp/ledger-hold.XXXXXX");
	if (mkdtemp(hold_dir) == NULL)
		return -1;
	snprintf(hold_file, sizeof(hold_file), "%s/hold", hold_dir);
	snprintf(spec, sizeof(spec), "%s:%s", point, hold_file);
	setenv("LEDGERD_HOLD_AT", spec, 1);
	setenv("LEDGERD_BIN", faults != NULL && faults[0] != '\0' ? faults :
	    "build/ledgerd-faults", 1);
	return 0;
}

static int
hold_arm(void)
{
	return hold_arm_at("job");
}

static void
hold_disarm(const char *release_bin)
{
	unlink(hold_file);
	rmdir(hold_dir);
	unsetenv("LEDGERD_HOLD_AT");
	setenv("LEDGERD_BIN", release_bin, 1);
}

/* Jobs starting from now on wait (hold_on) or go (hold_off). */
static int
hold_on(void)
{
	FILE *f = fopen(hold_file, "w");

	if (f == NULL)
		return -1;
	fclose(f);
	return 0;
}

static void
hold_off(void)
{
	unlink(hold_file);
}

/* Runs body against a daemon with the hold point armed. */
static void
with_hold(void (*body)(struct daemon *d))
{
	char *release = xstrdup(daemon_bin());

	if (hold_arm() == 0)
		daemon_test(body);
	else
		CHECK(!"mkdtemp");
	hold_disarm(release);
	free(release);
}

/*
 * wait_metric - polls GET /metrics until metric name has value want,
 * within WAIT_MS.  Returns 0, or -1 (printed) when it never did.
 */
static int
wait_metric(const struct daemon *d, const char *token, const char *name,
    long long want)
{
	long long deadline = now_ms() + WAIT_MS, v = -1;

	while (now_ms() < deadline) {
		if ((v = metric_value(d->port, token, name)) == want)
			return 0;
		sleep_ms(5);
	}
	fprintf(stderr, "  %s stayed %lld, not %lld\n", name, v, want);
	return -1;
}

/* A JSON array of sample events first .. first + n - 1 (free() it). */
static char *
batch_text(int first, int n, size_t *len)
{
	size_t cap = (size_t)n * 400 + 16, used = 0;
	char *buf = xmalloc(cap), *ev;
	int i;

	buf[used++] = '[';
	for (i = 0; i < n; i++) {
		ev = sample_event(first + i);
		if (used + strlen(ev) + 3 > cap) {
			cap = 2 * (used + strlen(ev) + 3);
			buf = xrealloc(buf, cap);
		}
		used += (size_t)sprintf(buf + used, "%s%s", i > 0 ? "," : "", ev);
		free(ev);
	}
	buf[used++] = ']';
	buf[used] = '\0';
	*len = used;
	return buf;
}

/*
 * send_request - opens c and sends one request without reading the
 * answer.  auth NULL for none; body NULL for none.  Returns 0 or -1.
 */
static int
send_request(struct http_conn *c, unsigned port, const char *method,
    const char *target, const char *auth, const char *body, size_t len)
{
	char head[1024];
	int n;

	if (http_connect(c, port, HTTP_DEFAULT_TIMEOUT_MS * 3) != 0)
		return -1;
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "%s%s%s%s", method, target, auth != NULL ? "Authorization: " : "",
	    auth != NULL ? auth : "", auth != NULL ? "\r\n" : "",
	    body != NULL ? "Content-Type: application/json\r\n" : "");
	if (body != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Length: %zu\r\n", len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (http_send_raw(c, head, (size_t)n) != 0)
		return -1;
	return body != NULL ? http_send_raw(c, body, len) : 0;
}

/* Whether an answer (or a close) has come on c: never waits. */
static int
answered_yet(const struct http_conn *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };

	return c->len > 0 || poll(&p, 1, 0) != 0;
}

/* Reads the answer on c: its status and JSON body (j, may be NULL). */
static int
read_answer(struct http_conn *c, json_t **j, struct http_response *keep)
{
	struct http_response r;
	int status;

	if (j != NULL)
		*j = NULL;
	if (http_read_response(c, &r, 0) != 0)
		return -1;
	status = r.status;
	if (j != NULL)
		*j = http_response_json(&r);
	if (keep != NULL)
		*keep = r;
	else
		http_response_free(&r);
	return status;
}

/*
 * While a 10,000-event batch, a 1,000-entry listing, a subject timeline, an
 * entry bundle and an entry's opened values are under way (held before
 * their work starts: the subject's, its tokens' lookup), /healthz is
 * answered, and none of the five is; once they go, each gets the answer it
 * would have got anyway.
 */
static void
body_healthz_while_heavy(struct daemon *d)
{
	struct http_conn batch, list, subject, bundle, opened;
	struct http_client hc;
	struct http_response br;
	json_int_t first_seq, audit_seq;
	size_t len;
	json_t *j;
	char *text;
	int i;

	memset(&batch, 0, sizeof(batch));
	memset(&list, 0, sizeof(list));
	memset(&subject, 0, sizeof(subject));
	memset(&bundle, 0, sizeof(bundle));
	memset(&opened, 0, sizeof(opened));
	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 2000, 1000) == 0);
	REQUIRE(hold_on() == 0);

	text = batch_text(2000, BIG_BATCH, &len);
	CHECK(send_request(&batch, d->port, "POST", "/v1/events/batch",
	    d->auth, text, len) == 0);
	free(text);
	CHECK(send_request(&list, d->port, "GET", "/v1/events?limit=1000",
	    d->auth, NULL, 0) == 0);
	CHECK(send_request(&subject, d->port, "GET",
	    "/v1/provenance/subjects/person-5?limit=1000", d->auth, NULL,
	    0) == 0);
	CHECK(send_request(&bundle, d->port, "GET", "/tile/entries/000",
	    d->auth, NULL, 0) == 0);
	CHECK(send_request(&opened, d->port, "GET", "/v1/events/3/opened",
	    d->auth, NULL, 0) == 0);
	/* All five taken in, none started. */
	REQUIRE(wait_metric(d, d->token, "ledgerd_jobs_in_progress", 5) == 0);

	/* Nothing appended yet: the audit entry follows the lookup. */
	for (i = 0; i < 5; i++)
		CHECK_INT(healthz_tree_size(&hc), 2000);
	CHECK(!answered_yet(&batch));
	CHECK(!answered_yet(&list));
	CHECK(!answered_yet(&subject));
	CHECK(!answered_yet(&bundle));
	CHECK(!answered_yet(&opened));

	hold_off();
	CHECK_INT(read_answer(&batch, &j, NULL), 201);
	CHECK_INT(json_integer_value(json_object_get(j, "count")), BIG_BATCH);
	first_seq = json_integer_value(json_object_get(j, "first_seq"));
	CHECK_INT(json_array_size(json_object_get(j, "events")), BIG_BATCH);
	json_decref(j);
	CHECK_INT(read_answer(&list, &j, NULL), 200);
	CHECK_INT(json_array_size(json_object_get(j, "events")), 1000);
	CHECK_STR(json_string_value(json_object_get(j, "next_cursor")), "1000");
	json_decref(j);
	CHECK_INT(read_answer(&subject, &j, NULL), 200);
	audit_seq = json_integer_value(json_object_get(j, "audit_seq"));
	CHECK_INT(json_array_size(json_object_get(j, "events")), 1);
	json_decref(j);
	/* The audit entry and the batch went in one after the other. */
	CHECK((audit_seq == 2000 && first_seq == 2001) ||
	    (first_seq == 2000 && audit_seq == 2000 + BIG_BATCH));
	if (read_answer(&bundle, NULL, &br) == 200) {
		CHECK_STR(http_header_get(&br, "Content-Type"),
		    "application/octet-stream");
		CHECK(br.body_len > 256 * 2);
		http_response_free(&br);
	} else
		CHECK(!"the bundle was answered 200");
	/* No retention policy: nothing sealed, nothing opened. */
	CHECK_INT(read_answer(&opened, &j, NULL), 200);
	CHECK_INT(json_integer_value(json_object_get(j, "seq")), 3);
	CHECK_INT(json_object_size(j), 1);
	json_decref(j);
	CHECK_INT(healthz_tree_size(&hc), 2001 + BIG_BATCH);
	CHECK(wait_metric(d, d->token, "ledgerd_jobs_in_progress", 0) == 0);
	http_close(&batch);
	http_close(&list);
	http_close(&subject);
	http_close(&bundle);
	http_close(&opened);
	http_client_close(&hc);
}

static void
test_healthz_while_heavy(void)
{
	with_hold(body_healthz_while_heavy);
}

/*
 * Clients that leave while their job waits: a listing, a batch, a subject
 * query (its tokens' lookup) and an export (its first chunk) whose
 * connections close mid-job.  The daemon goes on (under AddressSanitizer,
 * any use of a freed request would end it), the batch is all or nothing,
 * and the pool empties.
 */
static void
body_client_leaves(struct daemon *d)
{
	struct http_conn list, batch, subject, export;
	struct http_client hc;
	long long size;
	size_t len;
	char *text;

	memset(&list, 0, sizeof(list));
	memset(&batch, 0, sizeof(batch));
	memset(&subject, 0, sizeof(subject));
	memset(&export, 0, sizeof(export));
	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 300, 300) == 0);
	REQUIRE(hold_on() == 0);
	text = batch_text(300, 2000, &len);
	CHECK(send_request(&batch, d->port, "POST", "/v1/events/batch",
	    d->auth, text, len) == 0);
	free(text);
	CHECK(send_request(&list, d->port, "GET", "/v1/events?limit=1000",
	    d->auth, NULL, 0) == 0);
	CHECK(send_request(&subject, d->port, "GET",
	    "/v1/provenance/subjects/person-7", d->auth, NULL, 0) == 0);
	CHECK(send_request(&export, d->port, "GET", "/v1/export?format=csv",
	    d->auth, NULL, 0) == 0);
	REQUIRE(wait_metric(d, d->token, "ledgerd_jobs_in_progress", 4) == 0);
	http_close(&batch);
	http_close(&list);
	http_close(&subject);
	http_close(&export);
	/* The connections are gone (as far as the client can tell): go. */
	/* + the export entry; the subject's audit entry follows its lookup. */
	CHECK_INT(healthz_tree_size(&hc), 301);
	hold_off();
	/*
	 * libevent 2.1 does not read from a connection while its request is
	 * being answered, so it does not see the client leave: the batch is
	 * checked and appended, all of it, the subject query recorded, and
	 * every answer is written to a closed socket (its connection and
	 * request freed by libevent then).  The preload and the batch are the
	 * two appends.
	 */
	CHECK(wait_metric(d, d->token, "ledgerd_append_requests_total", 2) ==
	    0);
	CHECK(wait_metric(d, d->token, "ledgerd_jobs_in_progress", 0) == 0);
	/* The subject's audit entry may follow the pool's last job. */
	CHECK(wait_metric(d, d->token, "ledgerd_tree_size", 2302) == 0);
	size = healthz_tree_size(&hc);
	CHECK_INT(size, 2302);
	/* Others are served as before. */
	CHECK_INT(post_events(&hc, 5000, 10, 10), 0);
	CHECK_INT(healthz_tree_size(&hc), size + 10);
	http_client_close(&hc);
}

static void
test_client_leaves_mid_job(void)
{
	with_hold(body_client_leaves);
}

#define TOK_APP "loop-app-token"

/* A daemon whose pool holds one job at work and one waiting. */
static int
start_small_pool(struct daemon *d)
{
	uint8_t h[LEDGER_HASH_LEN];
	char config[2048];

	ledger_sha256(TOK_APP, strlen(TOK_APP), h);
	snprintf(config, sizeof(config),
	    "{\n  \"listen\": \"127.0.0.1:0\",\n"
	    "  \"origin\": \"ledger.example.org/loop-test\",\n"
	    "  \"limits\": {\"workers\": 1, \"max_queued_jobs\": 1},\n"
	    "  \"principals\": [\n"
	    "    {\"id\": \"police-app\", \"org\": \"police\", \"roles\": "
	    "[\"writer\", \"reader\", \"operator\", \"supervisor\"], "
	    "\"token_sha256\": \"%s\"}\n"
	    "  ]\n}\n", hash_hex(h));
	return daemon_start_config(d, config);
}

/*
 * A full pool answers 503 overloaded with Retry-After at once, for a
 * listing, a batch, a subject query and an export by subject alike (the
 * last two before their tokens are made or anything is recorded), and
 * counts it; what it holds is answered when it goes on.
 */
static void
test_overloaded(void)
{
	struct http_conn c[3], extra;
	struct pollfd p[3];
	struct http_response r;
	struct daemon d;
	const char *auth = "Bearer " TOK_APP;
	char *release = xstrdup(daemon_bin()), *text;
	int i, refused = -1, ready;
	size_t len;
	long long deadline;

	memset(c, 0, sizeof(c));
	memset(&extra, 0, sizeof(extra));
	REQUIRE(hold_arm() == 0);
	if (start_small_pool(&d) != 0) {
		CHECK(!"the daemon started");
		goto out;
	}
	CHECK(hold_on() == 0);
	/* Three listings for a pool of two: one of them, any, is refused. */
	for (i = 0; i < 3; i++)
		CHECK(send_request(&c[i], d.port, "GET", "/v1/events?limit=10",
		    auth, NULL, 0) == 0);
	deadline = now_ms() + WAIT_MS;
	while (refused < 0 && now_ms() < deadline) {
		for (i = 0; i < 3; i++) {
			p[i].fd = c[i].fd;
			p[i].events = POLLIN;
		}
		if ((ready = poll(p, 3, 100)) <= 0)
			continue;
		for (i = 0; i < 3; i++)
			if (p[i].revents != 0) {
				refused = i;
				break;
			}
	}
	REQUIRE(refused >= 0);
	REQUIRE(http_read_response(&c[refused], &r, 0) == 0);
	CHECK_ERROR(&r, 503, "overloaded", "");
	CHECK_STR(http_header_get(&r, "Retry-After"), "1");
	CHECK_STR(http_header_get(&r, "Content-Type"), "application/json");
	http_response_free(&r);
	/* The two others are still held; a batch is refused as well. */
	text = batch_text(0, 5, &len);
	CHECK(send_request(&extra, d.port, "POST", "/v1/events/batch", auth,
	    text, len) == 0);
	free(text);
	if (http_read_response(&extra, &r, 0) == 0) {
		CHECK_ERROR(&r, 503, "overloaded", "");
		http_response_free(&r);
	} else
		CHECK(!"the batch was answered");
	for (i = 0; i < 2; i++) {
		http_close(&extra);
		CHECK(send_request(&extra, d.port, "GET", i == 0 ?
		    "/v1/provenance/subjects/person-1" :
		    "/v1/export?subject=person-1", auth, NULL, 0) == 0);
		if (http_read_response(&extra, &r, 0) == 0) {
			CHECK_ERROR(&r, 503, "overloaded", "");
			CHECK_STR(http_header_get(&r, "Retry-After") ?: "", "1");
			http_response_free(&r);
		} else
			CHECK(!"the subject query was answered");
	}
	/* Neither recorded an audit or export entry. */
	CHECK_INT(metric_value(d.port, TOK_APP, "ledgerd_tree_size"), 0);
	CHECK_INT(metric_value(d.port, TOK_APP, "ledgerd_jobs_rejected_total"),
	    4);
	CHECK_INT(metric_value(d.port, TOK_APP, "ledgerd_jobs_in_progress"), 2);
	hold_off();
	for (i = 0; i < 3; i++) {
		if (i == refused)
			continue;
		CHECK_INT(read_answer(&c[i], NULL, NULL), 200);
	}
	for (i = 0; i < 3; i++)
		http_close(&c[i]);
	http_close(&extra);
	daemon_cleanup(&d);
out:
	hold_disarm(release);
	free(release);
}

/*
 * A full append queue refuses a batch 503 overloaded with Retry-After once
 * it is checked, appends nothing of it, and takes the next; its events are
 * freed off the loop (a worker's job), which AddressSanitizer checks.  The
 * writer is held with one batch taken and one queued (max_queue_events
 * 100).
 */
static void
test_queue_full_refuses_batch(void)
{
	struct http_conn taken, queued, refused;
	struct http_response r;
	struct daemon d;
	uint8_t h[LEDGER_HASH_LEN];
	const char *auth = "Bearer " TOK_APP;
	char *release = xstrdup(daemon_bin()), *text, config[2048];
	size_t len;

	memset(&taken, 0, sizeof(taken));
	memset(&queued, 0, sizeof(queued));
	memset(&refused, 0, sizeof(refused));
	REQUIRE(hold_arm_at("commit") == 0);
	ledger_sha256(TOK_APP, strlen(TOK_APP), h);
	snprintf(config, sizeof(config),
	    "{\"listen\": \"127.0.0.1:0\", "
	    "\"origin\": \"ledger.example.org/loop-test\", "
	    "\"limits\": {\"max_batch_events\": 100, "
	    "\"max_queue_events\": 100},\n\"principals\": [{\"id\": "
	    "\"police-app\", \"org\": \"police\", \"roles\": [\"writer\", "
	    "\"reader\", \"operator\"], \"token_sha256\": \"%s\"}]}\n",
	    hash_hex(h));
	if (daemon_start_config(&d, config) != 0) {
		CHECK(!"the daemon started");
		goto out;
	}
	CHECK(hold_on() == 0);
	text = batch_text(0, 100, &len);
	CHECK(send_request(&taken, d.port, "POST", "/v1/events/batch", auth,
	    text, len) == 0);
	free(text);
	/*
	 * Taken by the writer, held before its commit: the queue is empty.
	 * (The metrics are 0 before the batch is read, too: the hold's line
	 * says the writer has it.)
	 */
	CHECK(daemon_log_wait(&d, "fault injection: holding at commit"));
	CHECK(wait_metric(&d, TOK_APP, "ledgerd_jobs_in_progress", 0) == 0);
	CHECK(wait_metric(&d, TOK_APP, "ledgerd_queue_depth", 0) == 0);
	text = batch_text(100, 100, &len);
	CHECK(send_request(&queued, d.port, "POST", "/v1/events/batch", auth,
	    text, len) == 0);
	free(text);
	CHECK(wait_metric(&d, TOK_APP, "ledgerd_queue_depth", 100) == 0);
	text = batch_text(200, 5, &len);
	CHECK(send_request(&refused, d.port, "POST", "/v1/events/batch", auth,
	    text, len) == 0);
	free(text);
	if (http_read_response(&refused, &r, 0) == 0) {
		CHECK_ERROR(&r, 503, "overloaded", "");
		CHECK_STR(http_header_get(&r, "Retry-After") ?: "", "1");
		http_response_free(&r);
	} else
		CHECK(!"the refused batch was answered");
	CHECK_INT(metric_value(d.port, TOK_APP,
	    "ledgerd_rejected_overload_total"), 1);
	hold_off();
	CHECK_INT(read_answer(&taken, NULL, NULL), 201);
	CHECK_INT(read_answer(&queued, NULL, NULL), 201);
	CHECK(wait_metric(&d, TOK_APP, "ledgerd_tree_size", 200) == 0);
	/* The refused batch goes in once there is room. */
	http_close(&refused);
	text = batch_text(200, 5, &len);
	CHECK(send_request(&refused, d.port, "POST", "/v1/events/batch", auth,
	    text, len) == 0);
	free(text);
	CHECK_INT(read_answer(&refused, NULL, NULL), 201);
	CHECK_INT(metric_value(d.port, TOK_APP, "ledgerd_tree_size"), 205);
	http_close(&taken);
	http_close(&queued);
	http_close(&refused);
	daemon_cleanup(&d);
out:
	hold_disarm(release);
	free(release);
}

/*
 * SIGTERM while a job is under way: the stop waits for it, and its answer
 * is sent before the daemon exits 0.
 */
static void
body_stop_drains(struct daemon *d)
{
	struct http_conn list;
	struct http_client hc;
	json_t *j;

	memset(&list, 0, sizeof(list));
	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 50, 50) == 0);
	http_client_close(&hc);
	REQUIRE(hold_on() == 0);
	CHECK(send_request(&list, d->port, "GET", "/v1/events?limit=1000",
	    d->auth, NULL, 0) == 0);
	REQUIRE(wait_metric(d, d->token, "ledgerd_jobs_in_progress", 1) == 0);
	CHECK(kill(d->pid, SIGTERM) == 0);
	hold_off();
	CHECK_INT(read_answer(&list, &j, NULL), 200);
	CHECK_INT(json_array_size(json_object_get(j, "events")), 50);
	json_decref(j);
	http_close(&list);
	CHECK_INT(daemon_stop(d), 0);
}

static void
test_stop_drains_jobs(void)
{
	with_hold(body_stop_drains);
}

/* Concurrent heavy requests, no hold: each answer as if it were alone. */
struct loader {
	pthread_t thread;
	const struct daemon *d;
	int kind;		/* 0 batches, 1 listings, 2 provenance */
	int id;
	int rounds;
	int failures;
	long long first_seq[4], count[4];
};

#define LOAD_BATCH 2000

static void *
loader_main(void *arg)
{
	struct loader *l = arg;
	struct http_client hc;
	struct http_response r;
	char target[128], *text;
	size_t len;
	json_t *j;
	int k;

	http_client_init(&hc, l->d->port, l->d->token);
	hc.timeout_ms = 120000;
	for (k = 0; k < l->rounds; k++) {
		if (l->kind == 0) {
			text = batch_text(100000 * (l->id + 1) + k * LOAD_BATCH,
			    LOAD_BATCH, &len);
			if (http_request(&hc, "POST", "/v1/events/batch",
			    l->d->auth, "application/json", NULL, text, len,
			    &r) != 0) {
				free(text);
				l->failures++;
				continue;
			}
			free(text);
		} else {
			if (l->kind == 1)
				snprintf(target, sizeof(target),
				    "/v1/events?limit=1000&cursor=%d", k * 100);
			else
				snprintf(target, sizeof(target),
				    "/v1/provenance/objects/doc-%d", k);
			if (http_get(&hc, target, &r) != 0) {
				l->failures++;
				continue;
			}
		}
		if (r.status != (l->kind == 0 ? 201 : 200))
			l->failures++;
		if (l->kind == 0 && (j = http_response_json(&r)) != NULL) {
			l->first_seq[k] = json_integer_value(json_object_get(j,
			    "first_seq"));
			l->count[k] = json_integer_value(json_object_get(j,
			    "count"));
			json_decref(j);
		}
		http_response_free(&r);
	}
	http_client_close(&hc);
	return NULL;
}

static void
body_concurrent(struct daemon *d)
{
	struct loader l[4];
	struct http_client hc;
	int joined[4] = { 0 }, i, k, m, healthz = 0, bad = 0, running;
	long long expect;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 1000, 1000) == 0);
	memset(l, 0, sizeof(l));
	for (i = 0; i < 4; i++) {
		l[i].d = d;
		l[i].id = i;
		l[i].kind = i < 2 ? 0 : i - 1;
		l[i].rounds = i < 2 ? 3 : 4;
		pthread_create(&l[i].thread, NULL, loader_main, &l[i]);
	}
	/* /healthz all along, until the pool has nothing left to do. */
	do {
		if (healthz_tree_size(&hc) < 1000)
			bad++;
		healthz++;
		running = 0;
		for (i = 0; i < 4; i++) {
			if (!joined[i])
				joined[i] = pthread_tryjoin_np(l[i].thread,
				    NULL) == 0;
			running |= !joined[i];
		}
	} while (running);
	CHECK_INT(bad, 0);
	CHECK(healthz > 0);
	/* Each batch at consecutive seqs of its own. */
	for (i = 0; i < 4; i++)
		CHECK_INT(l[i].failures, 0);
	for (i = 0; i < 2; i++)
		for (k = 0; k < 3; k++) {
			CHECK_INT(l[i].count[k], LOAD_BATCH);
			for (m = 0; m < 2; m++)
				for (int q = 0; q < 3; q++)
					if (m != i || q != k)
						CHECK(l[m].first_seq[q] +
						    LOAD_BATCH <= l[i].first_seq[k] ||
						    l[i].first_seq[k] + LOAD_BATCH <=
						    l[m].first_seq[q]);
		}
	expect = 1000 + 2 * 3 * LOAD_BATCH + 4;	/* + the lineages' audits */
	CHECK_INT(healthz_tree_size(&hc), expect);
	http_client_close(&hc);
}

static void
test_concurrent_heavy(void)
{
	daemon_test(body_concurrent);
}

int
main(void)
{
	RUN(test_healthz_while_heavy);
	RUN(test_client_leaves_mid_job);
	RUN(test_overloaded);
	RUN(test_queue_full_refuses_batch);
	RUN(test_stop_drains_jobs);
	RUN(test_concurrent_heavy);
	return TEST_SUMMARY();
}
