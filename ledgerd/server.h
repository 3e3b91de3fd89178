/*
 * The state one running ledgerd shares between its modules: configuration,
 * keys, storage, the writer, the worker pool and the HTTP front end.
 */
#ifndef LEDGERD_SERVER_H
#define LEDGERD_SERVER_H

#include <stdint.h>

#include "ledger/entry.h"
#include "ledger/note.h"

#include "config.h"
#include "metrics.h"

struct event_base;
struct evhttp;
struct http_front;
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
	struct ledger_signer *signer;		/* the log's checkpoint key */
	struct ledger_verifier verifier;	/* its public half */
	char *verifier_text;			/* the note-verifier string */
	uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN];
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

#endif
