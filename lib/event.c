/*
 * Validation of the events applications post (spec §2.2).  A refusal names
 * the JSON path of the first offending field and a stable code, so that a
 * partner application can show its user exactly what to fix.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsoncanon.h"

#define IDEMPOTENCY_KEY_MAX 128
#define OCCURRED_AT_MAX 64		/* longer than any RFC 3339 date-time */
#define SHA256_PREFIX "sha256:"

/* The only top-level fields an event may carry, in the order they are checked. */
static const char *const event_fields[] = {
	"type", "actor", "subjects", "recipients", "object", "purpose",
	"legal_basis", "occurred_at", "refs", "details", "idempotency_key",
};

enum event_type {
	TYPE_SHARE, TYPE_QUERY, TYPE_ADVICE, TYPE_AUDIT, TYPE_EXPORT,
	TYPE_POLICY,		/* a retention policy in force (spec §2.11) */
	TYPE_DESTRUCTION	/* the record of a destruction (spec §2.12) */
};

/*
 * Drops a multi-byte UTF-8 sequence cut short at the end of s, so that a
 * truncated field name or message can still go into a JSON error reply.
 */
static void
utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return;
	/* s[i - 1] leads a sequence; it needs `need` continuation bytes */
	need = ((unsigned char)s[i - 1] & 0xe0) == 0xc0 ? 1 :
	    ((unsigned char)s[i - 1] & 0xf0) == 0xe0 ? 2 : 3;
	if (len - i < need)
		s[i - 1] = '\0';
}

static int
refuse(struct ledger_field_error *err, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
refuse(struct ledger_field_error *err, const char *code, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return LEDGER_EINVAL;
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->field, sizeof(err->field), "%s", field);
	utf8_trim(err->field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	utf8_trim(err->message);
	return LEDGER_EINVAL;
}

/* "name[i]" into buf, the path of an array element. */
static const char *
element_path(char *buf, size_t size, const char *name, size_t i)
{
	snprintf(buf, size, "%s[%zu]", name, i);
	return buf;
}

/*
 * C0 controls, DEL and C1 controls (U+0080..U+009F, encoded C2 80..C2 9F).
 * NUL counts, so a string with an embedded NUL is refused too.
 */
static int
has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 1;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f)
			return 1;
	}
	return 0;
}

/*
 * A string field: a JSON string of 1..max bytes without control characters.
 * Valid UTF-8 is Jansson's guarantee for every string it parsed.
 */
static int
check_string(const json_t *v, const char *field, size_t max,
    struct ledger_field_error *err)
{
	size_t len;

	if (!json_is_string(v))
		return refuse(err, "wrong_type", field, "%s must be a string", field);
	len = json_string_length(v);
	if (len > max)
		return refuse(err, "too_large", field,
		    "%s is longer than %zu bytes", field, max);
	if (len == 0)
		return refuse(err, "invalid_value", field, "%s must not be empty", field);
	if (has_control(json_string_value(v), len))
		return refuse(err, "invalid_value", field,
		    "%s must not contain control characters", field);
	return LEDGER_OK;
}

int
ledger_org_id_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > LEDGER_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))
			return 0;
	return 1;
}

/*
 * An org id: [a-z0-9-]{1,32} always, and one of rules->orgs when there is a
 * list.  A malformed id is invalid_value; a well-formed but unregistered one
 * is unknown_org.
 */
static int
check_org(const json_t *v, const char *field, const struct ledger_event_rules *rules,
    struct ledger_field_error *err)
{
	const char *s;
	size_t len, i;

	if (!json_is_string(v))
		return refuse(err, "wrong_type", field, "%s must be a string", field);
	s = json_string_value(v);
	len = json_string_length(v);
	if (!ledger_org_id_valid(s, len))
		goto malformed;
	if (rules->orgs == NULL)
		return LEDGER_OK;
	for (i = 0; i < rules->n_orgs; i++)
		if (strcmp(rules->orgs[i], s) == 0)
			return LEDGER_OK;
	return refuse(err, "unknown_org", field, "%s: \"%s\" is not a registered org",
	    field, s);
malformed:
	return refuse(err, "invalid_value", field,
	    "%s must be an org id of 1 to %d characters a-z, 0-9 and -",
	    field, LEDGER_ID_MAX);
}

