/*
 * Retention over ten years (spec §2.10 to §2.12), on the daemon's clock
 * moved by the preloaded clock shim: events in forty quarters, sealed;
 * restriction at five years (a partner is refused and the entry is left
 * out of its listing, a supervisor sees it marked); destruction at ten
 * (provenance by identifier finds nothing in a destroyed period, its sealed
 * values answer as destroyed with the destruction entry's seq, and neither
 * the clear values nor the destroyed secrets are in any byte of any file
 * under the data directory), while ledgerd's own audit, verify, export
 * and verify-export and an independent proof check (tests/proof_check.py)
 * still pass.  Then a crash at every step of a destruction: the log and
 * the key files are always in the old state or the new one, never a
 * secret gone without its destruction entry.
 */
#include <dirent.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "ledger/be64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keyfile.h"
#include "ledger/period.h"
#include "ledger/retention.h"
#include "ledger/sealed.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define TOK_WRITER "retention-writer-police"
#define TOK_PARTNER "retention-reader-om"
#define TOK_BOARD "retention-supervisor"

#define DAY (24LL * 3600)
#define STEPS 40		/* quarters of events */
#define STEP_DAYS 91
#define START_DAYS (STEPS * STEP_DAYS + 10)	/* how far back the first is */
#define LATER_DAYS 730		/* then two years on: ten years past the first */
#define MAX_PERIODS 64

static char skew_path[PATH_MAX];
static char scratch[PATH_MAX];

struct posted {
	uint64_t seq;
	char received_at[64];
	char period[LEDGER_PERIOD_ID_MAX + 1];
};

static void
set_skew(long long seconds)
{
	FILE *f = fopen(skew_path, "w");

	if (f != NULL) {
		fprintf(f, "%lld\n", seconds);
		fclose(f);
	}
}

/* The shim beside the test daemon, or -1 (the test is skipped). */
static int
clockshim_path(char *out, size_t len)
{
	char bin[PATH_MAX];

	snprintf(bin, sizeof(bin), "%s", daemon_bin());
	snprintf(out, len, "%s/tests/clockshim.so", dirname(bin));
	return access(out, R_OK);
}

/* Runs fn (a start or restart) with the clock shim preloaded. */
static int
with_shim(struct daemon *d, int (*fn)(struct daemon *, const char *), const char *config)
{
	char shim[PATH_MAX + 32];
	const char *old_asan = getenv("ASAN_OPTIONS");
	char *asan = xasprintf("%s%sverify_asan_link_order=0",
	    old_asan ? old_asan : "", old_asan ? ":" : "");
	int rc;

	if (clockshim_path(shim, sizeof(shim)) != 0) {
		free(asan);
		return -2;
	}
	setenv("LD_PRELOAD", shim, 1);
	setenv("LEDGER_CLOCK_SKEW_FILE", skew_path, 1);
	setenv("ASAN_OPTIONS", asan, 1);
	rc = fn(d, config);
	unsetenv("LD_PRELOAD");
	unsetenv("LEDGER_CLOCK_SKEW_FILE");
	if (old_asan != NULL)
		setenv("ASAN_OPTIONS", old_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan);
	return rc;
}

static int
start_fn(struct daemon *d, const char *config)
{
	return daemon_start_config(d, config);
}

static int
restart_fn(struct daemon *d, const char *config)
{
	return daemon_restart(d);
}

static char *
make_config(void)
{
	char h[3][65];

	sha256_hex(TOK_WRITER, h[0]);
	sha256_hex(TOK_PARTNER, h[1]);
	sha256_hex(TOK_BOARD, h[2]);
	return xasprintf("{\"listen\": \"127.0.0.1:0\", \"origin\": "
	    "\"ledger.example.org/retention-test\", \"orgs\": [\"police\", "
	    "\"om\", \"board\"], \"principals\": [\n"
	    "{\"id\": \"writer-police\", \"org\": \"police\", \"roles\": "
	    "[\"writer\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"reader-om\", \"org\": \"om\", \"roles\": "
	    "[\"reader\"], \"token_sha256\": \"%s\"},\n"
	    "{\"id\": \"board\", \"org\": \"board\", \"roles\": "
	    "[\"supervisor\"], \"token_sha256\": \"%s\"}],\n"
	    "\"retention\": {\"period\": \"quarter\", \"restrict_after\": \"5y\", "
	    "\"destroy_after\": \"10y\", \"sealed_fields\": [\"purpose\", "
	    "\"details\"]}}\n", h[0], h[1], h[2]);
}

