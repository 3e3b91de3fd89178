/*
 * The catalogue of error codes cannot drift: the list below, the table of
 * spec §7.2 (code and status), the enum of the Error schema in
 * schema/openapi.yaml and the codes the daemon's sources answer with are
 * the same set.  Run from the top of the tree, as make test does.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "testlib.h"

static const struct {
	const char *code;
	const char *status;	/* as the spec's table writes it */
} catalogue[] = {
	{ "invalid_json", "400" },
	{ "wrong_type", "400" },
	{ "missing_field", "400" },
	{ "unknown_field", "400" },
	{ "invalid_value", "400" },
	{ "too_large", "400" },
	{ "unknown_org", "400" },
	{ "unknown_ref", "400" },
	{ "unknown_parameter", "400" },
	{ "out_of_range", "400" },
	{ "unauthorized", "401" },
	{ "forbidden", "403" },
	{ "not_found", "404" },
	{ "method_not_allowed", "405" },
	{ "idempotency_conflict", "409" },
	{ "body_too_large", "413" },
	{ "too_many_events", "413" },
	{ "unsupported_media_type", "415" },
	{ "expectation_failed", "417" },
	{ "too_many_failures", "429" },
	{ "headers_too_large", "431" },
	{ "internal", "500" },
	{ "not_implemented", "501" },
	{ "overloaded", "503" },
	{ "unavailable", "503" },
	{ "keys_unavailable", "503" },
	{ "witness_timeout", "504" },
	{ "http_version_not_supported", "505" },
	{ "storage_full", "507" },
};

#define NCODES (sizeof(catalogue) / sizeof(catalogue[0]))

/* Where the daemon names its codes: the call, and which files it is in. */
static const struct {
	const char *files;	/* a path, or a directory's prefix */
	const char *pattern;	/* group 1 is the code */
} uses[] = {
	{ "ledgerd/", "reply_error(_close)?\\(r,[[:space:]]*[A-Za-z0-9_]+,"
	    "[[:space:]]*\"([a-z_]+)\"" },
	/* The answers of work done on a worker (ledgerd/offload.h). */
	{ "ledgerd/", "offload_answer_error\\(o,[[:space:]]*[A-Za-z0-9_]+,"
	    "[[:space:]]*\"([a-z_]+)\"" },
	{ "ledgerd/writer.c", "set_error\\(req,[[:space:]]*[A-Za-z0-9_]+,"
	    "[[:space:]]*[A-Za-z0-9_]+,[[:space:]]*\"([a-z_]+)\"" },
	{ "ledgerd/route_events.c", "case [0-9]+: return \"([a-z_]+)\"" },
	{ "ledgerd/oversight.c", "a->err.code :[[:space:]]*\"([a-z_]+)\"" },
	{ "ledgerd/framing.c", "refuse\\(f,[[:space:]]*src,[[:space:]]*dst,"
	    "[[:space:]]*[0-9]+,[[:space:]]*\"([a-z_]+)\"" },
	{ "lib/event.c", "refuse\\(err,[[:space:]]*\"([a-z_]+)\"" },
};

