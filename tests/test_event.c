/*
 * The event model: validation against spec §2.2, subject tokens (spec §3), the
 * exact entry bytes, and RFC 3339 times.  Expected tokens and entry bytes
 * were computed outside this code (openssl dgst -mac HMAC, a JSON encoder
 * with sorted keys) and are hard-coded.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/hash.h"
#include "ledger/error.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

static const char *const orgs[] = { "police", "kmar", "aivd", "om", "board" };
static const struct ledger_event_rules rules = { orgs, 5, 0 };
static const struct ledger_event_rules dev_rules = { NULL, 0, 0 };
static const struct ledger_event_rules server_rules = { orgs, 5, 1 };

#define DIGEST "sha256:139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c4196055232202"

static const char base_share[] =
    "{\"type\":\"share\","
    "\"actor\":{\"org\":\"police\",\"user\":\"u-17\",\"role\":\"analyst\"},"
    "\"subjects\":[\"NL-1\",\"NL-2\"],\"recipients\":[\"kmar\",\"om\"],"
    "\"object\":{\"ref\":\"doc-1\",\"digest\":\"" DIGEST "\"},"
    "\"purpose\":\"risk assessment\",\"legal_basis\":\"Art. 20\","
    "\"occurred_at\":\"2026-01-02T03:04:05Z\",\"refs\":[1,2],"
    "\"details\":{\"k\":\"v\"},\"idempotency_key\":\"abc\"}";

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);

	if (v == NULL)
		fprintf(stderr, "  bad test JSON at %d:%d: %s\n", jerr.line,
		    jerr.column, jerr.text);
	return v;
}

/* Validates and, on refusal, checks the code and field. */
static void
expect_refused(json_t *ev, const struct ledger_event_rules *r, const char *code,
    const char *field, const char *what)
{
	struct ledger_field_error err;

	memset(&err, 0, sizeof(err));
	if (ledger_event_validate(ev, r, &err) != LEDGER_EINVAL) {
		fprintf(stderr, "  %s: accepted, expected %s at %s\n", what, code, field);
		test_failures_++;
		return;
	}
	if (strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0) {
		fprintf(stderr, "  %s: got %s at \"%s\" (%s), expected %s at \"%s\"\n",
		    what, err.code, err.field, err.message, code, field);
		test_failures_++;
	}
	CHECK(err.message[0] != '\0');
}

static void
expect_valid(json_t *ev, const struct ledger_event_rules *r, const char *what)
{
	struct ledger_field_error err;

	memset(&err, 0, sizeof(err));
	if (ledger_event_validate(ev, r, &err) != 0) {
		fprintf(stderr, "  %s: refused: %s at \"%s\": %s\n", what, err.code,
		    err.field, err.message);
		test_failures_++;
	}
}

static void
test_valid_events(void)
{
	static const char *const valid[] = {
		base_share,
		/* query: no recipients; subjects may be absent or empty */
		"{\"type\":\"query\",\"actor\":{\"org\":\"aivd\",\"user\":\"a1\"},"
		"\"subjects\":[\"NL-1\"],\"object\":{\"ref\":\"doc-1\"},"
		"\"purpose\":\"check\",\"occurred_at\":\"2026-01-02T03:04:05.5+02:00\"}",
		"{\"type\":\"query\",\"actor\":{\"org\":\"aivd\",\"user\":\"a1\"},"
		"\"subjects\":[],\"recipients\":[],\"object\":{\"ref\":\"x\"},"
		"\"purpose\":\"check\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}",
		/* advice: no purpose needed; refs rest on earlier shares */
		"{\"type\":\"advice\",\"actor\":{\"org\":\"om\",\"user\":\"p-3\"},"
		"\"recipients\":[\"police\",\"board\"],\"object\":{\"ref\":\"advice-9\"},"
		"\"occurred_at\":\"2026-01-02T03:04:05.123456789-05:00\",\"refs\":[0,5]}",
		/* details are free-form: control characters allowed there */
		"{\"type\":\"share\",\"actor\":{\"org\":\"kmar\",\"user\":\"k\"},"
		"\"recipients\":[\"om\"],\"object\":{\"ref\":\"caf\\u00e9 \\ud83d\\ude00\"},"
		"\"purpose\":\"p\",\"occurred_at\":\"2026-01-02T03:04:05Z\","
		"\"details\":{\"text\":\"line\\nline\\u0001\",\"n\":[1,{\"a\":null}]}}",
	};
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		json_t *ev = load(valid[i]);
		char what[32];

		snprintf(what, sizeof(what), "valid[%zu]", i);
		CHECK(ev != NULL);
		expect_valid(ev, &rules, what);
		json_decref(ev);
	}
}

