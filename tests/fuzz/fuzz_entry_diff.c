/*
 * Differential fuzzing of the one reading of entry bytes.  On arbitrary
 * bytes B, and on the canonical serialisation of whatever JSON object B
 * holds (so that accepted entries are reached often):
 *   - when ledger_entry_parse accepts B, re-serialising the result gives B
 *     byte for byte; the daemon's readers (json_loadb without flags, as
 *     the writer, routes and export read stored entries, and with
 *     JSON_REJECT_DUPLICATES, as fsck does) see an equal object, hence the
 *     same seq, prev and subjects; and the client's check (ctl_entry_open
 *     with the entry's own seq) accepts it and returns an equal object,
 *     while any other seq is refused;
 *   - when it refuses B as not canonical or not JSON, B really is not the
 *     canonical serialisation of a duplicate-free object: an independent
 *     parse, dump and comparison agrees;
 *   - nothing crashes or leaks, and the error fields are NUL-terminated.
 */
#include <string.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/error.h"

#include "../../client/ctl.h"
#include "fuzz.h"

#define INPUT_MAX (LEDGER_ENTRY_MAX + 16)

/* The client's messages go nowhere; invariant failures are still shown. */
static FILE *real_stderr;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			stderr = real_stderr;				\
			FUZZ_ASSERT(cond);				\
		}							\
	} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	real_stderr = stderr;
	stderr = fopen("/dev/null", "w");
	return 0;
}

/* Equal values, or both absent (json_equal calls two NULLs unequal). */
static int
same(const json_t *a, const json_t *b)
{
	return a == NULL ? b == NULL : json_equal(a, b);
}

static void
one(const char *bytes, size_t len)
{
	struct ledger_field_error err;
	json_t *entry = NULL, *daemon, *fsck, *client = NULL, *loose;
	json_int_t seq;
	char *again;
	size_t again_len;

	memset(&err, 0xff, sizeof(err));
	if (ledger_entry_parse(bytes, len, &entry, &err) != 0) {
		CHECK(entry == NULL);
		CHECK(memchr(err.code, '\0', sizeof(err.code)) != NULL);
		CHECK(memchr(err.field, '\0', sizeof(err.field)) != NULL);
		CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
		if (strcmp(err.code, "not_canonical") != 0 &&
		    strcmp(err.code, "invalid_json") != 0)
			return;
		/* Then no duplicate-free object serialises to B. */
		loose = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(loose) && len <= LEDGER_ENTRY_MAX &&
		    ledger_entry_dump(loose, &again, &again_len) == 0) {
			CHECK(again_len != len || memcmp(again, bytes, len) != 0);
			free(again);
		}
		json_decref(loose);
		return;
	}
	CHECK(json_is_object(entry));
	CHECK(ledger_entry_dump(entry, &again, &again_len) == 0);
	CHECK(again_len == len && memcmp(again, bytes, len) == 0);
	free(again);

	daemon = json_loadb(bytes, len, 0, NULL);
	fsck = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, NULL);
	CHECK(daemon != NULL && json_equal(daemon, entry));
	CHECK(fsck != NULL && json_equal(fsck, entry));
	CHECK(same(json_object_get(daemon, "subjects"),
	    json_object_get(entry, "subjects")));
	CHECK(same(json_object_get(daemon, "prev"),
	    json_object_get(entry, "prev")));

	seq = json_integer_value(json_object_get(entry, "seq"));
	CHECK(seq >= 0 && json_integer_value(json_object_get(daemon, "seq")) ==
	    seq);
	CHECK(ctl_entry_open((uint64_t)seq, bytes, len, &client) == 0);
	CHECK(client != NULL && json_equal(client, entry));
	CHECK(ctl_entry_open((uint64_t)seq + 1, bytes, len, NULL) ==
	    EXIT_VERIFY);
	json_decref(client);
	json_decref(fsck);
	json_decref(daemon);
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
