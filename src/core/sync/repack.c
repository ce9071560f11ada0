/*
 * Repacking repo.git. libgit2 has no gc and every sync adds a pack (its
 * own and the fetch's): with hundreds of packs every object lookup
 * searches them all.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/* Number of packs in `dir` (objects/pack). */
static size_t count_packs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		if (sync_ends_with(de->d_name, ".pack"))
			n++;
	if (d)
		closedir(d);
	return n;
}

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
static void base_read(sync_local *l, char name[OID_HEX], git_oid **tips, size_t *n)
{
	tidu_buf path = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	const char *p, *nl;

	name[0] = '\0';
	*tips = NULL;
	*n = 0;
	tidu_buf_printf(&path, "%s/%s", git_repository_path(l->repo), BASE_FILE);
	if (tidu_file_read(path.ptr, BASE_FILE_MAX, &text) == 0 && text.len) {
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
	sync_oid_hex(oid, hex);
	tidu_buf_printf(t, "%s\n", hex);
}

/* The bytes of the base pack and of all the others, in objects/pack `dir`. */
static void pack_sizes(const char *dir, const tidu_buf *keep_base, const char *base,
		       uint64_t *base_bytes, uint64_t *other_bytes)
{
	tidu_buf path = TIDU_BUF_INIT;
	struct dirent *de;
	DIR *d;

	*base_bytes = *other_bytes = 0;
	if (base[0]) {
		tidu_buf_printf(&path, "%s/pack-%s.pack", dir, base);
		*base_bytes = file_size(path.ptr);
	}
	if ((d = opendir(dir))) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "pack-", 5) &&
			    sync_ends_with(de->d_name, ".pack") &&
			    (!keep_base->len ||
			     strncmp(de->d_name, keep_base->ptr, keep_base->len))) {
				tidu_buf_clear(&path);
				tidu_buf_printf(&path, "%s/%s", dir, de->d_name);
				*other_bytes += file_size(path.ptr);
			}
		closedir(d);
	}
	tidu_buf_free(&path);
}

/* What tip_add_hex() needs. */
typedef struct {
	sync_local *l;
	git_revwalk *walk;
	tidu_buf *tips;
} tip_walk;

/* Old tips kept for rewind detection, if still here. */
static void tip_add_hex(void *ctx, const char *hex)
{
	tip_walk *w = ctx;
	git_commit *commit = NULL;
	git_oid oid;

	if (git_oid_fromstr(&oid, hex) == 0 &&
	    git_commit_lookup(&commit, w->l->repo, &oid) == 0)
		tip_add(w->walk, w->tips, &oid);
	git_error_clear();
	git_commit_free(commit);
}

/* Walks from every ref and every tip sync_ref keeps; `tips` lists them. */
static int walk_tips(sync_local *l, git_revwalk *walk, tidu_buf *tips)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	tip_walk w = {l, walk, tips};

	if (git_reference_iterator_new(&it, l->repo) < 0)
		return sync_git_fail(TIDU_ERROR, _("writing a pack"));
	while (git_reference_next(&ref, it) == 0) {
		git_object *obj = NULL;

		if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0)
			tip_add(walk, tips, git_object_id(obj));
		git_error_clear();
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	sync_state_each_tip(l->s, tip_add_hex, &w);
	return 0;
}

/* Removes the packs in `dir` but the new one and the base (`keep_base`, may be empty). */
static void remove_old_packs(const char *dir, const char *newname,
			     const tidu_buf *keep_base)
{
	tidu_buf keep = TIDU_BUF_INIT, path = TIDU_BUF_INIT;
	struct dirent *de;
	DIR *d;

	tidu_buf_printf(&keep, "pack-%s.", newname);
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, "pack-", 5) ||
			    !strncmp(de->d_name, keep.ptr, keep.len) ||
			    (keep_base->len &&
			     !strncmp(de->d_name, keep_base->ptr, keep_base->len)) ||
			    !(sync_ends_with(de->d_name, ".pack") ||
			      sync_ends_with(de->d_name, ".idx") ||
			      sync_ends_with(de->d_name, ".rev")))
				continue;
			tidu_buf_clear(&path);
			tidu_buf_printf(&path, "%s/%s", dir, de->d_name);
			unlink(path.ptr);
		}
		closedir(d);
	}
	tidu_buf_free(&keep);
	tidu_buf_free(&path);
}

/* Records the new base pack and the tips it was made from (BASE_FILE). */
static int write_base(sync_local *l, const char *newname, const tidu_buf *tips)
{
	tidu_buf rec = TIDU_BUF_INIT, path = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&rec, "%s\n%s", newname, tidu_buf_cstr(tips));
	tidu_buf_printf(&path, "%s/%s", git_repository_path(l->repo), BASE_FILE);
	error = tidu_file_write(path.ptr, rec.ptr, rec.len, 0644);
	tidu_buf_free(&rec);
	tidu_buf_free(&path);
	return error;
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
static int repack(sync_local *l)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	tidu_buf dir = TIDU_BUF_INIT, keep_base = TIDU_BUF_INIT, tips = TIDU_BUF_INIT;
	char base[OID_HEX], newname[OID_HEX];
	git_oid *base_tips = NULL;
	uint64_t base_bytes = 0, other_bytes = 0;
	size_t nbase = 0, i;
	const char *name;
	int full, error = 0;

	tidu_buf_printf(&dir, "%s/objects/pack", git_repository_path(l->repo));
	if (count_packs(dir.ptr) <= TIDU_REPACK_AT)
		goto done;
	base_read(l, base, &base_tips, &nbase);
	if (base[0])
		tidu_buf_printf(&keep_base, "pack-%s.", base);
	pack_sizes(dir.ptr, &keep_base, base, &base_bytes, &other_bytes);
	full = !base_bytes || other_bytes * 2 > base_bytes;
	if (git_packbuilder_new(&pb, l->repo) < 0 || git_revwalk_new(&walk, l->repo) < 0) {
		error = sync_git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	git_packbuilder_set_threads(pb, 1);
	if ((error = walk_tips(l, walk, &tips)) < 0)
		goto done;
	if (!full)
		for (i = 0; i < nbase; i++)
			if (git_revwalk_hide(walk, &base_tips[i]) < 0)
				git_error_clear(); /* gone from here: its objects stay in the base */
	if (git_packbuilder_insert_walk(pb, walk) < 0 ||
	    git_packbuilder_write(pb, dir.ptr, 0, NULL, NULL) < 0 ||
	    !(name = git_packbuilder_name(pb))) {
		error = sync_git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	snprintf(newname, sizeof(newname), "%s", name);
	if (full) {
		if ((error = write_base(l, newname, &tips)) < 0)
			goto done;
		tidu_buf_clear(&keep_base);
	}
	remove_old_packs(dir.ptr, newname, &keep_base);
	git_odb_refresh(l->odb);
done:
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	free(base_tips);
	tidu_buf_free(&dir);
	tidu_buf_free(&keep_base);
	tidu_buf_free(&tips);
	return error;
}

/*
 * Repacks if due. The sync itself is done by then: a failure (a full disk)
 * is a note, not the sync's error; the next sync tries again.
 */
void sync_repack_or_note(sync_ctx *c)
{
	if (repack(&c->local) < 0) {
		sync_note(c->rep, _("repo.git was not repacked: %s"), tidu_error_message());
		tidu_error_clear();
	}
}
