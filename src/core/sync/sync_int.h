#ifndef TIDU_SYNC_INT_H
#define TIDU_SYNC_INT_H
/*
 * What the files of src/core/sync share (docs/sync.md, "Source files").
 *
 * A sync is three parts: the local repository (sync_local: repo.git under
 * the sync lock, its staging object database, refs waiting for their
 * pack), one connection to a remote (sync_conn: the URL, what the server
 * advertised, the transport's state) and the run (sync_ctx: what this
 * store is, the refs it writes, the report). Functions take the smallest
 * of them that they need.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "tidu/buf.h"
#include "tidu/changeset.h"
#include "tidu/remote.h"
#include "tidu/store.h"
#include "tidu/sync.h"
#include "tidu/trust.h"

#define REF_MAX 160
#define OID_HEX (GIT_OID_HEXSZ + 1)
#define KEYRING_FILE "keyring.json"
#define REQUEST_FILE "request.json"
#define TIPS_FILE "tips.txt"
#define BASE_FILE "tidu-base-pack" /* in repo.git: see repack.c */
/* Its biggest readable size: one 41-byte line per ref tip, for a million refs. */
#define BASE_FILE_MAX ((size_t)64 << 20)
#define CITY_KEYRING_REF "refs/heads/city/keyring"
#define CITY_POOL_REF "refs/heads/city/pool"
#define CITY_RULES_REF "refs/heads/city/rules"
#define RULES_FILE "rules.json"
#define CITY_FORMS_REF "refs/heads/city/forms"
#define FORMS_FILE "forms.json"
#define CITY_TARGETS_REF "refs/heads/city/targets"
#define TARGETS_FILE "targets.json"
#define CITY_SERVICES_REF "refs/heads/city/services"
#define SERVICES_FILE "services.json"

/* ---- util.c: small helpers ---------------------------------------------- */

/* Sets the error from libgit2's last error, prefixed by `what`. */
int sync_git_fail(int code, const char *what);
void sync_oid_hex(const git_oid *oid, char out[OID_HEX]);
int sync_ends_with(const char *s, const char *suffix);
/* Runs one statement without results; `what` names it in errors. */
int sync_exec1(tidu_store *s, sqlite3_stmt *st, const char *what);
/* A refusal: counted, and a line for the user. */
void sync_refuse(tidu_sync_report *rep, const char *fmt, ...) TIDU_PRINTF(2, 3);
/* A warning that is not a refusal. */
void sync_note(tidu_sync_report *rep, const char *fmt, ...) TIDU_PRINTF(2, 3);

/* ---- stage.c: the in-memory object database ----------------------------- */

typedef struct sync_stage sync_stage;

/* A new staging backend, to be added to an odb (which then owns it). */
sync_stage *sync_stage_new(void);
git_odb_backend *sync_stage_backend(sync_stage *st);

/* ---- local.c: repo.git, the lock, refs, commits -------------------------- */

typedef struct {
	tidu_store *s;
	char *home;
	char device[TIDU_DEVICE_ID_LEN + 1]; /* commits are signed with it */
	git_repository *repo;
	git_odb *odb;
	sync_stage *stage; /* owned by odb */
	int lockfd;        /* flock on the home's sync.lock */
	/* refs to move once their objects are packed (sync_flush_refs) */
	struct {
		char name[REF_MAX];
		git_oid oid;
	} pending[4];
	size_t npending;
} sync_local;

/* Fills `l` for store `s` and takes the lock on its home (waits `wait_ms`). */
int sync_local_lock(sync_local *l, tidu_store *s, int wait_ms);
/* Opens (or creates) repo.git with its staging backend. */
int sync_local_open(sync_local *l);
void sync_local_close(sync_local *l);
/* Writes every staged object as one pack. Refs may name them afterwards. */
int sync_persist(sync_local *l);
/* The commit a ref names; 1 when the ref does not exist. */
int sync_ref_get(sync_local *l, const char *name, git_oid *out);
int sync_ref_set(sync_local *l, const char *name, const git_oid *oid);
/* One pack for everything staged, then the deferred refs. */
int sync_flush_refs(sync_local *l);
/* Commits tree `tree_oid` on `parent` (may be NULL); staged, on no ref. */
int sync_commit_tree(sync_local *l, const git_oid *tree_oid, const git_oid *parent,
		     const char *msg, git_oid *out);
/* The tree of commit `oid`. */
int sync_commit_tree_of(sync_local *l, const git_oid *oid, git_tree **out);
/* The blob at `path` of commit `tip`; 1 if there is none. */
int sync_read_file(sync_local *l, const git_oid *tip, const char *path, git_blob **out,
		   git_oid *blob_oid);
