/*
 * The daemon's configuration: the embedded development defaults (spec §9.8),
 * the strict reading of the JSON config file (spec §9.1), command-line
 * overrides and the checks on the whole that decide development mode.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/number.h"
#include "ledger/keyfile.h"
#include "ledger/note.h"
#include "ledger/policy.h"
#include "ledger/retention.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "log.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define PRINCIPAL_ID_MAX 64
#define LISTEN_MAX 300			/* "[" host "]:" port, generously */
#define DEV_PRINCIPAL_ID "dev"

/*
 * Publication interval bounds: below 10 ms publishing would cost a commit
 * of its own nearly every time; above an hour no witness would call the
 * log's checkpoints fresh.
 */
#define CHECKPOINT_INTERVAL_DEFAULT_MS 5000
#define CHECKPOINT_INTERVAL_MIN_MS 10
#define CHECKPOINT_INTERVAL_MAX_MS 3600000

/* The partner organisations and the supervising board (spec §9.1). */
static const char *const default_orgs[] = {
	"police", "kmar", "aivd", "mivd", "om", "ind", "fiod", "fiu", "szw",
	"nctv", "board",
};

static const char *const role_names[] = {
	"writer", "reader", "supervisor", "witness", "operator",
};

static const char *const log_level_names[] = {
	"error", "warn", "info", "debug",	/* enum log_level order */
};

/*
 * Bounds of each limit: the lower ones keep the daemon usable, the upper ones
 * keep a typo from asking for absurd amounts of memory.
 */
enum limit_kind { LIMIT_SIZE, LIMIT_INT, LIMIT_U64 };
static const struct limit_rule {
	const char *key;
	size_t offset;
	enum limit_kind kind;
	uint64_t min, max;
} limit_rules[] = {
	{ "max_body", offsetof(struct limits, max_body), LIMIT_SIZE,
	    KIB, GIB },
	{ "max_headers", offsetof(struct limits, max_headers), LIMIT_SIZE,
	    KIB, MIB },
	{ "max_batch_events", offsetof(struct limits, max_batch_events),
	    LIMIT_SIZE, 1, 1000000 },
	{ "max_queue_events", offsetof(struct limits, max_queue_events),
	    LIMIT_SIZE, 1, 10000000 },
	{ "max_commit_events", offsetof(struct limits, max_commit_events),
	    LIMIT_SIZE, 1, 1000000 },
	{ "tail_max_entries", offsetof(struct limits, tail_max_entries),
	    LIMIT_SIZE, 1000, 10000000 },
	{ "tail_merge_entries", offsetof(struct limits, tail_merge_entries),
	    LIMIT_SIZE, 100, 1000000 },
	{ "tail_merge_interval_ms", offsetof(struct limits,
	    tail_merge_interval_ms), LIMIT_INT, 10, 3600000 },
	{ "max_page", offsetof(struct limits, max_page), LIMIT_SIZE,
	    1, 100000 },
	{ "workers", offsetof(struct limits, workers), LIMIT_SIZE, 1, 64 },
	{ "max_queued_jobs", offsetof(struct limits, max_queued_jobs),
	    LIMIT_SIZE, 1, 100000 },
	{ "max_connections", offsetof(struct limits, max_connections),
	    LIMIT_SIZE, 1, 1000000 },
	{ "timeout_seconds", offsetof(struct limits, timeout_seconds),
	    LIMIT_INT, 1, 86400 },
	{ "map_size", offsetof(struct limits, map_size), LIMIT_U64,
	    MIB, 1024 * 1024 * GIB },
	{ "auth_failures", offsetof(struct limits, auth_failures), LIMIT_SIZE,
	    1, 1000000 },
	{ "auth_window_seconds", offsetof(struct limits, auth_window_seconds),
	    LIMIT_INT, 1, 86400 },
};

/* Where a message about the file being read goes. */
struct parse {
	const char *file;
	char *err;
	size_t errlen;
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

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

/*
 * perr - "FILE: WHERE: message" (WHERE the key path, left out when empty).
 * Returns -1, so that callers can `return perr(...)`.
 */
static int
perr(struct parse *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parse *p, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where[0] != '\0')
		set_err(p->err, p->errlen, "%s: %s: %s", p->file, where, msg);
	else
		set_err(p->err, p->errlen, "%s: %s", p->file, msg);
	return -1;
}

/*
 * key_path - parent "." key, or key alone at the top.  A key from the file
 * is shown with anything unprintable as '?', so the message stays one line.
 */
static void
key_path(char *buf, size_t len, const char *parent, const char *key)
{
	size_t i, n;

	if (parent[0] != '\0')
		snprintf(buf, len, "%s.%s", parent, key);
	else
		snprintf(buf, len, "%s", key);
	n = strlen(buf);
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
}

static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* check_keys - every key of obj is one of allowed (a NULL-ended list). */
static int
check_keys(struct parse *p, const json_t *obj, const char *where,
    const char *const *allowed)
{
	char path[256];
	const char *key;
	json_t *value;
	size_t i;

	json_object_foreach((json_t *)obj, key, value) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			key_path(path, sizeof(path), where, key);
			return perr(p, path, "unknown key");
		}
	}
	return 0;
}

/*
 * get_string - obj[key] as a non-empty string of at most max bytes with no
 * control character, or *out untouched when the key is absent.
 * Returns 1 when found, 0 when absent, -1 on error.
 */
