/*
 * Encoding and decoding of the key keeper's frames (keeper_proto.h).  The
 * decoders read untrusted bytes: every length is checked against what is
 * left before it is used.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "keeper_proto.h"

/* Bytes of the frame's length field. */
#define LEN_FIELD 4

void
kbuf_free(struct kbuf *b)
{
	if (b->p != NULL) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

static void
kbuf_reserve(struct kbuf *b, size_t more)
{
	uint8_t *grown;
	size_t cap;

	if (b->cap - b->len >= more)
		return;
	for (cap = b->cap ? b->cap : 256; cap - b->len < more; cap *= 2)
		;
	/* By hand, so the old copy is wiped rather than left in the heap. */
	grown = xmalloc(cap);
	if (b->p != NULL) {
		memcpy(grown, b->p, b->len);
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = grown;
	b->cap = cap;
}

static void
put(struct kbuf *b, const void *p, size_t n)
{
	kbuf_reserve(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_u8(struct kbuf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void
put_u16(struct kbuf *b, uint16_t v)
{
	uint8_t x[2] = { v >> 8, v };

	put(b, x, 2);
}

static void
put_u32(struct kbuf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

/* Starts a frame: room for its length, then its type. */
static void
frame_begin(struct kbuf *b, enum keeper_msg type)
{
	b->len = 0;
	put_u32(b, 0);
	put_u8(b, (uint8_t)type);
}

/* Ends a frame: its length, now known. */
static int
frame_end(struct kbuf *b, size_t max)
{
	size_t n = b->len - LEN_FIELD;

	if (n > max)
		return LEDGER_ETOOBIG;
	b->p[0] = (uint8_t)(n >> 24);
	b->p[1] = (uint8_t)(n >> 16);
	b->p[2] = (uint8_t)(n >> 8);
	b->p[3] = (uint8_t)n;
	return LEDGER_OK;
}

/* A reader over untrusted bytes: each get fails once they run out. */
struct reader {
	const uint8_t *p;
	size_t left;
};

static int
get(struct reader *r, void *out, size_t n)
{
	if (r->left < n)
		return -1;
	if (n > 0)
		memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int
get_ref(struct reader *r, const uint8_t **out, size_t n)
{
	if (r->left < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int
get_u8(struct reader *r, uint8_t *v)
{
	return get(r, v, 1);
}

static int
get_u16(struct reader *r, uint16_t *v)
{
	uint8_t x[2];

	if (get(r, x, 2) != 0)
		return -1;
	*v = (uint16_t)(x[0] << 8 | x[1]);
	return 0;
}

static int
get_u32(struct reader *r, uint32_t *v)
{
	uint8_t x[4];

	if (get(r, x, 4) != 0)
		return -1;
	*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
	    (uint32_t)x[2] << 8 | x[3];
	return 0;
}

static int
get_i32(struct reader *r, int *v)
{
	uint32_t u;

	if (get_u32(r, &u) != 0)
		return -1;
	*v = u <= INT32_MAX ? (int)u : -(int)(~u) - 1;
	return 0;
}

/* A period id of plen bytes; empty only where allow_empty. */
static int
get_period(struct reader *r, char out[KEYRING_PERIOD_ID_MAX + 1],
    int allow_empty)
{
	uint8_t plen;

	if (get_u8(r, &plen) != 0 || plen > KEYRING_PERIOD_ID_MAX ||
	    get(r, out, plen) != 0)
		return -1;
	out[plen] = '\0';
	if (plen == 0)
		return allow_empty ? 0 : -1;
	/* No NUL inside: the id is what keyring_period_id_valid saw. */
	return strlen(out) == plen && keyring_period_id_valid(out) ? 0 : -1;
}

void
keeper_request_free(struct keeper_request *r)
{
	free(r->ops);
	memset(r, 0, sizeof(*r));
}

int
keeper_request_decode(const uint8_t *buf, size_t len,
    struct keeper_request *out)
{
	struct reader r = { buf, len };
	uint8_t type, kind, create;
	uint32_t n, mlen;
	const uint8_t *msg;

	memset(out, 0, sizeof(*out));
	if (len > KEEPER_FRAME_MAX || get_u8(&r, &type) != 0)
		return LEDGER_EINVAL;
	out->type = (enum keeper_msg)type;
	switch (type) {
	case KEEPER_RUN:
		if (get_u32(&r, &n) != 0 || n == 0 || n > KEYRING_OPS_MAX)
			return LEDGER_EINVAL;
		out->ops = xcalloc(n, sizeof(*out->ops));
		for (uint32_t i = 0; i < n; i++) {
			struct keyring_op *op = &out->ops[i];

			if (get_u8(&r, &kind) != 0 || kind < KEYRING_SIGN ||
			    kind > KEYRING_OPEN || get_u8(&r, &create) != 0 ||
			    create > 1 ||
			    get_period(&r, op->period, kind == KEYRING_SIGN) != 0 ||
			    get_u32(&r, &mlen) != 0 || mlen > KEEPER_MSG_MAX ||
			    get_ref(&r, &msg, mlen) != 0)
				goto fail;
			/* SIGN names no period; the others always do. */
			if (kind == KEYRING_SIGN ? op->period[0] != '\0' || create :
			    op->period[0] == '\0')
				goto fail;
			op->kind = (enum keyring_op_kind)kind;
			op->create = create;
			op->msg = msg;
			op->msg_len = mlen;
			out->n++;
		}
		break;
	case KEEPER_PERIODS:
		break;
	case KEEPER_DESTROY:
		if (get_period(&r, out->period, 0) != 0)
			return LEDGER_EINVAL;
		break;
	default:
		return LEDGER_EINVAL;
	}
	if (r.left != 0)
		goto fail;
	return LEDGER_OK;
fail:
	keeper_request_free(out);
	return LEDGER_EINVAL;
}

int
keeper_encode_run(const struct keyring_op *ops, size_t n, struct kbuf *out)
{
	frame_begin(out, KEEPER_RUN);
	if (n == 0 || n > KEYRING_OPS_MAX)
		return LEDGER_EINVAL;
	put_u32(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct keyring_op *op = &ops[i];
		size_t plen = op->kind == KEYRING_SIGN ? 0 :
		    strnlen(op->period, KEYRING_PERIOD_ID_MAX + 1);

		if (op->kind < KEYRING_SIGN || op->kind > KEYRING_OPEN ||
		    plen > KEYRING_PERIOD_ID_MAX ||
		    (op->kind != KEYRING_SIGN &&
		    !keyring_period_id_valid(op->period)) ||
		    (op->msg == NULL && op->msg_len > 0))
			return LEDGER_EINVAL;
		if (op->msg_len > KEEPER_MSG_MAX ||
		    out->len + op->msg_len > KEEPER_FRAME_MAX)
			return LEDGER_ETOOBIG;
		put_u8(out, (uint8_t)op->kind);
		put_u8(out, op->kind != KEYRING_SIGN && op->create ? 1 : 0);
		put_u8(out, (uint8_t)plen);
		put(out, op->period, plen);
		put_u32(out, (uint32_t)op->msg_len);
		put(out, op->msg, op->msg_len);
	}
	return frame_end(out, KEEPER_FRAME_MAX);
}

void
keeper_encode_periods(struct kbuf *out)
{
	frame_begin(out, KEEPER_PERIODS);
	frame_end(out, KEEPER_FRAME_MAX);
}

int
keeper_encode_destroy(const char *period, struct kbuf *out)
{
	frame_begin(out, KEEPER_DESTROY);
	if (!keyring_period_id_valid(period))
		return LEDGER_EINVAL;
	put_u8(out, (uint8_t)strlen(period));
	put(out, period, strlen(period));
	return frame_end(out, KEEPER_FRAME_MAX);
}

void
keeper_encode_run_reply(const struct keyring_op *ops, size_t n,
    struct kbuf *out)
{
	frame_begin(out, KEEPER_RUN_REPLY);
	put_u32(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put_u32(out, (uint32_t)ops[i].rc);
		if (ops[i].rc != LEDGER_OK)
			continue;
		switch (ops[i].kind) {
		case KEYRING_SIGN:
			put(out, ops[i].sig, KEYRING_SIG_LEN);
			break;
		case KEYRING_TOKEN:
			put(out, ops[i].token, LEDGER_SUBJECT_TOKEN_LEN);
			break;
		default:
			put_u32(out, (uint32_t)ops[i].out_len);
			put(out, ops[i].out, ops[i].out_len);
			break;
		}
	}
	/*
	 * Each reply op is at most 36 bytes longer than its request op, which
	 * took at least 7: a request within KEEPER_FRAME_MAX gives a reply
	 * within KEEPER_REPLY_MAX.
	 */
	frame_end(out, KEEPER_REPLY_MAX);
}

static void
put_list(struct kbuf *b, char *const *ids, size_t n)
{
	put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(ids[i], KEYRING_PERIOD_ID_MAX);

		put_u8(b, (uint8_t)len);
		put(b, ids[i], len);
	}
}

void
keeper_encode_periods_reply(int rc, const struct keyring_periods *p,
    struct kbuf *out)
{
	frame_begin(out, KEEPER_PERIODS_REPLY);
	put_u32(out, (uint32_t)rc);
	put_list(out, rc == LEDGER_OK ? p->live : NULL,
	    rc == LEDGER_OK ? p->n_live : 0);
	put_list(out, rc == LEDGER_OK ? p->destroyed : NULL,
	    rc == LEDGER_OK ? p->n_destroyed : 0);
	frame_end(out, KEEPER_REPLY_MAX);
}

void
keeper_encode_rc_reply(enum keeper_msg type, int rc, struct kbuf *out)
{
	frame_begin(out, type);
	put_u32(out, (uint32_t)rc);
	frame_end(out, KEEPER_REPLY_MAX);
}

void
keeper_encode_ready(int rc, const char *verifier, struct kbuf *out)
{
	size_t len = verifier != NULL ? strlen(verifier) : 0;

	if (len > KEEPER_VERIFIER_MAX)
		len = 0;
	frame_begin(out, KEEPER_READY);
	put_u32(out, (uint32_t)rc);
	put_u16(out, (uint16_t)len);
	put(out, verifier, len);
	frame_end(out, KEEPER_REPLY_MAX);
}

int
keeper_decode_run_reply(const uint8_t *buf, size_t len,
    struct keyring_op *ops, size_t n)
{
	struct reader r = { buf, len };
	const uint8_t *p;
	uint32_t count, olen;
	uint8_t type;
	size_t i;

	if (get_u8(&r, &type) != 0 || type != KEEPER_RUN_REPLY ||
	    get_u32(&r, &count) != 0 || count != n)
		return LEDGER_EINVAL;
	for (i = 0; i < n; i++) {
		struct keyring_op *op = &ops[i];

		if (get_i32(&r, &op->rc) != 0)
			goto fail;
		if (op->rc != LEDGER_OK)
			continue;
		switch (op->kind) {
		case KEYRING_SIGN:
			if (get(&r, op->sig, KEYRING_SIG_LEN) != 0)
				goto fail;
			break;
		case KEYRING_TOKEN:
			if (get(&r, op->token, LEDGER_SUBJECT_TOKEN_LEN) != 0)
				goto fail;
			op->token[LEDGER_SUBJECT_TOKEN_LEN] = '\0';
			if (!ledger_subject_token_valid(op->token,
			    LEDGER_SUBJECT_TOKEN_LEN))
				goto fail;
			break;
		default:
			if (get_u32(&r, &olen) != 0 || olen > KEEPER_MSG_MAX ||
			    get_ref(&r, &p, olen) != 0)
				goto fail;
			op->out = xmalloc(olen ? olen : 1);
			memcpy(op->out, p, olen);
			op->out_len = olen;
			break;
		}
	}
	if (r.left == 0)
		return LEDGER_OK;
fail:
	keyring_op_release(ops, n);
	return LEDGER_EINVAL;
}

static int
get_list(struct reader *r, char ***list, size_t *n)
{
	char id[KEYRING_PERIOD_ID_MAX + 1];
	uint32_t count;

	if (get_u32(r, &count) != 0 || count > r->left)
		return -1;
	*list = xcalloc(count ? count : 1, sizeof(**list));
	for (uint32_t i = 0; i < count; i++) {
		if (get_period(r, id, 0) != 0)
			return -1;
		(*list)[(*n)++] = xstrdup(id);
	}
	return 0;
}

int
keeper_decode_periods_reply(const uint8_t *buf, size_t len,
    struct keyring_periods *out)
{
	struct reader r = { buf, len };
	uint8_t type;
	int rc;

	memset(out, 0, sizeof(*out));
	if (get_u8(&r, &type) != 0 || type != KEEPER_PERIODS_REPLY ||
	    get_i32(&r, &rc) != 0 ||
	    get_list(&r, &out->live, &out->n_live) != 0 ||
	    get_list(&r, &out->destroyed, &out->n_destroyed) != 0 ||
	    r.left != 0) {
		keyring_periods_free(out);
		return LEDGER_EINVAL;
	}
	if (rc != LEDGER_OK)
		keyring_periods_free(out);
	return rc;
}

int
keeper_decode_rc_reply(const uint8_t *buf, size_t len, enum keeper_msg type,
    int *rc, char **verifier)
{
	struct reader r = { buf, len };
	const uint8_t *p;
	uint16_t vlen;
	uint8_t t;

	if (verifier != NULL)
		*verifier = NULL;
	if (get_u8(&r, &t) != 0 || t != type || get_i32(&r, rc) != 0)
		return LEDGER_EINVAL;
	if (type == KEEPER_READY) {
		if (get_u16(&r, &vlen) != 0 || vlen > KEEPER_VERIFIER_MAX ||
		    get_ref(&r, &p, vlen) != 0 || memchr(p, '\0', vlen) != NULL)
			return LEDGER_EINVAL;
		if (verifier != NULL && vlen > 0)
			*verifier = xstrndup((const char *)p, vlen);
	}
	return r.left == 0 ? LEDGER_OK : LEDGER_EINVAL;
}
