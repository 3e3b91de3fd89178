/*
 * Fuzzes the tlog-witness add-checkpoint body and the text/x.tlog.size
 * body: a parsed request formats back to the very same bytes (the format
 * has one spelling), and a parsed size formats back to its body.
 */
#include <string.h>

#include "ledger/error.h"
#include "ledger/witness_proto.h"
#include "ledger/xmalloc.h"

#include "fuzz.h"

#define INPUT_MAX (64 * 1024)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger_add_checkpoint *req;
	char *buf, *again;
	size_t len;
	uint64_t n;
	int rc;

	if (size > INPUT_MAX)
		return -1;
	buf = xmalloc(size ? size : 1);
	memcpy(buf, data, size);
	req = xcalloc(1, sizeof(*req));
	rc = ledger_add_checkpoint_parse(buf, size, req);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL || rc == LEDGER_ETOOBIG);
	if (rc == 0) {
		FUZZ_ASSERT(req->n_proof <= LEDGER_WITNESS_MAX_PROOF);
		FUZZ_ASSERT(req->checkpoint_len > 0);
		FUZZ_ASSERT(req->checkpoint + req->checkpoint_len == buf + size);
		again = ledger_add_checkpoint_format(req->old_size,
		    (const uint8_t (*)[LEDGER_HASH_LEN])req->proof, req->n_proof,
		    req->checkpoint, req->checkpoint_len, &len);
		/* Only a checkpoint without its final newline cannot format. */
		if (again != NULL) {
			FUZZ_ASSERT(len == size && memcmp(again, buf, size) == 0);
			free(again);
		} else
			FUZZ_ASSERT(buf[size - 1] != '\n');
	}
	if (ledger_tlog_size_parse(buf, size, &n) == 0) {
		again = ledger_tlog_size_format(n);
		FUZZ_ASSERT(strlen(again) == size && memcmp(again, buf, size) == 0);
		free(again);
	}
	free(req);
	free(buf);
	return 0;
}
