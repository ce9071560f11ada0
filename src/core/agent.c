/*
 * The key agent (agent.h): a Unix socket server holding one store's data
 * key, and its clients. The protocol is one request line per connection:
 *
 *   "GET\n"   -> 'K' key[32] file_id[16]
 *   "INFO\n"  -> "I <pid> <idle_left_ms> <life_left_ms>\n"
 *   "STOP\n"  -> "S\n", then the agent stops
 *   anything else, or a peer of another user -> "E\n"
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tidu/agent.h"
#include "tidu/clock.h"
#include "tidu/i18n.h"

#define IO_TIMEOUT_MS 2000
#define CHECK_EVERY_MS 1000 /* how often a waiting agent looks at its socket path */
#define REPLY_KEY_LEN (1 + TIDU_KEY_BYTES + TIDU_FILE_ID_BYTES)

/*
 * The directory of the sockets: this user's alone, or TIDU_EINVAL saying
 * what is wrong. /tmp is shared: another user can make the directory first
 * (to block the agent, or to see its sockets), so owner and mode are
 * checked, never trusted; the way out is a runtime directory of one's own.
 */
static int agent_dir(int create, tidu_buf *out)
{
	const char *rt = getenv("XDG_RUNTIME_DIR"), *tmp = getenv("TMPDIR");
	struct stat sb;

	tidu_buf_clear(out);
	if (rt && rt[0] == '/' && stat(rt, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    sb.st_uid == getuid())
		tidu_buf_printf(out, "%s/tidu-agent", rt);
	else
		tidu_buf_printf(out, "%s/tidu-agent-%lu", tmp && tmp[0] == '/' ? tmp : "/tmp",
				(unsigned long)getuid());
	if (create && mkdir(out->ptr, 0700) < 0 && errno != EEXIST)
		return tidu_error_set(TIDU_ERROR, _("cannot make the agent directory '%s': %s"),
				      out->ptr, strerror(errno));
	if (lstat(out->ptr, &sb) < 0) {
		if (errno == ENOENT)
			return tidu_error_set(TIDU_ENOTFOUND, "%s", _("no agent is running for this store"));
		return tidu_error_set(TIDU_ERROR, _("cannot use the agent directory '%s': %s"),
				      out->ptr, strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode))
		return tidu_error_set(TIDU_EINVAL,
			_("the agent directory '%s' is not a directory (someone made it in its place): "
			  "set XDG_RUNTIME_DIR to a directory of your own"), out->ptr);
	if (sb.st_uid != getuid())
		return tidu_error_set(TIDU_EINVAL,
			_("the agent directory '%s' belongs to another user (uid %lu), not to you: "
			  "set XDG_RUNTIME_DIR to a directory of your own"),
			out->ptr, (unsigned long)sb.st_uid);
	if (sb.st_mode & 077)
		return tidu_error_set(TIDU_EINVAL,
			_("the agent directory '%s' is open to other users (mode %03o, 0700 needed): "
			  "run 'chmod 700 %s' or set XDG_RUNTIME_DIR to a directory of your own"),
			out->ptr, (unsigned)(sb.st_mode & 0777), out->ptr);
	return 0;
}

int tidu_agent_path(const char *dbpath, int create, tidu_buf *out)
{
	char real[PATH_MAX], hex[17];
	unsigned char h[8];
	int error;

	if (!realpath(dbpath, real))
		return tidu_error_set(TIDU_ENOTFOUND, _("no store at '%s'"), dbpath);
	if ((error = agent_dir(create, out)) < 0)
		return error;
	crypto_generichash(h, sizeof(h), (const unsigned char *)real, strlen(real),
			   (const unsigned char *)"tidu-agent-v1", 13);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	tidu_buf_printf(out, "/%s.sock", hex);
	if (out->len >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return tidu_error_set(TIDU_EINVAL, _("the agent socket path '%s' is too long"),
				      out->ptr);
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The uid of the process at the other end of `fd`; -1 if unknown. */
static long peer_uid(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc))
		return -1;
	return (long)uc.uid;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until `n` bytes or the peer closes; the count read, -1 on error. */
static ssize_t recv_all(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, c + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* A new Unix socket and the address `path` (the caller's to close). */
static int unix_socket(const tidu_buf *path, struct sockaddr_un *sa, int *fd)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path->ptr, path->len + 1);
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return tidu_error_set(TIDU_ERROR, _("cannot make a socket: %s"), strerror(errno));
	return 0;
}

/* Connects to the agent socket `path`: TIDU_ENOTFOUND if none answers. */
static int socket_connect(const tidu_buf *path, int *fd_out)
{
	struct sockaddr_un sa;
	int fd = -1, error;

	*fd_out = -1;
	if ((error = unix_socket(path, &sa, &fd)) < 0)
		goto done;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		error = errno == ENOENT || errno == ECONNREFUSED
			? tidu_error_set(TIDU_ENOTFOUND, "%s", _("no agent is running for this store"))
			: tidu_error_set(TIDU_ERROR, _("cannot reach the agent at '%s': %s"),
					 path->ptr, strerror(errno));
		goto done;
	}
	if (peer_uid(fd) != (long)getuid()) {
		error = tidu_error_set(TIDU_EINVAL, _("the agent at '%s' is not this user's"),
				       path->ptr);
		goto done;
	}
	set_timeouts(fd);
	*fd_out = fd;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	return error;
}

/* Connects to the agent of `dbpath`: TIDU_ENOTFOUND if none answers. */
static int agent_connect(const char *dbpath, int *fd_out)
{
	tidu_buf path = TIDU_BUF_INIT;
	int error;

	*fd_out = -1;
	if ((error = tidu_agent_path(dbpath, 0, &path)) == 0)
		error = socket_connect(&path, fd_out);
	tidu_buf_free(&path);
	return error;
}

/* Sends `req` on `fd` (closed here), reads up to `size` bytes of the answer. */
static int ask_on(int fd, const char *req, unsigned char *buf, size_t size, size_t *got)
{
	ssize_t n;

	if (send_all(fd, req, strlen(req)) < 0 || (n = recv_all(fd, buf, size)) < 1) {
		close(fd);
		return tidu_error_set(TIDU_ERROR, "%s", _("the agent did not answer"));
	}
	close(fd);
	*got = (size_t)n;
	if (buf[0] == 'E')
		return tidu_error_set(TIDU_ERROR, "%s", _("the agent refused the request"));
	return 0;
}

/* Sends `req`, reads up to `size` bytes of the answer into `buf`. */
static int agent_ask(const char *dbpath, const char *req, unsigned char *buf,
		     size_t size, size_t *got)
{
	int fd, error;

	*got = 0;
	if ((error = agent_connect(dbpath, &fd)) < 0)
		return error;
	return ask_on(fd, req, buf, size, got);
}

int tidu_agent_fetch(const char *dbpath, tidu_secret *out)
{
	unsigned char reply[REPLY_KEY_LEN];
	size_t got;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = agent_ask(dbpath, "GET\n", reply, sizeof(reply), &got)) < 0)
		return error;
	if (got != sizeof(reply) || reply[0] != 'K')
		error = tidu_error_set(TIDU_ERROR, "%s", _("the agent gave a broken answer"));
	else {
		memcpy(out->key, reply + 1, TIDU_KEY_BYTES);
		memcpy(out->file_id, reply + 1 + TIDU_KEY_BYTES, TIDU_FILE_ID_BYTES);
	}
	sodium_memzero(reply, sizeof(reply));
	return error;
}

