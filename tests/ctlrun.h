/*
 * Running ledgerctl from the tests as a user would: its exit code, standard
 * output and standard error.  With LEDGER_TEST_VALGRIND=1 every run is
 * under valgrind, whose errors and definite leaks make it exit 99.
 */
#ifndef LEDGER_TEST_CTLRUN_H
#define LEDGER_TEST_CTLRUN_H

#include <stddef.h>

/* One run; out and err are new, NUL-terminated: ctl_result_free() them. */
struct ctl_result {
	int code;		/* exit code, or -1 when killed by a signal */
	char *out, *err;
};

/* ctl_bin - LEDGERCTL_BIN, or build/ledgerctl when it is unset. */
const char *ctl_bin(void);

/* ctl_under_valgrind - 1 when LEDGER_TEST_VALGRIND=1. */
int ctl_under_valgrind(void);

/*
 * ctl_exec - runs ledgerctl with args (NULL-terminated, at most 60, the
 * program name not included), standard input from in_path (NULL:
 * /dev/null); its output goes through files in the directory scratch.
 */
void ctl_exec(struct ctl_result *r, const char *scratch, const char *in_path,
    const char *const args[]);

void ctl_result_free(struct ctl_result *r);

/*
 * ctl_expect_ - whether the run exited with code and, when phrase is not
 * NULL, printed it on either stream; when not, prints both streams and
 * counts a failed check.  Returns 1 or 0.
 */
int ctl_expect_(const char *file, int line, const struct ctl_result *r, int code,
    const char *phrase);
#define CTL_EXPECT(r, code, phrase) \
	ctl_expect_(__FILE__, __LINE__, (r), (code), (phrase))

/*
 * read_whole_file - a file's bytes and a NUL; "" (new) when it cannot be
 * read.  len (may be NULL): the byte count.
 */
char *read_whole_file(const char *path, size_t *len);

#endif
