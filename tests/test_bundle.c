/*
 * Compliance bundles against the real daemon: a bundle states what it
 * claims (its export entry) and verify-export proves exactly that.  Entries
 * dropped or swapped in, with MANIFEST recomputed, are refused; a
 * time-bounded bundle proves the entries just outside its range; a filtered
 * one says that its completeness is not proven; a user's or an item's
 * (lineage) export holds exactly those entries.  And the CSV formula guard:
 * every dangerous leading character, in every column, from the core rule,
 * the daemon's CSV and ledgerctl's.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/csv.h"
#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/keyfile.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define MAX_ARGS 32

static char scratch[512];

/* ---- running ledgerctl ---- */

static void
spew(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	REQUIRE(f != NULL);
	CHECK(fwrite(data, 1, len, f) == len);
	fclose(f);
}

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

static void
use_server(const struct daemon *d)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", d->token, 1);
	setenv("LEDGER_KEY", d->vkey, 1);
}

static char *
scratch_path(const char *name)
{
	return xasprintf("%s/%s", scratch, name);
}

/* Posts n sample events through ledgerctl. */
static void
post_batch(int first, int n)
{
	char *path = scratch_path("events.ndjson"), *ev;
	FILE *f = fopen(path, "wb");
	struct ctl_result r;
	int i;

	REQUIRE(f != NULL);
	for (i = first; i < first + n; i++) {
		ev = sample_event_of("share", i % 2 ? "police" : "kmar",
		    "analyst-1", "fiod", NULL, i);
		fprintf(f, "%s\n", ev);
		free(ev);
	}
	fclose(f);
	ctl_run(&r, "post", "--batch", path, "--chunk", "500",
	    (const char *)NULL);
	CTL_EXPECT(&r, 0, "appended");
	ctl_result_free(&r);
	free(path);
}

/* The wall clock now, in the received_at form. */
static void
time_now(char out[LEDGER_TIME_LEN + 1])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ledger_time_format((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
	    out);
}

/* ---- taking a bundle apart and putting it back together ---- */

static const char *const files[] = { "README", "checkpoint",
    "context.jsonl", "context.proofs", "entries.csv", "entries.jsonl",
    "opened.jsonl", "proofs" };
#define NFILES 8

/* A file cut into pieces, each with its terminator. */
struct pieces {
	char *v[4096];
	size_t n;
};

static void
pieces_free(struct pieces *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	p->n = 0;
}

/* Lines ending in term ("\n" or "\r\n"). */
static void
split_lines(const char *text, const char *term, struct pieces *p)
{
	const char *s = text, *e;

	p->n = 0;
	while (*s != '\0' && p->n < 4096) {
		e = strstr(s, term);
		e = e != NULL ? e + strlen(term) : s + strlen(s);
		p->v[p->n++] = xstrndup(s, (size_t)(e - s));
		s = e;
	}
}

/* tlog-proofs: each starts with its header line. */
static void
split_proofs(const char *text, struct pieces *p)
{
	static const char hdr[] = "c2sp.org/tlog-proof@v1\n";
	const char *s = text, *e;

	p->n = 0;
	while (*s != '\0' && p->n < 4096) {
		e = strstr(s + 1, "\nc2sp.org/tlog-proof@v1\n");
		e = e != NULL ? e + 1 : s + strlen(s);
		CHECK(strncmp(s, hdr, strlen(hdr)) == 0);
		p->v[p->n++] = xstrndup(s, (size_t)(e - s));
		s = e;
	}
}

static void
pieces_write(const char *dir, const char *name, const struct pieces *p)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	size_t i;

	REQUIRE(f != NULL);
	for (i = 0; i < p->n; i++)
		fputs(p->v[i], f);
	fclose(f);
	free(path);
}

static void
pieces_remove(struct pieces *p, size_t i)
{
	free(p->v[i]);
	memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof(p->v[0]));
	p->n--;
}

static void
pieces_insert(struct pieces *p, size_t i, char *s)
{
	memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof(p->v[0]));
	p->v[i] = s;
	p->n++;
}

/* MANIFEST as ledgerctl writes it, after a file was changed. */
static void
rewrite_manifest(const char *dir)
{
	char *path, *text, *out = xstrdup(""), *t;
	uint8_t h[LEDGER_HASH_LEN];
	size_t len, i, j;

	for (i = 0; i < NFILES; i++) {
		path = xasprintf("%s/%s", dir, files[i]);
		text = read_whole_file(path, &len);
		free(path);
		ledger_sha256(text, len, h);
		free(text);
		t = xasprintf("%s", out);
		free(out);
		out = t;
		for (j = 0; j < LEDGER_HASH_LEN; j++) {
			t = xasprintf("%s%02x", out, h[j]);
			free(out);
			out = t;
		}
		t = xasprintf("%s  %s\n", out, files[i]);
		free(out);
		out = t;
	}
	path = xasprintf("%s/MANIFEST", dir);
	spew(path, out, strlen(out));
	free(path);
	free(out);
}

/* A copy of bundle src in the new directory dst. */
static void
copy_bundle(const char *src, const char *dst)
{
	char *from, *to, *text;
	size_t len, i;

	REQUIRE(mkdir(dst, 0700) == 0);
	for (i = 0; i <= NFILES; i++) {
		from = xasprintf("%s/%s", src, i < NFILES ? files[i] : "MANIFEST");
		to = xasprintf("%s/%s", dst, i < NFILES ? files[i] : "MANIFEST");
		text = read_whole_file(from, &len);
		spew(to, text, len);
		free(text);
		free(from);
		free(to);
	}
}

