#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tidu/i18n.h"
#include "tidu/net.h"

static int has_proxy(const char *scheme)
{
	static const char *const http[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", NULL};
	static const char *const https[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
	const char *const *v = !strcmp(scheme, "http") ? http : !strcmp(scheme, "https") ? https : NULL;
	const char *e;

	for (; v && *v; v++)
		if ((e = getenv(*v)) && *e)
			return 1;
	return 0;
}

int tidu_net_endpoint(const char *url, char *host, size_t hsize, char *port, size_t psize)
{
	const char *sep = strstr(url, "://"), *h, *end, *at, *colon;
	const char *defport;
	char scheme[8];
	size_t n;

	host[0] = port[0] = '\0';
	if (sep) {
		n = (size_t)(sep - url);
		if (n >= sizeof(scheme))
			return 0;
		memcpy(scheme, url, n);
		scheme[n] = '\0';
		if (!strcmp(scheme, "git"))
			defport = "9418";
		else if (!strcmp(scheme, "http"))
			defport = "80";
		else if (!strcmp(scheme, "https"))
			defport = "443";
		else if (!strcmp(scheme, "ssh"))
			defport = "22";
		else
			return 0; /* file:// */
		if (has_proxy(scheme))
			return 0;
		h = sep + 3;
		end = h + strcspn(h, "/?#");
	} else {
		/* scp-like user@host:path, or a local path */
		colon = strchr(url, ':');
		if (!colon || url[0] == '/' || (strchr(url, '/') && strchr(url, '/') < colon))
			return 0;
		defport = "22";
		h = url;
		end = colon;
	}
	at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	if (h < end && *h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (!close)
			return tidu_error_set(TIDU_EINVAL, _("invalid repository URL '%s'"), url);
		n = (size_t)(close - h - 1);
		if (n == 0 || n >= hsize)
			return tidu_error_set(TIDU_EINVAL, _("invalid repository URL '%s'"), url);
		memcpy(host, h + 1, n);
		host[n] = '\0';
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = sep ? memchr(h, ':', (size_t)(end - h)) : NULL;
		n = (size_t)((colon ? colon : end) - h);
		if (n == 0 || n >= hsize)
			return tidu_error_set(TIDU_EINVAL, _("invalid repository URL '%s'"), url);
		memcpy(host, h, n);
		host[n] = '\0';
	}
	if (colon && colon + 1 < end) {
		n = (size_t)(end - colon - 1);
		if (n >= psize)
			return tidu_error_set(TIDU_EINVAL, _("invalid repository URL '%s'"), url);
		memcpy(port, colon + 1, n);
		port[n] = '\0';
	} else {
		snprintf(port, psize, "%s", defport);
	}
	return 1;
}

int tidu_net_timeout_ms(void)
{
	const char *e = getenv("TIDU_CONNECT_TIMEOUT");
	char *end;
	long v;

	if (!e || !*e)
		return TIDU_CONNECT_TIMEOUT_MS;
	v = strtol(e, &end, 10);
	if (*end || v < 1 || v > 3600)
		return TIDU_CONNECT_TIMEOUT_MS;
	return (int)v * 1000;
}

int tidu_net_wait_ms(void)
{
	const char *e = getenv("TIDU_NET_TIMEOUT");
	char *end;
	long v;

	if (!e || !*e)
		return TIDU_NET_WAIT_MS;
	v = strtol(e, &end, 10);
	if (*end || v < 1 || v > 86400)
		return TIDU_NET_WAIT_MS;
	return (int)v * 1000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One address: 0 connected, else an errno (ETIMEDOUT when out of time). */
static int try_addr(const struct addrinfo *ai, int64_t deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	int err = 0;

	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err = errno;
		while (err == EINPROGRESS || err == EINTR) {
			struct pollfd p = {fd, POLLOUT, 0};
			int64_t left = deadline - mono_ms();
			socklen_t len = sizeof(err);
			int rc;

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
	}
	close(fd);
	return err;
}

int tidu_net_reach(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	int64_t deadline = mono_ms() + timeout_ms;
	int rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return tidu_error_set(TIDU_ERROR, _("cannot find the host '%s': %s"), host,
				      gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next)
		if ((err = try_addr(ai, deadline)) == 0)
			break;
	freeaddrinfo(res);
	if (!err)
		return 0;
	if (err == ETIMEDOUT)
		return tidu_error_set(TIDU_ERROR,
			_("failed to connect to %s port %s: no answer within %d s (TIDU_CONNECT_TIMEOUT sets the limit)"),
			host, port, timeout_ms / 1000);
	return tidu_error_set(TIDU_ERROR, _("failed to connect to %s port %s: %s"), host, port,
			      strerror(err));
}
