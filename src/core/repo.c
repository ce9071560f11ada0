/*
 * Sync through a central git repository: the local bare repository
 * `repo.git`, remotes, and tidu_sync() (docs/sync.md).
 *
 * Everything sync writes is derived from the store (table `changeset`, the
 * keyring, the pending requests) and from the refs themselves, so a sync
 * killed at any moment is simply run again: objects are staged in memory
 * and written as one pack before any ref moves; refs move atomically; the
 * server only ever gets fast-forwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/transport.h>
#include <sodium.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/clock.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/net.h"
#include "tidu/repo.h"
#include "tidu/trust.h"

#define REF_MAX 160
#define OID_HEX (GIT_OID_HEXSZ + 1)
#define KEYRING_FILE "keyring.json"
#define REQUEST_FILE "request.json"
#define TIPS_FILE "tips.txt"
#define BASE_FILE "tidu-base-pack" /* in repo.git: see repack() */
#define CITY_KEYRING_REF "refs/heads/city/keyring"
#define CITY_POOL_REF "refs/heads/city/pool"
#define META_KEYRING_STATE "sync.keyring_state"
#define META_LAST_SYNC "sync.last"

/* ---- small helpers ------------------------------------------------------- */

/* Sets the error from libgit2's last error, prefixed by `what`. */
static int git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();

	return tidu_error_set(code, "%s: %s", what,
			      e && e->message ? e->message : _("unknown git error"));
}

static void oid_hex(const git_oid *oid, char out[OID_HEX])
{
	git_oid_tostr(out, OID_HEX, oid);
}

static void add_line(char ***v, size_t *n, const char *fmt, va_list ap)
	TIDU_PRINTF(3, 0);

static void add_line(char ***v, size_t *n, const char *fmt, va_list ap)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_vprintf(&b, fmt, ap);
	*v = tidu_reallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = tidu_buf_detach(&b);
}

/* A refusal: counted, and a line for the user. */
static void refuse(tidu_sync_report *rep, const char *fmt, ...) TIDU_PRINTF(2, 3);

static void refuse(tidu_sync_report *rep, const char *fmt, ...)
{
	va_list ap;

	rep->rejected++;
	va_start(ap, fmt);
	add_line(&rep->problems, &rep->nproblems, fmt, ap);
	va_end(ap);
}

static void note(tidu_sync_report *rep, const char *fmt, ...) TIDU_PRINTF(2, 3);

static void note(tidu_sync_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&rep->notes, &rep->nnotes, fmt, ap);
	va_end(ap);
}

void tidu_sync_report_free(tidu_sync_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->nproblems; i++)
		free(rep->problems[i]);
	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->problems);
	free(rep->notes);
	rep->problems = rep->notes = NULL;
	rep->nproblems = rep->nnotes = 0;
}

/* The home directory of the store (a new string). */
static char *home_of(tidu_store *s)
{
	const char *db = tidu_store_path(s);
	const char *slash = strrchr(db, '/');

	if (!slash)
		return tidu_strdup(".");
	if (slash == db)
		return tidu_strdup("/");
	return tidu_strndup(db, (size_t)(slash - db));
}

static int is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int valid_device(const char *d)
{
	size_t i;

	for (i = 0; d[i]; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return 0;
	return i == TIDU_DEVICE_ID_LEN;
}

static int valid_district(const char *d, size_t n)
{
	size_t i;

	if (n == 0 || n > TIDU_CS_MAX_DISTRICT)
		return 0;
	if ((n == 4 && !strncmp(d, "city", 4)) || (n == 6 && !strncmp(d, "enroll", 6)))
		return 0;
	for (i = 0; i < n; i++) {
		char ch = d[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

/*
 * Splits "refs/heads/<district>/<device>" (prefix already removed: `rest`)
 * into its parts. 0 if `rest` is not a device ref.
 */
static int split_device_ref(const char *rest, char *district, size_t dsize,
			    char *device, size_t vsize)
{
	const char *slash = strchr(rest, '/');

	if (!slash || !valid_district(rest, (size_t)(slash - rest)) ||
	    !valid_device(slash + 1) || (size_t)(slash - rest) >= dsize ||
	    strlen(slash + 1) >= vsize)
		return 0;
	memcpy(district, rest, (size_t)(slash - rest));
	district[slash - rest] = '\0';
	snprintf(device, vsize, "%s", slash + 1);
	return 1;
}

/*
 * The district and device of a device ref (full name): 1 for a device's
 * "refs/heads/<district>/<device>", 2 for the city's desk ref
 * "refs/heads/city/<district>/<device>", 0 for anything else.
 */
static int device_ref(const char *name, char *district, size_t dsize, char *device,
		      size_t vsize)
{
	if (strncmp(name, "refs/heads/", 11))
		return 0;
	name += 11;
	if (!strncmp(name, "city/", 5))
		return split_device_ref(name + 5, district, dsize, device, vsize) ? 2 : 0;
	return split_device_ref(name, district, dsize, device, vsize);
}

/* Runs one statement without results; `what` names it in errors. */
static int exec1(tidu_store *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, what);
}

/* ---- remotes ------------------------------------------------------------- */

static int valid_remote_name(const char *n)
{
	size_t i;

	if (!n[0] || n[0] == '.' || n[0] == '-')
		return 0;
	for (i = 0; n[i]; i++) {
		char ch = n[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return i <= TIDU_REMOTE_NAME_MAX;
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
			_("invalid remote name '%s': use 1-64 letters, digits, '.', '_' or '-'"),
			name);
	if ((error = tidu_remote_normalize(url, &norm)) < 0)
		return error;
	error = tidu_remote_url(s, name, &have);
	if (error == 0) {
		error = tidu_error_set(TIDU_EEXISTS, _("remote '%s' exists already (%s)"),
				       name, have);
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
	error = exec1(s, st, _("adding a remote"));
done:
	free(norm);
	free(have);
	return error;
}

int tidu_remote_remove(tidu_store *s, const char *name)
{
	static const char *const sql[] = {
		"DELETE FROM remote WHERE name=?1",
		"DELETE FROM sync_ref WHERE remote=?1",
		"DELETE FROM meta WHERE key='sync.keyring.' || ?1",
	};
	char *have = NULL;
	size_t i;
	int error;

	if ((error = tidu_remote_url(s, name, &have)) < 0)
		return error;
	free(have);
	if ((error = tidu_store_begin(s)) < 0)
		return error;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = tidu_store_stmt(s, sql[i]);

		if (st)
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if ((error = exec1(s, st, _("removing a remote"))) < 0) {
			tidu_store_rollback(s);
			return error;
		}
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

void tidu_repo_cs_path(uint64_t seq, char *out, size_t size)
{
	snprintf(out, size, "cs/%04llu/%03llu/%012llu.tcs",
		 (unsigned long long)(seq / 62500), (unsigned long long)((seq / 250) % 250),
		 (unsigned long long)seq);
}

/* ---- the lock on the home ------------------------------------------------ */

static int lock_home(const char *home, int wait_ms, int *fd_out)
{
	tidu_buf path = TIDU_BUF_INIT;
	int fd, waited = 0;

	*fd_out = -1;
	tidu_buf_printf(&path, "%s/%s", home, TIDU_SYNC_LOCK);
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int error = tidu_error_set(TIDU_ERROR, _("cannot open '%s': %s"), path.ptr,
					   strerror(errno));

		tidu_buf_free(&path);
		return error;
	}
	tidu_buf_free(&path);
	for (;;) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int error = tidu_error_set(TIDU_ERROR, _("cannot lock the store for sync: %s"),
						   strerror(errno));

			close(fd);
			return error;
		}
		if (waited >= wait_ms) {
			close(fd);
			return tidu_error_set(TIDU_ERROR,
				_("another 'tidu sync' is running on this store (waited %d s): try again when it has finished"),
				(wait_ms + 999) / 1000);
		}
		nanosleep(&ts, NULL);
		waited += 100;
	}
	*fd_out = fd;
	return 0;
}

/* ---- a staging object database ------------------------------------------ */

/*
 * New objects go to this in-memory backend (highest priority, so every
 * write lands here) and are written out as one pack by persist(), before
 * any ref names them. libgit2's own mempack cannot list its objects, and
 * its dump packs everything reachable from its commits (O(history)).
 */
typedef struct {
	git_oid oid;
	git_object_t type;
	size_t len;
	unsigned char data[];
} staged_obj;

typedef struct {
	git_odb_backend parent;
	staged_obj **slots; /* open addressing, cap a power of two */
	size_t cap, n;
} stage_db;

static size_t slot_of(const stage_db *db, const git_oid *oid)
{
	uint64_t h;

	memcpy(&h, oid->id, sizeof(h));
	return (size_t)h & (db->cap - 1);
}

static staged_obj *stage_find(const stage_db *db, const git_oid *oid)
{
	size_t i;

	if (!db->cap)
		return NULL;
	for (i = slot_of(db, oid); db->slots[i]; i = (i + 1) & (db->cap - 1))
		if (git_oid_equal(&db->slots[i]->oid, oid))
			return db->slots[i];
	return NULL;
}

static void stage_put(stage_db *db, staged_obj *o)
{
	size_t i;

	if ((db->n + 1) * 2 > db->cap) {
		staged_obj **old = db->slots;
		size_t oldcap = db->cap, j;

		db->cap = db->cap ? db->cap * 2 : 64;
		db->slots = tidu_calloc(db->cap, sizeof(*db->slots));
		for (j = 0; j < oldcap; j++) {
			if (!old[j])
				continue;
			for (i = slot_of(db, &old[j]->oid); db->slots[i];
			     i = (i + 1) & (db->cap - 1))
				;
			db->slots[i] = old[j];
		}
		free(old);
	}
	for (i = slot_of(db, &o->oid); db->slots[i]; i = (i + 1) & (db->cap - 1))
		;
	db->slots[i] = o;
	db->n++;
}

static void stage_clear(stage_db *db)
{
	size_t i;

	for (i = 0; i < db->cap; i++) {
		free(db->slots[i]);
		db->slots[i] = NULL;
	}
	db->n = 0;
}

static int stage_read(void **buf, size_t *len, git_object_t *type,
		      git_odb_backend *b, const git_oid *oid)
{
	staged_obj *o = stage_find((stage_db *)b, oid);

	if (!o)
		return GIT_ENOTFOUND;
	*buf = git_odb_backend_data_alloc(b, o->len ? o->len : 1);
	if (!*buf)
		return -1;
	memcpy(*buf, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int stage_read_header(size_t *len, git_object_t *type, git_odb_backend *b,
			     const git_oid *oid)
{
	staged_obj *o = stage_find((stage_db *)b, oid);

	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int stage_write(git_odb_backend *b, const git_oid *oid, const void *data,
		       size_t len, git_object_t type)
{
	stage_db *db = (stage_db *)b;
	staged_obj *o;

	if (stage_find(db, oid))
		return 0;
	o = tidu_malloc(sizeof(*o) + (len ? len : 1));
	git_oid_cpy(&o->oid, oid);
	o->type = type;
	o->len = len;
	memcpy(o->data, data, len);
	stage_put(db, o);
	return 0;
}

static int stage_exists(git_odb_backend *b, const git_oid *oid)
{
	return stage_find((stage_db *)b, oid) != NULL;
}

static void stage_free(git_odb_backend *b)
{
	stage_db *db = (stage_db *)b;

	stage_clear(db);
	free(db->slots);
	free(db);
}

static stage_db *stage_new(void)
{
	stage_db *db = tidu_calloc(1, sizeof(*db));

	git_odb_init_backend(&db->parent, GIT_ODB_BACKEND_VERSION);
	db->parent.read = stage_read;
	db->parent.read_header = stage_read_header;
	db->parent.write = stage_write;
	db->parent.exists = stage_exists;
	db->parent.free = stage_free;
	return db;
}

/* ---- the sync context ---------------------------------------------------- */

typedef struct {
	char *name; /* full ref name */
	git_oid oid;
} head;

typedef struct {
	tidu_store *s;
	const tidu_sync_opts *opts;
	tidu_sync_report *rep;
	char *home;
	char *url;
	char remote[TIDU_REMOTE_NAME_MAX + 1];
	int city;
	char device[TIDU_DEVICE_ID_LEN + 1];
	char district[TIDU_CS_MAX_DISTRICT + 1];
	char own_ref[REF_MAX], enroll_ref[REF_MAX];
	/* the refs this store writes: own_ref, and on the city its desks' */
	struct own {
		char ref[REF_MAX];
		char device[TIDU_DEVICE_ID_LEN + 1];
		int blocked; /* the server's copy is not ours: no push */
	} *owns;
	size_t nowns;
	git_repository *repo;
	git_odb *odb;
	stage_db *stage; /* owned by odb */
	head *heads;     /* what the server advertised at the last fetch */
	size_t nheads;
	int lockfd;      /* flock on the home's sync.lock */
	git_remote *conn; /* a push connection kept from probe(), or NULL */
	char **push_keep; /* while pushing: the refs pushed (see own_transport) */
	size_t npush_keep;
	int relay;       /* tidu_relay(): also fetch the district's enroll refs */
	int64_t keyring; /* this store's keyring version */
	/* the connection */
	int pushing;
	int auth_attempts;
	tidu_buf net_msg;  /* why we broke off a connection ourselves */
	tidu_buf sideband; /* "remote:" text of a push */
	tidu_buf push_errors;
	/* city: the device tips read, for the pool commit */
	tidu_buf tips;
	/* refs to move once their objects are packed (flush_refs) */
	struct {
		char name[REF_MAX];
		git_oid oid;
	} pending[4];
	size_t npending;
} sync_ctx;

static void heads_free(sync_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nheads; i++)
		free(c->heads[i].name);
	free(c->heads);
	c->heads = NULL;
	c->nheads = 0;
}

static const git_oid *server_head(const sync_ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nheads; i++)
		if (!strcmp(c->heads[i].name, name))
			return &c->heads[i].oid;
	return NULL;
}

/* ---- the local repository ------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Removes the *.lock files under `dir` (recursively). */
static void remove_locks(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		tidu_buf p = TIDU_BUF_INIT;
		struct stat sb;

		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		tidu_buf_printf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.ptr, &sb) == 0) {
			if (S_ISDIR(sb.st_mode) && depth < 16)
				remove_locks(p.ptr, depth + 1);
			else if (S_ISREG(sb.st_mode) && ends_with(de->d_name, ".lock"))
				unlink(p.ptr);
		}
		tidu_buf_free(&p);
	}
	closedir(d);
}

/* 1 if `dir`/`name` with its extension replaced by `ext` exists. */
static int sibling_exists(const char *dir, const char *name, const char *ext)
{
	tidu_buf p = TIDU_BUF_INIT;
	const char *dot = strrchr(name, '.');
	struct stat sb;
	int found;

	tidu_buf_printf(&p, "%s/%.*s%s", dir, (int)(dot ? dot - name : (int)strlen(name)),
			name, ext);
	found = stat(p.ptr, &sb) == 0;
	tidu_buf_free(&p);
	return found;
}

/*
 * Under the sync lock nobody else writes repo.git: what a killed sync left
 * (ref lock files, half-written packs) is garbage, and a stale ref lock
 * would block every later sync.
 */
static void clean_stale(const char *gitdir)
{
	tidu_buf p = TIDU_BUF_INIT;
	DIR *d;
	struct dirent *de;

	remove_locks(gitdir, 0);
	tidu_buf_printf(&p, "%s/objects/pack", gitdir);
	if ((d = opendir(p.ptr))) {
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			int keep;

			if (n[0] == '.')
				continue;
			if (ends_with(n, ".pack"))
				keep = sibling_exists(p.ptr, n, ".idx");
			else if (ends_with(n, ".idx"))
				keep = sibling_exists(p.ptr, n, ".pack");
			else
				keep = ends_with(n, ".keep") || ends_with(n, ".rev") ||
				       ends_with(n, ".promisor") || ends_with(n, ".bitmap");
			if (!keep) {
				tidu_buf f = TIDU_BUF_INIT;

				tidu_buf_printf(&f, "%s/%s", p.ptr, n);
				unlink(f.ptr);
				tidu_buf_free(&f);
			}
		}
		closedir(d);
	}
	tidu_buf_free(&p);
}

