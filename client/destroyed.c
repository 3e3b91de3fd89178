/*
 * A sealed value the server calls destroyed (spec §2.10, §2.12) is a claim
 * that would otherwise let a server withhold any value it likes: "it is
 * gone".  ledgerctl believes it only on the log's own record of the
 * destruction, proven like any entry.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ledger/checkpoint.h"

#include "ctl.h"
#include "published.h"

/* The destruction entry seq's periods, fetched and proven once a command. */
static int
destruction_periods(struct ctl *ctl, const struct ledger_checkpoint *cp,
    uint64_t seq, uint64_t of, const json_t **periods)
{
	struct ledger_checkpoint covering;
	struct http_reply r;
	json_t *entry = NULL;
	char key[24], target[64];
	const char *type, *submitter;
	int rc;

	snprintf(key, sizeof(key), "%" PRIu64, seq);
	if (ctl->destructions == NULL)
		ctl->destructions = json_object();
	if ((*periods = json_object_get(ctl->destructions, key)) != NULL)
		return 0;
	/* Written after the answer's tree, at the latest now: wait for it. */
	if (seq >= cp->tree_size) {
		if ((rc = ctl_fetch_checkpoint_covering(ctl, seq + 1, &covering,
		    NULL)) != 0)
			return rc;
		cp = &covering;
	}
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64, seq);
	if ((rc = ctl_get(ctl, target, &r)) != 0)
		return ctl_verify_fail("seq %" PRIu64 ": the server says a value "
		    "was destroyed by entry %" PRIu64 ", which cannot be read",
		    of, seq);
	rc = ctl_verify_entry(ctl, seq, r.body, r.len, cp, NULL, NULL);
	if (rc == 0)
		rc = ctl_entry_open(seq, r.body, r.len, &entry);
	http_reply_free(&r);
	if (rc != 0)
		return rc;
	type = json_string_value(json_object_get(entry, "type"));
	submitter = json_string_value(json_object_get(entry, "submitter"));
	if (type == NULL || strcmp(type, "destruction") != 0 ||
	    submitter == NULL || strcmp(submitter, "ledgerd") != 0 ||
	    !json_is_array(json_object_get(json_object_get(entry, "details"),
	    "periods"))) {
		json_decref(entry);
		return ctl_verify_fail("seq %" PRIu64 ": the server says a value "
		    "was destroyed by entry %" PRIu64 ", which is not a "
		    "destruction entry", of, seq);
	}
	json_object_set(ctl->destructions, key, json_object_get(
	    json_object_get(entry, "details"), "periods"));
	json_decref(entry);
	*periods = json_object_get(ctl->destructions, key);
	return 0;
}

/* Whether one of the destroyed periods holds entry seq. */
static int
periods_hold(const json_t *periods, uint64_t seq)
{
	const json_t *p, *first, *last;
	size_t i;

	json_array_foreach(periods, i, p) {
		first = json_object_get(p, "first_seq");
		last = json_object_get(p, "last_seq");
		if (json_is_integer(first) && json_is_integer(last) &&
		    json_integer_value(first) >= 0 &&
		    (uint64_t)json_integer_value(first) <= seq &&
		    json_integer_value(last) >= 0 &&
		    seq <= (uint64_t)json_integer_value(last))
			return 1;
	}
	return 0;
}

int
ctl_check_destroyed(struct ctl *ctl, const struct ledger_checkpoint *cp,
    uint64_t seq, const json_t *opened)
{
	const json_t *marker, *by, *periods;
	const char *field;
	uint64_t n;
	int rc;

	json_object_foreach((json_t *)opened, field, marker) {
		if ((by = json_object_get(marker, "destroyed")) == NULL)
			continue;
		if (!json_is_integer(by) || json_integer_value(by) < 0)
			return ctl_verify_fail("seq %" PRIu64 ": the destroyed "
			    "marker of %s names no entry", seq, field);
		n = (uint64_t)json_integer_value(by);
		/* A destruction records entries before it, never itself. */
		if (n <= seq)
			return ctl_verify_fail("seq %" PRIu64 ": %s is said to "
			    "be destroyed by entry %" PRIu64 ", which is not "
			    "after it", seq, field, n);
		if ((rc = destruction_periods(ctl, cp, n, seq, &periods)) != 0)
			return rc;
		if (!periods_hold(periods, seq))
			return ctl_verify_fail("seq %" PRIu64 ": %s is said to "
			    "be destroyed by entry %" PRIu64 ", which destroyed "
			    "no period holding it", seq, field, n);
	}
	return 0;
}
