/*
 * The guard in front of evhttp (http_guard.h): a bufferevent filter over
 * each connection's socket or TLS bufferevent, which frames the requests
 * (framing.c) before evhttp reads them, carries evhttp's answers out, and
 * closes a connection whose request was refused without resetting it.
 * Everything here runs on the event loop's thread.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "ledger/xmalloc.h"

#include "config.h"
#include "framing.h"
#include "http_guard.h"
#include "log.h"

/* A connection closed by evhttp after a refusal, read until it ends. */
struct lingering {
	struct http_guard *guard;
	int fd;			/* a duplicate: evhttp's bufferevent closed its own */
	struct event ev;
	int64_t until_ms;	/* monotonic */
	uint64_t left;		/* bytes still read and dropped */
	LIST_ENTRY(lingering) link;
};

/*
 * One connection.  It lives as long as evhttp's bufferevent (the filter):
 * conn_free() is the filter's free_context, called when libevent finalizes
 * it, after evhttp_connection_free() and before the underlying bufferevent
 * goes.
 */
struct http_guard_conn {
	struct http_guard *guard;	/* NULL once the guard is freed */
	struct bufferevent *filter;	/* evhttp's */
	struct bufferevent *under;	/* the socket's or TLS's */
	struct framing *framing;
	struct framing_limits lim;	/* the guard's */
	uint64_t dispatched;		/* requests evhttp handed over */
	uint64_t answered;		/* and whose answers it took */
	struct evbuffer_cb_entry *sent_cb;	/* on under's output */
	struct event flushed;		/* made active when under's output is out */
	int owe_write;			/* evhttp's output went out, unannounced */
	int eof, broken;		/* seen from under */
	short held_eof;			/* an EOF for evhttp once its output is out */
	bufferevent_data_cb under_read, under_write;	/* the filter's */
	bufferevent_event_cb under_event;
	void *under_arg;
	LIST_ENTRY(http_guard_conn) link;
};

struct http_guard {
	struct event_base *base;
	struct framing_limits lim;
	int timeout_seconds;
	size_t max_lingering, n_lingering;
	LIST_HEAD(, http_guard_conn) conns;
	LIST_HEAD(, lingering) lingering;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * evhttp frees its bufferevent with bufferevent_free(), which clears the
 * callbacks at once and frees the memory only when libevent finalizes it,
 * after conn_free(): until then, a filter without a write callback is one
 * evhttp has let go of (evhttp keeps one set in every state).
 */
static int
filter_freed(struct http_guard_conn *gc)
{
	bufferevent_data_cb writecb = NULL;

	bufferevent_getcb(gc->filter, NULL, &writecb, NULL, NULL);
	return writecb == NULL;
}

/*
 * How many bytes are dropped at most after the refusal: what a client
 * that sends its whole request before it reads sends (the body it
 * declared), or at least one request of the largest size taken.
 */
static uint64_t
linger_bytes(const struct http_guard_conn *gc)
{
	const struct framing_refusal *why = framing_refusal(gc->framing);
	uint64_t body = gc->lim.max_body;

	if (why != NULL && why->declared > body)
		body = why->declared;
	return body > UINT64_MAX - gc->lim.max_headers ? UINT64_MAX :
	    body + gc->lim.max_headers;
}

/* The filter's input side: the bytes evhttp reads are the framed ones. */
static enum bufferevent_filter_result
guard_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct http_guard_conn *gc = arg;
	int passed = framing_feed(gc->framing, src, dst);

	/* The connection ends after its answer: stop reading a flood. */
	if (framing_refusal(gc->framing) != NULL &&
	    framing_discarded(gc->framing) > linger_bytes(gc))
		bufferevent_disable(gc->under, EV_READ);
	/* BEV_OK only for bytes given: the filter calls again on BEV_OK. */
	return passed ? BEV_OK : BEV_NEED_MORE;
}

/*
 * evhttp's output goes to the underlying bufferevent at once, moving the
 * buffer's chains.  libevent's filter would announce it written as soon as
 * it is moved, and evhttp frees a connection it closes on that very
 * announcement: with the answer still in the underlying buffer, lost.  So
 * the announcement waits until the underlying buffer is empty (the answer
 * is in the kernel's hands), as a socket bufferevent's would: see
 * output_sent() and output_flushed().
 */
static void
move_output(struct http_guard_conn *gc, struct evbuffer *from)
{
	if (evbuffer_get_length(from) == 0)
		return;
	gc->owe_write = 1;
	if (evbuffer_add_buffer(bufferevent_get_output(gc->under), from) != 0)
		fatalx("evbuffer_add_buffer: out of memory");
}

/* The filter's output side; BEV_NEED_MORE keeps the filter from announcing. */
static enum bufferevent_filter_result
guard_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	move_output(arg, src);
	return BEV_NEED_MORE;
}

/*
 * On the filter's output buffer.  libevent 2.1's filter runs its output
 * side only while writing is enabled, and evhttp writes an answer before it
 * enables writing: without this the answer would wait for the next one.
 */
