/* Tests of the C2SP signed-note keys, signing and verification. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

/* The published vector of the C2SP signed-note specification. */
#define PN_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PN_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PN_TEXT "If you think cryptography is the answer to your problem,\n" \
	"then you don't know what your problem is.\n"
#define PN_SIG_B64 "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
#define DASH "\xe2\x80\x94 "
#define PN_SIGLINE DASH "PeterNeumann " PN_SIG_B64 "\n"
#define PN_NOTE PN_TEXT "\n" PN_SIGLINE

static struct ledger_verifier pn;

static int
verify_str(const char *note)
{
	return ledger_note_verify(note, strlen(note), &pn, 1, NULL);
}

static void
test_verifier_parse_format(void)
{
	char *s;

	REQUIRE(ledger_verifier_parse(PN_VKEY, &pn) == 0);
	CHECK_STR(pn.name, "PeterNeumann");
	CHECK_INT(pn.type, LEDGER_SIGTYPE_ED25519);
	CHECK_INT(pn.key_id, 0xc74f20a3);
	CHECK_INT(ledger_key_id(pn.name, pn.type, pn.public_key), 0xc74f20a3);
	s = ledger_verifier_format(&pn);
	CHECK_STR(s, PN_VKEY);
	free(s);
}

static void
test_verifier_parse_rejects(void)
{
	struct ledger_verifier v;
	static const char *bad[] = {
		"",
		"PeterNeumann",
		"PeterNeumann+c74f20a3",
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ",
		" PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		/* type 0x02 with the same key */
		"PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ledger_verifier_parse(bad[i], &v) != LEDGER_EINVAL) {
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
}

static void
test_signer_vector(void)
{
	struct ledger_signer *s = NULL;
	const struct ledger_verifier *v;
	char *line, *text, *vk;

	REQUIRE(ledger_signer_parse(PN_SKEY, &s) == 0);
	v = ledger_signer_verifier(s);
	vk = ledger_verifier_format(v);
	CHECK_STR(vk, PN_VKEY);
	free(vk);
	line = ledger_note_sign(s, PN_TEXT, strlen(PN_TEXT));
	CHECK_STR(line, PN_SIGLINE);
	free(line);
	text = ledger_signer_format(s);
	CHECK_STR(text, PN_SKEY);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	/* Not note text: no final newline, a control character. */
	CHECK(ledger_note_sign(s, "abc", 3) == NULL);
	CHECK(ledger_note_sign(s, "a\tb\n", 4) == NULL);
	CHECK(ledger_note_sign(s, "", 0) == NULL);
	ledger_signer_free(s);

	CHECK_INT(ledger_signer_parse(PN_VKEY, &s), LEDGER_EINVAL);
	CHECK_INT(ledger_signer_parse(
	    "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
	    &s), LEDGER_EINVAL);
	CHECK_INT(ledger_signer_parse(
	    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
	    &s), LEDGER_EINVAL);
}

static void
test_verify_vector(void)
{
	size_t text_len = 0;

	CHECK_INT(ledger_note_verify(PN_NOTE, strlen(PN_NOTE), &pn, 1,
	    &text_len), 0);
	CHECK_INT(text_len, strlen(PN_TEXT));
}

static void
test_verify_altered_text(void)
{
	char *note = xstrdup(PN_NOTE);

	note[3] ^= 0x20;	/* "you" -> "yOu" */
	CHECK_INT(verify_str(note), LEDGER_EVERIFY);
	free(note);
	CHECK_INT(verify_str("If you think cryptography is the answer to your problem,\n"
	    "then you don't know what your problem is!\n\n" PN_SIGLINE),
	    LEDGER_EVERIFY);
	/* An extra line of text. */
	CHECK_INT(verify_str(PN_TEXT "x\n\n" PN_SIGLINE), LEDGER_EVERIFY);
}

/*
 * Every byte of the signature blob, flipped: a flipped key ID makes the line
 * unknown (EVERIFY for want of a known signature), a flipped signature
 * fails it.  Both through the note and the base64.
 */
static void
test_verify_altered_signature(void)
{
	uint8_t blob[68], mod[68];
	char b64[LEDGER_B64_LEN(68) + 1];
	size_t n, i;
	int bit, bad = 0;

	REQUIRE(ledger_b64_decode(PN_SIG_B64, strlen(PN_SIG_B64), blob,
	    sizeof(blob), &n) == 0 && n == 68);
	for (i = 0; i < 68; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			char *note;

			memcpy(mod, blob, sizeof(blob));
			mod[i] ^= (uint8_t)(1 << bit);
			ledger_b64_encode(mod, sizeof(mod), b64);
			note = xasprintf("%s\n" DASH "PeterNeumann %s\n",
			    PN_TEXT, b64);
			if (verify_str(note) != LEDGER_EVERIFY)
				bad++;
			free(note);
		}
	}
	CHECK_INT(bad, 0);
	/* A truncated and an extended blob from the known key. */
	ledger_b64_encode(blob, 67, b64);
	{
		char *note = xasprintf("%s\n" DASH "PeterNeumann %s\n",
		    PN_TEXT, b64);
		CHECK_INT(verify_str(note), LEDGER_EVERIFY);
		free(note);
	}
}

