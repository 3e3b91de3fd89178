/*
 * Hashes in JSON answers: one base64 string per hash (spec §7), the form
 * every proof, leaf hash and root in an answer takes.
 */
#ifndef LEDGERD_HASH_JSON_H
#define LEDGERD_HASH_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/hash.h"

/* hash_json - a new JSON string: the standard base64 of hash. */
json_t *hash_json(const uint8_t hash[LEDGER_HASH_LEN]);

/* hashes_json - a new JSON array of hash_json() of hashes[0..n). */
json_t *hashes_json(uint8_t (*hashes)[LEDGER_HASH_LEN], size_t n);

#endif
