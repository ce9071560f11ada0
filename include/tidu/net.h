#ifndef TIDU_NET_H
#define TIDU_NET_H
/*
 * Network limits libgit2 1.5 lacks. A reachability check before libgit2
 * connects (repo.c): an unreachable host is reported quickly and clearly
 * (and libgit2 leaks a little when a git:// push connection is refused).
 * And a socket stream for libgit2 (stream.c) with a connect timeout and a
 * limit on how long a read or write may wait. Nothing here prints.
 */
#include <stddef.h>

#include "tidu/error.h"

/* Default connect timeout; $TIDU_CONNECT_TIMEOUT (seconds) overrides it. */
#define TIDU_CONNECT_TIMEOUT_MS 15000

/*
 * The host and port a repository URL connects to: git:// (9418),
 * http:// (80), https:// (443), ssh:// and scp-like user@host:path (22).
 * Returns 1 with `host` and `port` set, 0 for a local repository (a path
 * or file://) or when a proxy is configured for the URL's scheme (the
 * proxy is what would be reached), TIDU_EINVAL for a URL without a host.
 */
int tidu_net_endpoint(const char *url, char *host, size_t hsize, char *port,
		      size_t psize);

/*
 * Opens and closes a TCP connection to host:port (any of its addresses)
 * within `timeout_ms`. TIDU_ERROR naming host, port and the reason
 * ("connection refused", "no answer within 15 s", a name not resolved).
 */
int tidu_net_reach(const char *host, const char *port, int timeout_ms);

/* The timeout to use: $TIDU_CONNECT_TIMEOUT seconds if valid, else the default. */
int tidu_net_timeout_ms(void);

/*
 * How long one read or write on a connection may wait for the server
 * before the operation fails: $TIDU_NET_TIMEOUT seconds if valid (1-86400),
 * else TIDU_NET_WAIT_MS. Long enough for a server that is busy unpacking a
 * large push; short enough that a dead connection does not hang a sync.
 */
#define TIDU_NET_WAIT_MS 120000
int tidu_net_wait_ms(void);

/*
 * Registers with libgit2 (after git_libgit2_init) the socket stream of
 * stream.c, which connects within tidu_net_timeout_ms() and fails a read
 * or write that waits longer than tidu_net_wait_ms(). 0, or -1 with
 * libgit2's error set.
 */
int tidu_net_register_stream(void);

#endif