/* Each row: the base share, minus `drop`, with `patch`'s members set. */
static const struct {
	const char *drop;
	const char *patch;
	const char *code;
	const char *field;
} invalid[] = {
	{ NULL, "{\"extra\":1}", "unknown_field", "extra" },
	{ NULL, "{\"seq\":1}", "unknown_field", "seq" },
	{ NULL, "{\"salt\":\"QEFCQ0RFRkdISUpLTE1OTw==\"}", "unknown_field", "salt" },
	{ "type", "{\"Type\":\"share\"}", "unknown_field", "Type" },
	{ "type", NULL, "missing_field", "type" },
	{ NULL, "{\"type\":1}", "wrong_type", "type" },
	{ NULL, "{\"type\":\"audit\"}", "invalid_value", "type" },
	{ NULL, "{\"type\":\"Share\"}", "invalid_value", "type" },
	{ NULL, "{\"type\":\"share\\u0000\"}", "invalid_value", "type" },
	{ "actor", NULL, "missing_field", "actor" },
	{ NULL, "{\"actor\":\"police\"}", "wrong_type", "actor" },
	{ NULL, "{\"actor\":{\"user\":\"u\"}}", "missing_field", "actor.org" },
	{ NULL, "{\"actor\":{\"org\":\"police\"}}", "missing_field", "actor.user" },
	{ NULL, "{\"actor\":{\"org\":\"police\",\"user\":\"u\",\"team\":\"x\"}}",
	    "unknown_field", "actor.team" },
	{ NULL, "{\"actor\":{\"org\":\"fbi\",\"user\":\"u\"}}", "unknown_org", "actor.org" },
	{ NULL, "{\"actor\":{\"org\":\"Police\",\"user\":\"u\"}}", "invalid_value",
	    "actor.org" },
	{ NULL, "{\"actor\":{\"org\":\"\",\"user\":\"u\"}}", "invalid_value", "actor.org" },
	{ NULL, "{\"actor\":{\"org\":7,\"user\":\"u\"}}", "wrong_type", "actor.org" },
	{ NULL, "{\"actor\":{\"org\":\"police\",\"user\":\"\"}}", "invalid_value",
	    "actor.user" },
	{ NULL, "{\"actor\":{\"org\":\"police\",\"user\":null}}", "wrong_type",
	    "actor.user" },
	{ NULL, "{\"actor\":{\"org\":\"police\",\"user\":\"u\\n\"}}", "invalid_value",
	    "actor.user" },
	{ NULL, "{\"actor\":{\"org\":\"police\",\"user\":\"u\\u0000v\"}}", "invalid_value",
	    "actor.user" },
	{ NULL, "{\"actor\":{\"org\":\"police\",\"user\":\"u\",\"role\":5}}", "wrong_type",
	    "actor.role" },
	{ NULL, "{\"subjects\":\"NL-1\"}", "wrong_type", "subjects" },
	{ NULL, "{\"subjects\":[\"a\",2]}", "wrong_type", "subjects[1]" },
	{ NULL, "{\"subjects\":[\"a\",\"b\",\"\"]}", "invalid_value", "subjects[2]" },
	{ NULL, "{\"subjects\":[\"a\",\"b\",\"a\"]}", "invalid_value", "subjects[2]" },
	{ NULL, "{\"subjects\":[\"a\\u0085\"]}", "invalid_value", "subjects[0]" },
	{ NULL, "{\"subjects\":[\"a\\u007f\"]}", "invalid_value", "subjects[0]" },
	{ "recipients", NULL, "missing_field", "recipients" },
	{ NULL, "{\"recipients\":[]}", "invalid_value", "recipients" },
	{ NULL, "{\"recipients\":\"kmar\"}", "wrong_type", "recipients" },
	{ NULL, "{\"recipients\":[\"kmar\",\"fbi\"]}", "unknown_org", "recipients[1]" },
	{ NULL, "{\"recipients\":[\"kmar\",\"kmar\"]}", "invalid_value", "recipients[1]" },
	{ NULL, "{\"recipients\":[null]}", "wrong_type", "recipients[0]" },
	{ "object", NULL, "missing_field", "object" },
	{ NULL, "{\"object\":[]}", "wrong_type", "object" },
	{ NULL, "{\"object\":{}}", "missing_field", "object.ref" },
	{ NULL, "{\"object\":{\"ref\":\"\"}}", "invalid_value", "object.ref" },
	{ NULL, "{\"object\":{\"ref\":\"d\",\"size\":1}}", "unknown_field", "object.size" },
	{ NULL, "{\"object\":{\"ref\":\"d\",\"digest\":1}}", "wrong_type", "object.digest" },
	{ NULL, "{\"object\":{\"ref\":\"d\",\"digest\":\"sha256:139D544B821B13EBEA14F1B0FE18"
	    "577222E415C2966E3A3511C4196055232202\"}}", "invalid_value", "object.digest" },
	{ NULL, "{\"object\":{\"ref\":\"d\",\"digest\":\"sha512:139d544b821b13ebea14f1b0fe18"
	    "577222e415c2966e3a3511c4196055232202\"}}", "invalid_value", "object.digest" },
	{ NULL, "{\"object\":{\"ref\":\"d\",\"digest\":\"sha256:139d544b821b13ebea14f1b0fe18"
	    "577222e415c2966e3a3511c419605523220\"}}", "invalid_value", "object.digest" },
	{ NULL, "{\"object\":{\"ref\":\"d\",\"digest\":\"sha256:139d544b821b13ebea14f1b0fe18"
	    "577222e415c2966e3a3511c41960552322020\"}}", "invalid_value", "object.digest" },
	{ "purpose", NULL, "missing_field", "purpose" },
	{ NULL, "{\"purpose\":\"\"}", "invalid_value", "purpose" },
	{ NULL, "{\"purpose\":[\"x\"]}", "wrong_type", "purpose" },
	{ NULL, "{\"legal_basis\":null}", "wrong_type", "legal_basis" },
	{ NULL, "{\"legal_basis\":\"a\\tb\"}", "invalid_value", "legal_basis" },
	{ "occurred_at", NULL, "missing_field", "occurred_at" },
	{ NULL, "{\"occurred_at\":1767322800}", "wrong_type", "occurred_at" },
	{ NULL, "{\"occurred_at\":\"2026-02-29T00:00:00Z\"}", "invalid_value", "occurred_at" },
	{ NULL, "{\"occurred_at\":\"2026-01-02 03:04:05Z\"}", "invalid_value", "occurred_at" },
	{ NULL, "{\"occurred_at\":\"2026-01-02T03:04:05Z\\u0000\"}", "invalid_value",
	    "occurred_at" },
	{ NULL, "{\"refs\":{}}", "wrong_type", "refs" },
	{ NULL, "{\"refs\":[1,-1]}", "invalid_value", "refs[1]" },
	{ NULL, "{\"refs\":[1.5]}", "wrong_type", "refs[0]" },
	{ NULL, "{\"refs\":[\"1\"]}", "wrong_type", "refs[0]" },
	{ NULL, "{\"refs\":[4,5,4]}", "invalid_value", "refs[2]" },
	{ NULL, "{\"details\":[]}", "wrong_type", "details" },
	{ NULL, "{\"details\":null}", "wrong_type", "details" },
	{ NULL, "{\"idempotency_key\":\"\"}", "invalid_value", "idempotency_key" },
	{ NULL, "{\"idempotency_key\":\"caf\\u00e9\"}", "invalid_value", "idempotency_key" },
	{ NULL, "{\"idempotency_key\":\"a\\tb\"}", "invalid_value", "idempotency_key" },
	{ NULL, "{\"idempotency_key\":12}", "wrong_type", "idempotency_key" },
	/* query needs a purpose too; advice needs recipients too */
	{ "purpose", "{\"type\":\"query\"}", "missing_field", "purpose" },
	{ "recipients", "{\"type\":\"advice\"}", "missing_field", "recipients" },
	{ NULL, "{\"type\":\"advice\",\"recipients\":[]}", "invalid_value", "recipients" },
	/* an unknown field is reported before anything else */
	{ "type", "{\"zzz\":1}", "unknown_field", "zzz" },
};

