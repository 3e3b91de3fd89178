/*
 * Differential fuzzing of ledger_entry_scan against the canonical step of
 * ledger_entry_parse.  On arbitrary bytes B, and on the canonical
 * serialisation of whatever JSON object B holds (so that canonical inputs
 * are reached often):
 *   - a decided verdict equals that of parsing with JSON_REJECT_DUPLICATES,
 *     dumping with ledger_entry_dump and comparing;
 *   - on canonical bytes the verdict is undecided only for a real number,
 *     a key needing an escape, or nesting past LEDGER_SCAN_DEPTH_MAX;
 *   - the view of canonical bytes is what Jansson reads: each member's
 *     presence and type, v and seq, and each string span is the member's
 *     own canonical spelling between its quotes;
 *   - the scanner reads no byte outside B (ASan) and allocates nothing.
 */
#include <string.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/error.h"

#include "fuzz.h"

#define INPUT_MAX (LEDGER_ENTRY_MAX + 16)
#define CHECK FUZZ_ASSERT

/* Whether Jansson's dump of v holds a real, an escaped key, or nests past
 * the scanner's depth: what the scanner may leave undecided. */
static int
may_be_undecided(const json_t *v, size_t depth)
{
	const char *key;
	const unsigned char *k;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_REAL:
		return 1;
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (depth + 1 > LEDGER_SCAN_DEPTH_MAX)
			return 1;
		break;
	default:
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			if (may_be_undecided(m, depth + 1))
				return 1;
		return 0;
	}
	json_object_foreach((json_t *)v, key, m) {
		for (k = (const unsigned char *)key; *k; k++)
			if (*k < 0x20 || *k > 0x7f || *k == '"' || *k == '\\')
				return 1;
		if (may_be_undecided(m, depth + 1))
			return 1;
	}
	return 0;
}

/* The span is the string's canonical spelling without its quotes. */
static int
span_spells(struct ledger_span sp, const json_t *s)
{
	char *d = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT |
	    JSON_ENSURE_ASCII);
	size_t n = d ? strlen(d) : 0;
	int same = n == sp.len + 2 && memcmp(d + 1, sp.s, sp.len) == 0;

	free(d);
	return same;
}

static void
check_view(const struct ledger_entry_view *view, const json_t *entry)
{
	static const struct {
		const char *name;
		unsigned bit;
	} strings[] = {
		{ "received_at", LEDGER_VIEW_RECEIVED_AT },
		{ "submitter", LEDGER_VIEW_SUBMITTER },
		{ "prev", LEDGER_VIEW_PREV },
		{ "salt", LEDGER_VIEW_SALT },
	};
	const struct ledger_span *spans[] = { &view->received_at,
	    &view->submitter, &view->prev, &view->salt };
	const json_t *m, *s;
	size_t i;
	int ok;

	m = json_object_get(entry, "v");
	CHECK(!!(view->present & LEDGER_VIEW_V) == (m != NULL));
	CHECK(!!(view->typed & LEDGER_VIEW_V) == json_is_integer(m));
	CHECK(!json_is_integer(m) || view->v == json_integer_value(m));
	m = json_object_get(entry, "seq");
	ok = json_is_integer(m) && json_integer_value(m) >= 0;
	CHECK(!!(view->present & LEDGER_VIEW_SEQ) == (m != NULL));
	CHECK(!!(view->typed & LEDGER_VIEW_SEQ) == ok);
	CHECK(!ok || view->seq == (uint64_t)json_integer_value(m));
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		m = json_object_get(entry, strings[i].name);
		CHECK(!!(view->present & strings[i].bit) == (m != NULL));
		CHECK(!!(view->typed & strings[i].bit) == json_is_string(m));
		CHECK(!json_is_string(m) || span_spells(*spans[i], m));
	}
	m = json_object_get(entry, "subjects");
	ok = json_is_array(m) && json_array_size(m) <= LEDGER_SUBJECTS_MAX;
	json_array_foreach(m, i, s)
		ok = ok && json_is_string(s);
	CHECK(!!(view->present & LEDGER_VIEW_SUBJECTS) == (m != NULL));
	CHECK(!!(view->typed & LEDGER_VIEW_SUBJECTS) == ok);
	if (ok) {
		CHECK(view->n_subjects == json_array_size(m));
		json_array_foreach(m, i, s)
			CHECK(span_spells(view->subjects[i], s));
	}
}

static void
one(const char *bytes, size_t len)
{
	struct ledger_entry_view view;
	enum ledger_scan_verdict verdict;
	json_t *entry = NULL;
	char *again;
	size_t again_len;
	int want = 0;

	verdict = ledger_entry_scan(bytes, len, &view);
	if (len <= LEDGER_ENTRY_MAX)
		entry = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(entry) && ledger_entry_dump(entry, &again,
	    &again_len) == 0) {
		want = again_len == len && memcmp(again, bytes, len) == 0;
		free(again);
	}
	if (verdict != LEDGER_SCAN_UNDECIDED)
		CHECK(verdict == (want ? LEDGER_SCAN_CANONICAL :
		    LEDGER_SCAN_NOT_CANONICAL));
	else
		CHECK(!want || may_be_undecided(entry, 0));
	if (verdict == LEDGER_SCAN_CANONICAL)
		check_view(&view, entry);
	json_decref(entry);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *any;
	char *canon;
	size_t canon_len;

	if (size > INPUT_MAX)
		return -1;
	one((const char *)data, size);
	any = json_loadb((const char *)data, size, 0, NULL);
	if (json_is_object(any) && ledger_entry_dump(any, &canon,
	    &canon_len) == 0) {
		one(canon, canon_len);
		free(canon);
	}
	json_decref(any);
	return 0;
}
