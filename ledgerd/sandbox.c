/*
 * Landlock and seccomp for the key keeper (sandbox.h).  The allow-list is
 * what keeper.c's loop and keystore.c need once the keys are loaded:
 * reading and answering frames, making, reading and wiping period files,
 * the allocator, OpenSSL's randomness and the log's clock.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* Newer than some system headers; the kernel's ABI version says if known. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#endif

/* Landlock: what the keeper may do beneath DIR/keys, by ABI version. */
static int
landlock_keys(const char *keys_dir, int *landlocked)
{
#ifdef __NR_landlock_create_ruleset
	struct landlock_ruleset_attr attr;
	struct landlock_path_beneath_attr rule;
	uint64_t handled, allowed;
	int abi, ruleset = -1, rc = -1;

	*landlocked = 0;
	abi = (int)syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_info("keeper: the kernel has no Landlock (%s); the key "
		    "keeper is confined by seccomp alone",
		    strerror(errno));
		return 0;
	}
	/* Every file right ABI 1 knows, and those added later when known. */
	handled = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	allowed = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_REG;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled;
	if ((ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1) {
		log_warn("keeper: landlock_create_ruleset");
		goto out;
	}
	memset(&rule, 0, sizeof(rule));
	rule.allowed_access = allowed;
	if ((rule.parent_fd = open(keys_dir, O_PATH | O_CLOEXEC)) == -1) {
		log_warn("keeper: %s", keys_dir);
		goto out;
	}
	rc = (int)syscall(__NR_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	close(rule.parent_fd);
	if (rc == -1) {
		log_warn("keeper: landlock_add_rule");
		goto out;
	}
	if ((rc = (int)syscall(__NR_landlock_restrict_self, ruleset, 0)) == -1) {
		log_warn("keeper: landlock_restrict_self");
		goto out;
	}
	*landlocked = 1;
out:
	if (ruleset != -1)
		close(ruleset);
	return rc == -1 ? -1 : 0;
#else
	*landlocked = 0;
	return 0;
#endif
}

#define ALLOW(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* seccomp: the keeper's system calls; any other kills it (fail closed). */
static int
seccomp_keeper(void)
{
#if defined(SANDBOX_ARCH) && !defined(LEDGERD_SANITIZE)
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		/* frames and the log */
		ALLOW(__NR_read), ALLOW(__NR_write), ALLOW(__NR_writev),
		ALLOW(__NR_close),
		/* period files (keystore.c) */
		ALLOW(__NR_openat), ALLOW(__NR_fstat), ALLOW(__NR_newfstatat),
		ALLOW(__NR_statx), ALLOW(__NR_lseek), ALLOW(__NR_fsync),
		ALLOW(__NR_fdatasync), ALLOW(__NR_unlinkat),
		ALLOW(__NR_mkdirat), ALLOW(__NR_getdents64), ALLOW(__NR_fchmod),
		ALLOW(__NR_faccessat), ALLOW(__NR_fcntl),
#ifdef __NR_faccessat2
		ALLOW(__NR_faccessat2),
#endif
#ifdef __NR_open
		ALLOW(__NR_open), ALLOW(__NR_stat), ALLOW(__NR_lstat),
		ALLOW(__NR_access), ALLOW(__NR_unlink), ALLOW(__NR_mkdir),
#endif
		/* memory, randomness, time, locks, the end */
		ALLOW(__NR_brk), ALLOW(__NR_mmap), ALLOW(__NR_munmap),
		ALLOW(__NR_mremap), ALLOW(__NR_madvise), ALLOW(__NR_mprotect),
		ALLOW(__NR_getrandom), ALLOW(__NR_clock_gettime),
		ALLOW(__NR_gettimeofday), ALLOW(__NR_futex),
		ALLOW(__NR_getpid), ALLOW(__NR_gettid),
		ALLOW(__NR_rt_sigreturn), ALLOW(__NR_rt_sigprocmask),
		ALLOW(__NR_restart_syscall), ALLOW(__NR_sched_yield),
		ALLOW(__NR_exit), ALLOW(__NR_exit_group), ALLOW(__NR_tgkill),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		log_warn("keeper: cannot install the seccomp filter");
		return -1;
	}
	return 0;
#elif defined(LEDGERD_SANITIZE)
	log_info("keeper: seccomp skipped (sanitizer build)");
	return 0;
#else
	log_warnx("keeper: no seccomp filter for this architecture");
	return -1;
#endif
}

int
sandbox_keeper(const char *keys_dir, int *landlocked)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("keeper: PR_SET_NO_NEW_PRIVS");
		return -1;
	}
	if (landlock_keys(keys_dir, landlocked) != 0)
		return -1;
	return seccomp_keeper();
}
