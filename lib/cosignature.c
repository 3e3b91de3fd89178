/*
 * C2SP tlog-cosignature cosignature/v1: the message a witness signs, its
 * signature line, and checking such lines against witness keys.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/be64.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#define SIG_DASH "\xe2\x80\x94 "	/* U+2014 EM DASH, then a space */
#define SIG_DASH_LEN 4
#define COSIG_B64_LEN LEDGER_B64_LEN(LEDGER_COSIG_BLOB_LEN)
/* "cosignature/v1\ntime " + 20 digits + "\n" */
#define HEADER_MAX 48

static int
timestamp_valid(uint64_t t)
{
	/* tlog-witness: a cosignature never omits its time (0). */
	return t != 0 && t <= LEDGER_COSIG_TIME_MAX;
}

int
ledger_cosignature_message(const char *body, size_t len, uint64_t timestamp,
    char **out, size_t *out_len)
{
	char *msg;
	int hlen;

	if (!timestamp_valid(timestamp) || len == 0 || body[len - 1] != '\n')
		return LEDGER_EINVAL;
	msg = xmalloc(HEADER_MAX + len);
	hlen = snprintf(msg, HEADER_MAX, "cosignature/v1\ntime %" PRIu64 "\n",
	    timestamp);
	memcpy(msg + hlen, body, len);
	*out = msg;
	*out_len = hlen + len;
	return LEDGER_OK;
}

int
ledger_cosignature_sign(const struct ledger_signer *witness,
    const char *body, size_t len, uint64_t timestamp, char **line)
{
	const struct ledger_verifier *v = ledger_signer_verifier(witness);
	uint8_t blob[LEDGER_COSIG_BLOB_LEN];
	char b64[COSIG_B64_LEN + 1];
	char *msg = NULL;
	size_t msg_len;
	int i, rc;

	if (v->type != LEDGER_SIGTYPE_COSIGNATURE)
		return LEDGER_EINVAL;
	if ((rc = ledger_cosignature_message(body, len, timestamp, &msg,
	    &msg_len)) != 0)
		return rc;
	for (i = 0; i < 4; i++)
		blob[i] = (uint8_t)(v->key_id >> (24 - 8 * i));
	ledger_put_be64(blob + 4, timestamp);
	if ((rc = ledger_ed25519_sign(witness, msg, msg_len, blob + 12)) != 0)
		goto out;
	ledger_b64_encode(blob, sizeof(blob), b64);
	*line = xasprintf(SIG_DASH "%s %s\n", v->name, b64);
out:
	free(msg);
	return rc;
}

static int
from_blob(const char *name, size_t name_len, const uint8_t *blob,
    size_t blob_len, struct ledger_cosignature *out)
{
	struct ledger_cosignature c;

	if (blob_len != LEDGER_COSIG_BLOB_LEN || name_len > LEDGER_KEY_NAME_MAX)
		return LEDGER_EINVAL;
	memset(&c, 0, sizeof(c));
	memcpy(c.name, name, name_len);
	if (strlen(c.name) != name_len || !ledger_key_name_valid(c.name))
		return LEDGER_EINVAL;
	c.key_id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3];
	c.timestamp = ledger_get_be64(blob + 4);
	if (!timestamp_valid(c.timestamp))
		return LEDGER_EINVAL;
	memcpy(c.signature, blob + 12, LEDGER_SIG_LEN);
	*out = c;
	return LEDGER_OK;
}

int
ledger_cosignature_parse(const char *line, size_t len,
    struct ledger_cosignature *out)
{
	uint8_t blob[LEDGER_COSIG_BLOB_LEN];
	const char *name, *sp;
	size_t n;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len < SIG_DASH_LEN || memcmp(line, SIG_DASH, SIG_DASH_LEN) != 0)
		return LEDGER_EINVAL;
	name = line + SIG_DASH_LEN;
	if ((sp = memchr(name, ' ', len - SIG_DASH_LEN)) == NULL)
		return LEDGER_EINVAL;
	/* Exactly one base64 blob of the cosignature's length after the name. */
	if ((size_t)(line + len - (sp + 1)) != COSIG_B64_LEN)
		return LEDGER_EINVAL;
	if (ledger_b64_decode(sp + 1, COSIG_B64_LEN, blob, sizeof(blob),
	    &n) != 0 || n != sizeof(blob))
		return LEDGER_EINVAL;
	return from_blob(name, sp - name, blob, n, out);
}

