/*
 * Load generator for ledgerd: realistic events over keep-alive HTTP/1.1
 * connections, one request in flight per connection, on one libevent loop.
 *
 *	load --url http://127.0.0.1:8080 --token TOKEN [--connections 64]
 *	     [--seconds 10] [--batch N] [--rate EVENTS_PER_S] [--wait]
 *	     [--get PATH] [--org ORG]
 *	load --url https://127.0.0.1:8443 --cacert CA.pem [--cert C.pem
 *	     --key C.key] [--token TOKEN] ...
 *
 * --batch N posts N events per request to /v1/events/batch (NDJSON);
 * --rate paces requests to a fixed event rate instead of as fast as
 * possible; --wait asks for ?wait=checkpoint.  Prints events/s, requests/s
 * and latency percentiles; non-2xx answers are counted and reported.
 *
 * Paced latency counts from when a request was due, not from when it was
 * sent: while the server stalls, every connection waits on its answer and
 * the requests that fall due meanwhile go out late, so latency from the
 * send would leave the stall out of all but 64 of them (coordinated
 * omission).  Those requests are sent as soon as a connection is free,
 * however far behind, and the time from the send is printed beside.
 * The pacer sends each request when it falls due, on a precise timer,
 * not at the ticks of a coarser clock, so that its own delays stay out of
 * the figures (send_due).
 * --get PATH sends GETs instead (a baseline: what HTTP alone costs here).
 * --org ORG makes every event an act of ORG (a writer outside development
 * mode may only post for its own org).  An https URL speaks TLS through
 * bufferevent_openssl, checking the server against --cacert and showing
 * --cert/--key as the client certificate (mutual TLS; no token needed when
 * the certificate names a writer).  Connections are made and, for TLS,
 * handshaken before the clock starts, so the figures compare requests on
 * kept-alive connections.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ledger/xmalloc.h"

#include "events.h"


struct conn;

struct load {
	struct event_base *base;
	struct sockaddr_in addr;
	const char *host_header;
	const char *token;		/* NULL: no Authorization header */
	const char *org;		/* --org: every event's actor.org */
	SSL_CTX *ssl_ctx;		/* https: the client context */
	int handshaking;		/* TLS connections not yet up */
	int batch;
	int wait;
	const char *get_path;		/* --get: baseline GETs instead of appends */
	double rate;			/* events/s, 0 = unpaced */
	double deadline;
	uint64_t rng;
	uint64_t requests, events, errors, status_counts[6];
	double *latencies;		/* from when due (paced) or sent */
	double *service;		/* from when sent (paced only) */
	size_t n_lat, cap_lat;
	struct conn *conns;
	int n_conns;
	double next_send;		/* paced mode: when the next request is due */
	struct event *pacer;
	int stopping;
};

struct conn {
	struct load *ld;
	struct bufferevent *bev;
	double sent_at;
	double due_at;			/* paced: when its request fell due */
	int busy;
	int id;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
next_rand(struct load *ld)
{
	ld->rng ^= ld->rng << 13;
	ld->rng ^= ld->rng >> 7;
	ld->rng ^= ld->rng << 17;
	return ld->rng;
}

/* The next event of this load's sequence. */
static int
make_event(struct load *ld, char *buf, size_t cap)
{
	return bench_event(next_rand(ld), ld->org, buf, cap);
}

/* "Authorization: Bearer TOKEN\r\n", or nothing without a token. */
static void
add_auth(struct load *ld, struct evbuffer *out)
{
	if (ld->token != NULL)
		evbuffer_add_printf(out, "Authorization: Bearer %s\r\n",
		    ld->token);
}

static void
send_request(struct conn *c)
{
	struct load *ld = c->ld;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *body;
	size_t len = 0;

	if (ld->get_path != NULL) {
		evbuffer_add_printf(out, "GET %s HTTP/1.1\r\nHost: %s\r\n",
		    ld->get_path, ld->host_header);
		add_auth(ld, out);
		evbuffer_add(out, "\r\n", 2);
		c->busy = 1;
		c->sent_at = now();
		return;
	}
	body = xmalloc((size_t)ld->batch * 1024 + 16);

	for (int i = 0; i < ld->batch; i++) {
		len += (size_t)make_event(ld, body + len, 1000);
		if (ld->batch > 1)
			body[len++] = '\n';
	}
	evbuffer_add_printf(out, "POST %s%s HTTP/1.1\r\nHost: %s\r\n",
	    ld->batch > 1 ? "/v1/events/batch" : "/v1/events",
	    ld->wait ? "?wait=checkpoint" : "", ld->host_header);
	add_auth(ld, out);
	evbuffer_add_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
	    ld->batch > 1 ? "application/x-ndjson" : "application/json", len);
	evbuffer_add(out, body, len);
	free(body);
	c->busy = 1;
	c->sent_at = now();
}