static int repo_open(sync_ctx *c)
{
	tidu_buf path = TIDU_BUF_INIT;
	struct stat sb;
	int error = 0;

	tidu_buf_printf(&path, "%s/%s", c->home, TIDU_REPO_DIR);
	if (stat(path.ptr, &sb) < 0) {
		git_repository_init_options o;

		git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		o.mode = GIT_REPOSITORY_INIT_SHARED_UMASK;
		if (git_repository_init_ext(&c->repo, path.ptr, &o) < 0) {
			error = git_fail(TIDU_ERROR, _("creating the local repository"));
			goto done;
		}
	} else {
		clean_stale(path.ptr);
		if (git_repository_open_bare(&c->repo, path.ptr) < 0) {
			error = git_fail(TIDU_ERROR, _("opening the local repository"));
			goto done;
		}
	}
	if (git_repository_odb(&c->odb, c->repo) < 0) {
		error = git_fail(TIDU_ERROR, _("opening the local repository"));
		goto done;
	}
	c->stage = stage_new();
	if (git_odb_add_backend(c->odb, &c->stage->parent, 1000) < 0) {
		stage_free(&c->stage->parent);
		c->stage = NULL;
		error = git_fail(TIDU_ERROR, _("opening the local repository"));
	}
done:
	tidu_buf_free(&path);
	return error;
}

/* Writes every staged object as one pack. Refs may name them afterwards. */
static int persist(sync_ctx *c)
{
	git_packbuilder *pb = NULL;
	tidu_buf dir = TIDU_BUF_INIT;
	size_t i;
	int error = 0;

	if (!c->stage || !c->stage->n)
		return 0;
	if (git_packbuilder_new(&pb, c->repo) < 0) {
		error = git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	git_packbuilder_set_threads(pb, 1);
	for (i = 0; i < c->stage->cap; i++) {
		staged_obj *o = c->stage->slots[i];

		if (o && git_packbuilder_insert(pb, &o->oid, NULL) < 0) {
			error = git_fail(TIDU_ERROR, _("writing a pack"));
			goto done;
		}
	}
	tidu_buf_printf(&dir, "%s/objects/pack", git_repository_path(c->repo));
	if (git_packbuilder_write(pb, dir.ptr, 0, NULL, NULL) < 0) {
		error = git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	stage_clear(c->stage);
	git_odb_refresh(c->odb);
done:
	git_packbuilder_free(pb);
	tidu_buf_free(&dir);
	return error;
}

/* Number of packs in `dir` (objects/pack). */
static size_t count_packs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		if (ends_with(de->d_name, ".pack"))
			n++;
	if (d)
		closedir(d);
	return n;
}

/*
 * libgit2 has no gc and every sync adds a pack (its own and the fetch's):
 * with hundreds of packs every object lookup searches them all. Past
 * TIDU_REPACK_AT packs, everything reachable from the refs (and the tips
 * recorded for rewind detection) goes into one new pack and the old ones
 * are removed. A kill at any point leaves either the old packs or the new
 * one (libgit2 renames a finished pack into place), never neither.
 */
/* The size of file `path`, 0 if it is not there. */
static uint64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/*
 * The base pack of the last full repack and the commits it was made from
 * (repo.git/tidu-base-pack: the pack's name, then one commit id a line).
 * *name is "" when there is none.
 */
static void base_read(sync_ctx *c, char name[OID_HEX], git_oid **tips, size_t *n)
{
	tidu_buf path = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	const char *p, *nl;

	name[0] = '\0';
	*tips = NULL;
	*n = 0;
	tidu_buf_printf(&path, "%s/%s", git_repository_path(c->repo), BASE_FILE);
	if (tidu_file_read(path.ptr, (size_t)64 << 20, &text) == 0 && text.len) {
		for (p = text.ptr; (nl = memchr(p, '\n', (size_t)(text.ptr + text.len - p)));
		     p = nl + 1) {
			char hex[OID_HEX];
			git_oid oid;

			if (nl - p != GIT_OID_HEXSZ)
				break;
			memcpy(hex, p, GIT_OID_HEXSZ);
			hex[GIT_OID_HEXSZ] = '\0';
			if (!name[0]) {
				memcpy(name, hex, OID_HEX);
				continue;
			}
			if (git_oid_fromstr(&oid, hex) == 0) {
				*tips = tidu_reallocarray(*tips, *n + 1, sizeof(**tips));
				git_oid_cpy(&(*tips)[(*n)++], &oid);
			}
		}
	}
	tidu_error_clear();
	tidu_buf_free(&path);
	tidu_buf_free(&text);
}

/* Adds commit `oid` to the walk and to the list of tips `t`. */
static void tip_add(git_revwalk *walk, tidu_buf *t, const git_oid *oid)
{
	char hex[OID_HEX];

	if (git_revwalk_push(walk, oid) < 0) {
		git_error_clear();
		return;
	}
	oid_hex(oid, hex);
	tidu_buf_printf(t, "%s\n", hex);
}

/*
 * Once repo.git holds more than TIDU_REPACK_AT packs (libgit2 has no gc,
 * and every sync adds one), packs them in two levels, as git's geometric
 * repacking does: the objects new since the last full repack go into one
 * pack next to the base pack, which stays; when they weigh more than half
 * the base, everything is repacked into a new base (its tips recorded in
 * BASE_FILE). So a repack costs what is new, not the whole history, most
 * of the time. Reachable means from every ref and from the tips kept for
 * rewind detection (sync_ref). A kill at any moment leaves the old packs
 * or the new one next to them: nothing is removed before the new pack and
 * the base record are written.
 */
static int repack(sync_ctx *c)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	tidu_buf dir = TIDU_BUF_INIT, keep = TIDU_BUF_INIT, keep_base = TIDU_BUF_INIT;
	tidu_buf path = TIDU_BUF_INIT, tips = TIDU_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char base[OID_HEX], newname[OID_HEX];
	git_oid *base_tips = NULL;
	uint64_t base_bytes = 0, other_bytes = 0;
	size_t nbase = 0, i;
	const char *name;
	DIR *d = NULL;
	struct dirent *de;
	int full, error = 0;

	tidu_buf_printf(&dir, "%s/objects/pack", git_repository_path(c->repo));
	if (count_packs(dir.ptr) <= TIDU_REPACK_AT)
		goto done;
	base_read(c, base, &base_tips, &nbase);
	if (base[0]) {
		tidu_buf_printf(&keep_base, "pack-%s.", base);
		tidu_buf_printf(&path, "%s/pack-%s.pack", dir.ptr, base);
		base_bytes = file_size(path.ptr);
	}
	if ((d = opendir(dir.ptr))) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "pack-", 5) && ends_with(de->d_name, ".pack") &&
			    (!keep_base.len || strncmp(de->d_name, keep_base.ptr, keep_base.len))) {
				tidu_buf_clear(&path);
				tidu_buf_printf(&path, "%s/%s", dir.ptr, de->d_name);
				other_bytes += file_size(path.ptr);
			}
		closedir(d);
		d = NULL;
	}
	full = !base_bytes || other_bytes * 2 > base_bytes;
	if (git_packbuilder_new(&pb, c->repo) < 0 || git_revwalk_new(&walk, c->repo) < 0 ||
	    git_reference_iterator_new(&it, c->repo) < 0) {
		error = git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	git_packbuilder_set_threads(pb, 1);
	while (git_reference_next(&ref, it) == 0) {
		git_object *obj = NULL;

		if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0)
			tip_add(walk, &tips, git_object_id(obj));
		git_error_clear();
		git_object_free(obj);
		git_reference_free(ref);
	}
	if (sqlite3_prepare_v2(tidu_store_db(c->s), "SELECT tip FROM sync_ref", -1, &st,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			git_oid oid;
			git_commit *commit = NULL;

			/* Old tips kept for rewind detection, if still here. */
			if (git_oid_fromstr(&oid, (const char *)sqlite3_column_text(st, 0)) == 0 &&
			    git_commit_lookup(&commit, c->repo, &oid) == 0)
				tip_add(walk, &tips, &oid);
			git_error_clear();
			git_commit_free(commit);
		}
	}
	if (!full)
		for (i = 0; i < nbase; i++)
			if (git_revwalk_hide(walk, &base_tips[i]) < 0)
				git_error_clear(); /* gone from here: its objects stay in the base */
	if (git_packbuilder_insert_walk(pb, walk) < 0 ||
	    git_packbuilder_write(pb, dir.ptr, 0, NULL, NULL) < 0 ||
	    !(name = git_packbuilder_name(pb))) {
		error = git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	snprintf(newname, sizeof(newname), "%s", name);
	if (full) {
		tidu_buf rec = TIDU_BUF_INIT;

		tidu_buf_printf(&rec, "%s\n%s", newname, tidu_buf_cstr(&tips));
		tidu_buf_clear(&path);
		tidu_buf_printf(&path, "%s/%s", git_repository_path(c->repo), BASE_FILE);
		error = tidu_file_write(path.ptr, rec.ptr, rec.len, 0644);
		tidu_buf_free(&rec);
		if (error < 0)
			goto done;
		tidu_buf_clear(&keep_base);
	}
	tidu_buf_printf(&keep, "pack-%s.", newname);
	if (!(d = opendir(dir.ptr)))
		goto done;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "pack-", 5) || !strncmp(de->d_name, keep.ptr, keep.len) ||
		    (keep_base.len && !strncmp(de->d_name, keep_base.ptr, keep_base.len)) ||
		    !(ends_with(de->d_name, ".pack") || ends_with(de->d_name, ".idx") ||
		      ends_with(de->d_name, ".rev")))
			continue;
		tidu_buf_clear(&path);
		tidu_buf_printf(&path, "%s/%s", dir.ptr, de->d_name);
		unlink(path.ptr);
	}
	git_odb_refresh(c->odb);
done:
	if (d)
		closedir(d);
	sqlite3_finalize(st);
	git_reference_iterator_free(it);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	free(base_tips);
	tidu_buf_free(&dir);
	tidu_buf_free(&keep);
	tidu_buf_free(&keep_base);
	tidu_buf_free(&path);
	tidu_buf_free(&tips);
	return error;
}

/* The commit a ref names; GIT_ENOTFOUND (as 1) when the ref does not exist. */
static int ref_get(sync_ctx *c, const char *name, git_oid *out)
{
	int rc = git_reference_name_to_id(out, c->repo, name);

	if (rc == GIT_ENOTFOUND)
		return 1;
	if (rc < 0)
		return git_fail(TIDU_ERROR, _("reading the local repository"));
	return 0;
}

static int ref_set(sync_ctx *c, const char *name, const git_oid *oid)
{
	git_reference *ref = NULL;

	if (git_reference_create(&ref, c->repo, name, oid, 1, NULL) < 0)
		return git_fail(TIDU_ERROR, _("updating the local repository"));
	git_reference_free(ref);
	return 0;
}

static int make_signature(sync_ctx *c, git_signature **out)
{
	tidu_buf email = TIDU_BUF_INIT;
	int rc;

	/* Device ids only: no officer, no firm in any commit. */
	tidu_buf_printf(&email, "%s@tidu", c->device);
	rc = git_signature_new(out, "tidu", email.ptr, (git_time_t)time(NULL), 0);
	tidu_buf_free(&email);
	return rc < 0 ? git_fail(TIDU_ERROR, _("making a commit")) : 0;
}

/*
 * Commits the tree `tree` on top of `parent` (may be NULL) with `msg`; the
 * new commit is staged, not yet on any ref.
 */
static int commit_tree(sync_ctx *c, const git_oid *tree_oid, const git_oid *parent,
		       const char *msg, git_oid *out)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *p = NULL;
	const git_commit *parents[1];
	int error = 0;

	if ((error = make_signature(c, &sig)) < 0)
		return error;
	if (git_tree_lookup(&tree, c->repo, tree_oid) < 0 ||
	    (parent && git_commit_lookup(&p, c->repo, parent) < 0)) {
		error = git_fail(TIDU_ERROR, _("making a commit"));
		goto done;
	}
	parents[0] = p;
	if (git_commit_create(out, c->repo, NULL, sig, sig, NULL, msg, tree,
			      p ? 1 : 0, parents) < 0)
		error = git_fail(TIDU_ERROR, _("making a commit"));
done:
	git_commit_free(p);
	git_tree_free(tree);
	git_signature_free(sig);
	return error;
}

/* The tree of commit `oid`. */
static int commit_tree_of(sync_ctx *c, const git_oid *oid, git_tree **out)
{
	git_commit *cm = NULL;
	int rc;

	*out = NULL;
	if (git_commit_lookup(&cm, c->repo, oid) < 0)
		return git_fail(TIDU_ECORRUPT, _("reading a commit"));
	rc = git_commit_tree(out, cm);
	git_commit_free(cm);
	return rc < 0 ? git_fail(TIDU_ECORRUPT, _("reading a commit")) : 0;
}

/* ---- device trees -------------------------------------------------------- */

/* Reads "NNNNNNNNNNNN.tcs" (12 digits). 0 if the name is not one. */
static int parse_cs_name(const char *name, uint64_t *seq)
{
	if (strlen(name) != 16 || strcmp(name + 12, ".tcs") || !is_digits(name, 12))
		return 0;
	*seq = strtoull(name, NULL, 10);
	return *seq > 0;
}

/* The last entry of tree `t`, which must be a tree named by `digits` digits. */
static int last_subtree(sync_ctx *c, git_tree *t, size_t digits, git_tree **out)
{
	size_t n = git_tree_entrycount(t);
	const git_tree_entry *e = n ? git_tree_entry_byindex(t, n - 1) : NULL;

	*out = NULL;
	if (!e)
		return 0;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    strlen(git_tree_entry_name(e)) != digits ||
	    !is_digits(git_tree_entry_name(e), digits))
		return tidu_error_set(TIDU_ECORRUPT, _("unexpected entry '%s' in a device tree"),
				      git_tree_entry_name(e));
	if (git_tree_lookup(out, c->repo, git_tree_entry_id(e)) < 0)
		return git_fail(TIDU_ECORRUPT, _("reading a tree"));
	return 0;
}

/* The highest sequence number in a device tree (0 for none). */
static int tree_max_seq(sync_ctx *c, git_tree *root, uint64_t *out)
{
	const git_tree_entry *e = root ? git_tree_entry_byname(root, "cs") : NULL;
	git_tree *cs = NULL, *a = NULL, *b = NULL;
	size_t n;
	int error = 0;

	*out = 0;
	if (!e)
		return 0;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(&cs, c->repo, git_tree_entry_id(e)) < 0) {
		error = tidu_error_set(TIDU_ECORRUPT, "%s", _("'cs' in a device tree is not a tree"));
		goto done;
	}
	if ((error = last_subtree(c, cs, 4, &a)) < 0 || !a ||
	    (error = last_subtree(c, a, 3, &b)) < 0 || !b)
		goto done;
	n = git_tree_entrycount(b);
	e = n ? git_tree_entry_byindex(b, n - 1) : NULL;
	if (e && !parse_cs_name(git_tree_entry_name(e), out))
		error = tidu_error_set(TIDU_ECORRUPT, _("unexpected entry '%s' in a device tree"),
				       git_tree_entry_name(e));
done:
	git_tree_free(cs);
	git_tree_free(a);
	git_tree_free(b);
	return error;
}

/*
 * Commits every own sealed change set above those in `base`'s tree, on top
 * of `base` (NULL: a first commit). *out is the new tip, or `base` if
 * there was nothing to add; *made says whether a commit was made.
 */