static void
test_invalid_table(void)
{
	size_t i, n = sizeof(invalid) / sizeof(invalid[0]);

	CHECK(n >= 40);
	for (i = 0; i < n; i++) {
		json_t *ev = load(base_share), *patch = NULL;
		char what[32];

		snprintf(what, sizeof(what), "invalid[%zu]", i);
		REQUIRE(ev != NULL);
		if (invalid[i].drop != NULL)
			CHECK_INT(json_object_del(ev, invalid[i].drop), 0);
		if (invalid[i].patch != NULL) {
			patch = load(invalid[i].patch);
			CHECK(patch != NULL);
			CHECK_INT(json_object_update(ev, patch), 0);
		}
		expect_refused(ev, &rules, invalid[i].code, invalid[i].field, what);
		json_decref(patch);
		json_decref(ev);
	}
}

/* The body itself, rules for orgs, and err == NULL. */
static void
test_invalid_shapes(void)
{
	json_t *ev;

	ev = json_array();
	expect_refused(ev, &rules, "wrong_type", "", "array body");
	json_decref(ev);
	CHECK_INT(ledger_event_validate(NULL, &rules, NULL), LEDGER_EINVAL);

	ev = load(base_share);
	REQUIRE(ev != NULL);
	json_object_set_new(ev, "extra", json_true());
	CHECK_INT(ledger_event_validate(ev, &rules, NULL), LEDGER_EINVAL);
	json_decref(ev);

	/*
	 * A long non-ASCII field name is cut to fit, on a character boundary:
	 * the error must still go into a JSON reply.
	 */
	{
		struct ledger_field_error err;
		char key[2 * 200 + 1];
		json_t *f, *m;
		size_t i;

		for (i = 0; i < 200; i++)
			memcpy(key + 2 * i, "\xc3\xa9", 2);	/* é */
		key[400] = '\0';
		ev = load(base_share);
		REQUIRE(ev != NULL);
		json_object_set_new(ev, key, json_true());
		CHECK_INT(ledger_event_validate(ev, &rules, &err), LEDGER_EINVAL);
		CHECK_STR(err.code, "unknown_field");
		CHECK_INT(strlen(err.field), 126);
		f = json_string(err.field);
		m = json_string(err.message);
		CHECK(f != NULL && m != NULL);
		json_decref(f);
		json_decref(m);
		json_decref(ev);
	}
}

/* Development mode: any well-formed org id; server types when allowed. */
static void
test_org_rules(void)
{
	json_t *ev = load(base_share);

	REQUIRE(ev != NULL);
	json_object_set_new(json_object_get(ev, "actor"), "org",
	    json_string("any-org-1"));
	json_object_set_new(ev, "recipients",
	    json_pack("[ss]", "x", "abcdefghijklmnopqrstuvwxyz012345"));
	expect_valid(ev, &dev_rules, "dev org");
	expect_refused(ev, &rules, "unknown_org", "actor.org", "dev org, listed rules");

	json_object_set_new(ev, "recipients",
	    json_pack("[ss]", "x", "abcdefghijklmnopqrstuvwxyz0123456"));
	expect_refused(ev, &dev_rules, "invalid_value", "recipients[1]", "33-char org");
	json_object_set_new(ev, "recipients", json_pack("[s]", "a_b"));
	expect_refused(ev, &dev_rules, "invalid_value", "recipients[0]", "a_b org");
	json_decref(ev);

	/* audit: a server type, about no item, for nobody in particular */
	ev = load("{\"type\":\"audit\",\"actor\":{\"org\":\"board\",\"user\":\"s\"},"
	    "\"occurred_at\":\"2026-01-02T03:04:05Z\"}");
	REQUIRE(ev != NULL);
	expect_valid(ev, &server_rules, "audit with server types");
	expect_refused(ev, &rules, "invalid_value", "type", "audit without server types");
	json_object_set_new(ev, "type", json_string("export"));
	expect_valid(ev, &server_rules, "export with server types");
	json_decref(ev);
}

