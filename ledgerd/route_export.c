/*
 * GET /v1/export: the compliance export (spec §7.9) as a stream, entry
 * bytes one a line (jsonl) or flattened rows (csv, ledger/csv.h), in seq
 * order.  It is recorded as an export entry before the first byte is sent,
 * and covers exactly the entries below that entry's seq.
 *
 * Memory stays constant whatever the range: the next chunk is read only
 * when the previous one has left the output buffer
 * (evhttp_send_reply_chunk_with_cb), and each chunk is read in its own short
 * read transaction, so a slow client never pins an old LMDB snapshot.  Each
 * chunk is made on a worker (workers.h), one job per chunk, and sent from
 * the loop's thread: a CSV row or an entry parsed for the org filter costs
 * some 10 µs, so a chunk would hold the loop for tens of milliseconds.  The
 * chunks still form one consistent export: its upper bound, the export
 * entry's seq, is fixed when the stream starts, and entries below it never
 * change.
 *
 * An object export (an item's lineage, lineage.h) is the one exception to
 * constant memory: its set of seqs is walked whole, on a worker, once the
 * export entry is written and before the status line, and it is refused
 * (400 too_large, field object) above EXPORT_LINEAGE_MAX entries rather
 * than cut short.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "ledger/csv.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/jsonparse.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "http.h"
#include "lineage.h"
#include "log.h"
#include "offload.h"
#include "oversight.h"
#include "server.h"
#include "store.h"
#include "subject_lookup.h"
#include "timerange.h"
#include "workers.h"

#define CHUNK_BYTES (256 * 1024)	/* bytes produced per chunk, about */
#define CHUNK_ENTRIES 4096		/* entries looked at per chunk */
#define INDEX_CHUNK 256
/*
 * The most entries an object export holds: its walk keeps some 30 bytes an
 * entry (seq, depth, the set of seqs seen), about 3 MB at this bound.
 */
#define EXPORT_LINEAGE_MAX 100000

/*
 * One export under way.  While a chunk is being made (filling), the worker
 * alone touches buf and the walk's position; the loop's thread the rest.
 */
struct export_stream {
	struct job job;			/* makes the next chunk; workers.h */
	struct request *r;		/* NULL once the connection closed */
	struct evhttp_request *req;
	struct store *store;
	struct workers *workers;
	struct event *next;		/* produces the next chunk */
	struct evbuffer *buf;
	int filling;			/* a chunk is being made */
	int closed;			/* ... and its stream is gone: free it then */
	int rc;				/* the last chunk's outcome */
	int csv;
	int indexed;			/* walk an index instead of every seq */
	enum store_index index;
	char *index_value;		/* owned */
	size_t index_len;
	struct subject_lookup lookup;	/* a subject: every live period's */
	char *org;			/* actor.org filter beside a subject; owned */
	char *user;			/* actor.user filter beside a subject; owned */
	char *object;			/* object.ref whose lineage is exported */
	uint64_t depth;			/* ... down to this many levels */
	struct lineage lineage;		/* its seqs, once walked */
	size_t lineage_next;		/* the next of them to look at */
	int has_since, has_until;
	int64_t since, until;
	uint64_t pos, hi;		/* next seq to look at; the bound */
	uint64_t rows;
};

static void
stream_free(struct export_stream *s)
{
	if (s->next != NULL)
		event_free(s->next);
	if (s->buf != NULL)
		evbuffer_free(s->buf);
	free(s->index_value);
	subject_lookup_free(&s->lookup);
	free(s->org);
	free(s->user);
	free(s->object);
	lineage_free(&s->lineage);
	free(s);
}