/* A bundle in memory: its entries, proofs and rows, and its context. */
struct bundle {
	struct pieces entries, proofs, rows, context, context_proofs;
};

static void
bundle_read(const char *dir, struct bundle *b)
{
	char *path, *text;

#define READ(name, split)						\
	path = xasprintf("%s/%s", dir, name);				\
	text = read_whole_file(path, NULL);					\
	split;								\
	free(text);							\
	free(path);
	READ("entries.jsonl", split_lines(text, "\n", &b->entries));
	READ("proofs", split_proofs(text, &b->proofs));
	READ("entries.csv", split_lines(text, "\r\n", &b->rows));
	READ("context.jsonl", split_lines(text, "\n", &b->context));
	READ("context.proofs", split_proofs(text, &b->context_proofs));
#undef READ
	CHECK_INT(b->entries.n, b->proofs.n);
	CHECK_INT(b->entries.n + 1, b->rows.n);	/* the header row */
	CHECK_INT(b->context.n, b->context_proofs.n);
}

static void
bundle_write(const char *dir, const struct bundle *b)
{
	pieces_write(dir, "entries.jsonl", &b->entries);
	pieces_write(dir, "proofs", &b->proofs);
	pieces_write(dir, "entries.csv", &b->rows);
	pieces_write(dir, "context.jsonl", &b->context);
	pieces_write(dir, "context.proofs", &b->context_proofs);
	rewrite_manifest(dir);
}

static void
bundle_free(struct bundle *b)
{
	pieces_free(&b->entries);
	pieces_free(&b->proofs);
	pieces_free(&b->rows);
	pieces_free(&b->context);
	pieces_free(&b->context_proofs);
}

/* Drops entry i with its proof and row: what an editor of the bundle would do. */
static void
bundle_drop(struct bundle *b, size_t i)
{
	pieces_remove(&b->entries, i);
	pieces_remove(&b->proofs, i);
	pieces_remove(&b->rows, i + 1);
}

/* A copy of src with entry i dropped and MANIFEST recomputed: refused. */
static void
expect_drop_refused(const char *src, const char *name, size_t i,
    const char *phrase)
{
	char *dir = scratch_path(name);
	struct bundle b;
	struct ctl_result r;

	copy_bundle(src, dir);
	bundle_read(dir, &b);
	REQUIRE(i < b.entries.n);
	bundle_drop(&b, i);
	bundle_write(dir, &b);
	ctl_run(&r, "verify-export", dir, (const char *)NULL);
	if (CTL_EXPECT(&r, 1, "VERIFICATION FAILED"))
		CTL_EXPECT(&r, 1, phrase);
	if (strstr(r.err, "MANIFEST") != NULL) {
		fprintf(stderr, "  %s: MANIFEST was recomputed, yet it is "
		    "blamed:\n%s", name, r.err);
		test_failures_++;
	}
	ctl_result_free(&r);
	bundle_free(&b);
	free(dir);
}

/* seq of a JSON line (for messages and checks). */
static long long
line_seq(const char *line)
{
	json_t *e = json_loads(line, 0, NULL);
	long long seq = json_integer_value(json_object_get(e, "seq"));

	json_decref(e);
	return seq;
}

/* ---- the tests ---- */

/*
 * An unbounded export, a time-bounded one and their proofs of where they
 * start and end; entries dropped at the start, the end and the middle, an
 * entry from another export, a boundary moved: all refused.
 */
