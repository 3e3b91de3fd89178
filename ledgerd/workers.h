/*
 * A small fixed pool of threads for the work that must not hold the event
 * loop: parsing and checking a batch, building a listing, a provenance
 * answer or a batch's answer.  A job runs on a worker and comes back to the
 * loop's thread, which finishes it.  Nothing here knows HTTP (offload.h
 * ties jobs to requests).
 *
 * Locking: one mutex guards the queue of jobs waiting for a worker and the
 * list of jobs waiting for the loop; a job belongs to exactly one thread at
 * a time, handed over under that mutex, so its fields need no lock of their
 * own.  No lock is held while a job runs.
 */
#ifndef LEDGERD_WORKERS_H
#define LEDGERD_WORKERS_H

#include <stddef.h>
#include <sys/queue.h>

struct event_base;
struct workers;

/*
 * One job.  The submitter fills run and done and keeps the job (usually
 * embedded first in a bigger struct) alive until done() is called.
 */
struct job {
	/* On a worker thread; touches nothing the loop's thread uses. */
	void (*run)(struct job *j);
	/*
	 * On the loop's thread, after run() returned, exactly once; it owns
	 * the job from then on (and usually frees it).
	 */
	void (*done)(struct job *j);
	TAILQ_ENTRY(job) link;		/* the pool's */
};

/*
 * workers_start - starts threads worker threads (at least 1) whose finished
 * jobs are handed back on base's thread.
 *	max_waiting	in: jobs that may wait for a worker besides the
 *			threads ones being worked on (workers_submit())
 * Returns the pool, or NULL (logged) when a thread could not be started.
 */
struct workers *workers_start(struct event_base *base, size_t threads,
    size_t max_waiting);

/*
 * workers_submit - queues j for a worker.  Call it on the loop's thread.
 * Returns 0, or -1 when threads + max_waiting jobs are in progress already
 * (queued, running, or finished and not yet handed back) or the pool is
 * stopping: the caller keeps j and answers 503.
 */
int workers_submit(struct workers *w, struct job *j);

/*
 * workers_continue - queues j whatever the pool holds: for the second part
 * of a request already under way (the answer to a batch the writer has
 * committed, to a query whose audit entry is written), which must not be
 * refused.  There is at most one such job per request in progress, so the
 * bound on requests bounds these too.  Once the pool has stopped, j runs on
 * the calling thread and done() is called before this returns.  Call it on
 * the loop's thread.
 */
void workers_continue(struct workers *w, struct job *j);

/* workers_in_progress - jobs submitted and not yet done (for /metrics). */
size_t workers_in_progress(const struct workers *w);

/*
 * workers_drain - waits, on the loop's thread, until no job is in
 * progress, calling each done() as its job finishes (a done() may submit
 * more; those are waited for too).  The loop does not run meanwhile.
 */
void workers_drain(struct workers *w);

/*
 * workers_stop - refuses new jobs (workers_submit then returns -1), drains
 * (workers_drain) and joins the threads.  Call it on the loop's thread; a
 * second call does nothing.  w stays valid until workers_free().
 */
void workers_stop(struct workers *w);

/* workers_free - stops w and frees it; NULL is allowed. */
void workers_free(struct workers *w);

#endif
