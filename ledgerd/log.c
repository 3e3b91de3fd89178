/* Levelled, timestamped log lines on stderr; libevent's messages included. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

static enum log_level log_level = LOG_LEVEL_INFO;

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

/*
 * Copies src into dst (of size n, n >= 5) as printable ASCII: a control
 * byte, DEL, a byte above 0x7f and the backslash itself become \xNN, so a
 * logged value (a request path, a header, a message of a library) can
 * neither end the line, forge another, nor send a terminal escape, and the
 * line still says which bytes came.  Output that does not fit is cut at a
 * whole escape.
 */
static void
log_escape(char *dst, size_t n, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t o = 0;

	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			if (o + 1 >= n)
				break;
			dst[o++] = (char)*p;
		} else {
			if (o + 4 >= n)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 0xf];
		}
	}
	dst[o] = '\0';
}

/* A whole line: timestamp, level, the escaped text, the newline. */
static size_t
format_line(char *out, size_t cap, enum log_level level, const char *escaped)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(out, cap, "%s.%03ldZ %s: %s\n", stamp,
	    ts.tv_nsec / 1000000, names[level], escaped);
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/*
 * Lines waiting for the logging thread (log_async_start).  A daemon's
 * threads never wait for stderr: a log collector that stops reading (a
 * full pipe, a stuck journal) would otherwise stop the event loop at its
 * next logged request.  When LOG_RING_BYTES wait, further lines are
 * dropped and counted, and the thread says how many once it writes again.
 */
#define LOG_RING_BYTES (1u << 20)
/* At exit, how long what waits may take to be written. */
#define LOG_EXIT_MS 2000

enum ring_state {
	RING_OFF,		/* lines are written at once, by their thread */
	RING_ON,		/* the logging thread writes them */
	RING_STOPPING,		/* log_async_stop writes what waits */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;		/* the thread waits for lines */
	pthread_cond_t idle_cv;		/* a write ended; or the stop did */
	pthread_t thread;
	enum ring_state state;
	int writing;			/* the thread is in write(2) */
	char *buf;			/* LOG_RING_BYTES */
	size_t head, len;		/* the oldest waiting byte, bytes waiting */
	unsigned long long dropped;	/* lines since the last report */
	unsigned long long dropped_total;
} ring = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.work_cv = PTHREAD_COND_INITIALIZER,
	.idle_cv = PTHREAD_COND_INITIALIZER,
};

static long long
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Writes the whole lines p[0..n) to stderr in pieces of at most PIPE_BUF
 * bytes cut after a newline, so that no piece is split by another writer
 * of the same pipe (the forked key keeper writes its own lines there).  A
 * line longer than PIPE_BUF goes alone, whole.  With deadline_ms (realtime
 * milliseconds; 0 for none) it writes only while stderr takes bytes before
 * then.  Returns the bytes not written.
 */
static size_t
write_lines(const char *p, size_t n, long long deadline_ms)
{
	while (n > 0) {
		size_t piece = n;
		ssize_t w;

		if (piece > PIPE_BUF) {
			const char *nl = memrchr(p, '\n', PIPE_BUF);

			if (nl == NULL)
				nl = memchr(p, '\n', n);
			piece = nl != NULL ? (size_t)(nl - p) + 1 : n;
		}
		if (deadline_ms != 0) {
			struct pollfd pfd = { STDERR_FILENO, POLLOUT, 0 };
			long long left = deadline_ms - realtime_ms();

			if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
				return n;
		}
		while (piece > 0) {
			if ((w = write(STDERR_FILENO, p, piece)) < 0 &&
			    errno == EINTR)
				continue;
			if (w <= 0)
				return n;	/* nowhere to say it */
			p += w;
			n -= (size_t)w;
			piece -= (size_t)w;
		}
	}
	return 0;
}

/* Moves every waiting byte into out (LOG_RING_BYTES); under mu. */
static size_t
ring_take(char *out)
{
	size_t first = LOG_RING_BYTES - ring.head, n = ring.len;

	if (first > n)
		first = n;
	memcpy(out, ring.buf + ring.head, first);
	memcpy(out + first, ring.buf, n - first);
	ring.head = (ring.head + n) % LOG_RING_BYTES;
	ring.len = 0;
	return n;
}