static void
body_complete(struct daemon *d)
{
	char t1[LEDGER_TIME_LEN + 1], t2[LEDGER_TIME_LEN + 1], want[128];
	char *all = scratch_path("all"), *window = scratch_path("window");
	char *dir;
	struct bundle b, other;
	struct ctl_result r;
	json_t *j;

	use_server(d);
	post_batch(0, 10);		/* seqs 0..9 */
	sleep_ms(20);
	time_now(t1);
	sleep_ms(20);
	post_batch(10, 10);		/* seqs 10..19 */
	sleep_ms(20);
	time_now(t2);
	sleep_ms(20);
	post_batch(20, 10);		/* seqs 20..29 */

	/* Everything below the export entry (seq 30). */
	CTL(0, "exported 30 entries (seq 0..29)", "export", "--out", all);
	ctl_run(&r, "verify-export", all, (const char *)NULL);
	CTL_EXPECT(&r, 0, "COMPLETE: 30 entries, seq 0..29, are every entry of "
	    "the log below seq 30");
	CTL_EXPECT(&r, 0, "start: seq 0, the log's first entry");
	CTL_EXPECT(&r, 0, "end: seq 30, the export entry itself");
	CHECK(strstr(r.out, "NOT PROVEN") == NULL);
	ctl_result_free(&r);

	/* The window [t1, t2]: seqs 10..19, with 9 and 20 proven outside. */
	CTL(0, "exported 10 entries (seq 10..19)", "export", "--since", t1,
	    "--until", t2, "--out", window);
	ctl_run(&r, "verify-export", window, (const char *)NULL);
	CTL_EXPECT(&r, 0, "COMPLETE: 10 entries, seq 10..19, are every entry of "
	    "the log below seq 31 received in the range");
	snprintf(want, sizeof(want), "is proven received before %s", t1);
	CTL_EXPECT(&r, 0, want);
	snprintf(want, sizeof(want), "is proven received after %s", t2);
	CTL_EXPECT(&r, 0, want);
	CTL_EXPECT(&r, 0, "start: seq 9 (received");
	CTL_EXPECT(&r, 0, "end: seq 20 (received");
	ctl_result_free(&r);
	ctl_run(&r, "--json", "verify-export", window, (const char *)NULL);
	CTL_EXPECT(&r, 0, NULL);
	j = json_loads(r.out, 0, NULL);
	CHECK_INT(json_integer_value(json_object_get(j, "before_seq")), 9);
	CHECK_INT(json_integer_value(json_object_get(j, "after_seq")), 20);
	CHECK_INT(json_integer_value(json_object_get(j, "export_seq")), 31);
	CHECK(json_is_true(json_object_get(j, "complete")));
	json_decref(j);
	ctl_result_free(&r);
	/* The context: seq 9, seq 20, and the export entry recording the bounds. */
	bundle_read(window, &b);
	REQUIRE(b.context.n == 3);
	CHECK_INT(line_seq(b.context.v[0]), 9);
	CHECK_INT(line_seq(b.context.v[1]), 20);
	CHECK_INT(line_seq(b.context.v[2]), 31);
	CHECK(strstr(b.context.v[2], "\"type\":\"export\"") != NULL);
	snprintf(want, sizeof(want), "\"since\":\"%s\"", t1);
	CHECK(strstr(b.context.v[2], want) != NULL);
	bundle_free(&b);

	/* An empty window still shows both sides. */
	dir = scratch_path("empty");
	CTL(0, "exported 0 entries", "export", "--since", t2, "--until", t2,
	    "--out", dir);
	CTL(0, "COMPLETE: no entry of the log below seq 32 was received in the "
	    "range", "verify-export", dir);
	CTL(0, "start: seq 19", "verify-export", dir);
	CTL(0, "end: seq 20", "verify-export", dir);
	free(dir);

	/* Dropping the first, the last or a middle entry, MANIFEST recomputed. */
	expect_drop_refused(all, "all-first", 0, "entries 0..0 are missing");
	expect_drop_refused(all, "all-last", 29, "must reach the export entry");
	expect_drop_refused(all, "all-middle", 15, "1 entry is missing");
	expect_drop_refused(window, "window-first", 0, "does not show where it "
	    "starts");
	expect_drop_refused(window, "window-last", 9, "does not show where it "
	    "ends");
	expect_drop_refused(window, "window-middle", 4, "1 entry is missing");

	/* The boundary moved into the range's place: it is inside the range. */
	dir = scratch_path("window-moved");
	copy_bundle(window, dir);
	bundle_read(dir, &b);
	pieces_remove(&b.context, 0);
	pieces_remove(&b.context_proofs, 0);
	pieces_insert(&b.context, 0, xstrdup(b.entries.v[0]));
	pieces_insert(&b.context_proofs, 0, xstrdup(b.proofs.v[0]));
	bundle_drop(&b, 0);
	bundle_write(dir, &b);
	CTL(1, "belongs to the range, so entries are missing at the start",
	    "verify-export", dir);
	bundle_free(&b);
	free(dir);

	/* The boundary entries left out altogether. */
	dir = scratch_path("window-no-context");
	copy_bundle(window, dir);
	bundle_read(dir, &b);
	pieces_remove(&b.context, 0);
	pieces_remove(&b.context_proofs, 0);
	pieces_remove(&b.context, 0);
	pieces_remove(&b.context_proofs, 0);
	bundle_write(dir, &b);
	CTL(1, "does not show where it starts", "verify-export", dir);
	CTL(1, "does not show where it ends", "verify-export", dir);
	bundle_free(&b);
	free(dir);

	/* An entry of another export (seq 25, from the whole-log bundle) in
	 * the place of seq 15. */
	dir = scratch_path("window-swapped");
	copy_bundle(window, dir);
	bundle_read(dir, &b);
	bundle_read(all, &other);
	free(b.entries.v[5]);
	free(b.proofs.v[5]);
	free(b.rows.v[6]);
	b.entries.v[5] = xstrdup(other.entries.v[25]);
	b.proofs.v[5] = xstrdup(other.proofs.v[25]);
	b.rows.v[6] = xstrdup(other.rows.v[26]);
	bundle_write(dir, &b);
	CTL(1, "comes from another export", "verify-export", dir);
	CTL(1, "received after the export's until", "verify-export", dir);
	/* The same seq from the other export: its proof names another checkpoint. */
	free(b.entries.v[5]);
	free(b.proofs.v[5]);
	free(b.rows.v[6]);
	b.entries.v[5] = xstrdup(other.entries.v[15]);
	b.proofs.v[5] = xstrdup(other.proofs.v[15]);
	b.rows.v[6] = xstrdup(other.rows.v[16]);
	bundle_write(dir, &b);
	CTL(1, "comes from another export", "verify-export", dir);
	/* Another export's whole context: its entry claims a different range. */
	bundle_free(&b);
	bundle_read(window, &b);
	pieces_free(&b.context);
	pieces_free(&b.context_proofs);
	b.context.v[b.context.n++] = xstrdup(other.context.v[0]);
	b.context_proofs.v[b.context_proofs.n++] =
	    xstrdup(other.context_proofs.v[0]);
	bundle_write(dir, &b);
	CTL(1, "VERIFICATION FAILED", "verify-export", dir);
	bundle_free(&b);
	bundle_free(&other);
	free(dir);

	/* A bundle without its context (as written before it had one). */
	dir = scratch_path("window-old-format");
	copy_bundle(window, dir);
	{
		char *path = xasprintf("%s/context.jsonl", dir);

		CHECK(unlink(path) == 0);
		free(path);
		path = xasprintf("%s/context.proofs", dir);
		CHECK(unlink(path) == 0);
		free(path);
	}
	rewrite_manifest(dir);
	CTL(1, "context.jsonl: missing from the bundle", "verify-export", dir);
	free(dir);

	/* The README tells the reader what holds: it cannot be edited. */
	dir = scratch_path("window-readme");
	copy_bundle(window, dir);
	{
		char *path = xasprintf("%s/README", dir);
		const char *claim = "Everything here is complete.\n";

		spew(path, claim, strlen(claim));
		free(path);
	}
	rewrite_manifest(dir);
	CTL(1, "README: not the text ledgerctl export writes", "verify-export",
	    dir);
	free(dir);

	/* An entry that is not its canonical form is named by its seq. */
	dir = scratch_path("window-not-canonical");
	copy_bundle(window, dir);
	bundle_read(dir, &b);
	{
		/* One space after the first colon: the same JSON, other bytes. */
		char *line = b.entries.v[3], *colon = strchr(line, ':');

		b.entries.v[3] = xasprintf("%.*s %s", (int)(colon - line + 1),
		    line, colon + 1);
		free(line);
	}
	bundle_write(dir, &b);
	CTL(1, "entries.jsonl line 4 (seq 13): not an entry in its canonical "
	    "form", "verify-export", dir);
	bundle_free(&b);
	free(dir);

	/* ledgerctl export says what its bundle proves, as verify-export. */
	dir = scratch_path("again");
	ctl_run(&r, "export", "--until", t2, "--out", dir, (const char *)NULL);
	CTL_EXPECT(&r, 0, "COMPLETE: 20 entries, seq 0..19");
	CTL_EXPECT(&r, 0, "start: seq 0, the log's first entry");
	CTL_EXPECT(&r, 0, "end: seq 20 (received");
	ctl_result_free(&r);
	free(dir);

	free(all);
	free(window);
}

