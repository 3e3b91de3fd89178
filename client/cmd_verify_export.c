/*
 * ledgerctl verify-export DIR: checks a compliance bundle offline, with
 * only the log's verifier key, and says exactly what it proved: what the
 * export entry claims (its seq bounds the export, its filters select), that
 * every entry is in the signed log and matches the claim (for an object
 * filter: is part of the item's lineage), and, for an export without an
 * org, user, subject or object filter, that nothing is missing (seqs
 * contiguous, the entries on either side of the range proven outside it).
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

#include "ledger/csv.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/sealed.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "manifest.h"
#include "progress.h"
#include "tlog_proof.h"

#define MAX_REPORTED 20
#define MAX_CONTEXT 3		/* the entries before and after, the export entry */

static const char usage_text[] =
    "usage: ledgerctl verify-export [options] DIR --key VKEY\n"
    "Checks a compliance bundle offline: MANIFEST, the checkpoint's\n"
    "signature, every entry's canonical form and inclusion proof, that each\n"
    "entry matches the filters its export entry records, entries.csv, the\n"
    "hash chain, and (for an export without org, user, subject or object\n"
    "filter) that no entry of the range is missing.  It prints what was\n"
    "proven and what was not; every problem is reported with where it is;\n"
    "exit 1 if any.\n";

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
	char msg[768];
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

/* One line read as an entry. */
struct line_entry {
	json_t *obj;			/* owned */
	uint64_t seq;
	int64_t received_at;
	uint8_t leaf[LEDGER_HASH_LEN], prev[LEDGER_HASH_LEN];
};

/*
 * Reads one line as an entry: it must be exactly its canonical
 * serialisation (ledger_entry_parse), anything else is a problem named by
 * the seq when one can be read at all.  Returns 0, or -1 when reported.
 */
static int
read_entry(const char *file, uint64_t line, const char *p, size_t len,
    struct line_entry *e, struct problems *pr)
{
	struct ledger_field_error err;
	json_t *loose, *seq;

	memset(e, 0, sizeof(*e));
	memset(&err, 0, sizeof(err));
	if (ledger_entry_parse(p, len, &e->obj, &err) != 0) {
		loose = json_loadb(p, len, JSON_DISABLE_EOF_CHECK, NULL);
		seq = json_object_get(loose, "seq");
		if (json_is_integer(seq))
			reportf(pr, "%s line %" PRIu64 " (seq %" JSON_INTEGER_FORMAT
			    "): not an entry in its canonical form: %s%s%s",
			    file, line, json_integer_value(seq), err.field,
			    err.field[0] ? ": " : "", err.message);
		else
			reportf(pr, "%s line %" PRIu64 ": not an entry in its "
			    "canonical form (no seq): %s%s%s", file, line,
			    err.field, err.field[0] ? ": " : "", err.message);
		json_decref(loose);
		e->obj = NULL;
		return -1;
	}
	e->seq = (uint64_t)json_integer_value(json_object_get(e->obj, "seq"));
	/* ledger_entry_parse has checked the forms of both. */
	if (ledger_time_parse_rfc3339(json_string_value(json_object_get(e->obj,
	    "received_at")), &e->received_at) != 0 ||
	    ctl_decode_hash(json_string_value(json_object_get(e->obj, "prev")),
	    e->prev) != 0) {
		reportf(pr, "%s line %" PRIu64 " (seq %" PRIu64 "): received_at "
		    "or prev unreadable", file, line, e->seq);
		json_decref(e->obj);
		e->obj = NULL;
		return -1;
	}
	ledger_leaf_hash(p, len, e->leaf);
	return 0;
}

/* A proofs file read in step with its entries file. */
struct proof_reader {
	const char *name;
	const struct mapped *pf;
	size_t pos;
	int ok;
	struct tlog_proof *proof;
};

/*
 * The next proof must be for entry e (NULL: the line was unreadable, the
 * proof is only skipped), carry the bundle's checkpoint and verify.
 */
static void
check_proof(struct proof_reader *r, const char *file, uint64_t line,
    const struct line_entry *e, const struct mapped *note,
    const struct ledger_checkpoint *cp, struct problems *pr)
{
	const char *why;
	size_t used;

	if (!r->ok)
		return;
	if (r->pos >= r->pf->len) {
		reportf(pr, "%s: no proof for %s line %" PRIu64 " (file ends at "
		    "byte %zu)", r->name, file, line, r->pf->len);
		r->ok = 0;
		return;
	}
	if (tlog_proof_parse(r->pf->p + r->pos, r->pf->len - r->pos, r->proof,
	    &used, &why) != 0) {
		reportf(pr, "%s: byte %zu (proof %" PRIu64 "): %s", r->name,
		    r->pos, line, why);
		r->ok = 0;
		return;
	}
	if (e == NULL)
		;	/* reported with the line */
	else if (r->proof->index != e->seq)
		reportf(pr, "%s: byte %zu: proof %" PRIu64 " is for index %"
		    PRIu64 ", but %s line %" PRIu64 " is seq %" PRIu64, r->name,
		    r->pos, line, r->proof->index, file, line, e->seq);
	else if (r->proof->checkpoint_len != note->len ||
	    memcmp(r->proof->checkpoint, note->p, note->len) != 0)
		reportf(pr, "%s: byte %zu: the checkpoint of proof %" PRIu64
		    " (seq %" PRIu64 ") differs from the file checkpoint: the "
		    "entry comes from another export or was altered", r->name,
		    r->pos, line, e->seq);
	else if (e->seq >= cp->tree_size)
		reportf(pr, "%s line %" PRIu64 ": seq %" PRIu64 " is outside "
		    "the checkpoint's tree (size %" PRIu64 ")", file, line,
		    e->seq, cp->tree_size);
	else if (ledger_merkle_verify_inclusion(e->leaf, e->seq, cp->tree_size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])r->proof->hashes, r->proof->n,
	    cp->root) != 0)
		reportf(pr, "seq %" PRIu64 " (%s line %" PRIu64 ", %s byte %zu): "
		    "the inclusion proof does not verify against the "
		    "checkpoint: the entry or its proof was altered", e->seq,
		    file, line, r->name, r->pos);
	r->pos += used;
}

