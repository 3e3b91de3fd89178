/*
 * HTTP/1.x request framing, byte by byte, ahead of evhttp (framing.h): the
 * size limits and the framing rules of spec §7.1, decided on the bytes the
 * client sent, so that evhttp (libevent 2.1) never reaches one of its own
 * refusals, which it would answer with an HTML page of its own.
 */
#include <sys/types.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "ledger/xmalloc.h"

#include "framing.h"
#include "log.h"

/* Where in a request the connection's next byte belongs. */
enum framing_state {
	FR_HEAD,		/* the request line and headers */
	FR_BODY,		/* a body of Content-Length bytes */
	FR_CHUNK_SIZE,		/* a chunk size line */
	FR_CHUNK_DATA,		/* a chunk's data */
	FR_CHUNK_END,		/* the CRLF after a chunk's data */
	FR_TRAILER,		/* the trailer section after the last chunk */
	FR_REFUSED,		/* after a refusal: nothing more is framed */
	FR_MAX
};

struct framing {
	struct framing_limits lim;
	enum framing_state state;
	size_t scan;		/* src offset from which to look for the next LF */
	size_t line;		/* FR_HEAD: src offset where the current line starts */
	ssize_t request_lf;	/* FR_HEAD: src offset of the request line's LF, or -1 */
	size_t head_len;	/* the request's head, for the trailers' share */
	size_t trailer_len;	/* trailer bytes read so far */
	uint64_t remaining;	/* FR_BODY, FR_CHUNK_DATA: bytes still to come */
	uint64_t body_len;	/* chunk sizes so far */
	uint64_t requests;	/* heads given to evhttp, stand-ins included */
	uint64_t discarded;
	struct framing_refusal refusal;
};

/* What a step of framing_feed() leaves to do. */
#define STEP_MORE 0		/* src holds nothing more that can be decided */
#define STEP_ON 1		/* go on with what src holds */

/*
 * What evhttp does with a request's body (libevent 2.1, evhttp_get_body):
 * it reads one for these methods only, and for any other takes the next
 * bytes for the next request.  The framing must agree, or a body could
 * hide a request from it.
 */
static const char *const body_methods[] = {
	"POST", "PUT", "PATCH", "GET", "DELETE", "OPTIONS", "CONNECT", NULL
};

/* The methods evhttp knows; it refuses any other in HTML of its own. */
static const char *const known_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT",
	"PATCH", NULL
};

/* Methods a stand-in may keep (CONNECT takes another form of target). */
static const char *const stand_in_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", NULL
};

struct framing *
framing_new(const struct framing_limits *lim)
{
	struct framing *f = xcalloc(1, sizeof(*f));

	f->lim = *lim;
	f->state = FR_HEAD;
	f->request_lf = -1;
	return f;
}

void
framing_free(struct framing *f)
{
	free(f);
}

const struct framing_refusal *
framing_refusal(const struct framing *f)
{
	return f->state == FR_REFUSED ? &f->refusal : NULL;
}

uint64_t
framing_requests(const struct framing *f)
{
	return f->requests;
}

uint64_t
framing_discarded(const struct framing *f)
{
	return f->discarded;
}

/* The src offset of the first LF at or after from, or -1. */
static ssize_t
find_lf(struct evbuffer *src, size_t from)
{
	struct evbuffer_ptr p;

	if (from >= evbuffer_get_length(src) ||
	    evbuffer_ptr_set(src, &p, from, EVBUFFER_PTR_SET) != 0)
		return -1;
	p = evbuffer_search(src, "\n", 1, &p);
	return p.pos;
}

/* The byte at src offset off, or -1 beyond its end. */
static int
byte_at(struct evbuffer *src, size_t off)
{
	struct evbuffer_ptr p;
	unsigned char c;

	if (evbuffer_ptr_set(src, &p, off, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(src, &p, &c, 1) != 1)
		return -1;
	return c;
}

/* Whether the len bytes at s are the word w, exactly or ignoring case. */
static int
is_word(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && memcmp(s, w, len) == 0;
}

static int
is_word_nocase(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

static int
in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list != NULL; list++)
		if (is_word(s, len, *list))
			return 1;
	return 0;
}

/* RFC 9110 §5.6.2: a header name is a token. */
static int
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * In place of a refused head: a request line that evhttp parses and that
 * carries no body, in the method and version the client used where they
 * are plain (a HEAD stays a HEAD, answered without a body), so that
 * http_dispatch() gets a request to answer with the refusal.  src still
 * holds the refused head, or as much of it as came.
 */