/* A filtered bundle proves its entries and says what it does not prove. */
static void
body_filtered(struct daemon *d)
{
	char *dir = scratch_path("subject"), *dir2 = scratch_path("org");
	char *dropped = scratch_path("org-dropped");
	struct bundle b;
	struct ctl_result r;

	use_server(d);
	post_batch(0, 40);
	CTL(0, "exported", "export", "--subject", "person-5", "--out", dir);
	ctl_run(&r, "verify-export", dir, (const char *)NULL);
	CTL_EXPECT(&r, 0, "NOT PROVEN: that no other entry matches the filters");
	CTL_EXPECT(&r, 0, "ledgerctl audit --subject ID");
	CTL_EXPECT(&r, 0, "filters: subject token ");
	CHECK(strstr(r.out, "COMPLETE") == NULL);
	ctl_result_free(&r);
	ctl_run(&r, "--json", "verify-export", dir, (const char *)NULL);
	CTL_EXPECT(&r, 0, "\"complete\":false");
	ctl_result_free(&r);

	CTL(0, "exported 20 entries", "export", "--org", "police", "--since",
	    "2000-01-01T00:00:00Z", "--out", dir2);
	ctl_run(&r, "verify-export", dir2, (const char *)NULL);
	CTL_EXPECT(&r, 0, "NOT PROVEN");
	CTL_EXPECT(&r, 0, "checked only between consecutive seqs (0 links)");
	CTL_EXPECT(&r, 0, "filters: since 2000-01-01T00:00:00Z, org police");
	ctl_result_free(&r);
	/* ledgerctl export says it too. */
	{
		char *dir3 = scratch_path("subject-again");

		CTL(0, "NOT PROVEN", "export", "--subject", "person-7", "--out",
		    dir3);
		free(dir3);
	}
	/* The filtered bundle carries its export entry only. */
	bundle_read(dir2, &b);
	CHECK_INT(b.context.n, 1);
	bundle_free(&b);
	/* An entry that does not match the recorded filter is refused. */
	copy_bundle(dir2, dropped);
	bundle_read(dropped, &b);
	{
		struct bundle all;
		char *whole = scratch_path("org-all");

		CTL(0, "exported", "export", "--out", whole);
		bundle_read(whole, &all);
		/* seq 0 is kmar's: in the place of police's seq 1. */
		free(b.entries.v[0]);
		free(b.proofs.v[0]);
		free(b.rows.v[1]);
		b.entries.v[0] = xstrdup(all.entries.v[0]);
		b.proofs.v[0] = xstrdup(all.proofs.v[0]);
		b.rows.v[1] = xstrdup(all.rows.v[1]);
		bundle_write(dropped, &b);
		CTL(1, "actor.org is not the export's org police",
		    "verify-export", dropped);
		bundle_free(&all);
		free(whole);
	}
	bundle_free(&b);
	free(dropped);
	free(dir);
	free(dir2);
}

/* ---- user and object exports ---- */

/* Posts one sample event with extra members; *seq is its seq. */
static void
post_one(struct http_client *hc, const char *org, const char *user,
    const char *extra, int i, uint64_t *seq)
{
	char *ev = sample_event_of("share", org, user, "fiod", extra, i);
	struct appended a;

	REQUIRE(post_event(hc, ev, NULL, NULL, &a, NULL) == 201);
	free(ev);
	*seq = a.seq;
}

/* Appends the seqs of a bundle's entries to the array seqs. */
static void
bundle_seqs(const struct bundle *b, json_t *seqs)
{
	json_t *e;
	size_t i;

	for (i = 0; i < b->entries.n; i++) {
		REQUIRE((e = json_loads(b->entries.v[i], 0, NULL)) != NULL);
		json_array_append(seqs, json_object_get(e, "seq"));
		json_decref(e);
	}
}

/*
 * Appends the seqs of the lineage answer for target to the array seqs;
 * truncated: whether it says so (a depth that cuts the lineage short).
 */
