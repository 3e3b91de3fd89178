/* Running ledgerctl from the tests: see ctlrun.h. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/xmalloc.h"

#include "ctlrun.h"
#include "testlib.h"

#define MAX_ARGS 60

const char *
ctl_bin(void)
{
	const char *b = getenv("LEDGERCTL_BIN");

	return b != NULL && b[0] != '\0' ? b : "build/ledgerctl";
}

int
ctl_under_valgrind(void)
{
	const char *v = getenv("LEDGER_TEST_VALGRIND");

	return v != NULL && strcmp(v, "1") == 0;
}

char *
read_whole_file(const char *path, size_t *len)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (len != NULL)
		*len = 0;
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		if (f != NULL)
			fclose(f);
		return xstrdup("");
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = n;
	return buf;
}

/* Points descriptor target at path (opened with flags), in the child. */
static void
redirect(int target, const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	if (fd < 0)
		_exit(126);
	dup2(fd, target);
	close(fd);
}

void
ctl_exec(struct ctl_result *r, const char *scratch, const char *in_path,
    const char *const args[])
{
	const char *argv[MAX_ARGS + 8];
	char out_path[600], err_path[600];
	int argc = 0, status;
	size_t i;
	pid_t pid;

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
	snprintf(out_path, sizeof(out_path), "%s/stdout", scratch);
	snprintf(err_path, sizeof(err_path), "%s/stderr", scratch);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		redirect(0, in_path != NULL ? in_path : "/dev/null", O_RDONLY);
		redirect(1, out_path, O_WRONLY | O_CREAT | O_TRUNC);
		redirect(2, err_path, O_WRONLY | O_CREAT | O_TRUNC);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	r->code = -1;
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		r->code = WEXITSTATUS(status);
	r->out = read_whole_file(out_path, NULL);
	r->err = read_whole_file(err_path, NULL);
}

void
ctl_result_free(struct ctl_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int
ctl_expect_(const char *file, int line, const struct ctl_result *r, int code,
    const char *phrase)
{
	int ok = r->code == code;

	if (phrase != NULL && strstr(r->err, phrase) == NULL &&
	    strstr(r->out, phrase) == NULL)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "  %s:%d: ledgerctl exited %d (want %d)%s%s%s\n"
		    "  --- stdout ---\n%.2000s\n  --- stderr ---\n%.2000s\n",
		    file, line, r->code, code, phrase ? ", want \"" : "",
		    phrase ? phrase : "", phrase ? "\" in its output" : "",
		    r->out, r->err);
		test_failures_++;
	}
	return ok;
}
