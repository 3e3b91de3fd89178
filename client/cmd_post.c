/*
 * ledgerctl post: one event from a file or stdin (POST /v1/events), or
 * NDJSON sent in chunks through POST /v1/events/batch.  With a key, the
 * checkpoint and inclusion proof of a single append are verified.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "progress.h"

#define DEFAULT_CHUNK 1000

static const char usage_text[] =
    "usage: ledgerctl post [options] [FILE|-]\n"
    "       ledgerctl post [options] --batch FILE|-\n"
    "Appends one event (a JSON object) read from FILE or stdin, or with\n"
    "--batch the events of an NDJSON file (one a line), sent in chunks\n"
    "through the batch endpoint; each chunk is all or nothing.\n"
    "  --batch FILE|-         NDJSON input\n"
    "  --chunk N              events per batch request (default 1000)\n"
    "  --idempotency-key K    for a single event: a repeat returns the original\n"
    "With --key (or LEDGER_KEY) a single append's checkpoint and inclusion\n"
    "proof are verified.\n";

/* The checkpoint and proof of a ?wait=checkpoint answer. */
static int
verify_append(struct ctl *ctl, const json_t *body)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	const json_t *ip = json_object_get(body, "inclusion_proof");
	const char *note = json_string_value(json_object_get(body,
	    "checkpoint"));
	struct ledger_checkpoint cp;
	json_int_t seq = json_integer_value(json_object_get(body, "seq"));
	size_t n;
	int rc;

	if (note == NULL || !json_is_object(ip))
		return ctl_verify_fail("the append answer carries no "
		    "checkpoint and proof");
	if ((rc = ctl_open_checkpoint(ctl, note, strlen(note),
	    "the append answer", &cp)) != 0)
		return rc;
	if (ctl_decode_hash(json_string_value(json_object_get(ip,
	    "leaf_hash")), leaf) != 0 || ctl_decode_hashes(json_object_get(ip,
	    "hashes"), proof, LEDGER_MAX_PROOF, &n) != 0 ||
	    json_integer_value(json_object_get(ip, "index")) != seq ||
	    (uint64_t)json_integer_value(json_object_get(ip, "tree_size")) !=
	    cp.tree_size)
		return ctl_verify_fail("the append answer's proof is malformed");
	if (ledger_merkle_verify_inclusion(leaf, (uint64_t)seq, cp.tree_size,
	    proof, n, cp.root) != 0)
		return ctl_verify_fail("seq %lld: the inclusion proof does not "
		    "verify against the checkpoint of size %" PRIu64,
		    (long long)seq, cp.tree_size);
	return 0;
}

static int
post_one(struct ctl *ctl, const char *path, const char *idem)
{
	struct http_client *c;
	struct http_reply r;
	json_t *body = NULL;
	char *text = NULL, *headers_target;
	size_t len;
	int rc = 0, verify = ctl->key_arg != NULL || getenv("LEDGER_KEY");

	if (ctl_read_file(path, &text, &len) != 0)
		return ctl_fail(EXIT_IO, "cannot read %s: %s", path,
		    strerror(errno));
	if ((c = ctl_http(ctl)) == NULL) {
		free(text);
		return EXIT_USAGE;
	}
	if (idem != NULL) {
		/* The key travels in the event, where the API also reads it. */
		json_t *ev = json_loadb(text, len, 0, NULL);

		if (ev == NULL || !json_is_object(ev)) {
			json_decref(ev);
			free(text);
			return ctl_fail(EXIT_USAGE, "%s is not a JSON object",
			    path);
		}
		json_object_set_new(ev, "idempotency_key", json_string(idem));
		free(text);
		text = json_dumps(ev, JSON_COMPACT);
		len = strlen(text);
		json_decref(ev);
	}
	headers_target = verify ? "/v1/events?wait=checkpoint" : "/v1/events";
	if (http_client_request(c, "POST", headers_target, "application/json",
	    text, len, &r) != 0) {
		free(text);
		return ctl_fail(EXIT_SERVER, "POST /v1/events: %s",
		    http_client_error(c));
	}
	free(text);
	if (r.status != 200 && r.status != 201) {
		rc = ctl_fail(EXIT_SERVER, "the event was refused: %d %s",
		    r.status, http_reply_message(&r));
		goto out;
	}
	if ((body = json_loadb(r.body, r.len, 0, NULL)) == NULL) {
		rc = ctl_fail(EXIT_SERVER, "the append answer is not JSON");
		goto out;
	}
	if (verify && (rc = verify_append(ctl, body)) != 0)
		goto out;
	if (ctl->json)
		printf("%s\n", r.body);
	else
		printf("appended seq %" JSON_INTEGER_FORMAT " (tree size %"
		    JSON_INTEGER_FORMAT ")%s\n",
		    json_integer_value(json_object_get(body, "seq")),
		    json_integer_value(json_object_get(body, "tree_size")),
		    verify ? ", inclusion verified" : "");
out:
	json_decref(body);
	http_reply_free(&r);
	return rc;
}

