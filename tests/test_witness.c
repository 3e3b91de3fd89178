/*
 * End-to-end tests of `ledgerd witness`: the real daemon on a loopback port
 * the system chooses, in a temporary directory, fed checkpoints signed with
 * a real log key and consistency proofs from a real Merkle tree.  Every
 * status of C2SP tlog-witness, that refusals change nothing, concurrent
 * adds, restarts, a forked log leaving evidence that verifies offline, and
 * the witness's cosignature checked by an independent implementation
 * (tests/cosignature_check.py on Python's cryptography).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/witness_proto.h"
#include "ledger/xmalloc.h"

#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define ORIGIN "ledger.example.org/ct-box"
#define WNAME "board.example.org/witness"

/* A witness process and its directory. */
struct wd {
	pid_t pid;
	char root[256];
	char data[300];
	char log_path[300];
	unsigned port;
	char vkey[512];
	struct ledger_verifier verifier;
	struct http_client hc;
};

/* A log: its key and its tree. */
struct tlog {
	struct ledger_signer *signer;
	char *vkey;
	struct ledger_memstore *ms;
	struct ledger_hash_store hs;
	uint64_t size;
	const char *salt;	/* entries differ between forks */
};

static struct tlog main_log;

static void
tlog_init(struct tlog *t, uint8_t fill, const char *salt)
{
	uint8_t seed[LEDGER_ED25519_LEN];

	memset(t, 0, sizeof(*t));
	memset(seed, fill, sizeof(seed));
	if (ledger_signer_from_seed(ORIGIN, LEDGER_SIGTYPE_ED25519, seed,
	    &t->signer) != 0)
		abort();
	t->vkey = ledger_verifier_format(ledger_signer_verifier(t->signer));
	t->ms = ledger_memstore_new();
	t->hs = ledger_memstore_hash_store(t->ms);
	t->salt = salt;
}

static void
tlog_free(struct tlog *t)
{
	ledger_signer_free(t->signer);
	free(t->vkey);
	ledger_memstore_free(t->ms);
}

/* Grows the tree to n leaves. */
static void
tlog_grow(struct tlog *t, uint64_t n)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	char entry[64];

	for (; t->size < n; t->size++) {
		snprintf(entry, sizeof(entry), "%s entry %llu", t->salt,
		    (unsigned long long)t->size);
		if (ledger_leaf_hash(entry, strlen(entry), leaf) != 0 ||
		    ledger_merkle_append(&t->hs, t->size, leaf) != 0)
			abort();
	}
}

/* The signed checkpoint of the tree at size n (<= t->size). */
static char *
tlog_checkpoint(struct tlog *t, uint64_t n)
{
	struct ledger_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, ORIGIN);
	cp.tree_size = n;
	if (ledger_merkle_root(&t->hs, n, cp.root) != 0)
		abort();
	return ledger_checkpoint_sign(&cp, t->signer);
}

/* The add-checkpoint body from old to n. */
static char *
tlog_request(struct tlog *t, uint64_t old, uint64_t n, size_t *len)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	size_t np = 0;
	char *cp, *body;

	tlog_grow(t, n);
	if (old > 0 && ledger_merkle_consistency_proof(&t->hs, old, n, proof,
	    &np) != 0)
		abort();
	cp = tlog_checkpoint(t, n);
	body = ledger_add_checkpoint_format(old, (const uint8_t (*)[32])proof,
	    np, cp, strlen(cp), len);
	free(cp);
	return body;
}

/* ---- the witness process --------------------------------------------- */

static int
wd_find_port(struct wd *w, off_t from)
{
	static const char needle[] = "listening on http://127.0.0.1:";
	char buf[16384];
	const char *p;
	ssize_t n;
	int fd;

	if ((fd = open(w->log_path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, needle)) == NULL)
		return 0;
	p += sizeof(needle) - 1;
	w->port = (unsigned)strtoul(p, NULL, 10);
	return strchr(p, '\n') != NULL && w->port > 0;
}

static off_t
wd_log_size(const struct wd *w)
{
	struct stat st;

	return stat(w->log_path, &st) == 0 ? st.st_size : 0;
}

