/*
 * A published checkpoint as stored and served: the log's signed note, then
 * the witness cosignature lines collected for it (spec §5.4, §10.6).  These
 * functions edit the signature lines of such a note; none checks a
 * signature.
 */
#ifndef LEDGERD_COSIGNED_H
#define LEDGERD_COSIGNED_H

#include <stddef.h>

/*
 * cosigned_merge - note with the signature lines of lines added: a line of
 * a key the note already has a line of (same key name and key ID, the first
 * four bytes of the signature blob) takes that line's place, the others
 * follow the note's lines in their order.
 *	note, len	in: a signed note (text, empty line, signature lines)
 *	lines, lines_len in: one or more signature lines, each ending in a
 *			newline
 *	out, out_len	out: the new note, NUL-terminated (free() it)
 * Returns 0, or LEDGER_EINVAL when note or lines are malformed, or
 * LEDGER_ETOOBIG when the result would hold more than LEDGER_NOTE_MAX_SIGS
 * signature lines.
 */
int cosigned_merge(const char *note, size_t len, const char *lines,
    size_t lines_len, char **out, size_t *out_len);

/*
 * cosigned_log_part - the length of note's prefix that ends with its first
 * signature line: the checkpoint as the log signed it, without what
 * witnesses added (the writer always puts the log's line first).
 *	part_len	out: that length
 * Returns 0 or LEDGER_EINVAL (not a signed note).
 */
int cosigned_log_part(const char *note, size_t len, size_t *part_len);

#endif
