/*
 * ledgerctl get SEQ: one entry's stored bytes, exactly.  With a key the
 * entry is proven included in the signed tree before it is printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "published.h"

static const char usage_text[] =
    "usage: ledgerctl get [options] SEQ\n"
    "Prints entry SEQ's stored bytes (the Merkle leaf) and a newline.\n"
    "With --key (or LEDGER_KEY) it is first proven included in the latest\n"
    "signed checkpoint; without one it is printed unverified (said on stderr).\n";

int
cmd_get(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { NULL, 0, NULL, 0 } };
	struct ledger_checkpoint cp;
	struct http_reply r;
	char target[64];
	uint64_t seq;
	int c, rc, verify;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		}
		if (!ctl_common_option(ctl, c, optarg))
			return ctl_usage_error("get", "bad option");
	}
	if (argc - optind != 1 || ctl_parse_u64(argv[optind], &seq) != 0)
		return ctl_usage_error("get", "give one SEQ (a decimal number)");
	verify = ctl->key_arg != NULL || getenv("LEDGER_KEY") != NULL;
	if (verify && (rc = ctl_need_key(ctl)) != 0)
		return rc;
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64, seq);
	if ((rc = ctl_get(ctl, target, &r)) != 0)
		return rc;
	/* An entry just written is in the published checkpoint within an interval. */
	if (verify && ((rc = ctl_fetch_checkpoint_covering(ctl, seq + 1, &cp,
	    NULL)) != 0 || (rc = ctl_verify_entry(ctl, seq, r.body, r.len, &cp,
	    NULL, NULL)) != 0))
		goto out;
	fwrite(r.body, 1, r.len, stdout);
	putchar('\n');
	if (!verify)
		fprintf(stderr, "ledgerctl: note: not verified (no --key)\n");
out:
	http_reply_free(&r);
	return rc;
}
