/*
 * The steps every command shares: options, messages, the connection, and
 * fetching checkpoints and proofs that are verified with the core library
 * before anything is believed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/number.h"
#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/policy.h"
#include "ledger/sealed.h"
#include "ledger/utf8.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "tiles.h"

double
ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "ledgerctl: <prefix><message>" on stderr, after what stdout holds. */
static void
report(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "ledgerctl: %s", prefix);
	vfprintf(stderr, fmt, ap);
}

int
ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
ctl_verify_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("VERIFICATION FAILED: ", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_VERIFY;
}

int
ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry: ledgerctl %s --help\n", cmd);
	return EXIT_USAGE;
}

int
ctl_check_time(const char *cmd, const char *what, const char *value)
{
	if (value != NULL && ledger_time_parse_rfc3339(value, NULL) != 0)
		return ctl_usage_error(cmd, "%s \"%s\" is not an RFC 3339 "
		    "date-time (like 2026-01-31T09:00:00Z)", what, value);
	return 0;
}

int
ctl_check_range(const char *cmd, const char *since, const char *until)
{
	int64_t from, to;
	int rc;

	if ((rc = ctl_check_time(cmd, "--since", since)) != 0 ||
	    (rc = ctl_check_time(cmd, "--until", until)) != 0)
		return rc;
	if (since != NULL && until != NULL &&
	    ledger_time_parse_rfc3339(since, &from) == 0 &&
	    ledger_time_parse_rfc3339(until, &to) == 0 && from > to)
		return ctl_usage_error(cmd, "--since is later than --until");
	return 0;
}

int
ctl_check_org(const char *cmd, const char *what, const char *value)
{
	if (value != NULL && !ledger_org_id_valid(value, strlen(value)))
		return ctl_usage_error(cmd, "%s must be an org id "
		    "([a-z0-9-], 1 to %d characters)", what, LEDGER_ID_MAX);
	return 0;
}

int
ctl_check_id(const char *cmd, const char *what, const char *value)
{
	if (value != NULL && (value[0] == '\0' ||
	    strlen(value) > LEDGER_STRING_MAX))
		return ctl_usage_error(cmd, "%s must be 1 to %d bytes", what,
		    LEDGER_STRING_MAX);
	return 0;
}

int
ctl_check_text(const char *cmd, const char *what, const char *value)
{
	int rc;

	if ((rc = ctl_check_id(cmd, what, value)) != 0)
		return rc;
	if (value != NULL && !ledger_utf8_text_valid(value, strlen(value)))
		return ctl_usage_error(cmd, "%s must be UTF-8 text without "
		    "control characters", what);
	return 0;
}

int
ctl_check_type(const char *cmd, const char *value, int server_types)
{
	static const char *const types[] = { "share", "query", "advice",
	    "audit", "export" };
	size_t i, n = server_types ? 5 : 3;

	if (value == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(value, types[i]) == 0)
			return 0;
	return ctl_usage_error(cmd, "--type must be %s", server_types ?
	    "share, query, advice, audit or export" :
	    "share, query or advice");
}

