/* The real nginx for the tests: see nginxrun.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/xmalloc.h"

#include "ctlrun.h"
#include "daemon.h"
#include "nginxrun.h"

#define TEMPLATE "docs/nginx-mirror.conf"
#define START_ATTEMPTS 20

const char *
nginx_bin(void)
{
	const char *b = getenv("NGINX_BIN");

	if (b != NULL && b[0] != '\0')
		return b;
	/* Debian puts it in /usr/sbin, which a user's PATH may lack. */
	return access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" :
	    "nginx";
}

/* A port the system says is free now (nginx takes it a moment later). */
static unsigned
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	unsigned port = 0;
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

/* Replaces every "@name@" of text by value; a new string. */
static char *
fill(char *text, const char *name, const char *value)
{
	char *key = xasprintf("@%s@", name), *p, *out;
	size_t kl = strlen(key), vl = strlen(value), n = 0;

	for (p = strstr(text, key); p != NULL; p = strstr(p + kl, key))
		n++;
	out = xmalloc(strlen(text) + n * vl + 1);
	out[0] = '\0';
	for (p = text; n-- > 0;) {
		char *at = strstr(p, key);

		strncat(out, p, (size_t)(at - p));
		strcat(out, value);
		p = at + kl;
	}
	strcat(out, p);
	free(text);
	free(key);
	return out;
}

static int
write_config(const struct nginx *ng, const char *mirror, const char *pki,
    const char *readers)
{
	struct passwd *pw = getpwuid(geteuid());
	char *text = read_whole_file(TEMPLATE, NULL), *path, *v;
	char listen[32];
	FILE *f;
	int ok;

	if (text[0] == '\0') {
		fprintf(stderr, "  cannot read %s (run from the repository's "
		    "top)\n", TEMPLATE);
		free(text);
		return -1;
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", ng->port);
	/* The workers read the mirror as whoever runs the test. */
	text = fill(text, "USER", pw != NULL ? pw->pw_name : "nobody");
	text = fill(text, "PREFIX", ng->prefix);
	text = fill(text, "LISTEN", listen);
	text = fill(text, "MIRROR", mirror);
	v = xasprintf("%s/server.pem", pki);
	text = fill(text, "CERT", v);
	free(v);
	v = xasprintf("%s/server.key", pki);
	text = fill(text, "CERT_KEY", v);
	free(v);
	v = xasprintf("%s/ca.pem", pki);
	text = fill(text, "CLIENT_CA", v);
	free(v);
	text = fill(text, "ENTRY_READERS", readers);
	path = xasprintf("%s/nginx.conf", ng->prefix);
	f = fopen(path, "w");
	ok = f != NULL && fputs(text, f) >= 0;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "  cannot write %s\n", path);
	free(path);
	free(text);
	return ok ? 0 : -1;
}

static pid_t
spawn(const struct nginx *ng)
{
	char *conf = xasprintf("%s/nginx.conf", ng->prefix);
	char *err = xasprintf("%s/error.log", ng->prefix);
	char *out = xasprintf("%s/stderr.log", ng->prefix);
	pid_t parent = getpid(), pid;
	int fd;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) != 0) {
		free(conf);
		free(err);
		free(out);
		return pid;
	}
	/* nginx dies with the test program. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	/* In the foreground: the pid we hold is the master's. */
	execl(nginx_bin(), nginx_bin(), "-p", ng->prefix, "-c", conf, "-e",
	    err, "-g", "daemon off;", (char *)NULL);
	fprintf(stderr, "exec %s: %s\n", nginx_bin(), strerror(errno));
	_exit(127);
}

/* 1 once something accepts on 127.0.0.1:port. */
static int
accepting(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

void
nginx_print_log(const struct nginx *ng)
{
	char *path = xasprintf("%s/error.log", ng->prefix), *text;

	text = read_whole_file(path, NULL);
	fprintf(stderr, "  --- %s ---\n%.4000s\n", path, text);
	free(text);
	free(path);
	path = xasprintf("%s/stderr.log", ng->prefix);
	text = read_whole_file(path, NULL);
	if (text[0] != '\0')
		fprintf(stderr, "  --- %s ---\n%.2000s\n", path, text);
	free(text);
	free(path);
}

int
nginx_start(struct nginx *ng, const char *prefix, const char *mirror,
    const char *pki, const char *readers)
{
	char *log, *path;
	long long deadline;
	int attempt, status, in_use;

	memset(ng, 0, sizeof(*ng));
	snprintf(ng->prefix, sizeof(ng->prefix), "%s", prefix);
	if (mkdir(prefix, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "  mkdir %s: %s\n", prefix, strerror(errno));
		return -1;
	}
	/*
	 * A free port can be taken by someone else before nginx binds it:
	 * then nginx says so and exits, and another port is tried.
	 */
	for (attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		if ((ng->port = free_port()) == 0 ||
		    write_config(ng, mirror, pki, readers) != 0)
			return -1;
		if ((ng->pid = spawn(ng)) < 0) {
			ng->pid = 0;
			return -1;
		}
		deadline = now_ms() + NGINX_START_TIMEOUT_MS;
		while (!accepting(ng->port) && now_ms() < deadline &&
		    waitpid(ng->pid, &status, WNOHANG) == 0)
			sleep_ms(20);
		if (accepting(ng->port) && waitpid(ng->pid, &status,
		    WNOHANG) == 0) {
			snprintf(ng->url, sizeof(ng->url),
			    "https://127.0.0.1:%u", ng->port);
			return 0;
		}
		/* It exited, or never came up within the bound. */
		if (waitpid(ng->pid, &status, WNOHANG) == 0) {
			kill(ng->pid, SIGKILL);
			waitpid(ng->pid, &status, 0);
		}
		ng->pid = 0;
		path = xasprintf("%s/error.log", prefix);
		log = read_whole_file(path, NULL);
		in_use = strstr(log, "Address already in use") != NULL;
		free(log);
		free(path);
		if (!in_use) {
			fprintf(stderr, "  nginx did not start\n");
			nginx_print_log(ng);
			return -1;
		}
	}
	fprintf(stderr, "  nginx: no free port in %d attempts\n",
	    START_ATTEMPTS);
	return -1;
}

int
nginx_stop(struct nginx *ng)
{
	long long deadline = now_ms() + NGINX_STOP_TIMEOUT_MS;
	int status = 0, rc = 0;
	pid_t got = 0;

	if (ng->pid == 0)
		return 0;
	kill(ng->pid, SIGTERM);
	while ((got = waitpid(ng->pid, &status, WNOHANG)) == 0 &&
	    now_ms() < deadline)
		sleep_ms(20);
	if (got == 0) {
		fprintf(stderr, "  nginx did not stop within %d ms: killed\n",
		    NGINX_STOP_TIMEOUT_MS);
		kill(ng->pid, SIGKILL);
		waitpid(ng->pid, &status, 0);
		rc = -1;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = -1;
	ng->pid = 0;
	return rc;
}