/* A tree with one file: `name` holding `data`. Staged. */
int sync_one_file_tree(sync_local *l, const char *name, const void *data, size_t len,
		       git_oid *tree_out, git_oid *blob_out);

/* ---- tree.c: the layout of refs and device trees ------------------------ */

/* Splits "<district>/<device>"; 0 if `rest` is not one. */
int sync_split_device_ref(const char *rest, char *district, size_t dsize, char *device,
			  size_t vsize);
/* 1 for "refs/heads/<district>/<device>", 2 for the city's desk ref, else 0. */
int sync_device_ref(const char *name, char *district, size_t dsize, char *device,
		    size_t vsize);
/* Reads "NNNNNNNNNNNN.tcs" (12 digits). 0 if the name is not one. */
int sync_parse_cs_name(const char *name, uint64_t *seq);
/* The highest sequence number in a device tree (0 for none). */
int sync_tree_max_seq(sync_local *l, git_tree *root, uint64_t *out);
/* The highest sequence number on commit `tip` (0 for NULL). */
int sync_max_on(sync_local *l, const git_oid *tip, uint64_t *out);
/* Every file of `old` is in `newer`, unchanged: 0; else 1 and the first difference. */
int sync_tree_keeps(sync_local *l, git_tree *old, git_tree *newer, uint64_t *seq,
		    int *removed);

/* ---- transport.c: one connection ---------------------------------------- */

typedef struct {
	char *name; /* full ref name */
	git_oid oid;
} sync_head;

typedef struct {
	const tidu_sync_opts *opts;
	char remote[TIDU_REMOTE_NAME_MAX + 1];
	char *url;
	sync_head *heads; /* what the server advertised at the last connection, by name */
	size_t nheads;
	git_remote *kept; /* a push connection kept from sync_probe(), or NULL */
	char **push_keep; /* while pushing: the refs pushed (see transport.c) */
	size_t npush_keep;
	int pushing;
	int auth_attempts;
	tidu_buf net_msg;  /* why we broke off a connection ourselves */
	tidu_buf sideband; /* "remote:" text of a push */
	tidu_buf push_errors;
} sync_conn;

/* Switches the connection to remote `name` (its URL). */
int sync_conn_use(sync_conn *n, tidu_store *s, const char *name);
void sync_conn_close(sync_conn *n);
void sync_heads_free(sync_head *h, size_t n);
/* The tip the server advertised for `name`, or NULL. */
const git_oid *sync_server_head(const sync_conn *n, const char *name);
/* The head `name` in a list sorted or not. */
const git_oid *sync_find_head(const sync_head *h, size_t n, const char *name);
void sync_set_callbacks(sync_conn *n, git_remote_callbacks *cb);
/* An in-memory remote for the URL. */
int sync_make_remote(sync_conn *n, git_repository *repo, git_remote **out);
/* Sets the error for a failed connection, preferring our own reason. */
int sync_net_fail(sync_conn *n, const char *what);
/* Connects in `direction`, keeps the server's list of branches. */
int sync_connect_list(sync_conn *n, git_repository *repo, git_direction direction,
		      git_remote_callbacks *cb, git_proxy_options *proxy, git_remote **out);
/* The "remote:" text of the server, on one line, without control characters. */
void sync_server_text(const tidu_buf *in, tidu_buf *out);

/* ---- the run ------------------------------------------------------------- */

/* A ref this store writes: its own, and on the city its desks'. */
typedef struct {
	char ref[REF_MAX];
	char device[TIDU_DEVICE_ID_LEN + 1];
	int blocked; /* the server's copy is not ours: no push */
} sync_own;

typedef struct {
	tidu_store *s;
	tidu_sync_report *rep;
	sync_local local;
	sync_conn net;
	int city;
	int relay; /* tidu_relay(): also fetch the district's enroll refs */
	char device[TIDU_DEVICE_ID_LEN + 1];
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1];
	char own_ref[REF_MAX], enroll_ref[REF_MAX];
	sync_own *owns;
	size_t nowns;
	int64_t keyring; /* this store's keyring version */
	tidu_buf tips;   /* city: the device tips read, for the pool commit */
} sync_ctx;

/* sync.c */
void sync_git_begin(void);
int sync_setup(sync_ctx *c, tidu_store *s, const char *remote, const tidu_sync_opts *opts,
	       tidu_sync_report *rep);
void sync_teardown(sync_ctx *c);

/* repack.c: repacks if due; a failure is a note (the sync itself is done). */
void sync_repack_or_note(sync_ctx *c);

/* own.c: the refs this store writes */
int sync_is_own_ref(sync_ctx *c, const char *name);
int sync_seal_and_commit(sync_ctx *c, int enrolled);
int sync_check_owns(sync_ctx *c);