static void
lineage_seqs(struct http_client *hc, const char *target, int truncated,
    json_t *seqs)
{
	struct http_response resp;
	json_t *body, *v;
	size_t i;

	REQUIRE(http_get(hc, target, &resp) == 0);
	CHECK_INT(resp.status, 200);
	REQUIRE((body = json_loads(resp.body, 0, NULL)) != NULL);
	CHECK(json_is_true(json_object_get(body, "truncated")) == truncated);
	json_array_foreach(json_object_get(body, "events"), i, v)
		json_array_append(seqs, json_object_get(v, "seq"));
	json_decref(body);
	http_response_free(&resp);
}

/*
 * Inserts entry seq of the unfiltered bundle whole into b at position at,
 * with its proof and row, and writes b to dir (MANIFEST recomputed).
 */
static void
bundle_insert_from(struct bundle *b, const struct bundle *whole, size_t seq,
    size_t at, const char *dir)
{
	REQUIRE(seq < whole->entries.n);
	pieces_insert(&b->entries, at, xstrdup(whole->entries.v[seq]));
	pieces_insert(&b->proofs, at, xstrdup(whole->proofs.v[seq]));
	pieces_insert(&b->rows, at + 1, xstrdup(whole->rows.v[seq + 1]));
	bundle_write(dir, b);
}

/* Each bad parameter is refused with a JSON error naming it. */
static void
bad_export_params(struct http_client *hc)
{
	static const struct {
		const char *target, *code, *field;
	} cases[] = {
		{ "/v1/export?user=analyst-2", "invalid_value", "user" },
		{ "/v1/export?org=police&user=", "invalid_value", "user" },
		{ "/v1/export?object=", "invalid_value", "object" },
		{ "/v1/export?depth=3", "invalid_value", "depth" },
		{ "/v1/export?object=doc-7&depth=65", "out_of_range", "depth" },
		{ "/v1/export?object=doc-7&depth=x", "invalid_value", "depth" },
		{ "/v1/export?object=doc-7&org=police", "invalid_value",
		    "object" },
		{ "/v1/export?object=doc-7&since=2000-01-01T00:00:00Z",
		    "invalid_value", "object" },
		{ "/v1/export?org=police&user=a&users=b", "unknown_parameter",
		    "users" },
		{ "/v1/export?object=doc-7&object=doc-8", "invalid_value",
		    "object" },
	};
	struct http_response resp;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REQUIRE(http_get(hc, cases[i].target, &resp) == 0);
		if (!CHECK_ERROR(&resp, 400, cases[i].code, cases[i].field))
			fprintf(stderr, "  for %s\n", cases[i].target);
		http_response_free(&resp);
	}
}

/*
 * A user's export holds exactly that user's entries of the org; an object
 * export exactly the item's lineage, as GET /v1/provenance/objects/{ref}
 * answers it.  verify-export proves both and refuses an entry of another
 * user, or outside the lineage or its depth, swapped in.
 */
