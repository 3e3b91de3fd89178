/*
 * Entry bytes written straight from the event (spec §2.4): the members of
 * the entry object are gathered by reference (the event's own values, the
 * server's fields, the subject tokens, the sealed commitments), put in
 * Jansson's key order and written once.  Nothing is copied into a new
 * object, so the writer thread pays for no hash table, no allocation per
 * member and no second walk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/base64.h"
#include "ledger/entry_write.h"
#include "ledger/error.h"
#include "ledger/jsoncanon.h"
#include "ledger/xmalloc.h"

#define FIRST_TRY 4096		/* bytes: room for the usual entry */
#define MEMBERS_ON_STACK 32	/* an event has at most 11 members */

enum member_kind {
	MEMBER_VALUE,		/* a value of the event */
	MEMBER_INT,
	MEMBER_STRING,		/* NUL-terminated */
	MEMBER_TOKENS,
	MEMBER_SEALED,
};

struct member {
	const char *name;
	size_t name_len;
	enum member_kind kind;
	const json_t *value;
	uint64_t number;
	const char *string;
};

struct sealed_member {
	const char *field;
	char commitment[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
};

/* Bytes written so far; past cap only counted, like json_dumpb. */
struct sink {
	char *buf;
	size_t cap;
	size_t len;
	int failed;
};

static const char *const server_fields[] = {
	"v", "seq", "received_at", "submitter", "prev", "salt",
};

static void
put(struct sink *s, const void *p, size_t n)
{
	if (s->len < s->cap)
		memcpy(s->buf + s->len, p, s->cap - s->len < n ? s->cap - s->len : n);
	s->len += n;
}

static void
put_char(struct sink *s, char c)
{
	put(s, &c, 1);
}

static void
put_value(struct sink *s, const json_t *v)
{
	size_t room = s->len < s->cap ? s->cap - s->len : 0;
	size_t n = ledger_canon_dump_member(v, room ? s->buf + s->len : NULL,
	    room);

	if (n == 0)
		s->failed = 1;
	s->len += n;
}

static void
put_string(struct sink *s, const char *str, size_t len)
{
	size_t room = s->len < s->cap ? s->cap - s->len : 0;
	size_t n = ledger_canon_dump_string(str, len,
	    room ? s->buf + s->len : NULL, room);

	if (n == 0)
		s->failed = 1;
	s->len += n;
}

static void
put_u64(struct sink *s, uint64_t v)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(s, digits + i, sizeof(digits) - i);
}

