/* Hashes in JSON answers (hash_json.h). */
#include "ledger/base64.h"

#include "hash_json.h"

json_t *
hash_json(const uint8_t hash[LEDGER_HASH_LEN])
{
	char b64[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];

	ledger_b64_encode(hash, LEDGER_HASH_LEN, b64);
	return json_string(b64);
}

json_t *
hashes_json(uint8_t (*hashes)[LEDGER_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, hash_json(hashes[i]));
	return a;
}