static void
body_user_object(struct daemon *d)
{
	char *whole = scratch_path("uo-all"), *du = scratch_path("user");
	char *dus = scratch_path("user-subject"), *dobj = scratch_path("object");
	char *dd1 = scratch_path("object-d1"), *bad = scratch_path("uo-bad");
	struct http_client hc;
	struct bundle all, b;
	struct ctl_result r;
	uint64_t s_root2, s_child, s_grand, s_great, s_stray, s_child2, seq;
	char extra[64];
	json_t *got, *want;
	int i;

	use_server(d);
	http_client_init(&hc, d->port, d->token);
	post_batch(0, 40);		/* seq i: doc-i, police (odd) or kmar */
	for (i = 0; i < 5; i++)		/* seqs 40..44 */
		post_one(&hc, "police", "analyst-2", NULL, 100 + i, &seq);
	/* doc-7 (seq 7) and the entries resting on it. */
	post_one(&hc, "kmar", "analyst-3", NULL, 7, &s_root2);
	snprintf(extra, sizeof(extra), "\"refs\":[7]");
	post_one(&hc, "fiod", "analyst-4", extra, 200, &s_child);
	snprintf(extra, sizeof(extra), "\"refs\":[%" PRIu64 "]", s_child);
	post_one(&hc, "kmar", "analyst-4", extra, 201, &s_grand);
	snprintf(extra, sizeof(extra), "\"refs\":[3,%" PRIu64 "]", s_grand);
	post_one(&hc, "police", "analyst-2", extra, 202, &s_great);
	snprintf(extra, sizeof(extra), "\"refs\":[3]");
	post_one(&hc, "police", "analyst-1", extra, 203, &s_stray);
	snprintf(extra, sizeof(extra), "\"refs\":[%" PRIu64 "]", s_root2);
	post_one(&hc, "fiod", "analyst-4", extra, 204, &s_child2);
	CHECK(s_stray + 1 == s_child2);

	bad_export_params(&hc);
	CTL(2, "--user needs --org", "export", "--user", "analyst-2", "--out",
	    bad);
	CTL(2, "--depth goes with --object", "export", "--depth", "2", "--out",
	    bad);
	CTL(2, "--object takes no other filter", "export", "--object", "doc-7",
	    "--subject", "person-7", "--out", bad);

	CTL(0, "exported", "export", "--out", whole);
	bundle_read(whole, &all);

	/* The user's entries of the org, and no other. */
	CTL(0, "exported 6 entries", "export", "--org", "police", "--user",
	    "analyst-2", "--out", du);
	ctl_run(&r, "verify-export", du, (const char *)NULL);
	CTL_EXPECT(&r, 0, "filters: org police, user analyst-2");
	CTL_EXPECT(&r, 0, "NOT PROVEN: that no other entry matches the filters");
	CTL_EXPECT(&r, 0, "ledgerctl history ORG USER (user filter)");
	ctl_result_free(&r);
	bundle_read(du, &b);
	bundle_seqs(&b, got = json_array());
	want = json_pack("[I,I,I,I,I,I]", (json_int_t)40, (json_int_t)41,
	    (json_int_t)42, (json_int_t)43, (json_int_t)44,
	    (json_int_t)s_great);
	CHECK(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	/* Another user's entry of the same org swapped in is refused. */
	copy_bundle(du, bad);
	bundle_insert_from(&b, &all, 39, 0, bad);
	CTL(1, "actor.user is not the export's user analyst-2",
	    "verify-export", bad);
	bundle_free(&b);
	remove_tree(bad);

	/* With a subject: the subject's entries by that user alone. */
	CTL(0, "exported 1 entries", "export", "--org", "police", "--user",
	    "analyst-1", "--subject", "person-7", "--out", dus);
	CTL(0, "NOT PROVEN", "verify-export", dus);

	/* An object export holds exactly the lineage answer's entries. */
	ctl_run(&r, "export", "--object", "doc-7", "--out", dobj,
	    (const char *)NULL);
	CTL_EXPECT(&r, 0, "exported 6 entries");
	ctl_result_free(&r);
	ctl_run(&r, "--json", "verify-export", dobj, (const char *)NULL);
	CTL_EXPECT(&r, 0, "\"object\":\"doc-7\"");
	CTL_EXPECT(&r, 0, "\"depth\":16");
	CTL_EXPECT(&r, 0, "\"complete\":false");
	ctl_result_free(&r);
	bundle_read(dobj, &b);
	bundle_seqs(&b, got = json_array());
	lineage_seqs(&hc, "/v1/provenance/objects/doc-7", 0,
	    want = json_array());
	CHECK(json_equal(got, want));
	CHECK_INT(json_array_size(got), 6);
	json_decref(got);
	json_decref(want);
	/* An entry resting on something outside the lineage is refused. */
	copy_bundle(dobj, bad);
	bundle_insert_from(&b, &all, s_stray, 5, bad);
	CTL(1, "not part of the lineage of object doc-7 within depth 16",
	    "verify-export", bad);
	bundle_free(&b);
	remove_tree(bad);

	/* Down to depth 1: the roots and what rests on them directly. */
	CTL(0, "exported 4 entries", "export", "--object", "doc-7", "--depth",
	    "1", "--purpose", "board review", "--out", dd1);
	ctl_run(&r, "verify-export", dd1, (const char *)NULL);
	CTL_EXPECT(&r, 0, "filters: object doc-7, depth 1");
	CTL_EXPECT(&r, 0, "ledgerctl lineage REF (object filter)");
	ctl_result_free(&r);
	bundle_read(dd1, &b);
	bundle_seqs(&b, got = json_array());
	lineage_seqs(&hc, "/v1/provenance/objects/doc-7?depth=1", 1,
	    want = json_array());
	CHECK(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	/* The grandchild is in the lineage, but below the export's depth. */
	copy_bundle(dd1, bad);
	bundle_insert_from(&b, &all, s_grand, 2, bad);
	CTL(1, "not part of the lineage of object doc-7 within depth 1",
	    "verify-export", bad);
	bundle_free(&b);

	/* An object nothing is about: an empty export, verified. */
	{
		char *none = scratch_path("object-none");

		CTL(0, "exported 0 entries", "export", "--object", "doc-999",
		    "--out", none);
		CTL(0, "no entries", "verify-export", none);
		free(none);
	}
	bundle_free(&all);
	http_client_close(&hc);
	free(whole);
	free(du);
	free(dus);
	free(dobj);
	free(dd1);
	free(bad);
}

/* ---- CSV formula guard ---- */

/* RFC 4180 rows (CRLF) as arrays of cell values. */
static json_t *
parse_csv(const char *p, size_t len)
{
	json_t *rows = json_array(), *row = json_array();
	char *cell = xmalloc(len + 1);
	size_t i = 0, n;
	int quoted;

	while (i < len) {
		n = 0;
		quoted = p[i] == '"';
		if (quoted)
			i++;
		while (i < len) {
			if (quoted && p[i] == '"') {
				if (i + 1 < len && p[i + 1] == '"') {
					cell[n++] = '"';
					i += 2;
					continue;
				}
				i++;
				quoted = 0;
				continue;
			}
			if (!quoted && (p[i] == ',' || p[i] == '\r'))
				break;
			cell[n++] = p[i++];
		}
		json_array_append_new(row, json_stringn(cell, n));
		if (i < len && p[i] == ',')
			i++;
		else {
			i += 2;		/* CRLF */
			json_array_append_new(rows, row);
			row = json_array();
		}
	}
	json_decref(row);
	free(cell);
	return rows;
}

static const char dangerous[] = "=+-@\t\r'";

/* Whether a cell (unquoted) starts with a character the guard is for. */
static int
cell_unsafe(const char *s)
{
	return s[0] != '\0' && s[0] != '\'' && strchr(dangerous, s[0]) != NULL;
}

/* The core rule, on every column of a row, for every dangerous character. */
static void
test_csv_rule(void)
{
	static const char *const text[] = { "received_at", "type", "org",
	    "user", "role", "submitter", "ref", "digest", "purpose",
	    "legal_basis", "occurred_at", "prev" };
	uint8_t leaf[LEDGER_HASH_LEN];
	char value[64], want[72];
	json_t *e, *rows, *row;
	size_t i, k, len, col;
	char *csv;

	for (i = 0; i < 256; i++) {
		char c = (char)i;

		CHECK_INT(ledger_csv_cell_guarded(&c, 1),
		    i != 0 && strchr(dangerous, (int)i) != NULL);
	}
	CHECK_INT(ledger_csv_cell_guarded("", 0), 0);
	CHECK_INT(ledger_csv_cell_guarded("a=", 2), 0);

	for (k = 0; k < strlen(dangerous); k++) {
		/* Every text value starts with the character. */
#define V(name) (snprintf(value, sizeof(value), "%c%s", dangerous[k], name), \
	json_string(value))
		e = json_object();
		json_object_set_new(e, "seq", json_integer(7));
		json_object_set_new(e, "received_at", V("received_at"));
		json_object_set_new(e, "type", V("type"));
		json_object_set_new(e, "actor", json_pack("{s:o, s:o, s:o}",
		    "org", V("org"), "user", V("user"), "role", V("role")));
		json_object_set_new(e, "submitter", V("submitter"));
		json_object_set_new(e, "subjects", json_pack("[o, s]",
		    V("subjects"), "x"));
		json_object_set_new(e, "recipients", json_pack("[o]",
		    V("recipients")));
		json_object_set_new(e, "object", json_pack("{s:o, s:o}", "ref",
		    V("ref"), "digest", V("digest")));
		json_object_set_new(e, "purpose", V("purpose"));
		json_object_set_new(e, "legal_basis", V("legal_basis"));
		json_object_set_new(e, "occurred_at", V("occurred_at"));
		json_object_set_new(e, "refs", json_pack("[i]", 3));
		json_object_set_new(e, "details", json_pack("{s:s}", "k", "v"));
		json_object_set_new(e, "prev", V("prev"));
#undef V
		/* A leaf hash whose base64 starts with '+'. */
		memset(leaf, 0, sizeof(leaf));
		leaf[0] = 0xf8;
		ledger_csv_row(e, leaf, &csv, &len);
		CHECK_INT(strlen(csv), len);
		rows = parse_csv(csv, len);
		REQUIRE(json_array_size(rows) == 1);
		row = json_array_get(rows, 0);
		REQUIRE(json_array_size(row) == 18);
		for (col = 0; col < 18; col++) {
			const char *cell = json_string_value(json_array_get(row,
			    col));

			if (cell_unsafe(cell)) {
				fprintf(stderr, "  character 0x%02x: column %zu "
				    "unguarded: %s\n", dangerous[k], col, cell);
				test_failures_++;
			}
		}
		/* Each text column: exactly "'" and the value. */
		for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
			static const int cols[] = { 1, 2, 3, 4, 5, 6, 9, 10, 11,
			    12, 13, 16 };

			snprintf(want, sizeof(want), "'%c%s", dangerous[k],
			    text[i]);
			CHECK_STR(json_string_value(json_array_get(row,
			    cols[i])), want);
		}
		snprintf(want, sizeof(want), "'%csubjects;x", dangerous[k]);
		CHECK_STR(json_string_value(json_array_get(row, 7)), want);
		snprintf(want, sizeof(want), "'%crecipients", dangerous[k]);
		CHECK_STR(json_string_value(json_array_get(row, 8)), want);
		CHECK_STR(json_string_value(json_array_get(row, 0)), "7");
		CHECK_STR(json_string_value(json_array_get(row, 14)), "3");
		CHECK_STR(json_string_value(json_array_get(row, 15)),
		    "{\"k\":\"v\"}");
		CHECK(strncmp(json_string_value(json_array_get(row, 17)),
		    "'+AAAA", 6) == 0);
		json_decref(rows);
		free(csv);
		json_decref(e);
	}
}

