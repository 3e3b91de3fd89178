/*
 * `ledgerd witness`: the command, the witness key in its data directory,
 * and the HTTP front end of C2SP tlog-witness (POST /add-checkpoint), the
 * monitoring endpoint (GET /<hex SHA-256 of the origin>/checkpoint), the
 * split-view evidence (GET /evidence, /evidence/<id>), /healthz and
 * /metrics.  One event loop; each add-checkpoint is decided and committed
 * in one LMDB write transaction before it is answered (witness_add.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/keyfile.h"
#include "ledger/note.h"
#include "ledger/number.h"
#include "ledger/xmalloc.h"

#include "datadir.h"
#include "http.h"
#include "log.h"
#include "witness.h"

#define TEXT "text/plain; charset=utf-8"

struct witness_server {
	struct witness w;
	struct event_base *base;
	struct evhttp *http;
	int listen_fd;
};

/* ---- keys ---------------------------------------------------------- */

static char *
read_small_file(const char *path)
{
	char buf[1024];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return xstrdup(buf);
}

/*
 * load_key - DIR/witness.key (created with a fresh seed on first start)
 * and DIR/witness.vkey, which binds the key to its name: a witness's name
 * and key never change, since logs and verifiers are configured with both.
 */
static int
load_key(struct witness *w, int *created)
{
	const struct witness_config *cfg = w->cfg;
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_verifier stored;
	char *key_path, *vkey_path, *vkey_text = NULL, *text;
	const char *name = cfg->name;
	char host[200], fallback[256];
	int rc = -1, have_key;

	*created = 0;
	key_path = xasprintf("%s/%s", cfg->data_dir, WITNESS_KEY);
	vkey_path = xasprintf("%s/%s", cfg->data_dir, WITNESS_VKEY);
	have_key = access(key_path, F_OK) == 0;
	if ((vkey_text = read_small_file(vkey_path)) != NULL) {
		if (ledger_verifier_parse(vkey_text, &stored) != 0 ||
		    stored.type != LEDGER_SIGTYPE_COSIGNATURE) {
			log_warnx("%s: not a cosignature verifier key", vkey_path);
			goto out;
		}
		if (name != NULL && strcmp(name, stored.name) != 0) {
			log_warnx("witness name %s differs from %s's %s: a "
			    "witness's name never changes", name, vkey_path,
			    stored.name);
			goto out;
		}
		name = stored.name;
		if (!have_key) {
			log_warnx("%s is missing beside %s: restore it from "
			    "backup; a new key would be a new witness",
			    key_path, vkey_path);
			goto out;
		}
	}
	if (name == NULL) {
		/* Default: <hostname>/witness, a schema-less URL-like name. */
		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(fallback, sizeof(fallback), "%s/witness", host);
		if (!ledger_key_name_valid(fallback))
			snprintf(fallback, sizeof(fallback), "localhost/witness");
		name = fallback;
	}
	if (!have_key) {
		if (ledger_ed25519_generate(seed) != 0 ||
		    ledger_keyfile_write_ed25519(key_path, seed) != 0) {
			log_warn("cannot create %s", key_path);
			goto out;
		}
		*created = 1;
	} else if ((rc = ledger_keyfile_read_ed25519(key_path, seed)) != 0) {
		log_warnx("%s: %s%s", key_path, ledger_strerror(rc),
		    rc == LEDGER_EPERM ? " (chmod 600 it)" : "");
		rc = -1;
		goto out;
	}
	rc = ledger_signer_from_seed(name, LEDGER_SIGTYPE_COSIGNATURE, seed,
	    &w->signer);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc != 0) {
		log_warnx("witness key: %s", ledger_strerror(rc));
		rc = -1;
		goto out;
	}
	rc = -1;
	w->vkey = ledger_verifier_format(ledger_signer_verifier(w->signer));
	if (vkey_text != NULL) {
		if (strcmp(vkey_text, w->vkey) != 0) {
			log_warnx("%s does not match %s", vkey_path, key_path);
			goto out;
		}
	} else {
		text = xasprintf("%s\n", w->vkey);
		if (ledger_file_write_new(vkey_path, text, strlen(text), 0644) != 0) {
			log_warn("cannot write %s", vkey_path);
			free(text);
			goto out;
		}
		free(text);
	}
	rc = 0;
out:
	free(vkey_text);
	free(key_path);
	free(vkey_path);
	return rc;
}

/*
 * check_remembered - every log the witness holds state for must still be
 * configured: a witness that forgot a log could later cosign a fork of
 * what it once cosigned.
 */
