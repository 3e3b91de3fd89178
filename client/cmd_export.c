/*
 * ledgerctl export: a compliance bundle (spec §8) in a new directory:
 * entries.jsonl streamed from GET /v1/export to disk, the signed
 * checkpoint fetched after it, one C2SP tlog-proof per entry computed from
 * the public hash tiles and verified before it is written, entries.csv,
 * and MANIFEST.  Memory stays constant whatever the range: entries go
 * through one line at a time and tiles through a bounded cache.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/csv.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/sealed.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "provenance.h"
#include "published.h"
#include "manifest.h"
#include "progress.h"
#include "tiles.h"
#include "tlog_proof.h"

#define TILE_CACHE 64

static const char usage_text[] =
    "usage: ledgerctl export [options] --out DIR\n"
    "Writes a compliance bundle to the new directory DIR: entries.jsonl,\n"
    "proofs (one C2SP tlog-proof per entry, concatenated), checkpoint,\n"
    "entries.csv, opened.jsonl (the sealed values, checked against their\n"
    "commitments), context.jsonl (the export entry, and the entries just\n"
    "outside the range), context.proofs, README and MANIFEST.  Every proof\n"
    "is verified before it is written.\n"
    "  --since TIME --until TIME   bounds on received_at (RFC 3339)\n"
    "  --org ORG  --subject ID     filters, as GET /v1/export\n"
    "  --user USER                 the entries of one user of --org\n"
    "  --object REF [--depth N]    an item's lineage, as ledgerctl lineage\n"
    "                              (depth 0 to 64, default 16); no other\n"
    "                              filter goes with it\n"
    "  --purpose TEXT              recorded in the export entry\n"
    "Check a bundle with: ledgerctl verify-export DIR --key VKEY\n";

struct sink {
	FILE *f;
	uint64_t bytes, lines;
	struct progress *pg;
};

static int
to_file(void *arg, const char *data, size_t len)
{
	struct sink *s = arg;
	size_t i;

	if (fwrite(data, 1, len, s->f) != len)
		return -1;
	for (i = 0; i < len; i++)
		s->lines += data[i] == '\n';
	s->bytes += len;
	progress_update(s->pg, s->lines);
	return 0;
}

static FILE *
create(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wx");

	if (f == NULL)
		ctl_fail(EXIT_IO, "cannot create %s: %s", path, strerror(errno));
	free(path);
	return f;
}

static int
finish(FILE *f, const char *name)
{
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;

	if (fclose(f) != 0 || bad)
		return ctl_fail(EXIT_IO, "cannot write %s", name);
	return 0;
}

/* What the server's headers say about the export (checked later). */
struct export_head {
	uint64_t export_seq;		/* X-Ledger-Export-Seq */
	uint64_t start, end;		/* X-Ledger-Export-Range "start-end" */
};

static int
parse_head(const struct http_reply *r, struct export_head *h)
{
	char start[24], *dash;
	size_t n;

	if ((dash = strchr(r->export_range, '-')) == NULL ||
	    (n = (size_t)(dash - r->export_range)) >= sizeof(start))
		return -1;
	memcpy(start, r->export_range, n);
	start[n] = '\0';
	if (ctl_parse_u64(r->export_seq, &h->export_seq) != 0 ||
	    ctl_parse_u64(start, &h->start) != 0 ||
	    ctl_parse_u64(dash + 1, &h->end) != 0 || h->start > h->end ||
	    h->end > h->export_seq)
		return -1;
	return 0;
}