/* The line that says how many lines were dropped. */
static size_t
dropped_line(char *out, size_t cap, unsigned long long dropped)
{
	char text[160];

	snprintf(text, sizeof(text), "log: %llu lines dropped: stderr took "
	    "none while %u bytes of lines waited", dropped, LOG_RING_BYTES);
	return format_line(out, cap, LOG_LEVEL_WARN, text);
}

static void *
log_main(void *arg)
{
	static char out[LOG_RING_BYTES];
	char note[256];

	(void)arg;
	pthread_mutex_lock(&ring.mu);
	while (ring.state == RING_ON) {
		unsigned long long dropped;
		size_t n;

		if (ring.len == 0 && ring.dropped == 0) {
			pthread_cond_wait(&ring.work_cv, &ring.mu);
			continue;
		}
		n = ring_take(out);
		dropped = ring.dropped;
		ring.dropped = 0;
		ring.writing = 1;
		pthread_mutex_unlock(&ring.mu);
		write_lines(out, n, 0);
		if (dropped > 0)
			write_lines(note, dropped_line(note, sizeof(note),
			    dropped), 0);
		pthread_mutex_lock(&ring.mu);
		ring.writing = 0;
		pthread_cond_broadcast(&ring.idle_cv);
	}
	pthread_mutex_unlock(&ring.mu);
	return NULL;
}

/* One whole line, to the ring or (before and after the thread) to stderr. */
static void
log_emit(const char *line, size_t n)
{
	size_t tail;

	pthread_mutex_lock(&ring.mu);
	if (ring.state == RING_OFF) {
		pthread_mutex_unlock(&ring.mu);
		write_lines(line, n, 0);
		return;
	}
	if (LOG_RING_BYTES - ring.len < n) {
		ring.dropped++;
		ring.dropped_total++;
		pthread_mutex_unlock(&ring.mu);
		return;
	}
	tail = (ring.head + ring.len) % LOG_RING_BYTES;
	if (tail + n <= LOG_RING_BYTES)
		memcpy(ring.buf + tail, line, n);
	else {
		size_t first = LOG_RING_BYTES - tail;

		memcpy(ring.buf + tail, line, first);
		memcpy(ring.buf, line + first, n - first);
	}
	ring.len += n;
	if (ring.state == RING_ON)
		pthread_cond_signal(&ring.work_cv);
	pthread_mutex_unlock(&ring.mu);
}

/* Waits on idle_cv until deadline_ms (realtime); under mu.  0 on timeout. */
static int
wait_idle(long long deadline_ms)
{
	struct timespec ts = {
		.tv_sec = deadline_ms / 1000,
		.tv_nsec = (deadline_ms % 1000) * 1000000,
	};

	return pthread_cond_timedwait(&ring.idle_cv, &ring.mu, &ts) == 0;
}

/*
 * Stops the thread's part: waits for its write under way, then writes what
 * waits, from this thread; later lines go straight to stderr.  At most
 * LOG_EXIT_MS in all: a stderr that takes nothing must not keep the daemon
 * from ending (at exit, or a fatal error).  A second caller meanwhile (two
 * threads ending the process at once) waits for the first, as long.
 */
