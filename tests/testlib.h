/*
 * A small test harness in the spirit of LMDB's mtest.c CHECK(): each test
 * is a function, a failed check prints file:line and both values, and the
 * program ends with `N passed, N failed` and a non-zero exit on failure.
 */
#ifndef LEDGER_TESTLIB_H
#define LEDGER_TESTLIB_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failures_;	/* failed checks in the current test */
extern int test_passed_, test_failed_;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",	\
			    __FILE__, __LINE__, #cond);			\
			test_failures_++;				\
		}							\
	} while (0)

#define CHECK_INT(a, b)							\
	do {								\
		long long a_ = (long long)(a), b_ = (long long)(b);	\
		if (a_ != b_) {						\
			fprintf(stderr, "  %s:%d: %s == %s: %lld != %lld\n", \
			    __FILE__, __LINE__, #a, #b, a_, b_);	\
			test_failures_++;				\
		}							\
	} while (0)

#define CHECK_STR(a, b)							\
	do {								\
		const char *a_ = (a), *b_ = (b);			\
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {	\
			fprintf(stderr, "  %s:%d: %s == %s: \"%s\" != \"%s\"\n", \
			    __FILE__, __LINE__, #a, #b,			\
			    a_ ? a_ : "(null)", b_ ? b_ : "(null)");	\
			test_failures_++;				\
		}							\
	} while (0)

#define CHECK_MEM(a, b, n)						\
	do {								\
		if (memcmp((a), (b), (n)) != 0) {			\
			fprintf(stderr, "  %s:%d: %s and %s differ\n",	\
			    __FILE__, __LINE__, #a, #b);		\
			test_failures_++;				\
		}							\
	} while (0)

/* Stops the current test at the first failed check (for setup steps). */
#define REQUIRE(cond)							\
	do {								\
		CHECK(cond);						\
		if (test_failures_)					\
			return;						\
	} while (0)

void test_run_(const char *name, void (*fn)(void));
int test_summary_(void);

/* cmp_u64 - qsort's and bsearch's order of uint64_t values. */
int cmp_u64(const void *a, const void *b);

#define RUN(fn) test_run_(#fn, fn)
#define TEST_SUMMARY() test_summary_()

#endif
