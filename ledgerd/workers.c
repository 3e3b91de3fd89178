/*
 * The worker pool (workers.h): threads taking jobs from one queue, and the
 * hand-back of finished jobs to the event loop's thread through an event
 * made active from the worker, as the writer hands back its appends.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ledger/xmalloc.h"

#include "crash.h"
#include "log.h"
#include "workers.h"

TAILQ_HEAD(job_list, job);

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;		/* a job was queued, or exiting */
	pthread_cond_t done_cv;		/* a job finished (workers_drain) */
	struct job_list queue;		/* waiting for a worker */
	struct job_list done;		/* waiting for the loop */
	int exiting;			/* threads leave once the queue is empty */
	struct event *notify;		/* made active by a worker */
	pthread_t *threads;
	size_t n_threads;
	/* The loop's thread alone reads and writes these. */
	size_t max_in_progress;
	size_t in_progress;
	int stopping;			/* refuse new jobs */
	int stopped;			/* the threads are joined */
};

static void *
worker_main(void *arg)
{
	struct workers *w = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (TAILQ_EMPTY(&w->queue) && !w->exiting)
			pthread_cond_wait(&w->work_cv, &w->mu);
		if ((j = TAILQ_FIRST(&w->queue)) == NULL) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		TAILQ_REMOVE(&w->queue, j, link);
		pthread_mutex_unlock(&w->mu);

		crash_hold("job");
		j->run(j);

		pthread_mutex_lock(&w->mu);
		TAILQ_INSERT_TAIL(&w->done, j, link);
		pthread_cond_signal(&w->done_cv);
		pthread_mutex_unlock(&w->mu);
		event_active(w->notify, EV_READ, 0);
	}
	return NULL;
}

/* Calls done() of every finished job, on the loop's thread. */
static void
deliver(struct workers *w)
{
	struct job_list done = TAILQ_HEAD_INITIALIZER(done);
	struct job *j;

	pthread_mutex_lock(&w->mu);
	TAILQ_CONCAT(&done, &w->done, link);
	pthread_mutex_unlock(&w->mu);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, link);
		w->in_progress--;
		j->done(j);
	}
}

static void
deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	deliver(arg);
}

struct workers *
workers_start(struct event_base *base, size_t threads, size_t max_waiting)
{
	struct workers *w = xcalloc(1, sizeof(*w));
	sigset_t all, old;
	size_t i;

	if (threads == 0)
		threads = 1;
	TAILQ_INIT(&w->queue);
	TAILQ_INIT(&w->done);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work_cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	w->max_in_progress = threads + max_waiting;
	if ((w->notify = event_new(base, -1, 0, deliver_cb, w)) == NULL)
		fatalx("workers: event_new: out of memory");
	w->threads = xcalloc(threads, sizeof(*w->threads));
	/* Signals are the loop's (evsignal): the workers never take them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
			log_warnx("workers: cannot start thread %zu of %zu",
			    i + 1, threads);
			break;
		}
		w->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->n_threads < threads) {
		workers_free(w);
		return NULL;
	}
	log_info("workers: %zu threads, up to %zu jobs in progress", threads,
	    w->max_in_progress);
	return w;
}

static void
enqueue(struct workers *w, struct job *j)
{
	w->in_progress++;
	pthread_mutex_lock(&w->mu);
	TAILQ_INSERT_TAIL(&w->queue, j, link);
	pthread_cond_signal(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
}

int
workers_submit(struct workers *w, struct job *j)
{
	if (w->stopping || w->in_progress >= w->max_in_progress)
		return -1;
	enqueue(w, j);
	return 0;
}

void
workers_continue(struct workers *w, struct job *j)
{
	if (w->stopped) {
		/* Only while shutting down: nothing is left to wait for. */
		j->run(j);
		j->done(j);
		return;
	}
	enqueue(w, j);
}

size_t
workers_in_progress(const struct workers *w)
{
	return w != NULL ? w->in_progress : 0;
}

void
workers_drain(struct workers *w)
{
	while (w != NULL && w->in_progress > 0) {
		pthread_mutex_lock(&w->mu);
		while (TAILQ_EMPTY(&w->done))
			pthread_cond_wait(&w->done_cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
		deliver(w);
	}
}

void
workers_stop(struct workers *w)
{
	size_t i;

	if (w == NULL || w->stopped)
		return;
	w->stopping = 1;
	workers_drain(w);
	pthread_mutex_lock(&w->mu);
	w->exiting = 1;
	pthread_cond_broadcast(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	w->stopped = 1;
}

void
workers_free(struct workers *w)
{
	if (w == NULL)
		return;
	workers_stop(w);
	event_free(w->notify);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work_cv);
	pthread_cond_destroy(&w->done_cv);
	free(w->threads);
	free(w);
}
