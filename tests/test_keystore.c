/*
 * The key store (ledgerd/keystore.c) and the key keeper's frames
 * (ledgerd/keeper_proto.c), in this process: period secrets made once and
 * kept, tokens stable within a period and different across periods,
 * sealing that refuses tampering, destruction that leaves no byte of the
 * secret in the directory and can never be undone, the legacy subject.key
 * moved into its period, and a batch carried through the wire format.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/keyfile.h"
#include "ledger/note.h"
#include "ledger/period.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/keeper_proto.h"
#include "../ledgerd/keyring.h"
#include "../ledgerd/keyring_impl.h"
#include "../ledgerd/keystore.h"
#include "daemon.h"
#include "testlib.h"

static char dir[512];

static struct ledger_signer *
test_signer(void)
{
	uint8_t seed[LEDGER_ED25519_LEN];
	struct ledger_signer *s = NULL;

	memset(seed, 0x42, sizeof(seed));
	if (ledger_signer_from_seed("example.org/log", LEDGER_SIGTYPE_ED25519,
	    seed, &s) != 0)
		return NULL;
	return s;
}

/* A fresh data directory and a keyring over it, in this process. */
static struct keyring *
open_ring(const uint8_t *legacy)
{
	struct keystore *ks = NULL;

	if (keystore_open(dir, 1, test_signer(), legacy, &ks) != 0)
		return NULL;
	return keyring_open_local(ks);
}

static void
fresh_dir(void)
{
	remove_tree(dir);
	mkdir(dir, 0700);
}

static int
token(struct keyring *kr, const char *period, int create, const char *id,
    char out[LEDGER_SUBJECT_TOKEN_LEN + 1])
{
	struct keyring_op op;

	memset(&op, 0, sizeof(op));
	op.kind = KEYRING_TOKEN;
	op.create = create;
	snprintf(op.period, sizeof(op.period), "%s", period);
	op.msg = id;
	op.msg_len = strlen(id);
	if (keyring_run(kr, &op, 1) != 0)
		return -999;
	memcpy(out, op.token, LEDGER_SUBJECT_TOKEN_LEN + 1);
	return op.rc;
}

static void
test_period_tokens(void)
{
	char a[LEDGER_SUBJECT_TOKEN_LEN + 1], b[LEDGER_SUBJECT_TOKEN_LEN + 1];
	char c[LEDGER_SUBJECT_TOKEN_LEN + 1], want[LEDGER_SUBJECT_TOKEN_LEN + 1];
	uint8_t secret[32], key[32];
	char path[700];
	struct stat st;
	struct keyring *kr;

	fresh_dir();
	REQUIRE((kr = open_ring(NULL)) != NULL);
	CHECK_INT(token(kr, "2026-Q1", 0, "person-1", a), KEYRING_ENOPERIOD);
	CHECK_INT(token(kr, "2026-Q1", 1, "person-1", a), 0);
	CHECK_INT(token(kr, "2026-Q1", 0, "person-1", b), 0);
	CHECK_STR(a, b);
	CHECK_INT(token(kr, "2026-Q2", 1, "person-1", c), 0);
	CHECK(strcmp(a, c) != 0);
	CHECK_INT(token(kr, "bad/id", 1, "person-1", c), LEDGER_EINVAL);
	/* One file per period, 0600, 32 bytes; the token is HMAC under
	   the key HKDF draws from it. */
	snprintf(path, sizeof(path), "%s/keys/2026-Q1.key", dir);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(st.st_size, 32);
	REQUIRE(ledger_keyfile_read_secret(path, secret, 32) == 0);
	REQUIRE(ledger_period_token_key(secret, key) == 0);
	REQUIRE(ledger_subject_token(key, "person-1", 8, want) == 0);
	CHECK_STR(a, want);
	keyring_free(kr);
	/* Kept: the same token after a reopen. */
	REQUIRE((kr = open_ring(NULL)) != NULL);
	CHECK_INT(token(kr, "2026-Q1", 0, "person-1", b), 0);
	CHECK_STR(a, b);
	keyring_free(kr);
}

