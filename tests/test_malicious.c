/*
 * ledgerctl against a server that holds the log key and lies
 * (tests/malicious_server.py): logs built here with the core library, with
 * one entry spelled so that a careless reader finds another subject than
 * the daemon, or with served bytes, proofs, tiles or checkpoints that do
 * not agree.  audit --subject, who-saw, export, verify, list and get must
 * each fail with the right exit code on every case, and pass on the honest
 * log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/sealed.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "ctlrun.h"
#include "daemon.h"
#include "testlib.h"

#define LOG_SIZE 6
#define CRAFTED 4		/* the seq of the crafted entry */
#define EXPORT_SEQ (LOG_SIZE - 1)	/* the export entry ending the log */
#define ORIGIN "example.test/malicious"

static char scratch[512];
static char site_path[600];
static char url[64];
static char vkey[512];
static pid_t server_pid;
static struct ledger_signer *log_key, *other_key;
static struct ledger_signer *witness_key;	/* cosigns with L_WITNESSED… */
static char policy_path[600];			/* a policy naming it */
static uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN] = { 42 };
static char token1[LEDGER_SUBJECT_TOKEN_LEN + 1];	/* person-1 */
static char token2[LEDGER_SUBJECT_TOKEN_LEN + 1];	/* person-2 */

/* How the crafted entry is spelled. */
enum spelling {
	S_HONEST,	/* as the daemon writes it, naming person-1 */
	S_DUPLICATE,	/* "subjects" twice, person-1 only in the second */
	S_ESCAPED,	/* person-1's token with a \u escape */
	S_NOT_FIRST,	/* canonical, person-1 second in subjects */
	S_WHITE_SPACE,	/* a space after a colon */
	S_SEALED,	/* canonical, its purpose sealed (spec §2.10) */
};

/* What else the server gets wrong. */
enum lie {
	L_NONE,
	L_BYTES_DIFFER,	/* the served bytes are not the leaf */
	L_PROOF_FLIP,	/* a hash of the answer's inclusion proof flipped */
	L_TILE_FLIP,	/* a hash of the level-0 tile flipped */
	L_OTHER_KEY,	/* every checkpoint signed by another key */
	L_OLD_PAGE,	/* the answer's second page has a smaller tree */
	L_ROLLBACK,	/* /checkpoint has a smaller tree than the answer */
	/*
	 * With a witness: /checkpoint cosigned, the answer's checkpoint not
	 * (a log answers from its newest tree, witnesses cosign published
	 * ones).
	 */
	L_WITNESSED,		/* both of the whole log */
	L_WITNESSED_OLD,	/* /checkpoint of 4 entries: not yet witnessed */
	L_ANSWER_OLDER,		/* the answer from the tree of 4 */
	L_WITNESSED_FORK,	/* /checkpoint of another tree of the same size */
	/* With S_SEALED: the answers' opened value of the crafted entry. */
	L_OPENED_VALUE,		/* another value than the committed one */
	L_OPENED_SALT,		/* the right value, another salt */
	L_OPENED_MISSING,	/* no opened member at all */
	L_OPENED_BY_EXPORT,	/* "destroyed" by the export entry */
	L_OPENED_BY_EARLIER,	/* "destroyed" by an entry before it */
};

struct log {
	char *bytes[LOG_SIZE];	/* the entries as the tree holds them */
	size_t len[LOG_SIZE];
	struct ledger_memstore *ms;
	struct ledger_hash_store hs;
};

/* ---- building logs ---- */

static char *
replace_once(const char *s, size_t len, const char *from, const char *to,
    size_t *out_len)
{
	const char *p = memmem(s, len, from, strlen(from));
	size_t at, fl = strlen(from), tl = strlen(to);
	char *r;

	if (p == NULL) {
		fprintf(stderr, "  no %s in %.*s\n", from, (int)len, s);
		abort();
	}
	at = (size_t)(p - s);
	r = xmalloc(len - fl + tl + 1);
	memcpy(r, s, at);
	memcpy(r + at, to, tl);
	memcpy(r + at + tl, p + fl, len - at - fl);
	*out_len = len - fl + tl;
	r[*out_len] = '\0';
	return r;
}

/*
 * The crafted entry sealed (S_SEALED): made once, with its opened value,
 * so that the tree and the served log hold the same bytes.
 */
static char *sealed_bytes;
static size_t sealed_len;
static json_t *sealed_opened;
static int serving_sealed;	/* serve() was given S_SEALED */

static void
make_sealed(json_t *ev, const struct ledger_entry_meta *meta)
{
	static const char *const fields[] = { "purpose" };
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	json_t *entry, *o;
	size_t n;

	if (sealed_bytes != NULL)
		return;
	if (ledger_entry_build(ev, meta, subject_key, &entry) != 0 ||
	    ledger_entry_seal(entry, fields, 1, plain, &n) != 0 || n != 1 ||
	    ledger_sealed_opened("purpose", plain[0].plain, plain[0].plain_len,
	    &o) != 0 || ledger_entry_dump(entry, &sealed_bytes, &sealed_len) != 0)
		abort();
	sealed_opened = json_pack("{s:o}", "purpose", o);
	ledger_sealed_plain_free(plain, n);
	json_decref(entry);
}

