/*
 * The answer to an append the writer accepted (spec §7.4): as a JSON
 * object, and as its text written directly, the way the hot paths send it
 * (a batch of ten thousand events would otherwise build and dump forty
 * thousand JSON values for one answer).
 */
#ifndef LEDGERD_APPEND_ANSWER_H
#define LEDGERD_APPEND_ANSWER_H

#include <stddef.h>

#include <jansson.h>

#include "writer.h"

/*
 * append_answer - the answer object of a (batch: POST /v1/events/batch,
 * else POST /v1/events), with the checkpoint and inclusion proof when it
 * asked for them.  Any thread.  Returns a new reference.
 */
json_t *append_answer(const struct append_request *a, int batch);

/*
 * append_answer_text - the bytes json_dumps(append_answer(a, batch),
 * JSON_COMPACT) gives, written directly (tests/test_append_answer.c holds
 * them equal).  Any thread.
 *	len	out: its length
 * Returns malloc'ed, NUL-terminated text.
 */
char *append_answer_text(const struct append_request *a, int batch, size_t *len);

/*
 * append_answer_set_proof - sets body's "checkpoint" (the note, len bytes)
 * and "inclusion_proof" of entry index in tree_size (leaf, n hashes of
 * proof), as ?wait=checkpoint and ?wait=witnessed answer.  Any thread.
 */
void append_answer_set_proof(json_t *body, const char *checkpoint,
    size_t checkpoint_len, uint64_t index, uint64_t tree_size,
    const uint8_t leaf[LEDGER_HASH_LEN],
    const uint8_t (*proof)[LEDGER_HASH_LEN], size_t n);

#endif
