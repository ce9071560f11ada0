#ifndef TIDU_NET_H
#define TIDU_NET_H
/*
 * Network limits libgit2 1.5 lacks: a socket stream for libgit2 (stream.c)
 * with a connect timeout and a limit on how long a read or write may wait.
 * Nothing here prints.
 */
#include <stddef.h>

#include "tidu/error.h"

/* Default connect timeout; $TIDU_CONNECT_TIMEOUT (seconds) overrides it. */
#define TIDU_CONNECT_TIMEOUT_MS 15000

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

/*
 * With `on`, a connection that cannot be made is reported by its first
 * read or write instead of by connect. libgit2 1.5 leaks its git://
 * protocol stream when the connect of a push fails (_git_receivepack_ls);
 * failing on the first write goes through its cleanup path instead. Only
 * for git:// (TLS and SSH need a connected socket at connect). The message
 * is the same either way.
 */
void tidu_net_defer_connect_errors(int on);

#endif
