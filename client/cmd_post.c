/*
 * ledgerctl post: one event from a file or stdin (POST /v1/events), or
 * NDJSON sent in chunks through POST /v1/events/batch, each event keyed so
 * that a re-run stores nothing twice.  With a key, the checkpoint and
 * inclusion proof of a single append are verified.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/hash.h"
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
    "  --no-derived-keys      with --batch: do not give events without an\n"
    "                         idempotency_key the key derived from their content\n"
    "With --batch, each event without an idempotency_key gets\n"
    "\"ledgerctl:\" + hex SHA-256 of its sorted compact JSON (\".k\" added for\n"
    "the k-th copy of one event), so a re-run after a failure stores nothing\n"
    "twice.\n"
    "With --key (or LEDGER_KEY) a single append's checkpoint and inclusion\n"
    "proof are verified.\n"
    "  --witnessed            a single event: answered once a published\n"
    "                         checkpoint covers it (?wait=witnessed), which\n"
    "                         must meet --policy's quorum\n";

/*
 * The checkpoint and proof of a ?wait=checkpoint answer, or of a
 * ?wait=witnessed one, whose checkpoint must then meet the policy.
 */
static int
verify_append(struct ctl *ctl, const json_t *body, int witnessed)
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
	/*
	 * Without --witnessed, the commit's own checkpoint, which no witness
	 * has seen yet: witnesses cosign published checkpoints later, so a
	 * policy is not applied to it.
	 */
	if ((rc = witnessed ? ctl_open_checkpoint(ctl, note, strlen(note),
	    "the append answer", &cp) : ctl_open_checkpoint_unwitnessed(ctl,
	    note, strlen(note), "the append answer", &cp)) != 0)
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
post_one(struct ctl *ctl, const char *path, const char *idem, int witnessed)
{
	struct http_client *c;
	struct http_reply r;
	json_t *body = NULL;
	char *text = NULL, *headers_target;
	size_t len;
	int rc = 0, verify = ctl->key_arg != NULL || getenv("LEDGER_KEY") ||
	    witnessed;

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
	headers_target = witnessed ? "/v1/events?wait=witnessed" : verify ?
	    "/v1/events?wait=checkpoint" : "/v1/events";
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
	if (verify && (rc = verify_append(ctl, body, witnessed)) != 0)
		goto out;
	if (ctl->json)
		printf("%s\n", r.body);
	else if (json_is_true(json_object_get(body, "repeat")))
		printf("already stored: seq %" JSON_INTEGER_FORMAT " was "
		    "appended by an earlier post with this idempotency key "
		    "(tree size %" JSON_INTEGER_FORMAT ")%s\n",
		    json_integer_value(json_object_get(body, "seq")),
		    json_integer_value(json_object_get(body, "tree_size")),
		    !verify ? "" : witnessed ? ", inclusion verified in a "
		    "witnessed checkpoint" : ", inclusion verified");
	else
		printf("appended seq %" JSON_INTEGER_FORMAT " (tree size %"
		    JSON_INTEGER_FORMAT ")%s\n",
		    json_integer_value(json_object_get(body, "seq")),
		    json_integer_value(json_object_get(body, "tree_size")),
		    !verify ? "" : witnessed ? ", inclusion verified in a "
		    "witnessed checkpoint" : ", inclusion verified");
out:
	json_decref(body);
	http_reply_free(&r);
	return rc;
}

/* One event of a batch input: its (possibly keyed) text and where it came from. */
struct batch_event {
	char *text;		/* compact JSON, one line; owned */
	size_t line;		/* 1-based input line */
	uint8_t event_hash[LEDGER_HASH_LEN];	/* derived keys only */
	int derived;		/* the event gets a derived key */
	json_int_t seq;		/* from the answer */
	int repeat;
};

struct batch_run {
	struct batch_event *ev;
	size_t n;
	json_int_t tree_size;	/* of the last answer */
};

