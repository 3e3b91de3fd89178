/*
 * The key keeper (security.md, "The key keeper"): the network-facing ledgerd
 * has no key file open or mapped and no key byte in its memory; the keeper
 * is confined; when the keeper dies ledgerd fails safe (appends and subject
 * queries refused with 503 keys_unavailable, no checkpoint signed, /healthz
 * says so, the operator is told) and a restart carries on with nothing
 * lost.  Also: a data directory's subject.key from before periods becomes
 * the period "legacy" and is still looked up.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keyfile.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define SECRETS_MAX 8

static char scratch[512];

/* The keeper: the child of pid named ledgerd-keeper, or 0. */
static pid_t
keeper_pid(pid_t daemon)
{
	char path[64], buf[4096], comm[64];
	pid_t found = 0;
	FILE *f;
	char *p, *end;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)daemon, (long)daemon);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	for (p = buf; *p != '\0' && found == 0; p = end) {
		long pid = strtol(p, &end, 10);
		FILE *c;

		if (end == p)
			break;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if ((c = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), c) != NULL &&
		    strncmp(comm, "ledgerd-keeper", 14) == 0)
			found = (pid_t)pid;
		fclose(c);
	}
	return found;
}

/* Whether s names a key file of the data directory. */
static int
names_key_file(const char *s)
{
	return strstr(s, "/keys/") != NULL || strstr(s, "log.key") != NULL ||
	    strstr(s, "subject.key") != NULL;
}

/* The line of /proc/PID/status that starts with field, or "". */
static void
status_field(pid_t pid, const char *field, char *out, size_t cap)
{
	char path[64], line[256];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0) {
			snprintf(out, cap, "%s", line + strlen(field));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	fclose(f);
}

/*
 * How many of the n needles (each len bytes) occur in the readable memory
 * of pid: every readable mapping of /proc/PID/maps read through
 * /proc/PID/mem.  -1 when the memory cannot be read at all.
 */
static int
memory_holds(pid_t pid, const uint8_t needles[][32], size_t n, size_t len,
    int found[])
{
	char path[64], line[1024];
	unsigned long lo, hi;
	size_t chunk = 1 << 20, regions = 0;
	uint8_t *buf = xmalloc(chunk + 64);
	FILE *maps;
	int fd, hits = 0;

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%ld/mem", (long)pid);
	fd = open(path, O_RDONLY);
	if (maps == NULL || fd == -1) {
		hits = -1;
		goto out;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		char perms[8];

		/*
		 * Regions over 1 GiB are reservations (a sanitizer's shadow,
		 * LMDB's map beyond its file), not where a key read from a
		 * file would sit.
		 */
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vvar") != NULL ||
		    hi - lo > (1UL << 30))
			continue;
		for (unsigned long at = lo; at < hi; at += chunk) {
			size_t want = hi - at < chunk + len - 1 ? hi - at :
			    chunk + len - 1;
			ssize_t got = pread(fd, buf, want, (off_t)at);

			if (got <= 0)
				break;
			regions++;
			for (size_t k = 0; k < n; k++) {
				if (found[k])
					continue;
				for (ssize_t i = 0; i + (ssize_t)len <= got; i++)
					if (buf[i] == needles[k][0] &&
					    memcmp(buf + i, needles[k], len) == 0) {
						found[k] = 1;
						hits++;
						break;
					}
			}
		}
	}
	if (regions == 0)
		hits = -1;
out:
	if (maps != NULL)
		fclose(maps);
	if (fd != -1)
		close(fd);
	OPENSSL_cleanse(buf, chunk + 64);
	free(buf);
	return hits;
}

/* Posts events first..first+n-1 (one subject each); returns how many took. */
static int
post_some(struct http_client *hc, int first, int n)
{
	struct http_response r;
	int ok = 0;

	for (int i = first; i < first + n; i++) {
		char *ev = sample_event(i);

		if (http_post_json(hc, "/v1/events", ev, &r) == 0) {
			ok += r.status == 201;
			http_response_free(&r);
		}
		free(ev);
	}
	return ok;
}

/*
 * ledgerd holds no key file open or mapped and none of the key bytes; the
 * keeper is confined.
 */