static int commit_own(sync_ctx *c, const char *device, const git_oid *base,
		      git_oid *out, int *made)
{
	git_tree *base_tree = NULL;
	git_tree_update *up = NULL;
	char (*paths)[48] = NULL;
	sqlite3_stmt *st = NULL;
	git_oid tree_oid;
	uint64_t max = 0, first = 0, last = 0;
	size_t n = 0, cap = 0, i;
	int rc, error = 0;
	tidu_buf msg = TIDU_BUF_INIT;

	*made = 0;
	if (base)
		git_oid_cpy(out, base);
	if (base && ((error = commit_tree_of(c, base, &base_tree)) < 0 ||
		     (error = tree_max_seq(c, base_tree, &max)) < 0))
		goto done;
	rc = sqlite3_prepare_v2(tidu_store_db(c->s),
		"SELECT seq, file FROM changeset WHERE device=?1 AND seq>?2 ORDER BY seq",
		-1, &st, NULL);
	if (rc != SQLITE_OK) {
		error = tidu_store_sqlerr(c->s, rc, _("reading change sets"));
		goto done;
	}
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		git_oid blob;

		if (seq != (n ? last : max) + 1) {
			error = tidu_error_set(TIDU_ECORRUPT,
				_("change set %llu of this device is missing from the store"),
				(unsigned long long)((n ? last : max) + 1));
			goto done;
		}
		if (git_blob_create_from_buffer(&blob, c->repo, sqlite3_column_blob(st, 1),
						(size_t)sqlite3_column_bytes(st, 1)) < 0) {
			error = git_fail(TIDU_ERROR, _("storing a change set in the repository"));
			goto done;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			up = tidu_reallocarray(up, cap, sizeof(*up));
			paths = tidu_reallocarray(paths, cap, sizeof(*paths));
		}
		tidu_repo_cs_path(seq, paths[n], sizeof(paths[n]));
		memset(&up[n], 0, sizeof(up[n]));
		up[n].action = GIT_TREE_UPDATE_UPSERT;
		git_oid_cpy(&up[n].id, &blob);
		up[n].filemode = GIT_FILEMODE_BLOB;
		n++;
		if (!first)
			first = seq;
		last = seq;
	}
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(c->s, rc, _("reading change sets"));
		goto done;
	}
	if (!n)
		goto done;
	for (i = 0; i < n; i++)
		up[i].path = paths[i]; /* paths may have moved while growing */
	if (git_tree_create_updated(&tree_oid, c->repo, base_tree, n, up) < 0) {
		error = git_fail(TIDU_ERROR, _("making a commit"));
		goto done;
	}
	if (first == last)
		tidu_buf_printf(&msg, "change set %llu\n", (unsigned long long)first);
	else
		tidu_buf_printf(&msg, "change sets %llu-%llu\n", (unsigned long long)first,
				(unsigned long long)last);
	if ((error = commit_tree(c, &tree_oid, base, msg.ptr, out)) < 0)
		goto done;
	*made = 1;
done:
	sqlite3_finalize(st);
	git_tree_free(base_tree);
	free(up);
	free(paths);
	tidu_buf_free(&msg);
	return error;
}

/* Adds an own ref (no-op if listed). */
static void own_add(sync_ctx *c, const char *ref, const char *device)
{
	size_t i;

	for (i = 0; i < c->nowns; i++)
		if (!strcmp(c->owns[i].ref, ref))
			return;
	c->owns = tidu_reallocarray(c->owns, c->nowns + 1, sizeof(*c->owns));
	memset(&c->owns[c->nowns], 0, sizeof(c->owns[0]));
	snprintf(c->owns[c->nowns].ref, sizeof(c->owns[0].ref), "%s", ref);
	snprintf(c->owns[c->nowns].device, sizeof(c->owns[0].device), "%s", device);
	c->nowns++;
}

/* Is `name` a ref this store writes (its own, or on the city a desk's)? */
static int is_own_ref(sync_ctx *c, const char *name)
{
	char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];

	if (!strcmp(name, c->own_ref))
		return 1;
	return c->city && device_ref(name, district, sizeof(district), device,
				     sizeof(device)) == 2 &&
	       tidu_changes_is_own(c->s, device, district);
}

/*
 * Lists the refs this store writes: its own, and on the city every desk
 * that sealed a change set or whose ref the server has.
 */
static int collect_owns(sync_ctx *c)
{
	char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
	tidu_buf ref = TIDU_BUF_INIT;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	own_add(c, c->own_ref, c->device);
	if (!c->city)
		return 0;
	/* Each desk that sealed something (one lookup each: no scan of the files). */
	rc = sqlite3_prepare_v2(tidu_store_db(c->s),
		"SELECT d.device, d.district FROM device d WHERE d.role=?1 AND EXISTS("
		"SELECT 1 FROM changeset c WHERE c.device=d.device AND c.state='sealed') "
		"ORDER BY d.device", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(c->s, rc, _("reading change sets"));
	sqlite3_bind_text(st, 1, TIDU_TRUST_ROLE_DESK, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_buf_clear(&ref);
		tidu_buf_printf(&ref, "refs/heads/city/%s/%s", sqlite3_column_text(st, 1),
				sqlite3_column_text(st, 0));
		own_add(c, ref.ptr, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	tidu_buf_free(&ref);
	if (rc != SQLITE_DONE)
		return tidu_store_sqlerr(c->s, rc, _("reading change sets"));
	for (i = 0; i < c->nheads; i++)
		if (is_own_ref(c, c->heads[i].name) &&
		    device_ref(c->heads[i].name, district, sizeof(district), device,
			       sizeof(device)))
			own_add(c, c->heads[i].name, device);
	return 0;
}

/*
 * Seals pending changes (if the device may) and commits every own sealed
 * change set not yet on its ref: the device's, and on the city its desks'.
 */
static int seal_and_commit(sync_ctx *c, int enrolled)
{
	git_oid *tips = NULL;
	int *made = NULL;
	uint64_t seq = 0;
	size_t count = 0, i, nmade = 0;
	int error = 0;

	while (enrolled) {
		error = tidu_changes_seal(c->s, &seq, &count);
		if (error == TIDU_ENOTFOUND) {
			tidu_error_clear(); /* not enrolled: the changes stay pending */
			error = 0;
			break;
		}
		if (error < 0)
			return error;
		if (!count)
			break;
		c->rep->sealed += count;
	}
	if ((error = collect_owns(c)) < 0)
		return error;
	tips = tidu_calloc(c->nowns, sizeof(*tips));
	made = tidu_calloc(c->nowns, sizeof(*made));
	for (i = 0; i < c->nowns && !error; i++) {
		git_oid base;
		/*
		 * Without a local ref (a new or lost repo.git) this starts afresh;
		 * if the server has the ref, adopt_server_own() rebuilds on its tip.
		 */
		int have = ref_get(c, c->owns[i].ref, &base);

		if (have < 0)
			error = have;
		else
			error = commit_own(c, c->owns[i].device, have == 0 ? &base : NULL,
					   &tips[i], &made[i]);
		nmade += made[i];
	}
	if (!error && nmade)
		error = persist(c);
	for (i = 0; i < c->nowns && !error; i++)
		if (made[i])
			error = ref_set(c, c->owns[i].ref, &tips[i]);
	free(tips);
	free(made);
	return error;
}

/*
 * The server's copy of own ref `o` is not behind the local one (a restored
 * or recreated repo.git): checks that every file on it is what this store
 * sealed, then commits what is missing on top of it.
 */
static int adopt_server_own(sync_ctx *c, const struct own *o, const git_oid *server)
{
	git_tree *tree = NULL;
	sqlite3_stmt *st = NULL;
	git_oid tip;
	uint64_t max = 0, seq;
	int rc, made, error;

	if ((error = commit_tree_of(c, server, &tree)) < 0 ||
	    (error = tree_max_seq(c, tree, &max)) < 0)
		goto done;
	rc = sqlite3_prepare_v2(tidu_store_db(c->s),
		"SELECT file FROM changeset WHERE device=?1 AND seq=?2", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		error = tidu_store_sqlerr(c->s, rc, _("reading change sets"));
		goto done;
	}
	for (seq = 1; seq <= max; seq++) {
		char path[48];
		git_tree_entry *e = NULL;
		git_oid mine;
		int same = 0;

		tidu_repo_cs_path(seq, path, sizeof(path));
		sqlite3_bind_text(st, 1, o->device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)seq);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW &&
		    git_odb_hash(&mine, sqlite3_column_blob(st, 0),
				 (size_t)sqlite3_column_bytes(st, 0), GIT_OBJECT_BLOB) == 0 &&
		    git_tree_entry_bypath(&e, tree, path) == 0)
			same = git_oid_equal(&mine, git_tree_entry_id(e));
		git_tree_entry_free(e);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			error = tidu_store_sqlerr(c->s, rc, _("reading change sets"));
			goto done;
		}
		if (!same) {
			error = tidu_error_set(TIDU_ECORRUPT,
				_("the repository holds a change set %llu of this device that this store did not seal: was the store copied to another laptop?"),
				(unsigned long long)seq);
			goto done;
		}
	}
	if ((error = commit_own(c, o->device, server, &tip, &made)) < 0 ||
	    (error = persist(c)) < 0 ||
	    (error = ref_set(c, o->ref, &tip)) < 0)
		goto done;
done:
	sqlite3_finalize(st);
	git_tree_free(tree);
	return error;
}

/* ---- the network --------------------------------------------------------- */

static int cb_credentials(git_credential **out, const char *url, const char *user_from_url,
			  unsigned int allowed, void *payload)
{
	sync_ctx *c = payload;
	const char *user = getenv("TIDU_GIT_USERNAME"), *pass = getenv("TIDU_GIT_PASSWORD");

	/* libgit2 asks again after every refusal, forever: count. */
	if (++c->auth_attempts > TIDU_SYNC_MAX_AUTH) {
		tidu_buf_clear(&c->net_msg);
		if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
			tidu_buf_printf(&c->net_msg,
				_("the server refused the credentials %d times: check TIDU_GIT_USERNAME and TIDU_GIT_PASSWORD"),
				TIDU_SYNC_MAX_AUTH);
		else
			tidu_buf_printf(&c->net_msg,
				_("the server refused the SSH key %d times: check --ssh-key or the agent's keys (RSA keys fail against OpenSSH 8.8 and later: use ed25519)"),
				TIDU_SYNC_MAX_AUTH);
		return GIT_EUSER;
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		tidu_buf u = TIDU_BUF_INIT, p = TIDU_BUF_INIT;
		int rc;

		if (user && pass)
			return git_credential_userpass_plaintext_new(out, user, pass);
		if (!c->opts->ask_password) {
			tidu_buf_clear(&c->net_msg);
			tidu_buf_puts(&c->net_msg,
				_("the server asks for a user name and password: set TIDU_GIT_USERNAME and TIDU_GIT_PASSWORD"));
			return GIT_EUSER;
		}
		tidu_buf_puts(&u, user ? user : user_from_url ? user_from_url : "");
		if (c->opts->ask_password(c->opts->ctx, url, &u, &p) < 0) {
			tidu_buf_clear(&c->net_msg);
			tidu_buf_puts(&c->net_msg, _("no password given"));
			rc = GIT_EUSER;
		} else {
			rc = git_credential_userpass_plaintext_new(out, tidu_buf_cstr(&u),
								   tidu_buf_cstr(&p));
		}
		tidu_buf_free(&u);
		tidu_buf_wipe(&p);
		return rc;
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		const char *name = user_from_url ? user_from_url : "git";

		if (c->opts->ssh_key) {
			tidu_buf pub = TIDU_BUF_INIT;
			struct stat sb;
			int rc;

			tidu_buf_printf(&pub, "%s.pub", c->opts->ssh_key);
			rc = git_credential_ssh_key_new(out, name,
				stat(pub.ptr, &sb) == 0 ? pub.ptr : NULL, c->opts->ssh_key,
				getenv("TIDU_SSH_PASSPHRASE"));
			tidu_buf_free(&pub);
			return rc;
		}
		return git_credential_ssh_key_from_agent(out, name);
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	tidu_buf_clear(&c->net_msg);
	tidu_buf_puts(&c->net_msg, _("the server asks for a kind of credentials tidu cannot give"));
	return GIT_EUSER;
}

static int cb_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	sync_ctx *c = payload;

	(void)cert;
	/* Only what libgit2 validated (CA chain, known_hosts) is accepted. */
	if (valid)
		return 0;
	tidu_buf_clear(&c->net_msg);
	tidu_buf_printf(&c->net_msg,
		_("the identity of '%s' could not be verified (TLS certificate or SSH host key not trusted)"),
		host ? host : "?");
	return GIT_ECERTIFICATE;
}

static int cb_sideband(const char *str, int len, void *payload)
{
	sync_ctx *c = payload;

	if (c->pushing && len > 0 && c->sideband.len < 4096)
		tidu_buf_put(&c->sideband, str, (size_t)len);
	return 0;
}

static int cb_transfer(const git_indexer_progress *st, void *payload)
{
	sync_ctx *c = payload;

	if (c->opts->progress)
		c->opts->progress(c->opts->ctx, "fetch", st->received_objects,
				  st->total_objects, st->received_bytes);
	return 0;
}

static int cb_push_transfer(unsigned int current, unsigned int total, size_t bytes,
			    void *payload)
{
	sync_ctx *c = payload;

	if (c->opts->progress)
		c->opts->progress(c->opts->ctx, "push", current, total, bytes);
	return 0;
}

static int cb_push_ref(const char *refname, const char *status, void *payload)
{
	sync_ctx *c = payload;

	/* git_remote_push() returns 0 even when the server refused a ref. */
	if (status) {
		if (c->push_errors.len)
			tidu_buf_puts(&c->push_errors, "; ");
		tidu_buf_printf(&c->push_errors, "'%s': %s", refname, status);
	}
	return 0;
}

/*
 * The transport of every connection: libgit2's own for the URL, wrapped.
 * While a push runs, its list of the server's refs holds only the refs
 * being pushed. libgit2's push hides every listed ref this repository has
 * and its packbuilder then walks each hidden commit's whole tree, which
 * made a push cost O(all the history held here) (the city holds
 * everything); the objects of a device ref never appear under another
 * ref, so the pack is the same.
 */
typedef struct {
	git_transport parent;
	git_transport *inner;
	sync_ctx *c;
	const git_remote_head **kept;
} own_transport;

static int ot_connect(git_transport *t, const char *url, int direction,
		      const git_remote_connect_options *opts)
{
	own_transport *o = (own_transport *)t;

	return o->inner->connect(o->inner, url, direction, opts);
}

static int ot_set_connect_opts(git_transport *t, const git_remote_connect_options *opts)
{
	own_transport *o = (own_transport *)t;

	return o->inner->set_connect_opts(o->inner, opts);
}

static int ot_capabilities(unsigned int *caps, git_transport *t)
{
	own_transport *o = (own_transport *)t;

	return o->inner->capabilities(caps, o->inner);
}

static int ot_ls(const git_remote_head ***out, size_t *size, git_transport *t)
{
	own_transport *o = (own_transport *)t;
	const git_remote_head **all;
	size_t n, i, j, kept = 0;
	int error;

	if ((error = o->inner->ls(&all, &n, o->inner)) < 0 || !o->c->push_keep) {
		*out = all;
		*size = n;
		return error;
	}
	free(o->kept);
	o->kept = tidu_calloc(n + 1, sizeof(*o->kept));
	for (i = 0; i < n; i++)
		for (j = 0; j < o->c->npush_keep; j++)
			if (!strcmp(all[i]->name, o->c->push_keep[j])) {
				o->kept[kept++] = all[i];
				break;
			}
	*out = o->kept;
	*size = kept;
	return 0;
}

static int ot_push(git_transport *t, git_push *push)
{
	own_transport *o = (own_transport *)t;

	return o->inner->push(o->inner, push);
}

static int ot_negotiate_fetch(git_transport *t, git_repository *repo,
			      const git_remote_head *const *refs, size_t count)
{
	own_transport *o = (own_transport *)t;

	return o->inner->negotiate_fetch(o->inner, repo, refs, count);
}

static int ot_download_pack(git_transport *t, git_repository *repo,
			    git_indexer_progress *stats)
{
	own_transport *o = (own_transport *)t;

	return o->inner->download_pack(o->inner, repo, stats);
}

static int ot_is_connected(git_transport *t)
{
	own_transport *o = (own_transport *)t;

	return o->inner->is_connected(o->inner);
}

static void ot_cancel(git_transport *t)
{
	own_transport *o = (own_transport *)t;

	if (o->inner->cancel)
		o->inner->cancel(o->inner);
}

static int ot_close(git_transport *t)
{
	own_transport *o = (own_transport *)t;

	return o->inner->close(o->inner);
}

