#ifndef TIDU_REMOTE_H
#define TIDU_REMOTE_H
/*
 * Remotes: the repositories a store syncs with (`tidu remote`), by name
 * (docs/sync.md). Code: src/core/sync/remote.c.
 */
#include <stddef.h>

#include "tidu/store.h"

#define TIDU_REMOTE_DEFAULT "origin"
#define TIDU_REMOTE_NAME_MAX 64

/* ---- remotes ------------------------------------------------------------ */

typedef struct {
	char name[TIDU_REMOTE_NAME_MAX + 1];
	char *url; /* owned by the list */
} tidu_remote;

/*
 * Normalises a repository URL as `tidu remote add` stores it: git://,
 * http://, https://, ssh:// and file:// URLs and scp-like "user@host:path"
 * are kept; a local path is made absolute. `*out` is the caller's (free()).
 * TIDU_EINVAL for an empty URL or an unknown scheme.
 */
int tidu_remote_normalize(const char *url, char **out);

/* 1 if `url` (normalised) names a repository on this machine (path or file://). */
int tidu_remote_is_local(const char *url);

/*
 * `url` as it may be shown: the password of its userinfo, if any, replaced
 * by "***" ("https://li:***@git.example/x.git"). A new string, the caller's.
 */
char *tidu_remote_redact(const char *url);

/*
 * Adds a remote. TIDU_EINVAL for a bad name (1-64 of A-Z a-z 0-9 . _ -, not
 * starting with . or -, no "..", not ending in . or .lock: git's ref-name
 * rules) or URL; TIDU_EEXISTS if the name is taken.
 */
int tidu_remote_add(tidu_store *s, const char *name, const char *url);

/* Removes a remote and what sync remembered of it. TIDU_ENOTFOUND if absent. */
int tidu_remote_remove(tidu_store *s, const char *name);

/* Every remote, by name. `*out` is the caller's: tidu_remote_list_free(). */
int tidu_remote_list(tidu_store *s, tidu_remote **out, size_t *n);
void tidu_remote_list_free(tidu_remote *list, size_t n);

/*
 * The URL of remote `name` (a new string, the caller's). TIDU_ENOTFOUND
 * "no remote 'x'" if there is none.
 */
int tidu_remote_url(tidu_store *s, const char *name, char **url_out);

#endif
