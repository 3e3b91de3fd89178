/*
 * ledgerctl who-saw, history and lineage: provenance answers that are
 * printed only after every page verifies — its checkpoint signature, every
 * inclusion proof, and that each entry names the subject, the actor or the
 * lineage asked about.  A single failure fails the command.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/keyfile.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "http_client.h"
#include "provenance.h"
#include "table.h"

static char *
base_path(const struct prov_query *q)
{
	char *a, *b, *path;

	switch (q->kind) {
	case PROV_SUBJECT:
		a = http_path_escape(q->subject);
		path = xasprintf("/v1/provenance/subjects/%s", a);
		free(a);
		return path;
	case PROV_ACTOR:
		a = http_path_escape(q->org);
		b = http_path_escape(q->user);
		path = xasprintf("/v1/provenance/actors/%s/%s", a, b);
		free(a);
		free(b);
		return path;
	case PROV_OBJECT:
		a = http_path_escape(q->ref);
		path = xasprintf("/v1/provenance/objects/%s", a);
		free(a);
		return path;
	}
	return NULL;
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Whether the array holds the string s. */
static int
has_string(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int
has_int(const json_t *a, json_int_t x)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_integer(v) && json_integer_value(v) == x)
			return 1;
	return 0;
}

/*
 * Whether the subjects of an entry hold the subject's token: the one of
 * now, or (when the server looked it up under several periods) any of them.
 */
static int
names_subject(const json_t *subjects, const struct prov_result *res)
{
	const json_t *t;
	size_t i;

	if (has_string(subjects, res->subject_token))
		return 1;
	json_array_foreach(res->subject_tokens, i, t)
		if (has_string(subjects, json_string_value(t)))
			return 1;
	return 0;
}

/* The entry names what was asked (and lies in the asked time range). */
static int
check_names(const struct prov_query *q, const struct prov_result *res,
    uint64_t seq, const json_t *entry)
{
	const json_t *actor = json_object_get(entry, "actor");
	const char *t = jstr(entry, "received_at"), *org, *user;
	int64_t at, bound;

	switch (q->kind) {
	case PROV_SUBJECT:
		if (!names_subject(json_object_get(entry, "subjects"), res))
			return ctl_verify_fail("seq %" PRIu64 " does not name "
			    "subject token %s, yet the server gave it as an "
			    "event about the subject", seq, res->subject_token);
		if (q->org_filter != NULL && ((org = jstr(actor, "org")) ==
		    NULL || strcmp(org, q->org_filter) != 0))
			return ctl_verify_fail("seq %" PRIu64 " is not of org "
			    "%s", seq, q->org_filter);
		break;
	case PROV_ACTOR:
		org = jstr(actor, "org");
		user = jstr(actor, "user");
		if (org == NULL || user == NULL || strcmp(org, q->org) != 0 ||
		    strcmp(user, q->user) != 0)
			return ctl_verify_fail("seq %" PRIu64 " has actor %s/%s, "
			    "not %s/%s", seq, org ? org : "?", user ? user : "?",
			    q->org, q->user);
		break;
	case PROV_OBJECT:
		break;
	}
	if (q->type != NULL && (jstr(entry, "type") == NULL ||
	    strcmp(jstr(entry, "type"), q->type) != 0))
		return ctl_verify_fail("seq %" PRIu64 " is not of type %s", seq,
		    q->type);
	if (t == NULL || ledger_time_parse_rfc3339(t, &at) != 0)
		return ctl_verify_fail("seq %" PRIu64 " has no valid "
		    "received_at", seq);
	if (q->since != NULL && ledger_time_parse_rfc3339(q->since,
	    &bound) == 0 && at < bound)
		return ctl_verify_fail("seq %" PRIu64 " was received before "
		    "--since", seq);
	if (q->until != NULL && ledger_time_parse_rfc3339(q->until,
	    &bound) == 0 && at > bound)
		return ctl_verify_fail("seq %" PRIu64 " was received after "
		    "--until", seq);
	return 0;
}