/* One entry as a CSV row (ledger/csv.h: the same rows as ledgerctl's). */
static int
csv_row(struct evbuffer *b, const char *bytes, size_t len)
{
	uint8_t leaf[LEDGER_HASH_LEN];
	json_t *entry;
	size_t row_len;
	char *row;
	int rc;

	if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL)
		return LEDGER_ECORRUPT;
	if ((rc = ledger_leaf_hash(bytes, len, leaf)) != 0) {
		json_decref(entry);
		return rc;
	}
	ledger_csv_row(entry, leaf, &row, &row_len);
	evbuffer_add(b, row, row_len);
	free(row);
	json_decref(entry);
	return 0;
}

/* Whether actor's member name is value (a filter not given: any). */
static int
actor_is(const json_t *actor, const char *name, const char *value)
{
	const char *v = json_string_value(json_object_get(actor, name));

	return value == NULL || (v != NULL && strcmp(v, value) == 0);
}

/*
 * Whether an entry's actor is the org and user filters' (subject exports:
 * the subject index found it; the org and user indexes answer for
 * themselves).
 */
static int
actor_matches(const struct export_stream *s, const char *bytes, size_t len,
    int *match)
{
	json_t *entry, *actor;

	*match = 1;
	if ((s->org == NULL && s->user == NULL) || !s->indexed ||
	    s->index != STORE_IDX_SUBJECT)
		return 0;
	if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL)
		return LEDGER_ECORRUPT;
	actor = json_object_get(entry, "actor");
	*match = actor_is(actor, "org", s->org) &&
	    actor_is(actor, "user", s->user);
	json_decref(entry);
	return 0;
}

/*
 * The next seq of an indexed export, at or above s->pos, read INDEX_CHUNK
 * at a time into seqs (*n of them, *i the next); *seq is s->hi when none
 * is left.
 */
static int
next_indexed(struct export_stream *s, struct store_txn *txn, uint64_t *seqs,
    size_t *i, size_t *n, uint64_t *seq)
{
	int rc;

	if (*i == *n) {
		if (s->index == STORE_IDX_SUBJECT)
			rc = subject_lookup_scan(txn, &s->lookup, s->pos, seqs,
			    INDEX_CHUNK, n);
		else
			rc = store_index_scan(txn, s->index, s->index_value,
			    s->index_len, s->pos, 0, seqs, INDEX_CHUNK, n);
		if (rc != 0)
			return rc;
		*i = 0;
		if (*n == 0) {
			*seq = s->hi;
			return 0;
		}
	}
	*seq = seqs[(*i)++];
	if (*seq > s->hi)
		*seq = s->hi;
	return 0;
}

/* The next seq of an object export's lineage; s->hi when none is left. */
static uint64_t
next_in_lineage(struct export_stream *s)
{
	uint64_t seq;

	if (s->lineage_next == s->lineage.n)
		return s->hi;
	seq = s->lineage.nodes[s->lineage_next++];
	return seq < s->hi ? seq : s->hi;
}

/*
 * Fills s->buf with the next entries, in one short read transaction; on a
 * worker.
 */
static int
fill_chunk(struct export_stream *s)
{
	uint64_t seqs[INDEX_CHUNK], seq;
	size_t n = 0, i = 0, examined = 0, len;
	struct store_txn *txn = NULL;
	const char *bytes;
	int rc, match;

	if ((rc = store_read_begin(s->store, &txn)) != 0)
		return rc;
	while (s->pos < s->hi && examined < CHUNK_ENTRIES &&
	    evbuffer_get_length(s->buf) < CHUNK_BYTES) {
		if (s->object != NULL)
			seq = next_in_lineage(s);
		else if (s->indexed) {
			if ((rc = next_indexed(s, txn, seqs, &i, &n, &seq)) != 0)
				goto out;
		} else
			seq = s->pos;
		if (seq >= s->hi) {
			s->pos = s->hi;
			break;
		}
		s->pos = seq + 1;
		examined++;
		if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0 ||
		    (rc = actor_matches(s, bytes, len, &match)) != 0)
			goto out;
		if (!match)
			continue;
		if (s->csv) {
			if ((rc = csv_row(s->buf, bytes, len)) != 0)
				goto out;
		} else {
			evbuffer_add(s->buf, bytes, len);
			evbuffer_add(s->buf, "\n", 1);
		}
		s->rows++;
	}