static void
check_proofs_end(const struct proof_reader *r, struct problems *pr)
{
	if (r->ok && r->pos < r->pf->len)
		reportf(pr, "%s: %zu bytes after the last entry's proof (from "
		    "byte %zu)", r->name, r->pf->len - r->pos, r->pos);
}

/* What the export entry records: the export's bound and filters. */
struct claim {
	int found;
	uint64_t export_seq;		/* every exported entry is below it */
	uint8_t export_prev[LEDGER_HASH_LEN];
	const char *purpose;		/* these point into export */
	int purpose_sealed;		/* a commitment stands for it */
	const char *since_text, *until_text, *org, *subject_token;
	const char *user;		/* actor.user, within org */
	const char *object;		/* object.ref whose lineage it is */
	uint64_t depth;			/* ... down to this many levels */
	const json_t *subject_tokens;	/* every live period's, or NULL */
	int64_t since, until;
	json_t *export;			/* owned */
};

/* One entry of context.jsonl besides the export entry. */
struct boundary {
	uint64_t seq;
	int64_t received_at;
	uint8_t leaf[LEDGER_HASH_LEN], prev[LEDGER_HASH_LEN];
	uint64_t line;
	int used;
};

/* Reads the claim from the export entry; problems are reported. */
static void
read_claim(struct claim *cl, const struct line_entry *e, uint64_t line,
    struct problems *pr)
{
	const json_t *filters, *v;
	const char *key;

	cl->export = json_incref(e->obj);
	cl->export_seq = e->seq;
	memcpy(cl->export_prev, e->prev, LEDGER_HASH_LEN);
	cl->purpose = json_string_value(json_object_get(e->obj, "purpose"));
	cl->purpose_sealed = json_object_get(json_object_get(e->obj, "sealed"),
	    "purpose") != NULL;
	filters = json_object_get(json_object_get(e->obj, "details"),
	    "filters");
	if (!json_is_object(filters)) {
		reportf(pr, "context.jsonl line %" PRIu64 " (seq %" PRIu64 "): "
		    "the export entry records no filters", line, e->seq);
		return;
	}
	json_object_foreach((json_t *)filters, key, v) {
		if (strcmp(key, "subject_tokens") == 0) {
			size_t i;
			const json_t *t;

			json_array_foreach(v, i, t)
				if (!json_is_string(t) ||
				    !ledger_subject_token_valid(
				    json_string_value(t),
				    json_string_length(t))) {
					reportf(pr, "context.jsonl line %" PRIu64
					    ": the export entry's subject_tokens "
					    "are not tokens", line);
					return;
				}
			if (!json_is_array(v) || json_array_size(v) < 2) {
				reportf(pr, "context.jsonl line %" PRIu64 ": the "
				    "export entry's subject_tokens are not a "
				    "list of tokens", line);
				return;
			}
			cl->subject_tokens = v;
			continue;
		}
		if (strcmp(key, "depth") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 255) {
				reportf(pr, "context.jsonl line %" PRIu64 ": the "
				    "export entry's depth is not a depth", line);
				return;
			}
			cl->depth = (uint64_t)json_integer_value(v);
			continue;
		}
		if (!json_is_string(v)) {
			reportf(pr, "context.jsonl line %" PRIu64 ": the export "
			    "entry's filter %s is not a string", line, key);
			return;
		}
		if (strcmp(key, "since") == 0) {
			cl->since_text = json_string_value(v);
			if (ledger_time_parse_rfc3339(cl->since_text,
			    &cl->since) != 0) {
				reportf(pr, "context.jsonl line %" PRIu64 ": the "
				    "export entry's since is not a time", line);
				return;
			}
		} else if (strcmp(key, "until") == 0) {
			cl->until_text = json_string_value(v);
			if (ledger_time_parse_rfc3339(cl->until_text,
			    &cl->until) != 0) {
				reportf(pr, "context.jsonl line %" PRIu64 ": the "
				    "export entry's until is not a time", line);
				return;
			}
		} else if (strcmp(key, "org") == 0)
			cl->org = json_string_value(v);
		else if (strcmp(key, "subject_token") == 0)
			cl->subject_token = json_string_value(v);
		else if (strcmp(key, "user") == 0)
			cl->user = json_string_value(v);
		else if (strcmp(key, "object") == 0)
			cl->object = json_string_value(v);
		else {
			reportf(pr, "context.jsonl line %" PRIu64 ": the export "
			    "entry records the filter \"%s\", which this "
			    "verifier does not know: it cannot say what the "
			    "bundle holds", line, key);
			return;
		}
	}
	if (cl->user != NULL && cl->org == NULL) {
		reportf(pr, "context.jsonl line %" PRIu64 ": the export entry "
		    "records a user filter without its org", line);
		return;
	}
	if (cl->object != NULL && json_object_get(filters, "depth") == NULL) {
		reportf(pr, "context.jsonl line %" PRIu64 ": the export entry "
		    "records an object filter without its depth", line);
		return;
	}
	cl->found = 1;
}

