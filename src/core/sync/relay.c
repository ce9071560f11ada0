/*
 * Relay (docs/sync.md, "Relay"): a district hub forwards verified refs
 * from a LAN repository to the central one, and the city's the other way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "core/sync/sync_int.h"

/* Is the blob `blob` at `path` a change set of `device` this store holds verified? */
static int file_verified(sync_ctx *c, const char *device, const char *path,
			 const git_oid *blob, uint64_t *seq_out)
{
	tidu_buf file = TIDU_BUF_INIT;
	char want[48];
	const char *base = strrchr(path, '/');
	uint64_t seq = 0;
	git_oid mine;
	int rc, ok = 0;

	*seq_out = 0;
	if (!base || !sync_parse_cs_name(base + 1, &seq))
		return 0;
	*seq_out = seq;
	tidu_sync_changeset_path(seq, want, sizeof(want));
	if (strcmp(want, path))
		return 0;
	rc = tidu_changes_file(c->s, device, seq, 0, &file);
	if (rc == 0 && git_odb_hash(&mine, file.ptr, file.len, GIT_OBJECT_BLOB) == 0)
		ok = git_oid_equal(&mine, blob);
	tidu_buf_free(&file);
	return rc < 0 ? rc : ok;
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
	if (git_revwalk_new(&w, c->local.repo) < 0 || git_revwalk_push(w, tip) < 0 ||
	    (base && git_revwalk_hide(w, base) < 0)) {
		error = sync_git_fail(TIDU_ERROR, _("reading the local repository"));
		goto done;
	}
	while (!error && git_revwalk_next(&id, w) == 0) {
		git_commit *cm = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		git_diff *diff = NULL;
		int rc;

		if (git_commit_lookup(&cm, c->local.repo, &id) < 0) {
			error = sync_git_fail(TIDU_ECORRUPT, _("reading a commit"));
			break;
		}
		if (git_commit_parentcount(cm) > 1) {
			v.bad = 1;
			snprintf(v.path, sizeof(v.path), "%s", _("a merge commit"));
		} else if ((git_commit_parentcount(cm) == 1 &&
			    (git_commit_parent(&parent, cm, 0) < 0 ||
			     git_commit_tree(&pt, parent) < 0)) ||
			   git_commit_tree(&t, cm) < 0 ||
			   git_diff_tree_to_tree(&diff, c->local.repo, pt, t, NULL) < 0) {
			error = sync_git_fail(TIDU_ECORRUPT, _("reading a commit"));
		} else {
			rc = git_diff_foreach(diff, verify_delta, NULL, NULL, NULL, &v);
			if (rc < 0 && rc != GIT_EUSER)
				error = rc == TIDU_ERROR || rc == TIDU_ECORRUPT ? rc :
					sync_git_fail(TIDU_ERROR, _("reading the local repository"));
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

		sync_oid_hex(&id, hex);
		sync_refuse(c->rep, _("'%s' not relayed: commit %.12s holds '%s', which is not a change set this store verified"),
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
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
	git_blob *blob = NULL;
	git_tree *tree = NULL;
	git_commit *cm = NULL;
	tidu_json *j = NULL;
	git_oid boid;
	const char *jd, *jdist;
	int ok = 0;

	if (!sync_split_device_ref(name + 18, district, sizeof(district), device,
				   sizeof(device)))
		return 0;
	if (git_commit_lookup(&cm, c->local.repo, tip) < 0 || git_commit_parentcount(cm) != 0 ||
	    sync_commit_tree_of(&c->local, tip, &tree) < 0 || git_tree_entrycount(tree) != 1 ||
	    sync_read_file(&c->local, tip, REQUEST_FILE, &blob, &boid) != 0 ||
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

	if (git_revwalk_new(&w, c->local.repo) < 0 || git_revwalk_push(w, tip) < 0 ||
	    (base && git_revwalk_hide(w, base) < 0))
		ok = 0;
	while (ok && git_revwalk_next(&id, w) == 0) {
		git_commit *cm = NULL;
		git_tree *t = NULL;
		const git_tree_entry *e;

		ok = git_commit_lookup(&cm, c->local.repo, &id) == 0 &&
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
		sync_refuse(c->rep, _("'%s' not relayed: it is not the city's pool"), CITY_POOL_REF);
	return ok;
}

/* Adds "refs/remotes/<from>/<x>:refs/heads/<x>" for ref `name`. */
static void add_relay_spec(char ***specs, size_t *n, const char *from, const char *name)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_printf(&b, "refs/remotes/%s/%s:%s", from, name + 11, name);
	*specs = tidu_reallocarray(*specs, *n + 1, sizeof(**specs));
	(*specs)[(*n)++] = tidu_buf_detach(&b);
}

/* What one relay reads and decides: the refs that go on, each way. */
typedef struct {
	sync_ctx *c;
	const char *from, *to;
	sync_head *to_heads; /* what TO listed */
	size_t nto;
	sync_head *desks;    /* the city's desk refs verified from TO, for FROM */
	size_t ndesks;
	char **fwd, **back;  /* push specs FROM -> TO, TO -> FROM */
	size_t nfwd, nback;
	int keyring_ok;      /* TO's keyring is verified: it goes to FROM */
	int docs_ok;         /* TO's city documents (rules, forms) verified: they go to FROM */
} relay_plan;

static void plan_free(relay_plan *p)
{
	sync_heads_free(p->to_heads, p->nto);
	sync_heads_free(p->desks, p->ndesks);
	sync_specs_free(p->fwd, p->nfwd);
	sync_specs_free(p->back, p->nback);
}

/* The city's desk refs for the district on TO, applied here: kept for FROM. */
static int read_to_desks(relay_plan *p)
{
	sync_ctx *c = p->c;
	size_t i;
	int error;

	for (i = 0; i < c->net.nheads && !c->city && c->rep->enrolled; i++) {
		const char *name = c->net.heads[i].name;
		char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
		size_t rejected = c->rep->rejected, skipped = c->rep->skipped;
		uint64_t through = 0;

		if (!sync_wanted(c, name) ||
		    sync_device_ref(name, district, sizeof(district), device,
				    sizeof(device)) != 2)
			continue;
		if ((error = sync_desk_ref_ok(c, name, device)) == 0)
			error = sync_apply_ref(c, name, district, device, &c->net.heads[i].oid,
					       &through);
		if (error < 0)
			return error;
		if (error == 0 && c->rep->rejected == rejected && c->rep->skipped == skipped) {
			p->desks = tidu_reallocarray(p->desks, p->ndesks + 1,
						     sizeof(*p->desks));
			p->desks[p->ndesks].name = tidu_strdup(name);
			git_oid_cpy(&p->desks[p->ndesks].oid, &c->net.heads[i].oid);
			p->ndesks++;
		}
	}
	return 0;
}

/* 1. TO: its refs, and the city's keyring, imported (verified) first. */
static int read_to(relay_plan *p)
{
	sync_ctx *c = p->c;
	tidu_trust_id id;
	int error;

	if ((error = sync_conn_use(&c->net, c->s, p->to)) < 0 || (error = sync_fetch(c)) < 0)
		return error;
	if (!c->city && sync_server_head(&c->net, CITY_KEYRING_REF)) {
		size_t before = c->rep->rejected;

		if ((error = sync_import_keyring(c)) < 0)
			return error;
		p->keyring_ok = c->rep->rejected == before;
	}
	if (!c->city) {
		size_t before = c->rep->rejected;

		if ((error = sync_import_citydocs(c)) < 0)
			return error;
		p->docs_ok = c->rep->rejected == before;
	}
	if (c->city) {
		/* The city's own keyring, as TO holds it, goes to FROM. */
		const git_oid *k = sync_server_head(&c->net, CITY_KEYRING_REF);
		git_oid mine;

		p->keyring_ok = k && sync_ref_get(&c->local, CITY_KEYRING_REF, &mine) == 0 &&
				git_oid_equal(k, &mine);
	}
	if ((error = tidu_trust_identity(c->s, &id)) < 0)
		return error;
	c->rep->enrolled = c->city || id.enrolled;
	p->docs_ok = p->docs_ok && id.city_pinned; /* verified, not only skipped */
	if ((error = read_to_desks(p)) < 0)
		return error;
	p->to_heads = c->net.heads;
	p->nto = c->net.nheads;
	c->net.heads = NULL;
	c->net.nheads = 0;
	return 0;
}

/* An enrollment ref of FROM: forwarded when TO has none and it is well formed. */
static int pick_enroll(relay_plan *p, const char *name, const git_oid *tip,
		       const git_oid *there)
{
	sync_ctx *c = p->c;
	tidu_trust_device known;
	const char *slash = strrchr(name, '/');
	int error;

	/* Enrolled already: the request has done its work. */
	if ((error = tidu_trust_device_lookup(c->s, slash + 1, &known)) == 0)
		return 0;
	if (error != TIDU_ENOTFOUND)
		return error;
	tidu_error_clear();
	if (there)
		return 0; /* TO has a request of that device: the city decides */
	if (enroll_ref_ok(c, name, tip))
		add_relay_spec(&p->fwd, &p->nfwd, p->from, name);
	else
		sync_refuse(c->rep, _("'%s' not relayed: it is not an enrollment request of its device"),
			    name);
	return 0;
}

/* A device ref of FROM: applied here, then forwarded if all of it is verified. */
static int pick_device(relay_plan *p, const char *name, const git_oid *tip,
		       const git_oid *there)
{
	sync_ctx *c = p->c;
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
	size_t rejected = c->rep->rejected, skipped = c->rep->skipped;
	uint64_t through = 0;
	int error;

	if (!sync_split_device_ref(name + 11, district, sizeof(district), device,
				   sizeof(device)))
		return 0; /* city refs go the other way */
	if (!c->rep->enrolled)
		return 0;
	if (there && git_graph_descendant_of(c->local.repo, there, tip) == 1)
		return 0; /* TO is ahead (the device also synced there) */
	if (there && git_graph_descendant_of(c->local.repo, tip, there) != 1) {
		sync_refuse(c->rep, _("'%s' not relayed: it does not descend from the copy on '%s'"),
			    name, p->to);
		return 0;
	}
	if (!sync_is_own_ref(c, name)) {
		if ((error = sync_apply_ref(c, name, district, device, tip, &through)) < 0)
			return error;
		if (error == 1 || c->rep->rejected != rejected || c->rep->skipped != skipped) {
			if (c->rep->rejected == rejected)
				sync_refuse(c->rep, _("'%s' not relayed: this store cannot read all of it"),
					    name);
			return 0;
		}
	}
	if ((error = verify_range(c, name, device, tip, there)) < 0)
		return error;
	if (error == 0)
		add_relay_spec(&p->fwd, &p->nfwd, p->from, name);
	return 0;
}

/* 2. FROM: verify and apply every device ref, then pick what goes on. */
static int read_from(relay_plan *p)
{
	sync_ctx *c = p->c;
	size_t i;
	int error;

	if ((error = sync_conn_use(&c->net, c->s, p->from)) < 0 || (error = sync_fetch(c)) < 0)
		return error;
	if (!c->rep->enrolled)
		sync_note(c->rep, "%s", _("this store is not enrolled yet: it cannot verify change sets, so none are relayed ('tidu sync' with the central repository first)"));
	for (i = 0; i < c->net.nheads; i++) {
		const char *name = c->net.heads[i].name;
		const git_oid *tip = &c->net.heads[i].oid;
		const git_oid *there = sync_find_head(p->to_heads, p->nto, name);

		if (!sync_wanted(c, name) || (there && git_oid_equal(there, tip)))
			continue;
		if (!strncmp(name, "refs/heads/enroll/", 18))
			error = pick_enroll(p, name, tip, there);
		else
			error = pick_device(p, name, tip, there);
		if (error < 0)
			return error;
	}
	/* Device refs read from FROM before that it no longer has: reported. */
	if (c->rep->enrolled && (error = sync_check_gone(c)) < 0)
		return error;
	return 0;
}

/* The city's desk refs verified from TO, when FROM's copy is behind. */
static int pick_back_desks(relay_plan *p)
{
	sync_ctx *c = p->c;
	size_t i;
	int error;

	for (i = 0; i < p->ndesks; i++) {
		const sync_head *d = &p->desks[i];
		const git_oid *here = sync_server_head(&c->net, d->name);
		char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];

		if (here && (git_oid_equal(here, &d->oid) ||
			     git_graph_descendant_of(c->local.repo, here, &d->oid) == 1))
			continue;
		if (here && git_graph_descendant_of(c->local.repo, &d->oid, here) != 1) {
			sync_refuse(c->rep, _("'%s' not relayed: it does not descend from the copy on '%s'"),
				    d->name, p->from);
			continue;
		}
		sync_device_ref(d->name, district, sizeof(district), device, sizeof(device));
		if ((error = verify_range(c, d->name, device, &d->oid, here)) < 0)
			return error;
		if (error == 0)
			add_relay_spec(&p->back, &p->nback, p->to, d->name);
	}
	return 0;
}

/* 3. What goes back to FROM: the verified keyring, the pool, the desks. */
static int pick_back(relay_plan *p)
{
	sync_ctx *c = p->c;
	size_t i;

	if (p->keyring_ok) {
		const git_oid *k = sync_find_head(p->to_heads, p->nto, CITY_KEYRING_REF);
		const git_oid *here = sync_server_head(&c->net, CITY_KEYRING_REF);

		if (k && (!here || !git_oid_equal(k, here))) {
			tidu_buf b = TIDU_BUF_INIT;

			tidu_buf_printf(&b, "refs/remotes/%s/city/keyring:%s", p->to,
					CITY_KEYRING_REF);
			p->back = tidu_reallocarray(p->back, p->nback + 1, sizeof(*p->back));
			p->back[p->nback++] = tidu_buf_detach(&b);
		}
	}
	/* ... and the city's rule packs and forms, verified the same way. */
	for (i = 0; p->docs_ok && sync_citydoc_ref(i); i++) {
		const char *ref = sync_citydoc_ref(i);
		const git_oid *k = sync_find_head(p->to_heads, p->nto, ref);
		const git_oid *here = sync_server_head(&c->net, ref);

		if (k && (!here || !git_oid_equal(k, here)))
			add_relay_spec(&p->back, &p->nback, p->to, ref);
	}
	/*
	 * ... and the city's pool, when it is what the city writes there (one
	 * tips.txt, a line of commits) and a fast-forward of FROM's copy.
	 */
	if (!c->city && c->rep->enrolled) {
		const git_oid *pool = sync_find_head(p->to_heads, p->nto, CITY_POOL_REF);
		const git_oid *here = sync_server_head(&c->net, CITY_POOL_REF);

		if (pool && (!here || (!git_oid_equal(pool, here) &&
				       git_graph_descendant_of(c->local.repo, pool, here) == 1)) &&
		    pool_ok(c, pool, here))
			add_relay_spec(&p->back, &p->nback, p->to, CITY_POOL_REF);
	}
	/* ... and so do the city's desk refs verified above. */
	return pick_back_desks(p);
}

/* 4. Push: FROM's verified refs to TO, the keyring and desks to FROM. */
static int relay_push(relay_plan *p)
{
	sync_ctx *c = p->c;
	int error;

	if (p->nback && (error = sync_push(c, p->back, p->nback)) < 0)
		return error;
	c->rep->relayed_back = p->nback;
	if ((error = sync_conn_use(&c->net, c->s, p->to)) < 0)
		return error;
	if (p->nfwd && (error = sync_push(c, p->fwd, p->nfwd)) < 0)
		return error;
	c->rep->relayed = p->nfwd;
	return 0;
}

static int relay_run(sync_ctx *c, const char *from, const char *to)
{
	relay_plan p;
	tidu_trust_id id;
	int error;

	if ((error = tidu_trust_ensure_keys(c->s)) < 0 ||
	    (error = tidu_trust_identity(c->s, &id)) < 0)
		return error;
	c->keyring = id.keyring_version;
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.from = from;
	p.to = to;
	if ((error = read_to(&p)) == 0 && (error = read_from(&p)) == 0 &&
	    (error = pick_back(&p)) == 0 && (error = relay_push(&p)) == 0)
		sync_repack_or_note(c); /* a hub's repo.git gains packs as a laptop's does */
	plan_free(&p);
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
	sync_git_begin();
	if ((error = sync_setup(&c, s, from, opts, rep)) == 0 &&
	    (error = tidu_remote_url(s, to, &to_url)) == 0) {
		c.relay = 1;
		if ((error = sync_local_open(&c.local)) == 0)
			error = relay_run(&c, from, to);
	}
	if (error == 0)
		error = sync_state_note_last_sync(s, c.net.remote);
	snprintf(rep->remote, sizeof(rep->remote), "%s", from);
	free(to_url);
	sync_teardown(&c);
	git_libgit2_shutdown();
	return error;
}
