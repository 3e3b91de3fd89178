/*
 * Fuzzes C2SP tlog-policy parsing and checking: a refusal always names a
 * line, a parsed policy's quorum is monotone (adding a cosigner never
 * breaks it) and accessors stay in bounds, and verification of a fixed
 * cosigned checkpoint against it ends in a defined code.
 */
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"

#include "fuzz.h"

#define INPUT_MAX (32 * 1024)
#define ORIGIN "ledger.example.org/ct-box"

static char *note;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t seed[LEDGER_ED25519_LEN] = { 7 };
	static const uint8_t wseed[LEDGER_ED25519_LEN] = { 9 };
	struct ledger_signer *log, *w;
	struct ledger_checkpoint cp;
	char *line = NULL, *cpnote;

	if (ledger_signer_from_seed(ORIGIN, LEDGER_SIGTYPE_ED25519, seed,
	    &log) != 0 ||
	    ledger_signer_from_seed("witness.example.org", LEDGER_SIGTYPE_COSIGNATURE,
	    wseed, &w) != 0)
		abort();
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, ORIGIN);
	cp.tree_size = 3;
	cpnote = ledger_checkpoint_sign(&cp, log);
	if (cpnote == NULL || ledger_cosignature_sign(w, cpnote,
	    strstr(cpnote, "\n\n") - cpnote + 1, 1700000000, &line) != 0)
		abort();
	note = xasprintf("%s%s", cpnote, line);
	free(cpnote);
	free(line);
	ledger_signer_free(log);
	ledger_signer_free(w);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger_policy *p = NULL;
	struct ledger_policy_result *r;
	uint8_t cosigned[LEDGER_POLICY_MAX_WITNESSES];
	char err[256];
	size_t i, n;
	int rc, met, prev;

	if (size > INPUT_MAX)
		return -1;
	err[0] = '\0';
	rc = ledger_policy_parse((const char *)data, size, &p, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL || rc == LEDGER_ETOOBIG);
	if (rc != 0) {
		FUZZ_ASSERT(p == NULL && strncmp(err, "line ", 5) == 0);
		return 0;
	}
	n = ledger_policy_witness_count(p);
	FUZZ_ASSERT(n <= LEDGER_POLICY_MAX_WITNESSES);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(ledger_policy_witness(p, i) != NULL);
	FUZZ_ASSERT(ledger_policy_witness(p, n) == NULL);
	for (i = 0; i < ledger_policy_log_count(p); i++)
		FUZZ_ASSERT(ledger_policy_log(p, i)->key.type ==
		    LEDGER_SIGTYPE_ED25519);
	/* Monotone: cosigners added one by one never break the quorum. */
	memset(cosigned, 0, sizeof(cosigned));
	prev = ledger_policy_quorum_met(p, cosigned, n);
	FUZZ_ASSERT(prev == ledger_policy_quorum_none(p) || n > 0 || !prev);
	for (i = 0; i < n; i++) {
		cosigned[i] = 1;
		met = ledger_policy_quorum_met(p, cosigned, n);
		FUZZ_ASSERT(met >= prev);
		prev = met;
	}
	r = xcalloc(1, sizeof(*r));
	rc = ledger_policy_verify(p, note, strlen(note), r);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EVERIFY || rc == LEDGER_ENOTFOUND);
	if (rc == 0)
		FUZZ_ASSERT(r->log_verified && r->quorum_met);
	free(r);
	ledger_policy_free(p);
	return 0;
}