static json_t *
string_of(size_t n, char c)
{
	char *s = malloc(n + 1);
	json_t *v;

	memset(s, c, n);
	s[n] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

/* Limits: the largest value accepted and one past it refused. */
static void
test_limits(void)
{
	json_t *ev = load(base_share), *arr;
	size_t i;
	char id[16];

	REQUIRE(ev != NULL);
	json_object_set_new(json_object_get(ev, "actor"), "user",
	    string_of(LEDGER_STRING_MAX, 'u'));
	expect_valid(ev, &rules, "1024-byte user");
	json_object_set_new(json_object_get(ev, "actor"), "user",
	    string_of(LEDGER_STRING_MAX + 1, 'u'));
	expect_refused(ev, &rules, "too_large", "actor.user", "1025-byte user");
	json_object_set_new(json_object_get(ev, "actor"), "user", json_string("u"));

	json_object_set_new(ev, "idempotency_key", string_of(128, 'k'));
	expect_valid(ev, &rules, "128-byte key");
	json_object_set_new(ev, "idempotency_key", string_of(129, 'k'));
	expect_refused(ev, &rules, "too_large", "idempotency_key", "129-byte key");
	json_object_del(ev, "idempotency_key");

	arr = json_array();
	for (i = 0; i < LEDGER_SUBJECTS_MAX; i++) {
		snprintf(id, sizeof(id), "NL-%zu", i);
		json_array_append_new(arr, json_string(id));
	}
	json_object_set(ev, "subjects", arr);
	expect_valid(ev, &rules, "64 subjects");
	json_array_append_new(arr, json_string("NL-64"));
	expect_refused(ev, &rules, "too_large", "subjects", "65 subjects");
	json_decref(arr);
	json_object_del(ev, "subjects");

	arr = json_array();
	for (i = 0; i < LEDGER_REFS_MAX; i++)
		json_array_append_new(arr, json_integer((json_int_t)i));
	json_object_set(ev, "refs", arr);
	expect_valid(ev, &rules, "64 refs");
	json_array_append_new(arr, json_integer(64));
	expect_refused(ev, &rules, "too_large", "refs", "65 refs");
	json_decref(arr);
	json_object_del(ev, "refs");

	arr = json_array();
	for (i = 0; i <= LEDGER_RECIPIENTS_MAX; i++) {
		snprintf(id, sizeof(id), "org-%zu", i);
		json_array_append_new(arr, json_string(id));
	}
	json_object_set_new(ev, "recipients", arr);
	expect_refused(ev, &dev_rules, "too_large", "recipients", "65 recipients");
	json_object_set_new(ev, "recipients", json_pack("[s]", "kmar"));

	/* {"p":"…"} is 8 bytes around the string */
	json_object_set_new(ev, "details",
	    json_pack("{so}", "p", string_of(LEDGER_DETAILS_MAX - 8, 'd')));
	expect_valid(ev, &rules, "16 KiB details");
	json_object_set_new(ev, "details",
	    json_pack("{so}", "p", string_of(LEDGER_DETAILS_MAX - 7, 'd')));
	expect_refused(ev, &rules, "too_large", "details", "16 KiB + 1 details");
	json_decref(ev);
}

/*
 * HMAC-SHA-256 with key 00 01 … 1f, computed with
 *	printf %s ID | openssl dgst -sha256 -mac HMAC -macopt hexkey:0001…1f
 * and the hex turned into unpadded base64url.
 */
static const uint8_t test_key[LEDGER_SUBJECT_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void
test_subject_token(void)
{
	char tok[LEDGER_SUBJECT_TOKEN_LEN + 1];

	/* 72d9c948cdb17094371abdabb8aa7d5992edf606b8a11e4cc1102f1bd033849c */
	CHECK_INT(ledger_subject_token(test_key, "NL-123456789", 12, tok), 0);
	CHECK_STR(tok, "ctnJSM2xcJQ3Gr2ruKp9WZLt9ga4oR5MwRAvG9AzhJw");
	/* d1c75f33ff777086c07093591f371a4f27e54004915863753596ec59b438c998 */
	CHECK_INT(ledger_subject_token(test_key, "person-2", 8, tok), 0);
	CHECK_STR(tok, "0cdfM_93cIbAcJNZHzcaTyflQASRWGN1NZbsWbQ4yZg");
	/* d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb */
	CHECK_INT(ledger_subject_token(test_key, NULL, 0, tok), 0);
	CHECK_STR(tok, "04tCCW2A9F-Ca0Sp1WB95ySWpBXT9KGoyI47udqNwcs");
	CHECK_INT(strlen(tok), LEDGER_SUBJECT_TOKEN_LEN);
}

/* The token is OpenSSL's HMAC-SHA-256, for identifiers of every length. */
static void
test_subject_token_matches_openssl(void)
{
	char id[300], tok[LEDGER_SUBJECT_TOKEN_LEN + 1];
	char want[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t mac_len, bad = 0;

	for (size_t len = 0; len < sizeof(id); len++) {
		id[len] = (char)('!' + len * 7 % 90);
		if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, test_key,
		    sizeof(test_key), (unsigned char *)id, len, mac, sizeof(mac),
		    &mac_len) == NULL || mac_len != LEDGER_HASH_LEN ||
		    ledger_subject_token(test_key, id, len, tok) != 0) {
			bad++;
			continue;
		}
		ledger_b64url_encode(mac, LEDGER_HASH_LEN, want);
		if (strcmp(tok, want) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
}

static const char entry_event[] =
    "{\"type\":\"share\","
    "\"actor\":{\"org\":\"police\",\"user\":\"u-17\",\"role\":\"analyst\"},"
    "\"subjects\":[\"NL-123456789\",\"person-2\"],\"recipients\":[\"kmar\",\"om\"],"
    "\"object\":{\"ref\":\"doc/2026/0001\",\"digest\":\"" DIGEST "\"},"
    "\"purpose\":\"\\u00dcberpr\\u00fcfung \\ud83d\\ude00\","
    "\"legal_basis\":\"Art. 20 Wpg\",\"occurred_at\":\"2026-01-02T03:04:00+01:00\","
    "\"refs\":[3,1],\"details\":{\"note\":\"x\",\"n\":2},\"idempotency_key\":\"k-1\"}";

/*
 * The entry of entry_event with seq 7, prev = bytes 0x20..0x3f, salt =
 * bytes 0x40..0x4f.  Jansson writes \u escapes with uppercase hex digits.
 */
static const char expected_entry[] =
    "{\"actor\":{\"org\":\"police\",\"role\":\"analyst\",\"user\":\"u-17\"},"
    "\"details\":{\"n\":2,\"note\":\"x\"},\"idempotency_key\":\"k-1\","
    "\"legal_basis\":\"Art. 20 Wpg\","
    "\"object\":{\"digest\":\"" DIGEST "\",\"ref\":\"doc/2026/0001\"},"
    "\"occurred_at\":\"2026-01-02T03:04:00+01:00\","
    "\"prev\":\"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\","
    "\"purpose\":\"\\u00DCberpr\\u00FCfung \\uD83D\\uDE00\","
    "\"received_at\":\"2026-01-02T02:04:05.123456Z\","
    "\"recipients\":[\"kmar\",\"om\"],\"refs\":[3,1],"
    "\"salt\":\"QEFCQ0RFRkdISUpLTE1OTw==\",\"seq\":7,"
    "\"subjects\":[\"ctnJSM2xcJQ3Gr2ruKp9WZLt9ga4oR5MwRAvG9AzhJw\","
    "\"0cdfM_93cIbAcJNZHzcaTyflQASRWGN1NZbsWbQ4yZg\"],"
    "\"submitter\":\"police-app\",\"type\":\"share\",\"v\":2}";

static void
test_meta(struct ledger_entry_meta *meta)
{
	size_t i;

	memset(meta, 0, sizeof(*meta));
	meta->seq = 7;
	strcpy(meta->received_at, "2026-01-02T02:04:05.123456Z");
	meta->submitter = "police-app";
	for (i = 0; i < LEDGER_HASH_LEN; i++)
		meta->prev[i] = (uint8_t)(0x20 + i);
	for (i = 0; i < LEDGER_SALT_LEN; i++)
		meta->salt[i] = (uint8_t)(0x40 + i);
}

static void
test_entry_bytes(void)
{
	struct ledger_entry_meta meta;
	json_t *ev = load(entry_event);
	char *out = NULL;
	size_t len = 0;

	REQUIRE(ev != NULL);
	expect_valid(ev, &rules, "entry event");
	test_meta(&meta);
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), 0);
	REQUIRE(out != NULL);
	CHECK_INT(len, strlen(expected_entry));
	if (len == strlen(expected_entry))
		CHECK_MEM(out, expected_entry, len);
	else
		fprintf(stderr, "  got %.*s\n", (int)len, out);
	/* no clear subject identifier anywhere in the entry */
	CHECK(memmem(out, len, "NL-123456789", 12) == NULL);
	CHECK(memmem(out, len, "person-2", 8) == NULL);
	/* the caller's event is untouched */
	CHECK_STR(json_string_value(json_array_get(json_object_get(ev, "subjects"), 0)),
	    "NL-123456789");
	CHECK(json_object_get(ev, "seq") == NULL);
	free(out);
	json_decref(ev);
}

static void
test_entry_refusals(void)
{
	struct ledger_entry_meta meta;
	json_t *ev = load(entry_event);
	char *out = (char *)"x";
	size_t len = 1;

	REQUIRE(ev != NULL);
	test_meta(&meta);
	json_object_set_new(ev, "seq", json_integer(1));
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_EINVAL);
	CHECK(out == NULL);
	CHECK_INT(len, 0);
	json_object_del(ev, "seq");
	json_object_set_new(ev, "salt", json_string("QEFCQ0RFRkdISUpLTE1OTw=="));
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_EINVAL);
	json_object_del(ev, "salt");

	json_object_set_new(ev, "subjects", json_pack("[i]", 1));
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_EINVAL);
	json_object_set_new(ev, "subjects", json_array());

	strcpy(meta.received_at, "2026-01-02T02:04:05Z");
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_EINVAL);
	test_meta(&meta);
	meta.submitter = NULL;
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_EINVAL);
	test_meta(&meta);
	meta.seq = UINT64_MAX;
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_EINVAL);
	json_decref(ev);
}

