/*
 * Tests of C2SP tlog-policy: parsing (every refusal with its line number),
 * quorum evaluation exhaustively over small policies against a naive
 * recursive reference, and verifying real cosigned checkpoints.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

#define ORIGIN "ledger.example.org/ct-box"
#define NW 6

static struct ledger_signer *log_signer, *log2_signer, *wit[NW], *stranger;
static char *log_vkey, *log2_vkey, *wit_vkey[NW];

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
setup(void)
{
	char name[64];
	int i;

	log_signer = make_signer(ORIGIN, LEDGER_SIGTYPE_ED25519, 1);
	log2_signer = make_signer("ledger.example.org/other",
	    LEDGER_SIGTYPE_ED25519, 2);
	log_vkey = ledger_verifier_format(ledger_signer_verifier(log_signer));
	log2_vkey = ledger_verifier_format(ledger_signer_verifier(log2_signer));
	for (i = 0; i < NW; i++) {
		snprintf(name, sizeof(name), "witness.example.org/w%d", i);
		wit[i] = make_signer(name, LEDGER_SIGTYPE_COSIGNATURE,
		    (uint8_t)(10 + i));
		wit_vkey[i] = ledger_verifier_format(ledger_signer_verifier(wit[i]));
	}
	stranger = make_signer("witness.example.org/w0",
	    LEDGER_SIGTYPE_COSIGNATURE, 99);
}

static void
teardown(void)
{
	int i;

	ledger_signer_free(log_signer);
	ledger_signer_free(log2_signer);
	ledger_signer_free(stranger);
	free(log_vkey);
	free(log2_vkey);
	for (i = 0; i < NW; i++) {
		ledger_signer_free(wit[i]);
		free(wit_vkey[i]);
	}
}

static struct ledger_policy *
parse(const char *text, char *err, size_t errlen, int *rc)
{
	struct ledger_policy *p = NULL;

	*rc = ledger_policy_parse(text, strlen(text), &p, err, errlen);
	return p;
}

static void
test_parse_example(void)
{
	struct ledger_policy *p;
	const struct ledger_policy_witness *w;
	const struct ledger_policy_log *l;
	char err[256], *text;
	int rc;

	text = xasprintf(
	    "# the example of tlog-policy, two levels of groups\n"
	    "log %s https://ledger.example.org/\n"
	    "\n"
	    "witness X1 %s\n"
	    "  witness X2\t%s   https://x2.example/  \n"
	    "witness X3 %s\n"
	    "group X-witnesses 2 X1 X2 X3\n"
	    "\t# a comment after white space\n"
	    "witness Y1 %s\n"
	    "witness Y2 %s\n"
	    "witness Y3 %s\n"
	    "group Y-witnesses any Y1 Y2 Y3\n"
	    "group X-and-Y all X-witnesses Y-witnesses\n"
	    "quorum X-and-Y",	/* no final newline */
	    log_vkey, wit_vkey[0], wit_vkey[1], wit_vkey[2], wit_vkey[3],
	    wit_vkey[4], wit_vkey[5]);
	p = parse(text, err, sizeof(err), &rc);
	free(text);
	if (rc != 0)
		fprintf(stderr, "  %s\n", err);
	REQUIRE(rc == 0 && p != NULL);
	CHECK_INT(ledger_policy_log_count(p), 1);
	l = ledger_policy_log(p, 0);
	CHECK_STR(l->key.name, ORIGIN);
	CHECK_STR(l->url, "https://ledger.example.org/");
	CHECK(ledger_policy_find_log(p, ORIGIN) == l);
	CHECK(ledger_policy_find_log(p, "ledger.example.org/other") == NULL);
	CHECK(ledger_policy_log(p, 1) == NULL);
	CHECK_INT(ledger_policy_witness_count(p), 6);
	w = ledger_policy_witness(p, 1);
	CHECK_STR(w->name, "X2");
	CHECK_STR(w->url, "https://x2.example/");
	CHECK_STR(w->key.name, "witness.example.org/w1");
	CHECK_INT(w->key.type, LEDGER_SIGTYPE_COSIGNATURE);
	CHECK(ledger_policy_witness(p, 0)->url == NULL);
	CHECK(ledger_policy_witness(p, 6) == NULL);
	CHECK(!ledger_policy_quorum_none(p));
	{
		/* X: 2 of 3, Y: any of 3 */
		uint8_t c[6] = { 1, 1, 0, 0, 0, 1 };
		CHECK(ledger_policy_quorum_met(p, c, 6));
		c[1] = 0;
		CHECK(!ledger_policy_quorum_met(p, c, 6));
		c[2] = 1;
		CHECK(ledger_policy_quorum_met(p, c, 6));
		c[5] = 0;
		CHECK(!ledger_policy_quorum_met(p, c, 6));
		CHECK(!ledger_policy_quorum_met(p, c, 5));
	}
	ledger_policy_free(p);

	p = parse("quorum none\n", err, sizeof(err), &rc);
	REQUIRE(rc == 0);
	CHECK(ledger_policy_quorum_none(p));
	CHECK(ledger_policy_quorum_met(p, NULL, 0));
	ledger_policy_free(p);
}

