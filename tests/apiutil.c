/* The daemon tests' shared helpers (see apiutil.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keyfile.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "testlib.h"

char *
sample_event_of(const char *type, const char *org, const char *user,
    const char *recipient, const char *extra, int i)
{
	char recipients[128] = "", purpose[128] = "";

	if (recipient != NULL)
		snprintf(recipients, sizeof(recipients), "\"recipients\":[\"%s\"],",
		    recipient);
	if (strcmp(type, "advice") != 0)
		snprintf(purpose, sizeof(purpose),
		    "\"purpose\":\"risk assessment case %d\",", i);
	return xasprintf("{\"type\":\"%s\",\"actor\":{\"org\":\"%s\",\"user\":\"%s\"},"
	    "\"subjects\":[\"person-%d\"],%s\"object\":{\"ref\":\"doc-%d\"},%s"
	    "\"occurred_at\":\"2026-01-02T03:04:%02d.5Z\"%s%s}",
	    type, org, user, i, recipients, i, purpose, i % 60,
	    extra != NULL ? "," : "", extra != NULL ? extra : "");
}

char *
sample_event(int i)
{
	return sample_event_of("share", "police", "analyst-1", "kmar", NULL, i);
}

/* Whether got is one of the '|'-separated alternatives of want. */
static int
code_matches(const char *want, const char *got)
{
	size_t n;

	if (strcmp(want, "*") == 0)
		return 1;
	while (*want) {
		n = strcspn(want, "|");
		if (strlen(got) == n && strncmp(want, got, n) == 0)
			return 1;
		want += n;
		if (*want == '|')
			want++;
	}
	return 0;
}

int
check_error_(const char *file, int line, const struct http_response *r,
    int status, const char *code, const char *field)
{
	json_t *body = NULL, *err, *c, *m, *f;
	const char *why = NULL;
	int ok = 1;

	if (r->status != status) {
		fprintf(stderr, "  %s:%d: status %d, want %d\n", file, line,
		    r->status, status);
		ok = 0;
	}
	if (code == NULL)
		goto out;
	if ((body = http_response_json(r)) == NULL)
		why = "body is not JSON";
	else if (!json_is_object(err = json_object_get(body, "error")))
		why = "no \"error\" object";
	else if (!json_is_string(c = json_object_get(err, "code")))
		why = "error.code is not a string";
	else if (!json_is_string(m = json_object_get(err, "message")))
		why = "error.message is not a string";
	else if (!code_matches(code, json_string_value(c))) {
		fprintf(stderr, "  %s:%d: error code \"%s\", want \"%s\"\n", file,
		    line, json_string_value(c), code);
		ok = 0;
	} else if (field != NULL) {
		size_t n = strlen(field);
		const char *got;

		f = json_object_get(err, "field");
		got = json_is_string(f) ? json_string_value(f) : NULL;
		/* "" (the body as a whole) may also be written as null */
		if (n == 0 && got == NULL)
			got = "";
		if (got == NULL ||
		    (n > 0 && field[n - 1] == '*' ? strncmp(got, field, n - 1) != 0 :
		    strcmp(got, field) != 0)) {
			fprintf(stderr, "  %s:%d: error field \"%s\", want \"%s\"\n",
			    file, line, got ? got : "(none)", field);
			ok = 0;
		}
	}
	if (why != NULL) {
		fprintf(stderr, "  %s:%d: %s\n", file, line, why);
		ok = 0;
	}
out:
	if (!ok) {
		fprintf(stderr, "  %s:%d: body: %.*s\n", file, line,
		    (int)(r->body_len > 500 ? 500 : r->body_len),
		    r->body ? r->body : "");
		test_failures_++;
	}
	json_decref(body);
	return ok;
}

int
decode_hash(const char *b64, uint8_t out[LEDGER_HASH_LEN])
{
	size_t n;

	if (b64 == NULL ||
	    ledger_b64_decode(b64, strlen(b64), out, LEDGER_HASH_LEN, &n) != 0 ||
	    n != LEDGER_HASH_LEN)
		return -1;
	return 0;
}

