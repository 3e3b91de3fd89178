/*
 * The per-entry cost of deciding that entry bytes are canonical: the
 * one-pass scanner (ledger_entry_scan, with its view) against the full
 * reading (ledger_entry_parse: parse, dump and compare, field and event
 * checks), over N entries built from the benchmarks' events.  Median of 5
 * runs each, in CPU time.
 *
 *   build/bench/bench_entry_scan [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/entry.h"
#include "ledger/xmalloc.h"

#include "events.h"

#define RUNS 5

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
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000, i, total = 0;
	struct ledger_entry_meta meta;
	struct ledger_entry_view view;
	double scan_us[RUNS], parse_us[RUNS], t0;
	char **bytes, ev[1024];
	size_t *len;
	json_t *event, *entry;
	int r, canonical = 0;

	if (n == 0)
		n = 1;
	bytes = xcalloc(n, sizeof(*bytes));
	len = xcalloc(n, sizeof(*len));
	memset(&meta, 0, sizeof(meta));
	meta.submitter = "police-app";
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:26:54.123456Z");
	for (i = 0; i < n; i++) {
		bench_event(i * 2654435761u + 1, NULL, ev, sizeof(ev));
		event = json_loads(ev, 0, NULL);
		meta.seq = i;
		ledger_entry_salt_new(meta.salt);
		if (event == NULL || ledger_entry_encode(event, &meta, key,
		    &bytes[i], &len[i]) != 0) {
			fprintf(stderr, "bench_entry_scan: cannot build entry %zu\n", i);
			return 1;
		}
		json_decref(event);
		total += len[i];
	}
	for (r = 0; r < RUNS; r++) {
		canonical = 0;
		t0 = cpu_now();
		for (i = 0; i < n; i++)
			canonical += ledger_entry_scan(bytes[i], len[i], &view) ==
			    LEDGER_SCAN_CANONICAL;
		scan_us[r] = (cpu_now() - t0) * 1e6 / (double)n;
		t0 = cpu_now();
		for (i = 0; i < n; i++) {
			if (ledger_entry_parse(bytes[i], len[i], &entry, NULL) != 0) {
				fprintf(stderr, "bench_entry_scan: entry %zu "
				    "refused\n", i);
				return 1;
			}
			json_decref(entry);
		}
		parse_us[r] = (cpu_now() - t0) * 1e6 / (double)n;
	}
	printf("%zu entries of %zu bytes on average; %d decided canonical by "
	    "the scanner\n", n, total / n, canonical);
	printf("ledger_entry_scan:  %.3f us per entry (%.0f k entries per CPU "
	    "second)\n", median(scan_us), 1e3 / median(scan_us));
	printf("ledger_entry_parse: %.3f us per entry (%.0f k entries per CPU "
	    "second)\n", median(parse_us), 1e3 / median(parse_us));
	printf("ratio: %.1f\n", median(parse_us) / median(scan_us));
	for (i = 0; i < n; i++)
		free(bytes[i]);
	free(bytes);
	free(len);
	return 0;
}
