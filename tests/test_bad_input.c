/*
 * Malformed and hostile requests against the real daemon: each gets its
 * documented status and error code (spec §7.2), nothing reaches the log,
 * and the daemon keeps answering.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

enum auth { TOKEN, NO_AUTH, BAD_TOKEN };

#define F_RAW 1		/* body is the whole request, sent as it is */
#define F_MAY_CLOSE 2	/* closing the connection without an answer is fine */
#define F_ANY_4XX 4	/* any 4xx status will do (the HTTP layer's answer) */
#define F_HALF_CLOSE 8	/* shut down the sending side after the request */

/* A generated body: new buffer and its length. */
typedef char *(*body_fn)(size_t *len);

struct bad_case {
	const char *name;
	const char *method;
	const char *target;
	enum auth auth;
	const char *content_type;	/* NULL: application/json for POST */
	const char *body;		/* NULL: none (or gen) */
	size_t body_len;		/* 0: strlen(body) */
	body_fn gen;
	int status, status2;		/* status2: another acceptable one, or 0 */
	const char *code;		/* see CHECK_ERROR */
	const char *field;
	int flags;
};

#define ACTOR "\"actor\":{\"org\":\"police\",\"user\":\"a\"}"
#define OCC "\"occurred_at\":\"2026-01-02T03:04:05Z\""
#define SHARE_REST "\"recipients\":[\"kmar\"],\"object\":{\"ref\":\"d\"},\"purpose\":\"p\""
/* A valid share, open at the end: close it with "}" or add members. */
#define GOOD "{\"type\":\"share\"," ACTOR "," SHARE_REST "," OCC
#define NO_TYPE "{" ACTOR "," SHARE_REST "," OCC "}"

static char *
gen_details_too_large(size_t *len)
{
	size_t n = 17000;
	char *pad = xmalloc(n + 1), *s;

	memset(pad, 'x', n);
	pad[n] = '\0';
	s = xasprintf(GOOD ",\"details\":{\"note\":\"%s\"}}", pad);
	free(pad);
	*len = strlen(s);
	return s;
}

static char *
gen_long_purpose(size_t *len)
{
	char pad[2001], *s;

	memset(pad, 'p', 2000);
	pad[2000] = '\0';
	s = xasprintf("{\"type\":\"query\"," ACTOR ",\"object\":{\"ref\":\"d\"},"
	    "\"purpose\":\"%s\"," OCC "}", pad);
	*len = strlen(s);
	return s;
}

static char *
gen_deep(size_t *len)
{
	size_t depth = 5000, i;
	char *s = xmalloc(2 * depth + 1);

	for (i = 0; i < depth; i++) {
		s[i] = '[';
		s[2 * depth - 1 - i] = ']';
	}
	s[2 * depth] = '\0';
	*len = 2 * depth;
	return s;
}

static char *
gen_deep_details(size_t *len)
{
	size_t depth = 3000, i, o;
	char *s = xmalloc(4 * depth + 256);

	o = (size_t)sprintf(s, "%s,\"details\":{\"a\":", GOOD);
	for (i = 0; i < depth; i++)
		s[o++] = '[';
	for (i = 0; i < depth; i++)
		s[o++] = ']';
	strcpy(s + o, "}}");
	*len = strlen(s);
	return s;
}

/* 16 MiB: past any sensible body limit. */
static char *
gen_huge_body(size_t *len)
{
	size_t n = 16u << 20;
	char *s = xmalloc(n + 1);
	size_t o;

	o = (size_t)sprintf(s, "%s,\"details\":{\"x\":\"", GOOD);
	memset(s + o, 'a', n - o - 3);
	memcpy(s + n - 3, "\"}}", 3);
	s[n] = '\0';
	*len = n;
	return s;
}

