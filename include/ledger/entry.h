/*
 * The event model (spec §2): validating an event posted by an application,
 * turning subject identifiers into subject tokens (§3), and producing the
 * entry bytes that become the Merkle leaf.
 */
#ifndef LEDGER_ENTRY_H
#define LEDGER_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/hash.h"

#define LEDGER_ENTRY_MAX 65535		/* tlog-tiles bundles use a uint16 length */
#define LEDGER_DETAILS_MAX 16384	/* serialised `details`, bytes */
#define LEDGER_SUBJECTS_MAX 64
#define LEDGER_RECIPIENTS_MAX 64
#define LEDGER_REFS_MAX 64
#define LEDGER_STRING_MAX 1024		/* any other string field, bytes */
#define LEDGER_ID_MAX 32		/* org ids: [a-z0-9-]{1,32} */
#define LEDGER_SUBJECT_KEY_LEN 32
#define LEDGER_SUBJECT_TOKEN_LEN 43	/* base64url of 32 bytes, unpadded */
#define LEDGER_TIME_LEN 27		/* 2026-01-02T03:04:05.123456Z */
#define LEDGER_SALT_LEN 16		/* bytes of an entry's salt */
#define LEDGER_ENTRY_VERSION 2		/* v of the entries written now: with
					   a salt; version 1 had none */

/*
 * Why an event was refused: the JSON path of the offending field ("actor.org",
 * "subjects[3]", or "" for the whole body), a stable machine-readable code and
 * a sentence for people.
 */
struct ledger_field_error {
	char field[128];
	char code[32];		/* missing_field, unknown_field, wrong_type,
				   invalid_value, too_large, unknown_org */
	char message[256];
};

/*
 * ledger_org_id_valid - whether the len bytes at s are an org id:
 * [a-z0-9-]{1,LEDGER_ID_MAX} (spec §2.2).  The one statement of the rule,
 * for events, the daemon's configuration and the client alike.
 * Returns 1 or 0.
 */
int ledger_org_id_valid(const char *s, size_t len);

/*
 * The rules an event is checked against.  orgs == NULL accepts any org id of
 * the form [a-z0-9-]{1,32} (development mode); otherwise org ids must be
 * listed.  server_types allows the types only the server writes (audit, export,
 * policy, destruction).
 */
struct ledger_event_rules {
	const char *const *orgs;
	size_t n_orgs;
	int server_types;
};

/*
 * ledger_event_validate - checks an event object against spec §2.2: only the
 * known top-level fields, each of the right type and within its bounds; type
 * share|query|advice; actor.org registered; recipients required for share and
 * advice; purpose required for share and query; occurred_at RFC 3339;
 * object.digest "sha256:<64 lowercase hex>"; details at most 16 KiB
 * serialised.  Whether refs exist is the caller's to check.
 * Required always: type, actor (org, user), occurred_at; object too, except
 * for the server types.  Optional fields, when present, are checked like
 * required ones (null is wrong_type).  Every string outside details is 1 to
 * LEDGER_STRING_MAX bytes (idempotency_key: 1 to 128 printable ASCII) with no
 * control character (C0, DEL, C1).  Org ids must match [a-z0-9-]{1,32}
 * (else invalid_value) and, when rules->orgs is set, be listed (else
 * unknown_org).  subjects, recipients and refs hold at most 64 elements, no
 * repeats.  The first problem found is reported, top-level fields in the
 * order of the table in spec §2.2 after any unknown field.
 *	event	in: borrowed, not modified
 *	rules	in: not NULL
 *	err	out (may be NULL): filled when the event is refused; field and
 *		message are valid UTF-8, truncated if need be
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_event_validate(const json_t *event, const struct ledger_event_rules *rules,
    struct ledger_field_error *err);

/*
 * ledger_subject_token - HMAC-SHA-256(key, id) in unpadded base64url.
 *	out	out: LEDGER_SUBJECT_TOKEN_LEN + 1 bytes, NUL-terminated
 * Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_subject_token(const uint8_t key[LEDGER_SUBJECT_KEY_LEN],
    const char *id, size_t id_len, char out[LEDGER_SUBJECT_TOKEN_LEN + 1]);

/*
 * The fields the server adds to an event to make an entry.  salt is secret
 * entropy (design, "The entry"; security.md): the public leaf hash of an
 * entry confirms no guess about its content to whoever does not hold the
 * entry.  The writer fills it with ledger_entry_salt_new.
 */
struct ledger_entry_meta {
	uint64_t seq;
	char received_at[LEDGER_TIME_LEN + 1];
	const char *submitter;
	uint8_t prev[LEDGER_HASH_LEN];	/* leaf hash of entry seq - 1, or zeros */
	uint8_t salt[LEDGER_SALT_LEN];	/* random, new for each entry */
};