/* Streams the entries into DIR/entries.jsonl; lines and head out. */
static int
fetch_entries(struct ctl *ctl, const char *dir, const char *query,
    uint64_t *lines, struct export_head *head)
{
	struct http_client *c;
	struct http_reply r;
	struct progress pg;
	struct sink s;
	char *target;
	int rc = 0;

	if ((c = ctl_http(ctl)) == NULL)
		return EXIT_USAGE;
	memset(&s, 0, sizeof(s));
	if ((s.f = create(dir, "entries.jsonl")) == NULL)
		return EXIT_IO;
	progress_start(&pg, "exporting", "entries", 0);
	s.pg = &pg;
	target = xasprintf("/v1/export%s", query);
	if (http_client_stream(c, target, to_file, &s, &r) != 0) {
		rc = ctl_fail(EXIT_SERVER, "GET %s: %s", target,
		    http_client_error(c));
		fclose(s.f);
		goto out;
	}
	if (r.status != 200) {
		rc = ctl_fail(EXIT_SERVER, "GET %s: %d %s", target, r.status,
		    http_reply_message(&r));
		http_reply_free(&r);
		fclose(s.f);
		goto out;
	}
	if (parse_head(&r, head) != 0) {
		rc = ctl_fail(EXIT_SERVER, "GET %s: no export seq and range in "
		    "the answer's headers (a server older than this client?)",
		    target);
		http_reply_free(&r);
		fclose(s.f);
		goto out;
	}
	http_reply_free(&r);
	if ((rc = finish(s.f, "entries.jsonl")) != 0)
		goto out;
	*lines = s.lines;
out:
	progress_end(&pg);
	free(target);
	return rc;
}

/* What one pass over a file of entries needs and finds. */
struct prover {
	struct ctl *ctl;
	const char *dir, *note;
	const struct ledger_checkpoint *cp;
	struct ledger_hash_store hs;
	uint64_t bound;			/* every seq must be below it */
	uint64_t count, first, last;
};

/*
 * Reads DIR/name back one line at a time: each line must be an entry in its
 * canonical form (ledger_entry_parse), with seqs increasing below
 * pv->bound; its proof is computed from the hash tiles, verified and
 * appended to DIR/proofs_name, and its CSV row to DIR/csv_name (when not
 * NULL).  Memory stays constant whatever the number of lines.
 */
/*
 * The opened values of entry seq (spec §2.10, §8.2): fetched, checked
 * against the entry's commitments and its destroyed markers against the
 * log's record, written as one line of DIR/opened.jsonl.
 */
static int
write_opened(struct ctl *ctl, const struct ledger_checkpoint *cp, uint64_t seq,
    const json_t *entry, FILE *out)
{
	struct ledger_field_error err;
	json_t *body = NULL, *line;
	char target[64], *text;
	int rc;

	snprintf(target, sizeof(target), "/v1/events/%" PRIu64 "/opened", seq);
	if ((rc = ctl_get_json(ctl, target, &body)) != 0)
		return rc;
	if (ledger_entry_check_opened(entry, json_object_get(body, "opened"),
	    &err) != 0) {
		json_decref(body);
		return ctl_verify_fail("seq %" PRIu64 ": the server's opened "
		    "values do not match the entry's commitments (%s at %s: %s)",
		    seq, err.code, err.field, err.message);
	}
	if ((rc = ctl_check_destroyed(ctl, cp, seq, json_object_get(body,
	    "opened"))) != 0) {
		json_decref(body);
		return rc;
	}
	line = json_pack("{s:I, s:O}", "seq", (json_int_t)seq, "opened",
	    json_object_get(body, "opened"));
	text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	rc = text == NULL || fprintf(out, "%s\n", text) < 0 ?
	    ctl_fail(EXIT_IO, "cannot write the bundle") : 0;
	free(text);
	json_decref(line);
	json_decref(body);
	return rc;
}