/* The events of one batch request: lines [first, end) of the input. */
static int
send_chunk(struct ctl *ctl, struct http_client *c, const char *data,
    size_t len, size_t first_line, json_int_t *first_seq,
    json_int_t *last_seq, json_int_t *tree_size)
{
	struct http_reply r;
	json_t *body = NULL, *events;
	const char *field;
	int rc = 0;

	if (http_client_request(c, "POST", "/v1/events/batch",
	    "application/x-ndjson", data, len, &r) != 0)
		return ctl_fail(EXIT_SERVER, "POST /v1/events/batch (lines "
		    "from %zu): %s; the chunk may or may not be stored",
		    first_line, http_client_error(c));
	if (r.status != 200 && r.status != 201) {
		/* The server names the event by its place in the chunk. */
		body = json_loadb(r.body, r.len, 0, NULL);
		field = json_string_value(json_object_get(json_object_get(body,
		    "error"), "field"));
		rc = ctl_fail(EXIT_SERVER, "a batch was refused (input lines "
		    "from %zu%s%s): %d %s; earlier chunks are stored, this one "
		    "is not", first_line, field ? ", event " : "",
		    field ? field : "", r.status, http_reply_message(&r));
		goto out;
	}
	if ((body = json_loadb(r.body, r.len, 0, NULL)) == NULL) {
		rc = ctl_fail(EXIT_SERVER, "the batch answer is not JSON");
		goto out;
	}
	events = json_object_get(body, "events");
	if (*first_seq < 0)
		*first_seq = json_integer_value(json_object_get(body,
		    "first_seq"));
	*last_seq = json_integer_value(json_object_get(json_array_get(events,
	    json_array_size(events) - 1), "seq"));
	*tree_size = json_integer_value(json_object_get(body, "tree_size"));
out:
	json_decref(body);
	http_reply_free(&r);
	return rc;
}

static int
is_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

static int
post_batch(struct ctl *ctl, const char *path, uint64_t chunk)
{
	json_int_t first_seq = -1, last_seq = -1, tree_size = 0;
	const char *p, *end, *nl, *chunk_start;
	size_t len, total = 0, done = 0, in_chunk = 0, line = 0, chunk_line = 1;
	struct http_client *c;
	struct progress pg;
	char *text = NULL;
	int rc = 0;

	if (ctl_read_file(path, &text, &len) != 0)
		return ctl_fail(EXIT_IO, "cannot read %s: %s", path,
		    strerror(errno));
	if ((c = ctl_http(ctl)) == NULL) {
		free(text);
		return EXIT_USAGE;
	}
	end = text + len;
	for (p = text; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		total += !is_blank(p, nl);
	}
	progress_start(&pg, "posting", "events", total);
	chunk_start = text;
	for (p = text; p < end || in_chunk > 0; p = nl + 1) {
		if (p < end) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			line++;
			if (!is_blank(p, nl))
				in_chunk++;
			if (in_chunk < chunk && nl < end)
				continue;
		} else
			nl = end;
		if (in_chunk > 0) {
			if ((rc = send_chunk(ctl, c, chunk_start,
			    (size_t)((nl < end ? nl + 1 : end) - chunk_start),
			    chunk_line, &first_seq, &last_seq,
			    &tree_size)) != 0)
				goto out;
			done += in_chunk;
			progress_update(&pg, done);
		}
		in_chunk = 0;
		chunk_start = nl < end ? nl + 1 : end;
		chunk_line = line + 1;
		if (nl >= end)
			break;
	}
	progress_end(&pg);
	if (ctl->json)
		printf("{\"count\":%zu,\"first_seq\":%" JSON_INTEGER_FORMAT
		    ",\"last_seq\":%" JSON_INTEGER_FORMAT ",\"tree_size\":%"
		    JSON_INTEGER_FORMAT "}\n", done, first_seq, last_seq,
		    tree_size);
	else if (done == 0)
		printf("no events in %s\n", path);
	else
		printf("appended %zu events, seq %" JSON_INTEGER_FORMAT "..%"
		    JSON_INTEGER_FORMAT " (tree size %" JSON_INTEGER_FORMAT
		    ")\n", done, first_seq, last_seq, tree_size);
out:
	if (rc != 0)
		progress_end(&pg);
	free(text);
	return rc;
}

int
cmd_post(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "batch", required_argument, NULL, 'b' },
	    { "chunk", required_argument, NULL, 'c' },
	    { "idempotency-key", required_argument, NULL, 'i' },
	    { NULL, 0, NULL, 0 } };
	const char *batch = NULL, *idem = NULL;
	uint64_t chunk = DEFAULT_CHUNK;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		case 'b':
			batch = optarg;
			break;
		case 'c':
			if (ctl_parse_u64(optarg, &chunk) != 0 || chunk == 0 ||
			    chunk > 100000)
				return ctl_usage_error("post", "--chunk must be "
				    "1 to 100000");
			break;
		case 'i':
			idem = optarg;
			break;
		default:
			if (!ctl_common_option(ctl, c, optarg))
				return ctl_usage_error("post", "bad option");
		}
	}
	if (batch != NULL) {
		if (optind != argc)
			return ctl_usage_error("post", "--batch takes no FILE "
			    "argument besides its own");
		if (idem != NULL)
			return ctl_usage_error("post", "--idempotency-key is "
			    "for single events; put keys in batch events");
		return post_batch(ctl, batch, chunk);
	}
	if (argc - optind > 1)
		return ctl_usage_error("post", "one FILE at most");
	if (ctl->key_arg != NULL || getenv("LEDGER_KEY") != NULL) {
		int rc = ctl_need_key(ctl);

		if (rc != 0)
			return rc;
	}
	return post_one(ctl, optind < argc ? argv[optind] : "-", idem);
}
