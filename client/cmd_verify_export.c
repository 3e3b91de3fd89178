/*
 * ledgerctl verify-export DIR: checks a compliance bundle offline, with
 * only the log's verifier key: MANIFEST hashes, the checkpoint signature,
 * every entry's inclusion proof, the hash chain across contiguous seqs,
 * and that entries.csv is exactly the rows of entries.jsonl.  Every
 * problem is reported with the file and line or seq where it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
#include "tlog_proof.h"

#define MAX_REPORTED 20

static const char usage_text[] =
    "usage: ledgerctl verify-export [options] DIR --key VKEY\n"
    "Checks a compliance bundle offline: MANIFEST, the checkpoint's\n"
    "signature, every entry's inclusion proof, the prev hash chain between\n"
    "consecutive seqs, and that entries.csv matches entries.jsonl.\n"
    "Every problem is reported with where it is; exit 1 if there is one.\n";

struct problems {
	size_t n;
};

static void
report(void *arg, const char *msg)
{
	struct problems *p = arg;

	if (p->n++ < MAX_REPORTED)
		fprintf(stderr, "ledgerctl: %s\n", msg);
}

static void
reportf(struct problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reportf(struct problems *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(p, msg);
}

/* A file mapped read-only (an empty file has p == NULL). */
struct mapped {
	const char *p;
	size_t len;
};

static int
map_file(const char *dir, const char *name, struct mapped *m)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int fd;

	m->p = NULL;
	m->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m->len = (size_t)st.st_size;
	if (m->len > 0 && (m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE,
	    fd, 0)) == MAP_FAILED) {
		m->p = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
unmap(struct mapped *m)
{
	if (m->p != NULL)
		munmap((void *)m->p, m->len);
}

/* The walk over entries.jsonl with proofs and entries.csv in step. */
static void
check_entries(const struct ledger_checkpoint *cp, const struct mapped *note,
    const struct mapped *jl, const struct mapped *pf, const struct mapped *cv,
    struct problems *pr, uint64_t *count, uint64_t *first, uint64_t *last)
{
	static const char *const names[] = { "seq", "prev" };
	uint8_t leaf[LEDGER_HASH_LEN], prev_leaf[LEDGER_HASH_LEN];
	const char *p = jl->p, *end = jl->p + jl->len, *nl, *why;
	size_t ppos = 0, cpos, hlen = strlen(csv_header), row_len, used;
	struct tlog_proof *proof = xmalloc(sizeof(*proof));
	int64_t prev_seq = -1;
	int proofs_ok = 1, csv_ok = 1;
	uint64_t line = 0, seq;
	struct progress pg;
	char prev_b64[48], *row;
	struct jspan v[2];

	if (cv->len < hlen || memcmp(cv->p, csv_header, hlen) != 0) {
		reportf(pr, "entries.csv line 1: not the expected header row");
		csv_ok = 0;
	}
	cpos = hlen;
	progress_start(&pg, "verifying", "entries", 0);
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			reportf(pr, "entries.jsonl line %" PRIu64 ": not ended "
			    "by a newline (file truncated?)", line);
			nl = end;
		}
		if (jscan_members(p, (size_t)(nl - p), names, 2, v) != 0 ||
		    jscan_u64(&v[0], &seq) != 0) {
			reportf(pr, "entries.jsonl line %" PRIu64 ": not an "
			    "entry (malformed JSON or no seq)", line);
			/* Its proof and row are skipped with it. */
			seq = UINT64_MAX;
		} else if ((int64_t)seq <= prev_seq) {
			reportf(pr, "entries.jsonl line %" PRIu64 ": seq %" PRIu64
			    " is not above the previous line's", line, seq);
		} else if (seq >= cp->tree_size)
			reportf(pr, "entries.jsonl line %" PRIu64 ": seq %" PRIu64
			    " is outside the checkpoint's tree (size %" PRIu64
			    ")", line, seq, cp->tree_size);
		ledger_leaf_hash(p, (size_t)(nl - p), leaf);

		/* proofs: the next tlog-proof, about this seq. */
		if (proofs_ok) {
			if (ppos >= pf->len) {
				reportf(pr, "proofs: no proof for entries.jsonl "
				    "line %" PRIu64 " (file ends at byte %zu)",
				    line, pf->len);
				proofs_ok = 0;
			} else if (tlog_proof_parse(pf->p + ppos, pf->len - ppos,
			    proof, &used, &why) != 0) {
				reportf(pr, "proofs: byte %zu (proof %" PRIu64
				    "): %s", ppos, line, why);
				proofs_ok = 0;
			} else {
				if (seq == UINT64_MAX)
					;	/* reported with the line */
				else if (proof->index != seq)
					reportf(pr, "proofs: byte %zu: proof %"
					    PRIu64 " is for index %" PRIu64 ", "
					    "but entries.jsonl line %" PRIu64
					    " is seq %" PRIu64, ppos, line,
					    proof->index, line, seq);
				else if (proof->checkpoint_len != note->len ||
				    memcmp(proof->checkpoint, note->p,
				    note->len) != 0)
					reportf(pr, "proofs: byte %zu: the "
					    "checkpoint of proof %" PRIu64 " differs "
					    "from the file checkpoint", ppos, line);
				else if (seq < cp->tree_size &&
				    ledger_merkle_verify_inclusion(leaf, seq,
				    cp->tree_size,
				    (const uint8_t (*)[LEDGER_HASH_LEN])
				    proof->hashes, proof->n, cp->root) != 0)
					reportf(pr, "seq %" PRIu64 " (entries.jsonl "
					    "line %" PRIu64 ", proofs byte %zu): "
					    "the inclusion proof does not verify "
					    "against the checkpoint: the entry or "
					    "its proof was altered", seq, line,
					    ppos);
				ppos += used;
			}
		}

		/* The hash chain where seqs are contiguous. */
		if (seq != UINT64_MAX && prev_seq >= 0 &&
		    seq == (uint64_t)prev_seq + 1) {
			ctl_hash_b64(prev_leaf, prev_b64);
			if (!jscan_string_is(&v[1], prev_b64, strlen(prev_b64)))
				reportf(pr, "entries.jsonl line %" PRIu64 " (seq %"
				    PRIu64 "): prev is not the leaf hash of the "
				    "line before (hash chain broken)", line, seq);
		}

		/* entries.csv: this entry's row, byte for byte. */
		if (csv_ok) {
			row = csv_row(p, (size_t)(nl - p), &row_len);
			if (cpos >= cv->len) {
				reportf(pr, "entries.csv: no row for "
				    "entries.jsonl line %" PRIu64, line);
				csv_ok = 0;
			} else if (row == NULL || cv->len - cpos < row_len ||
			    memcmp(cv->p + cpos, row, row_len) != 0) {
				reportf(pr, "entries.csv line %" PRIu64 ": does "
				    "not match entries.jsonl line %" PRIu64,
				    line + 1, line);
				/* Resynchronise at the next row. */
				const char *crlf = memmem(cv->p + cpos,
				    cv->len - cpos, "\r\n", 2);

				cpos = crlf ? (size_t)(crlf - cv->p) + 2 :
				    cv->len;
			} else
				cpos += row_len;
			free(row);
		}
		if (seq != UINT64_MAX) {
			if (*count == 0)
				*first = seq;
			*last = seq;
			prev_seq = (int64_t)seq;
		}
		memcpy(prev_leaf, leaf, LEDGER_HASH_LEN);
		(*count)++;
		if ((line & 1023) == 0)
			progress_update(&pg, line);
		if (nl == end)
			break;
	}
	progress_end(&pg);
	if (proofs_ok && ppos < pf->len)
		reportf(pr, "proofs: %zu bytes after the last entry's proof "
		    "(from byte %zu)", pf->len - ppos, ppos);
	if (csv_ok && cpos < cv->len)
		reportf(pr, "entries.csv: rows after the last entry (from byte "
		    "%zu)", cpos);
	free(proof);
}