/* The event of step i: its purpose and details are markers to grep for. */
static char *
step_event(int i, int k)
{
	return xasprintf("{\"type\":\"share\",\"actor\":{\"org\":\"police\","
	    "\"user\":\"u-%d\"},\"subjects\":[\"SUBJ-%d\"],\"recipients\":"
	    "[\"om\"],\"object\":{\"ref\":\"case-%d-%d\"},\"purpose\":"
	    "\"zqpurpose-%d-%d\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
	    "\"details\":{\"note\":\"zqdetails-%d-%d\"}}", i, i, i, k, i, k, i, k);
}

/* GET target as the principal of token: status, body parsed (or NULL). */
static int
get_json(unsigned port, const char *token, const char *target, json_t **body,
    struct http_response *keep)
{
	struct http_client hc;
	struct http_response r;
	int status;

	*body = NULL;
	http_client_init(&hc, port, token);
	if (http_get(&hc, target, &r) != 0) {
		http_client_close(&hc);
		return -1;
	}
	status = r.status;
	*body = http_response_json(&r);
	if (keep != NULL)
		*keep = r;
	else
		http_response_free(&r);
	http_client_close(&hc);
	return status;
}

/* Entry seq's bytes parsed, as the supervisor reads them. */
static json_t *
entry_of(unsigned port, uint64_t seq)
{
	struct http_client hc;
	struct http_response r;
	json_t *entry = NULL;
	char target[64];

	http_client_init(&hc, port, TOK_BOARD);
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64, seq);
	if (http_get(&hc, target, &r) == 0) {
		if (r.status == 200 && ledger_entry_parse(r.body, r.body_len,
		    &entry, NULL) != 0)
			entry = NULL;
		http_response_free(&r);
	}
	http_client_close(&hc);
	return entry;
}

/*
 * The opened values of entry seq, checked against its commitments as every
 * client checks them.  Returns the "opened" object (new) or NULL.
 */
static json_t *
opened_of(unsigned port, uint64_t seq)
{
	struct ledger_field_error err;
	json_t *body, *entry, *opened = NULL;
	char target[64];

	snprintf(target, sizeof(target), "/v1/events/%" PRIu64 "/opened", seq);
	if (get_json(port, TOK_BOARD, target, &body, NULL) != 200)
		goto out;
	entry = entry_of(port, seq);
	if (entry == NULL || ledger_entry_check_opened(entry,
	    json_object_get(body, "opened"), &err) != 0) {
		fprintf(stderr, "  seq %" PRIu64 ": opened values do not check: "
		    "%s\n", seq, entry != NULL ? err.message : "no entry");
		test_failures_++;
	} else
		opened = json_incref(json_object_get(body, "opened"));
	json_decref(entry);
out:
	json_decref(body);
	return opened;
}

/* Whether needle (len bytes) occurs in any file under dir (recursively). */
static int
found_under(const char *dir, const void *needle, size_t len, char *where,
    size_t wlen)
{
	struct dirent *de;
	struct stat sb;
	DIR *dp;
	char *path, *bytes;
	size_t n;
	int found = 0;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			found = found_under(path, needle, len, where, wlen);
		else if (S_ISREG(sb.st_mode)) {
			bytes = read_whole_file(path, &n);
			if (memmem(bytes, n, needle, len) != NULL) {
				snprintf(where, wlen, "%s", path);
				found = 1;
			}
			free(bytes);
		}
		free(path);
	}
	closedir(dp);
	return found;
}

static int64_t
now_us(long long skew)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + skew) * 1000000 + ts.tv_nsec / 1000;
}

/* Posts two events per step, each step STEP_DAYS later. */
static int
post_steps(struct daemon *d, struct posted p[][2])
{
	struct http_client hc;
	struct appended a;
	char *ev;
	int i, k;

	http_client_init(&hc, d->port, TOK_WRITER);
	for (i = 0; i < STEPS; i++) {
		set_skew(-(START_DAYS - (long long)i * STEP_DAYS) * DAY);
		for (k = 0; k < 2; k++) {
			ev = step_event(i, k);
			if (post_event(&hc, ev, NULL, NULL, &a, NULL) != 201) {
				free(ev);
				http_client_close(&hc);
				return -1;
			}
			free(ev);
			p[i][k].seq = a.seq;
			snprintf(p[i][k].received_at, sizeof(p[i][k].received_at),
			    "%s", a.received_at);
			ledger_period_name(a.received_at, LEDGER_PERIOD_QUARTER,
			    p[i][k].period);
		}
	}
	http_client_close(&hc);
	return 0;
}

