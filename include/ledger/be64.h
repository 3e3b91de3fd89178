/*
 * Big-endian 64-bit integers in byte buffers: the form of seq keys in the
 * daemon's and the witness's LMDB databases (so that LMDB's byte order is
 * numeric order) and of a cosignature's timestamp (C2SP tlog-cosignature).
 */
#ifndef LEDGER_BE64_H
#define LEDGER_BE64_H

#include <stdint.h>

/* ledger_put_be64 - writes v into out[0..7], most significant byte first. */
static inline void
ledger_put_be64(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* ledger_get_be64 - the value of in[0..7], most significant byte first. */
static inline uint64_t
ledger_get_be64(const uint8_t in[8])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

#endif
