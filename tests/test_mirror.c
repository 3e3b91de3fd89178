/*
 * ledgerctl mirror and witness policies end to end.  A mirror made from the
 * real daemon, with entries across several tiles, served by the real nginx
 * with the shipped configuration (docs/nginx-mirror.conf), answers audit
 * and verify as the log does; it grows incrementally (full tiles are never
 * fetched again, superseded partial tiles pruned); a tampered tile, entry
 * bundle or checkpoint in it makes the audit fail naming the file; entry
 * bundles need a listed client certificate.  Witness policies: checkpoints
 * cosigned here with witness keys of the test meet or miss their quorum
 * (all, any, k of n, nested groups, unknown and bad cosignatures) for every
 * command, and compliance bundles are checked offline with
 * verify-export --policy.  With LEDGER_TEST_VALGRIND=1 every ledgerctl run
 * is under valgrind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/hash.h"
#include "ledger/keyfile.h"
#include "ledger/note.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "nginxrun.h"
#include "testlib.h"
#include "witnessrun.h"

#define MAX_ARGS 40
#define N_WITNESSES 4
#define PUBLISH_TIMEOUT_MS 60000

static char scratch[512];	/* a temporary directory for this program */
static char pki[600];		/* tests/access_pki.sh's certificates */
static char readers[600];	/* subjects that may read entry bundles */
static char served[600];	/* the symlink nginx serves from */
static struct ledger_signer *witness[N_WITNESSES];
static char *witness_vkey[N_WITNESSES];

/* ---- running ledgerctl ---- */

/* Runs ledgerctl with the arguments, NULL-terminated. */
static void
ctl_run(struct ctl_result *r, ...)
{
	const char *args[MAX_ARGS + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, r);
	while (n < MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	ctl_exec(r, scratch, NULL, args);
}

#define CTL(code, phrase, ...)						\
	do {								\
		struct ctl_result r_;					\
		ctl_run(&r_, __VA_ARGS__, (const char *)NULL);		\
		CTL_EXPECT(&r_, (code), (phrase));			\
		ctl_result_free(&r_);					\
	} while (0)

static char *
scratch_path(const char *name)
{
	return xasprintf("%s/%s", scratch, name);
}

static void
use_daemon(const struct daemon *d)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", d->token, 1);
	setenv("LEDGER_KEY", d->vkey, 1);
	unsetenv("LEDGER_POLICY");
}

/*
 * Appends n sample events and waits until /checkpoint covers size: the log
 * may publish checkpoints at an interval, and what a mirror copies is what
 * /checkpoint says.
 */
static int
grow(const struct daemon *d, int first, int n, long long size)
{
	struct http_client hc;
	long long deadline = now_ms() + PUBLISH_TIMEOUT_MS, got = -1;

	http_client_init(&hc, d->port, d->token);
	if (post_events(&hc, first, n, 100) != 0) {
		http_client_close(&hc);
		return -1;
	}
	while ((got = tree_size_now(&hc, &d->verifier)) < size &&
	    now_ms() < deadline)
		sleep_ms(20);
	http_client_close(&hc);
	if (got != size)
		fprintf(stderr, "  /checkpoint has size %lld, want %lld\n", got,
		    size);
	return got == size ? 0 : -1;
}

/*
 * The --json answer of `mirror --out DIR ARGS...` (ARGS NULL-terminated),
 * or NULL (its output is printed).
 */