static int
get_string(struct parse *p, const json_t *obj, const char *where,
    const char *key, size_t max, const char **out)
{
	char path[256];
	const char *s;
	json_t *v;
	size_t i, len;

	if ((v = json_object_get(obj, key)) == NULL)
		return 0;
	key_path(path, sizeof(path), where, key);
	if (!json_is_string(v))
		return perr(p, path, "must be a string, not %s",
		    json_type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return perr(p, path, "must not be empty");
	if (len > max)
		return perr(p, path, "longer than %zu bytes", max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return perr(p, path, "holds a control character");
	*out = s;
	return 1;
}

/* org_id_valid - [a-z0-9-]{1,32} (spec §2.2). */
static int
org_id_valid(const char *s)
{
	return ledger_org_id_valid(s, strlen(s));
}

/*
 * principal_id_valid - [A-Za-z0-9._@-]{1,64}: the id becomes the entries'
 * `submitter` and part of idempotency keys, so it stays plain.
 */
static int
principal_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= PRINCIPAL_ID_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == '@' || s[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* parse_hash - exactly 64 hex digits (either case) into 32 bytes. */
static int
parse_hash(const char *s, uint8_t out[LEDGER_HASH_LEN])
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * LEDGER_HASH_LEN)
		return -1;
	for (i = 0; i < LEDGER_HASH_LEN; i++) {
		if ((hi = ledger_hex_digit(s[2 * i])) < 0 || (lo = ledger_hex_digit(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
free_orgs(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_orgs; i++)
		free(cfg->orgs[i]);
	free(cfg->orgs);
	cfg->orgs = NULL;
	cfg->n_orgs = 0;
}

/* config_defaults - the embedded configuration of spec §9.8. */
static struct config *
config_defaults(void)
{
	struct config *cfg;
	size_t i;

	cfg = xcalloc(1, sizeof(*cfg));
	cfg->refs = 1;
	cfg->listen = xstrdup("127.0.0.1:8080");
	cfg->data_dir = xstrdup("var");
	cfg->origin = xstrdup("localhost/ledgerd-dev");
	cfg->n_orgs = NITEMS(default_orgs);
	cfg->orgs = xcalloc(cfg->n_orgs, sizeof(*cfg->orgs));
	for (i = 0; i < cfg->n_orgs; i++)
		cfg->orgs[i] = xstrdup(default_orgs[i]);
	cfg->limits.max_body = 8 * MIB;
	cfg->limits.max_headers = 16 * KIB;
	cfg->limits.max_batch_events = 10000;
	cfg->limits.max_queue_events = 100000;
	cfg->limits.max_commit_events = 10000;
	/*
	 * Large, rare merges: a merge writes every index page its keys touch,
	 * so entries merged together share pages (bench/README.md, "The index
	 * in an environment of its own").
	 */
	cfg->limits.tail_max_entries = 200000;
	cfg->limits.tail_merge_entries = 50000;
	cfg->limits.tail_merge_interval_ms = 10000;
	cfg->limits.max_page = 1000;
	cfg->limits.workers = 2;
	cfg->limits.max_queued_jobs = 64;
	cfg->limits.max_connections = 1024;
	cfg->limits.timeout_seconds = 30;
	cfg->limits.map_size = 64 * GIB;
	cfg->limits.auth_failures = 10;
	cfg->limits.auth_window_seconds = 60;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->checkpoint_interval_ms = CHECKPOINT_INTERVAL_DEFAULT_MS;
	cfg->witness_timeout_seconds = 10;
	cfg->witness_wait_seconds = 30;
	return cfg;
}

static int
parse_orgs(struct parse *p, struct config *cfg, const json_t *root)
{
	char path[64];
	json_t *arr, *v;
	size_t i, j;

	if ((arr = json_object_get(root, "orgs")) == NULL)
		return 0;
	if (!json_is_array(arr))
		return perr(p, "orgs", "must be an array of org ids, not %s",
		    json_type_name(arr));
	if (json_array_size(arr) == 0)
		return perr(p, "orgs", "must list at least one organisation");
	free_orgs(cfg);
	cfg->orgs = xcalloc(json_array_size(arr), sizeof(*cfg->orgs));
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "orgs[%zu]", i);
		if (!json_is_string(v))
			return perr(p, path, "must be a string, not %s",
			    json_type_name(v));
		if (!org_id_valid(json_string_value(v)) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return perr(p, path, "org id must match [a-z0-9-]{1,32}");
		for (j = 0; j < cfg->n_orgs; j++)
			if (strcmp(cfg->orgs[j], json_string_value(v)) == 0)
				return perr(p, path, "org \"%s\" listed twice",
				    cfg->orgs[j]);
		cfg->orgs[cfg->n_orgs++] = xstrdup(json_string_value(v));
	}
	return 0;
}

/*
 * resolve_path - a path from the file: absolute as given, relative against
 * the directory of the config file (so a config travels with its TLS files).
 */
static char *
resolve_path(const char *config_path, const char *path)
{
	const char *slash;

	if (path[0] == '/' || (slash = strrchr(config_path, '/')) == NULL)
		return xstrdup(path);
	if (slash == config_path)
		return xasprintf("/%s", path);
	return xasprintf("%.*s/%s", (int)(slash - config_path), config_path,
	    path);
}

static int
parse_tls(struct parse *p, struct config *cfg, const json_t *root)
{
	static const char *const keys[] = { "cert", "key", "client_ca", NULL };
	const char *cert = NULL, *key = NULL, *ca = NULL;
	json_t *tls;

	if ((tls = json_object_get(root, "tls")) == NULL)
		return 0;
	if (!json_is_object(tls))
		return perr(p, "tls", "must be an object, not %s",
		    json_type_name(tls));
	if (check_keys(p, tls, "tls", keys) == -1)
		return -1;
	if (get_string(p, tls, "tls", "cert", PATH_MAX, &cert) == -1 ||
	    get_string(p, tls, "tls", "key", PATH_MAX, &key) == -1 ||
	    get_string(p, tls, "tls", "client_ca", PATH_MAX, &ca) == -1)
		return -1;
	if (cert == NULL && key != NULL)
		return perr(p, "tls.cert", "missing (tls.key needs a certificate)");
	if (cert != NULL && key == NULL)
		return perr(p, "tls.key", "missing (tls.cert needs a private key)");
	if (cert == NULL && ca != NULL)
		return perr(p, "tls.cert",
		    "missing (tls.client_ca needs a server certificate and key)");
	if (cert == NULL)
		return 0;
	cfg->tls_cert = resolve_path(p->file, cert);
	cfg->tls_key = resolve_path(p->file, key);
	if (ca != NULL)
		cfg->tls_client_ca = resolve_path(p->file, ca);
	return 0;
}

static int
parse_roles(struct parse *p, const json_t *arr, const char *where,
    unsigned *roles)
{
	char path[192];
	json_t *v;
	size_t i, r;

	if (!json_is_array(arr))
		return perr(p, where, "must be an array of roles, not %s",
		    json_type_name(arr));
	if (json_array_size(arr) == 0)
		return perr(p, where, "must hold at least one role");
	*roles = 0;
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		if (!json_is_string(v))
			return perr(p, path, "must be a string, not %s",
			    json_type_name(v));
		for (r = 0; r < NITEMS(role_names); r++)
			if (strcmp(json_string_value(v), role_names[r]) == 0)
				break;
		if (r == NITEMS(role_names))
			return perr(p, path, "unknown role (one of writer, "
			    "reader, supervisor, witness, operator)");
		if (*roles & (1u << r))
			return perr(p, path, "role \"%s\" listed twice",
			    role_names[r]);
		*roles |= 1u << r;
	}
	return 0;
}

/*
 * parse_tokens - token_sha256 of a principal: one hash, or an array of one
 * or two (a token being rotated), none repeated.  Returns 0 or -1.
 */
static int
parse_tokens(struct parse *p, const json_t *obj, const char *path,
    struct principal *pr)
{
	const json_t *v = json_object_get(obj, "token_sha256"), *item;
	char item_path[160];
	size_t i;

	if (v == NULL)
		return 0;
	if (json_is_string(v)) {
		if (parse_hash(json_string_value(v), pr->token_sha256[0]) == -1)
			return perr(p, path, "must be 64 hex digits "
			    "(the SHA-256 of the bearer token)");
		pr->n_tokens = 1;
		return 0;
	}
	if (!json_is_array(v))
		return perr(p, path, "must be a string or an array of strings, "
		    "not %s", json_type_name(v));
	if (json_array_size(v) == 0 ||
	    json_array_size(v) > PRINCIPAL_MAX_TOKENS)
		return perr(p, path, "must hold one or two token hashes (two "
		    "while a token is rotated), not %zu", json_array_size(v));
	json_array_foreach(v, i, item) {
		snprintf(item_path, sizeof(item_path), "%s[%zu]", path, i);
		if (!json_is_string(item) || parse_hash(json_string_value(item),
		    pr->token_sha256[i]) == -1)
			return perr(p, item_path, "must be 64 hex digits "
			    "(the SHA-256 of the bearer token)");
		if (i > 0 && memcmp(pr->token_sha256[0], pr->token_sha256[i],
		    LEDGER_HASH_LEN) == 0)
			return perr(p, item_path, "the same token hash as "
			    "%s[0]", path);
		pr->n_tokens = i + 1;
	}
	return 0;
}

static int
parse_principal(struct parse *p, struct config *cfg, const json_t *obj,
    const char *where, struct principal *pr)
{
	static const char *const keys[] = {
		"id", "org", "roles", "token_sha256", "cert_sha256",
		"cert_subject", NULL
	};
	char path[128];
	const char *id = NULL, *org = NULL, *cert = NULL;
	const char *subject = NULL;
	json_t *roles;

	if (!json_is_object(obj))
		return perr(p, where, "must be an object, not %s",
		    json_type_name(obj));
	if (check_keys(p, obj, where, keys) == -1)
		return -1;

	key_path(path, sizeof(path), where, "id");
	if (get_string(p, obj, where, "id", PRINCIPAL_ID_MAX, &id) == -1)
		return -1;
	if (id == NULL)
		return perr(p, path, "missing");
	if (!principal_id_valid(id))
		return perr(p, path, "must match [A-Za-z0-9._@-]{1,64}");
	pr->id = xstrdup(id);

	key_path(path, sizeof(path), where, "org");
	if (get_string(p, obj, where, "org", LEDGER_ID_MAX, &org) == -1)
		return -1;
	if (org == NULL)
		return perr(p, path, "missing");
	if (!org_id_valid(org))
		return perr(p, path, "org id must match [a-z0-9-]{1,32}");
	if (!config_org_registered(cfg, org))
		return perr(p, path, "org \"%s\" is not listed in orgs", org);
	pr->org = xstrdup(org);

	key_path(path, sizeof(path), where, "roles");
	if ((roles = json_object_get(obj, "roles")) == NULL)
		return perr(p, path, "missing");
	if (parse_roles(p, roles, path, &pr->roles) == -1)
		return -1;

	key_path(path, sizeof(path), where, "token_sha256");
	if (parse_tokens(p, obj, path, pr) == -1)
		return -1;
	key_path(path, sizeof(path), where, "cert_sha256");
	if (get_string(p, obj, where, "cert_sha256", 128, &cert) == -1)
		return -1;
	if (cert != NULL) {
		if (parse_hash(cert, pr->cert_sha256) == -1)
			return perr(p, path, "must be 64 hex digits "
			    "(the SHA-256 of the DER client certificate)");
		pr->has_cert = 1;
	}
	key_path(path, sizeof(path), where, "cert_subject");
	if (get_string(p, obj, where, "cert_subject", 1024, &subject) == -1)
		return -1;
	if (subject != NULL)
		pr->cert_subject = xstrdup(subject);
	if (pr->n_tokens == 0 && !pr->has_cert && pr->cert_subject == NULL)
		return perr(p, where, "has no credential "
		    "(token_sha256, cert_sha256 or cert_subject)");
	return 0;
}

/* shared_token - 1 when a and b hold a token in common. */
static int
shared_token(const struct principal *a, const struct principal *b)
{
	size_t i, j;

	for (i = 0; i < a->n_tokens; i++)
		for (j = 0; j < b->n_tokens; j++)
			if (memcmp(a->token_sha256[i], b->token_sha256[j],
			    LEDGER_HASH_LEN) == 0)
				return 1;
	return 0;
}

static int
parse_principals(struct parse *p, struct config *cfg, const json_t *root)
{
	char where[64];
	const struct principal *a, *b;
	json_t *arr, *v;
	size_t i, j;

	if ((arr = json_object_get(root, "principals")) == NULL)
		return 0;
	if (!json_is_array(arr))
		return perr(p, "principals", "must be an array, not %s",
		    json_type_name(arr));
	cfg->principals = xcalloc(json_array_size(arr) + 1,
	    sizeof(*cfg->principals));
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "principals[%zu]", i);
		/* Counted first, so config_free() frees a half-read one. */
		cfg->n_principals++;
		if (parse_principal(p, cfg, v, where,
		    &cfg->principals[i]) == -1)
			return -1;
		b = &cfg->principals[i];
		for (j = 0; j < i; j++) {
			a = &cfg->principals[j];
			if (strcmp(a->id, b->id) == 0)
				return perr(p, where, "duplicate principal id "
				    "\"%s\" (also principals[%zu])", b->id, j);
			/* Two holders of one credential could not be told apart. */
			if (shared_token(a, b))
				return perr(p, where, "duplicate token_sha256 "
				    "(also principals[%zu])", j);
			if (a->has_cert && b->has_cert &&
			    memcmp(a->cert_sha256, b->cert_sha256,
			    LEDGER_HASH_LEN) == 0)
				return perr(p, where, "duplicate cert_sha256 "
				    "(also principals[%zu])", j);
			if (a->cert_subject != NULL && b->cert_subject != NULL &&
			    strcmp(a->cert_subject, b->cert_subject) == 0)
				return perr(p, where, "duplicate cert_subject "
				    "(also principals[%zu])", j);
		}
	}
	return 0;
}

static int
parse_limits(struct parse *p, struct config *cfg, const json_t *root)
{
	static const char *const keys[] = {
		"max_body", "max_headers", "max_batch_events",
		"max_queue_events", "max_commit_events", "tail_max_entries",
		"tail_merge_entries", "tail_merge_interval_ms", "max_page",
		"workers", "max_queued_jobs", "max_connections",
		"timeout_seconds", "map_size", "auth_failures",
		"auth_window_seconds", NULL
	};
	const struct limit_rule *rule;
	char path[64];
	json_t *obj, *v;
	json_int_t n;
	char *field;
	size_t i;

	if ((obj = json_object_get(root, "limits")) == NULL)
		return 0;
	if (!json_is_object(obj))
		return perr(p, "limits", "must be an object, not %s",
		    json_type_name(obj));
	if (check_keys(p, obj, "limits", keys) == -1)
		return -1;
	for (i = 0; i < NITEMS(limit_rules); i++) {
		rule = &limit_rules[i];
		if ((v = json_object_get(obj, rule->key)) == NULL)
			continue;
		snprintf(path, sizeof(path), "limits.%s", rule->key);
		if (!json_is_integer(v))
			return perr(p, path, "must be an integer, not %s",
			    json_type_name(v));
		n = json_integer_value(v);
		if (n < 0 || (uint64_t)n < rule->min || (uint64_t)n > rule->max)
			return perr(p, path, "must be between %llu and %llu",
			    (unsigned long long)rule->min,
			    (unsigned long long)rule->max);
		field = (char *)&cfg->limits + rule->offset;
		switch (rule->kind) {
		case LIMIT_SIZE:
			*(size_t *)(void *)field = (size_t)n;
			break;
		case LIMIT_INT:
			*(int *)(void *)field = (int)n;
			break;
		case LIMIT_U64:
			*(uint64_t *)(void *)field = (uint64_t)n;
			break;
		}
	}
	/* A batch the queue could never hold would be refused forever. */
	if (cfg->limits.max_queue_events < cfg->limits.max_batch_events)
		return perr(p, "limits.max_queue_events", "must be at least "
		    "limits.max_batch_events (%zu)",
		    cfg->limits.max_batch_events);
	/* A merge is of a segment: the tail must hold one whole. */
	if (cfg->limits.tail_merge_entries > cfg->limits.tail_max_entries)
		return perr(p, "limits.tail_merge_entries", "must be at most "
		    "limits.tail_max_entries (%zu)",
		    cfg->limits.tail_max_entries);
	return 0;
}

static int
parse_log_level(struct parse *p, struct config *cfg, const json_t *root)
{
	const char *s = NULL;
	size_t i;
	int rc;

	if ((rc = get_string(p, root, "", "log_level", 16, &s)) <= 0)
		return rc;
	for (i = 0; i < NITEMS(log_level_names); i++)
		if (strcmp(s, log_level_names[i]) == 0) {
			cfg->log_level = (int)i;
			return 0;
		}
	return perr(p, "log_level", "must be one of error, warn, info, debug");
}

/* An integer member of obj within [min, max]; 1 when set, 0 when absent. */
static int
get_int(struct parse *p, const json_t *obj, const char *where, const char *key,
    long long min, long long max, int *out)
{
	char path[128];
	json_t *v;

	if ((v = json_object_get(obj, key)) == NULL)
		return 0;
	key_path(path, sizeof(path), where, key);
	if (!json_is_integer(v))
		return perr(p, path, "must be an integer, not %s",
		    json_type_name(v));
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return perr(p, path, "must be between %lld and %lld", min, max);
	*out = (int)json_integer_value(v);
	return 1;
}

/* parse_witnesses - the "witnesses" object (spec §10.6). */
static int
parse_witnesses(struct parse *p, struct config *cfg, const json_t *root)
{
	static const char *const keys[] = {
		"policy", "timeout_seconds", "wait_seconds", "ca_file", NULL
	};
	const char *policy = NULL, *ca = NULL;
	json_t *obj;

	if ((obj = json_object_get(root, "witnesses")) == NULL)
		return 0;
	if (!json_is_object(obj))
		return perr(p, "witnesses", "must be an object, not %s",
		    json_type_name(obj));
	if (check_keys(p, obj, "witnesses", keys) == -1 ||
	    get_string(p, obj, "witnesses", "policy", PATH_MAX, &policy) == -1 ||
	    get_int(p, obj, "witnesses", "timeout_seconds", 1, 300,
	    &cfg->witness_timeout_seconds) == -1 ||
	    get_int(p, obj, "witnesses", "wait_seconds", 1, 3600,
	    &cfg->witness_wait_seconds) == -1 ||
	    get_string(p, obj, "witnesses", "ca_file", PATH_MAX, &ca) == -1)
		return -1;
	if (ca != NULL)
		cfg->witness_ca_file = resolve_path(p->file, ca);
	if (policy == NULL)
		return perr(p, "witnesses.policy", "missing (the witness policy "
		    "file: witness, group and quorum lines)");
	cfg->witness_policy = resolve_path(p->file, policy);
	return 0;
}

/*
 * parse_retention - the "retention" object (spec §2.11): absent, the log
 * has no retention policy; present, every member defaults.
 */
static int
parse_retention(struct parse *p, struct config *cfg, const json_t *root)
{
	char field[64], msg[160], path[80];
	json_t *obj;

	if ((obj = json_object_get(root, "retention")) == NULL)
		return 0;
	cfg->retention = xcalloc(1, sizeof(*cfg->retention));
	if (ledger_retention_from_json(obj, cfg->retention, field, sizeof(field),
	    msg, sizeof(msg)) != 0) {
		key_path(path, sizeof(path), "retention", field);
		return perr(p, field[0] != '\0' ? path : "retention", "%s", msg);
	}
	return 0;
}

/* parse_root - fills cfg (holding the defaults) from the file's object. */
static int
parse_root(struct parse *p, struct config *cfg, const json_t *root)
{
	static const char *const keys[] = {
		"listen", "data", "origin", "orgs", "tls", "principals",
		"limits", "log_level", "checkpoint_interval_ms", "witnesses",
		"retention", NULL
	};
	const char *s;
	int rc;

	if (!json_is_object(root))
		return perr(p, "", "the configuration must be a JSON object, "
		    "not %s", json_type_name(root));
	if (check_keys(p, root, "", keys) == -1)
		return -1;

	s = NULL;
	if ((rc = get_string(p, root, "", "listen", LISTEN_MAX, &s)) == -1)
		return -1;
	if (rc == 1) {
		if (config_split_listen(s, NULL, 0, NULL) == -1)
			return perr(p, "listen", "\"%s\" is not HOST:PORT or "
			    "[IPV6]:PORT with a port of 0 to 65535", s);
		free(cfg->listen);
		cfg->listen = xstrdup(s);
	}
	s = NULL;
	if ((rc = get_string(p, root, "", "data", PATH_MAX, &s)) == -1)
		return -1;
	if (rc == 1) {
		free(cfg->data_dir);
		cfg->data_dir = xstrdup(s);
	}
	/*
	 * The origin names the log in every checkpoint and its key; a file
	 * must say it, so no real log is ever signed as the development one.
	 */
	s = NULL;
	if ((rc = get_string(p, root, "", "origin", LEDGER_KEY_NAME_MAX,
	    &s)) == -1)
		return -1;
	if (rc == 0)
		return perr(p, "origin", "missing (the log's name, such as "
		    "\"ledger.example.org/ct-box\")");
	if (!ledger_key_name_valid(s))
		return perr(p, "origin", "\"%s\" is not a valid key name "
		    "(printable ASCII, no spaces, no '+')", s);
	free(cfg->origin);
	cfg->origin = xstrdup(s);

	/* orgs before principals, whose orgs must be listed. */
	if (parse_orgs(p, cfg, root) == -1 ||
	    parse_tls(p, cfg, root) == -1 ||
	    parse_principals(p, cfg, root) == -1 ||
	    parse_limits(p, cfg, root) == -1 ||
	    parse_log_level(p, cfg, root) == -1 ||
	    get_int(p, root, "", "checkpoint_interval_ms",
	    CHECKPOINT_INTERVAL_MIN_MS, CHECKPOINT_INTERVAL_MAX_MS,
	    &cfg->checkpoint_interval_ms) == -1 ||
	    parse_witnesses(p, cfg, root) == -1 ||
	    parse_retention(p, cfg, root) == -1)
		return -1;
	return 0;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct parse p = { path, err, errlen };
	struct config *cfg;
	json_error_t jerr;
	json_t *root = NULL;

	cfg = config_defaults();
	if (path == NULL)
		return cfg;
	cfg->path = xstrdup(path);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (jerr.line > 0)
			set_err(err, errlen, "%s:%d:%d: %s", path, jerr.line,
			    jerr.column, jerr.text);
		else
			set_err(err, errlen, "%s: %s", path, jerr.text);
		goto fail;
	}
	if (parse_root(&p, cfg, root) == -1)
		goto fail;
	json_decref(root);
	return cfg;
fail:
	json_decref(root);
	config_free(cfg);
	return NULL;
}

