/*
 * The socket stream libgit2 uses for git://, http:// and https:// (under
 * TLS) and to connect SSH, registered in place of its own
 * (git_stream_register): the same, plus a connect timeout and a limit on
 * how long a read or a write may wait. libgit2 1.5 has neither: a server
 * that accepts a connection and then never answers, or a connection that
 * died on a mobile network without a reset, would make a sync wait
 * forever. SSH reads go through libssh2 on the socket itself and are not
 * bounded by this (docs/sync.md).
 *
 * The struct starts as libgit2's own socket stream does (parent, host,
 * port, socket): its SSH transport reads the socket from there.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/i18n.h"
#include "tidu/net.h"

typedef struct {
	git_stream parent;
	char *host;
	char *port;
	int s;          /* as in libgit2's git_socket_stream */
	int connect_ms; /* to connect */
	int wait_ms;    /* for one read or write to make progress */
	char *failed;   /* a deferred connect error (see tidu_net_defer_connect_errors) */
} tidu_stream;

static int defer_errors;

void tidu_net_defer_connect_errors(int on)
{
	defer_errors = on;
}

/* Sets libgit2's error (what sync reports) to `text`. */
static void net_error(const char *text)
{
	git_error_set_str(GIT_ERROR_NET, text);
}

/* Waits until `fd` is ready for `events`; 0, or -1 with the error set. */
static int wait_for(tidu_stream *st, short events, int ms)
{
	int64_t deadline = tidu_clock_mono_ms() + ms;

	for (;;) {
		struct pollfd p = {st->s, events, 0};
		int64_t left = deadline - tidu_clock_mono_ms();
		int rc;

		char text[512];

		if (left <= 0) {
			snprintf(text, sizeof(text),
				 _("no answer from %s port %s within %d s (TIDU_NET_TIMEOUT sets the limit)"),
				 st->host, st->port, ms / 1000);
			net_error(text);
			return -1;
		}
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR) {
			net_error(strerror(errno));
			return -1;
		}
	}
}

static int stream_connect(git_stream *stream)
{
	tidu_stream *st = (tidu_stream *)stream;
	struct addrinfo hints, *res = NULL, *ai;
	int64_t deadline = tidu_clock_mono_ms() + st->connect_ms;
	char text[512];
	int rc, err = ENOTCONN;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(st->host, st->port, &hints, &res)) != 0) {
		snprintf(text, sizeof(text), _("cannot find the host '%s': %s"), st->host,
			 gai_strerror(rc));
		net_error(text);
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);

		if (fd < 0) {
			err = errno;
			continue;
		}
		err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
		while (err == EINPROGRESS || err == EINTR) {
			struct pollfd p = {fd, POLLOUT, 0};
			int64_t left = deadline - tidu_clock_mono_ms();
			socklen_t len = sizeof(err);

			if (left <= 0) {
				err = ETIMEDOUT;
				break;
			}
			rc = poll(&p, 1, (int)left);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0) {
				err = rc == 0 ? ETIMEDOUT : errno;
				break;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
		}
		if (err == 0) {
			int one = 1;

			/* Blocking again: libssh2 reads this socket itself. */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			/*
			 * libgit2 writes a pack as many small writes (a header of a
			 * few bytes, then each object): with Nagle's algorithm each
			 * waits for the ACK of the previous one, which the server
			 * delays (40 ms on Linux). Send at once, as git does.
			 */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			st->s = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (st->s >= 0)
		return 0;
	if (err == ETIMEDOUT)
		snprintf(text, sizeof(text),
			 _("failed to connect to %s port %s: no answer within %d s (TIDU_CONNECT_TIMEOUT sets the limit)"),
			 st->host, st->port, st->connect_ms / 1000);
	else
		snprintf(text, sizeof(text), _("failed to connect to %s port %s: %s"), st->host,
			 st->port, strerror(err));
	if (defer_errors) {
		/* Reported by the first read or write: see net.h. */
		st->failed = tidu_strdup(text);
		return 0;
	}
	net_error(text);
	return -1;
}

/* Waits until the socket is ready for `events`, then one recv or send. */
static ssize_t transfer(tidu_stream *st, short events, void *data, size_t len, int flags)
{
	ssize_t n;

	if (st->failed) {
		net_error(st->failed);
		return -1;
	}
	for (;;) {
		if (wait_for(st, events, st->wait_ms) < 0)
			return -1;
		/*
		 * Not blocking: poll() says some room or data is there, not
		 * that a whole send fits; a peer that stopped reading must not
		 * hold us past the limit.
		 */
		n = events == POLLIN ? recv(st->s, data, len, MSG_DONTWAIT)
				     : send(st->s, data, len, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN) {
			git_error_set_str(GIT_ERROR_NET, strerror(errno));
			return -1;
		}
	}
}

static ssize_t stream_read(git_stream *stream, void *data, size_t len)
{
	return transfer((tidu_stream *)stream, POLLIN, data, len, 0);
}

static ssize_t stream_write(git_stream *stream, const char *data, size_t len, int flags)
{
	return transfer((tidu_stream *)stream, POLLOUT, (void *)data, len, flags);
}

static int stream_close(git_stream *stream)
{
	tidu_stream *st = (tidu_stream *)stream;
	int rc = 0;

	if (st->s >= 0)
		rc = close(st->s);
	st->s = -1;
	return rc;
}

static void stream_free(git_stream *stream)
{
	tidu_stream *st = (tidu_stream *)stream;

	if (!st)
		return;
	if (st->s >= 0)
		close(st->s);
	free(st->host);
	free(st->port);
	free(st->failed);
	free(st);
}

static int stream_new(git_stream **out, const char *host, const char *port)
{
	tidu_stream *st = tidu_calloc(1, sizeof(*st));

	st->host = tidu_strdup(host);
	st->port = tidu_strdup(port ? port : "");
	st->s = -1;
	st->connect_ms = tidu_net_timeout_ms();
	st->wait_ms = tidu_net_wait_ms();
	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = stream_connect;
	st->parent.read = stream_read;
	st->parent.write = stream_write;
	st->parent.close = stream_close;
	st->parent.free = stream_free;
	*out = &st->parent;
	return 0;
}

int tidu_net_register_stream(void)
{
	git_stream_registration reg;

	memset(&reg, 0, sizeof(reg));
	reg.version = GIT_STREAM_VERSION;
	reg.init = stream_new;
	return git_stream_register(GIT_STREAM_STANDARD, &reg) < 0 ? -1 : 0;
}
