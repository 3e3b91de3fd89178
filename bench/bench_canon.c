/*
 * The per-entry cost of writing entry bytes: Jansson's json_dumpb with the
 * entry flags (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) against
 * ledger_canon_dump, over the same N entry objects built from the
 * benchmarks' events, both into one 64 KiB buffer.  The bytes are checked
 * equal first.  Median of 5 runs each, in CPU time.
 *
 *   build/bench/bench_canon [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/entry.h"
#include "ledger/jsoncanon.h"
#include "ledger/xmalloc.h"

#include "events.h"

#define RUNS 5
#define ENTRY_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), by_value);
	return v[RUNS / 2];
}

int
main(int argc, char **argv)
{
	static const uint8_t key[LEDGER_SUBJECT_KEY_LEN] = { 1 };
	static char buf[LEDGER_ENTRY_MAX + 1], other[LEDGER_ENTRY_MAX + 1];
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000, i, total = 0;
	size_t sink = 0, a, b;
	struct ledger_entry_meta meta;
	double jansson_us[RUNS], canon_us[RUNS], t0;
	char ev[1024];
	json_t **entries, *event;
	int r;

	if (n == 0)
		n = 1;
	entries = xcalloc(n, sizeof(*entries));
	memset(&meta, 0, sizeof(meta));
	meta.submitter = "police-app";
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:26:54.123456Z");
	for (i = 0; i < n; i++) {
		bench_event(i * 2654435761u + 1, NULL, ev, sizeof(ev));
		event = json_loads(ev, 0, NULL);
		meta.seq = i;
		ledger_entry_salt_new(meta.salt);
		if (event == NULL || ledger_entry_build(event, &meta, key,
		    &entries[i]) != 0) {
			fprintf(stderr, "bench_canon: cannot build entry %zu\n", i);
			return 1;
		}
		json_decref(event);
		a = json_dumpb(entries[i], buf, sizeof(buf), ENTRY_FLAGS);
		b = ledger_canon_dump(entries[i], other, sizeof(other));
		if (a == 0 || a != b || memcmp(buf, other, a) != 0) {
			fprintf(stderr, "bench_canon: entry %zu differs\n", i);
			return 1;
		}
		total += a;
	}
	for (r = 0; r < RUNS; r++) {
		t0 = cpu_now();
		for (i = 0; i < n; i++)
			sink += json_dumpb(entries[i], buf, sizeof(buf),
			    ENTRY_FLAGS);
		jansson_us[r] = (cpu_now() - t0) * 1e6 / (double)n;
		t0 = cpu_now();
		for (i = 0; i < n; i++)
			sink += ledger_canon_dump(entries[i], buf, sizeof(buf));
		canon_us[r] = (cpu_now() - t0) * 1e6 / (double)n;
	}
	printf("%zu entries of %zu bytes on average (%zu bytes written)\n", n,
	    total / n, sink);
	printf("json_dumpb:        %.3f us per entry\n", median(jansson_us));
	printf("ledger_canon_dump: %.3f us per entry\n", median(canon_us));
	printf("ratio: %.1f\n", median(jansson_us) / median(canon_us));
	for (i = 0; i < n; i++)
		json_decref(entries[i]);
	free(entries);
	return 0;
}