static void ot_free(git_transport *t)
{
	own_transport *o = (own_transport *)t;

	o->inner->free(o->inner);
	free(o->kept);
	free(o);
}

static int cb_transport(git_transport **out, git_remote *owner, void *payload)
{
	own_transport *o = tidu_calloc(1, sizeof(*o));

	if (git_transport_new(&o->inner, owner, git_remote_url(owner)) < 0) {
		free(o);
		return -1;
	}
	git_transport_init(&o->parent, GIT_TRANSPORT_VERSION);
	o->parent.connect = ot_connect;
	o->parent.set_connect_opts = ot_set_connect_opts;
	o->parent.capabilities = ot_capabilities;
	o->parent.ls = ot_ls;
	o->parent.push = ot_push;
	o->parent.negotiate_fetch = ot_negotiate_fetch;
	o->parent.download_pack = ot_download_pack;
	o->parent.is_connected = ot_is_connected;
	o->parent.cancel = ot_cancel;
	o->parent.close = ot_close;
	o->parent.free = ot_free;
	o->c = payload;
	*out = &o->parent;
	return 0;
}

static void set_callbacks(sync_ctx *c, git_remote_callbacks *cb)
{
	cb->transport = cb_transport;
	cb->credentials = cb_credentials;
	cb->certificate_check = cb_certificate;
	cb->sideband_progress = cb_sideband;
	cb->transfer_progress = cb_transfer;
	cb->push_transfer_progress = cb_push_transfer;
	cb->push_update_reference = cb_push_ref;
	cb->payload = c;
}

/* The "remote:" text of the server, on one line, without control characters. */
static void server_text(const tidu_buf *in, tidu_buf *out)
{
	size_t i;
	int space = 0;

	for (i = 0; i < in->len; i++) {
		unsigned char ch = (unsigned char)in->ptr[i];

		if (ch < 0x20 || ch == 0x7f) {
			space = out->len > 0;
			continue;
		}
		if (space) {
			tidu_buf_puts(out, " | ");
			space = 0;
		}
		tidu_buf_putc(out, (char)ch);
	}
}

/*
 * An in-memory remote for the URL. No url.*.insteadOf rewriting: it reads
 * git config we do not use (and leaks a pcre2 match block per lookup in
 * libgit2 1.5).
 */
static int make_remote(sync_ctx *c, git_remote **out)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = c->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, c->url, &o);
}

/* Sets the error for a failed connection, preferring our own reason. */
static int net_fail(sync_ctx *c, const char *what)
{
	const git_error *e = git_error_last();
	const char *why = c->net_msg.len ? c->net_msg.ptr :
			  e && e->message ? e->message : _("unknown error");

	return tidu_error_set(TIDU_ERROR, "%s '%s': %s", what, c->url, why);
}

static int head_cmp(const void *a, const void *b)
{
	return strcmp(((const head *)a)->name, ((const head *)b)->name);
}

/* Does a ref the server advertised belong to what this store fetches? */
static int wanted(const sync_ctx *c, const char *name)
{
	size_t dl = strlen(c->district);

	if (strncmp(name, "refs/heads/", 11))
		return 0;
	name += 11;
	if (c->city)
		return 1;
	if (c->relay && !strncmp(name, "enroll/", 7) &&
	    !strncmp(name + 7, c->district, dl) && name[7 + dl] == '/')
		return 1;
	if (!strncmp(name, "city/", 5)) {
		name += 5;
		/* The city's refs for everyone, and its desk's for this district. */
		return !strcmp(name, "keyring") || !strcmp(name, "pool") ||
		       (!strncmp(name, c->district, dl) && name[dl] == '/');
	}
	return !strncmp(name, c->district, dl) && name[dl] == '/';
}

/* Sets the remote-tracking refs to what the server advertised; drops the rest. */
static int track(sync_ctx *c)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	tidu_buf glob = TIDU_BUF_INIT, name = TIDU_BUF_INIT;
	char **gone = NULL;
	size_t i, ngone = 0;
	int error = 0;

	tidu_buf_printf(&glob, "refs/remotes/%s/*", c->remote);
	if (git_reference_iterator_glob_new(&it, c->repo, glob.ptr) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			const char *rn = git_reference_name(ref);

			tidu_buf_clear(&name);
			tidu_buf_printf(&name, "refs/heads/%s", rn + glob.len - 1);
			if (!server_head(c, name.ptr) || !wanted(c, name.ptr)) {
				gone = tidu_reallocarray(gone, ngone + 1, sizeof(*gone));
				gone[ngone++] = tidu_strdup(rn);
			}
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	}
	for (i = 0; i < ngone; i++) {
		git_reference_remove(c->repo, gone[i]);
		free(gone[i]);
	}
	free(gone);
	for (i = 0; i < c->nheads && !error; i++) {
		git_oid have;

		if (!wanted(c, c->heads[i].name))
			continue;
		tidu_buf_clear(&name);
		tidu_buf_printf(&name, "refs/remotes/%s/%s", c->remote, c->heads[i].name + 11);
		/* Unchanged refs are not rewritten (each write is fsynced). */
		if (ref_get(c, name.ptr, &have) != 0 || !git_oid_equal(&have, &c->heads[i].oid))
			error = ref_set(c, name.ptr, &c->heads[i].oid);
	}
	tidu_buf_free(&glob);
	tidu_buf_free(&name);
	return error;
}

/* Keeps the server's list of branches, sorted by name. */
static void take_heads(sync_ctx *c, const git_remote_head **refs, size_t n)
{
	size_t i;

	heads_free(c);
	for (i = 0; i < n; i++) {
		if (strncmp(refs[i]->name, "refs/heads/", 11) || ends_with(refs[i]->name, "^{}"))
			continue;
		c->heads = tidu_reallocarray(c->heads, c->nheads + 1, sizeof(*c->heads));
		c->heads[c->nheads].name = tidu_strdup(refs[i]->name);
		git_oid_cpy(&c->heads[c->nheads].oid, &refs[i]->oid);
		c->nheads++;
	}
	if (c->nheads)
		qsort(c->heads, c->nheads, sizeof(*c->heads), head_cmp);
}

/* 1 if the tracking refs are exactly the wanted refs the server lists. */
static int tracking_current(sync_ctx *c)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	tidu_buf glob = TIDU_BUF_INIT, name = TIDU_BUF_INIT;
	size_t wanted_n = 0, tracked = 0, i;
	int same = 1;

	for (i = 0; i < c->nheads && same; i++) {
		git_oid have;

		if (!wanted(c, c->heads[i].name))
			continue;
		wanted_n++;
		tidu_buf_clear(&name);
		tidu_buf_printf(&name, "refs/remotes/%s/%s", c->remote, c->heads[i].name + 11);
		same = ref_get(c, name.ptr, &have) == 0 && git_oid_equal(&have, &c->heads[i].oid);
	}
	tidu_buf_printf(&glob, "refs/remotes/%s/*", c->remote);
	if (same && git_reference_iterator_glob_new(&it, c->repo, glob.ptr) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			tracked++;
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	} else {
		same = 0;
	}
	tidu_error_clear();
	tidu_buf_free(&glob);
	tidu_buf_free(&name);
	return same && tracked == wanted_n;
}

/*
 * Connects in `direction` and keeps the
 * server's list of branches. *out is the remote, connected on success; the
 * caller frees it in any case. *cb and *proxy are the options used.
 */
static int connect_list(sync_ctx *c, git_direction direction, git_remote_callbacks *cb,
			git_proxy_options *proxy, git_remote **out)
{
	const git_remote_head **refs;
	size_t n;
	int error;

	*out = NULL;
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	git_proxy_options_init(proxy, GIT_PROXY_OPTIONS_VERSION);
	set_callbacks(c, cb);
	proxy->type = GIT_PROXY_AUTO;
	c->auth_attempts = 0;
	c->pushing = direction == GIT_DIRECTION_PUSH;
	tidu_buf_clear(&c->net_msg);
	if (make_remote(c, out) < 0)
		return net_fail(c, _("cannot use the repository"));
	tidu_net_defer_connect_errors(!strncmp(c->url, "git://", 6));
	error = git_remote_connect(*out, direction, cb, proxy, NULL);
	tidu_net_defer_connect_errors(0);
	if (error < 0 || git_remote_ls(&refs, &n, *out) < 0)
		return net_fail(c, _("cannot reach the repository"));
	take_heads(c, refs, n);
	return 0;
}

/*
 * Connects for the push and reads the server's refs from its
 * advertisement. When every ref this store reads is at the tip it tracks
 * already, nothing is to be downloaded: the connection is kept for the
 * push, one connection per sync instead of two (1). Otherwise it is closed
 * and fetch() follows (0). A failure to connect is the sync's error.
 */
static int probe(sync_ctx *c)
{
	git_remote_callbacks cb;
	git_proxy_options proxy;
	git_remote *remote = NULL;
	int error;

	if ((error = connect_list(c, GIT_DIRECTION_PUSH, &cb, &proxy, &remote)) == 0 &&
	    tracking_current(c)) {
		c->conn = remote;
		remote = NULL;
		error = 1;
	}
	c->pushing = 0;
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return error;
}

/* Connects, lists the server's refs and downloads the objects of the wanted ones. */
static int fetch(sync_ctx *c)
{
	git_remote_callbacks cb;
	git_proxy_options proxy;
	git_fetch_options fo;
	git_remote *remote = NULL;
	tidu_buf spec1 = TIDU_BUF_INIT, spec2 = TIDU_BUF_INIT, spec3 = TIDU_BUF_INIT;
	tidu_buf spec4 = TIDU_BUF_INIT, spec5 = TIDU_BUF_INIT;
	char *specs[5];
	git_strarray sa;
	int error = 0;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if ((error = connect_list(c, GIT_DIRECTION_FETCH, &cb, &proxy, &remote)) < 0)
		goto done;
	/*
	 * The refspecs choose what is downloaded; the tracking refs are set by
	 * track() from the list above, not by libgit2's update_tips.
	 */
	if (c->city) {
		tidu_buf_printf(&spec1, "+refs/heads/*:refs/remotes/%s/*", c->remote);
		specs[0] = spec1.ptr;
		sa.count = 1;
	} else {
		tidu_buf_printf(&spec1, "+refs/heads/%s/*:refs/remotes/%s/%s/*", c->district,
				c->remote, c->district);
		/* What wanted() lists: not the other districts' desk refs. */
		tidu_buf_printf(&spec2, "+%s:refs/remotes/%s/city/keyring", CITY_KEYRING_REF,
				c->remote);
		tidu_buf_printf(&spec3, "+%s:refs/remotes/%s/city/pool", CITY_POOL_REF,
				c->remote);
		tidu_buf_printf(&spec4, "+refs/heads/city/%s/*:refs/remotes/%s/city/%s/*",
				c->district, c->remote, c->district);
		specs[0] = spec1.ptr;
		specs[1] = spec2.ptr;
		specs[2] = spec3.ptr;
		specs[3] = spec4.ptr;
		sa.count = 4;
		if (c->relay) {
			tidu_buf_printf(&spec5, "+refs/heads/enroll/%s/*:refs/remotes/%s/enroll/%s/*",
					c->district, c->remote, c->district);
			specs[4] = spec5.ptr;
			sa.count = 5;
		}
	}
	sa.strings = specs;
	fo.callbacks = cb;
	fo.proxy_opts = proxy;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	if (git_remote_download(remote, &sa, &fo) < 0) {
		error = net_fail(c, _("cannot fetch from the repository"));
		goto done;
	}
	git_remote_disconnect(remote);
	if ((error = track(c)) < 0)
		goto done;
done:
	git_remote_free(remote);
	tidu_buf_free(&spec1);
	tidu_buf_free(&spec2);
	tidu_buf_free(&spec3);
	tidu_buf_free(&spec4);
	tidu_buf_free(&spec5);
	return error;
}

/*
 * After a push the server has the pushed tips: the tracking refs follow
 * (as git's do), so that the next probe() sees nothing new.
 */
static int track_pushed(sync_ctx *c, char **specs, size_t n)
{
	tidu_buf name = TIDU_BUF_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < n && !error; i++) {
		const char *colon = strchr(specs[i], ':');
		tidu_buf src = TIDU_BUF_INIT;
		git_oid oid;

		if (!colon || !wanted(c, colon + 1))
			continue;
		tidu_buf_put(&src, specs[i], (size_t)(colon - specs[i]));
		if (ref_get(c, src.ptr, &oid) == 0) {
			tidu_buf_clear(&name);
			tidu_buf_printf(&name, "refs/remotes/%s/%s", c->remote, colon + 1 + 11);
			error = ref_set(c, name.ptr, &oid);
		}
		tidu_buf_free(&src);
	}
	tidu_buf_free(&name);
	return error;
}

/* Pushes `n` refspecs; a refusal of the server is an error naming ref and reason. */
static int push(sync_ctx *c, char **specs, size_t n)
{
	git_remote_callbacks cb;
	git_push_options po;
	git_remote *remote = NULL;
	git_strarray sa;
	tidu_buf text = TIDU_BUF_INIT;
	int rc, error = 0;

	if (!n)
		return 0;
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	set_callbacks(c, &cb);
	po.callbacks = cb;
	po.proxy_opts.type = GIT_PROXY_AUTO;
	po.pb_parallelism = 1;
	c->auth_attempts = 0;
	c->pushing = 1;
	tidu_buf_clear(&c->net_msg);
	tidu_buf_clear(&c->sideband);
	tidu_buf_clear(&c->push_errors);
	sa.strings = specs;
	sa.count = n;
	c->push_keep = tidu_calloc(n, sizeof(*c->push_keep));
	for (c->npush_keep = 0; c->npush_keep < n; c->npush_keep++) {
		const char *colon = strchr(specs[c->npush_keep], ':');

		c->push_keep[c->npush_keep] = (char *)(colon ? colon + 1 : specs[c->npush_keep]);
	}
	if (c->conn) {
		/* The connection probe() kept: the same session, no new handshake. */
		remote = c->conn;
		c->conn = NULL;
		rc = git_remote_upload(remote, &sa, &po);
		git_remote_disconnect(remote);
	} else if (make_remote(c, &remote) < 0) {
		error = net_fail(c, _("cannot use the repository"));
		goto done;
	} else {
		rc = git_remote_push(remote, &sa, &po);
	}
	if (rc == GIT_ENONFASTFORWARD) {
		error = net_fail(c, _("cannot push to the repository (not a fast-forward)"));
		goto done;
	}
	if (rc < 0) {
		error = net_fail(c, _("cannot push to the repository"));
		goto done;
	}
	if (c->push_errors.len) {
		server_text(&c->sideband, &text);
		error = tidu_error_set(TIDU_ERROR, _("the server '%s' refused %s%s%s"), c->url,
				       c->push_errors.ptr, text.len ? " — remote: " : "",
				       tidu_buf_cstr(&text));
		goto done;
	}
	error = track_pushed(c, specs, n);
done:
	c->pushing = 0;
	free(c->push_keep);
	c->push_keep = NULL;
	c->npush_keep = 0;
	git_remote_free(remote);
	tidu_buf_free(&text);
	return error;
}

/* Moves `name` to `oid` at the next flush_refs(), after the pack is written. */
static void defer_ref(sync_ctx *c, const char *name, const git_oid *oid)
{
	snprintf(c->pending[c->npending].name, sizeof(c->pending[0].name), "%s", name);
	git_oid_cpy(&c->pending[c->npending].oid, oid);
	c->npending++;
}

/* One pack for everything staged, then the deferred refs. */
static int flush_refs(sync_ctx *c)
{
	size_t i;
	int error;

	if ((error = persist(c)) < 0)
		return error;
	for (i = 0; i < c->npending && !error; i++)
		error = ref_set(c, c->pending[i].name, &c->pending[i].oid);
	c->npending = 0;
	return error;
}

/* ---- blobs of fetched trees ---------------------------------------------- */

