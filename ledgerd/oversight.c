/*
 * The entry each oversight request leaves in the log before it is answered
 * (spec §2.8: every provenance query or export is itself appended), and the
 * time bounds the oversight routes share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "config.h"
#include "http.h"
#include "log.h"
#include "oversight.h"
#include "server.h"
#include "store.h"
#include "writer.h"

struct oversight_pending {
	struct request *r;
	oversight_done_fn done;
	void *arg;
};

/*
 * Completion of the oversight entry, on the loop's thread.  An answer that
 * could not be recorded is not given: the caller learns only why.
 */
static void
recorded(struct append_request *a, void *arg)
{
	struct oversight_pending *p = arg;
	struct request *r = p->r;
	uint64_t seq = a->results[0].seq;
	int status = a->status;

	if (status != 201) {
		if (status < 400 || status >= 600)
			status = 500;
		if (status == 503 || status == 507)
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->req), "Retry-After", "1");
		log_warnx("request %llu: the oversight entry was refused (%d): "
		    "%s", (unsigned long long)r->id, a->status,
		    a->err.message);
		reply_error(r, status, a->err.code[0] ? a->err.code :
		    "unavailable", NULL, "the query could not be recorded in "
		    "the log, so it is not answered: %s", a->err.message);
		r = NULL;
	}
	append_request_free(a);
	p->done(r, seq, p->arg);
	free(p);
}

void
oversight_record(struct request *r, const char *type, const char *purpose,
    json_t *details, oversight_done_fn done, void *arg)
{
	const struct principal *pr = r->principal;
	const struct config *cfg = r->srv->cfg;
	struct ledger_event_rules rules;
	struct ledger_field_error err;
	struct oversight_pending *p;
	struct append_request *a;
	char now[LEDGER_TIME_LEN + 1];
	json_t *event;

	ledger_time_format(server_now_us(), now);
	event = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o}", "type", type,
	    "actor", "org", pr->org, "user", pr->id,
	    "purpose", purpose != NULL ? purpose : strcmp(type, "export") == 0 ?
	    OVERSIGHT_EXPORT_PURPOSE : OVERSIGHT_AUDIT_PURPOSE,
	    "occurred_at", now, "details", details);
	if (event == NULL)
		fatalx("json_pack failed");

	/* The writer trusts what it is given: check like any posted event. */
	memset(&rules, 0, sizeof(rules));
	rules.server_types = 1;
	if (!pr->any_org) {
		rules.orgs = (const char *const *)cfg->orgs;
		rules.n_orgs = cfg->n_orgs;
	}
	if (ledger_event_validate(event, &rules, &err) != 0) {
		/* Only the purpose comes from the client. */
		json_decref(event);
		reply_error(r, 400, err.code, strcmp(err.field, "purpose") == 0 ?
		    "purpose" : NULL, "%s", err.message);
		done(NULL, 0, arg);
		return;
	}

	p = xcalloc(1, sizeof(*p));
	p->r = r;
	p->done = done;
	p->arg = arg;
	a = append_request_new(json_pack("[o]", event), pr);
	a->done = recorded;
	a->arg = p;
	if (writer_submit(r->srv->writer, a) != 0) {
		metrics_inc(&r->srv->metrics.rejected_overload, 1);
		append_request_free(a);
		free(p);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		reply_error(r, 503, "overloaded", NULL, "the append queue is "
		    "full, so the query cannot be recorded; retry shortly");
		done(NULL, 0, arg);
	}
}

int
oversight_time_param(struct request *r, const char *name, int64_t *us)
{
	const char *s;

	if ((s = query_str(r, name)) == NULL)
		return 0;
	if (ledger_time_parse_rfc3339(s, us) != 0) {
		reply_error(r, 400, "invalid_value", name,
		    "%s must be an RFC 3339 date-time", name);
		return -1;
	}
	return 1;
}