/*
 * context.jsonl and context.proofs: at most one entry before and one after
 * the exported range, then the export entry itself, in seq order.
 */
static void
check_context(const struct ledger_checkpoint *cp, const struct mapped *note,
    const struct mapped *cj, const struct mapped *cpf, struct claim *cl,
    struct boundary *bd, size_t *n_bd, struct problems *pr)
{
	struct proof_reader rd = { "context.proofs", cpf, 0, 1, NULL };
	const char *p = cj->p, *end = cj->p + cj->len, *nl;
	struct line_entry e, last = { 0 };
	int64_t prev_seq = -1;
	uint64_t line = 0;
	const char *type;

	rd.proof = xmalloc(sizeof(*rd.proof));
	*n_bd = 0;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			reportf(pr, "context.jsonl line %" PRIu64 ": not ended "
			    "by a newline", line);
			nl = end;
		}
		if (line > MAX_CONTEXT) {
			reportf(pr, "context.jsonl: more than %d lines",
			    MAX_CONTEXT);
			break;
		}
		if (read_entry("context.jsonl", line, p, (size_t)(nl - p), &e,
		    pr) != 0) {
			check_proof(&rd, "context.jsonl", line, NULL, note, cp,
			    pr);
			json_decref(last.obj);
			last.obj = NULL;
			continue;
		}
		check_proof(&rd, "context.jsonl", line, &e, note, cp, pr);
		if ((int64_t)e.seq <= prev_seq)
			reportf(pr, "context.jsonl line %" PRIu64 ": seq %" PRIu64
			    " is not above the previous line's", line, e.seq);
		prev_seq = (int64_t)e.seq;
		if (last.obj != NULL) {
			/* The line before was a boundary entry. */
			bd[*n_bd].seq = last.seq;
			bd[*n_bd].received_at = last.received_at;
			memcpy(bd[*n_bd].leaf, last.leaf, LEDGER_HASH_LEN);
			memcpy(bd[*n_bd].prev, last.prev, LEDGER_HASH_LEN);
			bd[*n_bd].line = line - 1;
			bd[*n_bd].used = 0;
			(*n_bd)++;
			json_decref(last.obj);
		}
		last = e;
		if (nl == end)
			break;
	}
	check_proofs_end(&rd, pr);
	free(rd.proof);
	if (last.obj == NULL) {
		reportf(pr, "context.jsonl: no export entry (it must be the last "
		    "line): the bundle does not say what it holds");
		return;
	}
	type = json_string_value(json_object_get(last.obj, "type"));
	if (type == NULL || strcmp(type, "export") != 0)
		reportf(pr, "context.jsonl line %" PRIu64 " (seq %" PRIu64 "): "
		    "the last line is not an export entry: the bundle does not "
		    "say what it holds", line, last.seq);
	else
		read_claim(cl, &last, line, pr);
	json_decref(last.obj);
}

/* What the walk over the exported entries found. */
struct walk {
	uint64_t count, first, last;
	uint8_t first_prev[LEDGER_HASH_LEN], last_leaf[LEDGER_HASH_LEN];
	uint64_t links;			/* prev checked between neighbours */
	uint64_t gaps;
};

static int
is_filtered(const struct claim *cl)
{
	return cl->org != NULL || cl->subject_token != NULL ||
	    cl->object != NULL;
}

/*
 * The entries of an object export found part of its lineage so far, with
 * their depth; seqs increasing, as the walk meets them.
 */
struct lineage_seen {
	uint64_t *seq;
	uint8_t *depth;
	size_t n, cap;
};

