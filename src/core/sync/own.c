/*
 * The refs this store writes: its own device ref, and on the city its
 * desks'; sealing and committing their change sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/* The tree updates of one commit_own(), one per change set read. */
typedef struct {
	sync_local *l;
	git_tree_update *up;
	char (*paths)[48];
	size_t n, cap;
	uint64_t max, first, last;
} own_files;

static int own_file_add(void *ctx, uint64_t seq, const unsigned char *file, size_t len)
{
	own_files *f = ctx;
	git_oid blob;

	if (seq != (f->n ? f->last : f->max) + 1)
		return tidu_error_set(TIDU_ECORRUPT,
			_("change set %llu of this device is missing from the store"),
			(unsigned long long)((f->n ? f->last : f->max) + 1));
	if (git_blob_create_from_buffer(&blob, f->l->repo, file, len) < 0)
		return sync_git_fail(TIDU_ERROR, _("storing a change set in the repository"));
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->up = tidu_reallocarray(f->up, f->cap, sizeof(*f->up));
		f->paths = tidu_reallocarray(f->paths, f->cap, sizeof(*f->paths));
	}
	tidu_sync_changeset_path(seq, f->paths[f->n], sizeof(f->paths[f->n]));
	memset(&f->up[f->n], 0, sizeof(f->up[f->n]));
	f->up[f->n].action = GIT_TREE_UPDATE_UPSERT;
	git_oid_cpy(&f->up[f->n].id, &blob);
	f->up[f->n].filemode = GIT_FILEMODE_BLOB;
	f->n++;
	if (!f->first)
		f->first = seq;
	f->last = seq;
	return 0;
}

/*
 * Commits every own sealed change set above those in `base`'s tree, on top
 * of `base` (NULL: a first commit). *out is the new tip, or `base` if
 * there was nothing to add; *made says whether a commit was made.
 */
static int commit_own(sync_local *l, const char *device, const git_oid *base,
		      git_oid *out, int *made)
{
	git_tree *base_tree = NULL;
	own_files f;
	git_oid tree_oid;
	size_t i;
	int error = 0;
	tidu_buf msg = TIDU_BUF_INIT;

	memset(&f, 0, sizeof(f));
	f.l = l;
	*made = 0;
	if (base)
		git_oid_cpy(out, base);
	if (base && ((error = sync_commit_tree_of(l, base, &base_tree)) < 0 ||
		     (error = sync_tree_max_seq(l, base_tree, &f.max)) < 0))
		goto done;
	if ((error = tidu_changes_each_file(l->s, device, f.max, own_file_add, &f)) < 0 ||
	    !f.n)
		goto done;
	for (i = 0; i < f.n; i++)
		f.up[i].path = f.paths[i]; /* paths may have moved while growing */
	if (git_tree_create_updated(&tree_oid, l->repo, base_tree, f.n, f.up) < 0) {
		error = sync_git_fail(TIDU_ERROR, _("making a commit"));
		goto done;
	}
	if (f.first == f.last)
		tidu_buf_printf(&msg, "change set %llu\n", (unsigned long long)f.first);
	else
		tidu_buf_printf(&msg, "change sets %llu-%llu\n", (unsigned long long)f.first,
				(unsigned long long)f.last);
	if ((error = sync_commit_tree(l, &tree_oid, base, msg.ptr, out)) < 0)
		goto done;
	*made = 1;
done:
	git_tree_free(base_tree);
	free(f.up);
	free(f.paths);
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
int sync_is_own_ref(sync_ctx *c, const char *name)
{
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];

	if (!strcmp(name, c->own_ref))
		return 1;
	return c->city && sync_device_ref(name, district, sizeof(district), device,
				     sizeof(device)) == 2 &&
	       tidu_changes_is_own(c->s, device, district);
}

/*
 * Lists the refs this store writes: its own, and on the city every desk
 * that sealed a change set or whose ref the server has.
 */
