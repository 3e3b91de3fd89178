/*
 * C2SP tlog-policy: parsing a trust policy (logs, witnesses, groups, the
 * quorum) and checking a cosigned checkpoint against it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/number.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"

#define MAX_TOKENS 64		/* more items than this on one line: refused */

/*
 * A member of a group, or the quorum: a witness or an earlier group.
 * Groups only name what was defined before them, so evaluating the groups
 * in file order sees every member's value before it is needed.
 */
enum node_kind { NODE_NONE, NODE_WITNESS, NODE_GROUP };

struct node {
	enum node_kind kind;
	size_t index;
};

struct group {
	char *name;
	size_t k;
	size_t n;
	struct node *members;
};

struct ledger_policy {
	struct ledger_policy_log logs[LEDGER_POLICY_MAX_LOGS];
	size_t n_logs;
	struct ledger_policy_witness witnesses[LEDGER_POLICY_MAX_WITNESSES];
	size_t n_witnesses;
	struct group groups[LEDGER_POLICY_MAX_GROUPS];
	size_t n_groups;
	/* Whether each witness or group is already some group's member. */
	uint8_t witness_used[LEDGER_POLICY_MAX_WITNESSES];
	uint8_t group_used[LEDGER_POLICY_MAX_GROUPS];
	int have_quorum;
	struct node quorum;	/* NODE_NONE: `quorum none` */
};

struct parser {
	struct ledger_policy *p;
	size_t lineno;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct parser *ps, int rc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (ps->err != NULL && ps->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(ps->err, ps->errlen, "line %zu: %s", ps->lineno, msg);
	}
	return rc;
}

/* tlog-policy "Character set": tab, newline, 0x20-0x7e and 0x80-0xff. */
static int
byte_allowed(unsigned char c)
{
	return c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f);
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Finds a witness or group by name (one namespace). */
static int
lookup(const struct ledger_policy *p, const char *name, struct node *out)
{
	size_t i;

	for (i = 0; i < p->n_witnesses; i++)
		if (strcmp(p->witnesses[i].name, name) == 0) {
			out->kind = NODE_WITNESS;
			out->index = i;
			return 1;
		}
	for (i = 0; i < p->n_groups; i++)
		if (strcmp(p->groups[i].name, name) == 0) {
			out->kind = NODE_GROUP;
			out->index = i;
			return 1;
		}
	return 0;
}

static int
check_new_name(struct parser *ps, const char *name)
{
	struct node n;

	if (strlen(name) > LEDGER_POLICY_NAME_MAX)
		return fail(ps, LEDGER_ETOOBIG, "name longer than %d bytes",
		    LEDGER_POLICY_NAME_MAX);
	if (strcmp(name, "none") == 0)
		return fail(ps, LEDGER_EINVAL, "the name \"none\" is reserved");
	if (lookup(ps->p, name, &n))
		return fail(ps, LEDGER_EINVAL, "\"%s\" is already defined",
		    name);
	return LEDGER_OK;
}

static int
parse_key(struct parser *ps, const char *text, uint8_t type, const char *what,
    struct ledger_verifier *out)
{
	if (ledger_verifier_parse(text, out) != 0)
		return fail(ps, LEDGER_EINVAL, "malformed %s key", what);
	if (out->type != type)
		return fail(ps, LEDGER_EINVAL,
		    "a %s key must be of signature type 0x%02x", what, type);
	return LEDGER_OK;
}

static int
check_url(struct parser *ps, const char *url)
{
	if (strlen(url) > LEDGER_POLICY_URL_MAX)
		return fail(ps, LEDGER_ETOOBIG, "URL longer than %d bytes",
		    LEDGER_POLICY_URL_MAX);
	return LEDGER_OK;
}

static int
parse_log(struct parser *ps, char **tok, size_t n)
{
	struct ledger_policy *p = ps->p;
	struct ledger_policy_log *log;
	struct ledger_verifier key;
	size_t i;
	int rc;

	if (n != 2 && n != 3)
		return fail(ps, LEDGER_EINVAL, "expected: log <vkey> [<url>]");
	if ((rc = parse_key(ps, tok[1], LEDGER_SIGTYPE_ED25519, "log",
	    &key)) != 0)
		return rc;
	if (n == 3 && (rc = check_url(ps, tok[2])) != 0)
		return rc;
	/* "Duplicate logs, i.e. ... the same public key, are not allowed." */
	for (i = 0; i < p->n_logs; i++)
		if (memcmp(p->logs[i].key.public_key, key.public_key,
		    LEDGER_ED25519_LEN) == 0)
			return fail(ps, LEDGER_EINVAL,
			    "this log's public key is already listed");
	if (p->n_logs == LEDGER_POLICY_MAX_LOGS)
		return fail(ps, LEDGER_ETOOBIG, "more than %d logs",
		    LEDGER_POLICY_MAX_LOGS);
	log = &p->logs[p->n_logs++];
	log->key = key;
	log->url = n == 3 ? xstrdup(tok[2]) : NULL;
	return LEDGER_OK;
}