/* One page: signature, proofs, names; events appended to res. */
static int
verify_page(struct ctl *ctl, const struct prov_query *q, json_t *page,
    struct prov_result *res, struct ledger_checkpoint *prev_cp, int *have_prev,
    int64_t *last_seq)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	const char *note = jstr(page, "checkpoint"), *bytes, *token;
	char computed[LEDGER_SUBJECT_TOKEN_LEN + 1];
	struct ledger_checkpoint cp;
	json_t *ev, *entry, *tokens;
	json_int_t seq;
	size_t i, n, len;
	int rc;

	if (note == NULL)
		return ctl_verify_fail("the answer carries no checkpoint");
	if ((rc = ctl_open_checkpoint(ctl, note, strlen(note),
	    "the provenance answer", &cp)) != 0)
		return rc;
	if (!json_is_integer(json_object_get(page, "tree_size")) ||
	    (uint64_t)json_integer_value(json_object_get(page, "tree_size")) !=
	    cp.tree_size)
		return ctl_verify_fail("the answer's tree_size is not its "
		    "checkpoint's (%" PRIu64 ")", cp.tree_size);
	if (*have_prev) {
		/* Pages may see a grown log; it must be the same log, grown. */
		if (cp.tree_size < prev_cp->tree_size)
			return ctl_verify_fail("a later page's checkpoint (size "
			    "%" PRIu64 ") is older than an earlier one's (%"
			    PRIu64 ")", cp.tree_size, prev_cp->tree_size);
		if ((rc = ctl_fetch_consistency(ctl, prev_cp, &cp)) != 0)
			return rc == EXIT_SPLIT ? ctl_fail(EXIT_SPLIT, "FORK "
			    "(split view): the checkpoints of two pages are not "
			    "consistent (size %" PRIu64 " and %" PRIu64 "); both "
			    "are signed by %s", prev_cp->tree_size,
			    cp.tree_size, ctl->key.name) : rc;
	} else {
		res->checkpoint = xstrdup(note);
		res->tree_size = cp.tree_size;
	}
	*prev_cp = cp;
	*have_prev = 1;

	if (q->kind == PROV_SUBJECT) {
		token = jstr(page, "subject_token");
		if (token == NULL || strlen(token) != LEDGER_SUBJECT_TOKEN_LEN)
			return ctl_verify_fail("the answer has no valid "
			    "subject_token");
		if (res->subject_token[0] != '\0' &&
		    strcmp(res->subject_token, token) != 0)
			return ctl_verify_fail("the pages disagree on the "
			    "subject token");
		tokens = json_object_get(page, "subject_tokens");
		if (tokens != NULL) {
			const json_t *t;
			size_t k;

			/* Several periods: the first is subject_token. */
			if (!json_is_array(tokens) || json_array_size(tokens) < 2 ||
			    strcmp(json_string_value(json_array_get(tokens, 0)) ?:
			    "", token) != 0)
				return ctl_verify_fail("the answer's "
				    "subject_tokens do not start with its "
				    "subject_token");
			json_array_foreach(tokens, k, t)
				if (!json_is_string(t) ||
				    !ledger_subject_token_valid(
				    json_string_value(t), json_string_length(t)))
					return ctl_verify_fail("the answer's "
					    "subject_tokens are not tokens");
			if (res->subject_tokens != NULL &&
			    !json_equal(res->subject_tokens, tokens))
				return ctl_verify_fail("the pages disagree on "
				    "the subject tokens");
			if (res->subject_tokens == NULL)
				res->subject_tokens = json_incref(tokens);
		}
		if (q->subject_key != NULL) {
			if (ledger_subject_token(q->subject_key, q->subject,
			    strlen(q->subject), computed) != 0)
				return ctl_fail(EXIT_VERIFY, "HMAC failed");
			/* The key is one period's: its token is one of them. */
			if (strcmp(computed, token) != 0 &&
			    !has_string(tokens, computed))
				return ctl_verify_fail("the server's subject "
				    "token %s is not the token of the subject "
				    "under --subject-key (%s)", token, computed);
		}
		snprintf(res->subject_token, sizeof(res->subject_token), "%s",
		    token);
	}

	json_array_foreach(json_object_get(page, "events"), i, ev) {
		seq = json_integer_value(json_object_get(ev, "seq"));
		bytes = jstr(ev, "entry");
		if (!json_is_integer(json_object_get(ev, "seq")) || seq < 0 ||
		    bytes == NULL)
			return ctl_verify_fail("event %zu of the answer is "
			    "malformed", i);
		if (seq <= *last_seq)
			return ctl_verify_fail("the answer is not in seq order "
			    "(seq %" JSON_INTEGER_FORMAT " after %"
			    JSON_INTEGER_FORMAT ")", seq, (json_int_t)*last_seq);
		*last_seq = seq;
		if (ctl_decode_hashes(json_object_get(ev, "proof"), proof,
		    LEDGER_MAX_PROOF, &n) != 0)
			return ctl_verify_fail("seq %" JSON_INTEGER_FORMAT
			    ": the proof is malformed", seq);
		len = json_string_length(json_object_get(ev, "entry"));
		if (ledger_leaf_hash(bytes, len, leaf) != 0)
			return ctl_fail(EXIT_VERIFY, "SHA-256 failed");
		if (ledger_merkle_verify_inclusion(leaf, (uint64_t)seq,
		    cp.tree_size, proof, n, cp.root) != 0)
			return ctl_verify_fail("seq %" JSON_INTEGER_FORMAT
			    ": the inclusion proof does not verify against the "
			    "signed checkpoint of size %" PRIu64 " (entry or "
			    "proof altered)", seq, cp.tree_size);
		/* What is checked below is what the daemon reads too. */
		if ((rc = ctl_entry_open((uint64_t)seq, bytes, len,
		    &entry)) != 0)
			return rc;
		if ((rc = ctl_entry_opened((uint64_t)seq, &entry,
		    json_object_get(ev, "opened"))) != 0 ||
		    (rc = ctl_check_destroyed(ctl, &cp, (uint64_t)seq,
		    json_object_get(ev, "opened"))) != 0) {
			json_decref(entry);
			return rc;
		}
		if ((rc = check_names(q, res, (uint64_t)seq, entry)) != 0) {
			json_decref(entry);
			return rc;
		}
		json_array_append_new(res->events, json_pack("{s:I, s:o}",
		    "seq", seq, "entry", entry));
	}
	if (q->kind == PROV_OBJECT) {
		json_array_extend(res->edges, json_object_get(page, "edges"));
		res->truncated |= json_is_true(json_object_get(page,
		    "truncated"));
	}
	return 0;
}

