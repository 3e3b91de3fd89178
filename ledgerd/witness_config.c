/*
 * The witness's configuration: a JSON file (docs/witness.md) and the
 * command line over it.  The logs are the origins and keys it cosigns for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "witness.h"

static int __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
add_log(struct witness_config *cfg, const char *vkey, char *err, size_t errlen)
{
	struct witness_log *l;
	struct ledger_verifier v;
	uint8_t h[LEDGER_HASH_LEN];
	size_t i;

	if (ledger_verifier_parse(vkey, &v) != 0 ||
	    v.type != LEDGER_SIGTYPE_ED25519)
		return set_err(err, errlen, "log key \"%.80s\": not an Ed25519 "
		    "note verifier key <origin>+<hex id>+<base64>", vkey);
	for (i = 0; i < cfg->n_logs; i++)
		if (memcmp(cfg->logs[i].key.public_key, v.public_key,
		    LEDGER_ED25519_LEN) == 0 &&
		    strcmp(cfg->logs[i].key.name, v.name) == 0)
			return LEDGER_OK;	/* the same key twice: once */
	if (cfg->n_logs == WITNESS_MAX_LOGS)
		return set_err(err, errlen, "more than %d log keys",
		    WITNESS_MAX_LOGS);
	l = &cfg->logs[cfg->n_logs++];
	l->key = v;
	l->vkey = xstrdup(vkey);
	if (ledger_sha256(v.name, strlen(v.name), h) != 0)
		return set_err(err, errlen, "SHA-256 failed");
	for (i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(l->origin_hash + 2 * i, 3, "%02x", h[i]);
	return LEDGER_OK;
}

static int
parse_file(struct witness_config *cfg, const char *path, char *err,
    size_t errlen)
{
	static const char *const known[] = { "listen", "data", "name", "logs",
	    "max_body", "timeout_seconds", NULL };
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	size_t i;
	int rc = -1;

	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return set_err(err, errlen, "%s:%d:%d: %s", path, jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(root)) {
		set_err(err, errlen, "%s: not a JSON object", path);
		goto out;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			set_err(err, errlen, "%s: unknown key \"%s\"", path, key);
			goto out;
		}
	}
#define STRING(name, field)						\
	if ((v = json_object_get(root, name)) != NULL) {		\
		if (!json_is_string(v)) {				\
			set_err(err, errlen, "%s: %s: not a string", path, name); \
			goto out;					\
		}							\
		free(cfg->field);					\
		cfg->field = xstrdup(json_string_value(v));		\
	}
	STRING("listen", listen);
	STRING("data", data_dir);
	STRING("name", name);
#undef STRING
	if ((v = json_object_get(root, "max_body")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1024 ||
		    json_integer_value(v) > 16 * 1024 * 1024) {
			set_err(err, errlen, "%s: max_body: an integer from 1024 "
			    "to 16777216", path);
			goto out;
		}
		cfg->max_body = (size_t)json_integer_value(v);
	}
	if ((v = json_object_get(root, "timeout_seconds")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 3600) {
			set_err(err, errlen, "%s: timeout_seconds: an integer "
			    "from 1 to 3600", path);
			goto out;
		}
		cfg->timeout_seconds = (int)json_integer_value(v);
	}
	if ((v = json_object_get(root, "logs")) != NULL) {
		json_t *item;

		if (!json_is_array(v)) {
			set_err(err, errlen, "%s: logs: not an array of log "
			    "verifier keys", path);
			goto out;
		}
		json_array_foreach(v, i, item) {
			char sub[256];

			if (!json_is_string(item)) {
				set_err(err, errlen, "%s: logs[%zu]: not a "
				    "string", path, i);
				goto out;
			}
			if (add_log(cfg, json_string_value(item), sub,
			    sizeof(sub)) != 0) {
				set_err(err, errlen, "%s: logs[%zu]: %s", path,
				    i, sub);
				goto out;
			}
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

struct witness_config *
witness_config_load(const char *path, const char *data_dir,
    const char *listen, const char *name, char *const *logs, size_t n_logs,
    char *err, size_t errlen)
{
	struct witness_config *cfg = xcalloc(1, sizeof(*cfg));
	char host[256];
	unsigned port;
	size_t i;

	cfg->listen = xstrdup(WITNESS_DEFAULT_LISTEN);
	cfg->max_body = WITNESS_DEFAULT_MAX_BODY;
	cfg->timeout_seconds = WITNESS_DEFAULT_TIMEOUT;
	if (path != NULL) {
		cfg->path = xstrdup(path);
		if (parse_file(cfg, path, err, errlen) != 0)
			goto fail;
	}
	if (data_dir != NULL && data_dir[0] != '\0') {
		free(cfg->data_dir);
		cfg->data_dir = xstrdup(data_dir);
	}
	if (listen != NULL && listen[0] != '\0') {
		free(cfg->listen);
		cfg->listen = xstrdup(listen);
	}
	if (name != NULL && name[0] != '\0') {
		free(cfg->name);
		cfg->name = xstrdup(name);
	}
	for (i = 0; i < n_logs; i++)
		if (add_log(cfg, logs[i], err, errlen) != 0)
			goto fail;
	if (cfg->data_dir == NULL) {
		set_err(err, errlen, "no data directory (--data DIR or \"data\")");
		goto fail;
	}
	if (cfg->name != NULL && !ledger_key_name_valid(cfg->name)) {
		set_err(err, errlen, "witness name \"%.80s\": not a key name "
		    "(non-empty, no spaces, no '+')", cfg->name);
		goto fail;
	}
	if (config_split_listen(cfg->listen, host, sizeof(host), &port) != 0) {
		set_err(err, errlen, "listen %s: not HOST:PORT", cfg->listen);
		goto fail;
	}
	if (cfg->n_logs == 0) {
		set_err(err, errlen, "no log to witness (--log VKEY or \"logs\")");
		goto fail;
	}
	return cfg;
fail:
	witness_config_free(cfg);
	return NULL;
}

void
witness_config_free(struct witness_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_logs; i++)
		free(cfg->logs[i].vkey);
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg->listen);
	free(cfg->name);
	free(cfg);
}

int
witness_find_origin(const struct witness_config *cfg, const char *origin)
{
	size_t i;

	for (i = 0; i < cfg->n_logs; i++)
		if (strcmp(cfg->logs[i].key.name, origin) == 0)
			return (int)i;
	return -1;
}
