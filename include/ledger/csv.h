/*
 * The CSV view of entries: GET /v1/export?format=csv and a compliance
 * bundle's entries.csv are made by this one module, so the daemon, the
 * client and the verifier produce the same bytes from the same entry.
 */
#ifndef LEDGER_CSV_H
#define LEDGER_CSV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/hash.h"

/* The header row, with its CRLF (docs/provenance.md lists the columns). */
extern const char ledger_csv_header[];

/*
 * ledger_csv_cell_guarded - whether a cell is written with a leading "'":
 * its first byte is one of = + - @ TAB CR or ' itself.  A spreadsheet reads
 * a cell starting with one of the first six as a formula (or a DDE call);
 * the apostrophe makes it text.  Guarding "'" too keeps the rule
 * reversible: a guarded cell's value is the cell without its first "'".
 *	s, len	in: the cell's value, before RFC 4180 quoting
 * Returns 1 or 0.
 */
int ledger_csv_cell_guarded(const char *s, size_t len);

/*
 * ledger_csv_row - one entry as a CSV row, with its CRLF: the columns of
 * ledger_csv_header; lists (subjects, recipients, refs) joined by ';';
 * details as compact JSON with sorted keys; leaf_hash the base64 leaf hash.
 * Each cell is guarded (ledger_csv_cell_guarded), then quoted as RFC 4180
 * asks (a cell holding a comma, quote, CR or LF in quotes, quotes doubled).
 * A missing field is an empty cell.
 *	entry	in: the entry object (borrowed)
 *	leaf	in: the leaf hash of the entry's bytes
 *	out	out: new NUL-terminated string (free() it)
 *	len	out: its length
 */
void ledger_csv_row(const json_t *entry, const uint8_t leaf[LEDGER_HASH_LEN],
    char **out, size_t *len);

#endif