static void
test_verify_wrong_key(void)
{
	struct ledger_verifier v = pn;

	/* Same name, another key ID: the line is from an unknown key. */
	v.key_id ^= 1;
	CHECK_INT(ledger_note_verify(PN_NOTE, strlen(PN_NOTE), &v, 1, NULL),
	    LEDGER_EVERIFY);
	/* Same name and ID, another public key: a bad known signature. */
	v = pn;
	v.public_key[0] ^= 1;
	CHECK_INT(ledger_note_verify(PN_NOTE, strlen(PN_NOTE), &v, 1, NULL),
	    LEDGER_EVERIFY);
	/* No verifiers at all. */
	CHECK_INT(ledger_note_verify(PN_NOTE, strlen(PN_NOTE), NULL, 0, NULL),
	    LEDGER_EVERIFY);
}

static void
test_verify_malformed(void)
{
	/* No blank line. */
	CHECK_INT(verify_str(PN_TEXT PN_SIGLINE), LEDGER_EINVAL);
	/* No final newline. */
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann " PN_SIG_B64),
	    LEDGER_EINVAL);
	/* Text without a final newline is impossible by construction; a
	 * blank line after the signatures, a missing signature block. */
	CHECK_INT(verify_str(PN_NOTE "\n"), LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n"), LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT), LEDGER_EINVAL);
	CHECK_INT(verify_str(""), LEDGER_EINVAL);
	/* Hyphen or en dash instead of the em dash, no space after it. */
	CHECK_INT(verify_str(PN_TEXT "\n- PeterNeumann " PN_SIG_B64 "\n"),
	    LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n\xe2\x80\x93 PeterNeumann " PN_SIG_B64
	    "\n"), LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n\xe2\x80\x94PeterNeumann " PN_SIG_B64
	    "\n"), LEDGER_EINVAL);
	/* Two spaces, trailing space, CR. */
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann  " PN_SIG_B64
	    "\n"), LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_NOTE " \n"), LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann " PN_SIG_B64
	    "\r\n"), LEDGER_EINVAL);
	/* Control character and invalid UTF-8 in the text. */
	CHECK_INT(verify_str("a\tb\n\n" PN_SIGLINE), LEDGER_EINVAL);
	CHECK_INT(verify_str("a\x7f\n\n" PN_SIGLINE), LEDGER_EINVAL);
	CHECK_INT(verify_str("a\xff\n\n" PN_SIGLINE), LEDGER_EINVAL);
	CHECK_INT(verify_str("a\xc0\xafz\n\n" PN_SIGLINE), LEDGER_EINVAL);
	/* Too short a blob, bad base64. */
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann AAAA\n"),
	    LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann " "!x08go\n"),
	    LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann\n"),
	    LEDGER_EINVAL);
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "PeterNeumann \n"),
	    LEDGER_EINVAL);
	/* A name with '+'. */
	CHECK_INT(verify_str(PN_TEXT "\n" DASH "Peter+Neumann " PN_SIG_B64
	    "\n"), LEDGER_EINVAL);
}

static void
test_text_with_blank_lines(void)
{
	struct ledger_signer *s = NULL;
	const char *text = "a\n\nb\n";
	char *line, *note;
	struct ledger_verifier v;
	size_t tl = 0;

	REQUIRE(ledger_signer_parse(PN_SKEY, &s) == 0);
	v = *ledger_signer_verifier(s);
	line = ledger_note_sign(s, text, strlen(text));
	REQUIRE(line != NULL);
	note = xasprintf("%s\n%s", text, line);
	CHECK_INT(ledger_note_verify(note, strlen(note), &v, 1, &tl), 0);
	CHECK_INT(tl, strlen(text));
	free(note);
	free(line);
	ledger_signer_free(s);
}

