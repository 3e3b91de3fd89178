/*
 * The daemon's configuration: the JSON file of spec §9.1, command-line
 * overrides, and the embedded development defaults of spec §9.8.
 */
#ifndef LEDGERD_CONFIG_H
#define LEDGERD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/retention.h"

struct ledger_policy;

/* Roles a principal may hold (spec §9.2), as bits. */
enum role {
	ROLE_WRITER = 1 << 0,
	ROLE_READER = 1 << 1,
	ROLE_SUPERVISOR = 1 << 2,
	ROLE_WITNESS = 1 << 3,
	ROLE_OPERATOR = 1 << 4,
	ROLE_ALL = (1 << 5) - 1,
};

/*
 * Bearer tokens one principal may hold at once: two, so that a new token
 * can be handed out while the old one still works (docs/access.md).
 */
#define PRINCIPAL_MAX_TOKENS 2

struct principal {
	char *id;
	char *org;
	unsigned roles;			/* enum role bits */
	size_t n_tokens;		/* 0, 1, or 2 while a token rotates */
	uint8_t token_sha256[PRINCIPAL_MAX_TOKENS][LEDGER_HASH_LEN];
	int has_cert;
	uint8_t cert_sha256[LEDGER_HASH_LEN];	/* of the DER client certificate */
	char *cert_subject;		/* or its subject, RFC 2253 form; NULL */
	int any_org;			/* development principal: posts for any org */
};

/* Bounds on what clients may ask of the daemon; all configurable. */
struct limits {
	size_t max_body;		/* bytes of a request body (413 beyond) */
	size_t max_headers;		/* bytes of request headers */
	size_t max_batch_events;	/* events in one POST /v1/events/batch */
	size_t max_queue_events;	/* events waiting for the writer (503 beyond) */
	size_t max_commit_events;	/* events the writer commits at once */
	size_t tail_max_entries;	/* unmerged entries in the index tail
					   before merges take precedence */
	size_t tail_merge_entries;	/* entries merged in one transaction */
	int tail_merge_interval_ms;	/* age at which a smaller tail merges */
	size_t max_page;		/* entries in one listing page */
	size_t workers;			/* threads for heavy requests (workers.h) */
	size_t max_queued_jobs;		/* heavy requests waiting beyond those
					   being worked on (503 beyond) */
	size_t max_connections;
	int timeout_seconds;		/* per-connection read/write timeout, and
					   the time a whole request may take to
					   arrive */
	uint64_t map_size;		/* LMDB map size, bytes */
	size_t auth_failures;		/* failed authentications from one
					   address ... */
	int auth_window_seconds;	/* ... within this window: then 429 */
};

/*
 * A configuration never changes once the daemon serves with it: a reload
 * (SIGHUP) builds a new one and swaps the pointer on the loop's thread.
 * Requests hold a reference to the one they were authenticated under, since
 * their principal points into it.
 */
struct config {
	int refs;			/* config_ref() / config_free() */
	char *path;			/* the file it came from, or NULL */
	char *listen;			/* "host:port" */
	char *data_dir;
	char *origin;			/* checkpoint origin and key name */
	char **orgs;			/* registered organisations */
	size_t n_orgs;
	struct principal *principals;
	size_t n_principals;
	char *tls_cert, *tls_key, *tls_client_ca;	/* NULL: plain HTTP */
	struct limits limits;
	int dev_mode;			/* no config file, loopback listener */
	int data_from_flag;		/* --data / --listen given: a reload */
	int listen_from_flag;		/* applies them again */
	int log_level;			/* enum log_level */
	/*
	 * Publication (spec §5.4) and witnesses (spec §10.6): a checkpoint is
	 * published when the tree has grown and checkpoint_interval_ms have
	 * passed since the last publication, and pushed to the witnesses of
	 * the policy file, if any.
	 */
	int checkpoint_interval_ms;
	char *witness_policy;		/* C2SP tlog-policy file, or NULL */
	struct ledger_policy *policy;	/* parsed by config_finish; NULL without */
	int witness_timeout_seconds;	/* one add-checkpoint request */
	int witness_wait_seconds;	/* the longest ?wait=witnessed wait */
	char *witness_ca_file;		/* https witnesses: CA bundle, or NULL
					   for the system's */
	/*
	 * Retention (spec §2.11): sealed fields, restriction and destruction.
	 * NULL without a "retention" object: nothing is sealed, restricted
	 * or destroyed.
	 */
	struct ledger_retention *retention;
};

