/*
 * The reference ledger_entry_write is held to, for its test and its fuzz
 * harness: Jansson builds the entry (ledger_entry_build_tokens), seals it
 * (ledger_entry_seal_plain) and dumps it, as the spec's bytes are defined.
 */
#ifndef LEDGER_TEST_ENTRY_REFERENCE_H
#define LEDGER_TEST_ENTRY_REFERENCE_H

#include <stdlib.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/entry_write.h"
#include "ledger/error.h"
#include "ledger/sealed.h"

/*
 * ledger_entry_dump as it was: Jansson's own dump, which the spec's bytes
 * are defined by (ledger_entry_dump itself now uses the canonical
 * serialiser).
 */
static int
jansson_dump(const json_t *entry, char **out, size_t *len)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII;
	size_t n = json_dumpb(entry, NULL, 0, flags);

	if (n == 0)
		return LEDGER_EINVAL;
	if (n > LEDGER_ENTRY_MAX)
		return LEDGER_ETOOBIG;
	*out = malloc(n);
	if (*out == NULL || json_dumpb(entry, *out, n, flags) != n) {
		free(*out);
		*out = NULL;
		return LEDGER_EINVAL;
	}
	*len = n;
	return LEDGER_OK;
}

/* build, seal under sealing (when set), dump */
static int
entry_reference(const json_t *event, const struct ledger_entry_meta *meta,
    const char *const *tokens, size_t n_tokens,
    const struct ledger_entry_sealing *sealing, char **out, size_t *len)
{
	json_t *entry;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = ledger_entry_build_tokens(event, meta, tokens, n_tokens,
	    &entry)) != 0)
		return rc;
	if (sealing != NULL)
		rc = ledger_entry_seal_plain(entry, sealing->fields,
		    sealing->n_fields, sealing->plain, sealing->n_plain);
	if (rc == 0)
		rc = jansson_dump(entry, out, len);
	json_decref(entry);
	return rc;
}

#endif
