/*
 * Remotes: the `remote` table (tidu remote add/remove/list) and URL
 * normalisation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/*
 * A remote's name becomes a component of git refs (refs/remotes/NAME/...),
 * so it must pass git's check-ref-format: besides the characters, no "..",
 * no leading '.' or '-', no trailing '.' or ".lock".
 */
static int valid_remote_name(const char *n)
{
	size_t i, len = strlen(n);

	if (!n[0] || n[0] == '.' || n[0] == '-' || n[len - 1] == '.' ||
	    strstr(n, "..") || (len >= 5 && !strcmp(n + len - 5, ".lock")))
		return 0;
	for (i = 0; n[i]; i++) {
		char ch = n[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return i <= TIDU_REMOTE_NAME_MAX;
}

char *tidu_remote_redact(const char *url)
{
	const char *sep = strstr(url, "://"), *host, *at = NULL, *colon, *p;
	tidu_buf b = TIDU_BUF_INIT;

	if (!sep)
		return tidu_strdup(url); /* a path or scp-like user@host:path */
	host = sep + 3;
	/* The userinfo ends at the last '@' before the path. */
	for (p = host; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return tidu_strdup(url);
	colon = memchr(host, ':', (size_t)(at - host));
	if (!colon)
		return tidu_strdup(url);
	tidu_buf_put(&b, url, (size_t)(colon + 1 - url));
	tidu_buf_puts(&b, "***");
	tidu_buf_puts(&b, at);
	return tidu_buf_detach(&b);
}

int tidu_remote_is_local(const char *url)
{
	return url[0] == '/' || !strncmp(url, "file://", 7);
}

int tidu_remote_normalize(const char *url, char **out)
{
	static const char *const schemes[] = {"git://", "http://", "https://", "ssh://",
					      "file://", NULL};
	const char *sep = strstr(url, "://"), *colon, *slash;
	size_t i;

	*out = NULL;
	if (!url[0])
		return tidu_error_set(TIDU_EINVAL, "%s", _("the repository URL is empty"));
	for (i = 0; url[i]; i++)
		if ((unsigned char)url[i] < 0x20 || url[i] == ' ')
			return tidu_error_set(TIDU_EINVAL,
				_("invalid repository URL '%s': no spaces or control characters"), url);
	if (sep) {
		for (i = 0; schemes[i]; i++)
			if (!strncmp(url, schemes[i], strlen(schemes[i])))
				break;
		if (!schemes[i])
			return tidu_error_set(TIDU_EINVAL,
				_("invalid repository URL '%s': use git://, http://, https://, ssh://, file:// or a path"),
				url);
		if (!url[strlen(schemes[i])])
			return tidu_error_set(TIDU_EINVAL, _("invalid repository URL '%s'"), url);
		*out = tidu_strdup(url);
		return 0;
	}
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	if (colon && (!slash || colon < slash) && colon != url) {
		*out = tidu_strdup(url); /* scp-like user@host:path: SSH */
		return 0;
	}
	if (url[0] != '/') {
		char cwd[4096];
		tidu_buf b = TIDU_BUF_INIT;

		if (!getcwd(cwd, sizeof(cwd)))
			return tidu_error_set(TIDU_ERROR, _("cannot read the current directory: %s"),
					      strerror(errno));
		tidu_buf_printf(&b, "%s/%s", cwd, url);
		*out = tidu_buf_detach(&b);
	} else {
		*out = tidu_strdup(url);
	}
	/* No trailing slash: "x.git/" and "x.git" are the same repository. */
	for (i = strlen(*out); i > 1 && (*out)[i - 1] == '/'; i--)
		(*out)[i - 1] = '\0';
	return 0;
}

int tidu_remote_add(tidu_store *s, const char *name, const char *url)
{
	sqlite3_stmt *st;
	char *norm = NULL, *have = NULL;
	int error;

	if (!valid_remote_name(name))
		return tidu_error_set(TIDU_EINVAL,
			_("invalid remote name '%s': use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-', without '..' and not ending in '.' or '.lock' (git's rules for ref names)"),
			name);
	if ((error = tidu_remote_normalize(url, &norm)) < 0)
		return error;
	error = tidu_remote_url(s, name, &have);
	if (error == 0) {
		char *shown = tidu_remote_redact(have);

		error = tidu_error_set(TIDU_EEXISTS, _("remote '%s' exists already (%s)"),
				       name, shown);
		free(shown);
		goto done;
	}
	if (error != TIDU_ENOTFOUND)
		goto done;
	tidu_error_clear();
	st = tidu_store_stmt(s, "INSERT INTO remote(name, url) VALUES(?1, ?2)");
	if (!st) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, norm, -1, SQLITE_STATIC);
	error = sync_exec1(s, st, _("adding a remote"));
done:
	free(norm);
	free(have);
	return error;
}

int tidu_remote_remove(tidu_store *s, const char *name)
{
	sqlite3_stmt *st;
	char *have = NULL;
	int error;

	if ((error = tidu_remote_url(s, name, &have)) < 0)
		return error;
	free(have);
	if ((error = tidu_store_begin(s)) < 0)
		return error;
	st = tidu_store_stmt(s, "DELETE FROM remote WHERE name=?1");
	if (st)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((error = sync_exec1(s, st, _("removing a remote"))) < 0 ||
	    (error = sync_state_forget_remote(s, name)) < 0) {
		tidu_store_rollback(s);
		return error;
	}
	if ((error = tidu_store_commit(s)) < 0)
		tidu_store_rollback(s);
	return error;
}

int tidu_remote_list(tidu_store *s, tidu_remote **out, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT name, url FROM remote ORDER BY name");
	tidu_remote *v = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = tidu_reallocarray(v, *n + 1, sizeof(*v));
		snprintf(v[*n].name, sizeof(v[*n].name), "%s", sqlite3_column_text(st, 0));
		v[*n].url = tidu_strdup((const char *)sqlite3_column_text(st, 1));
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		tidu_remote_list_free(v, *n);
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("reading remotes"));
	}
	*out = v;
	return 0;
}

void tidu_remote_list_free(tidu_remote *list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i].url);
	free(list);
}

int tidu_remote_url(tidu_store *s, const char *name, char **url_out)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT url FROM remote WHERE name=?1");
	int rc;

	*url_out = NULL;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*url_out = tidu_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("no remote '%s': add one with 'tidu remote add %s URL'"), name, name);
	return tidu_store_sqlerr(s, rc, _("reading remotes"));
}