static void
test_sign(void)
{
	struct keyring *kr;
	struct keyring_op op;
	char *line;

	fresh_dir();
	REQUIRE((kr = open_ring(NULL)) != NULL);
	memset(&op, 0, sizeof(op));
	op.kind = KEYRING_SIGN;
	op.msg = "text\n";
	op.msg_len = 5;
	REQUIRE(keyring_run(kr, &op, 1) == 0);
	CHECK_INT(op.rc, 0);
	CHECK_INT(ledger_ed25519_verify(keyring_verifier(kr), "text\n", 5,
	    op.sig), 0);
	line = ledger_note_sig_line(keyring_verifier(kr), "text\n", 5, op.sig);
	CHECK(line != NULL);
	free(line);
	op.sig[0] ^= 1;
	CHECK(ledger_note_sig_line(keyring_verifier(kr), "text\n", 5,
	    op.sig) == NULL);
	keyring_free(kr);
}

static void
test_seal_open(void)
{
	struct keyring *kr;
	struct keyring_op ops[3];
	const char value[] = "a free-text value";
	uint8_t *sealed;
	size_t len;

	fresh_dir();
	REQUIRE((kr = open_ring(NULL)) != NULL);
	memset(ops, 0, sizeof(ops));
	ops[0].kind = KEYRING_SEAL;
	ops[0].create = 1;
	snprintf(ops[0].period, sizeof(ops[0].period), "2026-Q3");
	ops[0].msg = value;
	ops[0].msg_len = sizeof(value);
	REQUIRE(keyring_run(kr, ops, 1) == 0);
	REQUIRE(ops[0].rc == 0);
	CHECK_INT(ops[0].out_len, sizeof(value) + KEYRING_SEAL_OVERHEAD);
	sealed = ops[0].out;
	len = ops[0].out_len;
	ops[0].out = NULL;

	memset(ops, 0, sizeof(ops));
	for (int i = 0; i < 3; i++) {
		ops[i].kind = KEYRING_OPEN;
		snprintf(ops[i].period, sizeof(ops[i].period), "2026-Q3");
		ops[i].msg = sealed;
		ops[i].msg_len = len;
	}
	/* Tampered: a flipped bit of the ciphertext; another period's key. */
	uint8_t *tampered = xmalloc(len);
	memcpy(tampered, sealed, len);
	tampered[12] ^= 1;
	ops[1].msg = tampered;
	snprintf(ops[2].period, sizeof(ops[2].period), "2026-Q4");
	ops[2].create = 0;
	REQUIRE(token(kr, "2026-Q4", 1, "x", (char[44]){ 0 }) == 0);
	REQUIRE(keyring_run(kr, ops, 3) == 0);
	CHECK_INT(ops[0].rc, 0);
	CHECK(ops[0].out_len == sizeof(value) &&
	    memcmp(ops[0].out, value, sizeof(value)) == 0);
	CHECK_INT(ops[1].rc, LEDGER_EVERIFY);
	CHECK(ops[1].out == NULL);
	CHECK_INT(ops[2].rc, LEDGER_EVERIFY);
	keyring_op_release(ops, 3);
	free(tampered);
	free(sealed);
	keyring_free(kr);
}