static void
stand_in(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	const char *method = "GET";
	char start[16], end[9];
	ev_ssize_t n;
	size_t i, len, k;
	struct evbuffer_ptr p;
	int minor = 1;

	n = evbuffer_copyout(src, start, sizeof(start));
	for (i = 0; n > 0 && stand_in_methods[i] != NULL; i++) {
		len = strlen(stand_in_methods[i]);
		if ((size_t)n > len && memcmp(start, stand_in_methods[i], len) == 0 &&
		    start[len] == ' ') {
			method = stand_in_methods[i];
			break;
		}
	}
	/* As far as it was read: a request line past the limit was not. */
	if (f->request_lf > 0 && (size_t)f->request_lf < f->lim.max_headers) {
		k = (size_t)f->request_lf < sizeof(end) ? (size_t)f->request_lf :
		    sizeof(end);
		if (evbuffer_ptr_set(src, &p, (size_t)f->request_lf - k,
		    EVBUFFER_PTR_SET) == 0 &&
		    evbuffer_copyout_from(src, &p, end, k) == (ev_ssize_t)k) {
			if (end[k - 1] == '\r')
				k--;
			if (k >= 8 && memcmp(end + k - 8, "HTTP/1.0", 8) == 0)
				minor = 0;
		}
	}
	if (evbuffer_add_printf(dst, "%s / HTTP/1.%d\r\n\r\n", method, minor) < 0)
		fatalx("evbuffer_add_printf: out of memory");
	f->requests++;
}

/*
 * Refuses the request being framed: records why, and gives evhttp what
 * ends that request where it stands, as well-framed HTTP: between chunks,
 * a last chunk and an empty trailer section end the body evhttp reads; in
 * the trailers, the empty line.  Nothing is refused inside a body or a
 * chunk's data: their lengths were checked before their first byte.
 */
static void __attribute__((format(printf, 7, 8)))
refuse(struct framing *f, struct evbuffer *src, struct evbuffer *dst,
    int status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	int rc = 0;

	f->refusal.status = status;
	f->refusal.code = code;
	f->refusal.field = field;
	f->refusal.declared = 0;
	va_start(ap, fmt);
	vsnprintf(f->refusal.message, sizeof(f->refusal.message), fmt, ap);
	va_end(ap);
	switch (f->state) {
	case FR_HEAD:
		stand_in(f, src, dst);
		break;
	case FR_CHUNK_SIZE:
		rc = evbuffer_add(dst, "0\r\n\r\n", 5);
		break;
	case FR_CHUNK_END:
		rc = evbuffer_add(dst, "\r\n0\r\n\r\n", 7);
		break;
	case FR_TRAILER:
		rc = evbuffer_add(dst, "\r\n", 2);
		break;
	case FR_BODY:
	case FR_CHUNK_DATA:
	case FR_REFUSED:
	case FR_MAX:
		fatalx("framing: a refusal in state %d", (int)f->state);
	}
	if (rc != 0)
		fatalx("evbuffer_add: out of memory");
	f->state = FR_REFUSED;
}

/* The next request starts with the next byte. */
static void
request_done(struct framing *f)
{
	f->state = FR_HEAD;
	f->scan = f->line = 0;
	f->request_lf = -1;
	f->head_len = f->trailer_len = 0;
	f->remaining = f->body_len = 0;
}

/* What a request head says about the request's length. */
struct head {
	const char *method;
	size_t method_len;
	int http11;		/* HTTP/1.1 (or 1.x above): Expect is read */
	size_t n_cl, n_te, n_expect;
	const char *cl, *te, *expect;	/* the first of each, trimmed */
	size_t cl_len, te_len, expect_len;
};

/*
 * "HTTP/" 1*DIGIT "." 1*DIGIT, the whole of the len bytes at v (not a C
 * string); -1 and -1 when they are not that.
 */
static void
parse_version(const char *v, size_t len, int *major, int *minor)
{
	size_t i = 5;
	int *part = major;

	*major = *minor = -1;
	if (len < 8 || memcmp(v, "HTTP/", 5) != 0)
		return;
	for (;;) {
		if (i == len || !isdigit((unsigned char)v[i]))
			goto fail;
		for (*part = 0; i < len && isdigit((unsigned char)v[i]); i++)
			if (*part < 1000)
				*part = *part * 10 + (v[i] - '0');
		if (part == minor)
			break;
		if (i == len || v[i++] != '.')
			goto fail;
		part = minor;
	}
	if (i == len)
		return;
fail:
	*major = *minor = -1;
}

