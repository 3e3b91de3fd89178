/* Crash points for fault-injection tests (see crash.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "log.h"

#ifdef LEDGERD_FAULT_INJECTION

static char crash_name[64];
static long crash_countdown;

void
crash_init(void)
{
	const char *spec = getenv("LEDGERD_CRASH_AT");
	const char *colon;

	if (spec == NULL || *spec == '\0')
		return;
	colon = strchr(spec, ':');
	snprintf(crash_name, sizeof(crash_name), "%.*s",
	    (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
	crash_countdown = colon ? strtol(colon + 1, NULL, 10) : 1;
	if (crash_countdown < 1)
		crash_countdown = 1;
	log_warnx("fault injection armed: crash at %s, pass %ld", crash_name,
	    crash_countdown);
}

void
crash_point(const char *name)
{
	if (crash_name[0] == '\0' || strcmp(name, crash_name) != 0)
		return;
	if (--crash_countdown > 0)
		return;
	/* SIGKILL: no atexit handlers, no flushing, like a power cut. */
	fprintf(stderr, "fault injection: crashing at %s\n", name);
	kill(getpid(), SIGKILL);
}

#else	/* !LEDGERD_FAULT_INJECTION: the daemon that ships */

void
crash_init(void)
{
	const char *spec = getenv("LEDGERD_CRASH_AT");

	if (spec != NULL && *spec != '\0')
		log_warnx("LEDGERD_CRASH_AT is ignored: fault injection is "
		    "built only into the test daemon (ledgerd-faults)");
}

void
crash_point(const char *name)
{
	(void)name;
}

#endif