/* The length of entry_event's entry with an empty details.pad. */
static size_t
padded_entry_base(json_t *ev, const struct ledger_entry_meta *meta)
{
	char *out = NULL;
	size_t len = 0;

	json_object_set_new(ev, "details", json_pack("{so}", "pad", string_of(0, 'p')));
	if (ledger_entry_encode(ev, meta, test_key, &out, &len) != 0)
		len = 0;
	free(out);
	return len;
}

/* An entry of exactly 65,535 bytes is made; one byte more is refused. */
static void
test_entry_size_limit(void)
{
	struct ledger_entry_meta meta;
	json_t *ev = load(entry_event);
	char *out = NULL;
	size_t len = 0, base;

	REQUIRE(ev != NULL);
	test_meta(&meta);
	REQUIRE((base = padded_entry_base(ev, &meta)) > 0);

	json_object_set_new(ev, "details",
	    json_pack("{so}", "pad", string_of(LEDGER_ENTRY_MAX - base, 'p')));
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), 0);
	CHECK_INT(len, 65535);
	free(out);

	json_object_set_new(ev, "details",
	    json_pack("{so}", "pad", string_of(LEDGER_ENTRY_MAX - base + 1, 'p')));
	CHECK_INT(ledger_entry_encode(ev, &meta, test_key, &out, &len), LEDGER_ETOOBIG);
	CHECK(out == NULL);
	CHECK_INT(len, 0);
	json_decref(ev);
}

/*
 * Entries around the size the serialiser first tries on its stack come out
 * as Jansson serialises them.
 */
static void
test_entry_dump_sizes(void)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII;
	struct ledger_entry_meta meta;
	json_t *ev = load(entry_event), *entry;
	size_t len, base, bad = 0, seen = 0;
	char *out, *want;

	REQUIRE(ev != NULL);
	test_meta(&meta);
	REQUIRE((base = padded_entry_base(ev, &meta)) > 0);
	for (size_t target = 4090; target <= 4100; target++) {
		json_object_set_new(ev, "details",
		    json_pack("{so}", "pad", string_of(target - base, 'p')));
		REQUIRE(ledger_entry_build(ev, &meta, test_key, &entry) == 0);
		want = json_dumps(entry, flags);
		if (ledger_entry_dump(entry, &out, &len) != 0 || want == NULL ||
		    len != target || len != strlen(want) || memcmp(out, want, len) != 0)
			bad++;
		seen++;
		free(out);
		free(want);
		json_decref(entry);
	}
	CHECK_INT(seen, 11);
	CHECK_INT(bad, 0);
	json_decref(ev);
}

/*
 * Tokens made elsewhere (the key keeper) give the same entry bytes as the
 * key: the vectors of ledger_entry_build hold for ledger_entry_build_tokens.
 */
