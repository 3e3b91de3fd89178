/*
 * ledgerctl prove SEQ: an entry's inclusion in the signed tree; ledgerctl
 * consistency OLD NEW: that the tree of NEW leaves extends the tree of OLD
 * leaves, both anchored in the latest signed checkpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "published.h"
#include "tiles.h"
#include "tlog_proof.h"

static const char prove_usage[] =
    "usage: ledgerctl prove [options] SEQ\n"
    "Fetches entry SEQ, the latest checkpoint and the inclusion proof, and\n"
    "verifies that the entry's bytes are leaf SEQ of the signed tree.\n"
    "  --tlog-proof    print the proof as a C2SP tlog-proof\n";

static const char consistency_usage[] =
    "usage: ledgerctl consistency [options] OLD NEW\n"
    "Verifies that the tree of NEW leaves extends the tree of OLD leaves.\n"
    "The roots of both sizes are recomputed from the public hash tiles and\n"
    "anchored in the latest signed checkpoint by a consistency proof.\n";

static json_t *
hashes_json(uint8_t proof[][LEDGER_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	char b64[48];
	size_t i;

	for (i = 0; i < n; i++) {
		ctl_hash_b64(proof[i], b64);
		json_array_append_new(a, json_string(b64));
	}
	return a;
}

int
cmd_prove(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "tlog-proof", no_argument, NULL, 't' }, { NULL, 0, NULL, 0 } };
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], leaf[LEDGER_HASH_LEN];
	struct ledger_checkpoint cp;
	struct http_reply r = { 0 };
	char target[64], root[48], leaf_b64[48], *note = NULL, *text;
	uint64_t seq;
	size_t n;
	json_t *out;
	int c, rc, tlog = 0;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s%s", prove_usage, CTL_COMMON_HELP);
			return EXIT_OK;
		}
		if (c == 't')
			tlog = 1;
		else if (!ctl_common_option(ctl, c, optarg))
			return ctl_usage_error("prove", "bad option");
	}
	if (argc - optind != 1 || ctl_parse_u64(argv[optind], &seq) != 0)
		return ctl_usage_error("prove", "give one SEQ");
	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	snprintf(target, sizeof(target), "/v1/events/%" PRIu64, seq);
	if ((rc = ctl_get(ctl, target, &r)) != 0)
		goto out;
	/* An entry just written is in the published checkpoint within an interval. */
	if ((rc = ctl_fetch_checkpoint_covering(ctl, seq + 1, &cp,
	    &note)) != 0 ||
	    (rc = ctl_verify_entry(ctl, seq, r.body, r.len, &cp, proof,
	    &n)) != 0)
		goto out;
	ledger_leaf_hash(r.body, r.len, leaf);
	ctl_hash_b64(leaf, leaf_b64);
	ctl_hash_b64(cp.root, root);
	if (tlog) {
		text = tlog_proof_format(seq, (const uint8_t (*)[LEDGER_HASH_LEN])
		    proof, n, note);
		fputs(text, stdout);
		free(text);
	} else if (ctl->json) {
		out = json_pack("{s:I, s:I, s:s, s:s, s:o, s:s, s:b}",
		    "seq", (json_int_t)seq, "tree_size", (json_int_t)cp.tree_size,
		    "root", root, "leaf_hash", leaf_b64,
		    "proof", hashes_json(proof, n), "checkpoint", note,
		    "verified", 1);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else
		printf("entry %" PRIu64 " is included in the signed tree\n"
		    "  leaf hash  %s\n  tree size  %" PRIu64 "\n  root       %s\n"
		    "  proof      %zu hashes, verified\n", seq, leaf_b64,
		    cp.tree_size, root, n);
out:
	http_reply_free(&r);
	free(note);
	return rc;
}

int
cmd_consistency(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { NULL, 0, NULL, 0 } };
	uint8_t proof[LEDGER_MAX_PROOF][LEDGER_HASH_LEN], root[LEDGER_HASH_LEN];
	struct ledger_checkpoint cp, old_cp, new_cp;
	struct ledger_hash_store hs;
	struct tile_store *ts = NULL;
	char old_b64[48], new_b64[48];
	size_t n;
	uint64_t old_size, new_size;
	json_t *out;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s%s", consistency_usage, CTL_COMMON_HELP);
			return EXIT_OK;
		}
		if (!ctl_common_option(ctl, c, optarg))
			return ctl_usage_error("consistency", "bad option");
	}
	if (argc - optind != 2 || ctl_parse_u64(argv[optind], &old_size) != 0 ||
	    ctl_parse_u64(argv[optind + 1], &new_size) != 0 ||
	    old_size > new_size)
		return ctl_usage_error("consistency", "give two tree sizes, "
		    "OLD <= NEW");
	if ((rc = ctl_fetch_checkpoint(ctl, &cp, NULL)) != 0)
		return rc;
	if (new_size > cp.tree_size)
		return ctl_fail(EXIT_USAGE, "the signed tree has only %" PRIu64
		    " leaves", cp.tree_size);
	ts = tile_store_new(ctl, cp.tree_size, 64);
	hs = tile_store_hash_store(ts);
	old_cp = cp;
	new_cp = cp;
	old_cp.tree_size = old_size;
	new_cp.tree_size = new_size;
	/*
	 * The tiles are believed only once they lead to the signed root;
	 * then both roots, and the RFC 9162 proof between them, come from
	 * that tree.
	 */
	if ((rc = ledger_merkle_root(&hs, cp.tree_size, root)) == 0 &&
	    memcmp(root, cp.root, LEDGER_HASH_LEN) != 0)
		rc = LEDGER_EVERIFY;
	if (rc == 0 && (rc = ledger_merkle_root(&hs, old_size,
	    old_cp.root)) == 0 && (rc = ledger_merkle_root(&hs, new_size,
	    new_cp.root)) == 0)
		rc = ledger_merkle_consistency_proof(&hs, old_size, new_size,
		    proof, &n);
	if (rc != 0) {
		rc = rc == LEDGER_EIO ? EXIT_SERVER : ctl_verify_fail("the hash "
		    "tiles do not lead to the root of the signed checkpoint "
		    "(size %" PRIu64 "): %s", cp.tree_size, ledger_strerror(rc));
		goto out;
	}
	if (ledger_merkle_verify_consistency(old_size, new_size, old_cp.root,
	    new_cp.root, proof, n) != 0) {
		rc = ctl_verify_fail("the consistency proof from %" PRIu64
		    " to %" PRIu64 " does not verify", old_size, new_size);
		goto out;
	}
	ctl_hash_b64(old_cp.root, old_b64);
	ctl_hash_b64(new_cp.root, new_b64);
	if (ctl->json) {
		out = json_pack("{s:I, s:s, s:I, s:s, s:I, s:b}", "old",
		    (json_int_t)old_size, "old_root", old_b64, "new",
		    (json_int_t)new_size, "new_root", new_b64,
		    "checkpoint_size", (json_int_t)cp.tree_size, "verified", 1);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else
		printf("the tree of %" PRIu64 " leaves extends the tree of %"
		    PRIu64 "\n  old root  %s\n  new root  %s\n  anchored in "
		    "the signed checkpoint of size %" PRIu64 "\n", new_size,
		    old_size, old_b64, new_b64, cp.tree_size);
out:
	tile_store_free(ts);
	return rc;
}
