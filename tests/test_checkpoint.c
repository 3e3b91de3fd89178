/* Tests of the C2SP tlog-checkpoint body and its signed form. */
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

#define ORIGIN "ledger.example.org/ct-box"
/* base64 of the 32 bytes 0x00 .. 0x1f */
#define ROOT_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void
sample(struct ledger_checkpoint *cp)
{
	int i;

	memset(cp, 0, sizeof(*cp));
	strcpy(cp->origin, ORIGIN);
	cp->tree_size = 1234567;
	for (i = 0; i < LEDGER_HASH_LEN; i++)
		cp->root[i] = (uint8_t)i;
}

static int
parse_str(const char *text, struct ledger_checkpoint *cp)
{
	return ledger_checkpoint_parse(text, strlen(text), cp);
}

static void
test_format_parse(void)
{
	struct ledger_checkpoint cp, out;
	char *text;

	sample(&cp);
	text = ledger_checkpoint_format(&cp);
	CHECK_STR(text, ORIGIN "\n1234567\n" ROOT_B64 "\n");
	CHECK_INT(parse_str(text, &out), 0);
	CHECK(memcmp(&cp, &out, sizeof(cp)) == 0);
	free(text);

	cp.tree_size = 0;
	text = ledger_checkpoint_format(&cp);
	CHECK_STR(text, ORIGIN "\n0\n" ROOT_B64 "\n");
	CHECK_INT(parse_str(text, &out), 0);
	CHECK_INT(out.tree_size, 0);
	free(text);

	cp.tree_size = UINT64_MAX;
	text = ledger_checkpoint_format(&cp);
	CHECK_STR(text, ORIGIN "\n18446744073709551615\n" ROOT_B64 "\n");
	CHECK_INT(parse_str(text, &out), 0);
	CHECK(out.tree_size == UINT64_MAX);
	free(text);
	CHECK_INT(parse_str(ORIGIN "\n18446744073709551616\n" ROOT_B64 "\n",
	    &out), LEDGER_EINVAL);
}

static void
test_extensions(void)
{
	struct ledger_checkpoint cp, out;
	char *text;
	int i;

	sample(&cp);
	cp.n_ext = 2;
	strcpy(cp.ext[0], "timestamp 1700000000");
	strcpy(cp.ext[1], "\xe2\x80\x94 not a signature");
	text = ledger_checkpoint_format(&cp);
	CHECK_STR(text, ORIGIN "\n1234567\n" ROOT_B64 "\ntimestamp 1700000000\n"
	    "\xe2\x80\x94 not a signature\n");
	CHECK_INT(parse_str(text, &out), 0);
	CHECK(memcmp(&cp, &out, sizeof(cp)) == 0);
	free(text);

	cp.n_ext = LEDGER_CHECKPOINT_MAX_EXT;
	for (i = 0; i < LEDGER_CHECKPOINT_MAX_EXT; i++)
		snprintf(cp.ext[i], sizeof(cp.ext[i]), "ext %d", i);
	text = ledger_checkpoint_format(&cp);
	REQUIRE(text != NULL);
	CHECK_INT(parse_str(text, &out), 0);
	CHECK_INT(out.n_ext, LEDGER_CHECKPOINT_MAX_EXT);
	{
		char *more = xasprintf("%sone too many\n", text);
		CHECK_INT(parse_str(more, &out), LEDGER_ETOOBIG);
		free(more);
	}
	free(text);

	/* An empty or control-character extension is refused. */
	cp.n_ext = 1;
	cp.ext[0][0] = '\0';
	CHECK(ledger_checkpoint_format(&cp) == NULL);
	strcpy(cp.ext[0], "a\tb");
	CHECK(ledger_checkpoint_format(&cp) == NULL);
	cp.n_ext = LEDGER_CHECKPOINT_MAX_EXT + 1;
	CHECK(ledger_checkpoint_format(&cp) == NULL);
}