/* Runs `ledgerd witness` with the given logs; 0 once it listens. */
static int
wd_launch(struct wd *w, const char *const *logs, size_t n_logs)
{
	const char *argv[32];
	off_t from = wd_log_size(w);
	long long deadline;
	pid_t parent = getpid();
	size_t i, argc = 0;
	int status, fd;
	char vkey_path[400];
	FILE *f;

	argv[argc++] = daemon_bin();
	argv[argc++] = "witness";
	argv[argc++] = "--data";
	argv[argc++] = w->data;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--name";
	argv[argc++] = WNAME;
	for (i = 0; i < n_logs; i++) {
		argv[argc++] = "--log";
		argv[argc++] = logs[i];
	}
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	if ((w->pid = fork()) < 0)
		return -1;
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open(w->log_path, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	deadline = now_ms() + DAEMON_START_TIMEOUT_MS;
	while (!wd_find_port(w, from)) {
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			w->pid = 0;
			return -1;
		}
		if (now_ms() > deadline) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
			w->pid = 0;
			return -1;
		}
		sleep_ms(5);
	}
	snprintf(vkey_path, sizeof(vkey_path), "%s/witness.vkey", w->data);
	if ((f = fopen(vkey_path, "r")) == NULL ||
	    fgets(w->vkey, sizeof(w->vkey), f) == NULL) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	w->vkey[strcspn(w->vkey, "\n")] = '\0';
	if (ledger_verifier_parse(w->vkey, &w->verifier) != 0)
		return -1;
	http_client_close(&w->hc);
	http_client_init(&w->hc, w->port, NULL);
	return 0;
}

