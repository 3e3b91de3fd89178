/*
 * Key files: Ed25519 keys in PKCS#8 PEM, and raw secrets (the subject key),
 * written with mode 0600 and refused when group or others can read them.
 */
#ifndef LEDGER_KEYFILE_H
#define LEDGER_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/note.h"

/*
 * ledger_ed25519_generate - a fresh random Ed25519 seed.
 * Returns 0 or LEDGER_ECRYPTO.
 */
int ledger_ed25519_generate(uint8_t seed[LEDGER_ED25519_LEN]);

/*
 * ledger_keyfile_write_ed25519 - writes the seed as a PKCS#8 PEM private key
 * to path, created with mode 0600 (never overwriting: O_EXCL) and synced.
 * Returns 0, LEDGER_EIO (errno set) or LEDGER_ECRYPTO.
 */
int ledger_keyfile_write_ed25519(const char *path,
    const uint8_t seed[LEDGER_ED25519_LEN]);

/*
 * ledger_keyfile_read_ed25519 - reads a PEM Ed25519 private key.
 *	seed	out: its 32-byte seed (cleanse it after use)
 * Returns 0, LEDGER_EIO, LEDGER_EPERM when the file is group- or
 * world-readable, LEDGER_EINVAL when it is not an Ed25519 key,
 * LEDGER_ECRYPTO when OpenSSL cannot allocate.
 */
int ledger_keyfile_read_ed25519(const char *path,
    uint8_t seed[LEDGER_ED25519_LEN]);

/*
 * ledger_keyfile_write_secret / ledger_keyfile_read_secret - a raw secret of
 * exactly len bytes, mode 0600, same rules as above.
 * Return 0, LEDGER_EIO, LEDGER_EPERM or LEDGER_EINVAL (wrong length).
 */
int ledger_keyfile_write_secret(const char *path, const uint8_t *secret,
    size_t len);
int ledger_keyfile_read_secret(const char *path, uint8_t *secret, size_t len);

/*
 * ledger_file_write_new - creates path (never an existing file, never
 * through a symlink: O_CREAT | O_EXCL) with exactly mode (the umask does not
 * apply), writes buf and syncs the file and its directory.  A partly written
 * file is removed.
 * Returns 0 or LEDGER_EIO with errno set (EEXIST when path exists).
 */
int ledger_file_write_new(const char *path, const void *buf, size_t len,
    unsigned mode);

/*
 * ledger_file_secrecy_ok - 0 when path is a regular file not readable by
 * group or others, LEDGER_EPERM when it is, LEDGER_EIO when stat fails.
 */
int ledger_file_secrecy_ok(const char *path);

#endif
