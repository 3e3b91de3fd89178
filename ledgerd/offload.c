/*
 * Requests' heavy parts on the worker pool (offload.h): the watch on the
 * request's connection, the answer carried back to the loop's thread, and
 * who frees the request when its client has left.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "ledger/xmalloc.h"

#include "config.h"
#include "http.h"
#include "keyring.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "server.h"

/*
 * The request's connection closed before the answer (evhttp's close
 * callback, on the loop's thread).  When evhttp noticed the client leave
 * (end of file or timeout) while the request was ours, it detached the
 * request from the connection: the request is then ours to free.  When the
 * connection is freed with the request still on it, evhttp frees the
 * request right after this callback, and it must never be touched again.
 */
static void
offload_gone(void *arg)
{
	struct offload *o = arg;

	atomic_store(&o->cancelled, 1);
	if (evhttp_request_get_connection(o->r->req) != NULL)
		o->gone = 1;
	log_info("request %" PRIu64 ": the client left before its answer; "
	    "the answer is dropped", o->request_id);
}

static void
offload_run(struct job *j)
{
	struct offload *o = (struct offload *)j;

	/* Work nobody waits for is not done. */
	if (atomic_load(&o->cancelled))
		return;
	o->work(o);
}

/* Back on the loop's thread. */
static void
offload_finish(struct job *j)
{
	struct offload *o = (struct offload *)j;
	struct request *r = o->r;

	config_free(o->cfg);
	o->cfg = NULL;
	o->r = NULL;
	if (atomic_load(&o->cancelled)) {
		if (!o->gone)
			evhttp_request_free(r->req);	/* detached: ours */
		/* Logged and counted as nginx does a client that left. */
		reply_stream_done(r, 499);
		r = NULL;
	} else
		reply_stream_watch(r, NULL, NULL);
	o->done(o, r);
}

static void
offload_prepare(struct request *r, struct offload *o,
    void (*work)(struct offload *o), offload_done_fn done)
{
	o->job.run = offload_run;
	o->job.done = offload_finish;
	o->r = r;
	o->work = work;
	o->done = done;
	o->srv = r->srv;
	o->cfg = config_ref(r->srv->cfg);
	o->principal = r->principal;
	o->request_id = r->id;
	atomic_init(&o->cancelled, 0);
	/* No connection: evhttp has detached the request already. */
	if (reply_stream_watch(r, offload_gone, o) != 0)
		atomic_store(&o->cancelled, 1);
}

int
offload_submit(struct request *r, struct offload *o,
    void (*work)(struct offload *o), offload_done_fn done)
{
	offload_prepare(r, o, work, done);
	if (workers_submit(r->srv->workers, &o->job) == 0)
		return 0;
	reply_stream_watch(r, NULL, NULL);
	config_free(o->cfg);
	o->cfg = NULL;
	o->r = NULL;
	metrics_inc(&r->srv->metrics.jobs_rejected, 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Retry-After", "1");
	reply_error(r, 503, "overloaded", NULL, "the server is busy with "
	    "other requests; retry shortly");
	return -1;
}

void
offload_continue(struct request *r, struct offload *o,
    void (*work)(struct offload *o), offload_done_fn done)
{
	offload_prepare(r, o, work, done);
	workers_continue(r->srv->workers, &o->job);
}

static void
free_text(const void *data, size_t len, void *extra)
{
	free((void *)data);
}

void
offload_answer_owned(struct offload *o, int status, const char *content_type,
    char *text, size_t len)
{
	o->status = status;
	o->content_type = content_type;
	if (o->body == NULL && (o->body = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	/* Sent from where it lies; freed once written. */
	if (len == 0)
		free(text);
	else if (evbuffer_add_reference(o->body, text, len, free_text,
	    NULL) != 0)
		fatalx("evbuffer_add_reference: out of memory");
}

void
offload_answer_json(struct offload *o, int status, json_t *body)
{
	char *text;

	/* As reply_json() dumps it. */
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("json_dumps: out of memory");
	json_decref(body);
	offload_answer_owned(o, status, "application/json", text, strlen(text));
}

void
offload_answer_error(struct offload *o, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	o->status = status;
	snprintf(o->code, sizeof(o->code), "%s", code);
	snprintf(o->field, sizeof(o->field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
}

void
offload_answer_failure(struct offload *o, int rc, const char *message)
{
	if (rc == KEYRING_EUNAVAILABLE) {
		/* As appends refused for the same reason (route_events.c). */
		o->retry_after = 1;
		offload_answer_error(o, 503, "keys_unavailable", NULL, "the "
		    "ledger's keys are unavailable; try again once it is "
		    "restarted");
	} else
		offload_answer_error(o, 500, "internal", NULL, "%s", message);
}

void
offload_reply(struct offload *o, struct request *r)
{
	if (r == NULL)
		return;
	if (o->retry_after)
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
	if (o->status == 0)
		offload_answer_error(o, 500, "internal", NULL,
		    "the request could not be answered");
	if (o->code[0] != '\0') {
		reply_error(r, o->status, o->code, o->field[0] != '\0' ?
		    o->field : NULL, "%s", o->message);
		return;
	}
	if (o->body != NULL && evbuffer_add_buffer(
	    evhttp_request_get_output_buffer(r->req), o->body) != 0)
		fatalx("evbuffer_add_buffer: out of memory");
	reply_bytes(r, o->status, o->content_type, NULL, 0);
}

void
offload_release(struct offload *o)
{
	if (o->body != NULL)
		evbuffer_free(o->body);
	o->body = NULL;
	config_free(o->cfg);
	o->cfg = NULL;
}
