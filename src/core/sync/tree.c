/*
 * The layout: device refs, and device trees
 * cs/<seq/62500>/<seq/250%250>/<seq>.tcs (include/tidu/repo.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

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

	if (n == 0 || n > TIDU_CHANGESET_MAX_DISTRICT)
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
int sync_split_device_ref(const char *rest, char *district, size_t dsize,
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
int sync_device_ref(const char *name, char *district, size_t dsize, char *device,
		      size_t vsize)
{
	if (strncmp(name, "refs/heads/", 11))
		return 0;
	name += 11;
	if (!strncmp(name, "city/", 5))
		return sync_split_device_ref(name + 5, district, dsize, device, vsize) ? 2 : 0;
	return sync_split_device_ref(name, district, dsize, device, vsize);
}

void tidu_sync_changeset_path(uint64_t seq, char *out, size_t size)
{
	snprintf(out, size, "cs/%04llu/%03llu/%012llu.tcs",
		 (unsigned long long)(seq / 62500), (unsigned long long)((seq / 250) % 250),
		 (unsigned long long)seq);
}

/* Reads "NNNNNNNNNNNN.tcs" (12 digits). 0 if the name is not one. */
int sync_parse_cs_name(const char *name, uint64_t *seq)
{
	if (strlen(name) != 16 || strcmp(name + 12, ".tcs") || !is_digits(name, 12))
		return 0;
	*seq = strtoull(name, NULL, 10);
	return *seq > 0;
}

/* The last entry of tree `t`, which must be a tree named by `digits` digits. */
static int last_subtree(sync_local *l, git_tree *t, size_t digits, git_tree **out)
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
	if (git_tree_lookup(out, l->repo, git_tree_entry_id(e)) < 0)
		return sync_git_fail(TIDU_ECORRUPT, _("reading a tree"));
	return 0;
}

/* The highest sequence number in a device tree (0 for none). */
int sync_tree_max_seq(sync_local *l, git_tree *root, uint64_t *out)
{
	const git_tree_entry *e = root ? git_tree_entry_byname(root, "cs") : NULL;
	git_tree *cs = NULL, *a = NULL, *b = NULL;
	size_t n;
	int error = 0;

	*out = 0;
	if (!e)
		return 0;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(&cs, l->repo, git_tree_entry_id(e)) < 0) {
		error = tidu_error_set(TIDU_ECORRUPT, "%s", _("'cs' in a device tree is not a tree"));
		goto done;
	}
	if ((error = last_subtree(l, cs, 4, &a)) < 0 || !a ||
	    (error = last_subtree(l, a, 3, &b)) < 0 || !b)
		goto done;
	n = git_tree_entrycount(b);
	e = n ? git_tree_entry_byindex(b, n - 1) : NULL;
	if (e && !sync_parse_cs_name(git_tree_entry_name(e), out))
		error = tidu_error_set(TIDU_ECORRUPT, _("unexpected entry '%s' in a device tree"),
				       git_tree_entry_name(e));
done:
	git_tree_free(cs);
	git_tree_free(a);
	git_tree_free(b);
	return error;
}

/* The highest own sequence number on commit `tip` (0 for NULL). */
int sync_max_on(sync_local *l, const git_oid *tip, uint64_t *out)
{
	git_tree *t = NULL;
	int error;

	*out = 0;
	if (!tip)
		return 0;
	if ((error = sync_commit_tree_of(l, tip, &t)) == 0)
		error = sync_tree_max_seq(l, t, out);
	git_tree_free(t);
	return error;
}

/* The first sequence number found under tree entry `e` (for messages). */
static uint64_t first_seq_under(sync_local *l, const git_tree_entry *e)
{
	git_oid id;
	uint64_t seq = 0;
	int depth;

	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		sync_parse_cs_name(git_tree_entry_name(e), &seq);
		return seq;
	}
	git_oid_cpy(&id, git_tree_entry_id(e));
	for (depth = 0; depth < 4; depth++) {
		git_tree *t = NULL;
		const git_tree_entry *f;
		int blob;

		if (git_tree_lookup(&t, l->repo, &id) < 0)
			break;
		f = git_tree_entrycount(t) ? git_tree_entry_byindex(t, 0) : NULL;
		if (!f) {
			git_tree_free(t);
			break;
		}
		blob = git_tree_entry_type(f) == GIT_OBJECT_BLOB;
		if (blob)
			sync_parse_cs_name(git_tree_entry_name(f), &seq);
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
int sync_tree_keeps(sync_local *l, git_tree *old, git_tree *newer, uint64_t *seq,
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
			*seq = first_seq_under(l, a);
			return 1;
		}
		if (git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)))
			continue;
		if (git_tree_entry_type(a) != GIT_OBJECT_TREE ||
		    git_tree_entry_type(b) != GIT_OBJECT_TREE) {
			*removed = 0;
			*seq = first_seq_under(l, a);
			return 1;
		}
		if (git_tree_lookup(&ta, l->repo, git_tree_entry_id(a)) < 0 ||
		    git_tree_lookup(&tb, l->repo, git_tree_entry_id(b)) < 0) {
			git_tree_free(ta);
			return sync_git_fail(TIDU_ECORRUPT, _("reading a tree"));
		}
		rc = sync_tree_keeps(l, ta, tb, seq, removed);
		git_tree_free(ta);
		git_tree_free(tb);
		if (rc)
			return rc;
	}
	return 0;
}
