/*
 * Durability (spec §7.4: a request is answered only once its transaction
 * is durable): concurrent writers append while the daemon is killed with
 * SIGKILL; after a restart every acknowledged entry is there with exactly
 * the acknowledged leaf hash, the log extends every checkpoint published
 * before the crash, and `ledgerd fsck` finds the directory consistent.
 */
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define WRITERS 6
#define BATCH 3			/* events per batch of the batch writers */
#define ACK_WAIT_MS 120000	/* bound on waiting for the acknowledgements */

struct ack {
	uint64_t seq;
	uint8_t leaf_hash[LEDGER_HASH_LEN];
};

/* One writer thread; the main thread reads it only after the join. */
struct writer {
	pthread_t thread;
	int id, round;
	unsigned port;
	char token[256];
	struct ledger_verifier verifier;
	int batch;			/* posts batches instead of single events */
	struct ack *acks;
	size_t n_acks, cap;
	char *pending_body;		/* in flight when the daemon died */
	char pending_key[64];
	char *checkpoint;		/* largest checkpoint it was given */
	uint64_t checkpoint_size;
	char error[256];		/* an unexpected answer, if any */
};

static atomic_int total_acks;
static atomic_int stop_writers;

static void
add_ack(struct writer *w, const struct appended *a)
{
	if (w->n_acks == w->cap) {
		w->cap = w->cap * 2 + 64;
		w->acks = xrealloc(w->acks, w->cap * sizeof(*w->acks));
	}
	w->acks[w->n_acks].seq = a->seq;
	memcpy(w->acks[w->n_acks].leaf_hash, a->leaf_hash, LEDGER_HASH_LEN);
	w->n_acks++;
	atomic_fetch_add(&total_acks, 1);
}

/*
 * Checks a ?wait=checkpoint answer, given while other writers append too:
 * its checkpoint verifies and the inclusion proof leads from the
 * acknowledged leaf to that checkpoint's root.  Keeps the largest
 * checkpoint.
 */
static void
check_and_keep_checkpoint(struct writer *w, const struct http_response *r,
    const struct appended *a)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	json_t *body = http_response_json(r), *ip;
	const char *note = json_string_value(json_object_get(body, "checkpoint"));
	struct ledger_checkpoint cp;
	size_t n;

	ip = json_object_get(body, "inclusion_proof");
	if (note == NULL ||
	    ledger_checkpoint_open(note, strlen(note), &w->verifier, &cp) != 0 ||
	    json_integer_value(json_object_get(ip, "tree_size")) !=
	    (json_int_t)cp.tree_size ||
	    json_integer_value(json_object_get(ip, "index")) != (json_int_t)a->seq ||
	    decode_hashes(json_object_get(ip, "hashes"), proof, LEDGER_MAX_PROOF,
	    &n) != 0 ||
	    ledger_merkle_verify_inclusion(a->leaf_hash, a->seq, cp.tree_size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, cp.root) != 0) {
		snprintf(w->error, sizeof(w->error), "seq %" PRIu64 ": checkpoint or "
		    "inclusion proof does not verify: %.150s", a->seq, r->body);
	} else if (cp.tree_size > w->checkpoint_size) {
		free(w->checkpoint);
		w->checkpoint = xstrdup(note);
		w->checkpoint_size = cp.tree_size;
	}
	json_decref(body);
}

static int
post_single(struct writer *w, struct http_client *hc, int n)
{
	struct http_response r;
	struct appended a;
	char hdr[128], key[64];
	char *ev;
	int rc;

	snprintf(key, sizeof(key), "r%d-w%d-%d", w->round, w->id, n);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s\r\n", key);
	ev = sample_event(w->round * 1000000 + w->id * 10000 + n);
	rc = post_event(hc, ev, "wait=checkpoint", hdr, &a, &r);
	if (rc == HTTP_EPROTO) {
		snprintf(w->error, sizeof(w->error), "POST /v1/events: bad answer");
		free(ev);
		return -1;
	}
	if (rc < 0) {
		/* No answer: it may or may not have been written. */
		w->pending_body = ev;
		snprintf(w->pending_key, sizeof(w->pending_key), "%s", key);
		return -1;
	}
	free(ev);
	if (rc == 201) {
		add_ack(w, &a);
		check_and_keep_checkpoint(w, &r, &a);
	} else if (rc != 503) {
		snprintf(w->error, sizeof(w->error), "POST /v1/events: %d %.150s",
		    rc, r.body);
	}
	http_response_free(&r);
	return w->error[0] ? -1 : 0;
}

