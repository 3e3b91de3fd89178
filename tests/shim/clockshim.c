/*
 * A clock for the fault tests, preloaded into ledgerd (LD_PRELOAD): the
 * wall clock (CLOCK_REALTIME) is shifted by the number of seconds written
 * in the file LEDGER_CLOCK_SKEW_FILE names, read on every call, so a test
 * can step the daemon's clock backwards while it runs.  Other clocks pass
 * through.  Built as a shared object beside the tests.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts);

static long long
skew_seconds(void)
{
	const char *path = getenv("LEDGER_CLOCK_SKEW_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	int rc;

	if (real == NULL)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT,
		    "clock_gettime");
	rc = real(id, ts);
	if (rc == 0 && id == CLOCK_REALTIME)
		ts->tv_sec += skew_seconds();
	return rc;
}
