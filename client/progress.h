/*
 * A progress bar on stderr with rate and ETA, drawn only on a terminal and
 * at most ten times a second, so it costs nothing in scripts.
 */
#ifndef LEDGERCTL_PROGRESS_H
#define LEDGERCTL_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *label;
	const char *unit;
	uint64_t total;		/* 0 when unknown */
	uint64_t done;
	double start, last;
	int tty;
};

/* progress_start - a bar for total items (0: unknown); label, unit borrowed. */
void progress_start(struct progress *p, const char *label, const char *unit,
    uint64_t total);

/* progress_update - done items so far; redraws when due. */
void progress_update(struct progress *p, uint64_t done);

/* progress_end - draws the final state and ends the line. */
void progress_end(struct progress *p);

#endif
