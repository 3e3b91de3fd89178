/*
 * Sealed fields (spec §2.10): the commitment against vectors computed
 * independently (Python's hashlib, see the spec), the version 3 entry form
 * that ledger_entry_parse accepts and refuses, sealing with plaintexts
 * made from the event before the entry is built (as the writer does), and
 * the check every reader makes of opened values: a value that is not the
 * committed one fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/sealed.h"

#include "testlib.h"

static const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN] = { 7, 7, 7, 7 };

static const char event_text[] =
    "{\"type\":\"share\",\"actor\":{\"org\":\"police\",\"user\":\"u-1\"},"
    "\"subjects\":[\"NL-BSN-123456782\"],\"recipients\":[\"om\"],"
    "\"object\":{\"ref\":\"case-1\"},\"purpose\":\"investigation\","
    "\"occurred_at\":\"2026-03-14T09:26:53Z\","
    "\"details\":{\"note\":\"Z\\u00fcrich\",\"n\":1}}";

static const char *const policy_fields[] = { "purpose", "details" };

/* A version 3 entry of event_text; plain gets the sealed plaintexts. */
static json_t *
sealed_entry(struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX], size_t *n)
{
	struct ledger_entry_meta meta;
	json_t *ev, *entry = NULL;

	memset(&meta, 0, sizeof(meta));
	meta.seq = 3;
	snprintf(meta.received_at, sizeof(meta.received_at), "2026-03-14T09:26:54.000001Z");
	meta.submitter = "police-app";
	ev = json_loads(event_text, 0, NULL);
	if (ev == NULL || ledger_entry_build(ev, &meta, subject_key, &entry) != 0 ||
	    ledger_entry_seal(entry, policy_fields, 2, plain, n) != 0) {
		fprintf(stderr, "cannot build the sealed entry\n");
		exit(1);
	}
	json_decref(ev);
	return entry;
}