out:
	store_txn_end(txn);
	return rc;
}

static void
chunk_flushed(struct evhttp_connection *evcon, void *arg)
{
	struct export_stream *s = arg;

	event_active(s->next, EV_TIMEOUT, 0);
}

/* Makes the next chunk on a worker (fill_made() goes on). */
static void
next_chunk(evutil_socket_t fd, short what, void *arg)
{
	struct export_stream *s = arg;

	s->filling = 1;
	/* Part of a request under way: never refused. */
	workers_continue(s->workers, &s->job);
}

static void
fill_run(struct job *j)
{
	struct export_stream *s = (struct export_stream *)j;

	s->rc = fill_chunk(s);
}

/*
 * Back on the loop's thread: sends the chunk, or ends the stream.  A chunk
 * that turned out empty (filters matched nothing in it) goes on at the
 * loop's next turn, so that a long fruitless stretch never holds others up.
 */
static void
fill_made(struct job *j)
{
	struct export_stream *s = (struct export_stream *)j;

	s->filling = 0;
	if (s->closed) {
		stream_free(s);		/* stream_closed() did the rest */
		return;
	}
	if (s->rc != 0) {
		/*
		 * The status line has gone: all that is left is to cut the
		 * stream short, so the client sees a chunked body without its
		 * end and cannot mistake it for a whole export.
		 */
		log_warnx("request %" PRIu64 ": export at seq %" PRIu64 ": %s",
		    s->r->id, s->pos, ledger_strerror(s->rc));
		reply_stream_watch(s->r, NULL, NULL);
		evhttp_connection_free(evhttp_request_get_connection(s->req));
		reply_stream_done(s->r, 500);	/* s->req went with it */
		stream_free(s);
		return;
	}
	if (evbuffer_get_length(s->buf) > 0)
		evhttp_send_reply_chunk_with_cb(s->req, s->buf, chunk_flushed,
		    s);
	else if (s->pos < s->hi)
		event_active(s->next, EV_TIMEOUT, 0);
	else {
		log_debug("request %" PRIu64 ": exported %" PRIu64 " entries",
		    s->r->id, s->rows);
		reply_stream_end(s->r);
		stream_free(s);
	}
}

/*
 * The client went away mid-stream (or the server is stopping), from the
 * connection's close callback.  When libevent has detached the request from
 * the dying connection it is ours to free (evhttp_send_reply_end does that
 * for a detached request); otherwise libevent frees it with the connection.
 */
static void
stream_closed(void *arg)
{
	struct export_stream *s = arg;

	event_del(s->next);
	if (evhttp_request_get_connection(s->req) == NULL)
		evhttp_send_reply_end(s->req);
	/* While a chunk is being made, its count is the worker's. */
	if (s->filling)
		log_debug("request %" PRIu64 ": export cut short: the "
		    "connection closed", s->r->id);
	else
		log_debug("request %" PRIu64 ": export cut short after %"
		    PRIu64 " entries: the connection closed", s->r->id,
		    s->rows);
	reply_stream_done(s->r, 200);
	s->r = NULL;
	s->req = NULL;
	/* A chunk being made is the worker's until it comes back. */
	if (s->filling)
		s->closed = 1;
	else
		stream_free(s);
}

