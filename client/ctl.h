/*
 * What every ledgerctl command shares: the common options, exit codes,
 * messages, and the fetch-and-verify steps built on the core library.
 */
#ifndef LEDGERCTL_CTL_H
#define LEDGERCTL_CTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

#include "http_client.h"

/* Exit codes (docs/ledgerctl.md). */
enum {
	EXIT_OK = 0,
	EXIT_VERIFY = 1,	/* a signature, proof, hash or completeness check failed */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_SERVER = 3,	/* cannot reach the server, or it refused */
	EXIT_SPLIT = 4,		/* rollback or fork (split view) detected */
	EXIT_IO = 5,		/* a local file could not be read or written */
};

/* Long-option codes of the common options (above any short option). */
enum {
	OPT_URL = 1000, OPT_TOKEN, OPT_CERT, OPT_CERT_KEY, OPT_CACERT, OPT_KEY,
	OPT_JSON, OPT_COMMON_MAX
};

#define CTL_COMMON_OPTIONS						\
	{ "url", required_argument, NULL, OPT_URL },			\
	{ "token", required_argument, NULL, OPT_TOKEN },		\
	{ "cert", required_argument, NULL, OPT_CERT },			\
	{ "cert-key", required_argument, NULL, OPT_CERT_KEY },		\
	{ "cacert", required_argument, NULL, OPT_CACERT },		\
	{ "key", required_argument, NULL, OPT_KEY },			\
	{ "json", no_argument, NULL, OPT_JSON },			\
	{ "help", no_argument, NULL, 'h' }

#define CTL_COMMON_HELP							\
	"common options:\n"						\
	"  --url URL          server (LEDGER_URL; default http://127.0.0.1:8080)\n" \
	"  --token TOKEN      bearer token, or @FILE (LEDGER_TOKEN)\n"	\
	"  --cert FILE        client certificate (PEM) for mutual TLS\n" \
	"  --cert-key FILE    its private key (default: in --cert)\n"	\
	"  --cacert FILE      CA certificates to trust for https://\n"	\
	"  --key FILE|VKEY    the log's verifier key (LEDGER_KEY)\n"	\
	"  --json             machine-readable output\n"		\
	"exit codes: 0 ok, 1 verification failed, 2 usage, 3 server error,\n" \
	"  4 rollback or fork, 5 local file error\n"

struct ctl {
	const char *url, *token, *cert, *cert_key, *cacert, *key_arg;
	int json;
	struct ledger_verifier key;
	int have_key;
	char *token_buf;		/* a token read from @FILE */
	struct http_client *http;	/* connected on first use */
};