static void
output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	if (info->n_added > 0)
		move_output(arg, buf);
}

/* On the underlying output buffer: bytes went to the kernel. */
static void
output_sent(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_guard_conn *gc = arg;

	if (info->n_deleted == 0 || filter_freed(gc))
		return;
	/* Progress: evhttp's write timeout starts again, as on a socket. */
	if (bufferevent_get_enabled(gc->filter) & EV_WRITE)
		bufferevent_enable(gc->filter, EV_WRITE);
	/* From the loop, not from inside the underlying's write. */
	if (gc->owe_write && evbuffer_get_length(buf) == 0)
		event_active(&gc->flushed, EV_TIMEOUT, 1);
}

/* Whether evhttp's output has left, and evhttp been told so. */
static int
output_out(struct http_guard_conn *gc)
{
	return !gc->owe_write &&
	    evbuffer_get_length(bufferevent_get_output(gc->under)) == 0;
}

/*
 * Whether an EOF from the client may reach evhttp: every request framed on
 * the connection has been answered and the answers are out.  evhttp takes
 * an EOF for the end of the connection and would drop an answer still to
 * come (an append waiting for the writer, say).
 */
static int
eof_may_pass(struct http_guard_conn *gc)
{
	return output_out(gc) &&
	    gc->answered >= framing_requests(gc->framing);
}

/*
 * Tells evhttp that its output is out, if it still is; then passes on an
 * EOF held back meanwhile (under_event()), unless evhttp has closed the
 * connection or written more.
 */
static void
output_flushed(evutil_socket_t fd, short what, void *arg)
{
	struct http_guard_conn *gc = arg;
	short eof;

	if (filter_freed(gc) ||
	    evbuffer_get_length(bufferevent_get_output(gc->under)) > 0)
		return;
	if (gc->owe_write) {
		gc->owe_write = 0;
		if (bufferevent_get_enabled(gc->filter) & EV_WRITE)
			bufferevent_trigger(gc->filter, EV_WRITE, 0);
	}
	if (gc->held_eof != 0 && !filter_freed(gc) && eof_may_pass(gc)) {
		eof = gc->held_eof;
		gc->held_eof = 0;
		gc->under_event(gc->under, eof, gc->under_arg);
	}
}

/* The underlying bufferevent's callbacks: the filter's, through these. */
static void
under_read(struct bufferevent *bev, void *arg)
{
	struct http_guard_conn *gc = arg;

	gc->under_read(bev, gc->under_arg);
}

static void
under_write(struct bufferevent *bev, void *arg)
{
	struct http_guard_conn *gc = arg;

	gc->under_write(bev, gc->under_arg);
}

static void
under_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_guard_conn *gc = arg;

	if (what & BEV_EVENT_ERROR)
		gc->broken = 1;
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING)) {
		gc->eof = 1;
		/*
		 * A client may end its side once it has sent its request.
		 * evhttp takes an EOF for the end of the connection and frees
		 * it, the answer unsent: it hears of the EOF once its output
		 * is out, or not at all after a refusal, whose answer closes
		 * the connection anyway.
		 */
		if (framing_refusal(gc->framing) != NULL)
			return;
		if (!eof_may_pass(gc)) {
			gc->held_eof = what;
			return;
		}
	}
	gc->under_event(bev, what, gc->under_arg);
}

static void
linger_end(struct lingering *l)
{
	event_del(&l->ev);
	close(l->fd);
	LIST_REMOVE(l, link);
	l->guard->n_lingering--;
	free(l);
}

static void
linger_read(evutil_socket_t fd, short what, void *arg)
{
	struct lingering *l = arg;
	char buf[16384];
	ssize_t n;
	int i;

	if (what & EV_TIMEOUT)
		goto done;
	/* A few reads a turn, so that a fast sender cannot hold the loop. */
	for (i = 0; i < 16; i++) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			if ((uint64_t)n >= l->left)
				goto done;
			l->left -= (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			break;
		goto done;	/* the client closed too, or is gone */
	}
	if (now_ms() < l->until_ms)
		return;
done:
	linger_end(l);
}

/*
 * RFC 9112 §9.6: closing a socket with unread bytes resets the connection,
 * and a reset can destroy the answer before the client reads it.  evhttp
 * has shut down the sending side after the answer; the socket is read
 * (through a duplicate of its descriptor, the bufferevent's own being
 * closed with it) until the client closes it too, within the bounds of
 * http_guard.h.
 */