static int
check_remembered(struct witness *w)
{
	char **origins = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (wstore_origins(w->store, &origins, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (witness_find_origin(w->cfg, origins[i]) < 0) {
			log_warnx("the witness holds a cosigned checkpoint of "
			    "%s, which is not configured: a witness never "
			    "forgets a log (docs/witness.md); configure its "
			    "key again (--log)", origins[i]);
			rc = -1;
		}
		free(origins[i]);
	}
	free(origins);
	return rc;
}

/* ---- HTTP ---------------------------------------------------------- */

static void
send_answer(struct witness_server *ws, struct evhttp_request *req,
    int status, const char *content_type, const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (buf == NULL)
		fatalx("out of memory");
	if (status >= 0 && status < 600)
		ws->w.metrics.answers[status]++;
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (body != NULL)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
}

static void
send_text(struct witness_server *ws, struct evhttp_request *req, int status,
    const char *msg)
{
	char *body = xasprintf("%s\n", msg);

	send_answer(ws, req, status, TEXT, body, strlen(body));
	free(body);
}

static void
w_route_add(struct witness_server *ws, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct witness_answer a;
	size_t len = evbuffer_get_length(in);
	time_t now = time(NULL);
	char *body;

	/* evhttp refuses longer bodies itself (413); this keeps it local. */
	if (len > ws->w.cfg->max_body) {
		send_text(ws, req, 413, "request body too large");
		return;
	}
	body = xmalloc(len + 1);
	if (evbuffer_copyout(in, body, len) != (ev_ssize_t)len)
		fatalx("evbuffer_copyout");
	body[len] = '\0';
	/* A cosignature's time is never 0 (tlog-witness). */
	witness_add_checkpoint(&ws->w, body, len, now > 0 ? (uint64_t)now : 1,
	    &a);
	send_answer(ws, req, a.status, a.content_type, a.body, a.len);
	free(a.body);
	free(body);
}

/* GET /<64 hex>/checkpoint: the latest checkpoint cosigned for that log. */
static void
w_route_checkpoint(struct witness_server *ws, struct evhttp_request *req,
    const char *hash)
{
	struct wstore_log log;
	size_t i;
	int rc;

	for (i = 0; i < ws->w.cfg->n_logs; i++)
		if (strcmp(ws->w.cfg->logs[i].origin_hash, hash) == 0)
			break;
	if (i == ws->w.cfg->n_logs) {
		send_text(ws, req, 404, "unknown log");
		return;
	}
	rc = wstore_get_log(ws->w.store, ws->w.cfg->logs[i].key.name, &log);
	if (rc == LEDGER_ENOTFOUND) {
		send_text(ws, req, 404, "no checkpoint cosigned yet");
		return;
	}
	if (rc != 0) {
		send_text(ws, req, 500, "internal error");
		return;
	}
	send_answer(ws, req, 200, TEXT, log.note, log.note_len);
	free(log.note);
}

static void
w_route_evidence(struct witness_server *ws, struct evhttp_request *req,
    const char *rest)
{
	uint64_t id;
	size_t len;
	char *doc;
	int rc;

	if (rest == NULL) {
		if ((doc = witness_evidence_list(&ws->w)) == NULL) {
			send_text(ws, req, 500, "internal error");
			return;
		}
		send_answer(ws, req, 200, "application/json", doc, strlen(doc));
		free(doc);
		return;
	}
	if (ledger_parse_u64(rest, strlen(rest), &id) != 0) {
		send_text(ws, req, 404, "no such evidence");
		return;
	}
	rc = wstore_evidence_get(ws->w.store, id, &doc, &len);
	if (rc != 0) {
		send_text(ws, req, rc == LEDGER_ENOTFOUND ? 404 : 500,
		    rc == LEDGER_ENOTFOUND ? "no such evidence" :
		    "internal error");
		return;
	}
	send_answer(ws, req, 200, "application/json", doc, len);
	free(doc);
}

static void
w_route_metrics(struct witness_server *ws, struct evhttp_request *req)
{
	static const int statuses[] = { 200, 400, 403, 404, 405, 409, 413,
	    422, 500, 503 };
	char *text, *next;
	size_t i;

	text = xasprintf("# HELP ledgerd_witness_answers_total Answers by "
	    "status code.\n# TYPE ledgerd_witness_answers_total counter\n");
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		next = xasprintf("%sledgerd_witness_answers_total{code=\"%d\"} %"
		    PRIu64 "\n", text, statuses[i],
		    ws->w.metrics.answers[statuses[i]]);
		free(text);
		text = next;
	}
	next = xasprintf("%s# HELP ledgerd_witness_cosigned_total Checkpoints "
	    "cosigned.\n# TYPE ledgerd_witness_cosigned_total counter\n"
	    "ledgerd_witness_cosigned_total %" PRIu64 "\n"
	    "# HELP ledgerd_witness_evidence Split-view evidence documents "
	    "kept.\n# TYPE ledgerd_witness_evidence gauge\n"
	    "ledgerd_witness_evidence %" PRIu64 "\n"
	    "# HELP ledgerd_witness_logs Log keys configured.\n"
	    "# TYPE ledgerd_witness_logs gauge\nledgerd_witness_logs %zu\n",
	    text, ws->w.metrics.cosigned, wstore_evidence_count(ws->w.store),
	    ws->w.cfg->n_logs);
	free(text);
	send_answer(ws, req, 200, "text/plain; version=0.0.4", next,
	    strlen(next));
	free(next);
}