/* expand - fmt with {L}, {A}, {B} replaced by the log, w0 and w1 keys. */
static char *
expand(const char *fmt)
{
	char *out = xstrdup(""), *next;
	const char *p = fmt, *sub;

	while (*p != '\0') {
		if (strncmp(p, "{L}", 3) == 0)
			sub = log_vkey;
		else if (strncmp(p, "{A}", 3) == 0)
			sub = wit_vkey[0];
		else if (strncmp(p, "{B}", 3) == 0)
			sub = wit_vkey[1];
		else
			sub = NULL;
		if (sub != NULL) {
			next = xasprintf("%s%s", out, sub);
			p += 3;
		} else {
			next = xasprintf("%s%c", out, *p);
			p++;
		}
		free(out);
		out = next;
	}
	return out;
}

/* Each malformed policy is refused, naming the line at fault. */
static void
test_parse_refusals(void)
{
	struct {
		const char *fmt;	/* {L} log, {A} w0, {B} w1 */
		const char *line;	/* the error's start */
	} bad[] = {
		{ "", "line 1: no quorum line" },
		{ "log {L}\n", "line 2: no quorum line" },
		{ "quorum none\nquorum none\n", "line 2: a second quorum line" },
		{ "quorum w\n", "line 1:" },
		{ "quorum\n", "line 1:" },
		{ "quorum none extra\n", "line 1:" },
		{ "logs {L}\nquorum none\n", "line 1: unknown keyword" },
		{ "LOG {L}\nquorum none\n", "line 1: unknown keyword" },
		{ "log\nquorum none\n", "line 1:" },
		{ "log {L} url extra\nquorum none\n", "line 1:" },
		{ "log {A}\nquorum none\n", "line 1: a log key must" },
		{ "log garbage\nquorum none\n", "line 1: malformed log key" },
		{ "log {L}\nlog {L}\nquorum none\n", "line 2:" },
		{ "witness a {L}\nquorum a\n", "line 1: a witness key must" },
		{ "witness a\nquorum none\n", "line 1:" },
		{ "witness a {A} u extra\nquorum none\n", "line 1:" },
		{ "witness a {A}\nwitness a {B}\nquorum a\n",
		    "line 2: \"a\" is already defined" },
		{ "witness a {A}\nwitness b {A}\nquorum a\n", "line 2:" },
		{ "witness none {A}\nquorum none\n", "line 1: the name \"none\"" },
		{ "witness a {A}\ngroup a any a\nquorum a\n",
		    "line 2: \"a\" is already defined" },
		{ "witness a {A}\ngroup g any b\nquorum g\n",
		    "line 2: \"b\" is not defined" },
		{ "witness a {A}\ngroup g any none\nquorum g\n",
		    "line 2: \"none\" cannot" },
		{ "witness a {A}\ngroup g any a a\nquorum g\n",
		    "line 2: \"a\" is already a group member" },
		{ "witness a {A}\ngroup g any a\ngroup h any a\nquorum h\n",
		    "line 3: \"a\" is already a group member" },
		{ "witness a {A}\ngroup g 0 a\nquorum g\n", "line 2: the threshold" },
		{ "witness a {A}\ngroup g 2 a\nquorum g\n", "line 2: the threshold" },
		{ "witness a {A}\ngroup g 01 a\nquorum g\n", "line 2: the threshold" },
		{ "witness a {A}\ngroup g -1 a\nquorum g\n", "line 2: the threshold" },
		{ "witness a {A}\ngroup g some a\nquorum g\n", "line 2: the threshold" },
		{ "witness a {A}\ngroup g any\nquorum g\n", "line 2:" },
		{ "witness a {A}\ngroup g\nquorum g\n", "line 2:" },
		/* A group may only name earlier definitions. */
		{ "group g any a\nwitness a {A}\nquorum g\n", "line 1:" },
		{ "quorum a\nwitness a {A}\n", "line 1:" },
		/* Bytes that are not allowed: CR, NUL, DEL, other controls. */
		{ "quorum none\r\n", "line 1: byte 0x0d" },
		{ "# \x01\nquorum none\n", "line 1: byte 0x01" },
		{ "quorum none\n\x7f\n", "line 2: byte 0x7f" },
		/* A comment only at the start of a line. */
		{ "quorum none # no\n", "line 1:" },
	};
	struct ledger_policy *p;
	char err[256], *text;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = expand(bad[i].fmt);
		err[0] = '\0';
		p = parse(text, err, sizeof(err), &rc);
		if (rc == 0 || p != NULL ||
		    strncmp(err, bad[i].line, strlen(bad[i].line)) != 0) {
			fprintf(stderr, "  case %zu: rc %d, \"%s\"\n", i, rc, err);
			CHECK(0);
		}
		ledger_policy_free(p);
		free(text);
	}
	/* A NUL byte inside the text (length given). */
	p = NULL;
	rc = ledger_policy_parse("quorum none\n\0\n", 14, &p, err, sizeof(err));
	CHECK_INT(rc, LEDGER_EINVAL);
	CHECK(strncmp(err, "line 2: byte 0x00", 17) == 0);
	/* err may be NULL. */
	CHECK_INT(ledger_policy_parse("x", 1, &p, NULL, 0), LEDGER_EINVAL);
}

