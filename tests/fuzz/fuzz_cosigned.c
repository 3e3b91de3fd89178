/*
 * Fuzzes the editing of a published checkpoint's signature lines
 * (ledgerd/cosigned.c).  The input is a note and a block of lines,
 * separated by the first NUL: whatever they hold, a merge either fails or
 * gives a note that splits, keeps the first note's text and first line
 * (cosigned_log_part), and holds every key at most as often as the two
 * inputs together.
 */
#include <string.h>

#include "ledger/error.h"
#include "ledger/note.h"

#include "../../ledgerd/cosigned.h"
#include "fuzz.h"

#define INPUT_MAX (16 * 1024)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ledger_note_sig sigs[LEDGER_NOTE_MAX_SIGS];
	const char *in = (const char *)data, *nul;
	size_t note_len, lines_len, out_len, part, part2, nsigs, text, text2;
	size_t n_in, n_lines;
	char *out = NULL;
	int rc;

	if (size > INPUT_MAX || (nul = memchr(in, '\0', size)) == NULL)
		return 0;
	note_len = (size_t)(nul - in);
	lines_len = size - note_len - 1;
	rc = cosigned_merge(in, note_len, nul + 1, lines_len, &out, &out_len);
	if (rc != 0) {
		FUZZ_ASSERT(rc == LEDGER_EINVAL || rc == LEDGER_ETOOBIG);
		FUZZ_ASSERT(out == NULL);
		return 0;
	}
	FUZZ_ASSERT(strlen(out) == out_len);
	FUZZ_ASSERT(ledger_note_split(in, note_len, sigs, LEDGER_NOTE_MAX_SIGS,
	    &n_in, &text) == 0);
	FUZZ_ASSERT(ledger_note_split(out, out_len, sigs, LEDGER_NOTE_MAX_SIGS,
	    &nsigs, &text2) == 0);
	FUZZ_ASSERT(text == text2 && memcmp(in, out, text) == 0);
	FUZZ_ASSERT(cosigned_log_part(in, note_len, &part) == 0);
	FUZZ_ASSERT(cosigned_log_part(out, out_len, &part2) == 0);
	FUZZ_ASSERT(part == part2 && memcmp(in, out, part) == 0);
	/* Lines are replaced or appended, never multiplied. */
	n_lines = 0;
	for (size_t i = 0; i < lines_len; i++)
		n_lines += nul[1 + i] == '\n';
	FUZZ_ASSERT(nsigs <= n_in + n_lines && nsigs >= n_in);
	free(out);
	return 0;
}