int
config_apply_flags(struct config *cfg, const char *data_dir,
    const char *listen, char *err, size_t errlen)
{
	if (data_dir != NULL) {
		if (data_dir[0] == '\0') {
			set_err(err, errlen, "--data: must not be empty");
			return -1;
		}
		free(cfg->data_dir);
		cfg->data_dir = xstrdup(data_dir);
		cfg->data_from_flag = 1;
	}
	if (listen != NULL) {
		if (config_split_listen(listen, NULL, 0, NULL) == -1) {
			set_err(err, errlen, "--listen: \"%s\" is not "
			    "HOST:PORT or [IPV6]:PORT with a port of 0 to "
			    "65535", listen);
			return -1;
		}
		free(cfg->listen);
		cfg->listen = xstrdup(listen);
		cfg->listen_from_flag = 1;
	}
	return 0;
}

int
config_apply_interval(struct config *cfg, const char *ms, char *err,
    size_t errlen)
{
	uint64_t n;

	if (ms == NULL)
		return 0;
	if (ledger_parse_u64(ms, strlen(ms), &n) != 0 ||
	    n < CHECKPOINT_INTERVAL_MIN_MS || n > CHECKPOINT_INTERVAL_MAX_MS) {
		set_err(err, errlen, "--checkpoint-interval-ms: \"%s\" is not "
		    "a number of milliseconds between %d and %d", ms,
		    CHECKPOINT_INTERVAL_MIN_MS, CHECKPOINT_INTERVAL_MAX_MS);
		return -1;
	}
	cfg->checkpoint_interval_ms = (int)n;
	return 0;
}