/*
 * ledger_entry_salt_new - LEDGER_SALT_LEN bytes from OpenSSL's CSPRNG
 * (RAND_bytes, drawn a few KiB at a time into a per-thread pool that a
 * forked child does not inherit), for ledger_entry_meta.salt.
 *	salt	out: filled; zeroed on failure
 * Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_entry_salt_new(uint8_t salt[LEDGER_SALT_LEN]);

/*
 * ledger_entry_encode - the entry bytes of a validated event: a copy of the
 * event with each subject replaced by its token, plus v = 2, seq,
 * received_at, submitter, prev and salt (both standard base64 with padding),
 * serialised with JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII.
 *	event		in: borrowed, not modified (the copy is tokenized)
 *	meta		in: received_at in the ledger_time_format form
 *	subject_key	in: the ledger's subject key
 *	out, len	out: new buffer (free() it), not NUL-terminated; NULL
 *			and 0 on failure
 * Returns 0, LEDGER_ETOOBIG when the entry exceeds LEDGER_ENTRY_MAX,
 * LEDGER_ECRYPTO, LEDGER_EINVAL when event is not an object, already holds a
 * server field, has subjects that are not an array of strings, or meta is
 * malformed (seq above INT64_MAX, submitter NULL or not UTF-8).
 */
int ledger_entry_encode(const json_t *event, const struct ledger_entry_meta *meta,
    const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN], char **out, size_t *len);

/*
 * ledger_entry_build - the entry object ledger_entry_encode serialises, with
 * the same checks; ledger_entry_dump serialises it.  The writer keeps the
 * object to index: its subjects are already tokens.
 *	entry		out: new object (json_decref it) sharing the event's
 *			values; NULL on failure
 */
int ledger_entry_build(const json_t *event, const struct ledger_entry_meta *meta,
    const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN], json_t **entry);

/*
 * ledger_entry_build_tokens - ledger_entry_build with the subjects' tokens
 * made elsewhere (the daemon's keyring, under the entry's period): tokens[i]
 * replaces subjects[i].  Pure: no key is involved here.
 *	tokens		in: n_tokens NUL-terminated tokens, each a valid
 *			subject token; borrowed
 *	n_tokens	in: the number of subjects of event (0 without)
 *	entry		out: as for ledger_entry_build
 * Returns what ledger_entry_build does; LEDGER_EINVAL also when n_tokens is
 * not the number of subjects or a token is malformed.
 */
int ledger_entry_build_tokens(const json_t *event,
    const struct ledger_entry_meta *meta, const char *const *tokens,
    size_t n_tokens, json_t **entry);

/*
 * ledger_entry_dump - the bytes of an entry object (out, len as for
 * ledger_entry_encode).  Returns 0, LEDGER_ETOOBIG, or LEDGER_EINVAL when a
 * string is not UTF-8.
 */
int ledger_entry_dump(const json_t *entry, char **out, size_t *len);

/*
 * ledger_entry_parse - reads entry bytes as every reader must, the daemon's
 * checks and the client's verification alike.  The bytes must be a JSON
 * object without duplicate keys that is exactly its own serialisation by
 * ledger_entry_dump (so escapes, key order, white space and number forms
 * have one spelling); the server's fields must be well-formed (v 1 or 2,
 * seq a non-negative integer, received_at of the ledger_time_format form,
 * submitter a non-empty string, prev base64 of 32 bytes; with v 2 a salt,
 * base64 of LEDGER_SALT_LEN bytes, which v 1 entries, written before salts
 * existed, do not have; all canonical base64); subjects must be
 * subject tokens; and the rest must pass ledger_event_validate with any
 * org id and the server types allowed.
 *	bytes, len	in: the entry bytes, need not be NUL-terminated
 *	entry		out: the parsed object (json_decref it); NULL on failure
 *	err		out (may be NULL): what is wrong, as for events; code
 *			"not_canonical" when the bytes are not their own
 *			serialisation, "invalid_json" when they do not parse
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_entry_parse(const char *bytes, size_t len, json_t **entry,
    struct ledger_field_error *err);

/*
 * ledger_subject_token_valid - 1 when s is a subject token as
 * ledger_subject_token writes it (43 characters of unpadded base64url whose
 * 4 unused bits are 0), else 0.
 *	s, len	in: need not be NUL-terminated
 */
int ledger_subject_token_valid(const char *s, size_t len);

