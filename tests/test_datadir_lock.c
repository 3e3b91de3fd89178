/*
 * One process per data directory: a second daemon, fsck and reindex are
 * refused while a daemon runs, naming its pid, and nothing of the log is
 * touched; the lock goes with the process, even one killed by SIGKILL.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* The refusal names the running daemon by its pid. */
static void
check_refused(struct daemon *d, const char *const args[], int want_code)
{
	char out[8192], pid[64];

	CHECK_INT(daemon_tool(d, args, out, sizeof(out)), want_code);
	snprintf(pid, sizeof(pid), "in use by process %ld", (long)d->pid);
	if (strstr(out, pid) == NULL)
		fprintf(stderr, "  ledgerd %s said:\n%s", args[0], out);
	CHECK(strstr(out, pid) != NULL);
	CHECK(strstr(out, "ledgerd.lock") != NULL);
}

static void
body_lock(struct daemon *d)
{
	const char *serve[] = { "serve", "--data", d->data, "--listen",
	    "127.0.0.1:0", NULL };
	const char *fsck[] = { "fsck", d->data, NULL };
	const char *reindex[] = { "reindex", d->data, NULL };
	char path[700], text[64];
	struct http_client hc;
	struct stat st;
	FILE *f;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 20, 5) == 0);

	/* The lock file holds the daemon's pid, for the operator too. */
	snprintf(path, sizeof(path), "%s/ledgerd.lock", d->data);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	REQUIRE((f = fopen(path, "r")) != NULL);
	CHECK(fgets(text, sizeof(text), f) != NULL);
	fclose(f);
	CHECK_INT(atol(text), d->pid);

	check_refused(d, serve, 1);
	check_refused(d, fsck, 2);
	check_refused(d, reindex, 2);

	/* The running daemon did not notice any of it. */
	CHECK(daemon_running(d));
	CHECK(post_events(&hc, 20, 5, 1) == 0);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 25);
	http_client_close(&hc);

	/* SIGKILL leaves no stale lock: the next start and fsck just work. */
	daemon_kill(d);
	CHECK_INT(daemon_fsck(d), 0);
	REQUIRE(daemon_restart(d) == 0);
	http_client_init(&hc, d->port, d->token);
	CHECK_INT(tree_size_now(&hc, &d->verifier), 25);
	http_client_close(&hc);
	check_refused(d, fsck, 2);
	CHECK_INT(daemon_stop(d), 0);
	CHECK_INT(daemon_fsck(d), 0);
	CHECK_INT(daemon_tool(d, reindex, NULL, 0), 0);
}

/* A directory that does not exist is still an error, not a new lock. */
static void
body_missing_dir(struct daemon *d)
{
	char missing[700], out[4096];
	const char *fsck[] = { "fsck", missing, NULL };
	struct stat st;

	snprintf(missing, sizeof(missing), "%s/no-such-dir", d->root);
	CHECK_INT(daemon_tool(d, fsck, out, sizeof(out)), 2);
	CHECK(strstr(out, "No such file or directory") != NULL);
	CHECK(stat(missing, &st) != 0);
}

static void
test_lock(void)
{
	daemon_test(body_lock);
}

static void
test_missing_dir(void)
{
	daemon_test(body_missing_dir);
}

int
main(void)
{
	RUN(test_lock);
	RUN(test_missing_dir);
	return TEST_SUMMARY();
}
