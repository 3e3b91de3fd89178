/*
 * The progress bar (see progress.h): "label [#####.....] 45% 1234/5678
 * 12.3k entries/s ETA 0:07", redrawn in place with a carriage return.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "progress.h"

#define BAR_WIDTH 30
#define REDRAW_SECONDS 0.1

void
progress_start(struct progress *p, const char *label, const char *unit,
    uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->unit = unit;
	p->total = total;
	p->start = p->last = ctl_now();
	p->tty = isatty(STDERR_FILENO);
}

static void
human_rate(double r, char *out, size_t len)
{
	if (r >= 1e6)
		snprintf(out, len, "%.1fM", r / 1e6);
	else if (r >= 1e3)
		snprintf(out, len, "%.1fk", r / 1e3);
	else
		snprintf(out, len, "%.0f", r);
}

static void
draw(struct progress *p, double now)
{
	char bar[BAR_WIDTH + 1], rate[32], eta[32] = "";
	double elapsed = now - p->start, r, left;
	unsigned filled = 0, i;

	r = elapsed > 0 ? (double)p->done / elapsed : 0;
	human_rate(r, rate, sizeof(rate));
	if (p->total > 0) {
		filled = (unsigned)((double)p->done * BAR_WIDTH /
		    (double)p->total);
		if (filled > BAR_WIDTH)
			filled = BAR_WIDTH;
		if (r > 0 && p->done < p->total) {
			left = (double)(p->total - p->done) / r;
			snprintf(eta, sizeof(eta), " ETA %u:%02u",
			    (unsigned)(left / 60), (unsigned)left % 60);
		}
	}
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	if (p->total > 0)
		fprintf(stderr, "\r%s [%s] %3u%% %" PRIu64 "/%" PRIu64
		    " %s %s/s%s\033[K", p->label, bar,
		    (unsigned)(p->done * 100 / p->total), p->done, p->total,
		    rate, p->unit, eta);
	else
		fprintf(stderr, "\r%s %" PRIu64 " %s %s/s\033[K", p->label,
		    p->done, rate, p->unit);
	fflush(stderr);
}

void
progress_update(struct progress *p, uint64_t done)
{
	double now;

	p->done = done;
	if (!p->tty)
		return;
	now = ctl_now();
	if (now - p->last < REDRAW_SECONDS)
		return;
	p->last = now;
	draw(p, now);
}

void
progress_end(struct progress *p)
{
	if (!p->tty)
		return;
	draw(p, ctl_now());
	fputc('\n', stderr);
}
