/*
 * keyring.h's front: one lock around the keys, held in this process (a
 * keystore).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "keyring.h"
#include "keyring_impl.h"
#include "keystore.h"

struct keyring {
	pthread_mutex_t lock;		/* one exchange at a time */
	struct ledger_verifier verifier;
	char *verifier_text;
	struct keystore *local;		/* keys in this process */
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

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	keystore_free(kr->local);
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
	rc = keystore_run(kr->local, ops, n);
	pthread_mutex_unlock(&kr->lock);
	return rc;
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
	rc = keystore_periods(kr->local, out);
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
	rc = keystore_destroy(kr->local, period);
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
