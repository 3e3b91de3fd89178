/*
 * The log's secrets, behind one interface (spec: keys and retention).
 *
 * Every operation that needs a key goes through here: signing a checkpoint,
 * turning subject identifiers into tokens, sealing and opening free-text
 * values, listing and destroying period secrets.  The caller never sees key
 * bytes.  In `ledgerd serve` the keys live in a separate key-keeper process
 * and each keyring_run() is one round trip over a socketpair; tools that run
 * alone (fsck, retention run against a stopped daemon) may hold the keyring
 * in their own process.  The interface is the same either way.
 *
 * Periods.  Subject tokens and sealing keys come from a secret per retention
 * period.  Each period secret is random, stored in a file of its own, and
 * never derived from a key that outlives it; the token key and the sealing
 * key of a period are derived from its secret alone.  A period is named by
 * a short id (KEYRING_PERIOD_ID_MAX characters of [0-9A-Za-z-], such as
 * "2026-Q4"); which period an entry belongs to is the retention policy's
 * business, not the keyring's.  Destroying a period overwrites its secret
 * file, syncs it, removes it and syncs the directory; after that no one can
 * make or link its tokens or open its sealed values, and the period can
 * never be created again.
 *
 * Thread safety: keyring_run() may be called from any thread; calls are
 * serialised inside.
 */
#ifndef LEDGERD_KEYRING_H
#define LEDGERD_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/entry.h"
#include "ledger/note.h"

#define KEYRING_PERIOD_ID_MAX 16
#define KEYRING_SIG_LEN 64		/* an Ed25519 signature */
#define KEYRING_SEAL_OVERHEAD 28	/* 12-byte nonce + 16-byte GCM tag */
#define KEYRING_VALUE_MAX 65536		/* the largest value sealed at once */
#define KEYRING_OPS_MAX 4096		/* operations in one keyring_run() */

struct keyring;

enum keyring_op_kind {
	/* Ed25519 signature of msg by the log's key (a checkpoint's text). */
	KEYRING_SIGN = 1,
	/*
	 * The subject token of id under period's token key.  With create set
	 * (the writer, for the period of a new entry) a missing period secret
	 * is made; without it (queries) a missing period is KEYRING_ENOPERIOD.
	 * A destroyed period is always KEYRING_EDESTROYED.
	 */
	KEYRING_TOKEN = 2,
	/* AES-256-GCM of msg under period's sealing key (create as above). */
	KEYRING_SEAL = 3,
	/* The value sealed by KEYRING_SEAL; KEYRING_EDESTROYED once destroyed. */
	KEYRING_OPEN = 4,
};

/* Per-operation results beyond the LEDGER_E* codes. */
enum {
	KEYRING_ENOPERIOD = -100,	/* no secret for this period, never made */
	KEYRING_EDESTROYED = -101,	/* the period's secret was destroyed */
	KEYRING_EUNAVAILABLE = -102,	/* the key keeper is gone (the whole
					   run fails with this) */
};

/*
 * One operation of a batch.  The caller fills the in part; keyring_run()
 * fills the out part.  out is malloc'ed (free it) for SEAL and OPEN.
 */
struct keyring_op {
	/* in */
	enum keyring_op_kind kind;
	int create;				/* TOKEN, SEAL: make the period */
	char period[KEYRING_PERIOD_ID_MAX + 1];	/* TOKEN, SEAL, OPEN */
	const void *msg;			/* SIGN: message; TOKEN: id;
						   SEAL: value; OPEN: sealed */
	size_t msg_len;

	/* out */
	int rc;					/* LEDGER_OK or an error above */
	uint8_t sig[KEYRING_SIG_LEN];		/* SIGN */
	char token[LEDGER_SUBJECT_TOKEN_LEN + 1];	/* TOKEN, NUL-ended */
	uint8_t *out;				/* SEAL: nonce || ct || tag;
						   OPEN: the value */
	size_t out_len;
};

/*
 * keyring_run - carries out n operations (at most KEYRING_OPS_MAX) in one
 * exchange.  Returns LEDGER_OK when every operation was attempted (each
 * has its own rc), KEYRING_EUNAVAILABLE when the keeper cannot be reached
 * (no operation was carried out; nothing is retried), or LEDGER_EINVAL.
 * Behind the key keeper also LEDGER_ETOOBIG, when the messages of the batch
 * exceed what one exchange carries (KEEPER_FRAME_MAX, 16 MiB; nothing was
 * carried out).
 */
int keyring_run(struct keyring *kr, struct keyring_op *ops, size_t n);

/*
 * keyring_run_all - keyring_run() over any number of operations, in as few
 * exchanges as KEYRING_OPS_MAX and the size of one exchange allow: one for
 * a commit's tokens and sealed values, unless they are very many.  Stops
 * at the first exchange that fails and returns as keyring_run() (the ops
 * after it are left as they were).
 */
int keyring_run_all(struct keyring *kr, struct keyring_op *ops, size_t n);

/*
 * keyring_exchanges - how many keyring_run() exchanges kr has made since
 * it was opened (for /metrics; a commit makes two).  No lock, no round
 * trip.
 */
uint64_t keyring_exchanges(struct keyring *kr);

/* keyring_op_release - frees what keyring_run() allocated in ops[0..n). */
void keyring_op_release(struct keyring_op *ops, size_t n);

/* The log's public key: known to the caller, no round trip. */
const struct ledger_verifier *keyring_verifier(const struct keyring *kr);
const char *keyring_verifier_text(const struct keyring *kr);

/*
 * keyring_periods - the ids of the periods whose secrets exist now, sorted,
 * and of those destroyed (also sorted).  Arrays of malloc'ed strings; free
 * with keyring_periods_free().
 */
struct keyring_periods {
	char **live;
	size_t n_live;
	char **destroyed;
	size_t n_destroyed;
};
int keyring_periods(struct keyring *kr, struct keyring_periods *out);
void keyring_periods_free(struct keyring_periods *p);

/*
 * keyring_destroy - destroys the secret of period (overwritten, synced,
 * removed, directory synced) and remembers that it was destroyed.  Returns
 * LEDGER_OK, LEDGER_OK also when it was destroyed before (idempotent, so a
 * destruction interrupted after this step can be completed), or an error.
 */
int keyring_destroy(struct keyring *kr, const char *period);

/*
 * keyring_strerror - a sentence for rc: one of the KEYRING_E codes above or
 * a LEDGER_E code (ledger_strerror).  Static; never NULL.
 */
const char *keyring_strerror(int rc);

/* keyring_period_id_valid - 1 when s is a well-formed period id. */
int keyring_period_id_valid(const char *s);

#endif
