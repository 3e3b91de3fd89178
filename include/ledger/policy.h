/*
 * C2SP tlog-policy: which logs and witnesses a verifier trusts and which
 * witnesses must have cosigned a checkpoint (the quorum), and checking a
 * cosigned checkpoint against such a policy.
 *
 * The text, one statement a line (items separated by spaces and tabs;
 * leading and trailing white space, blank lines and lines starting with
 * `#` are allowed):
 *	log <vkey> [<url>]			the key name is the log's origin
 *	witness <name> <vkey> [<url>]		a cosignature (0x04) key
 *	group <name> all|any|<k> <member>...	1 <= k <= number of members
 *	quorum <name>|none			exactly once
 * Witness and group names share one namespace (`none` is reserved); a group
 * or the quorum names only witnesses and groups defined on earlier lines;
 * each name is a member of at most one group, once; no two logs and no two
 * witnesses share a public key.  Bytes other than tab, newline, 0x20-0x7e
 * and 0x80-0xff are refused.
 */
#ifndef LEDGER_POLICY_H
#define LEDGER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/checkpoint.h"
#include "ledger/note.h"

/* Implementation limits (tlog-policy asks for at least 32 of each). */
#define LEDGER_POLICY_MAX_LOGS 256
#define LEDGER_POLICY_MAX_WITNESSES 256
#define LEDGER_POLICY_MAX_GROUPS 256
#define LEDGER_POLICY_NAME_MAX 255
#define LEDGER_POLICY_URL_MAX 2048
#define LEDGER_POLICY_MAX_SIZE (1024 * 1024)	/* bytes of policy text */

/* A parsed policy; opaque.  ledger_policy_parse() makes, _free() frees. */
struct ledger_policy;

/* A log of the policy.  Valid while the policy lives. */
struct ledger_policy_log {
	struct ledger_verifier key;	/* type 0x01; key.name is the origin */
	const char *url;		/* NULL when the line has none */
};

/* A witness of the policy.  Valid while the policy lives. */
struct ledger_policy_witness {
	const char *name;		/* the policy's name for it */
	struct ledger_verifier key;	/* type 0x04; key.name signs its lines */
	const char *url;		/* submission prefix, or NULL */
};

/*
 * ledger_policy_parse - parses policy text.
 *	text, len	in: the policy (need not be NUL-terminated; a last line
 *			without its newline is accepted)
 *	out		out: the new policy (ledger_policy_free() it); set only
 *			on success
 *	err, errlen	out (err may be NULL): on failure, a NUL-terminated
 *			message "line N: what is wrong"
 * Returns 0, LEDGER_EINVAL (malformed), LEDGER_ETOOBIG (over a limit above).
 */
int ledger_policy_parse(const char *text, size_t len,
    struct ledger_policy **out, char *err, size_t errlen);

/* ledger_policy_free - frees a policy; NULL is allowed. */
void ledger_policy_free(struct ledger_policy *p);

/*
 * ledger_policy_log_count / ledger_policy_log - the logs, in file order.
 * The returned pointer is borrowed (valid while p lives); NULL when i is out
 * of range.
 */
size_t ledger_policy_log_count(const struct ledger_policy *p);
const struct ledger_policy_log *ledger_policy_log(const struct ledger_policy *p,
    size_t i);

/*
 * ledger_policy_find_log - the log whose origin (key name) is origin, or
 * NULL.  Borrowed.
 */
const struct ledger_policy_log *ledger_policy_find_log(
    const struct ledger_policy *p, const char *origin);

/*
 * ledger_policy_witness_count / ledger_policy_witness - the witnesses, in
 * file order (the order of ledger_policy_result's arrays).  Borrowed; NULL
 * when i is out of range.
 */
size_t ledger_policy_witness_count(const struct ledger_policy *p);
const struct ledger_policy_witness *ledger_policy_witness(
    const struct ledger_policy *p, size_t i);

/*
 * ledger_policy_quorum_none - 1 when the policy says `quorum none` (no
 * cosignature needed), 0 otherwise.
 */
int ledger_policy_quorum_none(const struct ledger_policy *p);

/*
 * ledger_policy_quorum_met - evaluates the quorum over a set of witnesses.
 *	cosigned	in: one flag per witness, in file order (non-zero: that
 *			witness has a valid cosignature)
 *	n		in: the number of flags (ledger_policy_witness_count)
 * Returns 1 when the quorum is met, 0 when not (or n is wrong).
 */
int ledger_policy_quorum_met(const struct ledger_policy *p,
    const uint8_t *cosigned, size_t n);

/*
 * What ledger_policy_verify found.  Plain data.  cosigned, timestamp and
 * bad have one slot per witness of the policy, in file order.
 */
struct ledger_policy_result {
	struct ledger_checkpoint checkpoint;	/* the parsed body */
	size_t text_len;			/* body length, newline included */
	size_t log;				/* index of the log that signed */
	int log_verified;			/* a listed log's signature holds */
	int quorum_met;
	size_t n_witnesses;
	size_t n_cosigned;			/* witnesses with a good line */
	uint8_t cosigned[LEDGER_POLICY_MAX_WITNESSES];
	uint64_t timestamp[LEDGER_POLICY_MAX_WITNESSES]; /* latest good */
	uint8_t bad[LEDGER_POLICY_MAX_WITNESSES];	/* a line by it failed */
};

/*
 * ledger_policy_verify - checks a cosigned checkpoint against a policy:
 * the note must parse as a checkpoint whose origin is the key name of a
 * listed log, and carry a valid signature by that log's key (a bad one by a
 * listed log's key fails it); every line by a listed witness's key (name and
 * key ID) is checked as a cosignature/v1 over the body: a good one marks the
 * witness as cosigned, a bad one satisfies nothing (and is noted in bad);
 * lines by unknown keys are ignored.  The quorum is then evaluated over the
 * witnesses with a good cosignature.
 *	note, len	in: the signed checkpoint with its cosignatures
 *	out		out: what was found (filled as far as it got, also on
 *			LEDGER_EVERIFY)
 * Returns 0 when the log signature holds and the quorum is met,
 * LEDGER_EINVAL (malformed note or checkpoint), LEDGER_ENOTFOUND (no log of
 * the policy has the checkpoint's origin),
 * LEDGER_EVERIFY (no valid log signature, or the quorum is not met: see
 * out->log_verified and out->quorum_met), LEDGER_ECRYPTO.
 */
int ledger_policy_verify(const struct ledger_policy *p, const char *note,
    size_t len, struct ledger_policy_result *out);

#endif