static void
test_parse_limits(void)
{
	struct ledger_policy *p = NULL;
	char *text, *next, err[128];
	uint8_t seed[LEDGER_ED25519_LEN];
	int i, rc;

	/* 256 witnesses are accepted, the 257th is not. */
	text = xstrdup("");
	for (i = 0; i <= LEDGER_POLICY_MAX_WITNESSES; i++) {
		struct ledger_signer *s = NULL;
		char *vk;

		memset(seed, 0, sizeof(seed));
		seed[0] = (uint8_t)i;
		seed[1] = (uint8_t)(i >> 8);
		REQUIRE(ledger_signer_from_seed("w", LEDGER_SIGTYPE_COSIGNATURE,
		    seed, &s) == 0);
		vk = ledger_verifier_format(ledger_signer_verifier(s));
		next = xasprintf("%switness w%d %s\n", text, i, vk);
		free(text);
		free(vk);
		text = next;
		ledger_signer_free(s);
		if (i == LEDGER_POLICY_MAX_WITNESSES - 1) {
			next = xasprintf("%squorum w0\n", text);
			rc = ledger_policy_parse(next, strlen(next), &p, err,
			    sizeof(err));
			CHECK_INT(rc, 0);
			CHECK_INT(ledger_policy_witness_count(p), 256);
			ledger_policy_free(p);
			p = NULL;
			free(next);
		}
	}
	rc = ledger_policy_parse(text, strlen(text), &p, err, sizeof(err));
	CHECK_INT(rc, LEDGER_ETOOBIG);
	CHECK(strncmp(err, "line 257:", 9) == 0);
	free(text);
}

