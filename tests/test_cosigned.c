/*
 * The signature lines of a published checkpoint (ledgerd/cosigned.c): a
 * witness's new line takes the place of its old one, other keys' lines are
 * appended after the log's, and the checkpoint as the log signed it is
 * always the note up to its first line.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/note.h"

#include "../ledgerd/cosigned.h"
#include "testlib.h"

#define ORIGIN "ledger.example.org/cosigned"

static struct ledger_signer *log_key, *w1, *w2, *w1_other;
static char *note;		/* the log's signed checkpoint */
static size_t body_len;		/* its text, final newline included */

static void
setup(void)
{
	static const uint8_t s0[32] = { 1 }, s1[32] = { 2 }, s2[32] = { 3 },
	    s3[32] = { 4 };
	struct ledger_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.tree_size = 42;
	if (ledger_signer_from_seed(ORIGIN, LEDGER_SIGTYPE_ED25519, s0,
	    &log_key) != 0 ||
	    ledger_signer_from_seed("w1.example", LEDGER_SIGTYPE_COSIGNATURE,
	    s1, &w1) != 0 ||
	    ledger_signer_from_seed("w2.example", LEDGER_SIGTYPE_COSIGNATURE,
	    s2, &w2) != 0 ||
	    /* The same name with another key: another key ID. */
	    ledger_signer_from_seed("w1.example", LEDGER_SIGTYPE_COSIGNATURE,
	    s3, &w1_other) != 0 ||
	    (note = ledger_checkpoint_sign(&cp, log_key)) == NULL)
		abort();
	body_len = strstr(note, "\n\n") - note + 1;
}

static char *
cosign(const struct ledger_signer *w, uint64_t t)
{
	char *line = NULL;

	if (ledger_cosignature_sign(w, note, body_len, t, &line) != 0)
		abort();
	return line;
}

/* How many lines of s start with prefix. */
static int
lines_with(const char *s, const char *prefix)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		n += strncmp(s, prefix, strlen(prefix)) == 0;
	return n;
}

static void
test_merge(void)
{
	char *a = cosign(w1, 100), *b = cosign(w2, 100), *a2 = cosign(w1, 200);
	char *o = cosign(w1_other, 100), *two, *n1, *n2, *n3, *n4, *all;
	struct ledger_verifier keys[3];
	size_t len1, len2, len3, len4, part;

	/* One witness's line, then another's: in that order, after the log's. */
	CHECK_INT(cosigned_merge(note, strlen(note), a, strlen(a), &n1, &len1), 0);
	CHECK_INT(len1, strlen(note) + strlen(a));
	CHECK(strncmp(n1, note, strlen(note)) == 0);
	CHECK_INT(cosigned_merge(n1, len1, b, strlen(b), &n2, &len2), 0);
	CHECK_STR(n2 + strlen(note), (all = (char *)malloc(strlen(a) + strlen(b) + 1),
	    strcpy(all, a), strcat(all, b), all));
	free(all);
	/* w1 cosigns again: its newer line takes the old one's place. */
	CHECK_INT(cosigned_merge(n2, len2, a2, strlen(a2), &n3, &len3), 0);
	CHECK_INT(len3, len2);
	CHECK(strstr(n3, a2) != NULL && strstr(n3, a) == NULL);
	CHECK(strstr(n3, a2) < strstr(n3, b));
	CHECK_INT(lines_with(n3, "\xe2\x80\x94 w1.example "), 1);
	/* Same name, another key ID: both kept. */
	CHECK_INT(cosigned_merge(n3, len3, o, strlen(o), &n4, &len4), 0);
	CHECK_INT(lines_with(n4, "\xe2\x80\x94 w1.example "), 2);
	/* Every line verifies; the log's part is the note the log signed. */
	keys[0] = *ledger_signer_verifier(log_key);
	keys[1] = *ledger_signer_verifier(w1);
	keys[2] = *ledger_signer_verifier(w2);
	CHECK_INT(ledger_note_verify(n4, len4, keys, 3, NULL), 0);
	CHECK_INT(cosigned_log_part(n4, len4, &part), 0);
	CHECK_INT(part, strlen(note));
	CHECK_INT(cosigned_log_part(note, strlen(note), &part), 0);
	CHECK_INT(part, strlen(note));
	/* Two lines at once, one of which replaces. */
	two = malloc(strlen(a) + strlen(b) + 1);
	strcpy(two, a);
	strcat(two, b);
	free(n1);
	CHECK_INT(cosigned_merge(n3, len3, two, strlen(two), &n1, &len1), 0);
	CHECK_INT(len1, len3);
	CHECK(strstr(n1, a) != NULL && strstr(n1, a2) == NULL);
	free(two);
	free(n1);
	free(n2);
	free(n3);
	free(n4);
	free(a);
	free(a2);
	free(b);
	free(o);
}

static void
test_refused(void)
{
	char *out = NULL, *lines, *p;
	size_t len, part, i;

	CHECK_INT(cosigned_merge(note, strlen(note), "no dash\n", 8, &out, &len),
	    LEDGER_EINVAL);
	CHECK_INT(cosigned_merge(note, strlen(note), "", 0, &out, &len),
	    LEDGER_EINVAL);
	CHECK_INT(cosigned_merge("text\n", 5, "\xe2\x80\x94 a AAAA\n", 11, &out,
	    &len), LEDGER_EINVAL);
	CHECK_INT(cosigned_log_part("text only\n", 10, &part), LEDGER_EINVAL);
	/* Lines holding an empty line would bring text along (fuzz_cosigned). */
	lines = malloc(strlen(note) + 4);
	sprintf(lines, "x\n\n%s", strchr(note, '\n') + 1);
	CHECK_INT(cosigned_merge(note, strlen(note), lines, strlen(lines), &out,
	    &len), LEDGER_EINVAL);
	free(lines);
	CHECK(out == NULL);
	/* More lines than a note may hold. */
	lines = malloc(120 * 64);
	for (p = lines, i = 0; i < 120; i++)
		p += sprintf(p, "\xe2\x80\x94 k%zu AAAAAAAAAAA=\n", i);
	CHECK_INT(cosigned_merge(note, strlen(note), lines, strlen(lines), &out,
	    &len), LEDGER_ETOOBIG);
	free(lines);
}

int
main(void)
{
	setup();
	RUN(test_merge);
	RUN(test_refused);
	ledger_signer_free(log_key);
	ledger_signer_free(w1);
	ledger_signer_free(w2);
	ledger_signer_free(w1_other);
	free(note);
	return TEST_SUMMARY();
}
