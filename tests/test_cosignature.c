/*
 * Tests of tlog-cosignature cosignature/v1: witness keys, the signed
 * message, signature lines, verification and accepting a witness's answer.
 *
 * Besides the tests, two modes serve tests/cosignature_check.py, which
 * checks this code against an independent implementation (Python's
 * cryptography package):
 *	test_cosignature emit			prints vectors made here
 *	test_cosignature verify VKEY BODY_B64 LINE
 *						exit 0 when LINE verifies
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

#define DASH "\xe2\x80\x94 "
#define ORIGIN "ledger.example.org/ct-box"
#define WITNESS "witness.example.org/board"
#define BODY ORIGIN "\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

static struct ledger_signer *
make_signer(const char *name, uint8_t type, uint8_t fill)
{
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_signer *s = NULL;

	memset(seed, fill, sizeof(seed));
	if (ledger_signer_from_seed(name, type, seed, &s) != 0)
		abort();
	return s;
}

static void
test_witness_key_forms(void)
{
	struct ledger_signer *w = make_signer(WITNESS,
	    LEDGER_SIGTYPE_COSIGNATURE, 3), *again = NULL;
	const struct ledger_verifier *v = ledger_signer_verifier(w);
	struct ledger_verifier parsed;
	char *vk, *sk;

	CHECK_INT(v->type, LEDGER_SIGTYPE_COSIGNATURE);
	CHECK_INT(v->key_id, ledger_key_id(WITNESS, 0x04, v->public_key));
	/* The type byte enters the key ID: 0x01 gives another one. */
	CHECK(v->key_id != ledger_key_id(WITNESS, 0x01, v->public_key));
	vk = ledger_verifier_format(v);
	REQUIRE(ledger_verifier_parse(vk, &parsed) == 0);
	CHECK_INT(parsed.type, 0x04);
	CHECK_INT(parsed.key_id, v->key_id);
	CHECK_MEM(parsed.public_key, v->public_key, LEDGER_ED25519_LEN);
	/* base64(0x04 || key) starts with "B" */
	CHECK(strstr(vk, "+B") != NULL);
	sk = ledger_signer_format(w);
	CHECK(strncmp(sk, "PRIVATE+KEY+" WITNESS "+", 12 + strlen(WITNESS) + 1) == 0);
	REQUIRE(ledger_signer_parse(sk, &again) == 0);
	CHECK_INT(ledger_signer_verifier(again)->key_id, v->key_id);
	OPENSSL_cleanse(sk, strlen(sk));
	free(sk);
	free(vk);
	ledger_signer_free(again);
	ledger_signer_free(w);
}

static void
test_message(void)
{
	char *msg = NULL;
	size_t len = 0;

	REQUIRE(ledger_cosignature_message(BODY, strlen(BODY), 1700000000,
	    &msg, &len) == 0);
	CHECK_INT(len, strlen("cosignature/v1\ntime 1700000000\n" BODY));
	CHECK_MEM(msg, "cosignature/v1\ntime 1700000000\n" BODY, len);
	free(msg);
	REQUIRE(ledger_cosignature_message(BODY, strlen(BODY),
	    LEDGER_COSIG_TIME_MAX, &msg, &len) == 0);
	CHECK_MEM(msg, "cosignature/v1\ntime 9223372036854775807\n", 40);
	free(msg);
	msg = NULL;
	CHECK_INT(ledger_cosignature_message(BODY, strlen(BODY), 0, &msg, &len),
	    LEDGER_EINVAL);
	CHECK_INT(ledger_cosignature_message(BODY, strlen(BODY),
	    LEDGER_COSIG_TIME_MAX + 1, &msg, &len), LEDGER_EINVAL);
	CHECK_INT(ledger_cosignature_message("x", 1, 1, &msg, &len),
	    LEDGER_EINVAL);
	CHECK_INT(ledger_cosignature_message("", 0, 1, &msg, &len),
	    LEDGER_EINVAL);
	CHECK(msg == NULL);
}

