/*
 * Writing an entry's bytes straight from its event (spec §2.4, §2.10):
 * what ledger_entry_build_tokens, ledger_entry_seal_plain and
 * ledger_entry_dump make together, without building the entry object.
 * The writer makes one of these for every append; tests/test_entry_write.c
 * and tests/fuzz/fuzz_entry_write.c hold its bytes and its refusals equal
 * to those three calls'.
 */
#ifndef LEDGER_ENTRY_WRITE_H
#define LEDGER_ENTRY_WRITE_H

#include <stddef.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/sealed.h"

/*
 * What a retention policy seals of one entry (§2.10): the policy's fields
 * for the event's type, and the plaintexts (salt || value bytes) made for
 * the ones the event holds, in the order of fields.
 */
struct ledger_entry_sealing {
	const char *const *fields;	/* each ledger_sealable_field */
	size_t n_fields;
	const struct ledger_sealed_plain *plain;
	size_t n_plain;
};

/*
 * ledger_entry_write - the entry bytes of event under meta: its members,
 * each subject replaced by tokens[i], the server's fields added and, with
 * sealing, the sealed fields replaced by their commitments under "sealed"
 * and v set to 3.
 *	event	in: an object, borrowed, not modified
 *	tokens	in: n_tokens subject tokens, one per element of the event's
 *		subjects (may be NULL when n_tokens is 0)
 *	sealing	in: NULL without a retention policy
 *	out	out: malloc'ed bytes (not NUL-terminated), *len long
 * Returns 0, LEDGER_EINVAL (what ledger_entry_build_tokens,
 * ledger_entry_seal_plain or Jansson's dump refuse), LEDGER_ETOOBIG (more
 * than LEDGER_ENTRY_MAX bytes) or LEDGER_ECRYPTO; on failure *out is NULL.
 *
 * The result is the reference's for every event the parser can make and
 * every policy: sealing's fields are sealable names (a repeated one counts
 * once).  Inputs only code can build are refused (LEDGER_EINVAL) where the
 * reference would write something odd: a member name holding a NUL (cut
 * short by json_copy) or that is not UTF-8 (written unterminated by
 * Jansson), a field that is not sealable (sealed, even a server field, by
 * ledger_entry_seal_plain), and nesting deeper than the parser's 2,048
 * levels (which Jansson's dump writes without limit).
 */
int ledger_entry_write(const json_t *event, const struct ledger_entry_meta *meta,
    const char *const *tokens, size_t n_tokens,
    const struct ledger_entry_sealing *sealing, char **out, size_t *len);

#endif
