/*
 * entries.csv: one flattened row per entry, in the columns of the server's
 * GET /v1/export?format=csv (RFC 4180, CRLF; lists joined by ';').  Rows are
 * made from the entry bytes alone, so a verifier can remake them.
 */
#ifndef LEDGERCTL_CSV_H
#define LEDGERCTL_CSV_H

#include <stddef.h>

/* The header row, with its CRLF. */
extern const char csv_header[];

/*
 * csv_row - the row of one entry, with its CRLF.
 *	len	out: its length
 * Returns a new string (free() it), or NULL when the bytes are not a JSON
 * object.
 */
char *csv_row(const char *bytes, size_t bytes_len, size_t *len);

#endif