/* Jansson 2.14's key order: bytes, then the shorter first. */
static int
cmp_names(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static void
sort_members(struct member *m, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct member x = m[i];
		size_t j = i;

		while (j > 0 && cmp_names(m[j - 1].name, m[j - 1].name_len,
		    x.name, x.name_len) > 0) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

static void
sort_sealed(struct sealed_member *m, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct sealed_member x = m[i];
		size_t j = i;

		while (j > 0 && strcmp(m[j - 1].field, x.field) > 0) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

/* Whether fields[i] is also one of fields[0..i). */
static int
named_before(const char *const *fields, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(fields[j], fields[i]) == 0)
			return 1;
	return 0;
}

/*
 * The commitments of the sealed fields event holds, checking each
 * plaintext against the value it seals: ledger_entry_seal_plain's rules.
 */
static int
commit_sealed(const json_t *event, const struct ledger_entry_sealing *sealing,
    struct sealed_member sealed[LEDGER_SEALED_FIELDS_MAX], size_t *n_sealed)
{
	uint8_t digest[LEDGER_HASH_LEN];
	char first[FIRST_TRY], *bytes;
	const struct ledger_sealed_plain *p;
	const json_t *value;
	size_t i, k = 0, n;
	int rc;

	*n_sealed = 0;
	if (json_object_get(event, "sealed") != NULL ||
	    sealing->n_fields > LEDGER_SEALED_FIELDS_MAX)
		return LEDGER_EINVAL;
	for (i = 0; i < sealing->n_fields; i++) {
		if (!ledger_sealable_field(sealing->fields[i]))
			return LEDGER_EINVAL;
		/* A field named twice was taken out the first time. */
		if (named_before(sealing->fields, i) ||
		    (value = json_object_get(event, sealing->fields[i])) == NULL)
			continue;
		if (k == sealing->n_plain)
			return LEDGER_EINVAL;
		p = &sealing->plain[k];
		if (strcmp(p->field, sealing->fields[i]) != 0)
			return LEDGER_EINVAL;
		if ((n = ledger_canon_dump(value, first, sizeof(first))) == 0)
			return LEDGER_EINVAL;
		bytes = n <= sizeof(first) ? first : xmalloc(n);
		if (bytes != first && ledger_canon_dump(value, bytes, n) != n)
			rc = LEDGER_EINVAL;
		else if (p->plain_len != LEDGER_SEAL_SALT_LEN + n ||
		    memcmp(p->plain + LEDGER_SEAL_SALT_LEN, bytes, n) != 0)
			rc = LEDGER_EINVAL;	/* not the value of this event */
		else
			rc = ledger_sealed_commitment(p->field, p->plain, bytes,
			    n, digest);
		/* Sealed values leave no copy behind, on the stack either. */
		OPENSSL_cleanse(first, n < sizeof(first) ? n : sizeof(first));
		if (bytes != first) {
			OPENSSL_cleanse(bytes, n);
			free(bytes);
		}
		if (rc != 0)
			return rc;
		sealed[k].field = sealing->fields[i];
		ledger_b64_encode(digest, sizeof(digest), sealed[k].commitment);
		k++;
	}
	if (k != sealing->n_plain)
		return LEDGER_EINVAL;	/* a value the event does not hold */
	*n_sealed = k;
	return LEDGER_OK;
}

static void
write_member(struct sink *s, const struct member *m, const char *const *tokens,
    size_t n_tokens, const struct sealed_member *sealed, size_t n_sealed)
{
	size_t i;

	put_string(s, m->name, m->name_len);
	put_char(s, ':');
	switch (m->kind) {
	case MEMBER_VALUE:
		put_value(s, m->value);
		break;
	case MEMBER_INT:
		put_u64(s, m->number);
		break;
	case MEMBER_STRING:
		put_string(s, m->string, strlen(m->string));
		break;
	case MEMBER_TOKENS:
		put_char(s, '[');
		for (i = 0; i < n_tokens; i++) {
			if (i > 0)
				put_char(s, ',');
			put_string(s, tokens[i], strlen(tokens[i]));
		}
		put_char(s, ']');
		break;
	case MEMBER_SEALED:
		put_char(s, '{');
		for (i = 0; i < n_sealed; i++) {
			if (i > 0)
				put_char(s, ',');
			put_string(s, sealed[i].field, strlen(sealed[i].field));
			put_char(s, ':');
			put_string(s, sealed[i].commitment,
			    strlen(sealed[i].commitment));
		}
		put_char(s, '}');
		break;
	}
}

static void
write_entry(struct sink *s, const struct member *m, size_t n,
    const char *const *tokens, size_t n_tokens,
    const struct sealed_member *sealed, size_t n_sealed)
{
	put_char(s, '{');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put_char(s, ',');
		write_member(s, &m[i], tokens, n_tokens, sealed, n_sealed);
	}
	put_char(s, '}');
}

/* The checks of ledger_entry_build_tokens, in its order. */
static int
check_input(const json_t *event, const struct ledger_entry_meta *meta,
    const char *const *tokens, size_t n_tokens)
{
	const json_t *subjects, *s, *value;
	const char *name;
	size_t i, name_len;

	if (tokens == NULL && n_tokens > 0)
		return LEDGER_EINVAL;
	if (!json_is_object(event) || meta->submitter == NULL ||
	    meta->seq > (uint64_t)INT64_MAX ||
	    strlen(meta->received_at) != LEDGER_TIME_LEN ||
	    ledger_time_parse_rfc3339(meta->received_at, NULL) != 0)
		return LEDGER_EINVAL;
	for (i = 0; i < sizeof(server_fields) / sizeof(server_fields[0]); i++)
		if (json_object_get(event, server_fields[i]) != NULL)
			return LEDGER_EINVAL;
	/*
	 * A name holding a NUL cannot come from the parser: refused, where
	 * the reference would cut it short at the NUL (json_copy does).
	 */
	json_object_keylen_foreach((json_t *)event, name, name_len, value)
		if (strlen(name) != name_len)
			return LEDGER_EINVAL;
	if ((subjects = json_object_get(event, "subjects")) == NULL)
		return LEDGER_OK;
	if (!json_is_array(subjects) || json_array_size(subjects) != n_tokens)
		return LEDGER_EINVAL;
	json_array_foreach(subjects, i, s)
		if (!json_is_string(s) ||
		    !ledger_subject_token_valid(tokens[i], strlen(tokens[i])))
			return LEDGER_EINVAL;
	return LEDGER_OK;
}

/*
 * The event's members into m (room for all), but for those the entry holds
 * otherwise: the sealed ones leave it, the subjects become tokens.
 * Returns how many.
 */
static size_t
event_members(const json_t *event, const struct sealed_member *sealed,
    size_t n_sealed, struct member *m)
{
	const char *name;
	const json_t *value;
	size_t n = 0, name_len, i;

	json_object_keylen_foreach((json_t *)event, name, name_len, value) {
		for (i = 0; i < n_sealed; i++)
			if (name_len == strlen(sealed[i].field) &&
			    memcmp(name, sealed[i].field, name_len) == 0)
				break;
		if (i < n_sealed)
			continue;
		m[n].name = name;
		m[n].name_len = name_len;
		if (name_len == 8 && memcmp(name, "subjects", 8) == 0)
			m[n].kind = MEMBER_TOKENS;
		else {
			m[n].kind = MEMBER_VALUE;
			m[n].value = value;
		}
		n++;
	}
	return n;
}

static void
server_member(struct member *m, const char *name, enum member_kind kind,
    uint64_t number, const char *string)
{
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->name_len = strlen(name);
	m->kind = kind;
	m->number = number;
	m->string = string;
}

int
ledger_entry_write(const json_t *event, const struct ledger_entry_meta *meta,
    const char *const *tokens, size_t n_tokens,
    const struct ledger_entry_sealing *sealing, char **out, size_t *len)
{
	struct member stack[MEMBERS_ON_STACK], *m = stack;
	struct sealed_member sealed[LEDGER_SEALED_FIELDS_MAX];
	char prev[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	char salt[LEDGER_B64_LEN(LEDGER_SALT_LEN) + 1];
	char first[FIRST_TRY];
	struct sink s;
	size_t n, cap = MEMBERS_ON_STACK, n_sealed = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = check_input(event, meta, tokens, n_tokens)) != 0)
		return rc;
	if (sealing != NULL &&
	    (rc = commit_sealed(event, sealing, sealed, &n_sealed)) != 0)
		return rc;
	sort_sealed(sealed, n_sealed);

	/* Room for the event's members and the server's seven. */
	if (json_object_size(event) + 8 > cap) {
		cap = json_object_size(event) + 8;
		m = xcalloc(cap, sizeof(*m));
	}
	n = event_members(event, sealed, n_sealed, m);
	ledger_b64_encode(meta->prev, LEDGER_HASH_LEN, prev);
	ledger_b64_encode(meta->salt, LEDGER_SALT_LEN, salt);
	server_member(&m[n++], "v", MEMBER_INT, sealing != NULL ?
	    LEDGER_ENTRY_VERSION_SEALED : LEDGER_ENTRY_VERSION, NULL);
	server_member(&m[n++], "seq", MEMBER_INT, meta->seq, NULL);
	server_member(&m[n++], "received_at", MEMBER_STRING, 0,
	    meta->received_at);
	server_member(&m[n++], "submitter", MEMBER_STRING, 0, meta->submitter);
	server_member(&m[n++], "prev", MEMBER_STRING, 0, prev);
	server_member(&m[n++], "salt", MEMBER_STRING, 0, salt);
	if (n_sealed > 0)
		server_member(&m[n++], "sealed", MEMBER_SEALED, 0, NULL);
	sort_members(m, n);

	/*
	 * Most entries fit the stack buffer; a bigger one is written again
	 * at its exact size, an oversized one refused without that.
	 */
	memset(&s, 0, sizeof(s));
	s.buf = first;
	s.cap = sizeof(first);
	write_entry(&s, m, n, tokens, n_tokens, sealed, n_sealed);
	if (s.failed) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	if (s.len > LEDGER_ENTRY_MAX) {
		rc = LEDGER_ETOOBIG;
		goto out;
	}
	*len = s.len;
	*out = xmalloc(s.len);
	if (s.len <= sizeof(first))
		memcpy(*out, first, s.len);
	else {
		s.buf = *out;
		s.cap = *len;
		s.len = 0;
		write_entry(&s, m, n, tokens, n_tokens, sealed, n_sealed);
		if (s.failed || s.len != *len) {
			free(*out);
			*out = NULL;
			*len = 0;
			rc = LEDGER_EINVAL;
			goto out;
		}
	}
	rc = LEDGER_OK;
out:
	if (m != stack)
		free(m);
	return rc;
}