int
ctl_common_option(struct ctl *ctl, int c, const char *arg)
{
	switch (c) {
	case OPT_URL: ctl->url = arg; return 1;
	case OPT_TOKEN: ctl->token = arg; return 1;
	case OPT_CERT: ctl->cert = arg; return 1;
	case OPT_CERT_KEY: ctl->cert_key = arg; return 1;
	case OPT_CACERT: ctl->cacert = arg; return 1;
	case OPT_KEY: ctl->key_arg = arg; ctl->have_key = 0; return 1;
	case OPT_JSON: ctl->json = 1; return 1;
	case OPT_POLICY: ctl->policy_arg = arg; return 1;
	}
	return 0;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

int
ctl_need_key(struct ctl *ctl)
{
	const char *arg = ctl->key_arg ? ctl->key_arg : getenv("LEDGER_KEY");
	char *text = NULL;
	size_t len;
	int rc;

	if (ctl->have_key)
		return 0;
	if (arg == NULL || arg[0] == '\0') {
		/* A policy that names one log names its key. */
		if ((rc = ctl_policy_log_key(ctl, &ctl->key)) == -1)
			return ctl_fail(EXIT_USAGE, "this command verifies: give "
			    "the log's verifier key with --key FILE|VKEY or "
			    "LEDGER_KEY");
		if (rc != 0)
			return rc;
	} else if (ledger_verifier_parse(arg, &ctl->key) != 0) {
		/* A verifier key text is tried first: it cannot be a file name with '+' … rarely. */
		if (ctl_read_file(arg, &text, &len) != 0)
			return ctl_fail(EXIT_USAGE, "--key %s is neither a "
			    "verifier key nor a readable file (%s)", arg,
			    strerror(errno));
		chomp(text);
		rc = ledger_verifier_parse(text, &ctl->key);
		free(text);
		if (rc != 0 || ctl->key.type != LEDGER_SIGTYPE_ED25519)
			return ctl_fail(EXIT_USAGE, "%s does not hold an Ed25519 "
			    "note verifier key (name+id+base64)", arg);
	}
	/* The key is ours only once the policy, if any, agrees with it. */
	if ((rc = ctl_load_policy(ctl)) != 0)
		return rc;
	ctl->have_key = 1;
	return 0;
}

struct http_client *
ctl_http(struct ctl *ctl)
{
	struct http_client_opts o;
	const char *token;
	char err[512];
	size_t len;

	if (ctl->http != NULL)
		return ctl->http;
	memset(&o, 0, sizeof(o));
	o.url = ctl->url ? ctl->url : getenv("LEDGER_URL");
	if (o.url == NULL || o.url[0] == '\0')
		o.url = "http://127.0.0.1:8080";
	token = ctl->token ? ctl->token : getenv("LEDGER_TOKEN");
	if (token != NULL && token[0] == '@') {
		if (ctl_read_file(token + 1, &ctl->token_buf, &len) != 0) {
			ctl_fail(EXIT_USAGE, "cannot read token file %s: %s",
			    token + 1, strerror(errno));
			return NULL;
		}
		chomp(ctl->token_buf);
		token = ctl->token_buf;
	}
	o.token = token;
	o.cert = ctl->cert;
	o.cert_key = ctl->cert_key;
	o.cacert = ctl->cacert;
	if ((ctl->http = http_client_new(&o, err, sizeof(err))) == NULL)
		ctl_fail(EXIT_USAGE, "%s", err);
	return ctl->http;
}

void
ctl_free(struct ctl *ctl)
{
	http_client_free(ctl->http);
	ctl->http = NULL;
	free(ctl->token_buf);
	ctl->token_buf = NULL;
	ledger_policy_free(ctl->policy);
	ctl->policy = NULL;
	free(ctl->cosigners);
	ctl->cosigners = NULL;
	json_decref(ctl->destructions);
	ctl->destructions = NULL;
	free(ctl->quorum_why);
	ctl->quorum_why = NULL;
}

int
ctl_get(struct ctl *ctl, const char *target, struct http_reply *out)
{
	struct http_client *c;

	if ((c = ctl_http(ctl)) == NULL)
		return EXIT_USAGE;
	if (http_client_request(c, "GET", target, NULL, NULL, 0, out) != 0)
		return ctl_fail(EXIT_SERVER, "GET %s: %s", target,
		    http_client_error(c));
	if (out->status != 200) {
		ctl_fail(EXIT_SERVER, "GET %s: %d %s", target, out->status,
		    http_reply_message(out));
		http_reply_free(out);
		return EXIT_SERVER;
	}
	return 0;
}

int
ctl_get_json(struct ctl *ctl, const char *target, json_t **out)
{
	struct http_reply r;
	json_error_t jerr;
	int rc;

	if ((rc = ctl_get(ctl, target, &r)) != 0)
		return rc;
	*out = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr);
	http_reply_free(&r);
	if (*out == NULL)
		return ctl_fail(EXIT_SERVER, "GET %s: the answer is not JSON "
		    "(line %d: %s)", target, jerr.line, jerr.text);
	return 0;
}