static void
test_format_rejects(void)
{
	struct ledger_checkpoint cp;

	sample(&cp);
	cp.origin[0] = '\0';
	CHECK(ledger_checkpoint_format(&cp) == NULL);
	strcpy(cp.origin, "a\nb");
	CHECK(ledger_checkpoint_format(&cp) == NULL);
	strcpy(cp.origin, "a\x01");
	CHECK(ledger_checkpoint_format(&cp) == NULL);
	/* Not NUL-terminated. */
	memset(cp.origin, 'a', sizeof(cp.origin));
	CHECK(ledger_checkpoint_format(&cp) == NULL);
}

static void
test_parse_rejects(void)
{
	struct ledger_checkpoint cp;
	static const char *bad[] = {
		"",
		ORIGIN "\n",
		ORIGIN "\n5\n",
		ORIGIN "\n5\n" ROOT_B64,			/* no newline */
		ORIGIN "\n05\n" ROOT_B64 "\n",			/* leading 0 */
		ORIGIN "\n00\n" ROOT_B64 "\n",
		ORIGIN "\n+5\n" ROOT_B64 "\n",
		ORIGIN "\n-5\n" ROOT_B64 "\n",
		ORIGIN "\n 5\n" ROOT_B64 "\n",
		ORIGIN "\n5 \n" ROOT_B64 "\n",
		ORIGIN "\n0x5\n" ROOT_B64 "\n",
		ORIGIN "\n\n" ROOT_B64 "\n",
		"\n5\n" ROOT_B64 "\n",				/* empty origin */
		/* non-canonical trailing bits */
		ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",
		/* 31 bytes */
		ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
		/* 33 bytes */
		ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
		/* unpadded, URL alphabet */
		ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=\n",
		ORIGIN "\n5\n" ROOT_B64 "\r\n",
		ORIGIN "\r\n5\n" ROOT_B64 "\n",
		"ledger\texample\n5\n" ROOT_B64 "\n",
		ORIGIN "\n5\n" ROOT_B64 "\nex\x7ft\n",
		ORIGIN "\n5\n" ROOT_B64 "\next\x01\n",
		ORIGIN "\n5\n" ROOT_B64 "\next\xc2\x85\n",	/* C1 NEL */
		ORIGIN "\n5\n" ROOT_B64 "\next\xff\n",
		ORIGIN "\n5\n" ROOT_B64 "\next",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_str(bad[i], &cp) == 0) {
			fprintf(stderr, "  accepted case %zu\n", i);
			CHECK(0);
		}
	}
	/* An embedded NUL is a control character too. */
	CHECK(ledger_checkpoint_parse(ORIGIN "\n5\n" ROOT_B64 "\na\0b\n",
	    strlen(ORIGIN "\n5\n" ROOT_B64 "\n") + 4, &cp) != 0);
	/* Too long a line. */
	{
		char origin[LEDGER_ORIGIN_MAX + 2], *text;

		memset(origin, 'o', sizeof(origin) - 1);
		origin[sizeof(origin) - 1] = '\0';
		text = xasprintf("%s\n5\n%s\n", origin, ROOT_B64);
		CHECK_INT(parse_str(text, &cp), LEDGER_ETOOBIG);
		free(text);
		origin[sizeof(origin) - 2] = '\0';
		text = xasprintf("%s\n5\n%s\n", origin, ROOT_B64);
		CHECK_INT(parse_str(text, &cp), 0);
		free(text);
	}
}

static void
test_parse_stops_at_blank_line(void)
{
	struct ledger_checkpoint cp;

	CHECK_INT(parse_str(ORIGIN "\n5\n" ROOT_B64 "\n\n\xe2\x80\x94 x y\n",
	    &cp), 0);
	CHECK_INT(cp.tree_size, 5);
	CHECK_INT(cp.n_ext, 0);
	CHECK_STR(cp.origin, ORIGIN);
}

static struct ledger_signer *
log_signer(const char *name, uint8_t fill)
{
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_signer *s = NULL;

	memset(seed, fill, sizeof(seed));
	if (ledger_signer_from_seed(name, LEDGER_SIGTYPE_ED25519, seed, &s) != 0)
		return NULL;
	return s;
}

