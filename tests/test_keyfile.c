/* Tests of key files: PEM Ed25519 keys, raw secrets and their modes. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ledger/error.h"
#include "ledger/keyfile.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/ledger-keyfile-XXXXXX";

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
test_generate(void)
{
	uint8_t a[LEDGER_ED25519_LEN], b[LEDGER_ED25519_LEN];

	CHECK_INT(ledger_ed25519_generate(a), 0);
	CHECK_INT(ledger_ed25519_generate(b), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

static void
test_ed25519_roundtrip(void)
{
	uint8_t seed[LEDGER_ED25519_LEN], back[LEDGER_ED25519_LEN];
	char *path = tmp_path("log.key");
	struct stat st;
	char head[64];
	ssize_t n;
	int fd;

	REQUIRE(ledger_ed25519_generate(seed) == 0);
	CHECK_INT(ledger_keyfile_write_ed25519(path, seed), 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK(S_ISREG(st.st_mode));
	CHECK_INT(ledger_file_secrecy_ok(path), 0);
	memset(back, 0, sizeof(back));
	CHECK_INT(ledger_keyfile_read_ed25519(path, back), 0);
	CHECK_MEM(seed, back, sizeof(seed));

	/* PKCS#8, not a legacy or OpenSSH form. */
	fd = open(path, O_RDONLY);
	REQUIRE(fd != -1);
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	REQUIRE(n > 0);
	head[n] = '\0';
	CHECK(strncmp(head, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);

	/* Never overwritten. */
	CHECK_INT(ledger_keyfile_write_ed25519(path, seed), LEDGER_EIO);
	CHECK_INT(errno, EEXIST);
	CHECK_INT(ledger_keyfile_read_ed25519(path, back), 0);
	CHECK_MEM(seed, back, sizeof(seed));

	/* Readable by others: refused. */
	REQUIRE(chmod(path, 0644) == 0);
	CHECK_INT(ledger_keyfile_read_ed25519(path, back), LEDGER_EPERM);
	CHECK_INT(ledger_file_secrecy_ok(path), LEDGER_EPERM);
	REQUIRE(chmod(path, 0640) == 0);
	CHECK_INT(ledger_keyfile_read_ed25519(path, back), LEDGER_EPERM);
	REQUIRE(chmod(path, 0601) == 0);
	CHECK_INT(ledger_keyfile_read_ed25519(path, back), LEDGER_EPERM);
	REQUIRE(chmod(path, 0400) == 0);
	CHECK_INT(ledger_keyfile_read_ed25519(path, back), 0);
	unlink(path);
	free(path);
}

/* The seed in a file signs like the same seed in memory. */
static void
test_key_signs(void)
{
	uint8_t seed[LEDGER_ED25519_LEN], back[LEDGER_ED25519_LEN];
	struct ledger_signer *a = NULL, *b = NULL;
	char *path = tmp_path("sign.key");

	memset(seed, 0x5a, sizeof(seed));
	REQUIRE(ledger_keyfile_write_ed25519(path, seed) == 0);
	REQUIRE(ledger_keyfile_read_ed25519(path, back) == 0);
	REQUIRE(ledger_signer_from_seed("log", LEDGER_SIGTYPE_ED25519, seed,
	    &a) == 0);
	REQUIRE(ledger_signer_from_seed("log", LEDGER_SIGTYPE_ED25519, back,
	    &b) == 0);
	CHECK_MEM(ledger_signer_verifier(a)->public_key,
	    ledger_signer_verifier(b)->public_key, LEDGER_ED25519_LEN);
	ledger_signer_free(a);
	ledger_signer_free(b);
	unlink(path);
	free(path);
}

static void
write_pem(const char *path, EVP_PKEY *pkey)
{
	FILE *f;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd != -1);
	f = fdopen(fd, "w");
	REQUIRE(f != NULL);
	CHECK(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
}

