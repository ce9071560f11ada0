/*
 * A staging object database: new objects stay in memory and are written
 * as one pack (sync_persist) before any ref names them.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/*
 * New objects go to this in-memory backend (highest priority, so every
 * write lands here) and are written out as one pack by sync_persist(), before
 * any ref names them. libgit2's own mempack cannot list its objects, and
 * its dump packs everything reachable from its commits (O(history)).
 */
typedef struct {
	git_oid oid;
	git_object_t type;
	size_t len;
	unsigned char data[];
} staged_obj;

struct sync_stage {
	git_odb_backend parent;
	staged_obj **slots; /* open addressing, cap a power of two */
	size_t cap, n;
};

typedef struct sync_stage stage_db;

static size_t slot_of(const stage_db *db, const git_oid *oid)
{
	uint64_t h;

	memcpy(&h, oid->id, sizeof(h));
	return (size_t)h & (db->cap - 1);
}

static staged_obj *stage_find(const stage_db *db, const git_oid *oid)
{
	size_t i;

	if (!db->cap)
		return NULL;
	for (i = slot_of(db, oid); db->slots[i]; i = (i + 1) & (db->cap - 1))
		if (git_oid_equal(&db->slots[i]->oid, oid))
			return db->slots[i];
	return NULL;
}

static void stage_put(stage_db *db, staged_obj *o)
{
	size_t i;

	if ((db->n + 1) * 2 > db->cap) {
		staged_obj **old = db->slots;
		size_t oldcap = db->cap, j;

		db->cap = db->cap ? db->cap * 2 : 64;
		db->slots = tidu_calloc(db->cap, sizeof(*db->slots));
		for (j = 0; j < oldcap; j++) {
			if (!old[j])
				continue;
			for (i = slot_of(db, &old[j]->oid); db->slots[i];
			     i = (i + 1) & (db->cap - 1))
				;
			db->slots[i] = old[j];
		}
		free(old);
	}
	for (i = slot_of(db, &o->oid); db->slots[i]; i = (i + 1) & (db->cap - 1))
		;
	db->slots[i] = o;
	db->n++;
}

static void stage_clear(stage_db *db)
{
	size_t i;

	for (i = 0; i < db->cap; i++) {
		free(db->slots[i]);
		db->slots[i] = NULL;
	}
	db->n = 0;
}

static int stage_read(void **buf, size_t *len, git_object_t *type,
		      git_odb_backend *b, const git_oid *oid)
{
	staged_obj *o = stage_find((stage_db *)b, oid);

	if (!o)
		return GIT_ENOTFOUND;
	*buf = git_odb_backend_data_alloc(b, o->len ? o->len : 1);
	if (!*buf)
		return -1;
	memcpy(*buf, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int stage_read_header(size_t *len, git_object_t *type, git_odb_backend *b,
			     const git_oid *oid)
{
	staged_obj *o = stage_find((stage_db *)b, oid);

	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int stage_write(git_odb_backend *b, const git_oid *oid, const void *data,
		       size_t len, git_object_t type)
{
	stage_db *db = (stage_db *)b;
	staged_obj *o;

	if (stage_find(db, oid))
		return 0;
	o = tidu_malloc(sizeof(*o) + (len ? len : 1));
	git_oid_cpy(&o->oid, oid);
	o->type = type;
	o->len = len;
	memcpy(o->data, data, len);
	stage_put(db, o);
	return 0;
}

static int stage_exists(git_odb_backend *b, const git_oid *oid)
{
	return stage_find((stage_db *)b, oid) != NULL;
}

static void stage_free(git_odb_backend *b)
{
	stage_db *db = (stage_db *)b;

	stage_clear(db);
	free(db->slots);
	free(db);
}

sync_stage *sync_stage_new(void)
{
	stage_db *db = tidu_calloc(1, sizeof(*db));

	git_odb_init_backend(&db->parent, GIT_ODB_BACKEND_VERSION);
	db->parent.read = stage_read;
	db->parent.read_header = stage_read_header;
	db->parent.write = stage_write;
	db->parent.exists = stage_exists;
	db->parent.free = stage_free;
	return db;
}

git_odb_backend *sync_stage_backend(sync_stage *st)
{
	return &st->parent;
}

/* Writes every staged object as one pack. Refs may name them afterwards. */
int sync_persist(sync_local *l)
{
	git_packbuilder *pb = NULL;
	tidu_buf dir = TIDU_BUF_INIT;
	size_t i;
	int error = 0;

	if (!l->stage || !l->stage->n)
		return 0;
	if (git_packbuilder_new(&pb, l->repo) < 0) {
		error = sync_git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	git_packbuilder_set_threads(pb, 1);
	for (i = 0; i < l->stage->cap; i++) {
		staged_obj *o = l->stage->slots[i];

		if (o && git_packbuilder_insert(pb, &o->oid, NULL) < 0) {
			error = sync_git_fail(TIDU_ERROR, _("writing a pack"));
			goto done;
		}
	}
	tidu_buf_printf(&dir, "%s/objects/pack", git_repository_path(l->repo));
	if (git_packbuilder_write(pb, dir.ptr, 0, NULL, NULL) < 0) {
		error = sync_git_fail(TIDU_ERROR, _("writing a pack"));
		goto done;
	}
	stage_clear(l->stage);
	git_odb_refresh(l->odb);
done:
	git_packbuilder_free(pb);
	tidu_buf_free(&dir);
	return error;
}
