/*
 * C2SP tlog-witness wire formats: the add-checkpoint body and the
 * text/x.tlog.size body (see witness_proto.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "ledger/number.h"
#include "ledger/witness_proto.h"
#include "ledger/xmalloc.h"

#define HASH_B64_LEN LEDGER_B64_LEN(LEDGER_HASH_LEN)

int
ledger_add_checkpoint_parse(const char *body, size_t len,
    struct ledger_add_checkpoint *out)
{
	const char *p = body, *end = body + len, *nl;
	size_t n;

	memset(out, 0, sizeof(*out));
	/* "old <size>\n" */
	if ((nl = memchr(p, '\n', len)) == NULL)
		return LEDGER_EINVAL;
	if (nl - p < 4 || memcmp(p, "old ", 4) != 0 ||
	    ledger_parse_u64(p + 4, nl - p - 4, &out->old_size) != 0)
		return LEDGER_EINVAL;
	/* Proof lines up to the blank line. */
	for (p = nl + 1;; p = nl + 1) {
		if (p >= end || (nl = memchr(p, '\n', end - p)) == NULL)
			return LEDGER_EINVAL;	/* no blank line */
		if (nl == p)
			break;
		if (out->n_proof == LEDGER_WITNESS_MAX_PROOF)
			return LEDGER_ETOOBIG;
		if (nl - p != HASH_B64_LEN ||
		    ledger_b64_decode(p, HASH_B64_LEN, out->proof[out->n_proof],
		    LEDGER_HASH_LEN, &n) != 0 || n != LEDGER_HASH_LEN)
			return LEDGER_EINVAL;
		out->n_proof++;
	}
	p = nl + 1;
	if (p == end)
		return LEDGER_EINVAL;	/* no checkpoint */
	out->checkpoint = p;
	out->checkpoint_len = end - p;
	return LEDGER_OK;
}

char *
ledger_add_checkpoint_format(uint64_t old_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t n_proof,
    const char *checkpoint, size_t len, size_t *out_len)
{
	char *body, *p;
	size_t i, cap;

	if (n_proof > LEDGER_WITNESS_MAX_PROOF || len == 0 ||
	    checkpoint[len - 1] != '\n')
		return NULL;
	cap = 32 + n_proof * (HASH_B64_LEN + 1) + 1 + len + 1;
	body = xmalloc(cap);
	p = body + snprintf(body, 32, "old %" PRIu64 "\n", old_size);
	for (i = 0; i < n_proof; i++) {
		p += ledger_b64_encode(proof[i], LEDGER_HASH_LEN, p);
		*p++ = '\n';
	}
	*p++ = '\n';
	memcpy(p, checkpoint, len);
	p += len;
	*p = '\0';
	*out_len = p - body;
	return body;
}

int
ledger_tlog_size_parse(const char *body, size_t len, uint64_t *size)
{
	if (len < 2 || body[len - 1] != '\n')
		return LEDGER_EINVAL;
	return ledger_parse_u64(body, len - 1, size);
}

char *
ledger_tlog_size_format(uint64_t size)
{
	return xasprintf("%" PRIu64 "\n", size);
}
