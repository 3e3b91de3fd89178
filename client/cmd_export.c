/*
 * ledgerctl export: a compliance bundle (design §7) in a new directory:
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

#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "csv.h"
#include "ctl.h"
#include "jscan.h"
#include "manifest.h"
#include "progress.h"
#include "tiles.h"
#include "tlog_proof.h"

#define TILE_CACHE 64

static const char usage_text[] =
    "usage: ledgerctl export [options] --out DIR\n"
    "Writes a compliance bundle to the new directory DIR: entries.jsonl,\n"
    "proofs (one C2SP tlog-proof per entry, concatenated), checkpoint,\n"
    "entries.csv and MANIFEST.  Every proof is verified before it is written.\n"
    "  --since TIME --until TIME   bounds on received_at (RFC 3339)\n"
    "  --org ORG  --subject ID     filters, as GET /v1/export\n"
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

/* Streams the entries into DIR/entries.jsonl; lines out. */
static int
fetch_entries(struct ctl *ctl, const char *dir, const char *query,
    uint64_t *lines)
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
	http_reply_free(&r);
	if ((rc = finish(s.f, "entries.jsonl")) != 0)
		goto out;
	*lines = s.lines;
out:
	progress_end(&pg);
	free(target);
	return rc;
}

/* Proofs and CSV rows, one entry at a time, each proof verified first. */
static int
prove_entries(struct ctl *ctl, const char *dir, const char *note,
    const struct ledger_checkpoint *cp, uint64_t total, uint64_t *first,
    uint64_t *last)
{
	static const char *const names[] = { "seq", "prev" };
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t leaf[LEDGER_HASH_LEN], prev_leaf[LEDGER_HASH_LEN];
	struct tile_store *ts = tile_store_new(ctl, cp->tree_size, TILE_CACHE);
	struct ledger_hash_store hs = tile_store_hash_store(ts);
	FILE *in = NULL, *proofs = NULL, *csv = NULL;
	char *line = NULL, *path, *text, *row, prev_b64[48];
	size_t cap = 0, n, row_len;
	int64_t prev_seq = -1;
	uint64_t seq, count = 0;
	struct progress pg;
	struct jspan v[2];
	ssize_t len;
	int rc = EXIT_IO, e;

	path = xasprintf("%s/entries.jsonl", dir);
	in = fopen(path, "rb");
	free(path);
	if (in == NULL || (proofs = create(dir, "proofs")) == NULL ||
	    (csv = create(dir, "entries.csv")) == NULL)
		goto out;
	fputs(csv_header, csv);
	progress_start(&pg, "proving", "entries", total);
	while ((len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] != '\n') {
			rc = ctl_fail(EXIT_SERVER, "the export stream ends "
			    "mid-line (after %" PRIu64 " entries)", count);
			goto out;
		}
		line[--len] = '\0';
		if (jscan_members(line, (size_t)len, names, 2, v) != 0 ||
		    jscan_u64(&v[0], &seq) != 0) {
			rc = ctl_verify_fail("export line %" PRIu64 " is not "
			    "an entry", count + 1);
			goto out;
		}
		if ((int64_t)seq <= prev_seq || seq >= cp->tree_size) {
			rc = ctl_verify_fail("export line %" PRIu64 ": seq %"
			    PRIu64 " out of order or outside the signed tree",
			    count + 1, seq);
			goto out;
		}
		if ((e = ledger_merkle_inclusion_proof(&hs, seq, cp->tree_size,
		    proof, &n)) != 0) {
			rc = e == LEDGER_EIO ? EXIT_SERVER : ctl_verify_fail(
			    "seq %" PRIu64 ": no proof from the hash tiles: %s",
			    seq, ledger_strerror(e));
			goto out;
		}
		ledger_leaf_hash(line, (size_t)len, leaf);
		if (ledger_merkle_verify_inclusion(leaf, seq, cp->tree_size,
		    proof, n, cp->root) != 0) {
			rc = ctl_verify_fail("seq %" PRIu64 ": the exported entry "
			    "is not leaf %" PRIu64 " of the signed tree (entry or "
			    "tiles altered)", seq, seq);
			goto out;
		}
		if (prev_seq >= 0 && seq == (uint64_t)prev_seq + 1) {
			ctl_hash_b64(prev_leaf, prev_b64);
			if (!jscan_string_is(&v[1], prev_b64, strlen(prev_b64))) {
				rc = ctl_verify_fail("seq %" PRIu64 ": prev is not "
				    "the leaf hash of seq %" PRIu64, seq,
				    seq - 1);
				goto out;
			}
		}
		text = tlog_proof_format(seq,
		    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, note);
		e = fputs(text, proofs) < 0;
		free(text);
		if ((row = csv_row(line, (size_t)len, &row_len)) == NULL) {
			rc = ctl_verify_fail("seq %" PRIu64 ": not a JSON object",
			    seq);
			goto out;
		}
		e |= fwrite(row, 1, row_len, csv) != row_len;
		free(row);
		if (e) {
			rc = ctl_fail(EXIT_IO, "cannot write the bundle");
			goto out;
		}
		if (count == 0)
			*first = seq;
		*last = seq;
		memcpy(prev_leaf, leaf, LEDGER_HASH_LEN);
		prev_seq = (int64_t)seq;
		progress_update(&pg, ++count);
	}
	progress_end(&pg);
	if (ferror(in) || count != total) {
		rc = ctl_fail(EXIT_IO, "cannot read back entries.jsonl");
		goto out;
	}
	rc = finish(proofs, "proofs");
	proofs = NULL;
	if (rc == 0)
		rc = finish(csv, "entries.csv");
	csv = NULL;
