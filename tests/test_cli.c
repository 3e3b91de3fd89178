/*
 * ledgerctl follows the command-line conventions (docs/ledgerctl.md): a
 * closed standard output ends it quietly by SIGPIPE while a server that
 * hangs up is an error; a page of a listing shows only once all of it is
 * read; what the server would refuse and the client can know is exit 2
 * before any request; an empty who-saw answer says what it does not prove;
 * both programs print one version.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/version.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "ctlrun.h"
#include "daemon.h"
#include "testlib.h"

#define MAX_ARGS 32
#define PIPE_END_TIMEOUT_MS 60000	/* generous: valgrind runs too */

/* A verifier key of the right form; no server here signs with it. */
#define SOME_VKEY \
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

static char scratch[512];	/* a temporary directory for this program */

static void
ctl_run(struct ctl_result *r, const char *in_path, ...)
{
	const char *args[MAX_ARGS + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, in_path);
	while (n < MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	ctl_exec(r, scratch, in_path, args);
}

#define CTL(code, phrase, ...)						\
	do {								\
		struct ctl_result r_;					\
		ctl_run(&r_, NULL, __VA_ARGS__, (const char *)NULL);	\
		CTL_EXPECT(&r_, (code), (phrase));			\
		ctl_result_free(&r_);					\
	} while (0)

static char *
scratch_path(const char *name)
{
	return xasprintf("%s/%s", scratch, name);
}

static void
use_server(const struct daemon *d)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_TOKEN", d->token, 1);
	setenv("LEDGER_KEY", d->vkey, 1);
}

/* An NDJSON file of n events; posts it and checks that all were stored. */
static void
post_events_ctl(int n)
{
	char *path = scratch_path("events.ndjson"), *ev;
	FILE *f = fopen(path, "wb");
	int i;

	for (i = 0; f != NULL && i < n; i++) {
		ev = sample_event_of(i % 3 == 2 ? "query" : "share", "police",
		    i % 2 ? "analyst-1" : "analyst-2", "kmar", NULL, i);
		fprintf(f, "%s\n", ev);
		free(ev);
	}
	if (f != NULL)
		fclose(f);
	CTL(0, "appended", "post", "--batch", path);
	free(path);
}

/* A port nothing listens on: bound, then closed again. */
static unsigned
closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	unsigned port = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- --version ---- */