/* The blob at `path` of commit `tip`; 1 if there is none. */
static int read_file(sync_ctx *c, const git_oid *tip, const char *path, git_blob **out,
		     git_oid *blob_oid)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int rc, error = 0;

	*out = NULL;
	if ((error = commit_tree_of(c, tip, &tree)) < 0)
		return error;
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND) {
		error = 1;
	} else if (rc < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		error = tidu_error_set(TIDU_ECORRUPT, _("'%s' is not a file"), path);
	} else {
		git_oid_cpy(blob_oid, git_tree_entry_id(e));
		if (git_blob_lookup(out, c->repo, blob_oid) < 0)
			error = git_fail(TIDU_ECORRUPT, _("reading a file of the repository"));
	}
	git_tree_entry_free(e);
	git_tree_free(tree);
	return error;
}

/* A tree with one file: `name` holding `data`. Staged. */
static int one_file_tree(sync_ctx *c, const char *name, const void *data, size_t len,
			 git_oid *tree_out, git_oid *blob_out)
{
	git_treebuilder *tb = NULL;
	int error = 0;

	if (git_blob_create_from_buffer(blob_out, c->repo, data, len) < 0 ||
	    git_treebuilder_new(&tb, c->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, name, blob_out, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(tree_out, tb) < 0)
		error = git_fail(TIDU_ERROR, _("making a commit"));
	git_treebuilder_free(tb);
	return error;
}

/*
 * Commits a one-file tree for ref `ref` unless the file there is the same
 * (the ref moves at flush_refs()). The parent is the local ref, else the
 * server's.
 */
static int commit_file(sync_ctx *c, const char *ref, const char *name,
		       const void *data, size_t len, const char *msg, int *made)
{
	git_oid parent, tree, blob, tip;
	git_blob *old = NULL;
	git_oid old_blob;
	const git_oid *srv;
	int have, from_server = 0, error;

	*made = 0;
	if ((have = ref_get(c, ref, &parent)) < 0)
		return have;
	if (have == 1 && (srv = server_head(c, ref))) {
		git_oid_cpy(&parent, srv);
		have = 0;
		from_server = 1;
	}
	if ((error = one_file_tree(c, name, data, len, &tree, &blob)) < 0)
		return error;
	if (have == 0) {
		error = read_file(c, &parent, name, &old, &old_blob);
		git_blob_free(old);
		if (error < 0)
			return error;
		if (error == 0 && git_oid_equal(&old_blob, &blob)) {
			/* Same contents: only make sure the local ref is there. */
			return from_server ? ref_set(c, ref, &parent) : 0;
		}
	}
	if ((error = commit_tree(c, &tree, have == 0 ? &parent : NULL, msg, &tip)) < 0)
		return error;
	defer_ref(c, ref, &tip);
	*made = 1;
	return 0;
}

/* ---- the keyring --------------------------------------------------------- */

/* The version in a keyring document's payload (0 if unreadable). */
static int64_t doc_version(const char *doc, size_t len)
{
	tidu_json *j = NULL;
	int64_t v = 0;

	if (tidu_json_parse(doc, len, &j) == 0 &&
	    tidu_json_as_int64(tidu_json_get(tidu_json_get(j, "payload"), "version"), &v) < 0)
		v = 0;
	tidu_json_free(j);
	tidu_error_clear();
	return v;
}

/* Device: imports the keyring of refs/heads/city/keyring if it is newer. */
static int import_keyring(sync_ctx *c)
{
	const git_oid *tip = server_head(c, CITY_KEYRING_REF);
	tidu_buf key = TIDU_BUF_INIT;
	tidu_trust_import info;
	git_blob *blob = NULL;
	git_oid blob_oid;
	char hex[OID_HEX], *seen = NULL;
	int64_t version;
	int error;

	if (!tip) {
		note(c->rep, "%s", _("the repository has no keyring yet: the city publishes it with 'tidu admin repo-init' or 'tidu sync'"));
		return 0;
	}
	if ((error = read_file(c, tip, KEYRING_FILE, &blob, &blob_oid)) < 0)
		goto done;
	if (error == 1) {
		refuse(c->rep, _("'%s' holds no %s"), CITY_KEYRING_REF, KEYRING_FILE);
		error = 0;
		goto done;
	}
	oid_hex(&blob_oid, hex);
	tidu_buf_printf(&key, "sync.keyring.%s", c->remote);
	error = tidu_store_meta_get(c->s, key.ptr, &seen);
	if (error == TIDU_ENOTFOUND)
		tidu_error_clear();
	else if (error < 0)
		goto done;
	error = 0;
	if (seen && !strcmp(seen, hex))
		goto done; /* imported already */
	/* The signature is checked first: a forged keyring is refused whatever its version. */
	error = tidu_trust_keyring_import(c->s, git_blob_rawcontent(blob),
					  (size_t)git_blob_rawsize(blob), &info);
	if (error == TIDU_EINVAL &&
	    (version = doc_version(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob))) &&
	    version < c->keyring) {
		/* Signed, but older than ours (ours came another way): keep ours. */
		note(c->rep, _("the repository's keyring (version %lld) is older than this store's (%lld): kept this store's"),
		     (long long)version, (long long)c->keyring);
		error = 0;
		goto done;
	}
	if (error == TIDU_ECORRUPT || error == TIDU_EINVAL) {
		refuse(c->rep, _("keyring on '%s' refused: %s"), CITY_KEYRING_REF,
		       tidu_error_message());
		tidu_error_clear();
		error = 0;
		goto done;
	}
	if (error < 0 || (error = tidu_store_meta_set(c->s, key.ptr, hex)) < 0)
		goto done;
	if (!info.current)
		c->rep->keyring_version = info.version;
	c->rep->city_pinned = info.pinned;
	snprintf(c->rep->city_fingerprint, sizeof(c->rep->city_fingerprint), "%s",
		 info.city_fingerprint);
	c->keyring = info.version > c->keyring ? info.version : c->keyring;
done:
	git_blob_free(blob);
	free(seen);
	tidu_buf_free(&key);
	return error;
}

/*
 * City: exports a new keyring version when devices or keys changed since
 * the last one (admissions, revocations), then commits the latest on
 * refs/heads/city/keyring.
 */
static int publish_keyring(sync_ctx *c)
{
	tidu_buf doc = TIDU_BUF_INIT, want = TIDU_BUF_INIT, msg = TIDU_BUF_INIT;
	char state[TIDU_TRUST_DIGEST_HEX], *have = NULL;
	int64_t latest = 0;
	int made, error;

	if ((error = tidu_trust_ensure_keys(c->s)) < 0 || (error = tidu_trust_state_digest(c->s, state)) < 0)
		return error;
	if ((error = tidu_trust_keyring_latest(c->s, &latest, &doc)) < 0)
		goto done;
	tidu_buf_printf(&want, "%lld:%s", (long long)latest, state);
	error = tidu_store_meta_get(c->s, META_KEYRING_STATE, &have);
	if (error == TIDU_ENOTFOUND)
		tidu_error_clear();
	else if (error < 0)
		goto done;
	error = 0;
	if (!latest || !have || strcmp(have, want.ptr)) {
		tidu_trust_id id;

		/* The new version and the state it was made from: one transaction. */
		tidu_buf_clear(&doc);
		if ((error = tidu_store_begin(c->s)) < 0)
			goto done;
		if ((error = tidu_trust_keyring_export(c->s, &doc)) < 0 ||
		    (error = tidu_trust_identity(c->s, &id)) < 0) {
			tidu_store_rollback(c->s);
			goto done;
		}
		latest = id.keyring_version;
		tidu_buf_clear(&want);
		tidu_buf_printf(&want, "%lld:%s", (long long)latest, state);
		if ((error = tidu_store_meta_set(c->s, META_KEYRING_STATE, want.ptr)) < 0 ||
		    (error = tidu_store_commit(c->s)) < 0) {
			tidu_store_rollback(c->s);
			goto done;
		}
	}
	c->keyring = latest;
	tidu_buf_printf(&msg, "keyring version %lld\n", (long long)latest);
	if ((error = commit_file(c, CITY_KEYRING_REF, KEYRING_FILE, doc.ptr, doc.len,
				 msg.ptr, &made)) < 0)
		goto done;
	if (made)
		c->rep->keyring_version = latest;
done:
	free(have);
	tidu_buf_free(&doc);
	tidu_buf_free(&want);
	tidu_buf_free(&msg);
	return error;
}

/* ---- enrollment through the repository ----------------------------------- */

/* Device: makes (once) and pushes its enrollment request. */
static int prepare_enroll(sync_ctx *c, char **spec)
{
	git_oid tip, tree, blob;
	tidu_buf doc = TIDU_BUF_INIT, msg = TIDU_BUF_INIT, s = TIDU_BUF_INIT;
	int have, error = 0;

	*spec = NULL;
	if (server_head(c, c->enroll_ref))
		return 0; /* the city has it (or had it) */
	if ((have = ref_get(c, c->enroll_ref, &tip)) < 0)
		return have;
	if (have == 1) {
		tidu_buf_printf(&msg, "enrollment request of %s\n", c->device);
		if ((error = tidu_trust_enroll_request(c->s, &doc)) < 0 ||
		    (error = one_file_tree(c, REQUEST_FILE, doc.ptr, doc.len, &tree, &blob)) < 0 ||
		    (error = commit_tree(c, &tree, NULL, msg.ptr, &tip)) < 0 ||
		    (error = persist(c)) < 0 ||
		    (error = ref_set(c, c->enroll_ref, &tip)) < 0)
			goto done;
	}
	tidu_buf_printf(&s, "%s:%s", c->enroll_ref, c->enroll_ref);
	*spec = tidu_buf_detach(&s);
done:
	tidu_buf_free(&doc);
	tidu_buf_free(&msg);
	tidu_buf_free(&s);
	return error;
}

/* Was this object refused before, with the keyring at this version? */
static int refused_before(sync_ctx *c, const char *oid)
{
	sqlite3_stmt *st = tidu_store_stmt(c->s,
		"SELECT 1 FROM sync_refused WHERE oid=?1 AND keyring=?2");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, oid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->keyring);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(c->s, rc, _("reading sync state"));
}

static int remember_refused(sync_ctx *c, const char *oid, const char *device,
			    uint64_t seq, const char *outcome, const char *reason)
{
	sqlite3_stmt *st = tidu_store_stmt(c->s,
		"INSERT OR REPLACE INTO sync_refused(oid, device, seq, outcome, reason, "
		"keyring, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, oid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)seq);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, c->keyring);
	sqlite3_bind_int64(st, 7, tidu_clock_now_ms());
	return exec1(c->s, st, _("writing sync state"));
}

/* City: verifies the requests on refs/heads/enroll/... and keeps them for approval. */
static int gather_requests(sync_ctx *c)
{
	sqlite3_stmt *st;
	size_t i;
	int rc, error = 0;

	for (i = 0; i < c->nheads && !error; i++) {
		const char *name = c->heads[i].name;
		char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
		char hex[OID_HEX];
		tidu_trust_request info;
		tidu_trust_device known_dev;
		git_blob *blob = NULL;
		git_oid blob_oid;
		int known = 0;

		if (strncmp(name, "refs/heads/enroll/", 18))
			continue;
		if (!split_device_ref(name + 18, district, sizeof(district), device,
				      sizeof(device)))
			continue;
		/* A device of the keyring (enrolled, maybe revoked since): done with. */
		if ((error = tidu_trust_device_lookup(c->s, device, &known_dev)) == 0)
			continue;
		if (error != TIDU_ENOTFOUND)
			return error;
		tidu_error_clear();
		error = 0;
		if ((error = read_file(c, &c->heads[i].oid, REQUEST_FILE, &blob, &blob_oid)) != 0) {
			git_blob_free(blob);
			if (error == 1 || error == TIDU_ECORRUPT) {
				tidu_error_clear();
				error = 0; /* not a request: ignored */
			}
			continue;
		}
		oid_hex(&blob_oid, hex);
		st = tidu_store_stmt(c->s, "SELECT 1 FROM enroll_pending WHERE oid=?1");
		if (!st) {
			git_blob_free(blob);
			return TIDU_ERROR;
		}
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW || (known = refused_before(c, hex)) == 1) {
			git_blob_free(blob);
			continue;
		}
		if (known < 0) {
			git_blob_free(blob);
			return known;
		}
		error = tidu_trust_admit(c->s, git_blob_rawcontent(blob),
					 (size_t)git_blob_rawsize(blob), &info, 0);
		if (error == 0 && (strcmp(info.device, device) || strcmp(info.district, district))) {
			error = tidu_error_set(TIDU_ECORRUPT,
				_("it is the request of device '%s' of district %s"), info.device,
				info.district);
		}
		if (error == TIDU_EINVAL || error == TIDU_ECORRUPT || error == TIDU_EEXISTS) {
			refuse(c->rep, _("enrollment request on '%s' refused: %s"), name,
			       tidu_error_message());
			error = remember_refused(c, hex, device, 0, "rejected", tidu_error_message());
			tidu_error_clear();
		} else if (error == 0 && !info.enrolled) {
			st = tidu_store_stmt(c->s,
				"INSERT OR REPLACE INTO enroll_pending(device, ref, oid, doc, received) "
				"VALUES(?1, ?2, ?3, ?4, ?5)");
			if (!st) {
				error = TIDU_ERROR;
			} else {
				sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 3, hex, -1, SQLITE_STATIC);
				sqlite3_bind_blob(st, 4, git_blob_rawcontent(blob),
						  (int)git_blob_rawsize(blob), SQLITE_STATIC);
				sqlite3_bind_int64(st, 5, tidu_clock_now_ms());
				error = exec1(c->s, st, _("keeping an enrollment request"));
				c->rep->requests_new++;
			}
		}
		git_blob_free(blob);
	}
	if (error)
		return error;
	st = tidu_store_stmt(c->s, "SELECT count(*) FROM enroll_pending");
	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	c->rep->requests = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(c->s, rc, _("reading sync state"));
}

/* ---- applying what was fetched ------------------------------------------- */

/* The first sequence number found under tree entry `e` (for messages). */
static uint64_t first_seq_under(sync_ctx *c, const git_tree_entry *e)
{
	git_oid id;
	uint64_t seq = 0;
	int depth;

	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		parse_cs_name(git_tree_entry_name(e), &seq);
		return seq;
	}
	git_oid_cpy(&id, git_tree_entry_id(e));
	for (depth = 0; depth < 4; depth++) {
		git_tree *t = NULL;
		const git_tree_entry *f;
		int blob;

		if (git_tree_lookup(&t, c->repo, &id) < 0)
			break;
		f = git_tree_entrycount(t) ? git_tree_entry_byindex(t, 0) : NULL;
		if (!f) {
			git_tree_free(t);
			break;
		}
		blob = git_tree_entry_type(f) == GIT_OBJECT_BLOB;
		if (blob)
			parse_cs_name(git_tree_entry_name(f), &seq);
		else
			git_oid_cpy(&id, git_tree_entry_id(f));
		git_tree_free(t);
		if (blob)
			break;
	}
	return seq;
}

/*
 * Every file of `old` must still be in `newer`, unchanged: only the
 * changed subtrees are visited. *seq and *removed describe the first
 * difference; 1 if there is one.
 */
static int tree_keeps(sync_ctx *c, git_tree *old, git_tree *newer, uint64_t *seq,
		      int *removed)
{
	size_t i, n = git_tree_entrycount(old);

	for (i = 0; i < n; i++) {
		const git_tree_entry *a = git_tree_entry_byindex(old, i);
		const git_tree_entry *b = git_tree_entry_byname(newer, git_tree_entry_name(a));
		git_tree *ta = NULL, *tb = NULL;
		int rc;

		if (!b) {
			*removed = 1;
			*seq = first_seq_under(c, a);
			return 1;
		}
		if (git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)))
			continue;
		if (git_tree_entry_type(a) != GIT_OBJECT_TREE ||
		    git_tree_entry_type(b) != GIT_OBJECT_TREE) {
			*removed = 0;
			*seq = first_seq_under(c, a);
			return 1;
		}
		if (git_tree_lookup(&ta, c->repo, git_tree_entry_id(a)) < 0 ||
		    git_tree_lookup(&tb, c->repo, git_tree_entry_id(b)) < 0) {
			git_tree_free(ta);
			return git_fail(TIDU_ECORRUPT, _("reading a tree"));
		}
		rc = tree_keeps(c, ta, tb, seq, removed);
		git_tree_free(ta);
		git_tree_free(tb);
		if (rc)
			return rc;
	}
	return 0;
}