static void
test_sign_parse_verify(void)
{
	struct ledger_signer *w = make_signer(WITNESS,
	    LEDGER_SIGTYPE_COSIGNATURE, 3);
	struct ledger_signer *log = make_signer(ORIGIN, LEDGER_SIGTYPE_ED25519, 1);
	const struct ledger_verifier *v = ledger_signer_verifier(w);
	struct ledger_cosignature c;
	char *line = NULL, *line2 = NULL;

	CHECK_INT(ledger_cosignature_sign(log, BODY, strlen(BODY), 1, &line),
	    LEDGER_EINVAL);
	CHECK_INT(ledger_cosignature_sign(w, BODY, strlen(BODY), 0, &line),
	    LEDGER_EINVAL);
	REQUIRE(ledger_cosignature_sign(w, BODY, strlen(BODY), 1700000000,
	    &line) == 0);
	CHECK(strncmp(line, DASH WITNESS " ", strlen(DASH WITNESS " ")) == 0);
	CHECK_INT(line[strlen(line) - 1], '\n');
	CHECK_INT(strlen(line), strlen(DASH WITNESS " ") + 104 + 1);
	/* Deterministic: the same inputs give the same line. */
	REQUIRE(ledger_cosignature_sign(w, BODY, strlen(BODY), 1700000000,
	    &line2) == 0);
	CHECK_STR(line, line2);
	free(line2);

	REQUIRE(ledger_cosignature_parse(line, strlen(line), &c) == 0);
	CHECK_STR(c.name, WITNESS);
	CHECK_INT(c.key_id, v->key_id);
	CHECK_INT(c.timestamp, 1700000000);
	CHECK(ledger_cosignature_matches(v, &c));
	CHECK_INT(ledger_cosignature_verify(v, &c, BODY, strlen(BODY)), 0);
	/* Without its newline too. */
	REQUIRE(ledger_cosignature_parse(line, strlen(line) - 1, &c) == 0);
	CHECK_INT(ledger_cosignature_verify(v, &c, BODY, strlen(BODY)), 0);

	/* Another body, another time: bad. */
	CHECK_INT(ledger_cosignature_verify(v, &c, ORIGIN "\n6\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", strlen(BODY)),
	    LEDGER_EVERIFY);
	c.timestamp++;
	CHECK_INT(ledger_cosignature_verify(v, &c, BODY, strlen(BODY)),
	    LEDGER_EVERIFY);
	c.timestamp--;
	c.signature[10] ^= 1;
	CHECK_INT(ledger_cosignature_verify(v, &c, BODY, strlen(BODY)),
	    LEDGER_EVERIFY);
	c.signature[10] ^= 1;
	/* Matched by name and key ID together. */
	c.key_id ^= 1;
	CHECK(!ledger_cosignature_matches(v, &c));
	CHECK_INT(ledger_cosignature_verify(v, &c, BODY, strlen(BODY)),
	    LEDGER_EINVAL);
	c.key_id ^= 1;
	strcpy(c.name, "witness.example.org/other");
	CHECK(!ledger_cosignature_matches(v, &c));
	/* A log key is no cosignature key. */
	REQUIRE(ledger_cosignature_parse(line, strlen(line), &c) == 0);
	CHECK_INT(ledger_cosignature_verify(ledger_signer_verifier(log), &c,
	    BODY, strlen(BODY)), LEDGER_EINVAL);
	free(line);
	ledger_signer_free(w);
	ledger_signer_free(log);
}

/* A cosignature line with the blob given, for the parser's refusals. */
static char *
line_with_blob(const char *name, const uint8_t *blob, size_t len)
{
	char b64[LEDGER_B64_LEN(128) + 1];

	ledger_b64_encode(blob, len, b64);
	return xasprintf(DASH "%s %s\n", name, b64);
}

