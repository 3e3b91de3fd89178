/*
 * C2SP tlog-proof text (see tlog_proof.h), strict: canonical index, one
 * 32-byte base64 hash a line, a checkpoint whose note structure is whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "tlog_proof.h"

#define SIG_PREFIX "\xe2\x80\x94 "	/* U+2014 and a space */

char *
tlog_proof_format(uint64_t index, const uint8_t proof[][LEDGER_HASH_LEN],
    size_t n, const char *checkpoint)
{
	size_t cap = 64 + n * 46 + strlen(checkpoint) + 1, used;
	char *out = xmalloc(cap);
	size_t i;

	used = (size_t)snprintf(out, cap, TLOG_PROOF_HEADER "\nindex %llu\n",
	    (unsigned long long)index);
	for (i = 0; i < n; i++) {
		used += ledger_b64_encode(proof[i], LEDGER_HASH_LEN, out + used);
		out[used++] = '\n';
	}
	out[used++] = '\n';
	memcpy(out + used, checkpoint, strlen(checkpoint) + 1);
	return out;
}

/* The next line [p, nl); NULL at the end or when there is no newline. */
static const char *
line_end(const char *p, const char *end)
{
	return p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
}

int
tlog_proof_parse(const char *text, size_t len, struct tlog_proof *out,
    size_t *consumed, const char **why)
{
	const char *p = text, *end = text + len, *nl, *cp;
	char num[32];
	size_t n;
	int body_lines = 0;

	out->n = 0;
	if ((nl = line_end(p, end)) == NULL || (size_t)(nl - p) !=
	    strlen(TLOG_PROOF_HEADER) || memcmp(p, TLOG_PROOF_HEADER,
	    (size_t)(nl - p)) != 0) {
		*why = "does not start with the line " TLOG_PROOF_HEADER;
		return -1;
	}
	p = nl + 1;
	if ((nl = line_end(p, end)) != NULL && nl - p > 6 &&
	    memcmp(p, "extra ", 6) == 0)
		p = nl + 1;
	if ((nl = line_end(p, end)) == NULL || nl - p < 7 ||
	    memcmp(p, "index ", 6) != 0 || (size_t)(nl - p - 6) >=
	    sizeof(num)) {
		*why = "has no \"index N\" line";
		return -1;
	}
	memcpy(num, p + 6, (size_t)(nl - p - 6));
	num[nl - p - 6] = '\0';
	if (ctl_parse_u64(num, &out->index) != 0) {
		*why = "has a malformed index";
		return -1;
	}
	for (p = nl + 1; (nl = line_end(p, end)) != NULL && nl > p;
	    p = nl + 1) {
		if (out->n == LEDGER_MAX_PROOF) {
			*why = "has too many hashes";
			return -1;
		}
		if (ledger_b64_decode(p, (size_t)(nl - p), out->hashes[out->n],
		    LEDGER_HASH_LEN, &n) != 0 || n != LEDGER_HASH_LEN) {
			*why = "has a hash line that is not base64 of 32 bytes";
			return -1;
		}
		out->n++;
	}
	if (nl == NULL) {
		*why = "ends before the blank line and the checkpoint";
		return -1;
	}
	/* The checkpoint: body lines, a blank line, signature lines. */
	cp = p = nl + 1;
	for (; (nl = line_end(p, end)) != NULL && nl > p; p = nl + 1)
		body_lines++;
	if (nl == NULL || body_lines < 3) {
		*why = "has a truncated checkpoint";
		return -1;
	}
	for (p = nl + 1; (nl = line_end(p, end)) != NULL &&
	    (size_t)(nl - p) > strlen(SIG_PREFIX) &&
	    memcmp(p, SIG_PREFIX, strlen(SIG_PREFIX)) == 0; p = nl + 1)
		;
	if (p < end && ((size_t)(end - p) <= strlen(TLOG_PROOF_HEADER) ||
	    memcmp(p, TLOG_PROOF_HEADER "\n",
	    strlen(TLOG_PROOF_HEADER) + 1) != 0)) {
		*why = "has a malformed checkpoint signature line, or bytes "
		    "after it";
		return -1;
	}
	out->checkpoint = cp;
	out->checkpoint_len = (size_t)(p - cp);
	*consumed = (size_t)(p - text);
	return 0;
}
