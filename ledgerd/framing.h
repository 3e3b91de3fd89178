/*
 * HTTP/1.x request framing on a connection's bytes, decided before evhttp
 * reads them: where each request's head ends and how long its body is, and
 * whether the request keeps the size limits and framing rules of spec §7.1.
 * Requests that keep them go on to evhttp as they came (chunk size lines
 * normalised, trailers dropped); the first that does not is refused, and
 * evhttp gets a stand-in for it, so that the daemon answers it in its own
 * JSON at its place among the connection's requests.
 */
#ifndef LEDGERD_FRAMING_H
#define LEDGERD_FRAMING_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* The bounds a connection's requests are held to (docs/limits.md). */
struct framing_limits {
	size_t max_headers;	/* request line, headers and trailers, line ends included */
	size_t max_body;	/* body bytes, by Content-Length or by chunks */
};

/* The longest chunk size line taken, extensions included (bytes). */
#define FRAMING_CHUNK_LINE_MAX 1024

/* Why a request was refused: the JSON error of spec §7.2 it is answered with. */
struct framing_refusal {
	int status;		/* 400, 413, 417 or 431 */
	const char *code;	/* a code of spec §7.2 (static) */
	const char *field;	/* the header at fault, or NULL (static) */
	char message[192];	/* names the limit when one was passed */
	uint64_t declared;	/* the body length the request declared, which the
				   client may still send (saturated), or 0 */
};

/* The framing state of one connection (opaque). */
struct framing;

/*
 * framing_new - the state of a new connection whose requests are held to
 * lim (copied).  Returns a new framing (framing_free() it); never NULL.
 */
struct framing *framing_new(const struct framing_limits *lim);

/* framing_free - frees f (NULL is fine). */
void framing_free(struct framing *f);

/*
 * framing_feed - moves the connection's bytes from the front of src to the
 * end of dst, as far as they can be framed: a request head once it is
 * whole and checked, body bytes as they come.  What cannot be decided yet
 * (part of a head or of a chunk size line) stays in src for the next call,
 * which must give src again with more bytes appended.
 * The first request that breaks a rule is refused: its bytes do not reach
 * dst; in their place dst gets what evhttp needs to see a complete request
 * there (a request line without headers or body, or the end of the chunked
 * body it is reading), and from then on every byte of src is dropped.
 *	src	in/out: the bytes received and not yet framed
 *	dst	out: bytes for evhttp (appended)
 * Returns 1 when bytes were appended to dst, else 0.
 */
int framing_feed(struct framing *f, struct evbuffer *src, struct evbuffer *dst);

/*
 * framing_refusal - why the connection's last request was refused, or NULL
 * while none was.  Borrowed: valid until framing_free().
 */
const struct framing_refusal *framing_refusal(const struct framing *f);

/*
 * framing_requests - how many request heads went to dst, a refused
 * request's stand-in included.  After a refusal, the refused request is the
 * last of them: its number is framing_requests().
 */
uint64_t framing_requests(const struct framing *f);

/* framing_discarded - bytes of src dropped since the refusal. */
uint64_t framing_discarded(const struct framing *f);

#endif
