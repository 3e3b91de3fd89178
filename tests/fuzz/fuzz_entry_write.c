/*
 * Differential fuzzing of the writer's entry bytes: ledger_entry_write
 * against ledger_entry_build_tokens, ledger_entry_seal_plain and
 * ledger_entry_dump (Jansson's serialiser), which the spec's bytes are
 * defined by.  The input's first bytes choose the meta (seq, submitter,
 * salt, prev), the subjects' tokens and a policy (which sealable fields,
 * in which order, and whether the plaintexts fit); the rest is parsed as
 * the event, with the daemon's flags and, every other input, with NUL
 * allowed in strings.  Both must give the same result code and, on
 * success, the same bytes.
 */
#include <string.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/entry_write.h"
#include "ledger/error.h"
#include "ledger/sealed.h"

#include "../entry_reference.h"
#include "fuzz.h"

#define HEADER 8

static const char *const sealable[] = { "purpose", "legal_basis", "details" };
static const char *const submitters[] = { "police-app", "",
	"\xc3\xa9 \"q\" \\", "\x01\x7f", "\xff" };
static const char *const tokens_all[] = {
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	"_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-0",
	"not a token",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tokens[LEDGER_SUBJECTS_MAX + 1];
	const char *fields[LEDGER_SEALED_FIELDS_MAX];
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	struct ledger_entry_sealing sealing, *use = NULL;
	struct ledger_entry_meta meta;
	json_t *event;
	char *want, *got;
	size_t want_len, got_len, n_tokens, n_fields = 0, n_plain = 0, i;
	int want_rc, got_rc;

	if (size < HEADER || size > LEDGER_ENTRY_MAX + HEADER)
		return 0;
	event = json_loadb((const char *)data + HEADER, size - HEADER,
	    data[0] & 1 ? JSON_ALLOW_NUL : 0, NULL);
	if (event == NULL)
		return 0;

	memset(&meta, 0, sizeof(meta));
	meta.seq = data[1] == 0xff ? (uint64_t)INT64_MAX + data[2] :
	    (uint64_t)data[1] << (data[2] & 63);
	snprintf(meta.received_at, sizeof(meta.received_at), "%s",
	    data[3] == 0xff ? "2026-13-01T00:00:00.000000Z" :
	    "2026-03-04T05:06:07.123456Z");
	meta.submitter = submitters[data[4] % 5];
	memset(meta.prev, data[5], sizeof(meta.prev));
	memset(meta.salt, data[6], sizeof(meta.salt));

	/* One token per subject as a rule; a wrong count or a bad one now and then. */
	n_tokens = json_array_size(json_object_get(event, "subjects"));
	if ((data[7] & 0x30) == 0x30 && n_tokens > 0)
		n_tokens--;
	if (n_tokens > LEDGER_SUBJECTS_MAX)
		n_tokens = LEDGER_SUBJECTS_MAX;
	for (i = 0; i < n_tokens; i++)
		tokens[i] = tokens_all[(data[7] & 0x0f) == 0x0f ? 2 : i & 1];

	/* A policy: bits 6 and 7 say how many fields, data[0] which order. */
	if (data[7] & 0xc0) {
		size_t want_fields = (data[7] >> 6) & 3;
		unsigned order = data[0] >> 1;
		int used[3] = { 0, 0, 0 };

		while (n_fields < want_fields) {
			size_t f = order % 3;
			order /= 3;
			while (used[f])
				f = (f + 1) % 3;
			used[f] = 1;
			fields[n_fields++] = sealable[f];
		}
		if (ledger_sealed_plain_make(event, fields, n_fields, plain,
		    &n_plain) != 0)
			n_plain = 0;
		/* A plaintext that does not fit its value. */
		if ((data[6] & 3) == 3 && n_plain > 0)
			plain[0].plain[plain[0].plain_len - 1] ^= 1;
		sealing.fields = fields;
		sealing.n_fields = n_fields;
		sealing.plain = plain;
		sealing.n_plain = (data[5] & 3) == 3 && n_plain > 0 ?
		    n_plain - 1 : n_plain;
		use = &sealing;
	}

	want_rc = entry_reference(event, &meta, n_tokens ? tokens : NULL, n_tokens,
	    use, &want, &want_len);
	got_rc = ledger_entry_write(event, &meta, n_tokens ? tokens : NULL,
	    n_tokens, use, &got, &got_len);
	FUZZ_ASSERT(got_rc == want_rc);
	FUZZ_ASSERT(got_len == want_len);
	FUZZ_ASSERT(want_rc != 0 || memcmp(got, want, want_len) == 0);
	FUZZ_ASSERT(got_rc == 0 || got == NULL);

	free(want);
	free(got);
	ledger_sealed_plain_free(plain, n_plain);
	json_decref(event);
	return 0;
}