/*
 * Lineage: every edge [from, to] joins two answered entries, and the
 * later one's refs hold the earlier one; every entry is about the object
 * or reached from such an entry along the edges.
 */
static int
verify_lineage(const struct prov_query *q, struct prov_result *res)
{
	size_t n = json_array_size(res->events), i, j, changed;
	json_t *ev, *edge;
	json_int_t from, to;
	const json_t *e_to = NULL;
	char *reached = xcalloc(n ? n : 1, 1);
	int rc = 0;

	if (!json_is_array(res->edges)) {
		free(reached);
		return ctl_verify_fail("the lineage answer has no edges");
	}
	json_array_foreach(res->events, i, ev)
		reached[i] = jstr(json_object_get(json_object_get(ev, "entry"),
		    "object"), "ref") != NULL && strcmp(jstr(json_object_get(
		    json_object_get(ev, "entry"), "object"), "ref"), q->ref) == 0;
	json_array_foreach(res->edges, i, edge) {
		from = json_integer_value(json_array_get(edge, 0));
		to = json_integer_value(json_array_get(edge, 1));
		e_to = NULL;
		for (j = 0; j < n; j++)
			if (json_integer_value(json_object_get(json_array_get(
			    res->events, j), "seq")) == to)
				e_to = json_object_get(json_array_get(res->events,
				    j), "entry");
		if (json_array_size(edge) != 2 || e_to == NULL) {
			rc = ctl_verify_fail("lineage edge %zu names an entry "
			    "the answer does not hold", i);
			goto out;
		}
		if (!has_int(json_object_get(e_to, "refs"), from)) {
			rc = ctl_verify_fail("lineage edge [%" JSON_INTEGER_FORMAT
			    ", %" JSON_INTEGER_FORMAT "]: seq %" JSON_INTEGER_FORMAT
			    " does not rest on seq %" JSON_INTEGER_FORMAT, from,
			    to, to, from);
			goto out;
		}
	}
	do {
		changed = 0;
		json_array_foreach(res->edges, i, edge) {
			from = json_integer_value(json_array_get(edge, 0));
			to = json_integer_value(json_array_get(edge, 1));
			for (j = 0; j < n; j++)
				if (json_integer_value(json_object_get(
				    json_array_get(res->events, j), "seq")) ==
				    from && reached[j])
					break;
			if (j == n)
				continue;
			for (j = 0; j < n; j++)
				if (json_integer_value(json_object_get(
				    json_array_get(res->events, j), "seq")) ==
				    to && !reached[j]) {
					reached[j] = 1;
					changed = 1;
				}
		}
	} while (changed);
	for (i = 0; i < n; i++)
		if (!reached[i]) {
			rc = ctl_verify_fail("seq %" JSON_INTEGER_FORMAT " is "
			    "neither about %s nor resting on an entry that is",
			    json_integer_value(json_object_get(json_array_get(
			    res->events, i), "seq")), q->ref);
			goto out;
		}
out:
	free(reached);
	return rc;
}

