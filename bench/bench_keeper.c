/*
 * What the key keeper costs a commit: the two exchanges the writer makes
 * (the tokens of a commit's subjects and, under a retention policy, its
 * sealed values in one keyring_run, the checkpoint's signature in
 * another), timed with the keys in this process and with them behind the
 * keeper's socket.  Prints the median and p99 of each, in microseconds,
 * over ITER runs (default 2,000).
 *
 *	bench_keeper [SUBJECTS [VALUES]]	(subjects per commit, default 64;
 *					 sealed values of VALUE_LEN bytes,
 *					 default 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "../ledgerd/config.h"
#include "../ledgerd/keeper.h"
#include "../ledgerd/keyring.h"
#include "../ledgerd/keyring_impl.h"
#include "../ledgerd/keystore.h"

#define VALUE_LEN 200	/* a purpose and a short details object, salted */

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The commit's first exchange: subjects TOKEN ops, then values SEAL ops. */
static void
commit_ops(struct keyring_op *ops, char (*ids)[32], size_t subjects,
    size_t values, size_t first, const uint8_t *value)
{
	for (size_t k = 0; k < subjects + values; k++) {
		memset(&ops[k], 0, sizeof(ops[k]));
		ops[k].create = 1;
		snprintf(ops[k].period, sizeof(ops[k].period), "2026-Q4");
		if (k < subjects) {
			snprintf(ids[k], sizeof(ids[k]), "person-%zu", first + k);
			ops[k].kind = KEYRING_TOKEN;
			ops[k].msg = ids[k];
			ops[k].msg_len = strlen(ids[k]);
		} else {
			ops[k].kind = KEYRING_SEAL;
			ops[k].msg = value;
			ops[k].msg_len = VALUE_LEN;
		}
	}
}

/* Times iter commits' worth of exchanges; prints medians and p99s. */
static void
measure(const char *label, struct keyring *kr, size_t subjects, size_t values,
    size_t iter)
{
	struct keyring_op *ops = xcalloc(subjects + values, sizeof(*ops)), sign;
	double *tok = xcalloc(iter, sizeof(double));
	double *sig = xcalloc(iter, sizeof(double));
	char (*ids)[32] = xcalloc(subjects ? subjects : 1, sizeof(*ids));
	uint8_t value[VALUE_LEN];
	const char body[] = "example.org/log\n12345\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

	memset(value, 'v', sizeof(value));
	for (size_t i = 0; i < iter; i++) {
		double t0, t1;

		commit_ops(ops, ids, subjects, values, i * subjects, value);
		memset(&sign, 0, sizeof(sign));
		sign.kind = KEYRING_SIGN;
		sign.msg = body;
		sign.msg_len = sizeof(body) - 1;
		t0 = now_us();
		if (keyring_run(kr, ops, subjects + values) != 0 ||
		    ops[0].rc != 0)
			exit(1);
		t1 = now_us();
		if (keyring_run(kr, &sign, 1) != 0 || sign.rc != 0)
			exit(1);
		tok[i] = t1 - t0;
		sig[i] = now_us() - t1;
		keyring_op_release(ops, subjects + values);
	}
	qsort(tok, iter, sizeof(double), cmp_double);
	qsort(sig, iter, sizeof(double), cmp_double);
	printf("%-10s tokens of %zu subjects, %zu sealed values: median %7.1f "
	    "us, p99 %7.1f us; checkpoint signature: median %6.1f us, p99 "
	    "%6.1f us\n", label, subjects, values, tok[iter / 2], tok[iter * 99 / 100], sig[iter / 2],
	    sig[iter * 99 / 100]);
	free(ops);
	free(tok);
	free(sig);
	free(ids);
}

int
main(int argc, char **argv)
{
	size_t subjects = argc > 1 ? (size_t)atoi(argv[1]) : 64;
	size_t values = argc > 2 ? (size_t)atoi(argv[2]) : 0;
	size_t iter = getenv("ITER") ? (size_t)atoi(getenv("ITER")) : 2000;
	char dir[] = "/tmp/bench-keeper.XXXXXX", cmd[64];
	struct config cfg;
	struct keystore *ks;
	struct keyring *local, *remote;

	if (subjects + values == 0 || subjects + values > KEYRING_OPS_MAX ||
	    iter == 0 ||
	    mkdtemp(dir) == NULL)
		return 2;
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.origin = "example.org/log";
	if (keeper_load(dir, &cfg, 1, &ks) != 0)
		return 1;
	local = keyring_open_local(ks);
	if (keyring_start_keeper(&cfg, &remote) != 0)
		return 1;
	measure("in-process", local, subjects, values, iter);
	measure("keeper", remote, subjects, values, iter);
	keyring_free(local);
	keyring_free(remote);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