/*
 * Reads the request line and the headers of the len bytes at h (a whole
 * head, up to and with its empty line) as evhttp would, but refusing what
 * evhttp would misread or refuse itself.  Returns 0, or -1 after refuse().
 */
static int
read_head(struct framing *f, struct evbuffer *src, struct evbuffer *dst,
    const char *h, size_t len, struct head *out)
{
	const char *line, *end, *colon, *v, *sp;
	size_t n, vlen, i;
	int major = -1, minor = -1;

	memset(out, 0, sizeof(*out));
	/*
	 * evhttp keeps header values as C strings and refuses a CR in them:
	 * a NUL would cut a value short where a proxy in front reads on, a
	 * bare CR end a line for some readers and not for others.
	 */
	for (i = 0; i < len; i++)
		if (h[i] == '\0' || (h[i] == '\r' && (i + 1 == len ||
		    h[i + 1] != '\n'))) {
			refuse(f, src, dst, 400, "invalid_value", NULL,
			    "the request head holds a NUL byte or a CR that "
			    "does not end a line");
			return -1;
		}
	for (line = h; line < h + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(h + len - line));
		n = (size_t)(end - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (line == h) {
			/* The request line: METHOD SP target SP HTTP/x.y */
			sp = memchr(line, ' ', n);
			out->method = line;
			out->method_len = sp != NULL ? (size_t)(sp - line) : n;
			while (n > 0 && line[n - 1] == ' ')
				n--;	/* as evhttp: trailing spaces go */
			for (v = line + n; v > line && v[-1] != ' '; v--)
				;
			parse_version(v, (size_t)(line + n - v), &major, &minor);
			out->http11 = major == 1 && minor >= 1;
			/*
			 * What evhttp would refuse in its own HTML (400, 501)
			 * or close on without a word is refused here, in JSON.
			 */
			if (major < 0 || sp == NULL || v <= sp + 1) {
				refuse(f, src, dst, 400, "invalid_value", NULL,
				    "malformed request line: it must be a "
				    "method, a target and HTTP/1.1 (or "
				    "HTTP/1.0), one space apart");
				return -1;
			}
			if (!in_list(out->method, out->method_len,
			    known_methods)) {
				refuse(f, src, dst, 501, "not_implemented",
				    NULL, "the method \"%.*s\" is not one "
				    "this server knows",
				    (int)(out->method_len > 32 ? 32 :
				    out->method_len), out->method);
				return -1;
			}
			if (major != 1) {
				refuse(f, src, dst, 505,
				    "http_version_not_supported", NULL,
				    "HTTP/%d.%d is not spoken here: use "
				    "HTTP/1.1 (or HTTP/1.0)", major, minor);
				return -1;
			}
			continue;
		}
		if (n == 0)
			break;		/* the empty line ending the head */
		/*
		 * RFC 9112 §5.2: a server must refuse obsolete line folding
		 * or replace it; evhttp would join the lines.
		 */
		if (line[0] == ' ' || line[0] == '\t') {
			refuse(f, src, dst, 400, "invalid_value", NULL,
			    "a header line begins with white space (obsolete "
			    "line folding)");
			return -1;
		}
		if ((colon = memchr(line, ':', n)) == NULL) {
			refuse(f, src, dst, 400, "invalid_value", NULL,
			    "a header line has no colon");
			return -1;
		}
		/*
		 * RFC 9112 §5.1: no white space between a name and its colon;
		 * evhttp would take "Content-Length :" for another header.
		 */
		for (i = 0; line + i < colon && is_tchar((unsigned char)line[i]); i++)
			;
		if (i == 0 || line + i != colon) {
			refuse(f, src, dst, 400, "invalid_value", NULL,
			    "a header name is not a token");
			return -1;
		}
		for (v = colon + 1; v < line + n && (*v == ' ' || *v == '\t'); v++)
			;
		for (vlen = (size_t)(line + n - v); vlen > 0 &&
		    (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'); vlen--)
			;
		if (is_word_nocase(line, i, "Content-Length")) {
			if (out->n_cl++ == 0) {
				out->cl = v;
				out->cl_len = vlen;
			}
		} else if (is_word_nocase(line, i, "Transfer-Encoding")) {
			if (out->n_te++ == 0) {
				out->te = v;
				out->te_len = vlen;
			}
		} else if (is_word_nocase(line, i, "Expect")) {
			/* evhttp reads the first. */
			if (out->n_expect++ == 0) {
				out->expect = v;
				out->expect_len = vlen;
			}
		}
	}
	return 0;
}

/*
 * Checks a whole head of head_len bytes at the front of src and sets the
 * state for its body.  RFC 9112 §6.3: a message whose length could be read
 * two ways is refused and the connection closed, or a proxy in front and
 * this server would split the bytes into different requests (request
 * smuggling).  What evhttp reads is right only when a request has at most
 * one Content-Length, of digits only, and no Transfer-Encoding, or a single
 * "Transfer-Encoding: chunked" and no Content-Length, and HEAD and TRACE
 * carry no body.
 * Returns 0, or -1 after refuse().
 */
static int
check_head(struct framing *f, struct evbuffer *src, struct evbuffer *dst,
    size_t head_len)
{
	const char *h;
	struct head hd;
	uint64_t cl = 0;
	int cl_over = 0, body;
	size_t i;

	if ((h = (const char *)evbuffer_pullup(src, (ev_ssize_t)head_len)) == NULL)
		fatalx("evbuffer_pullup: out of memory");
	if (read_head(f, src, dst, h, head_len, &hd) != 0)
		return -1;
	if (hd.n_cl > 1) {
		refuse(f, src, dst, 400, "invalid_value", "Content-Length",
		    "Content-Length is given more than once");
		return -1;
	}
	if (hd.n_cl == 1) {
		/* RFC 9110 §8.6: 1*DIGIT; strtoll would also take "+5" or "0x5". */
		for (i = 0; i < hd.cl_len && isdigit((unsigned char)hd.cl[i]); i++) {
			if (cl > (UINT64_MAX - 9) / 10)
				cl_over = 1;
			else
				cl = cl * 10 + (uint64_t)(hd.cl[i] - '0');
		}
		if (hd.cl_len == 0 || i < hd.cl_len) {
			refuse(f, src, dst, 400, "invalid_value", "Content-Length",
			    "Content-Length must be decimal digits");
			return -1;
		}
	}
	if (hd.n_te > 0 && hd.n_cl > 0) {
		refuse(f, src, dst, 400, "invalid_value", "Transfer-Encoding",
		    "Transfer-Encoding and Content-Length together");
		return -1;
	}
	if (hd.n_te > 1 || (hd.n_te == 1 &&
	    !is_word_nocase(hd.te, hd.te_len, "chunked"))) {
		refuse(f, src, dst, 400, "invalid_value", "Transfer-Encoding",
		    "the only Transfer-Encoding accepted is a single chunked");
		return -1;
	}
	if ((is_word(hd.method, hd.method_len, "HEAD") ||
	    is_word(hd.method, hd.method_len, "TRACE")) &&
	    (hd.n_te > 0 || cl_over || cl != 0)) {
		refuse(f, src, dst, 400, "invalid_value", "Content-Length",
		    "a HEAD or TRACE request carries no body");
		return -1;
	}
	/*
	 * Refused on the head alone, before a byte of the body is read: a
	 * client that sent "Expect: 100-continue" gets the answer instead of
	 * "100 Continue", and sends no body.
	 */
	if (cl_over || cl > f->lim.max_body) {
		refuse(f, src, dst, 413, "body_too_large", "Content-Length",
		    "a body of %" PRIu64 "%s bytes exceeds the max_body limit "
		    "of %zu bytes", cl, cl_over ? " or more" : "",
		    f->lim.max_body);
		f->refusal.declared = cl_over ? UINT64_MAX : cl;
		return -1;
	}
	body = in_list(hd.method, hd.method_len, body_methods) &&
	    (hd.n_te > 0 || cl > 0);
	/*
	 * evhttp answers any other expectation with its own 417 (RFC 9110
	 * §10.1.1), on requests of HTTP/1.1 that carry a body.
	 */
	if (body && hd.http11 && hd.n_expect > 0 &&
	    !is_word_nocase(hd.expect, hd.expect_len, "100-continue")) {
		refuse(f, src, dst, 417, "expectation_failed", "Expect",
		    "the only expectation met is 100-continue");
		return -1;
	}
	f->head_len = head_len;
	if (!body)
		f->state = FR_HEAD;
	else if (hd.n_te > 0)
		f->state = FR_CHUNK_SIZE;
	else {
		f->state = FR_BODY;
		f->remaining = cl;
	}
	return 0;
}

/* FR_HEAD: waits for a whole head, checks it, passes it on. */
static int
feed_head(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	size_t len = evbuffer_get_length(src), head_len;
	ssize_t lf;
	int empty;

	for (;;) {
		if ((lf = find_lf(src, f->scan)) < 0) {
			f->scan = len;
			if (len > f->lim.max_headers)
				goto too_large;
			return STEP_MORE;
		}
		f->scan = (size_t)lf + 1;
		empty = (size_t)lf == f->line || ((size_t)lf == f->line + 1 &&
		    byte_at(src, f->line) == '\r');
		if (empty && f->request_lf < 0) {
			/* RFC 9112 §2.2: empty lines before a request line. */
			evbuffer_drain(src, (size_t)lf + 1);
			len -= (size_t)lf + 1;
			f->scan = 0;
			continue;
		}
		if (f->request_lf < 0)
			f->request_lf = lf;
		f->line = (size_t)lf + 1;
		if (f->line > f->lim.max_headers)
			goto too_large;
		if (empty)
			break;
	}
	head_len = f->line;
	if (check_head(f, src, dst, head_len) != 0)
		return STEP_ON;		/* refused: dropped from here on */
	if (evbuffer_remove_buffer(src, dst, head_len) != (int)head_len)
		fatalx("evbuffer_remove_buffer: short move");
	f->requests++;
	f->scan = f->line = 0;
	f->request_lf = -1;
	if (f->state == FR_HEAD)
		request_done(f);	/* no body */
	return STEP_ON;

too_large:
	refuse(f, src, dst, 431, "headers_too_large", NULL, "the request line "
	    "and headers exceed the max_headers limit of %zu bytes",
	    f->lim.max_headers);
	return STEP_ON;
}

/* FR_BODY, FR_CHUNK_DATA: passes what came, moving buffer chains. */
static int
feed_data(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	size_t n = evbuffer_get_length(src);

	if (n > f->remaining)
		n = (size_t)f->remaining;
	if (evbuffer_remove_buffer(src, dst, n) != (int)n)
		fatalx("evbuffer_remove_buffer: short move");
	f->remaining -= n;
	if (f->remaining == 0) {
		if (f->state == FR_BODY)
			request_done(f);
		else
			f->state = FR_CHUNK_END;
	}
	return STEP_ON;
}

/*
 * FR_CHUNK_SIZE (RFC 9112 §7.1): 1*HEXDIG, then extensions, which are
 * dropped: evhttp would refuse them, and nothing here reads them.  The
 * size is checked against what is left of max_body before any of the
 * chunk's data is read, and evhttp gets the size alone.
 */
static int
feed_chunk_size(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	size_t len = evbuffer_get_length(src), n, i;
	const char *line;
	uint64_t size = 0;
	ssize_t lf;
	int d, over = 0;

	if ((lf = find_lf(src, f->scan)) < 0) {
		f->scan = len;
		if (len < FRAMING_CHUNK_LINE_MAX)
			return STEP_MORE;
		lf = (ssize_t)len;
	}
	if ((size_t)lf >= FRAMING_CHUNK_LINE_MAX) {
		refuse(f, src, dst, 400, "invalid_value", "Transfer-Encoding",
		    "a chunk size line is longer than %d bytes",
		    FRAMING_CHUNK_LINE_MAX);
		return STEP_ON;
	}
	if ((line = (const char *)evbuffer_pullup(src, lf + 1)) == NULL)
		fatalx("evbuffer_pullup: out of memory");
	n = (size_t)lf;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (n == 0 || !isxdigit((unsigned char)line[0]))
		goto malformed;
	for (i = 0; i < n && isxdigit((unsigned char)line[i]); i++) {
		d = isdigit((unsigned char)line[i]) ? line[i] - '0' :
		    tolower((unsigned char)line[i]) - 'a' + 10;
		if (size > UINT64_MAX >> 4)
			over = 1;	/* over 64 bits: over every max_body */
		else
			size = size << 4 | (uint64_t)d;
	}
	if (over)
		size = UINT64_MAX;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if ((i < n && line[i] != ';') || memchr(line, '\0', n) != NULL ||
	    memchr(line, '\r', n) != NULL)
		goto malformed;
	if (size > f->lim.max_body - f->body_len) {
		refuse(f, src, dst, 413, "body_too_large", NULL,
		    "the chunked body exceeds the max_body limit of %zu bytes",
		    f->lim.max_body);
		return STEP_ON;
	}
	evbuffer_drain(src, (size_t)lf + 1);
	f->scan = 0;
	if (evbuffer_add_printf(dst, "%" PRIx64 "\r\n", size) < 0)
		fatalx("evbuffer_add_printf: out of memory");
	f->body_len += size;
	if (size == 0) {
		f->state = FR_TRAILER;
		f->trailer_len = 0;
	} else {
		f->state = FR_CHUNK_DATA;
		f->remaining = size;
	}
	return STEP_ON;

malformed:
	refuse(f, src, dst, 400, "invalid_value", "Transfer-Encoding",
	    "a chunk size is not hexadecimal digits");
	return STEP_ON;
}

/* FR_CHUNK_END: the CRLF (or LF) after a chunk's data. */
static int
feed_chunk_end(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	int c = byte_at(src, 0);
	size_t n = 1;

	if (c == '\r') {
		if (evbuffer_get_length(src) < 2)
			return STEP_MORE;
		c = byte_at(src, 1);
		n = 2;
	}
	if (c != '\n') {
		refuse(f, src, dst, 400, "invalid_value", "Transfer-Encoding",
		    "a chunk's data is not followed by CRLF");
		return STEP_ON;
	}
	evbuffer_drain(src, n);
	if (evbuffer_add(dst, "\r\n", 2) != 0)
		fatalx("evbuffer_add: out of memory");
	f->state = FR_CHUNK_SIZE;
	return STEP_ON;
}

/*
 * FR_TRAILER: the trailer lines are read and dropped (evhttp would drop
 * them too); they count with the head against max_headers, as in evhttp,
 * but for the empty line that ends them (a lone CR so far may be its start).
 */
static int
feed_trailer(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	size_t len, line;
	ssize_t lf;
	int empty;

	for (;;) {
		len = evbuffer_get_length(src);
		if ((lf = find_lf(src, f->scan)) < 0) {
			f->scan = len;
			if (len == 1 && byte_at(src, 0) == '\r')
				return STEP_MORE;
			if (f->head_len + f->trailer_len + len > f->lim.max_headers)
				goto too_large;
			return STEP_MORE;
		}
		line = (size_t)lf + 1;
		empty = lf == 0 || (lf == 1 && byte_at(src, 0) == '\r');
		if (!empty && f->head_len + f->trailer_len + line >
		    f->lim.max_headers)
			goto too_large;		/* the line is dropped with the rest */
		evbuffer_drain(src, line);
		f->scan = 0;
		if (empty)
			break;
		f->trailer_len += line;
	}
	if (evbuffer_add(dst, "\r\n", 2) != 0)
		fatalx("evbuffer_add: out of memory");
	request_done(f);
	return STEP_ON;

too_large:
	refuse(f, src, dst, 431, "headers_too_large", NULL, "the request's "
	    "headers and trailers exceed the max_headers limit of %zu bytes",
	    f->lim.max_headers);
	return STEP_ON;
}

int
framing_feed(struct framing *f, struct evbuffer *src, struct evbuffer *dst)
{
	size_t before = evbuffer_get_length(dst);
	int step = STEP_ON;

	while (step == STEP_ON) {
		if (f->state == FR_REFUSED) {
			f->discarded += evbuffer_get_length(src);
			evbuffer_drain(src, evbuffer_get_length(src));
			break;
		}
		if (evbuffer_get_length(src) == 0)
			break;
		switch (f->state) {
		case FR_HEAD:
			step = feed_head(f, src, dst);
			break;
		case FR_BODY:
		case FR_CHUNK_DATA:
			step = feed_data(f, src, dst);
			break;
		case FR_CHUNK_SIZE:
			step = feed_chunk_size(f, src, dst);
			break;
		case FR_CHUNK_END:
			step = feed_chunk_end(f, src, dst);
			break;
		case FR_TRAILER:
			step = feed_trailer(f, src, dst);
			break;
		case FR_REFUSED:
		case FR_MAX:
			fatalx("framing: state %d", (int)f->state);
		}
	}
	return evbuffer_get_length(dst) > before;
}
