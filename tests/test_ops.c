/*
 * What an operator meets running ledgerd, against the real daemon: an
 * address already in use.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "testlib.h"

/*
 * A second ledgerd on a port in use says so, naming the address, and exits
 * 1 before it creates anything in its own data directory.
 */
static void
test_listen_in_use(struct daemon *d)
{
	char other[700], listen[64], out[8192];
	const char *args[] = { "serve", "--data", other, "--listen", listen,
	    NULL };

	snprintf(other, sizeof(other), "%s/other", d->root);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", d->port);
	CHECK_INT(daemon_tool(d, args, out, sizeof(out)), 1);
	CHECK(strstr(out, listen) != NULL);
	CHECK(strstr(out, "already in use") != NULL);
	/* Nothing before it: no key, no database, not even the directory. */
	CHECK(strstr(out, "created") == NULL);
	CHECK(strstr(out, "writer") == NULL);
	CHECK(access(other, F_OK) != 0);
	/* The first daemon serves on. */
	CHECK(daemon_running(d));
}

static void
run_listen_in_use(void)
{
	daemon_test(test_listen_in_use);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(run_listen_in_use);
	return TEST_SUMMARY();
}
