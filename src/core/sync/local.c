/*
 * The local repository repo.git: the lock on the home, opening it (and
 * cleaning what a killed sync left), refs and commits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

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

int sync_local_lock(sync_local *l, tidu_store *s, int wait_ms)
{
	l->s = s;
	snprintf(l->device, sizeof(l->device), "%s", tidu_store_device(s));
	if (!l->home)
		l->home = home_of(s);
	return lock_home(l->home, wait_ms, &l->lockfd);
}

void sync_local_close(sync_local *l)
{
	git_odb_free(l->odb);
	git_repository_free(l->repo);
	if (l->lockfd >= 0)
		close(l->lockfd); /* releases the flock */
	free(l->home);
	l->odb = NULL;
	l->repo = NULL;
	l->lockfd = -1;
	l->home = NULL;
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
			else if (S_ISREG(sb.st_mode) && sync_ends_with(de->d_name, ".lock"))
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
			if (sync_ends_with(n, ".pack"))
				keep = sibling_exists(p.ptr, n, ".idx");
			else if (sync_ends_with(n, ".idx"))
				keep = sibling_exists(p.ptr, n, ".pack");
			else
				keep = sync_ends_with(n, ".keep") ||
				       sync_ends_with(n, ".rev") ||
				       sync_ends_with(n, ".promisor") ||
				       sync_ends_with(n, ".bitmap");
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

int sync_local_open(sync_local *l)
{
	tidu_buf path = TIDU_BUF_INIT;
	struct stat sb;
	int error = 0;

	tidu_buf_printf(&path, "%s/%s", l->home, TIDU_REPO_DIR);
	if (stat(path.ptr, &sb) < 0) {
		git_repository_init_options o;

		git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		o.mode = GIT_REPOSITORY_INIT_SHARED_UMASK;
		if (git_repository_init_ext(&l->repo, path.ptr, &o) < 0) {
			error = sync_git_fail(TIDU_ERROR, _("creating the local repository"));
			goto done;
		}
	} else {
		clean_stale(path.ptr);
		if (git_repository_open_bare(&l->repo, path.ptr) < 0) {
			error = sync_git_fail(TIDU_ERROR, _("opening the local repository"));
			goto done;
		}
	}
	if (git_repository_odb(&l->odb, l->repo) < 0) {
		error = sync_git_fail(TIDU_ERROR, _("opening the local repository"));
		goto done;
	}
	l->stage = sync_stage_new();
	if (git_odb_add_backend(l->odb, sync_stage_backend(l->stage), 1000) < 0) {
		git_odb_backend *b = sync_stage_backend(l->stage);

		b->free(b);
		l->stage = NULL;
		error = sync_git_fail(TIDU_ERROR, _("opening the local repository"));
	}
done:
	tidu_buf_free(&path);
	return error;
}

/* The commit a ref names; GIT_ENOTFOUND (as 1) when the ref does not exist. */
int sync_ref_get(sync_local *l, const char *name, git_oid *out)
{
	int rc = git_reference_name_to_id(out, l->repo, name);

	if (rc == GIT_ENOTFOUND)
		return 1;
	if (rc < 0)
		return sync_git_fail(TIDU_ERROR, _("reading the local repository"));
	return 0;
}

int sync_ref_set(sync_local *l, const char *name, const git_oid *oid)
{
	git_reference *ref = NULL;

	if (git_reference_create(&ref, l->repo, name, oid, 1, NULL) < 0)
		return sync_git_fail(TIDU_ERROR, _("updating the local repository"));
	git_reference_free(ref);
	return 0;
}

static int make_signature(sync_local *l, git_signature **out)
{
	tidu_buf email = TIDU_BUF_INIT;
	int rc;

	/* Device ids only: no officer, no firm in any commit. */
	tidu_buf_printf(&email, "%s@tidu", l->device);
	rc = git_signature_new(out, "tidu", email.ptr, (git_time_t)time(NULL), 0);
	tidu_buf_free(&email);
	return rc < 0 ? sync_git_fail(TIDU_ERROR, _("making a commit")) : 0;
}

/*
 * Commits the tree `tree` on top of `parent` (may be NULL) with `msg`; the
 * new commit is staged, not yet on any ref.
 */
int sync_commit_tree(sync_local *l, const git_oid *tree_oid, const git_oid *parent,
		       const char *msg, git_oid *out)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *p = NULL;
	const git_commit *parents[1];
	int error = 0;

	if ((error = make_signature(l, &sig)) < 0)
		return error;
	if (git_tree_lookup(&tree, l->repo, tree_oid) < 0 ||
	    (parent && git_commit_lookup(&p, l->repo, parent) < 0)) {
		error = sync_git_fail(TIDU_ERROR, _("making a commit"));
		goto done;
	}
	parents[0] = p;
	if (git_commit_create(out, l->repo, NULL, sig, sig, NULL, msg, tree,
			      p ? 1 : 0, parents) < 0)
		error = sync_git_fail(TIDU_ERROR, _("making a commit"));
