/*
 * ledgerctl waits for the published checkpoint that covers what it proves
 * (published.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl.h"
#include "published.h"

int
ctl_fetch_checkpoint_covering(struct ctl *ctl, uint64_t size,
    struct ledger_checkpoint *cp, char **note)
{
	struct timespec start, now, pause = { 0, 100 * 1000 * 1000 };
	const char *env = getenv("LEDGER_PUBLISH_WAIT");
	uint64_t wait = CTL_PUBLISH_WAIT_S;
	int rc, said = 0;

	if (env != NULL && env[0] != '\0' && (ctl_parse_u64(env, &wait) != 0 ||
	    wait > 86400))
		return ctl_fail(EXIT_USAGE, "LEDGER_PUBLISH_WAIT must be a number "
		    "of seconds, 0 to 86400");
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (note != NULL)
			*note = NULL;
		if ((rc = ctl_fetch_checkpoint(ctl, cp, note)) != 0 ||
		    cp->tree_size >= size)
			return rc;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)(now.tv_sec - start.tv_sec) >= wait)
			return 0;	/* the caller says what it lacks */
		if (!said && now.tv_sec - start.tv_sec >= 1) {
			fprintf(stderr, "ledgerctl: waiting for the log to "
			    "publish a checkpoint of %" PRIu64 " entries (it "
			    "has %" PRIu64 ")\n", size, cp->tree_size);
			said = 1;
		}
		if (note != NULL)
			free(*note);
		nanosleep(&pause, NULL);
	}
}
