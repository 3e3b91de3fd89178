/*
 * Fuzzes what ledgerctl reads from tiles and proofs without a server's
 * help: entry bundles walked as the audit walks them, each entry through
 * the client's entry check (ctl_entry_open, which must agree with
 * ledger_entry_parse and the entry's own seq), and C2SP tlog-proofs as
 * verify-export reads them, one after another.  A proof that parses stays
 * inside the input and reads back the same when formatted again.  (The
 * client's hash-tile store only checks a tile's length before hashing it:
 * tile paths and bundles are lib's, fuzzed by fuzz_tile.)
 */
#include <string.h>

#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/tile.h"

#include "../../client/ctl.h"
#include "../../client/tlog_proof.h"
#include "fuzz.h"

#define INPUT_MAX (256 * 1024)

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

static void
bundle(const uint8_t *buf, size_t len)
{
	const uint8_t *entry;
	size_t pos = 0, elen;
	uint64_t seq;
	json_t *e;
	int ok, lib_ok;

	for (seq = 0; ledger_bundle_next(buf, len, &pos, &entry, &elen) == 0;
	    seq++) {
		CHECK(entry >= buf && entry + elen <= buf + len);
		ok = ctl_entry_open(seq, (const char *)entry, elen, NULL) == 0;
		lib_ok = ledger_entry_parse((const char *)entry, elen, &e,
		    NULL) == 0 && json_integer_value(json_object_get(e,
		    "seq")) == (json_int_t)seq;
		CHECK(ok == lib_ok);
		json_decref(e);
	}
}

static void
proofs(const char *text, size_t len)
{
	struct tlog_proof p, q;
	size_t used, again_used;
	const char *why;
	char *cp, *again;

	while (len > 0 && tlog_proof_parse(text, len, &p, &used, &why) == 0) {
		CHECK(used > 0 && used <= len);
		CHECK(p.n <= LEDGER_MAX_PROOF);
		CHECK(p.checkpoint > text && p.checkpoint_len > 0 &&
		    p.checkpoint + p.checkpoint_len == text + used);
		/* Formatting takes a string; the note is checked later. */
		if (memchr(p.checkpoint, '\0', p.checkpoint_len) != NULL) {
			text += used;
			len -= used;
			continue;
		}
		cp = malloc(p.checkpoint_len + 1);
		CHECK(cp != NULL);
		memcpy(cp, p.checkpoint, p.checkpoint_len);
		cp[p.checkpoint_len] = '\0';
		again = tlog_proof_format(p.index, p.hashes, p.n, cp);
		CHECK(tlog_proof_parse(again, strlen(again), &q, &again_used,
		    &why) == 0);
		CHECK(again_used == strlen(again));
		CHECK(q.index == p.index && q.n == p.n &&
		    memcmp(q.hashes, p.hashes, p.n * LEDGER_HASH_LEN) == 0);
		CHECK(q.checkpoint_len == p.checkpoint_len &&
		    memcmp(q.checkpoint, cp, p.checkpoint_len) == 0);
		free(again);
		free(cp);
		text += used;
		len -= used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > INPUT_MAX)
		return -1;
	/* The first byte chooses: a bundle, or concatenated proofs. */
	if (data[0] & 1)
		bundle(data + 1, size - 1);
	else
		proofs((const char *)data + 1, size - 1);
	return 0;
}
