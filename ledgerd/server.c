/*
 * `ledgerd serve`: brings the parts up in order (keys, storage, writer,
 * workers, HTTP), runs the event loop, and on SIGTERM/SIGINT stops
 * accepting work, commits and answers everything queued, and exits
 * cleanly.  SIGHUP reloads the config file's principals, tokens and TLS
 * files.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "ledger/error.h"

#include "crash.h"
#include "datadir.h"
#include "fsck.h"
#include "http.h"
#include "keyring_impl.h"
#include "log.h"
#include "publish.h"
#include "server.h"
#include "store.h"
#include "workers.h"
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
	/*
	 * Jobs under way first: a batch parsed on a worker is queued for the
	 * writer before it stops.  Then the writer commits and answers its
	 * queue, and new appends get 503; the answers it hands back (a batch's,
	 * a provenance query's) are worked on last, and new heavy requests get
	 * 503 from then on.
	 */
	workers_drain(srv->workers);
	writer_stop(srv->writer);
	workers_stop(srv->workers);
	/* Appends waiting for witnesses are answered 503 (they are stored). */
	publisher_stop(srv->publisher);
	/* Give the answers a moment to leave before connections close. */
	event_base_loopexit(srv->base, &flush);
}

/*
 * SIGHUP: build the new configuration beside the old and swap the pointer,
 * here on the loop's thread, so no connection drops and nothing queued is
 * lost.  Requests under way keep a reference to the config their principal
 * came from; the writer thread copied what it needs at start.  Anything
 * wrong with the new file is logged and the old config stays.
 */
static void
on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct config *cur = srv->cfg, *next;
	char err[512], notes[128];

	if (srv->stopping)
		return;
	if (cur->path == NULL) {
		log_info("SIGHUP: no config file to reload (development mode)");
		return;
	}
	log_info("SIGHUP: reloading %s", cur->path);
	if ((next = config_load(cur->path, err, sizeof(err))) == NULL)
		goto refuse;
	/* --data and --listen still override the file. */
	if (config_apply_flags(next, cur->data_from_flag ? cur->data_dir : NULL,
	    cur->listen_from_flag ? cur->listen : NULL, err, sizeof(err)) != 0 ||
	    config_finish(next, err, sizeof(err)) != 0 ||
	    config_reload_check(cur, next, err, sizeof(err), notes,
	    sizeof(notes)) != 0 ||
	    http_reload(srv, next, err, sizeof(err)) != 0)
		goto refuse;
	if (notes[0] != '\0')
		log_warnx("SIGHUP: %s changed in %s; that takes a restart, the "
		    "running values stay", notes, cur->path);
	srv->cfg = next;
	config_free(cur);
	metrics_inc(&srv->metrics.reloads, 1);
	log_info("SIGHUP: configuration reloaded: %zu principals",
	    next->n_principals);
	return;
refuse:
	metrics_inc(&srv->metrics.reload_failures, 1);
	log_warnx("SIGHUP: keeping the running configuration: %s", err);
	config_free(next);
}

/*
 * Makes the secret of the current period now if it is missing, so that a
 * key directory that cannot be written is found at start, not by the first
 * append.
 */
static int
open_current_period(struct server *srv)
{
	char now[LEDGER_TIME_LEN + 1];
	struct keyring_op op;
	int rc;

	memset(&op, 0, sizeof(op));
	op.kind = KEYRING_TOKEN;
	op.create = 1;
	ledger_time_format(server_now_us(), now);
	if ((rc = ledger_period_name(now, srv->period_kind, op.period)) != 0 ||
	    (rc = keyring_run(srv->keyring, &op, 1)) != 0 ||
	    (rc = op.rc) != 0) {
		/* Destroyed early: events without subjects can still go in. */
		if (rc == KEYRING_EDESTROYED) {
			log_warnx("the secret of the current period %s was "
			    "destroyed: events with subjects are refused (503 "
			    "keys_unavailable) until the next period",
			    op.period);
			return 0;
		}
		log_warnx("cannot open the secret of the current period %s: %s",
		    op.period, keyring_strerror(rc));
		return rc;
	}
	return 0;
}

/* Prints what a developer needs to talk to a development-mode log. */
static void
announce_dev_mode(const struct server *srv, const struct datadir_keys *keys)
{
	log_warnx("DEVELOPMENT MODE: no config file, loopback listener; the "
	    "development token holds every role and may post for any org");
	printf("ledgerd development mode\n");
	printf("  verifier key: %s\n", srv->verifier_text);
	printf("  token:        %s\n", keys->dev_token);
	printf("  (also in %s/%s and %s/%s)\n", srv->cfg->data_dir, DATADIR_VERIFIER,
	    srv->cfg->data_dir, DATADIR_DEV_TOKEN);
	fflush(stdout);
}

