/*
 * The CPU one document's parse costs, json_loadb against
 * ledger_json_parse, parse and json_decref: over N of the benchmarks'
 * events (what the append routes parse, with JSON_REJECT_DUPLICATES) and
 * over N entries built from them (what every reader of the store parses,
 * flags 0).  Median of 5 runs each; each run first checks that both give
 * the same trees.
 *
 *   build/bench/bench_jsonparse [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/entry.h"
#include "ledger/jsonparse.h"
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

/* µs per document, median of RUNS, with fast or with json_loadb. */
static double
time_parse(char **docs, size_t *len, size_t n, size_t flags, int fast)
{
	double us[RUNS], t0;
	json_t *j;
	size_t i;
	int r;

	for (r = 0; r < RUNS; r++) {
		t0 = cpu_now();
		for (i = 0; i < n; i++) {
			j = fast ? ledger_json_parse(docs[i], len[i], flags) :
			    json_loadb(docs[i], len[i], flags, NULL);
			if (j == NULL) {
				fprintf(stderr, "bench_jsonparse: document %zu "
				    "refused\n", i);
				exit(1);
			}
			json_decref(j);
		}
		us[r] = (cpu_now() - t0) * 1e6 / (double)n;
	}
	return median(us);
}

static void
report(const char *what, char **docs, size_t *len, size_t n, size_t flags)
{
	double slow, fast;
	size_t i, total = 0;
	json_t *a, *b;

	for (i = 0; i < n; i++) {
		total += len[i];
		a = json_loadb(docs[i], len[i], flags, NULL);
		b = ledger_json_parse(docs[i], len[i], flags);
		if (a == NULL || b == NULL || !json_equal(a, b)) {
			fprintf(stderr, "bench_jsonparse: document %zu differs\n",
			    i);
			exit(1);
		}
		json_decref(a);
		json_decref(b);
	}
	slow = time_parse(docs, len, n, flags, 0);
	fast = time_parse(docs, len, n, flags, 1);
	printf("%s: %zu documents of %zu bytes on average\n", what, n,
	    total / n);
	printf("  json_loadb:        %.3f us per document\n", slow);
	printf("  ledger_json_parse: %.3f us per document\n", fast);
	printf("  ratio: %.1f\n", slow / fast);
}

int
main(int argc, char **argv)
{
	static const uint8_t key[LEDGER_SUBJECT_KEY_LEN] = { 1 };
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000, i;
	struct ledger_entry_meta meta;
	char **events, **entries, ev[1024];
	size_t *ev_len, *en_len;
	json_t *event;

	if (n == 0)
		n = 1;
	events = xcalloc(n, sizeof(*events));
	entries = xcalloc(n, sizeof(*entries));
	ev_len = xcalloc(n, sizeof(*ev_len));
	en_len = xcalloc(n, sizeof(*en_len));
	memset(&meta, 0, sizeof(meta));
	meta.submitter = "police-app";
	snprintf(meta.received_at, sizeof(meta.received_at),
	    "2026-03-14T09:26:54.123456Z");
	for (i = 0; i < n; i++) {
		ev_len[i] = (size_t)bench_event(i * 2654435761u + 1, NULL, ev,
		    sizeof(ev));
		events[i] = xmalloc(ev_len[i]);
		memcpy(events[i], ev, ev_len[i]);
		event = json_loadb(ev, ev_len[i], 0, NULL);
		meta.seq = i;
		ledger_entry_salt_new(meta.salt);
		if (event == NULL || ledger_entry_encode(event, &meta, key,
		    &entries[i], &en_len[i]) != 0) {
			fprintf(stderr, "bench_jsonparse: cannot build entry "
			    "%zu\n", i);
			return 1;
		}
		json_decref(event);
	}
	report("events (JSON_REJECT_DUPLICATES)", events, ev_len, n,
	    JSON_REJECT_DUPLICATES);
	report("stored entries (flags 0)", entries, en_len, n, 0);
	for (i = 0; i < n; i++) {
		free(events[i]);
		free(entries[i]);
	}
	free(events);
	free(entries);
	free(ev_len);
	free(en_len);
	return 0;
}
