/*
 * The key files of a data directory (spec §3.2, security.md "Keys"): the
 * log key it is given, period secrets in DIR/keys/<period>.key made on first
 * use, tombstones that keep a destroyed period from being made again, and
 * the keyring operations done with them.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ledger/error.h"
#include "ledger/keyfile.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "datadir.h"
#include "keystore.h"
#include "log.h"

#define SEAL_KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16

_Static_assert(KEYRING_SEAL_OVERHEAD == NONCE_LEN + TAG_LEN, "seal layout");
_Static_assert(LEDGER_PERIOD_ID_MAX == KEYRING_PERIOD_ID_MAX, "period ids");

/* The keys a live period gives, kept while the store is open. */
struct period_keys {
	char id[KEYRING_PERIOD_ID_MAX + 1];
	uint8_t token_key[LEDGER_SUBJECT_KEY_LEN];
	uint8_t seal_key[SEAL_KEY_LEN];
};

struct keystore {
	char *dir;				/* the data directory */
	char *keys_dir;				/* DIR/keys */
	struct ledger_signer *signer;
	int has_legacy;
	uint8_t legacy_key[LEDGER_SUBJECT_KEY_LEN];
	struct period_keys *periods;		/* loaded so far */
	size_t n_periods, cap_periods;
};

static char *
period_path(const struct keystore *ks, const char *id, const char *suffix)
{
	return xasprintf("%s/%s%s", ks->keys_dir, id, suffix);
}

/* sync_dir - makes a removal or creation in path durable. */
static int
sync_dir(const char *path)
{
	int fd, rc = LEDGER_EIO;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return LEDGER_EIO;
	if (fsync(fd) == 0)
		rc = LEDGER_OK;
	close(fd);
	return rc;
}

int
keystore_open(const char *dir, int create, struct ledger_signer *signer,
    const uint8_t *legacy_key, struct keystore **out)
{
	struct keystore *ks = xcalloc(1, sizeof(*ks));
	struct stat st;

	*out = NULL;
	ks->dir = xstrdup(dir);
	ks->keys_dir = xasprintf("%s/%s", dir, DATADIR_KEYS);
	ks->signer = signer;
	if (legacy_key != NULL) {
		memcpy(ks->legacy_key, legacy_key, LEDGER_SUBJECT_KEY_LEN);
		ks->has_legacy = 1;
	}
	if (stat(ks->keys_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			log_warnx("%s is not a directory", ks->keys_dir);
			goto fail;
		}
	} else if (errno != ENOENT || !create) {
		/* Read-only tools meet a missing directory as "no period". */
		if (errno != ENOENT) {
			log_warn("%s", ks->keys_dir);
			goto fail;
		}
	} else {
		if (mkdir(ks->keys_dir, 0700) == -1 || sync_dir(dir) != 0) {
			log_warn("cannot create %s", ks->keys_dir);
			goto fail;
		}
	}
	*out = ks;
	return LEDGER_OK;
fail:
	keystore_free(ks);
	return LEDGER_EIO;
}

void
keystore_free(struct keystore *ks)
{
	if (ks == NULL)
		return;
	if (ks->periods != NULL) {
		OPENSSL_cleanse(ks->periods, ks->cap_periods *
		    sizeof(*ks->periods));
		free(ks->periods);
	}
	ledger_signer_free(ks->signer);
	free(ks->dir);
	free(ks->keys_dir);
	OPENSSL_cleanse(ks, sizeof(*ks));
	free(ks);
}

const struct ledger_verifier *
keystore_verifier(const struct keystore *ks)
{
	return ledger_signer_verifier(ks->signer);
}

/* 1 when period's tombstone exists, 0 when not, -1 on error (logged). */
static int
tombstoned(const struct keystore *ks, const char *id)
{
	char *path = period_path(ks, id, KEYSTORE_TOMBSTONE_SUFFIX);
	int rc = 1;

	if (access(path, F_OK) == -1) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc == -1)
			log_warn("%s", path);
	}
	free(path);
	return rc;
}