static void
test_entry_build_tokens(void)
{
	struct ledger_entry_meta meta;
	json_t *ev = load(base_share), *a = NULL, *b = NULL;
	char t1[LEDGER_SUBJECT_TOKEN_LEN + 1], t2[LEDGER_SUBJECT_TOKEN_LEN + 1];
	const char *tokens[2] = { t1, t2 }, *bad[2] = { t1, "not-a-token" };
	char *x = NULL, *y = NULL;
	size_t xl, yl;

	REQUIRE(ev != NULL);
	json_object_del(ev, "idempotency_key");
	test_meta(&meta);
	REQUIRE(ledger_subject_token(test_key, "NL-1", 4, t1) == 0);
	REQUIRE(ledger_subject_token(test_key, "NL-2", 4, t2) == 0);
	REQUIRE(ledger_entry_build(ev, &meta, test_key, &a) == 0);
	REQUIRE(ledger_entry_build_tokens(ev, &meta, tokens, 2, &b) == 0);
	REQUIRE(ledger_entry_dump(a, &x, &xl) == 0);
	REQUIRE(ledger_entry_dump(b, &y, &yl) == 0);
	CHECK(xl == yl && memcmp(x, y, xl) == 0);
	json_decref(b);
	b = (json_t *)1;
	/* One token per subject, each well-formed. */
	CHECK_INT(ledger_entry_build_tokens(ev, &meta, tokens, 1, &b), LEDGER_EINVAL);
	CHECK(b == NULL);
	CHECK_INT(ledger_entry_build_tokens(ev, &meta, bad, 2, &b), LEDGER_EINVAL);
	CHECK_INT(ledger_entry_build_tokens(ev, &meta, NULL, 2, &b), LEDGER_EINVAL);
	free(x);
	free(y);
	json_decref(a);
	json_decref(ev);
}

/* Periods: named by received_at; their two keys differ (spec §3.2). */
static void
test_period_names(void)
{
	char p[LEDGER_PERIOD_ID_MAX + 1];
	uint8_t secret[LEDGER_PERIOD_SECRET_LEN] = { 1, 2, 3 };
	uint8_t tk[32], sk[32], tk2[32];
	enum ledger_period_kind k;

	CHECK_INT(ledger_period_name("2026-11-30T23:00:00.000000Z",
	    LEDGER_PERIOD_QUARTER, p), 0);
	CHECK_STR(p, "2026-Q4");
	CHECK_INT(ledger_period_name("2026-01-01T00:00:00.000000Z",
	    LEDGER_PERIOD_QUARTER, p), 0);
	CHECK_STR(p, "2026-Q1");
	CHECK_INT(ledger_period_name("2026-03-31T23:59:59.999999Z",
	    LEDGER_PERIOD_QUARTER, p), 0);
	CHECK_STR(p, "2026-Q1");
	CHECK_INT(ledger_period_name("2026-04-01T00:00:00.000000Z",
	    LEDGER_PERIOD_QUARTER, p), 0);
	CHECK_STR(p, "2026-Q2");
	CHECK_INT(ledger_period_name("2026-07-05T00:00:00Z",
	    LEDGER_PERIOD_MONTH, p), 0);
	CHECK_STR(p, "2026-07");
	CHECK_INT(ledger_period_name("2026-07-05T00:00:00Z",
	    LEDGER_PERIOD_YEAR, p), 0);
	CHECK_STR(p, "2026");
	CHECK_INT(ledger_period_name("2026-13-05T00:00:00Z",
	    LEDGER_PERIOD_MONTH, p), LEDGER_EINVAL);
	CHECK_INT(ledger_period_name("26-1", LEDGER_PERIOD_MONTH, p),
	    LEDGER_EINVAL);
	CHECK_INT(ledger_period_name("2026-07-05T00:00:00Z",
	    LEDGER_PERIOD_KIND_MAX, p), LEDGER_EINVAL);
	CHECK_INT(ledger_period_kind_parse("month", &k), 0);
	CHECK_INT(k, LEDGER_PERIOD_MONTH);
	CHECK_INT(ledger_period_kind_parse("week", &k), LEDGER_EINVAL);

	REQUIRE(ledger_period_token_key(secret, tk) == 0);
	REQUIRE(ledger_period_seal_key(secret, sk) == 0);
	CHECK(memcmp(tk, sk, 32) != 0);
	CHECK(memcmp(tk, secret, 32) != 0);
	secret[31] ^= 1;
	REQUIRE(ledger_period_token_key(secret, tk2) == 0);
	CHECK(memcmp(tk, tk2, 32) != 0);
}

/* Parses text as an entry; on refusal checks the field and code. */
static void
expect_entry_refused(const char *text, const char *field, const char *code)
{
	struct ledger_field_error err;
	json_t *entry = (json_t *)1;

	memset(&err, 0, sizeof(err));
	CHECK_INT(ledger_entry_parse(text, strlen(text), &entry, &err), LEDGER_EINVAL);
	CHECK(entry == NULL);
	CHECK_STR(err.field, field);
	CHECK_STR(err.code, code);
}

/* expected_entry with its salt's value replaced by JSON text ("" drops it). */
static char *
entry_with_salt(const char *value)
{
	const char *member = "\"salt\":\"QEFCQ0RFRkdISUpLTE1OTw==\",";
	const char *at = strstr(expected_entry, member);
	size_t head;

	if (at == NULL)
		return NULL;
	head = (size_t)(at - expected_entry);
	if (value[0] == '\0')
		return xasprintf("%.*s%s", (int)head, expected_entry,
		    at + strlen(member));
	return xasprintf("%.*s\"salt\":%s,%s", (int)head, expected_entry,
	    value, at + strlen(member));
}

/*
 * ledger_entry_parse reads what ledger_entry_encode makes, salt included,
 * and refuses an entry whose salt is missing or not 16 bytes of canonical
 * base64.
 */
