/*
 * C2SP tlog-checkpoint: formatting and parsing the checkpoint body, and
 * signing or opening it as a signed note whose key name is the origin.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/number.h"
#include "ledger/note.h"
#include "ledger/utf8.h"
#include "ledger/xmalloc.h"

#define ROOT_B64_LEN LEDGER_B64_LEN(LEDGER_HASH_LEN)

/* A body line: 1..LEDGER_ORIGIN_MAX bytes of UTF-8 without controls. */
static int
text_line_valid(const char *line, size_t len)
{
	return len > 0 && len <= LEDGER_ORIGIN_MAX && ledger_utf8_text_valid(line, len);
}

char *
ledger_checkpoint_format(const struct ledger_checkpoint *cp)
{
	char root[ROOT_B64_LEN + 1];
	char *body, *next;
	size_t i, len;

	len = strnlen(cp->origin, sizeof(cp->origin));
	if (len == sizeof(cp->origin) || !text_line_valid(cp->origin, len))
		return NULL;
	if (cp->n_ext > LEDGER_CHECKPOINT_MAX_EXT)
		return NULL;
	for (i = 0; i < cp->n_ext; i++) {
		len = strnlen(cp->ext[i], sizeof(cp->ext[i]));
		if (len == sizeof(cp->ext[i]) ||
		    !text_line_valid(cp->ext[i], len))
			return NULL;
	}
	ledger_b64_encode(cp->root, LEDGER_HASH_LEN, root);
	body = xasprintf("%s\n%" PRIu64 "\n%s\n", cp->origin, cp->tree_size,
	    root);
	for (i = 0; i < cp->n_ext; i++) {
		next = xasprintf("%s%s\n", body, cp->ext[i]);
		free(body);
		body = next;
	}
	return body;
}

/*
 * parse_body - ledger_checkpoint_parse, also reporting how many bytes the
 * body takes (up to and including the newline of its last line), so that a
 * caller can check the body is the whole signed text.
 */
static int
parse_body(const char *text, size_t len, struct ledger_checkpoint *out,
    size_t *body_len)
{
	struct ledger_checkpoint cp;
	const char *p = text, *end = text + len, *nl;
	size_t line_len, n, lineno;

	memset(&cp, 0, sizeof(cp));
	for (lineno = 0; p < end; lineno++) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			return LEDGER_EINVAL;	/* no final newline */
		line_len = nl - p;
		if (line_len == 0)
			break;			/* the blank line before signatures */
		if (line_len > LEDGER_ORIGIN_MAX)
			return LEDGER_ETOOBIG;
		if (!text_line_valid(p, line_len))
			return LEDGER_EINVAL;
		switch (lineno) {
		case 0:
			memcpy(cp.origin, p, line_len);
			break;
		case 1:
			if (ledger_parse_u64(p, line_len, &cp.tree_size) != 0)
				return LEDGER_EINVAL;
			break;
		case 2:
			if (line_len != ROOT_B64_LEN ||
			    ledger_b64_decode(p, line_len, cp.root,
			    sizeof(cp.root), &n) != 0 || n != LEDGER_HASH_LEN)
				return LEDGER_EINVAL;
			break;
		default:
			if (cp.n_ext == LEDGER_CHECKPOINT_MAX_EXT)
				return LEDGER_ETOOBIG;
			memcpy(cp.ext[cp.n_ext++], p, line_len);
			break;
		}
		p = nl + 1;
	}
	if (lineno < 3)
		return LEDGER_EINVAL;
	*out = cp;
	*body_len = p - text;
	return LEDGER_OK;
}

int
ledger_checkpoint_parse(const char *text, size_t len,
    struct ledger_checkpoint *out)
{
	size_t body_len;

	return parse_body(text, len, out, &body_len);
}

char *
ledger_checkpoint_sign(const struct ledger_checkpoint *cp,
    const struct ledger_signer *s)
{
	char *body, *sig, *note = NULL;

	if (strcmp(ledger_signer_verifier(s)->name, cp->origin) != 0)
		return NULL;
	if ((body = ledger_checkpoint_format(cp)) == NULL)
		return NULL;
	if ((sig = ledger_note_sign(s, body, strlen(body))) == NULL)
		goto out;
	note = xasprintf("%s\n%s", body, sig);
out:
	free(sig);
	free(body);
	return note;
}

int
ledger_checkpoint_open(const char *note, size_t len,
    const struct ledger_verifier *log_key, struct ledger_checkpoint *out)
{
	struct ledger_checkpoint cp;
	size_t body_len, text_len;
	int rc;

	/*
	 * Parse before verifying so that a key for another log is reported
	 * as such (EINVAL) rather than as "no known signature".
	 */
	if ((rc = parse_body(note, len, &cp, &body_len)) != 0)
		return LEDGER_EINVAL;
	if (strcmp(cp.origin, log_key->name) != 0)
		return LEDGER_EINVAL;
	if ((rc = ledger_note_verify(note, len, log_key, 1, &text_len)) != 0)
		return rc;
	/*
	 * The signed text is everything before the last blank line; it must
	 * be exactly the body parsed, or a signature would cover lines the
	 * caller never sees.
	 */
	if (text_len != body_len)
		return LEDGER_EINVAL;
	*out = cp;
	return LEDGER_OK;
}
