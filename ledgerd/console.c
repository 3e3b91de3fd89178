/*
 * GET /console/...: the supervisor console's files, from the table
 * console/embed.py generates at build time.  Public like /checkpoint: the
 * files hold no data; every question the console asks goes to the
 * supervisor routes with the officer's own credentials.
 */
#include <string.h>

#include <event2/http.h>

#include "console.h"
#include "http.h"

/*
 * Nothing but the daemon's own files runs or loads: no inline script or
 * style, no other origin, no framing (clickjacking), no forms posting
 * elsewhere.  data: images only for the browser's own favicon fallback.
 */
#define CONSOLE_CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; " \
	"object-src 'none'; base-uri 'none'; form-action 'none'; " \
	"frame-ancestors 'none'"

/*
 * Whether an If-None-Match field value matches etag (RFC 9110 §13.1.2):
 * "*", or a list of entity tags one of which equals etag by the weak
 * comparison (a W/ prefix ignored).  Anything malformed matches nothing,
 * and the file is sent: never wrong, only larger.
 */
static int
none_match(const char *field, const char *etag)
{
	size_t etag_len = strlen(etag);
	const char *p = field, *end;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"' || (end = strchr(p + 1, '"')) == NULL)
			return 0;
		if ((size_t)(end + 1 - p) == etag_len &&
		    memcmp(p, etag, etag_len) == 0)
			return 1;
		p = end + 1;
	}
}

void
route_console(struct request *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	const char *name = r->path + strlen("/console/");
	const struct console_file *f;
	const char *match;

	if (query_check(r, (const char *const[]){ NULL }) != 0)
		return;
	if (*name == '\0')
		name = "index.html";
	for (f = console_files; f->path != NULL; f++)
		if (strcmp(f->path, name) == 0)
			break;
	if (f->path == NULL) {
		reply_error(r, 404, "not_found", NULL, "no such console file");
		return;
	}
	evhttp_add_header(out, "Content-Security-Policy", CONSOLE_CSP);
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Cross-Origin-Opener-Policy", "same-origin");
	/* Revalidated on every load: a new daemon brings new files. */
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "ETag", f->etag);
	if ((match = evhttp_find_header(in, "If-None-Match")) != NULL &&
	    none_match(match, f->etag)) {
		reply_bytes(r, 304, f->content_type, NULL, 0);
		return;
	}
	reply_bytes(r, 200, f->content_type, f->data, f->len);
}
