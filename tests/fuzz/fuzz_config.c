/*
 * Fuzzes the daemon's config file parser (config_load, then
 * config_apply_flags and config_finish as `ledgerd serve` calls them): the
 * input is written to an anonymous memory file and loaded by its
 * /proc/self/fd path.  A refusal always says why; an accepted config
 * keeps its documented bounds.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../ledgerd/config.h"
#include "../../ledgerd/log.h"

#include "fuzz.h"

#define INPUT_MAX (32 * 1024)

static int fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_LEVEL_ERROR);
	if ((fd = memfd_create("ledgerd-config", 0)) == -1)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	char path[64], err[512];

	if (size > INPUT_MAX)
		return -1;
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(cfg->origin != NULL && cfg->listen != NULL);
	FUZZ_ASSERT(cfg->limits.max_queue_events >= cfg->limits.max_batch_events);
	FUZZ_ASSERT(cfg->limits.max_body >= 1024 && cfg->limits.timeout_seconds >= 1);
	for (size_t i = 0; i < cfg->n_principals; i++)
		FUZZ_ASSERT(cfg->principals[i].roles != 0);
	err[0] = '\0';
	if (config_apply_flags(cfg, NULL, NULL, err, sizeof(err)) != 0 ||
	    config_finish(cfg, err, sizeof(err)) != 0)
		FUZZ_ASSERT(err[0] != '\0');
	config_free(cfg);
	return 0;
}