int
provenance_fetch(struct ctl *ctl, const struct prov_query *q,
    struct prov_result *res)
{
	struct ledger_checkpoint prev_cp;
	char *base = base_path(q), *query = xstrdup(""), *target = NULL;
	char *cursor = NULL;
	const char *next;
	int64_t last_seq = -1;
	int have_prev = 0, rc;
	json_t *page = NULL;

	memset(res, 0, sizeof(*res));
	res->events = json_array();
	if (q->kind == PROV_OBJECT)
		res->edges = json_array();
	if ((rc = ctl_need_key(ctl)) != 0)
		goto out;
	http_query_add(&query, "since", q->since);
	http_query_add(&query, "until", q->until);
	http_query_add(&query, "type", q->type);
	http_query_add(&query, "org", q->org_filter);
	http_query_add(&query, "depth", q->depth);
	http_query_add(&query, "purpose", q->purpose);
	for (;;) {
		free(target);
		target = cursor == NULL ? xasprintf("%s%s", base, query) :
		    xasprintf("%s%s%ccursor=%s", base, query, query[0] ? '&' :
		    '?', cursor);
		if ((rc = ctl_get_json(ctl, target, &page)) != 0)
			goto out;
		res->pages++;
		if ((rc = verify_page(ctl, q, page, res, &prev_cp, &have_prev,
		    &last_seq)) != 0)
			goto out;
		next = jstr(page, "next_cursor");
		free(cursor);
		cursor = next != NULL ? http_path_escape(next) : NULL;
		json_decref(page);
		page = NULL;
		if (cursor == NULL)
			break;
	}
	if (q->kind == PROV_OBJECT)
		rc = verify_lineage(q, res);
out:
	json_decref(page);
	free(cursor);
	free(target);
	free(query);
	free(base);
	if (rc != 0)
		provenance_result_free(res);
	return rc;
}

void
provenance_result_free(struct prov_result *res)
{
	json_decref(res->events);
	json_decref(res->edges);
	json_decref(res->subject_tokens);
	free(res->checkpoint);
	memset(res, 0, sizeof(*res));
}

