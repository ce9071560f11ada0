/*
 * The connection: libgit2 callbacks (credentials, certificates,
 * progress, push statuses), the wrapped transport, the server's list of
 * branches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>
#include <git2/sys/transport.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "tidu/net.h"
#include "core/sync/sync_int.h"

static int cb_credentials(git_credential **out, const char *url, const char *user_from_url,
			  unsigned int allowed, void *payload)
{
	sync_conn *net = payload;
	const char *user = getenv("TIDU_GIT_USERNAME"), *pass = getenv("TIDU_GIT_PASSWORD");

	/* libgit2 asks again after every refusal, forever: count. */
	if (++net->auth_attempts > TIDU_SYNC_MAX_AUTH) {
		tidu_buf_clear(&net->net_msg);
		if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
			tidu_buf_printf(&net->net_msg,
				_("the server refused the credentials %d times: check TIDU_GIT_USERNAME and TIDU_GIT_PASSWORD"),
				TIDU_SYNC_MAX_AUTH);
		else
			tidu_buf_printf(&net->net_msg,
				_("the server refused the SSH key %d times: check --ssh-key or the agent's keys (RSA keys fail against OpenSSH 8.8 and later: use ed25519)"),
				TIDU_SYNC_MAX_AUTH);
		return GIT_EUSER;
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		tidu_buf u = TIDU_BUF_INIT, p = TIDU_BUF_INIT;
		int rc;

		if (user && pass)
			return git_credential_userpass_plaintext_new(out, user, pass);
		if (!net->opts->ask_password) {
			tidu_buf_clear(&net->net_msg);
			tidu_buf_puts(&net->net_msg,
				_("the server asks for a user name and password: set TIDU_GIT_USERNAME and TIDU_GIT_PASSWORD"));
			return GIT_EUSER;
		}
		tidu_buf_puts(&u, user ? user : user_from_url ? user_from_url : "");
		if (net->opts->ask_password(net->opts->ctx, url, &u, &p) < 0) {
			tidu_buf_clear(&net->net_msg);
			tidu_buf_puts(&net->net_msg, _("no password given"));
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

		if (net->opts->ssh_key) {
			tidu_buf pub = TIDU_BUF_INIT;
			struct stat sb;
			int rc;

			tidu_buf_printf(&pub, "%s.pub", net->opts->ssh_key);
			rc = git_credential_ssh_key_new(out, name,
				stat(pub.ptr, &sb) == 0 ? pub.ptr : NULL, net->opts->ssh_key,
				getenv("TIDU_SSH_PASSPHRASE"));
			tidu_buf_free(&pub);
			return rc;
		}
		return git_credential_ssh_key_from_agent(out, name);
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	tidu_buf_clear(&net->net_msg);
	tidu_buf_puts(&net->net_msg, _("the server asks for a kind of credentials tidu cannot give"));
	return GIT_EUSER;
}

static int cb_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	sync_conn *net = payload;

	(void)cert;
	/* Only what libgit2 validated (CA chain, known_hosts) is accepted. */
	if (valid)
		return 0;
	tidu_buf_clear(&net->net_msg);
	tidu_buf_printf(&net->net_msg,
		_("the identity of '%s' could not be verified (TLS certificate or SSH host key not trusted)"),
		host ? host : "?");
	return GIT_ECERTIFICATE;
}

static int cb_sideband(const char *str, int len, void *payload)
{
	sync_conn *net = payload;

	if (net->pushing && len > 0 && net->sideband.len < 4096)
		tidu_buf_put(&net->sideband, str, (size_t)len);
	return 0;
}

static int cb_transfer(const git_indexer_progress *st, void *payload)
{
	sync_conn *net = payload;

	if (net->opts->progress)
		net->opts->progress(net->opts->ctx, "fetch", st->received_objects,
				  st->total_objects, st->received_bytes);
	return 0;
}

static int cb_push_transfer(unsigned int current, unsigned int total, size_t bytes,
			    void *payload)
{
	sync_conn *net = payload;

	if (net->opts->progress)
		net->opts->progress(net->opts->ctx, "push", current, total, bytes);
	return 0;
}