static int
post_batch(struct writer *w, struct http_client *hc, int n)
{
	struct http_response r;
	struct appended a;
	char *ev[BATCH], *body, auth[300];
	json_t *answer, *events;
	int i, rc;

	for (i = 0; i < BATCH; i++)
		ev[i] = sample_event(w->round * 1000000 + w->id * 10000 + n * BATCH + i);
	body = xasprintf("[%s,%s,%s]", ev[0], ev[1], ev[2]);
	for (i = 0; i < BATCH; i++)
		free(ev[i]);
	snprintf(auth, sizeof(auth), "Bearer %s", w->token);
	rc = http_request(hc, "POST", "/v1/events/batch", auth, "application/json",
	    NULL, body, strlen(body), &r);
	free(body);
	if (rc != 0)
		return -1;
	if (r.status == 201) {
		answer = http_response_json(&r);
		events = json_object_get(answer, "events");
		if (json_array_size(events) != BATCH)
			snprintf(w->error, sizeof(w->error), "batch answer: %.150s", r.body);
		for (i = 0; i < (int)json_array_size(events); i++) {
			if (parse_appended(json_array_get(events, (size_t)i), &a) == 0)
				add_ack(w, &a);
			else
				snprintf(w->error, sizeof(w->error), "batch answer: %.150s",
				    r.body);
		}
		json_decref(answer);
	} else if (r.status != 503) {
		snprintf(w->error, sizeof(w->error), "POST /v1/events/batch: %d %.150s",
		    r.status, r.body);
	}
	http_response_free(&r);
	return w->error[0] ? -1 : 0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct http_client hc;
	int n;

	http_client_init(&hc, w->port, w->token);
	for (n = 0; !atomic_load(&stop_writers); n++)
		if ((w->batch ? post_batch(w, &hc, n) : post_single(w, &hc, n)) != 0)
			break;
	http_client_close(&hc);
	return NULL;
}

static void
writer_free(struct writer *w)
{
	free(w->acks);
	free(w->pending_body);
	free(w->checkpoint);
	memset(w, 0, sizeof(*w));
}

/*
 * Runs the writers until `acks` more appends are acknowledged, then kills
 * the daemon under them.  Returns 0, or -1 when the bound passed first.
 */
static int
write_and_crash(struct daemon *d, struct writer *ws, int round, int acks,
    int graceful)
{
	long long deadline = now_ms() + ACK_WAIT_MS;
	int i, target = atomic_load(&total_acks) + acks, rc = 0;

	atomic_store(&stop_writers, 0);
	for (i = 0; i < WRITERS; i++) {
		struct writer *w = &ws[i];

		memset(w, 0, sizeof(*w));
		w->id = i;
		w->round = round;
		w->port = d->port;
		w->batch = i % 3 == 2;
		snprintf(w->token, sizeof(w->token), "%s", d->token);
		w->verifier = d->verifier;
		if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
			fprintf(stderr, "  pthread_create failed\n");
			abort();
		}
	}
	while (atomic_load(&total_acks) < target) {
		if (now_ms() > deadline) {
			fprintf(stderr, "  only %d of %d acknowledgements within %d ms\n",
			    atomic_load(&total_acks), target, ACK_WAIT_MS);
			rc = -1;
			break;
		}
		if (!daemon_running(d)) {
			rc = -1;
			break;
		}
		sleep_ms(2);
	}
	/* The crash (or SIGTERM), in the middle of the writers' work. */
	if (!graceful)
		daemon_kill(d);
	else if (daemon_stop(d) != 0) {
		fprintf(stderr, "  SIGTERM under load: no clean exit\n");
		rc = -1;
	}
	atomic_store(&stop_writers, 1);
	for (i = 0; i < WRITERS; i++)
		pthread_join(ws[i].thread, NULL);
	for (i = 0; i < WRITERS; i++)
		if (ws[i].error[0]) {
			fprintf(stderr, "  writer %d: %s\n", i, ws[i].error);
			rc = -1;
		}
	return rc;
}