int tidu_agent_query(const char *dbpath, tidu_agent_info *out)
{
	unsigned char reply[96];
	long long pid, idle, life;
	size_t got;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = agent_ask(dbpath, "INFO\n", reply, sizeof(reply) - 1, &got)) < 0)
		return error;
	reply[got] = '\0';
	if (sscanf((const char *)reply, "I %lld %lld %lld", &pid, &idle, &life) != 3)
		return tidu_error_set(TIDU_ERROR, "%s", _("the agent gave a broken answer"));
	out->pid = pid;
	out->idle_left_ms = idle;
	out->life_left_ms = life;
	return 0;
}

int tidu_agent_stop(const char *dbpath)
{
	unsigned char reply[4];
	size_t got;

	return agent_ask(dbpath, "STOP\n", reply, sizeof(reply), &got);
}

int tidu_agent_stop_all(size_t *stopped)
{
	tidu_buf dir = TIDU_BUF_INIT, path = TIDU_BUF_INIT;
	struct dirent *de;
	DIR *d = NULL;
	int error;

	*stopped = 0;
	if ((error = agent_dir(0, &dir)) < 0) {
		if (error == TIDU_ENOTFOUND) {
			tidu_error_clear();
			error = 0;
		}
		goto done;
	}
	if (!(d = opendir(dir.ptr))) {
		error = tidu_error_set(TIDU_ERROR, _("cannot use the agent directory '%s': %s"),
				       dir.ptr, strerror(errno));
		goto done;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		unsigned char reply[4];
		size_t got;
		int fd;

		if (n < 6 || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		tidu_buf_clear(&path);
		tidu_buf_printf(&path, "%s/%s", dir.ptr, de->d_name);
		if (path.len >= sizeof(((struct sockaddr_un *)0)->sun_path))
			continue;
		/* A dead agent's socket is passed over; a foreign one never asked. */
		if (socket_connect(&path, &fd) < 0)
			continue;
		if (ask_on(fd, "STOP\n", reply, sizeof(reply), &got) == 0)
			(*stopped)++;
	}
	tidu_error_clear();
done:
	if (d)
		closedir(d);
	tidu_buf_free(&dir);
	tidu_buf_free(&path);
	return error;
}

int tidu_agent_listen(const char *dbpath, int *fd_out)
{
	tidu_buf path = TIDU_BUF_INIT;
	struct sockaddr_un sa;
	mode_t old;
	int fd = -1, probe, error;

	*fd_out = -1;
	if ((error = tidu_agent_path(dbpath, 1, &path)) < 0)
		goto done;
	error = agent_connect(dbpath, &probe);
	if (error == 0) {
		close(probe);
		error = tidu_error_set(TIDU_EEXISTS, "%s",
				       _("an agent is running for this store already"));
		goto done;
	}
	if (error != TIDU_ENOTFOUND)
		goto done;
	tidu_error_clear();
	error = 0;
	unlink(path.ptr); /* a stale socket: its agent was killed */
	if ((error = unix_socket(&path, &sa, &fd)) < 0)
		goto done;
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		umask(old);
		error = tidu_error_set(TIDU_ERROR, _("cannot listen on '%s': %s"), path.ptr,
				       strerror(errno));
		goto done;
	}
	umask(old);
	*fd_out = fd;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	tidu_buf_free(&path);
	return error;
}

