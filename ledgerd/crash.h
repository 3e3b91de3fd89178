/*
 * Fault injection for the tests.
 *
 * LEDGERD_CRASH_AT=NAME[:N] in the environment makes the N-th (default
 * first) pass through crash point NAME abort the process, as a power cut
 * there would.  Points: "sign" (while signing a checkpoint),
 * "before-commit", "after-commit" (committed, not yet answered); and in a
 * merge of the index tail (tail_merge.h): "merge-begin" (before its
 * transaction), "merge-put" (its records written), "merge-before-commit"
 * (the watermark written too), "merge-after-commit" (committed, the tail
 * not yet told); and in the one-time move of the tree hashes
 * (store_tree.c): "tree-migrate-put" (a step's hashes and its progress
 * written, not committed), "tree-migrate-commit" (committed); and in the
 * compaction after it (store.h), "compact-renamed" (the compact copy has
 * taken the file's name, the mark that it is due not yet removed); and in
 * the one-time move of an older store's index into index.mdb
 * (store_index.c): "index-move-put" (every record copied, not committed),
 * "index-moved" (committed), "index-drop-commit" (the older index dropped
 * in ledger.mdb, not committed).
 *
 * LEDGERD_HOLD_AT=NAME:PATH makes every pass through hold point NAME wait
 * while the file PATH exists (looked at every 5 ms, for at most 60 s), so
 * that a test can act while work is known to be under way, without
 * guessing at timing.  Point: "job" (a worker about to start a job,
 * workers.h).
 *
 * Unset, either point costs one branch.  Only the test daemon
 * (ledgerd-faults, crash.c built with LEDGERD_FAULT_INJECTION) has them: in
 * the ledgerd that ships, they are empty calls and both variables are
 * ignored with a warning, so no environment variable can make a production
 * daemon abort or stall.
 */
#ifndef LEDGERD_CRASH_H
#define LEDGERD_CRASH_H

/* crash_init - reads LEDGERD_CRASH_AT and LEDGERD_HOLD_AT once, at start. */
void crash_init(void);
void crash_point(const char *name);

/* crash_hold - waits at hold point name while its file exists; any thread. */
void crash_hold(const char *name);

#endif
