/*
 * Fuzzes C2SP tlog-tiles paths and entry bundles.  A path that parses is
 * the canonical spelling of its tile: formatting it gives the same path.
 * A bundle is read to its end without reading past it, and rebuilt
 * byte for byte from the entries read.
 */
#include <string.h>

#include "ledger/error.h"
#include "ledger/tile.h"

#include "fuzz.h"

#define INPUT_MAX (64 * 1024)

static void
path(const char *text)
{
	struct ledger_tile t;
	char again[LEDGER_TILE_PATH_MAX];
	const char *p = text[0] == '/' ? text + 1 : text;

	if (ledger_tile_path_parse(text, &t) != 0)
		return;
	FUZZ_ASSERT(t.level == LEDGER_TILE_LEVEL_ENTRIES ||
	    (t.level >= 0 && t.level <= 63));
	FUZZ_ASSERT(t.width >= 1 && t.width <= LEDGER_TILE_WIDTH);
	FUZZ_ASSERT(ledger_tile_path_format(&t, again) == 0);
	FUZZ_ASSERT(strcmp(again, p) == 0);
	/* In the tree that ends with it, a level-0 tile has its own width. */
	if (t.level <= 0 && t.index < UINT64_MAX / 256 - 1)
		FUZZ_ASSERT(ledger_tile_width_at(t.level, t.index,
		    t.index * 256 + t.width) == t.width);
}

static void
bundle(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len + 1);
	size_t pos = 0, used = 0;
	const uint8_t *entry;
	size_t entry_len;
	int rc;

	FUZZ_ASSERT(copy != NULL);
	while ((rc = ledger_bundle_next(buf, len, &pos, &entry, &entry_len)) == 0) {
		FUZZ_ASSERT(entry >= buf && entry + entry_len <= buf + len);
		FUZZ_ASSERT(ledger_bundle_append(copy, len, &used, entry,
		    entry_len) == 0);
	}
	FUZZ_ASSERT(rc == LEDGER_ENOTFOUND || rc == LEDGER_EINVAL);
	FUZZ_ASSERT(used == pos && memcmp(copy, buf, used) == 0);
	if (rc == LEDGER_ENOTFOUND)
		FUZZ_ASSERT(pos == len);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > INPUT_MAX)
		return -1;
	/* Paths are short; longer inputs are bundles only. */
	if (size <= 4 * LEDGER_TILE_PATH_MAX) {
		text = malloc(size + 1);
		FUZZ_ASSERT(text != NULL);
		memcpy(text, data, size);
		text[size] = '\0';
		path(text);
		free(text);
	}
	bundle(data, size);
	return 0;
}