static void
test_commitment_vectors(void)
{
	/*
	 * hashlib.sha256(b"ledgerd sealed v1\0" + field + b"\0" +
	 * bytes(range(32)) + value).hexdigest()
	 */
	static const char purpose_hex[] =
	    "b2de6c67409eaf23809d6105d862ad2751e337f960aca191417faeba224fc352";
	static const char details_hex[] =
	    "1add0368ea33a04fc2398c0b71af2c9c9e53572a5534b9ec46ffc2449b6741a4";
	uint8_t salt[LEDGER_SEAL_SALT_LEN], d[LEDGER_HASH_LEN];
	char hex[2 * LEDGER_HASH_LEN + 1], *bytes;
	json_t *details;
	size_t i, len;

	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	CHECK_INT(ledger_sealed_commitment("purpose", salt, "\"investigation\"", 15, d), 0);
	for (i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	CHECK_STR(hex, purpose_hex);

	/* The value bytes are the entry serialisation: sorted, ASCII only. */
	details = json_loads("{\"n\":1,\"case\":\"Z\\u00fcrich\"}", 0, NULL);
	REQUIRE(details != NULL);
	CHECK_INT(ledger_sealed_value_bytes(details, &bytes, &len), 0);
	CHECK_INT(len, strlen("{\"case\":\"Z\\u00FCrich\",\"n\":1}"));
	CHECK(memcmp(bytes, "{\"case\":\"Z\\u00FCrich\",\"n\":1}", len) == 0);
	CHECK_INT(ledger_sealed_commitment("details", salt, bytes, len, d), 0);
	for (i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	CHECK_STR(hex, details_hex);
	free(bytes);
	json_decref(details);
}

static void
test_sealed_entry_round_trip(void)
{
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	struct ledger_field_error err;
	json_t *entry, *parsed, *opened, *o, *shown;
	char *bytes;
	size_t n, len, i;

	entry = sealed_entry(plain, &n);
	CHECK_INT(n, 2);
	CHECK_INT(json_integer_value(json_object_get(entry, "v")), 3);
	CHECK(json_object_get(entry, "purpose") == NULL);
	CHECK(json_object_get(entry, "details") == NULL);
	REQUIRE(ledger_entry_dump(entry, &bytes, &len) == 0);
	/* The clear values are nowhere in the leaf. */
	CHECK(memmem(bytes, len, "investigation", 13) == NULL);
	CHECK(memmem(bytes, len, "rich", 4) == NULL);
	CHECK_INT(ledger_entry_parse(bytes, len, &parsed, &err), 0);

	opened = json_object();
	for (i = 0; i < n; i++) {
		CHECK_INT(ledger_sealed_opened(plain[i].field, plain[i].plain,
		    plain[i].plain_len, &o), 0);
		json_object_set_new(opened, plain[i].field, o);
	}
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), 0);
	ledger_entry_with_opened(parsed, opened, &shown);
	CHECK_STR(json_string_value(json_object_get(shown, "purpose")), "investigation");
	json_decref(shown);

	/* A server lying about a value is caught. */
	json_object_set_new(json_object_get(opened, "purpose"), "value",
	    json_string("routine check"));
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), LEDGER_EVERIFY);
	CHECK_STR(err.code, "commitment_mismatch");
	CHECK_STR(err.field, "opened.purpose");

	/* Destroyed and withheld markers stand for a value; nothing is no answer. */
	json_object_set_new(opened, "purpose", json_pack("{s:i}", "destroyed", 40));
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), 0);
	json_object_set_new(opened, "purpose", json_pack("{s:b}", "withheld", 1));
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), 0);
	json_object_del(opened, "purpose");
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), LEDGER_EVERIFY);
	CHECK_STR(err.code, "missing_field");
	CHECK_INT(ledger_entry_check_opened(parsed, NULL, &err), LEDGER_EVERIFY);
	json_object_set_new(opened, "purpose", json_pack("{s:i}", "destroyed", 40));
	json_object_set_new(opened, "legal_basis", json_pack("{s:i}", "destroyed", 40));
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), LEDGER_EVERIFY);
	CHECK_STR(err.code, "unknown_field");

	json_decref(opened);
	json_decref(parsed);
	json_decref(entry);
	free(bytes);
	ledger_sealed_plain_free(plain, n);
}

/* Dumps entry after f changed it and returns what the parse says. */
static int
parse_changed(void (*f)(json_t *), struct ledger_field_error *err)
{
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	json_t *entry, *parsed = NULL;
	char *bytes;
	size_t n, len;
	int rc;

	entry = sealed_entry(plain, &n);
	ledger_sealed_plain_free(plain, n);
	f(entry);
	if (ledger_entry_dump(entry, &bytes, &len) != 0) {
		json_decref(entry);
		return 99;
	}
	rc = ledger_entry_parse(bytes, len, &parsed, err);
	json_decref(parsed);
	json_decref(entry);
	free(bytes);
	return rc;
}

static void also_clear(json_t *e) { json_object_set_new(e, "purpose", json_string("x")); }
static void as_v2(json_t *e) { json_object_set_new(e, "v", json_integer(2)); }
static void bad_field(json_t *e)
{
	json_object_set_new(json_object_get(e, "sealed"), "type",
	    json_string("st5sZ0CeryOAnWEF2GKtJ1HjN/lgrKGRQX+uuiJPw1I="));
}
static void short_commitment(json_t *e)
{
	json_object_set_new(json_object_get(e, "sealed"), "purpose", json_string("AAAA"));
}
static void empty_sealed(json_t *e) { json_object_set_new(e, "sealed", json_object()); }
static void no_sealed(json_t *e)
{
	json_object_del(e, "sealed");
	json_object_set_new(e, "purpose", json_string("investigation"));
}

