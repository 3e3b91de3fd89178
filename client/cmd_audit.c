/*
 * ledgerctl audit: downloads every entry bundle and hash tile and
 * recomputes the log: each leaf, the hash chain (prev), every tile and the
 * root, compared with the signed checkpoint.  With --subject it also finds
 * every entry naming the subject and compares them with the server's
 * provenance answer: the answer must be complete.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/tile.h"
#include "ledger/utf8.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "progress.h"
#include "provenance.h"
#include "published.h"
#include "tiles.h"

int provenance_subject_key(const char *path, uint8_t key[LEDGER_SUBJECT_KEY_LEN]);

static const char usage_text[] =
    "usage: ledgerctl audit [options]\n"
    "Downloads all entry bundles and hash tiles, recomputes every leaf, the\n"
    "prev hash chain, every tile and the root, and compares them with the\n"
    "signed checkpoint.  Reports the verification rate.\n"
    "  --subject ID          also check that the server's provenance answer\n"
    "                        for ID holds every entry naming it\n"
    "  --subject-key FILE    32 raw bytes: compute ID's token locally\n"
    "  --purpose TEXT        recorded in the provenance query's audit entry\n";

/* One downloaded tile. */
struct tile_data {
	struct ledger_tile t;
	char *bytes;
	size_t len;
};

struct audit {
	uint64_t tree_size;
	struct tile_data *bundles;	/* entry bundles, by index */
	uint64_t n_bundles;
	struct tile_data *tiles;	/* hash tiles, every level */
	size_t n_tiles, cap_tiles;
	uint64_t *found;		/* seqs naming the subject */
	size_t n_found, cap_found;
};

/* "/tile/…" of a tile, for messages. */
static const char *
tile_path(const struct ledger_tile *t, char buf[LEDGER_TILE_PATH_MAX + 2])
{
	buf[0] = '/';
	if (ledger_tile_path_format(t, buf + 1) != 0)
		snprintf(buf, LEDGER_TILE_PATH_MAX + 2, "(no tile)");
	return buf;
}

static int
fetch_tile(struct ctl *ctl, struct tile_data *d)
{
	struct http_reply r;
	int rc;

	if ((rc = tile_get(ctl, &d->t, &r, NULL)) != 0)
		return rc;
	d->bytes = r.body;
	d->len = r.len;
	return 0;
}

static int
download(struct ctl *ctl, struct audit *a)
{
	struct progress pg;
	uint64_t n = a->tree_size, i, per, count, total_tiles = 0, done = 0;
	unsigned level, width;
	int rc;

	a->n_bundles = (n + LEDGER_TILE_WIDTH - 1) / LEDGER_TILE_WIDTH;
	a->bundles = xcalloc(a->n_bundles ? a->n_bundles : 1,
	    sizeof(*a->bundles));
	for (level = 0, per = 1; level < 8 && n / per > 0; level++) {
		count = (n / per + LEDGER_TILE_WIDTH - 1) / LEDGER_TILE_WIDTH;
		total_tiles += count;
		if (per > UINT64_MAX / LEDGER_TILE_WIDTH)
			break;
		per *= LEDGER_TILE_WIDTH;
	}
	a->tiles = xcalloc(total_tiles ? total_tiles : 1, sizeof(*a->tiles));
	progress_start(&pg, "downloading", "tiles", a->n_bundles + total_tiles);
	for (i = 0; i < a->n_bundles; i++) {
		a->bundles[i].t.level = LEDGER_TILE_LEVEL_ENTRIES;
		a->bundles[i].t.index = i;
		a->bundles[i].t.width = ledger_tile_width_at(
		    LEDGER_TILE_LEVEL_ENTRIES, i, n);
		if ((rc = fetch_tile(ctl, &a->bundles[i])) != 0)
			goto out;
		progress_update(&pg, ++done);
	}
	for (level = 0; level < 8; level++)
		for (i = 0; (width = ledger_tile_width_at((int)level, i,
		    n)) != 0; i++) {
			struct tile_data *d = &a->tiles[a->n_tiles];

			if (a->n_tiles == total_tiles)
				break;
			d->t.level = (int)level;
			d->t.index = i;
			d->t.width = width;
			if ((rc = fetch_tile(ctl, d)) != 0)
				goto out;
			a->n_tiles++;
			progress_update(&pg, ++done);
		}
	rc = 0;
out:
	progress_end(&pg);
	return rc;
}

