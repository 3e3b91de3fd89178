/*
 * Making and ending a keyring (keyring.h): the calls only the process that
 * sets the keys up makes.  Everyone else sees keyring.h alone.
 */
#ifndef LEDGERD_KEYRING_IMPL_H
#define LEDGERD_KEYRING_IMPL_H

#include "keyring.h"

struct keystore;

/*
 * keyring_open_local - a keyring over keys held in this process.
 *	ks	in: stolen; freed by keyring_free
 * Returns a new keyring; never NULL.
 */
struct keyring *keyring_open_local(struct keystore *ks);

/* keyring_free - ends kr and wipes what it holds (NULL is fine). */
void keyring_free(struct keyring *kr);

#endif
