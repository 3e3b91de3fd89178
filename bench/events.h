/*
 * The benchmarks' events: shares, queries and advice with plausible
 * fields, among ten organisations, 200 users and 5,000 subjects.
 */
#ifndef BENCH_EVENTS_H
#define BENCH_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/*
 * bench_event - writes the event chosen by the random number r into buf (a
 * JSON object of at most about 700 bytes).  With org, every event's actor is
 * of that organisation.  Returns the length, as snprintf does.
 */
int bench_event(uint64_t r, const char *org, char *buf, size_t cap);

#endif
