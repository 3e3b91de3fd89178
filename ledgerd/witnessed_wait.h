/*
 * Appends that wait for a witnessed checkpoint (?wait=witnessed, spec
 * §7.4): each is answered with the first published checkpoint that covers
 * it and has its quorum of cosignatures, and the inclusion proof against
 * it; or, after a bounded wait, with 504.  On the loop's thread.
 */
#ifndef LEDGERD_WITNESSED_WAIT_H
#define LEDGERD_WITNESSED_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct request;
struct server;
struct witnessed_waiters;

/* witnessed_waiters_new - waits of at most wait_seconds each. */
struct witnessed_waiters *witnessed_waiters_new(struct server *srv,
    int wait_seconds);

/*
 * witnessed_waiters_add - r's append (body stolen, answered with status)
 * waits for a witnessed checkpoint of at least need_size; the proof is of
 * entry index.  Answered at once when the latest witnessed checkpoint
 * covers it already.
 */
void witnessed_waiters_add(struct witnessed_waiters *ws, struct request *r,
    int status, json_t *body, uint64_t index, uint64_t need_size);

/*
 * witnessed_waiters_reached - the latest witnessed checkpoint is now note
 * (copied), of tree_size: every wait it covers is answered.  A size below
 * the one known already is ignored.
 */
void witnessed_waiters_reached(struct witnessed_waiters *ws,
    uint64_t tree_size, const char *note, size_t len);

/* witnessed_waiters_size - the size of the latest witnessed checkpoint, or 0. */
uint64_t witnessed_waiters_size(const struct witnessed_waiters *ws);

/*
 * witnessed_waiters_stop - answers every wait 503, and every later one at
 * once.
 */
void witnessed_waiters_stop(struct witnessed_waiters *ws);

/* witnessed_waiters_free - frees ws (stopped: no wait left); NULL is allowed. */
void witnessed_waiters_free(struct witnessed_waiters *ws);

#endif
