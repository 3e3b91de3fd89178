/*
 * The key keeper's wire protocol (security.md, "The key keeper"): fixed
 * binary frames over the socketpair between ledgerd and its keeper.  This
 * file only encodes and decodes; keeper.c serves, keyring_client.c asks.
 *
 * Every frame: u32 length L (big-endian, of what follows, 1 to
 * KEEPER_FRAME_MAX for a request, KEEPER_REPLY_MAX for a reply), then u8
 * type and the payload.  Integers are
 * big-endian; rc is a two's-complement i32 (LEDGER_E or KEYRING_E code).
 *
 *	RUN	 0x01  u32 n (1..KEYRING_OPS_MAX), n times:
 *		       u8 kind (1..4), u8 create (0|1), u8 plen (0..16),
 *		       period[plen], u32 mlen (<= KEEPER_MSG_MAX), msg[mlen]
 *	RUN reply 0x81 u32 n, n times: i32 rc, and when rc is 0:
 *		       SIGN sig[64] | TOKEN token[43] | SEAL, OPEN u32 len, out[len]
 *	PERIODS	 0x02  (empty)
 *	reply	 0x82  i32 rc, u32 n_live, n_live times u8 len, id[len];
 *		       u32 n_destroyed, likewise
 *	DESTROY	 0x03  u8 plen (1..16), period[plen]
 *	reply	 0x83  i32 rc
 *	READY	 0x84  (keeper to ledgerd, once, unasked) i32 rc, u16 len,
 *		       verifier[len]: the log's note verifier, or rc when the
 *		       keys could not be opened
 *
 * A frame that breaks these rules is not answered: the keeper logs it and
 * exits, and ledgerd then refuses what needs keys (KEYRING_EUNAVAILABLE).
 */
#ifndef LEDGERD_KEEPER_PROTO_H
#define LEDGERD_KEEPER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "keyring.h"

#define KEEPER_FRAME_MAX (16u * 1024 * 1024)	/* a request */
#define KEEPER_REPLY_MAX (KEEPER_FRAME_MAX + 64u * KEYRING_OPS_MAX)
#define KEEPER_MSG_MAX (KEYRING_VALUE_MAX + KEYRING_SEAL_OVERHEAD)
#define KEEPER_VERIFIER_MAX 1024

enum keeper_msg {
	KEEPER_RUN = 0x01,
	KEEPER_PERIODS = 0x02,
	KEEPER_DESTROY = 0x03,
	KEEPER_RUN_REPLY = 0x81,
	KEEPER_PERIODS_REPLY = 0x82,
	KEEPER_DESTROY_REPLY = 0x83,
	KEEPER_READY = 0x84,
};

/* A growing byte buffer; kbuf_free wipes it (replies may hold values). */
struct kbuf {
	uint8_t *p;
	size_t len, cap;
};

void kbuf_free(struct kbuf *b);

/*
 * A decoded request.  ops (RUN) is malloc'ed; each op's msg points into
 * the decoded buffer, which must outlive it.
 */
struct keeper_request {
	enum keeper_msg type;
	struct keyring_op *ops;
	size_t n;
	char period[KEYRING_PERIOD_ID_MAX + 1];	/* DESTROY */
};

/*
 * keeper_request_decode - the request in a frame's body (the bytes after
 * the length: type and payload).
 *	out	out: filled; keeper_request_free() it, also on failure
 * Returns 0 or LEDGER_EINVAL (any rule above broken, trailing bytes).
 */
int keeper_request_decode(const uint8_t *buf, size_t len,
    struct keeper_request *out);
void keeper_request_free(struct keeper_request *r);

/*
 * keeper_encode_run / _periods / _destroy - a whole request frame (length
 * included) into out (emptied first).  Return 0, LEDGER_EINVAL (an op out
 * of the rules) or LEDGER_ETOOBIG (over KEEPER_FRAME_MAX).
 */
int keeper_encode_run(const struct keyring_op *ops, size_t n, struct kbuf *out);
void keeper_encode_periods(struct kbuf *out);
int keeper_encode_destroy(const char *period, struct kbuf *out);

/* The keeper's replies, whole frames into out (emptied first). */
void keeper_encode_run_reply(const struct keyring_op *ops, size_t n,
    struct kbuf *out);
void keeper_encode_periods_reply(int rc, const struct keyring_periods *p,
    struct kbuf *out);
void keeper_encode_rc_reply(enum keeper_msg type, int rc, struct kbuf *out);
void keeper_encode_ready(int rc, const char *verifier, struct kbuf *out);

/*
 * keeper_decode_run_reply - the out part of ops[0..n) from a RUN reply's
 * body (type and payload).  Returns 0 or LEDGER_EINVAL (then ops hold
 * nothing allocated).
 */
int keeper_decode_run_reply(const uint8_t *buf, size_t len,
    struct keyring_op *ops, size_t n);

/* keeper_decode_periods_reply - the lists of a PERIODS reply's body. */
int keeper_decode_periods_reply(const uint8_t *buf, size_t len,
    struct keyring_periods *out);

/*
 * keeper_decode_rc_reply - rc of a DESTROY reply (type) or of READY, whose
 * verifier (a new string, or NULL) goes to *verifier when asked for.
 */
int keeper_decode_rc_reply(const uint8_t *buf, size_t len,
    enum keeper_msg type, int *rc, char **verifier);

#endif
