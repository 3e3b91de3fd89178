/*
 * The real nginx for the tests, serving a mirror directory with the
 * configuration the project ships (docs/nginx-mirror.conf): started in the
 * foreground on a free loopback port, with its pid file, logs and
 * temporary files in its own directory, as root or not; stopped by its
 * pid.  Every wait is bounded.
 */
#ifndef LEDGER_TEST_NGINXRUN_H
#define LEDGER_TEST_NGINXRUN_H

#include <sys/types.h>

#define NGINX_START_TIMEOUT_MS 20000
#define NGINX_STOP_TIMEOUT_MS 20000

struct nginx {
	pid_t pid;		/* 0 when not running */
	unsigned port;
	char prefix[600];	/* its directory: nginx.conf, logs, temp */
	char url[64];		/* https://127.0.0.1:PORT */
};

/* nginx_bin - NGINX_BIN, or /usr/sbin/nginx, or nginx on the PATH. */
const char *nginx_bin(void);

/*
 * nginx_start - fills in docs/nginx-mirror.conf (read from the current
 * directory, the repository's top) and starts nginx on it.
 *	prefix		in: a new directory for nginx (created)
 *	mirror		in: the mirror directory to serve
 *	pki		in: tests/access_pki.sh's directory: server.pem,
 *			server.key, ca.pem
 *	readers		in: the file of certificate subjects that may read
 *			entry bundles (map lines)
 * Returns 0, or -1 after printing why (nothing left running).
 */
int nginx_start(struct nginx *ng, const char *prefix, const char *mirror,
    const char *pki, const char *readers);

/*
 * nginx_stop - SIGTERM (fast shutdown) and wait; SIGKILL after the bound.
 * Returns 0, or -1 when it had to be killed or exited with an error.
 */
int nginx_stop(struct nginx *ng);

/* nginx_print_log - its error log, to stderr (for a failed test). */
void nginx_print_log(const struct nginx *ng);

#endif
