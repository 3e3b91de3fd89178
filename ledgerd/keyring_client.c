/*
 * ledgerd's side of the key keeper's socket (keyring_impl.h): one frame
 * out and one back per exchange, under keyring.c's lock.  Once the keeper
 * is gone (its end closed, a frame broken, no answer in time) it stays
 * gone: every exchange then fails with KEYRING_EUNAVAILABLE, and nothing
 * is signed until ledgerd is restarted with a new keeper.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "keeper.h"
#include "keeper_proto.h"
#include "keyring_impl.h"
#include "log.h"

/* Long enough for a commit's worth of HMACs on a loaded machine. */
#define KEEPER_TIMEOUT_MS 10000
/* Loading the keys and making the first ones at start. */
#define KEEPER_READY_TIMEOUT_MS 60000

struct keeper_conn {
	int fd;
	pid_t pid;
	int gone;	/* set under the keyring's lock; read also without */
};

/* Marks the keeper gone, once, with the operator's log line. */
static void
conn_lost(struct keeper_conn *c, const char *why)
{
	int status;

	if (c->gone)
		return;
	__atomic_store_n(&c->gone, 1, __ATOMIC_RELEASE);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	/* It may still run (a hung keeper): it holds keys, so it goes. */
	if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	}
	log_errorx("the key keeper (pid %ld) is gone (%s): appends and subject "
	    "queries are refused with 503 keys_unavailable and no checkpoint "
	    "is signed until ledgerd is restarted", (long)c->pid, why);
	c->pid = -1;
}

static int
send_all(struct keeper_conn *c, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(c->fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_all(struct keeper_conn *c, uint8_t *p, size_t len, int timeout_ms)
{
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	ssize_t n;
	int r;

	while (len > 0) {
		if ((r = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;	/* no answer in time, or poll failed */
		if ((n = recv(c->fd, p, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * exchange - sends req (a whole frame) and reads the answer's body (type
 * and payload) into *body (malloc'ed).  KEYRING_EUNAVAILABLE on any failure.
 */
static int
exchange(struct keeper_conn *c, const struct kbuf *req, uint8_t **body,
    size_t *body_len, int timeout_ms)
{
	uint8_t head[4];
	uint32_t len;

	*body = NULL;
	if (c->gone)
		return KEYRING_EUNAVAILABLE;
	if (req != NULL && send_all(c, req->p, req->len) != 0) {
		conn_lost(c, strerror(errno));
		return KEYRING_EUNAVAILABLE;
	}
	if (recv_all(c, head, sizeof(head), timeout_ms) != 0) {
		conn_lost(c, "no answer");
		return KEYRING_EUNAVAILABLE;
	}
	len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
	    (uint32_t)head[2] << 8 | head[3];
	if (len == 0 || len > KEEPER_REPLY_MAX) {
		conn_lost(c, "a malformed answer");
		return KEYRING_EUNAVAILABLE;
	}
	*body = xmalloc(len);
	if (recv_all(c, *body, len, timeout_ms) != 0) {
		free(*body);
		*body = NULL;
		conn_lost(c, "a cut answer");
		return KEYRING_EUNAVAILABLE;
	}
	*body_len = len;
	return LEDGER_OK;
}

int
keeper_conn_start(const struct config *cfg, struct keeper_conn **out,
    struct ledger_verifier *v)
{
	struct keeper_conn *c = xcalloc(1, sizeof(*c));
	uint8_t *body = NULL;
	size_t len = 0;
	char *text = NULL;
	int rc, keeper_rc;

	*out = NULL;
	if ((rc = keeper_spawn(cfg, &c->fd, &c->pid)) != 0) {
		free(c);
		return rc;
	}
	if ((rc = exchange(c, NULL, &body, &len, KEEPER_READY_TIMEOUT_MS)) != 0)
		goto fail;
	rc = LEDGER_EINVAL;
	if (keeper_decode_rc_reply(body, len, KEEPER_READY, &keeper_rc,
	    &text) != 0)
		goto fail;
	if ((rc = keeper_rc) != 0)
		goto fail;	/* the keeper logged why */
	if (text == NULL || ledger_verifier_parse(text, v) != 0) {
		rc = LEDGER_EINVAL;
		goto fail;
	}
	log_info("key keeper started (pid %ld)", (long)c->pid);
	*out = c;
	c = NULL;
fail:
	free(body);
	free(text);
	if (c != NULL) {
		keeper_conn_free(c);
		log_warnx("the key keeper could not open the keys");
	}
	return rc;
}

void
keeper_conn_free(struct keeper_conn *c)
{
	int status;

	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);	/* the keeper reads the end and exits */
	if (c->pid > 0) {
		for (int i = 0; i < 200; i++) {
			if (waitpid(c->pid, &status, WNOHANG) != 0)
				goto out;
			usleep(10000);
		}
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	}
out:
	free(c);
}

int
keeper_conn_known_gone(const struct keeper_conn *c)
{
	return __atomic_load_n(&c->gone, __ATOMIC_ACQUIRE);
}

int
keeper_conn_alive(struct keeper_conn *c)
{
	struct pollfd pfd;

	if (c->gone)
		return 0;
	/*
	 * The keeper never speaks unasked and exchanges hold the lock: a
	 * readable or hung-up socket now means it is gone.
	 */
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 0) {
		conn_lost(c, "its socket ended");
		return 0;
	}
	return 1;
}

int
keeper_conn_run(struct keeper_conn *c, struct keyring_op *ops, size_t n)
{
	struct kbuf req = { NULL, 0, 0 };
	uint8_t *body = NULL;
	size_t len = 0;
	int rc;

	if ((rc = keeper_encode_run(ops, n, &req)) != 0)
		goto out;
	if ((rc = exchange(c, &req, &body, &len, KEEPER_TIMEOUT_MS)) != 0)
		goto out;
	if (keeper_decode_run_reply(body, len, ops, n) != 0) {
		conn_lost(c, "a malformed answer");
		rc = KEYRING_EUNAVAILABLE;
	}
out:
	kbuf_free(&req);
	free(body);
	return rc;
}

int
keeper_conn_periods(struct keeper_conn *c, struct keyring_periods *out)
{
	struct kbuf req = { NULL, 0, 0 };
	uint8_t *body = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	keeper_encode_periods(&req);
	if ((rc = exchange(c, &req, &body, &len, KEEPER_TIMEOUT_MS)) == 0)
		rc = keeper_decode_periods_reply(body, len, out);
	if (rc == LEDGER_EINVAL) {
		conn_lost(c, "a malformed answer");
		rc = KEYRING_EUNAVAILABLE;
	}
	kbuf_free(&req);
	free(body);
	return rc;
}

int
keeper_conn_destroy(struct keeper_conn *c, const char *period)
{
	struct kbuf req = { NULL, 0, 0 };
	uint8_t *body = NULL;
	size_t len = 0;
	int rc, keeper_rc;

	if ((rc = keeper_encode_destroy(period, &req)) != 0)
		goto out;
	if ((rc = exchange(c, &req, &body, &len, KEEPER_TIMEOUT_MS)) != 0)
		goto out;
	if (keeper_decode_rc_reply(body, len, KEEPER_DESTROY_REPLY, &keeper_rc,
	    NULL) != 0) {
		conn_lost(c, "a malformed answer");
		rc = KEYRING_EUNAVAILABLE;
	} else
		rc = keeper_rc;
out:
	kbuf_free(&req);
	free(body);
	return rc;
}