/* Refuses an object member not in `allowed`, naming it as parent.key. */
static int
check_members(const json_t *obj, const char *parent, const char *const *allowed,
    size_t n_allowed, struct ledger_field_error *err)
{
	char path[sizeof(err->field)];
	const char *key;
	void *it;
	size_t i;

	/* Jansson's iterator takes a mutable object; it is only read here. */
	for (it = json_object_iter((json_t *)obj); it != NULL;
	    it = json_object_iter_next((json_t *)obj, it)) {
		key = json_object_iter_key(it);
		for (i = 0; i < n_allowed; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i < n_allowed)
			continue;
		if (parent == NULL)
			snprintf(path, sizeof(path), "%s", key);
		else
			snprintf(path, sizeof(path), "%s.%s", parent, key);
		/* From key, not path: a cut path may end inside a character. */
		return refuse(err, "unknown_field", path, "unknown field \"%s%s%s\"",
		    parent != NULL ? parent : "", parent != NULL ? "." : "", key);
	}
	return LEDGER_OK;
}

static int
check_type(const json_t *v, const struct ledger_event_rules *rules,
    enum event_type *type, struct ledger_field_error *err)
{
	const char *s;

	if (v == NULL)
		return refuse(err, "missing_field", "type", "type is required");
	if (!json_is_string(v))
		return refuse(err, "wrong_type", "type", "type must be a string");
	s = json_string_value(v);
	if (strcmp(s, "share") == 0)
		*type = TYPE_SHARE;
	else if (strcmp(s, "query") == 0)
		*type = TYPE_QUERY;
	else if (strcmp(s, "advice") == 0)
		*type = TYPE_ADVICE;
	else if (rules->server_types && strcmp(s, "audit") == 0)
		*type = TYPE_AUDIT;
	else if (rules->server_types && strcmp(s, "export") == 0)
		*type = TYPE_EXPORT;
	else if (rules->server_types && strcmp(s, "policy") == 0)
		*type = TYPE_POLICY;
	else if (rules->server_types && strcmp(s, "destruction") == 0)
		*type = TYPE_DESTRUCTION;
	else
		return refuse(err, "invalid_value", "type",
		    "type must be share, query or advice");
	/* strcmp stopped at an embedded NUL: "share\u0000x" is not "share" */
	if (strlen(s) != json_string_length(v))
		return refuse(err, "invalid_value", "type",
		    "type must be share, query or advice");
	return LEDGER_OK;
}

static int
check_actor(const json_t *v, const struct ledger_event_rules *rules,
    struct ledger_field_error *err)
{
	static const char *const members[] = { "org", "user", "role" };
	const json_t *m;
	int rc;

	if (v == NULL)
		return refuse(err, "missing_field", "actor", "actor is required");
	if (!json_is_object(v))
		return refuse(err, "wrong_type", "actor", "actor must be an object");
	if ((rc = check_members(v, "actor", members, 3, err)) != 0)
		return rc;
	if ((m = json_object_get(v, "org")) == NULL)
		return refuse(err, "missing_field", "actor.org", "actor.org is required");
	if ((rc = check_org(m, "actor.org", rules, err)) != 0)
		return rc;
	if ((m = json_object_get(v, "user")) == NULL)
		return refuse(err, "missing_field", "actor.user", "actor.user is required");
	if ((rc = check_string(m, "actor.user", LEDGER_STRING_MAX, err)) != 0)
		return rc;
	if ((m = json_object_get(v, "role")) != NULL &&
	    (rc = check_string(m, "actor.role", LEDGER_STRING_MAX, err)) != 0)
		return rc;
	return LEDGER_OK;
}

/* Array of at most max elements; the elements are the caller's to check. */
static int
check_array(const json_t *v, const char *field, size_t max,
    struct ledger_field_error *err)
{
	if (!json_is_array(v))
		return refuse(err, "wrong_type", field, "%s must be an array", field);
	if (json_array_size(v) > max)
		return refuse(err, "too_large", field,
		    "%s has more than %zu elements", field, max);
	return LEDGER_OK;
}

/* Whether element i of an array of strings repeats an earlier one. */
static int
repeats_string(const json_t *array, size_t i)
{
	const json_t *a = json_array_get(array, i), *b;
	size_t j;

	for (j = 0; j < i; j++) {
		b = json_array_get(array, j);
		if (json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0)
			return 1;
	}
	return 0;
}