static void
test_entry_parse_salt(void)
{
	static const char *const bad[] = {
		"",				/* missing */
		"\"QEFCQ0RFRkdISUpLTE1O\"",	/* 15 bytes */
		"\"QEFCQ0RFRkdISUpLTE1OT1A=\"",	/* 17 bytes */
		"\"QEFCQ0RFRkdISUpLTE1OTw\"",	/* unpadded */
		"\"QEFCQ0RFRkdISUpLTE1OTx==\"",	/* non-zero trailing bits */
		"\"QEFCQ0RFRkdISUpLTE1OT-_\"",	/* base64url */
		"16",				/* not a string */
	};
	struct ledger_field_error err;
	json_t *entry = NULL;
	char *text;
	size_t i;

	CHECK_INT(ledger_entry_parse(expected_entry, strlen(expected_entry), &entry,
	    &err), 0);
	REQUIRE(entry != NULL);
	CHECK_STR(json_string_value(json_object_get(entry, "salt")),
	    "QEFCQ0RFRkdISUpLTE1OTw==");
	json_decref(entry);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REQUIRE((text = entry_with_salt(bad[i])) != NULL);
		expect_entry_refused(text, "salt", "invalid_value");
		free(text);
	}
}

/* expected_entry with "v":2 made "v":N (text kept otherwise). */
static char *
entry_with_version(const char *text, int version)
{
	const char *at = strstr(text, "\"v\":2}");

	if (at == NULL)
		return NULL;
	return xasprintf("%.*s\"v\":%d}", (int)(at - text), text, version);
}

/*
 * Version 1 entries, written before salts existed, read without a salt;
 * version 2 needs one, version 1 may not have one; version 3 (the form of a
 * retention policy, spec §2.10) reads like 2; no other version reads.
 */
static void
test_entry_parse_versions(void)
{
	struct ledger_field_error err;
	json_t *entry = NULL;
	char *no_salt, *text;

	REQUIRE((no_salt = entry_with_salt("")) != NULL);
	REQUIRE((text = entry_with_version(no_salt, 1)) != NULL);
	CHECK_INT(ledger_entry_parse(text, strlen(text), &entry, &err), 0);
	CHECK(json_object_get(entry, "salt") == NULL);
	json_decref(entry);
	free(text);

	expect_entry_refused(no_salt, "salt", "invalid_value");	/* v 2 */
	REQUIRE((text = entry_with_version(expected_entry, 1)) != NULL);
	expect_entry_refused(text, "salt", "unknown_field");
	free(text);
	REQUIRE((text = entry_with_version(expected_entry, 3)) != NULL);
	CHECK_INT(ledger_entry_parse(text, strlen(text), &entry, &err), 0);
	json_decref(entry);
	free(text);
	for (int v = -1; v <= 5; v += (v == 0 ? 4 : 1)) {	/* -1 0 4 5 */
		REQUIRE((text = entry_with_version(expected_entry, v)) != NULL);
		expect_entry_refused(text, "v", "invalid_value");
		free(text);
	}
	free(no_salt);
}

static void
test_entry_salt_new(void)
{
	uint8_t a[LEDGER_SALT_LEN], b[LEDGER_SALT_LEN];

	CHECK_INT(ledger_entry_salt_new(a), 0);
	CHECK_INT(ledger_entry_salt_new(b), 0);
	CHECK(memcmp(a, b, LEDGER_SALT_LEN) != 0);
}

static int
salt_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LEDGER_SALT_LEN);
}

/* Salts drawn across several refills of the pool are all different. */
static void
test_entry_salt_pool_refills(void)
{
	enum { N = 1000 };	/* about four pools' worth */
	static uint8_t salts[N][LEDGER_SALT_LEN];
	static const uint8_t zero[LEDGER_SALT_LEN];
	size_t i;

	for (i = 0; i < N; i++) {
		CHECK_INT(ledger_entry_salt_new(salts[i]), 0);
		CHECK(memcmp(salts[i], zero, LEDGER_SALT_LEN) != 0);
	}
	qsort(salts, N, LEDGER_SALT_LEN, salt_cmp);
	for (i = 1; i < N; i++)
		CHECK(memcmp(salts[i - 1], salts[i], LEDGER_SALT_LEN) != 0);
}

/*
 * A forked child does not hand out the salts its parent holds in its pool:
 * the child's first salt differs from the parent's next one.
 */
static void
test_entry_salt_after_fork(void)
{
	uint8_t first[LEDGER_SALT_LEN], parent[LEDGER_SALT_LEN];
	uint8_t child[LEDGER_SALT_LEN];
	int fds[2], status;
	pid_t pid;

	CHECK_INT(ledger_entry_salt_new(first), 0);	/* the pool is filled */
	CHECK_INT(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		uint8_t s[LEDGER_SALT_LEN];
		int ok = ledger_entry_salt_new(s) == 0 &&
		    write(fds[1], s, sizeof(s)) == (ssize_t)sizeof(s);

		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0);
	close(fds[1]);
	CHECK_INT(ledger_entry_salt_new(parent), 0);
	CHECK_INT((int)read(fds[0], child, sizeof(child)), (int)sizeof(child));
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(memcmp(parent, child, LEDGER_SALT_LEN) != 0);
	CHECK(memcmp(first, child, LEDGER_SALT_LEN) != 0);
}

static void
test_rfc3339_valid(void)
{
	static const struct {
		const char *s;
		int64_t usec;
	} cases[] = {
		{ "2000-01-01T00:00:00Z", INT64_C(946684800000000) },
		{ "2000-01-01T01:00:00+01:00", INT64_C(946684800000000) },
		{ "1999-12-31T19:00:00-05:00", INT64_C(946684800000000) },
		{ "2000-01-01T00:00:00-00:00", INT64_C(946684800000000) },
		{ "2000-02-29T12:00:00Z", INT64_C(951825600000000) },
		{ "2024-02-29T23:59:59.999999Z", INT64_C(1709251199999999) },
		{ "1600-02-29T00:00:00Z", INT64_C(-11670998400000000) },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59.999999Z", -1 },
		{ "2026-01-02T03:04:05.5+05:30", INT64_C(1767303245500000) },
		{ "2026-01-02T02:04:05.123456Z", INT64_C(1767319445123456) },
		{ "2026-01-02T02:04:05.123456789Z", INT64_C(1767319445123456) },
		{ "2026-01-02T02:04:05.1234567Z", INT64_C(1767319445123456) },
		{ "0001-01-01T00:00:00Z", INT64_C(-62135596800000000) },
		{ "0000-01-01T00:00:00Z", INT64_C(-62167219200000000) },
		{ "9999-12-31T23:59:59.999999Z", INT64_C(253402300799999999) },
		{ "2026-12-31T23:59:59+23:59", INT64_C(1798675259000000) },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t usec = 0;

		if (ledger_time_parse_rfc3339(cases[i].s, &usec) != 0) {
			fprintf(stderr, "  refused %s\n", cases[i].s);
			test_failures_++;
			continue;
		}
		CHECK_INT(usec, cases[i].usec);
	}
	CHECK_INT(ledger_time_parse_rfc3339("2000-01-01T00:00:00Z", NULL), 0);
}