int
ctl_open_checkpoint_unwitnessed(struct ctl *ctl, const char *note, size_t len,
    const char *what, struct ledger_checkpoint *cp)
{
	int rc;

	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	if ((rc = ledger_checkpoint_open(note, len, &ctl->key, cp)) != 0)
		return ctl_verify_fail("%s: the checkpoint does not verify "
		    "with key %s: %s", what, ctl->key.name,
		    ledger_strerror(rc));
	return 0;
}

/* A tenth of a second between two fetches of /checkpoint. */
static void
pause_briefly(void)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	nanosleep(&pause, NULL);
}

int
ctl_fetch_checkpoint(struct ctl *ctl, struct ledger_checkpoint *cp,
    char **note)
{
	struct http_reply r;
	double start = ctl_now();
	int rc, said = 0, quorum = 0;

	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	for (;;) {
		if ((rc = ctl_get(ctl, "/checkpoint", &r)) != 0)
			return rc;
		if ((rc = ctl_open_checkpoint_unwitnessed(ctl, r.body, r.len,
		    "GET /checkpoint", cp)) != 0)
			break;
		quorum = 1;
		rc = ctl_check_quorum(ctl, r.body, r.len);
		if (rc != EXIT_QUORUM || ctl_now() - start >=
		    (double)ctl->quorum_wait)
			break;
		/* Cosignatures may be on their way. */
		if (!said && ctl_now() - start >= 1) {
			fprintf(stderr, "ledgerctl: waiting for the witnesses to "
			    "cosign the checkpoint of size %" PRIu64 " (%s)\n",
			    cp->tree_size, ctl->quorum_why);
			said = 1;
		}
		http_reply_free(&r);
		pause_briefly();
	}
	if (quorum && rc == EXIT_QUORUM)
		ctl_fail(rc, "QUORUM NOT MET: GET /checkpoint (tree size %" PRIu64
		    ") lacks the witness quorum of the policy %s: %s",
		    cp->tree_size, ctl_policy_path(ctl), ctl->quorum_why);
	else if (quorum && rc == EXIT_VERIFY)
		ctl_verify_fail("GET /checkpoint: %s", ctl->quorum_why);
	if (rc == 0) {
		/* The newest witnessed tree, for answers that are newer. */
		ctl->witnessed = *cp;
		ctl->have_witnessed = 1;
		if (note != NULL) {
			*note = r.body;
			r.body = NULL;
		}
	}
	http_reply_free(&r);
	return rc;
}

int
ctl_open_checkpoint(struct ctl *ctl, const char *note, size_t len,
    const char *what, struct ledger_checkpoint *cp)
{
	struct ledger_checkpoint latest;
	double start;
	char *why;
	int rc, said = 0;

	if ((rc = ctl_open_checkpoint_unwitnessed(ctl, note, len, what,
	    cp)) != 0 || ctl->policy == NULL)
		return rc;
	rc = ctl_check_quorum(ctl, note, len);
	if (rc == EXIT_VERIFY)
		return ctl_verify_fail("%s: %s", what, ctl->quorum_why);
	if (rc != EXIT_QUORUM)
		return rc;
	/*
	 * Not cosigned itself: it counts as witnessed when its tree is a
	 * prefix of a tree the witnesses cosigned, the latest /checkpoint.
	 */
	why = ctl->quorum_why;
	ctl->quorum_why = NULL;
	start = ctl_now();
	while (!ctl->have_witnessed || ctl->witnessed.tree_size <
	    cp->tree_size) {
		if ((rc = ctl_fetch_checkpoint(ctl, &latest, NULL)) != 0)
			goto out;
		if (latest.tree_size >= cp->tree_size ||
		    ctl_now() - start >= (double)ctl->quorum_wait)
			break;
		if (!said && ctl_now() - start >= 1) {
			fprintf(stderr, "ledgerctl: waiting for the log to "
			    "publish a witnessed checkpoint of %" PRIu64
			    " entries (it has %" PRIu64 ")\n", cp->tree_size,
			    latest.tree_size);
			said = 1;
		}
		pause_briefly();
	}
	if (ctl->witnessed.tree_size < cp->tree_size) {
		rc = ctl_fail(EXIT_QUORUM, "QUORUM NOT MET: %s (tree size %"
		    PRIu64 ") lacks the witness quorum of the policy %s (%s), "
		    "and the latest witnessed checkpoint (size %" PRIu64 ") "
		    "does not cover it yet: try again once the log has "
		    "published a newer one", what, cp->tree_size,
		    ctl_policy_path(ctl), why, ctl->witnessed.tree_size);
		goto out;
	}
	latest = ctl->witnessed;
	if ((rc = ctl_fetch_consistency(ctl, cp, &latest)) == EXIT_SPLIT)
		ctl_fail(EXIT_SPLIT, "FORK (split view): %s (tree size %" PRIu64
		    ") is not a prefix of the witnessed checkpoint of size %"
		    PRIu64 "; both are signed by %s", what, cp->tree_size,
		    latest.tree_size, ctl->key.name);
out:
	free(why);
	return rc;
}