int
decode_hashes(const json_t *array, uint8_t out[][LEDGER_HASH_LEN], size_t cap,
    size_t *n)
{
	size_t i;

	if (!json_is_array(array) || json_array_size(array) > cap)
		return -1;
	for (i = 0; i < json_array_size(array); i++)
		if (decode_hash(json_string_value(json_array_get(array, i)),
		    out[i]) != 0)
			return -1;
	*n = json_array_size(array);
	return 0;
}

void
hash_b64(const uint8_t h[LEDGER_HASH_LEN], char out[48])
{
	ledger_b64_encode(h, LEDGER_HASH_LEN, out);
}

const char *
hash_hex(const uint8_t h[LEDGER_HASH_LEN])
{
	static char buf[2 * LEDGER_HASH_LEN + 1];
	int i;

	for (i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", h[i]);
	return buf;
}

void
sha256_hex(const char *s, char out[65])
{
	uint8_t h[LEDGER_HASH_LEN];

	ledger_sha256(s, strlen(s), h);
	snprintf(out, 65, "%s", hash_hex(h));
}

long long
healthz_tree_size(struct http_client *hc)
{
	struct http_response r;
	json_t *body, *size;
	long long n = -1;

	if (http_get_public(hc, "/healthz", &r) != 0)
		return -1;
	if (r.status == 200 &&
	    (body = json_loadb(r.body, r.body_len, 0, NULL)) != NULL) {
		if (json_is_integer(size = json_object_get(body, "tree_size")))
			n = (long long)json_integer_value(size);
		json_decref(body);
	}
	http_response_free(&r);
	return n;
}

/* GET /checkpoint once, opened with v. */
static int
get_checkpoint(struct http_client *hc, const struct ledger_verifier *v,
    struct ledger_checkpoint *cp, char **note)
{
	struct http_response r;
	int rc;

	if ((rc = http_get_public(hc, "/checkpoint", &r)) != 0) {
		fprintf(stderr, "  GET /checkpoint: transport error %d\n", rc);
		return -1;
	}
	if (r.status != 200) {
		fprintf(stderr, "  GET /checkpoint: status %d: %s\n", r.status, r.body);
		http_response_free(&r);
		return -1;
	}
	if ((rc = ledger_checkpoint_open(r.body, r.body_len, v, cp)) != 0) {
		fprintf(stderr, "  GET /checkpoint: does not verify (%s):\n%s\n",
		    ledger_strerror(rc), r.body);
		http_response_free(&r);
		return -1;
	}
	if (note) {
		*note = r.body;
		r.body = NULL;
	}
	http_response_free(&r);
	return 0;
}

int
wait_published(struct http_client *hc, const struct ledger_verifier *v,
    long long min_size, struct ledger_checkpoint *cp, char **note)
{
	long long deadline = now_ms() + PUBLISH_WAIT_MS, size;
	struct ledger_checkpoint got;

	if (note)
		*note = NULL;
	/* The size when asked: appends going on meanwhile are not chased. */
	size = min_size >= 0 ? min_size : healthz_tree_size(hc);
	if (size < 0) {
		fprintf(stderr, "  GET /healthz: no tree size\n");
		return -1;
	}
	for (;;) {
		if (note) {
			free(*note);
			*note = NULL;
		}
		if (get_checkpoint(hc, v, &got, note) != 0)
			return -1;
		if ((long long)got.tree_size >= size)
			break;
		if (now_ms() > deadline) {
			fprintf(stderr, "  GET /checkpoint: still tree size %" PRIu64
			    " after %d ms, not %lld\n", got.tree_size,
			    PUBLISH_WAIT_MS, size);
			if (note) {
				free(*note);
				*note = NULL;
			}
			return -1;
		}
		sleep_ms(2);
	}
	if (cp)
		*cp = got;
	return 0;
}

int
fetch_checkpoint(struct http_client *hc, const struct ledger_verifier *v,
    struct ledger_checkpoint *cp, char **note)
{
	return wait_published(hc, v, -1, cp, note);
}

long long
tree_size_now(struct http_client *hc, const struct ledger_verifier *v)
{
	struct ledger_checkpoint cp;

	if (fetch_checkpoint(hc, v, &cp, NULL) != 0)
		return -1;
	return (long long)cp.tree_size;
}

int
fetch_entry(struct http_client *hc, uint64_t seq, char **bytes, size_t *len)
{
	struct http_response r;
	char path[64];
	int rc;

	*bytes = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "/v1/events/%" PRIu64, seq);
	if ((rc = http_get(hc, path, &r)) != 0)
		return rc;
	rc = r.status;
	if (rc == 200) {
		*bytes = r.body;
		*len = r.body_len;
		r.body = NULL;
	}
	http_response_free(&r);
	return rc;
}

