/*
 * The key keeper process: forked by `ledgerd serve`, it reads the keys,
 * says READY with the log's verifier, confines itself and then answers one
 * frame at a time until ledgerd closes its end.  Any malformed frame ends
 * it: ledgerd then refuses what needs keys, and never signs without them.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ledger/error.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "datadir.h"
#include "keeper.h"
#include "keeper_proto.h"
#include "keystore.h"
#include "log.h"
#include "sandbox.h"

int
keeper_load(const char *dir, const struct config *cfg, int create,
    struct keystore **out)
{
	struct datadir_keys keys;
	int rc;

	*out = NULL;
	if ((rc = datadir_open(dir, cfg, create, &keys)) != 0)
		return rc;
	rc = keystore_open(dir, create, keys.signer, keys.has_subject_key ?
	    keys.subject_key : NULL, out);
	keys.signer = NULL;	/* the keystore's now, also on failure */
	datadir_keys_free(&keys);
	return rc;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes; 1 at a clean end before the first byte. */
static int
read_all(int fd, uint8_t *p, size_t len, int eof_ok)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return got == 0 && eof_ok ? 1 : -1;
		got += (size_t)n;
	}
	return 0;
}

/*
 * Runs OpenSSL's first-use paths (provider and algorithm lookups, the
 * DRBG's seeding) before the sandbox closes the files they read.
 */
static void
warm_up(struct keystore *ks)
{
	uint8_t secret[LEDGER_PERIOD_SECRET_LEN] = { 0 }, key[32];
	struct keyring_op op;

	ledger_period_token_key(secret, key);
	ledger_period_seal_key(secret, key);
	OPENSSL_cleanse(key, sizeof(key));
	RAND_priv_bytes(key, sizeof(key));
	RAND_bytes(key, sizeof(key));
	memset(&op, 0, sizeof(op));
	op.kind = KEYRING_SIGN;
	op.msg = "warm-up";
	op.msg_len = 7;
	keystore_run(ks, &op, 1);
}

/* Answers one decoded request into reply. */
static void
serve_one(struct keystore *ks, struct keeper_request *req, struct kbuf *reply)
{
	struct keyring_periods periods;
	int rc;

	switch (req->type) {
	case KEEPER_RUN:
		keystore_run(ks, req->ops, req->n);
		keeper_encode_run_reply(req->ops, req->n, reply);
		keyring_op_release(req->ops, req->n);
		break;
	case KEEPER_PERIODS:
		rc = keystore_periods(ks, &periods);
		keeper_encode_periods_reply(rc, &periods, reply);
		keyring_periods_free(&periods);
		break;
	default:
		rc = keystore_destroy(ks, req->period);
		keeper_encode_rc_reply(KEEPER_DESTROY_REPLY, rc, reply);
		break;
	}
}

/* The keeper's loop: one frame in, one frame out, until the socket ends. */
static int
serve(int fd, struct keystore *ks)
{
	struct keeper_request req;
	struct kbuf reply = { NULL, 0, 0 };
	uint8_t head[4], *body = NULL;
	uint32_t len = 0;
	int rc, result = 1;

	for (;;) {
		if ((rc = read_all(fd, head, sizeof(head), 1)) == 1) {
			result = 0;	/* ledgerd is gone or stopping */
			break;
		}
		if (rc != 0) {
			log_warn("keeper: read");
			break;
		}
		len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
		    (uint32_t)head[2] << 8 | head[3];
		if (len == 0 || len > KEEPER_FRAME_MAX) {
			log_warnx("keeper: a frame of %u bytes; stopping", len);
			break;
		}
		body = xmalloc(len);
		if (read_all(fd, body, len, 0) != 0) {
			log_warn("keeper: read");
			break;
		}
		if (keeper_request_decode(body, len, &req) != 0) {
			log_warnx("keeper: a malformed request (type %u, %u "
			    "bytes); stopping", body[0], len);
			break;
		}
		serve_one(ks, &req, &reply);
		keeper_request_free(&req);
		/* Requests hold identifiers and values: not kept around. */
		OPENSSL_cleanse(body, len);
		free(body);
		body = NULL;
		rc = write_all(fd, reply.p, reply.len);
		OPENSSL_cleanse(reply.p, reply.len);
		if (rc != 0) {
			log_warn("keeper: write");
			break;
		}
	}
	if (body != NULL) {
		OPENSSL_cleanse(body, len);
		free(body);
	}
	kbuf_free(&reply);
	return result;
}

/* The child's life: never returns. */
static void __attribute__((noreturn))
keeper_main(int fd, const struct config *cfg)
{
	struct keystore *ks = NULL;
	struct kbuf ready = { NULL, 0, 0 };
	char *keys_dir, *verifier = NULL;
	int rc, landlocked = 0, status = 1;

	/* No core dump, no ptrace by the daemon's uid: the keys stay here. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NAME, "ledgerd-keeper", 0, 0, 0);
	/*
	 * ledgerd decides when the keeper ends (by closing the socket), so
	 * that a stop signal sent to the whole group lets ledgerd's last
	 * commits still be signed.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	keys_dir = xasprintf("%s/%s", cfg->data_dir, DATADIR_KEYS);
	rc = keeper_load(cfg->data_dir, cfg, 1, &ks);
	if (rc == 0) {
		warm_up(ks);
		verifier = ledger_verifier_format(keystore_verifier(ks));
		if (sandbox_keeper(keys_dir, &landlocked) != 0)
			rc = LEDGER_EPERM;
	}
	keeper_encode_ready(rc, verifier, &ready);
	if (write_all(fd, ready.p, ready.len) != 0 || rc != 0)
		goto out;
	log_info("keeper: holding the log's keys (pid %ld; %s%s)",
	    (long)getpid(), SANDBOX_SECCOMP ? "seccomp" : "no seccomp",
	    landlocked ? ", Landlock on DIR/keys" :
	    ", no Landlock in this kernel");
	status = serve(fd, ks);
out:
	kbuf_free(&ready);
	free(verifier);
	free(keys_dir);
	keystore_free(ks);
	_exit(status);
}

int
keeper_spawn(const struct config *cfg, int *fd, pid_t *pid)
{
	int sv[2];
	pid_t child;

	*fd = -1;
	*pid = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("keeper: socketpair");
		return LEDGER_EIO;
	}
	fflush(stdout);
	fflush(stderr);
	if ((child = fork()) == -1) {
		log_warn("keeper: fork");
		close(sv[0]);
		close(sv[1]);
		return LEDGER_EIO;
	}
	if (child == 0) {
		/* Only its socket and stderr (the log) stay open. */
		if (dup2(sv[1], 3) == -1)
			_exit(1);
		close_range(4, ~0U, 0);
		keeper_main(3, cfg);
	}
	close(sv[1]);
	*fd = sv[0];
	*pid = child;
	return LEDGER_OK;
}