static int collect_owns(sync_ctx *c)
{
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
	tidu_buf ref = TIDU_BUF_INIT;
	tidu_trust_device *devs = NULL;
	size_t ndevs = 0, i;
	int error = 0;

	own_add(c, c->own_ref, c->device);
	if (!c->city)
		return 0;
	/* Each desk that sealed something (one lookup each: no scan of the files). */
	if ((error = tidu_trust_device_list(c->s, &devs, &ndevs)) < 0)
		return error;
	for (i = 0; i < ndevs; i++) {
		if (strcmp(devs[i].role, TIDU_TRUST_ROLE_DESK))
			continue;
		if ((error = tidu_changes_has_sealed(c->s, devs[i].device)) < 0)
			break;
		if (!error)
			continue;
		error = 0;
		tidu_buf_clear(&ref);
		tidu_buf_printf(&ref, "refs/heads/city/%s/%s", devs[i].district, devs[i].device);
		own_add(c, ref.ptr, devs[i].device);
	}
	free(devs);
	tidu_buf_free(&ref);
	if (error < 0)
		return error;
	for (i = 0; i < c->net.nheads; i++)
		if (sync_is_own_ref(c, c->net.heads[i].name) &&
		    sync_device_ref(c->net.heads[i].name, district, sizeof(district), device,
				    sizeof(device)))
			own_add(c, c->net.heads[i].name, device);
	return 0;
}

/*
 * Seals pending changes (if the device may) and commits every own sealed
 * change set not yet on its ref: the device's, and on the city its desks'.
 */
int sync_seal_and_commit(sync_ctx *c, int enrolled)
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
		int have = sync_ref_get(&c->local, c->owns[i].ref, &base);

		if (have < 0)
			error = have;
		else
			error = commit_own(&c->local, c->owns[i].device, have == 0 ? &base : NULL,
					   &tips[i], &made[i]);
		nmade += made[i];
	}
	if (!error && nmade)
		error = sync_persist(&c->local);
	for (i = 0; i < c->nowns && !error; i++)
		if (made[i])
			error = sync_ref_set(&c->local, c->owns[i].ref, &tips[i]);
	free(tips);
	free(made);
	return error;
}

/*
 * The server's copy of own ref `o` is not behind the local one (a restored
 * or recreated repo.git): checks that every file on it is what this store
 * sealed, then commits what is missing on top of it.
 */
static int adopt_server_own(sync_ctx *c, const sync_own *o, const git_oid *server)
{
	git_tree *tree = NULL;
	tidu_buf file = TIDU_BUF_INIT;
	git_oid tip;
	uint64_t max = 0, seq;
	int rc, made, error;

	if ((error = sync_commit_tree_of(&c->local, server, &tree)) < 0 ||
	    (error = sync_tree_max_seq(&c->local, tree, &max)) < 0)
		goto done;
	for (seq = 1; seq <= max; seq++) {
		char path[48];
		git_tree_entry *e = NULL;
		git_oid mine;
		int same = 0;

		tidu_sync_changeset_path(seq, path, sizeof(path));
		if ((rc = tidu_changes_file(c->s, o->device, seq, 1, &file)) < 0) {
			error = rc;
			goto done;
		}
		if (rc == 0 &&
		    git_odb_hash(&mine, file.ptr, file.len, GIT_OBJECT_BLOB) == 0 &&
		    git_tree_entry_bypath(&e, tree, path) == 0)
			same = git_oid_equal(&mine, git_tree_entry_id(e));
		git_tree_entry_free(e);
		if (!same) {
			error = tidu_error_set(TIDU_ECORRUPT,
				_("the repository holds a change set %llu of this device that this store did not seal: was the store copied to another laptop?"),
				(unsigned long long)seq);
			goto done;
		}
	}
	if ((error = commit_own(&c->local, o->device, server, &tip, &made)) < 0 ||
	    (error = sync_persist(&c->local)) < 0 ||
	    (error = sync_ref_set(&c->local, o->ref, &tip)) < 0)
		goto done;
done:
	tidu_buf_free(&file);
	git_tree_free(tree);
	return error;
}

/*
 * The server's copy of each own ref must be an ancestor of ours; if not
 * (a lost or restored repo.git), rebuild on it, or block the ref.
 */
int sync_check_owns(sync_ctx *c)
{
	size_t i;
	int error;

	if ((error = collect_owns(c)) < 0)
		return error;
	for (i = 0; i < c->nowns; i++) {
		const git_oid *srv = sync_server_head(&c->net, c->owns[i].ref);
		git_oid local;
		int have;

		if (!srv)
			continue;
		if ((have = sync_ref_get(&c->local, c->owns[i].ref, &local)) < 0)
			return have;
		if (have == 0 && (git_oid_equal(srv, &local) ||
				  git_graph_descendant_of(c->local.repo, &local, srv) == 1))
			continue;
		error = adopt_server_own(c, &c->owns[i], srv);
		if (error == TIDU_ECORRUPT) {
			sync_refuse(c->rep, "%s", tidu_error_message());
			tidu_error_clear();
			c->owns[i].blocked = 1;
		} else if (error < 0) {
			return error;
		}
	}
	return 0;
}