/* Counts cells that start with a dangerous character; says where. */
static int
unguarded_cells(const char *what, const json_t *rows)
{
	const json_t *row;
	const char *cell;
	size_t i, col;
	int n = 0;

	for (i = 1; i < json_array_size(rows); i++) {
		row = json_array_get(rows, i);
		for (col = 0; col < json_array_size(row); col++) {
			cell = json_string_value(json_array_get(row, col));
			if (cell_unsafe(cell)) {
				fprintf(stderr, "  %s row %zu column %zu "
				    "unguarded: %s\n", what, i, col, cell);
				n++;
			}
		}
	}
	return n;
}

/* Whether some row's cell in column col starts with prefix. */
static int
column_has(const json_t *rows, size_t col, const char *prefix)
{
	const char *cell;
	size_t i;

	for (i = 1; i < json_array_size(rows); i++) {
		cell = json_string_value(json_array_get(json_array_get(rows, i),
		    col));
		if (cell != NULL && strncmp(cell, prefix, strlen(prefix)) == 0)
			return 1;
	}
	return 0;
}

/*
 * The daemon's CSV and ledgerctl's entries.csv: events whose every free
 * text field starts with a dangerous character come out guarded, as do
 * subject tokens and hashes that happen to start with '-' or '+'; the two
 * make the same rows, and verify-export refuses an unguarded row.
 */