static void
print_result(struct ctl *ctl, const struct prov_query *q,
    const struct prov_result *res)
{
	json_t *out, *ev;
	size_t i;

	if (ctl->json) {
		out = json_pack("{s:s, s:I, s:O, s:b}", "checkpoint",
		    res->checkpoint, "tree_size", (json_int_t)res->tree_size,
		    "events", res->events, "verified", 1);
		if (q->kind == PROV_SUBJECT)
			json_object_set_new(out, "subject_token",
			    json_string(res->subject_token));
		if (q->kind == PROV_OBJECT) {
			json_object_set(out, "edges", res->edges);
			json_object_set_new(out, "truncated",
			    json_boolean(res->truncated));
		}
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
		return;
	}
	if (q->kind == PROV_SUBJECT && json_array_size(res->events) == 0) {
		/*
		 * An empty answer proves only itself: a server may leave
		 * entries out of an answer, and only the audit reads them all.
		 */
		printf("no events: the server's answer verified (checkpoint "
		    "signature, tree size %" PRIu64 ") and holds no entry\n"
		    "NOT PROVEN: that no entry of the log names the subject; "
		    "ledgerctl audit --subject with the same subject proves "
		    "that (it reads the whole log)\n", res->tree_size);
		return;
	}
	table_header();
	json_array_foreach(res->events, i, ev)
		table_row((uint64_t)json_integer_value(json_object_get(ev,
		    "seq")), json_object_get(ev, "entry"));
	printf("%zu events; checkpoint signature and every inclusion proof "
	    "verified (tree size %" PRIu64 ")%s\n",
	    json_array_size(res->events), res->tree_size,
	    res->truncated ? "; the server cut the lineage short" : "");
}

/* Reads --subject-key: 32 raw bytes. */
static int
load_subject_key(const char *path, uint8_t key[LEDGER_SUBJECT_KEY_LEN])
{
	char *buf;
	size_t len;

	if (ctl_read_file(path, &buf, &len) != 0)
		return ctl_fail(EXIT_IO, "cannot read %s: %s", path,
		    strerror(errno));
	if (len != LEDGER_SUBJECT_KEY_LEN) {
		free(buf);
		return ctl_fail(EXIT_USAGE, "%s must hold exactly %d raw bytes",
		    path, LEDGER_SUBJECT_KEY_LEN);
	}
	memcpy(key, buf, len);
	free(buf);
	return 0;
}

int
provenance_subject_key(const char *path, uint8_t key[LEDGER_SUBJECT_KEY_LEN]);

int
provenance_subject_key(const char *path, uint8_t key[LEDGER_SUBJECT_KEY_LEN])
{
	return load_subject_key(path, key);
}

/* What the server would refuse, refused before any request. */
static int
check_query(const char *cmd, const struct prov_query *q)
{
	uint64_t depth;
	int rc;

	if ((rc = ctl_check_range(cmd, q->since, q->until)) != 0 ||
	    (rc = ctl_check_type(cmd, q->type, q->kind == PROV_ACTOR)) != 0 ||
	    (rc = ctl_check_org(cmd, "--org", q->org_filter)) != 0 ||
	    (rc = ctl_check_text(cmd, "--purpose", q->purpose)) != 0 ||
	    (rc = ctl_check_id(cmd, "SUBJECT", q->subject)) != 0 ||
	    (rc = ctl_check_org(cmd, "ORG", q->org)) != 0 ||
	    (rc = ctl_check_id(cmd, "USER", q->user)) != 0 ||
	    (rc = ctl_check_id(cmd, "REF", q->ref)) != 0)
		return rc;
	if (q->depth != NULL && (ctl_parse_u64(q->depth, &depth) != 0 ||
	    depth > PROV_MAX_DEPTH))
		return ctl_usage_error(cmd, "--depth must be 0 to %d",
		    PROV_MAX_DEPTH);
	return 0;
}