/* The tip of `ref` this store last read from this remote (1: none). */
static int seen_tip(sync_ctx *c, const char *ref, git_oid *out)
{
	sqlite3_stmt *st = tidu_store_stmt(c->s,
		"SELECT tip FROM sync_ref WHERE remote=?1 AND ref=?2");
	int rc, error = 1;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, c->remote, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		error = git_oid_fromstr(out, (const char *)sqlite3_column_text(st, 0)) < 0 ? 1 : 0;
	else if (rc != SQLITE_DONE)
		error = tidu_store_sqlerr(c->s, rc, _("reading sync state"));
	sqlite3_reset(st);
	return error;
}

static int set_seen_tip(sync_ctx *c, const char *ref, const git_oid *tip)
{
	sqlite3_stmt *st = tidu_store_stmt(c->s,
		"INSERT INTO sync_ref(remote, ref, tip, seen) VALUES(?1, ?2, ?3, ?4) "
		"ON CONFLICT(remote, ref) DO UPDATE SET tip=excluded.tip, seen=excluded.seen");
	char hex[OID_HEX];

	if (!st)
		return TIDU_ERROR;
	oid_hex(tip, hex);
	sqlite3_bind_text(st, 1, c->remote, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, tidu_clock_now_ms());
	return exec1(c->s, st, _("writing sync state"));
}

/*
 * The highest sequence of `device` this store applied. Files held above it
 * (waiting for a missing one, e.g. after a partial copy by USB) are read
 * again and passed over as duplicates, so that the ref fills the gap.
 */
static int watermark(sync_ctx *c, const char *device, uint64_t *out)
{
	sqlite3_stmt *st = tidu_store_stmt(c->s,
		"SELECT coalesce(max(seq), 0) FROM changeset WHERE device=?1 AND state<>'held'");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(c->s, rc, _("reading change sets"));
}

/* The rewind and removal checks of one device ref. 1 if it is refused. */
static int check_ref(sync_ctx *c, const char *ref, const char *device, const git_oid *tip)
{
	git_tree *old = NULL, *newer = NULL;
	char a[OID_HEX], b[OID_HEX];
	git_oid seen;
	uint64_t seq = 0;
	int removed = 0, rc, error;

	if ((error = seen_tip(c, ref, &seen)) != 0)
		return error < 0 ? error : 0;
	if (git_oid_equal(&seen, tip))
		return 0;
	rc = git_graph_descendant_of(c->repo, tip, &seen);
	if (rc < 0 && git_error_last() && git_error_last()->klass == GIT_ERROR_ODB)
		rc = 0; /* the old tip is not even here any more */
	if (rc < 0)
		return git_fail(TIDU_ERROR, _("reading the local repository"));
	if (!rc) {
		oid_hex(&seen, a);
		oid_hex(tip, b);
		refuse(c->rep,
		       _("the ref of device '%s' was rewound or rewritten on the server (it was at %.12s, now %.12s): nothing applied from it"),
		       device, a, b);
		return 1;
	}
	if ((error = commit_tree_of(c, &seen, &old)) < 0 ||
	    (error = commit_tree_of(c, tip, &newer)) < 0)
		goto done;
	if ((error = tree_keeps(c, old, newer, &seq, &removed)) < 0)
		goto done;
	if (error == 1) {
		if (removed)
			refuse(c->rep,
			       _("change set %llu of device '%s' was removed from its ref on the server: nothing applied from it"),
			       (unsigned long long)seq, device);
		else
			refuse(c->rep,
			       _("change set %llu of device '%s' was replaced on the server: nothing applied from it"),
			       (unsigned long long)seq, device);
	}
done:
	git_tree_free(old);
	git_tree_free(newer);
	return error;
}

/*
 * Applies the change sets of one device ref above this store's watermark,
 * in sequence order, stopping at the first one that is missing, refused or
 * unreadable. *through is the last sequence this store holds afterwards.
 */
static int apply_ref(sync_ctx *c, const char *ref, const char *district,
		     const char *device, const git_oid *tip, uint64_t *through)
{
	git_tree *tree = NULL;
	uint64_t seq, max = 0;
	size_t applied = 0;
	int error;

	*through = 0;
	if ((error = check_ref(c, ref, device, tip)) != 0)
		return error < 0 ? error : 1;
	if ((error = watermark(c, device, &seq)) < 0 ||
	    (error = commit_tree_of(c, tip, &tree)) < 0)
		goto done;
	for (seq++;; seq++) {
		char path[48], hex[OID_HEX];
		tidu_buf name = TIDU_BUF_INIT;
		git_tree_entry *e = NULL;
		git_blob *blob = NULL;
		tidu_cs_header h;
		tidu_apply_report r;
		const unsigned char *data;
		size_t len;
		int rc;

		tidu_repo_cs_path(seq, path, sizeof(path));
		rc = git_tree_entry_bypath(&e, tree, path);
		if (rc == GIT_ENOTFOUND) {
			/* The end, unless later files are there: then one was removed. */
			if ((error = tree_max_seq(c, tree, &max)) < 0) {
				refuse(c->rep, _("the ref of device '%s' is not a tidu device tree: %s"),
				       device, tidu_error_message());
				tidu_error_clear();
				error = 1;
			} else if (max > seq) {
				refuse(c->rep,
				       _("change set %llu of device '%s' is missing from its ref while later ones are there"),
				       (unsigned long long)seq, device);
				error = 1;
			}
			break;
		}
		if (rc < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			git_tree_entry_free(e);
			refuse(c->rep, _("change set %llu of device '%s': '%s' is not a file"),
			       (unsigned long long)seq, device, path);
			error = 1;
			break;
		}
		oid_hex(git_tree_entry_id(e), hex);
		if ((rc = refused_before(c, hex)) != 0) {
			git_tree_entry_free(e);
			error = rc < 0 ? rc : 0;
			break; /* reported before; tried again with another keyring */
		}
		if (git_blob_lookup(&blob, c->repo, git_tree_entry_id(e)) < 0) {
			git_tree_entry_free(e);
			error = git_fail(TIDU_ECORRUPT, _("reading a file of the repository"));
			break;
		}
		git_tree_entry_free(e);
		data = git_blob_rawcontent(blob);
		len = (size_t)git_blob_rawsize(blob);
		tidu_buf_printf(&name, "%s/%s/%s", district, device, path);
		memset(&r, 0, sizeof(r));
		if (tidu_cs_read_header(data, len, name.ptr, &h) < 0) {
			r.outcome = TIDU_APPLY_REJECTED;
			snprintf(r.reason, sizeof(r.reason), "%s", tidu_error_message());
			tidu_error_clear();
		} else if (strcmp(h.device, device) || strcmp(h.district, district) ||
			   h.seq != seq) {
			r.outcome = TIDU_APPLY_REJECTED;
			snprintf(r.reason, sizeof(r.reason),
				 _("it is change set %llu of device '%s' of district %s, not this ref's"),
				 (unsigned long long)h.seq, h.device, h.district);
		} else if ((error = tidu_changes_apply(c->s, data, len, name.ptr, &r)) < 0) {
			git_blob_free(blob);
			tidu_buf_free(&name);
			break;
		}
		git_blob_free(blob);
		tidu_buf_free(&name);
		switch (r.outcome) {
		case TIDU_APPLY_APPLIED:
			applied += 1 + r.unblocked;
			if (r.stuck)
				refuse(c->rep, "%s", r.reason);
			c->rep->changes += r.changes;
			c->rep->conflicts += r.conflicts;
			if (r.ahead_ms > c->rep->ahead_ms) {
				c->rep->ahead_ms = r.ahead_ms;
				snprintf(c->rep->ahead_device, sizeof(c->rep->ahead_device), "%s",
					 device);
			}
			continue;
		case TIDU_APPLY_DUPLICATE:
			continue;
		case TIDU_APPLY_HELD:
			c->rep->held++;
			continue;
		case TIDU_APPLY_SKIPPED:
			c->rep->skipped++;
			error = remember_refused(c, hex, device, seq, "skipped", r.reason);
			break;
		default:
			refuse(c->rep, _("change set %llu of device '%s' refused: %s"),
			       (unsigned long long)seq, device, r.reason);
			error = remember_refused(c, hex, device, seq, "rejected", r.reason);
			break;
		}
		break;
	}
	if (error == 0) {
		int moved = 1;
		git_oid seen;

		if (seen_tip(c, ref, &seen) == 0 && git_oid_equal(&seen, tip))
			moved = 0;
		/* Nothing to record for a ref that did not move (a write, an fsync). */
		if (!moved || (error = set_seen_tip(c, ref, tip)) == 0)
			error = watermark(c, device, through);
	}
	if (applied) {
		c->rep->received += applied;
		c->rep->devices++;
	}
done:
	git_tree_free(tree);
	return error;
}

/*
 * Device refs read before that the server no longer lists: every file of
 * them is gone. Reported once, then forgotten (what was read stays here).
 */
static int check_gone(sync_ctx *c)
{
	sqlite3_stmt *st = NULL, *del;
	char **gone = NULL;
	size_t n = 0, i;
	int rc, error = 0;

	rc = sqlite3_prepare_v2(tidu_store_db(c->s),
		"SELECT ref FROM sync_ref WHERE remote=?1 ORDER BY ref", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(c->s, rc, _("reading sync state"));
	sqlite3_bind_text(st, 1, c->remote, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(st, 0);

		if (!server_head(c, ref) && wanted(c, ref) && !is_own_ref(c, ref)) {
			gone = tidu_reallocarray(gone, n + 1, sizeof(*gone));
			gone[n++] = tidu_strdup(ref);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		error = tidu_store_sqlerr(c->s, rc, _("reading sync state"));
	for (i = 0; i < n; i++) {
		if (!error) {
			refuse(c->rep, _("the ref '%s' is gone from the server: its change sets were removed"),
			       gone[i]);
			del = tidu_store_stmt(c->s, "DELETE FROM sync_ref WHERE remote=?1 AND ref=?2");
			if (del) {
				sqlite3_bind_text(del, 1, c->remote, -1, SQLITE_STATIC);
				sqlite3_bind_text(del, 2, gone[i], -1, SQLITE_STATIC);
			}
			error = exec1(c->s, del, _("writing sync state"));
		}
		free(gone[i]);
	}
	free(gone);
	return error;
}

/* A ref under city/<district>/ must be the city's desk. 1 if refused. */
static int desk_ref_ok(sync_ctx *c, const char *name, const char *device)
{
	tidu_trust_device dev;
	int error = tidu_trust_device_lookup(c->s, device, &dev);

	if (error < 0 && error != TIDU_ENOTFOUND)
		return error;
	tidu_error_clear();
	if (error == 0 && !strcmp(dev.role, TIDU_TRUST_ROLE_DESK))
		return 0;
	refuse(c->rep, _("the ref '%s' is not the city's desk: nothing applied from it"), name);
	return 1;
}

/* Applies every readable device ref but our own; the city notes the tips. */
static int apply_all(sync_ctx *c)
{
	size_t i;
	int error = 0;

	for (i = 0; i < c->nheads && error >= 0; i++) {
		const char *name = c->heads[i].name;
		char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
		char hex[OID_HEX];
		uint64_t through = 0;

		int kind;

		if (!wanted(c, name) || is_own_ref(c, name) ||
		    !(kind = device_ref(name, district, sizeof(district), device,
					sizeof(device))))
			continue;
		if (kind == 2 && (error = desk_ref_ok(c, name, device)) != 0) {
			error = error < 0 ? error : 0;
			continue;
		}
		error = apply_ref(c, name, district, device, &c->heads[i].oid, &through);
		if (error == 0 && c->city) {
			oid_hex(&c->heads[i].oid, hex);
			tidu_buf_printf(&c->tips, "%s %s %llu\n", name, hex,
					(unsigned long long)through);
		}
	}
	if (error >= 0)
		error = check_gone(c);
	return error < 0 ? error : 0;
}

/* City: the consolidation commit naming the device tips merged. */
static int commit_pool(sync_ctx *c)
{
	tidu_buf msg = TIDU_BUF_INIT;
	int made = 0, error;

	if (!c->tips.len && !server_head(c, CITY_POOL_REF))
		return 0;
	tidu_buf_printf(&msg, "consolidation of the device tips merged (keyring %lld)\n\n%s",
			(long long)c->keyring, tidu_buf_cstr(&c->tips));
	error = commit_file(c, CITY_POOL_REF, TIPS_FILE, c->tips.ptr ? c->tips.ptr : "",
			    c->tips.len, msg.ptr, &made);
	c->rep->pool_committed = made;
	tidu_buf_free(&msg);
	return error;
}

/* ---- sync ---------------------------------------------------------------- */

/*
 * Repacks if due. The sync itself is done by then: a failure (a full disk)
 * is a note, not the sync's error; the next sync tries again.
 */
static void repack_or_note(sync_ctx *c)
{
	if (repack(c) < 0) {
		note(c->rep, _("repo.git was not repacked: %s"), tidu_error_message());
		tidu_error_clear();
	}
}

/* Adds "src:dst" for `ref` when the local tip differs from the server's. */
static int push_spec_if_new(sync_ctx *c, const char *ref, char ***specs, size_t *n)
{
	const git_oid *srv = server_head(c, ref);
	git_oid mine;
	int have = ref_get(c, ref, &mine);
	tidu_buf b = TIDU_BUF_INIT;

	if (have != 0)
		return have < 0 ? have : 0;
	if (srv && git_oid_equal(srv, &mine))
		return 0;
	tidu_buf_printf(&b, "%s:%s", ref, ref);
	*specs = tidu_reallocarray(*specs, *n + 1, sizeof(**specs));
	(*specs)[(*n)++] = tidu_buf_detach(&b);
	return 1;
}

/* The highest own sequence number on commit `tip` (0 for NULL). */
static int max_on(sync_ctx *c, const git_oid *tip, uint64_t *out)
{
	git_tree *t = NULL;
	int error;

	*out = 0;
	if (!tip)
		return 0;
	if ((error = commit_tree_of(c, tip, &t)) == 0)
		error = tree_max_seq(c, t, out);
	git_tree_free(t);
	return error;
}

/*
 * The server's copy of each own ref must be an ancestor of ours; if not
 * (a lost or restored repo.git), rebuild on it, or block the ref.
 */
static int check_owns(sync_ctx *c)
{
	size_t i;
	int error;

	if ((error = collect_owns(c)) < 0)
		return error;
	for (i = 0; i < c->nowns; i++) {
		const git_oid *srv = server_head(c, c->owns[i].ref);
		git_oid local;
		int have;

		if (!srv)
			continue;
		if ((have = ref_get(c, c->owns[i].ref, &local)) < 0)
			return have;
		if (have == 0 && (git_oid_equal(srv, &local) ||
				  git_graph_descendant_of(c->repo, &local, srv) == 1))
			continue;
		error = adopt_server_own(c, &c->owns[i], srv);
		if (error == TIDU_ECORRUPT) {
			refuse(c->rep, "%s", tidu_error_message());
			tidu_error_clear();
			c->owns[i].blocked = 1;
		} else if (error < 0) {
			return error;
		}
	}
	return 0;
}

/* Push specs for every own ref ahead of the server; counts what goes out. */
static int push_owns(sync_ctx *c, char ***specs, size_t *nspecs, size_t *sent)
{
	size_t i;
	int error;

	*sent = 0;
	for (i = 0; i < c->nowns; i++) {
		const git_oid *srv = server_head(c, c->owns[i].ref);
		uint64_t max_local = 0, max_server = 0;
		git_oid local;

		if (c->owns[i].blocked)
			continue;
		if ((error = push_spec_if_new(c, c->owns[i].ref, specs, nspecs)) <= 0) {
			if (error < 0)
				return error;
			continue;
		}
		if (ref_get(c, c->owns[i].ref, &local) == 0 &&
		    ((error = max_on(c, &local, &max_local)) < 0 ||
		     (error = max_on(c, srv, &max_server)) < 0))
			return error;
		if (max_local > max_server)
			*sent += (size_t)(max_local - max_server);
	}
	return 0;
}

static int sync_run(sync_ctx *c)
{
	tidu_trust_id id;
	char **specs = NULL, *enroll_spec = NULL;
	size_t nspecs = 0, sent = 0, i;
	int was_enrolled, error;

	if ((error = tidu_trust_ensure_keys(c->s)) < 0 ||
	    (error = tidu_trust_identity(c->s, &id)) < 0)
		return error;
	c->keyring = id.keyring_version;
	was_enrolled = id.enrolled || c->city;

	/*
	 * 1. Fetch what this store may read first, so that what is sealed
	 * below uses the newest keyring (after a revocation, the new read
	 * key). A server that cannot be reached: seal and commit locally all
	 * the same; it goes out with the next sync.
	 */
	if ((error = probe(c)) < 0 || (error == 0 && (error = fetch(c)) < 0)) {
		char *why = tidu_strdup(tidu_error_message());
		int serror = seal_and_commit(c, was_enrolled);

		if (serror < 0 && serror != TIDU_ERROR)
			error = serror; /* the store's problem is worse */
		else
			tidu_error_set(error, "%s", why);
		free(why);
		return error;
	}
	if ((error = check_owns(c)) < 0)
		return error;
	error = 0;

	/* 2. The keyring: devices import it; the city gathers requests. */
	if (c->city) {
		if ((error = gather_requests(c)) < 0)
			return error;
	} else {
		if ((error = import_keyring(c)) < 0 ||
		    (error = tidu_trust_identity(c->s, &id)) < 0)
			return error;
	}
	c->rep->enrolled = c->city || id.enrolled;

	/* 3. Seal the pending changes and commit every sealed one on our refs. */
	if ((error = seal_and_commit(c, c->rep->enrolled)) < 0)
		return error;
	if (id.revoked)
		note(c->rep, "%s", _("this device is revoked in the keyring: its new change sets are refused by the others"));

	/* 4. Apply the others' change sets. */
	if (c->rep->enrolled && (error = apply_all(c)) < 0)
		return error;
	if (!c->rep->enrolled)
		note(c->rep, "%s", _("this device is not enrolled yet: its request waits for the city ('tidu admin pending' there), then sync again"));

	/* 5. City: publish the keyring and the consolidation (one pack). */
	if (c->city && ((error = publish_keyring(c)) < 0 || (error = commit_pool(c)) < 0 ||
			(error = flush_refs(c)) < 0))
		return error;

	/* 6. Push (fast-forwards only). */
	if ((error = push_owns(c, &specs, &nspecs, &sent)) < 0)
		goto done;
	if (!c->rep->enrolled && !c->city) {
		if ((error = prepare_enroll(c, &enroll_spec)) < 0)
			goto done;
		if (enroll_spec) {
			specs = tidu_reallocarray(specs, nspecs + 1, sizeof(*specs));
			specs[nspecs++] = enroll_spec;
			c->rep->enroll_published = 1;
		}
	}
	if (c->city && ((error = push_spec_if_new(c, CITY_KEYRING_REF, &specs, &nspecs)) < 0 ||
			(error = push_spec_if_new(c, CITY_POOL_REF, &specs, &nspecs)) < 0))
		goto done;
	if ((error = push(c, specs, nspecs)) < 0) {
		c->rep->enroll_published = 0;
		goto done;
	}
	c->rep->sent = sent;
	repack_or_note(c);
	error = 0;
done:
	for (i = 0; i < nspecs; i++)
		free(specs[i]);
	free(specs);
	return error < 0 ? error : 0;
}

static int sync_setup(sync_ctx *c, tidu_store *s, const char *remote,
		      const tidu_sync_opts *opts, tidu_sync_report *rep)
{
	static const tidu_sync_opts none = {0};
	int error;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->opts = opts ? opts : &none;
	c->rep = rep;
	c->lockfd = -1;
	snprintf(c->remote, sizeof(c->remote), "%s", remote ? remote : TIDU_REMOTE_DEFAULT);
	snprintf(rep->remote, sizeof(rep->remote), "%s", c->remote);
	snprintf(c->device, sizeof(c->device), "%s", tidu_store_device(s));
	snprintf(c->district, sizeof(c->district), "%s", tidu_store_district(s));
	c->city = !strcmp(tidu_store_role(s), "city");
	snprintf(c->own_ref, sizeof(c->own_ref), "refs/heads/%s/%s", c->district, c->device);
	snprintf(c->enroll_ref, sizeof(c->enroll_ref), "refs/heads/enroll/%s/%s",
		 c->district, c->device);
	c->home = home_of(s);
	if ((error = tidu_remote_url(s, c->remote, &c->url)) < 0)
		return error;
	return lock_home(c->home, c->opts->lock_wait_ms > 0 ? c->opts->lock_wait_ms
				  : TIDU_SYNC_LOCK_WAIT_MS, &c->lockfd);
}

static void sync_teardown(sync_ctx *c)
{
	if (c->conn)
		git_remote_disconnect(c->conn);
	git_remote_free(c->conn);
	heads_free(c);
	free(c->owns);
	git_odb_free(c->odb);
	git_repository_free(c->repo);
	if (c->lockfd >= 0)
		close(c->lockfd); /* releases the flock */
	free(c->home);
	free(c->url);
	tidu_buf_free(&c->net_msg);
	tidu_buf_free(&c->sideband);
	tidu_buf_free(&c->push_errors);
	tidu_buf_free(&c->tips);
}

/* libgit2 for one operation: no user or system git config, fsync on. */
static void git_begin(void)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, "");
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	/* Connect timeout, bounded waits (net.h); without it libgit2's own. */
	if (tidu_net_register_stream() < 0)
		git_error_clear();
}

/* Remembers when this sync completed, for `tidu status`. */
static int note_last_sync(sync_ctx *c)
{
	tidu_buf v = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&v, "%lld %s", (long long)tidu_clock_now_ms(), c->remote);
	error = tidu_store_meta_set(c->s, META_LAST_SYNC, v.ptr);
	tidu_buf_free(&v);
	return error;
}