static int
prove_file(struct prover *pv, const char *name, const char *proofs_name,
    const char *csv_name, const char *opened_name)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t leaf[LEDGER_HASH_LEN], prev_leaf[LEDGER_HASH_LEN];
	uint8_t prev[LEDGER_HASH_LEN];
	FILE *in = NULL, *proofs = NULL, *csv = NULL, *opened = NULL;
	char *line = NULL, *path, *text, *row;
	struct ledger_field_error err;
	size_t cap = 0, n, row_len;
	int64_t prev_seq = -1;
	uint64_t seq;
	struct progress pg;
	json_t *entry = NULL;
	ssize_t len;
	int rc = EXIT_IO, e;

	path = xasprintf("%s/%s", pv->dir, name);
	in = fopen(path, "rb");
	free(path);
	pv->count = 0;
	if (in == NULL || (proofs = create(pv->dir, proofs_name)) == NULL ||
	    (csv_name != NULL && (csv = create(pv->dir, csv_name)) == NULL) ||
	    (opened_name != NULL && (opened = create(pv->dir,
	    opened_name)) == NULL))
		goto out;
	if (csv != NULL)
		fputs(ledger_csv_header, csv);
	progress_start(&pg, "proving", "entries", 0);
	while ((len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] != '\n') {
			rc = ctl_fail(EXIT_SERVER, "%s ends mid-line (after %"
			    PRIu64 " entries)", name, pv->count);
			goto out;
		}
		line[--len] = '\0';
		if (ledger_entry_parse(line, (size_t)len, &entry, &err) != 0) {
			rc = ctl_verify_fail("%s line %" PRIu64 ": not an entry "
			    "in its canonical form: %s%s%s", name, pv->count + 1,
			    err.field, err.field[0] ? ": " : "", err.message);
			goto out;
		}
		seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));
		if ((int64_t)seq <= prev_seq || seq >= pv->bound) {
			rc = ctl_verify_fail("%s line %" PRIu64 ": seq %" PRIu64
			    " out of order or not below %" PRIu64, name,
			    pv->count + 1, seq, pv->bound);
			goto out;
		}
		if ((e = ledger_merkle_inclusion_proof(&pv->hs, seq,
		    pv->cp->tree_size, proof, &n)) != 0) {
			rc = e == LEDGER_EIO ? EXIT_SERVER : ctl_verify_fail(
			    "seq %" PRIu64 ": no proof from the hash tiles: %s",
			    seq, ledger_strerror(e));
			goto out;
		}
		ledger_leaf_hash(line, (size_t)len, leaf);
		if (ledger_merkle_verify_inclusion(leaf, seq, pv->cp->tree_size,
		    proof, n, pv->cp->root) != 0) {
			rc = ctl_verify_fail("seq %" PRIu64 ": the exported entry "
			    "is not leaf %" PRIu64 " of the signed tree (entry or "
			    "tiles altered)", seq, seq);
			goto out;
		}
		if (prev_seq >= 0 && seq == (uint64_t)prev_seq + 1 &&
		    (ctl_decode_hash(json_string_value(json_object_get(entry,
		    "prev")), prev) != 0 ||
		    memcmp(prev, prev_leaf, LEDGER_HASH_LEN) != 0)) {
			rc = ctl_verify_fail("seq %" PRIu64 ": prev is not the "
			    "leaf hash of seq %" PRIu64, seq, seq - 1);
			goto out;
		}
		if (opened != NULL && json_object_get(entry, "sealed") != NULL &&
		    (rc = write_opened(pv->ctl, pv->cp, seq, entry, opened)) != 0)
			goto out;
		text = tlog_proof_format(seq,
		    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, pv->note);
		e = fputs(text, proofs) < 0;
		free(text);
		if (csv != NULL) {
			ledger_csv_row(entry, leaf, &row, &row_len);
			e |= fwrite(row, 1, row_len, csv) != row_len;
			free(row);
		}
		json_decref(entry);
		entry = NULL;
		if (e) {
			rc = ctl_fail(EXIT_IO, "cannot write the bundle");
			goto out;
		}
		if (pv->count == 0)
			pv->first = seq;
		pv->last = seq;
		memcpy(prev_leaf, leaf, LEDGER_HASH_LEN);
		prev_seq = (int64_t)seq;
		progress_update(&pg, ++pv->count);
	}
	progress_end(&pg);
	if (ferror(in)) {
		rc = ctl_fail(EXIT_IO, "cannot read back %s", name);
		goto out;
	}
	rc = finish(proofs, proofs_name);
	proofs = NULL;
	if (rc == 0 && csv != NULL)
		rc = finish(csv, csv_name);
	csv = NULL;
	if (rc == 0 && opened != NULL)
		rc = finish(opened, opened_name);
	opened = NULL;
out:
	json_decref(entry);
	if (in != NULL)
		fclose(in);
	if (proofs != NULL)
		fclose(proofs);
	if (csv != NULL)
		fclose(csv);
	if (opened != NULL)
		fclose(opened);
	free(line);
	return rc;
}

/*
 * DIR/context.jsonl: the entry just before the range and the one just after
 * it (for an export without org, subject or object filter, where they
 * exist below the export entry), then the export entry itself, each as the
 * server stores it.  They show where the range starts and ends and what the
 * export was asked for.
 */
