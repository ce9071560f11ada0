/*
 * Pushing: fast-forwards of the refs this store writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/*
 * After a push the server has the pushed tips: the tracking refs follow
 * (as git's do), so that the next sync_probe() sees nothing new.
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

		if (!colon || !sync_wanted(c, colon + 1))
			continue;
		tidu_buf_put(&src, specs[i], (size_t)(colon - specs[i]));
		if (sync_ref_get(&c->local, src.ptr, &oid) == 0) {
			tidu_buf_clear(&name);
			tidu_buf_printf(&name, "refs/remotes/%s/%s", c->net.remote,
					colon + 1 + 11);
			error = sync_ref_set(&c->local, name.ptr, &oid);
		}
		tidu_buf_free(&src);
	}
	tidu_buf_free(&name);
	return error;
}

/* Pushes `n` refspecs; a refusal of the server is an error naming ref and reason. */
int sync_push(sync_ctx *c, char **specs, size_t n)
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
	sync_set_callbacks(&c->net, &cb);
	po.callbacks = cb;
	po.proxy_opts.type = GIT_PROXY_AUTO;
	po.pb_parallelism = 1;
	c->net.auth_attempts = 0;
	c->net.pushing = 1;
	tidu_buf_clear(&c->net.net_msg);
	tidu_buf_clear(&c->net.sideband);
	tidu_buf_clear(&c->net.push_errors);
	sa.strings = specs;
	sa.count = n;
	c->net.push_keep = tidu_calloc(n, sizeof(*c->net.push_keep));
	for (c->net.npush_keep = 0; c->net.npush_keep < n; c->net.npush_keep++) {
		const char *colon = strchr(specs[c->net.npush_keep], ':');

		c->net.push_keep[c->net.npush_keep] =
			(char *)(colon ? colon + 1 : specs[c->net.npush_keep]);
	}
	if (c->net.kept) {
		/* The connection sync_probe() kept: the same session, no new handshake. */
		remote = c->net.kept;
		c->net.kept = NULL;
		rc = git_remote_upload(remote, &sa, &po);
		git_remote_disconnect(remote);
	} else if (sync_make_remote(&c->net, c->local.repo, &remote) < 0) {
		error = sync_net_fail(&c->net, _("cannot use the repository"));
		goto done;
	} else {
		rc = git_remote_push(remote, &sa, &po);
	}
	if (rc == GIT_ENONFASTFORWARD) {
		error = sync_net_fail(&c->net, _("cannot push to the repository (not a fast-forward)"));
		goto done;
	}
	if (rc < 0) {
		error = sync_net_fail(&c->net, _("cannot push to the repository"));
		goto done;
	}
	if (c->net.push_errors.len) {
		sync_server_text(&c->net.sideband, &text);
		error = tidu_error_set(TIDU_ERROR, _("the server '%s' refused %s%s%s"), c->net.url,
				       c->net.push_errors.ptr, text.len ? " — remote: " : "",
				       tidu_buf_cstr(&text));
		goto done;
	}
	error = track_pushed(c, specs, n);
done:
	c->net.pushing = 0;
	free(c->net.push_keep);
	c->net.push_keep = NULL;
	c->net.npush_keep = 0;
	git_remote_free(remote);
	tidu_buf_free(&text);
	return error;
}

/* Adds "src:dst" for `ref` when the local tip differs from the server's. */
int sync_push_spec_if_new(sync_ctx *c, const char *ref, char ***specs, size_t *n)
{
	const git_oid *srv = sync_server_head(&c->net, ref);
	git_oid mine;
	int have = sync_ref_get(&c->local, ref, &mine);
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

/* Push specs for every own ref ahead of the server; counts what goes out. */
int sync_push_owns(sync_ctx *c, char ***specs, size_t *nspecs, size_t *sent)
{
	size_t i;
	int error;

	*sent = 0;
	for (i = 0; i < c->nowns; i++) {
		const git_oid *srv = sync_server_head(&c->net, c->owns[i].ref);
		uint64_t max_local = 0, max_server = 0;
		git_oid local;

		if (c->owns[i].blocked)
			continue;
		if ((error = sync_push_spec_if_new(c, c->owns[i].ref, specs, nspecs)) <= 0) {
			if (error < 0)
				return error;
			continue;
		}
		if (sync_ref_get(&c->local, c->owns[i].ref, &local) == 0 &&
		    ((error = sync_max_on(&c->local, &local, &max_local)) < 0 ||
		     (error = sync_max_on(&c->local, srv, &max_server)) < 0))
			return error;
		if (max_local > max_server)
			*sent += (size_t)(max_local - max_server);
	}
	return 0;
}

void sync_specs_free(char **specs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
}
