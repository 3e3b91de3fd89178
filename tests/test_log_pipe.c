/*
 * The daemon never waits for its standard error: with stderr a pipe that
 * nobody reads (a stuck log collector), requests that each log a line go
 * on being answered, the lines beyond what waits are dropped and counted
 * (ledgerd_log_lines_dropped_total), and once the pipe is read again a line
 * says how many were lost.
 *
 * The daemon is started here rather than by daemon.c, whose daemons log to
 * a file: its stderr is a FIFO this test holds open and does not read.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* Far more than a pipe (64 KiB) and the daemon's 1 MiB of waiting lines. */
#define BAD_REQUESTS 30000

/* ledgerd serve in development mode, its stderr and stdout the FIFO. */
static pid_t
spawn(const char *fifo, const char *data)
{
	pid_t parent = getpid(), pid;
	int fd;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* The test holds a read end: this open does not wait. */
	if ((fd = open(fifo, O_WRONLY)) < 0)
		_exit(127);
	dup2(fd, STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	execl(daemon_bin(), daemon_bin(), "serve", "--data", data, "--listen",
	    "127.0.0.1:0", (char *)NULL);
	_exit(127);
}

/* Waits (bounded) until GET /healthz answers 200. */
static int
wait_healthy(struct http_client *hc)
{
	long long end = now_ms() + DAEMON_START_TIMEOUT_MS;

	while (now_ms() < end) {
		struct http_response r;

		if (http_get_public(hc, "/healthz", &r) == 0) {
			int ok = r.status == 200;

			http_response_free(&r);
			if (ok)
				return 0;
		}
		http_client_close(hc);
		sleep_ms(50);
	}
	return -1;
}

/* The value of counter name in a /metrics text, or -1. */
static long long
metric(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; (p = strstr(p, name)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

/*
 * Reads the FIFO (non-blocking) until needle is in what was read, for at
 * most timeout_ms; the text read is in buf.
 */
static int
read_until(int fd, char *buf, size_t cap, const char *needle, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	size_t len = 0;

	buf[0] = '\0';
	while (now_ms() < end) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, needle) != NULL)
				return 0;
			if (len > cap / 2) {
				/* keep the last part: the needle may straddle */
				memmove(buf, buf + len - 4096, 4096);
				len = 4096;
				buf[len] = '\0';
			}
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		sleep_ms(10);
	}
	return -1;
}

static void
test_stderr_not_read(void)
{
	char root[] = "/tmp/ledgerd-logpipe.XXXXXX", fifo[600], data[600];
	char path[700], token[256], auth[300];
	struct http_client hc;
	struct http_response r;
	unsigned port = 0;
	int rfd, status, answered = 0;
	char *buf = malloc(1 << 20);
	const char *p;
	pid_t pid;

	REQUIRE(buf != NULL && mkdtemp(root) != NULL);
	snprintf(fifo, sizeof(fifo), "%s/stderr", root);
	snprintf(data, sizeof(data), "%s/data", root);
	CHECK(mkfifo(fifo, 0600) == 0);
	/* Held open and not read: the pipe fills after 64 KiB. */
	CHECK((rfd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) >= 0);
	REQUIRE((pid = spawn(fifo, data)) > 0);
	/* Its start lines are read, for the port; nothing after them. */
	CHECK(read_until(rfd, buf, 1 << 20, "listening on http",
	    DAEMON_START_TIMEOUT_MS) == 0);
	if ((p = strstr(buf, "listening on http")) != NULL &&
	    (p = strstr(p, "://127.0.0.1:")) != NULL)
		port = (unsigned)strtoul(p + strlen("://127.0.0.1:"), NULL, 10);
	REQUIRE(port != 0);
	http_client_init(&hc, port, NULL);
	CHECK(wait_healthy(&hc) == 0);

	/*
	 * Each refused request logs a line of about 70 bytes: 30,000 of them
	 * fill the pipe, then the daemon's 1 MiB of waiting lines.  A daemon
	 * that wrote its lines itself would stop answering at the first
	 * line the full pipe does not take.
	 */
	hc.timeout_ms = 10000;
	for (int i = 0; i < BAD_REQUESTS; i++) {
		char target[64];

		snprintf(target, sizeof(target), "/v1/no-such-route-%d", i);
		if (http_get_public(&hc, target, &r) != 0)
			break;
		answered += r.status == 404;
		http_response_free(&r);
	}
	CHECK_INT(answered, BAD_REQUESTS);
	if (http_get_public(&hc, "/healthz", &r) == 0) {
		CHECK_INT(r.status, 200);
		http_response_free(&r);
	} else
		CHECK(!"GET /healthz answered");

	/* The development token is an operator's: /metrics counts the drops. */
	snprintf(path, sizeof(path), "%s/dev.token", data);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL && fgets(token, sizeof(token), f) != NULL);
	if (f != NULL)
		fclose(f);
	token[strcspn(token, "\r\n")] = '\0';
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	long long dropped = -1;
	if (http_request(&hc, "GET", "/metrics", auth, NULL, NULL, NULL, 0,
	    &r) == 0) {
		CHECK_INT(r.status, 200);
		dropped = metric(r.body, "ledgerd_log_lines_dropped_total");
		http_response_free(&r);
	}
	printf("  %lld log lines dropped while stderr was not read\n", dropped);
	CHECK(dropped > 0);

	/* Read again, the pipe gets the waiting lines and the count. */
	CHECK(read_until(rfd, buf, 1 << 20, "lines dropped: stderr took none",
	    10000) == 0);

	/* Its last lines are written at exit: keep reading till it ends. */
	kill(pid, SIGTERM);
	long long end = now_ms() + DAEMON_STOP_TIMEOUT_MS;
	pid_t gone = 0;
	while (gone == 0 && now_ms() < end) {
		while (read(rfd, buf, 1 << 20) > 0)
			;
		if ((gone = waitpid(pid, &status, WNOHANG)) == 0)
			sleep_ms(10);
	}
	if (gone != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	CHECK(gone == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	http_client_close(&hc);
	close(rfd);
	free(buf);
	remove_tree(root);
}

int
main(void)
{
	RUN(test_stderr_not_read);
	return TEST_SUMMARY();
}
