/*
 * Fuzzes ledgerctl's reading of HTTP answers (client/http_client.c) with
 * the bytes a server could send: status line, headers, counted, chunked
 * or closed bodies, and 1xx answers before the real one.  Read whole or
 * streamed to a sink, an accepted answer's body is NUL-terminated, no
 * longer than the input, the same both ways; the error excerpt of any
 * answer is a bounded string.
 */
#include <string.h>

#include "../../client/http_client.h"
#include "fuzz.h"

#define INPUT_MAX (256 * 1024)

struct collected {
	char *buf;
	size_t len;
};

static int
collect(void *arg, const char *data, size_t len)
{
	struct collected *c = arg;

	c->buf = realloc(c->buf, c->len + len + 1);
	FUZZ_ASSERT(c->buf != NULL);
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bytes = (const char *)data;
	struct http_reply whole, streamed;
	struct collected c = { NULL, 0 };
	const char *msg;
	int rc, rc2;

	if (size > INPUT_MAX)
		return -1;
	rc = http_reply_parse(bytes, size, "GET", NULL, NULL, &whole);
	if (rc == 0) {
		FUZZ_ASSERT(whole.body != NULL && whole.len <= size);
		FUZZ_ASSERT(whole.body[whole.len] == '\0');
		FUZZ_ASSERT(memchr(whole.content_type, '\0',
		    sizeof(whole.content_type)) != NULL);
		msg = http_reply_message(&whole);
		FUZZ_ASSERT(msg != NULL && strlen(msg) < 4096);
	}
	rc2 = http_reply_parse(bytes, size, "GET", collect, &c, &streamed);
	FUZZ_ASSERT(rc == rc2);
	if (rc == 0) {
		FUZZ_ASSERT(streamed.status == whole.status);
		if (whole.status == 200)
			FUZZ_ASSERT(c.len == whole.len && (c.len == 0 ||
			    memcmp(c.buf, whole.body, c.len) == 0));
		else
			FUZZ_ASSERT(c.len == 0 && streamed.len == whole.len);
		http_reply_free(&whole);
		http_reply_free(&streamed);
	}
	free(c.buf);
	/* A HEAD answer has no body, whatever the headers say. */
	if (http_reply_parse(bytes, size, "HEAD", NULL, NULL, &whole) == 0) {
		FUZZ_ASSERT(whole.len == 0);
		http_reply_free(&whole);
	}
	return 0;
}