/* Derives and caches the keys of a period whose secret is secret. */
static int
period_add(struct keystore *ks, const char *id, const uint8_t *secret,
    int legacy, struct period_keys **out)
{
	struct period_keys *p;
	int rc;

	if (ks->n_periods == ks->cap_periods) {
		/* Grown by hand so that the old copy is wiped, not leaked. */
		size_t cap = ks->cap_periods ? 2 * ks->cap_periods : 8;
		struct period_keys *grown = xcalloc(cap, sizeof(*grown));

		if (ks->periods != NULL) {
			memcpy(grown, ks->periods, ks->n_periods * sizeof(*grown));
			OPENSSL_cleanse(ks->periods, ks->cap_periods *
			    sizeof(*ks->periods));
			free(ks->periods);
		}
		ks->periods = grown;
		ks->cap_periods = cap;
	}
	p = &ks->periods[ks->n_periods];
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", id);
	/* Legacy tokens were HMAC under subject.key itself (spec §3.2). */
	if (legacy) {
		memcpy(p->token_key, secret, LEDGER_SUBJECT_KEY_LEN);
		rc = LEDGER_OK;
	} else
		rc = ledger_period_token_key(secret, p->token_key);
	if (rc == LEDGER_OK)
		rc = ledger_period_seal_key(secret, p->seal_key);
	if (rc != LEDGER_OK) {
		OPENSSL_cleanse(p, sizeof(*p));
		return rc;
	}
	ks->n_periods++;
	*out = p;
	return LEDGER_OK;
}

/*
 * find_period - the keys of period id: loaded, read from its file, or (with
 * create) made.  Returns 0, KEYRING_ENOPERIOD, KEYRING_EDESTROYED,
 * LEDGER_EINVAL (bad id), LEDGER_EIO or LEDGER_ECRYPTO.
 */
static int
find_period(struct keystore *ks, const char *id, int create,
    struct period_keys **out)
{
	uint8_t secret[LEDGER_PERIOD_SECRET_LEN];
	char *path = NULL;
	int rc;

	if (!keyring_period_id_valid(id))
		return LEDGER_EINVAL;
	for (size_t i = 0; i < ks->n_periods; i++)
		if (strcmp(ks->periods[i].id, id) == 0) {
			*out = &ks->periods[i];
			return LEDGER_OK;
		}
	/* The tombstone first: a destroyed period is never made again. */
	if ((rc = tombstoned(ks, id)) != 0)
		return rc == 1 ? KEYRING_EDESTROYED : LEDGER_EIO;
	if (strcmp(id, LEDGER_PERIOD_LEGACY) == 0) {
		if (!ks->has_legacy)
			return KEYRING_ENOPERIOD;
		return period_add(ks, id, ks->legacy_key, 1, out);
	}
	path = period_path(ks, id, KEYSTORE_SECRET_SUFFIX);
	rc = ledger_keyfile_read_secret(path, secret, sizeof(secret));
	if (rc == LEDGER_EIO && errno == ENOENT) {
		if (!create) {
			rc = KEYRING_ENOPERIOD;
			goto out;
		}
		/* Random, on its own: no other key can give it back. */
		if (RAND_priv_bytes(secret, sizeof(secret)) != 1) {
			ERR_clear_error();
			rc = LEDGER_ECRYPTO;
			goto out;
		}
		if ((rc = ledger_keyfile_write_secret(path, secret,
		    sizeof(secret))) != LEDGER_OK) {
			log_warn("cannot write the period secret %s", path);
			goto out;
		}
		log_info("created the secret of period %s (%s)", id, path);
	} else if (rc != LEDGER_OK) {
		log_warnx("cannot read the period secret %s: %s", path,
		    rc == LEDGER_EIO ? strerror(errno) : ledger_strerror(rc));
		goto out;
	}
	rc = period_add(ks, id, secret, 0, out);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	free(path);
	return rc;
}

/* AES-256-GCM, nonce || ciphertext || tag; the period id is the AAD. */
static int
seal(const struct period_keys *p, const uint8_t *in, size_t len,
    uint8_t **out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t *buf;
	int n, rc = LEDGER_ECRYPTO;

	if (len > KEYRING_VALUE_MAX)
		return LEDGER_ETOOBIG;
	buf = xmalloc(len + KEYRING_SEAL_OVERHEAD);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (RAND_bytes(buf, NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, p->seal_key,
	    buf) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)p->id,
	    (int)strlen(p->id)) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &n, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    buf + NONCE_LEN + len) != 1)
		goto out;
	*out = buf;
	*out_len = len + KEYRING_SEAL_OVERHEAD;
	buf = NULL;
	rc = LEDGER_OK;
