/*
 * Fault injection for the crash tests: LEDGERD_CRASH_AT=NAME[:N] in the
 * environment makes the N-th (default first) pass through crash point NAME
 * abort the process, as a power cut there would.  Points: "sign" (while
 * signing a checkpoint), "before-commit", "after-commit" (committed, not yet
 * answered).  Unset, a crash point costs one branch.
 *
 * Only the test daemon (ledgerd-faults, crash.c built with
 * LEDGERD_FAULT_INJECTION) has them: in the ledgerd that ships, a crash
 * point is an empty call and LEDGERD_CRASH_AT is ignored with a warning,
 * so no environment variable can make a production daemon abort.
 */
#ifndef LEDGERD_CRASH_H
#define LEDGERD_CRASH_H

/* crash_init - reads LEDGERD_CRASH_AT once, at start. */
void crash_init(void);
void crash_point(const char *name);

#endif