int
ctl_decode_hash(const char *b64, uint8_t out[LEDGER_HASH_LEN])
{
	size_t n;

	if (b64 == NULL || ledger_b64_decode(b64, strlen(b64), out,
	    LEDGER_HASH_LEN, &n) != 0 || n != LEDGER_HASH_LEN)
		return -1;
	return 0;
}

int
ctl_decode_hashes(const json_t *a, uint8_t out[][LEDGER_HASH_LEN], size_t cap,
    size_t *n)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > cap)
		return -1;
	for (i = 0; i < json_array_size(a); i++)
		if (ctl_decode_hash(json_string_value(json_array_get(a, i)),
		    out[i]) != 0)
			return -1;
	*n = json_array_size(a);
	return 0;
}

void
ctl_hash_b64(const uint8_t h[LEDGER_HASH_LEN], char out[48])
{
	ledger_b64_encode(h, LEDGER_HASH_LEN, out);
}

int
ctl_parse_u64(const char *s, uint64_t *out)
{
	return s != NULL && ledger_parse_u64(s, strlen(s), out) == 0 ? 0 : -1;
}

int
ctl_fetch_consistency(struct ctl *ctl, const struct ledger_checkpoint *old,
    const struct ledger_checkpoint *new_cp)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], root[LEDGER_HASH_LEN];
	struct ledger_hash_store hs;
	struct tile_store *ts;
	size_t n = 0;
	int rc, e;

	/* Nothing to fetch: an empty old tree, or the same size. */
	if (old->tree_size == new_cp->tree_size || old->tree_size == 0)
		return ledger_merkle_verify_consistency(old->tree_size,
		    new_cp->tree_size, old->root, new_cp->root, proof, 0) == 0 ?
		    0 : EXIT_SPLIT;
	if (old->tree_size > new_cp->tree_size)
		return EXIT_SPLIT;
	/*
	 * From the tiles, not from a proof API: any static tlog-tiles server
	 * (a mirror) can answer, and since the tiles are first bound to the
	 * new signed root, a proof that then fails shows a fork, never
	 * merely a bad answer.
	 */
	ts = tile_store_new(ctl, new_cp->tree_size, 32);
	hs = tile_store_hash_store(ts);
	if ((e = ledger_merkle_root(&hs, new_cp->tree_size, root)) != 0 ||
	    memcmp(root, new_cp->root, LEDGER_HASH_LEN) != 0) {
		if (e == LEDGER_EIO) {
			rc = EXIT_SERVER;
			goto out;
		}
		/*
		 * A log serves every tile of the trees it signs (tlog-tiles):
		 * one that cannot, or whose tiles lead elsewhere, signed a
		 * tree it does not hold, as a log showing a split view does.
		 */
		rc = ctl_fail(EXIT_SPLIT, "the hash tiles served do not lead to "
		    "the root of the signed checkpoint of size %" PRIu64 "%s%s: "
		    "the log cannot back that checkpoint", new_cp->tree_size,
		    e ? ": " : "", e ? ledger_strerror(e) : "");
		goto out;
	}
	if ((e = ledger_merkle_consistency_proof(&hs, old->tree_size,
	    new_cp->tree_size, proof, &n)) != 0) {
		rc = e == LEDGER_EIO ? EXIT_SERVER : ctl_verify_fail("no "
		    "consistency proof from the hash tiles: %s",
		    ledger_strerror(e));
		goto out;
	}
	rc = ledger_merkle_verify_consistency(old->tree_size,
	    new_cp->tree_size, old->root, new_cp->root, proof, n) == 0 ? 0 :
	    EXIT_SPLIT;
