#ifndef TIDU_NET_H
#define TIDU_NET_H
/*
 * A reachability check before libgit2 connects (repo.c): libgit2 1.5 has
 * no connect timeout (an unreachable host makes a sync wait for the
 * system's TCP timeouts) and leaks a little when a git:// push connection
 * is refused. A plain TCP connect with a timeout first gives a clear error
 * quickly. Nothing here prints.
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

#endif