/*
 * config_load - reads a JSON config file (spec §9.1, docs/operations.md); unknown keys are an
 * error.  path NULL gives the embedded defaults.
 * The file must name "origin" (a signed-note key name); every other key is
 * optional and defaults as without a file.  Keys: listen, data, origin,
 * orgs ([a-z0-9-]{1,32}, no repeats, replaces the default list), tls {cert,
 * key, client_ca} (relative paths resolve against the file's directory; cert
 * and key together; client_ca needs both), principals [{id
 * ([A-Za-z0-9._@-]{1,64}, unique), org (listed), roles (non-empty, no
 * repeats), token_sha256 (64 hex, either case, or an array of one or two
 * such: both authenticate) and/or cert_sha256 (64 hex; each token and
 * certificate hash unique across the file) and/or cert_subject (the client certificate's subject in RFC 2253
 * form, e.g. "CN=board-app,O=board"; unique)}], limits {max_body 1 KiB..1 GiB, max_headers 1 KiB..1 MiB,
 * max_batch_events 1..1e6, max_queue_events 1..1e7 and >= max_batch_events,
 * max_commit_events 1..1e6, tail_max_entries 1000..1e7,
 * tail_merge_entries 100..1e6 and <= tail_max_entries,
 * tail_merge_interval_ms 10..3600000, max_page 1..1e5, workers 1..64,
 * max_queued_jobs 1..1e5, max_connections 1..1e6,
 * timeout_seconds 1..86400, map_size 1 MiB..1 PiB, auth_failures 1..1e6,
 * auth_window_seconds 1..86400}, log_level
 * (error|warn|info|debug), checkpoint_interval_ms (10..3600000, default
 * 5000), witnesses {policy (a C2SP tlog-policy file, relative paths against
 * the file's directory; required in the object), timeout_seconds (1..300,
 * default 10), wait_seconds (1..3600, default 30), ca_file (the CA
 * certificates https witnesses are checked against, instead of the
 * system's; relative as policy)}, retention {period (quarter|month|year),
 * restrict_after, destroy_after ("5y", "60m", "1826d"), sealed_fields
 * (purpose, legal_basis, details); every member optional}.  "data" is used as given (relative to the
 * working directory, like --data).
 *	err	out: "FILE: KEY.PATH: message" ("principals[2].rolez: unknown
 *		key"), or "FILE:LINE:COLUMN: message" for malformed JSON
 * Returns a new config (config_free() it), or NULL with err filled.
 */
struct config *config_load(const char *path, char *err, size_t errlen);

/*
 * config_apply_flags - command-line overrides; each may be NULL.
 * Returns 0, or -1 with err filled (e.g. a malformed listen address).
 */
int config_apply_flags(struct config *cfg, const char *data_dir,
    const char *listen, char *err, size_t errlen);

/*
 * config_apply_interval - the --checkpoint-interval-ms flag: ms, a decimal
 * of 10..3600000, overrides checkpoint_interval_ms.
 * Returns 0, or -1 with err filled.
 */
int config_apply_interval(struct config *cfg, const char *ms, char *err,
    size_t errlen);

/*
 * config_finish - decides development mode (no config file and a loopback
 * listener) and checks the whole: plain HTTP only on loopback, a valid
 * origin, the TLS files readable and tls.key not accessible to group or
 * others, certificate principals (cert_sha256, cert_subject) only with TLS
 * and tls.client_ca, and outside development mode at least one principal.
 * It reads and parses witnesses.policy (C2SP tlog-policy) into cfg->policy,
 * and wants witnesses.wait_seconds longer than the checkpoint interval.
 * Call it after config_apply_flags().
 * Returns 0, or -1 with err filled.
 */
