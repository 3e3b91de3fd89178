/*
 * Reading entry bytes (spec §2.4): the one definition of an entry that the
 * daemon and every verifier share.  An entry is accepted only when it is
 * exactly the bytes the server would have produced for it, so that no two
 * readers can see different fields in the same leaf.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/sealed.h"
#include "ledger/utf8.h"

static int
refuse(struct ledger_field_error *err, const char *field, const char *code,
    const char *message)
{
	if (err != NULL) {
		snprintf(err->field, sizeof(err->field), "%s", field);
		snprintf(err->code, sizeof(err->code), "%s", code);
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return LEDGER_EINVAL;
}

/* The server's fields: present, of their one form. */
static int
check_server_fields(const json_t *entry, struct ledger_field_error *err)
{
	uint8_t prev[LEDGER_HASH_LEN], salt[LEDGER_SALT_LEN];
	char again[LEDGER_TIME_LEN + 1];
	json_int_t version;
	const json_t *v;
	int64_t us;
	size_t n;

	v = json_object_get(entry, "v");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > LEDGER_ENTRY_VERSION_SEALED)
		return refuse(err, "v", "invalid_value",
		    "unknown entry format version (1, 2 or 3)");
	version = json_integer_value(v);
	v = json_object_get(entry, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return refuse(err, "seq", "invalid_value",
		    "seq is not a non-negative integer");
	/* Exactly as ledger_time_format writes it: UTC, six fraction digits. */
	v = json_object_get(entry, "received_at");
	if (!json_is_string(v) || json_string_length(v) != LEDGER_TIME_LEN ||
	    ledger_time_parse_rfc3339(json_string_value(v), &us) != 0 ||
	    (ledger_time_format(us, again), strcmp(again, json_string_value(v)) != 0))
		return refuse(err, "received_at", "invalid_value",
		    "received_at is not a time of the form 2026-01-02T03:04:05.123456Z");
	v = json_object_get(entry, "submitter");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > LEDGER_STRING_MAX ||
	    !ledger_utf8_text_valid(json_string_value(v), json_string_length(v)))
		return refuse(err, "submitter", "invalid_value",
		    "submitter is not a non-empty string without control characters");
	v = json_object_get(entry, "prev");
	if (!json_is_string(v) ||
	    ledger_b64_decode(json_string_value(v), json_string_length(v), prev,
	    sizeof(prev), &n) != 0 || n != LEDGER_HASH_LEN)
		return refuse(err, "prev", "invalid_value",
		    "prev is not the base64 of a 32-byte hash");
	/*
	 * Version 2 entries carry their secret entropy: without it anyone who
	 * guesses an entry's content could confirm the guess from its public
	 * leaf hash.  Version 1 entries, written before the salt existed, have
	 * none and stay readable as they are.
	 */
	v = json_object_get(entry, "salt");
	if (version == 1) {
		if (v != NULL)
			return refuse(err, "salt", "unknown_field",
			    "version 1 entries have no salt");
	} else if (!json_is_string(v) ||
	    ledger_b64_decode(json_string_value(v), json_string_length(v), salt,
	    sizeof(salt), &n) != 0 || n != LEDGER_SALT_LEN)
		return refuse(err, "salt", "invalid_value",
		    "salt is not the base64 of 16 bytes");
	return 0;
}

/*
 * Version 3 entries (written under a retention policy), and only they, may
 * hold "sealed": a commitment (base64 of
 * 32 bytes) for each sealable field taken out of the clear (spec §2.10).
 * So that the rest can be held to the event rules, each sealed field is put
 * back into event as a stand-in of its type: a field both sealed and in
 * clear is refused.
 */