static int
is_hex64(const char *s, size_t len)
{
	size_t i;

	if (len != 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void
method_not_allowed(struct witness_server *ws, struct evhttp_request *req,
    const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	send_text(ws, req, 405, "method not allowed");
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct witness_server *ws = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	int get = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD;
	size_t len;

	if (path == NULL) {
		send_text(ws, req, 400, "malformed request target");
		return;
	}
	len = strlen(path);
	if (strcmp(path, "/add-checkpoint") == 0) {
		if (method != EVHTTP_REQ_POST)
			method_not_allowed(ws, req, "POST");
		else
			w_route_add(ws, req);
		return;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 ||
	    strcmp(path, "/evidence") == 0 ||
	    strncmp(path, "/evidence/", 10) == 0 ||
	    (len == 64 + 12 && is_hex64(path + 1, 64) &&
	    strcmp(path + 65, "/checkpoint") == 0)) {
		if (!get) {
			method_not_allowed(ws, req, "GET, HEAD");
			return;
		}
		if (strcmp(path, "/healthz") == 0)
			send_text(ws, req, 200, "ok");
		else if (strcmp(path, "/metrics") == 0)
			w_route_metrics(ws, req);
		else if (strcmp(path, "/evidence") == 0)
			w_route_evidence(ws, req, NULL);
		else if (strncmp(path, "/evidence/", 10) == 0)
			w_route_evidence(ws, req, path + 10);
		else {
			char hash[65];

			memcpy(hash, path + 1, 64);
			hash[64] = '\0';
			w_route_checkpoint(ws, req, hash);
		}
		return;
	}
	send_text(ws, req, 404, "not found");
}

static int
http_up(struct witness_server *ws)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];
	unsigned port;

	if ((ws->http = evhttp_new(ws->base)) == NULL)
		return -1;
	evhttp_set_max_body_size(ws->http, ws->w.cfg->max_body);
	evhttp_set_max_headers_size(ws->http, 16 * 1024);
	evhttp_set_timeout(ws->http, ws->w.cfg->timeout_seconds);
	evhttp_set_allowed_methods(ws->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_flags(ws->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(ws->http, dispatch, ws);
	if ((bound = evhttp_accept_socket_with_handle(ws->http,
	    ws->listen_fd)) == NULL)
		return -1;
	ws->listen_fd = -1;	/* evhttp_free() closes it */
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sslen) != 0)
		return -1;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
		log_info("listening on http://[%s]:%u", addr, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
		log_info("listening on http://%s:%u", addr, port);
	}
	return 0;
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct witness_server *ws = arg;

	log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopexit(ws->base, NULL);
}

int
witness_serve(struct witness_config *cfg)
{
	struct witness_server ws;
	struct event *sigterm = NULL, *sigint = NULL;
	char err[512];
	size_t i;
	int lock = -1, created = 0, rc, result = 1;

	memset(&ws, 0, sizeof(ws));
	ws.listen_fd = -1;
	ws.w.cfg = cfg;
	log_route_libevent();
	log_async_start();
	signal(SIGPIPE, SIG_IGN);
	if (http_listen(cfg->listen, &ws.listen_fd, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (datadir_lock(cfg->data_dir, 1, &lock) != 0)
		goto out;	/* logged, naming the holder */
	if (load_key(&ws.w, &created) != 0)
		goto out;	/* logged */
	if ((rc = wstore_open(cfg->data_dir, WITNESS_MAP_SIZE,
	    &ws.w.store)) != 0) {
		log_warnx("cannot open %s/%s: %s", cfg->data_dir, WSTORE_FILE,
		    ledger_strerror(rc));
		goto out;
	}
	if (check_remembered(&ws.w) != 0)
		goto out;
	if ((ws.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	/* Before "listening on" is said, as in server.c. */
	sigterm = evsignal_new(ws.base, SIGTERM, on_stop, &ws);
	sigint = evsignal_new(ws.base, SIGINT, on_stop, &ws);
	if (sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0)
		fatalx("cannot install signal handlers");
	if (http_up(&ws) != 0) {
		log_warnx("http: cannot serve on %s", cfg->listen);
		goto out;
	}
	log_info("ledgerd witness %s%s: verifier key %s",
	    ledger_signer_verifier(ws.w.signer)->name,
	    created ? " (new key)" : "", ws.w.vkey);
	for (i = 0; i < cfg->n_logs; i++)
		log_info("witnessing %s (%s), monitoring path /%s/checkpoint",
		    cfg->logs[i].key.name, cfg->logs[i].vkey,
		    cfg->logs[i].origin_hash);
	printf("ledgerd witness\n  verifier key: %s\n  (also in %s/%s)\n",
	    ws.w.vkey, cfg->data_dir, WITNESS_VKEY);
	fflush(stdout);

	event_base_dispatch(ws.base);
	log_info("stopped");
	result = 0;
out:
	if (ws.http != NULL)
		evhttp_free(ws.http);
	if (ws.listen_fd >= 0)
		close(ws.listen_fd);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (ws.base != NULL)
		event_base_free(ws.base);
	wstore_close(ws.w.store);
	ledger_signer_free(ws.w.signer);
	free(ws.w.vkey);
	datadir_unlock(lock);
	return result;
}
