/*
 * The MANIFEST of a compliance bundle: one line per file, "<SHA-256 in
 * lowercase hex>  <name>\n" (the sha256sum format), names in byte order.
 */
#ifndef LEDGERCTL_MANIFEST_H
#define LEDGERCTL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

/* The files of a bundle, in MANIFEST order. */
#define BUNDLE_NFILES 8
extern const char *const bundle_files[BUNDLE_NFILES];

/*
 * The bundle's README: what the files are, how to check them, and the CSV
 * formula guard.  verify-export wants exactly this text, so that what a
 * reader is told cannot be edited.
 */
extern const char bundle_readme[];

struct ctl;

/*
 * bundle_verify - verify-export's checks of the bundle in dir (see
 * docs/ledgerctl.md), with ctl's key.  Problems go to stderr; with print,
 * what was proven goes to stdout (as JSON with --json), only once every
 * check has passed.
 *	headline	in (may be NULL): a line printed first, with print and
 *			without --json, when the bundle verifies
 * Returns EXIT_OK, EXIT_VERIFY (printed) or EXIT_IO.
 */
int bundle_verify(struct ctl *ctl, const char *dir, int print,
    const char *headline);

/* file_sha256 - SHA-256 of a file, read in pieces; 0 or -1 (errno). */
int file_sha256(const char *path, uint8_t out[32]);

/* manifest_write - hashes the bundle's files into DIR/MANIFEST; 0 or -1. */
int manifest_write(const char *dir);

/*
 * manifest_check - reads DIR/MANIFEST and compares every listed hash.
 * report is called once per problem with a message.
 * Returns the number of problems.
 */
size_t manifest_check(const char *dir, void (*report)(void *arg,
    const char *msg), void *arg);

#endif