/* Lines of unknown keys and unknown types are skipped. */
static void
test_unknown_lines(void)
{
	uint8_t big[2424];
	char *b64 = xmalloc(LEDGER_B64_LEN(sizeof(big)) + 1);
	char small[LEDGER_B64_LEN(68) + 1];
	char *note;
	size_t i, n, nsigs, tl;
	struct ledger_note_sig sigs[8];

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	/* An Ed25519-sized line of another key. */
	ledger_b64_encode(big, 68, small);
	/* An ML-DSA-44-sized line (type 0x06 in the registry). */
	ledger_b64_encode(big, sizeof(big), b64);
	note = xasprintf("%s\n"
	    DASH "other.example/log %s\n"
	    "%s"
	    DASH "mldsa.example %s\n"
	    DASH "PeterNeumann AAAAAAECAwQ=\n",
	    PN_TEXT, small, PN_SIGLINE, b64);
	CHECK_INT(verify_str(note), 0);
	CHECK_INT(ledger_note_split(note, strlen(note), sigs, 8, &nsigs, &tl),
	    0);
	CHECK_INT(nsigs, 4);
	CHECK_INT(tl, strlen(PN_TEXT));
	CHECK_INT(sigs[2].name_len, strlen("mldsa.example"));
	CHECK(memcmp(sigs[2].name, "mldsa.example", sigs[2].name_len) == 0);
	CHECK_INT(sigs[2].blob_len, sizeof(sigs[2].blob));
	CHECK_MEM(sigs[2].blob, big, sizeof(sigs[2].blob));
	CHECK_INT(sigs[1].blob_len, 68);
	CHECK_INT(sigs[3].blob_len, 8);
	/* split refuses more lines than its caller has room for */
	CHECK_INT(ledger_note_split(note, strlen(note), sigs, 3, &n, &tl),
	    LEDGER_ETOOBIG);
	free(note);

	/* Only unknown keys: no known signature. */
	note = xasprintf("%s\n" DASH "Someone %s\n", PN_TEXT, PN_SIG_B64);
	CHECK_INT(verify_str(note), LEDGER_EVERIFY);
	free(note);
	free(b64);
}

static char *
note_with_lines(size_t extra)
{
	size_t i;
	char *note, *next;

	note = xstrdup(PN_NOTE);
	for (i = 0; i < extra; i++) {
		next = xasprintf("%s" DASH "witness%zu.example AAAAAAECAwQF\n",
		    note, i);
		free(note);
		note = next;
	}
	return note;
}

static void
test_many_signatures(void)
{
	char *note;

	note = note_with_lines(15);	/* 16 lines */
	CHECK_INT(verify_str(note), 0);
	free(note);
	note = note_with_lines(99);	/* 100 lines */
	CHECK_INT(verify_str(note), 0);
	free(note);
	note = note_with_lines(100);	/* 101 lines */
	CHECK_INT(verify_str(note), LEDGER_EINVAL);
	free(note);
}

