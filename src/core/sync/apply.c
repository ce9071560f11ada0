/*
 * Applying what was fetched: the checks of a device ref (rewound,
 * removed, replaced), its change sets in sequence order, the city's pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/* The rewind and removal checks of one device ref. 1 if it is refused. */
static int check_ref(sync_ctx *c, const char *ref, const char *device, const git_oid *tip)
{
	git_tree *old = NULL, *newer = NULL;
	char a[OID_HEX], b[OID_HEX];
	git_oid seen;
	uint64_t seq = 0;
	int removed = 0, rc, error;

	if ((error = sync_state_seen_tip(c->s, c->net.remote, ref, &seen)) != 0)
		return error < 0 ? error : 0;
	if (git_oid_equal(&seen, tip))
		return 0;
	rc = git_graph_descendant_of(c->local.repo, tip, &seen);
	if (rc < 0 && git_error_last() && git_error_last()->klass == GIT_ERROR_ODB)
		rc = 0; /* the old tip is not even here any more */
	if (rc < 0)
		return sync_git_fail(TIDU_ERROR, _("reading the local repository"));
	if (!rc) {
		sync_oid_hex(&seen, a);
		sync_oid_hex(tip, b);
		sync_refuse(c->rep,
		       _("the ref of device '%s' was rewound or rewritten on the server (it was at %.12s, now %.12s): nothing applied from it"),
		       device, a, b);
		return 1;
	}
	if ((error = sync_commit_tree_of(&c->local, &seen, &old)) < 0 ||
	    (error = sync_commit_tree_of(&c->local, tip, &newer)) < 0)
		goto done;
	if ((error = sync_tree_keeps(&c->local, old, newer, &seq, &removed)) < 0)
		goto done;
	if (error == 1) {
		if (removed)
			sync_refuse(c->rep,
			       _("change set %llu of device '%s' was removed from its ref on the server: nothing applied from it"),
			       (unsigned long long)seq, device);
		else
			sync_refuse(c->rep,
			       _("change set %llu of device '%s' was replaced on the server: nothing applied from it"),
			       (unsigned long long)seq, device);
	}
done:
	git_tree_free(old);
	git_tree_free(newer);
	return error;
}

/* apply_seq(): go on with the next sequence number. */
#define APPLY_NEXT 2

/* No file for `seq`: the end, unless later files are there (one was removed). */
static int tree_end(sync_ctx *c, git_tree *tree, const char *device, uint64_t seq)
{
	uint64_t max = 0;

	if (sync_tree_max_seq(&c->local, tree, &max) < 0) {
		sync_refuse(c->rep, _("the ref of device '%s' is not a tidu device tree: %s"),
			    device, tidu_error_message());
		tidu_error_clear();
		return 1;
	}
	if (max > seq) {
		sync_refuse(c->rep,
			    _("change set %llu of device '%s' is missing from its ref while later ones are there"),
			    (unsigned long long)seq, device);
		return 1;
	}
	return 0;
}

/* Checks that `blob` is change set `seq` of the ref's device, then applies it. */
static int apply_blob(sync_ctx *c, git_blob *blob, const char *district, const char *device,
		      uint64_t seq, const char *path, tidu_apply_report *r)
{
	const unsigned char *data = git_blob_rawcontent(blob);
	size_t len = (size_t)git_blob_rawsize(blob);
	tidu_buf name = TIDU_BUF_INIT;
	tidu_changeset_header h;
	int error = 0;

	tidu_buf_printf(&name, "%s/%s/%s", district, device, path);
	memset(r, 0, sizeof(*r));
	if (len > TIDU_CHANGESET_MAX_FILE) {
		r->outcome = TIDU_APPLY_REJECTED;
		snprintf(r->reason, sizeof(r->reason),
			 _("it is %zu bytes, over the limit of a change-set file (%zu bytes)"),
			 len, (size_t)TIDU_CHANGESET_MAX_FILE);
	} else if (tidu_changeset_read_header(data, len, name.ptr, &h) < 0) {
		r->outcome = TIDU_APPLY_REJECTED;
		snprintf(r->reason, sizeof(r->reason), "%s", tidu_error_message());
		tidu_error_clear();
	} else if (strcmp(h.device, device) || strcmp(h.district, district) ||
		   h.seq != seq) {
		r->outcome = TIDU_APPLY_REJECTED;
		snprintf(r->reason, sizeof(r->reason),
			 _("it is change set %llu of device '%s' of district %s, not this ref's"),
			 (unsigned long long)h.seq, h.device, h.district);
	} else {
		error = tidu_changes_apply(c->s, data, len, name.ptr, r);
	}
	tidu_buf_free(&name);
	return error;
}