static int
check_subjects(const json_t *v, struct ledger_field_error *err)
{
	char path[64];
	size_t i;
	int rc;

	if ((rc = check_array(v, "subjects", LEDGER_SUBJECTS_MAX, err)) != 0)
		return rc;
	for (i = 0; i < json_array_size(v); i++) {
		element_path(path, sizeof(path), "subjects", i);
		if ((rc = check_string(json_array_get(v, i), path, LEDGER_STRING_MAX,
		    err)) != 0)
			return rc;
		if (repeats_string(v, i))
			return refuse(err, "invalid_value", path,
			    "%s repeats an earlier subject", path);
	}
	return LEDGER_OK;
}

static int
check_recipients(const json_t *v, enum event_type type,
    const struct ledger_event_rules *rules, struct ledger_field_error *err)
{
	int required = type == TYPE_SHARE || type == TYPE_ADVICE;
	char path[64];
	size_t i;
	int rc;

	if (v == NULL) {
		if (required)
			return refuse(err, "missing_field", "recipients",
			    "recipients is required for share and advice");
		return LEDGER_OK;
	}
	if ((rc = check_array(v, "recipients", LEDGER_RECIPIENTS_MAX, err)) != 0)
		return rc;
	if (required && json_array_size(v) == 0)
		return refuse(err, "invalid_value", "recipients",
		    "recipients must not be empty for share and advice");
	for (i = 0; i < json_array_size(v); i++) {
		element_path(path, sizeof(path), "recipients", i);
		if ((rc = check_org(json_array_get(v, i), path, rules, err)) != 0)
			return rc;
		if (repeats_string(v, i))
			return refuse(err, "invalid_value", path,
			    "%s repeats an earlier recipient", path);
	}
	return LEDGER_OK;
}

static int
check_digest(const json_t *v, struct ledger_field_error *err)
{
	const size_t plen = sizeof(SHA256_PREFIX) - 1;
	const char *s;
	size_t i;

	if (!json_is_string(v))
		return refuse(err, "wrong_type", "object.digest",
		    "object.digest must be a string");
	s = json_string_value(v);
	if (json_string_length(v) != plen + 2 * LEDGER_HASH_LEN ||
	    memcmp(s, SHA256_PREFIX, plen) != 0)
		goto bad;
	for (i = plen; i < plen + 2 * LEDGER_HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			goto bad;
	return LEDGER_OK;
bad:
	return refuse(err, "invalid_value", "object.digest",
	    "object.digest must be \"sha256:\" and 64 lowercase hex digits");
}

static int
check_object(const json_t *v, enum event_type type, struct ledger_field_error *err)
{
	static const char *const members[] = { "ref", "digest" };
	const json_t *m;
	int rc;

	if (v == NULL) {
		/* Only the server's own entries may be about no item. */
		if (type >= TYPE_AUDIT)
			return LEDGER_OK;
		return refuse(err, "missing_field", "object", "object is required");
	}
	if (!json_is_object(v))
		return refuse(err, "wrong_type", "object", "object must be an object");
	if ((rc = check_members(v, "object", members, 2, err)) != 0)
		return rc;
	if ((m = json_object_get(v, "ref")) == NULL)
		return refuse(err, "missing_field", "object.ref", "object.ref is required");
	if ((rc = check_string(m, "object.ref", LEDGER_STRING_MAX, err)) != 0)
		return rc;
	if ((m = json_object_get(v, "digest")) != NULL &&
	    (rc = check_digest(m, err)) != 0)
		return rc;
	return LEDGER_OK;
}

static int
check_occurred_at(const json_t *v, struct ledger_field_error *err)
{
	int rc;

	if (v == NULL)
		return refuse(err, "missing_field", "occurred_at", "occurred_at is required");
	if ((rc = check_string(v, "occurred_at", OCCURRED_AT_MAX, err)) != 0)
		return rc;
	if (ledger_time_parse_rfc3339(json_string_value(v), NULL) != 0)
		return refuse(err, "invalid_value", "occurred_at",
		    "occurred_at must be an RFC 3339 date-time");
	return LEDGER_OK;
}

static int
check_refs(const json_t *v, struct ledger_field_error *err)
{
	char path[64];
	size_t i, j;
	int rc;

	if ((rc = check_array(v, "refs", LEDGER_REFS_MAX, err)) != 0)
		return rc;
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *r = json_array_get(v, i);

		element_path(path, sizeof(path), "refs", i);
		if (!json_is_integer(r))
			return refuse(err, "wrong_type", path, "%s must be an integer", path);
		if (json_integer_value(r) < 0)
			return refuse(err, "invalid_value", path,
			    "%s must be a sequence number (0 or more)", path);
		for (j = 0; j < i; j++)
			if (json_integer_value(json_array_get(v, j)) ==
			    json_integer_value(r))
				return refuse(err, "invalid_value", path,
				    "%s repeats an earlier ref", path);
	}
	return LEDGER_OK;
}