/* json_dumps, which fails only when memory runs out: then as xmalloc does. */
static char *
dump_json(const json_t *j, size_t flags)
{
	char *text = json_dumps(j, flags);

	if (text == NULL) {
		fprintf(stderr, "fatal: out of memory serialising JSON\n");
		abort();
	}
	return text;
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
cmp_event_hash(const void *a, const void *b)
{
	const struct batch_event *const *x = a, *const *y = b;
	int c = memcmp((*x)->event_hash, (*y)->event_hash, LEDGER_HASH_LEN);

	if (c != 0)
		return c;
	return (*x)->line < (*y)->line ? -1 : (*x)->line > (*y)->line;
}

/*
 * Gives each event without a key its derived key (docs/ledgerctl.md):
 * "ledgerctl:" and the hex SHA-256 of the event as sorted compact JSON,
 * and for the k-th copy (k >= 2) of the same event in the input ".k", so
 * that every line gets the same key on every run and identical lines
 * stay distinct entries.
 */
static void
key_events(struct batch_run *b)
{
	static const char hex[] = "0123456789abcdef";
	struct batch_event **v = xcalloc(b->n ? b->n : 1, sizeof(*v));
	char key[10 + 2 * LEDGER_HASH_LEN + 24] = "ledgerctl:", *text;
	size_t i, j, m = 0, copy = 1, len;

	for (i = 0; i < b->n; i++)
		if (b->ev[i].derived)
			v[m++] = &b->ev[i];
	qsort(v, m, sizeof(*v), cmp_event_hash);
	for (i = 0; i < m; i++) {
		copy = i > 0 && memcmp(v[i - 1]->event_hash, v[i]->event_hash,
		    LEDGER_HASH_LEN) == 0 ? copy + 1 : 1;
		for (j = 0; j < LEDGER_HASH_LEN; j++) {
			key[10 + 2 * j] = hex[v[i]->event_hash[j] >> 4];
			key[10 + 2 * j + 1] = hex[v[i]->event_hash[j] & 15];
		}
		key[10 + 2 * LEDGER_HASH_LEN] = '\0';
		if (copy > 1)
			snprintf(key + 10 + 2 * LEDGER_HASH_LEN, 24, ".%zu",
			    copy);
		/* The text is a compact object without the key: add it last. */
		text = v[i]->text;
		len = strlen(text);
		v[i]->text = xasprintf("%.*s%s\"idempotency_key\":\"%s\"}",
		    (int)(len - 1), text, len > 2 ? "," : "", key);
		free(text);
	}
	free(v);
}

/* Reads the NDJSON input into b, keying every event that has no key. */
static int
read_batch(const char *path, int derive, struct batch_run *b)
{
	const char *p, *end, *nl;
	size_t len, line = 0, cap = 0;
	json_error_t jerr;
	char *text, *sorted;
	json_t *ev;
	int rc = 0;

	if (ctl_read_file(path, &text, &len) != 0)
		return ctl_fail(EXIT_IO, "cannot read %s: %s", path,
		    strerror(errno));
	end = text + len;
	for (p = text; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line++;
		if (is_blank(p, nl))
			continue;
		if ((ev = json_loadb(p, (size_t)(nl - p),
		    JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
		    !json_is_object(ev)) {
			rc = ctl_fail(EXIT_USAGE, "%s line %zu: %s", path, line,
			    ev == NULL ? jerr.text : "not a JSON object");
			json_decref(ev);
			break;
		}
		if (b->n == cap) {
			cap = cap ? 2 * cap : 256;
			b->ev = xrealloc(b->ev, cap * sizeof(*b->ev));
		}
		memset(&b->ev[b->n], 0, sizeof(b->ev[b->n]));
		b->ev[b->n].line = line;
		if (derive && json_object_get(ev, "idempotency_key") == NULL) {
			sorted = dump_json(ev, JSON_COMPACT | JSON_SORT_KEYS);
			rc = ledger_sha256(sorted, strlen(sorted),
			    b->ev[b->n].event_hash);
			free(sorted);
			if (rc != 0) {
				json_decref(ev);
				rc = ctl_fail(EXIT_IO, "SHA-256 failed");
				break;
			}
			b->ev[b->n].derived = 1;
		}
		b->ev[b->n++].text = dump_json(ev, JSON_COMPACT);
		json_decref(ev);
	}
	free(text);
	if (rc == 0)
		key_events(b);
	return rc;
}

/* What a failed run says is stored: the chunks before the failing one. */
static void
say_stored_before(const struct batch_run *b, size_t first)
{
	if (first == 0)
		fprintf(stderr, "ledgerctl: nothing of the input is stored\n");
	else
		fprintf(stderr, "ledgerctl: input lines %zu..%zu are stored "
		    "(%zu events)\n", b->ev[0].line, b->ev[first - 1].line,
		    first);
}

/* The events [first, first + n) of b in one batch request. */
static int
send_chunk(struct ctl *ctl, struct http_client *c, struct batch_run *b,
    size_t first, size_t n, int derive)
{
	struct http_reply r;
	json_t *body = NULL, *events;
	const char *field;
	char *data;
	size_t i, len = 0, at, failing;
	int rc = 0;

	for (i = first; i < first + n; i++)
		len += strlen(b->ev[i].text) + 1;
	data = xmalloc(len + 1);
	for (i = first, at = 0; i < first + n; i++) {
		size_t l = strlen(b->ev[i].text);

		memcpy(data + at, b->ev[i].text, l);
		data[at + l] = '\n';
		at += l + 1;
	}
	if (http_client_request(c, "POST", "/v1/events/batch",
	    "application/x-ndjson", data, len, &r) != 0) {
		free(data);
		rc = ctl_fail(EXIT_SERVER, "POST /v1/events/batch (input lines "
		    "%zu..%zu): %s; these may or may not be stored%s",
		    b->ev[first].line, b->ev[first + n - 1].line,
		    http_client_error(c), derive ? "; running the same "
		    "command again stores each event once" : "");
		say_stored_before(b, first);
		return rc;
	}
	free(data);
	if (r.status != 200 && r.status != 201) {
		/* The server names the event by its place in the chunk: "[i]...". */
		body = json_loadb(r.body, r.len, 0, NULL);
		field = json_string_value(json_object_get(json_object_get(body,
		    "error"), "field"));
		if (field != NULL && field[0] == '[' &&
		    (failing = strtoul(field + 1, NULL, 10)) < n)
			rc = ctl_fail(EXIT_SERVER, "input line %zu was refused "
			    "(%s): %d %s; its chunk (input lines %zu..%zu) is not "
			    "stored", b->ev[first + failing].line, field,
			    r.status, http_reply_message(&r), b->ev[first].line,
			    b->ev[first + n - 1].line);
		else
			rc = ctl_fail(EXIT_SERVER, "input lines %zu..%zu were "
			    "refused: %d %s; they are not stored",
			    b->ev[first].line, b->ev[first + n - 1].line,
			    r.status, http_reply_message(&r));
		say_stored_before(b, first);
		goto out;
	}
	events = (body = json_loadb(r.body, r.len, 0, NULL)) != NULL ?
	    json_object_get(body, "events") : NULL;
	if (json_array_size(events) != n) {
		rc = ctl_fail(EXIT_SERVER, "the batch answer for input lines "
		    "%zu..%zu is not one result per event", b->ev[first].line,
		    b->ev[first + n - 1].line);
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(events, i);

		b->ev[first + i].seq = json_integer_value(json_object_get(e,
		    "seq"));
		b->ev[first + i].repeat = json_is_true(json_object_get(e,
		    "repeat"));
	}
	b->tree_size = json_integer_value(json_object_get(body, "tree_size"));
out:
	json_decref(body);
	http_reply_free(&r);
	return rc;
}

/* The input lines of the repeats as [first, last] ranges of consecutive lines. */
static json_t *
repeat_ranges(const struct batch_run *b)
{
	json_t *ranges = json_array();
	size_t i = 0, j;

	while (i < b->n) {
		if (!b->ev[i].repeat) {
			i++;
			continue;
		}
		for (j = i; j + 1 < b->n && b->ev[j + 1].repeat &&
		    b->ev[j + 1].line == b->ev[j].line + 1; j++)
			;
		json_array_append_new(ranges, json_pack("[I,I]",
		    (json_int_t)b->ev[i].line, (json_int_t)b->ev[j].line));
		i = j + 1;
	}
	return ranges;
}

static void
print_summary(const struct ctl *ctl, const struct batch_run *b,
    const char *path)
{
	json_int_t lo = -1, hi = -1;
	json_t *ranges = repeat_ranges(b), *rg;
	size_t i, repeats = 0;

	for (i = 0; i < b->n; i++) {
		repeats += b->ev[i].repeat != 0;
		if (lo < 0 || b->ev[i].seq < lo)
			lo = b->ev[i].seq;
		if (b->ev[i].seq > hi)
			hi = b->ev[i].seq;
	}
	if (ctl->json) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:o}",
		    "count", (json_int_t)b->n,
		    "new", (json_int_t)(b->n - repeats),
		    "repeats", (json_int_t)repeats, "repeat_lines", ranges);
		char *text;

		if (b->n > 0) {
			json_object_set_new(o, "first_seq", json_integer(lo));
			json_object_set_new(o, "last_seq", json_integer(hi));
			json_object_set_new(o, "tree_size",
			    json_integer(b->tree_size));
		}
		text = dump_json(o, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s\n", text);
		free(text);
		json_decref(o);
		return;
	}
	if (b->n == 0) {
		printf("no events in %s\n", path);
		json_decref(ranges);
		return;
	}
	if (repeats == 0)
		printf("appended %zu events, seq %" JSON_INTEGER_FORMAT "..%"
		    JSON_INTEGER_FORMAT " (tree size %" JSON_INTEGER_FORMAT
		    ")\n", b->n, lo, hi, b->tree_size);
	else {
		printf("appended %zu events, %zu were already stored; the "
		    "input's %zu events are at seq %" JSON_INTEGER_FORMAT "..%"
		    JSON_INTEGER_FORMAT " (tree size %" JSON_INTEGER_FORMAT
		    ")\nalready stored (idempotent repeats): input line",
		    b->n - repeats, repeats, b->n, lo, hi, b->tree_size);
		json_array_foreach(ranges, i, rg) {
			json_int_t a = json_integer_value(json_array_get(rg, 0));
			json_int_t z = json_integer_value(json_array_get(rg, 1));

			if (i == 10) {
				printf(" ...");
				break;
			}
			printf(i ? ", " : (a == z ? " " : "s "));
			if (a == z)
				printf("%" JSON_INTEGER_FORMAT, a);
			else
				printf("%" JSON_INTEGER_FORMAT "-%"
				    JSON_INTEGER_FORMAT, a, z);
		}
		printf("\n");
	}
	json_decref(ranges);
}

static int
post_batch(struct ctl *ctl, const char *path, uint64_t chunk, int derive)
{
	struct batch_run b;
	struct http_client *c;
	struct progress pg;
	size_t i, n;
	int rc;

	memset(&b, 0, sizeof(b));
	if ((rc = read_batch(path, derive, &b)) != 0)
		goto out;
	if ((c = ctl_http(ctl)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	progress_start(&pg, "posting", "events", b.n);
	for (i = 0; i < b.n; i += n) {
		n = b.n - i < chunk ? b.n - i : (size_t)chunk;
		if ((rc = send_chunk(ctl, c, &b, i, n, derive)) != 0)
			break;
		progress_update(&pg, i + n);
	}
	progress_end(&pg);
	if (rc == 0)
		print_summary(ctl, &b, path);
out:
	for (i = 0; i < b.n; i++)
		free(b.ev[i].text);
	free(b.ev);
	return rc;
}

int
cmd_post(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "batch", required_argument, NULL, 'b' },
	    { "chunk", required_argument, NULL, 'c' },
	    { "idempotency-key", required_argument, NULL, 'i' },
	    { "no-derived-keys", no_argument, NULL, 'n' },
	    { "witnessed", no_argument, NULL, 'w' },
	    { NULL, 0, NULL, 0 } };
	const char *batch = NULL, *idem = NULL;
	uint64_t chunk = DEFAULT_CHUNK;
	int c, derive = 1, witnessed = 0;

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
		case 'n':
			derive = 0;
			break;
		case 'w':
			witnessed = 1;
			break;
		default:
			if (!ctl_common_option(ctl, c, optarg))
				return ctl_usage_error("post", "bad option");
		}
	}
	if (!derive && batch == NULL)
		return ctl_usage_error("post", "--no-derived-keys is for --batch");
	if (witnessed && batch != NULL)
		return ctl_usage_error("post", "--witnessed is for single "
		    "events");
	if (batch != NULL) {
		if (optind != argc)
			return ctl_usage_error("post", "--batch takes no FILE "
			    "argument besides its own");
		if (idem != NULL)
			return ctl_usage_error("post", "--idempotency-key is "
			    "for single events; put keys in batch events");
		return post_batch(ctl, batch, chunk, derive);
	}
	if (argc - optind > 1)
		return ctl_usage_error("post", "one FILE at most");
	if (ctl->key_arg != NULL || getenv("LEDGER_KEY") != NULL || witnessed) {
		int rc = ctl_need_key(ctl);

		if (rc != 0)
			return rc;
	}
	return post_one(ctl, optind < argc ? argv[optind] : "-", idem,
	    witnessed);
}
