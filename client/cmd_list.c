/*
 * ledgerctl list: the filtered listing of GET /v1/events, page after page,
 * as a table or as the entries' bytes one a line (--json).  A page is
 * printed once all of it has been read (and with --verify proven).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/xmalloc.h"

#include "ctl.h"
#include "published.h"
#include "table.h"

static const char usage_text[] =
    "usage: ledgerctl list [options]\n"
    "Lists entries, oldest first, with the API's filters:\n"
    "  --type T  --org ORG  --user USER (needs --org)  --recipient ORG\n"
    "  --since TIME  --until TIME (RFC 3339, on received_at)\n"
    "  --limit N     stop after N entries (default: all pages)\n"
    "  --verify      prove each entry's inclusion (needs --key)\n"
    "--json prints each entry's bytes, one a line.\n";

int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "type", required_argument, NULL, 't' },
	    { "org", required_argument, NULL, 'o' },
	    { "user", required_argument, NULL, 'u' },
	    { "recipient", required_argument, NULL, 'r' },
	    { "since", required_argument, NULL, 's' },
	    { "until", required_argument, NULL, 'U' },
	    { "limit", required_argument, NULL, 'l' },
	    { "verify", no_argument, NULL, 'v' },
	    { NULL, 0, NULL, 0 } };
	const char *type = NULL, *org = NULL, *user = NULL, *recipient = NULL;
	const char *since = NULL, *until = NULL, *cursor, *bytes;
	struct ledger_checkpoint cp;
	uint64_t limit = UINT64_MAX, shown = 0;
	char *query = xstrdup(""), *target = NULL, *next = NULL;
	json_t *page = NULL, *rows = NULL, *ev, *entry;
	int c, rc = 0, verify = 0, header_shown = 0;
	size_t i, len;
	uint64_t seq;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			free(query);
			return EXIT_OK;
		case 't': type = optarg; break;
		case 'o': org = optarg; break;
		case 'u': user = optarg; break;
		case 'r': recipient = optarg; break;
		case 's': since = optarg; break;
		case 'U': until = optarg; break;
		case 'v': verify = 1; break;
		case 'l':
			if (ctl_parse_u64(optarg, &limit) != 0 || limit == 0) {
				free(query);
				return ctl_usage_error("list", "--limit must "
				    "be a positive number");
			}
			break;
		default:
			if (!ctl_common_option(ctl, c, optarg)) {
				free(query);
				return ctl_usage_error("list", "bad option");
			}
		}
	}
	if (optind != argc)
		rc = ctl_usage_error("list", "no arguments expected");
	else if (user != NULL && org == NULL)
		rc = ctl_usage_error("list", "--user needs --org: user ids are "
		    "unique within an org");
	else if ((rc = ctl_check_range("list", since, until)) == 0 &&
	    (rc = ctl_check_type("list", type, 1)) == 0 &&
	    (rc = ctl_check_org("list", "--org", org)) == 0 &&
	    (rc = ctl_check_org("list", "--recipient", recipient)) == 0)
		rc = ctl_check_id("list", "--user", user);
	if (rc != 0) {
		free(query);
		return rc;
	}
	http_query_add(&query, "type", type);
	http_query_add(&query, "org", org);
	http_query_add(&query, "user", user);
	http_query_add(&query, "recipient", recipient);
	http_query_add(&query, "since", since);
	http_query_add(&query, "until", until);
	if (verify && (rc = ctl_fetch_checkpoint(ctl, &cp, NULL)) != 0)
		goto out;
	for (;;) {
		free(target);
		target = next == NULL ? xasprintf("/v1/events%s", query) :
		    xasprintf("/v1/events%s%ccursor=%s", query,
		    query[0] ? '&' : '?', next);
		if ((rc = ctl_get_json(ctl, target, &page)) != 0)
			goto out;
		/* All of the page is read (and proven) before any shows. */
		rows = json_array();
		json_array_foreach(json_object_get(page, "events"), i, ev) {
			if (shown + json_array_size(rows) >= limit)
				break;
			bytes = json_string_value(json_object_get(ev, "entry"));
			if (bytes == NULL || !json_is_integer(json_object_get(ev,
			    "seq")) || json_integer_value(json_object_get(ev,
			    "seq")) < 0) {
				rc = ctl_fail(EXIT_SERVER, "a listed event has "
				    "no entry or no seq");
				goto out;
			}
			seq = (uint64_t)json_integer_value(json_object_get(ev,
			    "seq"));
			len = json_string_length(json_object_get(ev, "entry"));
			/* Newer than the published checkpoint: wait for one. */
			if (verify && seq >= cp.tree_size &&
			    (rc = ctl_fetch_checkpoint_covering(ctl, seq + 1,
			    &cp, NULL)) != 0)
				goto out;
			if (verify && (rc = ctl_verify_entry(ctl, seq, bytes,
			    len, &cp, NULL, NULL)) != 0)
				goto out;
			/* Shown only as the daemon reads it, proven or not. */
			if ((rc = ctl_entry_open(seq, bytes, len, &entry)) != 0)
				goto out;
			if ((rc = ctl_entry_opened(seq, &entry,
			    json_object_get(ev, "opened"))) != 0 || (verify &&
			    (rc = ctl_check_destroyed(ctl, &cp, seq,
			    json_object_get(ev, "opened"))) != 0)) {
				json_decref(entry);
				goto out;
			}
			json_array_append_new(rows, entry);
		}
		if (!ctl->json && !header_shown) {
			table_header();
			header_shown = 1;
		}
		json_array_foreach(json_object_get(page, "events"), i, ev) {
			if (i >= json_array_size(rows))
				break;
			if (ctl->json)
				printf("%s\n", json_string_value(
				    json_object_get(ev, "entry")));
			else
				table_row((uint64_t)json_integer_value(
				    json_object_get(ev, "seq")),
				    json_array_get(rows, i));
		}
		shown += json_array_size(rows);
		json_decref(rows);
		rows = NULL;
		/* A reader that has gone (`| head`) ends us here: SIGPIPE. */
		if (fflush(stdout) != 0) {
			rc = ctl_fail(EXIT_IO, "cannot write the output: %s",
			    strerror(errno));
			goto out;
		}
		cursor = json_string_value(json_object_get(page, "next_cursor"));
		free(next);
		next = cursor != NULL && shown < limit ? http_path_escape(cursor) :
		    NULL;
		json_decref(page);
		page = NULL;
		if (next == NULL)
			break;
	}
	if (!ctl->json)
		fprintf(stderr, "%" PRIu64 " entries%s\n", shown,
		    verify ? ", each proven included" : "");
out:
	json_decref(rows);
	json_decref(page);
	free(next);
	free(target);
	free(query);
	return rc;
}
