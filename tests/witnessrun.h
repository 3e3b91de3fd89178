/*
 * Witnesses for the tests: a real C2SP tlog-witness process on loopback,
 * started, stopped and started again on the same port.  Two
 * implementations: `ledgerd witness`, and tests/witness.py, written apart
 * from ledgerd's C code (which can also answer as a tlog-witness v1.0.0
 * witness did).
 */
#ifndef LEDGER_TEST_WITNESSRUN_H
#define LEDGER_TEST_WITNESSRUN_H

#include <stdint.h>
#include <sys/types.h>

#include "ledger/note.h"

enum witness_impl {
	WITNESS_LEDGERD,		/* ledgerd witness */
	WITNESS_PYTHON,			/* tests/witness.py */
	WITNESS_PYTHON_V1,		/* tests/witness.py --v1: a 409, not a
					   422, for the same size with another
					   root */
};

struct witness_proc {
	enum witness_impl impl;
	pid_t pid;			/* 0 when not running */
	char dir[512];			/* its files: state, evidence, port */
	char name[64];			/* its key name */
	uint8_t seed[32];		/* tests/witness.py's key */
	char vkey[512];			/* its verifier key (type 0x04) */
	struct ledger_verifier verifier;
	char log_vkey[1024];		/* the one log it witnesses */
	unsigned port;			/* kept across restarts */
	char url[64];			/* http(s)://127.0.0.1:PORT */
	char tls_cert[512], tls_key[512];	/* tests/witness.py over HTTPS */
};

/*
 * witness_start - a fresh witness of implementation impl, its key named
 * name, for the log of log_vkey, keeping its files under parent (a new
 * directory is made there).
 * Returns 0, or -1 after printing why.
 */
int witness_start(struct witness_proc *w, const char *parent,
    const char *name, enum witness_impl impl, const char *log_vkey);

/*
 * witness_start_tls - as witness_start, a tests/witness.py speaking HTTPS
 * with the certificate and key in the files given (PEM).
 */
int witness_start_tls(struct witness_proc *w, const char *parent,
    const char *name, const char *log_vkey, const char *cert,
    const char *key);

/* witness_stop - SIGTERM and wait; its files stay.  0 or -1. */
int witness_stop(struct witness_proc *w);

/* witness_restart - starts it again on its port with its files.  0 or -1. */
int witness_restart(struct witness_proc *w);

/*
 * witness_cosigned_size - the tree size of the latest checkpoint it
 * cosigned for origin (from its state file, or its monitoring endpoint),
 * or -1 when none.
 */
long long witness_cosigned_size(const struct witness_proc *w,
    const char *origin);

/*
 * witness_evidence - a new string (free() it) with what it kept of the
 * requests it refused as a log's possible misbehaviour (tests/witness.py:
 * its evidence file, JSON lines with "status" and "reason"; ledgerd
 * witness: GET /evidence, with each "kind"), or NULL when none.
 */
char *witness_evidence(const struct witness_proc *w);

/* witness_cleanup - stops it if it runs and removes its files (kept when
 * the current test has failed). */
void witness_cleanup(struct witness_proc *w);

#endif