static void
body_no_key_bytes(struct daemon *d)
{
	uint8_t needles[SECRETS_MAX][32];
	int found[SECRETS_MAX];
	struct http_client hc;
	char path[1024], target[1400], line[1024], status[64], *log;
	size_t n = 0;
	pid_t keeper;
	struct dirent *de;
	DIR *dir;
	FILE *f;
	int hits;

	http_client_init(&hc, d->port, d->token);
	CHECK_INT(post_some(&hc, 0, 5), 5);
	REQUIRE((keeper = keeper_pid(d->pid)) > 0);

	/* Nothing of the keys is open or mapped in ledgerd. */
	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)d->pid);
	REQUIRE((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (names_key_file(line)) {
			fprintf(stderr, "  mapped in ledgerd: %s", line);
			CHECK(0);
		}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)d->pid);
	REQUIRE((dir = opendir(path)) != NULL);
	while ((de = readdir(dir)) != NULL) {
		ssize_t len;

		snprintf(target, sizeof(target), "%s/%s", path, de->d_name);
		if ((len = readlink(target, line, sizeof(line) - 1)) <= 0)
			continue;
		line[len] = '\0';
		if (names_key_file(line)) {
			fprintf(stderr, "  open in ledgerd: %s\n", line);
			CHECK(0);
		}
	}
	closedir(dir);

	/*
	 * The key bytes, read from the files as the keeper reads them: the
	 * log key's seed, each period's secret and the keys drawn from it.
	 */
	snprintf(path, sizeof(path), "%s/log.key", d->data);
	REQUIRE(ledger_keyfile_read_ed25519(path, needles[n]) == 0);
	n++;
	snprintf(path, sizeof(path), "%s/keys", d->data);
	REQUIRE((dir = opendir(path)) != NULL);
	while ((de = readdir(dir)) != NULL && n + 3 <= SECRETS_MAX) {
		if (strstr(de->d_name, ".key") == NULL)
			continue;
		snprintf(target, sizeof(target), "%s/%s", path, de->d_name);
		REQUIRE(ledger_keyfile_read_secret(target, needles[n], 32) == 0);
		REQUIRE(ledger_period_token_key(needles[n], needles[n + 1]) == 0);
		REQUIRE(ledger_period_seal_key(needles[n], needles[n + 2]) == 0);
		n += 3;
	}
	closedir(dir);
	CHECK(n >= 4);
	memset(found, 0, sizeof(found));
	hits = memory_holds(d->pid, (const uint8_t (*)[32])needles, n, 32, found);
	if (hits == -1) {
		fprintf(stderr, "  /proc/%ld/mem cannot be read here (%s): the "
		    "memory scan is skipped\n", (long)d->pid, strerror(errno));
	} else {
		CHECK_INT(hits, 0);
		/* The scan finds what is there: the development token is. */
		uint8_t token[1][32];
		int token_found[1] = { 0 };

		memcpy(token[0], d->token, 32);
		CHECK_INT(memory_holds(d->pid, (const uint8_t (*)[32])token, 1,
		    32, token_found), 1);
	}
	OPENSSL_cleanse(needles, sizeof(needles));

	/* The keeper is confined: no new privileges, seccomp unless the
	   sanitizer build said it skipped it. */
	status_field(keeper, "NoNewPrivs:", status, sizeof(status));
	CHECK(strstr(status, "1") != NULL);
	status_field(keeper, "Seccomp:", status, sizeof(status));
	log = daemon_log_read(d);
	if (strstr(log, "seccomp skipped") == NULL)
		CHECK(strstr(status, "2") != NULL);
	CHECK(strstr(log, "keeper: holding the log's keys") != NULL);
	free(log);
	/*
	 * Not dumpable: another process of its uid (the tests', as the
	 * network-facing one) cannot read its memory.  Root can: not checked.
	 */
	if (geteuid() != 0) {
		uint8_t probe[1][32] = { { 0 } };
		int probe_found[1] = { 0 };

		CHECK_INT(memory_holds(keeper, (const uint8_t (*)[32])probe, 1,
		    32, probe_found), -1);
	}
	http_client_close(&hc);
}

static void
test_no_key_bytes(void)
{
	daemon_test(body_no_key_bytes);
}

