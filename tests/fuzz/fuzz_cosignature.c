/*
 * Fuzzes tlog-cosignature lines: a line that parses has a timestamp in
 * 1..2^63-1 and re-encodes to itself; a witness's answer read by
 * ledger_cosignature_accept ends in a defined code, and what it keeps
 * verifies.
 */
#include <string.h>

#include "ledger/base64.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "fuzz.h"

#define INPUT_MAX (16 * 1024)
#define BODY "ledger.example.org/ct-box\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

static struct ledger_signer *w;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t wseed[LEDGER_ED25519_LEN] = { 9 };

	if (ledger_signer_from_seed("witness.example.org", LEDGER_SIGTYPE_COSIGNATURE,
	    wseed, &w) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ledger_verifier *v = ledger_signer_verifier(w);
	struct ledger_cosignature c;
	char *buf, *kept = NULL, *line = NULL;
	uint64_t t;
	int rc;

	if (size > INPUT_MAX)
		return -1;
	buf = xmalloc(size ? size : 1);
	memcpy(buf, data, size);
	if (ledger_cosignature_parse(buf, size, &c) == 0) {
		FUZZ_ASSERT(c.timestamp != 0 && c.timestamp <= LEDGER_COSIG_TIME_MAX);
		rc = ledger_cosignature_verify(v, &c, BODY, strlen(BODY));
		FUZZ_ASSERT(rc == 0 || rc == LEDGER_EVERIFY || rc == LEDGER_EINVAL);
	}
	rc = ledger_cosignature_accept(buf, size, BODY, strlen(BODY), v, &kept,
	    &t);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL || rc == LEDGER_EVERIFY ||
	    rc == LEDGER_ENOTFOUND);
	if (rc == 0) {
		FUZZ_ASSERT(ledger_cosignature_parse(kept, strlen(kept), &c) == 0);
		FUZZ_ASSERT(ledger_cosignature_verify(v, &c, BODY,
		    strlen(BODY)) == 0);
		free(kept);
	}
	/* Signing with the input's first 8 bytes as a time. */
	if (size >= 8) {
		memcpy(&t, data, 8);
		rc = ledger_cosignature_sign(w, BODY, strlen(BODY), t, &line);
		FUZZ_ASSERT((rc == 0) == (t != 0 && t <= LEDGER_COSIG_TIME_MAX));
		if (rc == 0) {
			FUZZ_ASSERT(ledger_cosignature_parse(line, strlen(line),
			    &c) == 0 && c.timestamp == t);
			FUZZ_ASSERT(ledger_cosignature_verify(v, &c, BODY,
			    strlen(BODY)) == 0);
			free(line);
		}
	}
	free(buf);
	return 0;
}
