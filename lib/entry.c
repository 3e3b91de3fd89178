/*
 * Entry encoding (spec §2.4): the one serialisation of an event and the
 * server's fields that becomes the Merkle leaf.  The bytes made here are
 * stored and served as they are, never re-serialised.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsoncanon.h"
#include "ledger/xmalloc.h"

/* The fields the server adds; an event carrying one of them is refused. */
static const char *const server_fields[] = {
	"v", "seq", "received_at", "submitter", "prev", "salt",
};

/*
 * Salts are taken from a per-thread pool of CSPRNG bytes, refilled
 * SALT_POOL_BYTES at a time: a RAND_bytes call costs far more than 16 bytes
 * of output (a getpid for the fork check, the DRBG's reseed check and its
 * state update), and the writer makes a salt for every entry.  Bytes are
 * wiped as they are handed out, so the pool never holds a salt already
 * used.  A forked child starts with an empty pool (salt_pool_forget), so
 * it never hands out bytes its parent also will.
 */
#define SALT_POOL_BYTES (256 * LEDGER_SALT_LEN)

static _Thread_local struct {
	uint8_t bytes[SALT_POOL_BYTES];
	size_t left;		/* unused bytes, at the end of bytes */
} salt_pool;
static pthread_once_t salt_pool_once = PTHREAD_ONCE_INIT;

/* In a forked child: the one thread's pool is its parent's; drop it. */
static void
salt_pool_forget(void)
{
	OPENSSL_cleanse(salt_pool.bytes, sizeof(salt_pool.bytes));
	salt_pool.left = 0;
}

static void
salt_pool_init(void)
{
	pthread_atfork(NULL, NULL, salt_pool_forget);
}

int
ledger_entry_salt_new(uint8_t salt[LEDGER_SALT_LEN])
{
	uint8_t *p;

	pthread_once(&salt_pool_once, salt_pool_init);
	if (salt_pool.left < LEDGER_SALT_LEN) {
		if (RAND_bytes(salt_pool.bytes, sizeof(salt_pool.bytes)) != 1) {
			salt_pool_forget();
			memset(salt, 0, LEDGER_SALT_LEN);
			return LEDGER_ECRYPTO;
		}
		salt_pool.left = sizeof(salt_pool.bytes);
	}
	p = salt_pool.bytes + sizeof(salt_pool.bytes) - salt_pool.left;
	memcpy(salt, p, LEDGER_SALT_LEN);
	OPENSSL_cleanse(p, LEDGER_SALT_LEN);
	salt_pool.left -= LEDGER_SALT_LEN;
	return LEDGER_OK;
}

/*
 * A new array holding the token of each subject identifier, in order: made
 * under key, or taken from tokens (one per subject) when key is NULL.
 */
static int
tokenize_subjects(const json_t *subjects, const uint8_t *key,
    const char *const *tokens_in, json_t **out)
{
	char token[LEDGER_SUBJECT_TOKEN_LEN + 1];
	json_t *s, *tokens;
	size_t i;
	int rc;

	*out = NULL;
	if (!json_is_array(subjects))
		return LEDGER_EINVAL;
	tokens = json_array();
	json_array_foreach(subjects, i, s) {
		if (!json_is_string(s)) {
			json_decref(tokens);
			return LEDGER_EINVAL;
		}
		if (key == NULL) {
			if (!ledger_subject_token_valid(tokens_in[i],
			    strlen(tokens_in[i]))) {
				json_decref(tokens);
				return LEDGER_EINVAL;
			}
			json_array_append_new(tokens, json_string(tokens_in[i]));
			continue;
		}
		if ((rc = ledger_subject_token(key, json_string_value(s),
		    json_string_length(s), token)) != 0) {
			json_decref(tokens);
			return rc;
		}
		json_array_append_new(tokens, json_string(token));
	}
	*out = tokens;
	return LEDGER_OK;
}