/*
 * The tree size of the published checkpoint (GET /checkpoint), checked
 * against the log's key; -1 when it cannot be had or does not verify.
 * (Not through /healthz, which is 503 while the keeper is gone.)
 */
static long long
checkpoint_size(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	struct ledger_checkpoint cp;
	long long size = -1;

	http_client_init(&hc, d->port, d->token);
	if (http_get_public(&hc, "/checkpoint", &r) == 0) {
		if (r.status == 200 && ledger_checkpoint_open(r.body, r.body_len,
		    &d->verifier, &cp) == 0)
			size = (long long)cp.tree_size;
		http_response_free(&r);
	}
	http_client_close(&hc);
	return size;
}

/* Waits until the published checkpoint covers size entries. */
static long long
checkpoint_reaches(struct daemon *d, long long size)
{
	long long got = -1;

	for (int i = 0; i < 500 && (got = checkpoint_size(d)) < size; i++)
		sleep_ms(10);
	return got;
}

/*
 * Kills the keeper of d with SIGKILL and waits until it is dead: ledgerd
 * reaps it once it notices.  Returns 0 or -1.
 */
static int
kill_keeper(struct daemon *d, pid_t keeper)
{
	if (kill(keeper, SIGKILL) != 0)
		return -1;
	for (int i = 0; i < 100 && keeper_pid(d->pid) == keeper; i++) {
		char path[64];
		FILE *f;
		char state[256] = "";

		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)keeper);
		if ((f = fopen(path, "r")) == NULL)
			break;
		if (fgets(state, sizeof(state), f) == NULL)
			state[0] = '\0';
		fclose(f);
		if (strstr(state, ") Z") != NULL)
			break;	/* a zombie: dead, not reaped yet */
		sleep_ms(20);
	}
	return 0;
}

/*
 * Killing the keeper: ledgerd refuses appends and subject queries with
 * 503 keys_unavailable, signs nothing, says so on /healthz and in its log;
 * after a restart every acknowledged entry is there and verifies.
 */
static void
body_keeper_killed(struct daemon *d)
{
	struct http_client hc;
	struct http_response r;
	struct ctl_result cr;
	char url[64], *ev;
	long long before;
	pid_t keeper;

	http_client_init(&hc, d->port, d->token);
	CHECK_INT(post_some(&hc, 0, 10), 10);
	REQUIRE((keeper = keeper_pid(d->pid)) > 0);
	REQUIRE((before = checkpoint_reaches(d, 10)) == 10);
	REQUIRE(kill_keeper(d, keeper) == 0);

	ev = sample_event(100);
	REQUIRE(http_post_json(&hc, "/v1/events", ev, &r) == 0);
	CHECK_ERROR(&r, 503, "keys_unavailable", NULL);
	http_response_free(&r);
	free(ev);
	REQUIRE(http_post_json(&hc, "/v1/events/batch",
	    "[{\"type\":\"query\",\"actor\":{\"org\":\"police\",\"user\":\"u\"},"
	    "\"purpose\":\"p\",\"object\":{\"ref\":\"doc-x\"},"
	    "\"occurred_at\":\"2026-01-02T03:04:05Z\"}]", &r) == 0);
	CHECK_ERROR(&r, 503, "keys_unavailable", NULL);
	http_response_free(&r);
	REQUIRE(http_get(&hc, "/v1/provenance/subjects/person-1?purpose=check",
	    &r) == 0);
	CHECK_ERROR(&r, 503, "keys_unavailable", NULL);
	http_response_free(&r);
	REQUIRE(http_get_public(&hc, "/healthz", &r) == 0);
	CHECK_ERROR(&r, 503, "keys_unavailable", NULL);
	http_response_free(&r);
	/* Nothing unsigned, nothing new: the checkpoint is the one before. */
	CHECK_INT(checkpoint_size(d), before);
	CHECK(daemon_log_wait(d, "the key keeper (pid"));
	CHECK(daemon_log_wait(d, "keys_unavailable"));
	http_client_close(&hc);

	/* A restart starts a new keeper; nothing acknowledged was lost. */
	CHECK_INT(daemon_stop(d), 0);
	REQUIRE(daemon_restart(d) == 0);
	CHECK(keeper_pid(d->pid) > 0 && keeper_pid(d->pid) != keeper);
	http_client_init(&hc, d->port, d->token);
	CHECK_INT(post_some(&hc, 10, 1), 1);
	CHECK_INT(checkpoint_reaches(d, before + 1), before + 1);
	http_client_close(&hc);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", d->token, 1);
	setenv("LEDGER_KEY", d->vkey, 1);
	ctl_exec(&cr, scratch, NULL, (const char *const[]){ "audit", NULL });
	CTL_EXPECT(&cr, 0, NULL);
	ctl_result_free(&cr);
	ctl_exec(&cr, scratch, NULL, (const char *const[]){ "who-saw",
	    "person-3", NULL });
	CTL_EXPECT(&cr, 0, "verified");
	ctl_result_free(&cr);
}

