/* The test harness's counters and summary line (see testlib.h). */
#include <time.h>

#include "testlib.h"

int test_failures_, test_passed_, test_failed_;

void
test_run_(const char *name, void (*fn)(void))
{
	struct timespec t0, t1;

	test_failures_ = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fn();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (test_failures_) {
		test_failed_++;
		printf("FAIL %s (%d failed checks)\n", name, test_failures_);
	} else {
		test_passed_++;
		printf("ok   %s (%.0f ms)\n", name, ms);
	}
	fflush(stdout);
}

int
test_summary_(void)
{
	printf("%d passed, %d failed\n", test_passed_, test_failed_);
	return test_failed_ ? 1 : 0;
}

int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}
