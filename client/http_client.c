/*
 * The client's HTTP/1.1 transport (see http_client.h): requests with
 * Content-Length, answers framed by Content-Length, chunked encoding or the
 * end of the connection.  TLS checks the chain and the host name, never
 * falls back to plain text, and offers a client certificate when given.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ledger/xmalloc.h"

#include "http_client.h"

#define HEADER_MAX (64 * 1024)
#define BODY_MAX ((size_t)1 << 31)	/* a whole answer held in memory */
#define READ_CHUNK 65536

struct http_client {
	int tls;
	char host[256];		/* without brackets */
	char hostport[300];	/* for BIO_set_conn_hostname and Host: */
	char *base;		/* path prefix, without a trailing '/' */
	char *auth;		/* "Bearer …" or NULL */
	int timeout_ms;
	SSL_CTX *ssl_ctx;
	BIO *bio;		/* NULL when not connected */
	int reused;		/* the connection served a request already */
	char *buf;		/* bytes read, not yet consumed */
	size_t off, len, cap;
	char err[512];
};

static void
set_err(struct http_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* Appends OpenSSL's first queued error to err, and clears the queue. */
static void
add_ssl_err(char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	size_t n = strlen(err);
	char text[256];

	if (e != 0 && n + 3 < errlen) {
		ERR_error_string_n(e, text, sizeof(text));
		snprintf(err + n, errlen - n, ": %s", text);
	}
	ERR_clear_error();
}

static int
parse_url(struct http_client *c, const char *url, char *err, size_t errlen)
{
	const char *p, *hend, *slash;
	unsigned long port;
	char *end;
	size_t hlen;

	if (strncmp(url, "http://", 7) == 0) {
		c->tls = 0;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		c->tls = 1;
		p = url + 8;
	} else {
		snprintf(err, errlen, "URL %s: only http:// and https:// are "
		    "supported", url);
		return -1;
	}
	slash = p + strcspn(p, "/?#");
	if (*p == '[') {
		if ((hend = memchr(p, ']', (size_t)(slash - p))) == NULL)
			goto bad;
		hlen = (size_t)(hend - p - 1);
		if (hlen == 0 || hlen >= sizeof(c->host))
			goto bad;
		memcpy(c->host, p + 1, hlen);
		c->host[hlen] = '\0';
		hend++;
	} else {
		hend = p + strcspn(p, ":/?#");
		hlen = (size_t)(hend - p);
		if (hlen == 0 || hlen >= sizeof(c->host))
			goto bad;
		memcpy(c->host, p, hlen);
		c->host[hlen] = '\0';
	}
	port = c->tls ? 443 : 80;
	if (*hend == ':') {
		errno = 0;
		port = strtoul(hend + 1, &end, 10);
		if (end == hend + 1 || end != slash || port == 0 ||
		    port > 65535)
			goto bad;
	} else if (hend != slash)
		goto bad;
	if (*slash == '?' || *slash == '#')
		goto bad;
	snprintf(c->hostport, sizeof(c->hostport), strchr(c->host, ':') ?
	    "[%s]:%lu" : "%s:%lu", c->host, port);
	c->base = xstrdup(slash);
	hlen = strlen(c->base);
	while (hlen > 0 && c->base[hlen - 1] == '/')
		c->base[--hlen] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "URL %s is malformed", url);
	return -1;
}

static int
setup_tls(struct http_client *c, const struct http_client_opts *o, char *err,
    size_t errlen)
{
	if ((c->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (o->cacert != NULL) {
		if (SSL_CTX_load_verify_locations(c->ssl_ctx, o->cacert,
		    NULL) != 1) {
			snprintf(err, errlen, "cannot load CA file %s",
			    o->cacert);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
		snprintf(err, errlen, "cannot load the system's CA store");
		goto fail;
	}
	if (o->cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx,
		    o->cert) != 1) {
			snprintf(err, errlen, "cannot load client certificate "
			    "%s", o->cert);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, o->cert_key ?
		    o->cert_key : o->cert, SSL_FILETYPE_PEM) != 1) {
			snprintf(err, errlen, "cannot load client key %s",
			    o->cert_key ? o->cert_key : o->cert);
			goto fail;
		}
		if (SSL_CTX_check_private_key(c->ssl_ctx) != 1) {
			snprintf(err, errlen, "client key does not match "
			    "certificate %s", o->cert);
			goto fail;
		}
	} else if (o->cert_key != NULL) {
		snprintf(err, errlen, "--cert-key needs --cert");
		return -1;
	}
	return 0;
fail:
	add_ssl_err(err, errlen);
	return -1;
}

