/*
 * The supervisor console (docs/console.md): static files compiled into the
 * daemon from console/ by console/embed.py, served read-only under
 * /console/.
 */
#ifndef LEDGERD_CONSOLE_H
#define LEDGERD_CONSOLE_H

#include <stddef.h>

/* One embedded file; the table ends with a NULL path. */
struct console_file {
	const char *path;		/* under /console/, e.g. "js/app.js" */
	const char *content_type;
	const char *etag;		/* quoted, as sent in ETag */
	const unsigned char *data;
	size_t len;
};

extern const struct console_file console_files[];

#endif