/* What ledger_entry_scan decides about entry bytes. */
enum ledger_scan_verdict {
	LEDGER_SCAN_CANONICAL,		/* exactly ledger_entry_dump's bytes for
					   the object they parse to */
	LEDGER_SCAN_NOT_CANONICAL,	/* not so: ledger_entry_parse refuses
					   them as invalid_json, not_canonical
					   or too_large */
	LEDGER_SCAN_UNDECIDED		/* a real number, a key with an escape,
					   or nesting deeper than
					   LEDGER_SCAN_DEPTH_MAX: ask
					   ledger_entry_parse */
};

#define LEDGER_SCAN_DEPTH_MAX 64	/* objects and arrays, the entry's own
					   included */

/* A string's characters between its quotes, escapes as written. */
struct ledger_span {
	const char *s;
	size_t len;
};

/* The top-level members of an entry, for ledger_entry_view's bits. */
#define LEDGER_VIEW_V		0x01
#define LEDGER_VIEW_SEQ		0x02
#define LEDGER_VIEW_RECEIVED_AT	0x04
#define LEDGER_VIEW_SUBMITTER	0x08
#define LEDGER_VIEW_PREV	0x10
#define LEDGER_VIEW_SALT	0x20
#define LEDGER_VIEW_SUBJECTS	0x40

/*
 * The top-level members a reader of the whole log needs, read off the entry
 * bytes without a JSON tree.  Its spans point into the scanned bytes and
 * stay valid as long as they do.  A member's bit is in present when the
 * entry has it, whatever its value; in typed when its value is of the type
 * below, and only then is its field set.
 */
struct ledger_entry_view {
	unsigned present;
	unsigned typed;
	int64_t v;			/* an integer */
	uint64_t seq;			/* an integer >= 0 */
	struct ledger_span received_at;	/* strings */
	struct ledger_span submitter;
	struct ledger_span prev;
	struct ledger_span salt;
	size_t n_subjects;		/* an array of at most
					   LEDGER_SUBJECTS_MAX strings */
	struct ledger_span subjects[LEDGER_SUBJECTS_MAX];
};

/*
 * ledger_entry_scan - decides in one pass, without allocating, whether
 * bytes are exactly ledger_entry_dump's serialisation of the object they
 * parse to with JSON_REJECT_DUPLICATES: the canonical step of
 * ledger_entry_parse (spec §2.4, rules 1 and 2), none of the field rules.
 * The grammar it accepts is that of Jansson 2.14's output: an object, no
 * white space, keys in strictly ascending byte order at every depth;
 * strings of the characters 0x20 to 0x7E and 0x7F as they are except '"'
 * and '\', written \" and \\; \b \f \n \r \t; other control characters
 * but NUL as \u00XX and every character above 0x7F as \uXXXX (a valid
 * surrogate pair outside the BMP), hex digits uppercase; integers
 * -?(0|[1-9][0-9]*) within int64, not -0; true, false, null; at most
 * LEDGER_ENTRY_MAX bytes.  tests/test_entry_scan.c and
 * tests/fuzz/fuzz_entry_scan.c hold its verdicts equal to the parse, dump
 * and comparison.
 *	bytes, len	in: need not be NUL-terminated
 *	view		out (may be NULL): filled when the verdict is
 *			LEDGER_SCAN_CANONICAL, its spans pointing into bytes;
 *			undefined otherwise
 * Returns the verdict; on LEDGER_SCAN_UNDECIDED the caller must use
 * ledger_entry_parse.
 */
enum ledger_scan_verdict ledger_entry_scan(const char *bytes, size_t len,
    struct ledger_entry_view *view);

/*
 * ledger_time_parse_rfc3339 - strict RFC 3339 date-time (with 'T', seconds,
 * optional fraction of up to 9 digits, 'Z' or ±hh:mm offset; valid calendar
 * date).  Only uppercase 'T' and 'Z' are accepted (RFC 3339 §5.6 also allows
 * 't', 'z').  Seconds are 00..59: a leap second (60) is refused.  Offsets
 * are 00:00..23:59; -00:00 is read as UTC.  Fraction digits past the sixth
 * are truncated.  Years 0000..9999 (proleptic Gregorian calendar).
 *	s	in: NUL-terminated; nothing may follow the date-time
 *	usec	out (may be NULL): microseconds since the Unix epoch, UTC
 * Returns 0 or LEDGER_EINVAL.
 */
int ledger_time_parse_rfc3339(const char *s, int64_t *usec);

/*
 * ledger_time_format - microseconds since the epoch as
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" (the received_at form).  Times before
 * 0000-01-01 or after 9999-12-31T23:59:59.999999Z are clamped to those.
 *	out	out: LEDGER_TIME_LEN characters and a NUL
 */
void ledger_time_format(int64_t usec, char out[LEDGER_TIME_LEN + 1]);

#endif
