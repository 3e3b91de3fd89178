/*
 * Sealed fields (spec §2.10): free-text fields that may hold personal data
 * are not stored in clear in the entry.  The entry holds a salted
 * commitment to each; the value and its salt are sealed apart from the
 * entry, and whoever is shown the opened value checks it against the
 * commitment, so verification stays end to end.
 */
#ifndef LEDGER_SEALED_H
#define LEDGER_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/hash.h"

#define LEDGER_SEAL_SALT_LEN 32		/* bytes of a sealed value's salt */
#define LEDGER_SEALED_FIELDS_MAX 3	/* purpose, legal_basis, details */
#define LEDGER_ENTRY_VERSION_SEALED 3	/* v of the entries written under a
					   retention policy (may have "sealed") */

/*
 * ledger_sealable_field - 1 when name is an event field that may be sealed
 * (the free-text fields purpose, legal_basis and details), else 0.
 */
int ledger_sealable_field(const char *name);

/*
 * ledger_sealed_value_bytes - the bytes a field's value is committed and
 * sealed as: the JSON text of value serialised like an entry (spec §2.4:
 * compact, sorted keys, non-ASCII escaped), a bare string or object.
 *	value	in: borrowed
 *	out, len out: new buffer (free() it), not NUL-terminated
 * Returns 0 or LEDGER_EINVAL (value cannot be serialised).
 */
int ledger_sealed_value_bytes(const json_t *value, char **out, size_t *len);

/*
 * ledger_sealed_commitment - the commitment to one sealed value (spec
 * §2.10): SHA-256("ledgerd sealed v1" || 0x00 || field || 0x00 || salt ||
 * value bytes).
 *	field	in: NUL-terminated field name
 *	salt	in: LEDGER_SEAL_SALT_LEN secret random bytes
 *	value, len in: the value bytes of ledger_sealed_value_bytes
 *	out	out: the 32-byte digest
 * Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_sealed_commitment(const char *field,
    const uint8_t salt[LEDGER_SEAL_SALT_LEN], const char *value, size_t len,
    uint8_t out[LEDGER_HASH_LEN]);

/*
 * One field taken out of an entry by ledger_entry_seal: the plaintext to
 * seal is salt || value bytes (the salt is secret, so it travels sealed).
 */
struct ledger_sealed_plain {
	char field[16];
	uint8_t *plain;			/* malloc'ed: salt || value */
	size_t plain_len;
};

/*
 * ledger_entry_seal - the entry form of a retention policy (spec §2.10):
 * sets v to 3, takes each of fields that entry holds out of it and puts
 * its commitment under "sealed" (base64); no "sealed" when none was held.
 *	entry	in/out: an entry object of ledger_entry_build (its "sealed"
 *		member must be absent); modified
 *	fields	in: n field names, each ledger_sealable_field
 *	plain	out: room for LEDGER_SEALED_FIELDS_MAX; the first *n_plain
 *		filled (free with ledger_sealed_plain_free)
 * Returns 0, LEDGER_EINVAL (a field not sealable, entry malformed) or
 * LEDGER_ECRYPTO (no randomness); on failure nothing is allocated and
 * entry may be partly changed (drop it).
 */
int ledger_entry_seal(json_t *entry, const char *const *fields, size_t n,
    struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX], size_t *n_plain);

/*
 * ledger_sealed_plain_make - the plaintexts ledger_entry_seal would seal
 * for the fields source holds, each with a fresh salt, source unchanged:
 * for sealing the values of an event before its entry is built.
 *	source	in: an event or entry object whose fields the entry will hold
 *		as they are
 *	fields, plain, n_plain as for ledger_entry_seal
 * Returns 0, LEDGER_EINVAL or LEDGER_ECRYPTO; on failure nothing is
 * allocated.
 */
int ledger_sealed_plain_make(const json_t *source, const char *const *fields,
    size_t n, struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX],
    size_t *n_plain);

/*
 * ledger_entry_seal_plain - what ledger_entry_seal does to entry, with the
 * plaintexts (and so the salts) of ledger_sealed_plain_make: each of fields
 * that entry holds must have its plaintext, in the order of fields, whose
 * value bytes are the entry's; none may be left over.
 *	entry	in/out: as for ledger_entry_seal (on failure drop it)
 *	plain	in: n_plain plaintexts, borrowed
 * Returns 0, LEDGER_EINVAL (entry malformed, or the plaintexts are not of
 * its values) or LEDGER_ECRYPTO.
 */
int ledger_entry_seal_plain(json_t *entry, const char *const *fields, size_t n,
    const struct ledger_sealed_plain *plain, size_t n_plain);

/* ledger_sealed_plain_free - cleanses and frees n plaintexts. */
void ledger_sealed_plain_free(struct ledger_sealed_plain *plain, size_t n);

/*
 * ledger_sealed_opened - the opened form of a plaintext for answers:
 * {"salt": base64 of the salt, "value": the value}.
 *	field	in: the field name (the value of details must be an object,
 *		of the others a string)
 *	plain, len in: salt || value bytes
 *	out	out: new object (json_decref it)
 * Returns 0 or LEDGER_EINVAL (short, or the value is not JSON of the
 * field's type).
 */
int ledger_sealed_opened(const char *field, const uint8_t *plain, size_t len,
    json_t **out);

/*
 * ledger_entry_check_opened - checks the opened values an answer carries
 * for a parsed entry against its commitments.  opened maps each field of
 * the entry's "sealed" to {"value", "salt"} (checked: the commitment of
 * salt and value must be the entry's), to {"destroyed": seq} (the value
 * was destroyed by the destruction entry seq) or to {"withheld": true} (the
 * server may not show it).  No other field may appear.
 *	entry	in: parsed by ledger_entry_parse
 *	opened	in: the answer's object, or NULL when the answer has none
 *		(accepted only when the entry has no sealed field)
 *	err	out (may be NULL): field is "opened.<field>"; code
 *		"commitment_mismatch" for a value that is not the one committed
 * Returns 0 or LEDGER_EVERIFY.
 */
int ledger_entry_check_opened(const json_t *entry, const json_t *opened,
    struct ledger_field_error *err);

/*
 * ledger_entry_with_opened - a copy of entry with each opened value put
 * back in its field (destroyed and withheld values are left out), for
 * readers that show an entry's fields.  Call after
 * ledger_entry_check_opened.
 *	out	out: new object (json_decref it)
 * Returns 0.
 */
int ledger_entry_with_opened(const json_t *entry, const json_t *opened, json_t **out);

#endif