static int
parse_witness(struct parser *ps, char **tok, size_t n)
{
	struct ledger_policy *p = ps->p;
	struct ledger_policy_witness *w;
	struct ledger_verifier key;
	size_t i;
	int rc;

	if (n != 3 && n != 4)
		return fail(ps, LEDGER_EINVAL,
		    "expected: witness <name> <vkey> [<url>]");
	if ((rc = check_new_name(ps, tok[1])) != 0)
		return rc;
	if ((rc = parse_key(ps, tok[2], LEDGER_SIGTYPE_COSIGNATURE, "witness",
	    &key)) != 0)
		return rc;
	if (n == 4 && (rc = check_url(ps, tok[3])) != 0)
		return rc;
	for (i = 0; i < p->n_witnesses; i++)
		if (memcmp(p->witnesses[i].key.public_key, key.public_key,
		    LEDGER_ED25519_LEN) == 0)
			return fail(ps, LEDGER_EINVAL,
			    "this witness's public key is already listed");
	if (p->n_witnesses == LEDGER_POLICY_MAX_WITNESSES)
		return fail(ps, LEDGER_ETOOBIG, "more than %d witnesses",
		    LEDGER_POLICY_MAX_WITNESSES);
	w = &p->witnesses[p->n_witnesses++];
	w->name = xstrdup(tok[1]);
	w->key = key;
	w->url = n == 4 ? xstrdup(tok[3]) : NULL;
	return LEDGER_OK;
}

static int
parse_group(struct parser *ps, char **tok, size_t n)
{
	struct ledger_policy *p = ps->p;
	struct node members[MAX_TOKENS];
	uint8_t *used;
	size_t i, j, nm;
	uint64_t k;
	int rc;

	if (n < 4)
		return fail(ps, LEDGER_EINVAL,
		    "expected: group <name> all|any|<k> <member>...");
	if ((rc = check_new_name(ps, tok[1])) != 0)
		return rc;
	nm = n - 3;
	if (strcmp(tok[2], "all") == 0)
		k = nm;
	else if (strcmp(tok[2], "any") == 0)
		k = 1;
	else if (ledger_parse_u64(tok[2], strlen(tok[2]), &k) != 0)
		return fail(ps, LEDGER_EINVAL,
		    "the threshold must be all, any or a decimal number");
	if (k < 1 || k > nm)
		return fail(ps, LEDGER_EINVAL,
		    "the threshold must be between 1 and the %zu members", nm);
	for (i = 0; i < nm; i++) {
		if (!lookup(p, tok[3 + i], &members[i]))
			return fail(ps, LEDGER_EINVAL,
			    strcmp(tok[3 + i], "none") == 0 ?
			    "\"%s\" cannot be a group member" :
			    "\"%s\" is not defined on an earlier line",
			    tok[3 + i]);
		used = members[i].kind == NODE_WITNESS ?
		    &p->witness_used[members[i].index] :
		    &p->group_used[members[i].index];
		for (j = 0; j < i; j++)
			if (members[j].kind == members[i].kind &&
			    members[j].index == members[i].index)
				break;
		/* "Each defined name can be listed as a group member at most once." */
		if (*used || j < i)
			return fail(ps, LEDGER_EINVAL,
			    "\"%s\" is already a group member", tok[3 + i]);
	}
	if (p->n_groups == LEDGER_POLICY_MAX_GROUPS)
		return fail(ps, LEDGER_ETOOBIG, "more than %d groups",
		    LEDGER_POLICY_MAX_GROUPS);
	/* Only now that the line is valid do its members count as used. */
	for (i = 0; i < nm; i++) {
		if (members[i].kind == NODE_WITNESS)
			p->witness_used[members[i].index] = 1;
		else
			p->group_used[members[i].index] = 1;
	}
	p->groups[p->n_groups].name = xstrdup(tok[1]);
	p->groups[p->n_groups].k = k;
	p->groups[p->n_groups].n = nm;
	p->groups[p->n_groups].members = xcalloc(nm, sizeof(struct node));
	memcpy(p->groups[p->n_groups].members, members,
	    nm * sizeof(struct node));
	p->n_groups++;
	return LEDGER_OK;
}

