/*
 * Events: appending one (POST /v1/events) or a batch (POST
 * /v1/events/batch) through the writer, reading one entry's exact bytes,
 * and the filtered, paginated listing.  Appends are checked here, before
 * the writer sees them, so that it only ever sees valid events: one event
 * on the loop's thread, a batch on a worker (offload.h), as are a batch's
 * answer and a listing, whose work grows with their size.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/jsonparse.h"
#include "ledger/number.h"
#include "ledger/xmalloc.h"

#include "append_answer.h"
#include "auth.h"
#include "config.h"
#include "hash_json.h"
#include "http.h"
#include "jsontext.h"
#include "keyring.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "opened.h"
#include "publish.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "timerange.h"
#include "writer.h"

#define EVENT_BODY_MAX (128 * 1024)	/* one event: 64 KiB entry, room to spare */
#define IDEMPOTENCY_KEY_MAX 128
#define DEFAULT_PAGE 100
#define LIST_MAX_EXAMINED 10000		/* entries looked at per page */
#define LIST_MAX_BYTES (16 * 1024 * 1024)	/* entry bytes parsed per page */
#define INDEX_CHUNK 256

/* Whether a Content-Type header names the media type want (parameters aside). */
static int
media_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static const char *
header(struct request *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    name);
}

/*
 * ?wait=checkpoint, ?wait=witnessed (spec §7.4) or nothing; any other value
 * is refused, and so is witnessed without a witness policy.  Returns -1
 * after answering.
 */
static int
parse_wait(struct request *r, int *want_proof, int *want_witnessed)
{
	static const char *const params[] = { "wait", NULL };
	const char *wait;

	*want_proof = 0;
	*want_witnessed = 0;
	if (query_check(r, params) != 0)
		return -1;
	if ((wait = query_str(r, "wait")) == NULL)
		return 0;
	if (strcmp(wait, "witnessed") == 0) {
		if (!publisher_has_policy(r->srv->publisher)) {
			reply_error(r, 400, "invalid_value", "wait",
			    "wait=witnessed needs witnesses, and this log has "
			    "no witness policy (witnesses.policy)");
			return -1;
		}
		*want_witnessed = 1;
		return 0;
	}
	if (strcmp(wait, "checkpoint") != 0) {
		reply_error(r, 400, "invalid_value", "wait",
		    "wait must be \"checkpoint\" or \"witnessed\"");
		return -1;
	}
	*want_proof = 1;
	return 0;
}

/*
 * The checks an event passes before it may be queued: spec §2.2 through
 * ledger_event_validate, then §9.5 (a writer posts for its own org only).
 * p posts it; cfg holds the registered orgs.  Any thread.
 * Returns 0, or the status to answer with err filled.
 */
static int
event_check(const struct principal *p, const struct config *cfg,
    const json_t *event, struct ledger_field_error *err)
{
	struct ledger_event_rules rules;
	const char *org;

	memset(&rules, 0, sizeof(rules));
	if (!p->any_org) {
		rules.orgs = (const char *const *)cfg->orgs;
		rules.n_orgs = cfg->n_orgs;
	}
	if (ledger_event_validate(event, &rules, err) != 0)
		return 400;
	org = json_string_value(json_object_get(json_object_get(event,
	    "actor"), "org"));
	if (!p->any_org && (org == NULL || strcmp(org, p->org) != 0)) {
		snprintf(err->field, sizeof(err->field), "actor.org");
		snprintf(err->code, sizeof(err->code), "forbidden");
		snprintf(err->message, sizeof(err->message),
		    "principal %.64s may only post events of org %.32s",
		    p->id, p->org);
		return 403;
	}
	return 0;
}

