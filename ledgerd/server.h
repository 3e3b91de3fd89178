/*
 * The state one running ledgerd shares between its modules: configuration,
 * keys, storage, the writer, the worker pool and the HTTP front end.
 */
#ifndef LEDGERD_SERVER_H
#define LEDGERD_SERVER_H

#include <stdint.h>

#include "ledger/entry.h"
#include "ledger/note.h"
#include "ledger/period.h"
#include "ledger/retention.h"

#include "config.h"
#include "metrics.h"

struct event_base;
struct evhttp;
struct http_front;
struct keyring;
struct publisher;
struct store;
struct workers;
struct writer;

struct server {
	struct config *cfg;
	struct store *store;
	struct writer *writer;
	struct workers *workers;		/* heavy requests, off the loop */
	struct publisher *publisher;		/* published checkpoints, witnesses */
	struct keyring *keyring;		/* every use of a key (keyring.h) */
	struct ledger_verifier verifier;	/* the log key's public half */
	const char *verifier_text;		/* the note-verifier string;
						   the keyring's */
	enum ledger_period_kind period_kind;	/* how long a period of
						   subject tokens lasts */
	/*
	 * The retention policy, copied from the config at start: a reload
	 * keeps it (config_reload_check), and the writer's thread reads it.
	 */
	int has_retention;
	struct ledger_retention retention;
	struct event_base *base;
	struct evhttp *http;
	int listen_fd;				/* http_listen()'s; -1 once evhttp owns it */
	struct http_front *front;		/* http.c's: TLS, connections */
	struct metrics metrics;
	int64_t started_us;
	volatile int stopping;
};

/* server_now_us - wall-clock microseconds since the epoch. */
int64_t server_now_us(void);

/*
 * server_serve - runs the daemon with cfg (finished by config_finish) until
 * SIGTERM or SIGINT.  Returns the process exit status: 0 after a clean
 * stop, 1 when it could not start (logged).
 */
int server_serve(struct config *cfg);

/*
 * server_run - server_serve, or with retention_only the start of the
 * daemon without its listener: the data directory locked (so the daemon
 * must be stopped), the keys and the store opened, and the writer's start,
 * which completes interrupted destructions, records the policy in force
 * and destroys the periods due (spec §2.12); then a clean stop.  For
 * `ledgerd retention run`.  Returns 0, or 1 when it could not start or the
 * retention pass failed (logged).
 */
int server_run(struct config *cfg, int retention_only);

#endif