static void
test_sealed_entry_form(void)
{
	struct ledger_field_error err;

	CHECK_INT(parse_changed(also_clear, &err), LEDGER_EINVAL);
	CHECK_STR(err.field, "sealed.purpose");
	CHECK_INT(parse_changed(as_v2, &err), LEDGER_EINVAL);
	CHECK_STR(err.field, "sealed");
	CHECK_INT(parse_changed(bad_field, &err), LEDGER_EINVAL);
	CHECK_STR(err.field, "sealed.type");
	CHECK_INT(parse_changed(short_commitment, &err), LEDGER_EINVAL);
	CHECK_STR(err.field, "sealed.purpose");
	CHECK_INT(parse_changed(empty_sealed, &err), LEDGER_EINVAL);
	CHECK_STR(err.field, "sealed");
	/* A version 3 entry with nothing to seal has no "sealed". */
	CHECK_INT(parse_changed(no_sealed, &err), 0);
}

static void
test_seal_refuses(void)
{
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	static const char *const bad[] = { "object" };
	static const char *const twice[] = { "purpose", "purpose" };
	json_t *entry = json_pack("{s:s}", "purpose", "x");
	size_t n;

	CHECK_INT(ledger_entry_seal(entry, bad, 1, plain, &n), LEDGER_EINVAL);
	CHECK_INT(ledger_entry_seal(entry, twice, 2, plain, &n), LEDGER_EINVAL);
	CHECK(!ledger_sealable_field("subjects"));
	CHECK(ledger_sealable_field("legal_basis"));
	json_decref(entry);
}

/*
 * Sealing with plaintexts made from the event before its entry is built,
 * as the writer does: the entry's commitments open to the event's values,
 * and plaintexts that are not of the entry's values are refused.
 */
static void
test_seal_from_event(void)
{
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	struct ledger_field_error err;
	struct ledger_entry_meta meta;
	json_t *ev = json_loads(event_text, 0, NULL), *entry = NULL, *copy;
	json_t *parsed = NULL, *opened, *o;
	char *bytes = NULL;
	size_t len, n, i;

	memset(&meta, 0, sizeof(meta));
	meta.seq = 3;
	snprintf(meta.received_at, sizeof(meta.received_at), "2026-03-14T09:26:54.000001Z");
	meta.submitter = "police-app";
	REQUIRE(ev != NULL);
	REQUIRE(ledger_sealed_plain_make(ev, policy_fields, 2, plain, &n) == 0);
	CHECK_INT(n, 2);
	REQUIRE(ledger_entry_build(ev, &meta, subject_key, &entry) == 0);
	/* Another value than the one the plaintext holds. */
	copy = json_deep_copy(entry);
	json_object_set_new(copy, "purpose", json_string("something else"));
	CHECK_INT(ledger_entry_seal_plain(copy, policy_fields, 2, plain, n),
	    LEDGER_EINVAL);
	json_decref(copy);
	/* A plaintext of a field the entry does not hold. */
	copy = json_deep_copy(entry);
	json_object_del(copy, "details");
	CHECK_INT(ledger_entry_seal_plain(copy, policy_fields, 2, plain, n),
	    LEDGER_EINVAL);
	json_decref(copy);

	REQUIRE(ledger_entry_seal_plain(entry, policy_fields, 2, plain, n) == 0);
	CHECK(json_object_get(entry, "purpose") == NULL);
	CHECK(json_object_get(entry, "details") == NULL);
	REQUIRE(ledger_entry_dump(entry, &bytes, &len) == 0);
	REQUIRE(ledger_entry_parse(bytes, len, &parsed, &err) == 0);
	opened = json_object();
	for (i = 0; i < n; i++) {
		REQUIRE(ledger_sealed_opened(plain[i].field, plain[i].plain,
		    plain[i].plain_len, &o) == 0);
		json_object_set_new(opened, plain[i].field, o);
	}
	CHECK_INT(ledger_entry_check_opened(parsed, opened, &err), 0);
	json_decref(opened);
	json_decref(parsed);
	free(bytes);
	json_decref(entry);
	json_decref(ev);
	ledger_sealed_plain_free(plain, n);
}

int
main(void)
{
	RUN(test_commitment_vectors);
	RUN(test_sealed_entry_round_trip);
	RUN(test_sealed_entry_form);
	RUN(test_seal_refuses);
	RUN(test_seal_from_event);
	return TEST_SUMMARY();
}