/* fetch.c */
int sync_wanted(const sync_ctx *c, const char *name);
int sync_probe(sync_ctx *c);
int sync_fetch(sync_ctx *c);

/* push.c */
int sync_push(sync_ctx *c, char **specs, size_t n);
int sync_push_spec_if_new(sync_ctx *c, const char *ref, char ***specs, size_t *n);
int sync_push_owns(sync_ctx *c, char ***specs, size_t *nspecs, size_t *sent);
void sync_specs_free(char **specs, size_t n);

/* commit of a one-file ref (local.c): keyring and pool */
int sync_commit_file(sync_ctx *c, const char *ref, const char *name, const void *data,
		     size_t len, const char *msg, int *made);

/* keyring.c */
int sync_import_keyring(sync_ctx *c);
int sync_publish_keyring(sync_ctx *c);
/* citydoc.c: the city's other signed documents (rule packs, forms), one ref each */
int sync_import_citydocs(sync_ctx *c);
int sync_publish_citydocs(sync_ctx *c);
/* 1 if `name` is the ref of one of them; the i-th ref, NULL past the end. */
int sync_citydoc_is_ref(const char *name);
const char *sync_citydoc_ref(size_t i);

/* enroll.c */
int sync_prepare_enroll(sync_ctx *c, char **spec);
int sync_gather_requests(sync_ctx *c);

/* apply.c */
int sync_apply_ref(sync_ctx *c, const char *ref, const char *district, const char *device,
		   const git_oid *tip, uint64_t *through);
int sync_desk_ref_ok(sync_ctx *c, const char *name, const char *device);
int sync_apply_all(sync_ctx *c);
int sync_check_gone(sync_ctx *c);
int sync_commit_pool(sync_ctx *c);

/* state.c: sync_ref, sync_refused, enroll_pending and sync's meta keys */
int sync_state_seen_tip(tidu_store *s, const char *remote, const char *ref, git_oid *out);
int sync_state_set_seen_tip(tidu_store *s, const char *remote, const char *ref,
			    const git_oid *tip);
/* Calls `fn` with every tip recorded (any remote); errors end it quietly. */
void sync_state_each_tip(tidu_store *s, void (*fn)(void *ctx, const char *hex), void *ctx);
/* The refs recorded for `remote`, by name. `*out` is the caller's. */
int sync_state_refs(tidu_store *s, const char *remote, char ***out, size_t *n);
int sync_state_forget_ref(tidu_store *s, const char *remote, const char *ref);
/* Forgets what sync remembered of remote `name` (inside the caller's transaction). */
int sync_state_forget_remote(tidu_store *s, const char *name);
int sync_state_refused_before(tidu_store *s, const char *oid, int64_t keyring);
int sync_state_remember_refused(tidu_store *s, const char *oid, const char *device,
				uint64_t seq, const char *outcome, const char *reason,
				int64_t keyring);
/* The keyring blob last imported from `remote` (NULL: none). */
int sync_state_keyring_seen(tidu_store *s, const char *remote, char **hex);
int sync_state_set_keyring_seen(tidu_store *s, const char *remote, const char *hex);
/* The city document of `kind` ("rules", "forms") last imported from `remote` (NULL: none). */
int sync_state_doc_seen(tidu_store *s, const char *kind, const char *remote, char **hex);
int sync_state_set_doc_seen(tidu_store *s, const char *kind, const char *remote,
			    const char *hex);
/* "version:digest" of the last keyring published (NULL: none). */
int sync_state_keyring_state(tidu_store *s, char **state);
int sync_state_set_keyring_state(tidu_store *s, const char *state);
int sync_state_note_last_sync(tidu_store *s, const char *remote);
/* 1 if a request blob `oid` is kept already. */
int sync_state_request_known(tidu_store *s, const char *oid);
int sync_state_request_keep(tidu_store *s, const char *device, const char *ref,
			    const char *oid, const void *doc, size_t len);
int sync_state_request_count(tidu_store *s, size_t *n);

typedef struct {
	char device[TIDU_DEVICE_ID_LEN + 1];
	char ref[128];
	tidu_buf doc;
	int64_t received;
} sync_state_request;

/* Every kept request, by time received then device. */
int sync_state_requests(tidu_store *s, sync_state_request **out, size_t *n);
void sync_state_requests_free(sync_state_request *v, size_t n);
/* The kept request document of `device` into `doc`; 1 if there is none. */
int sync_state_request_doc(tidu_store *s, const char *device, tidu_buf *doc);
int sync_state_request_forget(tidu_store *s, const char *device);

#endif
