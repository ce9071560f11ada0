/*
 * One sync (tidu_sync), step by step, and the central repository
 * (tidu_sync_init_central).
 *
 * Everything sync writes is derived from the store (table `changeset`, the
 * keyring, the pending requests) and from the refs themselves, so a sync
 * killed at any moment is simply run again: objects are staged in memory
 * and written as one pack before any ref moves; refs move atomically; the
 * server only ever gets fast-forwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "tidu/net.h"
#include "tidu/trust.h"
#include "core/sync/sync_int.h"

/*
 * 1. Fetch what this store may read first, so that what is sealed below
 * uses the newest keyring (after a revocation, the new read key). A server
 * that cannot be reached: seal and commit locally all the same; it goes
 * out with the next sync.
 */
static int step_fetch(sync_ctx *c, int was_enrolled)
{
	int error;

	if ((error = sync_probe(c)) < 0 || (error == 0 && (error = sync_fetch(c)) < 0)) {
		char *why = tidu_strdup(tidu_error_message());
		int serror = sync_seal_and_commit(c, was_enrolled);

		if (serror < 0 && serror != TIDU_ERROR)
			error = serror; /* the store's problem is worse */
		else
			tidu_error_set(error, "%s", why);
		free(why);
		return error;
	}
	return sync_check_owns(c);
}

/* 6. Push (fast-forwards only): own refs, the request or the city's refs. */
static int step_push(sync_ctx *c)
{
	char **specs = NULL, *enroll_spec = NULL;
	size_t nspecs = 0, sent = 0, i;
	int error;

	if ((error = sync_push_owns(c, &specs, &nspecs, &sent)) < 0)
		goto done;
	if (!c->rep->enrolled && !c->city) {
		if ((error = sync_prepare_enroll(c, &enroll_spec)) < 0)
			goto done;
		if (enroll_spec) {
			specs = tidu_reallocarray(specs, nspecs + 1, sizeof(*specs));
			specs[nspecs++] = enroll_spec;
			c->rep->enroll_published = 1;
		}
	}
	if (c->city &&
	    ((error = sync_push_spec_if_new(c, CITY_KEYRING_REF, &specs, &nspecs)) < 0 ||
	     (error = sync_push_spec_if_new(c, CITY_POOL_REF, &specs, &nspecs)) < 0))
		goto done;
	for (i = 0; c->city && sync_citydoc_ref(i); i++)
		if ((error = sync_push_spec_if_new(c, sync_citydoc_ref(i), &specs, &nspecs)) < 0)
			goto done;
	if ((error = sync_push(c, specs, nspecs)) < 0) {
		c->rep->enroll_published = 0;
		goto done;
	}
	c->rep->sent = sent;
	error = 0;
done:
	sync_specs_free(specs, nspecs);
	return error < 0 ? error : 0;
}

static int sync_run(sync_ctx *c)
{
	tidu_trust_id id;
	int was_enrolled, error;

	if ((error = tidu_trust_ensure_keys(c->s)) < 0 ||
	    (error = tidu_trust_identity(c->s, &id)) < 0)
		return error;
	c->keyring = id.keyring_version;
	was_enrolled = id.enrolled || c->city;

	/* 1. Fetch (or, offline, only seal and commit). */
	if ((error = step_fetch(c, was_enrolled)) < 0)
		return error;

	/* 2. The keyring, rule packs and forms: devices import them; the city gathers requests. */
	if (c->city) {
		if ((error = sync_gather_requests(c)) < 0)
			return error;
	} else {
		if ((error = sync_import_keyring(c)) < 0 ||
		    (error = sync_import_citydocs(c)) < 0 ||
		    (error = tidu_trust_identity(c->s, &id)) < 0)
			return error;
	}
	c->rep->enrolled = c->city || id.enrolled;

	/* 3. Seal the pending changes and commit every sealed one on our refs. */
	if ((error = sync_seal_and_commit(c, c->rep->enrolled)) < 0)
		return error;
	if (id.revoked)
		sync_note(c->rep, "%s", _("this device is revoked in the keyring: its new change sets are refused by the others"));

	/* 4. Apply the others' change sets. */
	if (c->rep->enrolled && (error = sync_apply_all(c)) < 0)
		return error;
	if (!c->rep->enrolled)
		sync_note(c->rep, "%s", _("this device is not enrolled yet: its request waits for the city ('tidu admin pending' there), then sync again"));

	/* 5. City: publish the keyring, its rule packs and forms, and the consolidation (one pack). */
	if (c->city && ((error = sync_publish_keyring(c)) < 0 ||
			(error = sync_publish_citydocs(c)) < 0 ||
			(error = sync_commit_pool(c)) < 0 ||
			(error = sync_flush_refs(&c->local)) < 0))
		return error;

	/* 6. Push, then repack if due. */
	if ((error = step_push(c)) < 0)
		return error;
	sync_repack_or_note(c);
	return 0;
}