static int
check_details(const json_t *v, struct ledger_field_error *err)
{
	size_t len;

	if (!json_is_object(v))
		return refuse(err, "wrong_type", "details", "details must be an object");
	/* Measured as it will be stored: its canonical text, no buffer. */
	len = ledger_canon_dump(v, NULL, 0);
	if (len == 0)
		return refuse(err, "invalid_value", "details",
		    "details cannot be serialised");
	if (len > LEDGER_DETAILS_MAX)
		return refuse(err, "too_large", "details",
		    "details is longer than %d bytes serialised", LEDGER_DETAILS_MAX);
	return LEDGER_OK;
}

static int
check_idempotency_key(const json_t *v, struct ledger_field_error *err)
{
	const char *s;
	size_t len, i;

	if (!json_is_string(v))
		return refuse(err, "wrong_type", "idempotency_key",
		    "idempotency_key must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > IDEMPOTENCY_KEY_MAX)
		return refuse(err, "too_large", "idempotency_key",
		    "idempotency_key is longer than %d bytes", IDEMPOTENCY_KEY_MAX);
	if (len == 0)
		return refuse(err, "invalid_value", "idempotency_key",
		    "idempotency_key must not be empty");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return refuse(err, "invalid_value", "idempotency_key",
			    "idempotency_key must be printable ASCII");
	return LEDGER_OK;
}

int
ledger_event_validate(const json_t *event, const struct ledger_event_rules *rules,
    struct ledger_field_error *err)
{
	const size_t n_fields = sizeof(event_fields) / sizeof(event_fields[0]);
	enum event_type type = TYPE_SHARE;	/* set by check_type */
	const json_t *v;
	int rc;

	if (!json_is_object(event))
		return refuse(err, "wrong_type", "", "an event must be a JSON object");
	if ((rc = check_members(event, NULL, event_fields, n_fields, err)) != 0)
		return rc;
	if ((rc = check_type(json_object_get(event, "type"), rules, &type, err)) != 0)
		return rc;
	if ((rc = check_actor(json_object_get(event, "actor"), rules, err)) != 0)
		return rc;
	if ((v = json_object_get(event, "subjects")) != NULL &&
	    (rc = check_subjects(v, err)) != 0)
		return rc;
	if ((rc = check_recipients(json_object_get(event, "recipients"), type, rules,
	    err)) != 0)
		return rc;
	if ((rc = check_object(json_object_get(event, "object"), type, err)) != 0)
		return rc;
	if ((v = json_object_get(event, "purpose")) == NULL) {
		if (type == TYPE_SHARE || type == TYPE_QUERY)
			return refuse(err, "missing_field", "purpose",
			    "purpose is required for share and query");
	} else if ((rc = check_string(v, "purpose", LEDGER_STRING_MAX, err)) != 0)
		return rc;
	if ((v = json_object_get(event, "legal_basis")) != NULL &&
	    (rc = check_string(v, "legal_basis", LEDGER_STRING_MAX, err)) != 0)
		return rc;
	if ((rc = check_occurred_at(json_object_get(event, "occurred_at"), err)) != 0)
		return rc;
	if ((v = json_object_get(event, "refs")) != NULL &&
	    (rc = check_refs(v, err)) != 0)
		return rc;
	if ((v = json_object_get(event, "details")) != NULL &&
	    (rc = check_details(v, err)) != 0)
		return rc;
	if ((v = json_object_get(event, "idempotency_key")) != NULL &&
	    (rc = check_idempotency_key(v, err)) != 0)
		return rc;
	return LEDGER_OK;
}
