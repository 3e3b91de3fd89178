/*
 * The tests' HTTP/1.1 client (see http.h): blocking sockets, poll() before
 * every read and write so that a silent server fails a test instead of
 * hanging it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "ledger/base64.h"
#include "ledger/xmalloc.h"

#include "http.h"

#define HEADER_MAX (1024 * 1024)	/* bytes of a response head we accept */
#define BODY_MAX (256 * 1024 * 1024)

/* Waits until fd is ready for events; 0, HTTP_ETIMEOUT or HTTP_EIO. */
static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return HTTP_EIO;
	if (n == 0)
		return HTTP_ETIMEOUT;
	return 0;
}

int
http_connect(struct http_conn *c, unsigned port, int timeout_ms)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(int);
	int fd, flags, soerr = 0, one = 1, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->port = port;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return HTTP_EIO;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Non-blocking connect, so that the timeout covers it too. */
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno != EINPROGRESS) {
			close(fd);
			return HTTP_EIO;
		}
		if ((rc = wait_fd(fd, POLLOUT, c->timeout_ms)) != 0) {
			close(fd);
			return rc;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
			close(fd);
			return HTTP_EIO;
		}
	}
	fcntl(fd, F_SETFL, flags);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

void
http_close(struct http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int
http_send_raw(struct http_conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;
	int rc;

	if (c->fd < 0)
		return HTTP_EIO;
	while (len > 0) {
		if ((rc = wait_fd(c->fd, POLLOUT, c->timeout_ms)) != 0)
			return rc;
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return HTTP_ECLOSED;
			return HTTP_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
http_shutdown_write(struct http_conn *c)
{
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_WR);
}

/* Reads more bytes into c->buf; returns bytes read, 0 at EOF, or an error. */
static ssize_t
fill(struct http_conn *c)
{
	ssize_t n;
	int rc;

	if (c->fd < 0)
		return HTTP_EIO;
	if (c->cap - c->len < 65536) {
		c->cap = c->cap * 2 + 65536;
		c->buf = xrealloc(c->buf, c->cap + 1);
	}
	for (;;) {
		if ((rc = wait_fd(c->fd, POLLIN, c->timeout_ms)) != 0)
			return rc;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? 0 : HTTP_EIO;
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		return n;
	}
}

/* Drops the first n bytes of the buffer. */
static void
consume(struct http_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	if (c->buf)
		c->buf[c->len] = '\0';
}

/* Ensures the buffer holds at least n bytes. */
static int
need(struct http_conn *c, size_t n)
{
	ssize_t got;

	while (c->len < n) {
		if ((got = fill(c)) < 0)
			return (int)got;
		if (got == 0)
			return HTTP_ECLOSED;
	}
	return 0;
}

/* Offset just past the first CRLF at or after from, or 0 when none yet. */
static size_t
find_crlf(const struct http_conn *c, size_t from)
{
	size_t i;

	for (i = from; i + 1 < c->len; i++)
		if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
			return i + 2;
	return 0;
}

/* Reads one CRLF-terminated line (returned without CRLF, new string). */
static int
read_line(struct http_conn *c, char **line)
{
	size_t end;
	ssize_t got;

	while ((end = find_crlf(c, 0)) == 0) {
		if (c->len > HEADER_MAX)
			return HTTP_EPROTO;
		if ((got = fill(c)) < 0)
			return (int)got;
		if (got == 0)
			return HTTP_ECLOSED;
	}
	*line = xstrndup(c->buf, end - 2);
	consume(c, end);
	return 0;
}

void
http_response_free(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *
http_header_get(const struct http_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

json_t *
http_response_json(const struct http_response *r)
{
	if (r->body == NULL)
		return NULL;
	return json_loadb(r->body, r->body_len, 0, NULL);
}

/* Appends n bytes from the connection buffer to the response body. */
static void
body_take(struct http_conn *c, struct http_response *r, size_t n)
{
	r->body = xrealloc(r->body, r->body_len + n + 1);
	memcpy(r->body + r->body_len, c->buf, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	consume(c, n);
}

static int
read_chunked(struct http_conn *c, struct http_response *r)
{
	char *line, *end;
	unsigned long long size;
	int rc;

	for (;;) {
		if ((rc = read_line(c, &line)) != 0)
			return rc;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno || (*end != '\0' && *end != ';' &&
		    *end != ' ' && *end != '\t') || size > BODY_MAX) {
			free(line);
			return HTTP_EPROTO;
		}
		free(line);
		if (size == 0)
			break;
		if ((rc = need(c, (size_t)size + 2)) != 0)
			return rc;
		if (c->buf[size] != '\r' || c->buf[size + 1] != '\n')
			return HTTP_EPROTO;
		body_take(c, r, (size_t)size);
		consume(c, 2);
	}
	/* Trailer fields, up to the empty line. */
	for (;;) {
		if ((rc = read_line(c, &line)) != 0)
			return rc;
		if (line[0] == '\0') {
			free(line);
			return 0;
		}
		free(line);
	}
}

static int
read_to_close(struct http_conn *c, struct http_response *r)
{
	ssize_t got;

	for (;;) {
		if (c->len > 0)
			body_take(c, r, c->len);
		if ((got = fill(c)) < 0)
			return (int)got;
		if (got == 0)
			return 0;
		if (r->body_len > BODY_MAX)
			return HTTP_EPROTO;
	}
}

static int
read_head(struct http_conn *c, struct http_response *r)
{
	char *line = NULL, *colon, *v, *e;
	int rc, minor;

	if ((rc = read_line(c, &line)) != 0)
		return rc;
	if (sscanf(line, "HTTP/1.%d %d", &minor, &r->status) != 2 ||
	    r->status < 100 || r->status > 999) {
		free(line);
		return HTTP_EPROTO;
	}
	snprintf(r->version, sizeof(r->version), "%.*s",
	    (int)strcspn(line, " "), line);
	if (minor == 0)
		r->closed = 1;	/* unless keep-alive is said below */
	free(line);
	for (;;) {
		if ((rc = read_line(c, &line)) != 0)
			return rc;
		if (line[0] == '\0') {
			free(line);
			return 0;
		}
		if ((colon = strchr(line, ':')) == NULL) {
			free(line);
			return HTTP_EPROTO;
		}
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
		r->headers[r->n_headers].name = xstrdup(line);
		r->headers[r->n_headers].value = xstrdup(v);
		r->n_headers++;
		free(line);
	}
}

int
http_read_response(struct http_conn *c, struct http_response *r, int head)
{
	const char *te, *cl, *conn;
	char *end;
	unsigned long long n;
	int rc;

	memset(r, 0, sizeof(*r));
	for (;;) {
		if ((rc = read_head(c, r)) != 0)
			goto fail;
		if (r->status >= 200)
			break;
		http_response_free(r);	/* 100 Continue and friends */
	}
	if ((conn = http_header_get(r, "Connection")) != NULL) {
		if (strcasecmp(conn, "close") == 0)
			r->closed = 1;
		else if (strcasecmp(conn, "keep-alive") == 0)
			r->closed = 0;
	}
	r->body = xstrdup("");
	if (head || r->status == 204 || r->status == 304)
		return 0;
	te = http_header_get(r, "Transfer-Encoding");
	cl = http_header_get(r, "Content-Length");
	if (te != NULL && strcasecmp(te, "identity") != 0) {
		if (strcasecmp(te, "chunked") != 0) {
			rc = HTTP_EPROTO;
			goto fail;
		}
		if ((rc = read_chunked(c, r)) != 0)
			goto fail;
	} else if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (end == cl || *end != '\0' || errno || n > BODY_MAX) {
			rc = HTTP_EPROTO;
			goto fail;
		}
		if ((rc = need(c, (size_t)n)) != 0)
			goto fail;
		body_take(c, r, (size_t)n);
	} else {
		r->closed = 1;
		if ((rc = read_to_close(c, r)) != 0)
			goto fail;
	}
	return 0;
fail:
	http_response_free(r);
	return rc;
}

int
http_wait_closed(struct http_conn *c)
{
	ssize_t got;

	for (;;) {
		c->len = 0;
		if ((got = fill(c)) == 0)
			return 1;
		if (got < 0)
			return got == HTTP_EIO;	/* a reset is a close too */
	}
}

void
http_client_init(struct http_client *hc, unsigned port, const char *token)
{
	memset(hc, 0, sizeof(*hc));
	hc->conn.fd = -1;
	hc->port = port;
	hc->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	snprintf(hc->token, sizeof(hc->token), "%s", token ? token : "");
}

void
http_client_close(struct http_client *hc)
{
	http_close(&hc->conn);
}

/*
 * With LEDGER_TEST_RECORD naming a file, every exchange is appended to it
 * as one JSON line, for tests/openapi_check.py to hold against the OpenAPI
 * document.  One O_APPEND write per line, so that test programs running
 * at the same time can share the file without interleaving.
 */
static void
record_exchange(const char *method, const char *target,
    const char *content_type, const struct http_response *r)
{
	const char *path = getenv("LEDGER_TEST_RECORD");
	json_t *line, *headers, *body;
	char *text, *b64;
	size_t i, n;
	int fd;

	if (path == NULL || path[0] == '\0')
		return;
	headers = json_array();
	for (i = 0; i < r->n_headers; i++)
		json_array_append_new(headers, json_pack("[ss]",
		    r->headers[i].name, r->headers[i].value));
	line = json_pack("{ss ss ss? si so}", "method", method, "target", target,
	    "content_type", content_type,
	    "status", r->status, "headers", headers);
	/* Text as text; bytes that are not UTF-8 (tiles) as base64. */
	if ((body = json_stringn(r->body, r->body_len)) != NULL) {
		json_object_set_new(line, "body", body);
	} else {
		b64 = xmalloc(LEDGER_B64_LEN(r->body_len) + 1);
		ledger_b64_encode((const uint8_t *)r->body, r->body_len, b64);
		json_object_set_new(line, "body_base64", json_string(b64));
		free(b64);
	}
	text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (text == NULL)
		return;
	n = strlen(text);
	text[n] = '\n';	/* over the NUL: the line is written by length */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		if (write(fd, text, n + 1) != (ssize_t)(n + 1))
			fprintf(stderr, "%s: short write\n", path);
		close(fd);
	}
	free(text);
}

static int
send_request(struct http_client *hc, const char *method, const char *target,
    const char *auth, const char *content_type, const char *extra_headers,
    const void *body, size_t len)
{
	char *head;
	char clen[64] = "";
	int rc;

	if (body != NULL)
		snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", len);
	head = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s%s%s%s%s%s%s\r\n",
	    method, target, hc->port,
	    auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
	    content_type ? "Content-Type: " : "", content_type ? content_type : "",
	    content_type ? "\r\n" : "",
	    clen);
	if (extra_headers != NULL) {
		/* Splice the extra lines in before the final CRLF. */
		char *h = xasprintf("%.*s%s\r\n", (int)(strlen(head) - 2), head,
		    extra_headers);
		free(head);
		head = h;
	}
	rc = http_send_raw(&hc->conn, head, strlen(head));
	free(head);
	if (rc == 0 && body != NULL && len > 0)
		rc = http_send_raw(&hc->conn, body, len);
	return rc;
}

int
http_request(struct http_client *hc, const char *method, const char *target,
    const char *auth, const char *content_type, const char *extra_headers,
    const void *body, size_t len, struct http_response *r)
{
	int attempt, reused, rc = HTTP_EIO;

	memset(r, 0, sizeof(*r));
	for (attempt = 0; attempt < 2; attempt++) {
		reused = hc->conn.fd >= 0;
		if (!reused && (rc = http_connect(&hc->conn, hc->port,
		    hc->timeout_ms)) != 0)
			return rc;
		rc = send_request(hc, method, target, auth, content_type,
		    extra_headers, body, len);
		if (rc == 0) {
			size_t before = hc->conn.len;

			rc = http_read_response(&hc->conn, r,
			    strcmp(method, "HEAD") == 0);
			/*
			 * A kept-alive connection the server closed while idle
			 * ends before any byte of the answer: try a new one.
			 */
			if (rc == HTTP_ECLOSED && reused && before == 0 &&
			    hc->conn.len == 0) {
				http_close(&hc->conn);
				continue;
			}
		} else if (reused && rc == HTTP_ECLOSED) {
			http_close(&hc->conn);
			continue;
		}
		break;
	}
	if (rc != 0 || r->closed)
		http_close(&hc->conn);
	if (rc == 0)
		record_exchange(method, target, content_type, r);
	return rc;
}

int
http_get(struct http_client *hc, const char *target, struct http_response *r)
{
	char auth[300];

	snprintf(auth, sizeof(auth), "Bearer %s", hc->token);
	return http_request(hc, "GET", target, hc->token[0] ? auth : NULL, NULL,
	    NULL, NULL, 0, r);
}

int
http_get_public(struct http_client *hc, const char *target, struct http_response *r)
{
	return http_request(hc, "GET", target, NULL, NULL, NULL, NULL, 0, r);
}

int
http_post_json(struct http_client *hc, const char *target, const char *json,
    struct http_response *r)
{
	char auth[300];

	snprintf(auth, sizeof(auth), "Bearer %s", hc->token);
	return http_request(hc, "POST", target, hc->token[0] ? auth : NULL,
	    "application/json", NULL, json, strlen(json), r);
}
