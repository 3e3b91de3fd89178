/*
 * Waiting for the log's published checkpoint (spec §5.4): /checkpoint is
 * published at an interval, so it may lag the entries the server already
 * serves by up to one.
 */
#ifndef LEDGERCTL_PUBLISHED_H
#define LEDGERCTL_PUBLISHED_H

#include <stdint.h>

#include "ledger/checkpoint.h"

struct ctl;

#define CTL_PUBLISH_WAIT_S 60	/* the longest wait, in seconds, unless
				   LEDGER_PUBLISH_WAIT says otherwise */

/*
 * ctl_fetch_checkpoint_covering - ctl_fetch_checkpoint, again until the
 * checkpoint holds at least size entries: an entry the server served, or
 * an export entry, is in /checkpoint within one interval.  It waits up to
 * LEDGER_PUBLISH_WAIT (default CTL_PUBLISH_WAIT_S) seconds, saying so on stderr after the first, and
 * then returns the checkpoint it has, for the caller to refuse as one that
 * does not hold the entry.
 *	note	out (may be NULL): the note text (free() it)
 * Returns 0, EXIT_USAGE for a malformed LEDGER_PUBLISH_WAIT, or an exit code
 * of ctl_fetch_checkpoint (printed).
 */
int ctl_fetch_checkpoint_covering(struct ctl *ctl, uint64_t size,
    struct ledger_checkpoint *cp, char **note);

#endif
