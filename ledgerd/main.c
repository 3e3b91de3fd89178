/*
 * ledgerd's command line (docs/operations.md): serve, keygen, token, fsck,
 * reindex, retention run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/version.h"

#include "config.h"
#include "datadir.h"
#include "fsck.h"
#include "log.h"
#include "server.h"
#include "witness.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: ledgerd serve [--config FILE] [--data DIR] [--listen HOST:PORT]\n"
	    "                     [--checkpoint-interval-ms MS] [--check] [--debug]\n"
	    "       ledgerd keygen --out FILE --name ORIGIN\n"
	    "       ledgerd token new --principal ID [--keep-old] [--config FILE]\n"
	    "       ledgerd token retire --principal ID [--config FILE]\n"
	    "       ledgerd witness [--config FILE] [--data DIR] [--listen HOST:PORT]\n"
	    "                       [--name NAME] [--log VKEY]... [--check] [--debug]\n"
	    "       ledgerd fsck DIR\n"
	    "       ledgerd reindex DIR\n"
	    "       ledgerd retention run [--config FILE] [--data DIR] [--debug]\n"
	    "       ledgerd version\n"
	    "\n"
	    "serve    run the ledger; with no config file on a loopback address it\n"
	    "         runs in development mode (keys and a token created in DIR)\n"
	    "  --checkpoint-interval-ms  publish checkpoints at most this often\n"
	    "         (default 5000; overrides checkpoint_interval_ms)\n"
	    "  --check  parse and check the configuration, say so, and exit\n"
	    "keygen   write a new Ed25519 log key and print its verifier key\n"
	    "token    new: give a principal a fresh bearer token: prints it once\n"
	    "         and stores its SHA-256 in the config file (default\n"
	    "         $LEDGERD_CONFIG); SIGHUP the daemon to use it\n"
	    "  --keep-old  the old token stays valid beside the new one\n"
	    "         retire: of a principal's two tokens keep only the newer\n"
	    "witness  run a C2SP tlog-witness for the logs given (docs/witness.md);\n"
	    "         creates DIR/witness.key on first start\n"
	    "fsck     check a stopped data directory; exit 0 when consistent\n"
	    "reindex  rebuild the provenance indexes of a stopped data directory\n"
	    "retention run  with the daemon stopped: complete interrupted\n"
	    "         destructions, record the policy, destroy the period secrets\n"
	    "         due under it (the daemon does the same at start and hourly)\n");
}

static int
cmd_serve_mode(int argc, char **argv, int retention_only);

static int
cmd_serve(int argc, char **argv)
{
	return cmd_serve_mode(argc, argv, 0);
}

/* ledgerd retention run: the serve options, a retention pass, no listener. */
static int
cmd_retention(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "run") != 0) {
		usage(stderr);
		return 2;
	}
	return cmd_serve_mode(argc - 1, argv + 1, 1);
}