/* Every acknowledged append is in the log with its leaf hash. */
static void
check_acks(struct http_client *hc, struct writer *ws, uint64_t tree_size,
    uint8_t *seen, uint64_t seen_cap)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	char *bytes;
	size_t len, i;
	int w, status, bad = 0, n = 0;

	for (w = 0; w < WRITERS; w++)
		for (i = 0; i < ws[w].n_acks; i++) {
			const struct ack *a = &ws[w].acks[i];

			n++;
			if (a->seq >= tree_size) {
				fprintf(stderr, "  acknowledged seq %" PRIu64 " is past the "
				    "tree size %" PRIu64 " after restart\n", a->seq, tree_size);
				bad++;
				continue;
			}
			if (a->seq < seen_cap && seen[a->seq]++) {
				fprintf(stderr, "  seq %" PRIu64 " acknowledged twice\n",
				    a->seq);
				bad++;
			}
			status = fetch_entry(hc, a->seq, &bytes, &len);
			if (status != 200) {
				fprintf(stderr, "  acknowledged seq %" PRIu64 ": GET %d\n",
				    a->seq, status);
				bad++;
				continue;
			}
			ledger_leaf_hash(bytes, len, leaf);
			free(bytes);
			if (memcmp(leaf, a->leaf_hash, LEDGER_HASH_LEN) != 0) {
				fprintf(stderr, "  seq %" PRIu64 ": leaf %s", a->seq,
				    hash_hex(leaf));
				fprintf(stderr, " != acknowledged %s\n", hash_hex(a->leaf_hash));
				bad++;
			}
		}
	if (bad)
		test_failures_++;
	if (n == 0) {
		fprintf(stderr, "  no acknowledgements to check\n");
		test_failures_++;
	}
}

/* The restarted log extends each checkpoint the writers were given. */
static void
check_checkpoints(struct daemon *d, struct http_client *hc, struct writer *ws,
    const struct ledger_checkpoint *now)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	struct ledger_checkpoint old;
	struct http_response r;
	char target[128];
	json_t *body;
	size_t n;
	int w;

	for (w = 0; w < WRITERS; w++) {
		if (ws[w].checkpoint == NULL)
			continue;
		if (ledger_checkpoint_open(ws[w].checkpoint, strlen(ws[w].checkpoint),
		    &d->verifier, &old) != 0) {
			fprintf(stderr, "  a checkpoint given before the crash does not "
			    "verify with the key after it\n");
			test_failures_++;
			continue;
		}
		if (old.tree_size > now->tree_size) {
			fprintf(stderr, "  the log shrank: %" PRIu64 " before, %" PRIu64
			    " after\n", old.tree_size, now->tree_size);
			test_failures_++;
			continue;
		}
		snprintf(target, sizeof(target), "/v1/proof/consistency?from=%" PRIu64
		    "&to=%" PRIu64, old.tree_size, now->tree_size);
		if (http_get_public(hc, target, &r) != 0) {
			test_failures_++;
			continue;
		}
		body = http_response_json(&r);
		if (r.status != 200 || decode_hashes(json_object_get(body, "hashes"),
		    proof, LEDGER_MAX_PROOF, &n) != 0 ||
		    ledger_merkle_verify_consistency(old.tree_size, now->tree_size,
		    old.root, now->root, (const uint8_t (*)[LEDGER_HASH_LEN])proof,
		    n) != 0) {
			fprintf(stderr, "  %s: %d, does not verify: %s\n", target,
			    r.status, r.body);
			test_failures_++;
		}
		json_decref(body);
		http_response_free(&r);
	}
}

/* The whole log after the restart: seq fields, prev chain, root. */
static void
check_chain(struct http_client *hc, const struct ledger_checkpoint *cp)
{
	uint8_t prev[LEDGER_HASH_LEN] = { 0 }, root[LEDGER_HASH_LEN];
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	char want[48], *bytes;
	size_t len;
	uint64_t i;
	json_t *e;
	int bad = 0;

	for (i = 0; i < cp->tree_size; i++) {
		if (fetch_entry(hc, i, &bytes, &len) != 200) {
			fprintf(stderr, "  entry %" PRIu64 " missing\n", i);
			bad++;
			break;
		}
		e = json_loadb(bytes, len, 0, NULL);
		hash_b64(prev, want);
		if (json_integer_value(json_object_get(e, "seq")) != (json_int_t)i ||
		    json_string_value(json_object_get(e, "prev")) == NULL ||
		    strcmp(json_string_value(json_object_get(e, "prev")), want) != 0) {
			fprintf(stderr, "  entry %" PRIu64 ": seq or prev wrong\n", i);
			bad++;
		}
		ledger_leaf_hash(bytes, len, prev);
		ledger_merkle_append(&hs, i, prev);
		json_decref(e);
		free(bytes);
	}
	if (!bad && (ledger_merkle_root(&hs, cp->tree_size, root) != 0 ||
	    memcmp(root, cp->root, LEDGER_HASH_LEN) != 0)) {
		fprintf(stderr, "  the entries do not hash to the checkpoint's root\n");
		bad++;
	}
	if (bad)
		test_failures_++;
	ledger_memstore_free(ms);
}

/*
 * Requests in flight at the crash, repeated with their idempotency key:
 * written once at most, whatever the crash did.
 */