int config_finish(struct config *cfg, char *err, size_t errlen);

/*
 * config_add_dev_principal - the development principal "dev": every role,
 * any org, identified by the token whose SHA-256 is given.  Only for
 * development mode; principals may move (pointers into them go stale).
 */
void config_add_dev_principal(struct config *cfg,
    const uint8_t token_sha256[LEDGER_HASH_LEN]);

/* config_org_registered - 1 when org is listed (or in development mode, any id). */
int config_org_registered(const struct config *cfg, const char *org);

/*
 * config_principal_by_token - the principal holding this token hash, or
 * NULL.  Borrowed from cfg.  Compares in constant time.
 */
const struct principal *config_principal_by_token(const struct config *cfg,
    const uint8_t token_sha256[LEDGER_HASH_LEN]);

/*
 * config_principal_by_cert - the principal holding a client certificate
 * with this DER SHA-256 or, failing that, this subject (RFC 2253 form; may
 * be NULL), or NULL.  Call it only for a certificate that chains to
 * tls.client_ca.  Borrowed from cfg.
 */
const struct principal *config_principal_by_cert(const struct config *cfg,
    const uint8_t cert_sha256[LEDGER_HASH_LEN], const char *subject);

/*
 * config_reload_check - whether next (loaded and finished) may replace cur
 * in a running daemon.  The log's name and data directory never change
 * (refused); listen, limits and switching TLS on or off need a restart:
 * the first two are copied from cur into next (with a note in notes), the
 * last is refused.
 *	err	out: why the reload is refused
 *	notes	out: what the reload leaves as it was ("" when nothing)
 * Returns 0 or -1.
 */
int config_reload_check(const struct config *cur, struct config *next,
    char *err, size_t errlen, char *notes, size_t noteslen);

/*
 * config_set_token - `ledgerd token new`: makes a fresh bearer token for
 * principal id in the config file path and stores its SHA-256 there as
 * token_sha256: replacing the principal's tokens, or with keep_old after
 * the one it holds (["<old>", "<new>"]; refused when it holds two
 * already).  The file is rewritten atomically (a temporary file in the
 * same directory, fsync, rename, fsync of the directory) keeping its mode,
 * every other key and the key order; the new text is checked with
 * config_load() before it replaces the old.
 *	token	out: the token, 64 lowercase hex digits and a NUL
 *	err	out: why it failed
 * Returns 0 or -1.
 */
int config_set_token(const char *path, const char *id, int keep_old,
    char token[65], char *err, size_t errlen);

/*
 * config_retire_token - `ledgerd token retire`: of the two tokens of
 * principal id in the config file path keeps the newer (the last), as
 * config_set_token rewrites the file.
 *	err	out: why it failed (e.g. the principal holds one token only)
 * Returns 0 or -1.
 */
int config_retire_token(const char *path, const char *id, char *err,
    size_t errlen);

/* config_ref - takes another reference to cfg; returns cfg. */
struct config *config_ref(struct config *cfg);

/*
 * config_split_listen - "host:port" (host a name or dotted IPv4 address,
 * [A-Za-z0-9.-]) or "[v6]:port" into its parts; port 0..65535 in decimal,
 * 0 asking the system for a free port.
 *	host, hostlen	out (host may be NULL): the host, brackets removed
 *	port		out (may be NULL)
 * Returns 0, or -1 when malformed or the host does not fit in hostlen.
 */
int config_split_listen(const char *listen, char *host, size_t hostlen,
    unsigned *port);

/* config_listen_is_loopback - 1 for 127.0.0.0/8, ::1 and "localhost". */
int config_listen_is_loopback(const char *listen);

/* config_free - drops a reference; the last one frees cfg.  NULL is allowed. */
void config_free(struct config *cfg);

#endif