struct http_client *
http_client_new(const struct http_client_opts *o, char *err, size_t errlen)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	if (parse_url(c, o->url, err, errlen) != 0)
		goto fail;
	if (!c->tls && (o->cert != NULL || o->cacert != NULL)) {
		snprintf(err, errlen, "--cert and --cacert need an https:// URL");
		goto fail;
	}
	if (c->tls && setup_tls(c, o, err, errlen) != 0)
		goto fail;
	if (o->token != NULL && o->token[0] != '\0')
		c->auth = xasprintf("Bearer %s", o->token);
	return c;
fail:
	http_client_free(c);
	return NULL;
}

/*
 * SIGPIPE is ignored only while we talk to the server: a server that hangs
 * up must give an error, not kill us, while a closed standard output is
 * left to end ledgerctl by the signal (main.c).  OpenSSL's socket BIOs
 * write with write(2), so MSG_NOSIGNAL is no way out.
 */
static void
sigpipe_ignore(struct sigaction *saved)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, saved);
}

static void
sigpipe_restore(const struct sigaction *saved)
{
	sigaction(SIGPIPE, saved, NULL);
}

static void
disconnect(struct http_client *c)
{
	struct sigaction saved;

	sigpipe_ignore(&saved);
	if (c->bio != NULL)
		BIO_free_all(c->bio);
	sigpipe_restore(&saved);
	c->bio = NULL;
	c->off = c->len = 0;
	c->reused = 0;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	disconnect(c);
	SSL_CTX_free(c->ssl_ctx);
	free(c->base);
	free(c->auth);
	free(c->buf);
	free(c);
}

const char *
http_client_error(const struct http_client *c)
{
	return c->err;
}

static int
set_timeouts(struct http_client *c)
{
	struct timeval tv;
	int fd, one = 1;

	if (BIO_get_fd(c->bio, &fd) <= 0 || fd < 0)
		return -1;
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -1;
	return 0;
}

static int
connect_server(struct http_client *c)
{
	struct in6_addr a6;
	struct in_addr a4;
	SSL *ssl = NULL;
	long vr;

	ERR_clear_error();
	if (c->tls) {
		if ((c->bio = BIO_new_ssl_connect(c->ssl_ctx)) == NULL)
			goto ssl_fail;
		BIO_get_ssl(c->bio, &ssl);
		if (ssl == NULL)
			goto ssl_fail;
		SSL_set_mode(ssl, SSL_MODE_AUTO_RETRY);
		/* The name the certificate must carry: DNS name or IP address. */
		if (inet_pton(AF_INET, c->host, &a4) == 1 ||
		    inet_pton(AF_INET6, c->host, &a6) == 1) {
			if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    c->host) != 1)
				goto ssl_fail;
		} else if (SSL_set_tlsext_host_name(ssl, c->host) != 1 ||
		    SSL_set1_host(ssl, c->host) != 1)
			goto ssl_fail;
	} else if ((c->bio = BIO_new(BIO_s_connect())) == NULL)
		goto ssl_fail;
	BIO_set_conn_hostname(c->bio, c->hostport);
	if (BIO_do_connect(c->bio) <= 0) {
		set_err(c, "cannot connect to %s", c->hostport);
		add_ssl_err(c->err, sizeof(c->err));
		disconnect(c);
		return -1;
	}
	if (c->tls) {
		if (BIO_do_handshake(c->bio) <= 0 ||
		    (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
			vr = SSL_get_verify_result(ssl);
			set_err(c, "TLS handshake with %s failed%s%s",
			    c->hostport, vr != X509_V_OK ? ": " : "",
			    vr != X509_V_OK ?
			    X509_verify_cert_error_string(vr) : "");
			add_ssl_err(c->err, sizeof(c->err));
			disconnect(c);
			return -1;
		}
	}
	set_timeouts(c);
	c->off = c->len = 0;
	c->reused = 0;
	return 0;
ssl_fail:
	set_err(c, "cannot set up the connection to %s", c->hostport);
	add_ssl_err(c->err, sizeof(c->err));
	disconnect(c);
	return -1;
}