/* The range is fixed: send the headers and the first chunk. */
static void
stream_send(struct request *r, struct export_stream *s, uint64_t export_seq)
{
	struct evkeyvalq *out;
	char num[48];

	s->req = r->req;
	if (reply_stream_watch(r, stream_closed, s) != 0) {
		/* The client left while the export entry was written. */
		reply_stream_end(r);
		stream_free(s);
		return;
	}
	out = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(out, "Content-Type", s->csv ?
	    "text/csv; charset=utf-8; header=present" : "application/x-ndjson");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	/* Every exported entry has seq below this: the export entry's seq. */
	snprintf(num, sizeof(num), "%" PRIu64, export_seq);
	evhttp_add_header(out, "X-Ledger-Tree-Size", num);
	evhttp_add_header(out, "X-Ledger-Export-Seq", num);
	/* The seqs the time bounds select, [first, end); filters apply within. */
	snprintf(num, sizeof(num), "%" PRIu64 "-%" PRIu64, s->pos, s->hi);
	evhttp_add_header(out, "X-Ledger-Export-Range", num);
	s->buf = evbuffer_new();
	if ((s->next = event_new(r->srv->base, -1, 0, next_chunk, s)) == NULL ||
	    s->buf == NULL)
		fatalx("export: out of memory");
	evhttp_send_reply_start(r->req, 200, "OK");
	if (s->csv)
		evbuffer_add(s->buf, ledger_csv_header,
		    strlen(ledger_csv_header));
	next_chunk(-1, 0, s);
}

/*
 * What an export needs before its status line, on a worker: an object
 * export's lineage walked (one too large is refused with an answer of its
 * own), or the range of seqs since and until bound (a binary search that
 * parses an entry at each step, from the disk when it is cold).
 */
struct prepare_job {
	struct offload o;		/* first */
	struct export_stream *s;
	uint64_t export_seq;
};

static int
bound_range(struct export_stream *s)
{
	struct store_txn *txn = NULL;
	int rc;

	if ((rc = store_read_begin(s->store, &txn)) != 0)
		return rc;
	if (s->has_since)
		rc = seq_by_received_at(txn, s->pos, s->hi, s->since, 0,
		    &s->pos);
	if (rc == 0 && s->has_until)
		rc = seq_by_received_at(txn, s->pos, s->hi, s->until, 1,
		    &s->hi);
	store_txn_end(txn);
	return rc;
}

static void
prepare_work(struct offload *o)
{
	struct prepare_job *pj = (struct prepare_job *)o;
	struct export_stream *s = pj->s;
	struct store_txn *txn = NULL;
	int rc;

	if (s->object == NULL)
		rc = bound_range(s);
	else if ((rc = store_read_begin(s->store, &txn)) == 0) {
		rc = lineage_walk(txn, s->object, strlen(s->object), s->depth,
		    s->hi, EXPORT_LINEAGE_MAX, 0, &s->lineage);
		store_txn_end(txn);
	}
	if (rc != 0) {
		log_warnx("request %" PRIu64 ": export %s: %s", o->request_id,
		    s->object != NULL ? "lineage" : "range",
		    ledger_strerror(rc));
		offload_answer_error(o, 500, "internal", NULL,
		    "cannot read the log");
	} else if (s->object != NULL && s->lineage.full)
		offload_answer_error(o, 400, "too_large", "object", "the "
		    "lineage of object holds more than %d entries below the "
		    "export entry (seq %" PRIu64 ")%s", EXPORT_LINEAGE_MAX,
		    pj->export_seq, s->depth > 0 ? "; export it with a "
		    "smaller depth" : "");
	else
		o->status = 200;
}

static void
prepare_done(struct offload *o, struct request *r)
{
	struct prepare_job *pj = (struct prepare_job *)o;

	if (r != NULL && o->code[0] == '\0' && o->status == 200)
		stream_send(r, pj->s, pj->export_seq);
	else {
		offload_reply(o, r);
		stream_free(pj->s);
	}
	offload_release(o);
	free(pj);
}

/*
 * Once the export entry is durable: fix the range, send the headers, go.
 * The export covers the log before its own entry: every entry below
 * export_seq is committed (seqs are given in commit order), and the bound
 * is then a fact of the log that a bundle can prove, the export entry's
 * seq, rather than a size that depends on what else was appended meanwhile.
 */
