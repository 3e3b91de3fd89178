/*
 * Differential fuzzing of ledger_canon_dump against the Jansson dump it
 * stands in for (json_dumpb with JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENSURE_ASCII | JSON_ENCODE_ANY).  The first byte picks the parse
 * flags (none, or JSON_DECODE_ANY | JSON_ALLOW_NUL) and the next two a
 * buffer capacity; the rest is JSON text.  On whatever it holds, and on
 * the rest's raw bytes as a string and as a key (UTF-8 or not):
 *   - both write the same bytes, or both refuse;
 *   - into a buffer of any capacity, ours returns the full length, fills
 *     the buffer with the text's first bytes and writes nothing past it;
 *   - ledger_canon_dump_alloc honours its bound, and ledger_entry_dump
 *     gives Jansson's bytes for an object or array (without
 *     JSON_ENCODE_ANY) up to LEDGER_ENTRY_MAX;
 *   - nothing crashes or leaks (ASan).
 */
#include <string.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsoncanon.h"

#include "fuzz.h"

#define INPUT_MAX (LEDGER_ENTRY_MAX + 16)
#define FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | \
	JSON_ENCODE_ANY)
#define CHECK FUZZ_ASSERT

static void
one(const json_t *v, size_t cap_seed)
{
	size_t n, m, cap, alen;
	char *want, *got, *abuf;
	int rc;

	n = json_dumpb(v, NULL, 0, FLAGS);
	m = ledger_canon_dump(v, NULL, 0);
	CHECK(n == m);
	if (n == 0) {
		CHECK(ledger_canon_dump_alloc(v, (size_t)-1, &abuf, &alen) ==
		    LEDGER_EINVAL && abuf == NULL && alen == 0);
		return;
	}
	want = malloc(n);
	got = malloc(n + 1);
	CHECK(want != NULL && got != NULL);
	CHECK(json_dumpb(v, want, n, FLAGS) == n);
	CHECK(ledger_canon_dump(v, got, n) == n);
	CHECK(memcmp(want, got, n) == 0);

	/* A short (or long enough) buffer: a prefix, nothing past it. */
	cap = cap_seed % (n + 1);
	memset(got, 0x5a, n + 1);
	CHECK(ledger_canon_dump(v, got, cap) == n);
	CHECK(memcmp(got, want, cap) == 0);
	CHECK(got[cap] == 0x5a);

	rc = ledger_canon_dump_alloc(v, cap, &abuf, &alen);
	if (n <= cap) {
		CHECK(rc == 0 && alen == n && memcmp(abuf, want, n) == 0);
		free(abuf);
	} else
		CHECK(rc == LEDGER_ETOOBIG && abuf == NULL && alen == 0);

	if (json_is_object(v) || json_is_array(v)) {
		rc = ledger_entry_dump(v, &abuf, &alen);
		if (n > LEDGER_ENTRY_MAX)
			CHECK(rc == LEDGER_ETOOBIG);
		else {
			CHECK(rc == 0 && alen == n && memcmp(abuf, want, n) == 0);
			free(abuf);
		}
	}
	free(want);
	free(got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len, cap_seed;
	json_t *v, *o;

	if (size < 3 || size > INPUT_MAX)
		return -1;
	cap_seed = (size_t)data[1] << 8 | data[2];
	text = (const char *)data + 3;
	len = size - 3;
	v = json_loadb(text, len, data[0] & 1 ? JSON_DECODE_ANY |
	    JSON_ALLOW_NUL : 0, NULL);
	if (v != NULL) {
		one(v, cap_seed);
		/* The parsed tree one level down, in an object and an array. */
		o = json_pack("{s:O,s:[O,i]}", data[0] & 2 ? "\xc3\xa9" : "",
		    v, "b", v, (json_int_t)cap_seed);
		CHECK(o != NULL);
		one(o, cap_seed);
		json_decref(o);
		json_decref(v);
	}
	/* The raw bytes, UTF-8 or not, as a string and as keys. */
	v = json_stringn_nocheck(text, len);
	CHECK(v != NULL);
	one(v, cap_seed);
	o = json_object();
	CHECK(json_object_setn_new_nocheck(o, text, len, v) == 0);
	CHECK(json_object_setn_new_nocheck(o, text, len / 2,
	    json_integer((json_int_t)len)) == 0);
	CHECK(json_object_set_new_nocheck(o, "~", json_true()) == 0);
	one(o, cap_seed);
	json_decref(o);
	return 0;
}