static int
wd_start(struct wd *w, const char *const *logs, size_t n_logs)
{
	const char *tmp = getenv("TMPDIR");

	memset(w, 0, sizeof(*w));
	w->hc.conn.fd = -1;
	snprintf(w->root, sizeof(w->root), "%s/ledgerd-witness.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(w->root) == NULL)
		return -1;
	snprintf(w->data, sizeof(w->data), "%s/data", w->root);
	snprintf(w->log_path, sizeof(w->log_path), "%s/witness.log", w->root);
	return wd_launch(w, logs, n_logs);
}

/* SIGTERM and wait; the exit status, or -1. */
static int
wd_stop(struct wd *w)
{
	long long deadline = now_ms() + DAEMON_STOP_TIMEOUT_MS;
	int status;

	http_client_close(&w->hc);
	if (w->pid <= 0)
		return -1;
	kill(w->pid, SIGTERM);
	while (waitpid(w->pid, &status, WNOHANG) != w->pid) {
		if (now_ms() > deadline) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
			w->pid = 0;
			return -1;
		}
		sleep_ms(5);
	}
	w->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
wd_cleanup(struct wd *w)
{
	char cmd[400];
	int rc;

	if (w->pid > 0)
		CHECK_INT(wd_stop(w), 0);
	if (test_failures_) {
		fprintf(stderr, "  witness log: %s\n", w->log_path);
		snprintf(cmd, sizeof(cmd), "tail -n 30 %s >&2", w->log_path);
		rc = system(cmd);
		(void)rc;
		return;
	}
	remove_tree(w->root);
}

static int
wd_post(struct wd *w, const char *body, size_t len, struct http_response *r)
{
	return http_request(&w->hc, "POST", "/add-checkpoint", NULL,
	    "text/plain", NULL, body, len, r);
}

/* Posts and returns the status (the body freed); -1 on a transport error. */
static int
post_status(struct wd *w, const char *body, size_t len)
{
	struct http_response r;
	int status;

	if (wd_post(w, body, len, &r) != 0)
		return -1;
	status = r.status;
	http_response_free(&r);
	return status;
}

static char *
origin_path(void)
{
	uint8_t h[LEDGER_HASH_LEN];
	char hex[65];
	int i;

	ledger_sha256(ORIGIN, strlen(ORIGIN), h);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return xasprintf("/%s/checkpoint", hex);
}

/* GET the monitoring checkpoint; a new string or NULL (404). */
static char *
get_cosigned(struct wd *w)
{
	struct http_response r;
	char *path = origin_path(), *out = NULL;

	if (http_get_public(&w->hc, path, &r) == 0) {
		if (r.status == 200)
			out = xstrdup(r.body);
		http_response_free(&r);
	}
	free(path);
	return out;
}

/* Checks that an answer's body is one valid cosignature over cp_body. */
static int
check_cosignature(struct wd *w, const char *line, const char *note)
{
	struct ledger_cosignature c;
	size_t body_len = strstr(note, "\n\n") - note + 1;

	if (ledger_cosignature_parse(line, strlen(line), &c) != 0 ||
	    line[strlen(line) - 1] != '\n' ||
	    strchr(line, '\n') != line + strlen(line) - 1)
		return -1;
	if (!ledger_cosignature_matches(&w->verifier, &c))
		return -1;
	return ledger_cosignature_verify(&w->verifier, &c, note, body_len);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_happy_path(void)
{
	static const uint64_t sizes[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17,
	    100, 255, 256, 257, 1000 };
	const char *logs[] = { main_log.vkey };
	struct ledger_verifier keys[2];
	struct http_response r;
	struct wd w;
	uint64_t old = 0;
	size_t i, len;
	char *body, *cosigned;

	REQUIRE(wd_start(&w, logs, 1) == 0);
	/* Nothing cosigned yet: 404 at the monitoring path. */
	CHECK(get_cosigned(&w) == NULL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		body = tlog_request(&main_log, old, sizes[i], &len);
		REQUIRE(wd_post(&w, body, len, &r) == 0);
		CHECK_INT(r.status, 200);
		if (r.status == 200) {
			char *note = strstr(body, "\n\n") + 2;

			CHECK_INT(check_cosignature(&w, r.body, note), 0);
			CHECK_STR(http_header_get(&r, "Content-Type"),
			    "text/plain; charset=utf-8");
		} else
			fprintf(stderr, "  size %llu: %s", (unsigned long long)
			    sizes[i], r.body);
		http_response_free(&r);
		free(body);
		old = sizes[i];
	}
	/* The monitoring endpoint: the last checkpoint with the cosignature. */
	cosigned = get_cosigned(&w);
	REQUIRE(cosigned != NULL);
	keys[0] = *ledger_signer_verifier(main_log.signer);
	keys[1] = w.verifier;
	CHECK_INT(ledger_note_verify(cosigned, strlen(cosigned), keys, 2, NULL), 0);
	CHECK(strstr(cosigned, "\n1000\n") != NULL);
	CHECK(strstr(cosigned, "\xe2\x80\x94 " WNAME " ") != NULL);
	free(cosigned);
	/* The same checkpoint again: a fresh cosignature (old == size). */
	body = tlog_request(&main_log, 1000, 1000, &len);
	CHECK_INT(post_status(&w, body, len), 200);
	free(body);
	wd_cleanup(&w);
}

/*
 * state - what the witness holds, to show a refused request changed
 * nothing: the monitoring checkpoint's size and root, and the evidence.
 */
static char *
state(struct wd *w)
{
	struct http_response r;
	char *cp = get_cosigned(w), *out, *nl;
	char *ev = NULL;

	if (http_get_public(&w->hc, "/evidence", &r) == 0) {
		ev = xstrdup(r.body);
		http_response_free(&r);
	}
	/* Body only: a refresh would change the cosignature line. */
	if (cp != NULL && (nl = strstr(cp, "\n\n")) != NULL)
		nl[1] = '\0';
	out = xasprintf("%s|%s", cp ? cp : "(none)", ev ? ev : "(none)");
	free(cp);
	free(ev);
	return out;
}

static void
expect(struct wd *w, const char *what, const char *body, size_t len,
    int status, const char *want_body)
{
	struct http_response r;
	char *before = state(w), *after;

	if (wd_post(w, body, len, &r) != 0) {
		fprintf(stderr, "  %s: no answer\n", what);
		CHECK(0);
		free(before);
		return;
	}
	if (r.status != status || (want_body != NULL &&
	    strcmp(r.body, want_body) != 0)) {
		fprintf(stderr, "  %s: %d \"%s\", want %d\n", what, r.status,
		    r.body, status);
		CHECK(0);
	}
	http_response_free(&r);
	after = state(w);
	if (strcmp(before, after) != 0) {
		fprintf(stderr, "  %s: the witness's state changed\n", what);
		CHECK(0);
	}
	free(before);
	free(after);
}

static char *
with_note(uint64_t old, const char *note, size_t *len)
{
	return ledger_add_checkpoint_format(old, NULL, 0, note, strlen(note), len);
}

static void
test_every_error_status(void)
{
	const char *logs[] = { main_log.vkey };
	struct tlog other;
	struct http_response r;
	struct wd w;
	char *body, *cp, *bad;
	size_t len;

	tlog_init(&other, 0x42, "main");	/* same origin, another key */
	REQUIRE(wd_start(&w, logs, 1) == 0);
	body = tlog_request(&main_log, 0, 10, &len);
	REQUIRE(post_status(&w, body, len) == 200);
	free(body);

	/* 400: not the framing. */
	expect(&w, "empty body", "", 0, 400, NULL);
	expect(&w, "garbage", "hello\n", 6, 400, NULL);
	expect(&w, "no blank line", "old 10\n", 7, 400, NULL);
	expect(&w, "leading zero", "old 010\n\nx\n", 11, 400, NULL);
	cp = tlog_checkpoint(&main_log, 10);
	{
		char *b = xasprintf("old 10\nAAAA\n\n%s", cp);
		expect(&w, "short proof hash", b, strlen(b), 400, NULL);
		free(b);
		b = xstrdup("old 10\n");
		for (int i = 0; i < 64; i++) {
			char *n = xasprintf("%sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", b);
			free(b);
			b = n;
		}
		{
			char *full = xasprintf("%s\n%s", b, cp);
			expect(&w, "64 proof lines", full, strlen(full), 400, NULL);
			free(full);
		}
		free(b);
	}
	/* 400: a malformed checkpoint. */
	body = with_note(10, "ledger.example.org/ct-box\n10\nnot-base64\n\n"
	    "\xe2\x80\x94 x AAAAAAAA\n", &len);
	expect(&w, "malformed checkpoint", body, len, 400, NULL);
	free(body);
	body = with_note(10, "ledger.example.org/ct-box\n10\n", &len);
	expect(&w, "unsigned note", body, len, 400, NULL);
	free(body);
	/* 400: old larger than the size. */
	tlog_grow(&main_log, 20);
	free(cp);
	cp = tlog_checkpoint(&main_log, 5);
	body = with_note(10, cp, &len);
	expect(&w, "old > size", body, len, 400, NULL);
	free(body);
	free(cp);

	/* 404: an origin the witness does not know. */
	{
		struct ledger_checkpoint c;
		struct ledger_signer *s;
		uint8_t seed[32] = { 5 };

		REQUIRE(ledger_signer_from_seed("ledger.example.org/elsewhere",
		    LEDGER_SIGTYPE_ED25519, seed, &s) == 0);
		memset(&c, 0, sizeof(c));
		strcpy(c.origin, "ledger.example.org/elsewhere");
		c.tree_size = 3;
		cp = ledger_checkpoint_sign(&c, s);
		body = with_note(0, cp, &len);
		expect(&w, "unknown origin", body, len, 404, NULL);
		free(body);
		free(cp);
		ledger_signer_free(s);
	}

	/* 403: signed by another key only; a bad one by the trusted key. */
	tlog_grow(&other, 20);
	cp = tlog_checkpoint(&other, 20);
	body = with_note(10, cp, &len);
	expect(&w, "untrusted key", body, len, 403, NULL);
	free(body);
	free(cp);
	cp = tlog_checkpoint(&main_log, 20);
	bad = xstrdup(cp);
	{
		/* Flip a bit of the signature, keeping the base64 canonical. */
		char *sig = strstr(bad, "\n\n\xe2\x80\x94 ") + 6 + strlen(ORIGIN) + 1;
		sig[10] = sig[10] == 'A' ? 'B' : 'A';
	}
	{
		uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
		size_t np;

		REQUIRE(ledger_merkle_consistency_proof(&main_log.hs, 10, 20,
		    proof, &np) == 0);
		body = ledger_add_checkpoint_format(10,
		    (const uint8_t (*)[32])proof, np, bad, strlen(bad), &len);
		expect(&w, "bad signature by the trusted key", body, len, 403,
		    NULL);
		free(body);
		/* Its good signature plus a bad one by the same key: 403. */
		{
			char *two = xasprintf("%s%s", cp, strstr(bad, "\n\n") + 2);
			body = ledger_add_checkpoint_format(10,
			    (const uint8_t (*)[32])proof, np, two, strlen(two),
			    &len);
			expect(&w, "good and bad signature", body, len, 403, NULL);
			free(body);
			free(two);
		}
		/* A good one plus an unknown key's: accepted later (below). */
	}
	free(bad);
	free(cp);

	/* 409: old is not what the witness last cosigned. */
	body = tlog_request(&main_log, 5, 20, &len);
	expect(&w, "stale old", body, len, 409, "10\n");
	free(body);
	body = tlog_request(&main_log, 0, 20, &len);
	REQUIRE(wd_post(&w, body, len, &r) == 0);
	CHECK_INT(r.status, 409);
	CHECK_STR(r.body, "10\n");
	CHECK_STR(http_header_get(&r, "Content-Type"), "text/x.tlog.size");
	http_response_free(&r);
	free(body);

	/* 422: a non-empty proof from 0 (the state is 10, so 409 first):
	 * checked on a fresh log below; here a failing proof. */
	{
		uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
		size_t np;

		REQUIRE(ledger_merkle_consistency_proof(&main_log.hs, 10, 20,
		    proof, &np) == 0);
		proof[0][0] ^= 1;
		cp = tlog_checkpoint(&main_log, 20);
		body = ledger_add_checkpoint_format(10,
		    (const uint8_t (*)[32])proof, np, cp, strlen(cp), &len);
		REQUIRE(wd_post(&w, body, len, &r) == 0);
		CHECK_INT(r.status, 422);
		http_response_free(&r);
		free(body);
		/* A truncated proof and an empty one. */
		body = ledger_add_checkpoint_format(10,
		    (const uint8_t (*)[32])proof, np - 1, cp, strlen(cp), &len);
		CHECK_INT(post_status(&w, body, len), 422);
		free(body);
		body = with_note(10, cp, &len);
		CHECK_INT(post_status(&w, body, len), 422);
		free(body);
		free(cp);
	}
	/* ... and the state is still size 10: the right proof is accepted. */
	body = tlog_request(&main_log, 10, 20, &len);
	{
		/* With an unknown key's extra signature line. */
		char *sig = ledger_note_sign(other.signer, "x\n", 2);
		char *more = xasprintf("%s%s", body, sig);

		/* The line signs other text: unknown key, ignored. */
		free(sig);
		CHECK_INT(post_status(&w, more, strlen(more)), 200);
		free(more);
	}
	free(body);
	wd_cleanup(&w);

	/* A fresh witness: the rules of size 0 and old 0. */
	REQUIRE(wd_start(&w, logs, 1) == 0);
	{
		struct ledger_checkpoint c;

		memset(&c, 0, sizeof(c));
		strcpy(c.origin, ORIGIN);
		c.tree_size = 0;
		memset(c.root, 7, sizeof(c.root));
		cp = ledger_checkpoint_sign(&c, main_log.signer);
		body = with_note(0, cp, &len);
		expect(&w, "size 0, wrong root", body, len, 422, NULL);
		free(body);
		free(cp);
	}
	{
		uint8_t proof[1][LEDGER_HASH_LEN] = { { 1 } };

		cp = tlog_checkpoint(&main_log, 20);
		body = ledger_add_checkpoint_format(0, proof, 1, cp, strlen(cp),
		    &len);
		expect(&w, "proof from old 0", body, len, 422, NULL);
		free(body);
		free(cp);
	}
	/* Methods and paths. */
	REQUIRE(http_get_public(&w.hc, "/add-checkpoint", &r) == 0);
	CHECK_INT(r.status, 405);
	CHECK_STR(http_header_get(&r, "Allow"), "POST");
	http_response_free(&r);
	REQUIRE(http_request(&w.hc, "POST", "/evidence", NULL, "text/plain",
	    NULL, "x", 1, &r) == 0);
	CHECK_INT(r.status, 405);
	http_response_free(&r);
	REQUIRE(http_get_public(&w.hc, "/nothing", &r) == 0);
	CHECK_INT(r.status, 404);
	http_response_free(&r);
	REQUIRE(http_get_public(&w.hc, "/0000000000000000000000000000000000000000000000000000000000000000/checkpoint", &r) == 0);
	CHECK_INT(r.status, 404);
	http_response_free(&r);
	REQUIRE(http_get_public(&w.hc, "/evidence/1", &r) == 0);
	CHECK_INT(r.status, 404);
	http_response_free(&r);
	REQUIRE(http_get_public(&w.hc, "/metrics", &r) == 0);
	CHECK_INT(r.status, 200);
	CHECK(strstr(r.body, "ledgerd_witness_answers_total{code=\"422\"} 2") != NULL);
	http_response_free(&r);
	wd_cleanup(&w);
	tlog_free(&other);
}

/* Evidence document checks, offline, with the public keys only. */
static void
check_evidence(struct wd *w, const char *doc, const char *kind)
{
	struct ledger_checkpoint a, b;
	json_error_t jerr;
	json_t *d;
	const char *cosigned, *submitted;
	struct ledger_verifier keys[2];

	d = json_loads(doc, 0, &jerr);
	REQUIRE(d != NULL);
	CHECK_STR(json_string_value(json_object_get(d, "format")),
	    "ledgerd-witness-evidence/v1");
	CHECK_STR(json_string_value(json_object_get(d, "kind")), kind);
	CHECK_STR(json_string_value(json_object_get(d, "origin")), ORIGIN);
	CHECK_STR(json_string_value(json_object_get(json_object_get(d,
	    "witness"), "vkey")), w->vkey);
	CHECK_STR(json_string_value(json_array_get(json_object_get(d,
	    "log_vkeys"), 0)), main_log.vkey);
	cosigned = json_string_value(json_object_get(json_object_get(d,
	    "cosigned"), "checkpoint"));
	submitted = json_string_value(json_object_get(json_object_get(d,
	    "submitted"), "checkpoint"));
	REQUIRE(cosigned != NULL && submitted != NULL);
	/* Both signed by the log; the first cosigned by the witness too. */
	keys[0] = *ledger_signer_verifier(main_log.signer);
	keys[1] = w->verifier;
	CHECK_INT(ledger_checkpoint_open(cosigned, strlen(cosigned), &keys[0],
	    &a), 0);
	CHECK_INT(ledger_checkpoint_open(submitted, strlen(submitted), &keys[0],
	    &b), 0);
	CHECK_INT(ledger_note_verify(cosigned, strlen(cosigned), keys, 2, NULL), 0);
	CHECK(strstr(cosigned, "\xe2\x80\x94 " WNAME " ") != NULL);
	if (strcmp(kind, "same_size_different_root") == 0) {
		CHECK_INT(a.tree_size, b.tree_size);
		CHECK(memcmp(a.root, b.root, 32) != 0);
	} else {
		/* The proof in the document does not link the two. */
		json_t *hashes = json_object_get(json_object_get(d, "submitted"),
		    "consistency_proof");
		uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
		size_t i, n;

		REQUIRE(json_array_size(hashes) <= LEDGER_MAX_PROOF);
		for (i = 0; i < json_array_size(hashes); i++) {
			const char *h = json_string_value(json_array_get(hashes, i));
			REQUIRE(ledger_b64_decode(h, strlen(h), proof[i], 32,
			    &n) == 0);
		}
		CHECK(a.tree_size < b.tree_size);
		CHECK_INT(ledger_merkle_verify_consistency(a.tree_size,
		    b.tree_size, a.root, b.root, (const uint8_t (*)[32])proof,
		    json_array_size(hashes)), LEDGER_EVERIFY);
	}
	json_decref(d);
}

static void
test_fork_leaves_evidence(void)
{
	const char *logs[] = { main_log.vkey };
	struct tlog fork;
	struct http_response r;
	struct wd w;
	char *body, *cp;
	size_t len;
	json_t *list;

	/* The same key, other entries: a split view of one log. */
	tlog_init(&fork, 0, "fork");
	ledger_signer_free(fork.signer);
	fork.signer = main_log.signer;
	REQUIRE(wd_start(&w, logs, 1) == 0);
	body = tlog_request(&main_log, 0, 30, &len);
	REQUIRE(post_status(&w, body, len) == 200);
	free(body);

	/* Same size, other root. */
	tlog_grow(&fork, 40);
	cp = tlog_checkpoint(&fork, 30);
	body = with_note(30, cp, &len);
	REQUIRE(wd_post(&w, body, len, &r) == 0);
	CHECK_INT(r.status, 422);
	http_response_free(&r);
	/* Replayed: answered the same, kept once. */
	CHECK_INT(post_status(&w, body, len), 422);
	free(body);
	free(cp);
	/* A larger fork with the fork's own (failing) proof. */
	body = tlog_request(&fork, 30, 40, &len);
	CHECK_INT(post_status(&w, body, len), 422);
	free(body);

	REQUIRE(http_get_public(&w.hc, "/evidence", &r) == 0);
	CHECK_INT(r.status, 200);
	list = http_response_json(&r);
	http_response_free(&r);
	REQUIRE(list != NULL);
	CHECK_INT(json_array_size(json_object_get(list, "evidence")), 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(list, "evidence"), 0), "kind")),
	    "same_size_different_root");
	json_decref(list);
	REQUIRE(http_get_public(&w.hc, "/evidence/1", &r) == 0);
	CHECK_INT(r.status, 200);
	check_evidence(&w, r.body, "same_size_different_root");
	http_response_free(&r);
	REQUIRE(http_get_public(&w.hc, "/evidence/2", &r) == 0);
	CHECK_INT(r.status, 200);
	check_evidence(&w, r.body, "inconsistent_proof");
	http_response_free(&r);

	/* The honest log goes on; the evidence survives a restart. */
	body = tlog_request(&main_log, 30, 50, &len);
	CHECK_INT(post_status(&w, body, len), 200);
	free(body);
	CHECK_INT(wd_stop(&w), 0);
	REQUIRE(wd_launch(&w, logs, 1) == 0);
	REQUIRE(http_get_public(&w.hc, "/evidence/2", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	wd_cleanup(&w);
	fork.signer = NULL;
	tlog_free(&fork);
}

struct racer {
	struct wd *w;
	char *body;
	size_t len;
	int status;
	char answer[64];
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	struct http_client hc;
	struct http_response r;

	http_client_init(&hc, rc->w->port, NULL);
	rc->status = -1;
	if (http_request(&hc, "POST", "/add-checkpoint", NULL, "text/plain",
	    NULL, rc->body, rc->len, &r) == 0) {
		rc->status = r.status;
		snprintf(rc->answer, sizeof(rc->answer), "%s", r.body);
		http_response_free(&r);
	}
	http_client_close(&hc);
	return NULL;
}

/*
 * Concurrent adds from one old size: exactly one wins, the others learn
 * its size (409), and the stored size is the winner's.
 */
static void
test_concurrent_adds(void)
{
	enum { N = 8, ROUNDS = 4 };
	const char *logs[] = { main_log.vkey };
	struct racer racers[N];
	pthread_t th[N];
	struct wd w;
	uint64_t old = 0, winner = 0;
	char *cp, want[32];
	int i, round, wins;

	REQUIRE(wd_start(&w, logs, 1) == 0);
	tlog_grow(&main_log, 2000);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < N; i++) {
			racers[i].w = &w;
			racers[i].body = tlog_request(&main_log, old,
			    old + 10 + (uint64_t)i, &racers[i].len);
		}
		for (i = 0; i < N; i++)
			REQUIRE(pthread_create(&th[i], NULL, race, &racers[i]) == 0);
		for (i = 0; i < N; i++)
			pthread_join(th[i], NULL);
		for (wins = 0, i = 0; i < N; i++)
			if (racers[i].status == 200) {
				wins++;
				winner = old + 10 + (uint64_t)i;
			}
		CHECK_INT(wins, 1);
		snprintf(want, sizeof(want), "%llu\n", (unsigned long long)winner);
		for (i = 0; i < N; i++) {
			if (racers[i].status != 200) {
				CHECK_INT(racers[i].status, 409);
				CHECK_STR(racers[i].answer, want);
			}
			free(racers[i].body);
		}
		cp = get_cosigned(&w);
		REQUIRE(cp != NULL);
		snprintf(want, sizeof(want), "\n%llu\n", (unsigned long long)winner);
		CHECK(strstr(cp, want) != NULL);
		free(cp);
		old = winner;
	}
	wd_cleanup(&w);
}

