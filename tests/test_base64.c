/* Tests of the base64 encoders and the strict decoder. */
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "testlib.h"

/* RFC 4648 §10. */
static const struct {
	const char *raw, *std, *url;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static int
decode_str(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	return ledger_b64_decode(s, strlen(s), out, cap, n);
}

static void
test_rfc4648_vectors(void)
{
	char out[16];
	uint8_t raw[16];
	size_t i, n, len;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		len = strlen(vectors[i].raw);
		CHECK_INT(ledger_b64_encode((const uint8_t *)vectors[i].raw,
		    len, out), strlen(vectors[i].std));
		CHECK_STR(out, vectors[i].std);
		CHECK_INT(LEDGER_B64_LEN(len), strlen(vectors[i].std));
		CHECK_INT(ledger_b64url_encode((const uint8_t *)vectors[i].raw,
		    len, out), strlen(vectors[i].url));
		CHECK_STR(out, vectors[i].url);
		n = 99;
		CHECK_INT(decode_str(vectors[i].std, raw, sizeof(raw), &n), 0);
		CHECK_INT(n, len);
		CHECK_MEM(raw, vectors[i].raw, len);
	}
}

static void
test_url_alphabet(void)
{
	static const uint8_t raw[] = { 0xfb, 0xff, 0xbf };
	char out[8];

	ledger_b64_encode(raw, sizeof(raw), out);
	CHECK_STR(out, "+/+/");
	ledger_b64url_encode(raw, sizeof(raw), out);
	CHECK_STR(out, "-_-_");
}

static void
test_decode_rejects(void)
{
	static const char *bad[] = {
		"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg=",		/* length */
		"Zg==Zg==", "Zm==Zm9v", "Z=g=", "=Zg=", "Zm=v",	/* '=' */
		"====", "Z===", "Zm9v====",
		"Zh==", "Zm9=", "Zm/=", "Zm9vYh==", "Zm9vYmF=",	/* bits */
		"Zm9v\n", "Zm 9v", " Zm9v", "Zm9v ", "Zm9\n",	/* chars */
		"Zm9-", "Zm9_", "Zm9*", "Zm\xc3\xa9",
	};
	uint8_t out[16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decode_str(bad[i], out, sizeof(out), &n) != LEDGER_EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
	/* Canonical neighbours of the non-canonical ones decode. */
	CHECK_INT(decode_str("Zg==", out, sizeof(out), &n), 0);
	CHECK_INT(decode_str("Zm8=", out, sizeof(out), &n), 0);
	/* A NUL inside the given length is a bad character. */
	CHECK_INT(ledger_b64_decode("Zm\0v", 4, out, sizeof(out), &n),
	    LEDGER_EINVAL);
}

static void
test_decode_capacity(void)
{
	uint8_t out[6];
	size_t n;

	CHECK_INT(decode_str("Zm9vYmFy", out, 6, &n), 0);
	CHECK_INT(n, 6);
	CHECK_INT(decode_str("Zm9vYmFy", out, 5, &n), LEDGER_ETOOBIG);
	CHECK_INT(decode_str("Zm9vYmE=", out, 5, &n), 0);
	CHECK_INT(n, 5);
	CHECK_INT(decode_str("Zm9vYmE=", out, 4, &n), LEDGER_ETOOBIG);
	CHECK_INT(decode_str("Zm9vYg==", out, 4, &n), 0);
	CHECK_INT(n, 4);
	CHECK_INT(decode_str("", NULL, 0, &n), 0);
	CHECK_INT(n, 0);
}

/* Random bytes of every length 0..200 encode and decode to themselves. */
static void
test_roundtrip(void)
{
	uint8_t raw[200], back[200];
	char enc[LEDGER_B64_LEN(200) + 1], url[LEDGER_B64_LEN(200) + 1];
	size_t len, i, n, elen;
	int bad = 0;

	srand(4648);
	for (len = 0; len <= sizeof(raw); len++) {
		for (i = 0; i < len; i++)
			raw[i] = (uint8_t)rand();
		elen = ledger_b64_encode(raw, len, enc);
		if (elen != LEDGER_B64_LEN(len) || strlen(enc) != elen)
			bad++;
		if (ledger_b64_decode(enc, elen, back, len, &n) != 0 ||
		    n != len || memcmp(raw, back, len) != 0)
			bad++;
		/* URL form: same text with -_ for +/ and no padding. */
		ledger_b64url_encode(raw, len, url);
		for (i = 0; i < elen && enc[i] != '='; i++) {
			char c = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' :
			    enc[i];
			if (url[i] != c)
				bad++;
		}
		if (strlen(url) != i)
			bad++;
	}
	CHECK_INT(bad, 0);
}

int
main(void)
{
	RUN(test_rfc4648_vectors);
	RUN(test_url_alphabet);
	RUN(test_decode_rejects);
	RUN(test_decode_capacity);
	RUN(test_roundtrip);
	return TEST_SUMMARY();
}