int tidu_sync(tidu_store *s, const char *remote, const tidu_sync_opts *opts,
	      tidu_sync_report *rep)
{
	sync_ctx c;
	int error;

	memset(rep, 0, sizeof(*rep));
	git_begin();
	if ((error = sync_setup(&c, s, remote, opts, rep)) == 0 &&
	    (error = repo_open(&c)) == 0)
		error = sync_run(&c);
	if (error == 0)
		error = note_last_sync(&c);
	sync_teardown(&c);
	git_libgit2_shutdown();
	return error;
}

/* ---- the central repository ---------------------------------------------- */

static int init_local_central(const char *url)
{
	const char *path = !strncmp(url, "file://", 7) ? url + 7 : url;
	git_repository_init_options o;
	git_repository *r = NULL;
	git_reference *head_ref = NULL;
	git_config *cfg = NULL;
	struct stat sb;
	int error = 0;

	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	if (stat(path, &sb) == 0) {
		if (git_repository_open_bare(&r, path) < 0)
			return tidu_error_set(TIDU_EEXISTS,
				_("'%s' exists and is not a bare git repository"), path);
		git_repository_free(r);
		return 0;
	}
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	if (git_repository_init_ext(&r, path, &o) < 0)
		return git_fail(TIDU_ERROR, _("creating the central repository"));
	/*
	 * For git's own receive-pack (daemon, http-backend, ssh): refs only
	 * move forward. HEAD names the keyring, so that a clone has a branch.
	 */
	if (git_repository_config(&cfg, r) < 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 1) < 0 ||
	    git_reference_symbolic_create(&head_ref, r, "HEAD", CITY_KEYRING_REF, 1, NULL) < 0)
		error = git_fail(TIDU_ERROR, _("creating the central repository"));
	git_reference_free(head_ref);
	git_config_free(cfg);
	git_repository_free(r);
	return error;
}

