/*
 * Starting and stopping the real ledgerd for the tests: a fresh data
 * directory per daemon, the port it reports, its token and verifier key,
 * SIGTERM, kill -9, restart, fsck.  Every wait is bounded.
 */
#ifndef LEDGER_TEST_DAEMON_H
#define LEDGER_TEST_DAEMON_H

#include <limits.h>
#include <sys/types.h>

#include "ledger/note.h"

/* Bounds on waiting for the daemon; generous for sanitizer builds. */
#define DAEMON_START_TIMEOUT_MS 20000
#define DAEMON_STOP_TIMEOUT_MS 20000
#define DAEMON_FSCK_TIMEOUT_MS 60000

/*
 * The checkpoint interval test daemons publish at (--checkpoint-interval-ms):
 * short, so that waiting for a published checkpoint costs a test little.
 * Tests never rely on it for correctness: they poll (apiutil's
 * wait_published).
 */
#define DAEMON_TEST_INTERVAL_MS 20

struct daemon {
	pid_t pid;			/* 0 when not running */
	char root[512];			/* temporary directory holding the rest */
	char data[600];			/* the data directory (root/data) */
	char log_path[600];		/* the daemon's stderr, all runs appended */
	char config[620];		/* root/ledgerd.json, or "" for
					   development mode */
	unsigned port;
	char token[256];		/* development bearer token */
	char auth[300];			/* "Bearer <token>" */
	char vkey[1024];		/* note-verifier text */
	struct ledger_verifier verifier;
	int starts;			/* how many times it was started */
	int interval_ms;		/* --checkpoint-interval-ms: 0 for
					   DAEMON_TEST_INTERVAL_MS, -1 for none
					   (the config's, or the default) */
};

/* daemon_bin - LEDGERD_BIN, or build/ledgerd when it is unset. */
const char *daemon_bin(void);

/*
 * daemon_start - creates a fresh temporary directory and starts
 * `ledgerd serve --data DIR --listen 127.0.0.1:0` in it; waits for the
 * "listening on" line and reads dev.token and verifier.vkey.
 * Returns 0, or -1 after printing why (the daemon is not left running).
 */
int daemon_start(struct daemon *d);

/*
 * daemon_start_config - as daemon_start, with the configuration file
 * ROOT/ledgerd.json holding config: `ledgerd serve --config ROOT/ledgerd.json
 * --data ROOT/data` (config's "listen" should be 127.0.0.1:0, plain or
 * TLS).  There is no development token: token and auth stay empty.
 * d->config names the file, which a test may rewrite before a SIGHUP.
 * Returns 0, or -1 after printing why (the daemon is not left running).
 */
int daemon_start_config(struct daemon *d, const char *config);

/*
 * daemon_restart - starts the daemon again on the same data directory (it
 * must not be running), with d->interval_ms as it is now (a test may change
 * it, and d->config's file, in between).  The port, token and key are read
 * anew.
 * Returns 0 or -1 (printed).
 */
int daemon_restart(struct daemon *d);

/*
 * daemon_stop - SIGTERM, then waits for the exit.  A daemon that does not
 * exit within the bound is killed with SIGKILL.
 * Returns the exit code (0..255), or -1 when it died of a signal or had to
 * be killed (printed).
 */
int daemon_stop(struct daemon *d);

/* daemon_kill - SIGKILL and reap; the data directory stays. */
void daemon_kill(struct daemon *d);

/* daemon_running - 1 while the process has not exited. */
int daemon_running(struct daemon *d);

/*
 * daemon_fsck - runs `ledgerd fsck DATA` on the stopped daemon's directory.
 * Returns its exit code, or -1 (died of a signal or with a sanitizer
 * report, killed after the bound, or did not run); its output is printed
 * when the code is not 0.
 */
int daemon_fsck(struct daemon *d);

/*
 * daemon_tool - runs `ledgerd ARGS...` (at most 14 of them) to its end,
 * bounded like fsck, whether or not the daemon runs.
 *	out, cap	out: its output (stdout and stderr), truncated to cap;
 *			with out NULL the output is printed when the code is
 *			not 0
 * Returns the exit code, or -1 (died of a signal or with a sanitizer
 * report, killed after the bound, or did not run).
 */
int daemon_tool(struct daemon *d, const char *const args[], char *out, size_t cap);

/*
 * daemon_cleanup - stops the daemon if it runs (a non-zero exit counts as a
 * failed check), then removes the directory, unless the current test has
 * failed: then it prints where the log is, and the log's last lines.
 */
void daemon_cleanup(struct daemon *d);

/* daemon_print_log_tail - the last bytes of the daemon's log, to stderr. */
void daemon_print_log_tail(const struct daemon *d, size_t bytes);

/* daemon_log_read - the daemon's log so far, NUL-terminated (free() it). */
char *daemon_log_read(const struct daemon *d);

/*
 * daemon_log_wait - whether text is in the daemon's log, polled for a few
 * seconds: a thread of the daemon's own writes its lines, a moment after
 * what they tell of.
 */
int daemon_log_wait(const struct daemon *d, const char *text);

/*
 * daemon_logged_request - whether the log holds the line the daemon writes
 * for the answer to request id ("request <id> ... <status> ..."), waiting
 * up to 2 s for it (it is written before the answer leaves).
 */
int daemon_logged_request(const struct daemon *d, const char *id, int status);

/*
 * daemon_test - runs body against a freshly started daemon and cleans up
 * afterwards, so that a body may return early (REQUIRE) without leaking
 * the process or the directory.
 */
void daemon_test(void (*body)(struct daemon *d));

/* Milliseconds on the monotonic clock. */
long long now_ms(void);
/* sleep_ms - sleeps for pacing a poll loop (never as an assertion). */
void sleep_ms(int ms);
/* remove_tree - rm -rf of a directory; returns 0 or -1. */
int remove_tree(const char *path);

#endif