/* The one destruction entry of the log (supervisor's listing), or NULL. */
static json_t *
destruction_entry(unsigned port, int *count)
{
	json_t *body, *ev, *entry = NULL;
	const char *bytes;
	size_t i;

	*count = 0;
	if (get_json(port, TOK_BOARD, "/v1/events?type=destruction&limit=100",
	    &body, NULL) != 200)
		return NULL;
	json_array_foreach(json_object_get(body, "events"), i, ev) {
		bytes = json_string_value(json_object_get(ev, "entry"));
		(*count)++;
		json_decref(entry);
		if (ledger_entry_parse(bytes, strlen(bytes), &entry, NULL) != 0)
			entry = NULL;
	}
	json_decref(body);
	return entry;
}

/* ledgerctl args against d as the supervisor; checks the exit code. */
static void
ctl_run(struct daemon *d, int code, const char *phrase, const char *const args[])
{
	struct ctl_result r;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", TOK_BOARD, 1);
	setenv("LEDGER_KEY", d->vkey, 1);
	ctl_exec(&r, scratch, NULL, args);
	CTL_EXPECT(&r, code, phrase);
	ctl_result_free(&r);
}

/*
 * A restricted entry is one the partners may not see (spec §9.4) wherever
 * it would show: its inclusion proof is refused to the reader, and a
 * writer may not rest an event on it (refs, §2.6); the entry old, at seq
 * old_seq, restricted, the one at recent_seq not.
 */
static void
check_restricted_elsewhere(struct daemon *d, uint64_t old_seq,
    uint64_t recent_seq)
{
	struct http_client hc;
	struct http_response r;
	char target[96], *ev;
	json_t *body;

	snprintf(target, sizeof(target), "/v1/proof/inclusion?index=%" PRIu64
	    "&tree_size=%" PRIu64, old_seq, recent_seq + 1);
	CHECK_INT(get_json(d->port, TOK_PARTNER, target, &body, NULL), 403);
	json_decref(body);
	CHECK_INT(get_json(d->port, TOK_BOARD, target, &body, NULL), 200);
	json_decref(body);
	snprintf(target, sizeof(target), "/v1/proof/inclusion?index=%" PRIu64
	    "&tree_size=%" PRIu64, recent_seq, recent_seq + 1);
	CHECK_INT(get_json(d->port, TOK_PARTNER, target, &body, NULL), 200);
	json_decref(body);

	http_client_init(&hc, d->port, TOK_WRITER);
	ev = xasprintf("{\"type\":\"advice\",\"actor\":{\"org\":\"police\","
	    "\"user\":\"u-late\"},\"recipients\":[\"om\"],\"object\":"
	    "{\"ref\":\"late-advice\"},\"refs\":[%" PRIu64 "],\"occurred_at\":"
	    "\"2026-01-01T00:00:00Z\"}", old_seq);
	CHECK_INT(post_event(&hc, ev, NULL, NULL, NULL, &r), 400);
	CHECK_ERROR(&r, 400, "unknown_ref", "refs[0]");
	http_response_free(&r);
	free(ev);
	http_client_close(&hc);
}

