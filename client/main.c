/*
 * ledgerctl: the ledger's client, which believes nothing it has not
 * verified.  Parses the common options, then hands the rest of the command
 * line to one command (one file each, cmd_*.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/version.h"

#include "ctl.h"

static const struct ctl_command commands[] = {
	{ "post", "append events (one, or a batch of NDJSON)", cmd_post },
	{ "get", "one entry's exact bytes, optionally proven", cmd_get },
	{ "list", "filtered listing of entries", cmd_list },
	{ "checkpoint", "the latest checkpoint, signature checked", cmd_checkpoint },
	{ "who-saw", "verified provenance: every event naming a subject", cmd_who_saw },
	{ "history", "verified provenance: everything one user did", cmd_history },
	{ "lineage", "verified provenance: where an item went, advice on it", cmd_lineage },
	{ "prove", "prove one entry's inclusion in the signed tree", cmd_prove },
	{ "consistency", "prove that one tree size extends another", cmd_consistency },
	{ "verify", "monitor: the log only grows (no rollback, no fork)", cmd_verify },
	{ "audit", "download and recompute the whole log", cmd_audit },
	{ "mirror", "copy the log as static tlog-tiles, verified", cmd_mirror },
	{ "export", "write a self-verifying compliance bundle", cmd_export },
	{ "verify-export", "check a compliance bundle offline", cmd_verify_export },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fputs("usage: ledgerctl [common options] COMMAND [options] [args]\n"
	    "commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("  version        print \"ledgerctl VERSION\" (also --version)\n"
	    "run `ledgerctl COMMAND --help` for a command's options.\n", f);
	fputs(CTL_COMMON_HELP, f);
}

static int
version(void)
{
	printf("ledgerctl %s\n", LEDGER_VERSION);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };
	struct ctl ctl;
	const char *name;
	size_t i;
	int c, rc;

	/*
	 * A closed standard output ends us as it ends any filter (`| head`):
	 * quietly, by SIGPIPE.  While we talk to the server SIGPIPE is
	 * ignored instead (http_client.c), so that a server that hangs up
	 * gives an error.
	 */
	signal(SIGPIPE, SIG_DFL);
	memset(&ctl, 0, sizeof(ctl));
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == 'V')
			return version();
		if (!ctl_common_option(&ctl, c, optarg)) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[optind];
	if (strcmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "version") == 0)
		return version();
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			break;
	if (i == NCOMMANDS) {
		fprintf(stderr, "ledgerctl: unknown command \"%s\"\n", name);
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start afresh on the command's arguments */
	rc = commands[i].run(&ctl, argc, argv);
	ctl_free(&ctl);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = ctl_fail(EXIT_IO, "cannot write the output");
	return rc;
}
