/*
 * What every fuzz harness shares: the libFuzzer entry point's prototype,
 * an input bound, and an invariant check that aborts (so libFuzzer saves
 * the input) with the file, line and condition.
 */
#ifndef LEDGER_FUZZ_H
#define LEDGER_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#endif