static void
body_ten_years(struct daemon *d)
{
	static struct posted p[STEPS][2];
	struct {
		char id[LEDGER_PERIOD_ID_MAX + 1];
		uint8_t secret[LEDGER_PERIOD_SECRET_LEN];
		char *file;
		size_t file_len;
		int due;
	} periods[MAX_PERIODS];
	struct ledger_retention policy;
	struct http_response r;
	json_t *body, *opened, *dentry, *ev;
	char target[160], where[PATH_MAX], *path, *bundle, *vkey_path, *cmd;
	uint64_t dseq;
	size_t n_periods = 0, i, n_due = 0;
	int k, count, listed_old, rc;

	REQUIRE(post_steps(d, p) == 0);

	/* The policy is the first entry, and the clear values are nowhere. */
	{
		json_t *e0 = entry_of(d->port, 0);
		REQUIRE(e0 != NULL);
		CHECK_STR(json_string_value(json_object_get(e0, "type")), "policy");
		CHECK_STR(json_string_value(json_object_get(json_object_get(e0,
		    "details"), "destroy_after")), "10y");
		json_decref(e0);
	}
	opened = opened_of(d->port, p[STEPS - 1][0].seq);
	REQUIRE(opened != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(opened,
	    "purpose"), "value")), "zqpurpose-39-0");
	json_decref(opened);

	/* Now: the first half is past restrict_after. */
	set_skew(0);
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64, p[0][0].seq);
	CHECK_INT(get_json(d->port, TOK_PARTNER, target, &body, NULL), 403);
	json_decref(body);
	CHECK_INT(get_json(d->port, TOK_BOARD, target, &body, &r), 200);
	CHECK(http_header_get(&r, "Ledger-Restricted") != NULL);
	http_response_free(&r);
	json_decref(body);
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64,
	    p[STEPS - 1][0].seq);
	CHECK_INT(get_json(d->port, TOK_PARTNER, target, &body, NULL), 200);
	json_decref(body);
	/* The partner's listing leaves restricted entries out. */
	CHECK_INT(get_json(d->port, TOK_PARTNER, "/v1/events?limit=1000", &body,
	    NULL), 200);
	listed_old = 0;
	json_array_foreach(json_object_get(body, "events"), i, ev)
		if ((uint64_t)json_integer_value(json_object_get(ev, "seq")) ==
		    p[0][0].seq)
			listed_old = 1;
	CHECK(!listed_old);
	CHECK(json_array_size(json_object_get(body, "events")) > 0);
	json_decref(body);
	check_restricted_elsewhere(d, p[0][0].seq, p[STEPS - 1][0].seq);
	/* The supervisor's marks it and opens it. */
	snprintf(target, sizeof(target), "/v1/events?limit=1&cursor=%" PRIu64,
	    p[0][0].seq);
	CHECK_INT(get_json(d->port, TOK_BOARD, target, &body, NULL), 200);
	ev = json_array_get(json_object_get(body, "events"), 0);
	CHECK(json_is_true(json_object_get(ev, "restricted")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(
	    ev, "opened"), "details"), "value") ? json_object_get(json_object_get(
	    json_object_get(json_object_get(ev, "opened"), "details"), "value"),
	    "note") : NULL), "zqdetails-0-0");
	json_decref(body);

	/* The period secrets as they are before destruction. */
	for (i = 0; i < STEPS; i++) {
		if (n_periods > 0 && strcmp(periods[n_periods - 1].id,
		    p[i][0].period) == 0)
			continue;
		REQUIRE(n_periods < MAX_PERIODS);
		snprintf(periods[n_periods].id, sizeof(periods[0].id), "%s",
		    p[i][0].period);
		path = xasprintf("%s/keys/%s.key", d->data, p[i][0].period);
		periods[n_periods].file = read_whole_file(path,
		    &periods[n_periods].file_len);
		CHECK(periods[n_periods].file_len > 0);
		CHECK_INT(ledger_keyfile_read_secret(path, periods[n_periods].secret,
		    LEDGER_PERIOD_SECRET_LEN), 0);
		free(path);
		n_periods++;
	}
	CHECK(n_periods >= 38);

	/* Two years on: ten years past the first quarters.  A start destroys. */
	set_skew(LATER_DAYS * DAY);
	ledger_retention_default(&policy);
	for (i = 0; i < n_periods; i++) {
		periods[i].due = ledger_retention_due(&policy, periods[i].id,
		    now_us(LATER_DAYS * DAY));
		n_due += periods[i].due;
	}
	CHECK(n_due >= 6 && n_due < n_periods);
	REQUIRE(daemon_stop(d) == 0);
	REQUIRE(with_shim(d, restart_fn, NULL) == 0);

	dentry = destruction_entry(d->port, &count);
	CHECK_INT(count, 1);
	REQUIRE(dentry != NULL);
	dseq = (uint64_t)json_integer_value(json_object_get(dentry, "seq"));
	CHECK_INT(json_array_size(json_object_get(json_object_get(dentry,
	    "details"), "periods")), n_due);
	json_array_foreach(json_object_get(json_object_get(dentry, "details"),
	    "periods"), i, ev) {
		CHECK(i < n_periods && periods[i].due);
		CHECK_STR(json_string_value(json_object_get(ev, "period")),
		    periods[i].id);
		CHECK_INT(json_integer_value(json_object_get(ev, "sealed_values")) > 0, 1);
	}
	json_decref(dentry);

	for (i = 0; i < STEPS; i++) {
		int due = ledger_retention_due(&policy, p[i][0].period,
		    now_us(LATER_DAYS * DAY));
		json_t *res;

		opened = opened_of(d->port, p[i][0].seq);
		REQUIRE(opened != NULL);
		if (due)
			CHECK_INT(json_integer_value(json_object_get(
			    json_object_get(opened, "purpose"), "destroyed")),
			    (long long)dseq);
		else
			CHECK(json_object_get(json_object_get(opened, "purpose"),
			    "value") != NULL);
		json_decref(opened);
		/* No token of a destroyed period links SUBJ-i any more. */
		snprintf(target, sizeof(target), "/v1/provenance/subjects/SUBJ-%zu"
		    "?limit=10", i);
		CHECK_INT(get_json(d->port, TOK_BOARD, target, &res, NULL), 200);
		CHECK_INT(json_array_size(json_object_get(res, "events")),
		    due ? 0 : 2);
		json_decref(res);
		path = xasprintf("%s/keys/%s.key", d->data, p[i][0].period);
		CHECK_INT(access(path, F_OK) == 0, !due);
		free(path);
	}

	/* Not a byte of a destroyed secret, nor any clear value, on disk. */
	for (i = 0; i < n_periods; i++) {
		if (!periods[i].due)
			continue;
		if (found_under(d->data, periods[i].secret, LEDGER_PERIOD_SECRET_LEN,
		    where, sizeof(where)) || found_under(d->data, periods[i].file,
		    periods[i].file_len, where, sizeof(where))) {
			fprintf(stderr, "  the secret of %s is in %s\n",
			    periods[i].id, where);
			test_failures_++;
		}
	}
	for (i = 0; i < STEPS; i++)
		for (k = 0; k < 2; k++) {
			char purpose[48], details[48];

			snprintf(purpose, sizeof(purpose), "zqpurpose-%zu-%d", i, k);
			snprintf(details, sizeof(details), "zqdetails-%zu-%d", i, k);
			if (found_under(d->data, purpose, strlen(purpose), where,
			    sizeof(where)) || found_under(d->data, details,
			    strlen(details), where, sizeof(where))) {
				fprintf(stderr, "  a clear value of step %zu is "
				    "in %s\n", i, where);
				test_failures_++;
			}
		}

	/* Everything still verifies, by ledgerctl and independently. */
	{
		const char *audit[] = { "audit", NULL };
		const char *list_args[] = { "list", "--verify", NULL };
		const char *verify_args[] = { "verify", "--state", NULL, NULL };
		const char *export_args[] = { "export", "--out", NULL, NULL };
		const char *vexp[] = { "verify-export", NULL, "--key", NULL, NULL };

		path = xasprintf("%s/state", scratch);
		verify_args[2] = path;
		bundle = xasprintf("%s/bundle", scratch);
		export_args[2] = bundle;
		vkey_path = xasprintf("%s/vkey", scratch);
		{
			FILE *f = fopen(vkey_path, "w");
			if (f != NULL) {
				fprintf(f, "%s\n", d->vkey);
				fclose(f);
			}
		}
		vexp[1] = bundle;
		vexp[3] = vkey_path;
		ctl_run(d, 0, "match the signed checkpoint", audit);
		/* The destroyed markers, each checked on the destruction entry. */
		ctl_run(d, 0, NULL, list_args);
		ctl_run(d, 0, NULL, verify_args);
		ctl_run(d, 0, NULL, export_args);
		ctl_run(d, 0, "purpose sealed", vexp);
		cmd = xasprintf("python3 tests/proof_check.py '%s' '%s' >&2", bundle,
		    vkey_path);
		rc = system(cmd);
		CHECK_INT(rc, 0);
		free(cmd);
		/*
		 * The bundle carries the opened values (live periods) and the
		 * destroyed markers; a value changed in it fails verify-export.
		 */
		{
			char *opath = xasprintf("%s/opened.jsonl", bundle), *text;
			char *hit, *marker = xasprintf("\"destroyed\":%" PRIu64, dseq);
			size_t olen;
			FILE *f;

			text = read_whole_file(opath, &olen);
			CHECK(strstr(text, "zqpurpose-39-0") != NULL);
			CHECK(strstr(text, marker) != NULL);
			if ((hit = strstr(text, "zqpurpose-39-0")) != NULL) {
				hit[13] = 'X';
				if ((f = fopen(opath, "w")) != NULL) {
					fwrite(text, 1, olen, f);
					fclose(f);
				}
				ctl_run(d, 1, "commitment", vexp);
			}
			free(marker);
			free(text);
			free(opath);
		}
		free(path);
		free(bundle);
		free(vkey_path);
	}
	for (i = 0; i < n_periods; i++)
		free(periods[i].file);
	CHECK_INT(daemon_stop(d), 0);
	CHECK_INT(daemon_fsck(d), 0);
}