static void
test_keeper_killed(void)
{
	daemon_test(body_keeper_killed);
}

#define TOK_SEALED "keeper-sealed-app"
#define SEALED_BATCH 8

/* A daemon under a retention policy that seals purpose and details. */
static int
start_sealed(struct daemon *d)
{
	uint8_t h[LEDGER_HASH_LEN];
	char config[2048];

	ledger_sha256(TOK_SEALED, strlen(TOK_SEALED), h);
	snprintf(config, sizeof(config),
	    "{\"listen\": \"127.0.0.1:0\", \"origin\": "
	    "\"ledger.example.org/keeper-test\", \"orgs\": [\"police\", "
	    "\"om\"], \"principals\": [{\"id\": \"police-app\", \"org\": "
	    "\"police\", \"roles\": [\"writer\", \"reader\", \"operator\"], "
	    "\"token_sha256\": \"%s\"}],\n"
	    "\"retention\": {\"period\": \"quarter\", \"restrict_after\": "
	    "\"5y\", \"destroy_after\": \"10y\", \"sealed_fields\": "
	    "[\"purpose\", \"details\"]}}\n", hash_hex(h));
	return daemon_start_config(d, config);
}

/* A batch of n events, from first on, each with a subject and two sealed values. */
static char *
sealed_batch(int first, int n)
{
	char *text = xstrdup("["), *ev, *more;

	for (int i = first; i < first + n; i++) {
		ev = xasprintf("{\"type\":\"share\",\"actor\":{\"org\":"
		    "\"police\",\"user\":\"u-%d\"},\"subjects\":[\"SUBJ-%d\"],"
		    "\"recipients\":[\"om\"],\"object\":{\"ref\":\"case-%d\"},"
		    "\"purpose\":\"purpose-%d\",\"occurred_at\":"
		    "\"2026-01-01T00:00:00Z\",\"details\":{\"note\":"
		    "\"details-%d\"}}", i, i, i, i, i);
		more = xasprintf("%s%s%s", text, i > first ? "," : "", ev);
		free(text);
		free(ev);
		text = more;
	}
	more = xasprintf("%s]", text);
	free(text);
	return more;
}

static long long
exchanges(const struct daemon *d)
{
	return metric_value(d->port, TOK_SEALED, "ledgerd_keyring_exchanges_total");
}

/* The purpose opened for entry seq, or "" (the status in *status). */
static void
opened_purpose(struct http_client *hc, uint64_t seq, int *status,
    char *out, size_t cap)
{
	struct http_response r;
	char target[64];
	json_t *body;

	out[0] = '\0';
	*status = -1;
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64 "/opened", seq);
	if (http_get(hc, target, &r) != 0)
		return;
	*status = r.status;
	if (r.status == 200 && (body = json_loadb(r.body, r.body_len, 0,
	    NULL)) != NULL) {
		snprintf(out, cap, "%s", json_string_value(json_object_get(
		    json_object_get(json_object_get(body, "opened"), "purpose"),
		    "value")) ?: "");
		json_decref(body);
	}
	http_response_free(&r);
}

/*
 * Posts the batch of n sealed events from first on; returns the seq of the
 * last, or 0 when it was not appended.
 */
static uint64_t
post_sealed(struct http_client *hc, int first, int n)
{
	struct http_response r;
	json_t *answer;
	uint64_t last = 0;
	char *batch = sealed_batch(first, n);

	if (http_post_json(hc, "/v1/events/batch", batch, &r) == 0) {
		if (r.status == 201 && (answer = json_loadb(r.body, r.body_len,
		    0, NULL)) != NULL) {
			last = (uint64_t)json_integer_value(json_object_get(
			    answer, "first_seq")) + (uint64_t)n - 1;
			json_decref(answer);
		}
		http_response_free(&r);
	}
	free(batch);
	return last;
}