static void
stream_start(struct request *r, uint64_t export_seq, void *arg)
{
	struct export_stream *s = arg;
	struct prepare_job *pj;

	if (r == NULL) {
		stream_free(s);
		return;
	}
	s->pos = 0;
	s->hi = export_seq;
	if (s->object == NULL && !s->has_since && !s->has_until) {
		stream_send(r, s, export_seq);
		return;
	}
	pj = xcalloc(1, sizeof(*pj));
	pj->s = s;
	pj->export_seq = export_seq;
	offload_continue(r, &pj->o, prepare_work, prepare_done);
}

/* An identifier given as a query parameter: 1 to LEDGER_STRING_MAX bytes. */
static int
id_param_valid(struct request *r, const char *name, const char *value)
{
	if (*value != '\0' && strlen(value) <= LEDGER_STRING_MAX)
		return 1;
	reply_error(r, 400, "invalid_value", name, "%s is 1 to %d bytes",
	    name, LEDGER_STRING_MAX);
	return 0;
}

/*
 * user: the entries of one user of org, through the actor index (org "/"
 * user), which then replaces the org index.  Returns 0 or -1 after
 * answering.
 */
static int
parse_user(struct request *r, struct export_stream *s, json_t *filters)
{
	const char *user = query_str(r, "user");

	if (user == NULL)
		return 0;
	if (s->org == NULL) {
		reply_error(r, 400, "invalid_value", "user",
		    "user needs org: a user id is unique within its org");
		return -1;
	}
	if (!id_param_valid(r, "user", user))
		return -1;
	s->user = xstrdup(user);
	json_object_set_new(filters, "user", json_string(user));
	free(s->index_value);
	s->index = STORE_IDX_USER;
	s->index_value = xasprintf("%s/%s", s->org, s->user);
	return 0;
}

/*
 * object and depth: an item's lineage, as GET /v1/provenance/objects/{ref}
 * answers it.  A lineage is a set of its own, so it takes no other filter.
 * Returns 0 or -1 after answering.
 */
static int
parse_object(struct request *r, struct export_stream *s, json_t *filters)
{
	static const char *const alone[] = { "since", "until", "org", "user",
	    "subject", NULL };
	const char *object = query_str(r, "object");
	uint64_t depth = LINEAGE_DEFAULT_DEPTH;
	size_t i;
	int rc;

	if (object == NULL) {
		if (query_str(r, "depth") == NULL)
			return 0;
		reply_error(r, 400, "invalid_value", "depth",
		    "depth goes with object");
		return -1;
	}
	for (i = 0; alone[i] != NULL; i++)
		if (query_str(r, alone[i]) != NULL) {
			reply_error(r, 400, "invalid_value", "object", "object "
			    "takes no other filter (%s given): an item's "
			    "lineage is exported whole", alone[i]);
			return -1;
		}
	if (!id_param_valid(r, "object", object))
		return -1;
	if ((rc = query_u64(r, "depth", &depth)) < 0)
		return -1;
	if (depth > LINEAGE_MAX_DEPTH) {
		reply_error(r, 400, "out_of_range", "depth",
		    "depth must be 0 to %d", LINEAGE_MAX_DEPTH);
		return -1;
	}
	s->object = xstrdup(object);
	s->depth = depth;
	json_object_set_new(filters, "object", json_string(object));
	json_object_set_new(filters, "depth", json_integer((json_int_t)depth));
	return 0;
}

/*
 * Records the export (its filters stolen), then streams it; a HEAD is
 * answered at once, with no export entry: it discloses nothing.
 */
static void
export_start(struct request *r, struct export_stream *s, json_t *filters)
{
	const char *format = s->csv ? "csv" : "jsonl";

	if (s->indexed)
		s->index_len = strlen(s->index_value);
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD) {
		reply_bytes(r, 200, s->csv ? "text/csv; charset=utf-8; "
		    "header=present" : "application/x-ndjson", NULL, 0);
		json_decref(filters);
		stream_free(s);
		return;
	}
	oversight_record(r, "export", query_str(r, "purpose"),
	    json_pack("{s:s, s:o}", "format", format, "filters", filters),
	    stream_start, s);
}

