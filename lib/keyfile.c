/*
 * Key files: Ed25519 private keys as PKCS#8 PEM and raw secrets, created
 * 0600 with O_EXCL and synced, and refused on reading when group or others
 * have any access (after OpenBSD's check_file_secrecy).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "ledger/error.h"
#include "ledger/keyfile.h"
#include "ledger/xmalloc.h"

#define KEYFILE_MAX (64 * 1024)	/* no PEM Ed25519 key comes near this */

int
ledger_ed25519_generate(uint8_t seed[LEDGER_ED25519_LEN])
{
	if (RAND_priv_bytes(seed, LEDGER_ED25519_LEN) != 1) {
		ERR_clear_error();
		return LEDGER_ECRYPTO;
	}
	return LEDGER_OK;
}

/*
 * check_secrecy - the file is regular, owned by root or by us, and neither
 * group nor others have any permission on it.  OpenBSD tolerates group
 * read; a signing key has no reason to be shared, so this does not.
 */
static int
check_secrecy(const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return LEDGER_EIO;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return LEDGER_EPERM;
	if (st->st_mode & (S_IRWXG | S_IRWXO))
		return LEDGER_EPERM;
	return LEDGER_OK;
}

int
ledger_file_secrecy_ok(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return LEDGER_EIO;
	return check_secrecy(&st);
}

/* sync_dir - makes the new directory entry of path durable. */
static int
sync_dir(const char *path)
{
	char *copy;
	int fd, rc = LEDGER_EIO;

	copy = xstrdup(path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd == -1)
		return LEDGER_EIO;
	if (fsync(fd) == 0)
		rc = LEDGER_OK;
	close(fd);
	return rc;
}

int
ledger_file_write_new(const char *path, const void *buf, size_t len,
    unsigned mode)
{
	const char *p = buf;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd == -1)
		return LEDGER_EIO;
	/* The umask may only remove bits; set exactly mode regardless. */
	if (fchmod(fd, (mode_t)mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (sync_dir(path) != LEDGER_OK)
		return LEDGER_EIO;	/* the file itself is complete */
	return LEDGER_OK;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(path);
	errno = saved;
	return LEDGER_EIO;
}

/*
 * read_secret_file - opens path, checks its secrecy on the open descriptor
 * (no window between check and read) and reads at most cap bytes.
 *	buf, cap	out: the contents (a secret: cleanse it)
 *	len		out: how many bytes were read (a caller that wants
 *			n bytes passes cap = n + 1 to detect longer files)
 * Returns 0, LEDGER_EIO (errno set) or LEDGER_EPERM.
 */
static int
read_secret_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd, rc, saved;

	/* O_NONBLOCK: a FIFO in the key's place must not hang the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1)
		return LEDGER_EIO;
	if (fstat(fd, &st) == -1) {
		rc = LEDGER_EIO;
		goto out;
	}
	if ((rc = check_secrecy(&st)) != LEDGER_OK)
		goto out;
	while (off < cap) {
		if ((n = read(fd, buf + off, cap - off)) == -1) {
			if (errno == EINTR)
				continue;
			rc = LEDGER_EIO;
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*len = off;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
ledger_keyfile_write_ed25519(const char *path,
    const uint8_t seed[LEDGER_ED25519_LEN])
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *pem;
	long pem_len;
	int rc = LEDGER_ECRYPTO;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    LEDGER_ED25519_LEN);
	if (pkey == NULL)
		goto out;
	/* A secure-memory BIO: its buffer is wiped when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	/* PEM_write_bio_PrivateKey writes unencrypted PKCS#8 ("PRIVATE KEY"). */
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1)
		goto out;
	if ((pem_len = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;
	rc = ledger_file_write_new(path, pem, (size_t)pem_len, 0600);
out:
	if (rc == LEDGER_ECRYPTO)
		ERR_clear_error();
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return rc;
}

/* Never ask for a passphrase: an encrypted key file is simply refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

int
ledger_keyfile_read_ed25519(const char *path,
    uint8_t seed[LEDGER_ED25519_LEN])
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	uint8_t *buf;
	size_t len = 0, seedlen = LEDGER_ED25519_LEN;
	int rc;

	buf = xmalloc(KEYFILE_MAX + 1);
	if ((rc = read_secret_file(path, buf, KEYFILE_MAX + 1, &len)) != 0)
		goto out;
	rc = LEDGER_EINVAL;
	if (len > KEYFILE_MAX)
		goto out;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		rc = LEDGER_ECRYPTO;
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
		goto out;
	if (EVP_PKEY_get_raw_private_key(pkey, seed, &seedlen) != 1 ||
	    seedlen != LEDGER_ED25519_LEN) {
		OPENSSL_cleanse(seed, LEDGER_ED25519_LEN);
		goto out;
	}
	rc = LEDGER_OK;
out:
	if (rc == LEDGER_EINVAL || rc == LEDGER_ECRYPTO)
		ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	OPENSSL_cleanse(buf, KEYFILE_MAX + 1);
	free(buf);
	return rc;
}

int
ledger_keyfile_write_secret(const char *path, const uint8_t *secret,
    size_t len)
{
	if (len == 0)
		return LEDGER_EINVAL;
	return ledger_file_write_new(path, secret, len, 0600);
}

int
ledger_keyfile_read_secret(const char *path, uint8_t *secret, size_t len)
{
	uint8_t *buf;
	size_t n = 0;
	int rc;

	if (len == 0)
		return LEDGER_EINVAL;
	/* One byte more than wanted, to tell a longer file from a right one. */
	buf = xmalloc(len + 1);
	if ((rc = read_secret_file(path, buf, len + 1, &n)) != 0)
		goto out;
	if (n != len) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	memcpy(secret, buf, len);
out:
	OPENSSL_cleanse(buf, len + 1);
	free(buf);
	return rc;
}