static int
check_sealed(const json_t *entry, json_t *event, struct ledger_field_error *err)
{
	uint8_t digest[LEDGER_HASH_LEN];
	const json_t *sealed, *c;
	const char *field;
	char path[64];
	size_t n;

	sealed = json_object_get(entry, "sealed");
	if (json_integer_value(json_object_get(entry, "v")) != LEDGER_ENTRY_VERSION_SEALED) {
		if (sealed != NULL)
			return refuse(err, "sealed", "unknown_field",
			    "only version 3 entries seal fields");
		return 0;
	}
	if (sealed == NULL)
		return 0;
	if (!json_is_object(sealed) || json_object_size(sealed) == 0)
		return refuse(err, "sealed", "invalid_value",
		    "sealed is an object naming at least one field");
	json_object_del(event, "sealed");
	json_object_foreach((json_t *)sealed, field, c) {
		snprintf(path, sizeof(path), "sealed.%s", field);
		if (!ledger_sealable_field(field))
			return refuse(err, path, "unknown_field",
			    "not a field that can be sealed");
		if (!json_is_string(c) ||
		    ledger_b64_decode(json_string_value(c), json_string_length(c),
		    digest, sizeof(digest), &n) != 0 || n != sizeof(digest))
			return refuse(err, path, "invalid_value",
			    "a commitment is the base64 of 32 bytes");
		if (json_object_get(entry, field) != NULL)
			return refuse(err, path, "invalid_value",
			    "a sealed field is not also in clear");
		json_object_set_new(event, field, strcmp(field, "details") == 0 ?
		    json_object() : json_string("sealed"));
	}
	return 0;
}

int
ledger_entry_parse(const char *bytes, size_t len, json_t **out,
    struct ledger_field_error *err)
{
	static const struct ledger_event_rules any_org = { NULL, 0, 1 };
	json_t *entry = NULL, *event = NULL, *subjects, *s;
	char *again = NULL;
	size_t again_len, i;
	int rc;

	*out = NULL;
	if (len > LEDGER_ENTRY_MAX)
		return refuse(err, "", "too_large",
		    "an entry is at most 65,535 bytes");
	entry = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(entry)) {
		rc = refuse(err, "", "invalid_json",
		    "not a JSON object, or a key appears twice");
		goto fail;
	}
	/*
	 * Canonical: the parsed object serialises to the very same bytes.
	 * This refuses escapes where a plain character would do, other key
	 * orders, white space, other number forms and anything after the
	 * object, so that the bytes have one reading.
	 */
	rc = ledger_entry_dump(entry, &again, &again_len);
	if (rc != 0 || again_len != len || memcmp(again, bytes, len) != 0) {
		rc = refuse(err, "", "not_canonical",
		    "the bytes are not the entry's canonical serialisation");
		goto fail;
	}
	if ((rc = check_server_fields(entry, err)) != 0)
		goto fail;
	subjects = json_object_get(entry, "subjects");
	json_array_foreach(subjects, i, s) {
		if (!json_is_string(s) ||
		    !ledger_subject_token_valid(json_string_value(s),
		    json_string_length(s))) {
			char field[32];
			snprintf(field, sizeof(field), "subjects[%zu]", i);
			rc = refuse(err, field, "invalid_value",
			    "not a subject token");
			goto fail;
		}
	}
	/* The rest is an event, held to the rules events are posted under. */
	/* A shallow copy: the members are shared, only read. */
	event = json_copy(entry);
	if (event == NULL) {
		rc = refuse(err, "", "invalid_value", "out of memory");
		goto fail;
	}
	json_object_del(event, "v");
	json_object_del(event, "seq");
	json_object_del(event, "received_at");
	json_object_del(event, "submitter");
	json_object_del(event, "prev");
	json_object_del(event, "salt");
	if ((rc = check_sealed(entry, event, err)) != 0)
		goto fail;
	if ((rc = ledger_event_validate(event, &any_org, err)) != 0)
		goto fail;
	json_decref(event);
	free(again);
	*out = entry;
	return LEDGER_OK;
fail:
	json_decref(event);
	json_decref(entry);
	free(again);
	return LEDGER_EINVAL;
}