static void
audit_free(struct audit *a)
{
	uint64_t i;

	for (i = 0; i < a->n_bundles; i++)
		free(a->bundles[i].bytes);
	for (i = 0; i < a->n_tiles; i++)
		free(a->tiles[i].bytes);
	free(a->bundles);
	free(a->tiles);
	free(a->found);
}

/* The level-0 tile holding leaf seq, or NULL. */
static const struct tile_data *
leaf_tile(const struct audit *a, uint64_t seq)
{
	uint64_t idx = seq / LEDGER_TILE_WIDTH;

	/* Level-0 tiles come first, in index order. */
	if (idx < a->n_tiles && a->tiles[idx].t.level == 0 &&
	    a->tiles[idx].t.index == idx)
		return &a->tiles[idx];
	return NULL;
}

/* Whether the entry's subjects hold the token (in any place). */
static int
names_token(const json_t *entry, const char *token)
{
	const json_t *subject;
	size_t i;

	json_array_foreach(json_object_get(entry, "subjects"), i, subject)
		if (strcmp(json_string_value(subject), token) == 0)
			return 1;
	return 0;
}

/* Whether the view's subjects hold the token (in any place). */
static int
view_names_token(const struct ledger_entry_view *view, const char *token)
{
	size_t i;

	for (i = 0; i < view->n_subjects; i++)
		if (view->subjects[i].len == LEDGER_SUBJECT_TOKEN_LEN &&
		    memcmp(view->subjects[i].s, token,
		    LEDGER_SUBJECT_TOKEN_LEN) == 0)
			return 1;
	return 0;
}

/*
 * The audit's checks of an entry the scanner found canonical, from its view:
 * the server's fields as ledger_entry_parse demands them, seq its position,
 * prev the leaf hash before it, subjects tokens.  0 sends the entry to
 * ledger_entry_parse, which gives the verdict and its message.  A span is
 * the string as written: an escape in it fails each check below, as the
 * decoded string would (a control character in submitter, a character no
 * token, time or base64 has), so it too goes to the full parse.
 */
static int
view_passes(const struct ledger_entry_view *view, uint64_t seq,
    const char *prev_b64)
{
	static const unsigned need = LEDGER_VIEW_V | LEDGER_VIEW_SEQ |
	    LEDGER_VIEW_RECEIVED_AT | LEDGER_VIEW_SUBMITTER | LEDGER_VIEW_PREV;
	char when[LEDGER_TIME_LEN + 1], again[LEDGER_TIME_LEN + 1];
	uint8_t salt[LEDGER_SALT_LEN];
	size_t i, n;
	int64_t us;

	if ((view->typed & need) != need || view->seq != seq)
		return 0;
	if (view->v == 1) {
		if (view->present & LEDGER_VIEW_SALT)
			return 0;
	} else if (view->v != 2 || !(view->typed & LEDGER_VIEW_SALT) ||
	    ledger_b64_decode(view->salt.s, view->salt.len, salt,
	    sizeof(salt), &n) != 0 || n != LEDGER_SALT_LEN)
		return 0;
	/* received_at exactly as ledger_time_format writes it. */
	if (view->received_at.len != LEDGER_TIME_LEN)
		return 0;
	memcpy(when, view->received_at.s, LEDGER_TIME_LEN);
	when[LEDGER_TIME_LEN] = '\0';
	if (ledger_time_parse_rfc3339(when, &us) != 0)
		return 0;
	ledger_time_format(us, again);
	if (memcmp(again, when, LEDGER_TIME_LEN) != 0)
		return 0;
	if (view->submitter.len == 0 || view->submitter.len > LEDGER_STRING_MAX ||
	    memchr(view->submitter.s, '\\', view->submitter.len) != NULL ||
	    !ledger_utf8_text_valid(view->submitter.s, view->submitter.len))
		return 0;
	/* The chain: equal to the canonical base64 of the previous leaf. */
	if (view->prev.len != strlen(prev_b64) ||
	    memcmp(view->prev.s, prev_b64, view->prev.len) != 0)
		return 0;
	if (view->present & LEDGER_VIEW_SUBJECTS) {
		if (!(view->typed & LEDGER_VIEW_SUBJECTS))
			return 0;
		for (i = 0; i < view->n_subjects; i++)
			if (!ledger_subject_token_valid(view->subjects[i].s,
			    view->subjects[i].len))
				return 0;
	}
	return 1;
}

/*
 * The recomputation, the part that is timed: every leaf, seq and prev, the
 * tree, then every tile and the root.  A failure names the file at fault
 * (its /tile/… path, which is also its place in a mirror): the tree
 * rebuilt from the entries decides between an entry bundle and a hash
 * tile that disagree, since only one of them can lead to the signed root.
 */
