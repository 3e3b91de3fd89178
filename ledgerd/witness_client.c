/*
 * Pushing published checkpoints to one witness (C2SP tlog-witness,
 * add-checkpoint, spec §10.6; its current text answers 422 where its
 * v1.0.0 tag answered 409 for the same size with a different root).  One
 * request at a time per witness, on the loop's thread; the latest offer
 * wins, so a slow witness is sent the newest checkpoint when it is ready
 * again rather than every one it missed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ledger/cosignature.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/witness_proto.h"
#include "ledger/xmalloc.h"

#include "log.h"
#include "metrics.h"
#include "server.h"
#include "store.h"
#include "witness_client.h"

#define ANSWER_MAX (64 * 1024)		/* the longest answer read */
#define BACKOFF_MAX_MS 60000		/* the longest wait between tries */
#define CONFLICTS_MAX 3			/* 409s in a row before backing off */

struct witness_client {
	struct server *srv;
	char *name;
	struct ledger_verifier key;
	char *url;			/* as configured, for log lines */
	char *host;
	int host_is_ip;			/* an IPv4 or IPv6 address */
	int port;
	char *path;			/* <prefix>/add-checkpoint */
	char *host_header;
	SSL_CTX *ssl_ctx;		/* https only */
	struct evdns_base *dns;		/* a host name only */
	struct evhttp_connection *conn;
	int conn_stale;			/* closed: make a new one before use */
	int timeout_seconds;
	int64_t min_backoff_ms;
	witness_cosigned_fn cosigned;
	void *arg;

	/* What the log knows of the witness: the size it last cosigned. */
	int size_known;
	uint64_t size;

	/* The latest offer: what is pushed next. */
	char *offer;
	size_t offer_len, offer_text_len;
	uint64_t offer_size;
	int offer_pending;

	/* The request under way: NULL, or what it carried. */
	struct evhttp_request *req;
	uint64_t sent_old, sent_size;
	char *sent_note;
	size_t sent_len, sent_text_len;	/* text_len: the checkpoint body */

	int conflicts;			/* 409s in a row */
	int failures;			/* failures in a row: the back-off */
	int backing_off;
	int alarmed;			/* stopped for good (until a restart) */
	struct event *retry;		/* back-off timer */
	struct event *kick;		/* sends from outside evhttp's callbacks */

	/* For /metrics; the loop's thread writes, a scrape reads there too. */
	uint64_t pushes, push_failures, alarms, cosigned_size;
};

const char *
witness_client_name(const struct witness_client *wc)
{
	return wc->name;
}

/* Sends on the next turn of the loop, never from inside an evhttp callback. */
static void
schedule(struct witness_client *wc)
{
	event_active(wc->kick, EV_TIMEOUT, 0);
}

/*
 * The witness holds a history this log cannot extend (spec §10.6): it is
 * never pushed to again by this process.  Logged at error level: an
 * operator must find out which history is the true one (docs/operations.md).
 */
static void __attribute__((format(printf, 2, 3)))
alarm_raise(struct witness_client *wc, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	wc->alarmed = 1;
	wc->alarms++;
	log_errorx("ALARM: witness %s (%s) holds a different history of log %s: "
	    "%s; no more checkpoints are sent to it until an operator has "
	    "looked into it and restarted ledgerd", wc->name, wc->url,
	    wc->srv->cfg->origin, why);
}

static void
backoff(struct witness_client *wc)
{
	int64_t ms = wc->min_backoff_ms;
	struct timeval tv;
	int i;

	for (i = 1; i < wc->failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	wc->backing_off = 1;
	evtimer_add(wc->retry, &tv);
}

/* A push that got no cosignature: the same (or a newer) offer, later. */
static void __attribute__((format(printf, 2, 3)))
push_failed(struct witness_client *wc, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	wc->push_failures++;
	wc->failures++;
	wc->offer_pending = 1;
	/* The first failure says so; a witness down for long stays quiet. */
	if (wc->failures == 1)
		log_warnx("witness %s: add-checkpoint of tree size %" PRIu64
		    " failed: %s; retrying with back-off", wc->name,
		    wc->sent_size, why);
	else
		log_debug("witness %s: add-checkpoint of tree size %" PRIu64
		    " failed again (%d): %s", wc->name, wc->sent_size,
		    wc->failures, why);
	backoff(wc);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct witness_client *wc = arg;

	wc->backing_off = 0;
	schedule(wc);
}

static void
conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct witness_client *wc = arg;

	/*
	 * evhttp reconnects a plain connection by itself, but a TLS one
	 * cannot reuse its finished session: either way a fresh connection
	 * is made for the next request.
	 */
	wc->conn_stale = 1;
}