int
cmd_verify_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { NULL, 0, NULL, 0 } };
	struct mapped note = { 0 }, jl = { 0 }, pf = { 0 }, cv = { 0 };
	uint64_t count = 0, first = 0, last = 0;
	struct ledger_checkpoint cp;
	struct problems pr = { 0 };
	const char *dir;
	double start = ctl_now();
	json_t *out;
	int c, rc, i, e;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		}
		if (!ctl_common_option(ctl, c, optarg))
			return ctl_usage_error("verify-export", "bad option");
	}
	if (argc - optind != 1)
		return ctl_usage_error("verify-export", "give one DIR");
	dir = argv[optind];
	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	manifest_check(dir, report, &pr);
	for (i = 0; i < BUNDLE_NFILES; i++) {
		struct mapped *m = i == 0 ? &note : i == 1 ? &cv : i == 2 ? &jl :
		    &pf;

		if (map_file(dir, bundle_files[i], m) != 0) {
			e = errno;
			rc = ctl_fail(EXIT_IO, "cannot read %s/%s: %s", dir,
			    bundle_files[i], strerror(e));
			goto out;
		}
	}
	if (note.len == 0 || ledger_checkpoint_open(note.p, note.len, &ctl->key,
	    &cp) != 0) {
		reportf(&pr, "checkpoint: its signature does not verify with %s "
		    "(or it is malformed); no proof can be checked",
		    ctl->key.name);
		goto done;
	}
	check_entries(&cp, &note, &jl, &pf, &cv, &pr, &count, &first, &last);
done:
	if (pr.n > MAX_REPORTED)
		fprintf(stderr, "ledgerctl: … and %zu more problems\n",
		    pr.n - MAX_REPORTED);
	if (pr.n > 0) {
		rc = ctl_verify_fail("the bundle in %s does not verify: %zu "
		    "problem%s", dir, pr.n, pr.n == 1 ? "" : "s");
		goto out;
	}
	if (ctl->json) {
		out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:b}", "dir",
		    dir, "entries", (json_int_t)count, "first_seq",
		    (json_int_t)first, "last_seq", (json_int_t)last, "tree_size",
		    (json_int_t)cp.tree_size, "seconds", ctl_now() - start,
		    "verified", 1);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else
		printf("bundle %s verifies: %" PRIu64 " entries (seq %" PRIu64
		    "..%" PRIu64 "), MANIFEST, checkpoint signature (%s, tree "
		    "size %" PRIu64 "), every inclusion proof, the hash chain "
		    "and entries.csv\n", dir, count, first, last, cp.origin,
		    cp.tree_size);
	rc = EXIT_OK;
out:
	unmap(&note);
	unmap(&jl);
	unmap(&pf);
	unmap(&cv);
	return rc;
}
