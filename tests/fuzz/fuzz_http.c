/*
 * Fuzzes the daemon's HTTP handling: the whole front end (evhttp, routing,
 * authentication, every route, the writer and LMDB) runs in this process
 * on a fresh development-mode data directory, and each input is sent as
 * raw bytes over a loopback connection, then half-closed.  The loop runs
 * until the server closes the connection, at most a few seconds.  Answers
 * must be HTTP and never a 500; the daemon must never crash or leak.
 * "Authorization: Bearer fuzz" authenticates as the development principal.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "ledger/hash.h"

#include "../../ledgerd/config.h"
#include "../../ledgerd/keeper.h"
#include "../../ledgerd/keyring_impl.h"
#include "../../ledgerd/http.h"
#include "../../ledgerd/log.h"
#include "../../ledgerd/server.h"
#include "../../ledgerd/store.h"
#include "../../ledgerd/workers.h"
#include "../../ledgerd/writer.h"

#include "fuzz.h"

#define INPUT_MAX (64 * 1024)
#define INPUT_SECONDS 3		/* bound on one input's exchange */
#define FUZZ_TOKEN "fuzz"

static struct server srv;
static unsigned port;
static char data_dir[64];

/* One exchange: the bytes to send, what came back, whether it ended. */
struct exchange {
	const uint8_t *data;
	size_t size, sent;
	char reply[512];	/* the start of the answer */
	size_t reply_len;
	int fd, done, timed_out;
	struct event *wev, *rev, *timer;
};