static json_t *
mirror_json(int code, const char *dir, ...)
{
	const char *args[MAX_ARGS + 1];
	struct ctl_result r;
	size_t n = 0;
	json_t *out = NULL;
	va_list ap;

	args[n++] = "--json";
	args[n++] = "mirror";
	args[n++] = "--out";
	args[n++] = dir;
	va_start(ap, dir);
	while (n < MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	ctl_exec(&r, scratch, NULL, args);
	if (CTL_EXPECT(&r, code, NULL) && code == 0 &&
	    (out = json_loads(r.out, 0, NULL)) == NULL) {
		fprintf(stderr, "  mirror --json printed no JSON: %s\n", r.out);
		test_failures_++;
	}
	ctl_result_free(&r);
	return out;
}

static long long
jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* ---- files ---- */

static int
exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	int ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static ino_t
inode(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	ino_t i = stat(p, &st) == 0 ? st.st_ino : 0;

	free(p);
	return i;
}

static int
write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static void
write_text(const char *path, const char *text)
{
	CHECK(write_bytes(path, text, strlen(text)) == 0);
}

/* XORs one byte of DIR/name at off (a negative off counts from the end). */
static void
flip(const char *dir, const char *name, long off, unsigned mask)
{
	char *p = xasprintf("%s/%s", dir, name), *b;
	size_t len;

	b = read_whole_file(p, &len);
	if (off < 0)
		off += (long)len;
	CHECK(len > 0 && off >= 0 && (size_t)off < len);
	if (len > 0 && off >= 0 && (size_t)off < len) {
		b[off] ^= (char)mask;
		CHECK(write_bytes(p, b, len) == 0);
	}
	free(b);
	free(p);
}

/* The offset of the n-th (from 0) occurrence of needle in DIR/name, or -1. */
static long
find_in(const char *dir, const char *name, const char *needle, int nth)
{
	char *p = xasprintf("%s/%s", dir, name), *b, *at;
	size_t len;
	long off = -1;

	b = read_whole_file(p, &len);
	for (at = b; (at = memmem(at, len - (size_t)(at - b), needle,
	    strlen(needle))) != NULL; at++)
		if (nth-- == 0) {
			off = (long)(at - b);
			break;
		}
	free(b);
	free(p);
	return off;
}

/* Points the directory nginx serves at dir (an atomic symlink swap). */
static void
serve_dir(const char *dir)
{
	char *tmp = xasprintf("%s.new", served);

	unlink(tmp);
	CHECK(symlink(dir, tmp) == 0);
	CHECK(rename(tmp, served) == 0);
	free(tmp);
}

/* cp -a of a directory, with the system's cp. */
static int
copy_tree(const char *from, const char *to)
{
	char *cmd = xasprintf("cp -a '%s' '%s'", from, to);
	int rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* ---- checkpoints ---- */

/* A checkpoint of the daemon's log signed with its own key. */
static char *
forge_checkpoint(const struct daemon *d, uint64_t size)
{
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_signer *s = NULL;
	struct ledger_checkpoint cp;
	char path[700], *note = NULL;
	int i;

	snprintf(path, sizeof(path), "%s/log.key", d->data);
	if (ledger_keyfile_read_ed25519(path, seed) != 0 ||
	    ledger_signer_from_seed(d->verifier.name, LEDGER_SIGTYPE_ED25519,
	    seed, &s) != 0)
		return NULL;
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", d->verifier.name);
	cp.tree_size = size;
	for (i = 0; i < LEDGER_HASH_LEN; i++)
		cp.root[i] = (uint8_t)(i * 7 + 1);	/* another history */
	note = ledger_checkpoint_sign(&cp, s);
	ledger_signer_free(s);
	return note;
}

/* How a witness's line is added to a checkpoint. */
enum cosig { C_NONE, C_GOOD, C_BAD };

/*
 * The note with a cosignature line of each witness as asked: C_GOOD a valid
 * cosignature/v1 over its body, C_BAD the same with one bit of the
 * signature flipped (still a well-formed line).  A new string.
 */
static char *
cosign(const char *note, const enum cosig how[N_WITNESSES])
{
	struct ledger_note_sig sigs[8];
	size_t nsigs, text_len, n, i;
	uint8_t blob[LEDGER_COSIG_BLOB_LEN];
	char *out = xstrdup(note), *line, *s, b64[128];
	const char *sp;

	if (ledger_note_split(note, strlen(note), sigs, 8, &nsigs,
	    &text_len) != 0)
		abort();
	for (i = 0; i < N_WITNESSES; i++) {
		if (how[i] == C_NONE)
			continue;
		if (ledger_cosignature_sign(witness[i], note, text_len,
		    1800000000 + i, &line) != 0)
			abort();
		if (how[i] == C_BAD) {
			/* "— name base64\n": flip a bit of the signature. */
			sp = strrchr(line, ' ');
			if (ledger_b64_decode(sp + 1, strlen(sp + 1) - 1, blob,
			    sizeof(blob), &n) != 0 || n != sizeof(blob))
				abort();
			blob[sizeof(blob) - 1] ^= 1;
			ledger_b64_encode(blob, sizeof(blob), b64);
			s = xasprintf("%.*s %s\n", (int)(sp - line), line, b64);
			free(line);
			line = s;
		}
		s = xasprintf("%s%s", out, line);
		free(out);
		free(line);
		out = s;
	}
	return out;
}

/* Writes DIR/checkpoint as base with the cosignatures asked for. */
static void
cosign_file(const char *dir, const char *base, enum cosig w0, enum cosig w1,
    enum cosig w2, enum cosig w3)
{
	enum cosig how[N_WITNESSES] = { w0, w1, w2, w3 };
	char *note = cosign(base, how), *path = xasprintf("%s/checkpoint", dir);

	write_text(path, note);
	free(path);
	free(note);
}

/* A policy file: the first listed witnesses of the test, then body. */
static char *
policy_file(const char *name, const char *log_line, int listed,
    const char *body)
{
	static const char *const names[N_WITNESSES] = { "one", "two", "three",
	    "four" };
	char *path = scratch_path(name), *text = xstrdup("# a test policy\n"), *s;
	int i;

	if (log_line != NULL) {
		s = xasprintf("%slog %s\n", text, log_line);
		free(text);
		text = s;
	}
	for (i = 0; i < listed; i++) {
		s = xasprintf("%switness %s %s\n", text, names[i],
		    witness_vkey[i]);
		free(text);
		text = s;
	}
	s = xasprintf("%s%s", text, body);
	free(text);
	write_text(path, s);
	free(s);
	return path;
}

/* ---- the mirror ---- */

/* The mirror's files at tree size 600, 900 and so on. */
static void
check_layout(const char *dir, const char *const *names, int present)
{
	for (; *names != NULL; names++)
		if (exists(dir, *names) != present) {
			fprintf(stderr, "  %s/%s: %s\n", dir, *names, present ?
			    "missing" : "still there");
			test_failures_++;
		}
}

/* curl's answer headers for a path of the mirror, lowercased. */
static char *
headers(const struct nginx *ng, const char *path)
{
	char *out = scratch_path("headers"), *cmd, *text, *p;

	cmd = xasprintf("curl -s -o /dev/null -D '%s' --cacert '%s/ca.pem' "
	    "'%s%s'", out, pki, ng->url, path);
	CHECK(system(cmd) == 0);
	text = read_whole_file(out, NULL);
	for (p = text; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	free(cmd);
	free(out);
	return text;
}

#define CHECK_HEADER(ng, path, want)					\
	do {								\
		char *h_ = headers((ng), (path));			\
		if (strstr(h_, (want)) == NULL) {			\
			fprintf(stderr, "  %s:%d: GET %s: no \"%s\" in\n%s\n", \
			    __FILE__, __LINE__, (path), (want), h_);	\
			test_failures_++;				\
		}							\
		free(h_);						\
	} while (0)

static void
body_mirror(struct daemon *d)
{
	static const char *const at600[] = { "checkpoint", "tile/0/000",
	    "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2",
	    "tile/entries/000", "tile/entries/001", "tile/entries/002.p/88",
	    NULL };
	static const char *const at900[] = { "tile/0/002", "tile/0/003.p/132",
	    "tile/1/000.p/3", "tile/entries/002", "tile/entries/003.p/132",
	    NULL };
	static const char *const pruned[] = { "tile/0/002.p/88",
	    "tile/0/002.p", "tile/entries/002.p/88", "tile/entries/002.p",
	    ".mirror-tmp", NULL };
	char *dir = scratch_path("mirror"), *dir2 = scratch_path("mirror2");
	char *old_dir = scratch_path("mirror-600"), *state = scratch_path("state");
	char *ca = xasprintf("%s/ca.pem", pki), *cert = xasprintf("%s/board.pem",
	    pki), *key = xasprintf("%s/board.key", pki);
	char *pcert = xasprintf("%s/police.pem", pki), *pkey =
	    xasprintf("%s/police.key", pki), *served_note, *note, *saved;
	char *ngdir = scratch_path("nginx"), *text;
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_signer *other;
	struct nginx ng = { 0 };
	ino_t tile0, bundle0;
	json_t *j;
	long off;
	int fd;

	use_daemon(d);
	REQUIRE(grow(d, 0, 600, 600) == 0);

	/* The first run copies everything, checkpoint last. */
	j = mirror_json(0, dir, (const char *)NULL);
	REQUIRE(j != NULL);
	CHECK_INT(jint(j, "tree_size"), 600);
	CHECK_INT(jint(j, "fetched_tiles"), 4);
	CHECK_INT(jint(j, "fetched_bundles"), 3);
	CHECK_INT(jint(j, "kept"), 0);
	json_decref(j);
	check_layout(dir, at600, 1);
	CHECK(!exists(dir, ".mirror-tmp"));
	REQUIRE(copy_tree(dir, old_dir) == 0);

	/* Served by nginx, it answers audit and verify like the log. */
	serve_dir(dir);
	REQUIRE(nginx_start(&ng, ngdir, served, pki, readers) == 0);
	CTL(0, "match the signed checkpoint", "--url", ng.url, "--cacert", ca,
	    "--cert", cert, "--cert-key", key, "audit");
	CTL(0, "first checkpoint", "--url", ng.url, "--cacert", ca, "verify",
	    "--state", state);
	CHECK_HEADER(&ng, "/checkpoint", "content-type: text/plain; charset=utf-8");
	CHECK_HEADER(&ng, "/checkpoint", "cache-control: no-cache");
	CHECK_HEADER(&ng, "/tile/0/000", "cache-control: public, max-age=31536000, immutable");
	CHECK_HEADER(&ng, "/tile/0/000", "content-type: application/octet-stream");
	CHECK_HEADER(&ng, "/tile/0/002.p/88", "cache-control: public, max-age=60");
	CHECK_HEADER(&ng, "/tile/0/x001/000", "404");
	CHECK_HEADER(&ng, "/.mirror-tmp/0", "404");
	CHECK_HEADER(&ng, "/tile/0/", "404");

	/* Entry bundles need a listed certificate; the rest does not. */
	CTL(3, "/tile/entries/000: 403", "--url", ng.url, "--cacert", ca,
	    "audit");
	CTL(3, "/tile/entries/000: 403", "--url", ng.url, "--cacert", ca,
	    "--cert", pcert, "--cert-key", pkey, "audit");
	/* A certificate of another CA is refused outright (400). */
	text = xasprintf("%s/wrongca.pem", pki);
	note = xasprintf("%s/wrongca.key", pki);
	CTL(3, "GET /checkpoint: 400", "--url", ng.url, "--cacert", ca,
	    "--cert", text, "--cert-key", note, "verify", "--state", state);
	free(text);
	free(note);
	j = mirror_json(0, dir2, "--url", ng.url, "--cacert", ca,
	    "--no-entries", (const char *)NULL);
	CHECK(j != NULL && jint(j, "fetched_tiles") == 4 &&
	    jint(j, "fetched_bundles") == 0);
	json_decref(j);
	CHECK(!exists(dir2, "tile/entries"));
	/* The same mirror with a certificate: only the bundles come. */
	j = mirror_json(0, dir2, "--url", ng.url, "--cacert", ca, "--cert",
	    cert, "--cert-key", key, (const char *)NULL);
	CHECK(j != NULL && jint(j, "fetched_tiles") == 0 &&
	    jint(j, "fetched_bundles") == 3 && jint(j, "kept") == 4);
	json_decref(j);

	/* Grown: only what is new is fetched; full tiles stay as they were. */
	tile0 = inode(dir, "tile/0/000");
	bundle0 = inode(dir, "tile/entries/000");
	REQUIRE(grow(d, 600, 300, 900) == 0);
	j = mirror_json(0, dir, (const char *)NULL);
	REQUIRE(j != NULL);
	CHECK_INT(jint(j, "previous_size"), 600);
	CHECK_INT(jint(j, "tree_size"), 900);
	CHECK_INT(jint(j, "fetched_tiles"), 3);	/* 0/002 0/003.p/132 1/000.p/3 */
	CHECK_INT(jint(j, "fetched_bundles"), 2);
	CHECK_INT(jint(j, "kept"), 4);
	CHECK_INT(jint(j, "removed_partials"), 0);
	json_decref(j);
	CHECK(inode(dir, "tile/0/000") == tile0);
	CHECK(inode(dir, "tile/entries/000") == bundle0);
	check_layout(dir, at900, 1);
	/* A reader of the previous checkpoint still finds its partial tiles. */
	check_layout(dir, at600, 1);
	CTL(0, "consistent with the saved checkpoint", "--url", ng.url,
	    "--cacert", ca, "verify", "--state", state);
	CTL(0, "900 entries", "--url", ng.url, "--cacert", ca, "--cert", cert,
	    "--cert-key", key, "audit");

	/* Once a full tile has been there for a run, its partials go. */
	j = mirror_json(0, dir, (const char *)NULL);
	CHECK(j != NULL && jint(j, "fetched_tiles") == 0 &&
	    jint(j, "fetched_bundles") == 0 && jint(j, "removed_partials") == 2);
	CHECK_STR(json_string_value(json_object_get(j, "verdict")), "unchanged");
	json_decref(j);
	check_layout(dir, pruned, 0);
	CHECK(exists(dir, "tile/1/000.p/2"));	/* its full tile is far off */

	/*
	 * A server that pruned them sooner: the checkpoint of 600 over the
	 * tiles of 900 without its partials.  tlog-tiles lets clients read
	 * the full tile instead, and ledgerctl does.
	 */
	{
		char *pruned_dir = scratch_path("pruned"), *from, *to;

		REQUIRE(copy_tree(dir, pruned_dir) == 0);
		from = xasprintf("%s/checkpoint", old_dir);
		to = xasprintf("%s/checkpoint", pruned_dir);
		note = read_whole_file(from, NULL);
		write_text(to, note);
		free(note);
		free(from);
		free(to);
		CHECK(!exists(pruned_dir, "tile/0/002.p/88"));
		serve_dir(pruned_dir);
		CTL(0, "600 entries", "--url", ng.url, "--cacert", ca, "--cert",
		    cert, "--cert-key", key, "audit");
		serve_dir(dir);
		free(pruned_dir);
	}

	/* A tampered file makes the audit fail, and the message names it. */
#define AUDIT_NAMES(file, phrase)					\
	do {								\
		struct ctl_result r_;					\
		ctl_run(&r_, "--url", ng.url, "--cacert", ca, "--cert", cert, \
		    "--cert-key", key, "audit", (const char *)NULL);	\
		CTL_EXPECT(&r_, 1, (file));				\
		CTL_EXPECT(&r_, 1, (phrase));				\
		ctl_result_free(&r_);					\
	} while (0)
	/* An entry in the middle of a bundle: the next one's prev breaks. */
	off = find_in(dir, "tile/entries/001", "\"purpose\":\"", 3);
	REQUIRE(off > 0);
	flip(dir, "tile/entries/001", off + 11, 0x20);
	AUDIT_NAMES("/tile/entries/001", "hash chain broken");
	flip(dir, "tile/entries/001", off + 11, 0x20);
	/* The log's last entry: only the root can tell. */
	off = find_in(dir, "tile/entries/003.p/132", "\"purpose\":\"", 131);
	REQUIRE(off > 0);
	flip(dir, "tile/entries/003.p/132", off + 11, 0x20);
	AUDIT_NAMES("/tile/entries/003.p/132", "do not lead to the signed");
	flip(dir, "tile/entries/003.p/132", off + 11, 0x20);
	/* A length prefix. */
	flip(dir, "tile/entries/000", 0, 0x40);
	AUDIT_NAMES("/tile/entries/000", "VERIFICATION FAILED");
	flip(dir, "tile/entries/000", 0, 0x40);
	flip(dir, "tile/0/001", 100, 1);
	AUDIT_NAMES("/tile/0/001", "differs from the tree recomputed");
	flip(dir, "tile/0/001", 100, 1);
	flip(dir, "tile/0/003.p/132", -1, 1);
	AUDIT_NAMES("/tile/0/003.p/132", "differs from the tree recomputed");
	flip(dir, "tile/0/003.p/132", -1, 1);
	flip(dir, "tile/1/000.p/3", 40, 1);
	AUDIT_NAMES("/tile/1/000.p/3", "differs from the tree recomputed");
	flip(dir, "tile/1/000.p/3", 40, 1);
	off = find_in(dir, "checkpoint", "\n900\n", 0);
	REQUIRE(off > 0);
	flip(dir, "checkpoint", off + 6, 1);	/* the root */
	AUDIT_NAMES("/checkpoint", "does not verify");
	CTL(1, "/checkpoint", "--url", ng.url, "--cacert", ca, "verify",
	    "--state", state);
	flip(dir, "checkpoint", off + 6, 1);
	CTL(0, "900 entries", "--url", ng.url, "--cacert", ca, "--cert", cert,
	    "--cert-key", key, "audit");

	/* The next run checks what DIR holds against the new tiles. */
	flip(dir, "tile/0/000", 8000, 1);
	REQUIRE(grow(d, 900, 300, 1200) == 0);
	CTL(1, "tile/0/000: the tile does not hash to its hash in /tile/1/000.p/4",
	    "mirror", "--out", dir);
	CHECK(find_in(dir, "checkpoint", "\n900\n", 0) > 0);	/* unchanged */
	CHECK(!exists(dir, ".mirror-tmp"));
	flip(dir, "tile/0/000", 8000, 1);
	j = mirror_json(0, dir, (const char *)NULL);
	CHECK(j != NULL && jint(j, "tree_size") == 1200 &&
	    jint(j, "fetched_tiles") == 3 && jint(j, "fetched_bundles") == 2);
	json_decref(j);
	CTL(0, "consistent with the saved checkpoint", "--url", ng.url,
	    "--cacert", ca, "verify", "--state", state);

	/* A mirror of the mirror, from nginx: what it serves is enough. */
	j = mirror_json(0, dir2, "--url", ng.url, "--cacert", ca, "--cert",
	    cert, "--cert-key", key, (const char *)NULL);
	CHECK(j != NULL && jint(j, "tree_size") == 1200 &&
	    jint(j, "previous_size") == 600);
	json_decref(j);

	/* DIR's checkpoint is the baseline: a rollback or fork changes nothing. */
	saved = xasprintf("%s/checkpoint", dir);
	served_note = read_whole_file(saved, NULL);
	note = forge_checkpoint(d, 5000);
	REQUIRE(note != NULL);
	write_text(saved, note);
	free(note);
	CTL(4, "ROLLBACK", "mirror", "--out", dir);
	note = forge_checkpoint(d, 1000);
	write_text(saved, note);
	CTL(4, "FORK", "mirror", "--out", dir);
	text = read_whole_file(saved, NULL);
	CHECK_STR(text, note);		/* nothing changed */
	free(text);
	free(note);
	note = forge_checkpoint(d, 1200);
	write_text(saved, note);
	CTL(4, "FORK", "mirror", "--out", dir);
	free(note);
	write_text(saved, served_note);
	CTL(0, "unchanged", "mirror", "--out", dir);

	/* One writer at a time. */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	CTL(5, "another ledgerctl mirror is writing it", "mirror", "--out", dir);
	close(fd);

	/* Another log's mirror is not this one's. */
	memset(seed, 5, sizeof(seed));
	if (ledger_signer_from_seed("other.example/log", LEDGER_SIGTYPE_ED25519,
	    seed, &other) == 0) {
		text = ledger_verifier_format(ledger_signer_verifier(other));
		CTL(1, "does not verify with key other.example/log", "--key",
		    text, "mirror", "--out", dir);
		free(text);
		ledger_signer_free(other);
	}

	if (test_failures_)
		nginx_print_log(&ng);
	CHECK(nginx_stop(&ng) == 0);
	free(served_note);
	free(saved);
	free(dir);
	free(dir2);
	free(old_dir);
	free(state);
	free(ca);
	free(cert);
	free(key);
	free(pcert);
	free(pkey);
	free(ngdir);
}

static void
test_mirror(void)
{
	daemon_test(body_mirror);
}

/* ---- witness policies ---- */

static void
body_quorum(struct daemon *d)
{
	char *dir = scratch_path("q-mirror"), *ngdir = scratch_path("q-nginx");
	char *ca = xasprintf("%s/ca.pem", pki), *cert = xasprintf("%s/board.pem",
	    pki), *key = xasprintf("%s/board.key", pki), *base, *path;
	char *all, *any, *two_of_three, *nested, *single, *none, *with_log;
	char *other_log, *other_key, *bad, *state = scratch_path("q-state");
	char *dir3 = scratch_path("q-mirror3");
	char *pair, *other_log_vkey, *other_key_vkey;
	struct nginx ng = { 0 };
	struct ledger_signer *s;
	uint8_t seed[LEDGER_ED25519_LEN] = { 77 };
	json_t *j;

	use_daemon(d);
	REQUIRE(grow(d, 0, 10, 10) == 0);
	j = mirror_json(0, dir, (const char *)NULL);
	REQUIRE(j != NULL);
	json_decref(j);
	path = xasprintf("%s/checkpoint", dir);
	base = read_whole_file(path, NULL);
	REQUIRE(base[0] != '\0');
	serve_dir(dir);
	REQUIRE(nginx_start(&ng, ngdir, served, pki, readers) == 0);
	setenv("LEDGER_URL", ng.url, 1);

	all = policy_file("all", NULL, 4, "group both all one two\n"
	    "quorum both\n");
	pair = policy_file("pair", NULL, 2, "group both all one two\n"
	    "quorum both\n");
	any = policy_file("any", NULL, 4, "group either any one two\n"
	    "quorum either\n");
	two_of_three = policy_file("two-of-three", NULL, 4,
	    "group most 2 one two three\nquorum most\n");
	nested = policy_file("nested", NULL, 4, "group core all one two\n"
	    "group top any core three\nquorum top\n");
	single = policy_file("single", NULL, 4, "quorum one\n");
	none = policy_file("none", NULL, 0, "quorum none\n");
	with_log = policy_file("with-log", d->vkey, 4,
	    "group both all one two\nquorum both\n");
	ledger_signer_from_seed(d->verifier.name, LEDGER_SIGTYPE_ED25519, seed,
	    &s);
	other_key_vkey = ledger_verifier_format(ledger_signer_verifier(s));
	ledger_signer_free(s);
	ledger_signer_from_seed("other.example/log", LEDGER_SIGTYPE_ED25519,
	    seed, &s);
	other_log_vkey = ledger_verifier_format(ledger_signer_verifier(s));
	ledger_signer_free(s);
	other_log = policy_file("other-log", other_log_vkey, 1, "quorum one\n");
	other_key = policy_file("other-key", other_key_vkey, 1, "quorum one\n");
	bad = scratch_path("bad-policy");
	write_text(bad, "witness one\nquorum one\n");

#define CKPT(code, phrase, policy)					\
	CTL((code), (phrase), "--cacert", ca, "--policy", (policy),	\
	    "checkpoint")

	/* Both cosigned: every kind of quorum that they satisfy. */
	cosign_file(dir, base, C_GOOD, C_GOOD, C_NONE, C_NONE);
	CKPT(0, "cosigned by one, two", all);
	CKPT(0, "cosigned by one, two", any);
	CKPT(0, "cosigned by one, two", nested);
	CKPT(0, "cosigned by one, two", two_of_three);
	CKPT(0, "quorum of the policy", single);
	CKPT(0, "quorum of the policy", with_log);

	/* One of two missing. */
	cosign_file(dir, base, C_GOOD, C_NONE, C_NONE, C_NONE);
	CKPT(6, "QUORUM NOT MET", all);
	CKPT(6, "no valid cosignature from two, three, four; cosigned by one",
	    all);
	CKPT(0, "cosigned by one", any);
	CKPT(6, "QUORUM NOT MET", nested);
	CKPT(6, "QUORUM NOT MET", two_of_three);

	/* A bad cosignature by a known witness satisfies nothing. */
	cosign_file(dir, base, C_GOOD, C_BAD, C_NONE, C_NONE);
	CKPT(6, "a bad cosignature (which counts for nothing) from two", all);
	CKPT(0, "cosigned by one", any);	/* one is enough; two ignored */
	cosign_file(dir, base, C_BAD, C_BAD, C_GOOD, C_NONE);
	CKPT(0, "cosigned by three", nested);
	CKPT(6, "from one, two", two_of_three);

	/*
	 * Witnesses the policy does not list are ignored, good or bad; a
	 * listed one outside the quorum is counted and changes nothing.
	 */
	cosign_file(dir, base, C_GOOD, C_GOOD, C_BAD, C_GOOD);
	CKPT(0, "cosigned by one, two", pair);
	CKPT(0, "cosigned by one, two, four", all);
	cosign_file(dir, base, C_NONE, C_NONE, C_GOOD, C_GOOD);
	CKPT(6, "no valid cosignature from one, two; cosigned by no witness",
	    pair);
	CKPT(6, "no valid cosignature from one, two", all);
	CKPT(0, "cosigned by three, four", nested);

	/* k of n, nested groups. */
	cosign_file(dir, base, C_GOOD, C_NONE, C_GOOD, C_NONE);
	CKPT(0, "cosigned by one, three", two_of_three);
	CKPT(0, "cosigned by one, three", nested);	/* three alone is top */
	CKPT(6, "QUORUM NOT MET", all);

	/* No cosignature: only quorum none. */
	cosign_file(dir, base, C_NONE, C_NONE, C_NONE, C_NONE);
	CKPT(0, "nobody (quorum none)", none);
	CKPT(6, "cosigned by no witness of the policy", single);

	/* The policy's log line must be the key in use. */
	CKPT(2, "is for another log", other_log);
	CKPT(2, "names this log's origin with another key", other_key);
	CKPT(2, "line 1", bad);
	/* Without --key, a policy naming one log gives its key. */
	cosign_file(dir, base, C_GOOD, C_GOOD, C_NONE, C_NONE);
	unsetenv("LEDGER_KEY");
	CKPT(0, "cosigned by one, two", with_log);
	CKPT(2, "give the log's verifier key", all);
	setenv("LEDGER_KEY", d->vkey, 1);

	/* The one check covers every command; LEDGER_POLICY is --policy. */
	cosign_file(dir, base, C_GOOD, C_NONE, C_NONE, C_NONE);
	setenv("LEDGER_POLICY", all, 1);
	CTL(6, "QUORUM NOT MET", "--cacert", ca, "checkpoint");
	CTL(6, "QUORUM NOT MET", "--cacert", ca, "--cert", cert, "--cert-key",
	    key, "audit");
	CTL(6, "QUORUM NOT MET", "--cacert", ca, "verify", "--state", state);
	CTL(6, "QUORUM NOT MET", "--cacert", ca, "mirror", "--out", dir3);
	CHECK(!exists(dir3, "checkpoint"));
	cosign_file(dir, base, C_GOOD, C_GOOD, C_NONE, C_NONE);
	CTL(0, "match the signed checkpoint", "--cacert", ca, "--cert", cert,
	    "--cert-key", key, "audit");
	CTL(0, "first checkpoint", "--cacert", ca, "verify", "--state", state);
	/* The cosignatures travel with the mirror. */
	CTL(0, "first checkpoint", "--cacert", ca, "--cert", cert, "--cert-key",
	    key, "mirror", "--out", dir3);
	{
		char *a = xasprintf("%s/checkpoint", dir3);
		char *m = read_whole_file(a, NULL), *o = read_whole_file(path,
		    NULL);

		CHECK_STR(m, o);
		free(a);
		free(m);
		free(o);
	}

	/* The daemon itself serves no cosignature (yet): refused everywhere. */
	use_daemon(d);
	setenv("LEDGER_POLICY", all, 1);
	CTL(6, "GET /checkpoint (tree size 10) lacks the witness quorum", "get",
	    "3");
	CTL(6, "QUORUM NOT MET", "prove", "3");
	CTL(6, "QUORUM NOT MET", "list", "--verify");
	CTL(6, "QUORUM NOT MET", "who-saw", "person-1");
	setenv("LEDGER_POLICY", none, 1);
	CTL(0, "\"seq\":3", "get", "3");
	unsetenv("LEDGER_POLICY");

	if (test_failures_)
		nginx_print_log(&ng);
	CHECK(nginx_stop(&ng) == 0);
	free(path);
	free(base);
	free(all);
	free(any);
	free(two_of_three);
	free(nested);
	free(single);
	free(none);
	free(with_log);
	free(other_log);
	free(other_key);
	free(other_log_vkey);
	free(other_key_vkey);
	free(pair);
	free(bad);
	free(state);
	free(dir);
	free(dir3);
	free(ngdir);
	free(ca);
	free(cert);
	free(key);
}

static void
test_quorum(void)
{
	daemon_test(body_quorum);
}

/* ---- compliance bundles with cosignatures ---- */

/* Replaces every copy of from in DIR/name by to. */
static void
replace_all(const char *dir, const char *name, const char *from,
    const char *to)
{
	char *p = xasprintf("%s/%s", dir, name), *b, *at, *out, *s;
	size_t len, fl = strlen(from);

	b = read_whole_file(p, &len);
	out = xstrdup("");
	for (at = b; (s = strstr(at, from)) != NULL; at = s + fl) {
		char *t = xasprintf("%s%.*s%s", out, (int)(s - at), at, to);

		free(out);
		out = t;
	}
	s = xasprintf("%s%s", out, at);
	CHECK(write_bytes(p, s, strlen(s)) == 0);
	free(s);
	free(out);
	free(b);
	free(p);
}

/* MANIFEST made anew (what someone altering a bundle would do). */
static void
remanifest(const char *dir)
{
	static const char *const files[] = { "README", "checkpoint",
	    "context.jsonl", "context.proofs", "entries.csv", "entries.jsonl",
	    "opened.jsonl", "proofs", NULL };
	uint8_t h[LEDGER_HASH_LEN];
	char *text = xstrdup(""), *p, *b, *s;
	size_t len, i;
	int k;

	for (k = 0; files[k] != NULL; k++) {
		p = xasprintf("%s/%s", dir, files[k]);
		b = read_whole_file(p, &len);
		ledger_sha256(b, len, h);
		s = xasprintf("%s", text);
		for (i = 0; i < LEDGER_HASH_LEN; i++) {
			char *t = xasprintf("%s%02x", s, h[i]);

			free(s);
			s = t;
		}
		free(text);
		text = xasprintf("%s  %s\n", s, files[k]);
		free(s);
		free(b);
		free(p);
	}
	p = xasprintf("%s/MANIFEST", dir);
	write_text(p, text);
	free(p);
	free(text);
}

/* A copy of the bundle whose checkpoint carries these cosignatures. */
static char *
cosigned_bundle(const char *bundle, const char *name, const char *base,
    enum cosig w0, enum cosig w1)
{
	enum cosig how[N_WITNESSES] = { w0, w1, C_NONE, C_NONE };
	char *dir = scratch_path(name), *note = cosign(base, how);

	CHECK(copy_tree(bundle, dir) == 0);
	/* The checkpoint and each proof's copy of it, then MANIFEST. */
	replace_all(dir, "checkpoint", base, note);
	replace_all(dir, "proofs", base, note);
	replace_all(dir, "context.proofs", base, note);
	remanifest(dir);
	free(note);
	return dir;
}

static void
body_export_policy(struct daemon *d)
{
	char *bundle = scratch_path("bundle"), *all, *base, *path, *dir;
	char *bad_dir = scratch_path("bundle-bad");

	use_daemon(d);
	REQUIRE(grow(d, 0, 20, 20) == 0);
	all = policy_file("export-all", NULL, 4,
	    "group both all one two\nquorum both\n");
	/* The log serves no cosignature: an export under the policy refuses. */
	CTL(6, "QUORUM NOT MET", "--policy", all, "export", "--out", bad_dir);
	CTL(0, "COMPLETE", "export", "--out", bundle);
	path = xasprintf("%s/checkpoint", bundle);
	base = read_whole_file(path, NULL);
	REQUIRE(base[0] != '\0');
	CTL(6, "no valid cosignature from one, two", "--policy", all,
	    "verify-export", bundle);

	/* As exported from a witnessed log: the cosignatures in every copy. */
	dir = cosigned_bundle(bundle, "bundle-both", base, C_GOOD, C_GOOD);
	CTL(0, "witnessed: the checkpoint meets the quorum", "--policy", all,
	    "verify-export", dir);
	CTL(0, "\"cosigned_by\":[\"one\",\"two\"]", "--json", "--policy", all,
	    "verify-export", dir);
	CTL(0, "COMPLETE", "verify-export", dir);	/* no policy: ignored */
	/* Only the checkpoint file altered: MANIFEST and the proofs say so. */
	flip(dir, "checkpoint", -3, 1);
	CTL(1, "VERIFICATION FAILED", "--policy", all, "verify-export", dir);
	free(dir);

	dir = cosigned_bundle(bundle, "bundle-one", base, C_GOOD, C_NONE);
	CTL(6, "no valid cosignature from two, three, four", "--policy", all,
	    "verify-export", dir);
	free(dir);
	/* A tampered cosignature, consistently in every copy and MANIFEST. */
	dir = cosigned_bundle(bundle, "bundle-tampered", base, C_GOOD, C_BAD);
	CTL(6, "a bad cosignature (which counts for nothing) from two",
	    "--policy", all, "verify-export", dir);
	free(dir);

	free(all);
	free(base);
	free(path);
	free(bundle);
	free(bad_dir);
}

static void
test_export_policy(void)
{
	daemon_test(body_export_policy);
}

/* ---- a witnessed log, end to end ---- */

#define WITNESSED_ORIGIN "ledger.example.org/mirrored"
#define WITNESSED_TOKEN "mirror-test-token"

/* The log's configuration; witnesses (may be "") goes in as it is. */
static char *
witnessed_config(const char *witnesses)
{
	uint8_t h[LEDGER_HASH_LEN];

	ledger_sha256(WITNESSED_TOKEN, strlen(WITNESSED_TOKEN), h);
	return xasprintf("{\n  \"listen\": \"127.0.0.1:0\",\n"
	    "  \"origin\": \"" WITNESSED_ORIGIN "\",\n"
	    "  \"principals\": [{\"id\": \"app\", \"org\": \"police\", "
	    "\"roles\": [\"writer\", \"reader\", \"supervisor\"], "
	    "\"token_sha256\": \"%s\"}]%s%s\n}\n", hash_hex(h),
	    witnesses[0] ? ",\n  " : "", witnesses);
}

/*
 * Polls GET /checkpoint until it covers size entries and meets the policy
 * (the log publishes at an interval, witnesses cosign a round trip later).
 */
static int
wait_witnessed(struct http_client *hc, const char *policy_text, long long size)
{
	struct ledger_policy_result *res = xmalloc(sizeof(*res));
	struct ledger_policy *p = NULL;
	struct http_response r;
	long long deadline = now_ms() + PUBLISH_TIMEOUT_MS;
	char err[256];
	int ok = 0;

	if (ledger_policy_parse(policy_text, strlen(policy_text), &p, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "  policy: %s\n", err);
		free(res);
		return -1;
	}
	while (!ok && now_ms() < deadline) {
		if (http_get_public(hc, "/checkpoint", &r) == 0) {
			ok = r.status == 200 && ledger_policy_verify(p, r.body,
			    r.body_len, res) == 0 &&
			    (long long)res->checkpoint.tree_size >= size;
			http_response_free(&r);
		}
		if (!ok)
			sleep_ms(20);
	}
	if (!ok)
		fprintf(stderr, "  no witnessed checkpoint of %lld entries\n",
		    size);
	ledger_policy_free(p);
	free(res);
	return ok ? 0 : -1;
}

/*
 * The real log publishing to two real witnesses (ledgerd witness): every
 * command with the policy, against the log, against a mirror of it served
 * by nginx, and on an export bundle, sees the witnesses' cosignatures.
 */
/* A failed setup step: counted, and everything started is cleaned up. */
#define CHECK_OR_OUT(cond)						\
	do {								\
		CHECK(cond);						\
		if (test_failures_)					\
			goto out;					\
	} while (0)

static void
test_witnessed_log(void)
{
	struct daemon d;
	struct witness_proc w[2];
	struct http_client hc;
	struct nginx ng = { 0 };
	char *config, *witnesses, *policy = NULL, *policy_path = NULL, *line;
	char *dir = scratch_path("w-mirror"), *ngdir = scratch_path("w-nginx");
	char *bundle = scratch_path("w-bundle"), *event = scratch_path("w-event");
	char *state = scratch_path("w-state"), *ca = xasprintf("%s/ca.pem", pki);
	char *cert = xasprintf("%s/board.pem", pki), *key = xasprintf(
	    "%s/board.key", pki), url[64], name[16], *text, path[700];
	int i, started = 0;

	memset(&d, 0, sizeof(d));
	memset(w, 0, sizeof(w));
	memset(&hc, 0, sizeof(hc));
	hc.conn.fd = -1;
	/* Once without witnesses, to make the key the witnesses must know. */
	config = witnessed_config("");
	if (daemon_start_config(&d, config) != 0 || daemon_stop(&d) != 0) {
		free(config);
		CHECK_OR_OUT(0);
	}
	free(config);
	policy = xasprintf("log %s\n", d.vkey);
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "w%d", i + 1);
		if (witness_start(&w[i], d.root, name, WITNESS_LEDGERD,
		    d.vkey) != 0)
			CHECK_OR_OUT(0);
		started++;
		line = xasprintf("%switness %s %s %s\n", policy, name, w[i].vkey,
		    w[i].url);
		free(policy);
		policy = line;
	}
	line = xasprintf("%sgroup both all w1 w2\nquorum both\n", policy);
	free(policy);
	policy = line;
	/* The log's policy and the verifiers' are the same file here. */
	snprintf(path, sizeof(path), "%s/witnesses.policy", d.root);
	write_text(path, policy);
	policy_path = scratch_path("w.policy");
	write_text(policy_path, policy);
	witnesses = xasprintf("\"witnesses\": {\"policy\": "
	    "\"witnesses.policy\", \"timeout_seconds\": 5}");
	config = witnessed_config(witnesses);
	free(witnesses);
	write_text(d.config, config);
	free(config);
	d.interval_ms = 50;
	CHECK_OR_OUT(daemon_restart(&d) == 0);
	http_client_init(&hc, d.port, WITNESSED_TOKEN);
	CHECK_OR_OUT(post_events(&hc, 0, 300, 100) == 0);
	CHECK_OR_OUT(wait_witnessed(&hc, policy, 300) == 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d.port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", WITNESSED_TOKEN, 1);
	setenv("LEDGER_KEY", d.vkey, 1);
	setenv("LEDGER_POLICY", policy_path, 1);
	/* Cosignatures join a published checkpoint a round trip later. */
	setenv("LEDGER_QUORUM_WAIT", "60", 1);
	CTL(0, "cosigned by w1, w2", "checkpoint");
	CTL(0, "\"seq\":3", "get", "3");
	CTL(0, NULL, "prove", "3");
	/* Answered from the newest tree, then linked to a witnessed one. */
	CTL(0, "verified", "who-saw", "person-3");
	text = sample_event(1000);
	write_text(event, text);
	free(text);
	CTL(0, "inclusion verified in a witnessed checkpoint", "post",
	    "--witnessed", event);
	CTL(0, "witnessed: the checkpoint meets the quorum", "export", "--out",
	    bundle);
	CTL(0, "cosigned by w1, w2", "verify-export", bundle);

	/* Its mirror carries the cosignatures; served, it answers as the log. */
	CTL(0, "first checkpoint", "mirror", "--out", dir);
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	text = read_whole_file(path, NULL);
	CHECK(strstr(text, "\n\xe2\x80\x94 w1 ") != NULL &&
	    strstr(text, "\n\xe2\x80\x94 w2 ") != NULL);
	free(text);
	serve_dir(dir);
	CHECK_OR_OUT(nginx_start(&ng, ngdir, served, pki, readers) == 0);
	CTL(0, "match the signed checkpoint", "--url", ng.url, "--cacert", ca,
	    "--cert", cert, "--cert-key", key, "audit");
	CTL(0, "first checkpoint", "--url", ng.url, "--cacert", ca, "verify",
	    "--state", state);
	CTL(0, "cosigned by w1, w2", "--url", ng.url, "--cacert", ca,
	    "checkpoint");
	if (test_failures_)
		nginx_print_log(&ng);
	CHECK(nginx_stop(&ng) == 0);
out:
	unsetenv("LEDGER_POLICY");
	setenv("LEDGER_QUORUM_WAIT", "0", 1);
	http_client_close(&hc);
	for (i = 0; i < started; i++)
		witness_cleanup(&w[i]);
	daemon_cleanup(&d);
	free(policy);
	free(policy_path);
	free(dir);
	free(ngdir);
	free(bundle);
	free(event);
	free(state);
	free(ca);
	free(cert);
	free(key);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	uint8_t seed[LEDGER_ED25519_LEN];
	char name[64], *cmd;
	int i, rc;

	snprintf(scratch, sizeof(scratch), "%s/ledger-mirror.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("XDG_STATE_HOME");
	unsetenv("LEDGER_POLICY");
	/* The refusals here are of checkpoints that will never be cosigned. */
	setenv("LEDGER_QUORUM_WAIT", "0", 1);
	snprintf(pki, sizeof(pki), "%s/pki", scratch);
	snprintf(readers, sizeof(readers), "%s/entry-readers", scratch);
	snprintf(served, sizeof(served), "%s/served", scratch);
	cmd = xasprintf("mkdir -p '%s' && sh tests/access_pki.sh '%s'", pki, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "tests/access_pki.sh failed\n");
		return 1;
	}
	free(cmd);
	/* The board may read entry bundles; police, with a valid certificate, not. */
	write_text(readers, "\"SUCCESS:CN=board-app,O=board\" 1;\n");
	for (i = 0; i < N_WITNESSES; i++) {
		memset(seed, 0, sizeof(seed));
		seed[0] = (uint8_t)(100 + i);
		snprintf(name, sizeof(name), "witness-%d.example", i + 1);
		if (ledger_signer_from_seed(name, LEDGER_SIGTYPE_COSIGNATURE,
		    seed, &witness[i]) != 0)
			return 1;
		witness_vkey[i] = ledger_verifier_format(
		    ledger_signer_verifier(witness[i]));
	}
	RUN(test_mirror);
	RUN(test_quorum);
	RUN(test_export_policy);
	RUN(test_witnessed_log);
	for (i = 0; i < N_WITNESSES; i++) {
		ledger_signer_free(witness[i]);
		free(witness_vkey[i]);
	}
	rc = TEST_SUMMARY();
	if (rc == 0)
		remove_tree(scratch);
	return rc;
}