static void
test_restart_keeps_state(void)
{
	const char *logs[] = { main_log.vkey };
	struct tlog second;
	const char *both[2];
	char vkey[512], *body;
	struct http_response r;
	struct wd w;
	size_t len;
	FILE *f;
	char line[1024];
	int found = 0;

	tlog_init(&second, 0x55, "second");
	REQUIRE(wd_start(&w, logs, 1) == 0);
	snprintf(vkey, sizeof(vkey), "%s", w.vkey);
	body = tlog_request(&main_log, 0, 12, &len);
	REQUIRE(post_status(&w, body, len) == 200);
	free(body);
	CHECK_INT(wd_stop(&w), 0);

	/* The same key and state after a restart. */
	REQUIRE(wd_launch(&w, logs, 1) == 0);
	CHECK_STR(w.vkey, vkey);
	body = tlog_request(&main_log, 0, 13, &len);
	REQUIRE(wd_post(&w, body, len, &r) == 0);
	CHECK_INT(r.status, 409);
	CHECK_STR(r.body, "12\n");
	http_response_free(&r);
	free(body);
	CHECK_INT(wd_stop(&w), 0);

	/* Without the log it holds state for: refuses to start. */
	{
		struct ledger_signer *s;
		uint8_t seed[32] = { 9 };

		REQUIRE(ledger_signer_from_seed("ledger.example.org/other",
		    LEDGER_SIGTYPE_ED25519, seed, &s) == 0);
		snprintf(vkey, sizeof(vkey), "%s", "");
		{
			char *vk = ledger_verifier_format(ledger_signer_verifier(s));
			snprintf(vkey, sizeof(vkey), "%s", vk);
			free(vk);
		}
		ledger_signer_free(s);
	}
	both[0] = vkey;
	CHECK(wd_launch(&w, both, 1) != 0);
	CHECK_INT(w.pid, 0);
	if ((f = fopen(w.log_path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, "never forgets a log") != NULL)
				found = 1;
		fclose(f);
	}
	CHECK(found);
	/* A second key for the same origin beside the first. */
	both[0] = main_log.vkey;
	both[1] = second.vkey;
	REQUIRE(wd_launch(&w, both, 2) == 0);
	/* The first key still works beside the second. */
	tlog_grow(&second, 5);
	{
		char *cp = tlog_checkpoint(&main_log, 12);
		body = with_note(12, cp, &len);
		CHECK_INT(post_status(&w, body, len), 200);
		free(body);
		free(cp);
	}
	wd_cleanup(&w);
	tlog_free(&second);
}

