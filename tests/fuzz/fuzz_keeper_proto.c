/*
 * Fuzzes the key keeper's request decoder (ledgerd/keeper_proto.c), the
 * one place the keeper reads bytes a compromised ledgerd could choose.  The
 * input is a frame's body (type and payload).  Whatever it holds, decoding
 * either fails or gives a request within the protocol's bounds that
 * encodes back to exactly the input; the reply decoders, fed the same
 * bytes, fail or give what they promise.
 */
#include <string.h>

#include "ledger/error.h"

#include "../../ledgerd/keeper_proto.h"
#include "fuzz.h"

#define INPUT_MAX (256 * 1024)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keeper_request req;
	struct keyring_op ops[4];
	struct keyring_periods periods;
	struct kbuf again = { NULL, 0, 0 };
	char *verifier = NULL;
	int rc;

	if (size > INPUT_MAX)
		return 0;
	if (keeper_request_decode(data, size, &req) == 0) {
		FUZZ_ASSERT(size >= 1 && data[0] == req.type);
		if (req.type == KEEPER_RUN) {
			FUZZ_ASSERT(req.n >= 1 && req.n <= KEYRING_OPS_MAX);
			for (size_t i = 0; i < req.n; i++) {
				FUZZ_ASSERT(req.ops[i].msg_len <= KEEPER_MSG_MAX);
				FUZZ_ASSERT(req.ops[i].kind == KEYRING_SIGN ||
				    keyring_period_id_valid(req.ops[i].period));
			}
			FUZZ_ASSERT(keeper_encode_run(req.ops, req.n, &again) == 0);
		} else if (req.type == KEEPER_PERIODS)
			keeper_encode_periods(&again);
		else {
			FUZZ_ASSERT(req.type == KEEPER_DESTROY);
			FUZZ_ASSERT(keeper_encode_destroy(req.period, &again) == 0);
		}
		/* One encoding: what decodes encodes back to the same bytes. */
		FUZZ_ASSERT(again.len == size + 4 &&
		    memcmp(again.p + 4, data, size) == 0);
		keeper_request_free(&req);
		kbuf_free(&again);
	} else
		FUZZ_ASSERT(req.ops == NULL && req.n == 0);

	/* The daemon's side: a keeper's answer is not trusted either. */
	memset(ops, 0, sizeof(ops));
	for (int i = 0; i < 4; i++)
		ops[i].kind = (enum keyring_op_kind)(i + 1);
	for (size_t n = 1; n <= 4; n++) {
		if (keeper_decode_run_reply(data, size, ops, n) == 0) {
			for (size_t i = 0; i < n; i++)
				FUZZ_ASSERT(ops[i].rc != 0 || ops[i].kind < 3 ||
				    ops[i].out != NULL);
		}
		keyring_op_release(ops, n);
	}
	rc = keeper_decode_periods_reply(data, size, &periods);
	if (rc == 0)
		for (size_t i = 0; i < periods.n_live; i++)
			FUZZ_ASSERT(keyring_period_id_valid(periods.live[i]));
	keyring_periods_free(&periods);
	if (keeper_decode_rc_reply(data, size, KEEPER_READY, &rc,
	    &verifier) == 0 && verifier != NULL)
		FUZZ_ASSERT(strlen(verifier) <= KEEPER_VERIFIER_MAX);
	free(verifier);
	return 0;
}
