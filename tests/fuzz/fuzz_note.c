/*
 * Fuzzes C2SP signed-note and tlog-checkpoint parsing.  Even first byte:
 * the rest is a whole note, split, verified against the published
 * signed-note vector key, our log key and a witness key, and parsed as a
 * checkpoint.  Odd: the rest is note text, which is signed with the log
 * key and must then verify and open exactly when it is a checkpoint.
 */
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/note.h"

#include "fuzz.h"

#define INPUT_MAX (16 * 1024)
#define ORIGIN "ledger.example.org/ct-box"
#define PN_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

static struct ledger_signer *log_signer, *witness;
static struct ledger_verifier verifiers[3];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t seed[LEDGER_ED25519_LEN] = { 7 };
	static const uint8_t wseed[LEDGER_ED25519_LEN] = { 9 };

	if (ledger_signer_from_seed(ORIGIN, LEDGER_SIGTYPE_ED25519, seed,
	    &log_signer) != 0 ||
	    ledger_signer_from_seed("witness.example.org", LEDGER_SIGTYPE_COSIGNATURE,
	    wseed, &witness) != 0 ||
	    ledger_verifier_parse(PN_VKEY, &verifiers[0]) != 0)
		abort();
	verifiers[1] = *ledger_signer_verifier(log_signer);
	verifiers[2] = *ledger_signer_verifier(witness);
	return 0;
}

/* A parsed checkpoint formats back to the text it was parsed from. */
static void
check_checkpoint_roundtrip(const char *text, size_t len,
    const struct ledger_checkpoint *cp)
{
	char *again = ledger_checkpoint_format(cp);

	FUZZ_ASSERT(again != NULL);
	FUZZ_ASSERT(strlen(again) <= len && memcmp(again, text, strlen(again)) == 0);
	free(again);
}

static void
whole_note(const char *note, size_t len)
{
	struct ledger_note_sig sigs[8];
	struct ledger_checkpoint cp;
	size_t nsigs = 0, text_len = 0, vtext_len = 0;
	int rc, vrc;

	rc = ledger_note_split(note, len, sigs, 8, &nsigs, &text_len);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL || rc == LEDGER_ETOOBIG);
	if (rc == 0) {
		FUZZ_ASSERT(text_len < len && nsigs <= 8);
		FUZZ_ASSERT(note[text_len] == '\n');
		FUZZ_ASSERT(text_len == 0 || note[text_len - 1] == '\n');
		for (size_t i = 0; i < nsigs; i++)
			FUZZ_ASSERT(sigs[i].blob_len <= sizeof(sigs[i].blob));
	}
	vrc = ledger_note_verify(note, len, verifiers, 3, &vtext_len);
	FUZZ_ASSERT(vrc == 0 || vrc == LEDGER_EINVAL || vrc == LEDGER_EVERIFY);
	/* A note that verifies is well-formed, with the same text. */
	if (vrc == 0 && rc == 0)
		FUZZ_ASSERT(vtext_len == text_len);
	if (vrc == 0)
		FUZZ_ASSERT(rc == 0 || rc == LEDGER_ETOOBIG);

	memset(&cp, 0, sizeof(cp));
	if (ledger_checkpoint_parse(note, len, &cp) == 0)
		check_checkpoint_roundtrip(note, len, &cp);
	memset(&cp, 0, sizeof(cp));
	rc = ledger_checkpoint_open(note, len, &verifiers[1], &cp);
	if (rc == 0) {
		FUZZ_ASSERT(strcmp(cp.origin, ORIGIN) == 0);
		check_checkpoint_roundtrip(note, len, &cp);
	}
}

static void
sign_and_verify(const char *text, size_t len)
{
	struct ledger_checkpoint cp, opened;
	char *sig, *note;
	size_t note_len, text_len;
	int parsed, rc;

	if ((sig = ledger_note_sign(log_signer, text, len)) == NULL)
		return;		/* not valid note text */
	note_len = len + 1 + strlen(sig);
	note = malloc(note_len);
	FUZZ_ASSERT(note != NULL);
	memcpy(note, text, len);
	note[len] = '\n';
	memcpy(note + len + 1, sig, strlen(sig));
	FUZZ_ASSERT(ledger_note_verify(note, note_len, verifiers, 3, &text_len) == 0);
	FUZZ_ASSERT(text_len == len);

	/*
	 * Parsing stops at a blank line (it also reads whole notes), so the
	 * text is a checkpoint only when the parsed body is all of it.
	 */
	parsed = ledger_checkpoint_parse(text, len, &cp) == 0 &&
	    strcmp(cp.origin, ORIGIN) == 0;
	if (parsed) {
		char *body = ledger_checkpoint_format(&cp);

		parsed = body != NULL && strlen(body) == len;
		free(body);
	}
	rc = ledger_checkpoint_open(note, note_len, &verifiers[1], &opened);
	FUZZ_ASSERT((rc == 0) == parsed);
	if (rc == 0) {
		FUZZ_ASSERT(opened.tree_size == cp.tree_size);
		FUZZ_ASSERT(memcmp(opened.root, cp.root, LEDGER_HASH_LEN) == 0);
	}
	/* One flipped byte of the text no longer verifies. */
	note[len / 2] ^= 0x20;
	FUZZ_ASSERT(ledger_note_verify(note, note_len, &verifiers[1], 1, NULL) != 0);
	free(note);
	free(sig);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size < 1 || size > INPUT_MAX)
		return -1;
	/* A copy of exactly the right size, so reads past it are caught. */
	buf = malloc(size - 1 ? size - 1 : 1);
	FUZZ_ASSERT(buf != NULL);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		sign_and_verify(buf, size - 1);
	else
		whole_note(buf, size - 1);
	free(buf);
	return 0;
}