/* Whether any file under path holds the 32 bytes of secret. */
static int
tree_holds(const char *path, const uint8_t secret[32])
{
	struct dirent *de;
	DIR *d;
	int found = 0;

	if ((d = opendir(path)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		char *p;
		size_t len;
		char *bytes;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			found = tree_holds(p, secret);
		else {
			FILE *f = fopen(p, "rb");

			bytes = xmalloc(1 << 20);
			len = f != NULL ? fread(bytes, 1, 1 << 20, f) : 0;
			if (f != NULL)
				fclose(f);
			for (size_t i = 0; i + 32 <= len && !found; i++)
				found = memcmp(bytes + i, secret, 32) == 0;
			free(bytes);
		}
		free(p);
	}
	closedir(d);
	return found;
}

static void
test_destroy(void)
{
	char a[LEDGER_SUBJECT_TOKEN_LEN + 1];
	struct keyring_periods p;
	struct keyring_op op;
	uint8_t secret[32];
	char path[700];
	struct keyring *kr;

	fresh_dir();
	REQUIRE((kr = open_ring(NULL)) != NULL);
	REQUIRE(token(kr, "2026-Q1", 1, "person-1", a) == 0);
	REQUIRE(token(kr, "2026-Q2", 1, "person-1", a) == 0);
	memset(&op, 0, sizeof(op));
	op.kind = KEYRING_SEAL;
	snprintf(op.period, sizeof(op.period), "2026-Q1");
	op.msg = "v";
	op.msg_len = 1;
	REQUIRE(keyring_run(kr, &op, 1) == 0 && op.rc == 0);
	snprintf(path, sizeof(path), "%s/keys/2026-Q1.key", dir);
	REQUIRE(ledger_keyfile_read_secret(path, secret, 32) == 0);

	CHECK_INT(keyring_destroy(kr, "2026-Q1"), 0);
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/keys/2026-Q1.destroyed", dir);
	CHECK(access(path, F_OK) == 0);
	CHECK_INT(token(kr, "2026-Q1", 0, "person-1", a), KEYRING_EDESTROYED);
	CHECK_INT(token(kr, "2026-Q1", 1, "person-1", a), KEYRING_EDESTROYED);
	op.kind = KEYRING_OPEN;
	op.msg = op.out;
	op.msg_len = op.out_len;
	{
		uint8_t *sealed = op.out;

		op.out = NULL;
		REQUIRE(keyring_run(kr, &op, 1) == 0);
		CHECK_INT(op.rc, KEYRING_EDESTROYED);
		free(sealed);
	}
	/* Idempotent; a destroyed period is never made again, even after
	   a restart. */
	CHECK_INT(keyring_destroy(kr, "2026-Q1"), 0);
	REQUIRE(keyring_periods(kr, &p) == 0);
	CHECK(p.n_live == 1 && strcmp(p.live[0], "2026-Q2") == 0);
	CHECK(p.n_destroyed == 1 && strcmp(p.destroyed[0], "2026-Q1") == 0);
	keyring_periods_free(&p);
	keyring_free(kr);
	REQUIRE((kr = open_ring(NULL)) != NULL);
	CHECK_INT(token(kr, "2026-Q1", 1, "person-1", a), KEYRING_EDESTROYED);
	CHECK_INT(token(kr, "2026-Q2", 0, "person-1", a), 0);
	keyring_free(kr);
	/* No byte of the secret is left anywhere in the directory. */
	CHECK(!tree_holds(dir, secret));
	OPENSSL_cleanse(secret, sizeof(secret));
}

static void
test_legacy(void)
{
	uint8_t legacy[32], moved[32];
	char a[LEDGER_SUBJECT_TOKEN_LEN + 1], want[LEDGER_SUBJECT_TOKEN_LEN + 1];
	char path[700];
	struct keyring *kr;

	fresh_dir();
	memset(legacy, 0x17, sizeof(legacy));
	snprintf(path, sizeof(path), "%s/subject.key", dir);
	REQUIRE(ledger_keyfile_write_secret(path, legacy, 32) == 0);
	REQUIRE((kr = open_ring(legacy)) != NULL);
	/* Moved into its period and wiped where it was. */
	CHECK(access(path, F_OK) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/keys/legacy.key", dir);
	REQUIRE(ledger_keyfile_read_secret(path, moved, 32) == 0);
	CHECK(memcmp(moved, legacy, 32) == 0);
	/* Its tokens are those written before periods; it is never made. */
	REQUIRE(ledger_subject_token(legacy, "person-1", 8, want) == 0);
	CHECK_INT(token(kr, "legacy", 0, "person-1", a), 0);
	CHECK_STR(a, want);
	CHECK_INT(keyring_destroy(kr, "legacy"), 0);
	CHECK_INT(token(kr, "legacy", 1, "person-1", a), KEYRING_EDESTROYED);
	keyring_free(kr);
	CHECK(!tree_holds(dir, legacy));
}

/* A batch through the wire format gives what the store gives directly. */
static void
test_protocol_roundtrip(void)
{
	struct keyring_op ops[3], direct[3];
	struct keeper_request req;
	struct kbuf frame = { NULL, 0, 0 }, reply = { NULL, 0, 0 };
	struct keystore *ks;
	struct keyring *kr;

	fresh_dir();
	memset(ops, 0, sizeof(ops));
	ops[0].kind = KEYRING_SIGN;
	ops[0].msg = "cp\n";
	ops[0].msg_len = 3;
	ops[1].kind = KEYRING_TOKEN;
	ops[1].create = 1;
	snprintf(ops[1].period, sizeof(ops[1].period), "2026-Q4");
	ops[1].msg = "person-9";
	ops[1].msg_len = 8;
	ops[2] = ops[1];
	snprintf(ops[2].period, sizeof(ops[2].period), "2027-Q1");
	ops[2].create = 0;
	memcpy(direct, ops, sizeof(ops));

	REQUIRE(keeper_encode_run(ops, 3, &frame) == 0);
	REQUIRE(keeper_request_decode(frame.p + 4, frame.len - 4, &req) == 0);
	CHECK_INT(req.n, 3);
	REQUIRE(keystore_open(dir, 1, test_signer(), NULL, &ks) == 0);
	REQUIRE(keystore_run(ks, req.ops, req.n) == 0);
	keeper_encode_run_reply(req.ops, req.n, &reply);
	REQUIRE(keeper_decode_run_reply(reply.p + 4, reply.len - 4, ops, 3) == 0);
	kr = keyring_open_local(ks);
	REQUIRE(keyring_run(kr, direct, 3) == 0);
	CHECK_INT(ops[0].rc, 0);
	CHECK(memcmp(ops[0].sig, direct[0].sig, 64) == 0);
	CHECK_INT(ops[1].rc, 0);
	CHECK_STR(ops[1].token, direct[1].token);
	CHECK_INT(ops[2].rc, KEYRING_ENOPERIOD);
	keeper_request_free(&req);
	/* Broken frames are refused: truncated, bad kind. */
	CHECK(keeper_request_decode(frame.p + 4, frame.len - 5, &req) ==
	    LEDGER_EINVAL);
	frame.p[9] = 9;		/* the first op's kind */
	CHECK(keeper_request_decode(frame.p + 4, frame.len - 4, &req) ==
	    LEDGER_EINVAL);
	keeper_request_free(&req);
	/* DESTROY and PERIODS through the wire format. */
	REQUIRE(keeper_encode_destroy("2026-Q4", &frame) == 0);
	REQUIRE(keeper_request_decode(frame.p + 4, frame.len - 4, &req) == 0);
	CHECK_INT(req.type, KEEPER_DESTROY);
	CHECK_STR(req.period, "2026-Q4");
	CHECK_INT(keeper_encode_destroy("../x", &frame), LEDGER_EINVAL);
	{
		struct keyring_periods p, q;
		int rc = 1;

		REQUIRE(keystore_destroy(ks, req.period) == 0);
		REQUIRE(keystore_periods(ks, &p) == 0);
		keeper_encode_periods_reply(0, &p, &reply);
		CHECK_INT(keeper_decode_periods_reply(reply.p + 4,
		    reply.len - 4, &q), 0);
		CHECK(q.n_live == 0 && q.n_destroyed == 1 &&
		    strcmp(q.destroyed[0], "2026-Q4") == 0);
		keyring_periods_free(&p);
		keyring_periods_free(&q);
		keeper_encode_rc_reply(KEEPER_DESTROY_REPLY, KEYRING_EDESTROYED,
		    &reply);
		CHECK_INT(keeper_decode_rc_reply(reply.p + 4, reply.len - 4,
		    KEEPER_DESTROY_REPLY, &rc, NULL), 0);
		CHECK_INT(rc, KEYRING_EDESTROYED);
	}
	keeper_request_free(&req);
	kbuf_free(&frame);
	kbuf_free(&reply);
	keyring_free(kr);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ledgerd-keystore.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_period_tokens);
	RUN(test_sign);
	RUN(test_seal_open);
	RUN(test_destroy);
	RUN(test_legacy);
	RUN(test_protocol_roundtrip);
	remove_tree(dir);
	return TEST_SUMMARY();
}
