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
	EXIT_QUORUM = 6,	/* a checkpoint lacks its witness quorum (--policy) */
};

/* Long-option codes of the common options (above any short option). */
enum {
	OPT_URL = 1000, OPT_TOKEN, OPT_CERT, OPT_CERT_KEY, OPT_CACERT, OPT_KEY,
	OPT_JSON, OPT_POLICY, OPT_COMMON_MAX
};

#define CTL_COMMON_OPTIONS						\
	{ "url", required_argument, NULL, OPT_URL },			\
	{ "token", required_argument, NULL, OPT_TOKEN },		\
	{ "cert", required_argument, NULL, OPT_CERT },			\
	{ "cert-key", required_argument, NULL, OPT_CERT_KEY },		\
	{ "cacert", required_argument, NULL, OPT_CACERT },		\
	{ "key", required_argument, NULL, OPT_KEY },			\
	{ "json", no_argument, NULL, OPT_JSON },			\
	{ "policy", required_argument, NULL, OPT_POLICY },		\
	{ "help", no_argument, NULL, 'h' }

#define CTL_COMMON_HELP							\
	"common options:\n"						\
	"  --url URL          server (LEDGER_URL; default http://127.0.0.1:8080)\n" \
	"  --token TOKEN      bearer token, or @FILE (LEDGER_TOKEN)\n"	\
	"  --cert FILE        client certificate (PEM) for mutual TLS\n" \
	"  --cert-key FILE    its private key (default: in --cert)\n"	\
	"  --cacert FILE      CA certificates to trust for https://\n"	\
	"  --key FILE|VKEY    the log's verifier key (LEDGER_KEY)\n"	\
	"  --policy FILE      witness policy (C2SP tlog-policy) every checkpoint\n" \
	"                     must meet (LEDGER_POLICY)\n"			\
	"  --json             machine-readable output\n"		\
	"exit codes: 0 ok, 1 verification failed, 2 usage, 3 server error,\n" \
	"  4 rollback or fork, 5 local file error, 6 witness quorum not met\n"

struct ledger_policy;