static void
test_parse_refusals(void)
{
	struct ledger_cosignature c;
	uint8_t blob[LEDGER_COSIG_BLOB_LEN + 1];
	char *line;
	static const char *bad[] = {
		"",
		"\n",
		"- w AAAA\n",
		DASH "\n",
		DASH "w\n",
		DASH "w \n",
		DASH " AAAA\n",
		DASH "a+b " "AAAA\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(ledger_cosignature_parse(bad[i], strlen(bad[i]), &c),
		    LEDGER_EINVAL);
	memset(blob, 0x11, sizeof(blob));
	/* Timestamp 0. */
	memset(blob + 4, 0, 8);
	line = line_with_blob("w", blob, LEDGER_COSIG_BLOB_LEN);
	CHECK_INT(ledger_cosignature_parse(line, strlen(line), &c), LEDGER_EINVAL);
	free(line);
	/* Timestamp 2^63. */
	blob[4] = 0x80;
	line = line_with_blob("w", blob, LEDGER_COSIG_BLOB_LEN);
	CHECK_INT(ledger_cosignature_parse(line, strlen(line), &c), LEDGER_EINVAL);
	free(line);
	/* 2^63 - 1 is the largest allowed. */
	blob[4] = 0x7f;
	memset(blob + 5, 0xff, 7);
	line = line_with_blob("w", blob, LEDGER_COSIG_BLOB_LEN);
	CHECK_INT(ledger_cosignature_parse(line, strlen(line), &c), 0);
	CHECK_INT(c.timestamp == LEDGER_COSIG_TIME_MAX, 1);
	free(line);
	/* A blob one byte short or long, or of an Ed25519 note signature. */
	line = line_with_blob("w", blob, LEDGER_COSIG_BLOB_LEN - 1);
	CHECK_INT(ledger_cosignature_parse(line, strlen(line), &c), LEDGER_EINVAL);
	free(line);
	line = line_with_blob("w", blob, LEDGER_COSIG_BLOB_LEN + 1);
	CHECK_INT(ledger_cosignature_parse(line, strlen(line), &c), LEDGER_EINVAL);
	free(line);
	line = line_with_blob("w", blob, 68);
	CHECK_INT(ledger_cosignature_parse(line, strlen(line), &c), LEDGER_EINVAL);
	free(line);
	/* Two spaces, trailing text. */
	line = line_with_blob("w", blob, LEDGER_COSIG_BLOB_LEN);
	{
		char *two = xasprintf(DASH "w  %s", line + strlen(DASH "w "));
		CHECK_INT(ledger_cosignature_parse(two, strlen(two), &c),
		    LEDGER_EINVAL);
		free(two);
	}
	free(line);
}

/*
 * tamper - the same line with one bit of its blob flipped (byte i: 4..11
 * is the timestamp, 12.. the signature), re-encoded as canonical base64.
 */
static char *
tamper(const char *line, size_t i)
{
	const char *sp = strchr(line + strlen(DASH), ' ');
	uint8_t blob[LEDGER_COSIG_BLOB_LEN];
	char b64[LEDGER_B64_LEN(LEDGER_COSIG_BLOB_LEN) + 1];
	size_t n;

	if (sp == NULL || ledger_b64_decode(sp + 1, strlen(sp + 1) - 1, blob,
	    sizeof(blob), &n) != 0 || n != sizeof(blob))
		abort();
	blob[i] ^= 1;
	ledger_b64_encode(blob, n, b64);
	return xasprintf("%.*s %s\n", (int)(sp - line), line, b64);
}

/* with_time - the same line with its timestamp replaced. */
static char *
with_time(const char *line, uint64_t t)
{
	const char *sp = strchr(line + strlen(DASH), ' ');
	uint8_t blob[LEDGER_COSIG_BLOB_LEN];
	char b64[LEDGER_B64_LEN(LEDGER_COSIG_BLOB_LEN) + 1];
	size_t n;
	int i;

	if (sp == NULL || ledger_b64_decode(sp + 1, strlen(sp + 1) - 1, blob,
	    sizeof(blob), &n) != 0 || n != sizeof(blob))
		abort();
	for (i = 0; i < 8; i++)
		blob[4 + i] = (uint8_t)(t >> (56 - 8 * i));
	ledger_b64_encode(blob, n, b64);
	return xasprintf("%.*s %s\n", (int)(sp - line), line, b64);
}

