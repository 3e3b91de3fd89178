/*
 * Entries as a table for people: one row each with seq, time, type, actor,
 * object and recipients, long values cut to fit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "table.h"

void
table_header(void)
{
	printf("%-7s %-27s %-7s %-24s %-20s %s\n", "SEQ", "RECEIVED_AT", "TYPE",
	    "ACTOR", "OBJECT", "RECIPIENTS / REFS");
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

void
table_row(uint64_t seq, const json_t *entry)
{
	const json_t *actor = json_object_get(entry, "actor"), *v;
	char who[128], tail[256] = "";
	size_t i, n = 0;

	snprintf(who, sizeof(who), "%s/%s", str(actor, "org"),
	    str(actor, "user"));
	json_array_foreach(json_object_get(entry, "recipients"), i, v)
		n += (size_t)snprintf(tail + n, n < sizeof(tail) ?
		    sizeof(tail) - n : 0, "%s%s", i ? "," : "",
		    json_string_value(v) ? json_string_value(v) : "?");
	json_array_foreach(json_object_get(entry, "refs"), i, v)
		if (n < sizeof(tail))
			n += (size_t)snprintf(tail + n, sizeof(tail) - n,
			    "%s%" JSON_INTEGER_FORMAT, i ? "," : " <- ",
			    json_integer_value(v));
	printf("%-7" PRIu64 " %-27.27s %-7.7s %-24.24s %-20.20s %s\n", seq,
	    str(entry, "received_at"), str(entry, "type"), who,
	    str(json_object_get(entry, "object"), "ref"), tail[0] ? tail : "-");
}
