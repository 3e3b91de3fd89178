/*
 * ledgerctl checkpoint: the latest signed checkpoint, shown only once its
 * signature verifies with the log's key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"

static const char usage_text[] =
    "usage: ledgerctl checkpoint [options]\n"
    "Fetches /checkpoint, verifies its signature with --key (and with\n"
    "--policy its witness quorum), and prints its origin, tree size and root\n"
    "hash (--json: also the signed note).\n"
    "  --raw     print the signed note itself\n";

int
cmd_checkpoint(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "raw", no_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
	struct ledger_checkpoint cp;
	char root[48], *note = NULL;
	json_t *out;
	int c, rc, raw = 0;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		}
		if (c == 'r')
			raw = 1;
		else if (!ctl_common_option(ctl, c, optarg))
			return ctl_usage_error("checkpoint", "bad option");
	}
	if (optind != argc)
		return ctl_usage_error("checkpoint", "no arguments expected");
	if ((rc = ctl_fetch_checkpoint(ctl, &cp, &note)) != 0)
		return rc;
	ctl_hash_b64(cp.root, root);
	if (raw)
		fputs(note, stdout);
	else if (ctl->json) {
		out = json_pack("{s:s, s:I, s:s, s:s, s:b}", "origin", cp.origin,
		    "tree_size", (json_int_t)cp.tree_size, "root", root,
		    "checkpoint", note, "verified", 1);
		if (ctl->policy != NULL)
			json_object_set_new(out, "cosigned_by",
			    ctl_cosigners_json(ctl));
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else {
		printf("origin     %s\ntree size  %" PRIu64 "\nroot       %s\n"
		    "signature  verified with %s\n", cp.origin, cp.tree_size,
		    root, ctl->key.name);
		if (ctl->policy != NULL)
			printf("witnesses  quorum of the policy %s met, cosigned "
			    "by %s\n", ctl_policy_path(ctl), ctl->cosigners[0] ?
			    ctl->cosigners : "nobody (quorum none)");
	}
	free(note);
	return EXIT_OK;
}