static int
recompute(struct audit *a, const struct ledger_checkpoint *cp,
    const char *token, const struct ledger_checkpoint *window, double *seconds,
    double *cpu_seconds)
{
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	uint8_t leaf[LEDGER_HASH_LEN], prev[LEDGER_HASH_LEN], root[LEDGER_HASH_LEN];
	uint8_t *buf = NULL;
	char prev_b64[48], bpath[LEDGER_TILE_PATH_MAX + 2];
	char tpath[LEDGER_TILE_PATH_MAX + 2];
	const struct tile_data *lt;
	const uint8_t *bytes;
	struct ledger_entry_view view;
	json_t *entry = NULL;
	struct progress pg;
	uint64_t seq = 0, b, got, i, differs = UINT64_MAX;
	size_t pos, elen;
	uint64_t token_window = window != NULL ? window->tree_size : 0;
	double start = ctl_now();
	struct rusage ru0, ru1;
	int rc = EXIT_VERIFY;

	getrusage(RUSAGE_SELF, &ru0);

	memset(prev, 0, sizeof(prev));
	progress_start(&pg, "verifying", "entries", a->tree_size);
	for (b = 0; b < a->n_bundles; b++) {
		const struct tile_data *d = &a->bundles[b];

		tile_path(&d->t, bpath);
		pos = 0;
		for (got = 0; ledger_bundle_next((const uint8_t *)d->bytes,
		    d->len, &pos, &bytes, &elen) == 0; got++, seq++) {
			if (got == d->t.width) {
				ctl_verify_fail("%s: the entry bundle holds more "
				    "than %u entries", bpath, d->t.width);
				goto out;
			}
			if (ledger_leaf_hash(bytes, elen, leaf) != 0)
				goto out;
			/*
			 * The bytes must be exactly the daemon's serialisation
			 * of what they hold: a second spelling of a field (a
			 * duplicate key, an escape) could otherwise hide a
			 * subject from this audit.  The scanner decides that
			 * in one pass for almost every entry; whatever it
			 * leaves open or refuses, or whose fields the view
			 * does not pass, ledger_entry_parse reads, for the
			 * verdict and its message.
			 */
			ctl_hash_b64(prev, prev_b64);
			json_decref(entry);
			entry = NULL;
			if (ledger_entry_scan((const char *)bytes, elen,
			    &view) != LEDGER_SCAN_CANONICAL ||
			    !view_passes(&view, seq, prev_b64)) {
				if (ctl_entry_open(seq, (const char *)bytes,
				    elen, &entry) != 0) {
					ctl_fail(EXIT_VERIFY, "entry %" PRIu64
					    " is in %s", seq, bpath);
					goto out;
				}
				if (strcmp(json_string_value(json_object_get(
				    entry, "prev")), prev_b64) != 0) {
					ctl_verify_fail("%s: entry %" PRIu64 ": "
					    "prev is not the leaf hash of entry %"
					    PRIu64 " (hash chain broken)", bpath,
					    seq, seq - 1);
					goto out;
				}
			}
			/* Which of the two is wrong is decided below. */
			if (differs == UINT64_MAX && ((lt = leaf_tile(a,
			    seq)) == NULL || lt->len != (size_t)lt->t.width *
			    LEDGER_HASH_LEN || memcmp(lt->bytes + (seq %
			    LEDGER_TILE_WIDTH) * LEDGER_HASH_LEN, leaf,
			    LEDGER_HASH_LEN) != 0))
				differs = seq;
			if (ledger_merkle_append(&hs, seq, leaf) != 0)
				goto out;
			if (token != NULL && seq < token_window &&
			    (entry != NULL ? names_token(entry, token) :
			    view_names_token(&view, token))) {
				if (a->n_found == a->cap_found) {
					a->cap_found = a->cap_found * 2 + 64;
					a->found = xrealloc(a->found,
					    a->cap_found * sizeof(*a->found));
				}
				a->found[a->n_found++] = seq;
			}
			memcpy(prev, leaf, LEDGER_HASH_LEN);
			if ((seq & 4095) == 0)
				progress_update(&pg, seq);
		}
		if (got != d->t.width || pos != d->len) {
			ctl_verify_fail("%s: the entry bundle holds %" PRIu64
			    " entries, not %u, or is malformed", bpath, got,
			    d->t.width);
			goto out;
		}
	}
	progress_update(&pg, seq);
	progress_end(&pg);
	if (ledger_merkle_root(&hs, a->tree_size, root) != 0 ||
	    memcmp(root, cp->root, LEDGER_HASH_LEN) != 0) {
		if (differs != UINT64_MAX) {
			struct ledger_tile t = { LEDGER_TILE_LEVEL_ENTRIES,
			    differs / LEDGER_TILE_WIDTH, 0 };

			t.width = ledger_tile_width_at(t.level, t.index,
			    a->tree_size);
			ctl_verify_fail("%s: entry %" PRIu64 " does not hash to "
			    "its leaf in the hash tiles, and the entries do not "
			    "lead to the signed checkpoint's root: the entry "
			    "bundle is not the log's", tile_path(&t, bpath),
			    differs);
		} else
			ctl_verify_fail("the root recomputed from the %" PRIu64
			    " entries differs from the signed checkpoint's "
			    "root, and so do the level-0 hash tiles, which "
			    "hold the same leaves: the entry bundles and tiles "
			    "served are not the signed log", a->tree_size);
		goto out;
	}
	/*
	 * The entries lead to the signed root: every tile, leaves included,
	 * must be this tree, and one that is not is named.
	 */
	for (i = 0; i < a->n_tiles; i++) {
		const struct tile_data *d = &a->tiles[i];

		buf = xrealloc(buf, (size_t)d->t.width * LEDGER_HASH_LEN);
		if (d->len != (size_t)d->t.width * LEDGER_HASH_LEN ||
		    ledger_tile_hashes(&hs, &d->t, buf) != 0 ||
		    memcmp(buf, d->bytes, d->len) != 0) {
			ctl_verify_fail("%s: the hash tile differs from the tree "
			    "recomputed from the entries, which leads to the "
			    "signed checkpoint's root", tile_path(&d->t, tpath));
			goto out;
		}
	}
	*seconds = ctl_now() - start;
	getrusage(RUSAGE_SELF, &ru1);
	*cpu_seconds = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
	    ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	    (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
	    ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	/* The answer was about this very log: its root is ours at its size. */
	if (window != NULL && (ledger_merkle_root(&hs, token_window,
	    root) != 0 || memcmp(root, window->root, LEDGER_HASH_LEN) != 0)) {
		ctl_verify_fail("the provenance answer's checkpoint (size %"
		    PRIu64 ") is not a prefix of the audited tree: a fork",
		    token_window);
		goto out;
	}
	rc = 0;
out:
	json_decref(entry);
	free(buf);
	ledger_memstore_free(ms);
	return rc;
}

/*
 * The checkpoint to audit against.  With a provenance answer it must cover
 * the answer's checkpoint (pcp, opened here), whose tree recompute() then
 * proves a prefix of the audited one: the answer is made against the
 * log's newest tree, while /checkpoint is published at an interval (spec
 * §5.4), so it is fetched again until it covers the answer.
 */
static int
audited_checkpoint(struct ctl *ctl, const struct prov_result *res,
    struct ledger_checkpoint *cp, struct ledger_checkpoint *pcp)
{
	int rc;

	if (res == NULL)
		return ctl_fetch_checkpoint(ctl, cp, NULL);
	if ((rc = ctl_open_checkpoint(ctl, res->checkpoint,
	    strlen(res->checkpoint), "the provenance answer", pcp)) != 0 ||
	    (rc = ctl_fetch_checkpoint_covering(ctl, pcp->tree_size, cp,
	    NULL)) != 0)
		return rc;
	if (pcp->tree_size > cp->tree_size)
		return ctl_verify_fail("the provenance answer's checkpoint "
		    "(size %" PRIu64 ") is newer than the audited one, the "
		    "log's published checkpoint (size %" PRIu64 ")",
		    pcp->tree_size, cp->tree_size);
	return 0;
}

static int
compare_subject(const struct audit *a, const struct prov_result *res,
    const char *subject)
{
	size_t n = json_array_size(res->events), i = 0, j = 0, missing = 0;
	uint64_t s;

	/* Both lists are in seq order. */
	while (j < a->n_found) {
		s = i < n ? (uint64_t)json_integer_value(json_object_get(
		    json_array_get(res->events, i), "seq")) : UINT64_MAX;
		if (s == a->found[j]) {
			i++;
			j++;
		} else if (s < a->found[j])
			i++;
		else {
			if (missing++ < 10)
				fprintf(stderr, "ledgerctl: entry %" PRIu64
				    " names the subject but the server's "
				    "answer leaves it out\n", a->found[j]);
			j++;
		}
	}
	if (missing > 0)
		return ctl_verify_fail("the provenance answer for %s is "
		    "incomplete: %zu of %zu entries naming it are missing",
		    subject, missing, a->n_found);
	return 0;
}

int
cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "subject", required_argument, NULL, 's' },
	    { "subject-key", required_argument, NULL, 'k' },
	    { "purpose", required_argument, NULL, 'p' },
	    { NULL, 0, NULL, 0 } };
	uint8_t key[LEDGER_SUBJECT_KEY_LEN];
	char token[LEDGER_SUBJECT_TOKEN_LEN + 1];
	const char *subject = NULL, *key_path = NULL, *purpose = NULL;
	struct ledger_checkpoint cp, pcp;
	struct prov_result res;
	struct prov_query q;
	struct audit a;
	double secs = 0, cpu = 0, dl_start;
	json_t *out;
	int c, rc, have_res = 0;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		case 's': subject = optarg; break;
		case 'k': key_path = optarg; break;
		case 'p': purpose = optarg; break;
		default:
			if (!ctl_common_option(ctl, c, optarg))
				return ctl_usage_error("audit", "bad option");
		}
	}
	if (optind != argc)
		return ctl_usage_error("audit", "no arguments expected");
	if (key_path != NULL && subject == NULL)
		return ctl_usage_error("audit", "--subject-key needs --subject");
	if (purpose != NULL && subject == NULL)
		return ctl_usage_error("audit", "--purpose needs --subject");
	if ((rc = ctl_check_id("audit", "--subject", subject)) != 0 ||
	    (rc = ctl_check_text("audit", "--purpose", purpose)) != 0)
		return rc;
	memset(&a, 0, sizeof(a));
	memset(&res, 0, sizeof(res));
	if (subject != NULL) {
		memset(&q, 0, sizeof(q));
		q.kind = PROV_SUBJECT;
		q.subject = subject;
		q.purpose = purpose;
		if (key_path != NULL) {
			if ((rc = provenance_subject_key(key_path, key)) != 0)
				return rc;
			q.subject_key = key;
		}
		if ((rc = provenance_fetch(ctl, &q, &res)) != 0)
			return rc;
		have_res = 1;
		/* With the key the token is ours, else it is the answer's. */
		if (key_path != NULL)
			ledger_subject_token(key, subject, strlen(subject),
			    token);
		else
			snprintf(token, sizeof(token), "%s", res.subject_token);
	}
	if ((rc = audited_checkpoint(ctl, have_res ? &res : NULL, &cp,
	    &pcp)) != 0)
		goto out;
	a.tree_size = cp.tree_size;
	dl_start = ctl_now();
	if ((rc = download(ctl, &a)) != 0)
		goto out;
	dl_start = ctl_now() - dl_start;
	if ((rc = recompute(&a, &cp, have_res ? token : NULL,
	    have_res ? &pcp : NULL, &secs, &cpu)) != 0)
		goto out;
	if (have_res && (rc = compare_subject(&a, &res, subject)) != 0)
		goto out;
	if (ctl->json) {
		out = json_pack("{s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:b}",
		    "origin", cp.origin, "tree_size", (json_int_t)cp.tree_size,
		    "tiles", (json_int_t)(a.n_bundles + a.n_tiles),
		    "download_seconds", dl_start, "verify_seconds", secs,
		    "verify_cpu_seconds", cpu,
		    "entries_per_second", secs > 0 ? (double)cp.tree_size / secs :
		    0.0, "entries_per_cpu_second", cpu > 0 ?
		    (double)cp.tree_size / cpu : 0.0, "verified", 1);
		if (have_res)
			json_object_set_new(out, "subject_entries",
			    json_integer((json_int_t)a.n_found));
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else {
		printf("audit of %s: %" PRIu64 " entries, %" PRIu64 " tiles\n"
		    "  leaves, hash chain, tiles and root recomputed: they match "
		    "the signed checkpoint\n  downloaded in %.2f s; verified in "
		    "%.3f s, %.3f s of CPU (%.0f entries/s, %.0f per CPU second)\n",
		    cp.origin, cp.tree_size, a.n_bundles + a.n_tiles, dl_start,
		    secs, cpu, secs > 0 ? (double)cp.tree_size / secs : 0.0,
		    cpu > 0 ? (double)cp.tree_size / cpu : 0.0);
		if (have_res)
			printf("  subject %s: the provenance answer holds all "
			    "%zu entries naming it (in the first %" PRIu64
			    " entries)\n", subject, a.n_found, res.tree_size);
	}
out:
	audit_free(&a);
	if (have_res)
		provenance_result_free(&res);
	memset(key, 0, sizeof(key));
	return rc;
}
