/*
 * The log's side of C2SP tlog-witness for one witness: pushes the latest
 * published checkpoint with POST <url>/add-checkpoint and a consistency
 * proof from the size the witness last cosigned, adopts the size a 409
 * names, raises the alarm on a 422 (or on a 409 naming the very size it
 * sent), and backs off from a witness that does not answer.  Everything
 * runs on the event loop's thread, with non-blocking evhttp requests: a
 * slow or absent witness never holds up anything else.
 */
#ifndef LEDGERD_WITNESS_CLIENT_H
#define LEDGERD_WITNESS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/note.h"

struct server;
struct witness_client;
struct metrics_text;

/*
 * cosigned - called on the loop's thread when the witness answered 200 for
 * the checkpoint of tree_size with cosignature lines of its key that
 * verify: lines (len bytes, each line ending in a newline) are borrowed for
 * the call.  Lines of other keys in the answer are dropped.
 */
typedef void (*witness_cosigned_fn)(void *arg, const char *witness,
    uint64_t tree_size, const char *lines, size_t len);

/* The settings of one witness client. */
struct witness_client_config {
	const char *name;		/* the witness's name (its key name) */
	const struct ledger_verifier *key;	/* its cosignature key (0x04) */
	const char *url;		/* submission prefix, http:// or https:// */
	int timeout_seconds;		/* one request, connect to answer */
	int64_t min_backoff_ms;		/* first wait after a failure */
	const char *ca_file;		/* https: CA bundle, NULL: system's */
};

/*
 * witness_client_new - a client for one witness of srv's log.  Nothing is
 * sent before witness_client_offer().
 *	last_size	in: the size the witness is known to have cosigned
 *			(stored), or -1 when unknown: the first push then says
 *			old 0 and learns the size from the 409
 *	err		out: why not (a URL that is not http(s)://host[:port][/path])
 * Returns a new client (witness_client_free() it), or NULL with err filled.
 */
struct witness_client *witness_client_new(struct server *srv,
    const struct witness_client_config *cfg, int64_t last_size,
    witness_cosigned_fn cosigned, void *arg, char *err, size_t errlen);

/*
 * witness_client_offer - the latest published checkpoint: tree_size and
 * the note as the log signed it (without cosignatures; copied).  The
 * client pushes it as soon as no request of its own is under way and no
 * back-off runs, unless already_cosigned says the stored checkpoint carries
 * this witness's cosignature.  An older offer not yet pushed is dropped.
 */
void witness_client_offer(struct witness_client *wc, uint64_t tree_size,
    const char *note, size_t len, int already_cosigned);

/* witness_client_name - the witness's name; borrowed. */
const char *witness_client_name(const struct witness_client *wc);

/*
 * witness_client_metrics - appends the series of the n clients to t
 * (ledgerd_cosigning_*, one sample per client labelled witness="NAME"); the
 * HELP and TYPE lines come even when n is 0.
 */
void witness_client_metrics(struct witness_client *const *wcs, size_t n,
    struct metrics_text *t);

/*
 * witness_client_free - cancels a request under way (its callback does not
 * run) and frees wc.  NULL is allowed.
 */
void witness_client_free(struct witness_client *wc);

#endif