static const char who_saw_usage[] =
    "usage: ledgerctl who-saw [options] SUBJECT\n"
    "Every event naming SUBJECT, oldest first, verified before printing.\n"
    "  --since TIME --until TIME   bounds on received_at (RFC 3339)\n"
    "  --type T                    share, query or advice\n"
    "  --org ORG                   only events of this org\n"
    "  --purpose TEXT              the justification recorded in the audit entry\n"
    "  --subject-key FILE          32 raw bytes: check the server's token\n";
static const char history_usage[] =
    "usage: ledgerctl history [options] ORG USER\n"
    "Everything USER of ORG shared, queried and advised, verified.\n"
    "  --since TIME --until TIME --type T --purpose TEXT\n";
static const char lineage_usage[] =
    "usage: ledgerctl lineage [options] REF\n"
    "The lineage of information item REF: its shares and queries and the\n"
    "advice resting on them; edges are checked against the entries' refs.\n"
    "  --depth N (0 to 64, default 16) --purpose TEXT\n";

static int
run(struct ctl *ctl, int argc, char **argv, enum prov_kind kind)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "since", required_argument, NULL, 's' },
	    { "until", required_argument, NULL, 'u' },
	    { "type", required_argument, NULL, 't' },
	    { "org", required_argument, NULL, 'o' },
	    { "purpose", required_argument, NULL, 'p' },
	    { "depth", required_argument, NULL, 'd' },
	    { "subject-key", required_argument, NULL, 'k' },
	    { NULL, 0, NULL, 0 } };
	static const char *const names[] = { "who-saw", "history", "lineage" };
	static const int nargs[] = { 1, 2, 1 };
	const char *usage = kind == PROV_SUBJECT ? who_saw_usage :
	    kind == PROV_ACTOR ? history_usage : lineage_usage;
	uint8_t key[LEDGER_SUBJECT_KEY_LEN];
	const char *key_path = NULL;
	struct prov_result res;
	struct prov_query q;
	int c, rc;

	memset(&q, 0, sizeof(q));
	q.kind = kind;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", usage, CTL_COMMON_HELP);
			return EXIT_OK;
		case 's': q.since = optarg; break;
		case 'u': q.until = optarg; break;
		case 't': q.type = optarg; break;
		case 'o': q.org_filter = optarg; break;
		case 'p': q.purpose = optarg; break;
		case 'd': q.depth = optarg; break;
		case 'k': key_path = optarg; break;
		default:
			if (!ctl_common_option(ctl, c, optarg))
				return ctl_usage_error(names[kind], "bad option");
		}
	}
	if (argc - optind != nargs[kind])
		return ctl_usage_error(names[kind], "expected %d argument%s",
		    nargs[kind], nargs[kind] > 1 ? "s" : "");
	if ((kind == PROV_OBJECT && (q.since || q.until || q.type ||
	    q.org_filter)) || (kind != PROV_OBJECT && q.depth) ||
	    (kind != PROV_SUBJECT && (q.org_filter || key_path)))
		return ctl_usage_error(names[kind], "option not valid here");
	if (kind == PROV_SUBJECT)
		q.subject = argv[optind];
	else if (kind == PROV_ACTOR) {
		q.org = argv[optind];
		q.user = argv[optind + 1];
	} else
		q.ref = argv[optind];
	if ((rc = check_query(names[kind], &q)) != 0)
		return rc;
	if (key_path != NULL) {
		if ((rc = load_subject_key(key_path, key)) != 0)
			return rc;
		q.subject_key = key;
	}
	if ((rc = provenance_fetch(ctl, &q, &res)) != 0)
		return rc;
	print_result(ctl, &q, &res);
	provenance_result_free(&res);
	return EXIT_OK;
}

int
cmd_who_saw(struct ctl *ctl, int argc, char **argv)
{
	return run(ctl, argc, argv, PROV_SUBJECT);
}

int
cmd_history(struct ctl *ctl, int argc, char **argv)
{
	return run(ctl, argc, argv, PROV_ACTOR);
}

int
cmd_lineage(struct ctl *ctl, int argc, char **argv)
{
	return run(ctl, argc, argv, PROV_OBJECT);
}