int sync_setup(sync_ctx *c, tidu_store *s, const char *remote, const tidu_sync_opts *opts,
	       tidu_sync_report *rep)
{
	static const tidu_sync_opts none = {0};
	int error;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->net.opts = opts ? opts : &none;
	c->rep = rep;
	c->local.lockfd = -1;
	snprintf(c->net.remote, sizeof(c->net.remote), "%s",
		 remote ? remote : TIDU_REMOTE_DEFAULT);
	snprintf(rep->remote, sizeof(rep->remote), "%s", c->net.remote);
	snprintf(c->device, sizeof(c->device), "%s", tidu_store_device(s));
	snprintf(c->district, sizeof(c->district), "%s", tidu_store_district(s));
	c->city = !strcmp(tidu_store_role(s), "city");
	snprintf(c->own_ref, sizeof(c->own_ref), "refs/heads/%s/%s", c->district, c->device);
	snprintf(c->enroll_ref, sizeof(c->enroll_ref), "refs/heads/enroll/%s/%s",
		 c->district, c->device);
	if ((error = tidu_remote_url(s, c->net.remote, &c->net.url)) < 0)
		return error;
	return sync_local_lock(&c->local, s, c->net.opts->lock_wait_ms > 0 ?
			       c->net.opts->lock_wait_ms : TIDU_SYNC_LOCK_WAIT_MS);
}

void sync_teardown(sync_ctx *c)
{
	sync_conn_close(&c->net);
	free(c->owns);
	sync_local_close(&c->local);
	tidu_buf_free(&c->tips);
}

/* libgit2 for one operation: no user or system git config, fsync on. */
void sync_git_begin(void)
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

int tidu_sync(tidu_store *s, const char *remote, const tidu_sync_opts *opts,
	      tidu_sync_report *rep)
{
	sync_ctx c;
	int error;

	memset(rep, 0, sizeof(*rep));
	sync_git_begin();
	if ((error = sync_setup(&c, s, remote, opts, rep)) == 0 &&
	    (error = sync_local_open(&c.local)) == 0)
		error = sync_run(&c);
	if (error == 0)
		error = sync_state_note_last_sync(s, c.net.remote);
	sync_teardown(&c);
	git_libgit2_shutdown();
	return error;
}

/* 1 if the system can take `path` as a name: every part and the whole short enough. */
static int path_usable(const char *path)
{
	size_t part;

	if (strlen(path) >= PATH_MAX)
		return 0;
	while (*path) {
		part = strcspn(path, "/");
		if (part > NAME_MAX)
			return 0;
		path += part + (path[part] == '/');
	}
	return 1;
}

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
	if (errno != ENOENT || !path_usable(path))
		return tidu_error_set(TIDU_EINVAL, _("cannot create the central repository '%s': %s"),
				      path, strerror(errno != ENOENT ? errno : ENAMETOOLONG));
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	if (git_repository_init_ext(&r, path, &o) < 0)
		return sync_git_fail(TIDU_ERROR, _("creating the central repository"));
	/*
	 * For git's own receive-pack (daemon, http-backend, ssh): refs only
	 * move forward. HEAD names the keyring, so that a clone has a branch.
	 */
	if (git_repository_config(&cfg, r) < 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 1) < 0 ||
	    git_reference_symbolic_create(&head_ref, r, "HEAD", CITY_KEYRING_REF, 1, NULL) < 0)
		error = sync_git_fail(TIDU_ERROR, _("creating the central repository"));
	git_reference_free(head_ref);
	git_config_free(cfg);
	git_repository_free(r);
	return error;
}

int tidu_sync_init_central(tidu_store *city, const char *url, const char *name,
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
		sync_git_begin();
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