struct ctl {
	const char *url, *token, *cert, *cert_key, *cacert, *key_arg;
	const char *policy_arg;
	int json;
	struct ledger_verifier key;
	int have_key;
	char *token_buf;		/* a token read from @FILE */
	struct http_client *http;	/* connected on first use */
	struct ledger_policy *policy;	/* loaded with the key, or NULL */
	char *cosigners;		/* who cosigned the last checkpoint
					   that met the quorum, "a, b" */
	char *quorum_why;		/* why the last quiet check failed */
	struct ledger_checkpoint witnessed; /* the latest /checkpoint that
					   met the quorum, when have_witnessed */
	int have_witnessed;
	uint64_t quorum_wait;		/* seconds to wait for cosignatures
					   (LEDGER_QUORUM_WAIT) */
	json_t *destructions;		/* proven destruction entries' periods,
					   by seq (destroyed.c) */
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
int cmd_mirror(struct ctl *, int, char **);
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
 * Where a checkpoint is believed.  Every checkpoint the client accepts from
 * a server passes through ctl_fetch_checkpoint or ctl_open_checkpoint: the
 * log's signature, then, with a policy (--policy, LEDGER_POLICY), its
 * witness quorum.
 *
 * ctl_fetch_checkpoint - GET /checkpoint, verify its signature with the
 * log's key, and check that it meets the policy's quorum itself.  The log
 * serves a checkpoint as soon as it publishes it, and the witnesses'
 * cosignatures join it a round trip later: one that lacks its quorum is
 * fetched again, for up to ctl->quorum_wait seconds (said on stderr after
 * the first), before it is refused.
 *	note	out (may be NULL): the note text, cosignatures included
 *		(free() it)
 * Returns 0 or an exit code (printed): EXIT_VERIFY, EXIT_SERVER,
 * EXIT_QUORUM (naming the witnesses missing and those whose cosignature
 * is bad).
 */
int ctl_fetch_checkpoint(struct ctl *ctl, struct ledger_checkpoint *cp,
    char **note);

/*
 * ctl_open_checkpoint - verifies a checkpoint a server embedded in an
 * answer (a provenance page) with the log's key and parses it.  With a
 * policy it must meet the quorum, or be proven a prefix of the latest
 * /checkpoint that meets it (from the hash tiles): an answer is computed
 * against the log's newest tree, which witnesses cosign only once it is
 * published, so a /checkpoint that does not cover it yet is fetched again
 * for up to ctl->quorum_wait seconds.  what: where it came from, for the
 * message.
 * Returns 0, EXIT_VERIFY, EXIT_QUORUM (not witnessed yet), EXIT_SPLIT (a
 * fork: not a prefix of the witnessed tree) or EXIT_SERVER (printed).
 */
int ctl_open_checkpoint(struct ctl *ctl, const char *note, size_t len,
    const char *what, struct ledger_checkpoint *cp);

/*
 * ctl_open_checkpoint_unwitnessed - the log's signature only, never the
 * policy: for a checkpoint this client verified and saved itself (the
 * state file of verify, a mirror's own checkpoint), and for the commit
 * checkpoint of an append, which no witness has seen yet.
 * Returns 0 or EXIT_VERIFY (printed).
 */
int ctl_open_checkpoint_unwitnessed(struct ctl *ctl, const char *note,
    size_t len, const char *what, struct ledger_checkpoint *cp);

/*
 * ctl_fetch_consistency - proves from the public hash tiles (GET /tile/…,
 * any tlog-tiles server) that new_cp's tree extends old's: the tiles must
 * lead to new_cp's root, and the RFC 9162 consistency proof computed from
 * them must verify between the two roots.
 * Returns 0; EXIT_SPLIT when the proof does not verify (the tiles are
 * bound to new_cp's root, so the two signed trees are a fork; not printed:
 * the caller says so), and also when the tiles the server has for new_cp
 * (404 included) do not lead to its root (printed: a log that signed a
 * tree it cannot serve shows a view it does not hold); EXIT_SERVER when
 * one cannot be fetched (printed).
 */
int ctl_fetch_consistency(struct ctl *ctl, const struct ledger_checkpoint *old,
    const struct ledger_checkpoint *new_cp);

/* ctl_policy_path - --policy or LEDGER_POLICY, or NULL for none. */
const char *ctl_policy_path(const struct ctl *ctl);

/*
 * ctl_policy_log_key - without --key: the key of the policy's only log.
 * Returns 0, -1 when there is no policy, or EXIT_USAGE (printed: not
 * readable, malformed, or not exactly one log line).
 */
int ctl_policy_log_key(struct ctl *ctl, struct ledger_verifier *key);

/*
 * ctl_load_policy - reads the policy, if one is given, once the key is
 * known.  Its log lines, when it has any, must hold the key in use; a
 * policy without one is read as naming it.  Also reads
 * LEDGER_QUORUM_WAIT (seconds, CTL_QUORUM_WAIT_S when unset).
 * Returns 0 or EXIT_USAGE (printed).
 */
#define CTL_QUORUM_WAIT_S 30
int ctl_load_policy(struct ctl *ctl);

/*
 * ctl_check_quorum - the policy's verdict on a signed checkpoint
 * (ledger_policy_verify: a bad cosignature by a listed witness satisfies
 * nothing, unknown signers are ignored).  0 without a policy.  On success
 * ctl->cosigners names the witnesses with a valid cosignature; on failure
 * ctl->quorum_why says why (nothing is printed).
 * Returns 0, EXIT_QUORUM or EXIT_VERIFY.
 */
int ctl_check_quorum(struct ctl *ctl, const char *note, size_t len);

/* ctl_cosigners_json - ctl->cosigners as a JSON array of names (new). */
json_t *ctl_cosigners_json(const struct ctl *ctl);

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

/*
 * ctl_entry_opened - checks the opened values an answer carries for entry
 * seq against the entry's commitments (ledger_entry_check_opened, spec
 * §2.10): a value that is not the committed one, a sealed field with
 * neither value nor marker, or an opened field the entry does not seal is
 * a verification failure.  On success *entry becomes the entry with the
 * opened values put back in their fields, for showing.
 *	entry	in/out: parsed by ctl_entry_open; replaced (the old reference
 *		is released)
 *	opened	in: the answer's "opened" member, or NULL
 * Returns 0 or EXIT_VERIFY (printed).
 */
int ctl_entry_opened(uint64_t seq, json_t **entry, const json_t *opened);

/*
 * ctl_check_destroyed - every {"destroyed": N} marker of the opened values
 * of entry seq (spec §2.10) is checked on the log's own record: entry N,
 * proven in cp's tree (or a later published one), is a destruction entry
 * of the server's, after seq, that names a period holding seq (§2.12).
 * Proven destruction entries are remembered for the rest of the command.
 * Returns 0 or EXIT_VERIFY / EXIT_SERVER (printed).
 */
int ctl_check_destroyed(struct ctl *ctl, const struct ledger_checkpoint *cp,
    uint64_t seq, const json_t *opened);

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