static int
cmd_serve_mode(int argc, char **argv, int retention_only)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "checkpoint-interval-ms", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *data = NULL, *listen = NULL;
	const char *interval = NULL;
	int check = 0, debug = 0, ch, rc;
	struct config *cfg;
	char err[512];

	while ((ch = getopt_long(argc, argv, "c:d:l:nvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'd': data = optarg; break;
		case 'l': listen = optarg; break;
		case 'n': check = 1; break;
		case 'v': debug = 1; break;
		case 'i': interval = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((cfg = config_load(config_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ledgerd: %s\n", err);
		return 1;
	}
	if (config_apply_flags(cfg, data, listen, err, sizeof(err)) != 0 ||
	    config_apply_interval(cfg, interval, err, sizeof(err)) != 0 ||
	    config_finish(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ledgerd: %s\n", err);
		config_free(cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK%s\n", cfg->dev_mode ? " (development mode)" : "");
		config_free(cfg);
		return 0;
	}
	log_set_level(debug ? LOG_LEVEL_DEBUG : (enum log_level)cfg->log_level);
	rc = server_run(cfg, retention_only);
	config_free(cfg);
	return rc;
}

static int
cmd_witness(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'N' },
		{ "log", required_argument, NULL, 'L' },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *data = NULL, *listen = NULL;
	const char *name = NULL;
	char **logs = NULL, err[512];
	size_t n_logs = 0;
	int check = 0, debug = 0, ch, rc = 1;
	struct witness_config *cfg;

	while ((ch = getopt_long(argc, argv, "c:d:l:N:L:nvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'd': data = optarg; break;
		case 'l': listen = optarg; break;
		case 'N': name = optarg; break;
		case 'L':
			logs = realloc(logs, (n_logs + 1) * sizeof(*logs));
			if (logs == NULL)
				fatalx("out of memory");
			logs[n_logs++] = optarg;
			break;
		case 'n': check = 1; break;
		case 'v': debug = 1; break;
		case 'h': usage(stdout); free(logs); return 0;
		default: usage(stderr); free(logs); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		free(logs);
		return 2;
	}
	cfg = witness_config_load(config_path, data, listen, name, logs, n_logs,
	    err, sizeof(err));
	free(logs);
	if (cfg == NULL) {
		fprintf(stderr, "ledgerd witness: %s\n", err);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		witness_config_free(cfg);
		return 0;
	}
	if (debug)
		log_set_level(LOG_LEVEL_DEBUG);
	rc = witness_serve(cfg);
	witness_config_free(cfg);
	return rc;
}

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *name = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "o:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'n': name = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (out == NULL || name == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	return datadir_keygen(out, name) == 0 ? 0 : 1;
}

static int
cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "principal", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "keep-old", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL, *path = getenv("LEDGERD_CONFIG"), *verb;
	char token[65], err[512];
	int ch, keep_old = 0, retire;

	if (argc < 2 || (strcmp(argv[1], "new") != 0 &&
	    strcmp(argv[1], "retire") != 0)) {
		usage(stderr);
		return 2;
	}
	verb = argv[1];
	retire = strcmp(verb, "retire") == 0;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "p:c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': id = optarg; break;
		case 'c': path = optarg; break;
		case 'k': keep_old = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (id == NULL || optind != argc || (retire && keep_old)) {
		usage(stderr);
		return 2;
	}
	if (path == NULL || path[0] == '\0') {
		fprintf(stderr, "ledgerd: token %s: no config file (--config "
		    "FILE or LEDGERD_CONFIG)\n", verb);
		return 2;
	}
	if (retire) {
		if (config_retire_token(path, id, err, sizeof(err)) != 0) {
			fprintf(stderr, "ledgerd: token retire: %s\n", err);
			return 1;
		}
		fprintf(stderr, "ledgerd: %s keeps only its newer token in %s; "
		    "send SIGHUP to the running daemon to drop the older\n",
		    id, path);
		return 0;
	}
	if (config_set_token(path, id, keep_old, token, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "ledgerd: token new: %s\n", err);
		return 1;
	}
	/* The only copy of the token: the file holds its hash alone. */
	printf("%s\n", token);
	fflush(stdout);
	OPENSSL_cleanse(token, sizeof(token));
	fprintf(stderr, "ledgerd: stored the token's SHA-256 for %s in %s%s; "
	    "send SIGHUP to the running daemon to use it\n", id, path,
	    keep_old ? " beside the old one" : "");
	return 0;
}

/*
 * fsck and reindex take the data directory and the default map size, and
 * the directory's lock: never under a running daemon, nor two at once.
 */
static int
cmd_offline(int argc, char **argv, int (*run)(const char *, uint64_t))
{
	struct config *cfg;
	char err[512];
	int rc, lock;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if ((cfg = config_load(NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ledgerd: %s\n", err);
		return 2;
	}
	if (datadir_lock(argv[1], 0, &lock) != 0) {
		config_free(cfg);
		return 2;	/* logged, naming the holder */
	}
	rc = run(argv[1], cfg->limits.map_size);
	datadir_unlock(lock);
	config_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "-n") == 0) {
		/* OpenBSD daemons' habit: -n checks the configuration. */
		argv[1] = "--check";
		return cmd_serve(argc, argv);
	}
	if (strcmp(argv[1], "witness") == 0)
		return cmd_witness(argc - 1, argv + 1);
	if (strcmp(argv[1], "retention") == 0)
		return cmd_retention(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "fsck") == 0)
		return cmd_offline(argc - 1, argv + 1, fsck_run);
	if (strcmp(argv[1], "reindex") == 0)
		return cmd_offline(argc - 1, argv + 1, reindex_run);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("ledgerd %s\n", LEDGER_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