static int
parse_quorum(struct parser *ps, char **tok, size_t n)
{
	struct ledger_policy *p = ps->p;

	if (n != 2)
		return fail(ps, LEDGER_EINVAL, "expected: quorum <name>|none");
	if (p->have_quorum)
		return fail(ps, LEDGER_EINVAL, "a second quorum line");
	if (strcmp(tok[1], "none") == 0)
		p->quorum.kind = NODE_NONE;
	else if (!lookup(p, tok[1], &p->quorum))
		return fail(ps, LEDGER_EINVAL,
		    "\"%s\" is not defined on an earlier line", tok[1]);
	p->have_quorum = 1;
	return LEDGER_OK;
}

static int
parse_line(struct parser *ps, char *line)
{
	char *tok[MAX_TOKENS];
	size_t n = 0;
	char *s = line;

	for (;;) {
		while (is_ws(*s))
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == 0 && *s == '#')
			return LEDGER_OK;	/* a comment line */
		if (n == MAX_TOKENS)
			return fail(ps, LEDGER_ETOOBIG, "more than %d items",
			    MAX_TOKENS);
		tok[n++] = s;
		while (*s != '\0' && !is_ws(*s))
			s++;
	}
	if (n == 0)
		return LEDGER_OK;		/* blank */
	if (strcmp(tok[0], "log") == 0)
		return parse_log(ps, tok, n);
	if (strcmp(tok[0], "witness") == 0)
		return parse_witness(ps, tok, n);
	if (strcmp(tok[0], "group") == 0)
		return parse_group(ps, tok, n);
	if (strcmp(tok[0], "quorum") == 0)
		return parse_quorum(ps, tok, n);
	return fail(ps, LEDGER_EINVAL, "unknown keyword \"%.32s\"", tok[0]);
}

int
ledger_policy_parse(const char *text, size_t len,
    struct ledger_policy **out, char *err, size_t errlen)
{
	struct parser ps;
	const char *p, *end, *nl;
	char *line;
	size_t i, line_len;
	int rc = LEDGER_OK;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errlen = errlen;
	ps.lineno = 1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > LEDGER_POLICY_MAX_SIZE)
		return fail(&ps, LEDGER_ETOOBIG, "the policy is over %d bytes",
		    LEDGER_POLICY_MAX_SIZE);
	ps.p = xcalloc(1, sizeof(*ps.p));
	for (p = text, end = text + len; p < end; p = nl + 1, ps.lineno++) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;	/* a last line without its newline */
		line_len = nl - p;
		for (i = 0; i < line_len; i++)
			if (!byte_allowed((unsigned char)p[i])) {
				rc = fail(&ps, LEDGER_EINVAL,
				    "byte 0x%02x is not allowed",
				    (unsigned char)p[i]);
				goto fail;
			}
		line = xstrndup(p, line_len);
		rc = parse_line(&ps, line);
		free(line);
		if (rc != 0)
			goto fail;
	}
	if (!ps.p->have_quorum) {
		rc = fail(&ps, LEDGER_EINVAL, "no quorum line");
		goto fail;
	}
	*out = ps.p;
	return LEDGER_OK;
fail:
	ledger_policy_free(ps.p);
	return rc;
}

void
ledger_policy_free(struct ledger_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_logs; i++)
		free((char *)p->logs[i].url);
	for (i = 0; i < p->n_witnesses; i++) {
		free((char *)p->witnesses[i].name);
		free((char *)p->witnesses[i].url);
	}
	for (i = 0; i < p->n_groups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].members);
	}
	free(p);
}

size_t
ledger_policy_log_count(const struct ledger_policy *p)
{
	return p->n_logs;
}

const struct ledger_policy_log *
ledger_policy_log(const struct ledger_policy *p, size_t i)
{
	return i < p->n_logs ? &p->logs[i] : NULL;
}

const struct ledger_policy_log *
ledger_policy_find_log(const struct ledger_policy *p, const char *origin)
{
	size_t i;

	for (i = 0; i < p->n_logs; i++)
		if (strcmp(p->logs[i].key.name, origin) == 0)
			return &p->logs[i];
	return NULL;
}

size_t
ledger_policy_witness_count(const struct ledger_policy *p)
{
	return p->n_witnesses;
}

const struct ledger_policy_witness *
ledger_policy_witness(const struct ledger_policy *p, size_t i)
{
	return i < p->n_witnesses ? &p->witnesses[i] : NULL;
}

int
ledger_policy_quorum_none(const struct ledger_policy *p)
{
	return p->quorum.kind == NODE_NONE;
}

