/*
 * `ledgerd serve`: brings the parts up in order (keys, storage, writer,
 * HTTP), runs the event loop, and on SIGTERM/SIGINT stops accepting work,
 * commits and answers everything queued, and exits cleanly.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "ledger/error.h"

#include "crash.h"
#include "datadir.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "writer.h"

int64_t
server_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval flush = { 0, 300000 };

	if (srv->stopping)
		return;
	srv->stopping = 1;
	log_info("%s: stopping; committing and answering what is queued",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* New appends now get 503; the queue is committed and answered. */
	writer_stop(srv->writer);
	/* Give the answers a moment to leave before connections close. */
	event_base_loopexit(srv->base, &flush);
}

/* Prints what a developer needs to talk to a development-mode log. */
static void
announce_dev_mode(const struct server *srv, const struct datadir_keys *keys)
{
	log_warnx("DEVELOPMENT MODE: no config file, loopback listener; the "
	    "development token holds every role and may post for any org");
	printf("ledgerd development mode\n");
	printf("  verifier key: %s\n", keys->verifier_text);
	printf("  token:        %s\n", keys->dev_token);
	printf("  (also in %s/%s and %s/%s)\n", srv->cfg->data_dir, DATADIR_VERIFIER,
	    srv->cfg->data_dir, DATADIR_DEV_TOKEN);
	fflush(stdout);
}

int
server_serve(struct config *cfg)
{
	struct server srv;
	struct datadir_keys keys;
	struct event *sigterm = NULL, *sigint = NULL;
	int rc, result = 1;

	memset(&srv, 0, sizeof(srv));
	memset(&keys, 0, sizeof(keys));
	srv.cfg = cfg;
	srv.started_us = server_now_us();
	crash_init();
	log_route_libevent();
	if (evthread_use_pthreads() != 0)
		fatalx("libevent has no pthreads support");
	signal(SIGPIPE, SIG_IGN);

	if (datadir_open(cfg->data_dir, cfg, 1, &keys) != 0)
		goto out;	/* logged */
	srv.signer = keys.signer;
	srv.verifier = keys.verifier;
	srv.verifier_text = keys.verifier_text;
	memcpy(srv.subject_key, keys.subject_key, sizeof(srv.subject_key));
	if (cfg->dev_mode)
		config_add_dev_principal(cfg, keys.dev_token_sha256);

	if ((rc = store_open(cfg->data_dir, cfg->limits.map_size, 0, &srv.store)) != 0) {
		log_warnx("cannot open the database in %s: %s", cfg->data_dir,
		    ledger_strerror(rc));
		goto out;
	}
	if ((srv.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	if ((srv.writer = writer_start(&srv, srv.base)) == NULL)
		goto out;
	if (http_start(&srv) != 0)
		goto out;
	sigterm = evsignal_new(srv.base, SIGTERM, on_stop_signal, &srv);
	sigint = evsignal_new(srv.base, SIGINT, on_stop_signal, &srv);
	if (sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0)
		fatalx("cannot install signal handlers");
	log_info("ledgerd serving log %s (verifier %s)", cfg->origin, keys.verifier_text);
	if (cfg->dev_mode)
		announce_dev_mode(&srv, &keys);

	event_base_dispatch(srv.base);
	writer_stop(srv.writer);	/* a no-op after a signal */
	log_info("stopped");
	result = 0;
out:
	if (srv.http != NULL)
		http_stop(&srv);
	writer_free(srv.writer);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (srv.base != NULL)
		event_base_free(srv.base);
	store_close(srv.store);
	OPENSSL_cleanse(srv.subject_key, sizeof(srv.subject_key));
	datadir_keys_free(&keys);
	return result;
}
