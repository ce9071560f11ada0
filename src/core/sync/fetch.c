/*
 * Fetching: what this store reads, the probe that spares a second
 * connection, the remote-tracking refs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/* Does a ref the server advertised belong to what this store fetches? */
int sync_wanted(const sync_ctx *c, const char *name)
{
	const char *full = name;
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
		       sync_citydoc_is_ref(full) ||
		       (!strncmp(name, c->district, dl) && name[dl] == '/');
	}
	return !strncmp(name, c->district, dl) && name[dl] == '/';
}

/* Sets the remote-tracking refs to what the server advertised; drops the rest. */
/* Refspecs of a fetch: four of a district's own, one per city document, the relay's. */
#define FETCH_SPECS 12

static int track(sync_ctx *c)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	tidu_buf glob = TIDU_BUF_INIT, name = TIDU_BUF_INIT;
	char **gone = NULL;
	size_t i, ngone = 0;
	int error = 0;

	tidu_buf_printf(&glob, "refs/remotes/%s/*", c->net.remote);
	if (git_reference_iterator_glob_new(&it, c->local.repo, glob.ptr) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			const char *rn = git_reference_name(ref);

			tidu_buf_clear(&name);
			tidu_buf_printf(&name, "refs/heads/%s", rn + glob.len - 1);
			if (!sync_server_head(&c->net, name.ptr) ||
			    !sync_wanted(c, name.ptr)) {
				gone = tidu_reallocarray(gone, ngone + 1, sizeof(*gone));
				gone[ngone++] = tidu_strdup(rn);
			}
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	}
	for (i = 0; i < ngone; i++) {
		git_reference_remove(c->local.repo, gone[i]);
		free(gone[i]);
	}
	free(gone);
	for (i = 0; i < c->net.nheads && !error; i++) {
		git_oid have;

		if (!sync_wanted(c, c->net.heads[i].name))
			continue;
		tidu_buf_clear(&name);
		tidu_buf_printf(&name, "refs/remotes/%s/%s", c->net.remote,
				c->net.heads[i].name + 11);
		/* Unchanged refs are not rewritten (each write is fsynced). */
		if (sync_ref_get(&c->local, name.ptr, &have) != 0 ||
		    !git_oid_equal(&have, &c->net.heads[i].oid))
			error = sync_ref_set(&c->local, name.ptr, &c->net.heads[i].oid);
	}
	tidu_buf_free(&glob);
	tidu_buf_free(&name);
	return error;
}

/* 1 if the tracking refs are exactly the wanted refs the server lists. */
static int tracking_current(sync_ctx *c)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	tidu_buf glob = TIDU_BUF_INIT, name = TIDU_BUF_INIT;
	size_t wanted_n = 0, tracked = 0, i;
	int same = 1;

	for (i = 0; i < c->net.nheads && same; i++) {
		git_oid have;

		if (!sync_wanted(c, c->net.heads[i].name))
			continue;
		wanted_n++;
		tidu_buf_clear(&name);
		tidu_buf_printf(&name, "refs/remotes/%s/%s", c->net.remote,
				c->net.heads[i].name + 11);
		same = sync_ref_get(&c->local, name.ptr, &have) == 0 &&
		       git_oid_equal(&have, &c->net.heads[i].oid);
	}
	tidu_buf_printf(&glob, "refs/remotes/%s/*", c->net.remote);
	if (same && git_reference_iterator_glob_new(&it, c->local.repo, glob.ptr) == 0) {
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
 * Connects for the push and reads the server's refs from its
 * advertisement. When every ref this store reads is at the tip it tracks
 * already, nothing is to be downloaded: the connection is kept for the
 * push, one connection per sync instead of two (1). Otherwise it is closed
 * and sync_fetch() follows (0). A failure to connect is the sync's error.
 */
int sync_probe(sync_ctx *c)
{
	git_remote_callbacks cb;
	git_proxy_options proxy;
	git_remote *remote = NULL;
	int error;

	if ((error = sync_connect_list(&c->net, c->local.repo, GIT_DIRECTION_PUSH, &cb, &proxy,
				       &remote)) == 0 &&
	    tracking_current(c)) {
		c->net.kept = remote;
		remote = NULL;
		error = 1;
	}
	c->net.pushing = 0;
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return error;
}

/* Connects, lists the server's refs and downloads the objects of the wanted ones. */
int sync_fetch(sync_ctx *c)
{
	git_remote_callbacks cb;
	git_proxy_options proxy;
	git_fetch_options fo;
	git_remote *remote = NULL;
	tidu_buf spec[FETCH_SPECS];
	char *specs[FETCH_SPECS];
	const char *doc;
	git_strarray sa;
	size_t n = 0, i;
	int error = 0;

	memset(spec, 0, sizeof(spec)); /* TIDU_BUF_INIT each */
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if ((error = sync_connect_list(&c->net, c->local.repo, GIT_DIRECTION_FETCH, &cb, &proxy,
				       &remote)) < 0)
		goto done;
	/*
	 * The refspecs choose what is downloaded; the tracking refs are set by
	 * track() from the list above, not by libgit2's update_tips.
	 */
	if (c->city) {
		tidu_buf_printf(&spec[n++], "+refs/heads/*:refs/remotes/%s/*", c->net.remote);
	} else {
		tidu_buf_printf(&spec[n++], "+refs/heads/%s/*:refs/remotes/%s/%s/*", c->district,
				c->net.remote, c->district);
		/* What sync_wanted() lists: not the other districts' desk refs. */
		tidu_buf_printf(&spec[n++], "+%s:refs/remotes/%s/city/keyring", CITY_KEYRING_REF,
				c->net.remote);
		tidu_buf_printf(&spec[n++], "+%s:refs/remotes/%s/city/pool", CITY_POOL_REF,
				c->net.remote);
		tidu_buf_printf(&spec[n++], "+refs/heads/city/%s/*:refs/remotes/%s/city/%s/*",
				c->district, c->net.remote, c->district);
		for (i = 0; (doc = sync_citydoc_ref(i)) && n < FETCH_SPECS - 1; i++)
			tidu_buf_printf(&spec[n++], "+%s:refs/remotes/%s/%s", doc, c->net.remote,
					doc + 11);
		if (c->relay && n < FETCH_SPECS)
			tidu_buf_printf(&spec[n++], "+refs/heads/enroll/%s/*:refs/remotes/%s/enroll/%s/*",
					c->district, c->net.remote, c->district);
	}
	for (i = 0; i < n; i++)
		specs[i] = spec[i].ptr;
	sa.count = n;
	sa.strings = specs;
	fo.callbacks = cb;
	fo.proxy_opts = proxy;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	if (git_remote_download(remote, &sa, &fo) < 0) {
		error = sync_net_fail(&c->net, _("cannot fetch from the repository"));
		goto done;
	}
	git_remote_disconnect(remote);
	if ((error = track(c)) < 0)
		goto done;
done:
	git_remote_free(remote);
	for (i = 0; i < FETCH_SPECS; i++)
		tidu_buf_free(&spec[i]);
	return error;
}