static struct bufferevent *
tls_bufferevent(struct witness_client *wc)
{
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = SSL_new(wc->ssl_ctx)) == NULL)
		return NULL;
	/*
	 * The certificate must name the host (RFC 6125): an address by an IP
	 * subjectAltName, a name by a DNS one, sent as SNI (RFC 6066 has no
	 * SNI for addresses).
	 */
	if (wc->host_is_ip ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), wc->host) != 1 :
	    (SSL_set_tlsext_host_name(ssl, wc->host) != 1 ||
	    SSL_set1_host(ssl, wc->host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(wc->srv->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* The connection to use, made anew when the last one closed. */
static struct evhttp_connection *
connection(struct witness_client *wc)
{
	struct bufferevent *bev = NULL;

	if (wc->conn != NULL && !wc->conn_stale)
		return wc->conn;
	if (wc->conn != NULL)
		evhttp_connection_free(wc->conn);
	wc->conn = NULL;
	wc->conn_stale = 0;
	if (wc->ssl_ctx != NULL && (bev = tls_bufferevent(wc)) == NULL)
		return NULL;
	wc->conn = evhttp_connection_base_bufferevent_new(wc->srv->base,
	    wc->dns, bev, wc->host, (unsigned short)wc->port);
	if (wc->conn == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		return NULL;
	}
	evhttp_connection_set_timeout(wc->conn, wc->timeout_seconds);
	evhttp_connection_set_retries(wc->conn, 0);
	evhttp_connection_set_max_body_size(wc->conn, ANSWER_MAX);
	evhttp_connection_set_closecb(wc->conn, conn_closed, wc);
	return wc->conn;
}

/* "<size>\n", the body of a 409 (content type text/x.tlog.size). */
static int
parse_size_body(struct evbuffer *buf, uint64_t *size)
{
	char text[32];
	size_t n = evbuffer_get_length(buf);

	if (n >= sizeof(text))
		return -1;
	evbuffer_copyout(buf, text, n);
	return ledger_tlog_size_parse(text, n, size) == 0 ? 0 : -1;
}

/* The first bytes of an answer, printable, for a log line. */
static void
answer_excerpt(struct evbuffer *buf, char *out, size_t cap)
{
	size_t n = evbuffer_get_length(buf), i;

	if (n > cap - 1)
		n = cap - 1;
	evbuffer_copyout(buf, out, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			out[i] = ' ';
	out[n] = '\0';
}

static void
answered_200(struct witness_client *wc, struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf);
	char *body, *lines = NULL;
	int rc;

	/*
	 * tlog-witness: lines of keys the log does not know are ignored; the
	 * witness's own are kept only when every one of them verifies over
	 * the checkpoint sent.
	 */
	body = xmalloc(len + 1);
	evbuffer_copyout(buf, body, len);
	body[len] = '\0';
	rc = ledger_cosignature_accept(body, len, wc->sent_note,
	    wc->sent_text_len, &wc->key, &lines, NULL);
	free(body);
	if (rc != 0) {
		push_failed(wc, "answered 200 without a valid cosignature of key "
		    "%s+%08x: %s", wc->name, wc->key.key_id,
		    rc == LEDGER_ENOTFOUND ? "no line of that key" :
		    ledger_strerror(rc));
		return;
	}
	wc->size = wc->sent_size;
	wc->size_known = 1;
	wc->cosigned_size = wc->sent_size;
	if (wc->failures > 0)
		log_info("witness %s: cosigned tree size %" PRIu64 " after %d "
		    "failed tries", wc->name, wc->sent_size, wc->failures);
	wc->failures = 0;
	wc->conflicts = 0;
	wc->cosigned(wc->arg, wc->name, wc->sent_size, lines, strlen(lines));
	free(lines);
}

static void
answered_409(struct witness_client *wc, struct evbuffer *buf)
{
	char excerpt[80];
	uint64_t size;

	if (parse_size_body(buf, &size) != 0) {
		answer_excerpt(buf, excerpt, sizeof(excerpt));
		push_failed(wc, "answered 409 without a tree size: \"%s\"",
		    excerpt);
		return;
	}
	/*
	 * A tlog-witness v1.0.0 witness answers 409 for the same size with a
	 * different root; it then names the size it holds, which is the one
	 * sent.  Retrying would loop forever.
	 */
	if (size == wc->sent_old) {
		alarm_raise(wc, "it answered 409 naming the size sent (old %"
		    PRIu64 ", checkpoint %" PRIu64 "): it holds a checkpoint "
		    "of that size with another root hash", wc->sent_old,
		    wc->sent_size);
		return;
	}
	if (size > wc->sent_size) {
		alarm_raise(wc, "it has cosigned tree size %" PRIu64 ", beyond "
		    "this log's published size %" PRIu64, size, wc->sent_size);
		return;
	}
	log_info("witness %s: holds tree size %" PRIu64 ", not %" PRIu64
	    "; pushing tree size %" PRIu64 " from there", wc->name, size,
	    wc->sent_old, wc->offer_size);
	wc->size = size;
	wc->size_known = 1;
	wc->offer_pending = 1;
	/* Two sizes it keeps changing between: back off, never spin. */
	if (++wc->conflicts > CONFLICTS_MAX) {
		wc->conflicts = 0;
		push_failed(wc, "answered 409 %d times in a row", CONFLICTS_MAX + 1);
		return;
	}
	schedule(wc);
}

static void
push_done(struct evhttp_request *req, void *arg)
{
	struct witness_client *wc = arg;
	struct evbuffer *buf;
	char excerpt[160];
	int code;

	wc->req = NULL;
	if (req == NULL || (code = evhttp_request_get_response_code(req)) == 0) {
		wc->conn_stale = 1;
		push_failed(wc, "no answer from %s (refused, closed or timed "
		    "out after %d s)", wc->url, wc->timeout_seconds);
		return;
	}
	buf = evhttp_request_get_input_buffer(req);
	switch (code) {
	case 200:
		answered_200(wc, buf);
		break;
	case 409:
		answered_409(wc, buf);
		break;
	case 422:
		answer_excerpt(buf, excerpt, sizeof(excerpt));
		alarm_raise(wc, "it answered 422 to the checkpoint of tree size %"
		    PRIu64 " (old %" PRIu64 "): \"%s\"", wc->sent_size,
		    wc->sent_old, excerpt);
		break;
	default:
		answer_excerpt(buf, excerpt, sizeof(excerpt));
		push_failed(wc, "answered %d (\"%s\")%s", code, excerpt,
		    code == 403 || code == 404 ? ": does it know this log's "
		    "origin and key?" : "");
		break;
	}
	if (!wc->alarmed && !wc->backing_off && wc->offer_pending)
		schedule(wc);
}

/* The request body: old size, proof lines, empty line, checkpoint. */
static int
push_body(struct witness_client *wc, uint64_t old, struct evbuffer *out)
{
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN];
	struct ledger_hash_store hs;
	struct store_txn *txn;
	size_t n = 0, len;
	char *body;
	int rc = 0;

	/* tlog-witness: the proof is empty from 0, and from the size itself. */
	if (old > 0 && old < wc->offer_size) {
		if ((rc = store_read_begin(wc->srv->store, &txn)) != 0)
			return rc;
		hs = store_hash_store(txn);
		rc = ledger_merkle_consistency_proof(&hs, old, wc->offer_size,
		    proof, &n);
		store_txn_end(txn);
		if (rc != 0)
			return rc;
	}
	body = ledger_add_checkpoint_format(old,
	    (const uint8_t (*)[LEDGER_HASH_LEN])proof, n, wc->offer,
	    wc->offer_len, &len);
	if (body == NULL)
		return LEDGER_EINVAL;
	evbuffer_add(out, body, len);
	free(body);
	return 0;
}

static void
send_push(struct witness_client *wc)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	uint64_t old = wc->size_known ? wc->size : 0;
	int rc;

	if (old > wc->offer_size) {
		alarm_raise(wc, "it has cosigned tree size %" PRIu64 ", beyond "
		    "this log's published size %" PRIu64, old, wc->offer_size);
		return;
	}
	free(wc->sent_note);
	wc->sent_note = xstrndup(wc->offer, wc->offer_len);
	wc->sent_len = wc->offer_len;
	wc->sent_text_len = wc->offer_text_len;
	wc->sent_old = old;
	wc->sent_size = wc->offer_size;
	wc->offer_pending = 0;
	if ((conn = connection(wc)) == NULL) {
		push_failed(wc, "cannot make a connection to %s", wc->url);
		return;
	}
	if ((req = evhttp_request_new(push_done, wc)) == NULL)
		fatalx("witness %s: evhttp_request_new failed", wc->name);
	if ((rc = push_body(wc, old, evhttp_request_get_output_buffer(req))) != 0) {
		evhttp_request_free(req);
		push_failed(wc, "cannot compute the consistency proof from %"
		    PRIu64 " to %" PRIu64 ": %s", old, wc->offer_size,
		    ledger_strerror(rc));
		return;
	}
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", wc->host_header);
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "User-Agent", "ledgerd");
	wc->pushes++;
	wc->req = req;
	log_debug("witness %s: add-checkpoint old %" PRIu64 ", tree size %"
	    PRIu64, wc->name, old, wc->sent_size);
	/* On failure evhttp has freed req without calling push_done. */
	if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, wc->path) != 0 &&
	    wc->req == req) {
		wc->req = NULL;
		wc->conn_stale = 1;
		push_failed(wc, "cannot send the request to %s", wc->url);
	}
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct witness_client *wc = arg;

	if (wc->alarmed || wc->req != NULL || wc->backing_off ||
	    !wc->offer_pending || wc->offer == NULL || wc->srv->stopping)
		return;
	send_push(wc);
}