/*
 * A naive reference: the quorum as a tree written independently of the
 * parser, evaluated recursively.
 */
struct ref {
	int witness;		/* >= 0: a witness; -1: a group */
	int k, n;
	const struct ref *members[NW + 2];
};

static int
ref_eval(const struct ref *r, unsigned set)
{
	int i, count = 0;

	if (r->witness >= 0)
		return (set >> r->witness) & 1;
	for (i = 0; i < r->n; i++)
		count += ref_eval(r->members[i], set);
	return count >= r->k;
}

/* Checks the parsed policy against the reference on every subset. */
static int
compare_all_subsets(const char *text, int nw, const struct ref *quorum)
{
	struct ledger_policy *p = NULL;
	uint8_t c[NW];
	char err[256];
	unsigned set;
	int i, mismatches = 0;

	if (ledger_policy_parse(text, strlen(text), &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "  refused: %s\n%s", err, text);
		return 1;
	}
	for (set = 0; set < (1u << nw); set++) {
		for (i = 0; i < nw; i++)
			c[i] = (set >> i) & 1;
		if (ledger_policy_quorum_met(p, c, nw) != ref_eval(quorum, set)) {
			fprintf(stderr, "  set %x differs:\n%s", set, text);
			mismatches++;
		}
	}
	ledger_policy_free(p);
	return mismatches;
}

static char *
witness_lines(int nw)
{
	char *text = xstrdup(""), *next;
	int i;

	for (i = 0; i < nw; i++) {
		next = xasprintf("%switness w%d %s\n", text, i, wit_vkey[i]);
		free(text);
		text = next;
	}
	return text;
}

static const char *
threshold(int k, int n, int form)
{
	static char buf[16];

	if (form == 1 && k == n)
		return "all";
	if (form == 1 && k == 1)
		return "any";
	snprintf(buf, sizeof(buf), "%d", k);
	return buf;
}