/* The witness's line, verified by the independent implementation. */
static void
test_python_verifies_cosignature(void)
{
	const char *logs[] = { main_log.vkey };
	struct http_response r;
	struct wd w;
	char *body, *note, path[400], *cmd, *line;
	size_t len, body_len;
	FILE *f;
	int rc;

	REQUIRE(wd_start(&w, logs, 1) == 0);
	body = tlog_request(&main_log, 0, 77, &len);
	REQUIRE(wd_post(&w, body, len, &r) == 0);
	REQUIRE(r.status == 200);
	note = strstr(body, "\n\n") + 2;
	body_len = strstr(note, "\n\n") - note + 1;
	snprintf(path, sizeof(path), "%s/body", w.root);
	REQUIRE((f = fopen(path, "w")) != NULL);
	fwrite(note, 1, body_len, f);
	fclose(f);
	line = xstrndup(r.body, strlen(r.body) - 1);
	cmd = xasprintf("python3 tests/cosignature_check.py verify '%s' '%s' '%s'",
	    w.vkey, path, line);
	rc = system(cmd);
	CHECK_INT(rc, 0);
	free(cmd);
	/* And a changed body fails there. */
	note[body_len - 3] ^= 1;
	REQUIRE((f = fopen(path, "w")) != NULL);
	fwrite(note, 1, body_len, f);
	fclose(f);
	cmd = xasprintf("python3 tests/cosignature_check.py verify '%s' '%s' '%s'",
	    w.vkey, path, line);
	rc = system(cmd);
	CHECK(rc != 0);
	free(cmd);
	free(line);
	http_response_free(&r);
	free(body);
	wd_cleanup(&w);
}

int
main(void)
{
	/* The witness is not the log's API: keep its exchanges out of the
	 * OpenAPI record. */
	unsetenv("LEDGER_TEST_RECORD");
	signal(SIGPIPE, SIG_IGN);
	tlog_init(&main_log, 0x11, "main");
	RUN(test_happy_path);
	RUN(test_every_error_status);
	RUN(test_fork_leaves_evidence);
	RUN(test_concurrent_adds);
	RUN(test_restart_keeps_state);
	RUN(test_python_verifies_cosignature);
	tlog_free(&main_log);
	return TEST_SUMMARY();
}