static void
find_port(struct evhttp_bound_socket *bound, void *arg)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* The data directory goes when libFuzzer exits (its database can be large). */
static void
remove_data_dir(void)
{
	nftw(data_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t token_hash[LEDGER_HASH_LEN];
	struct config *cfg;
	struct keystore *ks;
	char err[512];

	/* tmpfs when there is one: each append is a synced commit. */
	snprintf(data_dir, sizeof(data_dir), "/dev/shm/ledgerd-fuzz-XXXXXX");
	if (mkdtemp(data_dir) == NULL) {
		snprintf(data_dir, sizeof(data_dir), "/tmp/ledgerd-fuzz-XXXXXX");
		if (mkdtemp(data_dir) == NULL)
			abort();
	}
	atexit(remove_data_dir);
	log_set_level(LOG_LEVEL_ERROR);
	if (evthread_use_pthreads() != 0)
		abort();
	if ((cfg = config_load(NULL, err, sizeof(err))) == NULL ||
	    config_apply_flags(cfg, data_dir, "127.0.0.1:0", err, sizeof(err)) != 0 ||
	    config_finish(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_http: config: %s\n", err);
		abort();
	}
	/* Small limits keep an input's work small. */
	cfg->limits.max_body = INPUT_MAX;
	cfg->limits.timeout_seconds = INPUT_SECONDS;
	cfg->limits.map_size = 1ULL << 30;
	srv.cfg = cfg;
	srv.started_us = server_now_us();
	/* The keys in this process: a fuzzer forks no key keeper. */
	if (keeper_load(data_dir, cfg, 1, &ks) != 0 ||
	    (srv.keyring = keyring_open_local(ks)) == NULL)
		abort();
	srv.verifier = *keyring_verifier(srv.keyring);
	srv.verifier_text = keyring_verifier_text(srv.keyring);
	srv.period_kind = LEDGER_PERIOD_QUARTER;
	if (ledger_sha256(FUZZ_TOKEN, strlen(FUZZ_TOKEN), token_hash) != 0)
		abort();
	config_add_dev_principal(cfg, token_hash);
	if (store_open(data_dir, cfg->limits.map_size, 0, &srv.store) != 0 ||
	    (srv.base = event_base_new()) == NULL ||
	    (srv.writer = writer_start(&srv, srv.base)) == NULL ||
	    (srv.workers = workers_start(srv.base, cfg->limits.workers,
	    cfg->limits.max_queued_jobs)) == NULL ||
	    http_listen(cfg->listen, &srv.listen_fd, err, sizeof(err)) != 0 ||
	    http_start(&srv) != 0)
		abort();
	evhttp_foreach_bound_socket(srv.http, find_port, NULL);
	if (port == 0)
		abort();
	fprintf(stderr, "fuzz_http: ledgerd on 127.0.0.1:%u, data in %s\n", port,
	    data_dir);
	return 0;
}

static void
on_client(evutil_socket_t fd, short what, void *arg)
{
	struct exchange *x = arg;
	char buf[4096];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		x->timed_out = x->done = 1;
		return;
	}
	if ((what & EV_WRITE) && x->sent < x->size) {
		n = send(fd, x->data + x->sent, x->size - x->sent, MSG_NOSIGNAL);
		if (n > 0)
			x->sent += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			x->sent = x->size;	/* the server closed early */
		if (x->sent == x->size) {
			shutdown(fd, SHUT_WR);
			event_del(x->wev);
		}
		return;
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		size_t keep = sizeof(x->reply) - 1 - x->reply_len;

		if ((size_t)n < keep)
			keep = (size_t)n;
		memcpy(x->reply + x->reply_len, buf, keep);
		x->reply_len += keep;
	}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		x->done = 1;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	on_client(-1, EV_TIMEOUT, arg);
}

/*
 * Reads the status line at the start of an answer (RFC 9112 §4:
 * HTTP-version SP 3DIGIT SP reason-phrase CRLF).
 *	version	out: the version token, NUL-terminated (cut to its size)
 * Returns the status, or -1 when the line is not a status line.
 */
static int
status_line(const char *reply, size_t len, char *version, size_t vlen)
{
	const char *sp = memchr(reply, ' ', len);
	size_t n;

	if (sp == NULL || (size_t)(sp - reply) < 5 ||
	    memcmp(reply, "HTTP/", 5) != 0 || (size_t)(sp - reply) + 4 >= len)
		return -1;
	n = (size_t)(sp - reply) < vlen - 1 ? (size_t)(sp - reply) : vlen - 1;
	memcpy(version, reply, n);
	version[n] = '\0';
	if (sp[1] < '1' || sp[1] > '5' || sp[2] < '0' || sp[2] > '9' ||
	    sp[3] < '0' || sp[3] > '9' || (sp[4] != ' ' && sp[4] != '\r'))
		return -1;
	return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

/*
 * The first answer is HTTP with a status that is not a server error.  An
 * answer of the daemon's routes (JSON) is in HTTP/1.0 or 1.1 whatever the
 * request's version; evhttp's own refusals of a request line it cannot
 * read (HTML: an unknown method, 501) repeat the version asked, which may
 * be anything "HTTP/%d.%d" reads ("HTTP/1.-30"), so only their status is
 * checked.
 */
static void
check_reply(const struct exchange *x)
{
	const char *end;
	char version[16];
	int status;

	if (x->reply_len == 0)
		return;		/* closed without an answer: broken input */
	status = status_line(x->reply, x->reply_len, version, sizeof(version));
	FUZZ_ASSERT(status >= 100 && status < 600);
	FUZZ_ASSERT(status != 500);
	end = memmem(x->reply, x->reply_len, "\r\n\r\n", 4);
	if (end != NULL && memmem(x->reply, (size_t)(end - x->reply),
	    "application/json", 16) != NULL)
		FUZZ_ASSERT(strcmp(version, "HTTP/1.1") == 0 ||
		    strcmp(version, "HTTP/1.0") == 0);
}

/*
 * A new connection to the daemon, or -1.  Thousands of inputs a second
 * would leave as many sockets in TIME_WAIT and use up the ephemeral ports,
 * so the client closes with a reset (SO_LINGER 0), leaving none.  A
 * connect that still fails is the machine's trouble, not the daemon's: it
 * is retried for a while, then the input is skipped, never reported.
 */
static int
connect_daemon(void)
{
	struct linger reset = { 1, 0 };
	struct sockaddr_in sin;
	int fd, attempt;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (attempt = 0; attempt < 100; attempt++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
			if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset,
			    sizeof(reset)) == 0 && connect(fd,
			    (struct sockaddr *)&sin, sizeof(sin)) == 0)
				return fd;
			close(fd);
		}
		usleep(10000);
	}
	fprintf(stderr, "fuzz_http: cannot connect to the daemon: %s; input "
	    "skipped\n", strerror(errno));
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exchange x;
	struct timeval bound = { INPUT_SECONDS, 0 };
	int settle;

	if (size > INPUT_MAX)
		return -1;
	memset(&x, 0, sizeof(x));
	x.data = data;
	x.size = size;
	if ((x.fd = connect_daemon()) == -1)
		return 0;
	evutil_make_socket_nonblocking(x.fd);
	x.wev = event_new(srv.base, x.fd, EV_WRITE | EV_PERSIST, on_client, &x);
	x.rev = event_new(srv.base, x.fd, EV_READ | EV_PERSIST, on_client, &x);
	x.timer = evtimer_new(srv.base, on_timer, &x);
	if (size == 0)
		shutdown(x.fd, SHUT_WR);
	else
		event_add(x.wev, NULL);
	event_add(x.rev, NULL);
	evtimer_add(x.timer, &bound);
	while (!x.done)
		event_base_loop(srv.base, EVLOOP_ONCE);
	event_free(x.wev);
	event_free(x.rev);
	event_free(x.timer);
	close(x.fd);
	check_reply(&x);
	/*
	 * Let the writer and the workers finish what the input queued, and
	 * deliver it.
	 */
	for (settle = 0; settle < 200 && (writer_queue_depth(srv.writer) > 0 ||
	    workers_in_progress(srv.workers) > 0); settle++) {
		usleep(1000);
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
	}
	event_base_loop(srv.base, EVLOOP_NONBLOCK);
	return 0;
}