/* check_readable - a TLS file the daemon will need at start. */
static int
check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		set_err(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s %s: not a regular file", what, path);
		return -1;
	}
	return 0;
}

/* load_policy - reads and parses witnesses.policy into cfg->policy. */
static int
load_policy(struct config *cfg, const char *src, char *err, size_t errlen)
{
	char why[256], *text = NULL;
	size_t len = 0, n;
	int rc = -1;
	FILE *f;

	if ((f = fopen(cfg->witness_policy, "r")) == NULL) {
		set_err(err, errlen, "%s: witnesses.policy %s: %s",
		    src, cfg->witness_policy, strerror(errno));
		return -1;
	}
	text = xmalloc(LEDGER_POLICY_MAX_SIZE + 1);
	while ((n = fread(text + len, 1, LEDGER_POLICY_MAX_SIZE + 1 - len,
	    f)) > 0)
		len += n;
	if (ferror(f)) {
		set_err(err, errlen, "%s: witnesses.policy %s: %s",
		    src, cfg->witness_policy, strerror(errno));
		goto out;
	}
	if (len > LEDGER_POLICY_MAX_SIZE) {
		set_err(err, errlen, "%s: witnesses.policy %s: longer than %d "
		    "bytes", src, cfg->witness_policy, LEDGER_POLICY_MAX_SIZE);
		goto out;
	}
	ledger_policy_free(cfg->policy);
	cfg->policy = NULL;
	if (ledger_policy_parse(text, len, &cfg->policy, why,
	    sizeof(why)) != 0) {
		set_err(err, errlen, "%s: witnesses.policy %s: %s", src,
		    cfg->witness_policy, why);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	free(text);
	return rc;
}

int
config_finish(struct config *cfg, char *err, size_t errlen)
{
	const char *src = cfg->path != NULL ? cfg->path : "built-in defaults";
	size_t i;
	int rc;

	if (config_split_listen(cfg->listen, NULL, 0, NULL) == -1) {
		set_err(err, errlen, "listen \"%s\" is not HOST:PORT or "
		    "[IPV6]:PORT", cfg->listen);
		return -1;
	}
	if (!ledger_key_name_valid(cfg->origin)) {
		set_err(err, errlen, "origin \"%s\" is not a valid key name",
		    cfg->origin);
		return -1;
	}
	if (cfg->data_dir == NULL || cfg->data_dir[0] == '\0') {
		set_err(err, errlen, "no data directory");
		return -1;
	}
	cfg->dev_mode = cfg->path == NULL &&
	    config_listen_is_loopback(cfg->listen);

	/* Spec §9.6: bearer tokens in clear only where nobody can listen. */
	if ((cfg->tls_cert == NULL || cfg->tls_key == NULL) &&
	    !config_listen_is_loopback(cfg->listen)) {
		set_err(err, errlen, "listen %s: plain HTTP is only allowed on "
		    "loopback addresses; configure tls.cert and tls.key in a "
		    "config file to listen elsewhere", cfg->listen);
		return -1;
	}
	if (cfg->tls_cert != NULL) {
		if (check_readable("tls.cert", cfg->tls_cert, err, errlen) == -1 ||
		    check_readable("tls.key", cfg->tls_key, err, errlen) == -1)
			return -1;
		if (cfg->tls_client_ca != NULL && check_readable("tls.client_ca",
		    cfg->tls_client_ca, err, errlen) == -1)
			return -1;
		if ((rc = ledger_file_secrecy_ok(cfg->tls_key)) == LEDGER_EPERM) {
			set_err(err, errlen, "tls.key %s is accessible to group "
			    "or others, or owned by another user; fix with "
			    "chmod 600 %s", cfg->tls_key, cfg->tls_key);
			return -1;
		} else if (rc != LEDGER_OK) {
			set_err(err, errlen, "tls.key %s: %s", cfg->tls_key,
			    strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < cfg->n_principals; i++) {
		const struct principal *pr = &cfg->principals[i];
		const char *key = pr->has_cert ? "cert_sha256" : "cert_subject";

		if (!pr->has_cert && pr->cert_subject == NULL)
			continue;
		if (cfg->tls_cert == NULL) {
			set_err(err, errlen, "%s: principals[%zu].%s: "
			    "client certificates need tls.cert and tls.key",
			    src, i, key);
			return -1;
		}
		/* Only a certificate that chains to a CA identifies anyone. */
		if (cfg->tls_client_ca == NULL) {
			set_err(err, errlen, "%s: principals[%zu].%s: "
			    "client certificates need tls.client_ca", src, i,
			    key);
			return -1;
		}
	}
	if (cfg->witness_policy != NULL && load_policy(cfg, src, err, errlen) != 0)
		return -1;
	if (cfg->witness_ca_file != NULL && check_readable("witnesses.ca_file",
	    cfg->witness_ca_file, err, errlen) == -1)
		return -1;
	if (cfg->witness_policy != NULL &&
	    (int64_t)cfg->witness_wait_seconds * 1000 <=
	    cfg->checkpoint_interval_ms) {
		set_err(err, errlen, "%s: witnesses.wait_seconds (%d) must be "
		    "longer than the checkpoint interval (%d ms): a wait for a "
		    "witnessed checkpoint lasts at least one interval", src,
		    cfg->witness_wait_seconds, cfg->checkpoint_interval_ms);
		return -1;
	}
	if (!cfg->dev_mode && cfg->n_principals == 0) {
		set_err(err, errlen, "%s: no principals: outside development "
		    "mode every client needs a principal with a token_sha256 "
		    "or cert_sha256", src);
		return -1;
	}
	return 0;
}

void
config_add_dev_principal(struct config *cfg,
    const uint8_t token_sha256[LEDGER_HASH_LEN])
{
	struct principal *pr;

	cfg->principals = xrealloc(cfg->principals,
	    (cfg->n_principals + 1) * sizeof(*cfg->principals));
	pr = &cfg->principals[cfg->n_principals++];
	memset(pr, 0, sizeof(*pr));
	pr->id = xstrdup(DEV_PRINCIPAL_ID);
	pr->org = xstrdup(DEV_PRINCIPAL_ID);
	pr->roles = ROLE_ALL;
	pr->n_tokens = 1;
	memcpy(pr->token_sha256[0], token_sha256, LEDGER_HASH_LEN);
	pr->any_org = 1;
}

int
config_org_registered(const struct config *cfg, const char *org)
{
	size_t i;

	if (!org_id_valid(org))
		return 0;
	if (cfg->dev_mode)
		return 1;
	for (i = 0; i < cfg->n_orgs; i++)
		if (strcmp(cfg->orgs[i], org) == 0)
			return 1;
	return 0;
}

const struct principal *
config_principal_by_token(const struct config *cfg,
    const uint8_t token_sha256[LEDGER_HASH_LEN])
{
	const struct principal *found = NULL;
	size_t i, j;

	/* Every token is compared, in constant time, whatever matches. */
	for (i = 0; i < cfg->n_principals; i++)
		for (j = 0; j < cfg->principals[i].n_tokens; j++)
			if (CRYPTO_memcmp(cfg->principals[i].token_sha256[j],
			    token_sha256, LEDGER_HASH_LEN) == 0)
				found = &cfg->principals[i];
	return found;
}

const struct principal *
config_principal_by_cert(const struct config *cfg,
    const uint8_t cert_sha256[LEDGER_HASH_LEN], const char *subject)
{
	const struct principal *by_hash = NULL, *by_subject = NULL;
	size_t i;

	/* A fingerprint names one certificate; it wins over a subject. */
	for (i = 0; i < cfg->n_principals; i++) {
		const struct principal *pr = &cfg->principals[i];

		if (pr->has_cert && CRYPTO_memcmp(pr->cert_sha256,
		    cert_sha256, LEDGER_HASH_LEN) == 0)
			by_hash = pr;
		if (subject != NULL && pr->cert_subject != NULL &&
		    strcmp(pr->cert_subject, subject) == 0)
			by_subject = pr;
	}
	return by_hash != NULL ? by_hash : by_subject;
}

/* Two optional strings are the same: both NULL or equal. */
static int
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
config_reload_check(const struct config *cur, struct config *next,
    char *err, size_t errlen, char *notes, size_t noteslen)
{
	if (noteslen > 0)
		notes[0] = '\0';
	/* The writer signs with origin; the store lives in data_dir. */
	if (strcmp(cur->origin, next->origin) != 0) {
		set_err(err, errlen, "origin changes from \"%s\" to \"%s\"; a "
		    "log never changes its name", cur->origin, next->origin);
		return -1;
	}
	if (strcmp(cur->data_dir, next->data_dir) != 0) {
		set_err(err, errlen, "data changes from %s to %s; that needs a "
		    "restart", cur->data_dir, next->data_dir);
		return -1;
	}
	/* The listener is bound as plain or TLS at start. */
	if ((cur->tls_cert == NULL) != (next->tls_cert == NULL) ||
	    (cur->tls_client_ca == NULL) != (next->tls_client_ca == NULL)) {
		set_err(err, errlen, "turning TLS or client certificates on or "
		    "off needs a restart");
		return -1;
	}
	/*
	 * The listener, evhttp's limits and the writer's queue were set up
	 * with cur's values: they stay until a restart.
	 */
	if (!same_string(cur->listen, next->listen)) {
		free(next->listen);
		next->listen = xstrdup(cur->listen);
		set_err(notes, noteslen, "listen");
	}
	if (memcmp(&cur->limits, &next->limits, sizeof(cur->limits)) != 0) {
		next->limits = cur->limits;
		set_err(notes + strlen(notes), noteslen - strlen(notes),
		    "%slimits", notes[0] != '\0' ? ", " : "");
	}
	/*
	 * The writer's publication interval and the witness clients are set
	 * up at start.
	 */
	if (cur->checkpoint_interval_ms != next->checkpoint_interval_ms) {
		next->checkpoint_interval_ms = cur->checkpoint_interval_ms;
		set_err(notes + strlen(notes), noteslen - strlen(notes),
		    "%scheckpoint_interval_ms", notes[0] != '\0' ? ", " : "");
	}
	if (!same_string(cur->witness_policy, next->witness_policy) ||
	    !same_string(cur->witness_ca_file, next->witness_ca_file) ||
	    cur->witness_timeout_seconds != next->witness_timeout_seconds ||
	    cur->witness_wait_seconds != next->witness_wait_seconds) {
		free(next->witness_policy);
		next->witness_policy = cur->witness_policy != NULL ?
		    xstrdup(cur->witness_policy) : NULL;
		free(next->witness_ca_file);
		next->witness_ca_file = cur->witness_ca_file != NULL ?
		    xstrdup(cur->witness_ca_file) : NULL;
		next->witness_timeout_seconds = cur->witness_timeout_seconds;
		next->witness_wait_seconds = cur->witness_wait_seconds;
		set_err(notes + strlen(notes), noteslen - strlen(notes),
		    "%switnesses", notes[0] != '\0' ? ", " : "");
	}
	/*
	 * The policy in force is recorded in the log when the writer starts
	 * (spec §2.11), so a new one takes effect at the next start.
	 */
	if ((cur->retention == NULL) != (next->retention == NULL) ||
	    (cur->retention != NULL && memcmp(cur->retention, next->retention,
	    sizeof(*cur->retention)) != 0)) {
		free(next->retention);
		next->retention = NULL;
		if (cur->retention != NULL) {
			next->retention = xmalloc(sizeof(*next->retention));
			*next->retention = *cur->retention;
		}
		set_err(notes + strlen(notes), noteslen - strlen(notes),
		    "%sretention", notes[0] != '\0' ? ", " : "");
	}
	next->dev_mode = cur->dev_mode;
	return 0;
}

struct config *
config_ref(struct config *cfg)
{
	cfg->refs++;
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL || --cfg->refs > 0)
		return;
	free(cfg->path);
	free(cfg->listen);
	free(cfg->data_dir);
	free(cfg->origin);
	free_orgs(cfg);
	for (i = 0; i < cfg->n_principals; i++) {
		free(cfg->principals[i].id);
		free(cfg->principals[i].org);
		free(cfg->principals[i].cert_subject);
	}
	free(cfg->principals);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_client_ca);
	free(cfg->witness_policy);
	free(cfg->witness_ca_file);
	ledger_policy_free(cfg->policy);
	free(cfg->retention);
	free(cfg);
}