static void
test_sign_open(void)
{
	struct ledger_checkpoint cp, out;
	struct ledger_signer *s;
	const struct ledger_verifier *v;
	char *note;

	REQUIRE((s = log_signer(ORIGIN, 0x42)) != NULL);
	v = ledger_signer_verifier(s);
	sample(&cp);
	cp.n_ext = 1;
	strcpy(cp.ext[0], "ext line");
	note = ledger_checkpoint_sign(&cp, s);
	REQUIRE(note != NULL);
	{
		const char *head = ORIGIN "\n1234567\n" ROOT_B64
		    "\next line\n\n\xe2\x80\x94 " ORIGIN " ";
		CHECK(strncmp(note, head, strlen(head)) == 0);
	}
	CHECK_INT(ledger_checkpoint_open(note, strlen(note), v, &out), 0);
	CHECK(memcmp(&cp, &out, sizeof(cp)) == 0);
	CHECK_INT(ledger_note_verify(note, strlen(note), v, 1, NULL), 0);
	free(note);

	/* The signer's name must be the origin. */
	strcpy(cp.origin, "other.example/log");
	CHECK(ledger_checkpoint_sign(&cp, s) == NULL);
	ledger_signer_free(s);
}

static void
test_open_rejects(void)
{
	struct ledger_checkpoint cp, out;
	struct ledger_signer *s, *other, *renamed;
	char *note, *bad, *p;

	REQUIRE((s = log_signer(ORIGIN, 0x42)) != NULL);
	REQUIRE((other = log_signer(ORIGIN, 0x43)) != NULL);
	REQUIRE((renamed = log_signer("other.example/log", 0x42)) != NULL);
	sample(&cp);
	note = ledger_checkpoint_sign(&cp, s);
	REQUIRE(note != NULL);

	/* Another key with the same name. */
	CHECK_INT(ledger_checkpoint_open(note, strlen(note),
	    ledger_signer_verifier(other), &out), LEDGER_EVERIFY);
	/* The same key under another name. */
	CHECK_INT(ledger_checkpoint_open(note, strlen(note),
	    ledger_signer_verifier(renamed), &out), LEDGER_EINVAL);

	/* Tampered size. */
	bad = xstrdup(note);
	p = strstr(bad, "1234567");
	p[6] = '8';
	CHECK_INT(ledger_checkpoint_open(bad, strlen(bad),
	    ledger_signer_verifier(s), &out), LEDGER_EVERIFY);
	free(bad);
	/* Tampered root. */
	bad = xstrdup(note);
	p = strstr(bad, ROOT_B64);
	p[0] = 'B';
	CHECK_INT(ledger_checkpoint_open(bad, strlen(bad),
	    ledger_signer_verifier(s), &out), LEDGER_EVERIFY);
	free(bad);
	/* Truncated. */
	CHECK_INT(ledger_checkpoint_open(note, strlen(note) - 1,
	    ledger_signer_verifier(s), &out), LEDGER_EINVAL);
	free(note);

	/* Signed text with a blank line inside: the body is not all of it. */
	{
		const char *text = ORIGIN "\n5\n" ROOT_B64 "\n\nhidden\n";
		char *line = ledger_note_sign(s, text, strlen(text));

		REQUIRE(line != NULL);
		note = xasprintf("%s\n%s", text, line);
		CHECK_INT(ledger_note_verify(note, strlen(note),
		    ledger_signer_verifier(s), 1, NULL), 0);
		CHECK_INT(ledger_checkpoint_open(note, strlen(note),
		    ledger_signer_verifier(s), &out), LEDGER_EINVAL);
		free(note);
		free(line);
	}
	ledger_signer_free(s);
	ledger_signer_free(other);
	ledger_signer_free(renamed);
}

int
main(void)
{
	RUN(test_format_parse);
	RUN(test_extensions);
	RUN(test_format_rejects);
	RUN(test_parse_rejects);
	RUN(test_parse_stops_at_blank_line);
	RUN(test_sign_open);
	RUN(test_open_rejects);
	return TEST_SUMMARY();
}
