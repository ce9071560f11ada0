#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tidu/alloc.h"
#include "tidu/error.h"
#include "tidu/file.h"
#include "tidu/i18n.h"

/*
 * The code of a failed open/mkdir: a path the system refuses as a name
 * (too long, no such folder, a file where a folder should be, a loop) is
 * the user's input at fault, TIDU_EINVAL (exit 2); the rest is TIDU_ERROR.
 */
static int path_code(int err)
{
	switch (err) {
	case ENOENT:
		return TIDU_ENOTFOUND;
	case ENAMETOOLONG:
	case ENOTDIR:
	case ELOOP:
	case EISDIR:
	case EINVAL:
		return TIDU_EINVAL;
	default:
		return TIDU_ERROR;
	}
}

int tidu_file_read(const char *path, size_t max, tidu_buf *out)
{
	char chunk[65536];
	struct stat st;
	ssize_t got;
	int fd, error = 0;

	tidu_buf_clear(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tidu_error_set(path_code(errno), _("cannot read '%s': %s"), path,
				      strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return tidu_error_set(TIDU_EINVAL, _("cannot read '%s': %s"), path,
				      strerror(EISDIR));
	}
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			error = tidu_error_set(TIDU_ERROR, _("cannot read '%s': %s"),
					       path, strerror(errno));
			break;
		}
		if (out->len + (size_t)got > max) {
			error = tidu_error_set(TIDU_EINVAL,
				_("'%s' is too large (more than %zu bytes)"), path, max);
			break;
		}
		tidu_buf_put(out, chunk, (size_t)got);
	}
	close(fd);
	if (error)
		tidu_buf_wipe(out); /* nothing half-read is left (it may be a passphrase file) */
	return error;
}

/* A failed write of `path`: a full disk (or quota) said so, in words. */
static int write_error(const char *path, int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return tidu_error_set(TIDU_ERROR,
			_("the disk is full: cannot write '%s'; make room and try again"), path);
	return tidu_error_set(path_code(err), _("cannot write '%s': %s"), path, strerror(err));
}

int tidu_file_write(const char *path, const void *data, size_t len, int mode)
{
	tidu_buf tmp = TIDU_BUF_INIT, dir = TIDU_BUF_INIT;
	const char *slash;
	struct stat st;
	size_t done = 0;
	int fd, error = 0;

	/*
	 * Written by rename: over a device, a pipe or a folder that would
	 * replace it (as root, /dev/null itself). Only regular files.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return tidu_error_set(TIDU_EINVAL,
			_("'%s' is not a regular file (a folder, device or pipe): give the name of a file to write"),
			path);
	tidu_buf_printf(&tmp, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		error = write_error(path, errno);
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) < 0) {
		error = write_error(path, errno);
		done = len; /* nothing more to write: clean up below */
	}
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO; /* no progress: not an endless loop */
			error = write_error(path, errno);
			break;
		}
		done += (size_t)w;
	}
	if (!error && fsync(fd) < 0)
		error = write_error(path, errno);
	if (close(fd) < 0 && !error)
		error = write_error(path, errno);
	if (!error && rename(tmp.ptr, path) < 0)
		error = write_error(path, errno);
	if (error) {
		unlink(tmp.ptr);
		goto out;
	}
	/* The rename is durable only once the directory is synced. */
	slash = strrchr(path, '/');
	if (slash)
		tidu_buf_put(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		tidu_buf_puts(&dir, ".");
	if ((fd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0)
		error = tidu_error_set(TIDU_ERROR, _("cannot make '%s' durable: %s"), path,
				       strerror(errno));
	if (fd >= 0)
		close(fd);
out:
	tidu_buf_free(&tmp);
	tidu_buf_free(&dir);
	return error;
}

int tidu_file_mkdirs(const char *path, int mode)
{
	char *copy, *p;
	int error = 0;

	/* Refused before anything is made: no half-made tree left behind. */
	if (strlen(path) >= PATH_MAX)
		return tidu_error_set(TIDU_EINVAL, _("cannot create '%s': %s"), path,
				      strerror(ENAMETOOLONG));
	copy = tidu_strdup(path);

	for (p = copy + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, (mode_t)mode) < 0 && errno != EEXIST) {
			error = tidu_error_set(path_code(errno), _("cannot create '%s': %s"),
					       copy, strerror(errno));
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	return error;
}

int tidu_file_same(const char *path, const void *data, size_t len)
{
	char chunk[65536];
	struct stat st;
	size_t at = 0;
	ssize_t got;
	int fd, same = 1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len) {
		close(fd);
		return 0;
	}
	while (same && (got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			same = 0;
			break;
		}
		if ((size_t)got > len - at ||
		    memcmp(chunk, (const char *)data + at, (size_t)got) != 0)
			same = 0;
		at += (size_t)got;
	}
	close(fd);
	return same && at == len;
}

/* Whether `name` is `<something><ext>.tmp-XXXXXX`, what tidu_file_write leaves. */
static int is_temp_of(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext), tail = sizeof(".tmp-XXXXXX") - 1;

	return n > e + tail && strncmp(name + n - tail, ".tmp-", 5) == 0 &&
	       strncmp(name + n - tail - e, ext, e) == 0;
}

int tidu_file_remove_temps(const char *dir, const char *ext, size_t *removed)
{
	tidu_buf path = TIDU_BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int error = 0;

	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : tidu_error_set(TIDU_ERROR,
			_("cannot read '%s': %s"), dir, strerror(errno));
	while ((de = readdir(d))) {
		if (!is_temp_of(de->d_name, ext))
			continue;
		tidu_buf_clear(&path);
		tidu_buf_printf(&path, "%s/%s", dir, de->d_name);
		if (lstat(path.ptr, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlink(path.ptr) < 0) {
			error = tidu_error_set(TIDU_ERROR, _("cannot remove '%s': %s"),
					       path.ptr, strerror(errno));
			break;
		}
		(*removed)++;
	}
	closedir(d);
	tidu_buf_free(&path);
	return error;
}