/* Idempotency keys: 1 to 128 printable ASCII characters, as in the event. */
static int
idempotency_key_valid(const char *k)
{
	size_t n = strlen(k), i;

	if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * The hash a repeat is recognised by (spec §2.7): the event, its key
 * included, as sorted compact JSON.
 */
static void
request_hash(const json_t *event, uint8_t out[LEDGER_HASH_LEN])
{
	char *text;

	if ((text = json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatalx("json_dumps: out of memory");
	if (ledger_sha256(text, strlen(text), out) != 0)
		fatalx("SHA-256 failed");
	free(text);
}

static const char *
default_error_code(int status)
{
	switch (status) {
	case 400: return "invalid_value";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 409: return "idempotency_conflict";
	case 413: return "too_large";
	case 503: return "overloaded";
	case 507: return "storage_full";
	default: return "internal";
	}
}

/* How a refused append is answered (spec §7.2). */
struct append_refusal {
	int status;
	const char *code;
	char field[160];		/* "" for none */
	const char *message;
};

/*
 * The answer to a refused append, from what the writer reported in a.  In
 * a batch, an error about one event (a 4xx) names it by its place:
 * "[3].refs[0]", as validation does.  Any thread.
 */
static void
append_refusal(const struct append_request *a, int batch,
    struct append_refusal *out)
{
	out->code = a->err.code[0] ? a->err.code :
	    default_error_code(a->status);
	out->status = a->status >= 400 && a->status < 600 ? a->status : 500;
	if (batch && out->status < 500) {
		if (a->err.field[0] != '\0')
			snprintf(out->field, sizeof(out->field), "[%zu].%s",
			    a->err_index, a->err.field);
		else
			snprintf(out->field, sizeof(out->field), "[%zu]",
			    a->err_index);
	} else
		snprintf(out->field, sizeof(out->field), "%s", a->err.field);
	out->message = a->err.message[0] ? a->err.message :
	    "the append failed";
}

static void
reply_append_error(struct request *r, const struct append_request *a,
    int batch)
{
	struct append_refusal f;

	append_refusal(a, batch, &f);
	if (f.status == 503 || f.status == 507)
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
	reply_error(r, f.status, f.code, f.field[0] ? f.field : NULL, "%s",
	    f.message);
}

/*
 * For wait=witnessed: the tree size a published checkpoint must reach to
 * cover every entry of the request, repeats too.
 */
static uint64_t
witnessed_need(const struct append_request *a)
{
	size_t n = json_array_size(a->events), i;
	uint64_t need = 0;

	for (i = 0; i < n; i++)
		if (a->results[i].seq + 1 > need)
			need = a->results[i].seq + 1;
	return need;
}

/*
 * What the writer's completion does first, on the loop's thread, before
 * an answer is made: the latency and, for an accepted append, the counters.
 * Returns 1 when a was accepted.
 */
static int
append_finished(struct request *r, struct append_request *a)
{
	struct metrics *m = &r->srv->metrics;
	size_t n = json_array_size(a->events), i, repeats = 0;

	metrics_observe(&m->append_seconds, metrics_latency_bounds,
	    METRICS_LATENCY_BUCKETS,
	    (double)(server_now_us() - a->queued_us) / 1e6);
	if (a->status != 200 && a->status != 201)
		return 0;
	for (i = 0; i < n; i++)
		repeats += a->results[i].repeated != 0;
	metrics_inc(&m->append_requests, 1);
	metrics_inc(&m->idempotent_repeats, repeats);
	return 1;
}

/*
 * Completion of one event's append, on the loop's thread.  The evhttp
 * request is still valid even if the client went away meanwhile (libevent
 * detaches it from the closed connection and frees it when we reply), so
 * answering is always right; then the append request is freed.
 */
static void
post_done(struct append_request *a, void *arg)
{
	struct request *r = arg;

	if (append_finished(r, a) && a->want_witnessed)
		publisher_wait_witnessed(r->srv->publisher, r, a->status,
		    append_answer(a, 0), a->results[0].seq, witnessed_need(a));
	else if (a->status == 200 || a->status == 201) {
		size_t len;
		char *text = append_answer_text(a, 0, &len);

		reply_bytes(r, a->status, "application/json", text, len);
		free(text);
	}
	else
		reply_append_error(r, a, 0);
	append_request_free(a);
}

/*
 * A batch's parsed events (and a waiting answer's tree), freed on a worker:
 * ten thousand events take tens of milliseconds to free, too long for the
 * loop, and a batch is dropped there when the writer's queue is full, its
 * client left, or its answer's work was skipped.  One such job follows a
 * request the pool held already (workers_continue).
 */
struct batch_free {
	struct job job;			/* first */
	struct append_request *a;
	json_t *body;
};

static void
batch_free_run(struct job *j)
{
	struct batch_free *f = (struct batch_free *)j;

	append_request_free(f->a);
	json_decref(f->body);
	f->a = NULL;
	f->body = NULL;
}

static void
batch_free_done(struct job *j)
{
	free(j);
}

static void
batch_free_later(struct server *srv, struct append_request *a, json_t *body)
{
	struct batch_free *f;

	if (a == NULL && body == NULL)
		return;
	f = xcalloc(1, sizeof(*f));
	f->job.run = batch_free_run;
	f->job.done = batch_free_done;
	f->a = a;
	f->body = body;
	workers_continue(srv->workers, &f->job);
}

/*
 * A batch's answer, made on a worker: ten thousand events take a while to
 * write out, and as long to free.
 */
struct batch_answer {
	struct offload o;		/* first */
	struct append_request *a;
	/* wait=witnessed: the answer waits for the publisher, on the loop */
	json_t *witnessed_body;
	int witnessed_status;
	uint64_t witnessed_index, witnessed_need;
};

static void
batch_answer_work(struct offload *o)
{
	struct batch_answer *b = (struct batch_answer *)o;
	struct append_refusal f;

	if ((b->a->status == 200 || b->a->status == 201) &&
	    b->a->want_witnessed) {
		b->witnessed_body = append_answer(b->a, 1);
		b->witnessed_status = b->a->status;
		b->witnessed_index = b->a->results[0].seq;
		b->witnessed_need = witnessed_need(b->a);
	} else if (b->a->status == 200 || b->a->status == 201) {
		size_t len;
		char *text = append_answer_text(b->a, 1, &len);

		offload_answer_owned(o, b->a->status, "application/json", text,
		    len);
	}
	else {
		append_refusal(b->a, 1, &f);
		o->retry_after = f.status == 503 || f.status == 507;
		offload_answer_error(o, f.status, f.code, f.field, "%s",
		    f.message);
	}
	append_request_free(b->a);
	b->a = NULL;
}

static void
batch_answer_done(struct offload *o, struct request *r)
{
	struct batch_answer *b = (struct batch_answer *)o;

	if (b->witnessed_body != NULL && r != NULL) {
		publisher_wait_witnessed(r->srv->publisher, r,
		    b->witnessed_status, b->witnessed_body, b->witnessed_index,
		    b->witnessed_need);
		b->witnessed_body = NULL;
	} else
		offload_reply(o, r);
	/* The events when the work was skipped; the tree when r left. */
	batch_free_later(o->srv, b->a, b->witnessed_body);
	offload_release(o);
	free(b);
}

/*
 * Completion of a batch's append, on the loop's thread: its answer, or its
 * refusal, is made on a worker.  The request is valid as in post_done().
 */
static void
batch_done(struct append_request *a, void *arg)
{
	struct request *r = arg;
	struct batch_answer *b;

	append_finished(r, a);
	b = xcalloc(1, sizeof(*b));
	b->a = a;
	offload_continue(r, &b->o, batch_answer_work, batch_answer_done);
}

/* Hands a to the writer, or answers 503 when its queue is full. */
static void
submit(struct request *r, struct append_request *a, int batch)
{
	a->done = batch ? batch_done : post_done;
	a->arg = r;
	a->queued_us = server_now_us();
	if (writer_submit(r->srv->writer, a) != 0) {
		metrics_inc(&r->srv->metrics.rejected_overload, 1);
		if (batch)
			batch_free_later(r->srv, a, NULL);
		else
			append_request_free(a);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		reply_error(r, 503, "overloaded", NULL,
		    "the append queue is full; retry shortly");
	}
	/* Otherwise the writer owns a, and its completion answers r. */
}

/*
 * The field an event's error names: err's, under prefix ("[3]") when the
 * event is one of a batch.  Empty when there is none.
 */
static void
field_name(char *field, size_t size, const struct ledger_field_error *err,
    const char *prefix)
{
	if (prefix == NULL)
		snprintf(field, size, "%s", err->field);
	else if (err->field[0] == '\0')
		snprintf(field, size, "%s", prefix);
	else
		snprintf(field, size, "%s.%s", prefix, err->field);
}

static void
reply_field_error(struct request *r, int status,
    const struct ledger_field_error *err, const char *prefix)
{
	char field[160];

	field_name(field, sizeof(field), err, prefix);
	reply_error(r, status, err->code, field[0] ? field : NULL, "%s",
	    err->message);
}

void
route_events_post(struct request *r)
{
	struct ledger_field_error err;
	struct append_request *a;
	const char *ct, *hkey, *fkey;
	json_error_t jerr;
	json_t *event = NULL;
	char *body = NULL;
	size_t len;
	int want_proof, want_witnessed, status;

	if (parse_wait(r, &want_proof, &want_witnessed) != 0)
		return;
	if ((ct = header(r, "Content-Type")) != NULL &&
	    !media_type_is(ct, "application/json")) {
		reply_error(r, 415, "unsupported_media_type", "Content-Type",
		    "events are posted as application/json");
		return;
	}
	if ((hkey = header(r, "Idempotency-Key")) != NULL &&
	    !idempotency_key_valid(hkey)) {
		reply_error(r, 400, "invalid_value", "Idempotency-Key",
		    "Idempotency-Key must be 1 to %d printable ASCII characters",
		    IDEMPOTENCY_KEY_MAX);
		return;
	}
	/* Refused before a body of up to max_body is copied on the loop. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(r->req)) >
	    EVENT_BODY_MAX) {
		reply_error(r, 413, "body_too_large", NULL,
		    "an event body may hold at most %d bytes", EVENT_BODY_MAX);
		return;
	}
	if ((body = read_body(r, &len)) == NULL)
		return;
	if ((event = ledger_json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		reply_error(r, 400, "invalid_json", NULL,
		    "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if ((status = event_check(r->principal, r->srv->cfg, event,
	    &err)) != 0) {
		reply_field_error(r, status, &err, NULL);
		goto out;
	}
	fkey = json_string_value(json_object_get(event, "idempotency_key"));
	if (hkey != NULL && fkey != NULL && strcmp(hkey, fkey) != 0) {
		reply_error(r, 400, "invalid_value", "Idempotency-Key",
		    "the Idempotency-Key header differs from the event's "
		    "idempotency_key");
		goto out;
	}
	/*
	 * Spec §2.7: the header is another way to write the event's
	 * idempotency_key, and the entry holds the key either way, so that
	 * what is stored does not depend on how the key travelled.
	 */
	if (hkey != NULL && fkey == NULL)
		json_object_set_new(event, "idempotency_key", json_string(hkey));

	a = append_request_new(json_pack("[O]", event), r->principal);
	a->want_proof = want_proof;
	a->want_witnessed = want_witnessed;
	/* The hash only matters for a repeat, so only keyed events pay for it. */
	if (hkey != NULL || fkey != NULL) {
		a->idem_keys[0] = xstrdup(hkey != NULL ? hkey : fkey);
		request_hash(event, a->request_hashes[0]);
	}
	submit(r, a, 0);
out:
	json_decref(event);
	free(body);
}

/*
 * A batch checked on a worker: the body goes in, an append request ready
 * for the writer (or the answer refusing the batch) comes out.
 */
struct batch_check {
	struct offload o;		/* first */
	struct evbuffer *body;		/* moved out of the request */
	int ndjson, want_proof, want_witnessed;
	struct append_request *a;	/* out: NULL when refused */
};

/* Parses an NDJSON body: one event a non-empty line.  Returns -1 after answering. */
static int
parse_ndjson(struct offload *o, const char *body, size_t len, json_t *events)
{
	size_t max = o->cfg->limits.max_batch_events;
	const char *line = body, *end = body + len, *nl, *p;
	unsigned lineno = 0;
	json_error_t jerr;
	json_t *event;
	char field[32];

	for (; line < end; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		for (p = line; p < nl && (*p == ' ' || *p == '\t' ||
		    *p == '\r'); p++)
			;
		if (p == nl)
			continue;
		if (json_array_size(events) >= max) {
			offload_answer_error(o, 413, "too_many_events", NULL,
			    "a batch holds at most %zu events", max);
			return -1;
		}
		if ((event = ledger_json_loadb(line, (size_t)(nl - line),
		    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			snprintf(field, sizeof(field), "[%zu]",
			    json_array_size(events));
			offload_answer_error(o, 400, "invalid_json", field,
			    "line %u column %d: %s", lineno, jerr.column,
			    jerr.text);
			return -1;
		}
		json_array_append_new(events, event);
	}
	return 0;
}

struct key_ref {
	const char *key;
	size_t index;
};

static int
key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Two events of one batch with the same idempotency key would make the
 * second a repeat of an entry not yet written: refused.  Returns -1 after
 * answering.
 */
static int
check_batch_keys(struct offload *o, struct append_request *a, size_t n)
{
	struct key_ref *refs = xcalloc(n, sizeof(*refs));
	size_t i, nk = 0;
	char field[48];
	int rc = 0;

	for (i = 0; i < n; i++)
		if (a->idem_keys[i] != NULL) {
			refs[nk].key = a->idem_keys[i];
			refs[nk++].index = i;
		}
	qsort(refs, nk, sizeof(*refs), key_ref_cmp);
	for (i = 1; i < nk; i++)
		if (strcmp(refs[i - 1].key, refs[i].key) == 0) {
			snprintf(field, sizeof(field), "[%zu].idempotency_key",
			    refs[i].index);
			offload_answer_error(o, 400, "invalid_value", field,
			    "the batch already has an event with this "
			    "idempotency_key ([%zu])", refs[i - 1].index);
			rc = -1;
			break;
		}
	free(refs);
	return rc;
}

/* On a worker: parse and check the batch, as spec §7.4 and §2.7 say. */
static void
batch_check_work(struct offload *o)
{
	struct batch_check *b = (struct batch_check *)o;
	size_t max = o->cfg->limits.max_batch_events, n, i, len;
	struct ledger_field_error err;
	struct append_request *a;
	json_error_t jerr;
	json_t *events = NULL, *event;
	const char *text;
	char prefix[32], field[160];
	int status;

	/* One copy, here rather than on the loop; the parser takes a length. */
	len = evbuffer_get_length(b->body);
	if ((text = (const char *)evbuffer_pullup(b->body, -1)) == NULL)
		text = "";
	if (b->ndjson) {
		events = json_array();
		if (parse_ndjson(o, text, len, events) != 0)
			goto out;
	} else {
		if ((events = ledger_json_loadb(text, len,
		    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			offload_answer_error(o, 400, "invalid_json", NULL,
			    "line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
			goto out;
		}
		if (!json_is_array(events)) {
			offload_answer_error(o, 400, "wrong_type", NULL,
			    "a batch is a JSON array of events");
			goto out;
		}
	}
	if ((n = json_array_size(events)) == 0) {
		offload_answer_error(o, 400, "invalid_value", NULL,
		    "a batch holds at least one event");
		goto out;
	}
	if (n > max) {
		offload_answer_error(o, 413, "too_many_events", NULL,
		    "a batch holds at most %zu events, not %zu", max, n);
		goto out;
	}
	json_array_foreach(events, i, event) {
		if ((status = event_check(o->principal, o->cfg, event,
		    &err)) != 0) {
			snprintf(prefix, sizeof(prefix), "[%zu]", i);
			field_name(field, sizeof(field), &err, prefix);
			offload_answer_error(o, status, err.code, field, "%s",
			    err.message);
			goto out;
		}
	}

	a = append_request_new(events, o->principal);
	events = NULL;
	a->want_proof = b->want_proof;
	a->want_witnessed = b->want_witnessed;
	json_array_foreach(a->events, i, event) {
		const char *key = json_string_value(json_object_get(event,
		    "idempotency_key"));

		if (key != NULL) {
			a->idem_keys[i] = xstrdup(key);
			request_hash(event, a->request_hashes[i]);
		}
	}
	if (check_batch_keys(o, a, n) != 0) {
		append_request_free(a);
		goto out;
	}
	b->a = a;
out:
	json_decref(events);
	/* The body is not needed any more: free it here, off the loop. */
	evbuffer_free(b->body);
	b->body = NULL;
}

/* Back on the loop's thread: to the writer, or the refusal. */
static void
batch_check_done(struct offload *o, struct request *r)
{
	struct batch_check *b = (struct batch_check *)o;

	if (r != NULL && b->a != NULL) {
		submit(r, b->a, 1);
		b->a = NULL;
	} else
		offload_reply(o, r);
	/* A batch whose client left before it was checked is not appended. */
	batch_free_later(o->srv, b->a, NULL);
	if (b->body != NULL)
		evbuffer_free(b->body);
	offload_release(o);
	free(b);
}

void
route_events_batch(struct request *r)
{
	struct batch_check *b;
	const char *ct;
	int want_proof, want_witnessed, ndjson = 0;

	if (parse_wait(r, &want_proof, &want_witnessed) != 0)
		return;
	if ((ct = header(r, "Content-Type")) != NULL) {
		if (media_type_is(ct, "application/x-ndjson"))
			ndjson = 1;
		else if (!media_type_is(ct, "application/json")) {
			reply_error(r, 415, "unsupported_media_type",
			    "Content-Type", "a batch is posted as "
			    "application/json or application/x-ndjson");
			return;
		}
	}
	if (header(r, "Idempotency-Key") != NULL) {
		reply_error(r, 400, "invalid_value", "Idempotency-Key",
		    "a batch takes an idempotency_key in each event, not the "
		    "Idempotency-Key header");
		return;
	}
	b = xcalloc(1, sizeof(*b));
	b->ndjson = ndjson;
	b->want_proof = want_proof;
	b->want_witnessed = want_witnessed;
	/* The body's chunks change hands; nothing is copied on the loop. */
	if ((b->body = evbuffer_new()) == NULL ||
	    evbuffer_add_buffer(b->body,
	    evhttp_request_get_input_buffer(r->req)) != 0)
		fatalx("evbuffer: out of memory");
	if (offload_submit(r, &b->o, batch_check_work, batch_check_done) != 0) {
		evbuffer_free(b->body);
		offload_release(&b->o);
		free(b);
	}
}

/*
 * Why principal p may not see entry seq: 1 with the message in why (the
 * answer is 403 forbidden), or 0.
 */
static int
entry_refused(const struct server *srv, const struct principal *p,
    uint64_t seq, const json_t *entry, char *why, size_t cap)
{
	if (auth_sees_all(p))
		return 0;
	if (!auth_entry_visible(p, entry))
		snprintf(why, cap, "entry %" PRIu64 " is not visible to org %s",
		    seq, p->org);
	/* Past restrict_after, only those who see all (§9.4). */
	else if (retention_restricted(srv, entry))
		snprintf(why, cap, "entry %" PRIu64 " is restricted under the "
		    "retention policy", seq);
	else
		return 0;
	return 1;
}

/*
 * GET /v1/events/{seq}/opened, on a worker: opening the sealed values is
 * a round trip to the key keeper, which may wait for the writer's.
 */
struct opened_job {
	struct offload o;		/* first */
	uint64_t seq;
};

static void
opened_work(struct offload *o)
{
	struct opened_job *j = (struct opened_job *)o;
	struct opened_answer *opened = NULL;
	struct store_txn *txn = NULL;
	struct json_text text = { NULL, 0, 0 };
	json_t *entry = NULL;
	const char *bytes;
	char why[160];
	size_t len;
	int rc;

	if ((rc = store_read_begin(o->srv->store, &txn)) != 0)
		goto fail;
	if ((rc = store_get_entry(txn, j->seq, &bytes, &len)) ==
	    LEDGER_ENOTFOUND) {
		offload_answer_error(o, 404, "not_found", "seq",
		    "no entry %" PRIu64, j->seq);
		goto out;
	}
	if (rc != 0)
		goto fail;
	if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL) {
		rc = LEDGER_ECORRUPT;
		goto fail;
	}
	if (entry_refused(o->srv, o->principal, j->seq, entry, why,
	    sizeof(why))) {
		offload_answer_error(o, 403, "forbidden", "seq", "%s", why);
		goto out;
	}
	jsontext_str(&text, "{\"seq\":");
	jsontext_u64(&text, j->seq);
	opened = opened_answer_new(o->srv);
	if ((rc = opened_answer_mark(opened, txn, j->seq, entry, &text)) != 0 ||
	    (rc = opened_answer_finish(opened, &text)) != 0)
		goto fail;
	jsontext_str(&text, "}");
	offload_answer_owned(o, 200, "application/json", text.buf, text.len);
	text.buf = NULL;
	goto out;

fail:
	log_warnx("request %" PRIu64 ": entry %" PRIu64 ": %s", o->request_id,
	    j->seq, keyring_strerror(rc));
	offload_answer_failure(o, rc, "cannot read the entry");
out:
	if (text.buf != NULL)
		OPENSSL_cleanse(text.buf, text.len);
	free(text.buf);
	opened_answer_free(opened);
	json_decref(entry);
	store_txn_end(txn);
}

static void
opened_done(struct offload *o, struct request *r)
{
	offload_reply(o, r);
	offload_release(o);
	free(o);
}

static void
opened_submit(struct request *r, uint64_t seq)
{
	struct opened_job *j = xcalloc(1, sizeof(*j));

	j->seq = seq;
	if (offload_submit(r, &j->o, opened_work, opened_done) != 0) {
		offload_release(&j->o);
		free(j);
	}
}

void
route_events_get(struct request *r)
{
	static const char *const no_params[] = { NULL };
	const char *s = r->path + strlen("/v1/events/"), *bytes, *slash;
	struct store_txn *txn = NULL;
	json_t *entry = NULL;
	uint64_t seq;
	size_t len, seq_len;
	char why[160];
	int rc, opened = 0;

	if (query_check(r, no_params) != 0)
		return;
	/* /v1/events/{seq}/opened: the entry's sealed values (spec §2.10). */
	seq_len = strlen(s);
	if ((slash = strchr(s, '/')) != NULL) {
		if (strcmp(slash, "/opened") != 0) {
			reply_error(r, 404, "not_found", NULL, "no such route");
			return;
		}
		seq_len = (size_t)(slash - s);
		opened = 1;
	}
	if (ledger_parse_u64(s, seq_len, &seq) != 0) {
		reply_error(r, 400, "invalid_value", "seq",
		    "seq must be a decimal integer without leading zeros");
		return;
	}
	if (opened) {
		opened_submit(r, seq);
		return;
	}
	if ((rc = store_read_begin(r->srv->store, &txn)) != 0)
		goto fail;
	if ((rc = store_get_entry(txn, seq, &bytes, &len)) ==
	    LEDGER_ENOTFOUND) {
		reply_error(r, 404, "not_found", "seq", "no entry %" PRIu64,
		    seq);
		goto out;
	}
	if (rc != 0)
		goto fail;
	if (!auth_sees_all(r->principal) || r->srv->has_retention) {
		if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL) {
			rc = LEDGER_ECORRUPT;
			goto fail;
		}
		if (entry_refused(r->srv, r->principal, seq, entry, why,
		    sizeof(why))) {
			reply_error(r, 403, "forbidden", "seq", "%s", why);
			goto out;
		}
	}
	/* The stored bytes exactly: they are the Merkle leaf. */
	if (entry != NULL && retention_restricted(r->srv, entry))
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Ledger-Restricted", "true");
	reply_bytes(r, 200, "application/json", bytes, len);
	goto out;

fail:
	log_warnx("request %" PRIu64 ": entry %" PRIu64 ": %s", r->id, seq,
	    ledger_strerror(rc));
	reply_error(r, 500, "internal", NULL, "cannot read the entry");
out:
	json_decref(entry);
	store_txn_end(txn);
}

/* What a listing asks for; NULL members are not filtered on. */
struct list_filter {
	char *type, *org, *user, *recipient;
	enum store_index kind;		/* the index walked, when index */
	char *index_value;
	int index;
};

/* Whether entry passes f's filters (who may see it is asked apart). */
static int
filter_matches(const struct list_filter *f, const json_t *entry)
{
	const json_t *actor = json_object_get(entry, "actor"), *v;
	const char *s;
	size_t i;
	int found;

	if (f->type != NULL && ((s = json_string_value(json_object_get(entry,
	    "type"))) == NULL || strcmp(s, f->type) != 0))
		return 0;
	if (f->org != NULL && ((s = json_string_value(json_object_get(actor,
	    "org"))) == NULL || strcmp(s, f->org) != 0))
		return 0;
	if (f->user != NULL && ((s = json_string_value(json_object_get(actor,
	    "user"))) == NULL || strcmp(s, f->user) != 0))
		return 0;
	if (f->recipient != NULL) {
		found = 0;
		json_array_foreach(json_object_get(entry, "recipients"), i, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), f->recipient) == 0)
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

/*
 * Whether every entry the walk (choose_walk) yields passes f without being
 * read: for one who sees all, when f names nothing beyond the key of the
 * index walked.  The indexes are written in their entries' own transaction,
 * so they say exactly what the entries do; each filter compares the same
 * field as its index (a user's key is "org/user", and org ids hold no
 * '/').  Parsing ten thousand entries was most of a listing's work.
 */
static int
walk_implies_filter(const struct list_filter *f, const struct principal *p)
{
	if (!auth_sees_all(p))
		return 0;
	if (!f->index)
		return 1;	/* no filter at all */
	switch (f->kind) {
	case STORE_IDX_USER:
		return f->type == NULL && f->recipient == NULL;
	case STORE_IDX_RECIPIENT:
		return f->type == NULL && f->org == NULL;
	case STORE_IDX_ORG:
		return f->type == NULL;
	case STORE_IDX_TYPE:
		return 1;
	default:
		return 0;
	}
}

/* The most selective index the filter allows: user > recipient > org > type. */
static void
choose_index(struct list_filter *f)
{
	f->index = 1;
	if (f->user != NULL) {
		f->kind = STORE_IDX_USER;
		f->index_value = xasprintf("%s/%s", f->org, f->user);
	} else if (f->recipient != NULL) {
		f->kind = STORE_IDX_RECIPIENT;
		f->index_value = xstrdup(f->recipient);
	} else if (f->org != NULL) {
		f->kind = STORE_IDX_ORG;
		f->index_value = xstrdup(f->org);
	} else if (f->type != NULL) {
		f->kind = STORE_IDX_TYPE;
		f->index_value = xstrdup(f->type);
	} else
		f->index = 0;
}

/*
 * The seqs a listing walks, in increasing order: every seq (no stream),
 * or the union of one or two index streams, each read INDEX_CHUNK seqs at
 * a time.
 */
struct list_walk {
	size_t nstreams;
	struct list_stream {
		enum store_index kind;
		const char *value;	/* borrowed */
		uint64_t seqs[INDEX_CHUNK];
		size_t n, i;
		int more;		/* the index may hold seqs past seqs[n-1] */
	} s[2];
};

static void
walk_add(struct list_walk *w, enum store_index kind, const char *value)
{
	struct list_stream *st = &w->s[w->nstreams++];

	st->kind = kind;
	st->value = value;
	st->n = st->i = 0;
	st->more = 1;
}

/*
 * walk_next - the smallest seq in [from, hi) the walk yields.
 *	found	out: 0 when there is none
 * Returns 0 or a store error.
 */
static int
walk_next(struct store_txn *txn, struct list_walk *w, uint64_t from,
    uint64_t hi, uint64_t *seq, int *found)
{
	struct list_stream *st;
	size_t k;
	int rc;

	*found = 0;
	if (w->nstreams == 0) {
		*seq = from;
		*found = from < hi;
		return 0;
	}
	for (k = 0; k < w->nstreams; k++) {
		st = &w->s[k];
		while (st->i < st->n && st->seqs[st->i] < from)
			st->i++;
		if (st->i == st->n && st->more) {
			if ((rc = store_index_scan(txn, st->kind, st->value,
			    strlen(st->value), from, 0, st->seqs, INDEX_CHUNK,
			    &st->n)) != 0)
				return rc;
			st->i = 0;
			st->more = st->n == INDEX_CHUNK;
		}
		if (st->i < st->n && (!*found || st->seqs[st->i] < *seq)) {
			*seq = st->seqs[st->i];
			*found = 1;
		}
	}
	if (*found && *seq >= hi)
		*found = 0;
	return 0;
}

/*
 * What a listing walks (docs/security.md, "Listings").  Only entries the
 * caller may see are ever examined, so that nothing of an answer (its
 * entries, where the work bound cuts the page, the cursor, whether there
 * is one) depends on entries the caller may not see: for one who sees all,
 * the filter's index (or every seq); for a reader, the filter's index when
 * it yields only the reader's entries (its own org as actor or as
 * recipient), else the union of the reader's two indexes, its org as actor
 * and as recipient, with the filter applied to each entry.
 */
static void
choose_walk(struct list_filter *f, const struct principal *p,
    struct list_walk *w)
{
	int own;

	memset(w, 0, sizeof(*w));
	choose_index(f);
	switch (f->index ? f->kind : 0) {
	case STORE_IDX_USER:
	case STORE_IDX_ORG:
		own = strcmp(f->org, p->org) == 0;
		break;
	case STORE_IDX_RECIPIENT:
		own = strcmp(f->recipient, p->org) == 0;
		break;
	default:
		own = 0;
		break;
	}
	if (auth_sees_all(p) || own) {
		if (f->index)
			walk_add(w, f->kind, f->index_value);
		return;
	}
	walk_add(w, STORE_IDX_ORG, p->org);
	walk_add(w, STORE_IDX_RECIPIENT, p->org);
}

/*
 * A listing, built on a worker: up to LIST_MAX_EXAMINED entries parsed and
 * filtered, and an answer that may hold max_page of them.
 */
struct list_job {
	struct offload o;		/* first */
	struct list_filter f;		/* its strings owned */
	uint64_t lo, limit;
	int has_since, has_until;
	int64_t since, until;
};

static void
list_work(struct offload *o)
{
	struct list_job *j = (struct list_job *)o;
	struct list_filter *f = &j->f;
	uint64_t lo = j->lo, hi, pos, seq, next = 0;
	size_t examined = 0, bytes_seen = 0, len;
	struct store_txn *txn = NULL;
	struct list_walk w;
	struct store_state st;
	const char *bytes;
	struct json_text text = { NULL, 0, 0 };
	struct opened_answer *opened = NULL;
	uint64_t listed = 0;
	json_t *entry;
	int rc, found, has_next = 0, implied, match;

	if ((rc = store_read_begin(o->srv->store, &txn)) != 0 ||
	    (rc = store_get_state(txn, &st)) != 0)
		goto fail;
	/*
	 * [lo, hi) bounds seqs, not entries: the tree size is public, and
	 * since received_at never decreases along seq, "seq in [lo, hi)" says
	 * of an entry the same as "received_at in [since, until]".
	 */
	hi = st.tree_size;
	if (lo > hi)
		lo = hi;
	if (j->has_since &&
	    (rc = seq_by_received_at(txn, lo, hi, j->since, 0, &lo)) != 0)
		goto fail;
	if (j->has_until &&
	    (rc = seq_by_received_at(txn, lo, hi, j->until, 1, &hi)) != 0)
		goto fail;
	choose_walk(f, o->principal, &w);
	/* Under a retention policy every entry is read: sealed or restricted. */
	implied = walk_implies_filter(f, o->principal) && !o->srv->has_retention;
	if (o->srv->has_retention)
		opened = opened_answer_new(o->srv);

	/*
	 * Written as JSON text as it is read (jsontext.h): what
	 * json_dumps(JSON_COMPACT) makes of {"events": [{"seq", "entry"},
	 * ...], "next_cursor"}, members in that order.
	 */
	jsontext_str(&text, "{\"events\":[");
	for (pos = lo;; pos = seq + 1) {
		if ((rc = walk_next(txn, &w, pos, hi, &seq, &found)) != 0)
			goto fail;
		if (!found)
			break;
		if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0)
			goto fail;
		examined++;
		bytes_seen += len;
		entry = NULL;
		if (implied)
			match = 1;
		else if ((entry = ledger_json_loadb(bytes, len, 0,
		    NULL)) == NULL) {
			rc = LEDGER_ECORRUPT;
			goto fail;
		} else
			match = filter_matches(f, entry) &&
			    retention_entry_visible(o->srv, o->principal,
			    entry);
		if (match) {
			jsontext_str(&text, listed++ > 0 ? ",{\"seq\":" :
			    "{\"seq\":");
			jsontext_u64(&text, seq);
			/* The bytes travel as a string, so that they survive exactly. */
			jsontext_str(&text, ",\"entry\":");
			if ((rc = jsontext_string(&text, bytes, len)) != 0 ||
			    (entry != NULL && opened != NULL &&
			    (rc = opened_answer_mark(opened, txn, seq, entry,
			    &text)) != 0)) {
				json_decref(entry);
				goto fail;
			}
			jsontext_str(&text, "}");
		}
		json_decref(entry);

		/*
		 * Bounded work per page.  The cursor is one past the last
		 * entry examined, one the caller may see, and there is one
		 * only when the walk holds another such entry below hi.
		 */
		if (listed >= j->limit || examined >= LIST_MAX_EXAMINED ||
		    bytes_seen >= LIST_MAX_BYTES) {
			next = seq + 1;
			if ((rc = walk_next(txn, &w, next, hi, &seq,
			    &has_next)) != 0)
				goto fail;
			break;
		}
	}
	/* The page's sealed values, all in one exchange (opened.h). */
	if (opened != NULL && (rc = opened_answer_finish(opened, &text)) != 0)
		goto fail;
	opened_answer_free(opened);
	opened = NULL;
	store_txn_end(txn);
	txn = NULL;
	jsontext_str(&text, "],\"next_cursor\":");
	if (has_next) {
		jsontext_str(&text, "\"");
		jsontext_u64(&text, next);
		jsontext_str(&text, "\"}");
	} else
		jsontext_str(&text, "null}");
	offload_answer_owned(o, 200, "application/json", text.buf, text.len);
	return;

fail:
	log_warnx("request %" PRIu64 ": listing: %s", o->request_id,
	    keyring_strerror(rc));
	offload_answer_failure(o, rc, "cannot read the log");
	if (text.buf != NULL)
		OPENSSL_cleanse(text.buf, text.len);
	free(text.buf);
	opened_answer_free(opened);
	store_txn_end(txn);
}

static void
list_job_free(struct list_job *j)
{
	offload_release(&j->o);
	free(j->f.type);
	free(j->f.org);
	free(j->f.user);
	free(j->f.recipient);
	free(j->f.index_value);
	free(j);
}

static void
list_done(struct offload *o, struct request *r)
{
	offload_reply(o, r);
	list_job_free((struct list_job *)o);
}

static char *
query_copy(struct request *r, const char *name)
{
	const char *v = query_str(r, name);

	return v != NULL ? xstrdup(v) : NULL;
}

/* The parameters are read here, on the loop's thread; the page on a worker. */
void
route_events_list(struct request *r)
{
	static const char *const params[] = { "type", "org", "user",
	    "recipient", "since", "until", "cursor", "limit", NULL };
	size_t max_page = r->srv->cfg->limits.max_page;
	uint64_t limit, lo = 0;
	struct list_job *j;
	const char *s;
	int64_t since = 0, until = 0;
	int rc;

	if (query_check(r, params) != 0)
		return;
	if ((rc = query_u64(r, "limit", &limit)) < 0)
		return;
	if (rc == 0)
		limit = DEFAULT_PAGE < max_page ? DEFAULT_PAGE : max_page;
	else if (limit < 1 || limit > max_page) {
		reply_error(r, 400, "out_of_range", "limit",
		    "limit must be 1 to %zu", max_page);
		return;
	}
	if ((s = query_str(r, "cursor")) != NULL && ledger_parse_u64(s, strlen(s), &lo) != 0) {
		reply_error(r, 400, "invalid_value", "cursor",
		    "cursor must be a next_cursor value of an earlier page");
		return;
	}
	if ((s = query_str(r, "since")) != NULL &&
	    ledger_time_parse_rfc3339(s, &since) != 0) {
		reply_error(r, 400, "invalid_value", "since",
		    "since must be an RFC 3339 date-time");
		return;
	}
	if ((s = query_str(r, "until")) != NULL &&
	    ledger_time_parse_rfc3339(s, &until) != 0) {
		reply_error(r, 400, "invalid_value", "until",
		    "until must be an RFC 3339 date-time");
		return;
	}
	if (query_str(r, "user") != NULL && query_str(r, "org") == NULL) {
		reply_error(r, 400, "missing_field", "org",
		    "user needs org: user ids are unique within an org");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->f.type = query_copy(r, "type");
	j->f.org = query_copy(r, "org");
	j->f.user = query_copy(r, "user");
	j->f.recipient = query_copy(r, "recipient");
	j->lo = lo;
	j->limit = limit;
	j->has_since = query_str(r, "since") != NULL;
	j->has_until = query_str(r, "until") != NULL;
	j->since = since;
	j->until = until;
	if (offload_submit(r, &j->o, list_work, list_done) != 0)
		list_job_free(j);
}
