/*
 * SHA-256 through OpenSSL's EVP interface, and the RFC 9162 §2.1 leaf and
 * node hashes built on it.
 */
#ifndef LEDGER_HASH_H
#define LEDGER_HASH_H

#include <stddef.h>
#include <stdint.h>

#define LEDGER_HASH_LEN 32

/*
 * ledger_sha256 - SHA-256 of one buffer.
 *	data, len	in: the bytes (data may be NULL when len is 0)
 *	out		out: the 32-byte digest
 * Returns 0, or LEDGER_ECRYPTO when OpenSSL fails.
 */
int ledger_sha256(const void *data, size_t len, uint8_t out[LEDGER_HASH_LEN]);

/*
 * ledger_sha256_2 - SHA-256 of two buffers, concatenated.
 * Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[LEDGER_HASH_LEN]);

/*
 * ledger_leaf_hash - RFC 9162 leaf hash, SHA-256(0x00 || entry).
 * Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_leaf_hash(const void *entry, size_t len, uint8_t out[LEDGER_HASH_LEN]);

/*
 * ledger_node_hash - RFC 9162 interior node hash, SHA-256(0x01 || left || right).
 * out may alias left or right.  Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_node_hash(const uint8_t left[LEDGER_HASH_LEN],
    const uint8_t right[LEDGER_HASH_LEN], uint8_t out[LEDGER_HASH_LEN]);

/* ledger_empty_tree_hash - the root of the empty tree, SHA-256(""). */
void ledger_empty_tree_hash(uint8_t out[LEDGER_HASH_LEN]);

#endif