void
log_async_stop(void)
{
	static char out[LOG_RING_BYTES];
	long long deadline = realtime_ms() + LOG_EXIT_MS;
	char note[256];
	int stuck;

	pthread_mutex_lock(&ring.mu);
	if (ring.state == RING_STOPPING) {
		while (ring.state != RING_OFF && realtime_ms() < deadline)
			wait_idle(deadline);
		pthread_mutex_unlock(&ring.mu);
		return;
	}
	if (ring.state == RING_OFF) {
		pthread_mutex_unlock(&ring.mu);
		return;
	}
	ring.state = RING_STOPPING;
	pthread_cond_signal(&ring.work_cv);
	while (ring.writing && realtime_ms() < deadline)
		wait_idle(deadline);
	stuck = ring.writing;
	while (ring.len > 0 || ring.dropped > 0) {
		size_t n = ring_take(out);
		unsigned long long dropped = ring.dropped;

		ring.dropped = 0;
		pthread_mutex_unlock(&ring.mu);
		/* With the thread stuck in write(2), stderr takes nothing. */
		if (!stuck && write_lines(out, n, deadline) == 0 && dropped > 0)
			write_lines(note, dropped_line(note, sizeof(note),
			    dropped), deadline);
		pthread_mutex_lock(&ring.mu);
		if (stuck || realtime_ms() >= deadline)
			break;
	}
	ring.state = RING_OFF;
	pthread_cond_broadcast(&ring.idle_cv);
	pthread_mutex_unlock(&ring.mu);
	if (!stuck)
		pthread_join(ring.thread, NULL);
}

/*
 * fork(2) keeps the calling thread only: the child writes its lines itself.
 * The child's copy of mu is the one the forking thread locked in
 * fork_prepare.
 */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&ring.mu);
}

static void
fork_parent(void)
{
	pthread_mutex_unlock(&ring.mu);
}

static void
fork_child(void)
{
	ring.state = RING_OFF;
	ring.writing = 0;
	ring.len = 0;		/* the parent writes those */
	ring.dropped = 0;
	pthread_cond_init(&ring.work_cv, NULL);
	pthread_cond_init(&ring.idle_cv, NULL);
	pthread_mutex_unlock(&ring.mu);
}

void
log_async_start(void)
{
	static int registered;

	pthread_mutex_lock(&ring.mu);
	if (ring.state != RING_OFF) {
		pthread_mutex_unlock(&ring.mu);
		return;
	}
	if (ring.buf == NULL && (ring.buf = malloc(LOG_RING_BYTES)) == NULL) {
		pthread_mutex_unlock(&ring.mu);
		return;		/* lines go on straight to stderr */
	}
	ring.state = RING_ON;
	if (pthread_create(&ring.thread, NULL, log_main, NULL) != 0)
		ring.state = RING_OFF;
	pthread_mutex_unlock(&ring.mu);
	if (!registered) {
		registered = 1;
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		/* fatal() and a return from main write what waits. */
		atexit(log_async_stop);
	}
}

unsigned long long
log_dropped_lines(void)
{
	unsigned long long n;

	pthread_mutex_lock(&ring.mu);
	n = ring.dropped_total;
	pthread_mutex_unlock(&ring.mu);
	return n;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048], escaped[4 * sizeof(line)];
	char out[sizeof(escaped) + 64];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (suffix != NULL) {
		strncat(line, ": ", sizeof(line) - strlen(line) - 1);
		strncat(line, suffix, sizeof(line) - strlen(line) - 1);
	}
	/* The one place every logged value passes: see log_escape. */
	log_escape(escaped, sizeof(escaped), line);
	/* One write per line, so that threads and processes do not interleave. */
	log_emit(out, format_line(out, sizeof(out), level, escaped));
}

#define LOG_FN(fn, level, with_errno)					\
	void								\
	fn(const char *fmt, ...)					\
	{								\
		int saved_errno = errno;				\
		va_list ap;						\
									\
		if (log_level < (level))				\
			return;						\
		va_start(ap, fmt);					\
		log_vwrite((level), fmt, ap,				\
		    (with_errno) ? strerror(saved_errno) : NULL);	\
		va_end(ap);						\
		errno = saved_errno;					\
	}

LOG_FN(log_errorx, LOG_LEVEL_ERROR, 0)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, strerror(saved_errno));
	va_end(ap);
	/*
	 * Here, not only at exit: of two threads ending the process at
	 * once, the second runs no exit handler and would cut the first's
	 * writing short; here it waits for it.
	 */
	log_async_stop();
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
	log_async_stop();	/* as in fatal() */
	exit(1);
}

static void
libevent_log(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	default:
		log_warnx("libevent: %s", msg);
		break;
	}
}

void
log_route_libevent(void)
{
	event_set_log_callback(libevent_log);
}