static void
test_rfc3339_invalid(void)
{
	static const char *const cases[] = {
		"", "2000", "2000-01-01", "2000-01-01T00:00Z",
		"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2000-04-31T00:00:00Z", "2000-13-01T00:00:00Z", "2000-00-10T00:00:00Z",
		"2000-01-00T00:00:00Z", "2000-01-32T00:00:00Z",
		"2000-01-01t00:00:00Z", "2000-01-01T00:00:00z", "2000-01-01 00:00:00Z",
		"2000-01-01T24:00:00Z", "2000-01-01T23:60:00Z", "2000-01-01T23:59:60Z",
		"2000-01-01T00:00:00", "2000-01-01T00:00:00+01", "2000-01-01T00:00:00+0100",
		"2000-01-01T00:00:00+24:00", "2000-01-01T00:00:00+01:60",
		"2000-01-01T00:00:00.Z", "2000-01-01T00:00:00.1234567890Z",
		"2000-01-01T00:00:00,5Z", "2000-01-01T00:00:00Z ", " 2000-01-01T00:00:00Z",
		"2000-1-01T00:00:00Z", "20000-01-01T00:00:00Z", "+2000-01-01T00:00:00Z",
		"2000-01-01T00:00:00ZZ", "2000-01-01T0:00:00Z", "2000-01-01T00:00:00+1:00",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t usec = 42;

		if (ledger_time_parse_rfc3339(cases[i], &usec) != LEDGER_EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", cases[i]);
			test_failures_++;
		}
		CHECK_INT(usec, 42);
	}
	CHECK_INT(ledger_time_parse_rfc3339(NULL, NULL), LEDGER_EINVAL);
}

static void
test_time_format(void)
{
	static const struct {
		int64_t usec;
		const char *s;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ INT64_C(946684800000000), "2000-01-01T00:00:00.000000Z" },
		{ INT64_C(951825600000001), "2000-02-29T12:00:00.000001Z" },
		{ INT64_C(1767319445123456), "2026-01-02T02:04:05.123456Z" },
		{ INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z" },
		{ INT64_C(-62167219200000000), "0000-01-01T00:00:00.000000Z" },
		/* clamped */
		{ INT64_MAX, "9999-12-31T23:59:59.999999Z" },
		{ INT64_MIN, "0000-01-01T00:00:00.000000Z" },
	};
	char buf[LEDGER_TIME_LEN + 1];
	int64_t usec, back;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ledger_time_format(cases[i].usec, buf);
		CHECK_STR(buf, cases[i].s);
		CHECK_INT(strlen(buf), LEDGER_TIME_LEN);
	}
	/* round trip across eras, leap days and negative times */
	for (usec = INT64_C(-62167219200000000); usec < INT64_C(253402300799999999);
	    usec += INT64_C(86399999937) * 1009) {
		ledger_time_format(usec, buf);
		back = 0;
		CHECK_INT(ledger_time_parse_rfc3339(buf, &back), 0);
		if (back != usec) {
			fprintf(stderr, "  round trip %s: %" PRId64 " != %" PRId64 "\n",
			    buf, back, usec);
			test_failures_++;
			break;
		}
	}
}

/*
 * The org id rule, byte by byte against its statement: every byte alone,
 * every length around the bound, and a bad byte at each position.
 */
static void
test_org_id_rule(void)
{
	char id[LEDGER_ID_MAX + 2];
	size_t len, pos;
	int c, want;

	for (c = 0; c < 256; c++) {
		id[0] = (char)c;
		want = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
		CHECK_INT(ledger_org_id_valid(id, 1), want);
	}
	CHECK_INT(ledger_org_id_valid("", 0), 0);
	for (len = 1; len <= LEDGER_ID_MAX + 1; len++) {
		memset(id, 'a', len);
		CHECK_INT(ledger_org_id_valid(id, len), len <= LEDGER_ID_MAX);
		for (pos = 0; pos < len && len <= LEDGER_ID_MAX; pos++) {
			id[pos] = 'A';
			CHECK_INT(ledger_org_id_valid(id, len), 0);
			id[pos] = '\0';
			CHECK_INT(ledger_org_id_valid(id, len), 0);
			id[pos] = 'a';
		}
	}
}

int
main(void)
{
	RUN(test_valid_events);
	RUN(test_invalid_table);
	RUN(test_invalid_shapes);
	RUN(test_org_rules);
	RUN(test_org_id_rule);
	RUN(test_limits);
	RUN(test_subject_token);
	RUN(test_subject_token_matches_openssl);
	RUN(test_entry_bytes);
	RUN(test_entry_refusals);
	RUN(test_entry_size_limit);
	RUN(test_entry_dump_sizes);
	RUN(test_entry_parse_salt);
	RUN(test_entry_parse_versions);
	RUN(test_entry_salt_new);
	RUN(test_entry_salt_pool_refills);
	RUN(test_entry_salt_after_fork);
	RUN(test_entry_build_tokens);
	RUN(test_period_names);
	RUN(test_rfc3339_valid);
	RUN(test_rfc3339_invalid);
	RUN(test_time_format);
	return TEST_SUMMARY();
}