static void
retry_pending(struct http_client *hc, struct writer *ws, uint64_t size_at_restart,
    int *retried, int *committed)
{
	struct appended a, b;
	char hdr[128];
	int w, rc, rc2;

	for (w = 0; w < WRITERS; w++) {
		if (ws[w].pending_body == NULL)
			continue;
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s\r\n", ws[w].pending_key);
		rc = post_event(hc, ws[w].pending_body, NULL, hdr, &a, NULL);
		if (rc != 200 && rc != 201) {
			fprintf(stderr, "  retry of %s: %d\n", ws[w].pending_key, rc);
			test_failures_++;
			continue;
		}
		(*retried)++;
		*committed += rc == 200;
		/* 200: it was committed before the crash; 201: it was not. */
		if ((rc == 200) != (a.seq < size_at_restart)) {
			fprintf(stderr, "  retry of %s: %d with seq %" PRIu64 " (log had %"
			    PRIu64 " entries at restart)\n", ws[w].pending_key, rc, a.seq,
			    size_at_restart);
			test_failures_++;
		}
		CHECK_ENTRY(hc, &a);
		rc2 = post_event(hc, ws[w].pending_body, NULL, hdr, &b, NULL);
		CHECK_INT(rc2, 200);
		CHECK_INT(b.seq, a.seq);
	}
}

static void
body_crash(struct daemon *d)
{
	struct writer ws[2][WRITERS];
	struct ledger_checkpoint cp;
	struct ledger_verifier key = d->verifier;
	struct http_client hc;
	struct appended a;
	uint8_t *seen = NULL;
	char *ev;
	int round, code, retried, committed;

	memset(ws, 0, sizeof(ws));
	atomic_store(&total_acks, 0);
	for (round = 0; round < 2; round++) {
		retried = committed = 0;
		if (write_and_crash(d, ws[round], round, 300, 0) != 0)
			test_failures_++;
		/* The directory a crash leaves is consistent as it is. */
		CHECK_INT(daemon_fsck(d), 0);
		if (daemon_restart(d) != 0) {
			test_failures_++;
			goto out;
		}
		CHECK(memcmp(&key, &d->verifier, sizeof(key)) == 0);
		http_client_init(&hc, d->port, d->token);
		if (fetch_checkpoint(&hc, &d->verifier, &cp, NULL) != 0) {
			test_failures_++;
			http_client_close(&hc);
			goto out;
		}
		free(seen);
		seen = xcalloc(cp.tree_size + 1, 1);
		check_acks(&hc, ws[0], cp.tree_size, seen, cp.tree_size);
		if (round == 1)
			check_acks(&hc, ws[1], cp.tree_size, seen, cp.tree_size);
		check_checkpoints(d, &hc, ws[round], &cp);
		check_chain(&hc, &cp);
		retry_pending(&hc, ws[round], cp.tree_size, &retried, &committed);
		http_client_close(&hc);
		printf("  crash %d: %d appends acknowledged in all, tree size %" PRIu64
		    " after restart; %d requests in flight retried, %d of them "
		    "had been committed\n", round + 1, atomic_load(&total_acks),
		    cp.tree_size, retried, committed);
	}

	/* A clean stop, fsck, and the log goes on. */
	code = daemon_stop(d);
	CHECK_INT(code, 0);
	CHECK_INT(daemon_fsck(d), 0);
	if (daemon_restart(d) != 0) {
		test_failures_++;
		goto out;
	}
	http_client_init(&hc, d->port, d->token);
	if (fetch_checkpoint(&hc, &d->verifier, &cp, NULL) == 0) {
		ev = sample_event(42);
		CHECK_INT(post_event(&hc, ev, NULL, NULL, &a, NULL), 201);
		CHECK_INT(a.seq, cp.tree_size);
		CHECK_ENTRY(&hc, &a);
		free(ev);
	} else {
		test_failures_++;
	}
	http_client_close(&hc);
out:
	for (round = 0; round < 2; round++) {
		int i;

		for (i = 0; i < WRITERS; i++)
			writer_free(&ws[round][i]);
	}
	free(seen);
}

static void
test_crash(void)
{
	daemon_test(body_crash);
}

/*
 * SIGTERM while writers append: the daemon commits and answers what it has
 * taken, exits 0, and everything it acknowledged is there afterwards.
 */
