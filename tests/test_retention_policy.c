/*
 * The retention policy's one reading (spec §2.11): the configuration's and
 * the policy entries' form, its refusals naming the member, and the
 * calendar arithmetic behind restriction and destruction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/retention.h"

#include "testlib.h"

static int64_t
at(const char *s)
{
	int64_t us = 0;

	if (ledger_time_parse_rfc3339(s, &us) != 0)
		fprintf(stderr, "bad time %s\n", s);
	return us;
}

static void
test_defaults_and_json(void)
{
	struct ledger_retention p;
	char field[64], msg[128], *text;
	json_t *o;

	o = json_object();
	CHECK_INT(ledger_retention_from_json(o, &p, field, sizeof(field), msg,
	    sizeof(msg)), 0);
	json_decref(o);
	o = ledger_retention_to_json(&p);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(text, "{\"destroy_after\":\"10y\",\"period\":\"quarter\","
	    "\"restrict_after\":\"5y\",\"sealed_fields\":[\"purpose\",\"details\"]}");
	free(text);
	json_decref(o);

	/* Any order in, one order out. */
	o = json_loads("{\"period\":\"month\",\"restrict_after\":\"18m\","
	    "\"destroy_after\":\"3650d\",\"sealed_fields\":[\"details\","
	    "\"legal_basis\",\"purpose\"]}", 0, NULL);
	CHECK_INT(ledger_retention_from_json(o, &p, field, sizeof(field), msg,
	    sizeof(msg)), 0);
	json_decref(o);
	CHECK_STR(p.period, "month");
	CHECK_INT(p.restrict_after.months, 18);
	CHECK_INT(p.destroy_after.days, 3650);
	CHECK_INT(p.n_sealed, 3);
	CHECK_STR(p.sealed[0], "purpose");
	CHECK_STR(p.sealed[2], "details");
}

static void
test_refusals(void)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{ "{\"periods\":\"quarter\"}", "periods" },
		{ "{\"period\":\"week\"}", "period" },
		{ "{\"restrict_after\":\"5\"}", "restrict_after" },
		{ "{\"restrict_after\":\"05y\"}", "restrict_after" },
		{ "{\"restrict_after\":5}", "restrict_after" },
		{ "{\"destroy_after\":\"10000y\"}", "destroy_after" },
		{ "{\"destroy_after\":\"0y\"}", "destroy_after" },
		{ "{\"restrict_after\":\"11y\"}", "restrict_after" },
		{ "{\"sealed_fields\":\"purpose\"}", "sealed_fields" },
		{ "{\"sealed_fields\":[\"purpose\",\"subjects\"]}", "sealed_fields[1]" },
		{ "{\"sealed_fields\":[\"details\",\"details\"]}", "sealed_fields[1]" },
		{ "[]", "" },
	};
	struct ledger_retention p;
	char field[64], msg[128];
	size_t i;
	json_t *o;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		REQUIRE(o != NULL);
		CHECK_INT(ledger_retention_from_json(o, &p, field, sizeof(field),
		    msg, sizeof(msg)), LEDGER_EINVAL);
		CHECK_STR(field, cases[i].field);
		json_decref(o);
	}
}

static void
test_calendar(void)
{
	struct ledger_retention p;
	struct ledger_duration d;
	int64_t end;

	ledger_retention_default(&p);
	CHECK_INT(ledger_duration_parse("1y", &d), 0);
	CHECK(ledger_duration_add(at("2024-02-29T12:00:00.5Z"), &d) ==
	    at("2025-03-01T12:00:00.5Z"));
	CHECK_INT(ledger_period_end("2026-Q4", &end), 0);
	CHECK(end == at("2027-01-01T00:00:00Z"));
	CHECK_INT(ledger_period_end("2026-Q1", &end), 0);
	CHECK(end == at("2026-04-01T00:00:00Z"));
	CHECK_INT(ledger_period_end("2026-12", &end), 0);
	CHECK(end == at("2027-01-01T00:00:00Z"));
	CHECK_INT(ledger_period_end("2026", &end), 0);
	CHECK(end == at("2027-01-01T00:00:00Z"));
	CHECK_INT(ledger_period_end("legacy", &end), LEDGER_EINVAL);
	CHECK_INT(ledger_period_end("2026-Q5", &end), LEDGER_EINVAL);
	CHECK_INT(ledger_period_end("2026-13", &end), LEDGER_EINVAL);

	/* Ten years after the quarter ends, not after its first entry. */
	CHECK(!ledger_retention_due(&p, "2016-Q4", at("2026-12-31T23:59:59Z")));
	CHECK(ledger_retention_due(&p, "2016-Q4", at("2027-01-01T00:00:00Z")));
	CHECK(!ledger_retention_due(&p, "legacy", at("9999-01-01T00:00:00Z")));
	CHECK(!ledger_retention_restricted(&p, at("2021-06-01T00:00:00Z"),
	    at("2026-05-31T23:59:59Z")));
	CHECK(ledger_retention_restricted(&p, at("2021-06-01T00:00:00Z"),
	    at("2026-06-01T00:00:00Z")));
}

int
main(void)
{
	RUN(test_defaults_and_json);
	RUN(test_refusals);
	RUN(test_calendar);
	return TEST_SUMMARY();
}