static void
record(struct load *ld, const struct conn *c)
{
	double t = now();

	if (ld->n_lat == ld->cap_lat) {
		ld->cap_lat = ld->cap_lat ? ld->cap_lat * 2 : 65536;
		ld->latencies = xrealloc(ld->latencies, ld->cap_lat * sizeof(double));
		ld->service = xrealloc(ld->service, ld->cap_lat * sizeof(double));
	}
	ld->service[ld->n_lat] = t - c->sent_at;
	ld->latencies[ld->n_lat++] = t - (ld->rate > 0 ? c->due_at : c->sent_at);
}

static void maybe_send(struct conn *c);

/* Parses as many complete responses as the input holds. */
static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct load *ld = c->ld;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0)
			return;
		size_t head_len = (size_t)end.pos + 4;
		char *head = xmalloc(head_len + 1);
		evbuffer_copyout(in, head, head_len);
		head[head_len] = '\0';
		int status = 0;
		sscanf(head, "HTTP/1.%*d %d", &status);
		const char *cl = strcasestr(head, "\r\nContent-Length:");
		size_t body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;
		free(head);
		if (evbuffer_get_length(in) < head_len + body_len)
			return;
		if ((status < 200 || status >= 300) && ld->errors == 0) {
			/* The first refusal says why; the rest are counted. */
			char *err = xmalloc(head_len + body_len + 1);

			evbuffer_copyout(in, err, head_len + body_len);
			err[head_len + body_len] = '\0';
			fprintf(stderr, "load: first non-2xx answer: %s\n",
			    err + head_len);
			free(err);
		}
		evbuffer_drain(in, head_len + body_len);

		ld->requests++;
		if (status >= 200 && status < 300)
			ld->events += (uint64_t)ld->batch;
		else
			ld->errors++;
		ld->status_counts[status / 100 < 6 ? status / 100 : 0]++;
		record(ld, c);
		c->busy = 0;
		maybe_send(c);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		/* TLS is up: the run starts once every connection is. */
		if (--c->ld->handshaking == 0)
			event_base_loopbreak(c->ld->base);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		while ((e = bufferevent_get_openssl_error(bev)) != 0)
			fprintf(stderr, "load: connection %d: TLS: %s\n", c->id,
			    ERR_reason_error_string(e));
		fprintf(stderr, "load: connection %d closed\n", c->id);
		if (c->ld->handshaking > 0 && --c->ld->handshaking == 0)
			event_base_loopbreak(c->ld->base);
		c->ld->errors++;
		bufferevent_free(bev);
		c->bev = NULL;
	}
}

static void send_due(struct load *ld);

static void
maybe_send(struct conn *c)
{
	struct load *ld = c->ld;

	if (c->bev == NULL || c->busy)
		return;
	if (now() >= ld->deadline) {
		if (!ld->stopping) {
			ld->stopping = 1;
			event_base_loopexit(ld->base, NULL);
		}
		return;
	}
	if (ld->rate > 0)
		send_due(ld);	/* a request may have waited for a free connection */
	else
		send_request(c);
}

