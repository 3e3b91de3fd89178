/* Entries as a table for people (table.c). */
#ifndef LEDGERCTL_TABLE_H
#define LEDGERCTL_TABLE_H

#include <stdint.h>

#include <jansson.h>

/* table_header - the column names. */
void table_header(void);

/* table_row - one entry (parsed; borrowed) as a row. */
void table_row(uint64_t seq, const json_t *entry);

#endif