done:
	git_commit_free(p);
	git_tree_free(tree);
	git_signature_free(sig);
	return error;
}

/* The tree of commit `oid`. */
int sync_commit_tree_of(sync_local *l, const git_oid *oid, git_tree **out)
{
	git_commit *cm = NULL;
	int rc;

	*out = NULL;
	if (git_commit_lookup(&cm, l->repo, oid) < 0)
		return sync_git_fail(TIDU_ECORRUPT, _("reading a commit"));
	rc = git_commit_tree(out, cm);
	git_commit_free(cm);
	return rc < 0 ? sync_git_fail(TIDU_ECORRUPT, _("reading a commit")) : 0;
}

/* Moves `name` to `oid` at the next sync_flush_refs(), after the pack is written. */
static void defer_ref(sync_local *l, const char *name, const git_oid *oid)
{
	snprintf(l->pending[l->npending].name, sizeof(l->pending[0].name), "%s", name);
	git_oid_cpy(&l->pending[l->npending].oid, oid);
	l->npending++;
}

/* One pack for everything staged, then the deferred refs. */
int sync_flush_refs(sync_local *l)
{
	size_t i;
	int error;

	if ((error = sync_persist(l)) < 0)
		return error;
	for (i = 0; i < l->npending && !error; i++)
		error = sync_ref_set(l, l->pending[i].name, &l->pending[i].oid);
	l->npending = 0;
	return error;
}

/* The blob at `path` of commit `tip`; 1 if there is none. */
int sync_read_file(sync_local *l, const git_oid *tip, const char *path, git_blob **out,
		     git_oid *blob_oid)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int rc, error = 0;

	*out = NULL;
	if ((error = sync_commit_tree_of(l, tip, &tree)) < 0)
		return error;
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND) {
		error = 1;
	} else if (rc < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		error = tidu_error_set(TIDU_ECORRUPT, _("'%s' is not a file"), path);
	} else {
		git_oid_cpy(blob_oid, git_tree_entry_id(e));
		if (git_blob_lookup(out, l->repo, blob_oid) < 0)
			error = sync_git_fail(TIDU_ECORRUPT, _("reading a file of the repository"));
	}
	git_tree_entry_free(e);
	git_tree_free(tree);
	return error;
}

/* A tree with one file: `name` holding `data`. Staged. */
int sync_one_file_tree(sync_local *l, const char *name, const void *data, size_t len,
			 git_oid *tree_out, git_oid *blob_out)
{
	git_treebuilder *tb = NULL;
	int error = 0;

	if (git_blob_create_from_buffer(blob_out, l->repo, data, len) < 0 ||
	    git_treebuilder_new(&tb, l->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, name, blob_out, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(tree_out, tb) < 0)
		error = sync_git_fail(TIDU_ERROR, _("making a commit"));
	git_treebuilder_free(tb);
	return error;
}

/*
 * Commits a one-file tree for ref `ref` unless the file there is the same
 * (the ref moves at sync_flush_refs()). The parent is the local ref, else the
 * server's.
 */
int sync_commit_file(sync_ctx *c, const char *ref, const char *name,
		       const void *data, size_t len, const char *msg, int *made)
{
	git_oid parent, tree, blob, tip;
	git_blob *old = NULL;
	git_oid old_blob;
	const git_oid *srv;
	int have, from_server = 0, error;

	*made = 0;
	if ((have = sync_ref_get(&c->local, ref, &parent)) < 0)
		return have;
	if (have == 1 && (srv = sync_server_head(&c->net, ref))) {
		git_oid_cpy(&parent, srv);
		have = 0;
		from_server = 1;
	}
	if ((error = sync_one_file_tree(&c->local, name, data, len, &tree, &blob)) < 0)
		return error;
	if (have == 0) {
		error = sync_read_file(&c->local, &parent, name, &old, &old_blob);
		git_blob_free(old);
		if (error < 0)
			return error;
		if (error == 0 && git_oid_equal(&old_blob, &blob)) {
			/* Same contents: only make sure the local ref is there. */
			return from_server ? sync_ref_set(&c->local, ref, &parent) : 0;
		}
	}
	if ((error = sync_commit_tree(&c->local, &tree, have == 0 ? &parent : NULL, msg,
				     &tip)) < 0)
		return error;
	defer_ref(&c->local, ref, &tip);
	*made = 1;
	return 0;
}
