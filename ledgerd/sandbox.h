/*
 * The key keeper's confinement (security.md, "The key keeper"): Landlock
 * keeps its file access to the period secrets' directory, and a seccomp
 * allow-list to the system calls its loop makes.  Applied once, after the
 * keys are read and before the first request is read; it cannot be undone.
 */
#ifndef LEDGERD_SANDBOX_H
#define LEDGERD_SANDBOX_H

/*
 * sandbox_keeper - confines the calling process (single-threaded, its keys
 * already read) to keys_dir and to the system calls of the keeper.
 *	keys_dir	in: the only directory it may still open files in
 *	landlocked	out: 1 when Landlock was applied, 0 when the kernel
 *			has none (logged once at info)
 * Returns 0, or -1 (logged) when seccomp could not be installed: the keeper
 * must then not serve.  Builds with LEDGERD_SANITIZE (make SANITIZE=1) skip
 * seccomp: the sanitizers' runtime makes system calls no allow-list of the
 * keeper's own can foresee; Landlock still applies.
 */
int sandbox_keeper(const char *keys_dir, int *landlocked);

/* Whether sandbox_keeper installs a seccomp filter (not under sanitizers). */
#ifdef LEDGERD_SANITIZE
#define SANDBOX_SECCOMP 0
#else
#define SANDBOX_SECCOMP 1
#endif

#endif
