/* Crash and hold points for fault-injection tests (see crash.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "log.h"

#ifdef LEDGERD_FAULT_INJECTION

#define HOLD_POLL_MS 5
#define HOLD_MAX_MS 60000

/* Written once by crash_init(), before any other thread starts. */
static char crash_name[64];
static long crash_countdown;
static char hold_name[64];
static char hold_path[1024];

void
crash_init(void)
{
	const char *spec = getenv("LEDGERD_CRASH_AT");
	const char *hold = getenv("LEDGERD_HOLD_AT");
	const char *colon;

	if (hold != NULL && (colon = strchr(hold, ':')) != NULL &&
	    colon[1] != '\0') {
		snprintf(hold_name, sizeof(hold_name), "%.*s",
		    (int)(colon - hold), hold);
		snprintf(hold_path, sizeof(hold_path), "%s", colon + 1);
		log_warnx("fault injection armed: hold at %s while %s exists",
		    hold_name, hold_path);
	}
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

void
crash_hold(const char *name)
{
	struct timespec pause = { 0, HOLD_POLL_MS * 1000000L };
	int waited = 0;

	if (hold_name[0] == '\0' || strcmp(name, hold_name) != 0)
		return;
	/* Tests wait for this line: then the hold has begun. */
	if (access(hold_path, F_OK) == 0)
		log_info("fault injection: holding at %s", name);
	while (access(hold_path, F_OK) == 0 && waited < HOLD_MAX_MS) {
		nanosleep(&pause, NULL);
		waited += HOLD_POLL_MS;
	}
	if (waited >= HOLD_MAX_MS)
		log_warnx("fault injection: held at %s for %d s; going on",
		    name, HOLD_MAX_MS / 1000);
}

#else	/* !LEDGERD_FAULT_INJECTION: the daemon that ships */

void
crash_init(void)
{
	const char *spec = getenv("LEDGERD_CRASH_AT");

	if (spec != NULL && *spec != '\0')
		log_warnx("LEDGERD_CRASH_AT is ignored: fault injection is "
		    "built only into the test daemon (ledgerd-faults)");
	if ((spec = getenv("LEDGERD_HOLD_AT")) != NULL && *spec != '\0')
		log_warnx("LEDGERD_HOLD_AT is ignored: fault injection is "
		    "built only into the test daemon (ledgerd-faults)");
}

void
crash_point(const char *name)
{
	(void)name;
}

void
crash_hold(const char *name)
{
	(void)name;
}

#endif