/* One request on the accepted connection `cfd`. 1 when asked to stop. */
static int serve_one(int cfd, const unsigned char *secret, int64_t idle_left,
		     int64_t life_left, int *used)
{
	char req[8];
	size_t n = 0;
	int stop = 0;

	set_timeouts(cfd);
	if (peer_uid(cfd) != (long)getuid()) {
		send_all(cfd, "E\n", 2);
		return 0;
	}
	while (n < sizeof(req) - 1) {
		ssize_t r = recv(cfd, req + n, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || req[n] == '\n')
			break;
		n++;
	}
	req[n] = '\0';
	if (!strcmp(req, "GET")) {
		unsigned char reply[REPLY_KEY_LEN];

		reply[0] = 'K';
		memcpy(reply + 1, secret, TIDU_KEY_BYTES + TIDU_FILE_ID_BYTES);
		send_all(cfd, reply, sizeof(reply));
		sodium_memzero(reply, sizeof(reply));
		*used = 1;
	} else if (!strcmp(req, "INFO")) {
		char text[96];

		snprintf(text, sizeof(text), "I %lld %lld %lld\n", (long long)getpid(),
			 (long long)idle_left, (long long)life_left);
		send_all(cfd, text, strlen(text));
	} else if (!strcmp(req, "STOP")) {
		send_all(cfd, "S\n", 2);
		stop = 1;
	} else {
		send_all(cfd, "E\n", 2);
	}
	return stop;
}

int tidu_agent_serve(int fd, const char *dbpath, tidu_secret *secret,
		     int64_t idle_ms, int64_t max_ms)
{
	tidu_buf path = TIDU_BUF_INIT;
	unsigned char *held;
	struct stat mine, now;
	int64_t start = tidu_clock_mono_ms(), last = start;
	int error;

	if ((error = tidu_agent_path(dbpath, 0, &path)) < 0) {
		close(fd);
		tidu_buf_free(&path);
		return error;
	}
	if (stat(path.ptr, &mine) < 0) {
		error = tidu_error_set(TIDU_ERROR, _("cannot use the agent socket '%s': %s"),
				       path.ptr, strerror(errno));
		close(fd);
		tidu_buf_free(&path);
		return error;
	}
	held = sodium_malloc(TIDU_KEY_BYTES + TIDU_FILE_ID_BYTES);
	if (!held) {
		close(fd);
		tidu_buf_free(&path);
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot lock memory for the key"));
	}
	memcpy(held, secret->key, TIDU_KEY_BYTES);
	memcpy(held + TIDU_KEY_BYTES, secret->file_id, TIDU_FILE_ID_BYTES);
	sodium_mprotect_readonly(held);
	tidu_secret_wipe(secret); /* the only copy is the locked one from here */
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t t = tidu_clock_mono_ms(), until = last + idle_ms, wait;
		int rc, cfd, used = 0;

		if (start + max_ms < until)
			until = start + max_ms;
		if ((wait = until - t) <= 0)
			break;
		rc = poll(&p, 1, (int)(wait < CHECK_EVERY_MS ? wait : CHECK_EVERY_MS));
		/* Removed or replaced: somebody wants this agent gone. */
		if (stat(path.ptr, &now) < 0 || now.st_ino != mine.st_ino ||
		    now.st_dev != mine.st_dev)
			break;
		/*
		 * The store moved or deleted: no command can name this agent
		 * any more (its socket is named after the store's path), so it
		 * wipes the key rather than keep it for nobody.
		 */
		if (stat(dbpath, &now) < 0 && (errno == ENOENT || errno == ENOTDIR))
			break;
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			error = tidu_error_set(TIDU_ERROR, _("the agent cannot wait: %s"),
					       strerror(errno));
			break;
		}
		if (rc == 0)
			continue;
		if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		t = tidu_clock_mono_ms();
		rc = serve_one(cfd, held, last + idle_ms - t, start + max_ms - t, &used);
		close(cfd);
		if (used)
			last = tidu_clock_mono_ms();
		if (rc)
			break;
	}
	sodium_free(held); /* wipes it */
	close(fd);
	if (stat(path.ptr, &now) == 0 && now.st_ino == mine.st_ino && now.st_dev == mine.st_dev)
		unlink(path.ptr);
	tidu_buf_free(&path);
	return error;
}
