/*
 * Fuzzes event validation (spec §2.2) and entry production: any JSON text
 * that validates must turn into an entry of at most 65,535 bytes that is
 * its own canonical serialisation, carries the server fields asked for,
 * and holds no subject identifier in the clear.
 */
#include <string.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"

#include "fuzz.h"

#define INPUT_MAX (128 * 1024)

static const char *const orgs[] = {
	"police", "kmar", "aivd", "mivd", "om", "ind", "fiod", "fiu", "szw",
	"nctv", "board",
};

static void
check_entry(const json_t *event, const char *bytes, size_t len, uint64_t seq)
{
	json_t *entry, *subjects, *s;
	json_error_t jerr;
	char *again;
	size_t i;

	FUZZ_ASSERT(len > 0 && len <= LEDGER_ENTRY_MAX);
	FUZZ_ASSERT(memchr(bytes, '\n', len) == NULL);
	entry = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_ASSERT(entry != NULL);
	/* The stored bytes are their own canonical form (spec §2.4). */
	again = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	FUZZ_ASSERT(again != NULL && strlen(again) == len &&
	    memcmp(again, bytes, len) == 0);
	free(again);
	FUZZ_ASSERT(json_integer_value(json_object_get(entry, "v")) ==
	    LEDGER_ENTRY_VERSION);
	/* Whatever the server writes, every reader reads (spec §2.4). */
	{
		struct ledger_field_error err;
		json_t *read;

		FUZZ_ASSERT(ledger_entry_parse(bytes, len, &read, &err) == 0);
		FUZZ_ASSERT(json_equal(read, entry));
		json_decref(read);
	}
	FUZZ_ASSERT((uint64_t)json_integer_value(json_object_get(entry, "seq")) == seq);
	FUZZ_ASSERT(json_is_string(json_object_get(entry, "received_at")));
	/* Subjects travel only as tokens (spec §3). */
	subjects = json_object_get(entry, "subjects");
	FUZZ_ASSERT(json_array_size(subjects) ==
	    json_array_size(json_object_get(event, "subjects")));
	json_array_foreach(subjects, i, s)
		FUZZ_ASSERT(json_string_length(s) == LEDGER_SUBJECT_TOKEN_LEN);
	json_decref(entry);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[LEDGER_SUBJECT_KEY_LEN] = { 1, 2, 3 };
	struct ledger_event_rules rules = { orgs, sizeof(orgs) / sizeof(orgs[0]), 0 };
	struct ledger_field_error ferr;
	struct ledger_entry_meta meta;
	json_t *event;
	char *bytes = NULL;
	size_t len = 0;
	int rc;

	if (size < 1 || size > INPUT_MAX)
		return -1;
	/* The first byte picks the rules: registered orgs or any (development). */
	if (data[0] & 1)
		rules.orgs = NULL, rules.n_orgs = 0;
	rules.server_types = (data[0] & 2) != 0;
	event = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES,
	    NULL);
	if (event == NULL)
		return 0;
	memset(&ferr, 0, sizeof(ferr));
	rc = ledger_event_validate(event, &rules, &ferr);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL);
	if (rc != 0) {
		/* The refusal names a code and is printable as JSON. */
		FUZZ_ASSERT(ferr.code[0] != '\0');
		FUZZ_ASSERT(memchr(ferr.field, '\0', sizeof(ferr.field)) != NULL);
		json_t *msg = json_string(ferr.message);
		FUZZ_ASSERT(msg != NULL);
		json_decref(msg);
		json_decref(event);
		return 0;
	}
	memset(&meta, 0, sizeof(meta));
	meta.seq = (uint64_t)data[0] * 1000003u;
	ledger_time_format(1773480414120337LL, meta.received_at);
	meta.submitter = "police-app";
	rc = ledger_entry_encode(event, &meta, key, &bytes, &len);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_ETOOBIG);
	if (rc == 0) {
		uint8_t leaf[LEDGER_HASH_LEN];

		check_entry(event, bytes, len, meta.seq);
		FUZZ_ASSERT(ledger_leaf_hash(bytes, len, leaf) == 0);
	} else {
		FUZZ_ASSERT(bytes == NULL);
	}
	free(bytes);
	json_decref(event);
	return 0;
}
