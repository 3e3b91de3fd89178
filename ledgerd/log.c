/* Levelled, timestamped log lines on stderr; libevent's messages included. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char line[2048], escaped[4 * sizeof(line)], stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	if (suffix != NULL) {
		strncat(line, ": ", sizeof(line) - strlen(line) - 1);
		strncat(line, suffix, sizeof(line) - strlen(line) - 1);
	}
	/* The one place every logged value passes: see log_escape. */
	log_escape(escaped, sizeof(escaped), line);
	/* One fprintf per line: stdio locks the stream, so threads do not interleave. */
	fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp, ts.tv_nsec / 1000000,
	    names[level], escaped);
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
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
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
