/*
 * `ledgerd token new` and `ledgerd token retire`: the config file rewritten
 * in place, atomically, with one principal's token_sha256 changed and
 * everything else (keys, their order, the file's mode) kept.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ledger/hash.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "log.h"

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* write_all - the whole buffer, retrying short writes. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * load_principal - the config file path parsed for editing, and in *found
 * (borrowed from it) the principal with this id.
 * Returns the root (json_decref() it), or NULL with err filled.
 */
static json_t *
load_principal(const char *path, const char *id, json_t **found,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *arr, *v;
	size_t i;

	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		set_err(err, errlen, "%s: %s", path, jerr.text);
		return NULL;
	}
	*found = NULL;
	arr = json_object_get(root, "principals");
	json_array_foreach(arr, i, v)
		if (json_is_string(json_object_get(v, "id")) &&
		    strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			*found = v;
	if (*found == NULL) {
		set_err(err, errlen, "%s: no principal \"%s\"", path, id);
		json_decref(root);
		return NULL;
	}
	return root;
}

/*
 * rewrite_config - replaces the file path with root's text, atomically:
 * a temporary file beside it with the same mode, fsynced and checked by
 * config_load(), renamed over path, and the directory fsynced.
 * Returns 0, or -1 with err filled (path unchanged).
 */
static int
rewrite_config(const char *path, const json_t *root, char *err,
    size_t errlen)
{
	char *tmp = NULL, *text = NULL, *dir = NULL, *slash, check_err[512];
	struct config *check;
	struct stat st;
	int fd = -1, dfd = -1, rc = -1;

	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
		fatalx("json_dumps: out of memory");

	/* Write beside the file, so that rename() replaces it atomically. */
	if (stat(path, &st) != 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	tmp = xasprintf("%s.new.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, st.st_mode & 07777) != 0 ||
	    write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) ||
	    fsync(fd) != 0) {
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if ((check = config_load(tmp, check_err, sizeof(check_err))) == NULL) {
		set_err(err, errlen, "the new file would not load: %s",
		    check_err);
		goto out;
	}
	config_free(check);
	if (rename(tmp, path) != 0) {
		set_err(err, errlen, "rename %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* The rename itself is durable once the directory is synced. */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if ((dfd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY)) < 0 ||
	    fsync(dfd) != 0) {
		set_err(err, errlen, "fsync of the directory of %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	free(text);
	return rc;
}

int
config_set_token(const char *path, const char *id, int keep_old,
    char token[65], char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[32], hash[LEDGER_HASH_LEN];
	char hash_hex[2 * LEDGER_HASH_LEN + 1];
	json_t *root, *found, *old, *tokens;
	size_t i;
	int rc = -1;

	if ((root = load_principal(path, id, &found, err, errlen)) == NULL)
		return -1;
	old = json_object_get(found, "token_sha256");
	if (keep_old && json_is_array(old) &&
	    json_array_size(old) >= PRINCIPAL_MAX_TOKENS) {
		set_err(err, errlen, "%s: principal \"%s\" holds two tokens "
		    "already; retire one first (ledgerd token retire)", path, id);
		goto out;
	}
	/* The same form as the development token: 64 hex characters. */
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		set_err(err, errlen, "no random bytes for a token");
		goto out;
	}
	for (i = 0; i < sizeof(raw); i++) {
		token[2 * i] = hex[raw[i] >> 4];
		token[2 * i + 1] = hex[raw[i] & 15];
	}
	token[64] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	if (ledger_sha256(token, 64, hash) != 0) {
		set_err(err, errlen, "SHA-256 failed");
		goto out;
	}
	for (i = 0; i < LEDGER_HASH_LEN; i++) {
		hash_hex[2 * i] = hex[hash[i] >> 4];
		hash_hex[2 * i + 1] = hex[hash[i] & 15];
	}
	hash_hex[2 * LEDGER_HASH_LEN] = '\0';
	if (keep_old && json_is_string(old)) {
		tokens = json_array();
		json_array_append(tokens, old);
		json_array_append_new(tokens, json_string(hash_hex));
		json_object_set_new(found, "token_sha256", tokens);
	} else if (keep_old && json_is_array(old))
		json_array_append_new(old, json_string(hash_hex));
	else
		json_object_set_new(found, "token_sha256", json_string(hash_hex));
	rc = rewrite_config(path, root, err, errlen);
out:
	if (rc != 0)
		OPENSSL_cleanse(token, 65);
	json_decref(root);
	return rc;
}

int
config_retire_token(const char *path, const char *id, char *err,
    size_t errlen)
{
	json_t *root, *found, *tokens;
	int rc = -1;

	if ((root = load_principal(path, id, &found, err, errlen)) == NULL)
		return -1;
	tokens = json_object_get(found, "token_sha256");
	if (!json_is_array(tokens) || json_array_size(tokens) < 2) {
		set_err(err, errlen, "%s: principal \"%s\" holds one token at "
		    "most; nothing to retire", path, id);
		goto out;
	}
	/* token new --keep-old appends: the last is the newest. */
	json_object_set(found, "token_sha256",
	    json_array_get(tokens, json_array_size(tokens) - 1));
	rc = rewrite_config(path, root, err, errlen);
out:
	json_decref(root);
	return rc;
}
