/*
 * The daemon's one logging module: one line per event on stderr, with a
 * level, a timestamp and the context in the line (after tmux's log.c).
 * Every line is written as printable ASCII: control bytes, DEL, bytes
 * above 0x7f and the backslash appear as \xNN, whatever the caller passed.
 */
#ifndef LEDGERD_LOG_H
#define LEDGERD_LOG_H

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* log_set_level - lines above level are dropped (default INFO). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* log_errorx - at ERROR, for what an operator must act on; the daemon goes on. */
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn - like log_warnx, with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fatal/fatalx - log at ERROR (fatal adds strerror(errno)) and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_async_start - from now on a thread of its own writes the lines, so
 * that no other thread waits for stderr; at most 1 MiB of lines waits, and
 * lines beyond are dropped, counted and reported in a line of their own.
 * log_async_stop (also run at exit) writes what waits and stops it.
 */
void log_async_start(void);
void log_async_stop(void);
/* log_dropped_lines - lines dropped so far because stderr took none. */
unsigned long long log_dropped_lines(void);

/* log_route_libevent - send libevent's own messages through this module. */
void log_route_libevent(void);

#endif
