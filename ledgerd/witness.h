/*
 * `ledgerd witness`: a C2SP tlog-witness for the logs it is configured
 * with.  The parts share this header: configuration (witness_config.c),
 * the add-checkpoint decision (witness_add.c), split-view evidence
 * (witness_evidence.c), storage (witness_store.h) and the command with its
 * HTTP front end (witness.c).
 */
#ifndef LEDGERD_WITNESS_H
#define LEDGERD_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/checkpoint.h"
#include "ledger/note.h"

#include "witness_store.h"

/* Files in the witness's data directory. */
#define WITNESS_KEY "witness.key"	/* Ed25519 PKCS#8 PEM, 0600 */
#define WITNESS_VKEY "witness.vkey"	/* its cosignature verifier key, 0644 */

#define WITNESS_DEFAULT_LISTEN "127.0.0.1:8090"
#define WITNESS_DEFAULT_MAX_BODY (128 * 1024)
#define WITNESS_DEFAULT_TIMEOUT 30
#define WITNESS_MAP_SIZE (UINT64_C(1) << 30)
#define WITNESS_MAX_LOGS 256

/* A log the witness cosigns for: one of its keys (a log may have several). */
struct witness_log {
	struct ledger_verifier key;	/* key.name is the origin */
	char *vkey;			/* its text form */
	char origin_hash[65];		/* hex SHA-256 of the origin */
};

/* The configuration: command line over config file.  witness_config_free() frees. */
struct witness_config {
	char *path;			/* the config file, or NULL */
	char *data_dir;
	char *listen;
	char *name;			/* the witness key's name, or NULL */
	struct witness_log logs[WITNESS_MAX_LOGS];
	size_t n_logs;
	size_t max_body;
	int timeout_seconds;
};

/* Counters of decisions, for /metrics. */
struct witness_metrics {
	uint64_t answers[600];		/* by status code */
	uint64_t cosigned;
	uint64_t evidence_kept;
};

struct witness {
	struct witness_config *cfg;
	struct ledger_signer *signer;	/* cosignature (0x04) key */
	char *vkey;			/* its verifier key text */
	struct wstore *store;
	struct witness_metrics metrics;
};

/* What add-checkpoint answers.  body is new (free() it), may be NULL. */
struct witness_answer {
	int status;
	const char *content_type;
	char *body;
	size_t len;
};

/*
 * witness_config_load - reads the JSON config file path (NULL: defaults),
 * then applies the command-line values (NULL / empty for none; logs are
 * added to the file's).
 *	err	out: why not
 * Returns a new config or NULL.
 */
struct witness_config *witness_config_load(const char *path,
    const char *data_dir, const char *listen, const char *name,
    char *const *logs, size_t n_logs, char *err, size_t errlen);
void witness_config_free(struct witness_config *cfg);

/* witness_find_log - the configured keys of origin: index of the first, or -1. */
int witness_find_origin(const struct witness_config *cfg, const char *origin);

/*
 * witness_add_checkpoint - the whole C2SP tlog-witness add-checkpoint
 * decision for one request body: parse, check, and in one write
 * transaction compare with and replace the stored checkpoint (or keep
 * evidence), committed before it returns.  Every decision is logged with
 * the origin and sizes.
 *	now	in: unix seconds for the cosignature (never 0)
 *	out	out: status, content type and body to answer
 */
void witness_add_checkpoint(struct witness *w, const char *body, size_t len,
    uint64_t now, struct witness_answer *out);

/*
 * witness_evidence_doc - the self-contained evidence document (JSON text,
 * spec §10.4) of a checkpoint that contradicts what the witness cosigned.
 *	kind		in: "same_size_different_root" or "inconsistent_proof"
 *	cosigned	in: the stored checkpoint with this witness's cosignature
 *	submitted	in: the submitted note, as received
 *	old_size, proof, n_proof	in: what the request claimed
 * Returns a new NUL-terminated string (free() it).
 */
char *witness_evidence_doc(const struct witness *w, const char *kind,
    const char *origin, uint64_t now, const struct wstore_log *cosigned,
    const struct ledger_checkpoint *submitted_cp, const char *submitted,
    size_t submitted_len, uint64_t old_size,
    const uint8_t proof[][LEDGER_HASH_LEN], size_t n_proof);

/*
 * witness_evidence_list - the JSON listing of every kept document:
 * {"evidence": [{"id", "kind", "origin", "observed_at", "cosigned_size",
 * "submitted_size"}, ...]}.  Returns a new string or NULL (store error).
 */
char *witness_evidence_list(struct witness *w);

/* witness_serve - `ledgerd witness`: runs until SIGTERM/SIGINT.  Returns the exit code. */
int witness_serve(struct witness_config *cfg);

#endif