static void
test_ten_years(void)
{
	struct daemon d;
	char *config = make_config(), shim[PATH_MAX + 32];

	if (clockshim_path(shim, sizeof(shim)) != 0) {
		printf("  SKIPPED: no clock shim at %s\n", shim);
		free(config);
		return;
	}
	memset(&d, 0, sizeof(d));
	set_skew(-START_DAYS * DAY);
	if (with_shim(&d, start_fn, config) != 0) {
		free(config);
		test_failures_++;
		return;
	}
	free(config);
	body_ten_years(&d);
	if (test_failures_ > 0)
		daemon_print_log_tail(&d, 4000);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* Whether DATA/keys/P.key exists. */
static int
key_exists(const struct daemon *d, const char *period)
{
	char *path = xasprintf("%s/keys/%s.key", d->data, period);
	int rc = access(path, F_OK) == 0;

	free(path);
	return rc;
}

/*
 * A crash at point (crash.h) during the destruction of two periods.  Right
 * after the crash: a secret is gone only if the destruction entry is in
 * the log.  After a restart (with the clock where nothing more is due):
 * either no entry and both secrets, or the entry and neither secret.
 */
static void
crash_case(const char *point)
{
	struct posted p[2][2];
	struct daemon d;
	struct http_client hc;
	struct appended a;
	char *config = make_config(), period[2][LEDGER_PERIOD_ID_MAX + 1];
	const char *faults = getenv("LEDGERD_FAULTS_BIN");
	char *release = xstrdup(daemon_bin()), *ev;
	int gone[2], entry, count, i, k;
	json_t *dentry;

	if (faults == NULL || faults[0] == '\0')
		faults = "build/ledgerd-faults";
	setenv("LEDGERD_BIN", faults, 1);
	memset(&d, 0, sizeof(d));
	set_skew(-START_DAYS * DAY);
	if (with_shim(&d, start_fn, config) != 0) {
		test_failures_++;
		goto out;
	}
	/* Two quarters of events, ten and a quarter years back. */
	http_client_init(&hc, d.port, TOK_WRITER);
	for (i = 0; i < 2; i++) {
		set_skew(-(START_DAYS - (long long)i * STEP_DAYS) * DAY);
		for (k = 0; k < 2; k++) {
			ev = step_event(i, k);
			CHECK_INT(post_event(&hc, ev, NULL, NULL, &a, NULL), 201);
			free(ev);
			p[i][k].seq = a.seq;
			ledger_period_name(a.received_at, LEDGER_PERIOD_QUARTER,
			    p[i][k].period);
		}
		snprintf(period[i], sizeof(period[i]), "%s", p[i][0].period);
	}
	http_client_close(&hc);
	CHECK(strcmp(period[0], period[1]) != 0);
	REQUIRE(daemon_stop(&d) == 0);

	/* Both due: the restart dies at point. */
	set_skew(LATER_DAYS * DAY);
	setenv("LEDGERD_CRASH_AT", point, 1);
	CHECK(with_shim(&d, restart_fn, NULL) != 0);
	unsetenv("LEDGERD_CRASH_AT");
	daemon_kill(&d);
	gone[0] = !key_exists(&d, period[0]);
	gone[1] = !key_exists(&d, period[1]);

	/* Back to just after the events: nothing new is due, recovery runs. */
	set_skew(-(START_DAYS - 2LL * STEP_DAYS) * DAY);
	REQUIRE(with_shim(&d, restart_fn, NULL) == 0);
	dentry = destruction_entry(d.port, &count);
	entry = dentry != NULL;
	json_decref(dentry);
	if ((gone[0] || gone[1]) && !entry) {
		fprintf(stderr, "  %s: a secret is gone without its destruction "
		    "entry\n", point);
		test_failures_++;
	}
	CHECK(count <= 1);
	/* After recovery: the old state or the new one. */
	CHECK_INT(key_exists(&d, period[0]), !entry);
	CHECK_INT(key_exists(&d, period[1]), !entry);
	printf("  %s: secrets gone before recovery %d %d, entry %d\n", point,
	    gone[0], gone[1], entry);
	CHECK_INT(daemon_stop(&d), 0);
	CHECK_INT(daemon_fsck(&d), 0);
out:
	if (test_failures_ > 0)
		daemon_print_log_tail(&d, 3000);
	daemon_stop(&d);
	daemon_cleanup(&d);
	setenv("LEDGERD_BIN", release, 1);
	free(release);
	free(config);
}

static void
test_destruction_crashes(void)
{
	char shim[PATH_MAX + 32];

	if (clockshim_path(shim, sizeof(shim)) != 0) {
		printf("  SKIPPED: no clock shim at %s\n", shim);
		return;
	}
	crash_case("retention-entry");		/* before the entry */
	crash_case("before-commit:1");		/* the entry's commit */
	crash_case("retention-committed");	/* entry, no secret destroyed */
	crash_case("retention-destroyed:1");	/* between the two periods */
	crash_case("retention-destroyed:2");	/* both destroyed */
}

/* daemon_tool with the clock shim preloaded. */
static int
tool_with_shim(struct daemon *d, const char *const args[], char *out, size_t cap)
{
	char shim[PATH_MAX + 32];
	const char *old_asan = getenv("ASAN_OPTIONS");
	char *asan = xasprintf("%s%sverify_asan_link_order=0",
	    old_asan ? old_asan : "", old_asan ? ":" : "");
	int rc;

	if (clockshim_path(shim, sizeof(shim)) != 0) {
		free(asan);
		return -2;
	}
	setenv("LD_PRELOAD", shim, 1);
	setenv("LEDGER_CLOCK_SKEW_FILE", skew_path, 1);
	setenv("ASAN_OPTIONS", asan, 1);
	rc = daemon_tool(d, args, out, cap);
	unsetenv("LD_PRELOAD");
	unsetenv("LEDGER_CLOCK_SKEW_FILE");
	if (old_asan != NULL)
		setenv("ASAN_OPTIONS", old_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan);
	return rc;
}

/*
 * `ledgerd retention run` takes the data directory's lock, so it is refused
 * while the daemon runs; stopped, it records the destruction and destroys
 * the period's secret, which the next start finds done.
 */
static void
test_retention_run(void)
{
	struct daemon d;
	struct http_client hc;
	struct appended a;
	char *config = make_config(), out[8192], period[LEDGER_PERIOD_ID_MAX + 1];
	char shim[PATH_MAX + 32], *ev;
	const char *args[] = { "retention", "run", "--config", NULL, "--data", NULL,
	    NULL };
	json_t *dentry;
	int count;

	if (clockshim_path(shim, sizeof(shim)) != 0) {
		printf("  SKIPPED: no clock shim at %s\n", shim);
		free(config);
		return;
	}
	memset(&d, 0, sizeof(d));
	set_skew(-START_DAYS * DAY);
	if (with_shim(&d, start_fn, config) != 0) {
		test_failures_++;
		free(config);
		return;
	}
	http_client_init(&hc, d.port, TOK_WRITER);
	ev = step_event(0, 0);
	CHECK_INT(post_event(&hc, ev, NULL, NULL, &a, NULL), 201);
	free(ev);
	http_client_close(&hc);
	ledger_period_name(a.received_at, LEDGER_PERIOD_QUARTER, period);
	args[3] = d.config;
	args[5] = d.data;
	set_skew(LATER_DAYS * DAY);
	CHECK(tool_with_shim(&d, args, out, sizeof(out)) != 0);
	CHECK(key_exists(&d, period));
	REQUIRE(daemon_stop(&d) == 0);
	CHECK_INT(tool_with_shim(&d, args, out, sizeof(out)), 0);
	if (strstr(out, "destruction of 1 periods recorded") == NULL) {
		fprintf(stderr, "  retention run said: %s\n", out);
		test_failures_++;
	}
	CHECK(!key_exists(&d, period));
	/* Run again: nothing more to do, nothing more written. */
	CHECK_INT(tool_with_shim(&d, args, out, sizeof(out)), 0);
	REQUIRE(with_shim(&d, restart_fn, NULL) == 0);
	dentry = destruction_entry(d.port, &count);
	CHECK_INT(count, 1);
	json_decref(dentry);
	CHECK_INT(daemon_stop(&d), 0);
	CHECK_INT(daemon_fsck(&d), 0);
	if (test_failures_ > 0)
		daemon_print_log_tail(&d, 3000);
	daemon_cleanup(&d);
	free(config);
}

/*
 * One record of the sealed values' database of d's stopped daemon (the
 * store's layout: key seq || field, ledgerd/store.c): op 'g' reads it into
 * buf (*len: its room, then its length), 'p' writes buf[*len] there, 'd'
 * deletes it.  Returns 0, or -1.
 */
static int
sealed_record(const struct daemon *d, int op, uint64_t seq, const char *field,
    void *buf, size_t *len)
{
	uint8_t key[64];
	char path[PATH_MAX];
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = { 8 + strlen(field), key }, v = { *len, buf };
	int rc = -1;

	ledger_put_be64(key, seq);
	memcpy(key + 8, field, strlen(field));
	snprintf(path, sizeof(path), "%s/ledger.mdb", d->data);
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
	    mdb_env_set_mapsize(env, 1ULL << 30) != 0 ||
	    mdb_env_open(env, path, MDB_NOSUBDIR, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, "sealed", 0, &dbi) != 0)
		goto out;
	if (op == 'g') {
		if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size > *len)
			goto out;
		memcpy(buf, v.mv_data, v.mv_size);
		*len = v.mv_size;
	} else if ((op == 'p' ? mdb_put(txn, dbi, &k, &v, 0) :
	    mdb_del(txn, dbi, &k, NULL)) != 0)
		goto out;
	rc = mdb_txn_commit(txn) == 0 ? 0 : -1;
	txn = NULL;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return rc;
}

