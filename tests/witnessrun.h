/*
 * Witnesses for the tests: a real C2SP tlog-witness process on loopback,
 * started, stopped and started again on the same port, with its key made
 * here so that a test can write the policy naming it.  The implementation
 * is tests/witness.py, written apart from ledgerd's C code.
 */
#ifndef LEDGER_TEST_WITNESSRUN_H
#define LEDGER_TEST_WITNESSRUN_H

#include <stdint.h>
#include <sys/types.h>

#include "ledger/note.h"

struct witness_proc {
	pid_t pid;			/* 0 when not running */
	char dir[512];			/* its files: state, evidence, port */
	char name[64];			/* its key name */
	uint8_t seed[32];
	char vkey[512];			/* its verifier key (type 0x04) */
	struct ledger_verifier verifier;
	char log_vkey[1024];		/* the one log it witnesses */
	int v1;				/* answers as tlog-witness v1.0.0 */
	unsigned port;			/* kept across restarts */
	char url[64];			/* http://127.0.0.1:PORT */
};

/*
 * witness_start - a fresh witness named name, with a key from seed_byte,
 * for the log of log_vkey, keeping its files under parent (a new directory
 * is made there); v1: answer a checkpoint of the size it holds with another
 * root as tlog-witness v1.0.0 did (409), not 422.
 * Returns 0, or -1 after printing why.
 */
int witness_start(struct witness_proc *w, const char *parent,
    const char *name, uint8_t seed_byte, const char *log_vkey, int v1);

/* witness_stop - SIGTERM and wait; its files stay.  0 or -1. */
int witness_stop(struct witness_proc *w);

/* witness_restart - starts it again on its port with its files.  0 or -1. */
int witness_restart(struct witness_proc *w);

/*
 * witness_file - a new string (free() it) with the content of one of its
 * files: "state" (JSON: per origin, the size, root and checkpoint it last
 * cosigned) or "evidence" (JSON lines: requests refused as a log's possible
 * misbehaviour); NULL when there is none.
 */
char *witness_file(const struct witness_proc *w, const char *name);

/* witness_cleanup - stops it if it runs and removes its files (kept when
 * the current test has failed). */
void witness_cleanup(struct witness_proc *w);

#endif
