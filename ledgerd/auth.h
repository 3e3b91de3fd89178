/*
 * Access rules of spec §9 that are not a route's role: what a reader may
 * see, and the slowing down of addresses that keep failing to authenticate.
 */
#ifndef LEDGERD_AUTH_H
#define LEDGERD_AUTH_H

#include <stdint.h>

#include <jansson.h>

struct principal;

/*
 * auth_sees_all - 1 for a principal that sees every entry: a supervisor, or
 * the development principal.
 */
int auth_sees_all(const struct principal *p);

/*
 * auth_org_may_read - the reader rule of spec §9.4: whether org may read
 * entry (a parsed entry, or an entry object the writer is building): org is
 * the actor's org or one of the recipients.
 * Returns 1 or 0.
 */
int auth_org_may_read(const char *org, const json_t *entry);

/*
 * auth_entry_visible - whether p may see entry (a parsed entry), spec §9.4:
 * p sees all; or p is a reader and auth_org_may_read(p->org, entry); or p
 * is a writer and the entry's submitter is p's id.
 * Returns 1 or 0.
 */
int auth_entry_visible(const struct principal *p, const json_t *entry);

/*
 * Failed authentications, in two tables of fixed size (AUTH_THROTTLE_SETS x
 * AUTH_THROTTLE_WAYS slots each; a full set forgets its oldest window):
 *  - per address and credential: the failures of one credential from one
 *    address.  A credential is kept only as a keyed hash (a key drawn when
 *    the table is made), never in clear;
 *  - per address: how many distinct credentials failed from it.
 * A window starts at a slot's first failure and lasts window_s seconds.  A
 * credential that failed `max` times from an address is refused from that
 * address until its window ends, while other credentials from the address
 * go on (one misconfigured application behind a shared address locks out
 * only itself); an address from which `max` distinct credentials failed
 * (someone guessing) is refused for every credential until its window
 * ends.  Loop thread only.
 */
#define AUTH_THROTTLE_SETS 1024
#define AUTH_THROTTLE_WAYS 4

struct auth_throttle;

/* auth_throttle_new - empty tables; never NULL.  auth_throttle_free() it. */
struct auth_throttle *auth_throttle_new(void);
void auth_throttle_free(struct auth_throttle *t);

/*
 * auth_throttle_wait - seconds a request from addr presenting the credential
 * cred (its bytes, e.g. the SHA-256 of the Authorization header or of a
 * client certificate; NULL when it presents none, which checks the
 * address alone) must still wait (at least 1), or 0 when it may try now.
 */
int auth_throttle_wait(struct auth_throttle *t, const char *addr,
    const void *cred, size_t cred_len, size_t max, int window_s,
    int64_t now_us);

/*
 * auth_throttle_fail - counts one failure of cred from addr.
 *	credentials	out (may be NULL): distinct credentials that failed
 *			from addr in its window, this one included
 * Returns the failures of cred from addr in its window, this one included.
 */
size_t auth_throttle_fail(struct auth_throttle *t, const char *addr,
    const void *cred, size_t cred_len, int window_s, int64_t now_us,
    size_t *credentials);

#endif