/*
 * A listing of the SEALED_BATCH + 1 sealed entries opens all their values
 * in one exchange, and each event carries its own entry's values.
 */
static void
check_listing_opens_once(struct daemon *d, struct http_client *hc)
{
	struct http_response r;
	const json_t *ev, *opened;
	long long before = exchanges(d), after;
	json_t *body, *entry;
	char want[64];
	size_t i, n = 0;
	int user;

	REQUIRE(http_get(hc, "/v1/events?limit=100", &r) == 0);
	after = exchanges(d);
	CHECK_INT(r.status, 200);
	if (after - before != 1)
		fprintf(stderr, "  a listing of %d sealed entries made %lld "
		    "exchanges\n", SEALED_BATCH + 1, after - before);
	CHECK_INT(after - before, 1);
	body = json_loadb(r.body, r.body_len, 0, NULL);
	REQUIRE(body != NULL);
	json_array_foreach(json_object_get(body, "events"), i, ev) {
		entry = json_loads(json_string_value(json_object_get(ev,
		    "entry")), 0, NULL);
		REQUIRE(entry != NULL);
		if (sscanf(json_string_value(json_object_get(json_object_get(
		    entry, "actor"), "user")) ?: "", "u-%d", &user) == 1) {
			opened = json_object_get(ev, "opened");
			snprintf(want, sizeof(want), "purpose-%d", user);
			CHECK_STR(json_string_value(json_object_get(
			    json_object_get(opened, "purpose"), "value")) ?: "",
			    want);
			snprintf(want, sizeof(want), "details-%d", user);
			CHECK_STR(json_string_value(json_object_get(json_object_get(
			    json_object_get(opened, "details"), "value"), "note")) ?:
			    "", want);
			n++;
		}
		json_decref(entry);
	}
	CHECK_INT(n, SEALED_BATCH + 1);
	json_decref(body);
	http_response_free(&r);
}

/*
 * A commit costs two exchanges with the keeper, however many of its
 * entries seal values: one for the subject tokens and sealed values of all
 * its events, one for the checkpoint's signature.  Opening them for a
 * listing costs one.
 */