static int cb_push_ref(const char *refname, const char *status, void *payload)
{
	sync_conn *net = payload;

	/* git_remote_push() returns 0 even when the server refused a ref. */
	if (status) {
		if (net->push_errors.len)
			tidu_buf_puts(&net->push_errors, "; ");
		tidu_buf_printf(&net->push_errors, "'%s': %s", refname, status);
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
	sync_conn *net;
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

	if ((error = o->inner->ls(&all, &n, o->inner)) < 0 || !o->net->push_keep) {
		*out = all;
		*size = n;
		return error;
	}
	free(o->kept);
	o->kept = tidu_calloc(n + 1, sizeof(*o->kept));
	for (i = 0; i < n; i++)
		for (j = 0; j < o->net->npush_keep; j++)
			if (!strcmp(all[i]->name, o->net->push_keep[j])) {
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
	o->net = payload;
	*out = &o->parent;
	return 0;
}

void sync_set_callbacks(sync_conn *net, git_remote_callbacks *cb)
{
	cb->transport = cb_transport;
	cb->credentials = cb_credentials;
	cb->certificate_check = cb_certificate;
	cb->sideband_progress = cb_sideband;
	cb->transfer_progress = cb_transfer;
	cb->push_transfer_progress = cb_push_transfer;
	cb->push_update_reference = cb_push_ref;
	cb->payload = net;
}

/* The "remote:" text of the server, on one line, without control characters. */
void sync_server_text(const tidu_buf *in, tidu_buf *out)
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
int sync_make_remote(sync_conn *net, git_repository *repo, git_remote **out)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, net->url, &o);
}

/* Sets the error for a failed connection, preferring our own reason. */
int sync_net_fail(sync_conn *net, const char *what)
{
	const git_error *e = git_error_last();
	const char *why = net->net_msg.len ? net->net_msg.ptr :
			  e && e->message ? e->message : _("unknown error");

	return tidu_error_set(TIDU_ERROR, "%s '%s': %s", what, net->url, why);
}

static int head_cmp(const void *a, const void *b)
{
	return strcmp(((const sync_head *)a)->name, ((const sync_head *)b)->name);
}

void sync_heads_free(sync_head *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(h[i].name);
	free(h);
}

static void heads_free(sync_conn *net)
{
	sync_heads_free(net->heads, net->nheads);
	net->heads = NULL;
	net->nheads = 0;
}

/* Keeps the server's list of branches, sorted by name. */
static void take_heads(sync_conn *net, const git_remote_head **refs, size_t n)
{
	size_t i;

	heads_free(net);
	for (i = 0; i < n; i++) {
		if (strncmp(refs[i]->name, "refs/heads/", 11) ||
		    sync_ends_with(refs[i]->name, "^{}"))
			continue;
		net->heads = tidu_reallocarray(net->heads, net->nheads + 1,
					       sizeof(*net->heads));
		net->heads[net->nheads].name = tidu_strdup(refs[i]->name);
		git_oid_cpy(&net->heads[net->nheads].oid, &refs[i]->oid);
		net->nheads++;
	}
	if (net->nheads)
		qsort(net->heads, net->nheads, sizeof(*net->heads), head_cmp);
}

const git_oid *sync_server_head(const sync_conn *net, const char *name)
{
	size_t i;

	for (i = 0; i < net->nheads; i++)
		if (!strcmp(net->heads[i].name, name))
			return &net->heads[i].oid;
	return NULL;
}

/* The head `name` in a saved list. */
const git_oid *sync_find_head(const sync_head *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(h[i].name, name))
			return &h[i].oid;
	return NULL;
}

/*
 * Connects in `direction` and keeps the
 * server's list of branches. *out is the remote, connected on success; the
 * caller frees it in any case. *cb and *proxy are the options used.
 */
int sync_connect_list(sync_conn *net, git_repository *repo, git_direction direction,
		      git_remote_callbacks *cb, git_proxy_options *proxy, git_remote **out)
{
	const git_remote_head **refs;
	size_t n;
	int error;

	*out = NULL;
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	git_proxy_options_init(proxy, GIT_PROXY_OPTIONS_VERSION);
	sync_set_callbacks(net, cb);
	proxy->type = GIT_PROXY_AUTO;
	net->auth_attempts = 0;
	net->pushing = direction == GIT_DIRECTION_PUSH;
	tidu_buf_clear(&net->net_msg);
	if (sync_make_remote(net, repo, out) < 0)
		return sync_net_fail(net, _("cannot use the repository"));
	tidu_net_defer_connect_errors(!strncmp(net->url, "git://", 6));
	error = git_remote_connect(*out, direction, cb, proxy, NULL);
	tidu_net_defer_connect_errors(0);
	if (error < 0 || git_remote_ls(&refs, &n, *out) < 0)
		return sync_net_fail(net, _("cannot reach the repository"));
	take_heads(net, refs, n);
	return 0;
}

/* Switches the connection to remote `name` (its URL; heads from the next connection). */
int sync_conn_use(sync_conn *net, tidu_store *s, const char *name)
{
	free(net->url);
	net->url = NULL;
	snprintf(net->remote, sizeof(net->remote), "%s", name);
	return tidu_remote_url(s, name, &net->url);
}

void sync_conn_close(sync_conn *net)
{
	if (net->kept)
		git_remote_disconnect(net->kept);
	git_remote_free(net->kept);
	net->kept = NULL;
	heads_free(net);
	free(net->url);
	net->url = NULL;
	tidu_buf_free(&net->net_msg);
	tidu_buf_free(&net->sideband);
	tidu_buf_free(&net->push_errors);
}