/*
 * Paced mode: sends every request that is due on idle connections, then
 * arms the pacer for exactly when the next one falls due.  The base keeps
 * precise timers (timerfd), so a request goes out when due rather than at
 * the next tick of a coarse clock, and a connection that frees up takes a
 * request that waited for one at once (maybe_send): what the figures show
 * of waiting is the server's, not the pacer's.
 */
static void
send_due(struct load *ld)
{
	double t = now();

	if (t >= ld->deadline) {
		event_base_loopexit(ld->base, NULL);
		return;
	}
	for (int i = 0; i < ld->n_conns && ld->next_send <= t; i++) {
		struct conn *c = &ld->conns[i];
		if (c->bev == NULL || c->busy)
			continue;
		send_request(c);
		c->due_at = ld->next_send;
		ld->next_send += ld->batch / ld->rate;
	}
	double wait = ld->next_send - t;
	if (wait < 0)
		return;		/* every connection busy: the next answer sends */
	struct timeval tv = { (time_t)wait, (suseconds_t)((wait - (double)(time_t)wait) * 1e6) };
	event_add(ld->pacer, &tv);
}

static void
on_pace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_due(arg);
}

/* The client side of mutual TLS: the server checked against cacert. */
static SSL_CTX *
client_ctx(const char *cacert, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx,
	    TLS1_2_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, cacert, NULL) != 1 ||
	    (cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx,
	    cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) != 1))) {
		fprintf(stderr, "load: TLS setup: %s\n",
		    ERR_reason_error_string(ERR_get_error()));
		exit(1);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* A connected socket (blocking connect: setup, not the measured part). */
static int
connect_to(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, (const struct sockaddr *)addr,
	    sizeof(*addr)) != 0) {
		perror("load: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	return fd;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
percentile(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1));
	return v[i];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "connections", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rate", required_argument, NULL, 'r' },
		{ "wait", no_argument, NULL, 'w' },
		{ "get", required_argument, NULL, 'g' },
		{ "org", required_argument, NULL, 'o' },
		{ "cacert", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cacert = NULL, *cert = NULL, *key = NULL;
	int tls;
	struct load ld;
	const char *url = "http://127.0.0.1:8080";
	double seconds = 10;
	char host[256];
	unsigned port;
	int ch;

	memset(&ld, 0, sizeof(ld));
	ld.n_conns = 64;
	ld.batch = 1;
	ld.rng = 0x9E3779B97F4A7C15ULL;
	while ((ch = getopt_long(argc, argv, "u:t:c:s:b:r:wg:o:A:C:K:", opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 't': ld.token = optarg; break;
		case 'c': ld.n_conns = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'b': ld.batch = atoi(optarg); break;
		case 'r': ld.rate = atof(optarg); break;
		case 'w': ld.wait = 1; break;
		case 'g': ld.get_path = optarg; break;
		case 'o': ld.org = optarg; break;
		case 'A': cacert = optarg; break;
		case 'C': cert = optarg; break;
		case 'K': key = optarg; break;
		default:
			fprintf(stderr, "usage: load --url URL [--token TOKEN] "
			    "[--connections N] [--seconds S] [--batch N] [--rate R] "
			    "[--wait] [--get PATH] [--org ORG] [--cacert CA "
			    "[--cert CERT --key KEY]]\n");
			return 2;
		}
	}
	tls = strncmp(url, "https://", 8) == 0;
	if (ld.n_conns < 1 || ld.batch < 1 || (cert == NULL) != (key == NULL) ||
	    sscanf(url, tls ? "https://%255[^:]:%u" : "http://%255[^:]:%u",
	    host, &port) != 2 || (tls && cacert == NULL) ||
	    (ld.token == NULL && cert == NULL)) {
		fprintf(stderr, "load: need a URL http[s]://HOST:PORT, --token "
		    "or --cert and --key, and --cacert for https\n");
		return 2;
	}
	ld.host_header = url + (tls ? 8 : 7);
	if (tls)
		ld.ssl_ctx = client_ctx(cacert, cert, key);
	ld.addr.sin_family = AF_INET;
	ld.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
	    &ld.addr.sin_addr) != 1) {
		fprintf(stderr, "load: %s is not an IPv4 address\n", host);
		return 2;
	}
	struct event_config *cfg = event_config_new();

	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	ld.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	ld.conns = xcalloc((size_t)ld.n_conns, sizeof(struct conn));
	for (int i = 0; i < ld.n_conns; i++) {
		struct conn *c = &ld.conns[i];
		int fd = connect_to(&ld.addr);

		c->ld = &ld;
		c->id = i;
		if (tls) {
			SSL *ssl = SSL_new(ld.ssl_ctx);

			/* The server's certificate must name the address dialled. */
			if (ssl == NULL || X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(ssl), host) != 1) {
				fprintf(stderr, "load: SSL_new / %s\n", host);
				return 1;
			}
			c->bev = bufferevent_openssl_socket_new(ld.base, fd, ssl,
			    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
			ld.handshaking++;
		} else
			c->bev = bufferevent_socket_new(ld.base, fd,
			    BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	}
	/* Handshakes first, so the run measures kept-alive requests only. */
	if (ld.handshaking > 0)
		event_base_dispatch(ld.base);
	double start = now();
	ld.deadline = start + seconds;
	ld.next_send = start;
	for (int i = 0; i < ld.n_conns; i++)
		if (ld.rate == 0 && ld.conns[i].bev != NULL)
			send_request(&ld.conns[i]);
	if (ld.rate > 0) {
		ld.pacer = evtimer_new(ld.base, on_pace, &ld);
		send_due(&ld);
	}
	event_base_dispatch(ld.base);
	double elapsed = now() - start;

	qsort(ld.latencies, ld.n_lat, sizeof(double), cmp_double);
	printf("connections %d, batch %d, %s%s, %.1f s\n", ld.n_conns, ld.batch,
	    ld.rate > 0 ? "paced" : "unpaced", ld.wait ? ", wait=checkpoint" : "",
	    elapsed);
	if (ld.rate > 0)
		printf("target rate: %.0f events/s\n", ld.rate);
	printf("events/s: %.0f\nrequests/s: %.0f\n", ld.events / elapsed,
	    ld.requests / elapsed);
	printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
	    percentile(ld.latencies, ld.n_lat, 0.50) * 1e3,
	    percentile(ld.latencies, ld.n_lat, 0.90) * 1e3,
	    percentile(ld.latencies, ld.n_lat, 0.99) * 1e3,
	    ld.n_lat ? ld.latencies[ld.n_lat - 1] * 1e3 : 0);
	if (ld.rate > 0) {
		qsort(ld.service, ld.n_lat, sizeof(double), cmp_double);
		printf("from the send ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
		    percentile(ld.service, ld.n_lat, 0.50) * 1e3,
		    percentile(ld.service, ld.n_lat, 0.90) * 1e3,
		    percentile(ld.service, ld.n_lat, 0.99) * 1e3,
		    ld.n_lat ? ld.service[ld.n_lat - 1] * 1e3 : 0);
	}
	printf("answers: 2xx %llu, 4xx %llu, 5xx %llu, errors %llu\n",
	    (unsigned long long)ld.status_counts[2], (unsigned long long)ld.status_counts[4],
	    (unsigned long long)ld.status_counts[5], (unsigned long long)ld.errors);
	for (int i = 0; i < ld.n_conns; i++)
		if (ld.conns[i].bev != NULL)
			bufferevent_free(ld.conns[i].bev);
	if (ld.pacer != NULL)
		event_free(ld.pacer);
	event_base_free(ld.base);
	SSL_CTX_free(ld.ssl_ctx);
	free(ld.conns);
	free(ld.latencies);
	free(ld.service);
	return ld.errors ? 1 : 0;
}