/* A cosigned checkpoint passes ledger_note_verify with both keys. */
static void
test_note_verify_cosigned(void)
{
	struct ledger_signer *log = make_signer(ORIGIN, LEDGER_SIGTYPE_ED25519, 1);
	struct ledger_signer *w = make_signer(WITNESS, LEDGER_SIGTYPE_COSIGNATURE, 3);
	struct ledger_verifier keys[2];
	struct ledger_checkpoint cp;
	char *note, *line = NULL, *cosigned;
	size_t body_len;

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, ORIGIN);
	cp.tree_size = 5;
	note = ledger_checkpoint_sign(&cp, log);
	REQUIRE(note != NULL);
	body_len = strstr(note, "\n\n") - note + 1;
	REQUIRE(ledger_cosignature_sign(w, note, body_len, 1234, &line) == 0);
	cosigned = xasprintf("%s%s", note, line);
	keys[0] = *ledger_signer_verifier(log);
	keys[1] = *ledger_signer_verifier(w);
	CHECK_INT(ledger_note_verify(cosigned, strlen(cosigned), keys, 2, NULL), 0);
	free(cosigned);
	/* A witness line whose timestamp was changed: a bad known line. */
	{
		char *bad = tamper(line, 11);

		cosigned = xasprintf("%s%s", note, bad);
		CHECK_INT(ledger_note_verify(cosigned, strlen(cosigned), keys,
		    2, NULL), LEDGER_EVERIFY);
		free(cosigned);
		free(bad);
	}
	/* Timestamp 0 or 2^63 in a known line: refused, signed or not. */
	{
		char *zero = with_time(line, 0);
		char *big = with_time(line, LEDGER_COSIG_TIME_MAX + 1);

		cosigned = xasprintf("%s%s", note, zero);
		CHECK_INT(ledger_note_verify(cosigned, strlen(cosigned), keys,
		    2, NULL), LEDGER_EVERIFY);
		free(cosigned);
		cosigned = xasprintf("%s%s", note, big);
		CHECK_INT(ledger_note_verify(cosigned, strlen(cosigned), keys,
		    2, NULL), LEDGER_EVERIFY);
		free(cosigned);
		free(zero);
		free(big);
	}
	free(line);
	free(note);
	ledger_signer_free(w);
	ledger_signer_free(log);
}

static void
test_accept(void)
{
	struct ledger_signer *w = make_signer(WITNESS, LEDGER_SIGTYPE_COSIGNATURE, 3);
	struct ledger_signer *other = make_signer("witness.example.org/other",
	    LEDGER_SIGTYPE_COSIGNATURE, 4);
	struct ledger_signer *log = make_signer(ORIGIN, LEDGER_SIGTYPE_ED25519, 1);
	const struct ledger_verifier *v = ledger_signer_verifier(w);
	char *mine = NULL, *mine2 = NULL, *theirs = NULL, *answer, *kept = NULL;
	char *logline;
	uint64_t t = 0;

	REQUIRE(ledger_cosignature_sign(w, BODY, strlen(BODY), 100, &mine) == 0);
	REQUIRE(ledger_cosignature_sign(w, BODY, strlen(BODY), 200, &mine2) == 0);
	REQUIRE(ledger_cosignature_sign(other, BODY, strlen(BODY), 100,
	    &theirs) == 0);
	logline = ledger_note_sign(log, BODY, strlen(BODY));
	REQUIRE(logline != NULL);

	answer = xasprintf("%s%s%s%s", theirs, mine, logline, mine2);
	CHECK_INT(ledger_cosignature_accept(answer, strlen(answer), BODY,
	    strlen(BODY), v, &kept, &t), 0);
	{
		char *want = xasprintf("%s%s", mine, mine2);
		CHECK_STR(kept, want);
		free(want);
	}
	CHECK_INT(t, 200);
	free(kept);
	kept = NULL;
	free(answer);

	/* Only other keys' lines. */
	answer = xasprintf("%s", theirs);
	CHECK_INT(ledger_cosignature_accept(answer, strlen(answer), BODY,
	    strlen(BODY), v, &kept, NULL), LEDGER_ENOTFOUND);
	free(answer);
	/* A bad line by this key. */
	answer = tamper(mine, 40);
	CHECK_INT(ledger_cosignature_accept(answer, strlen(answer), BODY,
	    strlen(BODY), v, &kept, NULL), LEDGER_EVERIFY);
	free(answer);
	/* A changed timestamp by this key. */
	answer = tamper(mine, 11);
	CHECK_INT(ledger_cosignature_accept(answer, strlen(answer), BODY,
	    strlen(BODY), v, &kept, NULL), LEDGER_EVERIFY);
	free(answer);
	/* Over another body. */
	CHECK_INT(ledger_cosignature_accept(mine, strlen(mine), ORIGIN "\n6\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", strlen(BODY), v,
	    &kept, NULL), LEDGER_EVERIFY);
	/* Not signature lines. */
	CHECK_INT(ledger_cosignature_accept("hello\n", 6, BODY, strlen(BODY), v,
	    &kept, NULL), LEDGER_EINVAL);
	CHECK_INT(ledger_cosignature_accept(mine, strlen(mine) - 1, BODY,
	    strlen(BODY), v, &kept, NULL), LEDGER_EINVAL);
	answer = xasprintf("%s\n%s", mine, mine2);
	CHECK_INT(ledger_cosignature_accept(answer, strlen(answer), BODY,
	    strlen(BODY), v, &kept, NULL), LEDGER_EINVAL);
	free(answer);
	CHECK_INT(ledger_cosignature_accept("", 0, BODY, strlen(BODY), v, &kept,
	    NULL), LEDGER_EINVAL);
	CHECK(kept == NULL);
	free(mine);
	free(mine2);
	free(theirs);
	free(logline);
	ledger_signer_free(w);
	ledger_signer_free(other);
	ledger_signer_free(log);
}