void
witness_client_offer(struct witness_client *wc, uint64_t tree_size,
    const char *note, size_t len, int already_cosigned)
{
	struct ledger_note_sig sig;
	size_t nsigs;

	free(wc->offer);
	wc->offer = xstrndup(note, len);
	wc->offer_len = len;
	wc->offer_size = tree_size;
	/* The publisher offers only notes the log signed: they split. */
	if (ledger_note_split(note, len, &sig, 1, &nsigs,
	    &wc->offer_text_len) != 0)
		fatalx("witness %s: offered a malformed checkpoint", wc->name);
	if (already_cosigned) {
		/* Its stored cosignature says which size it holds. */
		wc->size = tree_size;
		wc->size_known = 1;
		wc->cosigned_size = tree_size;
		wc->offer_pending = 0;
		return;
	}
	wc->offer_pending = 1;
	schedule(wc);
}

/* Splits an http(s) URL; the witness's submission prefix. */
static int
parse_url(struct witness_client *wc, const char *url, const char *ca_file,
    char *err, size_t errlen)
{
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	const char *scheme, *host, *path;
	struct in6_addr a6;
	struct in_addr a4;
	size_t plen;
	int rc = -1;

	if (uri == NULL || (scheme = evhttp_uri_get_scheme(uri)) == NULL ||
	    (host = evhttp_uri_get_host(uri)) == NULL || host[0] == '\0' ||
	    evhttp_uri_get_query(uri) != NULL ||
	    evhttp_uri_get_fragment(uri) != NULL ||
	    evhttp_uri_get_userinfo(uri) != NULL) {
		snprintf(err, errlen, "witness %s: URL \"%s\" is not "
		    "http(s)://HOST[:PORT][/PATH]", wc->name, url);
		goto out;
	}
	if (strcmp(scheme, "https") == 0) {
		wc->ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (wc->ssl_ctx == NULL ||
		    SSL_CTX_set_min_proto_version(wc->ssl_ctx,
		    TLS1_2_VERSION) != 1 ||
		    (ca_file != NULL ? SSL_CTX_load_verify_locations(wc->ssl_ctx,
		    ca_file, NULL) : SSL_CTX_set_default_verify_paths(
		    wc->ssl_ctx)) != 1) {
			snprintf(err, errlen, "witness %s: cannot set up TLS%s%s",
			    wc->name, ca_file ? " with " : "", ca_file ? ca_file : "");
			goto out;
		}
		SSL_CTX_set_verify(wc->ssl_ctx, SSL_VERIFY_PEER, NULL);
	} else if (strcmp(scheme, "http") != 0) {
		snprintf(err, errlen, "witness %s: URL \"%s\": only http and "
		    "https", wc->name, url);
		goto out;
	}
	wc->port = evhttp_uri_get_port(uri);
	if (wc->port < 0)
		wc->port = wc->ssl_ctx != NULL ? 443 : 80;
	wc->host = xstrdup(host);
	if (strchr(host, ':') != NULL)
		wc->host_header = xasprintf("[%s]:%d", host, wc->port);
	else
		wc->host_header = xasprintf("%s:%d", host, wc->port);
	path = evhttp_uri_get_path(uri);
	if (path == NULL)
		path = "";
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	wc->path = xasprintf("%.*s%s", (int)plen, path, LEDGER_WITNESS_ADD_PATH);
	/* A name needs the resolver; an address must not wait for one. */
	wc->host_is_ip = evutil_inet_pton(AF_INET, host, &a4) == 1 ||
	    evutil_inet_pton(AF_INET6, host, &a6) == 1;
	if (!wc->host_is_ip) {
		wc->dns = evdns_base_new(wc->srv->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (wc->dns == NULL) {
			snprintf(err, errlen, "witness %s: no DNS resolver for "
			    "%s", wc->name, host);
			goto out;
		}
	}
	rc = 0;
out:
	if (uri != NULL)
		evhttp_uri_free(uri);
	return rc;
}

struct witness_client *
witness_client_new(struct server *srv, const struct witness_client_config *cfg,
    int64_t last_size, witness_cosigned_fn cosigned, void *arg, char *err,
    size_t errlen)
{
	struct witness_client *wc = xcalloc(1, sizeof(*wc));

	wc->srv = srv;
	wc->name = xstrdup(cfg->name);
	wc->key = *cfg->key;
	wc->url = xstrdup(cfg->url);
	wc->timeout_seconds = cfg->timeout_seconds;
	wc->min_backoff_ms = cfg->min_backoff_ms > 0 ? cfg->min_backoff_ms : 1;
	wc->cosigned = cosigned;
	wc->arg = arg;
	if (last_size >= 0) {
		wc->size = (uint64_t)last_size;
		wc->size_known = 1;
		wc->cosigned_size = (uint64_t)last_size;
	}
	if (parse_url(wc, cfg->url, cfg->ca_file, err, errlen) != 0)
		goto fail;
	wc->retry = evtimer_new(srv->base, retry_cb, wc);
	wc->kick = event_new(srv->base, -1, 0, kick_cb, wc);
	if (wc->retry == NULL || wc->kick == NULL)
		fatalx("witness %s: cannot make its events", wc->name);
	return wc;
fail:
	witness_client_free(wc);
	return NULL;
}

void
witness_client_free(struct witness_client *wc)
{
	if (wc == NULL)
		return;
	/* Frees a request under way without calling push_done. */
	if (wc->conn != NULL)
		evhttp_connection_free(wc->conn);
	if (wc->dns != NULL)
		evdns_base_free(wc->dns, 0);
	if (wc->ssl_ctx != NULL)
		SSL_CTX_free(wc->ssl_ctx);
	if (wc->retry != NULL)
		event_free(wc->retry);
	if (wc->kick != NULL)
		event_free(wc->kick);
	free(wc->name);
	free(wc->url);
	free(wc->host);
	free(wc->path);
	free(wc->host_header);
	free(wc->offer);
	free(wc->sent_note);
	free(wc);
}

/* A label value in the exposition format: \\, \" and \n escaped. */
static void
label_value(struct metrics_text *t, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			metrics_printf(t, "\\%c", *v);
		else if (*v == '\n')
			metrics_printf(t, "\\n");
		else
			metrics_printf(t, "%c", *v);
	}
}