/* An export by subject while the subject's tokens are looked up. */
struct export_subject {
	struct export_stream *s;
	json_t *filters;		/* for the export entry */
};

/* The tokens are known (subject_lookup_start): the export goes on. */
static void
subject_found(struct request *r, int rc, struct subject_lookup *l, void *arg)
{
	struct export_subject *ss = arg;
	struct export_stream *s = ss->s;
	json_t *filters = ss->filters;

	free(ss);
	if (r == NULL)
		goto fail;
	if (rc != 0) {
		subject_lookup_reply_error(r, rc);
		goto fail;
	}
	s->lookup = *l;
	memset(l, 0, sizeof(*l));
	/* The export covers every live period's tokens. */
	subject_lookup_name(&s->lookup, filters);
	/* The subject index is the narrower; org is then checked per entry. */
	free(s->index_value);
	s->indexed = 1;
	s->index = STORE_IDX_SUBJECT;
	s->index_value = xstrdup(s->lookup.tokens[0]);
	export_start(r, s, filters);
	return;
fail:
	json_decref(filters);
	stream_free(s);
}

void
route_export(struct request *r)
{
	static const char *const params[] = { "since", "until", "org",
	    "user", "subject", "object", "depth", "format", "purpose", NULL };
	struct export_stream *s;
	struct export_subject *ss;
	const char *format, *subject;
	json_t *filters;

	if (query_check(r, params) != 0)
		return;
	s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->store = r->srv->store;
	s->workers = r->srv->workers;
	s->job.run = fill_run;
	s->job.done = fill_made;
	filters = json_object();
	if ((format = query_str(r, "format")) == NULL)
		format = "jsonl";
	if (strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0) {
		reply_error(r, 400, "invalid_value", "format",
		    "format must be jsonl or csv");
		goto fail;
	}
	s->csv = format[0] == 'c';
	if ((s->has_since = oversight_time_param(r, "since", &s->since)) < 0 ||
	    (s->has_until = oversight_time_param(r, "until", &s->until)) < 0)
		goto fail;
	if (s->has_since)
		json_object_set_new(filters, "since",
		    json_string(query_str(r, "since")));
	if (s->has_until)
		json_object_set_new(filters, "until",
		    json_string(query_str(r, "until")));
	if (query_str(r, "org") != NULL) {
		s->org = xstrdup(query_str(r, "org"));
		if (!config_org_registered(r->srv->cfg, s->org)) {
			reply_error(r, 400, "unknown_org", "org",
			    "org is not a registered organisation");
			goto fail;
		}
		json_object_set_new(filters, "org", json_string(s->org));
		s->indexed = 1;
		s->index = STORE_IDX_ORG;
		s->index_value = xstrdup(s->org);
	}
	/* Every parameter is checked before the key ring is asked. */
	if (parse_user(r, s, filters) != 0 || parse_object(r, s, filters) != 0)
		goto fail;
	if ((subject = query_str(r, "subject")) != NULL) {
		if (*subject == '\0' || strlen(subject) > LEDGER_STRING_MAX) {
			reply_error(r, 400, "invalid_value", "subject", "a "
			    "subject identifier is 1 to %d bytes",
			    LEDGER_STRING_MAX);
			goto fail;
		}
		/* Its tokens are made on a worker: subject_found next. */
		ss = xcalloc(1, sizeof(*ss));
		ss->s = s;
		ss->filters = filters;
		if (subject_lookup_start(r, subject, strlen(subject),
		    subject_found, ss) != 0) {
			free(ss);
			goto fail;
		}
		return;
	}
	export_start(r, s, filters);
	return;
fail:
	json_decref(filters);
	stream_free(s);
}