int
server_serve(struct config *cfg)
{
	return server_run(cfg, 0);
}

/*
 * The loop's event base.  With epoll's changelist, the read and write
 * interest a connection switches on and off while one request is read,
 * handed on and answered is sent to the kernel once per loop pass, not as
 * an epoll_ctl per switch (about four a request otherwise).  Its caveat,
 * descriptors made by dup() sharing one registration, does not arise: the
 * loop never dups a socket.
 */
static struct event_base *
loop_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

/*
 * Builds the index from the entries when index.mdb is new or was lost
 * (store_index_move says so), or does not fit the log (store_index_lag):
 * the log is whole without it, and this is the one way it comes back.
 */
static int
rebuild_index(struct store *st, const char *why)
{
	struct timespec t0, t1;
	uint64_t entries;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = reindex_store(st, &entries)) != 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (entries > 0)
		log_info("store: %s %s: the index of %llu entries rebuilt in "
		    "%.1f s", STORE_INDEX_FILE, why, (unsigned long long)entries,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

/*
 * Moves an older store's index, then makes sure the index fits the log:
 * rebuilt when missing, when its watermark is past the log's tree size
 * (an index.mdb restored from a later copy than its ledger.mdb), or when
 * it lags so far behind (an earlier copy) that holding the difference in
 * the index tail would take more memory than the tail is allowed.
 */
static int
index_ready(const struct config *cfg, struct store *st)
{
	uint64_t lag;
	int rc;

	if ((rc = store_index_move(st)) == 1)
		return rebuild_index(st, "was missing");
	if (rc != 0)
		return rc;
	if ((rc = store_index_lag(st, &lag)) == 1) {
		log_warnx("store: %s is ahead of the log (its watermark is past "
		    "the tree size): rebuilding it from the entries",
		    STORE_INDEX_FILE);
		return rebuild_index(st, "was ahead of the log");
	}
	if (rc == 0 && lag > 2 * (uint64_t)cfg->limits.tail_max_entries) {
		log_warnx("store: %s lags the log by %llu entries: rebuilding it "
		    "from the entries", STORE_INDEX_FILE, (unsigned long long)lag);
		return rebuild_index(st, "lagged the log");
	}
	return rc;
}

/*
 * Opens the store, moves its tree hashes and its index to their layout if
 * they are older (or rebuilds the index if it is missing), and compacts it
 * when that is due (store.h): once, after such a move.
 * Returns 0 or -1 (logged); *out is NULL on failure.
 */
static int
open_store(const struct config *cfg, struct store **out)
{
	struct timespec t0, t1;
	int rc;

	*out = NULL;
	if ((rc = store_open(cfg->data_dir, cfg->limits.map_size, 0, out)) != 0)
		goto fail;
	if (store_tree_migrate(*out) != 0)
		goto fail_logged;
	if ((rc = index_ready(cfg, *out)) != 0)
		goto fail;
	if ((rc = store_compact_due(*out)) <= 0) {
		if (rc == 0)
			return 0;
		goto fail;
	}
	log_info("store: compacting (free pages the move of the tree hashes "
	    "or of the index left)");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = store_compact(*out);
	if (rc == LEDGER_ENOSPC)
		return 0;	/* logged; works all the same, more slowly */
	if (rc == 0)
		crash_point("compact-renamed");
	store_close(*out);
	*out = NULL;
	if (rc != 0 ||
	    (rc = store_open(cfg->data_dir, cfg->limits.map_size, 0, out)) != 0 ||
	    (rc = store_compact_done(*out)) != 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("store: compacted in %.1f s, %llu MB",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    (unsigned long long)(store_disk_usage(*out) >> 20));
	return 0;
fail:
	log_warnx("cannot open the database in %s: %s", cfg->data_dir,
	    ledger_strerror(rc));
fail_logged:
	store_close(*out);
	*out = NULL;
	return -1;
}

int
server_run(struct config *cfg, int retention_only)
{
	struct server srv;
	struct datadir_keys keys;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	char err[512];
	int rc, lock = -1, result = 1;

	memset(&srv, 0, sizeof(srv));
	memset(&keys, 0, sizeof(keys));
	srv.listen_fd = -1;
	/* A reload replaces srv.cfg; the caller's reference stays its own. */
	srv.cfg = config_ref(cfg);
	srv.started_us = server_now_us();
	crash_init();
	log_route_libevent();
	if (evthread_use_pthreads() != 0)
		fatalx("libevent has no pthreads support");
	signal(SIGPIPE, SIG_IGN);

	/*
	 * The address first: one in use (another ledgerd, a forgotten
	 * `make run`) is said before any file is created or opened.
	 */
	if (!retention_only &&
	    http_listen(cfg->listen, &srv.listen_fd, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	/* One daemon per data directory, before anything in it is touched. */
	if (datadir_lock(cfg->data_dir, 1, &lock) != 0)
		goto out;	/* logged, naming the holder */
	/*
	 * The key keeper, before the store is opened and any thread started:
	 * it alone reads the key files (keeper.c, security.md).
	 */
	if (keyring_start_keeper(cfg, &srv.keyring) != 0)
		goto out;	/* logged */
	/*
	 * The log's own thread after the fork: the keeper starts from a
	 * process of one thread, so no lock of another thread's is held in
	 * the child (the atfork handlers only cover the log's own).
	 */
	log_async_start();
	srv.verifier = *keyring_verifier(srv.keyring);
	srv.verifier_text = keyring_verifier_text(srv.keyring);
	if (cfg->dev_mode) {
		if (datadir_dev_token(cfg->data_dir, 1, &keys) != 0)
			goto out;	/* logged */
		config_add_dev_principal(cfg, keys.dev_token_sha256);
	}
	srv.period_kind = LEDGER_PERIOD_QUARTER;
	if (cfg->retention != NULL) {
		srv.has_retention = 1;
		srv.retention = *cfg->retention;
		if (ledger_period_kind_parse(srv.retention.period,
		    &srv.period_kind) != 0)
			fatalx("retention.period %s", srv.retention.period);
	}
	if (open_current_period(&srv) != 0)
		goto out;	/* logged */

	if (open_store(cfg, &srv.store) != 0)
		goto out;	/* logged */
	if ((srv.base = loop_base_new()) == NULL)
		fatalx("cannot create the event base");
	if ((srv.writer = writer_start(&srv, srv.base)) == NULL)
		goto out;
	/* `ledgerd retention run`: writer_start made the pass; that is all. */
	if (retention_only) {
		if (!srv.has_retention)
			log_info("retention: the configuration has no retention "
			    "policy: nothing to do");
		else if ((rc = writer_retention_rc(srv.writer)) != 0) {
			log_warnx("retention: the pass failed: %s",
			    keyring_strerror(rc));
			goto out;
		}
		writer_stop(srv.writer);
		result = 0;
		goto out;
	}
	if ((srv.workers = workers_start(srv.base, cfg->limits.workers,
	    cfg->limits.max_queued_jobs)) == NULL)
		goto out;
	if ((srv.publisher = publisher_start(&srv)) == NULL)
		goto out;
	/*
	 * Before "listening on" is said: whoever waits for that line may
	 * signal at once, and a SIGTERM before its handler would end the
	 * daemon by its default action, without its stop.  Handled in the
	 * loop, which runs once everything is up.
	 */
	sigterm = evsignal_new(srv.base, SIGTERM, on_stop_signal, &srv);
	sigint = evsignal_new(srv.base, SIGINT, on_stop_signal, &srv);
	sighup = evsignal_new(srv.base, SIGHUP, on_reload_signal, &srv);
	if (sigterm == NULL || sigint == NULL || sighup == NULL ||
	    evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0 ||
	    evsignal_add(sighup, NULL) != 0)
		fatalx("cannot install signal handlers");
	if (http_start(&srv) != 0)
		goto out;
	log_info("ledgerd serving log %s (verifier %s)", cfg->origin,
	    srv.verifier_text);
	if (cfg->dev_mode)
		announce_dev_mode(&srv, &keys);

	event_base_dispatch(srv.base);
	/* No-ops after a signal. */
	workers_drain(srv.workers);
	writer_stop(srv.writer);
	workers_stop(srv.workers);
	publisher_stop(srv.publisher);
	log_info("stopped");
	result = 0;
out:
	/* Jobs hold requests: answered before the connections go. */
	workers_stop(srv.workers);
	writer_stop(srv.writer);
	publisher_free(srv.publisher);
	srv.publisher = NULL;
	http_stop(&srv);
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	writer_free(srv.writer);
	workers_free(srv.workers);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (sighup != NULL)
		event_free(sighup);
	if (srv.base != NULL)
		event_base_free(srv.base);
	store_close(srv.store);
	keyring_free(srv.keyring);
	datadir_keys_free(&keys);
	datadir_unlock(lock);
	config_free(srv.cfg);
	return result;
}
