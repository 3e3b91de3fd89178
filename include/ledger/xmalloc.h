/*
 * Allocation that never returns NULL (after tmux's xmalloc): running out of
 * memory aborts with a message, so callers need no failure path for it.
 */
#ifndef LEDGER_XMALLOC_H
#define LEDGER_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xasprintf - a new formatted string (free() it). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