int
ledger_cosignature_from_sig(const struct ledger_note_sig *sig,
    struct ledger_cosignature *out)
{
	return from_blob(sig->name, sig->name_len, sig->blob, sig->blob_len,
	    out);
}

int
ledger_cosignature_matches(const struct ledger_verifier *witness,
    const struct ledger_cosignature *c)
{
	return witness->type == LEDGER_SIGTYPE_COSIGNATURE &&
	    witness->key_id == c->key_id && strcmp(witness->name, c->name) == 0;
}

int
ledger_cosignature_verify(const struct ledger_verifier *witness,
    const struct ledger_cosignature *c, const char *body, size_t len)
{
	char *msg = NULL;
	size_t msg_len;
	int rc;

	if (!ledger_cosignature_matches(witness, c))
		return LEDGER_EINVAL;
	if (ledger_cosignature_message(body, len, c->timestamp, &msg,
	    &msg_len) != 0)
		return LEDGER_EVERIFY;
	rc = ledger_ed25519_verify(witness, msg, msg_len, c->signature);
	free(msg);
	return rc;
}

int
ledger_cosignature_accept(const char *answer, size_t len,
    const char *body, size_t body_len, const struct ledger_verifier *witness,
    char **lines, uint64_t *timestamp)
{
	struct ledger_note_sig *sigs = NULL;
	struct ledger_cosignature c;
	const char *line, *nl;
	char *note = NULL, *kept = NULL, *next;
	size_t i, nsigs, text_len, note_len;
	uint64_t last = 0;
	int rc;

	if (witness->type != LEDGER_SIGTYPE_COSIGNATURE)
		return LEDGER_EINVAL;
	if (len == 0 || answer[len - 1] != '\n' || body_len == 0 ||
	    body[body_len - 1] != '\n')
		return LEDGER_EINVAL;
	/*
	 * tlog-witness: the client may concatenate the answer to the
	 * checkpoint and read it as a note; that also parses every line.
	 */
	note_len = body_len + 1 + len;
	note = xmalloc(note_len);
	memcpy(note, body, body_len);
	note[body_len] = '\n';
	memcpy(note + body_len + 1, answer, len);
	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	rc = ledger_note_split(note, note_len, sigs, LEDGER_NOTE_MAX_SIGS,
	    &nsigs, &text_len);
	if (rc != 0 || text_len != body_len) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	kept = xstrdup("");
	for (i = 0; i < nsigs; i++) {
		/* Other keys' lines are ignored: matched by name and key ID. */
		if (sigs[i].name_len != strlen(witness->name) ||
		    memcmp(sigs[i].name, witness->name, sigs[i].name_len) != 0 ||
		    sigs[i].blob_len < 4 ||
		    ((uint32_t)sigs[i].blob[0] << 24 |
		    (uint32_t)sigs[i].blob[1] << 16 |
		    (uint32_t)sigs[i].blob[2] << 8 | sigs[i].blob[3]) !=
		    witness->key_id)
			continue;
		if (ledger_cosignature_from_sig(&sigs[i], &c) != 0) {
			rc = LEDGER_EVERIFY;
			goto out;
		}
		if ((rc = ledger_cosignature_verify(witness, &c, body,
		    body_len)) != 0)
			goto out;
		line = sigs[i].name - SIG_DASH_LEN;
		nl = memchr(line, '\n', note + note_len - line);
		next = xasprintf("%s%.*s\n", kept, (int)(nl - line), line);
		free(kept);
		kept = next;
		last = c.timestamp;
	}
	if (last == 0) {
		rc = LEDGER_ENOTFOUND;
		goto out;
	}
	*lines = kept;
	kept = NULL;
	if (timestamp != NULL)
		*timestamp = last;
	rc = LEDGER_OK;
out:
	free(kept);
	free(sigs);
	free(note);
	return rc;
}