/* ledgerd fsck's exit code on d's data; its report must hold want. */
static int
fsck_says(struct daemon *d, const char *want)
{
	const char *args[] = { "fsck", d->data, NULL };
	char out[4096];
	int code = daemon_tool(d, args, out, sizeof(out));

	if (want != NULL && strstr(out, want) == NULL) {
		fprintf(stderr, "  fsck said: %s  not: %s\n", out, want);
		return -2;
	}
	return code;
}

/*
 * fsck checks the sealed values: one is stored for every field an entry
 * seals, and none for a field an entry does not seal.
 */
static void
test_fsck_sealed(void)
{
	struct daemon d;
	struct http_client hc;
	struct appended a;
	uint8_t value[4096];
	size_t len = sizeof(value);
	char want[128], *config = make_config(), *ev;

	REQUIRE(daemon_start_config(&d, config) == 0);
	free(config);
	http_client_init(&hc, d.port, TOK_WRITER);
	for (int i = 0; i < 3; i++) {
		ev = step_event(i, 0);
		CHECK_INT(post_event(&hc, ev, NULL, NULL, &a, NULL), 201);
		free(ev);
	}
	http_client_close(&hc);
	CHECK_INT(daemon_stop(&d), 0);
	CHECK_INT(fsck_says(&d, " 6 sealed values"), 0);

	/* The purpose of the last entry goes missing. */
	REQUIRE(sealed_record(&d, 'g', a.seq, "purpose", value, &len) == 0);
	REQUIRE(sealed_record(&d, 'd', a.seq, "purpose", NULL, &(size_t){ 0 }) == 0);
	printf("  (error reports from fsck are expected next)\n");
	snprintf(want, sizeof(want), "seq %" PRIu64 ": the entry seals purpose "
	    "and no sealed value of it is stored", a.seq);
	CHECK_INT(fsck_says(&d, want), 1);
	/* Back, and one more for the policy entry, which seals nothing. */
	REQUIRE(sealed_record(&d, 'p', a.seq, "purpose", value, &len) == 0);
	CHECK_INT(fsck_says(&d, NULL), 0);
	REQUIRE(sealed_record(&d, 'p', 0, "purpose", value, &len) == 0);
	CHECK_INT(fsck_says(&d, "seq 0: a sealed value of purpose is stored "
	    "and the entry does not seal purpose"), 1);
	daemon_cleanup(&d);
}

int
main(void)
{
	char tmpl[] = "/tmp/ledger-retention-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(scratch, sizeof(scratch), "%s", tmpl);
	snprintf(skew_path, sizeof(skew_path), "%s/clock-skew", tmpl);
	set_skew(0);
	RUN(test_ten_years);
	RUN(test_destruction_crashes);
	RUN(test_retention_run);
	RUN(test_fsck_sealed);
	remove_tree(scratch);
	return TEST_SUMMARY();
}
