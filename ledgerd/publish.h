/*
 * The loop's side of published checkpoints (spec §5.4, §10.6): which
 * checkpoint is published, the witness clients that push it, the
 * cosignatures they bring back (kept by the writer), the policy's quorum
 * over them, and the appends that wait for a witnessed checkpoint
 * (?wait=witnessed).  Everything here runs on the event loop's thread.
 */
#ifndef LEDGERD_PUBLISH_H
#define LEDGERD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct metrics_text;
struct publisher;
struct request;
struct server;

/*
 * publisher_start - reads the latest published checkpoint, makes a client
 * for every witness of srv->cfg's policy that has a URL, offers them the
 * checkpoint, and from then on hears of each publication from the writer
 * (srv->writer, started and not yet running its loop).  The policy is the
 * one of the configuration at start (a reload leaves it).
 * Returns NULL on failure (logged).
 */
struct publisher *publisher_start(struct server *srv);

/* publisher_has_policy - 1 when a witness policy is configured. */
int publisher_has_policy(const struct publisher *p);

/*
 * publisher_wait_witnessed - answers r once a published checkpoint that
 * covers the tree of size need_size (every entry of the request) has its
 * quorum of cosignatures: body (stolen; the append's answer) gains
 * "checkpoint", that cosigned checkpoint, and "inclusion_proof", entry
 * index's proof in its tree, and is sent with status.  After
 * witnesses.wait_seconds without one, r is answered 504 witness_timeout;
 * when the daemon stops first, 503 unavailable.  The entries are stored
 * either way.
 */
void publisher_wait_witnessed(struct publisher *p, struct request *r,
    int status, json_t *body, uint64_t index, uint64_t need_size);

/*
 * publisher_stop - stops pushing to witnesses and answers every waiting
 * request 503.  Call it when the daemon stops, after writer_stop().
 */
void publisher_stop(struct publisher *p);

/*
 * publisher_metrics - the published and witnessed sizes (for the gauges
 * of metrics_format), and the per-witness series appended to t.
 */
void publisher_metrics(const struct publisher *p, uint64_t *published_size,
    uint64_t *witnessed_size, struct metrics_text *t);

/* publisher_free - frees a stopped publisher; NULL is allowed. */
void publisher_free(struct publisher *p);

#endif