out:
	ERR_clear_error();
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return rc;
}

/* The value sealed by seal(); LEDGER_EVERIFY when it was tampered with. */
static int
unseal(const struct period_keys *p, const uint8_t *in, size_t len,
    uint8_t **out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t *buf, tag[TAG_LEN];
	size_t ct_len;
	int n, rc = LEDGER_ECRYPTO;

	if (len < KEYRING_SEAL_OVERHEAD ||
	    len > KEYRING_VALUE_MAX + KEYRING_SEAL_OVERHEAD)
		return LEDGER_EINVAL;
	ct_len = len - KEYRING_SEAL_OVERHEAD;
	buf = xmalloc(ct_len + 1);
	memcpy(tag, in + len - TAG_LEN, TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, p->seal_key,
	    in) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)p->id,
	    (int)strlen(p->id)) != 1 ||
	    EVP_DecryptUpdate(ctx, buf, &n, in + NONCE_LEN, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	/* The tag is compared in constant time inside OpenSSL. */
	if (EVP_DecryptFinal_ex(ctx, buf + n, &n) != 1) {
		rc = LEDGER_EVERIFY;
		goto out;
	}
	*out = buf;
	*out_len = ct_len;
	buf = NULL;
	rc = LEDGER_OK;
out:
	ERR_clear_error();
	EVP_CIPHER_CTX_free(ctx);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, ct_len + 1);
		free(buf);
	}
	return rc;
}

static void
run_op(struct keystore *ks, struct keyring_op *op)
{
	struct period_keys *p;

	op->out = NULL;
	op->out_len = 0;
	op->token[0] = '\0';
	if (op->msg == NULL && op->msg_len > 0) {
		op->rc = LEDGER_EINVAL;
		return;
	}
	switch (op->kind) {
	case KEYRING_SIGN:
		op->rc = ledger_ed25519_sign(ks->signer, op->msg, op->msg_len,
		    op->sig);
		return;
	case KEYRING_TOKEN:
	case KEYRING_SEAL:
	case KEYRING_OPEN:
		break;
	default:
		op->rc = LEDGER_EINVAL;
		return;
	}
	op->period[KEYRING_PERIOD_ID_MAX] = '\0';
	if ((op->rc = find_period(ks, op->period,
	    op->kind != KEYRING_OPEN && op->create, &p)) != LEDGER_OK)
		return;
	if (op->kind == KEYRING_TOKEN)
		op->rc = ledger_subject_token(p->token_key, op->msg, op->msg_len,
		    op->token);
	else if (op->kind == KEYRING_SEAL)
		op->rc = seal(p, op->msg, op->msg_len, &op->out, &op->out_len);
	else
		op->rc = unseal(p, op->msg, op->msg_len, &op->out, &op->out_len);
}

int
keystore_run(struct keystore *ks, struct keyring_op *ops, size_t n)
{
	if (n > KEYRING_OPS_MAX || (ops == NULL && n > 0))
		return LEDGER_EINVAL;
	for (size_t i = 0; i < n; i++)
		run_op(ks, &ops[i]);
	return LEDGER_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_add(char ***list, size_t *n, const char *id)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrdup(id);
}

/* The id of a directory entry named <id><suffix>, or 0. */
static int
entry_id(const char *name, const char *suffix, char id[KEYRING_PERIOD_ID_MAX + 1])
{
	size_t len = strlen(name), slen = strlen(suffix);

	if (len <= slen || len - slen > KEYRING_PERIOD_ID_MAX ||
	    strcmp(name + len - slen, suffix) != 0)
		return 0;
	memcpy(id, name, len - slen);
	id[len - slen] = '\0';
	return keyring_period_id_valid(id);
}

