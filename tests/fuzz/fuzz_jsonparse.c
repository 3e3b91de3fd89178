/*
 * Differential fuzzing of ledger_json_parse against json_loadb, which it
 * stands in for.  The first byte picks the flags (its bits 0, 1 and 2:
 * JSON_REJECT_DUPLICATES, JSON_DECODE_ANY, JSON_ALLOW_NUL), the rest is
 * the input.  On the input, and on Jansson's own serialisation of what
 * the input holds (so that valid documents are reached often, in the
 * indentation and escaping the first byte's upper bits pick):
 *   - both refuse it or both accept it;
 *   - an accepted input gives the same tree: types, integers, reals bit
 *     for bit, string bytes, object members in the same order;
 *   - ledger_json_loadb gives json_loadb's answer and error text;
 *   - nothing is read outside the input (ASan) and nothing leaks.
 */
#include <string.h>

#include <jansson.h>

#include "ledger/jsonparse.h"

#include "../same_tree.h"
#include "fuzz.h"

#define INPUT_MAX 65536
#define CHECK FUZZ_ASSERT

static void
one(const char *buf, size_t len, size_t flags)
{
	json_error_t e1, e2;
	json_t *want, *got, *drop;

	want = json_loadb(buf, len, flags, &e1);
	got = ledger_json_parse(buf, len, flags);
	CHECK((want == NULL) == (got == NULL));
	if (want != NULL)
		CHECK(json_equal(want, got) && same_tree(want, got));
	drop = ledger_json_loadb(buf, len, flags, &e2);
	CHECK((want == NULL) == (drop == NULL));
	if (want == NULL)
		CHECK(strcmp(e1.text, e2.text) == 0 && e1.line == e2.line &&
		    e1.column == e2.column && e1.position == e2.position);
	else
		CHECK(same_tree(want, drop));
	json_decref(want);
	json_decref(got);
	json_decref(drop);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t dump_flags[] = { JSON_COMPACT, JSON_INDENT(2),
	    JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH | JSON_INDENT(1),
	    JSON_SORT_KEYS, JSON_REAL_PRECISION(5), JSON_COMPACT |
	    JSON_ENSURE_ASCII, 0 };
	const char *buf = (const char *)data + 1;
	size_t flags = 0, len, dump;
	json_t *any;
	char *text;

	if (size == 0 || size > INPUT_MAX)
		return -1;
	if (data[0] & 1)
		flags |= JSON_REJECT_DUPLICATES;
	if (data[0] & 2)
		flags |= JSON_DECODE_ANY;
	if (data[0] & 4)
		flags |= JSON_ALLOW_NUL;
	one(buf, size - 1, flags);
	any = json_loadb(buf, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    NULL);
	if (any != NULL) {
		dump = dump_flags[data[0] >> 3 & 7] | JSON_ENCODE_ANY;
		if ((len = json_dumpb(any, NULL, 0, dump)) > 0 &&
		    (text = malloc(len)) != NULL) {
			if (json_dumpb(any, text, len, dump) == len)
				one(text, len, flags);
			free(text);
		}
	}
	json_decref(any);
	return 0;
}