static void
test_quorum_exhaustive(void)
{
	struct ref w[NW], g1, g2, g3;
	char *head, *text, *members;
	int nw, a, k1, k2, k3, i, form, cases = 0, bad = 0;

	for (i = 0; i < NW; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].witness = i;
	}
	/* One witness as the quorum. */
	for (nw = 1; nw <= 3; nw++)
		for (i = 0; i < nw; i++) {
			head = witness_lines(nw);
			text = xasprintf("%squorum w%d\n", head, i);
			bad += compare_all_subsets(text, nw, &w[i]);
			cases++;
			free(head);
			free(text);
		}
	/* One group, every threshold, both spellings. */
	for (nw = 1; nw <= NW; nw++)
		for (k1 = 1; k1 <= nw; k1++)
			for (form = 0; form < 2; form++) {
				head = witness_lines(nw);
				members = xstrdup("");
				memset(&g1, 0, sizeof(g1));
				g1.witness = -1;
				g1.k = k1;
				for (i = 0; i < nw; i++) {
					char *m = xasprintf("%s w%d", members, i);
					free(members);
					members = m;
					g1.members[g1.n++] = &w[i];
				}
				text = xasprintf("%sgroup g %s%s\nquorum g\n", head,
				    threshold(k1, nw, form), members);
				bad += compare_all_subsets(text, nw, &g1);
				cases++;
				free(members);
				free(head);
				free(text);
			}
	/*
	 * Nested: g1 = k1 of w0..w(a-1); g2 = k2 of g1 and w(a)..w(nw-1);
	 * and g1, g3 = k3 of the rest, g2' = k of {g1, g3}.
	 */
	for (nw = 2; nw <= 5; nw++)
		for (a = 1; a < nw; a++)
			for (k1 = 1; k1 <= a; k1++)
				for (k2 = 1; k2 <= nw - a + 1; k2++) {
					char *m1 = xstrdup(""), *m2 = xstrdup(" g1"), *t;

					memset(&g1, 0, sizeof(g1));
					memset(&g2, 0, sizeof(g2));
					g1.witness = g2.witness = -1;
					g1.k = k1;
					g2.k = k2;
					g2.members[g2.n++] = &g1;
					for (i = 0; i < nw; i++) {
						char **m = i < a ? &m1 : &m2;
						struct ref *g = i < a ? &g1 : &g2;

						t = xasprintf("%s w%d", *m, i);
						free(*m);
						*m = t;
						g->members[g->n++] = &w[i];
					}
					head = witness_lines(nw);
					text = xasprintf("%sgroup g1 %d%s\n"
					    "group g2 %d%s\nquorum g2\n", head,
					    k1, m1, k2, m2);
					bad += compare_all_subsets(text, nw, &g2);
					cases++;
					free(text);
					/* Two disjoint groups under a third. */
					if (nw - a >= 1 && k2 <= nw - a) {
						memset(&g3, 0, sizeof(g3));
						g3.witness = -1;
						g3.k = k2;
						for (i = a; i < nw; i++)
							g3.members[g3.n++] = &w[i];
						for (k3 = 1; k3 <= 2; k3++) {
							struct ref top;

							memset(&top, 0, sizeof(top));
							top.witness = -1;
							top.k = k3;
							top.n = 2;
							top.members[0] = &g1;
							top.members[1] = &g3;
							text = xasprintf("%sgroup g1 %d%s\n"
							    "group g3 %d%s\n"
							    "group top %d g3 g1\n"
							    "quorum top\n", head, k1,
							    m1, k2, m2 + 3, k3);
							bad += compare_all_subsets(text,
							    nw, &top);
							cases++;
							free(text);
						}
					}
					free(head);
					free(m1);
					free(m2);
				}
	CHECK_INT(bad, 0);
	CHECK(cases > 100);
}

/* The log's checkpoint of size n, signed. */
static char *
checkpoint(struct ledger_signer *s, const char *origin, uint64_t n)
{
	struct ledger_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, origin);
	cp.tree_size = n;
	memset(cp.root, (int)n, sizeof(cp.root));
	return ledger_checkpoint_sign(&cp, s);
}

static char *
add_cosig(char *note, struct ledger_signer *w, uint64_t t)
{
	size_t body_len = strstr(note, "\n\n") - note + 1;
	char *line = NULL, *out;

	if (ledger_cosignature_sign(w, note, body_len, t, &line) != 0)
		abort();
	out = xasprintf("%s%s", note, line);
	free(line);
	free(note);
	return out;
}

