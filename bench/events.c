/*
 * The benchmarks' events (events.h): half shares, four in ten queries, one
 * in ten advice, as the partners' traffic is expected to be.
 */
#include <stdio.h>
#include <string.h>

#include "events.h"

static const char *const orgs[] = { "police", "kmar", "aivd", "mivd", "om",
	"ind", "fiod", "fiu", "szw", "nctv" };
#define N_ORGS (sizeof(orgs) / sizeof(orgs[0]))

/* One share, query or advice with plausible fields. */
int
bench_event(uint64_t r, const char *fixed_org, char *buf, size_t cap)
{
	const char *org = fixed_org != NULL ? fixed_org : orgs[r % N_ORGS];
	const char *to = orgs[((r % N_ORGS) + 1 + (r >> 8) % (N_ORGS - 1)) % N_ORGS];

	/* With --org the actor is fixed: keep the recipient another org. */
	for (uint64_t k = 1; strcmp(to, org) == 0; k++)
		to = orgs[(r + k) % N_ORGS];
	unsigned user = (r >> 16) % 200, subject = (r >> 24) % 5000;
	unsigned kind = (r >> 40) % 10;

	if (kind < 5)
		return snprintf(buf, cap,
		    "{\"type\":\"share\",\"actor\":{\"org\":\"%s\",\"user\":\"u%03u\","
		    "\"role\":\"analyst\"},\"subjects\":[\"NL-%06u\"],\"recipients\":[\"%s\"],"
		    "\"object\":{\"ref\":\"doc-%llu\",\"digest\":\"sha256:"
		    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"},"
		    "\"purpose\":\"joint assessment of a possible threat\","
		    "\"legal_basis\":\"Wpg art. 16\",\"occurred_at\":\"2026-11-25T10:00:00Z\"}",
		    org, user, subject, to, (unsigned long long)(r >> 20));
	if (kind < 9)
		return snprintf(buf, cap,
		    "{\"type\":\"query\",\"actor\":{\"org\":\"%s\",\"user\":\"u%03u\"},"
		    "\"subjects\":[\"NL-%06u\"],\"object\":{\"ref\":\"case-%u\"},"
		    "\"purpose\":\"case review\",\"occurred_at\":\"2026-11-25T10:00:01Z\"}",
		    org, user, subject, subject % 700);
	return snprintf(buf, cap,
	    "{\"type\":\"advice\",\"actor\":{\"org\":\"%s\",\"user\":\"u%03u\"},"
	    "\"subjects\":[\"NL-%06u\"],\"recipients\":[\"%s\",\"%s\"],"
	    "\"object\":{\"ref\":\"advice-%llu\"},\"purpose\":\"joint advice\","
	    "\"occurred_at\":\"2026-11-25T10:00:02Z\",\"details\":{\"measure\":\"monitor\"}}",
	    fixed_org != NULL ? fixed_org : "nctv", user, subject, org, to,
	    (unsigned long long)(r >> 20));
}
