/*
 * The tests' deterministic generator, xorshift64*: from a given seed the
 * same numbers on every run and platform, so that a test's random cases
 * are the same each time.  A test program has one stream, seeded once in
 * main before anything draws from it.
 */
#ifndef TESTS_RND_H
#define TESTS_RND_H

#include <stdint.h>
#include <stdlib.h>

static uint64_t rnd_state_;

/* rnd_seed - starts the stream at seed (not 0, where xorshift stays). */
static inline void
rnd_seed(uint64_t seed)
{
	rnd_state_ = seed;
}

/* rnd64 - the next 64 bits of the stream; aborts when it was not seeded. */
static inline uint64_t
rnd64(void)
{
	if (rnd_state_ == 0)
		abort();
	rnd_state_ ^= rnd_state_ >> 12;
	rnd_state_ ^= rnd_state_ << 25;
	rnd_state_ ^= rnd_state_ >> 27;
	return rnd_state_ * 0x2545F4914F6CDD1DULL;
}

/* rnd - the next number of the stream in [0, n), n > 0. */
static inline uint64_t
rnd(uint64_t n)
{
	return rnd64() % n;
}

#endif
