/*
 * The data directory's keys: generated once on first start, read back and
 * checked against the published verifier key on every later start.  A key
 * is never replaced behind the operator's back.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keyfile.h"
#include "ledger/note.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "datadir.h"
#include "log.h"

#define VERIFIER_FILE_MAX 1024		/* a verifier string is under 320 bytes */

/* path_exists - 1 when path names something, 0 when not, -1 on error. */
static int
path_exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	log_warn("%s", path);
	return -1;
}

/* mkdir_p - dir and its missing parents; dir itself is made 0700. */
static int
mkdir_p(const char *dir)
{
	struct stat st;
	char *copy, *p;
	size_t len;
	int rc = -1;

	copy = xstrdup(dir);
	/* "var/" is "var": the last mkdir must be the one that sets 0700. */
	for (len = strlen(copy); len > 1 && copy[len - 1] == '/'; len--)
		copy[len - 1] = '\0';
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
			log_warn("cannot create directory %s", copy);
			goto out;
		}
		*p = '/';
	}
	if (mkdir(copy, 0700) == -1) {
		if (errno != EEXIST) {
			log_warn("cannot create data directory %s", dir);
			goto out;
		}
	} else if (chmod(copy, 0700) == -1) {
		/* The umask may have removed bits; it cannot have added any. */
		log_warn("chmod %s", dir);
		goto out;
	}
	if (stat(dir, &st) == -1) {
		log_warn("%s", dir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		log_warnx("data directory %s is not a directory", dir);
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/*
 * read_verifier_file - the first line of path, without its newline.
 *	buf, cap	out: NUL-terminated
 * Returns 0, LEDGER_EIO (errno set) or LEDGER_EINVAL (too long, a NUL, or
 * more than one line).
 */
static int
read_verifier_file(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd, rc = LEDGER_EIO, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1)
		return LEDGER_EIO;
	while (len < cap - 1) {
		if ((n = read(fd, buf + len, cap - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	rc = LEDGER_EINVAL;
	if (len == cap - 1 || strlen(buf) != len)
		goto out;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (strchr(buf, '\n') != NULL)
		goto out;
	rc = LEDGER_OK;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * report_key_error - one line for a key file that could not be read, with
 * the fix where there is an obvious one.
 */
static void
report_key_error(const char *what, const char *path, int rc, int saved_errno)
{
	switch (rc) {
	case LEDGER_EPERM:
		log_warnx("%s %s is accessible to group or others, or owned "
		    "by another user; refusing to use it (fix: chmod 600 %s)",
		    what, path, path);
		break;
	case LEDGER_EINVAL:
		log_warnx("%s %s is malformed", what, path);
		break;
	case LEDGER_EIO:
		log_warnx("%s %s: %s", what, path, strerror(saved_errno));
		break;
	default:
		log_warnx("%s %s: %s", what, path, ledger_strerror(rc));
		break;
	}
}

/*
 * load_log_key - reads DIR/log.key, or makes it on first start.
 *	seed	out: the key's seed (the caller cleanses it)
 *	created	out: 1 when the key was made now
 */
static int
load_log_key(const char *path, int create, int log_begun,
    uint8_t seed[LEDGER_ED25519_LEN], int *created)
{
	int rc, saved;

	*created = 0;
	if ((rc = path_exists(path)) == -1)
		return LEDGER_EIO;
	if (rc == 1) {
		rc = ledger_keyfile_read_ed25519(path, seed);
		if (rc != LEDGER_OK) {
			saved = errno;
			report_key_error("log key", path, rc, saved);
			if (rc == LEDGER_EINVAL)
				log_warnx("%s must be an unencrypted Ed25519 "
				    "PKCS#8 PEM private key", path);
			errno = saved;
		}
		return rc;
	}
	/* A new key for a log that has begun would fork its history. */
	if (log_begun) {
		log_warnx("log key %s is missing but this data directory "
		    "already holds a log; refusing to make a new key (restore "
		    "%s from a backup)", path, path);
		return LEDGER_ENOTFOUND;
	}
	if (!create) {
		log_warnx("log key %s is missing", path);
		return LEDGER_ENOTFOUND;
	}
	if ((rc = ledger_ed25519_generate(seed)) != LEDGER_OK) {
		log_warnx("cannot generate a log key: %s", ledger_strerror(rc));
		return rc;
	}
	if ((rc = ledger_keyfile_write_ed25519(path, seed)) != LEDGER_OK) {
		saved = errno;
		OPENSSL_cleanse(seed, LEDGER_ED25519_LEN);
		if (rc == LEDGER_EIO)
			log_warnx("cannot write log key %s: %s", path,
			    strerror(saved));
		else
			log_warnx("cannot write log key %s: %s", path,
			    ledger_strerror(rc));
		errno = saved;
		return rc;
	}
	*created = 1;
	log_info("created log signing key %s", path);
	return LEDGER_OK;
}

/*
 * load_subject_key - reads DIR/subject.key when there is one.  Data
 * directories made before period secrets have it: it becomes the period
 * "legacy" (spec §3.2).  New ones never get one.
 *	keys_dir	in: DIR/keys, made by the first start with periods
 *	found		out: 1 when key was read
 */
static int
load_subject_key(const char *path, const char *keys_dir, int log_begun,
    uint8_t key[LEDGER_SUBJECT_KEY_LEN], int *found)
{
	char *tomb;
	int rc, saved, destroyed;

	*found = 0;
	if ((rc = path_exists(path)) == -1)
		return LEDGER_EIO;
	if (rc == 1) {
		rc = ledger_keyfile_read_secret(path, key, LEDGER_SUBJECT_KEY_LEN);
		if (rc != LEDGER_OK) {
			saved = errno;
			report_key_error("subject key", path, rc, saved);
			if (rc == LEDGER_EINVAL)
				log_warnx("%s must hold exactly %d bytes", path,
				    LEDGER_SUBJECT_KEY_LEN);
			errno = saved;
			return rc;
		}
		*found = 1;
		return LEDGER_OK;
	}
	/*
	 * A log begun before periods has no DIR/keys/ yet: its subject.key
	 * must be there, or every token stored so far is orphaned.  Once the
	 * legacy period was destroyed its tombstone says so.
	 */
	if ((rc = path_exists(keys_dir)) == -1)
		return LEDGER_EIO;
	tomb = xasprintf("%s/%s.destroyed", keys_dir, LEDGER_PERIOD_LEGACY);
	destroyed = path_exists(tomb);
	free(tomb);
	if (log_begun && rc == 0 && destroyed != 1) {
		log_warnx("subject key %s is missing but this data directory "
		    "holds a log written before period secrets; restore %s "
		    "from a backup", path, path);
		return LEDGER_ENOTFOUND;
	}
	return LEDGER_OK;
}

/*
 * check_verifier_file - DIR/verifier.vkey must hold exactly the verifier
 * string of the key; written when missing and create is set.
 *	new_key	in: the log key was made by this start (no warning then)
 */
static int
check_verifier_file(const char *path, const struct ledger_verifier *want,
    const char *text, int create, int new_key)
{
	struct ledger_verifier found;
	char buf[VERIFIER_FILE_MAX];
	char *line;
	int rc, saved;

	if ((rc = path_exists(path)) == -1)
		return LEDGER_EIO;
	if (rc == 0) {
		if (!create) {
			log_warnx("verifier key %s is missing", path);
			return LEDGER_ENOTFOUND;
		}
		line = xasprintf("%s\n", text);
		rc = ledger_file_write_new(path, line, strlen(line), 0644);
		saved = errno;
		free(line);
		if (rc != LEDGER_OK) {
			log_warnx("cannot write verifier key %s: %s", path,
			    strerror(saved));
			errno = saved;
			return rc;
		}
		if (!new_key)
			log_warnx("verifier key %s was missing; written again "
			    "from the log key", path);
		return LEDGER_OK;
	}
	if ((rc = read_verifier_file(path, buf, sizeof(buf))) != LEDGER_OK) {
		saved = errno;
		if (rc == LEDGER_EIO)
			log_warnx("verifier key %s: %s", path, strerror(saved));
		else
			log_warnx("verifier key %s is malformed (one line "
			    "expected)", path);
		errno = saved;
		return rc;
	}
	if (strcmp(buf, text) == 0)
		return LEDGER_OK;
	/* Say which of the two changed: the name is the usual culprit. */
	if (ledger_verifier_parse(buf, &found) != LEDGER_OK)
		log_warnx("verifier key %s is malformed", path);
	else if (strcmp(found.name, want->name) != 0)
		log_warnx("origin changed: this log is \"%s\" (see %s) but the "
		    "configuration names it \"%s\"; a log's origin cannot "
		    "change", found.name, path, want->name);
	else
		log_warnx("verifier key %s does not match the log key %s; "
		    "the key or the verifier file has been replaced", path,
		    DATADIR_LOG_KEY);
	return LEDGER_EVERIFY;
}

static void
hex_lower(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/*
 * load_dev_token - DIR/dev.token: 64 lowercase hex digits and a newline,
 * made once and reused, so a developer's scripts keep working.
 */
static int
load_dev_token(const char *path, int create, struct datadir_keys *out)
{
	uint8_t raw[DATADIR_TOKEN_LEN];
	char buf[DATADIR_TOKEN_HEX + 1];
	size_t i;
	int rc, saved;

	if ((rc = path_exists(path)) == -1)
		return LEDGER_EIO;
	if (rc == 1) {
		rc = ledger_keyfile_read_secret(path, (uint8_t *)buf,
		    sizeof(buf));
		if (rc == LEDGER_OK) {
			for (i = 0; i < DATADIR_TOKEN_HEX; i++)
				if (!((buf[i] >= '0' && buf[i] <= '9') ||
				    (buf[i] >= 'a' && buf[i] <= 'f')))
					rc = LEDGER_EINVAL;
			if (buf[DATADIR_TOKEN_HEX] != '\n')
				rc = LEDGER_EINVAL;
		}
		if (rc != LEDGER_OK) {
			saved = errno;
			report_key_error("development token", path, rc, saved);
			if (rc == LEDGER_EINVAL)
				log_warnx("%s must hold %d lowercase hex digits "
				    "and a newline; remove it to make a new one",
				    path, DATADIR_TOKEN_HEX);
			errno = saved;
			goto out;
		}
		memcpy(out->dev_token, buf, DATADIR_TOKEN_HEX);
	} else {
		if (!create) {
			log_warnx("development token %s is missing", path);
			rc = LEDGER_ENOTFOUND;
			goto out;
		}
		if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
			ERR_clear_error();
			log_warnx("cannot generate a development token");
			rc = LEDGER_ECRYPTO;
			goto out;
		}
		hex_lower(raw, sizeof(raw), buf);
		buf[DATADIR_TOKEN_HEX] = '\n';
		rc = ledger_keyfile_write_secret(path, (uint8_t *)buf,
		    sizeof(buf));
		if (rc != LEDGER_OK) {
			saved = errno;
			log_warnx("cannot write development token %s: %s", path,
			    strerror(saved));
			errno = saved;
			goto out;
		}
		memcpy(out->dev_token, buf, DATADIR_TOKEN_HEX);
		log_info("created development token %s", path);
	}
	out->dev_token[DATADIR_TOKEN_HEX] = '\0';
	/* Clients send the 64 characters; principals hold their SHA-256. */
	if ((rc = ledger_sha256(out->dev_token, DATADIR_TOKEN_HEX,
	    out->dev_token_sha256)) != LEDGER_OK) {
		log_warnx("cannot hash the development token");
		goto out;
	}
	out->has_dev_token = 1;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* origin_from_verifier - the key name in DIR/verifier.vkey (no config). */
static int
origin_from_verifier(const char *path, char name[LEDGER_KEY_NAME_MAX + 1])
{
	struct ledger_verifier v;
	char buf[VERIFIER_FILE_MAX];
	int rc;

	if ((rc = read_verifier_file(path, buf, sizeof(buf))) == LEDGER_EIO) {
		log_warn("verifier key %s", path);
		return rc;
	}
	if (rc != LEDGER_OK || ledger_verifier_parse(buf, &v) != LEDGER_OK ||
	    v.type != LEDGER_SIGTYPE_ED25519) {
		log_warnx("verifier key %s is malformed", path);
		return LEDGER_EINVAL;
	}
	memcpy(name, v.name, sizeof(v.name));
	return LEDGER_OK;
}

/* The pid written in a lock file, or 0 when it cannot be read yet. */
static long
lock_holder(int fd)
{
	char buf[32];
	ssize_t n;
	char *end;
	long pid;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && *end == '\n' && pid > 0 ? pid : 0;
}

int
datadir_lock(const char *dir, int create, int *fdp)
{
	char *path, pid[32];
	long holder;
	int fd, len, rc = LEDGER_EIO;

	*fdp = -1;
	if (dir[0] == '\0') {
		log_warnx("datadir_lock: no data directory");
		return LEDGER_EIO;
	}
	if (create && mkdir_p(dir) == -1)
		return LEDGER_EIO;	/* logged */
	if (!create && access(dir, F_OK) == -1) {
		log_warn("data directory %s", dir);
		return LEDGER_EIO;
	}
	path = xasprintf("%s/%s", dir, DATADIR_LOCK);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1 && !create && (errno == EROFS || errno == EACCES)) {
		log_warnx("%s: cannot be created (%s); using the read-only "
		    "directory without the lock", path, strerror(errno));
		free(path);
		return LEDGER_OK;
	}
	if (fd == -1) {
		log_warn("cannot open the lock file %s", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			log_warn("cannot lock %s", path);
			goto out;
		}
		/* The holder writes its pid just after locking: give it a moment. */
		holder = lock_holder(fd);
		for (int i = 0; holder == 0 && i < 20; i++) {
			usleep(5000);
			holder = lock_holder(fd);
		}
		if (holder > 0)
			log_warnx("data directory %s is in use by process %ld "
			    "(it holds %s); stop it first", dir, holder, path);
		else
			log_warnx("data directory %s is in use by another "
			    "process (it holds %s); stop it first", dir, path);
		rc = LEDGER_EPERM;
		goto out;
	}
	/* The pid is for people; a full disk must not stop a start. */
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("cannot write the pid into %s", path);
	*fdp = fd;
	fd = -1;
	rc = LEDGER_OK;
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

void
datadir_unlock(int fd)
{
	if (fd != -1)
		close(fd);	/* closing the descriptor releases the flock */
}

int
datadir_open(const char *dir, const struct config *cfg, int create,
    struct datadir_keys *out)
{
	char origin[LEDGER_KEY_NAME_MAX + 1];
	uint8_t seed[LEDGER_ED25519_LEN];
	char *log_key, *subject_key, *vkey, *token, *db, *keys_dir;
	struct stat st;
	int rc, log_begun, created = 0;

	memset(out, 0, sizeof(*out));
	memset(seed, 0, sizeof(seed));
	log_key = xasprintf("%s/%s", dir, DATADIR_LOG_KEY);
	subject_key = xasprintf("%s/%s", dir, DATADIR_SUBJECT_KEY);
	vkey = xasprintf("%s/%s", dir, DATADIR_VERIFIER);
	token = xasprintf("%s/%s", dir, DATADIR_DEV_TOKEN);
	db = xasprintf("%s/%s", dir, DATADIR_DATABASE);
	keys_dir = xasprintf("%s/%s", dir, DATADIR_KEYS);

	if ((cfg == NULL && create) || dir[0] == '\0') {
		log_warnx("datadir_open: no %s", dir[0] == '\0' ?
		    "data directory" : "configuration");
		rc = LEDGER_EINVAL;
		goto fail;
	}
	rc = LEDGER_EIO;
	if (create) {
		if (mkdir_p(dir) == -1)
			goto fail;
	} else if (stat(dir, &st) == -1) {
		log_warn("data directory %s", dir);
		goto fail;
	} else if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		log_warnx("data directory %s is not a directory", dir);
		goto fail;
	}

	if (cfg != NULL) {
		if (strlen(cfg->origin) > LEDGER_KEY_NAME_MAX ||
		    !ledger_key_name_valid(cfg->origin)) {
			log_warnx("origin \"%s\" is not a valid key name",
			    cfg->origin);
			rc = LEDGER_EINVAL;
			goto fail;
		}
		memcpy(origin, cfg->origin, strlen(cfg->origin) + 1);
	} else if ((rc = origin_from_verifier(vkey, origin)) != LEDGER_OK)
		goto fail;

	/*
	 * The log has begun once its database or its published verifier key
	 * exists: from then on its keys may only be read, never made anew.
	 */
	if ((rc = path_exists(db)) == -1)
		goto fail_io;
	log_begun = rc;
	if ((rc = path_exists(vkey)) == -1)
		goto fail_io;
	log_begun |= rc;

	if ((rc = load_log_key(log_key, create, log_begun, seed,
	    &created)) != LEDGER_OK)
		goto fail;
	if ((rc = load_subject_key(subject_key, keys_dir, log_begun,
	    out->subject_key, &out->has_subject_key)) != LEDGER_OK)
		goto fail;
	if ((rc = ledger_signer_from_seed(origin, LEDGER_SIGTYPE_ED25519, seed,
	    &out->signer)) != LEDGER_OK) {
		log_warnx("cannot load the log key %s: %s", log_key,
		    ledger_strerror(rc));
		goto fail;
	}
	out->verifier = *ledger_signer_verifier(out->signer);
	out->verifier_text = ledger_verifier_format(&out->verifier);
	out->created = created;
	/* Written last, so that it is only ever published for a stored key. */
	if ((rc = check_verifier_file(vkey, &out->verifier,
	    out->verifier_text, create, created)) != LEDGER_OK)
		goto fail;
	if (cfg != NULL && cfg->dev_mode &&
	    (rc = load_dev_token(token, create, out)) != LEDGER_OK)
		goto fail;
	rc = LEDGER_OK;
	goto out;

fail_io:
	rc = LEDGER_EIO;
fail:
	datadir_keys_free(out);
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	free(log_key);
	free(subject_key);
	free(vkey);
	free(token);
	free(db);
	free(keys_dir);
	return rc;
}

void
datadir_keys_free(struct datadir_keys *keys)
{
	if (keys == NULL)
		return;
	ledger_signer_free(keys->signer);
	free(keys->verifier_text);
	OPENSSL_cleanse(keys, sizeof(*keys));
}

int
datadir_keygen(const char *path, const char *name)
{
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_signer *signer = NULL;
	char *text = NULL;
	int rc, saved;

	if (!ledger_key_name_valid(name)) {
		log_warnx("\"%s\" is not a valid key name (printable ASCII, "
		    "no spaces, no '+')", name);
		return LEDGER_EINVAL;
	}
	if ((rc = ledger_ed25519_generate(seed)) != LEDGER_OK) {
		log_warnx("cannot generate a key: %s", ledger_strerror(rc));
		goto out;
	}
	if ((rc = ledger_signer_from_seed(name, LEDGER_SIGTYPE_ED25519, seed,
	    &signer)) != LEDGER_OK) {
		log_warnx("cannot make a signer: %s", ledger_strerror(rc));
		goto out;
	}
	if ((rc = ledger_keyfile_write_ed25519(path, seed)) != LEDGER_OK) {
		saved = errno;
		if (rc == LEDGER_EIO && saved == EEXIST)
			log_warnx("%s already exists; not overwriting it", path);
		else if (rc == LEDGER_EIO)
			log_warnx("cannot write %s: %s", path, strerror(saved));
		else
			log_warnx("cannot write %s: %s", path,
			    ledger_strerror(rc));
		errno = saved;
		goto out;
	}
	text = ledger_verifier_format(ledger_signer_verifier(signer));
	if (printf("%s\n", text) < 0 || fflush(stdout) == EOF) {
		log_warn("stdout");
		rc = LEDGER_EIO;
		goto out;
	}
	rc = LEDGER_OK;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	ledger_signer_free(signer);
	free(text);
	return rc;
}
