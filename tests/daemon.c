/*
 * The tests' handle on a real ledgerd process (see daemon.h).  The daemon
 * runs with its stderr in a log file beside its data directory; it dies
 * with the test program (PR_SET_PDEATHSIG), and an atexit handler kills any
 * daemon a test forgot, so that no run leaves a process behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/error.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"

#include "daemon.h"
#include "testlib.h"

#define MAX_DAEMONS 32

static struct daemon *live[MAX_DAEMONS];
static int atexit_done;

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
daemon_bin(void)
{
	const char *bin = getenv("LEDGERD_BIN");

	return bin != NULL && bin[0] != '\0' ? bin : "build/ledgerd";
}

static void
kill_leftovers(void)
{
	int i;

	for (i = 0; i < MAX_DAEMONS; i++)
		if (live[i] != NULL && live[i]->pid > 0) {
			kill(live[i]->pid, SIGKILL);
			waitpid(live[i]->pid, NULL, 0);
			live[i]->pid = 0;
		}
}

static void
track(struct daemon *d)
{
	int i;

	if (!atexit_done) {
		atexit(kill_leftovers);
		atexit_done = 1;
	}
	for (i = 0; i < MAX_DAEMONS; i++)
		if (live[i] == d)
			return;
	for (i = 0; i < MAX_DAEMONS; i++)
		if (live[i] == NULL) {
			live[i] = d;
			return;
		}
}

static void
untrack(struct daemon *d)
{
	int i;

	for (i = 0; i < MAX_DAEMONS; i++)
		if (live[i] == d)
			live[i] = NULL;
}

/*
 * Reads a whole small file into buf (NUL-terminated); returns its length
 * or -1.
 */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((size_t)total < cap - 1 &&
	    (n = read(fd, buf + total, cap - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

void
daemon_print_log_tail(const struct daemon *d, size_t bytes)
{
	char *buf;
	struct stat st;
	off_t from = 0;
	ssize_t n;
	int fd;

	if ((fd = open(d->log_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size > bytes)
		from = st.st_size - (off_t)bytes;
	buf = malloc(bytes + 1);
	if (buf != NULL && (n = pread(fd, buf, bytes, from)) > 0) {
		buf[n] = '\0';
		fprintf(stderr, "  --- last %zd bytes of %s ---\n%s%s  ---\n", n,
		    d->log_path, buf, buf[n - 1] == '\n' ? "" : "\n");
	}
	free(buf);
	close(fd);
}

char *
daemon_log_read(const struct daemon *d)
{
	FILE *f = fopen(d->log_path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return xstrdup("");
	for (;;) {
		if (cap - n < 65536)
			buf = xrealloc(buf, cap = cap * 2 + 65536);
		if ((got = fread(buf + n, 1, cap - n - 1, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

int
daemon_logged_request(const struct daemon *d, const char *id, int status)
{
	char needle[64], want[16], *log, *line, *end;
	long long until = now_ms() + 2000;
	int found = 0;

	snprintf(needle, sizeof(needle), "request %s ", id);
	snprintf(want, sizeof(want), " %d ", status);
	do {
		log = daemon_log_read(d);
		for (line = log; !found && (line = strstr(line, needle)) != NULL;
		    line += strlen(needle)) {
			if ((end = strchr(line, '\n')) != NULL)
				*end = '\0';
			found = strstr(line, want) != NULL;
			if (end != NULL)
				*end = '\n';
		}
		free(log);
		if (!found)
			sleep_ms(50);
	} while (!found && now_ms() < until);
	return found;
}

int
daemon_log_wait(const struct daemon *d, const char *text)
{
	long long until = now_ms() + 5000;
	int found;

	for (;;) {
		char *log = daemon_log_read(d);

		found = log != NULL && strstr(log, text) != NULL;
		free(log);
		if (found || now_ms() >= until)
			return found;
		sleep_ms(20);
	}
}

/* The size of the log file now: where the next run's lines start. */
static off_t
log_size(const struct daemon *d)
{
	struct stat st;

	return stat(d->log_path, &st) == 0 ? st.st_size : 0;
}

static pid_t
spawn(struct daemon *d)
{
	const char *bin = daemon_bin(), *argv[12];
	pid_t parent = getpid(), pid;
	char interval[16];
	int fd, argc = 0;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "  fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* child: the daemon dies with the test program */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if ((fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	snprintf(interval, sizeof(interval), "%d", d->interval_ms > 0 ?
	    d->interval_ms : DAEMON_TEST_INTERVAL_MS);
	argv[argc++] = bin;
	argv[argc++] = "serve";
	if (d->config[0] != '\0') {
		argv[argc++] = "--config";
		argv[argc++] = d->config;
		argv[argc++] = "--data";
		argv[argc++] = d->data;
	} else {
		argv[argc++] = "--data";
		argv[argc++] = d->data;
		argv[argc++] = "--listen";
		argv[argc++] = "127.0.0.1:0";
	}
	if (d->interval_ms >= 0) {
		argv[argc++] = "--checkpoint-interval-ms";
		argv[argc++] = interval;
	}
	argv[argc] = NULL;
	execv(bin, (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Strips trailing white space in place. */
static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/*
 * Looks for the "listening on http[s]://127.0.0.1:PORT" line written since
 * offset from; 1 with the port when found.
 */
static int
find_port(const struct daemon *d, off_t from, unsigned *port)
{
	static const char needle[] = "://127.0.0.1:";
	char buf[65536];
	const char *p, *q;
	ssize_t n;
	unsigned long v;
	int fd;

	if ((fd = open(d->log_path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, "listening on http")) == NULL ||
	    (p = strstr(p, needle)) == NULL)
		return 0;
	p += sizeof(needle) - 1;
	for (q = p, v = 0; *q >= '0' && *q <= '9'; q++)
		v = v * 10 + (unsigned long)(*q - '0');
	/* The line must be complete: the number is followed by something. */
	if (q == p || *q == '\0' || v == 0 || v > 65535)
		return 0;
	*port = (unsigned)v;
	return 1;
}

static int
read_credentials(struct daemon *d)
{
	char path[PATH_MAX + 32];

	/* Development mode only: a configured daemon has no such token. */
	if (d->config[0] == '\0') {
		snprintf(path, sizeof(path), "%s/dev.token", d->data);
		if (read_file(path, d->token, sizeof(d->token)) <= 0) {
			fprintf(stderr, "  cannot read %s\n", path);
			return -1;
		}
		chomp(d->token);
		snprintf(d->auth, sizeof(d->auth), "Bearer %s", d->token);
	}
	snprintf(path, sizeof(path), "%s/verifier.vkey", d->data);
	if (read_file(path, d->vkey, sizeof(d->vkey)) <= 0) {
		fprintf(stderr, "  cannot read %s\n", path);
		return -1;
	}
	chomp(d->vkey);
	if (ledger_verifier_parse(d->vkey, &d->verifier) != 0) {
		fprintf(stderr, "  verifier.vkey does not parse: \"%s\"\n", d->vkey);
		return -1;
	}
	return 0;
}

/* Starts the process on d->data and waits for it to listen. */
static int
launch(struct daemon *d)
{
	long long deadline;
	off_t from = log_size(d);
	int status;
	pid_t pid;

	if ((pid = spawn(d)) < 0)
		return -1;
	d->pid = pid;
	d->port = 0;
	d->starts++;
	track(d);
	deadline = now_ms() + DAEMON_START_TIMEOUT_MS;
	for (;;) {
		if (find_port(d, from, &d->port))
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			fprintf(stderr, "  ledgerd (%s) exited before listening "
			    "(status 0x%x)\n", daemon_bin(), status);
			daemon_print_log_tail(d, 4096);
			return -1;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "  ledgerd did not say \"listening on\" "
			    "within %d ms\n", DAEMON_START_TIMEOUT_MS);
			daemon_print_log_tail(d, 4096);
			daemon_kill(d);
			return -1;
		}
		sleep_ms(5);
	}
	if (read_credentials(d) != 0) {
		daemon_print_log_tail(d, 4096);
		daemon_kill(d);
		return -1;
	}
	return 0;
}

/* A fresh root with an empty data directory in it. */
static int
make_root(struct daemon *d)
{
	const char *tmp = getenv("TMPDIR");

	memset(d, 0, sizeof(*d));
	snprintf(d->root, sizeof(d->root), "%s/ledgerd-test.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(d->root) == NULL) {
		fprintf(stderr, "  mkdtemp %s: %s\n", d->root, strerror(errno));
		d->root[0] = '\0';
		return -1;
	}
	snprintf(d->data, sizeof(d->data), "%s/data", d->root);
	snprintf(d->log_path, sizeof(d->log_path), "%s/ledgerd.log", d->root);
	if (mkdir(d->data, 0700) != 0) {
		fprintf(stderr, "  mkdir %s: %s\n", d->data, strerror(errno));
		return -1;
	}
	return 0;
}

int
daemon_start(struct daemon *d)
{
	if (make_root(d) != 0)
		return -1;
	return launch(d);
}

int
daemon_start_config(struct daemon *d, const char *config)
{
	FILE *f;
	int wrote;

	if (make_root(d) != 0)
		return -1;
	snprintf(d->config, sizeof(d->config), "%s/ledgerd.json", d->root);
	if ((f = fopen(d->config, "w")) == NULL) {
		fprintf(stderr, "  cannot create %s: %s\n", d->config,
		    strerror(errno));
		return -1;
	}
	wrote = fputs(config, f) != EOF;
	/* fclose always, even after a failed write. */
	if (fclose(f) != 0 || !wrote) {
		fprintf(stderr, "  cannot write %s\n", d->config);
		return -1;
	}
	return launch(d);
}

int
daemon_restart(struct daemon *d)
{
	if (d->pid > 0) {
		fprintf(stderr, "  daemon_restart: still running\n");
		return -1;
	}
	return launch(d);
}

int
daemon_running(struct daemon *d)
{
	int status;

	if (d->pid <= 0)
		return 0;
	if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
		fprintf(stderr, "  ledgerd exited unexpectedly (status 0x%x)\n",
		    status);
		d->pid = 0;
		untrack(d);
		return 0;
	}
	return 1;
}

/* Waits for pid to exit within ms; 1 with its status when it did. */
static int
wait_exit(pid_t pid, int ms, int *status)
{
	long long deadline = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;	/* not our child any more */
		if (now_ms() > deadline)
			return 0;
		sleep_ms(5);
	}
}

int
daemon_stop(struct daemon *d)
{
	int status = 0;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	if (!wait_exit(d->pid, DAEMON_STOP_TIMEOUT_MS, &status)) {
		fprintf(stderr, "  ledgerd did not exit within %d ms of SIGTERM; "
		    "killing it\n", DAEMON_STOP_TIMEOUT_MS);
		daemon_kill(d);
		return -1;
	}
	d->pid = 0;
	untrack(d);
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) != 0) {
			fprintf(stderr, "  ledgerd exited %d after SIGTERM\n",
			    WEXITSTATUS(status));
			daemon_print_log_tail(d, 4096);
		}
		return WEXITSTATUS(status);
	}
	fprintf(stderr, "  ledgerd died of signal %d after SIGTERM\n",
	    WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	daemon_print_log_tail(d, 4096);
	return -1;
}

void
daemon_kill(struct daemon *d)
{
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	if (!wait_exit(d->pid, DAEMON_STOP_TIMEOUT_MS, &status))
		fprintf(stderr, "  ledgerd %d survived SIGKILL for %d ms\n",
		    (int)d->pid, DAEMON_STOP_TIMEOUT_MS);
	d->pid = 0;
	untrack(d);
}

int
daemon_tool(struct daemon *d, const char *const args[], char *out, size_t cap)
{
	const char *bin = daemon_bin();
	char out_path[PATH_MAX + 16], buf[8192] = "";
	const char *argv[16];
	pid_t parent = getpid(), pid;
	int fd, status;
	size_t n;

	argv[0] = bin;
	for (n = 0; args[n] != NULL && n + 2 < sizeof(argv) / sizeof(argv[0]); n++)
		argv[n + 1] = args[n];
	argv[n + 1] = NULL;
	snprintf(out_path, sizeof(out_path), "%s/tool.out", d->root);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	if (!wait_exit(pid, DAEMON_FSCK_TIMEOUT_MS, &status)) {
		fprintf(stderr, "  ledgerd %s did not finish within %d ms\n",
		    args[0], DAEMON_FSCK_TIMEOUT_MS);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	read_file(out_path, buf, sizeof(buf));
	if (out != NULL && cap > 0)
		snprintf(out, cap, "%s", buf);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (out == NULL && buf[0] != '\0')
		fprintf(stderr, "  --- ledgerd %s output ---\n%s  ---\n", args[0], buf);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "  ledgerd %s died of signal %d\n", args[0],
		    WTERMSIG(status));
		return -1;
	}
	/* A sanitizer's report is a crash too, whatever the exit code. */
	if (strstr(buf, "Sanitizer") != NULL || strstr(buf, "runtime error:") != NULL) {
		if (out != NULL)
			fprintf(stderr, "  --- ledgerd %s output ---\n%s  ---\n",
			    args[0], buf);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
daemon_fsck(struct daemon *d)
{
	const char *args[] = { "fsck", d->data, NULL };

	if (d->pid > 0) {
		fprintf(stderr, "  daemon_fsck: the daemon is running\n");
		return -1;
	}
	return daemon_tool(d, args, NULL, 0);
}

void
daemon_cleanup(struct daemon *d)
{
	if (d->pid > 0) {
		int code = daemon_stop(d);

		if (code != 0) {
			fprintf(stderr, "  ledgerd did not shut down cleanly on "
			    "SIGTERM (exit %d)\n", code);
			test_failures_++;
		}
	}
	untrack(d);
	if (d->root[0] == '\0')
		return;
	if (test_failures_) {
		fprintf(stderr, "  daemon data and log kept in %s (log: %s)\n",
		    d->root, d->log_path);
		daemon_print_log_tail(d, 3000);
		return;
	}
	remove_tree(d->root);
	d->root[0] = '\0';
}

void
daemon_test(void (*body)(struct daemon *d))
{
	struct daemon d;

	if (daemon_start(&d) != 0) {
		fprintf(stderr, "  could not start %s\n", daemon_bin());
		test_failures_++;
		daemon_cleanup(&d);
		return;
	}
	body(&d);
	daemon_cleanup(&d);
}