int
ledger_policy_quorum_met(const struct ledger_policy *p,
    const uint8_t *cosigned, size_t n)
{
	uint8_t met[LEDGER_POLICY_MAX_GROUPS];
	const struct group *g;
	const struct node *m;
	size_t i, j, count;

	if (n != p->n_witnesses)
		return 0;
	if (p->quorum.kind == NODE_NONE)
		return 1;
	for (i = 0; i < p->n_groups; i++) {
		g = &p->groups[i];
		for (count = 0, j = 0; j < g->n; j++) {
			m = &g->members[j];
			/* Members are earlier groups: met[] is already set. */
			if (m->kind == NODE_WITNESS ? cosigned[m->index] != 0 :
			    met[m->index] != 0)
				count++;
		}
		met[i] = count >= g->k;
	}
	if (p->quorum.kind == NODE_WITNESS)
		return cosigned[p->quorum.index] != 0;
	return met[p->quorum.index];
}

static uint32_t
sig_key_id(const struct ledger_note_sig *sig)
{
	return (uint32_t)sig->blob[0] << 24 | (uint32_t)sig->blob[1] << 16 |
	    (uint32_t)sig->blob[2] << 8 | sig->blob[3];
}

static int
sig_by(const struct ledger_note_sig *sig, const struct ledger_verifier *key)
{
	return sig->name_len == strlen(key->name) &&
	    memcmp(sig->name, key->name, sig->name_len) == 0 &&
	    sig_key_id(sig) == key->key_id;
}

int
ledger_policy_verify(const struct ledger_policy *p, const char *note,
    size_t len, struct ledger_policy_result *out)
{
	struct ledger_verifier *log_keys = NULL;
	size_t log_index[LEDGER_POLICY_MAX_LOGS];
	struct ledger_note_sig *sigs;
	struct ledger_cosignature c;
	const struct ledger_policy_witness *w;
	size_t i, j, nsigs, text_len, n_log_keys = 0;
	char *body = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->n_witnesses = p->n_witnesses;
	sigs = xcalloc(LEDGER_NOTE_MAX_SIGS, sizeof(*sigs));
	if (ledger_note_split(note, len, sigs, LEDGER_NOTE_MAX_SIGS, &nsigs,
	    &text_len) != 0) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	/*
	 * The whole signed text must be the checkpoint body: it parses
	 * strictly and formats back to the same bytes.
	 */
	if (ledger_checkpoint_parse(note, text_len, &out->checkpoint) != 0 ||
	    (body = ledger_checkpoint_format(&out->checkpoint)) == NULL ||
	    strlen(body) != text_len || memcmp(body, note, text_len) != 0) {
		rc = LEDGER_EINVAL;
		goto out;
	}
	out->text_len = text_len;

	/* Every listed key for this origin (a log may list a new key too). */
	log_keys = xcalloc(p->n_logs + 1, sizeof(*log_keys));
	for (i = 0; i < p->n_logs; i++)
		if (strcmp(p->logs[i].key.name, out->checkpoint.origin) == 0) {
			log_index[n_log_keys] = i;
			log_keys[n_log_keys++] = p->logs[i].key;
		}
	if (n_log_keys == 0) {
		rc = LEDGER_ENOTFOUND;
		goto out;
	}
	/* At least one good signature by them, and no bad one. */
	rc = ledger_note_verify(note, len, log_keys, n_log_keys, NULL);
	if (rc == LEDGER_ECRYPTO || rc == LEDGER_EINVAL)
		goto out;
	out->log_verified = rc == LEDGER_OK;
	/* Which listed key signed: the first one with a line. */
	out->log = log_index[0];
	for (j = n_log_keys; j-- > 0;)
		for (i = 0; i < nsigs; i++)
			if (sig_by(&sigs[i], &log_keys[j]))
				out->log = log_index[j];

	for (i = 0; i < nsigs; i++) {
		for (j = 0; j < p->n_witnesses; j++)
			if (sig_by(&sigs[i], &p->witnesses[j].key))
				break;
		if (j == p->n_witnesses)
			continue;	/* not a witness of the policy */
		w = &p->witnesses[j];
		if (ledger_cosignature_from_sig(&sigs[i], &c) != 0) {
			out->bad[j] = 1;
			continue;
		}
		rc = ledger_cosignature_verify(&w->key, &c, note, text_len);
		if (rc == LEDGER_ECRYPTO)
			goto out;
		if (rc != LEDGER_OK) {
			/* A bad line by a known key satisfies nothing. */
			out->bad[j] = 1;
			continue;
		}
		if (!out->cosigned[j])
			out->n_cosigned++;
		out->cosigned[j] = 1;
		if (c.timestamp > out->timestamp[j])
			out->timestamp[j] = c.timestamp;
	}
	out->quorum_met = ledger_policy_quorum_met(p, out->cosigned,
	    p->n_witnesses);
	rc = out->log_verified && out->quorum_met ? LEDGER_OK : LEDGER_EVERIFY;
out:
	free(log_keys);
	free(body);
	free(sigs);
	return rc;
}
