/*
 * Editing the signature lines of a published checkpoint (cosigned.h): the
 * log's line first, then one line per witness key, the newest of each.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"

#include "cosigned.h"

/* A signature line's place in its buffer and the key it names. */
struct sig_line {
	const char *start;
	size_t len;			/* newline included */
	const char *name;
	size_t name_len;
	uint8_t key_id[4];
};

/*
 * Splits note into its text (up to and including the empty line) and its
 * signature lines.  Returns 0 or LEDGER_EINVAL / LEDGER_ETOOBIG.
 */
static int
split_lines(const char *note, size_t len, size_t *body_len,
    struct sig_line *lines, size_t cap, size_t *n)
{
	struct ledger_note_sig *sigs;
	const char *p;
	size_t nsigs, text_len, i;
	int rc;

	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	rc = ledger_note_split(note, len, sigs, LEDGER_NOTE_MAX_SIGS, &nsigs,
	    &text_len);
	if (rc != 0)
		goto out;
	if (nsigs > cap) {
		rc = LEDGER_ETOOBIG;
		goto out;
	}
	/* ledger_note_split: note[text_len] is the empty line. */
	*body_len = text_len + 1;
	p = note + *body_len;
	for (i = 0; i < nsigs; i++) {
		const char *nl = memchr(p, '\n', (size_t)(note + len - p));

		lines[i].start = p;
		lines[i].len = (size_t)(nl - p) + 1;
		lines[i].name = sigs[i].name;
		lines[i].name_len = sigs[i].name_len;
		/* A blob shorter than a key ID names no key: keep it apart. */
		memset(lines[i].key_id, 0xff, sizeof(lines[i].key_id));
		if (sigs[i].blob_len >= 4)
			memcpy(lines[i].key_id, sigs[i].blob, 4);
		p = nl + 1;
	}
	*n = nsigs;
out:
	free(sigs);
	return rc;
}

static int
same_key(const struct sig_line *a, const struct sig_line *b)
{
	return a->name_len == b->name_len &&
	    memcmp(a->name, b->name, a->name_len) == 0 &&
	    memcmp(a->key_id, b->key_id, sizeof(a->key_id)) == 0;
}

int
cosigned_merge(const char *note, size_t len, const char *lines,
    size_t lines_len, char **out, size_t *out_len)
{
	struct sig_line *have, *add;
	size_t body_len, nhave = 0, nadd = 0, i, j, total, used;
	char *buf = NULL, *probe;
	int rc;

	have = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*have));
	add = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*add));
	if ((rc = split_lines(note, len, &body_len, have, LEDGER_NOTE_MAX_SIGS,
	    &nhave)) != 0)
		goto out;
	/* The new lines alone, read as the signatures of a one-line note. */
	probe = xmalloc(3 + lines_len);
	memcpy(probe, "x\n\n", 3);
	memcpy(probe + 3, lines, lines_len);
	rc = split_lines(probe, 3 + lines_len, &i, add, LEDGER_NOTE_MAX_SIGS,
	    &nadd);
	/* Only signature lines: no empty line among them. */
	if (rc == 0 && i != 3)
		rc = LEDGER_EINVAL;
	if (rc == 0) {
		/* Point into lines, which outlives probe. */
		for (i = 0; i < nadd; i++) {
			add[i].name = lines + (add[i].name - probe - 3);
			add[i].start = lines + (add[i].start - probe - 3);
		}
	}
	free(probe);
	if (rc != 0)
		goto out;

	total = body_len;
	for (i = 0; i < nhave; i++)
		total += have[i].len;
	for (j = 0; j < nadd; j++)
		total += add[j].len;
	buf = xmalloc(total + 1);
	memcpy(buf, note, body_len);
	used = body_len;
	/* Old lines in their order, each replaced by a new line of its key. */
	for (i = 0; i < nhave; i++) {
		struct sig_line l = have[i];

		for (j = 0; j < nadd; j++)
			if (add[j].start != NULL && same_key(&add[j], &l)) {
				l = add[j];
				add[j].start = NULL;	/* placed */
				break;
			}
		memcpy(buf + used, l.start, l.len);
		used += l.len;
	}
	for (j = 0; j < nadd; j++) {
		if (add[j].start == NULL)
			continue;
		if (nhave++ >= LEDGER_NOTE_MAX_SIGS) {
			rc = LEDGER_ETOOBIG;
			goto out;
		}
		memcpy(buf + used, add[j].start, add[j].len);
		used += add[j].len;
	}
	buf[used] = '\0';
	*out = buf;
	*out_len = used;
	buf = NULL;
	rc = LEDGER_OK;
out:
	free(buf);
	free(have);
	free(add);
	return rc;
}

int
cosigned_log_part(const char *note, size_t len, size_t *part_len)
{
	struct sig_line *lines;
	size_t body_len, n;
	int rc;

	lines = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*lines));
	rc = split_lines(note, len, &body_len, lines, LEDGER_NOTE_MAX_SIGS, &n);
	if (rc == 0)
		*part_len = body_len + lines[0].len;
	free(lines);
	return rc == 0 ? LEDGER_OK : LEDGER_EINVAL;
}
