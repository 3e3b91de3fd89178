/*
 * The sample events under tests/schema against the real daemon: every
 * valid-*.json is appended (201), every invalid-*.json is refused with a
 * 4xx JSON error and leaves the log as it was.  The directory is looked up
 * under $LEDGER_TEST_SRCDIR (the repository root) or the current directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

#define SEED_EVENTS 8	/* entries written first, so that small refs exist */

static char samples_dir[1024];

static int
find_samples_dir(void)
{
	const char *src = getenv("LEDGER_TEST_SRCDIR");
	struct stat st;

	snprintf(samples_dir, sizeof(samples_dir), "%s%stests/schema",
	    src != NULL && src[0] != '\0' ? src : "",
	    src != NULL && src[0] != '\0' ? "/" : "");
	return stat(samples_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The expected (code, field) of an invalid sample, from the table in
 * tests/schema/README ("sample  code  field", field "" for the body).
 * Returns 1 when the sample is listed.
 */
static int
expected_error(const char *name, char *code, size_t code_len, char *field,
    size_t field_len)
{
	char path[2048], line[512], n[256], c[64], f[256];
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "%s/README", samples_dir);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, " %255s %63s %255s", n, c, f) != 3 ||
		    strcmp(n, name) != 0)
			continue;
		snprintf(code, code_len, "%s", c);
		snprintf(field, field_len, "%s", strcmp(f, "\"\"") == 0 ? "" : f);
		found = 1;
	}
	fclose(fp);
	return found;
}

static int
is_sample(const struct dirent *e, const char *prefix)
{
	size_t n = strlen(e->d_name);

	return strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n > 5 &&
	    strcmp(e->d_name + n - 5, ".json") == 0;
}

static int
is_valid_sample(const struct dirent *e)
{
	return is_sample(e, "valid-");
}

static int
is_invalid_sample(const struct dirent *e)
{
	return is_sample(e, "invalid-");
}

static char *
read_sample(const char *name, size_t *len)
{
	char path[2048];
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, n;

	snprintf(path, sizeof(path), "%s/%s", samples_dir, name);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "  %s: %s\n", path, strerror(errno));
		return NULL;
	}
	*len = 0;
	do {
		if (cap - *len < 4096) {
			cap = cap * 2 + 4096;
			buf = xrealloc(buf, cap + 1);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void
check_repeat(struct http_client *hc, const struct daemon *d, const char *name,
    const char *body, size_t len, const struct appended *first)
{
	struct http_response r;
	struct appended again;
	json_t *answer;

	if (http_request(hc, "POST", "/v1/events", d->auth, "application/json",
	    NULL, body, len, &r) != 0) {
		test_failures_++;
		return;
	}
	answer = http_response_json(&r);
	if (r.status != 200 || parse_appended(answer, &again) != 0 ||
	    again.seq != first->seq ||
	    memcmp(again.leaf_hash, first->leaf_hash, LEDGER_HASH_LEN) != 0) {
		fprintf(stderr, "  %s posted again: want 200 with seq %llu, got %d %s\n",
		    name, (unsigned long long)first->seq, r.status, r.body);
		test_failures_++;
	}
	json_decref(answer);
	http_response_free(&r);
}

static void
body_samples(struct daemon *d)
{
	struct dirent **valid = NULL, **invalid = NULL;
	struct http_client hc;
	struct http_response r;
	long long size;
	int n_valid, n_invalid, i, rc;
	char *body;
	size_t len;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, SEED_EVENTS, 1) == 0);
	n_valid = scandir(samples_dir, &valid, is_valid_sample, alphasort);
	n_invalid = scandir(samples_dir, &invalid, is_invalid_sample, alphasort);
	if (n_valid <= 0 && n_invalid <= 0)
		printf("  note: no valid-*.json or invalid-*.json in %s\n", samples_dir);
	for (i = 0; i < n_valid; i++) {
		if ((body = read_sample(valid[i]->d_name, &len)) == NULL) {
			test_failures_++;
			continue;
		}
		rc = http_request(&hc, "POST", "/v1/events", d->auth,
		    "application/json", NULL, body, len, &r);
		if (rc != 0 || r.status != 201) {
			fprintf(stderr, "  %s: want 201, got %d: %s\n", valid[i]->d_name,
			    rc ? rc : r.status, rc ? "" : r.body);
			test_failures_++;
		} else {
			json_t *answer = http_response_json(&r);
			struct appended a;

			/* The stored entry is the one acknowledged. */
			if (parse_appended(answer, &a) == 0) {
				CHECK_ENTRY(&hc, &a);
				/* A repeat with an idempotency key gets the original. */
				if (strstr(body, "\"idempotency_key\"") != NULL)
					check_repeat(&hc, d, valid[i]->d_name, body, len, &a);
			} else {
				fprintf(stderr, "  %s: malformed answer %s\n",
				    valid[i]->d_name, r.body);
				test_failures_++;
			}
			json_decref(answer);
		}
		if (rc == 0)
			http_response_free(&r);
		free(body);
	}
	size = tree_size_now(&hc, &d->verifier);
	CHECK(size >= SEED_EVENTS);
	for (i = 0; i < n_invalid; i++) {
		if ((body = read_sample(invalid[i]->d_name, &len)) == NULL) {
			test_failures_++;
			continue;
		}
		rc = http_request(&hc, "POST", "/v1/events", d->auth,
		    "application/json", NULL, body, len, &r);
		if (rc != 0 || r.status < 400 || r.status > 499) {
			fprintf(stderr, "  %s: want 4xx, got %d: %s\n", invalid[i]->d_name,
			    rc ? rc : r.status, rc ? "" : r.body);
			test_failures_++;
		} else {
			char code[64] = "*", field[256] = "";
			int listed = expected_error(invalid[i]->d_name, code,
			    sizeof(code), field, sizeof(field));

			if (!CHECK_ERROR(&r, listed ? 400 : r.status, code,
			    listed ? field : NULL))
				fprintf(stderr, "  ^ %s\n", invalid[i]->d_name);
		}
		if (rc == 0)
			http_response_free(&r);
		free(body);
		if (tree_size_now(&hc, &d->verifier) != size) {
			fprintf(stderr, "  %s: was written to the log\n",
			    invalid[i]->d_name);
			test_failures_++;
			size = tree_size_now(&hc, &d->verifier);
		}
	}
	printf("  %d valid and %d invalid samples\n", n_valid > 0 ? n_valid : 0,
	    n_invalid > 0 ? n_invalid : 0);
	for (i = 0; i < n_valid; i++)
		free(valid[i]);
	for (i = 0; i < n_invalid; i++)
		free(invalid[i]);
	free(valid);
	free(invalid);
	http_client_close(&hc);
}

static void
test_schema_samples(void)
{
	if (!find_samples_dir()) {
		printf("  note: %s does not exist; schema samples skipped\n",
		    samples_dir);
		return;
	}
	daemon_test(body_samples);
}

int
main(void)
{
	RUN(test_schema_samples);
	return TEST_SUMMARY();
}