static void
test_version(void)
{
	static const char *const args[] = { "--version", NULL };
	char want[64], out[256] = "";
	struct ctl_result r;
	struct daemon d;

	snprintf(want, sizeof(want), "ledgerctl %s\n", LEDGER_VERSION);
	ctl_run(&r, NULL, "--version", (const char *)NULL);
	CTL_EXPECT(&r, 0, NULL);
	CHECK_STR(r.out, want);
	CHECK_STR(r.err, "");
	ctl_result_free(&r);
	ctl_run(&r, NULL, "version", (const char *)NULL);
	CTL_EXPECT(&r, 0, NULL);
	CHECK_STR(r.out, want);
	ctl_result_free(&r);
	CTL(0, "version", "--help");

	memset(&d, 0, sizeof(d));
	snprintf(d.root, sizeof(d.root), "%s", scratch);
	CHECK_INT(daemon_tool(&d, args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "ledgerd %s\n", LEDGER_VERSION);
	CHECK_STR(out, want);
}

/* ---- usage errors before any request ---- */

struct usage_case {
	const char *phrase;
	const char *args[12];
};

static void
test_usage_before_request(void)
{
	char *dir = scratch_path("never-made"), *events, *policy;
	const struct usage_case cases[] = {
		{ "--user needs --org", { "list", "--user", "analyst-1" } },
		{ "RFC 3339", { "list", "--since", "yesterday" } },
		{ "RFC 3339", { "list", "--until", "2026-02-30T00:00:00Z" } },
		{ "RFC 3339", { "list", "--since", "2026-01-01 10:00:00Z" } },
		{ "later than --until", { "list",
		    "--since", "2026-02-01T00:00:00Z",
		    "--until", "2026-01-01T00:00:00Z" } },
		{ "--limit", { "list", "--limit", "-1" } },
		{ "--limit", { "list", "--limit", "5x" } },
		{ "--limit", { "list", "--limit", "0" } },
		{ "--type must be", { "list", "--type", "shares" } },
		{ "org id", { "list", "--org", "Police" } },
		{ "org id", { "list", "--recipient", "k mar" } },
		{ "--type must be share, query or advice", { "who-saw",
		    "--type", "audit", "subject-1" } },
		{ "RFC 3339", { "who-saw", "--until", "2026-01-01", "s" } },
		{ "org id", { "who-saw", "--org", "POLICE", "s" } },
		{ "SUBJECT must be", { "who-saw", "" } },
		{ "control characters", { "who-saw", "--purpose", "a\tb",
		    "s" } },
		{ "--purpose must be", { "who-saw", "--purpose", "", "s" } },
		{ "ORG must be", { "history", "Police", "analyst-1" } },
		{ "USER must be", { "history", "police", "" } },
		{ "--type must be", { "history", "--type", "entry", "police",
		    "analyst-1" } },
		{ "RFC 3339", { "history", "--since", "now", "police", "u" } },
		{ "--depth", { "lineage", "--depth", "-1", "ref-1" } },
		{ "--depth", { "lineage", "--depth", "65", "ref-1" } },
		{ "--depth", { "lineage", "--depth", "ten", "ref-1" } },
		{ "REF must be", { "lineage", "" } },
		{ "--purpose needs --subject", { "audit", "--purpose", "p" } },
		{ "--subject must be", { "audit", "--subject", "" } },
		{ "RFC 3339", { "export", "--out", dir, "--since",
		    "yesterday" } },
		{ "org id", { "export", "--out", dir, "--org", "Police" } },
		{ "later than --until", { "export", "--out", dir,
		    "--since", "2026-02-01T00:00:00Z",
		    "--until", "2026-01-01T00:00:00Z" } },
		{ "give one SEQ", { "get", "1.5" } },
		{ "give one SEQ", { "prove", "x" } },
		{ "OLD <= NEW", { "consistency", "5", "1" } },
		{ "--chunk", { "post", "--batch", "-", "--chunk", "0" } },
		{ "give --out DIR", { "mirror" } },
		{ "give --out DIR", { "mirror", "--out", dir, "extra" } },
	};
	struct ctl_result r;
	struct stat st;
	char url[64];
	size_t i;

	/* Any request would end in "cannot connect", exit 3. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
	setenv("LEDGER_URL", url, 1);
	setenv("LEDGER_KEY", SOME_VKEY, 1);
	unsetenv("LEDGER_TOKEN");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_exec(&r, scratch, NULL, cases[i].args);
		if (!CTL_EXPECT(&r, 2, cases[i].phrase))
			fprintf(stderr, "  (case %zu: ledgerctl %s %s)\n", i,
			    cases[i].args[0], cases[i].args[1]);
		CHECK(strstr(r.err, "try: ledgerctl") != NULL);
		CHECK_STR(r.out, "");
		ctl_result_free(&r);
	}
	CHECK(stat(dir, &st) != 0 && errno == ENOENT);
	CTL(2, "only http:// and https://", "--url", "ftp://127.0.0.1/",
	    "export", "--out", dir);
	CTL(2, "only http:// and https://", "--url", "ftp://127.0.0.1/",
	    "mirror", "--out", dir);
	CHECK(stat(dir, &st) != 0 && errno == ENOENT);
	/* A witness policy is read, and checked against the key, first. */
	policy = scratch_path("policy");
	CTL(2, "cannot read the policy", "--policy", policy, "checkpoint");
	{
		FILE *f = fopen(policy, "w");

		CHECK(f != NULL && fputs("quorum nobody\n", f) >= 0 &&
		    fclose(f) == 0);
	}
	CTL(2, "is not a C2SP tlog-policy: line 1", "--policy", policy,
	    "mirror", "--out", dir);
	CHECK(stat(dir, &st) != 0 && errno == ENOENT);
	setenv("LEDGER_POLICY", policy, 1);
	CTL(2, "is not a C2SP tlog-policy", "verify-export", dir);
	unsetenv("LEDGER_POLICY");
	free(policy);

	/* The same commands, valid, do reach for the server. */
	CTL(3, "cannot connect", "list", "--org", "police", "--user",
	    "analyst-1", "--since", "2026-01-01T00:00:00Z");
	CTL(3, "cannot connect", "who-saw", "--type", "share", "subject-1");
	CTL(3, "cannot connect", "history", "--type", "audit", "police", "u");
	CTL(3, "cannot connect", "lineage", "--depth", "64", "ref-1");
	events = scratch_path("one.ndjson");
	{
		FILE *f = fopen(events, "wb");
		char *ev = sample_event(1);

		if (f != NULL) {
			fprintf(f, "%s\n", ev);
			fclose(f);
		}
		free(ev);
	}
	CTL(3, "cannot connect", "post", "--batch", events);
	free(events);
	free(dir);
}

/* ---- a closed standard output ---- */

/*
 * Runs ledgerctl with standard output into a pipe, reads its first line,
 * closes the pipe and waits (bounded) for the end.
 *	status	out: the wait status; -1 when it had to be killed
 *	line	out: the first line read (cap bytes at most)
 */
static void
run_into_closed_pipe(const char *const args[], int *status, char *line,
    size_t cap, char **err)
{
	const char *argv[MAX_ARGS + 8];
	char *err_path = scratch_path("pipe.stderr");
	int fds[2], argc = 0, fd;
	size_t n = 0, i;
	long long deadline;
	pid_t pid;
	char c;

	*status = -1;
	line[0] = '\0';
	if (ctl_under_valgrind()) {
		argv[argc++] = "valgrind";
		argv[argc++] = "-q";
		argv[argc++] = "--error-exitcode=99";
		argv[argc++] = "--leak-check=full";
		argv[argc++] = "--errors-for-leak-kinds=definite";
	}
	argv[argc++] = ctl_bin();
	for (i = 0; args[i] != NULL && i < MAX_ARGS; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (pipe(fds) != 0) {
		CHECK(!"pipe");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[1]);
		if ((fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		/* As a shell starts a pipeline's programs. */
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (n + 1 < cap && read(fds[0], &c, 1) == 1 && c != '\n')
		line[n++] = c;
	line[n] = '\0';
	close(fds[0]);
	deadline = now_ms() + PIPE_END_TIMEOUT_MS;
	while (pid > 0 && waitpid(pid, status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			fprintf(stderr, "  ledgerctl %s did not end after its "
			    "output closed\n", args[0]);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			*status = -1;
			break;
		}
		sleep_ms(10);
	}
out:
	*err = read_whole_file(err_path, NULL);
	free(err_path);
}

static void
expect_quiet_sigpipe(const char *const args[], const char *first)
{
	char line[256], *err;
	int status;

	run_into_closed_pipe(args, &status, line, sizeof(line), &err);
	CHECK(strncmp(line, first, strlen(first)) == 0);
	CHECK(status != -1 && WIFSIGNALED(status));
	if (status != -1 && WIFSIGNALED(status))
		CHECK_INT(WTERMSIG(status), SIGPIPE);
	else if (status != -1 && WIFEXITED(status))
		fprintf(stderr, "  ledgerctl %s exited %d\n", args[0],
		    WEXITSTATUS(status));
	CHECK_STR(err, "");
	free(err);
}

static void
body_sigpipe(struct daemon *d)
{
	static const char *const table[] = { "list", NULL };
	static const char *const json[] = { "list", "--json", NULL };
	static const char *const proven[] = { "list", "--verify", NULL };

	use_server(d);
	/* 25 pages of the default 100. */
	post_events_ctl(2500);
	expect_quiet_sigpipe(table, "SEQ");
	expect_quiet_sigpipe(json, "{\"actor\":");
	expect_quiet_sigpipe(proven, "SEQ");
}

static void test_sigpipe(void) { daemon_test(body_sigpipe); }

/* ---- fake servers: one that hangs up, one that serves a listing ---- */

struct fake {
	int listen_fd;
	unsigned port;
	pthread_t thread;
	volatile int stop;
	int hang_up;		/* close without reading the request body */
	const char *pages[2];	/* GET /v1/events: first, then ?cursor= */
};

static void
reply(int fd, const char *body)
{
	char head[256];
	size_t len = strlen(body), off = 0;
	ssize_t n;

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n", len);
	if (write(fd, head, strlen(head)) < 0)
		return;
	while (off < len && (n = write(fd, body + off, len - off)) > 0)
		off += (size_t)n;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd p = { f->listen_fd, POLLIN, 0 };
	char req[8192];
	size_t len;
	ssize_t n;
	int fd;

	while (!f->stop) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((fd = accept(f->listen_fd, NULL, NULL)) < 0)
			continue;
		len = 0;
		while (len + 1 < sizeof(req) &&
		    (n = read(fd, req + len, sizeof(req) - 1 - len)) > 0) {
			len += (size_t)n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[len] = '\0';
		if (!f->hang_up)
			reply(fd, f->pages[strstr(req, "cursor=") != NULL]);
		close(fd);
	}
	return NULL;
}

static int
fake_start(struct fake *f)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	signal(SIGPIPE, SIG_IGN);	/* a client may leave mid-answer */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((f->listen_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(f->listen_fd, 16) != 0 ||
	    getsockname(f->listen_fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	f->port = ntohs(a.sin_port);
	return pthread_create(&f->thread, NULL, fake_main, f) == 0 ? 0 : -1;
}

static void
fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
}

static void
use_fake(const struct fake *f)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
	setenv("LEDGER_URL", url, 1);
}

/*
 * A server that hangs up while a large request is sent: exit 3 with the
 * error, never death by a signal.  (On Linux a plain TCP reset is reported
 * to the writer as ECONNRESET before any SIGPIPE, so this holds the
 * outcome; SIGPIPE from the network comes mostly from TLS's close_notify
 * on a dead connection, which http_client.c also covers.)
 */
static void
test_server_hangs_up(void)
{
	struct fake f;
	char *path = scratch_path("big.ndjson"), *ev;
	FILE *out = fopen(path, "wb");
	struct ctl_result r;
	int i;

	/* About 2 MB in one request: more than the socket buffers hold. */
	for (i = 0; out != NULL && i < 5000; i++) {
		ev = sample_event(i);
		fprintf(out, "%s\n", ev);
		free(ev);
	}
	if (out != NULL)
		fclose(out);
	memset(&f, 0, sizeof(f));
	f.hang_up = 1;
	REQUIRE(fake_start(&f) == 0);
	use_fake(&f);
	unsetenv("LEDGER_KEY");
	ctl_run(&r, NULL, "post", "--batch", path, "--chunk", "5000",
	    (const char *)NULL);
	CTL_EXPECT(&r, 3, "POST /v1/events/batch");
	ctl_result_free(&r);
	fake_stop(&f);
	free(path);
}

/*
 * A listing prints a page only once all of it is read: the second page's
 * good first entry must not show when its second is not an entry.
 */
static void
body_list_pages(struct daemon *d)
{
	char *e0, *e1, *page1, *page2, *want;
	struct ctl_result r0, r1, r;
	json_t *p;
	struct fake f;

	use_server(d);
	post_events_ctl(2);
	ctl_run(&r0, NULL, "get", "0", (const char *)NULL);
	ctl_run(&r1, NULL, "get", "1", (const char *)NULL);
	REQUIRE(CTL_EXPECT(&r0, 0, NULL) && CTL_EXPECT(&r1, 0, NULL));
	e0 = xstrdup(r0.out);
	e1 = xstrdup(r1.out);
	e0[strcspn(e0, "\n")] = '\0';
	e1[strcspn(e1, "\n")] = '\0';
	ctl_result_free(&r0);
	ctl_result_free(&r1);

	p = json_pack("{s:[{s:i, s:s}], s:s}", "events", "seq", 0, "entry",
	    e0, "next_cursor", "1");
	page1 = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	p = json_pack("{s:[{s:i, s:s}, {s:i, s:s}]}", "events", "seq", 1,
	    "entry", e1, "seq", 2, "entry", "{\"seq\":2}");
	page2 = json_dumps(p, JSON_COMPACT);
	json_decref(p);

	memset(&f, 0, sizeof(f));
	f.pages[0] = page1;
	f.pages[1] = page2;
	if (fake_start(&f) != 0) {
		CHECK(!"fake server");
		goto out;
	}
	use_fake(&f);
	unsetenv("LEDGER_KEY");
	ctl_run(&r, NULL, "list", "--json", (const char *)NULL);
	CTL_EXPECT(&r, 1, "VERIFICATION FAILED: seq 2");
	want = xasprintf("%s\n", e0);
	CHECK_STR(r.out, want);
	free(want);
	ctl_result_free(&r);
	ctl_run(&r, NULL, "list", (const char *)NULL);
	CTL_EXPECT(&r, 1, "VERIFICATION FAILED: seq 2");
	CHECK(strncmp(r.out, "SEQ", 3) == 0);
	CHECK(strstr(r.out, "\n0 ") != NULL);
	CHECK(strstr(r.out, "\n1 ") == NULL);
	ctl_result_free(&r);
	fake_stop(&f);
out:
	free(page1);
	free(page2);
	free(e0);
	free(e1);
}

static void test_list_pages(void) { daemon_test(body_list_pages); }

/* ---- who-saw with nothing to show ---- */

static void
body_who_saw_empty(struct daemon *d)
{
	struct ctl_result r;

	use_server(d);
	post_events_ctl(3);
	ctl_run(&r, NULL, "who-saw", "nobody-named-here", (const char *)NULL);
	CTL_EXPECT(&r, 0, "NOT PROVEN: that no entry of the log names the "
	    "subject");
	CHECK(strstr(r.out, "no events: the server's answer verified") != NULL);
	CHECK(strstr(r.out, "tree size ") != NULL);
	CHECK(strstr(r.out, "ledgerctl audit --subject") != NULL);
	CHECK(strstr(r.out, "SEQ") == NULL);
	ctl_result_free(&r);
	/* The audit is what proves it. */
	CTL(0, "holds all", "audit", "--subject", "nobody-named-here");
}

static void test_who_saw_empty(void) { daemon_test(body_who_saw_empty); }

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(scratch, sizeof(scratch), "%s/ledgerctl-cli.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("XDG_STATE_HOME");
	RUN(test_version);
	RUN(test_usage_before_request);
	RUN(test_server_hangs_up);
	RUN(test_sigpipe);
	RUN(test_list_pages);
	RUN(test_who_saw_empty);
	remove_tree(scratch);
	return TEST_SUMMARY();
}