/* Counts what one file did; APPLY_NEXT unless the ref stops here. */
static int apply_outcome(sync_ctx *c, const tidu_apply_report *r, const char *hex,
			 const char *device, uint64_t seq, size_t *applied)
{
	switch (r->outcome) {
	case TIDU_APPLY_APPLIED:
		*applied += 1 + r->unblocked;
		if (r->stuck)
			sync_refuse(c->rep, "%s", r->reason);
		c->rep->changes += r->changes;
		c->rep->conflicts += r->conflicts;
		if (r->ahead_ms > c->rep->ahead_ms) {
			c->rep->ahead_ms = r->ahead_ms;
			snprintf(c->rep->ahead_device, sizeof(c->rep->ahead_device), "%s",
				 device);
		}
		return APPLY_NEXT;
	case TIDU_APPLY_DUPLICATE:
		return APPLY_NEXT;
	case TIDU_APPLY_HELD:
		c->rep->held++;
		return APPLY_NEXT;
	case TIDU_APPLY_SKIPPED:
		c->rep->skipped++;
		return sync_state_remember_refused(c->s, hex, device, seq, "skipped", r->reason,
						   c->keyring);
	default:
		sync_refuse(c->rep, _("change set %llu of device '%s' refused: %s"),
			    (unsigned long long)seq, device, r->reason);
		return sync_state_remember_refused(c->s, hex, device, seq, "rejected", r->reason,
						   c->keyring);
	}
}

/*
 * Change set `seq` of a device tree: APPLY_NEXT when it was taken (applied,
 * held, a duplicate), else where the ref stops: 0, 1 (refused) or < 0.
 */
static int apply_seq(sync_ctx *c, git_tree *tree, const char *district, const char *device,
		     uint64_t seq, size_t *applied)
{
	char path[48], hex[OID_HEX];
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	tidu_apply_report r;
	int rc, error;

	tidu_sync_changeset_path(seq, path, sizeof(path));
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND)
		return tree_end(c, tree, device, seq);
	if (rc < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		git_tree_entry_free(e);
		sync_refuse(c->rep, _("change set %llu of device '%s': '%s' is not a file"),
			    (unsigned long long)seq, device, path);
		return 1;
	}
	sync_oid_hex(git_tree_entry_id(e), hex);
	if ((rc = sync_state_refused_before(c->s, hex, c->keyring)) != 0) {
		git_tree_entry_free(e);
		return rc < 0 ? rc : 0; /* reported before; tried again with another keyring */
	}
	rc = git_blob_lookup(&blob, c->local.repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	if (rc < 0)
		return sync_git_fail(TIDU_ECORRUPT, _("reading a file of the repository"));
	error = apply_blob(c, blob, district, device, seq, path, &r);
	git_blob_free(blob);
	if (error < 0)
		return error;
	return apply_outcome(c, &r, hex, device, seq, applied);
}

/*
 * Applies the change sets of one device ref above this store's watermark,
 * in sequence order, stopping at the first one that is missing, refused or
 * unreadable. *through is the last sequence this store holds afterwards.
 */