/* A command: its name, one-line summary, and entry point. */
struct ctl_command {
	const char *name;
	const char *summary;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* The commands, one file each. */
int cmd_post(struct ctl *, int, char **);
int cmd_get(struct ctl *, int, char **);
int cmd_list(struct ctl *, int, char **);
int cmd_checkpoint(struct ctl *, int, char **);
int cmd_who_saw(struct ctl *, int, char **);
int cmd_history(struct ctl *, int, char **);
int cmd_lineage(struct ctl *, int, char **);
int cmd_prove(struct ctl *, int, char **);
int cmd_consistency(struct ctl *, int, char **);
int cmd_verify(struct ctl *, int, char **);
int cmd_audit(struct ctl *, int, char **);
int cmd_export(struct ctl *, int, char **);
int cmd_verify_export(struct ctl *, int, char **);

/*
 * ctl_common_option - handles a common option's getopt code.
 * Returns 1 when it was one, 0 when not.
 */
int ctl_common_option(struct ctl *ctl, int c, const char *arg);

/* ctl_usage_error - prints the message and "try --help"; returns EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Local checks of option values and arguments, made before any request:
 * what the server would refuse and the client can know is a usage error
 * (exit 2) without a byte sent.  cmd: the command, for "try --help";
 * what: the option or argument, for the message.  A NULL value passes.
 * Each returns 0, or EXIT_USAGE after printing why.
 */
/* ctl_check_time - an RFC 3339 date-time as the server reads it. */
int ctl_check_time(const char *cmd, const char *what, const char *value);
/* ctl_check_range - --since and --until each a time, since not after until. */
int ctl_check_range(const char *cmd, const char *since, const char *until);
/* ctl_check_org - an org id: [a-z0-9-]{1,32}. */
int ctl_check_org(const char *cmd, const char *what, const char *value);
/* ctl_check_id - a subject, user or object ref: 1 to 1,024 bytes. */
int ctl_check_id(const char *cmd, const char *what, const char *value);
/*
 * ctl_check_text - text the server records (a purpose): 1 to 1,024 bytes
 * of UTF-8 without control characters.
 */
int ctl_check_text(const char *cmd, const char *what, const char *value);
/*
 * ctl_check_type - an entry type: share, query or advice, and with
 * server_types also audit or export.
 */
int ctl_check_type(const char *cmd, const char *value, int server_types);

/* ctl_fail - "ledgerctl: <message>" on stderr; returns code. */
int ctl_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * ctl_verify_fail - a failed check, said loudly: "ledgerctl: VERIFICATION
 * FAILED: <message>".  Returns EXIT_VERIFY.
 */
int ctl_verify_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ctl_need_key - loads --key (or LEDGER_KEY); 0 or an exit code (printed). */
int ctl_need_key(struct ctl *ctl);

/* ctl_http - the connection, created on first use; NULL after printing why. */
struct http_client *ctl_http(struct ctl *ctl);

/* ctl_free - releases what ctl holds. */
void ctl_free(struct ctl *ctl);

/*
 * ctl_get - GET target and expect 200.
 *	out	out: the answer (http_reply_free() it) on success
 * Returns 0, or EXIT_SERVER after printing the server's message.
 */
int ctl_get(struct ctl *ctl, const char *target, struct http_reply *out);

/* ctl_get_json - ctl_get and parse the body as JSON (new reference). */
int ctl_get_json(struct ctl *ctl, const char *target, json_t **out);

/*
 * ctl_open_checkpoint - verifies a signed checkpoint with the log's key and
 * parses it.  what: where it came from, for the message.
 * Returns 0 or EXIT_VERIFY (printed).
 */
int ctl_open_checkpoint(struct ctl *ctl, const char *note, size_t len,
    const char *what, struct ledger_checkpoint *cp);

/*
 * ctl_fetch_checkpoint - GET /checkpoint and open it.
 *	note	out (may be NULL): the note text (free() it)
 * Returns 0 or an exit code (printed).
 */
int ctl_fetch_checkpoint(struct ctl *ctl, struct ledger_checkpoint *cp,
    char **note);


/*
 * ctl_fetch_consistency - GET /v1/proof/consistency and verify it between
 * the two roots.  Returns 0, EXIT_SERVER, or EXIT_VERIFY when the proof
 * does not verify or the server refuses it with a 4xx (both sizes are in
 * signed checkpoints, so it owes one); the caller says what that means.
 */
int ctl_fetch_consistency(struct ctl *ctl, const struct ledger_checkpoint *old,
    const struct ledger_checkpoint *new_cp);

/*
 * ctl_verify_entry - GET /v1/proof/inclusion for seq in cp's tree and
 * check that the entry bytes are that leaf: the proof's leaf hash must be
 * the hash of bytes, and the audit path must lead to cp's root; then that
 * the bytes are an entry naming seq (ctl_entry_open).
 *	proof, n	out (may be NULL): the verified audit path
 * Returns 0, EXIT_SERVER or EXIT_VERIFY (printed).
 */
int ctl_verify_entry(struct ctl *ctl, uint64_t seq, const char *bytes,
    size_t len, const struct ledger_checkpoint *cp,
    uint8_t proof[][LEDGER_HASH_LEN], size_t *n);

/*
 * ctl_entry_open - reads entry bytes as the daemon does, with
 * ledger_entry_parse (no duplicate keys, exactly the canonical
 * serialisation, well-formed fields), and checks that the entry names seq.
 * Anything else is a verification failure naming seq: no other reading of
 * an entry exists in the client.
 *	seq		in: the position the entry was served for
 *	bytes, len	in: the entry bytes, need not be NUL-terminated
 *	entry		out (may be NULL): the parsed entry (json_decref it)
 * Returns 0 or EXIT_VERIFY (printed).
 */
int ctl_entry_open(uint64_t seq, const char *bytes, size_t len,
    json_t **entry);

/* ctl_decode_hash - base64 of exactly 32 bytes; 0 or -1. */
int ctl_decode_hash(const char *b64, uint8_t out[LEDGER_HASH_LEN]);

/* ctl_decode_hashes - a JSON array of base64 hashes; 0 or -1. */
int ctl_decode_hashes(const json_t *a, uint8_t out[][LEDGER_HASH_LEN],
    size_t cap, size_t *n);

/* ctl_hash_b64 - base64 of a hash (45 bytes with the NUL). */
void ctl_hash_b64(const uint8_t h[LEDGER_HASH_LEN], char out[48]);

/* ctl_parse_u64 - canonical decimal; 0 or -1. */
int ctl_parse_u64(const char *s, uint64_t *out);

/*
 * ctl_read_file - a whole file (or stdin for "-") into memory,
 * NUL-terminated.  Returns 0 or -1 (errno set).
 */
int ctl_read_file(const char *path, char **out, size_t *len);

/* ctl_now - seconds on the monotonic clock. */
double ctl_now(void);

#endif