static void
test_not_ed25519(void)
{
	uint8_t seed[LEDGER_ED25519_LEN];
	EVP_PKEY *pkey;
	char *path;
	int fd;

	/* An EC key. */
	path = tmp_path("ec.key");
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	REQUIRE(pkey != NULL);
	write_pem(path, pkey);
	EVP_PKEY_free(pkey);
	CHECK_INT(ledger_keyfile_read_ed25519(path, seed), LEDGER_EINVAL);
	unlink(path);
	free(path);

	/* An X25519 key: the right length, the wrong algorithm. */
	path = tmp_path("x25519.key");
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	REQUIRE(pkey != NULL);
	write_pem(path, pkey);
	EVP_PKEY_free(pkey);
	CHECK_INT(ledger_keyfile_read_ed25519(path, seed), LEDGER_EINVAL);
	unlink(path);
	free(path);

	/* Not PEM at all, and empty. */
	path = tmp_path("junk.key");
	REQUIRE(ledger_keyfile_write_secret(path, (const uint8_t *)"junk\n",
	    5) == 0);
	CHECK_INT(ledger_keyfile_read_ed25519(path, seed), LEDGER_EINVAL);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd != -1);
	close(fd);
	CHECK_INT(ledger_keyfile_read_ed25519(path, seed), LEDGER_EINVAL);
	unlink(path);
	free(path);

	/* Missing, and a directory. */
	path = tmp_path("missing.key");
	CHECK_INT(ledger_keyfile_read_ed25519(path, seed), LEDGER_EIO);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(ledger_file_secrecy_ok(path), LEDGER_EIO);
	free(path);
	REQUIRE(chmod(tmpdir, 0700) == 0);
	CHECK_INT(ledger_keyfile_read_ed25519(tmpdir, seed), LEDGER_EIO);
	CHECK_INT(ledger_file_secrecy_ok(tmpdir), LEDGER_EIO);
}

static void
test_secret(void)
{
	uint8_t secret[48], back[48];
	char *path = tmp_path("subject.key");
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 13);
	CHECK_INT(ledger_keyfile_write_secret(path, secret, sizeof(secret)), 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_INT(st.st_size, sizeof(secret));
	memset(back, 0, sizeof(back));
	CHECK_INT(ledger_keyfile_read_secret(path, back, sizeof(back)), 0);
	CHECK_MEM(secret, back, sizeof(secret));

	/* Wrong lengths. */
	CHECK_INT(ledger_keyfile_read_secret(path, back, 32), LEDGER_EINVAL);
	CHECK_INT(ledger_keyfile_read_secret(path, back, 47), LEDGER_EINVAL);
	CHECK_INT(ledger_keyfile_read_secret(path, back, 0), LEDGER_EINVAL);
	{
		uint8_t longer[64];
		CHECK_INT(ledger_keyfile_read_secret(path, longer,
		    sizeof(longer)), LEDGER_EINVAL);
	}
	CHECK_INT(ledger_keyfile_write_secret(path, secret, sizeof(secret)),
	    LEDGER_EIO);
	REQUIRE(chmod(path, 0644) == 0);
	CHECK_INT(ledger_keyfile_read_secret(path, back, sizeof(back)),
	    LEDGER_EPERM);
	unlink(path);
	free(path);

	path = tmp_path("empty.key");
	CHECK_INT(ledger_keyfile_write_secret(path, secret, 0), LEDGER_EINVAL);
	CHECK(access(path, F_OK) != 0);
	free(path);
}

/* The umask must not change the mode of a new key file. */
static void
test_umask(void)
{
	uint8_t seed[LEDGER_ED25519_LEN] = { 9 };
	char *path = tmp_path("umask.key");
	struct stat st;
	mode_t old;

	old = umask(0);
	CHECK_INT(ledger_keyfile_write_ed25519(path, seed), 0);
	umask(old);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	unlink(path);
	free(path);
}

/* Removes whatever a failed test left behind, then the directory. */
static void
cleanup(void)
{
	struct dirent *de;
	DIR *d;
	char *path;

	if ((d = opendir(tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			path = tmp_path(de->d_name);
			unlink(path);
			free(path);
		}
		closedir(d);
	}
	if (rmdir(tmpdir) == -1)
		perror("rmdir");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_generate);
	RUN(test_ed25519_roundtrip);
	RUN(test_key_signs);
	RUN(test_not_ed25519);
	RUN(test_secret);
	RUN(test_umask);
	cleanup();
	return TEST_SUMMARY();
}