static void
test_verify(void)
{
	struct ledger_policy_result *r = xcalloc(1, sizeof(*r));
	struct ledger_policy *p = NULL;
	char *text, *note, err[256];
	unsigned set;
	int rc;

	/* 2 of w0 w1 w2. */
	text = xasprintf("log %s\nlog %s\nwitness a %s\nwitness b %s\n"
	    "witness c %s\ngroup g 2 a b c\nquorum g\n", log2_vkey, log_vkey,
	    wit_vkey[0], wit_vkey[1], wit_vkey[2]);
	REQUIRE(ledger_policy_parse(text, strlen(text), &p, err,
	    sizeof(err)) == 0);
	free(text);

	for (set = 0; set < 8; set++) {
		note = checkpoint(log_signer, ORIGIN, 7);
		for (int i = 0; i < 3; i++)
			if ((set >> i) & 1)
				note = add_cosig(note, wit[i], 1000 + i);
		/* Unknown signers are ignored: same name, other key. */
		note = add_cosig(note, stranger, 5);
		note = add_cosig(note, wit[4], 5);
		rc = ledger_policy_verify(p, note, strlen(note), r);
		CHECK_INT(rc, __builtin_popcount(set) >= 2 ? 0 : LEDGER_EVERIFY);
		CHECK(r->log_verified);
		CHECK_INT(r->log, 1);
		CHECK_INT(r->n_cosigned, __builtin_popcount(set));
		CHECK_INT(r->quorum_met, __builtin_popcount(set) >= 2);
		CHECK_INT(r->checkpoint.tree_size, 7);
		CHECK_INT(r->n_witnesses, 3);
		for (int i = 0; i < 3; i++) {
			CHECK_INT(r->cosigned[i], (set >> i) & 1);
			CHECK_INT(r->timestamp[i], (set >> i) & 1 ? 1000 + i : 0);
			CHECK_INT(r->bad[i], 0);
		}
		free(note);
	}

	/* A bad cosignature by a known witness satisfies nothing. */
	note = checkpoint(log_signer, ORIGIN, 7);
	note = add_cosig(note, wit[0], 1);
	{
		char *other = checkpoint(log_signer, ORIGIN, 8);
		size_t body_len = strstr(other, "\n\n") - other + 1;
		char *line = NULL, *next;

		/* w1's line over another checkpoint, pasted on this one. */
		REQUIRE(ledger_cosignature_sign(wit[1], other, body_len, 2,
		    &line) == 0);
		next = xasprintf("%s%s", note, line);
		free(note);
		note = next;
		free(line);
		free(other);
	}
	rc = ledger_policy_verify(p, note, strlen(note), r);
	CHECK_INT(rc, LEDGER_EVERIFY);
	CHECK(r->log_verified);
	CHECK(!r->quorum_met);
	CHECK_INT(r->cosigned[1], 0);
	CHECK_INT(r->bad[1], 1);
	/* ... and a good one from w2 makes the quorum. */
	note = add_cosig(note, wit[2], 3);
	CHECK_INT(ledger_policy_verify(p, note, strlen(note), r), 0);
	CHECK_INT(r->bad[1], 1);
	free(note);

	/* No log signature: the cosignatures do not help. */
	{
		/* The body of ORIGIN signed by another log's key. */
		note = checkpoint(log_signer, ORIGIN, 7);
		char *sigstart = strstr(note, "\n\n") + 2;
		char *body = xstrndup(note, sigstart - note - 1);
		char *wrong = ledger_note_sign(log2_signer, body, strlen(body));
		char *next = xasprintf("%s\n%s", body, wrong);

		free(note);
		note = next;
		free(wrong);
		free(body);
	}
	note = add_cosig(note, wit[0], 1);
	note = add_cosig(note, wit[1], 1);
	CHECK_INT(ledger_policy_verify(p, note, strlen(note), r), LEDGER_EVERIFY);
	CHECK(!r->log_verified);
	CHECK(r->quorum_met);
	free(note);

	/* An origin the policy does not list. */
	{
		struct ledger_signer *third = make_signer(
		    "ledger.example.org/third", LEDGER_SIGTYPE_ED25519, 1);

		note = checkpoint(third, "ledger.example.org/third", 7);
		CHECK_INT(ledger_policy_verify(p, note, strlen(note), r),
		    LEDGER_ENOTFOUND);
		free(note);
		ledger_signer_free(third);
	}
	/* Malformed. */
	CHECK_INT(ledger_policy_verify(p, "x\n", 2, r), LEDGER_EINVAL);
	note = xasprintf("%s", "ledger.example.org/ct-box\n07\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n");
	CHECK_INT(ledger_policy_verify(p, note, strlen(note), r), LEDGER_EINVAL);
	free(note);
	ledger_policy_free(p);
	free(r);
}

int
main(void)
{
	setup();
	RUN(test_parse_example);
	RUN(test_parse_refusals);
	RUN(test_parse_limits);
	RUN(test_quorum_exhaustive);
	RUN(test_verify);
	teardown();
	return TEST_SUMMARY();
}