static int
fetch_context(struct ctl *ctl, const char *dir, int filtered,
    uint64_t export_seq, uint64_t start, uint64_t end)
{
	uint64_t seqs[3];
	struct http_reply r;
	char target[64];
	size_t n = 0, i;
	FILE *f;
	int rc = 0;

	if (!filtered && start > 0)
		seqs[n++] = start - 1;
	if (!filtered && end < export_seq)
		seqs[n++] = end;
	seqs[n++] = export_seq;
	if ((f = create(dir, "context.jsonl")) == NULL)
		return EXIT_IO;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(target, sizeof(target), "/v1/events/%" PRIu64, seqs[i]);
		if ((rc = ctl_get(ctl, target, &r)) != 0)
			break;
		if (fwrite(r.body, 1, r.len, f) != r.len || putc('\n', f) == EOF)
			rc = ctl_fail(EXIT_IO, "cannot write context.jsonl");
		http_reply_free(&r);
	}
	if (rc != 0) {
		fclose(f);
		return rc;
	}
	return finish(f, "context.jsonl");
}

/*
 * --user and --object as the server takes them: a user within --org, an
 * object's lineage alone (with --depth 0 to 64, only with it).
 */
static int
check_user_object(const char *user, const char *org, const char *object,
    const char *depth, int other_filter)
{
	uint64_t n;
	int rc;

	if ((rc = ctl_check_id("export", "--user", user)) != 0 ||
	    (rc = ctl_check_id("export", "--object", object)) != 0)
		return rc;
	if (user != NULL && org == NULL)
		return ctl_usage_error("export", "--user needs --org");
	if (depth != NULL && object == NULL)
		return ctl_usage_error("export", "--depth goes with --object");
	if (depth != NULL && (ctl_parse_u64(depth, &n) != 0 ||
	    n > PROV_MAX_DEPTH))
		return ctl_usage_error("export", "--depth must be 0 to %d",
		    PROV_MAX_DEPTH);
	if (object != NULL && other_filter)
		return ctl_usage_error("export", "--object takes no other "
		    "filter");
	return 0;
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "since", required_argument, NULL, 's' },
	    { "until", required_argument, NULL, 'u' },
	    { "org", required_argument, NULL, 'o' },
	    { "subject", required_argument, NULL, 'S' },
	    { "user", required_argument, NULL, 'U' },
	    { "object", required_argument, NULL, 'J' },
	    { "depth", required_argument, NULL, 'd' },
	    { "purpose", required_argument, NULL, 'p' },
	    { "out", required_argument, NULL, 'O' },
	    { NULL, 0, NULL, 0 } };
	const char *since = NULL, *until = NULL, *org = NULL, *subject = NULL;
	const char *user = NULL, *object = NULL, *depth = NULL;
	const char *purpose = NULL, *dir = NULL;
	uint64_t lines = 0, first = 0, last = 0;
	struct export_head head = { 0, 0, 0 };
	struct tile_store *ts = NULL;
	struct prover pv;
	struct ledger_checkpoint cp;
	char *query = xstrdup("?format=jsonl"), *note = NULL, *headline = NULL;
	json_t *out;
	FILE *f;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			free(query);
			return EXIT_OK;
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'o': org = optarg; break;
		case 'S': subject = optarg; break;
		case 'U': user = optarg; break;
		case 'J': object = optarg; break;
		case 'd': depth = optarg; break;
		case 'p': purpose = optarg; break;
		case 'O': dir = optarg; break;
		default:
			if (!ctl_common_option(ctl, c, optarg)) {
				free(query);
				return ctl_usage_error("export", "bad option");
			}
		}
	}
	if (optind != argc || dir == NULL)
		rc = ctl_usage_error("export", "give --out DIR and no "
		    "arguments");
	else if ((rc = ctl_check_range("export", since, until)) == 0 &&
	    (rc = ctl_check_org("export", "--org", org)) == 0 &&
	    (rc = ctl_check_id("export", "--subject", subject)) == 0 &&
	    (rc = check_user_object(user, org, object, depth,
	    since != NULL || until != NULL || org != NULL ||
	    subject != NULL)) == 0)
		rc = ctl_check_text("export", "--purpose", purpose);
	if (rc != 0) {
		free(query);
		return rc;
	}
	/* The key and the connection settings, before DIR exists. */
	if ((rc = ctl_need_key(ctl)) != 0)
		goto out;
	if (ctl_http(ctl) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (mkdir(dir, 0700) != 0) {
		rc = ctl_fail(EXIT_IO, "cannot create %s: %s (it must be new)",
		    dir, strerror(errno));
		goto out;
	}
	http_query_add(&query, "since", since);
	http_query_add(&query, "until", until);
	http_query_add(&query, "org", org);
	http_query_add(&query, "user", user);
	http_query_add(&query, "subject", subject);
	http_query_add(&query, "object", object);
	http_query_add(&query, "depth", depth);
	http_query_add(&query, "purpose", purpose);
	if ((rc = fetch_entries(ctl, dir, query, &lines, &head)) != 0)
		goto out;
	/*
	 * Fetched after the stream, so that it covers every exported entry;
	 * the export entry is in the published checkpoint within an interval.
	 */
	if ((rc = ctl_fetch_checkpoint_covering(ctl, head.export_seq + 1, &cp,
	    &note)) != 0)
		goto out;
	if (cp.tree_size <= head.export_seq) {
		rc = ctl_verify_fail("the checkpoint (size %" PRIu64 ") does not "
		    "hold the export entry (seq %" PRIu64 ")", cp.tree_size,
		    head.export_seq);
		goto out;
	}
	if ((f = create(dir, "README")) == NULL) {
		rc = EXIT_IO;
		goto out;
	}
	fputs(bundle_readme, f);
	if ((rc = finish(f, "README")) != 0)
		goto out;
	if ((f = create(dir, "checkpoint")) == NULL) {
		rc = EXIT_IO;
		goto out;
	}
	fputs(note, f);
	if ((rc = finish(f, "checkpoint")) != 0)
		goto out;
	if ((rc = fetch_context(ctl, dir, org != NULL || subject != NULL ||
	    object != NULL,
	    head.export_seq, head.start, head.end)) != 0)
		goto out;
	pv.ctl = ctl;
	pv.dir = dir;
	pv.note = note;
	pv.cp = &cp;
	ts = tile_store_new(ctl, cp.tree_size, TILE_CACHE);
	pv.hs = tile_store_hash_store(ts);
	pv.bound = head.export_seq;
	if ((rc = prove_file(&pv, "entries.jsonl", "proofs",
	    "entries.csv", "opened.jsonl")) != 0)
		goto out;
	if (pv.count != lines) {
		rc = ctl_fail(EXIT_IO, "cannot read back entries.jsonl");
		goto out;
	}
	first = pv.first;
	last = pv.last;
	pv.bound = cp.tree_size;
	if ((rc = prove_file(&pv, "context.jsonl", "context.proofs",
	    NULL, NULL)) != 0)
		goto out;
	if (manifest_write(dir) != 0) {
		rc = ctl_fail(EXIT_IO, "cannot write %s/MANIFEST", dir);
		goto out;
	}
	/*
	 * The bundle as verify-export sees it, so that a server whose range
	 * or context was wrong is caught now, and the export says what the
	 * bundle proves and what it does not.
	 */
	if (ctl->json) {
		if ((rc = bundle_verify(ctl, dir, 0, NULL)) != 0)
			goto out;
		out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "dir", dir,
		    "entries", (json_int_t)lines, "first_seq", (json_int_t)first,
		    "last_seq", (json_int_t)last, "tree_size",
		    (json_int_t)cp.tree_size, "export_seq",
		    (json_int_t)head.export_seq, "verified", 1);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
		goto out;
	}
	/* Said only with the account of what the bundle proves. */
	if (lines == 0)
		headline = xasprintf("exported 0 entries to %s (export entry "
		    "seq %" PRIu64 ", checkpoint size %" PRIu64 ")", dir,
		    head.export_seq, cp.tree_size);
	else
		headline = xasprintf("exported %" PRIu64 " entries (seq %"
		    PRIu64 "..%" PRIu64 ") to %s; the export entry is seq %"
		    PRIu64, lines, first, last, dir, head.export_seq);
	rc = bundle_verify(ctl, dir, 1, headline);
out:
	free(headline);
	tile_store_free(ts);
	free(note);
	free(query);
	return rc;
}