static int
write_all(struct http_client *c, const void *buf, size_t len)
{
	const char *p = buf;
	int n;

	while (len > 0) {
		n = BIO_write(c->bio, p, len > INT32_MAX ? INT32_MAX : (int)len);
		if (n <= 0) {
			if (BIO_should_retry(c->bio))
				continue;
			set_err(c, "write to %s failed", c->hostport);
			add_ssl_err(c->err, sizeof(c->err));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more bytes into the buffer; 1 when some came, 0 at EOF, -1 on error. */
static int
fill(struct http_client *c)
{
	int n, fd, one = 1;

	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->cap - c->len < READ_CHUNK) {
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < READ_CHUNK) {
			c->cap = c->len + READ_CHUNK * 2;
			c->buf = xrealloc(c->buf, c->cap);
		}
	}
	/*
	 * A server that writes an answer in pieces without TCP_NODELAY holds
	 * the last piece until the previous one is acknowledged: acknowledge
	 * at once instead of after the delayed-ACK timer (Linux resets this
	 * flag, so it is set before every read).
	 */
	if (BIO_get_fd(c->bio, &fd) > 0 && fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
	for (;;) {
		n = BIO_read(c->bio, c->buf + c->len, (int)(c->cap - c->len));
		if (n > 0) {
			c->len += (size_t)n;
			return 1;
		}
		if (n == 0 || !BIO_should_retry(c->bio))
			break;
	}
	if (n == 0)
		return 0;
	set_err(c, "read from %s failed%s", c->hostport,
	    errno == EAGAIN || errno == EWOULDBLOCK ? ": timed out" : "");
	add_ssl_err(c->err, sizeof(c->err));
	return -1;
}

/* One line (CRLF or LF) of at most max bytes; returns a pointer into buf. */
static char *
read_line(struct http_client *c, size_t max, int *eof)
{
	char *nl, *line;
	int rc;

	*eof = 0;
	for (;;) {
		/* c->buf is NULL until the first read fills it. */
		nl = c->len > c->off ? memchr(c->buf + c->off, '\n',
		    c->len - c->off) : NULL;
		if (nl != NULL)
			break;
		if (c->len - c->off > max) {
			set_err(c, "answer line too long");
			return NULL;
		}
		errno = 0;
		if ((rc = fill(c)) <= 0) {
			if (rc == 0) {
				*eof = 1;
				set_err(c, "%s closed the connection",
				    c->hostport);
			}
			return NULL;
		}
	}
	line = c->buf + c->off;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	c->off = (size_t)(nl - c->buf) + 1;
	return line;
}

/* Where body bytes go: a growing buffer or a sink. */
struct body_out {
	struct http_reply *reply;
	size_t cap;
	http_sink sink;
	void *arg;
};

static int
emit(struct http_client *c, struct body_out *b, const char *data, size_t n)
{
	struct http_reply *r = b->reply;

	if (b->sink != NULL) {
		if (b->sink(b->arg, data, n) != 0) {
			set_err(c, "stopped while reading the answer");
			return -1;
		}
		return 0;
	}
	if (r->len + n + 1 > BODY_MAX) {
		set_err(c, "answer larger than %zu bytes", BODY_MAX);
		return -1;
	}
	if (r->len + n + 1 > b->cap) {
		b->cap = (r->len + n + 1) * 2;
		r->body = xrealloc(r->body, b->cap);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

/* n body bytes (or to EOF when n is SIZE_MAX). */
static int
read_counted(struct http_client *c, struct body_out *b, size_t n)
{
	size_t avail;
	int rc;

	while (n > 0) {
		if (c->off == c->len) {
			errno = 0;
			if ((rc = fill(c)) < 0)
				return -1;
			if (rc == 0) {
				if (n == SIZE_MAX)
					return 0;
				set_err(c, "%s closed the connection "
				    "mid-answer", c->hostport);
				return -1;
			}
		}
		avail = c->len - c->off;
		if (avail > n)
			avail = n;
		if (emit(c, b, c->buf + c->off, avail) != 0)
			return -1;
		c->off += avail;
		if (n != SIZE_MAX)
			n -= avail;
	}
	return 0;
}

static int
read_chunked(struct http_client *c, struct body_out *b)
{
	unsigned long long size;
	char *line, *end;
	int eof;

	for (;;) {
		if ((line = read_line(c, 1024, &eof)) == NULL)
			return -1;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno != 0 || (*end != '\0' &&
		    *end != ';' && *end != ' ')) {
			set_err(c, "malformed chunk size");
			return -1;
		}
		if (size == 0)
			break;
		if (read_counted(c, b, (size_t)size) != 0)
			return -1;
		if ((line = read_line(c, 2, &eof)) == NULL || *line != '\0') {
			set_err(c, "malformed chunk end");
			return -1;
		}
	}
	/* Trailers, up to the empty line. */
	do {
		if ((line = read_line(c, HEADER_MAX, &eof)) == NULL)
			return -1;
	} while (*line != '\0');
	return 0;
}

static int
send_request(struct http_client *c, const char *method, const char *target,
    const char *content_type, const void *body, size_t len)
{
	char *head, ctl[160] = "", cl[64] = "";
	int rc;

	if (content_type != NULL)
		snprintf(ctl, sizeof(ctl), "Content-Type: %s\r\n",
		    content_type);
	if (body != NULL || strcmp(method, "POST") == 0)
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", len);
	head = xasprintf("%s %s%s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s"
	    "Accept: */*\r\nUser-Agent: ledgerctl\r\n\r\n",
	    method, c->base, target, c->hostport, ctl, cl,
	    c->auth ? "Authorization: " : "", c->auth ? c->auth : "",
	    c->auth ? "\r\n" : "");
	/* One write: a second small segment would wait for Nagle's ACK. */
	if (len > 0) {
		size_t hlen = strlen(head);

		head = xrealloc(head, hlen + len);
		memcpy(head + hlen, body, len);
		rc = write_all(c, head, hlen + len);
	} else
		rc = write_all(c, head, strlen(head));
	free(head);
	if (rc == 0)
		(void)BIO_flush(c->bio);
	return rc;
}

/*
 * Reads one answer.  sink_if_ok: stream the body of a 200 to the sink.
 * *none: nothing at all came back (a kept-alive connection the server
 * had closed), so the request may be sent again.
 */
static int
read_reply(struct http_client *c, const char *method, struct http_reply *out,
    http_sink sink, void *arg, int *none)
{
	struct body_out b;
	char *line, *colon, *v;
	int eof, chunked = 0, close_after = 0, rc;
	size_t clen = SIZE_MAX;
	unsigned long long ull;

	*none = 0;
	memset(out, 0, sizeof(*out));
	do {
		if ((line = read_line(c, HEADER_MAX, &eof)) == NULL) {
			*none = eof && c->reused;
			return -1;
		}
		if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12) {
			set_err(c, "%s did not answer in HTTP/1.x", c->hostport);
			return -1;
		}
		out->status = atoi(line + 9);
		/* Headers of the answer (those of a 1xx are skipped). */
		for (;;) {
			if ((line = read_line(c, HEADER_MAX, &eof)) == NULL)
				return -1;
			if (*line == '\0')
				break;
			if ((colon = strchr(line, ':')) == NULL)
				continue;
			*colon = '\0';
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			if (strcasecmp(line, "Content-Length") == 0) {
				errno = 0;
				ull = strtoull(v, NULL, 10);
				if (errno != 0 || ull >= BODY_MAX) {
					set_err(c, "bad Content-Length");
					return -1;
				}
				clen = (size_t)ull;
			} else if (strcasecmp(line, "Transfer-Encoding") == 0)
				chunked = strcasestr(v, "chunked") != NULL;
			else if (strcasecmp(line, "Connection") == 0)
				close_after = strcasestr(v, "close") != NULL;
			else if (strcasecmp(line, "Content-Type") == 0)
				snprintf(out->content_type,
				    sizeof(out->content_type), "%s", v);
			else if (strcasecmp(line, "X-Ledger-Export-Seq") == 0)
				snprintf(out->export_seq,
				    sizeof(out->export_seq), "%s", v);
			else if (strcasecmp(line, "X-Ledger-Export-Range") == 0)
				snprintf(out->export_range,
				    sizeof(out->export_range), "%s", v);
		}
	} while (out->status >= 100 && out->status < 200);

	memset(&b, 0, sizeof(b));
	b.reply = out;
	if (out->status == 200 && sink != NULL) {
		b.sink = sink;
		b.arg = arg;
	}
	out->body = xmalloc(1);
	out->body[0] = '\0';
	b.cap = 1;
	if (strcmp(method, "HEAD") == 0 || out->status == 204 ||
	    out->status == 304)
		rc = 0;
	else if (chunked)
		rc = read_chunked(c, &b);
	else if (clen != SIZE_MAX)
		rc = read_counted(c, &b, clen);
	else {
		close_after = 1;
		rc = read_counted(c, &b, SIZE_MAX);
	}
	if (rc != 0) {
		http_reply_free(out);
		return -1;
	}
	if (close_after)
		disconnect(c);
	else
		c->reused = 1;
	return 0;
}

/* One request; a reused connection the server had closed is tried again. */
static int
exchange_retrying(struct http_client *c, const char *method,
    const char *target, const char *content_type, const void *body, size_t len,
    struct http_reply *out, http_sink sink, void *arg)
{
	int attempt, none, reused;

	for (attempt = 0; attempt < 2; attempt++) {
		if (c->bio == NULL && connect_server(c) != 0)
			return -1;
		reused = c->reused;
		none = 0;
		if (send_request(c, method, target, content_type, body,
		    len) != 0)
			none = reused;
		else if (read_reply(c, method, out, sink, arg, &none) == 0)
			return 0;
		/*
		 * Only a reused connection that the server closed before
		 * answering anything is tried again, on a fresh one.
		 */
		disconnect(c);
		if (!none)
			return -1;
	}
	return -1;
}

static int
exchange(struct http_client *c, const char *method, const char *target,
    const char *content_type, const void *body, size_t len,
    struct http_reply *out, http_sink sink, void *arg)
{
	struct sigaction saved;
	int rc;

	sigpipe_ignore(&saved);
	rc = exchange_retrying(c, method, target, content_type, body, len, out,
	    sink, arg);
	sigpipe_restore(&saved);
	return rc;
}

int
http_client_request(struct http_client *c, const char *method,
    const char *target, const char *content_type, const void *body,
    size_t len, struct http_reply *out)
{
	return exchange(c, method, target, content_type, body, len, out, NULL,
	    NULL);
}

int
http_client_stream(struct http_client *c, const char *target, http_sink sink,
    void *arg, struct http_reply *out)
{
	return exchange(c, "GET", target, NULL, NULL, 0, out, sink, arg);
}

int
http_reply_parse(const char *bytes, size_t len, const char *method,
    http_sink sink, void *arg, struct http_reply *out)
{
	struct http_client c;
	int none, rc;

	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	snprintf(c.hostport, sizeof(c.hostport), "the test server");
	if (len > INT32_MAX ||
	    (c.bio = BIO_new_mem_buf(bytes, (int)len)) == NULL)
		return -1;
	/* The end of the bytes reads as the server closing the connection. */
	BIO_set_mem_eof_return(c.bio, 0);
	rc = read_reply(&c, method, out, sink, arg, &none);
	disconnect(&c);
	free(c.buf);
	return rc;
}

void
http_reply_free(struct http_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

const char *
http_reply_message(const struct http_reply *r)
{
	static char msg[512];
	json_t *root, *e;
	const char *m, *f;
	size_t i, n;

	msg[0] = '\0';
	if (r->body != NULL && (root = json_loadb(r->body, r->len, 0,
	    NULL)) != NULL) {
		e = json_object_get(root, "error");
		m = json_string_value(json_object_get(e, "message"));
		f = json_string_value(json_object_get(e, "field"));
		if (m != NULL)
			snprintf(msg, sizeof(msg), "%s%s%s%s", m,
			    f ? " (field " : "", f ? f : "", f ? ")" : "");
		json_decref(root);
		if (msg[0] != '\0')
			return msg;
	}
	n = r->body != NULL ? r->len : 0;
	if (n > 200)
		n = 200;
	for (i = 0; i < n; i++)
		msg[i] = isprint((unsigned char)r->body[i]) ? r->body[i] : ' ';
	msg[n] = '\0';
	return msg;
}

char *
http_path_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *p = out;
	unsigned char ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~')
			*p++ = (char)ch;
		else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = '\0';
	return out;
}

void
http_query_add(char **q, const char *name, const char *value)
{
	char *esc, *n;

	if (value == NULL)
		return;
	esc = http_path_escape(value);
	n = xasprintf("%s%c%s=%s", *q, (*q)[0] ? '&' : '?', name, esc);
	free(esc);
	free(*q);
	*q = n;
}