/*
 * emit: vectors for the independent check, one a line:
 *	<seed hex> <name> <timestamp> <base64 body> <vkey> <skey> <line base64>
 */
static int
emit(void)
{
	static const struct {
		const char *name;
		uint8_t fill;
		uint64_t t;
		const char *body;
	} vec[] = {
		{ WITNESS, 3, 1, BODY },
		{ "w", 0, 1700000000, "example.com/behind-the-sofa\n20852163\n"
		    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n" },
		{ "witness.example.org/\xc3\xa9", 0xff, LEDGER_COSIG_TIME_MAX,
		    ORIGIN "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
		    "ext line\n" },
	};
	size_t i, j;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct ledger_signer *s = make_signer(vec[i].name,
		    LEDGER_SIGTYPE_COSIGNATURE, vec[i].fill);
		char body_b64[LEDGER_B64_LEN(256) + 1];
		char line_b64[LEDGER_B64_LEN(512) + 1];
		char *vk, *sk, *line = NULL;

		if (ledger_cosignature_sign(s, vec[i].body, strlen(vec[i].body),
		    vec[i].t, &line) != 0)
			return 1;
		vk = ledger_verifier_format(ledger_signer_verifier(s));
		sk = ledger_signer_format(s);
		ledger_b64_encode((const uint8_t *)vec[i].body,
		    strlen(vec[i].body), body_b64);
		ledger_b64_encode((const uint8_t *)line, strlen(line), line_b64);
		for (j = 0; j < LEDGER_ED25519_LEN; j++)
			printf("%02x", vec[i].fill);
		printf(" %s %" PRIu64 " %s %s %s %s\n", vec[i].name, vec[i].t,
		    body_b64, vk, sk, line_b64);
		free(vk);
		free(sk);
		free(line);
		ledger_signer_free(s);
	}
	return 0;
}

/* verify VKEY BODY_B64 LINE: 0 when the line verifies over the body. */
static int
verify_mode(const char *vkey, const char *body_b64, const char *line)
{
	struct ledger_verifier v;
	struct ledger_cosignature c;
	uint8_t body[4096];
	size_t n;

	if (ledger_verifier_parse(vkey, &v) != 0 ||
	    ledger_b64_decode(body_b64, strlen(body_b64), body, sizeof(body),
	    &n) != 0 || ledger_cosignature_parse(line, strlen(line), &c) != 0)
		return 2;
	return ledger_cosignature_verify(&v, &c, (const char *)body, n) == 0 ?
	    0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "emit") == 0)
		return emit();
	if (argc == 5 && strcmp(argv[1], "verify") == 0)
		return verify_mode(argv[2], argv[3], argv[4]);
	RUN(test_witness_key_forms);
	RUN(test_message);
	RUN(test_sign_parse_verify);
	RUN(test_parse_refusals);
	RUN(test_note_verify_cosigned);
	RUN(test_accept);
	return TEST_SUMMARY();
}