int tidu_repo_init_central(tidu_store *city, const char *url, const char *name,
			   const tidu_sync_opts *opts, tidu_sync_report *rep)
{
	char *norm = NULL, *have = NULL;
	int error;

	memset(rep, 0, sizeof(*rep));
	if (!name)
		name = TIDU_REMOTE_DEFAULT;
	if (strcmp(tidu_store_role(city), "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("only the city store sets up the central repository: this store's role is '%s'"),
			tidu_store_role(city));
	if ((error = tidu_remote_normalize(url, &norm)) < 0)
		return error;
	error = tidu_remote_url(city, name, &have);
	if (error == 0 && strcmp(have, norm)) {
		error = tidu_error_set(TIDU_EEXISTS,
			_("remote '%s' is '%s' already: remove it first or give another --name"),
			name, have);
		goto done;
	}
	if (error == TIDU_ENOTFOUND) {
		tidu_error_clear();
		error = 0;
	}
	if (error < 0)
		goto done;
	if (tidu_remote_is_local(norm)) {
		git_begin();
		error = init_local_central(norm);
		git_libgit2_shutdown();
		if (error < 0)
			goto done;
	}
	if (!have && (error = tidu_remote_add(city, name, norm)) < 0)
		goto done;
	error = tidu_sync(city, name, opts, rep);
done:
	free(norm);
	free(have);
	return error;
}

/* ---- requests waiting on the city ---------------------------------------- */

int tidu_repo_requests(tidu_store *city, tidu_repo_request **out, size_t *n)
{
	sqlite3_stmt *st = NULL, *del;
	tidu_repo_request *v = NULL;
	int rc, error = 0;

	*out = NULL;
	*n = 0;
	if (strcmp(tidu_store_role(city), "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("enrollment requests are approved on the city store: this store's role is '%s'"),
			tidu_store_role(city));
	rc = sqlite3_prepare_v2(tidu_store_db(city),
		"SELECT device, ref, doc, received FROM enroll_pending ORDER BY received, device",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(city, rc, _("reading sync state"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_repo_request r;

		memset(&r, 0, sizeof(r));
		error = tidu_trust_admit(city, sqlite3_column_blob(st, 2),
					 (size_t)sqlite3_column_bytes(st, 2), &r.req, 0);
		if (error < 0 && error != TIDU_EINVAL && error != TIDU_ECORRUPT &&
		    error != TIDU_EEXISTS)
			break;
		if (error < 0 || r.req.enrolled) {
			/* Enrolled meanwhile, or no longer admissible: forget it. */
			tidu_error_clear();
			error = 0;
			del = tidu_store_stmt(city, "DELETE FROM enroll_pending WHERE device=?1");
			if (del)
				sqlite3_bind_text(del, 1, (const char *)sqlite3_column_text(st, 0),
						  -1, SQLITE_TRANSIENT);
			if ((error = exec1(city, del, _("writing sync state"))) < 0)
				break;
			continue;
		}
		snprintf(r.ref, sizeof(r.ref), "%s", sqlite3_column_text(st, 1));
		r.received = sqlite3_column_int64(st, 3);
		v = tidu_reallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = r;
	}
	if (!error && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(city, rc, _("reading sync state"));
	sqlite3_finalize(st);
	if (error < 0) {
		free(v);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

int tidu_repo_request_admit(tidu_store *city, const char *device,
			    tidu_trust_request *info_out)
{
	sqlite3_stmt *st;
	tidu_buf doc = TIDU_BUF_INIT;
	int rc, error;

	if ((error = tidu_store_begin(city)) < 0)
		return error;
	st = tidu_store_stmt(city, "SELECT doc FROM enroll_pending WHERE device=?1");
	if (!st) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		tidu_buf_put(&doc, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("no enrollment request of device '%s' waits: run 'tidu sync' to fetch requests"),
			device);
		goto done;
	}
	if (rc != SQLITE_ROW) {
		error = tidu_store_sqlerr(city, rc, _("reading sync state"));
		goto done;
	}
	if ((error = tidu_trust_admit(city, doc.ptr, doc.len, info_out, 1)) < 0)
		goto done;
	st = tidu_store_stmt(city, "DELETE FROM enroll_pending WHERE device=?1");
	if (st)
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	if ((error = exec1(city, st, _("writing sync state"))) < 0)
		goto done;
	error = tidu_store_commit(city);
done:
	if (error < 0)
		tidu_store_rollback(city);
	tidu_buf_free(&doc);
	return error;
}

/* ---- what sync saw --------------------------------------------------------- */

int tidu_repo_last_sync(tidu_store *s, int64_t *ms, char remote[TIDU_REMOTE_NAME_MAX + 1])
{
	char *v = NULL, *end = NULL;
	long long t;
	int error;

	*ms = 0;
	remote[0] = '\0';
	if ((error = tidu_store_meta_get(s, META_LAST_SYNC, &v)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, "%s", _("this store never synced"));
		return error;
	}
	errno = 0;
	t = strtoll(v, &end, 10);
	if (errno || end == v || *end != ' ') {
		free(v);
		return tidu_error_set(TIDU_ECORRUPT, "%s", _("the time of the last sync is unreadable"));
	}
	*ms = (int64_t)t;
	snprintf(remote, TIDU_REMOTE_NAME_MAX + 1, "%s", end + 1);
	free(v);
	return 0;
}

int tidu_repo_devices_seen(tidu_store *s, tidu_repo_device_seen **out, size_t *n)
{
	sqlite3_stmt *st;
	tidu_trust_device *devs = NULL;
	tidu_repo_device_seen *v = NULL;
	size_t nd = 0, i;
	int error, rc;

	*out = NULL;
	*n = 0;
	if ((error = tidu_trust_device_list(s, &devs, &nd)) < 0)
		return error;
	if (nd)
		v = tidu_calloc(nd, sizeof(*v));
	for (i = 0; i < nd; i++) {
		tidu_repo_device_seen *d = &v[*n];
		tidu_buf ref = TIDU_BUF_INIT;

		if (!strcmp(devs[i].device, tidu_store_device(s)) ||
		    !strcmp(devs[i].role, TIDU_TRUST_ROLE_DESK))
			continue; /* the city's desks are the city */
		d->dev = devs[i];
		st = tidu_store_stmt(s,
			"SELECT coalesce(max(seq), 0), coalesce(max(received), 0) FROM changeset "
			"WHERE device=?1 AND state<>'held'");
		if (!st) {
			error = TIDU_ERROR;
			break;
		}
		sqlite3_bind_text(st, 1, devs[i].device, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			d->last_seq = (uint64_t)sqlite3_column_int64(st, 0);
			d->last_seen = sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			error = tidu_store_sqlerr(s, rc, _("reading change sets"));
			break;
		}
		tidu_buf_printf(&ref, "refs/heads/%s/%s", devs[i].district, devs[i].device);
		st = tidu_store_stmt(s, "SELECT max(seen) FROM sync_ref WHERE ref=?1");
		if (!st) {
			tidu_buf_free(&ref);
			error = TIDU_ERROR;
			break;
		}
		sqlite3_bind_text(st, 1, ref.ptr, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			d->last_seen = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		tidu_buf_free(&ref);
		if (rc != SQLITE_ROW) {
			error = tidu_store_sqlerr(s, rc, _("reading sync state"));
			break;
		}
		(*n)++;
	}
	free(devs);
	if (error < 0) {
		free(v);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

/* ---- relay ----------------------------------------------------------------- */

/* Switches the context to remote `name` (its URL; heads from fetch()). */
static int use_remote(sync_ctx *c, const char *name)
{
	free(c->url);
	c->url = NULL;
	snprintf(c->remote, sizeof(c->remote), "%s", name);
	return tidu_remote_url(c->s, name, &c->url);
}

/* Is the blob `blob` at `path` a change set of `device` this store holds verified? */
static int file_verified(sync_ctx *c, const char *device, const char *path,
			 const git_oid *blob, uint64_t *seq_out)
{
	sqlite3_stmt *st;
	char want[48];
	const char *base = strrchr(path, '/');
	uint64_t seq = 0;
	git_oid mine;
	int rc, ok = 0;

	*seq_out = 0;
	if (!base || !parse_cs_name(base + 1, &seq))
		return 0;
	*seq_out = seq;
	tidu_repo_cs_path(seq, want, sizeof(want));
	if (strcmp(want, path))
		return 0;
	st = tidu_store_stmt(c->s,
		"SELECT file FROM changeset WHERE device=?1 AND seq=?2 AND state<>'held'");
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW &&
	    git_odb_hash(&mine, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
			 GIT_OBJECT_BLOB) == 0)
		ok = git_oid_equal(&mine, blob);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tidu_store_sqlerr(c->s, rc, _("reading change sets"));
	return ok;
}

typedef struct {
	sync_ctx *c;
	const char *device;
	int bad;
	uint64_t seq;
	char path[REF_MAX];
} verify_state;

static int verify_delta(const git_diff_delta *d, float progress, void *payload)
{
	verify_state *v = payload;
	int rc;

	(void)progress;
	if (d->status != GIT_DELTA_ADDED || d->new_file.mode != GIT_FILEMODE_BLOB) {
		v->bad = 1; /* device refs only ever gain files */
	} else {
		rc = file_verified(v->c, v->device, d->new_file.path, &d->new_file.id, &v->seq);
		if (rc < 0)
			return rc;
		v->bad = !rc;
	}
	if (v->bad) {
		snprintf(v->path, sizeof(v->path), "%s",
			 d->new_file.path ? d->new_file.path : d->old_file.path);
		return GIT_EUSER;
	}
	return 0;
}

/*
 * Every commit of `tip` not in `base` (NULL: all) must have at most one
 * parent, and each must only add files that this store holds verified.
 * 1 (refused, reported) or 0.
 */
static int verify_range(sync_ctx *c, const char *ref, const char *device,
			const git_oid *tip, const git_oid *base)
{
	git_revwalk *w = NULL;
	git_oid id;
	verify_state v;
	int error = 0;

	memset(&v, 0, sizeof(v));
	v.c = c;
	v.device = device;
	if (git_revwalk_new(&w, c->repo) < 0 || git_revwalk_push(w, tip) < 0 ||
	    (base && git_revwalk_hide(w, base) < 0)) {
		error = git_fail(TIDU_ERROR, _("reading the local repository"));
		goto done;
	}
	while (!error && git_revwalk_next(&id, w) == 0) {
		git_commit *cm = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		git_diff *diff = NULL;
		int rc;

		if (git_commit_lookup(&cm, c->repo, &id) < 0) {
			error = git_fail(TIDU_ECORRUPT, _("reading a commit"));
			break;
		}
		if (git_commit_parentcount(cm) > 1) {
			v.bad = 1;
			snprintf(v.path, sizeof(v.path), "%s", _("a merge commit"));
		} else if ((git_commit_parentcount(cm) == 1 &&
			    (git_commit_parent(&parent, cm, 0) < 0 ||
			     git_commit_tree(&pt, parent) < 0)) ||
			   git_commit_tree(&t, cm) < 0 ||
			   git_diff_tree_to_tree(&diff, c->repo, pt, t, NULL) < 0) {
			error = git_fail(TIDU_ECORRUPT, _("reading a commit"));
		} else {
			rc = git_diff_foreach(diff, verify_delta, NULL, NULL, NULL, &v);
			if (rc < 0 && rc != GIT_EUSER)
				error = rc == TIDU_ERROR || rc == TIDU_ECORRUPT ? rc :
					git_fail(TIDU_ERROR, _("reading the local repository"));
		}
		git_diff_free(diff);
		git_tree_free(t);
		git_tree_free(pt);
		git_commit_free(parent);
		git_commit_free(cm);
		if (v.bad)
			break;
	}
	if (!error && v.bad) {
		char hex[OID_HEX];

		oid_hex(&id, hex);
		refuse(c->rep, _("'%s' not relayed: commit %.12s holds '%s', which is not a change set this store verified"),
		       ref, hex, v.path);
		error = 1;
	}
done:
	git_revwalk_free(w);
	return error;
}

/* A light check of an enrollment ref: one file request.json naming its device. */
static int enroll_ref_ok(sync_ctx *c, const char *name, const git_oid *tip)
{
	char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
	git_blob *blob = NULL;
	git_tree *tree = NULL;
	git_commit *cm = NULL;
	tidu_json *j = NULL;
	git_oid boid;
	const char *jd, *jdist;
	int ok = 0;

	if (!split_device_ref(name + 18, district, sizeof(district), device, sizeof(device)))
		return 0;
	if (git_commit_lookup(&cm, c->repo, tip) < 0 || git_commit_parentcount(cm) != 0 ||
	    commit_tree_of(c, tip, &tree) < 0 || git_tree_entrycount(tree) != 1 ||
	    read_file(c, tip, REQUEST_FILE, &blob, &boid) != 0 ||
	    git_blob_rawsize(blob) > (git_object_size_t)TIDU_TRUST_DOC_MAX ||
	    tidu_json_parse(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), &j) < 0)
		goto done;
	jd = tidu_json_as_string(tidu_json_get(tidu_json_get(j, "payload"), "device"));
	jdist = tidu_json_as_string(tidu_json_get(tidu_json_get(j, "payload"), "district"));
	ok = jd && jdist && !strcmp(jd, device) && !strcmp(jdist, district);
done:
	tidu_error_clear();
	tidu_json_free(j);
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(cm);
	return ok;
}

/*
 * Every commit of the pool from `tip` down to `base` (NULL: all) has at most
 * one parent and a tree of one file, tips.txt. 1 if so.
 */
static int pool_ok(sync_ctx *c, const git_oid *tip, const git_oid *base)
{
	git_revwalk *w = NULL;
	git_oid id;
	int ok = 1;

	if (git_revwalk_new(&w, c->repo) < 0 || git_revwalk_push(w, tip) < 0 ||
	    (base && git_revwalk_hide(w, base) < 0))
		ok = 0;
	while (ok && git_revwalk_next(&id, w) == 0) {
		git_commit *cm = NULL;
		git_tree *t = NULL;
		const git_tree_entry *e;

		ok = git_commit_lookup(&cm, c->repo, &id) == 0 &&
		     git_commit_parentcount(cm) <= 1 && git_commit_tree(&t, cm) == 0 &&
		     git_tree_entrycount(t) == 1 && (e = git_tree_entry_byindex(t, 0)) &&
		     !strcmp(git_tree_entry_name(e), TIPS_FILE) &&
		     git_tree_entry_type(e) == GIT_OBJECT_BLOB;
		git_tree_free(t);
		git_commit_free(cm);
	}
	git_revwalk_free(w);
	git_error_clear();
	if (!ok)
		refuse(c->rep, _("'%s' not relayed: it is not the city's pool"), CITY_POOL_REF);
	return ok;
}

/* The head `name` in a saved list. */
static const git_oid *find_head(const head *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(h[i].name, name))
			return &h[i].oid;
	return NULL;
}

/* Adds "refs/remotes/<from>/<x>:refs/heads/<x>" for ref `name`. */
static void add_relay_spec(char ***specs, size_t *n, const char *from, const char *name)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_printf(&b, "refs/remotes/%s/%s:%s", from, name + 11, name);
	*specs = tidu_reallocarray(*specs, *n + 1, sizeof(**specs));
	(*specs)[(*n)++] = tidu_buf_detach(&b);
}

static int relay_run(sync_ctx *c, const char *from, const char *to)
{
	head *to_heads = NULL, *desks = NULL;
	size_t nto = 0, nfwd = 0, nback = 0, ndesks = 0, i;
	char **fwd = NULL, **back = NULL;
	tidu_trust_id id;
	int error, keyring_ok = 0;

	if ((error = tidu_trust_ensure_keys(c->s)) < 0 ||
	    (error = tidu_trust_identity(c->s, &id)) < 0)
		return error;
	c->keyring = id.keyring_version;

	/* 1. TO: its refs, and the city's keyring, imported (verified) first. */
	if ((error = use_remote(c, to)) < 0 || (error = fetch(c)) < 0)
		goto done;
	if (!c->city && server_head(c, CITY_KEYRING_REF)) {
		size_t before = c->rep->rejected;

		if ((error = import_keyring(c)) < 0)
			goto done;
		keyring_ok = c->rep->rejected == before;
	}
	if (c->city) {
		/* The city's own keyring, as TO holds it, goes to FROM. */
		const git_oid *k = server_head(c, CITY_KEYRING_REF);
		git_oid mine;

		keyring_ok = k && ref_get(c, CITY_KEYRING_REF, &mine) == 0 &&
			     git_oid_equal(k, &mine);
	}
	if ((error = tidu_trust_identity(c->s, &id)) < 0)
		goto done;
	c->rep->enrolled = c->city || id.enrolled;
	/* The city's desk refs for the district, verified here, go to FROM. */
	for (i = 0; i < c->nheads && !c->city && c->rep->enrolled; i++) {
		const char *name = c->heads[i].name;
		char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
		size_t rejected = c->rep->rejected, skipped = c->rep->skipped;
		uint64_t through = 0;

		if (!wanted(c, name) ||
		    device_ref(name, district, sizeof(district), device, sizeof(device)) != 2)
			continue;
		if ((error = desk_ref_ok(c, name, device)) == 0)
			error = apply_ref(c, name, district, device, &c->heads[i].oid, &through);
		if (error < 0)
			goto done;
		if (error == 0 && c->rep->rejected == rejected && c->rep->skipped == skipped) {
			desks = tidu_reallocarray(desks, ndesks + 1, sizeof(*desks));
			desks[ndesks].name = tidu_strdup(name);
			git_oid_cpy(&desks[ndesks].oid, &c->heads[i].oid);
			ndesks++;
		}
		error = 0;
	}
	to_heads = c->heads;
	nto = c->nheads;
	c->heads = NULL;
	c->nheads = 0;

	/* 2. FROM: verify and apply every device ref, then pick what goes on. */
	if ((error = use_remote(c, from)) < 0 || (error = fetch(c)) < 0)
		goto done;
	if (!c->rep->enrolled)
		note(c->rep, "%s", _("this store is not enrolled yet: it cannot verify change sets, so none are relayed ('tidu sync' with the central repository first)"));
	for (i = 0; i < c->nheads; i++) {
		const char *name = c->heads[i].name;
		const git_oid *tip = &c->heads[i].oid, *there = find_head(to_heads, nto, name);
		char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
		size_t rejected = c->rep->rejected, skipped = c->rep->skipped;
		uint64_t through = 0;

		if (!wanted(c, name) || (there && git_oid_equal(there, tip)))
			continue;
		if (!strncmp(name, "refs/heads/enroll/", 18)) {
			tidu_trust_device known;
			const char *slash = strrchr(name, '/');

			/* Enrolled already: the request has done its work. */
			if ((error = tidu_trust_device_lookup(c->s, slash + 1, &known)) == 0)
				continue;
			if (error != TIDU_ENOTFOUND)
				goto done;
			tidu_error_clear();
			error = 0;
			if (there)
				continue; /* TO has a request of that device: the city decides */
			if (enroll_ref_ok(c, name, tip)) {
				add_relay_spec(&fwd, &nfwd, from, name);
			} else {
				refuse(c->rep, _("'%s' not relayed: it is not an enrollment request of its device"),
				       name);
			}
			continue;
		}
		if (!split_device_ref(name + 11, district, sizeof(district), device,
				      sizeof(device)))
			continue; /* city refs go the other way */
		if (!c->rep->enrolled)
			continue;
		if (there && git_graph_descendant_of(c->repo, there, tip) == 1)
			continue; /* TO is ahead (the device also synced there) */
		if (there && git_graph_descendant_of(c->repo, tip, there) != 1) {
			refuse(c->rep, _("'%s' not relayed: it does not descend from the copy on '%s'"),
			       name, to);
			continue;
		}
		if (!is_own_ref(c, name)) {
			error = apply_ref(c, name, district, device, tip, &through);
			if (error < 0)
				goto done;
			if (error == 1 || c->rep->rejected != rejected ||
			    c->rep->skipped != skipped) {
				if (c->rep->rejected == rejected)
					refuse(c->rep, _("'%s' not relayed: this store cannot read all of it"),
					       name);
				error = 0;
				continue;
			}
		}
		if ((error = verify_range(c, name, device, tip, there)) < 0)
			goto done;
		if (error == 0)
			add_relay_spec(&fwd, &nfwd, from, name);
		error = 0;
	}
	/* Device refs read from FROM before that it no longer has: reported. */
	if (c->rep->enrolled && (error = check_gone(c)) < 0)
		goto done;

	/* 3. The verified keyring goes back to FROM. */
	if (keyring_ok) {
		const git_oid *k = find_head(to_heads, nto, CITY_KEYRING_REF);
		const git_oid *here = server_head(c, CITY_KEYRING_REF);

		if (k && (!here || !git_oid_equal(k, here))) {
			tidu_buf b = TIDU_BUF_INIT;

			tidu_buf_printf(&b, "refs/remotes/%s/city/keyring:%s", to, CITY_KEYRING_REF);
			back = tidu_reallocarray(back, nback + 1, sizeof(*back));
			back[nback++] = tidu_buf_detach(&b);
		}
	}

	/*
	 * ... and the city's pool, when it is what the city writes there (one
	 * tips.txt, a line of commits) and a fast-forward of FROM's copy.
	 */
	if (!c->city && c->rep->enrolled) {
		const git_oid *p = find_head(to_heads, nto, CITY_POOL_REF);
		const git_oid *here = server_head(c, CITY_POOL_REF);

		if (p && (!here || (!git_oid_equal(p, here) &&
				    git_graph_descendant_of(c->repo, p, here) == 1)) &&
		    pool_ok(c, p, here))
			add_relay_spec(&back, &nback, to, CITY_POOL_REF);
	}

	/* ... and so do the city's desk refs verified above. */
	for (i = 0; i < ndesks; i++) {
		const git_oid *here = server_head(c, desks[i].name);
		char district[TIDU_CS_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];

		if (here && (git_oid_equal(here, &desks[i].oid) ||
			     git_graph_descendant_of(c->repo, here, &desks[i].oid) == 1))
			continue;
		if (here && git_graph_descendant_of(c->repo, &desks[i].oid, here) != 1) {
			refuse(c->rep, _("'%s' not relayed: it does not descend from the copy on '%s'"),
			       desks[i].name, from);
			continue;
		}
		device_ref(desks[i].name, district, sizeof(district), device, sizeof(device));
		if ((error = verify_range(c, desks[i].name, device, &desks[i].oid, here)) < 0)
			goto done;
		if (error == 0)
			add_relay_spec(&back, &nback, to, desks[i].name);
		error = 0;
	}

	/* 4. Push: FROM's verified refs to TO, the keyring and desks to FROM. */
	if (nback && (error = push(c, back, nback)) < 0)
		goto done;
	c->rep->relayed_back = nback;
	if ((error = use_remote(c, to)) < 0)
		goto done;
	if (nfwd && (error = push(c, fwd, nfwd)) < 0)
		goto done;
	c->rep->relayed = nfwd;
	repack_or_note(c); /* a hub's repo.git gains packs as a laptop's does */
done:
	for (i = 0; i < nto; i++)
		free(to_heads[i].name);
	free(to_heads);
	for (i = 0; i < ndesks; i++)
		free(desks[i].name);
	free(desks);
	for (i = 0; i < nfwd; i++)
		free(fwd[i]);
	for (i = 0; i < nback; i++)
		free(back[i]);
	free(fwd);
	free(back);
	return error;
}

int tidu_relay(tidu_store *s, const char *from, const char *to,
	       const tidu_sync_opts *opts, tidu_sync_report *rep)
{
	sync_ctx c;
	char *to_url = NULL;
	int error;

	memset(rep, 0, sizeof(*rep));
	if (!strcmp(tidu_store_role(s), "officer"))
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("'tidu relay' runs on a district hub or the city store, not on an officer's"));
	if (!strcmp(from, to))
		return tidu_error_set(TIDU_EINVAL, _("relay from '%s' to itself"), from);
	git_begin();
	if ((error = sync_setup(&c, s, from, opts, rep)) == 0 &&
	    (error = tidu_remote_url(s, to, &to_url)) == 0) {
		c.relay = 1;
		if ((error = repo_open(&c)) == 0)
			error = relay_run(&c, from, to);
	}
	if (error == 0)
		error = note_last_sync(&c);
	snprintf(rep->remote, sizeof(rep->remote), "%s", from);
	free(to_url);
	sync_teardown(&c);
	git_libgit2_shutdown();
	return error;
}