/* The depth of seq if the walk found it part of the lineage, else -1. */
static int
lineage_depth(const struct lineage_seen *ls, uint64_t seq)
{
	size_t lo = 0, hi = ls->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ls->seq[mid] == seq)
			return ls->depth[mid];
		if (ls->seq[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void
lineage_seen_add(struct lineage_seen *ls, uint64_t seq, uint8_t depth)
{
	if (ls->n > 0 && seq <= ls->seq[ls->n - 1])
		return;			/* out of order: reported already */
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 256;
		ls->seq = xrealloc(ls->seq, ls->cap * sizeof(*ls->seq));
		ls->depth = xrealloc(ls->depth, ls->cap);
	}
	ls->seq[ls->n] = seq;
	ls->depth[ls->n++] = depth;
}

static void
lineage_seen_free(struct lineage_seen *ls)
{
	free(ls->seq);
	free(ls->depth);
}

/*
 * Whether an entry is part of the lineage the export claims: about the
 * object itself (depth 0), or resting through its refs on an entry of the
 * bundle found part of it, one level below that entry's depth, within the
 * export's depth.  Refs point backwards only, so the entries it rests on
 * came first in the walk.
 */
static void
check_lineage(const struct claim *cl, uint64_t line, const struct line_entry *e,
    struct lineage_seen *ls, struct problems *pr)
{
	const char *ref = json_string_value(json_object_get(json_object_get(
	    e->obj, "object"), "ref"));
	const json_t *v;
	size_t i;
	int best = -1, d;

	if (ref != NULL && strcmp(ref, cl->object) == 0)
		best = 0;
	json_array_foreach(json_object_get(e->obj, "refs"), i, v) {
		if (best == 0 || !json_is_integer(v) || json_integer_value(v) < 0)
			continue;
		d = lineage_depth(ls, (uint64_t)json_integer_value(v));
		if (d >= 0 && (uint64_t)d < cl->depth &&
		    (best < 0 || d + 1 < best))
			best = d + 1;
	}
	if (best < 0) {
		reportf(pr, "entries.jsonl line %" PRIu64 " (seq %" PRIu64 "): "
		    "not part of the lineage of object %s within depth %" PRIu64
		    ": neither about it nor resting (refs) on an earlier entry "
		    "of the bundle that is part of it", line, e->seq, cl->object,
		    cl->depth);
		return;
	}
	lineage_seen_add(ls, e->seq, (uint8_t)best);
}

/* Whether an entry matches what the export entry claims; problems reported. */
static void
check_claim(const struct claim *cl, uint64_t line, const struct line_entry *e,
    struct lineage_seen *ls, struct problems *pr)
{
	const char *org;
	const json_t *v;
	size_t i;
	int found = 0;

	if (!cl->found)
		return;
	if (e->seq >= cl->export_seq)
		reportf(pr, "entries.jsonl line %" PRIu64 ": seq %" PRIu64 " is "
		    "not below the export entry's seq %" PRIu64 ": it is not "
		    "part of this export", line, e->seq, cl->export_seq);
	if (cl->since_text != NULL && e->received_at < cl->since)
		reportf(pr, "entries.jsonl line %" PRIu64 " (seq %" PRIu64 "): "
		    "received before the export's since (%s)", line, e->seq,
		    cl->since_text);
	if (cl->until_text != NULL && e->received_at > cl->until)
		reportf(pr, "entries.jsonl line %" PRIu64 " (seq %" PRIu64 "): "
		    "received after the export's until (%s)", line, e->seq,
		    cl->until_text);
	if (cl->org != NULL) {
		org = json_string_value(json_object_get(json_object_get(e->obj,
		    "actor"), "org"));
		if (org == NULL || strcmp(org, cl->org) != 0)
			reportf(pr, "entries.jsonl line %" PRIu64 " (seq %" PRIu64
			    "): actor.org is not the export's org %s", line,
			    e->seq, cl->org);
	}
	if (cl->user != NULL) {
		const char *user = json_string_value(json_object_get(
		    json_object_get(e->obj, "actor"), "user"));

		if (user == NULL || strcmp(user, cl->user) != 0)
			reportf(pr, "entries.jsonl line %" PRIu64 " (seq %" PRIu64
			    "): actor.user is not the export's user %s", line,
			    e->seq, cl->user);
	}
	if (cl->object != NULL)
		check_lineage(cl, line, e, ls, pr);
	if (cl->subject_token != NULL) {
		const json_t *t;
		size_t j;

		/* Under any period whose token the export looked up. */
		json_array_foreach(json_object_get(e->obj, "subjects"), i, v) {
			found |= strcmp(json_string_value(v),
			    cl->subject_token) == 0;
			json_array_foreach(cl->subject_tokens, j, t)
				found |= strcmp(json_string_value(v),
				    json_string_value(t)) == 0;
		}
		if (!found)
			reportf(pr, "entries.jsonl line %" PRIu64 " (seq %" PRIu64
			    "): its subjects do not hold the export's subject "
			    "token", line, e->seq);
	}
}

/* The walk over entries.jsonl with proofs and entries.csv in step. */
static void
check_entries(const struct ledger_checkpoint *cp, const struct mapped *note,
    const struct mapped *jl, const struct mapped *pf, const struct mapped *cv,
    const struct claim *cl, struct walk *w, struct problems *pr)
{
	struct proof_reader rd = { "proofs", pf, 0, 1, NULL };
	const char *p = jl->p, *end = jl->p + jl->len, *nl, *crlf;
	size_t cpos, hlen = strlen(ledger_csv_header), row_len;
	uint8_t prev_leaf[LEDGER_HASH_LEN];
	int64_t prev_seq = -1;
	int csv_ok = 1;
	uint64_t line = 0;
	struct progress pg;
	struct line_entry e;
	struct lineage_seen ls = { NULL, NULL, 0, 0 };
	char *row;

	rd.proof = xmalloc(sizeof(*rd.proof));
	if (cv->len < hlen || memcmp(cv->p, ledger_csv_header, hlen) != 0) {
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
		row = NULL;
		if (read_entry("entries.jsonl", line, p, (size_t)(nl - p), &e,
		    pr) != 0) {
			/* Its proof and row are skipped with it. */
			check_proof(&rd, "entries.jsonl", line, NULL, note, cp,
			    pr);
			prev_seq = -1;
		} else {
			check_proof(&rd, "entries.jsonl", line, &e, note, cp,
			    pr);
			check_claim(cl, line, &e, &ls, pr);
			if ((int64_t)e.seq <= prev_seq)
				reportf(pr, "entries.jsonl line %" PRIu64 ": seq %"
				    PRIu64 " is not above the previous line's",
				    line, e.seq);
			else if (prev_seq >= 0 && e.seq == (uint64_t)prev_seq + 1) {
				w->links++;
				if (memcmp(e.prev, prev_leaf, LEDGER_HASH_LEN) != 0)
					reportf(pr, "entries.jsonl line %" PRIu64
					    " (seq %" PRIu64 "): prev is not the "
					    "leaf hash of the line before (hash "
					    "chain broken)", line, e.seq);
			} else if (prev_seq >= 0) {
				w->gaps++;
				if (cl->found && !is_filtered(cl))
					reportf(pr, "entries.jsonl line %" PRIu64
					    ": seq %" PRIu64 " follows seq %"
					    PRId64 ": %" PRIu64 " entr%s missing, "
					    "though the export has no org, user, "
					    "subject or object filter", line, e.seq,
					    prev_seq, e.seq - (uint64_t)prev_seq -
					    1, e.seq - (uint64_t)prev_seq == 2 ?
					    "y is" : "ies are");
			}
			if (w->count == 0) {
				w->first = e.seq;
				memcpy(w->first_prev, e.prev, LEDGER_HASH_LEN);
			}
			w->last = e.seq;
			memcpy(w->last_leaf, e.leaf, LEDGER_HASH_LEN);
			memcpy(prev_leaf, e.leaf, LEDGER_HASH_LEN);
			prev_seq = (int64_t)e.seq;
			w->count++;
			ledger_csv_row(e.obj, e.leaf, &row, &row_len);
			json_decref(e.obj);
		}

		/* entries.csv: this entry's row, byte for byte. */
		if (csv_ok) {
			if (cpos >= cv->len) {
				reportf(pr, "entries.csv: no row for "
				    "entries.jsonl line %" PRIu64, line);
				csv_ok = 0;
			} else if (row == NULL || cv->len - cpos < row_len ||
			    memcmp(cv->p + cpos, row, row_len) != 0) {
				if (row != NULL)
					reportf(pr, "entries.csv line %" PRIu64
					    ": is not the row of entries.jsonl "
					    "line %" PRIu64 " (see the CSV rule in "
					    "docs/ledgerctl.md)", line + 1, line);
				/* Resynchronise at the next row. */
				crlf = memmem(cv->p + cpos, cv->len - cpos,
				    "\r\n", 2);
				cpos = crlf ? (size_t)(crlf - cv->p) + 2 :
				    cv->len;
			} else
				cpos += row_len;
		}
		free(row);
		if ((line & 1023) == 0)
			progress_update(&pg, line);
		if (nl == end)
			break;
	}
	progress_end(&pg);
	check_proofs_end(&rd, pr);
	if (csv_ok && cpos < cv->len)
		reportf(pr, "entries.csv: rows after the last entry (from byte "
		    "%zu)", cpos);
	free(rd.proof);
	lineage_seen_free(&ls);
}

/* The range an unfiltered bundle proves complete: seqs [start, end). */
struct coverage {
	uint64_t start, end;
	const struct boundary *before, *after;	/* NULL: none needed */
};

/*
 * For an export without org, user, subject or object filter: the exported
 * seqs must be every seq of [start, end) and the range must reach seq 0 or
 * an entry proven received before since, and the export entry or an entry
 * proven received after until.  Since received_at never decreases along
 * seq, that shows no entry of the log below the export entry is in the
 * range but missing from the bundle.  The hash chain is checked across the edges.
 */
static void
check_complete(const struct claim *cl, const struct walk *w,
    struct boundary *bd, size_t n_bd, struct coverage *cov,
    struct problems *pr)
{
	struct boundary *before = NULL, *after = NULL;
	const uint8_t *edge_leaf = NULL;
	size_t i;

	/* Which context entry is which: by seq, or by time when none were exported. */
	for (i = 0; i < n_bd; i++) {
		if (w->count > 0 && bd[i].seq + 1 == w->first)
			before = &bd[i];
		else if (w->count > 0 && bd[i].seq == w->last + 1)
			after = &bd[i];
		else if (w->count == 0 && before == NULL && after == NULL &&
		    cl->since_text != NULL && bd[i].received_at < cl->since)
			before = &bd[i];
		else if (w->count == 0 && after == NULL)
			after = &bd[i];
		else {
			reportf(pr, "context.jsonl line %" PRIu64 ": seq %" PRIu64
			    " is not next to the exported entries: entries "
			    "between them are missing", bd[i].line, bd[i].seq);
			continue;
		}
		bd[i].used = 1;
	}
	cov->start = w->count > 0 ? w->first : before != NULL ?
	    before->seq + 1 : 0;
	cov->end = w->count > 0 ? w->last + 1 : cov->start;
	cov->before = before;
	cov->after = after;

	/* The start. */
	if (cov->start > 0 && cl->since_text == NULL)
		reportf(pr, "the export has no since bound, so it must start at "
		    "seq 0, but it starts at seq %" PRIu64 ": entries 0..%"
		    PRIu64 " are missing", cov->start, cov->start - 1);
	else if (cov->start > 0 && before == NULL)
		reportf(pr, "the bundle does not show where it starts: seq %"
		    PRIu64 ", the entry before the first exported one, is not "
		    "in context.jsonl; entries before seq %" PRIu64 " may be "
		    "missing", cov->start - 1, cov->start);
	else if (before != NULL && before->received_at >= cl->since)
		reportf(pr, "context.jsonl line %" PRIu64 ": seq %" PRIu64 " was "
		    "received at or after the export's since (%s): it belongs "
		    "to the range, so entries are missing at the start",
		    before->line, before->seq, cl->since_text);
	else if (before != NULL && w->count > 0 &&
	    memcmp(w->first_prev, before->leaf, LEDGER_HASH_LEN) != 0)
		reportf(pr, "entries.jsonl line 1 (seq %" PRIu64 "): prev is not "
		    "the leaf hash of seq %" PRIu64 " in context.jsonl (hash "
		    "chain broken)", w->first, before->seq);

	/* The end. */
	if (w->count > 0)
		edge_leaf = w->last_leaf;
	else if (before != NULL)
		edge_leaf = before->leaf;
	if (cov->end >= cl->export_seq) {
		/* The export entry follows: the range reaches the export's bound. */
		if (after != NULL)
			reportf(pr, "context.jsonl line %" PRIu64 ": seq %"
			    PRIu64 " is not below the export entry", after->line,
			    after->seq);
		else if (edge_leaf != NULL && cov->end == cl->export_seq &&
		    memcmp(cl->export_prev, edge_leaf, LEDGER_HASH_LEN) != 0)
			reportf(pr, "the export entry's prev is not the leaf "
			    "hash of seq %" PRIu64 " (hash chain broken)",
			    cov->end - 1);
	} else if (cl->until_text == NULL)
		reportf(pr, "the export has no until bound, so it must reach the "
		    "export entry's seq %" PRIu64 ", but its entries end before "
		    "seq %" PRIu64 ": entries %" PRIu64 "..%" PRIu64 " are "
		    "missing", cl->export_seq, cov->end, cov->end,
		    cl->export_seq - 1);
	else if (after == NULL || after->seq != cov->end)
		reportf(pr, "the bundle does not show where it ends: seq %"
		    PRIu64 ", the entry after the last exported one, is not in "
		    "context.jsonl; entries from seq %" PRIu64 " to the export "
		    "entry's seq %" PRIu64 " may be missing", cov->end,
		    cov->end, cl->export_seq);
	else if (after->received_at <= cl->until)
		reportf(pr, "context.jsonl line %" PRIu64 ": seq %" PRIu64 " was "
		    "received at or before the export's until (%s): it belongs "
		    "to the range, so entries are missing at the end",
		    after->line, after->seq, cl->until_text);
	else if (edge_leaf != NULL &&
	    memcmp(after->prev, edge_leaf, LEDGER_HASH_LEN) != 0)
		reportf(pr, "context.jsonl line %" PRIu64 " (seq %" PRIu64 "): "
		    "prev is not the leaf hash of seq %" PRIu64 " (hash chain "
		    "broken)", after->line, after->seq, after->seq - 1);
}

static char *
fmt_time(int64_t usec)
{
	char t[LEDGER_TIME_LEN + 1];

	ledger_time_format(usec, t);
	return xstrdup(t);
}

/* The filters as text, e.g. "since 2026-…, org police" or "none". */
static char *
filters_text(const struct claim *cl)
{
	char *s = xstrdup(""), *t;

#define ADD(label, v)							\
	if ((v) != NULL) {						\
		t = xasprintf("%s%s" label " %s", s, *s ? ", " : "", (v));	\
		free(s);						\
		s = t;							\
	}
	ADD("since", cl->since_text);
	ADD("until", cl->until_text);
	ADD("org", cl->org);
	ADD("user", cl->user);
	ADD("subject token", cl->subject_token);
	ADD("object", cl->object);
#undef ADD
	if (cl->object != NULL) {
		t = xasprintf("%s, depth %" PRIu64, s, cl->depth);
		free(s);
		s = t;
	}
	if (*s == '\0') {
		free(s);
		s = xstrdup("none");
	}
	return s;
}

/* What was proven, in words; nothing more. */
static void
print_result(struct ctl *ctl, const char *dir,
    const struct ledger_checkpoint *cp, const struct claim *cl,
    const struct walk *w, const struct coverage *cov)
{
	char *filters = filters_text(cl), *t;

	printf("bundle %s verifies: MANIFEST, README, the checkpoint signature "
	    "(%s, tree size %" PRIu64 "), every entry's canonical form and "
	    "inclusion proof, entries.csv\n", dir, cp->origin, cp->tree_size);
	if (ctl->policy != NULL)
		printf("  witnessed: the checkpoint meets the quorum of the policy "
		    "%s, cosigned by %s\n", ctl_policy_path(ctl),
		    ctl->cosigners[0] ? ctl->cosigners : "nobody (quorum none)");
	/* Under a retention policy the purpose is sealed (spec §2.10). */
	if (cl->purpose != NULL)
		printf("  export entry: seq %" PRIu64 ", purpose \"%s\", "
		    "filters: %s\n", cl->export_seq, cl->purpose, filters);
	else
		printf("  export entry: seq %" PRIu64 ", purpose %s, "
		    "filters: %s\n", cl->export_seq, cl->purpose_sealed ?
		    "sealed" : "none", filters);
	if (!is_filtered(cl)) {
		if (w->count > 0)
			printf("  COMPLETE: %" PRIu64 " entries, seq %" PRIu64 "..%"
			    PRIu64 ", are every entry of the log below seq %"
			    PRIu64 "%s; the hash chain links them all\n",
			    w->count, w->first, w->last, cl->export_seq,
			    cl->since_text || cl->until_text ? " received in "
			    "the range" : "");
		else
			printf("  COMPLETE: no entry of the log below seq %" PRIu64
			    " was received in the range\n", cl->export_seq);
		if (cov->before != NULL) {
			t = fmt_time(cov->before->received_at);
			printf("  start: seq %" PRIu64 " (received %s) is proven "
			    "received before %s\n", cov->before->seq, t,
			    cl->since_text);
			free(t);
		} else
			printf("  start: seq 0, the log's first entry\n");
		if (cov->after != NULL) {
			t = fmt_time(cov->after->received_at);
			printf("  end: seq %" PRIu64 " (received %s) is proven "
			    "received after %s\n", cov->after->seq, t,
			    cl->until_text);
			free(t);
		} else
			printf("  end: seq %" PRIu64 ", the export entry itself\n",
			    cl->export_seq);
	} else {
		if (w->count > 0)
			printf("  %" PRIu64 " entries, seq %" PRIu64 "..%" PRIu64
			    " (%" PRIu64 " gap%s in the seqs), each in the log "
			    "below seq %" PRIu64 " and matching the filters\n",
			    w->count, w->first, w->last, w->gaps,
			    w->gaps == 1 ? "" : "s", cl->export_seq);
		else
			printf("  no entries\n");
		printf("  hash chain: checked only between consecutive seqs (%"
		    PRIu64 " links)\n", w->links);
		printf("  NOT PROVEN: that no other entry matches the filters. "
		    "Completeness for an org, user, subject or object filter "
		    "cannot be checked offline; check it against the log: "
		    "ledgerctl audit --subject ID (subject filter), ledgerctl "
		    "history ORG USER (user filter), ledgerctl lineage REF "
		    "(object filter), or ledgerctl audit and count the org's "
		    "entries (org filter)\n");
	}
	free(filters);
}

static void
print_json(struct ctl *ctl, const char *dir, const struct ledger_checkpoint *cp,
    const struct claim *cl, const struct walk *w, const struct coverage *cov,
    double seconds)
{
	json_t *out;

	out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:O, s:b, s:I, s:f, "
	    "s:b}", "dir", dir, "entries", (json_int_t)w->count, "first_seq",
	    (json_int_t)w->first, "last_seq", (json_int_t)w->last,
	    "tree_size", (json_int_t)cp->tree_size, "export_seq",
	    (json_int_t)cl->export_seq, "filters", json_object_get(
	    json_object_get(cl->export, "details"), "filters"), "complete",
	    !is_filtered(cl), "chain_links", (json_int_t)w->links, "seconds",
	    seconds, "verified", 1);
	if (ctl->policy != NULL)
		json_object_set_new(out, "cosigned_by", ctl_cosigners_json(ctl));
	if (!is_filtered(cl)) {
		json_object_set_new(out, "before_seq", cov->before ?
		    json_integer((json_int_t)cov->before->seq) : json_null());
		json_object_set_new(out, "after_seq", cov->after ?
		    json_integer((json_int_t)cov->after->seq) : json_null());
	}
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
}