out:
	if (in != NULL)
		fclose(in);
	if (proofs != NULL)
		fclose(proofs);
	if (csv != NULL)
		fclose(csv);
	free(line);
	tile_store_free(ts);
	return rc;
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "since", required_argument, NULL, 's' },
	    { "until", required_argument, NULL, 'u' },
	    { "org", required_argument, NULL, 'o' },
	    { "subject", required_argument, NULL, 'S' },
	    { "purpose", required_argument, NULL, 'p' },
	    { "out", required_argument, NULL, 'O' },
	    { NULL, 0, NULL, 0 } };
	const char *since = NULL, *until = NULL, *org = NULL, *subject = NULL;
	const char *purpose = NULL, *dir = NULL;
	uint64_t lines = 0, first = 0, last = 0;
	struct ledger_checkpoint cp;
	char *query = xstrdup("?format=jsonl"), *note = NULL;
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
		case 'p': purpose = optarg; break;
		case 'O': dir = optarg; break;
		default:
			if (!ctl_common_option(ctl, c, optarg)) {
				free(query);
				return ctl_usage_error("export", "bad option");
			}
		}
	}
	if (optind != argc || dir == NULL) {
		free(query);
		return ctl_usage_error("export", "give --out DIR and no "
		    "arguments");
	}
	if ((rc = ctl_need_key(ctl)) != 0)
		goto out;
	if (mkdir(dir, 0700) != 0) {
		rc = ctl_fail(EXIT_IO, "cannot create %s: %s (it must be new)",
		    dir, strerror(errno));
		goto out;
	}
	http_query_add(&query, "since", since);
	http_query_add(&query, "until", until);
	http_query_add(&query, "org", org);
	http_query_add(&query, "subject", subject);
	http_query_add(&query, "purpose", purpose);
	if ((rc = fetch_entries(ctl, dir, query, &lines)) != 0)
		goto out;
	/* Fetched after the stream, so that it covers every exported entry. */
	if ((rc = ctl_fetch_checkpoint(ctl, &cp, &note)) != 0)
		goto out;
	if ((f = create(dir, "checkpoint")) == NULL) {
		rc = EXIT_IO;
		goto out;
	}
	fputs(note, f);
	if ((rc = finish(f, "checkpoint")) != 0)
		goto out;
	if ((rc = prove_entries(ctl, dir, note, &cp, lines, &first,
	    &last)) != 0)
		goto out;
	if (manifest_write(dir) != 0) {
		rc = ctl_fail(EXIT_IO, "cannot write %s/MANIFEST", dir);
		goto out;
	}
	if (ctl->json) {
		out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "dir", dir,
		    "entries", (json_int_t)lines, "first_seq", (json_int_t)first,
		    "last_seq", (json_int_t)last, "tree_size",
		    (json_int_t)cp.tree_size, "verified", 1);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else if (lines == 0)
		printf("exported 0 entries to %s (checkpoint size %" PRIu64 ")\n",
		    dir, cp.tree_size);
	else
		printf("exported %" PRIu64 " entries (seq %" PRIu64 "..%" PRIu64
		    ") to %s, each proven against the checkpoint of size %"
		    PRIu64 "\n", lines, first, last, dir, cp.tree_size);
out:
	free(note);
	free(query);
	return rc;
}
