/*
 * What the oversight routes (provenance queries, compliance export) share:
 * the audit or export entry every such request appends before it answers
 * ("the watchers are watched", spec §2.8), and the received_at bounds of a
 * since/until range.
 */
#ifndef LEDGERD_OVERSIGHT_H
#define LEDGERD_OVERSIGHT_H

#include <stdint.h>

#include <jansson.h>

struct request;
struct store_txn;

/* The purpose an oversight entry records when the request names none. */
#define OVERSIGHT_AUDIT_PURPOSE "oversight query"
#define OVERSIGHT_EXPORT_PURPOSE "compliance export"

/*
 * Called on the loop's thread once the oversight entry is durable, with
 * its seq.  r is NULL when the entry could not be written: r has then been
 * answered already (400, 503, ...), and done only frees arg.
 */
typedef void (*oversight_done_fn)(struct request *r, uint64_t seq, void *arg);

/*
 * oversight_record - appends the entry that records an oversight request:
 * {type, actor: {org: the principal's org, user: its id}, purpose,
 * occurred_at: now, details}, through the writer like any other append.
 * Nothing of the answer may be sent before done() is called with r.
 *	type	in: "audit" or "export"
 *	purpose	in: the request's purpose parameter, or NULL for the
 *		default of the type
 *	details	in: stolen; must hold no clear subject identifier
 *	done	in: called exactly once, possibly before this returns
 */
void oversight_record(struct request *r, const char *type, const char *purpose,
    json_t *details, oversight_done_fn done, void *arg);

/*
 * oversight_time_param - reads an RFC 3339 query parameter (since, until).
 *	us	out: microseconds since the epoch
 * Returns 1 when present, 0 when absent, -1 after answering 400.
 */
int oversight_time_param(struct request *r, const char *name, int64_t *us);


#endif