int
parse_appended(const json_t *obj, struct appended *out)
{
	const json_t *seq = json_object_get(obj, "seq");
	const json_t *size = json_object_get(obj, "tree_size");
	const json_t *leaf = json_object_get(obj, "leaf_hash");
	const json_t *at = json_object_get(obj, "received_at");

	memset(out, 0, sizeof(*out));
	if (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
	    !json_is_string(leaf) || decode_hash(json_string_value(leaf),
	    out->leaf_hash) != 0)
		return -1;
	out->seq = (uint64_t)json_integer_value(seq);
	if (json_is_integer(size))
		out->tree_size = (uint64_t)json_integer_value(size);
	if (json_is_string(at))
		snprintf(out->received_at, sizeof(out->received_at), "%s",
		    json_string_value(at));
	return 0;
}

int
post_event(struct http_client *hc, const char *json, const char *query,
    const char *extra_headers, struct appended *out, struct http_response *resp)
{
	struct http_response r;
	char target[256], auth[300];
	json_t *body;
	int rc;

	snprintf(target, sizeof(target), "/v1/events%s%s", query ? "?" : "",
	    query ? query : "");
	snprintf(auth, sizeof(auth), "Bearer %s", hc->token);
	if ((rc = http_request(hc, "POST", target, auth, "application/json",
	    extra_headers, json, strlen(json), &r)) != 0)
		return rc;
	rc = r.status;
	if (out != NULL && (rc == 200 || rc == 201)) {
		body = http_response_json(&r);
		if (body == NULL || parse_appended(body, out) != 0) {
			fprintf(stderr, "  POST %s: malformed answer: %s\n", target,
			    r.body);
			rc = HTTP_EPROTO;
		}
		json_decref(body);
	}
	if (resp != NULL && rc > 0) {
		*resp = r;
	} else {
		http_response_free(&r);
		if (resp != NULL)
			memset(resp, 0, sizeof(*resp));
	}
	return rc;
}

int
post_events(struct http_client *hc, int first, int n, int batch)
{
	struct http_response r;
	char auth[300];
	char *ev, *buf;
	size_t len, cap;
	int i, j, rc;

	snprintf(auth, sizeof(auth), "Bearer %s", hc->token);
	for (i = 0; i < n; i += batch) {
		if (batch == 1) {
			ev = sample_event(first + i);
			rc = post_event(hc, ev, NULL, NULL, NULL, NULL);
			free(ev);
			if (rc != 201) {
				fprintf(stderr, "  POST /v1/events: %d\n", rc);
				return -1;
			}
			continue;
		}
		cap = 64;
		buf = xmalloc(cap);
		strcpy(buf, "[");
		len = 1;
		for (j = i; j < n && j < i + batch; j++) {
			ev = sample_event(first + j);
			if (len + strlen(ev) + 3 > cap) {
				cap = 2 * (len + strlen(ev) + 3);
				buf = xrealloc(buf, cap);
			}
			len += (size_t)sprintf(buf + len, "%s%s", j > i ? "," : "", ev);
			free(ev);
		}
		strcpy(buf + len, "]");
		len++;
		rc = http_request(hc, "POST", "/v1/events/batch", auth,
		    "application/json", NULL, buf, len, &r);
		free(buf);
		if (rc != 0 || r.status != 201) {
			fprintf(stderr, "  POST /v1/events/batch: %d %d %s\n", rc,
			    rc == 0 ? r.status : 0, rc == 0 ? r.body : "");
			if (rc == 0)
				http_response_free(&r);
			return -1;
		}
		http_response_free(&r);
	}
	return 0;
}