/* The "opened" member the answers carry for entry seq, lie applied. */
static void
add_opened(json_t *event, uint64_t seq, enum lie lie)
{
	json_t *o;

	if (seq != CRAFTED || !serving_sealed || lie == L_OPENED_MISSING)
		return;
	o = json_deep_copy(sealed_opened);
	if (lie == L_OPENED_VALUE)
		json_object_set_new(json_object_get(o, "purpose"), "value",
		    json_string("routine check"));
	if (lie == L_OPENED_SALT)
		json_object_set_new(json_object_get(o, "purpose"), "salt",
		    json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	if (lie == L_OPENED_BY_EXPORT || lie == L_OPENED_BY_EARLIER)
		json_object_set_new(o, "purpose", json_pack("{s:i}", "destroyed",
		    lie == L_OPENED_BY_EXPORT ? EXPORT_SEQ : 2));
	json_object_set_new(event, "opened", o);
}

/* Entry seq of the log: person-1 is named by 1, 3 and the crafted one. */
static void
make_entry(struct log *l, uint64_t seq, enum spelling sp, const uint8_t *prev)
{
	struct ledger_entry_meta meta;
	const char *subjects = seq == 1 || seq == 3 ? "\"person-1\"" :
	    seq != CRAFTED ? "\"person-2\"" : sp == S_NOT_FIRST ?
	    "\"person-2\",\"person-1\"" : sp == S_DUPLICATE ? "\"person-2\"" :
	    "\"person-1\"";
	char text[1024], from[128], to[256], *bytes, *crafted;
	size_t len, n;
	json_t *ev;

	if (seq == EXPORT_SEQ)	/* the export entry, as the daemon writes it */
		snprintf(text, sizeof(text), "{\"type\":\"export\",\"actor\":"
		    "{\"org\":\"board\",\"user\":\"auditor\"},\"purpose\":"
		    "\"compliance export\",\"occurred_at\":"
		    "\"2026-03-14T09:27:05.000000Z\",\"details\":{\"format\":"
		    "\"jsonl\",\"filters\":{}}}");
	else
	snprintf(text, sizeof(text), "{\"type\":\"share\",\"actor\":{\"org\":"
	    "\"police\",\"user\":\"u-%d\"},\"subjects\":[%s],\"recipients\":"
	    "[\"kmar\"],\"object\":{\"ref\":\"CASE-%d\",\"digest\":\"sha256:"
	    "139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c4196055232202\"}"
	    ",\"purpose\":\"case review\",\"occurred_at\":"
	    "\"2026-03-14T09:26:53Z\"}", (int)seq, subjects, (int)seq);
	ev = json_loads(text, 0, NULL);
	memset(&meta, 0, sizeof(meta));
	meta.seq = seq;
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:27:%02d.000000Z", (int)seq);
	meta.submitter = "police-app";
	memcpy(meta.prev, prev, LEDGER_HASH_LEN);
	if (seq == CRAFTED && sp == S_SEALED) {
		make_sealed(ev, &meta);
		json_decref(ev);
		l->bytes[seq] = xmalloc(sealed_len);
		memcpy(l->bytes[seq], sealed_bytes, sealed_len);
		l->len[seq] = sealed_len;
		return;
	}
	if (ev == NULL || ledger_entry_encode(ev, &meta, subject_key, &bytes,
	    &len) != 0)
		abort();
	json_decref(ev);
	if (seq == CRAFTED && sp == S_DUPLICATE) {
		snprintf(from, sizeof(from), "\"subjects\":[\"%s\"]", token2);
		snprintf(to, sizeof(to), "\"subjects\":[\"%s\"],\"subjects\":"
		    "[\"%s\"]", token2, token1);
	} else if (seq == CRAFTED && sp == S_ESCAPED) {
		snprintf(from, sizeof(from), "[\"%s\"]", token1);
		snprintf(to, sizeof(to), "[\"\\u%04x%s\"]", token1[0],
		    token1 + 1);
	} else if (seq == CRAFTED && sp == S_WHITE_SPACE) {
		snprintf(from, sizeof(from), "\"seq\":%d", CRAFTED);
		snprintf(to, sizeof(to), "\"seq\": %d", CRAFTED);
	} else {
		l->bytes[seq] = bytes;
		l->len[seq] = len;
		return;
	}
	crafted = replace_once(bytes, len, from, to, &n);
	free(bytes);
	l->bytes[seq] = crafted;
	l->len[seq] = n;
}

static void
log_build(struct log *l, enum spelling sp)
{
	uint8_t prev[LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	uint64_t seq;

	memset(l, 0, sizeof(*l));
	memset(prev, 0, sizeof(prev));
	l->ms = ledger_memstore_new();
	l->hs = ledger_memstore_hash_store(l->ms);
	for (seq = 0; seq < LOG_SIZE; seq++) {
		make_entry(l, seq, sp, prev);
		if (ledger_leaf_hash(l->bytes[seq], l->len[seq], leaf) != 0 ||
		    ledger_merkle_append(&l->hs, seq, leaf) != 0)
			abort();
		memcpy(prev, leaf, sizeof(prev));
	}
}

static void
log_free(struct log *l)
{
	size_t i;

	for (i = 0; i < LOG_SIZE; i++)
		free(l->bytes[i]);
	ledger_memstore_free(l->ms);
}

/* The signed checkpoint of the first size entries; new string. */
static char *
checkpoint(const struct log *l, uint64_t size, const struct ledger_signer *s)
{
	struct ledger_checkpoint cp;
	char *note;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.tree_size = size;
	if (ledger_merkle_root(&l->hs, size, cp.root) != 0 ||
	    (note = ledger_checkpoint_sign(&cp, s)) == NULL)
		abort();
	return note;
}

/* The note with the test witness's cosignature line; new string. */
static char *
cosigned(const char *note)
{
	struct ledger_note_sig sigs[4];
	size_t nsigs, text_len;
	char *line, *out;

	if (ledger_note_split(note, strlen(note), sigs, 4, &nsigs,
	    &text_len) != 0 || ledger_cosignature_sign(witness_key, note,
	    text_len, 1800000000, &line) != 0)
		abort();
	out = xasprintf("%s%s", note, line);
	free(line);
	return out;
}

/* ---- the site file the server answers from ---- */

static void
site_put(json_t *site, const char *target, int status, const char *type,
    const void *body, size_t len)
{
	char *b64 = xmalloc(LEDGER_B64_LEN(len) + 1);

	ledger_b64_encode(body, len, b64);
	json_object_set_new(site, target, json_pack("{s:i, s:s, s:s}",
	    "status", status, "type", type, "body_b64", b64));
	free(b64);
}

static void
site_put_json(json_t *site, const char *target, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);

	site_put(site, target, 200, "application/json", text, strlen(text));
	free(text);
	json_decref(v);
}

static void
site_write(json_t *site)
{
	char tmp[700];

	snprintf(tmp, sizeof(tmp), "%s.tmp", site_path);
	if (json_dump_file(site, tmp, JSON_COMPACT) != 0 ||
	    rename(tmp, site_path) != 0)
		abort();
	json_decref(site);
}

static json_t *
hash_array(uint8_t (*h)[LEDGER_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	char b64[48];
	size_t i;

	for (i = 0; i < n; i++) {
		ledger_b64_encode(h[i], LEDGER_HASH_LEN, b64);
		json_array_append_new(a, json_string(b64));
	}
	return a;
}

/* A provenance page for person-1 holding the given seqs. */
static json_t *
who_saw_page(const struct log *served, const struct log *tree, uint64_t size,
    const char *note, const uint64_t *seqs, size_t n, enum lie lie)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	json_t *events = json_array();
	size_t i, plen;

	for (i = 0; i < n; i++) {
		if (ledger_merkle_inclusion_proof(&tree->hs, seqs[i], size,
		    proof, &plen) != 0)
			abort();
		if (lie == L_PROOF_FLIP && seqs[i] == 3)
			proof[0][5] ^= 0x20;
		json_array_append_new(events, json_pack("{s:I, s:s%, s:o}",
		    "seq", (json_int_t)seqs[i], "entry", served->bytes[seqs[i]],
		    served->len[seqs[i]], "proof", hash_array(proof, plen)));
		add_opened(json_array_get(events, json_array_size(events) - 1),
		    seqs[i], lie);
	}
	return json_pack("{s:s, s:I, s:s, s:o}", "checkpoint", note,
	    "tree_size", (json_int_t)size, "subject_token", token1,
	    "events", events);
}

/* The entry bundle and level-0 tile of the first width entries. */
static void
put_tiles(json_t *site, const struct log *tree, const struct log *served,
    unsigned width, enum lie lie)
{
	uint8_t bundle[LOG_SIZE * 1024], tile[LOG_SIZE * LEDGER_HASH_LEN];
	char path[LEDGER_TILE_PATH_MAX + 2];
	struct ledger_tile t;
	size_t used = 0, i;

	memset(&t, 0, sizeof(t));
	t.level = LEDGER_TILE_LEVEL_ENTRIES;
	t.width = width;
	for (i = 0; i < width; i++)
		if (ledger_bundle_append(bundle, sizeof(bundle), &used,
		    served->bytes[i], served->len[i]) != 0)
			abort();
	path[0] = '/';
	ledger_tile_path_format(&t, path + 1);
	site_put(site, path, 200, "application/octet-stream", bundle, used);
	t.level = 0;
	if (ledger_tile_hashes(&tree->hs, &t, tile) != 0)
		abort();
	if (lie == L_TILE_FLIP)
		tile[2 * LEDGER_HASH_LEN + 7] ^= 1;
	ledger_tile_path_format(&t, path + 1);
	site_put(site, path, 200, "application/octet-stream", tile,
	    (size_t)width * LEDGER_HASH_LEN);
}

/*
 * Serves the log of spelling sp with the lie: /checkpoint, the entry
 * bundle and hash tile, the export stream and the who-saw answer.  The
 * answer leaves the crafted entry out unless answer_crafted: a complete
 * audit must then find it missing, or refuse it.
 */
static void
serve(enum spelling sp, enum lie lie, int answer_crafted)
{
	struct log tree, served;
	char *note, *old_note, *jsonl;
	uint64_t seqs[3] = { 1, 3, CRAFTED };
	size_t jl = 0, i;
	json_t *site = json_object(), *page;

	serving_sealed = sp == S_SEALED;
	log_build(&tree, sp);
	log_build(&served, sp);
	if (lie == L_BYTES_DIFFER)
		for (i = 0; i < LOG_SIZE; i++)
			if (i == 3) {
				char *b = replace_once(served.bytes[3],
				    served.len[3], "case review", "case rEview",
				    &served.len[3]);
				free(served.bytes[3]);
				served.bytes[3] = b;
			}
	note = checkpoint(&tree, LOG_SIZE, lie == L_OTHER_KEY ? other_key :
	    log_key);
	if (lie == L_ROLLBACK) {
		/* /checkpoint is older than the answer's checkpoint. */
		old_note = checkpoint(&tree, 4, log_key);
		site_put(site, "/checkpoint", 200, "text/plain; charset=utf-8",
		    old_note, strlen(old_note));
		free(old_note);
	} else if (lie >= L_WITNESSED) {
		struct log forked;

		log_build(&forked, S_NOT_FIRST);
		old_note = checkpoint(lie == L_WITNESSED_FORK ? &forked : &tree,
		    lie == L_WITNESSED_OLD ? 4 : LOG_SIZE, log_key);
		jsonl = cosigned(old_note);
		site_put(site, "/checkpoint", 200, "text/plain; charset=utf-8",
		    jsonl, strlen(jsonl));
		free(jsonl);
		free(old_note);
		log_free(&forked);
	} else
		site_put(site, "/checkpoint", 200, "text/plain; charset=utf-8",
		    note, strlen(note));

	put_tiles(site, &tree, &served, LOG_SIZE, lie);
	if (lie == L_ROLLBACK)
		put_tiles(site, &tree, &served, 4, lie);
	/* The export stream: every entry below the export entry. */
	jsonl = xmalloc(LOG_SIZE * 1024);
	for (i = 0; i < EXPORT_SEQ; i++) {
		memcpy(jsonl + jl, served.bytes[i], served.len[i]);
		jl += served.len[i];
		jsonl[jl++] = '\n';
	}
	site_put(site, "/v1/export", 200, "application/x-ndjson", jsonl, jl);
	{
		char seq[24], range[48];

		snprintf(seq, sizeof(seq), "%d", EXPORT_SEQ);
		snprintf(range, sizeof(range), "0-%d", EXPORT_SEQ);
		json_object_set_new(json_object_get(site, "/v1/export"),
		    "headers", json_pack("{s:s, s:s, s:s}", "X-Ledger-Export-Seq",
		    seq, "X-Ledger-Export-Range", range, "X-Ledger-Tree-Size", seq));
		snprintf(range, sizeof(range), "/v1/events/%d", EXPORT_SEQ);
		site_put(site, range, 200, "application/json",
		    served.bytes[EXPORT_SEQ], served.len[EXPORT_SEQ]);
	}
	free(jsonl);

	/* GET /v1/events (one page), /v1/events/4 and its proof. */
	{
		uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
		char target[96], leaf_b64[48];
		uint8_t leaf[LEDGER_HASH_LEN];
		json_t *events = json_array();
		size_t plen;

		for (i = 0; i < LOG_SIZE; i++) {
			json_array_append_new(events, json_pack("{s:I, s:s%}",
			    "seq", (json_int_t)i, "entry", served.bytes[i],
			    served.len[i]));
			add_opened(json_array_get(events, i), i, lie);
		}
		site_put_json(site, "/v1/events", json_pack("{s:o}", "events",
		    events));
		site_put(site, "/v1/events/4", 200, "application/json",
		    served.bytes[4], served.len[4]);
		/* Every entry's proof (get, list --verify). */
		for (i = 0; i < LOG_SIZE; i++) {
			if (ledger_merkle_inclusion_proof(&tree.hs, i, LOG_SIZE,
			    proof, &plen) != 0 || ledger_leaf_hash(tree.bytes[i],
			    tree.len[i], leaf) != 0)
				abort();
			ledger_b64_encode(leaf, LEDGER_HASH_LEN, leaf_b64);
			snprintf(target, sizeof(target), "/v1/proof/inclusion?"
			    "index=%zu&tree_size=%d", i, LOG_SIZE);
			site_put_json(site, target, json_pack("{s:s, s:o}",
			    "leaf_hash", leaf_b64, "hashes", hash_array(proof,
			    plen)));
		}
	}
	if (lie == L_ANSWER_OLDER) {
		/* Answered against the tree of 4: seqs 1 and 3. */
		old_note = checkpoint(&tree, 4, log_key);
		page = who_saw_page(&served, &tree, 4, old_note, seqs, 2, lie);
		free(old_note);
	} else
		page = who_saw_page(&served, &tree, LOG_SIZE, note, seqs,
		    answer_crafted ? 3 : 2, lie);
	if (lie == L_OLD_PAGE) {
		/* Page two: from a tree of 4, older than page one's 6. */
		old_note = checkpoint(&tree, 4, log_key);
		json_object_set_new(page, "next_cursor", json_string("p2"));
		site_put_json(site, "/v1/provenance/subjects/person-1?cursor=p2",
		    who_saw_page(&served, &tree, 4, old_note, seqs + 1, 1, lie));
		free(old_note);
	}
	site_put_json(site, "/v1/provenance/subjects/person-1", page);
	site_write(site);
	free(note);
	log_free(&tree);
	log_free(&served);
}

/* /checkpoint only, of size at most LOG_SIZE; fork: another root. */
static void
serve_checkpoint(uint64_t size, int fork)
{
	struct log l;
	json_t *site = json_object();
	uint8_t tile[LOG_SIZE * LEDGER_HASH_LEN];
	struct ledger_tile t;
	char *note;

	log_build(&l, fork ? S_NOT_FIRST : S_HONEST);
	note = checkpoint(&l, size, log_key);
	site_put(site, "/checkpoint", 200, "text/plain; charset=utf-8", note,
	    strlen(note));
	free(note);
	log_free(&l);
	/*
	 * The honest hash tile of 6, from which the client proves the grown
	 * case consistent (and finds the forked checkpoint not backed by it).
	 */
	log_build(&l, S_HONEST);
	t.level = 0;
	t.index = 0;
	t.width = LOG_SIZE;
	if (ledger_tile_hashes(&l.hs, &t, tile) != 0)
		abort();
	site_put(site, "/tile/0/000.p/6", 200, "application/octet-stream",
	    tile, sizeof(tile));
	log_free(&l);
	site_write(site);
}

/* ---- running ledgerctl ---- */

/* ledgerctl --url URL --key VKEY ARGS... (NULL-terminated). */
static void
ctl_run(struct ctl_result *r, ...)
{
	const char *args[32];
	size_t n = 0;
	va_list ap;

	args[n++] = "--url";
	args[n++] = url;
	args[n++] = "--key";
	args[n++] = vkey;
	va_start(ap, r);
	while (n < 31 && (args[n] = va_arg(ap, const char *)) != NULL)
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

static int export_count;

/* export into a new directory; the exit code. */
static int
export_run(struct ctl_result *r)
{
	char dir[700];

	snprintf(dir, sizeof(dir), "%s/export-%d", scratch, export_count++);
	ctl_run(r, "export", "--out", dir, (const char *)NULL);
	return r->code;
}

#define EXPORT(code, phrase)						\
	do {								\
		struct ctl_result r_;					\
		export_run(&r_);					\
		CTL_EXPECT(&r_, (code), (phrase));			\
		ctl_result_free(&r_);					\
	} while (0)

/* ---- the cases ---- */

/*
 * A sealed entry (spec §2.10): the honest opened value passes; another
 * value, another salt, no opened value at all, or a destroyed marker the
 * log does not record fails list and who-saw.
 */
static void
test_opened_values(void)
{
	static const enum lie lies[] = { L_OPENED_VALUE, L_OPENED_SALT,
	    L_OPENED_MISSING };
	static const char *const phrases[] = { "commitment_mismatch",
	    "commitment_mismatch", "missing_field" };
	size_t i;

	serve(S_SEALED, L_NONE, 1);
	CTL(0, "6 entries", "list");
	CTL(0, "3 events", "who-saw", "person-1");
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		serve(S_SEALED, lies[i], 1);
		CTL(1, phrases[i], "list");
		CTL(1, "seq 4: the server's opened values do not match",
		    "who-saw", "person-1");
	}
	/*
	 * "Destroyed" withholds a value only on the log's record of it: not
	 * by an entry that is no destruction, nor by one before the value.
	 */
	serve(S_SEALED, L_OPENED_BY_EXPORT, 1);
	CTL(1, "destroyed by entry 5, which is not a destruction entry",
	    "list", "--verify");
	CTL(1, "destroyed by entry 5, which is not a destruction entry",
	    "who-saw", "person-1");
	serve(S_SEALED, L_OPENED_BY_EARLIER, 1);
	CTL(1, "destroyed by entry 2, which is not after it", "list",
	    "--verify");
	CTL(1, "destroyed by entry 2, which is not after it", "who-saw",
	    "person-1");
}

static void
test_honest_log(void)
{
	serve(S_HONEST, L_NONE, 1);
	CTL(0, "holds all 3 entries", "audit", "--subject", "person-1");
	CTL(0, "3 events", "who-saw", "person-1");
	CTL(0, "6 entries", "list");
	CTL(0, "\"seq\":4", "get", "4");
	EXPORT(0, NULL);
}

/*
 * "subjects" twice, person-1 only in the second: the daemon refuses such
 * bytes, a reader of the first key would not see person-1 and the audit
 * would pass an answer that leaves the entry out.
 */
static void
test_duplicate_subjects(void)
{
	serve(S_DUPLICATE, L_NONE, 0);
	CTL(1, "seq 4: not an entry as the server writes them",
	    "audit", "--subject", "person-1");
	serve(S_DUPLICATE, L_NONE, 1);
	CTL(1, "seq 4: not an entry", "who-saw", "person-1");
	CTL(1, "seq 4: not an entry", "list");
	CTL(1, "seq 4: not an entry", "get", "4");
}

/* person-1's token with its first character as \u00XX. */
static void
test_escaped_subject(void)
{
	serve(S_ESCAPED, L_NONE, 0);
	CTL(1, "seq 4: not an entry as the server writes them (not_canonical",
	    "audit", "--subject", "person-1");
	serve(S_ESCAPED, L_NONE, 1);
	CTL(1, "seq 4: not an entry", "who-saw", "person-1");
	CTL(1, "seq 4: not an entry", "list");
	CTL(1, "seq 4: not an entry", "get", "4");
}

/* A canonical entry naming person-1 second: it counts like the first. */
static void
test_subject_not_first(void)
{
	serve(S_NOT_FIRST, L_NONE, 0);
	CTL(1, "entry 4 names the subject but the server's answer leaves it "
	    "out", "audit", "--subject", "person-1");
	serve(S_NOT_FIRST, L_NONE, 1);
	CTL(0, "holds all 3 entries", "audit", "--subject", "person-1");
	CTL(0, "3 events", "who-saw", "person-1");
}

/* One space too many: the bytes are not the canonical serialisation. */
static void
test_white_space(void)
{
	serve(S_WHITE_SPACE, L_NONE, 1);
	CTL(1, "seq 4: not an entry as the server writes them (not_canonical",
	    "audit", "--subject", "person-1");
	CTL(1, "seq 4: not an entry", "who-saw", "person-1");
	CTL(1, "seq 4: not an entry", "list");
	CTL(1, "seq 4: not an entry", "get", "4");
}

/* The crafted spellings in an export. */
static void
test_export_spellings(void)
{
	static const enum spelling sp[] = { S_DUPLICATE, S_ESCAPED,
	    S_WHITE_SPACE };
	static const char *const names[] = { "duplicate subjects",
	    "escaped subject", "white space" };
	size_t i;

	for (i = 0; i < sizeof(sp) / sizeof(sp[0]); i++) {
		printf("  export with %s\n", names[i]);
		serve(sp[i], L_NONE, 1);
		EXPORT(1, "VERIFICATION FAILED");
	}
}

/* The bytes served for seq 3 are not the leaf the tree holds. */
static void
test_bytes_differ(void)
{
	serve(S_HONEST, L_BYTES_DIFFER, 1);
	CTL(1, "/tile/entries/000.p/6: entry 4: prev is not the leaf hash of "
	    "entry 3", "audit");
	CTL(1, "seq 3: the inclusion proof does not verify", "audit",
	    "--subject", "person-1");
	CTL(1, "seq 3: the inclusion proof does not verify", "who-saw",
	    "person-1");
	EXPORT(1, "VERIFICATION FAILED");
}

static void
test_wrong_proof_hash(void)
{
	serve(S_HONEST, L_PROOF_FLIP, 1);
	CTL(1, "seq 3: the inclusion proof does not verify", "who-saw",
	    "person-1");
	CTL(1, "seq 3: the inclusion proof does not verify", "audit",
	    "--subject", "person-1");
}

static void
test_tile_flipped(void)
{
	serve(S_HONEST, L_TILE_FLIP, 1);
	CTL(1, "/tile/0/000.p/6: the hash tile differs from the tree "
	    "recomputed from the entries", "audit");
	CTL(1, "/tile/0/000.p/6: the hash tile differs", "audit", "--subject",
	    "person-1");
	EXPORT(1, "VERIFICATION FAILED");
}

static void
test_other_key(void)
{
	char state[700];

	serve(S_HONEST, L_OTHER_KEY, 1);
	CTL(1, "does not verify with key", "audit");
	CTL(1, "does not verify with key", "audit", "--subject", "person-1");
	CTL(1, "does not verify with key", "who-saw", "person-1");
	EXPORT(1, "does not verify with key");
	snprintf(state, sizeof(state), "%s/state-other", scratch);
	CTL(1, "does not verify with key", "verify", "--state", state);
}

/* A second page answered from an older, smaller tree. */
static void
test_older_page(void)
{
	serve(S_HONEST, L_OLD_PAGE, 1);
	CTL(1, "older than an earlier one's", "who-saw", "person-1");
	CTL(1, "older than an earlier one's", "audit", "--subject",
	    "person-1");
}

/* The audited tree is older than the answer's: a rollback between them. */
static void
test_audit_rollback(void)
{
	serve(S_HONEST, L_ROLLBACK, 1);
	CTL(0, "match the signed checkpoint", "audit");
	CTL(1, "newer than the audited one", "audit", "--subject",
	    "person-1");
}

/*
 * With a policy: an answer whose own checkpoint is not cosigned is
 * believed once it is proven a prefix of the witnessed /checkpoint, and
 * an export carries the cosigned checkpoint into its bundle.
 */
static void
test_witnessed(void)
{
	struct ctl_result r;
	char state[700], dir[700];

	serve(S_HONEST, L_WITNESSED, 1);
	CTL(0, "3 events", "--policy", policy_path, "who-saw", "person-1");
	CTL(0, "holds all 3 entries", "--policy", policy_path, "audit",
	    "--subject", "person-1");
	snprintf(state, sizeof(state), "%s/state-witnessed", scratch);
	CTL(0, "first checkpoint", "--policy", policy_path, "verify",
	    "--state", state);
	snprintf(dir, sizeof(dir), "%s/export-witnessed", scratch);
	ctl_run(&r, "--policy", policy_path, "export", "--out", dir,
	    (const char *)NULL);
	CTL_EXPECT(&r, 0, "witnessed: the checkpoint meets the quorum");
	ctl_result_free(&r);
	CTL(0, "cosigned by w", "--policy", policy_path, "verify-export", dir);
	CTL(0, "cosigned by w", "--policy", policy_path, "checkpoint");
	/* Nothing cosigned: refused, the answer and /checkpoint alike. */
	serve(S_HONEST, L_NONE, 1);
	CTL(6, "QUORUM NOT MET", "--policy", policy_path, "checkpoint");
	CTL(6, "QUORUM NOT MET: GET /checkpoint", "--policy", policy_path,
	    "who-saw", "person-1");

	/* The answer is older than the witnessed tree: linked by the tiles. */
	serve(S_HONEST, L_ANSWER_OLDER, 1);
	CTL(0, "2 events", "--policy", policy_path, "who-saw", "person-1");
	/* Newer: not witnessed yet. */
	serve(S_HONEST, L_WITNESSED_OLD, 1);
	CTL(6, "the latest witnessed checkpoint (size 4) does not cover it",
	    "--policy", policy_path, "who-saw", "person-1");
	/* Witnessed is another tree: a split view. */
	serve(S_HONEST, L_WITNESSED_FORK, 1);
	CTL(4, "FORK (split view): the provenance answer (tree size 6) is not "
	    "a prefix of the witnessed checkpoint", "--policy", policy_path,
	    "who-saw", "person-1");
}

/*
 * ledgerctl mirror from a lying server: a fork of the mirrored tree, a
 * hash tile or an entry bundle that is not the signed log; nothing of it
 * is put in place, and the file is named.
 */
static void
test_mirror_lies(void)
{
	char dir[700], dir2[700], path[760];
	struct ctl_result r;
	char *before, *after;

	snprintf(dir, sizeof(dir), "%s/mirror", scratch);
	serve(S_HONEST, L_NONE, 1);
	CTL(0, "first checkpoint", "mirror", "--out", dir);
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	before = read_whole_file(path, NULL);
	/* Another tree of the same size, signed by the same key. */
	serve(S_NOT_FIRST, L_NONE, 1);
	CTL(4, "FORK (split view)", "mirror", "--out", dir);
	after = read_whole_file(path, NULL);
	CHECK_STR(after, before);
	free(after);
	free(before);
	serve(S_HONEST, L_TILE_FLIP, 1);
	snprintf(dir2, sizeof(dir2), "%s/mirror-tile", scratch);
	ctl_run(&r, "mirror", "--out", dir2, (const char *)NULL);
	CTL_EXPECT(&r, 1, "/tile/0/000.p/6 (fetched)) do not lead to the root");
	ctl_result_free(&r);
	snprintf(path, sizeof(path), "%s/checkpoint", dir2);
	CHECK(access(path, F_OK) != 0);
	serve(S_HONEST, L_BYTES_DIFFER, 1);
	snprintf(dir2, sizeof(dir2), "%s/mirror-bundle", scratch);
	CTL(1, "/tile/entries/000.p/6 (fetched): entry 3 is missing or does "
	    "not hash to its leaf", "mirror", "--out", dir2);
	snprintf(path, sizeof(path), "%s/checkpoint", dir2);
	CHECK(access(path, F_OK) != 0);
}

/* verify: grown, then rolled back, then forked. */
static void
test_rollback_and_fork(void)
{
	char state[700];

	snprintf(state, sizeof(state), "%s/state", scratch);
	serve_checkpoint(4, 0);
	CTL(0, "first checkpoint, saved", "verify", "--state", state);
	serve_checkpoint(LOG_SIZE, 0);
	CTL(0, "consistent with the saved checkpoint", "verify", "--state",
	    state);
	serve_checkpoint(4, 0);
	CTL(4, "ROLLBACK", "verify", "--state", state);
	serve_checkpoint(LOG_SIZE, 1);
	CTL(4, "FORK", "verify", "--state", state);
	/* The state file still holds the size-6 checkpoint. */
	serve_checkpoint(LOG_SIZE, 0);
	CTL(0, "unchanged", "verify", "--state", state);
}

/* ---- the server ---- */

static void
server_start(void)
{
	char port_path[700], port[32];
	long long deadline = now_ms() + DAEMON_START_TIMEOUT_MS;
	const char *script = getenv("LEDGER_TEST_MALICIOUS_SERVER");

	if (script == NULL)
		script = "tests/malicious_server.py";
	snprintf(port_path, sizeof(port_path), "%s/port", scratch);
	serve_checkpoint(LOG_SIZE, 0);
	if ((server_pid = fork()) == 0) {
		execlp("python3", "python3", script, site_path, port_path,
		    (char *)NULL);
		_exit(127);
	}
	for (;;) {
		char *text = read_whole_file(port_path, NULL);

		snprintf(port, sizeof(port), "%s", text);
		free(text);
		if (port[0] != '\0')
			break;
		if (now_ms() > deadline || waitpid(server_pid, NULL,
		    WNOHANG) != 0) {
			fprintf(stderr, "%s did not start\n", script);
			exit(1);
		}
		sleep_ms(20);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", atoi(port));
}

static void
server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
}

int
main(void)
{
	uint8_t seed[32] = { 1, 2, 3 }, seed2[32] = { 9, 8, 7 };
	char *v;
	int rc;

	snprintf(scratch, sizeof(scratch), "%s/ledger-malicious.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(scratch) == NULL)
		return 1;
	snprintf(site_path, sizeof(site_path), "%s/site.json", scratch);
	if (ledger_signer_from_seed(ORIGIN, LEDGER_SIGTYPE_ED25519, seed,
	    &log_key) != 0 || ledger_signer_from_seed(ORIGIN,
	    LEDGER_SIGTYPE_ED25519, seed2, &other_key) != 0)
		return 1;
	v = ledger_verifier_format(ledger_signer_verifier(log_key));
	snprintf(vkey, sizeof(vkey), "%s", v);
	free(v);
	if (ledger_signer_from_seed("witness.example", LEDGER_SIGTYPE_COSIGNATURE,
	    seed2, &witness_key) != 0)
		return 1;
	v = ledger_verifier_format(ledger_signer_verifier(witness_key));
	snprintf(policy_path, sizeof(policy_path), "%s/policy", scratch);
	{
		FILE *f = fopen(policy_path, "w");

		if (f == NULL || fprintf(f, "log %s\nwitness w %s\nquorum w\n",
		    vkey, v) < 0 || fclose(f) != 0)
			return 1;
	}
	free(v);
	ledger_subject_token(subject_key, "person-1", 8, token1);
	ledger_subject_token(subject_key, "person-2", 8, token2);
	unsetenv("LEDGER_TOKEN");
	/* Cosignatures that are missing here never come: no waiting. */
	setenv("LEDGER_QUORUM_WAIT", "0", 1);
	/* The lying server never publishes more: no use waiting for it. */
	setenv("LEDGER_PUBLISH_WAIT", "0", 1);
	server_start();
	RUN(test_honest_log);
	RUN(test_duplicate_subjects);
	RUN(test_escaped_subject);
	RUN(test_subject_not_first);
	RUN(test_white_space);
	RUN(test_export_spellings);
	RUN(test_bytes_differ);
	RUN(test_wrong_proof_hash);
	RUN(test_tile_flipped);
	RUN(test_other_key);
	RUN(test_older_page);
	RUN(test_audit_rollback);
	RUN(test_rollback_and_fork);
	RUN(test_opened_values);
	RUN(test_witnessed);
	RUN(test_mirror_lies);
	server_stop();
	ledger_signer_free(log_key);
	ledger_signer_free(other_key);
	ledger_signer_free(witness_key);
	rc = TEST_SUMMARY();
	if (rc == 0)
		remove_tree(scratch);
	return rc;
}