static void
body_csv(struct daemon *d)
{
	/* Tab and CR cannot start a field of an entry: events refuse them. */
	static const char chars[] = "=+-@'";
	static const int cols[] = { 4, 5, 9, 11, 12 };
	char *dir = scratch_path("csv"), *path, *ev, *csv, *tampered;
	char id[32], token[LEDGER_SUBJECT_TOKEN_LEN + 1], want[64];
	uint8_t key[LEDGER_SUBJECT_KEY_LEN];
	struct http_client hc;
	struct http_response resp;
	json_t *server_rows = NULL, *client_rows, *row;
	size_t i, k, len, n_dangerous;
	int found, round;
	FILE *f;

	use_server(d);
	/* A subject whose token starts with '-' (one in 64 do). */
	REQUIRE(period_token_key(d->data, key) == 0);
	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "person-%zu", i);
		REQUIRE(ledger_subject_token(key, id, strlen(id), token) == 0);
		if (token[0] == '-')
			break;
	}
	REQUIRE(token[0] == '-');

	path = scratch_path("dangerous.ndjson");
	f = fopen(path, "wb");
	REQUIRE(f != NULL);
	for (k = 0; k < strlen(chars); k++) {
		char c = chars[k];

		ev = xasprintf("{\"type\":\"share\",\"actor\":{\"org\":\"%s\","
		    "\"user\":\"%cuser\",\"role\":\"%crole\"},\"subjects\":"
		    "[\"%s\"],\"recipients\":[\"%s\"],"
		    "\"object\":{\"ref\":\"%cref-%zu\"},\"purpose\":\"%cpurpose\","
		    "\"legal_basis\":\"%clegal\",\"occurred_at\":"
		    "\"2026-01-02T03:04:05Z\"}", c == '-' ? "-org" : "police",
		    c, c, id, c == '-' ? "-recipient" : "fiod", c, k, c, c);
		fprintf(f, "%s\n", ev);
		free(ev);
	}
	fclose(f);
	CTL(0, "appended", "post", "--batch", path);
	free(path);
	n_dangerous = strlen(chars);

	/*
	 * The daemon's CSV, with more entries until a leaf hash (and so the
	 * next entry's prev) starts with '+' (one in 64 do).
	 */
	http_client_init(&hc, d->port, d->token);
	for (round = 0; round < 20; round++) {
		REQUIRE(http_get(&hc, "/v1/export?format=csv", &resp) == 0);
		CHECK_INT(resp.status, 200);
		server_rows = parse_csv(resp.body, resp.body_len);
		if (column_has(server_rows, 17, "'+") &&
		    column_has(server_rows, 16, "'+"))
			break;
		json_decref(server_rows);
		server_rows = NULL;
		http_response_free(&resp);
		post_batch(1000 + 200 * round, 200);
	}
	REQUIRE(server_rows != NULL);
	CHECK(column_has(server_rows, 7, "'-"));	/* the subject token */
	CHECK_INT(unguarded_cells("daemon CSV", server_rows), 0);

	/* ledgerctl's, which verify-export remakes. */
	CTL(0, "exported", "export", "--out", dir);
	CTL(0, "COMPLETE", "verify-export", dir);
	path = xasprintf("%s/entries.csv", dir);
	csv = read_whole_file(path, &len);
	client_rows = parse_csv(csv, len);
	CHECK_INT(unguarded_cells("entries.csv", client_rows), 0);
	CHECK(column_has(client_rows, 7, "'-"));
	CHECK(column_has(client_rows, 16, "'+"));
	CHECK(column_has(client_rows, 17, "'+"));
	/* The same rule: the daemon's rows are the first rows of the bundle's. */
	CHECK(json_array_size(client_rows) > json_array_size(server_rows));
	CHECK(len >= resp.body_len && memcmp(csv, resp.body,
	    resp.body_len) == 0);

	/* Each free text column of each dangerous event: "'" and the value. */
	for (k = 0; k < n_dangerous; k++) {
		row = json_array_get(server_rows, 1 + k);
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			const char *cell = json_string_value(json_array_get(row,
			    cols[i]));

			CHECK(cell != NULL && cell[0] == '\'' &&
			    cell[1] == chars[k]);
		}
		/* Org ids (actor, recipients) can start with '-' only. */
		snprintf(want, sizeof(want), "'%crecipient", chars[k]);
		found = strcmp(json_string_value(json_array_get(row, 8)),
		    want) == 0;
		CHECK_INT(found, chars[k] == '-');
		snprintf(want, sizeof(want), "'%corg", chars[k]);
		found = strcmp(json_string_value(json_array_get(row, 3)),
		    want) == 0;
		CHECK_INT(found, chars[k] == '-');
		snprintf(want, sizeof(want), "'%s", token);
		CHECK_STR(json_string_value(json_array_get(row, 7)), want);
	}
	json_decref(server_rows);
	json_decref(client_rows);
	http_response_free(&resp);
	http_client_close(&hc);

	/* An unguarded row in entries.csv (MANIFEST recomputed) is refused. */
	tampered = strstr(csv, "'=user");
	REQUIRE(tampered != NULL);
	memmove(tampered, tampered + 1, strlen(tampered));
	spew(path, csv, strlen(csv));
	rewrite_manifest(dir);
	CTL(1, "entries.csv line 2: is not the row of entries.jsonl line 1",
	    "verify-export", dir);
	free(csv);
	free(path);
	free(dir);
}

static void test_complete(void) { daemon_test(body_complete); }
static void test_filtered(void) { daemon_test(body_filtered); }
static void test_csv(void) { daemon_test(body_csv); }
static void test_user_object(void) { daemon_test(body_user_object); }

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(scratch, sizeof(scratch), "%s/ledgerctl-bundle.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("XDG_STATE_HOME");
	RUN(test_csv_rule);
	RUN(test_complete);
	RUN(test_filtered);
	RUN(test_user_object);
	RUN(test_csv);
	remove_tree(scratch);
	return TEST_SUMMARY();
}