/*
 * opened.jsonl (spec §8.2a): one line {"opened", "seq"} for each entry of
 * entries.jsonl that seals fields, in the same order and no other, each
 * opened value checked against its entry's commitment.  Entries that do
 * not read are check_entries' to report.
 */
static void
check_opened(const struct mapped *jl, const struct mapped *op,
    struct problems *pr)
{
	const char *p = jl->p, *end = jl->p + jl->len, *nl;
	const char *q = op->p, *qend = op->p + op->len, *qnl;
	struct ledger_field_error err;
	uint64_t oline = 0, seq;
	json_t *entry, *o;

	while (p != NULL && p < end &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (ledger_entry_parse(p, (size_t)(nl - p), &entry, NULL) != 0) {
			p = nl + 1;
			continue;
		}
		p = nl + 1;
		seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));
		if (json_object_get(entry, "sealed") == NULL) {
			json_decref(entry);
			continue;
		}
		oline++;
		if (q == NULL || q >= qend ||
		    (qnl = memchr(q, '\n', (size_t)(qend - q))) == NULL) {
			reportf(pr, "opened.jsonl: no line for seq %" PRIu64
			    ", which seals fields", seq);
			json_decref(entry);
			return;
		}
		o = json_loadb(q, (size_t)(qnl - q), JSON_REJECT_DUPLICATES, NULL);
		q = qnl + 1;
		if (!json_is_integer(json_object_get(o, "seq")) ||
		    (uint64_t)json_integer_value(json_object_get(o, "seq")) != seq)
			reportf(pr, "opened.jsonl line %" PRIu64 ": not the opened "
			    "values of seq %" PRIu64 " (the next entry of "
			    "entries.jsonl that seals fields)", oline, seq);
		else if (ledger_entry_check_opened(entry, json_object_get(o,
		    "opened"), &err) != 0)
			reportf(pr, "opened.jsonl line %" PRIu64 " (seq %" PRIu64
			    "): %s (%s at %s)", oline, seq, err.message,
			    err.code, err.field);
		json_decref(o);
		json_decref(entry);
	}
	if (q != NULL && q < qend)
		reportf(pr, "opened.jsonl line %" PRIu64 ": no entry of "
		    "entries.jsonl that seals fields is left for it", oline + 1);
}