void
witness_client_metrics(struct witness_client *const *wcs, size_t n,
    struct metrics_text *t)
{
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "ledgerd_cosigning_pushes_total", "counter",
		    "add-checkpoint requests sent to the witness." },
		{ "ledgerd_cosigning_push_failures_total", "counter",
		    "add-checkpoint requests that brought no cosignature: no "
		    "answer, a timeout, or an error status (409 size "
		    "corrections and alarms aside)." },
		{ "ledgerd_cosigning_alarms_total", "counter",
		    "Answers that show the witness holds a different history: "
		    "422, or a 409 naming the size sent or a size beyond the "
		    "log's." },
		{ "ledgerd_cosigning_tree_size", "gauge",
		    "Tree size of the latest checkpoint the witness cosigned." },
	};
	size_t i, j;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		metrics_printf(t, "# HELP %s %s\n# TYPE %s %s\n", m[i].name,
		    m[i].help, m[i].name, m[i].type);
		for (j = 0; j < n; j++) {
			uint64_t v = i == 0 ? wcs[j]->pushes :
			    i == 1 ? wcs[j]->push_failures :
			    i == 2 ? wcs[j]->alarms : wcs[j]->cosigned_size;
			metrics_printf(t, "%s{witness=\"", m[i].name);
			label_value(t, wcs[j]->name);
			metrics_printf(t, "\"} %" PRIu64 "\n", v);
		}
	}
}