int
check_entry_(const char *file, int line, struct http_client *hc,
    const struct appended *a)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	json_t *entry = NULL, *seq;
	char *bytes;
	size_t len;
	int status, ok = 1;

	status = fetch_entry(hc, a->seq, &bytes, &len);
	if (status != 200) {
		fprintf(stderr, "  %s:%d: GET /v1/events/%" PRIu64 ": %d\n", file,
		    line, a->seq, status);
		test_failures_++;
		return 0;
	}
	ledger_leaf_hash(bytes, len, leaf);
	if (memcmp(leaf, a->leaf_hash, LEDGER_HASH_LEN) != 0) {
		fprintf(stderr, "  %s:%d: entry %" PRIu64 ": leaf hash %s",
		    file, line, a->seq, hash_hex(leaf));
		fprintf(stderr, " != acknowledged %s\n", hash_hex(a->leaf_hash));
		ok = 0;
	}
	entry = json_loadb(bytes, len, 0, NULL);
	seq = json_object_get(entry, "seq");
	if (!json_is_integer(seq) || (uint64_t)json_integer_value(seq) != a->seq) {
		fprintf(stderr, "  %s:%d: entry %" PRIu64 " has no matching seq: %.*s\n",
		    file, line, a->seq, (int)len, bytes);
		ok = 0;
	}
	json_decref(entry);
	free(bytes);
	if (!ok)
		test_failures_++;
	return ok;
}

uint8_t (*leaf_hashes(struct http_client *hc, uint64_t n))[LEDGER_HASH_LEN]
{
	uint8_t (*h)[LEDGER_HASH_LEN] = xcalloc(n ? n : 1, LEDGER_HASH_LEN);
	char *bytes;
	size_t len;
	uint64_t i;
	int status;

	for (i = 0; i < n; i++) {
		if ((status = fetch_entry(hc, i, &bytes, &len)) != 200) {
			fprintf(stderr, "  GET /v1/events/%" PRIu64 ": %d\n", i, status);
			free(h);
			return NULL;
		}
		ledger_leaf_hash(bytes, len, h[i]);
		free(bytes);
	}
	return h;
}

long long
metric_value(unsigned port, const char *token, const char *name)
{
	struct http_client hc;
	struct http_response r;
	long long v = -1;
	size_t n = strlen(name);
	const char *line;

	http_client_init(&hc, port, token);
	if (http_get(&hc, "/metrics", &r) != 0)
		goto out;
	for (line = r.body; line != NULL && *line != '\0';
	    line = strchr(line, '\n') != NULL ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ' ')
			v = strtoll(line + n + 1, NULL, 10);
	http_response_free(&r);
out:
	http_client_close(&hc);
	return v;
}

int
period_token_key(const char *data, uint8_t key[LEDGER_SUBJECT_KEY_LEN])
{
	uint8_t secret[LEDGER_PERIOD_SECRET_LEN];
	char now[LEDGER_TIME_LEN + 1], period[LEDGER_PERIOD_ID_MAX + 1];
	struct timespec ts;
	char *path;
	int rc = -1;

	clock_gettime(CLOCK_REALTIME, &ts);
	ledger_time_format((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, now);
	if (ledger_period_name(now, LEDGER_PERIOD_QUARTER, period) != 0)
		return -1;
	path = xasprintf("%s/keys/%s.key", data, period);
	if (ledger_keyfile_read_secret(path, secret, sizeof(secret)) == 0 &&
	    ledger_period_token_key(secret, key) == 0)
		rc = 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	free(path);
	return rc;
}
