#ifndef TIDU_AGENT_H
#define TIDU_AGENT_H
/*
 * The key agent (`tidu agent start`): a process that holds one store's
 * unlocked data key in locked memory, so that the commands of a day in the
 * field do not each pay the Argon2id unlock or ask for the passphrase. Like
 * ssh-agent, it answers only processes of the same user, over a Unix socket
 * in a directory only that user can enter:
 *
 *   $XDG_RUNTIME_DIR/tidu-agent/<id>.sock, else
 *   ${TMPDIR:-/tmp}/tidu-agent-<uid>/<id>.sock
 *
 * where <id> is the first 16 hex digits of BLAKE2b over the store's real
 * path. The protection is the directory (this user's, mode 0700, checked on
 * every use: one made by another user is refused, never used); the socket
 * itself is made under umask 077, and every connection's peer uid is
 * checked. It stops when idle for its idle time, at its maximum lifetime,
 * on `tidu agent stop` (`--all` for every agent of this user) or `tidu
 * passwd`, when its socket is removed, and when its store is moved or
 * deleted. The
 * key it hands out is checked against the store's key header before use
 * (tidu_keyfile_check_secret), so an agent of a replaced store is ignored.
 * docs/security.md, "The key agent", has the threat model.
 *
 * Nothing here prints; tidu_agent_serve() runs until the agent should stop
 * and returns (the caller exits).
 */
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/keyfile.h"

#define TIDU_AGENT_IDLE_MS_DEFAULT (60 * 60 * 1000)     /* 1 hour */
#define TIDU_AGENT_MAX_MS_DEFAULT (12 * 60 * 60 * 1000) /* 12 hours */

/*
 * The socket path of the agent of the store file `dbpath` (which must
 * exist). With `create`, makes the directory (mode 0700) if missing.
 * TIDU_EINVAL if the directory is not this user's alone (not a directory,
 * another owner, open mode: the message says which and suggests
 * XDG_RUNTIME_DIR), or the path is too long for a Unix socket.
 */
int tidu_agent_path(const char *dbpath, int create, tidu_buf *out);

/*
 * Asks the store's agent for the key. TIDU_ENOTFOUND when no agent runs
 * for it (no socket, or nobody listening); TIDU_ERROR for a broken answer.
 * `*out` is the caller's to wipe. The caller checks it against the header.
 */
int tidu_agent_fetch(const char *dbpath, tidu_secret *out);

/* What a running agent says of itself (tidu_agent_query). */
typedef struct {
	int64_t pid;
	int64_t idle_left_ms;  /* until it stops unless used */
	int64_t life_left_ms;  /* until it stops in any case */
} tidu_agent_info;

/* TIDU_ENOTFOUND when no agent runs for the store. */
int tidu_agent_query(const char *dbpath, tidu_agent_info *out);

/* Tells the store's agent to stop. TIDU_ENOTFOUND when none runs. */
int tidu_agent_stop(const char *dbpath);

/*
 * Tells every agent of this user to stop (each socket of the agent
 * directory that answers as this user's), whatever store it serves: the way
 * to stop an agent whose store was moved or deleted. *stopped counts them;
 * no agent directory is 0, not an error.
 */
int tidu_agent_stop_all(size_t *stopped);

/*
 * Binds and listens on the store's agent socket (made under umask 077: the
 * 0700 directory is what keeps others out), replacing a stale socket nobody
 * answers on. `*fd_out` is the listening socket.
 * TIDU_EEXISTS if an agent answers there already.
 */
int tidu_agent_listen(const char *dbpath, int *fd_out);

/*
 * Serves `secret` on the listening socket `fd` until idle for `idle_ms`,
 * `max_ms` after the start, a stop request, the socket path no longer
 * naming this socket, or `dbpath` no longer existing (moved or deleted); then closes `fd` and removes the socket if it is
 * still ours. Requests from other users are refused. The secret is moved
 * into locked, guarded memory (sodium_malloc): `*secret` is wiped at once,
 * the locked copy at the end.
 */
int tidu_agent_serve(int fd, const char *dbpath, tidu_secret *secret,
		     int64_t idle_ms, int64_t max_ms);

#endif