static void
test_sealed_exchanges(void)
{
	struct daemon d;
	struct http_client hc;
	long long before, after;
	char purpose[64], want[64];
	uint64_t seq;
	int status;

	REQUIRE(start_sealed(&d) == 0);
	http_client_init(&hc, d.port, TOK_SEALED);
	/* The policy entry and a first commit are behind us. */
	CHECK(post_sealed(&hc, 0, 1) > 0);
	REQUIRE((before = exchanges(&d)) > 0);
	CHECK((seq = post_sealed(&hc, 1, SEALED_BATCH)) > 0);
	after = exchanges(&d);
	if (after - before != 2)
		fprintf(stderr, "  a commit of %d sealed entries made %lld "
		    "exchanges\n", SEALED_BATCH, after - before);
	CHECK_INT(after - before, 2);
	/* The last entry of the batch opens to the value posted. */
	opened_purpose(&hc, seq, &status, purpose, sizeof(purpose));
	CHECK_INT(status, 200);
	snprintf(want, sizeof(want), "purpose-%d", SEALED_BATCH);
	CHECK_STR(purpose, want);
	check_listing_opens_once(&d, &hc);
	http_client_close(&hc);
	CHECK_INT(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}

/* GET target answers 503 keys_unavailable with Retry-After: 1. */
static void
check_keys_unavailable(struct http_client *hc, const char *target)
{
	struct http_response r;

	REQUIRE(http_get(hc, target, &r) == 0);
	CHECK_ERROR(&r, 503, "keys_unavailable", NULL);
	CHECK_STR(http_header_get(&r, "Retry-After") ?: "", "1");
	http_response_free(&r);
}

/*
 * Opened values need the keeper: once it is gone an entry's opened values,
 * and listings that carry them, are refused with 503 keys_unavailable and
 * Retry-After, as appends are; the entry itself is still answered.
 */
static void
test_opened_without_keeper(void)
{
	struct daemon d;
	struct http_client hc;
	struct http_response r;
	char target[64], purpose[64];
	uint64_t seq;
	pid_t keeper;
	int status;

	REQUIRE(start_sealed(&d) == 0);
	http_client_init(&hc, d.port, TOK_SEALED);
	REQUIRE((seq = post_sealed(&hc, 0, 2)) > 0);
	opened_purpose(&hc, seq, &status, purpose, sizeof(purpose));
	CHECK_INT(status, 200);
	REQUIRE(http_get(&hc, "/v1/events?limit=3", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);

	REQUIRE((keeper = keeper_pid(d.pid)) > 0);
	REQUIRE(kill_keeper(&d, keeper) == 0);
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64 "/opened", seq);
	check_keys_unavailable(&hc, target);
	check_keys_unavailable(&hc, "/v1/events?limit=3");
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64, seq);
	REQUIRE(http_get(&hc, target, &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	http_client_close(&hc);
	CHECK_INT(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}

/* Whether the server has sent anything on c yet (no wait). */
static int
answered(const struct http_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	return c->len > 0 || poll(&p, 1, 0) != 0;
}

/*
 * A subject's tokens are made on a worker, never on the loop: with the
 * keeper stopped, a subjects query and an export by subject wait for it
 * while other requests are answered, and both are answered once it runs
 * again.  Made on the loop, either would hold every other request until the
 * keyring's timeout gave the keeper up (and then be refused, 503).
 */
static void
test_subject_lookup_off_loop(void)
{
	static const char *const targets[] = {
		"/v1/provenance/subjects/person-1?purpose=check",
		"/v1/export?subject=person-1&purpose=check",
	};
	struct daemon d;
	struct http_client hc;
	struct http_conn waiting[2];
	struct http_response r;
	char req[512];
	pid_t keeper;
	size_t i;

	memset(&d, 0, sizeof(d));
	REQUIRE(daemon_start(&d) == 0);
	http_client_init(&hc, d.port, d.token);
	CHECK_INT(post_some(&hc, 0, 3), 3);
	REQUIRE((keeper = keeper_pid(d.pid)) > 0);
	for (i = 0; i < 2; i++)
		REQUIRE(http_connect(&waiting[i], d.port, 20000) == 0);
	REQUIRE(kill(keeper, SIGSTOP) == 0);
	for (i = 0; i < 2; i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n"
		    "Authorization: Bearer %s\r\n\r\n", targets[i], d.token);
		CHECK_INT(http_send_raw(&waiting[i], req, strlen(req)), 0);
	}
	/* Time for the loop to read both and start their lookups. */
	sleep_ms(300);
	/* What needs neither the keeper nor a worker is answered meanwhile. */
	CHECK(http_get(&hc, "/checkpoint", &r) == 0 && r.status == 200);
	http_response_free(&r);
	CHECK(http_get(&hc, "/healthz", &r) == 0 && r.status == 200);
	http_response_free(&r);
	CHECK(http_get(&hc, "/v1/events/1", &r) == 0 && r.status == 200);
	http_response_free(&r);
	for (i = 0; i < 2; i++)
		CHECK(!answered(&waiting[i]));
	CHECK_INT(kill(keeper, SIGCONT), 0);
	for (i = 0; i < 2; i++) {
		REQUIRE(http_read_response(&waiting[i], &r, 0) == 0);
		CHECK_INT(r.status, 200);
		CHECK(strstr(r.body, i == 0 ? "\"events\"" : "\"seq\"") != NULL);
		http_response_free(&r);
		http_close(&waiting[i]);
	}
	http_client_close(&hc);
	CHECK_INT(daemon_stop(&d), 0);
	daemon_cleanup(&d);
}

/*
 * A data directory from before periods: its subject.key becomes the
 * period "legacy" (keys/legacy.key, subject.key wiped), and a subject
 * query looks the identifier up under it too, with the token its entries
 * were written with: HMAC under subject.key itself.
 */
static void
test_legacy_subject_key(void)
{
	struct daemon d;
	struct http_client hc;
	struct http_response r;
	uint8_t legacy[LEDGER_SUBJECT_KEY_LEN], moved[LEDGER_SUBJECT_KEY_LEN];
	char token[LEDGER_SUBJECT_TOKEN_LEN + 1], path[700];
	json_t *ans, *tokens;
	size_t i;
	int seen = 0;

	memset(&d, 0, sizeof(d));
	REQUIRE(daemon_start(&d) == 0);
	CHECK_INT(daemon_stop(&d), 0);
	/* As an older ledgerd left it: one subject key beside the log key. */
	for (i = 0; i < sizeof(legacy); i++)
		legacy[i] = (uint8_t)(i * 7 + 3);
	snprintf(path, sizeof(path), "%s/subject.key", d.data);
	REQUIRE(ledger_keyfile_write_secret(path, legacy, sizeof(legacy)) == 0);
	REQUIRE(daemon_restart(&d) == 0);
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/keys/legacy.key", d.data);
	REQUIRE(ledger_keyfile_read_secret(path, moved, sizeof(moved)) == 0);
	CHECK(memcmp(moved, legacy, sizeof(legacy)) == 0);

	REQUIRE(ledger_subject_token(legacy, "person-1", 8, token) == 0);
	http_client_init(&hc, d.port, d.token);
	REQUIRE(http_get(&hc, "/v1/provenance/subjects/person-1?purpose=check",
	    &r) == 0);
	CHECK_INT(r.status, 200);
	ans = json_loads(r.body, 0, NULL);
	tokens = json_object_get(ans, "subject_tokens");
	CHECK_INT(json_array_size(tokens), 2);
	for (i = 0; i < json_array_size(tokens); i++)
		seen += strcmp(json_string_value(json_array_get(tokens, i)),
		    token) == 0;
	CHECK_INT(seen, 1);
	json_decref(ans);
	http_response_free(&r);

	/* The client verifies answers and exports over both periods. */
	CHECK_INT(post_some(&hc, 0, 3), 3);
	http_client_close(&hc);
	{
		struct ctl_result cr;
		char url[64], *out = xasprintf("%s/legacy-export", scratch);

		snprintf(url, sizeof(url), "http://127.0.0.1:%u", d.port);
		setenv("LEDGER_URL", url, 1);
		setenv("LEDGER_TOKEN", d.token, 1);
		setenv("LEDGER_KEY", d.vkey, 1);
		ctl_exec(&cr, scratch, NULL, (const char *const[]){ "who-saw",
		    "person-1", NULL });
		CTL_EXPECT(&cr, 0, "1 event");
		ctl_result_free(&cr);
		ctl_exec(&cr, scratch, NULL, (const char *const[]){ "export",
		    "--subject", "person-1", "--out", out, NULL });
		CTL_EXPECT(&cr, 0, "exported");
		ctl_result_free(&cr);
		ctl_exec(&cr, scratch, NULL, (const char *const[]){
		    "verify-export", out, NULL });
		CTL_EXPECT(&cr, 0, "verifies");
		ctl_result_free(&cr);
		free(out);
	}
	daemon_cleanup(&d);
}

/* A log begun before periods whose subject.key is missing is refused. */
static void
test_legacy_key_missing(void)
{
	struct daemon d;
	char path[700], *log;

	memset(&d, 0, sizeof(d));
	REQUIRE(daemon_start(&d) == 0);
	CHECK_INT(daemon_stop(&d), 0);
	/* Without keys/: as a log from before periods would be. */
	snprintf(path, sizeof(path), "%s/keys", d.data);
	REQUIRE(remove_tree(path) == 0);
	CHECK(daemon_restart(&d) != 0);
	log = daemon_log_read(&d);
	CHECK(strstr(log, "subject.key is missing") != NULL ||
	    strstr(log, "subject key") != NULL);
	free(log);
	daemon_cleanup(&d);
}

int
main(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/ledgerd-keeper.XXXXXX");
	if (mkdtemp(scratch) == NULL)
		return 1;
	RUN(test_no_key_bytes);
	RUN(test_keeper_killed);
	RUN(test_sealed_exchanges);
	RUN(test_opened_without_keeper);
	RUN(test_subject_lookup_off_loop);
	RUN(test_legacy_subject_key);
	RUN(test_legacy_key_missing);
	remove_tree(scratch);
	return TEST_SUMMARY();
}
