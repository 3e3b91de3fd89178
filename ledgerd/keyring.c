/*
 * keyring.h's front: one lock around the keys, wherever they are: held in
 * this process (a keystore, for tools that run alone) or behind the key
 * keeper's socket (keyring_client.c, in `ledgerd serve`).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "keeper_proto.h"
#include "keyring.h"
#include "keyring_impl.h"
#include "keystore.h"

struct keyring {
	pthread_mutex_t lock;		/* one exchange at a time */
	struct ledger_verifier verifier;
	char *verifier_text;
	struct keystore *local;		/* keys in this process, or */
	struct keeper_conn *remote;	/* the key keeper's socket */
	uint64_t exchanges;		/* keyring_run calls made (atomic) */
};

static struct keyring *
keyring_new(const struct ledger_verifier *v)
{
	struct keyring *kr = xcalloc(1, sizeof(*kr));

	pthread_mutex_init(&kr->lock, NULL);
	kr->verifier = *v;
	kr->verifier_text = ledger_verifier_format(v);
	return kr;
}

struct keyring *
keyring_open_local(struct keystore *ks)
{
	struct keyring *kr = keyring_new(keystore_verifier(ks));

	kr->local = ks;
	return kr;
}

int
keyring_start_keeper(const struct config *cfg, struct keyring **out)
{
	struct ledger_verifier v;
	struct keeper_conn *conn;
	int rc;

	*out = NULL;
	if ((rc = keeper_conn_start(cfg, &conn, &v)) != 0)
		return rc;
	*out = keyring_new(&v);
	(*out)->remote = conn;
	return LEDGER_OK;
}

int
keyring_available(struct keyring *kr)
{
	int alive;

	if (kr->local != NULL)
		return 1;
	/*
	 * An exchange under way holds the lock for as long as the keeper
	 * takes, up to its timeout, and this is asked on the loop's thread
	 * (/healthz): never wait for it.  That exchange finds a keeper gone
	 * itself; until it does, what is known stands.
	 */
	if (pthread_mutex_trylock(&kr->lock) != 0)
		return !keeper_conn_known_gone(kr->remote);
	alive = keeper_conn_alive(kr->remote);
	pthread_mutex_unlock(&kr->lock);
	return alive;
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	keystore_free(kr->local);
	keeper_conn_free(kr->remote);
	free(kr->verifier_text);
	pthread_mutex_destroy(&kr->lock);
	free(kr);
}

int
keyring_run(struct keyring *kr, struct keyring_op *ops, size_t n)
{
	int rc;

	if (n > KEYRING_OPS_MAX || (ops == NULL && n > 0))
		return LEDGER_EINVAL;
	for (size_t i = 0; i < n; i++) {
		ops[i].rc = LEDGER_EINVAL;
		ops[i].out = NULL;
		ops[i].out_len = 0;
	}
	if (n == 0)
		return LEDGER_OK;
	pthread_mutex_lock(&kr->lock);
	__atomic_add_fetch(&kr->exchanges, 1, __ATOMIC_RELAXED);
	if (kr->local != NULL)
		rc = keystore_run(kr->local, ops, n);
	else
		rc = keeper_conn_run(kr->remote, ops, n);
	pthread_mutex_unlock(&kr->lock);
	return rc;
}

/* The bytes op takes in a RUN frame (keeper_proto.h). */
static size_t
op_frame_bytes(const struct keyring_op *op)
{
	return 3 + strnlen(op->period, sizeof(op->period)) + 4 + op->msg_len;
}

/*
 * How many of ops[0..n) go in one exchange: at most KEYRING_OPS_MAX, and
 * no more bytes than a frame carries (at least one, which keyring_run
 * refuses when it alone is too big).
 */
static size_t
exchange_ops(const struct keyring_op *ops, size_t n)
{
	size_t k, bytes = 16;	/* length, type, count, and to spare */

	for (k = 0; k < n && k < KEYRING_OPS_MAX; k++) {
		bytes += op_frame_bytes(&ops[k]);
		if (bytes > KEEPER_FRAME_MAX && k > 0)
			break;
	}
	return k;
}

int
keyring_run_all(struct keyring *kr, struct keyring_op *ops, size_t n)
{
	size_t k;
	int rc = LEDGER_OK;

	while (n > 0 && rc == LEDGER_OK) {
		k = exchange_ops(ops, n);
		rc = keyring_run(kr, ops, k);
		ops += k;
		n -= k;
	}
	return rc;
}

uint64_t
keyring_exchanges(struct keyring *kr)
{
	/* Not under the lock, which an exchange holds while it lasts. */
	return __atomic_load_n(&kr->exchanges, __ATOMIC_RELAXED);
}

void
keyring_op_release(struct keyring_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].out != NULL) {
			/* OPEN gives back a clear value: wipe it. */
			OPENSSL_cleanse(ops[i].out, ops[i].out_len);
			free(ops[i].out);
		}
		ops[i].out = NULL;
		ops[i].out_len = 0;
	}
}

const struct ledger_verifier *
keyring_verifier(const struct keyring *kr)
{
	return &kr->verifier;
}

const char *
keyring_verifier_text(const struct keyring *kr)
{
	return kr->verifier_text;
}

int
keyring_periods(struct keyring *kr, struct keyring_periods *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&kr->lock);
	if (kr->local != NULL)
		rc = keystore_periods(kr->local, out);
	else
		rc = keeper_conn_periods(kr->remote, out);
	pthread_mutex_unlock(&kr->lock);
	return rc;
}

void
keyring_periods_free(struct keyring_periods *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_live; i++)
		free(p->live[i]);
	for (size_t i = 0; i < p->n_destroyed; i++)
		free(p->destroyed[i]);
	free(p->live);
	free(p->destroyed);
	memset(p, 0, sizeof(*p));
}

int
keyring_destroy(struct keyring *kr, const char *period)
{
	int rc;

	if (!keyring_period_id_valid(period))
		return LEDGER_EINVAL;
	pthread_mutex_lock(&kr->lock);
	if (kr->local != NULL)
		rc = keystore_destroy(kr->local, period);
	else
		rc = keeper_conn_destroy(kr->remote, period);
	pthread_mutex_unlock(&kr->lock);
	return rc;
}

const char *
keyring_strerror(int rc)
{
	switch (rc) {
	case KEYRING_ENOPERIOD:
		return "no secret for this period";
	case KEYRING_EDESTROYED:
		return "the period's secret was destroyed";
	case KEYRING_EUNAVAILABLE:
		return "the key keeper is unavailable";
	default:
		return ledger_strerror(rc);
	}
}

int
keyring_period_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (i >= KEYRING_PERIOD_ID_MAX ||
		    !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || c == '-'))
			return 0;
	}
	return i > 0;
}