/* ledger_entry_build with the subjects' tokens from key or tokens_in. */
static int
entry_build(const json_t *event, const struct ledger_entry_meta *meta,
    const uint8_t *key, const char *const *tokens_in, size_t n_tokens,
    json_t **out)
{
	char prev[LEDGER_B64_LEN(LEDGER_HASH_LEN) + 1];
	char salt[LEDGER_B64_LEN(LEDGER_SALT_LEN) + 1];
	json_t *entry = NULL, *subjects, *tokens;
	size_t i;
	int rc = LEDGER_EINVAL;

	*out = NULL;
	if (!json_is_object(event) || meta->submitter == NULL ||
	    meta->seq > (uint64_t)INT64_MAX ||
	    strlen(meta->received_at) != LEDGER_TIME_LEN ||
	    ledger_time_parse_rfc3339(meta->received_at, NULL) != 0)
		return LEDGER_EINVAL;
	for (i = 0; i < sizeof(server_fields) / sizeof(server_fields[0]); i++)
		if (json_object_get(event, server_fields[i]) != NULL)
			return LEDGER_EINVAL;

	/*
	 * A shallow copy shares the event's values, which are only read; the
	 * subjects get a new array of tokens, so the caller's event keeps its
	 * clear identifiers and none reaches the entry.
	 */
	if ((entry = json_copy((json_t *)event)) == NULL)
		goto fail;
	if ((subjects = json_object_get(entry, "subjects")) != NULL) {
		rc = LEDGER_EINVAL;
		if (key == NULL && json_array_size(subjects) != n_tokens)
			goto fail;
		if ((rc = tokenize_subjects(subjects, key, tokens_in,
		    &tokens)) != 0)
			goto fail;
		rc = LEDGER_EINVAL;
		if (json_object_set_new(entry, "subjects", tokens) != 0)
			goto fail;
	}
	ledger_b64_encode(meta->prev, LEDGER_HASH_LEN, prev);
	ledger_b64_encode(meta->salt, LEDGER_SALT_LEN, salt);
	if (json_object_set_new(entry, "v", json_integer(LEDGER_ENTRY_VERSION)) != 0 ||
	    json_object_set_new(entry, "seq", json_integer((json_int_t)meta->seq)) != 0 ||
	    json_object_set_new(entry, "received_at", json_string(meta->received_at)) != 0 ||
	    json_object_set_new(entry, "submitter", json_string(meta->submitter)) != 0 ||
	    json_object_set_new(entry, "prev", json_string(prev)) != 0 ||
	    json_object_set_new(entry, "salt", json_string(salt)) != 0)
		goto fail;
	*out = entry;
	return LEDGER_OK;
fail:
	json_decref(entry);
	return rc;
}

int
ledger_entry_build(const json_t *event, const struct ledger_entry_meta *meta,
    const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN], json_t **out)
{
	return entry_build(event, meta, subject_key, NULL, 0, out);
}

int
ledger_entry_build_tokens(const json_t *event,
    const struct ledger_entry_meta *meta, const char *const *tokens,
    size_t n_tokens, json_t **out)
{
	*out = NULL;
	if (tokens == NULL && n_tokens > 0)
		return LEDGER_EINVAL;
	return entry_build(event, meta, NULL, tokens, n_tokens, out);
}

int
ledger_entry_dump(const json_t *entry, char **out, size_t *len)
{
	/*
	 * What json_dumpb writes with JSON_COMPACT | JSON_SORT_KEYS |
	 * JSON_ENSURE_ASCII, byte for byte (jsoncanon.h); without
	 * JSON_ENCODE_ANY it refuses a bare value at the top.
	 */
	*out = NULL;
	*len = 0;
	if (!json_is_object(entry) && !json_is_array(entry))
		return LEDGER_EINVAL;
	return ledger_canon_dump_alloc(entry, LEDGER_ENTRY_MAX, out, len);
}

int
ledger_entry_encode(const json_t *event, const struct ledger_entry_meta *meta,
    const uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN], char **out, size_t *len)
{
	json_t *entry;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = ledger_entry_build(event, meta, subject_key, &entry)) != 0)
		return rc;
	rc = ledger_entry_dump(entry, out, len);
	json_decref(entry);
	return rc;
}
