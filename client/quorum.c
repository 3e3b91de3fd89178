/*
 * The client's witness policy (C2SP tlog-policy): which witnesses must have
 * cosigned a checkpoint before any command believes it.  Loaded once, with
 * the log key; common.c checks every checkpoint it opens against it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/policy.h"
#include "ledger/xmalloc.h"

#include "ctl.h"

const char *
ctl_policy_path(const struct ctl *ctl)
{
	const char *path = ctl->policy_arg ? ctl->policy_arg :
	    getenv("LEDGER_POLICY");

	return path != NULL && path[0] != '\0' ? path : NULL;
}

/* Reads and parses the policy file; 0 or EXIT_USAGE (printed). */
static int
read_policy(const char *path, char **text, size_t *len,
    struct ledger_policy **out)
{
	char err[256];

	if (ctl_read_file(path, text, len) != 0)
		return ctl_fail(EXIT_USAGE, "cannot read the policy %s: %s",
		    path, strerror(errno));
	if (ledger_policy_parse(*text, *len, out, err, sizeof(err)) != 0) {
		free(*text);
		*text = NULL;
		return ctl_fail(EXIT_USAGE, "the policy %s is not a C2SP "
		    "tlog-policy: %s", path, err);
	}
	return 0;
}

int
ctl_policy_log_key(struct ctl *ctl, struct ledger_verifier *key)
{
	const char *path = ctl_policy_path(ctl);
	struct ledger_policy *p = NULL;
	char *text = NULL;
	size_t len, n;
	int rc;

	if (path == NULL)
		return -1;
	if ((rc = read_policy(path, &text, &len, &p)) != 0)
		return rc;
	n = ledger_policy_log_count(p);
	if (n == 1)
		*key = ledger_policy_log(p, 0)->key;
	else
		rc = ctl_fail(EXIT_USAGE, "this command verifies: give the "
		    "log's verifier key with --key FILE|VKEY or LEDGER_KEY "
		    "(the policy %s names %zu logs, not one)", path, n);
	ledger_policy_free(p);
	free(text);
	return rc;
}

static int
same_key(const struct ledger_verifier *a, const struct ledger_verifier *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	    a->key_id == b->key_id && memcmp(a->public_key, b->public_key,
	    LEDGER_ED25519_LEN) == 0;
}

int
ctl_load_policy(struct ctl *ctl)
{
	const char *path = ctl_policy_path(ctl);
	const struct ledger_policy_log *log;
	struct ledger_policy *p = NULL;
	char *text = NULL, *vkey, *with_log, err[256];
	size_t len, i, n;
	const char *wait = getenv("LEDGER_QUORUM_WAIT");
	int rc, same_origin = 0;

	if (ctl->policy != NULL || path == NULL)
		return 0;
	ctl->quorum_wait = CTL_QUORUM_WAIT_S;
	if (wait != NULL && wait[0] != '\0' && (ctl_parse_u64(wait,
	    &ctl->quorum_wait) != 0 || ctl->quorum_wait > 86400))
		return ctl_fail(EXIT_USAGE, "LEDGER_QUORUM_WAIT must be a number "
		    "of seconds, 0 to 86400");
	if ((rc = read_policy(path, &text, &len, &p)) != 0)
		return rc;
	n = ledger_policy_log_count(p);
	for (i = 0; i < n; i++) {
		log = ledger_policy_log(p, i);
		if (same_key(&log->key, &ctl->key))
			break;
		same_origin |= strcmp(log->key.name, ctl->key.name) == 0;
	}
	if (n > 0 && i == n) {
		/* The policy is about another log, or another key of it. */
		vkey = ledger_verifier_format(&ctl->key);
		rc = ctl_fail(EXIT_USAGE, "the policy %s %s: its log lines do not "
		    "hold the log key in use, %s", path, same_origin ?
		    "names this log's origin with another key" : "is for "
		    "another log", vkey);
		free(vkey);
		goto out;
	}
	if (n == 0) {
		/*
		 * A policy without a log line is read as if it named the key
		 * in use, so that one verifier (ledger_policy_verify) checks
		 * every policy.  Its own line numbers were reported above.
		 */
		ledger_policy_free(p);
		p = NULL;
		vkey = ledger_verifier_format(&ctl->key);
		with_log = xasprintf("log %s\n%.*s", vkey, (int)len, text);
		free(vkey);
		rc = ledger_policy_parse(with_log, strlen(with_log), &p, err,
		    sizeof(err));
		free(with_log);
		if (rc != 0) {
			rc = ctl_fail(EXIT_USAGE, "the policy %s with the log key "
			    "added: %s", path, err);
			goto out;
		}
	}
	ctl->policy = p;
	p = NULL;
	rc = 0;
out:
	ledger_policy_free(p);
	free(text);
	return rc;
}

/* Appends ", name" (or "name") to *list. */
static void
add_name(char **list, const char *name)
{
	char *s = xasprintf("%s%s%s", *list ? *list : "", *list ? ", " : "",
	    name);

	free(*list);
	*list = s;
}

int
ctl_check_quorum(struct ctl *ctl, const char *note, size_t len)
{
	const struct ledger_policy_witness *w;
	struct ledger_policy_result *res;
	char *missing = NULL, *bad = NULL, *good = NULL;
	size_t i;
	int rc;

	if (ctl->policy == NULL)
		return 0;
	res = xmalloc(sizeof(*res));
	rc = ledger_policy_verify(ctl->policy, note, len, res);
	for (i = 0; i < res->n_witnesses; i++) {
		w = ledger_policy_witness(ctl->policy, i);
		if (res->cosigned[i])
			add_name(&good, w->name);
		else
			add_name(&missing, w->name);
		if (res->bad[i])
			add_name(&bad, w->name);
	}
	free(ctl->quorum_why);
	ctl->quorum_why = NULL;
	if (rc == 0) {
		free(ctl->cosigners);
		ctl->cosigners = good ? good : xstrdup("");
		good = NULL;
		goto out;
	}
	if (rc == LEDGER_EVERIFY && res->log_verified) {
		ctl->quorum_why = xasprintf("no valid cosignature from %s%s%s; "
		    "cosigned by %s", missing ? missing : "(none)", bad ?
		    "; a bad cosignature (which counts for nothing) from " : "",
		    bad ? bad : "", good ? good : "no witness of the policy");
		rc = EXIT_QUORUM;
		goto out;
	}
	/*
	 * The log's signature verified before we got here: what is left is
	 * a body that is not exactly a checkpoint's, a bad signature by
	 * another key the policy lists for the log, or OpenSSL.
	 */
	ctl->quorum_why = xasprintf("the checkpoint does not satisfy the policy "
	    "%s: %s", ctl_policy_path(ctl), rc == LEDGER_EVERIFY ? "a "
	    "signature by a log key of the policy does not verify" :
	    ledger_strerror(rc));
	rc = EXIT_VERIFY;
out:
	free(missing);
	free(bad);
	free(good);
	free(res);
	return rc;
}

json_t *
ctl_cosigners_json(const struct ctl *ctl)
{
	json_t *a = json_array();
	const char *p = ctl->cosigners ? ctl->cosigners : "", *comma;

	while (*p != '\0') {
		comma = strstr(p, ", ");
		json_array_append_new(a, json_stringn(p, comma ? (size_t)(comma -
		    p) : strlen(p)));
		p = comma ? comma + 2 : p + strlen(p);
	}
	return a;
}