out:
	tile_store_free(ts);
	return rc;
}

int
ctl_read_file(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0, got;
	char *buf;
	int saved;

	if (f == NULL)
		return -1;
	buf = xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	saved = ferror(f) ? EIO : 0;
	if (f != stdin)
		fclose(f);
	if (saved != 0) {
		free(buf);
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int
ctl_entry_open(uint64_t seq, const char *bytes, size_t len, json_t **out)
{
	struct ledger_field_error err;
	json_t *entry = NULL;
	json_int_t named;

	if (out != NULL)
		*out = NULL;
	if (ledger_entry_parse(bytes, len, &entry, &err) != 0)
		return ctl_verify_fail("seq %" PRIu64 ": not an entry as the "
		    "server writes them (%s%s%s: %s)", seq, err.code,
		    err.field[0] ? " at " : "", err.field, err.message);
	named = json_integer_value(json_object_get(entry, "seq"));
	if (named < 0 || (uint64_t)named != seq) {
		json_decref(entry);
		return ctl_verify_fail("seq %" PRIu64 ": the entry names seq %"
		    JSON_INTEGER_FORMAT, seq, named);
	}
	if (out != NULL)
		*out = entry;
	else
		json_decref(entry);
	return 0;
}

int
ctl_entry_opened(uint64_t seq, json_t **entry, const json_t *opened)
{
	struct ledger_field_error err;
	json_t *shown;

	if (ledger_entry_check_opened(*entry, opened, &err) != 0)
		return ctl_verify_fail("seq %" PRIu64 ": the server's opened "
		    "values do not match the entry's commitments (%s at %s: %s)",
		    seq, err.code, err.field, err.message);
	ledger_entry_with_opened(*entry, opened, &shown);
	json_decref(*entry);
	*entry = shown;
	return 0;
}

int
ctl_verify_entry(struct ctl *ctl, uint64_t seq, const char *bytes, size_t len,
    const struct ledger_checkpoint *cp, uint8_t proof[][LEDGER_HASH_LEN],
    size_t *n)
{
	uint8_t own[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	uint8_t leaf[LEDGER_HASH_LEN], given[LEDGER_HASH_LEN];
	json_t *body = NULL;
	char target[96];
	size_t plen;
	int rc;

	if (proof == NULL)
		proof = own;
	if (seq >= cp->tree_size)
		return ctl_verify_fail("seq %" PRIu64 " is not in the signed "
		    "tree of size %" PRIu64, seq, cp->tree_size);
	snprintf(target, sizeof(target), "/v1/proof/inclusion?index=%" PRIu64
	    "&tree_size=%" PRIu64, seq, cp->tree_size);
	if ((rc = ctl_get_json(ctl, target, &body)) != 0)
		return rc;
	if (ledger_leaf_hash(bytes, len, leaf) != 0)
		rc = ctl_fail(EXIT_VERIFY, "SHA-256 failed");
	else if (ctl_decode_hashes(json_object_get(body, "hashes"), proof,
	    LEDGER_MAX_PROOF, &plen) != 0)
		rc = ctl_verify_fail("seq %" PRIu64 ": the inclusion proof is "
		    "malformed", seq);
	else if (ctl_decode_hash(json_string_value(json_object_get(body,
	    "leaf_hash")), given) == 0 && memcmp(given, leaf,
	    LEDGER_HASH_LEN) != 0)
		rc = ctl_verify_fail("seq %" PRIu64 ": the entry's bytes do "
		    "not hash to the leaf the server proves", seq);
	else if (ledger_merkle_verify_inclusion(leaf, seq, cp->tree_size,
	    proof, plen, cp->root) != 0)
		rc = ctl_verify_fail("seq %" PRIu64 ": the inclusion proof does "
		    "not lead to the root of the signed checkpoint (size %"
		    PRIu64 ")", seq, cp->tree_size);
	else if ((rc = ctl_entry_open(seq, bytes, len, NULL)) == 0 &&
	    n != NULL)
		*n = plen;
	json_decref(body);
	return rc;
}
