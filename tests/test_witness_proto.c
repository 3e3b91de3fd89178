/*
 * Tests of the C2SP tlog-witness wire formats: the add-checkpoint body and
 * the text/x.tlog.size body.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/error.h"
#include "ledger/witness_proto.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

/* The example request of the tlog-witness specification. */
#define SPEC_BODY							\
	"old 20852014\n"						\
	"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"		\
	"jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"		\
	"5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"		\
	"/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"		\
	"\n"								\
	SPEC_CHECKPOINT
#define SPEC_CHECKPOINT							\
	"example.com/behind-the-sofa\n"					\
	"20852163\n"							\
	"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"		\
	"\n"								\
	"\xe2\x80\x94 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" \
	"\xe2\x80\x94 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"

static void
test_parse_spec_example(void)
{
	struct ledger_add_checkpoint *req = xcalloc(1, sizeof(*req));
	uint8_t h[LEDGER_HASH_LEN];
	size_t n;

	REQUIRE(ledger_add_checkpoint_parse(SPEC_BODY, strlen(SPEC_BODY),
	    req) == 0);
	CHECK_INT(req->old_size, 20852014);
	CHECK_INT(req->n_proof, 4);
	REQUIRE(ledger_b64_decode("/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
	    44, h, sizeof(h), &n) == 0);
	CHECK_MEM(req->proof[3], h, LEDGER_HASH_LEN);
	CHECK_INT(req->checkpoint_len, strlen(SPEC_CHECKPOINT));
	CHECK_MEM(req->checkpoint, SPEC_CHECKPOINT, req->checkpoint_len);
	free(req);
}

static void
test_format_roundtrip(void)
{
	struct ledger_add_checkpoint *req = xcalloc(1, sizeof(*req));
	uint8_t proof[LEDGER_WITNESS_MAX_PROOF + 1][LEDGER_HASH_LEN];
	char *body;
	size_t len, i, n;

	/* The spec's example, formatted from its parts, is the same bytes. */
	REQUIRE(ledger_add_checkpoint_parse(SPEC_BODY, strlen(SPEC_BODY),
	    req) == 0);
	body = ledger_add_checkpoint_format(req->old_size,
	    (const uint8_t (*)[LEDGER_HASH_LEN])req->proof, req->n_proof,
	    SPEC_CHECKPOINT, strlen(SPEC_CHECKPOINT), &len);
	REQUIRE(body != NULL);
	CHECK_INT(len, strlen(SPEC_BODY));
	CHECK_STR(body, SPEC_BODY);
	free(body);

	for (i = 0; i < LEDGER_WITNESS_MAX_PROOF + 1; i++)
		memset(proof[i], (int)i, LEDGER_HASH_LEN);
	for (n = 0; n <= LEDGER_WITNESS_MAX_PROOF; n++) {
		body = ledger_add_checkpoint_format(n * 1000, proof, n,
		    SPEC_CHECKPOINT, strlen(SPEC_CHECKPOINT), &len);
		REQUIRE(body != NULL);
		CHECK_INT(ledger_add_checkpoint_parse(body, len, req), 0);
		CHECK_INT(req->old_size, n * 1000);
		CHECK_INT(req->n_proof, n);
		if (n > 0)
			CHECK_MEM(req->proof[n - 1], proof[n - 1], LEDGER_HASH_LEN);
		free(body);
	}
	/* 64 proof hashes: refused both ways. */
	CHECK(ledger_add_checkpoint_format(0, proof, 64, SPEC_CHECKPOINT,
	    strlen(SPEC_CHECKPOINT), &len) == NULL);
	body = xstrdup("old 5\n");
	for (i = 0; i < 64; i++) {
		char *next = xasprintf("%sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		    body);
		free(body);
		body = next;
	}
	{
		char *full = xasprintf("%s\n%s", body, SPEC_CHECKPOINT);
		CHECK_INT(ledger_add_checkpoint_parse(full, strlen(full), req),
		    LEDGER_ETOOBIG);
		free(full);
	}
	free(body);
	CHECK(ledger_add_checkpoint_format(0, proof, 0, "x", 1, &len) == NULL);
	CHECK(ledger_add_checkpoint_format(0, proof, 0, "", 0, &len) == NULL);
	free(req);
}

static void
test_parse_refusals(void)
{
	struct ledger_add_checkpoint *req = xcalloc(1, sizeof(*req));
	static const char *bad[] = {
		"",
		"\n",
		"old 5",
		"old 5\n",
		"old 5\n\n",			/* no checkpoint */
		"old 05\n\nc\n",		/* leading zero */
		"old -1\n\nc\n",
		"old +1\n\nc\n",
		"old  5\n\nc\n",
		"old 5 \n\nc\n",
		"Old 5\n\nc\n",
		"old\n\nc\n",
		"old \n\nc\n",
		"old 18446744073709551616\n\nc\n",	/* 2^64 */
		"old 5\r\n\nc\n",
		"new 5\n\nc\n",
		"old 5\nAAAA\n\nc\n",		/* not 32 bytes */
		"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\nc\n", /* no pad */
		"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nc\n", /* bits */
		"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\nc\n",
		"old 5\n AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nc\n",
		"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ledger_add_checkpoint_parse(bad[i], strlen(bad[i]), req) !=
		    LEDGER_EINVAL) {
			fprintf(stderr, "  accepted case %zu\n", i);
			CHECK(0);
		}
	/* The largest size and size 0 parse. */
	CHECK_INT(ledger_add_checkpoint_parse("old 18446744073709551615\n\nc\n",
	    28, req), 0);
	CHECK(req->old_size == UINT64_MAX);
	CHECK_INT(ledger_add_checkpoint_parse("old 0\n\nc\n", 9, req), 0);
	CHECK_INT(req->old_size, 0);
	CHECK_INT(req->n_proof, 0);
	CHECK_INT(req->checkpoint_len, 2);
	free(req);
}

static void
test_tlog_size(void)
{
	uint64_t n = 7;
	char *s;

	s = ledger_tlog_size_format(0);
	CHECK_STR(s, "0\n");
	free(s);
	s = ledger_tlog_size_format(UINT64_MAX);
	CHECK_STR(s, "18446744073709551615\n");
	CHECK_INT(ledger_tlog_size_parse(s, strlen(s), &n), 0);
	CHECK(n == UINT64_MAX);
	free(s);
	CHECK_INT(ledger_tlog_size_parse("42\n", 3, &n), 0);
	CHECK_INT(n, 42);
	CHECK_INT(ledger_tlog_size_parse("42", 2, &n), LEDGER_EINVAL);
	CHECK_INT(ledger_tlog_size_parse("042\n", 4, &n), LEDGER_EINVAL);
	CHECK_INT(ledger_tlog_size_parse("\n", 1, &n), LEDGER_EINVAL);
	CHECK_INT(ledger_tlog_size_parse("4 2\n", 4, &n), LEDGER_EINVAL);
	CHECK_INT(ledger_tlog_size_parse("42\n\n", 4, &n), LEDGER_EINVAL);
	CHECK_INT(ledger_tlog_size_parse("", 0, &n), LEDGER_EINVAL);
	CHECK_STR(LEDGER_TLOG_SIZE_TYPE, "text/x.tlog.size");
}

int
main(void)
{
	RUN(test_parse_spec_example);
	RUN(test_format_roundtrip);
	RUN(test_parse_refusals);
	RUN(test_tlog_size);
	return TEST_SUMMARY();
}