int
bundle_verify(struct ctl *ctl, const char *dir, int print,
    const char *headline)
{
	struct mapped m[BUNDLE_NFILES];
	struct boundary bd[MAX_CONTEXT];
	struct claim cl;
	struct walk w;
	struct coverage cov;
	struct ledger_checkpoint cp;
	struct problems pr = { 0 };
	const struct mapped *readme, *note, *cj, *cpf, *cv, *jl, *op, *pf;
	double start = ctl_now();
	size_t n_bd = 0;
	int rc, i, e, quorum = 0;

	memset(m, 0, sizeof(m));
	memset(&cl, 0, sizeof(cl));
	memset(&w, 0, sizeof(w));
	memset(&cov, 0, sizeof(cov));
	/* bundle_files is in MANIFEST order. */
	readme = &m[0];
	note = &m[1];
	cj = &m[2];
	cpf = &m[3];
	cv = &m[4];
	jl = &m[5];
	op = &m[6];
	pf = &m[7];
	manifest_check(dir, report, &pr);
	for (i = 0; i < BUNDLE_NFILES; i++) {
		if (map_file(dir, bundle_files[i], &m[i]) != 0) {
			e = errno;
			if (e == ENOENT) {
				/* E.g. a bundle from before context.jsonl. */
				reportf(&pr, "%s: missing from the bundle",
				    bundle_files[i]);
				goto done;
			}
			rc = ctl_fail(EXIT_IO, "cannot read %s/%s: %s", dir,
			    bundle_files[i], strerror(e));
			goto out;
		}
	}
	if (readme->len != strlen(bundle_readme) || memcmp(readme->p,
	    bundle_readme, readme->len) != 0)
		reportf(&pr, "README: not the text ledgerctl export writes "
		    "(edited?)");
	if (note->len == 0 || ledger_checkpoint_open(note->p, note->len,
	    &ctl->key, &cp) != 0) {
		reportf(&pr, "checkpoint: its signature does not verify with %s "
		    "(or it is malformed); no proof can be checked",
		    ctl->key.name);
		goto done;
	}
	/*
	 * With a policy, the checkpoint the proofs refer to must carry its
	 * witness quorum: the cosignature lines export kept from GET
	 * /checkpoint, checked offline like everything else.
	 */
	if (ctl->policy != NULL && (e = ctl_check_quorum(ctl, note->p,
	    note->len)) != 0) {
		quorum = e == EXIT_QUORUM;
		reportf(&pr, "checkpoint: %s%s", quorum ? "QUORUM NOT MET: " :
		    "", ctl->quorum_why);
	}
	check_context(&cp, note, cj, cpf, &cl, bd, &n_bd, &pr);
	check_entries(&cp, note, jl, pf, cv, &cl, &w, &pr);
	check_opened(jl, op, &pr);
	if (cl.found && !is_filtered(&cl))
		check_complete(&cl, &w, bd, n_bd, &cov, &pr);
	else if (cl.found && n_bd > 0)
		reportf(&pr, "context.jsonl line %" PRIu64 ": an export with an "
		    "org, user, subject or object filter carries only its "
		    "export entry there", bd[0].line);
done:
	if (pr.n > MAX_REPORTED)
		fprintf(stderr, "ledgerctl: … and %zu more problems\n",
		    pr.n - MAX_REPORTED);
	if (pr.n == 1 && quorum) {
		/* Everything else holds: the one problem is the witnesses. */
		rc = ctl_fail(EXIT_QUORUM, "the bundle in %s verifies, but its "
		    "checkpoint lacks the witness quorum of the policy %s", dir,
		    ctl_policy_path(ctl));
		goto out;
	}
	if (pr.n > 0) {
		rc = ctl_verify_fail("the bundle in %s does not verify: %zu "
		    "problem%s", dir, pr.n, pr.n == 1 ? "" : "s");
		goto out;
	}
	if (print && ctl->json)
		print_json(ctl, dir, &cp, &cl, &w, &cov, ctl_now() - start);
	else if (print) {
		if (headline != NULL)
			printf("%s\n", headline);
		print_result(ctl, dir, &cp, &cl, &w, &cov);
	}
	rc = EXIT_OK;
out:
	json_decref(cl.export);
	for (i = 0; i < BUNDLE_NFILES; i++)
		unmap(&m[i]);
	return rc;
}

int
cmd_verify_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { NULL, 0, NULL, 0 } };
	int c, rc;

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
	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	return bundle_verify(ctl, argv[optind], 1, NULL);
}