/* The daemon's sources that answer requests. */
static const char *const sources[] = {
	"ledgerd/http.c", "ledgerd/framing.c", "ledgerd/route_events.c",
	"ledgerd/route_export.c",
	"ledgerd/route_ops.c", "ledgerd/route_proof.c",
	"ledgerd/route_provenance.c", "ledgerd/route_tiles.c",
	"ledgerd/oversight.c", "ledgerd/subject_lookup.c", "ledgerd/writer.c",
	"ledgerd/witnessed_wait.c",
	"lib/event.c",
};

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		fprintf(stderr, "  cannot open %s (run from the top of the tree)\n",
		    path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	buf[fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

static int
code_index(const char *code, size_t len)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (strlen(catalogue[i].code) == len &&
		    strncmp(catalogue[i].code, code, len) == 0)
			return (int)i;
	return -1;
}

/* Every code the sources answer with is catalogued; every catalogued one is used. */
static void
test_sources(void)
{
	int used[NCODES] = { 0 };
	regmatch_t m[3];
	regex_t re;
	size_t s, u, i;
	char *text, *p;
	int g, k;

	for (s = 0; s < sizeof(sources) / sizeof(sources[0]); s++) {
		REQUIRE((text = slurp(sources[s])) != NULL);
		for (u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
			if (strncmp(sources[s], uses[u].files,
			    strlen(uses[u].files)) != 0)
				continue;
			REQUIRE(regcomp(&re, uses[u].pattern, REG_EXTENDED) == 0);
			g = re.re_nsub == 2 ? 2 : 1;
			for (p = text; regexec(&re, p, 3, m, 0) == 0;
			    p += m[0].rm_eo) {
				k = code_index(p + m[g].rm_so,
				    (size_t)(m[g].rm_eo - m[g].rm_so));
				if (k < 0) {
					fprintf(stderr, "  %s: code \"%.*s\" is "
					    "not in the catalogue\n", sources[s],
					    (int)(m[g].rm_eo - m[g].rm_so),
					    p + m[g].rm_so);
					test_failures_++;
				} else
					used[k] = 1;
			}
			regfree(&re);
		}
		free(text);
	}
	for (i = 0; i < NCODES; i++)
		if (!used[i]) {
			fprintf(stderr, "  %s is catalogued but never answered\n",
			    catalogue[i].code);
			test_failures_++;
		}
}

/* The rows "| `code` | status | meaning |" of spec §7.2, both ways. */
static void
test_spec(void)
{
	int seen[NCODES] = { 0 };
	char *text, *sec, *end, *line, *next, *tick;
	char status[32];
	size_t i;
	int k;

	REQUIRE((text = slurp("docs/spec.md")) != NULL);
	if ((sec = strstr(text, "\n### 7.2 Errors")) == NULL) {
		fprintf(stderr, "  docs/spec.md has no section 7.2\n");
		test_failures_++;
		free(text);
		return;
	}
	/* The section ends at the next heading of its level. */
	for (end = strchr(sec + 1, '\n'); end != NULL &&
	    strncmp(end, "\n### ", 5) != 0; end = strchr(end + 1, '\n'))
		;
	if (end != NULL)
		*end = '\0';
	for (line = sec; line != NULL; line = next) {
		if ((next = strchr(line + 1, '\n')) != NULL)
			*next = '\0';
		if (strncmp(line + 1, "| `", 3) == 0) {
			tick = strchr(line + 4, '`');
			REQUIRE(tick != NULL);
			k = code_index(line + 4, (size_t)(tick - line - 4));
			if (k < 0) {
				fprintf(stderr, "  spec §7.2 lists \"%.*s\", not "
				    "in the catalogue\n", (int)(tick - line - 4),
				    line + 4);
				test_failures_++;
			} else {
				seen[k] = 1;
				if (sscanf(tick, "` | %31[0-9, ] |", status) != 1)
					status[0] = '\0';
				for (i = strlen(status); i > 0 &&
				    status[i - 1] == ' '; i--)
					status[i - 1] = '\0';
				CHECK_STR(status, catalogue[k].status);
			}
		}
		if (next != NULL)
			*next = '\n';
	}
	for (i = 0; i < NCODES; i++)
		if (!seen[i]) {
			fprintf(stderr, "  %s is missing from spec §7.2\n",
			    catalogue[i].code);
			test_failures_++;
		}
	free(text);
}

/* The enum of the Error schema's code in schema/openapi.yaml, both ways. */
static void
test_openapi(void)
{
	int seen[NCODES] = { 0 };
	char *text, *p, *e;
	size_t i, len;
	int k;

	REQUIRE((text = slurp("schema/openapi.yaml")) != NULL);
	REQUIRE((p = strstr(text, "\n    Error:\n")) != NULL);
	REQUIRE((p = strstr(p, "\n              enum:\n")) != NULL);
	p += strlen("\n              enum:\n");
	/* Items "                - code", until the indentation ends. */
	while (strncmp(p, "                - ", 18) == 0) {
		p += 18;
		len = strcspn(p, "\n");
		e = p + len;
		if ((k = code_index(p, len)) < 0) {
			fprintf(stderr, "  the openapi enum lists \"%.*s\", not "
			    "in the catalogue\n", (int)len, p);
			test_failures_++;
		} else
			seen[k] = 1;
		p = *e == '\n' ? e + 1 : e;
	}
	for (i = 0; i < NCODES; i++)
		if (!seen[i]) {
			fprintf(stderr, "  %s is missing from the openapi enum\n",
			    catalogue[i].code);
			test_failures_++;
		}
	free(text);
}

int
main(void)
{
	RUN(test_sources);
	RUN(test_spec);
	RUN(test_openapi);
	return TEST_SUMMARY();
}