/* A known cosignature line is checked, and does not replace the log's. */
static void
test_cosignature(void)
{
	static const uint8_t seed[32] = { 7 };
	struct ledger_signer *w = NULL;
	struct ledger_verifier v[2];
	uint8_t blob[76], sig[64];
	char b64[LEDGER_B64_LEN(76) + 1], *msg, *note;
	const uint64_t t = 1700000000;
	int i;

	REQUIRE(ledger_signer_from_seed("witness.example", LEDGER_SIGTYPE_COSIGNATURE,
	    seed, &w) == 0);
	v[0] = pn;
	v[1] = *ledger_signer_verifier(w);
	msg = xasprintf("cosignature/v1\ntime %llu\n%s", (unsigned long long)t,
	    PN_TEXT);
	REQUIRE(ledger_ed25519_sign(w, msg, strlen(msg), sig) == 0);
	free(msg);
	for (i = 0; i < 4; i++)
		blob[i] = (uint8_t)(v[1].key_id >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		blob[4 + i] = (uint8_t)(t >> (56 - 8 * i));
	memcpy(blob + 12, sig, 64);
	ledger_b64_encode(blob, sizeof(blob), b64);

	note = xasprintf("%s" DASH "witness.example %s\n", PN_NOTE, b64);
	CHECK_INT(ledger_note_verify(note, strlen(note), v, 2, NULL), 0);
	free(note);
	/* The cosignature alone is not enough. */
	note = xasprintf("%s\n" DASH "witness.example %s\n", PN_TEXT, b64);
	CHECK_INT(ledger_note_verify(note, strlen(note), v, 2, NULL),
	    LEDGER_EVERIFY);
	free(note);
	/* Another timestamp breaks it. */
	blob[11] ^= 1;
	ledger_b64_encode(blob, sizeof(blob), b64);
	note = xasprintf("%s" DASH "witness.example %s\n", PN_NOTE, b64);
	CHECK_INT(ledger_note_verify(note, strlen(note), v, 2, NULL),
	    LEDGER_EVERIFY);
	free(note);
	/* A cosignature key does not sign notes. */
	CHECK(ledger_note_sign(w, PN_TEXT, strlen(PN_TEXT)) == NULL);
	ledger_signer_free(w);
}

static void
test_key_names(void)
{
	static const uint8_t seed[32] = { 1, 2, 3 };
	struct ledger_signer *s = NULL;
	char longname[LEDGER_KEY_NAME_MAX + 2];

	CHECK(ledger_key_name_valid("PeterNeumann"));
	CHECK(ledger_key_name_valid("ledger.example.org/ct-box"));
	CHECK(ledger_key_name_valid("caf\xc3\xa9"));
	CHECK(!ledger_key_name_valid(""));
	CHECK(!ledger_key_name_valid(NULL));
	CHECK(!ledger_key_name_valid("a b"));
	CHECK(!ledger_key_name_valid("a+b"));
	CHECK(!ledger_key_name_valid("a\tb"));
	CHECK(!ledger_key_name_valid("a\nb"));
	CHECK(!ledger_key_name_valid("a\xc2\xa0" "b"));	/* no-break space */
	CHECK(!ledger_key_name_valid("a\xe3\x80\x80" "b"));	/* ideographic sp */
	CHECK(!ledger_key_name_valid("a\xff"));
	memset(longname, 'a', sizeof(longname));
	longname[LEDGER_KEY_NAME_MAX] = '\0';
	CHECK(ledger_key_name_valid(longname));
	longname[LEDGER_KEY_NAME_MAX] = 'a';
	longname[LEDGER_KEY_NAME_MAX + 1] = '\0';
	CHECK(!ledger_key_name_valid(longname));

	CHECK_INT(ledger_signer_from_seed("", 1, seed, &s), LEDGER_EINVAL);
	CHECK_INT(ledger_signer_from_seed("a b", 1, seed, &s), LEDGER_EINVAL);
	CHECK_INT(ledger_signer_from_seed("a+b", 1, seed, &s), LEDGER_EINVAL);
	CHECK_INT(ledger_signer_from_seed("ab", 2, seed, &s), LEDGER_EINVAL);
}

/* Keys from a seed round-trip through their text forms. */
static void
test_signer_roundtrip(void)
{
	uint8_t seed[32];
	struct ledger_signer *s = NULL, *s2 = NULL;
	struct ledger_verifier v;
	char *sk, *vk, *line, *note;
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i * 7 + 1);
	REQUIRE(ledger_signer_from_seed("ledger.example.org/ct-box",
	    LEDGER_SIGTYPE_ED25519, seed, &s) == 0);
	sk = ledger_signer_format(s);
	REQUIRE(sk != NULL);
	CHECK(strncmp(sk, "PRIVATE+KEY+ledger.example.org/ct-box+", 38) == 0);
	CHECK_INT(ledger_signer_parse(sk, &s2), 0);
	vk = ledger_verifier_format(ledger_signer_verifier(s));
	CHECK_INT(ledger_verifier_parse(vk, &v), 0);
	CHECK(memcmp(&v, ledger_signer_verifier(s2), sizeof(v)) == 0);
	line = ledger_note_sign(s2, "hello\n", 6);
	REQUIRE(line != NULL);
	note = xasprintf("hello\n\n%s", line);
	CHECK_INT(ledger_note_verify(note, strlen(note), &v, 1, NULL), 0);
	free(note);
	free(line);
	free(vk);
	OPENSSL_cleanse(sk, strlen(sk));
	free(sk);
	ledger_signer_free(s);
	ledger_signer_free(s2);
	ledger_signer_free(NULL);
}

int
main(void)
{
	RUN(test_verifier_parse_format);
	RUN(test_verifier_parse_rejects);
	RUN(test_signer_vector);
	RUN(test_verify_vector);
	RUN(test_verify_altered_text);
	RUN(test_verify_altered_signature);
	RUN(test_verify_wrong_key);
	RUN(test_verify_malformed);
	RUN(test_text_with_blank_lines);
	RUN(test_unknown_lines);
	RUN(test_many_signatures);
	RUN(test_cosignature);
	RUN(test_key_names);
	RUN(test_signer_roundtrip);
	return TEST_SUMMARY();
}