static void
linger_start(struct http_guard *g, int fd, uint64_t left)
{
	struct timeval tv = { g->timeout_seconds, 0 };
	struct lingering *l;
	int dup_fd;

	if (left == 0 || g->n_lingering >= g->max_lingering)
		return;
	if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		log_debug("http: no lingering close: dup: %s", strerror(errno));
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->guard = g;
	l->fd = dup_fd;
	l->left = left;
	l->until_ms = now_ms() + (int64_t)g->timeout_seconds * 1000;
	if (event_assign(&l->ev, g->base, dup_fd, EV_READ | EV_PERSIST,
	    linger_read, l) != 0 || event_add(&l->ev, &tv) != 0)
		fatalx("http: cannot watch a lingering connection");
	LIST_INSERT_HEAD(&g->lingering, l, link);
	g->n_lingering++;
}

/* The filter's free_context: evhttp is done with the connection. */
static void
conn_free(void *arg)
{
	struct http_guard_conn *gc = arg;
	struct http_guard *g = gc->guard;
	uint64_t discarded = framing_discarded(gc->framing);
	uint64_t most = linger_bytes(gc);
	int fd;

	evbuffer_remove_cb_entry(bufferevent_get_output(gc->under), gc->sent_cb);
	if (g != NULL) {
		event_del(&gc->flushed);
		LIST_REMOVE(gc, link);
		if (framing_refusal(gc->framing) != NULL && !gc->eof &&
		    !gc->broken && discarded < most &&
		    (fd = bufferevent_getfd(gc->under)) >= 0)
			linger_start(g, fd, most - discarded);
	}
	framing_free(gc->framing);
	free(gc);
}

struct http_guard *
http_guard_new(struct event_base *base, const struct limits *lim)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));

	g->base = base;
	g->lim.max_headers = lim->max_headers;
	g->lim.max_body = lim->max_body;
	g->timeout_seconds = lim->timeout_seconds;
	g->max_lingering = lim->max_connections;
	LIST_INIT(&g->conns);
	LIST_INIT(&g->lingering);
	return g;
}

void
http_guard_free(struct http_guard *g)
{
	struct http_guard_conn *gc;
	struct lingering *l;

	if (g == NULL)
		return;
	/* evhttp_free() frees them next; their conn_free() may come later. */
	while ((gc = LIST_FIRST(&g->conns)) != NULL) {
		event_del(&gc->flushed);
		LIST_REMOVE(gc, link);
		gc->guard = NULL;
	}
	while ((l = LIST_FIRST(&g->lingering)) != NULL)
		linger_end(l);
	free(g);
}

struct bufferevent *
http_guard_wrap(struct http_guard *g, struct bufferevent *bev,
    struct http_guard_conn **out)
{
	struct http_guard_conn *gc = xcalloc(1, sizeof(*gc));
	struct bufferevent *filter;

	gc->guard = g;
	gc->under = bev;
	gc->framing = framing_new(&g->lim);
	gc->lim = g->lim;
	/*
	 * BEV_OPT_CLOSE_ON_FREE: evhttp's bufferevent_free() of the filter
	 * frees bev, and evhttp leaves the socket to it rather than closing
	 * it itself (which would rule out lingering).
	 */
	if ((filter = bufferevent_filter_new(bev, guard_in, guard_out,
	    BEV_OPT_CLOSE_ON_FREE, conn_free, gc)) == NULL)
		fatalx("http: cannot make a bufferevent filter");
	gc->filter = filter;
	bufferevent_getcb(bev, &gc->under_read, &gc->under_write,
	    &gc->under_event, &gc->under_arg);
	bufferevent_setcb(bev, under_read, under_write, under_event, gc);
	if (evbuffer_add_cb(bufferevent_get_output(filter), output_added,
	    gc) == NULL || (gc->sent_cb = evbuffer_add_cb(
	    bufferevent_get_output(bev), output_sent, gc)) == NULL)
		fatalx("evbuffer_add_cb: out of memory");
	if (event_assign(&gc->flushed, g->base, -1, 0, output_flushed, gc) != 0)
		fatalx("http: event_assign failed");
	LIST_INSERT_HEAD(&g->conns, gc, link);
	*out = gc;
	return filter;
}

void
http_guard_closing(struct http_guard_conn *gc)
{
	struct evbuffer *out = bufferevent_get_output(gc->under);

	/*
	 * Only when the connection failed or timed out: an answer evhttp
	 * closes after was announced once out.  The underlying bufferevent
	 * outlives evhttp's until libevent finalizes the filter, and would
	 * write into the shut-down socket meanwhile (EPIPE).
	 */
	gc->owe_write = 0;
	bufferevent_disable(gc->under, EV_WRITE);
	evbuffer_drain(out, evbuffer_get_length(out));
}

void
http_guard_answered(struct http_guard_conn *gc)
{
	gc->answered++;
	/* A held EOF goes on once this answer is out (output_flushed()). */
	if (gc->held_eof != 0)
		event_active(&gc->flushed, EV_TIMEOUT, 0);
}

const struct framing_refusal *
http_guard_request(struct http_guard_conn *gc)
{
	const struct framing_refusal *why = framing_refusal(gc->framing);

	gc->dispatched++;
	return why != NULL && gc->dispatched == framing_requests(gc->framing) ?
	    why : NULL;
}
