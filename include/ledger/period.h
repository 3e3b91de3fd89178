/*
 * Retention periods: which period an entry belongs to (by its received_at),
 * and the keys a period's secret gives (spec §3.2).  Pure functions, shared
 * by the daemon's key keeper, the client and the tests.
 */
#ifndef LEDGER_PERIOD_H
#define LEDGER_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/entry.h"

#define LEDGER_PERIOD_ID_MAX 16		/* as KEYRING_PERIOD_ID_MAX */
#define LEDGER_PERIOD_SECRET_LEN 32	/* random bytes of a period secret */
#define LEDGER_PERIOD_LEGACY "legacy"	/* the period of a data directory's
					   subject.key, from before periods */

/* How long a period lasts: a calendar quarter unless configured. */
enum ledger_period_kind {
	LEDGER_PERIOD_QUARTER = 0,	/* "2026-Q4" */
	LEDGER_PERIOD_MONTH,		/* "2026-11" */
	LEDGER_PERIOD_YEAR,		/* "2026" */
	LEDGER_PERIOD_KIND_MAX
};

/*
 * ledger_period_name - the id of the period holding the time received_at
 * (an RFC 3339 UTC time as the writer makes it, "2026-11-30T23:00:00.000000Z";
 * only its year and month are read), under kind.
 *	out	out: LEDGER_PERIOD_ID_MAX + 1 bytes, NUL-terminated
 * Returns 0 or LEDGER_EINVAL (malformed time or kind).
 */
int ledger_period_name(const char *received_at, enum ledger_period_kind kind,
    char out[LEDGER_PERIOD_ID_MAX + 1]);

/*
 * ledger_period_kind_parse - "quarter", "month" or "year" to its kind.
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_period_kind_parse(const char *s, enum ledger_period_kind *out);

/*
 * ledger_period_token_key / ledger_period_seal_key - the period's subject
 * token key (the HMAC key of ledger_subject_token) and its AES-256-GCM
 * sealing key: HKDF-SHA-256 (RFC 5869) of the secret with no salt and the
 * info "ledgerd subject token key v1" or "ledgerd sealing key v1", so
 * holding one gives nothing of the other or of the secret.
 *	secret	in: LEDGER_PERIOD_SECRET_LEN bytes
 *	key	out: 32 bytes; zeroed on failure (the caller cleanses it)
 * Return 0 or LEDGER_ECRYPTO.
 */
int ledger_period_token_key(const uint8_t secret[LEDGER_PERIOD_SECRET_LEN],
    uint8_t key[LEDGER_SUBJECT_KEY_LEN]);
int ledger_period_seal_key(const uint8_t secret[LEDGER_PERIOD_SECRET_LEN],
    uint8_t key[32]);

#endif