int sync_apply_ref(sync_ctx *c, const char *ref, const char *district,
		   const char *device, const git_oid *tip, uint64_t *through)
{
	git_tree *tree = NULL;
	uint64_t seq;
	size_t applied = 0;
	int error;

	*through = 0;
	if ((error = check_ref(c, ref, device, tip)) != 0)
		return error < 0 ? error : 1;
	if ((error = tidu_changes_last(c->s, device, &seq, NULL)) < 0 ||
	    (error = sync_commit_tree_of(&c->local, tip, &tree)) < 0)
		goto done;
	do
		error = apply_seq(c, tree, district, device, ++seq, &applied);
	while (error == APPLY_NEXT);
	if (error == 0) {
		int moved = 1;
		git_oid seen;

		if (sync_state_seen_tip(c->s, c->net.remote, ref, &seen) == 0 &&
		    git_oid_equal(&seen, tip))
			moved = 0;
		/* Nothing to record for a ref that did not move (a write, an fsync). */
		if (!moved ||
		    (error = sync_state_set_seen_tip(c->s, c->net.remote, ref, tip)) == 0)
			error = tidu_changes_last(c->s, device, through, NULL);
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
int sync_check_gone(sync_ctx *c)
{
	char **refs = NULL;
	size_t n = 0, i;
	int error;

	error = sync_state_refs(c->s, c->net.remote, &refs, &n);
	for (i = 0; i < n; i++) {
		if (!error && !sync_server_head(&c->net, refs[i]) && sync_wanted(c, refs[i]) &&
		    !sync_is_own_ref(c, refs[i])) {
			sync_refuse(c->rep,
				    _("the ref '%s' is gone from the server: its change sets were removed"),
				    refs[i]);
			error = sync_state_forget_ref(c->s, c->net.remote, refs[i]);
		}
		free(refs[i]);
	}
	free(refs);
	return error;
}

/* A ref under city/<district>/ must be the city's desk. 1 if refused. */
int sync_desk_ref_ok(sync_ctx *c, const char *name, const char *device)
{
	tidu_trust_device dev;
	int error = tidu_trust_device_lookup(c->s, device, &dev);

	if (error < 0 && error != TIDU_ENOTFOUND)
		return error;
	tidu_error_clear();
	if (error == 0 && !strcmp(dev.role, TIDU_TRUST_ROLE_DESK))
		return 0;
	sync_refuse(c->rep, _("the ref '%s' is not the city's desk: nothing applied from it"), name);
	return 1;
}

/* Applies every readable device ref but our own; the city notes the tips. */
int sync_apply_all(sync_ctx *c)
{
	size_t i;
	int error = 0;

	for (i = 0; i < c->net.nheads && error >= 0; i++) {
		const char *name = c->net.heads[i].name;
		char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
		char hex[OID_HEX];
		uint64_t through = 0;

		int kind;

		if (!sync_wanted(c, name) || sync_is_own_ref(c, name) ||
		    !(kind = sync_device_ref(name, district, sizeof(district), device,
					sizeof(device))))
			continue;
		if (kind == 2 && (error = sync_desk_ref_ok(c, name, device)) != 0) {
			error = error < 0 ? error : 0;
			continue;
		}
		error = sync_apply_ref(c, name, district, device, &c->net.heads[i].oid,
				       &through);
		if (error == 0 && c->city) {
			sync_oid_hex(&c->net.heads[i].oid, hex);
			tidu_buf_printf(&c->tips, "%s %s %llu\n", name, hex,
					(unsigned long long)through);
		}
	}
	if (error >= 0)
		error = sync_check_gone(c);
	return error < 0 ? error : 0;
}

/* City: the consolidation commit naming the device tips merged. */
int sync_commit_pool(sync_ctx *c)
{
	tidu_buf msg = TIDU_BUF_INIT;
	int made = 0, error;

	if (!c->tips.len && !sync_server_head(&c->net, CITY_POOL_REF))
		return 0;
	tidu_buf_printf(&msg, "consolidation of the device tips merged (keyring %lld)\n\n%s",
			(long long)c->keyring, tidu_buf_cstr(&c->tips));
	error = sync_commit_file(c, CITY_POOL_REF, TIPS_FILE, c->tips.ptr ? c->tips.ptr : "",
			    c->tips.len, msg.ptr, &made);
	c->rep->pool_committed = made;
	tidu_buf_free(&msg);
	return error;
}