static char *
gen_long_request_line(size_t *len)
{
	size_t n = 100 * 1024;
	char *path = xmalloc(n + 1), *s;

	memset(path, 'a', n);
	path[n] = '\0';
	s = xasprintf("GET /v1/events/%s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	free(path);
	*len = strlen(s);
	return s;
}

static char *
gen_huge_headers(size_t *len)
{
	size_t i, o = 0, cap = 300 * 1100;
	char *s = xmalloc(cap);

	o += (size_t)sprintf(s, "GET /checkpoint HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 256; i++) {
		o += (size_t)sprintf(s + o, "X-Filler-%zu: ", i);
		memset(s + o, 'h', 1000);
		o += 1000;
		s[o++] = '\r';
		s[o++] = '\n';
	}
	o += (size_t)sprintf(s + o, "\r\n");
	*len = o;
	return s;
}

static char *
gen_long_header_value(size_t *len)
{
	size_t n = 200 * 1024;
	char *v = xmalloc(n + 1), *s;

	memset(v, 'v', n);
	v[n] = '\0';
	s = xasprintf("GET /checkpoint HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", v);
	free(v);
	*len = strlen(s);
	return s;
}

static const struct bad_case cases[] = {
	/* Not JSON, or not an event. */
	{ "empty body", "POST", "/v1/events", TOKEN, NULL, "", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "truncated JSON", "POST", "/v1/events", TOKEN, NULL, "{", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "trailing garbage", "POST", "/v1/events", TOKEN, NULL, GOOD "} x", 0,
	    NULL, 400, 0, "invalid_json", NULL, 0 },
	{ "two objects", "POST", "/v1/events", TOKEN, NULL, GOOD "}" GOOD "}", 0,
	    NULL, 400, 0, "invalid_json", NULL, 0 },
	{ "array for one event", "POST", "/v1/events", TOKEN, NULL,
	    "[" GOOD "}]", 0, NULL, 400, 0, "wrong_type", "", 0 },
	/* Jansson refuses a scalar text itself; either code names the problem. */
	{ "null", "POST", "/v1/events", TOKEN, NULL, "null", 0, NULL,
	    400, 0, "wrong_type|invalid_json", NULL, 0 },
	{ "a string", "POST", "/v1/events", TOKEN, NULL, "\"share\"", 0, NULL,
	    400, 0, "wrong_type|invalid_json", NULL, 0 },
	{ "invalid UTF-8", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"legal_basis\":\"\xff\xfe\"}", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "overlong UTF-8", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"legal_basis\":\"\xc0\xaf\"}", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "lone surrogate", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"legal_basis\":\"\\ud800\"}", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "raw NUL in a string", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"legal_basis\":\"a\0b\"}", sizeof(GOOD ",\"legal_basis\":\"a\0b\"}") - 1,
	    NULL, 400, 0, "invalid_json", NULL, 0 },
	{ "NUL after the object", "POST", "/v1/events", TOKEN, NULL,
	    GOOD "}\0", sizeof(GOOD "}\0") - 1, NULL, 400, 0, "invalid_json", NULL, 0 },
	{ "escaped NUL", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"legal_basis\":\"a\\u0000b\"}", 0, NULL,
	    400, 0, "invalid_value|invalid_json", NULL, 0 },
	{ "duplicate key", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"type\":\"query\"," ACTOR "," SHARE_REST "," OCC "}",
	    0, NULL, 400, 0, "invalid_json", NULL, 0 },
	{ "duplicate nested key", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":{\"org\":\"police\",\"org\":\"kmar\","
	    "\"user\":\"a\"}," SHARE_REST "," OCC "}", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "byte order mark", "POST", "/v1/events", TOKEN, NULL,
	    "\xef\xbb\xbf" GOOD "}", 0, NULL, 400, 0, "invalid_json", NULL, 0 },
	{ "number overflow", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"details\":{\"n\":1e999}}", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "ref beyond 64 bits", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"refs\":[18446744073709551616]}", 0, NULL,
	    400, 0, "invalid_json", NULL, 0 },
	{ "nested 5000 deep", "POST", "/v1/events", TOKEN, NULL, NULL, 0,
	    gen_deep, 400, 0, "invalid_json", NULL, 0 },
	{ "details nested 3000 deep", "POST", "/v1/events", TOKEN, NULL, NULL, 0,
	    gen_deep_details, 400, 0, "invalid_json", NULL, 0 },

	/* Well-formed JSON, invalid event (spec §2.2). */
	{ "unknown field", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"colour\":1}", 0, NULL, 400, 0, "unknown_field", "colour", 0 },
	{ "unknown actor field", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":{\"org\":\"police\",\"user\":\"a\","
	    "\"team\":\"x\"}," SHARE_REST "," OCC "}", 0, NULL,
	    400, 0, "unknown_field", "actor.team", 0 },
	{ "server field seq", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"seq\":0}", 0, NULL, 400, 0, "unknown_field", "seq", 0 },
	{ "missing type", "POST", "/v1/events", TOKEN, NULL, NO_TYPE, 0, NULL,
	    400, 0, "missing_field", "type", 0 },
	{ "missing actor", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," SHARE_REST "," OCC "}", 0, NULL,
	    400, 0, "missing_field", "actor", 0 },
	{ "missing actor.org", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":{\"user\":\"a\"}," SHARE_REST "," OCC "}",
	    0, NULL, 400, 0, "missing_field", "actor.org", 0 },
	{ "missing actor.user", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":{\"org\":\"police\"}," SHARE_REST "," OCC
	    "}", 0, NULL, 400, 0, "missing_field", "actor.user", 0 },
	{ "missing occurred_at", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR "," SHARE_REST "}", 0, NULL,
	    400, 0, "missing_field", "occurred_at", 0 },
	{ "share without object", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR ",\"recipients\":[\"kmar\"],\"purpose\":\"p\","
	    OCC "}", 0, NULL, 400, 0, "missing_field", "object", 0 },
	{ "share without recipients", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR ",\"object\":{\"ref\":\"d\"},\"purpose\":\"p\","
	    OCC "}", 0, NULL, 400, 0, "missing_field", "recipients", 0 },
	{ "share with no recipient", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR ",\"recipients\":[],\"object\":{\"ref\":\"d\"},"
	    "\"purpose\":\"p\"," OCC "}", 0, NULL,
	    400, 0, "invalid_value", "recipients", 0 },
	{ "query without purpose", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"query\"," ACTOR ",\"object\":{\"ref\":\"d\"}," OCC "}", 0,
	    NULL, 400, 0, "missing_field", "purpose", 0 },
	{ "advice without recipients", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"advice\"," ACTOR ",\"object\":{\"ref\":\"d\"}," OCC "}", 0,
	    NULL, 400, 0, "missing_field", "recipients", 0 },
	{ "unknown type", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"delete\"," ACTOR "," SHARE_REST "," OCC "}", 0, NULL,
	    400, 0, "invalid_value", "type", 0 },
	{ "server-only type", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"audit\"," ACTOR "," SHARE_REST "," OCC "}", 0, NULL,
	    400, 0, "invalid_value", "type", 0 },
	{ "type is a number", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":5," ACTOR "," SHARE_REST "," OCC "}", 0, NULL,
	    400, 0, "wrong_type", "type", 0 },
	{ "actor is a string", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":\"police\"," SHARE_REST "," OCC "}", 0,
	    NULL, 400, 0, "wrong_type", "actor", 0 },
	{ "malformed org id", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":{\"org\":\"Police!\",\"user\":\"a\"},"
	    SHARE_REST "," OCC "}", 0, NULL, 400, 0, "invalid_value", "actor.org", 0 },
	{ "non-ASCII org id", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\",\"actor\":{\"org\":\"polic\\u00e9\",\"user\":\"a\"},"
	    SHARE_REST "," OCC "}", 0, NULL, 400, 0, "invalid_value", "actor.org", 0 },
	{ "subjects is a string", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"subjects\":\"S-1\"}", 0, NULL, 400, 0, "wrong_type", "subjects", 0 },
	{ "subject is a number", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"subjects\":[1]}", 0, NULL, 400, 0, "wrong_type", "subjects[0]", 0 },
	{ "repeated subject", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"subjects\":[\"S\",\"S\"]}", 0, NULL,
	    400, 0, "invalid_value", "subjects[1]", 0 },
	{ "repeated recipient", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR ",\"recipients\":[\"kmar\",\"kmar\"],"
	    "\"object\":{\"ref\":\"d\"},\"purpose\":\"p\"," OCC "}", 0, NULL,
	    400, 0, "invalid_value", "recipients[1]", 0 },
	{ "occurred_at not a time", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR "," SHARE_REST ",\"occurred_at\":\"yesterday\"}",
	    0, NULL, 400, 0, "invalid_value", "occurred_at", 0 },
	{ "occurred_at leap second", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR "," SHARE_REST
	    ",\"occurred_at\":\"2016-12-31T23:59:60Z\"}", 0, NULL,
	    400, 0, "invalid_value", "occurred_at", 0 },
	{ "digest not sha256", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"share\"," ACTOR ",\"recipients\":[\"kmar\"],\"object\":{\"ref\":"
	    "\"d\",\"digest\":\"md5:00\"},\"purpose\":\"p\"," OCC "}", 0, NULL,
	    400, 0, "invalid_value", "object.digest", 0 },
	{ "ref is a string", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"refs\":[\"1\"]}", 0, NULL, 400, 0, "wrong_type", "refs[0]", 0 },
	{ "negative ref", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"refs\":[-1]}", 0, NULL, 400, 0, "invalid_value", "refs[0]", 0 },
	{ "ref to no entry", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"refs\":[0,99]}", 0, NULL, 400, 0, "unknown_ref", "refs*", 0 },
	{ "ref to the next seq", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"refs\":[3]}", 0, NULL, 400, 0, "unknown_ref", "refs*", 0 },
	{ "details is a string", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"details\":\"x\"}", 0, NULL, 400, 0, "wrong_type", "details", 0 },
	{ "details over 16 KiB", "POST", "/v1/events", TOKEN, NULL, NULL, 0,
	    gen_details_too_large, 400, 0, "too_large", "details", 0 },
	{ "empty purpose", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"query\"," ACTOR ",\"object\":{\"ref\":\"d\"},\"purpose\":\"\","
	    OCC "}", 0, NULL, 400, 0, "invalid_value", "purpose", 0 },
	{ "control character", "POST", "/v1/events", TOKEN, NULL,
	    "{\"type\":\"query\"," ACTOR ",\"object\":{\"ref\":\"d\"},\"purpose\":"
	    "\"bell\\u0007\"," OCC "}", 0, NULL, 400, 0, "invalid_value", "purpose", 0 },
	{ "purpose too long", "POST", "/v1/events", TOKEN, NULL, NULL, 0,
	    gen_long_purpose, 400, 0, "too_large", "purpose", 0 },
	{ "non-ASCII idempotency key", "POST", "/v1/events", TOKEN, NULL,
	    GOOD ",\"idempotency_key\":\"\xd0\xba\xd0\xbb\"}", 0, NULL,
	    400, 0, "invalid_value", "idempotency_key", 0 },

	/*
	 * Size and media type.  A body over max_body is refused on its
	 * Content-Length, before it is read; a client that sends it all before
	 * reading still gets the answer.
	 */
	{ "16 MiB body", "POST", "/v1/events", TOKEN, NULL, NULL, 0, gen_huge_body,
	    413, 0, "body_too_large", "Content-Length", 0 },
	/* The client gives up sending: a 413 or a close, and no entry. */
	{ "Content-Length of 1 GB, no body", "POST", "/v1/events", TOKEN, NULL,
	    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    "Content-Length: 1000000000\r\n%AUTH%\r\n", 0, NULL,
	    413, 0, NULL, NULL, F_RAW | F_HALF_CLOSE | F_MAY_CLOSE },
	{ "text/plain body", "POST", "/v1/events", TOKEN, "text/plain", GOOD "}", 0,
	    NULL, 415, 0, "*", NULL, 0 },
	{ "form body", "POST", "/v1/events/batch", TOKEN,
	    "application/x-www-form-urlencoded", "a=b", 0, NULL, 415, 0, "*", NULL, 0 },

	/* Batches. */
	{ "empty batch", "POST", "/v1/events/batch", TOKEN, NULL, "[]", 0, NULL,
	    400, 0, "invalid_value", NULL, 0 },
	{ "batch is an object", "POST", "/v1/events/batch", TOKEN, NULL,
	    GOOD "}", 0, NULL, 400, 0, "wrong_type", NULL, 0 },
	{ "batch of a number", "POST", "/v1/events/batch", TOKEN, NULL, "[1]", 0,
	    NULL, 400, 0, "wrong_type", "[0]", 0 },
	{ "empty NDJSON", "POST", "/v1/events/batch", TOKEN, "application/x-ndjson",
	    "", 0, NULL, 400, 0, "invalid_value|invalid_json", NULL, 0 },
	{ "NDJSON with a bad second event", "POST", "/v1/events/batch", TOKEN,
	    "application/x-ndjson", GOOD "}\n" NO_TYPE "\n", 0, NULL,
	    400, 0, "missing_field", "[1].type", 0 },

	/* Routes and methods. */
	{ "unknown route", "GET", "/v1/nothing", TOKEN, NULL, NULL, 0, NULL,
	    404, 0, "not_found", NULL, 0 },
	{ "unknown version", "GET", "/v2/events/0", TOKEN, NULL, NULL, 0, NULL,
	    404, 0, "not_found", NULL, 0 },
	{ "DELETE events", "DELETE", "/v1/events", TOKEN, NULL, NULL, 0, NULL,
	    405, 0, "method_not_allowed", NULL, 0 },
	{ "PUT an entry", "PUT", "/v1/events/0", TOKEN, NULL, GOOD "}", 0, NULL,
	    405, 0, "method_not_allowed", NULL, 0 },
	{ "POST checkpoint", "POST", "/checkpoint", TOKEN, NULL, "x", 0, NULL,
	    405, 0, "method_not_allowed", NULL, 0 },
	{ "POST a proof", "POST", "/v1/proof/inclusion?index=0&tree_size=1", TOKEN,
	    NULL, "{}", 0, NULL, 405, 0, "method_not_allowed", NULL, 0 },
	{ "GET the batch route", "GET", "/v1/events/batch", TOKEN, NULL, NULL, 0,
	    NULL, 405, 0, "method_not_allowed", NULL, 0 },

	/* Paths and query values that decode to bytes which are not text. */
	{ "provenance user not UTF-8", "GET", "/v1/provenance/actors/police/%C3%28",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "invalid_value", "path", 0 },
	{ "provenance subject with a control", "GET",
	    "/v1/provenance/subjects/NL%0A1", TOKEN, NULL, NULL, 0, NULL, 400, 0,
	    "invalid_value", "path", 0 },
	{ "purpose not UTF-8", "GET", "/v1/provenance/subjects/NL-1?purpose=%FF",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "invalid_value", "purpose", 0 },

	/* Sequence numbers. */
	{ "seq abc", "GET", "/v1/events/abc", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", NULL, 0 },
	{ "seq 01", "GET", "/v1/events/01", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", NULL, 0 },
	{ "seq -1", "GET", "/v1/events/-1", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", NULL, 0 },
	{ "seq +1", "GET", "/v1/events/+1", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", NULL, 0 },
	{ "seq 0x1", "GET", "/v1/events/0x1", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", NULL, 0 },
	{ "seq past 2^64", "GET", "/v1/events/18446744073709551616", TOKEN, NULL,
	    NULL, 0, NULL, 400, 0, "invalid_value", NULL, 0 },
	{ "seq with NUL", "GET", "/v1/events/0%00", TOKEN, NULL, NULL, 0, NULL,
	    400, 404, "invalid_value|not_found", NULL, 0 },
	{ "seq with a path", "GET", "/v1/events/0/1", TOKEN, NULL, NULL, 0, NULL,
	    400, 404, "invalid_value|not_found", NULL, 0 },
	{ "dot segments", "GET", "/v1/events/../../checkpoint", TOKEN, NULL, NULL, 0,
	    NULL, 400, 404, "invalid_value|not_found", NULL, 0 },
	{ "seq not yet written", "GET", "/v1/events/3", TOKEN, NULL, NULL, 0, NULL,
	    404, 0, "not_found", NULL, 0 },
	{ "seq far away", "GET", "/v1/events/18446744073709551615", TOKEN, NULL,
	    NULL, 0, NULL, 404, 0, "not_found", NULL, 0 },

	/* Proof ranges (the log holds 3 entries). */
	{ "inclusion index past size", "GET", "/v1/proof/inclusion?index=5&tree_size=3",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "out_of_range", NULL, 0 },
	{ "inclusion index = size", "GET", "/v1/proof/inclusion?index=3&tree_size=3",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "out_of_range", NULL, 0 },
	{ "inclusion size past log", "GET",
	    "/v1/proof/inclusion?index=0&tree_size=999999", TOKEN, NULL, NULL, 0,
	    NULL, 400, 0, "out_of_range", NULL, 0 },
	{ "inclusion size 0", "GET", "/v1/proof/inclusion?index=0&tree_size=0",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "out_of_range", NULL, 0 },
	{ "inclusion without size", "GET", "/v1/proof/inclusion?index=0", TOKEN,
	    NULL, NULL, 0, NULL, 400, 0, "missing_field|invalid_value", "tree_size", 0 },
	{ "inclusion index abc", "GET", "/v1/proof/inclusion?index=abc&tree_size=3",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "invalid_value", "index", 0 },
	{ "inclusion index -1", "GET", "/v1/proof/inclusion?index=-1&tree_size=3",
	    TOKEN, NULL, NULL, 0, NULL, 400, 0, "invalid_value", "index", 0 },
	{ "inclusion size past 2^64", "GET",
	    "/v1/proof/inclusion?index=0&tree_size=18446744073709551616", TOKEN, NULL,
	    NULL, 0, NULL, 400, 0, "invalid_value", "tree_size", 0 },
	{ "consistency backwards", "GET", "/v1/proof/consistency?from=3&to=2",
	    NO_AUTH, NULL, NULL, 0, NULL, 400, 0, "out_of_range", NULL, 0 },
	{ "consistency past log", "GET", "/v1/proof/consistency?from=1&to=999999",
	    NO_AUTH, NULL, NULL, 0, NULL, 400, 0, "out_of_range", NULL, 0 },
	{ "consistency without to", "GET", "/v1/proof/consistency?from=1", NO_AUTH,
	    NULL, NULL, 0, NULL, 400, 0, "missing_field|invalid_value", "to", 0 },
	{ "consistency from x", "GET", "/v1/proof/consistency?from=x&to=2", NO_AUTH,
	    NULL, NULL, 0, NULL, 400, 0, "invalid_value", "from", 0 },

	/* Tile paths (C2SP tlog-tiles spells each tile one way). */
	{ "tile index not 3 digits", "GET", "/tile/0/1", NO_AUTH, NULL, NULL, 0,
	    NULL, 404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile index 4 digits", "GET", "/tile/0/0001", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile width 0", "GET", "/tile/0/000.p/0", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile width 256", "GET", "/tile/0/000.p/256", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile width 03", "GET", "/tile/0/000.p/03", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile x000 group", "GET", "/tile/0/x000/000", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile level 64", "GET", "/tile/64/000", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile level abc", "GET", "/tile/abc/000", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile without index", "GET", "/tile/0/", NO_AUTH, NULL, NULL, 0, NULL,
	    404, 400, "not_found|invalid_value", NULL, 0 },
	{ "tile wider than log", "GET", "/tile/0/000.p/4", NO_AUTH, NULL, NULL, 0,
	    NULL, 404, 0, "not_found", NULL, 0 },
	{ "full tile of a short log", "GET", "/tile/0/000", NO_AUTH, NULL, NULL, 0,
	    NULL, 404, 0, "not_found", NULL, 0 },
	{ "bundle wider than log", "GET", "/tile/entries/000.p/4", TOKEN, NULL, NULL,
	    0, NULL, 404, 0, "not_found", NULL, 0 },
	{ "tile huge index", "GET", "/tile/0/x018/x446/x744/x073/x709/x551/615",
	    NO_AUTH, NULL, NULL, 0, NULL, 404, 400, "not_found|invalid_value", NULL, 0 },

	/* Request parameters (header ones: see header_cases). */
	{ "wait for something else", "POST", "/v1/events?wait=forever", TOKEN, NULL,
	    GOOD "}", 0, NULL, 400, 0, "invalid_value", "wait", 0 },
	{ "NUL in a query value", "GET", "/v1/events?type=share%00x", TOKEN, NULL,
	    NULL, 0, NULL, 400, 200, NULL, NULL, 0 },
	{ "limit 0", "GET", "/v1/events?limit=0", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "out_of_range|invalid_value", "limit", 0 },
	{ "limit of a million", "GET", "/v1/events?limit=1000000", TOKEN, NULL, NULL,
	    0, NULL, 400, 0, "out_of_range|invalid_value", "limit", 0 },
	{ "raw plus in an offset", "GET",
	    "/v1/events?since=2026-01-01T00:00:00+01:00", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", "since", 0 },

	/* Listing parameters. */
	{ "limit abc", "GET", "/v1/events?limit=abc", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", "limit", 0 },
	{ "limit -1", "GET", "/v1/events?limit=-1", TOKEN, NULL, NULL, 0, NULL,
	    400, 0, "invalid_value", "limit", 0 },
	{ "garbage cursor", "GET", "/v1/events?cursor=%21%21not-a-cursor", TOKEN,
	    NULL, NULL, 0, NULL, 400, 0, "invalid_value", "cursor", 0 },
	{ "since not a time", "GET", "/v1/events?since=last-week", TOKEN, NULL, NULL,
	    0, NULL, 400, 0, "invalid_value", "since", 0 },

	/* Credentials. */
	{ "append without token", "POST", "/v1/events", NO_AUTH, NULL, GOOD "}", 0,
	    NULL, 401, 0, "unauthorized", NULL, 0 },
	{ "append with a wrong token", "POST", "/v1/events", BAD_TOKEN, NULL,
	    GOOD "}", 0, NULL, 401, 0, "unauthorized", NULL, 0 },
	{ "batch with a wrong token", "POST", "/v1/events/batch", BAD_TOKEN, NULL,
	    "[" GOOD "}]", 0, NULL, 401, 0, "unauthorized", NULL, 0 },
	{ "read with a wrong token", "GET", "/v1/events/0", BAD_TOKEN, NULL, NULL, 0,
	    NULL, 401, 0, "unauthorized", NULL, 0 },
	{ "bundle without token", "GET", "/tile/entries/000.p/3", NO_AUTH, NULL,
	    NULL, 0, NULL, 401, 0, "unauthorized", NULL, 0 },

	/* Broken HTTP: the HTTP layer answers, or hangs up. */
	{ "garbage request line", "RAW", "", TOKEN, NULL, "GARBAGE\r\n\r\n", 0, NULL,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "request line without version", "RAW", "", TOKEN, NULL,
	    "GET /checkpoint\r\n\r\n", 0, NULL,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "unknown HTTP version", "RAW", "", TOKEN, NULL,
	    "GET /checkpoint HTTP/7.3\r\nHost: x\r\n\r\n", 0, NULL,
	    400, 505, NULL, NULL, F_RAW | F_MAY_CLOSE },
	{ "request line of 100 KB", "RAW", "", TOKEN, NULL, NULL, 0,
	    gen_long_request_line, 400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "256 KB of headers", "RAW", "", TOKEN, NULL, NULL, 0, gen_huge_headers,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "header value of 200 KB", "RAW", "", TOKEN, NULL, NULL, 0,
	    gen_long_header_value, 400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "header without colon", "RAW", "", TOKEN, NULL,
	    "GET /checkpoint HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 0, NULL,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "Content-Length abc", "RAW", "", TOKEN, NULL,
	    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    "Content-Length: abc\r\n%AUTH%\r\n{}", 0, NULL,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "negative Content-Length", "RAW", "", TOKEN, NULL,
	    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    "Content-Length: -5\r\n%AUTH%\r\n{}", 0, NULL,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
	{ "bad chunk size", "RAW", "", TOKEN, NULL,
	    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n%AUTH%\r\nzz\r\n{}\r\n0\r\n\r\n", 0, NULL,
	    400, 0, NULL, NULL, F_RAW | F_MAY_CLOSE | F_ANY_4XX },
};

/* Requests whose fault is in a header: a valid event with these lines. */
static const struct {
	const char *name;
	const char *headers;
	const char *code;
} header_cases[] = {
	{ "empty Idempotency-Key", "Idempotency-Key: \r\n", "invalid_value" },
	{ "Idempotency-Key of 200 bytes", "Idempotency-Key: "
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\r\n",
	    "invalid_value|too_large" },
	{ "Idempotency-Key with a tab", "Idempotency-Key: a\tb\r\n", "invalid_value" },
	{ "Idempotency-Key with UTF-8", "Idempotency-Key: cl\xc3\xa9\r\n",
	    "invalid_value" },
};

/* The raw request of a case, with %AUTH% replaced by the real header. */
static char *
raw_request(const struct daemon *d, const struct bad_case *c, size_t *len)
{
	const char *body = c->body, *mark;
	char *gen = NULL, *out;

	if (c->gen != NULL)
		body = gen = c->gen(len);
	else
		*len = c->body_len ? c->body_len : strlen(body);
	if ((mark = memmem(body, *len, "%AUTH%", 6)) == NULL) {
		out = xmalloc(*len + 1);
		memcpy(out, body, *len);
		free(gen);
		return out;
	}
	out = xasprintf("%.*sAuthorization: %s\r\n%s", (int)(mark - body), body,
	    d->auth, mark + 6);
	*len = strlen(out);
	free(gen);
	return out;
}

/* Sends one case on a fresh connection; 1 when the answer is as expected. */
static int
run_case(const struct daemon *d, const struct bad_case *c)
{
	struct http_client hc;
	struct http_response r;
	char *body = NULL, auth[300];
	const char *a = NULL, *ct = c->content_type;
	size_t len = 0;
	int rc, before = test_failures_, status_ok;

	http_client_init(&hc, d->port, d->token);
	if (c->flags & F_RAW) {
		body = raw_request(d, c, &len);
		if ((rc = http_connect(&hc.conn, d->port, HTTP_DEFAULT_TIMEOUT_MS)) == 0) {
			/* The server may hang up before it has read it all. */
			(void)http_send_raw(&hc.conn, body, len);
			if (c->flags & F_HALF_CLOSE)
				http_shutdown_write(&hc.conn);
			rc = http_read_response(&hc.conn, &r, 0);
		}
	} else {
		if (c->gen != NULL)
			body = c->gen(&len);
		else if (c->body != NULL)
			len = c->body_len ? c->body_len : strlen(c->body);
		if (c->auth == TOKEN)
			a = d->auth;
		else if (c->auth == BAD_TOKEN) {
			/* The token with its first character changed (never kept). */
			snprintf(auth, sizeof(auth), "Bearer %c%s",
			    d->token[0] == '0' ? '1' : '0', d->token + 1);
			a = auth;
		}
		if (ct == NULL && strcmp(c->method, "GET") != 0 &&
		    (c->body != NULL || body != NULL))
			ct = "application/json";
		rc = http_request(&hc, c->method, c->target, a, ct, NULL,
		    body ? body : c->body, len, &r);
	}
	free(body);
	if (rc != 0) {
		if ((c->flags & F_MAY_CLOSE) && rc == HTTP_ECLOSED) {
			http_client_close(&hc);
			return 1;
		}
		fprintf(stderr, "  case \"%s\": no answer (error %d)\n", c->name, rc);
		test_failures_++;
		http_client_close(&hc);
		return 0;
	}
	status_ok = r.status == c->status || (c->status2 && r.status == c->status2) ||
	    ((c->flags & F_ANY_4XX) && r.status >= 400 && r.status < 500);
	if (!status_ok || c->code != NULL)
		CHECK_ERROR(&r, status_ok ? r.status : c->status, c->code, c->field);
	if (test_failures_ != before)
		fprintf(stderr, "  ^ case \"%s\": %s %s\n", c->name, c->method,
		    c->target);
	http_response_free(&r);
	http_client_close(&hc);
	return test_failures_ == before;
}

static void
body_bad_requests(struct daemon *d)
{
	struct ledger_checkpoint before, after;
	struct http_client hc;
	struct http_response r;
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	int failed = 0;
	long long size;

	CHECK(n >= 40);
	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 3, 1) == 0);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &before, NULL) == 0);
	REQUIRE(before.tree_size == 3);
	for (i = 0; i < n; i++) {
		if (!run_case(d, &cases[i]))
			failed++;
		if (!daemon_running(d)) {
			fprintf(stderr, "  the daemon died on case \"%s\"\n", cases[i].name);
			test_failures_++;
			return;
		}
		/* Nothing reached the log (checked after each, to name the case). */
		if (strcmp(cases[i].method, "GET") != 0 &&
		    (size = tree_size_now(&hc, &d->verifier)) != 3) {
			fprintf(stderr, "  case \"%s\" changed the tree size to %lld\n",
			    cases[i].name, size);
			test_failures_++;
		}
	}
	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		const char *ev = GOOD "}";

		if (http_request(&hc, "POST", "/v1/events", d->auth, "application/json",
		    header_cases[i].headers, ev, strlen(ev), &r) != 0) {
			fprintf(stderr, "  case \"%s\": no answer\n", header_cases[i].name);
			test_failures_++;
			failed++;
			continue;
		}
		if (!CHECK_ERROR(&r, 400, header_cases[i].code, NULL)) {
			fprintf(stderr, "  ^ case \"%s\"\n", header_cases[i].name);
			failed++;
		}
		http_response_free(&r);
		n++;
	}
	printf("  %zu hostile requests\n", n);
	if (failed)
		fprintf(stderr, "  %d of %zu cases not answered as expected\n", failed, n);
	REQUIRE(fetch_checkpoint(&hc, &d->verifier, &after, NULL) == 0);
	CHECK_INT(after.tree_size, before.tree_size);
	CHECK_MEM(after.root, before.root, LEDGER_HASH_LEN);
	REQUIRE(http_get(&hc, "/healthz", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	/* And it still appends. */
	REQUIRE(post_events(&hc, 3, 1, 1) == 0);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 4);
	http_client_close(&hc);
}

static void
test_bad_requests(void)
{
	daemon_test(body_bad_requests);
}

/*
 * A slow client does not hold up others: a request whose headers and body
 * trickle in is answered correctly once complete, and other connections
 * are served meanwhile.
 */
static void
body_slow_client(struct daemon *d)
{
	struct http_client other;
	struct http_conn slow;
	struct http_response r;
	char *ev = sample_event(1), *req;
	size_t len, i, half;

	http_client_init(&other, d->port, d->token);
	REQUIRE(http_connect(&slow, d->port, HTTP_DEFAULT_TIMEOUT_MS) == 0);
	req = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    d->auth, strlen(ev), ev);
	len = strlen(req);
	half = len - strlen(ev) / 2;
	/* The head a byte at a time, then half the body. */
	for (i = 0; i < half; i++) {
		REQUIRE(http_send_raw(&slow, req + i, 1) == 0);
		if (i % 64 == 0)
			sleep_ms(1);
	}
	/* Meanwhile another client is answered. */
	REQUIRE(http_get(&other, "/healthz", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	REQUIRE(http_get_public(&other, "/checkpoint", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	REQUIRE(http_send_raw(&slow, req + half, len - half) == 0);
	REQUIRE(http_read_response(&slow, &r, 0) == 0);
	CHECK_INT(r.status, 201);
	http_response_free(&r);
	/* The same connection still serves a second request. */
	REQUIRE(http_send_raw(&slow, req, len) == 0);
	REQUIRE(http_read_response(&slow, &r, 0) == 0);
	CHECK_INT(r.status, 201);
	http_response_free(&r);
	CHECK_INT(tree_size_now(&other, &d->verifier), 2);
	free(req);
	free(ev);
	http_close(&slow);
	http_client_close(&other);
}

static void
test_slow_client(void)
{
	daemon_test(body_slow_client);
}

/* Pipelined requests on one connection are answered in order. */
static void
body_pipelining(struct daemon *d)
{
	struct http_conn c;
	struct http_response r;
	char *ev = sample_event(1), *one, *all;
	int i;

	REQUIRE(http_connect(&c, d->port, HTTP_DEFAULT_TIMEOUT_MS) == 0);
	one = xasprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    d->auth, strlen(ev), ev);
	all = xasprintf("%s%sGET /v1/events/0 HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\n\r\nGET /v1/nothing HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\n\r\n%s", one, one, d->auth, d->auth, one);
	REQUIRE(http_send_raw(&c, all, strlen(all)) == 0);
	for (i = 0; i < 5; i++) {
		int want[] = { 201, 201, 200, 404, 201 };

		if (http_read_response(&c, &r, 0) != 0) {
			fprintf(stderr, "  pipelined response %d missing\n", i);
			test_failures_++;
			break;
		}
		CHECK_INT(r.status, want[i]);
		http_response_free(&r);
	}
	free(one);
	free(all);
	free(ev);
	http_close(&c);
}

static void
test_pipelining(void)
{
	daemon_test(body_pipelining);
}

/* Many idle connections do not stop the daemon from serving. */
static void
body_idle_connections(struct daemon *d)
{
	enum { N = 24 };
	struct http_conn idle[N];
	struct http_client hc;
	struct http_response r;
	int i, open = 0;

	for (i = 0; i < N; i++)
		if (http_connect(&idle[i], d->port, HTTP_DEFAULT_TIMEOUT_MS) == 0) {
			open++;
			/* half of them start a request and stall */
			if (i % 2)
				http_send_raw(&idle[i], "GET /checkpoint HT", 18);
		}
	CHECK_INT(open, N);
	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 1, 1) == 0);
	REQUIRE(http_get(&hc, "/healthz", &r) == 0);
	CHECK_INT(r.status, 200);
	http_response_free(&r);
	for (i = 0; i < N; i++)
		http_close(&idle[i]);
	http_client_close(&hc);
}

static void
test_idle_connections(void)
{
	daemon_test(body_idle_connections);
}

int
main(void)
{
	RUN(test_bad_requests);
	RUN(test_slow_client);
	RUN(test_pipelining);
	RUN(test_idle_connections);
	return TEST_SUMMARY();
}