int
keystore_periods(struct keystore *ks, struct keyring_periods *out)
{
	char id[KEYRING_PERIOD_ID_MAX + 1];
	struct dirent *de;
	DIR *d;
	int t;

	memset(out, 0, sizeof(*out));
	if ((d = opendir(ks->keys_dir)) == NULL && errno != ENOENT) {
		log_warn("%s", ks->keys_dir);
		return LEDGER_EIO;
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (entry_id(de->d_name, KEYSTORE_TOMBSTONE_SUFFIX, id))
			list_add(&out->destroyed, &out->n_destroyed, id);
		else if (entry_id(de->d_name, KEYSTORE_SECRET_SUFFIX, id)) {
			/* A destruction cut short: destroyed all the same. */
			if ((t = tombstoned(ks, id)) == 0)
				list_add(&out->live, &out->n_live, id);
		}
	}
	if (d != NULL)
		closedir(d);
	if (ks->has_legacy && tombstoned(ks, LEDGER_PERIOD_LEGACY) == 0)
		list_add(&out->live, &out->n_live, LEDGER_PERIOD_LEGACY);
	if (out->n_live > 0)
		qsort(out->live, out->n_live, sizeof(*out->live), cmp_str);
	if (out->n_destroyed > 0)
		qsort(out->destroyed, out->n_destroyed, sizeof(*out->destroyed),
		    cmp_str);
	return LEDGER_OK;
}

/*
 * wipe_file - overwrites path with zeros, syncs it, removes it and syncs its
 * directory dir.  A missing file is fine (destroyed before).
 */
static int
wipe_file(const char *path, const char *dir)
{
	uint8_t zeros[256];
	struct stat st;
	off_t left;
	ssize_t w;
	int fd, rc = LEDGER_EIO;

	memset(zeros, 0, sizeof(zeros));
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? LEDGER_OK : LEDGER_EIO;
	if (fstat(fd, &st) == -1)
		goto out;
	for (left = st.st_size; left > 0; left -= w) {
		w = write(fd, zeros, left < (off_t)sizeof(zeros) ?
		    (size_t)left : sizeof(zeros));
		if (w == -1 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0)
			goto out;
	}
	if (fsync(fd) == -1)
		goto out;
	close(fd);
	fd = -1;
	if (unlink(path) == -1 || sync_dir(dir) != LEDGER_OK)
		goto out;
	rc = LEDGER_OK;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

int
keystore_destroy(struct keystore *ks, const char *period)
{
	char *tomb = NULL, *secret = NULL;
	int legacy, rc;

	if (!keyring_period_id_valid(period))
		return LEDGER_EINVAL;
	legacy = strcmp(period, LEDGER_PERIOD_LEGACY) == 0;
	if (mkdir(ks->keys_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("cannot create %s", ks->keys_dir);
		return LEDGER_EIO;
	}
	tomb = period_path(ks, period, KEYSTORE_TOMBSTONE_SUFFIX);
	secret = legacy ? xasprintf("%s/%s", ks->dir, DATADIR_SUBJECT_KEY) :
	    period_path(ks, period, KEYSTORE_SECRET_SUFFIX);
	/*
	 * The tombstone before the wipe: from the moment it is durable the
	 * period can be neither used nor made again, and a wipe cut short is
	 * finished by calling this again.
	 */
	rc = ledger_file_write_new(tomb, "", 0, 0600);
	if (rc != LEDGER_OK && errno != EEXIST) {
		log_warn("cannot write the tombstone %s", tomb);
		goto out;
	}
	for (size_t i = 0; i < ks->n_periods; i++)
		if (strcmp(ks->periods[i].id, period) == 0) {
			ks->periods[i] = ks->periods[--ks->n_periods];
			OPENSSL_cleanse(&ks->periods[ks->n_periods],
			    sizeof(ks->periods[0]));
			break;
		}
	if (legacy) {
		OPENSSL_cleanse(ks->legacy_key, sizeof(ks->legacy_key));
		ks->has_legacy = 0;
	}
	if ((rc = wipe_file(secret, legacy ? ks->dir : ks->keys_dir)) !=
	    LEDGER_OK) {
		log_warn("cannot wipe the secret %s", secret);
		goto out;
	}
	log_info("destroyed the secret of period %s", period);
out:
	free(tomb);
	free(secret);
	return rc;
}