static void
body_sigterm_drains(struct daemon *d)
{
	struct writer ws[WRITERS];
	struct ledger_checkpoint cp;
	struct http_client hc;
	uint8_t *seen = NULL;
	int retried = 0, committed = 0, i;

	memset(ws, 0, sizeof(ws));
	atomic_store(&total_acks, 0);
	if (write_and_crash(d, ws, 7, 200, 1) != 0)
		test_failures_++;
	CHECK_INT(daemon_fsck(d), 0);
	if (daemon_restart(d) != 0) {
		test_failures_++;
		goto out;
	}
	http_client_init(&hc, d->port, d->token);
	if (fetch_checkpoint(&hc, &d->verifier, &cp, NULL) == 0) {
		seen = xcalloc(cp.tree_size + 1, 1);
		check_acks(&hc, ws, cp.tree_size, seen, cp.tree_size);
		check_checkpoints(d, &hc, ws, &cp);
		check_chain(&hc, &cp);
		retry_pending(&hc, ws, cp.tree_size, &retried, &committed);
		printf("  %d appends acknowledged before SIGTERM, tree size %" PRIu64
		    " after restart; %d requests without an answer\n",
		    atomic_load(&total_acks), cp.tree_size, retried);
	} else {
		test_failures_++;
	}
	http_client_close(&hc);
out:
	for (i = 0; i < WRITERS; i++)
		writer_free(&ws[i]);
	free(seen);
}

static void
test_sigterm_drains(void)
{
	daemon_test(body_sigterm_drains);
}

/*
 * Calls fn on each regular file of the data directory holding needle
 * (the daemon's file layout is its own business).  Returns how many.
 */
static int
for_files_holding(const struct daemon *d, const char *needle,
    void (*fn)(const char *path, uint8_t *buf, size_t len, const char *needle))
{
	DIR *dir = opendir(d->data);
	struct dirent *e;
	struct stat st;
	char path[1024];
	uint8_t *buf;
	FILE *f;
	int n = 0;

	if (dir == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", d->data, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
			continue;
		buf = xmalloc((size_t)st.st_size);
		if ((f = fopen(path, "rb")) != NULL) {
			if (fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size &&
			    memmem(buf, (size_t)st.st_size, needle, strlen(needle))) {
				fn(path, buf, (size_t)st.st_size, needle);
				n++;
			}
			fclose(f);
		}
		free(buf);
	}
	closedir(dir);
	return n;
}

/* Changes one character of every copy of needle (live and stale pages). */
static void
alter_copies(const char *path, uint8_t *buf, size_t len, const char *needle)
{
	size_t nlen = strlen(needle);
	uint8_t *p = buf;
	FILE *f;

	while ((p = memmem(p, len - (size_t)(p - buf), needle, nlen)) != NULL) {
		p[nlen - 1] = 'Z';	/* still a valid JSON string */
		p += nlen;
	}
	if ((f = fopen(path, "r+b")) != NULL) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}

static void
cut_in_half(const char *path, uint8_t *buf, size_t len, const char *needle)
{
	if (truncate(path, (off_t)(len / 2)) != 0)
		fprintf(stderr, "  truncate %s failed\n", path);
}

/*
 * fsck finds damage instead of blessing it: an entry whose stored bytes
 * changed, a data file cut short.  It reports (exit code 1 or more), and
 * does not crash.
 */
static void
body_fsck_damage(struct daemon *d)
{
	struct http_client hc;
	char *ev;
	int i, code;

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < 6; i++) {
		ev = sample_event_of("query", "fiu", "u", NULL, NULL, 4240 + i);
		CHECK_INT(post_event(&hc, ev, NULL, NULL, NULL, NULL), 201);
		free(ev);
	}
	http_client_close(&hc);
	CHECK_INT(daemon_stop(d), 0);
	REQUIRE(daemon_fsck(d) == 0);

	/* "doc-4243" is the object.ref of entry 3 */
	REQUIRE(for_files_holding(d, "doc-4243", alter_copies) > 0);
	printf("  (an error report from fsck is expected next)\n");
	code = daemon_fsck(d);
	if (code <= 0) {
		fprintf(stderr, "  fsck of an altered entry: %s\n", code == 0 ?
		    "exit 0, the damage was not found" : "no exit code");
		test_failures_++;
	}

	REQUIRE(for_files_holding(d, "doc-4244", cut_in_half) > 0);
	printf("  (an error report from fsck is expected next)\n");
	code = daemon_fsck(d);
	if (code <= 0) {
		fprintf(stderr, "  fsck of a data file cut in half: %s\n", code == 0 ?
		    "exit 0, the damage was not found" : "no exit code");
		test_failures_++;
	}
}

static void
test_fsck_damage(void)
{
	daemon_test(body_fsck_damage);
}

int
main(void)
{
	RUN(test_crash);
	RUN(test_sigterm_drains);
	RUN(test_fsck_damage);
	return TEST_SUMMARY();
}
