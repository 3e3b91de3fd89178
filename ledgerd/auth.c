/*
 * Access rules beyond a route's roles (spec §9.4): reader scoping of
 * entries, writers' own entries, and a bounded table that slows down addresses guessing
 * credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "ledger/xmalloc.h"

#include "auth.h"
#include "config.h"

int
auth_sees_all(const struct principal *p)
{
	return p->any_org || (p->roles & ROLE_SUPERVISOR) != 0;
}

int
auth_org_may_read(const char *org, const json_t *entry)
{
	const json_t *recipients, *v;
	const char *actor_org;
	size_t i;

	actor_org = json_string_value(json_object_get(json_object_get(entry,
	    "actor"), "org"));
	if (actor_org != NULL && strcmp(actor_org, org) == 0)
		return 1;
	recipients = json_object_get(entry, "recipients");
	json_array_foreach(recipients, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), org) == 0)
			return 1;
	return 0;
}

int
auth_entry_visible(const struct principal *p, const json_t *entry)
{
	const char *submitter;

	if (auth_sees_all(p))
		return 1;
	if ((p->roles & ROLE_READER) != 0 && auth_org_may_read(p->org, entry))
		return 1;
	/*
	 * A writer sees what it submitted, so that an application without
	 * the reader role can prove its own entries included; not its org's
	 * other entries, which another application may have posted.
	 */
	submitter = json_string_value(json_object_get(entry, "submitter"));
	return (p->roles & ROLE_WRITER) != 0 && submitter != NULL &&
	    strcmp(submitter, p->id) == 0;
}

struct throttle_slot {
	char addr[INET6_ADDRSTRLEN];	/* "" when free */
	int64_t since_us;		/* first failure of the window */
	size_t failures;
};

struct auth_throttle {
	struct throttle_slot slots[AUTH_THROTTLE_SETS][AUTH_THROTTLE_WAYS];
};

struct auth_throttle *
auth_throttle_new(void)
{
	return xcalloc(1, sizeof(struct auth_throttle));
}

void
auth_throttle_free(struct auth_throttle *t)
{
	free(t);
}

/* FNV-1a: addresses are not secret, and a set only bounds the search. */
static struct throttle_slot *
set_of(struct auth_throttle *t, const char *addr)
{
	uint32_t h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (uint8_t)*addr) * 16777619u;
	return t->slots[h % AUTH_THROTTLE_SETS];
}

static int
expired(const struct throttle_slot *s, int window_s, int64_t now_us)
{
	return s->addr[0] == '\0' ||
	    now_us - s->since_us >= (int64_t)window_s * 1000000;
}

int
auth_throttle_wait(struct auth_throttle *t, const char *addr,
    size_t max, int window_s, int64_t now_us)
{
	struct throttle_slot *set = set_of(t, addr);
	int64_t left_us;
	size_t i;

	for (i = 0; i < AUTH_THROTTLE_WAYS; i++) {
		if (strcmp(set[i].addr, addr) != 0 ||
		    expired(&set[i], window_s, now_us) ||
		    set[i].failures < max)
			continue;
		left_us = set[i].since_us + (int64_t)window_s * 1000000 - now_us;
		return (int)((left_us + 999999) / 1000000);
	}
	return 0;
}

size_t
auth_throttle_fail(struct auth_throttle *t, const char *addr,
    int window_s, int64_t now_us)
{
	struct throttle_slot *set = set_of(t, addr), *s = NULL;
	size_t i;

	for (i = 0; i < AUTH_THROTTLE_WAYS && s == NULL; i++)
		if (strcmp(set[i].addr, addr) == 0)
			s = &set[i];
	if (s == NULL || expired(s, window_s, now_us)) {
		if (s == NULL) {
			/* A free or expired slot, else the oldest window. */
			s = &set[0];
			for (i = 0; i < AUTH_THROTTLE_WAYS; i++) {
				if (expired(&set[i], window_s, now_us)) {
					s = &set[i];
					break;
				}
				if (set[i].since_us < s->since_us)
					s = &set[i];
			}
		}
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->since_us = now_us;
		s->failures = 0;
	}
	return ++s->failures;
}
