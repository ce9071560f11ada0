#ifndef TIDU_SYNC_H
#define TIDU_SYNC_H
/*
 * Sync through a central git repository (the rooms: docs/architecture.md; how to
 * run it: docs/sync.md). Every store keeps a local bare repository
 * `repo.git` in its home, written with libgit2 only:
 *
 *   refs/heads/<district>/<device>   one per device: its sealed change sets,
 *                                    cs/<seq/62500>/<seq/250%250>/<seq>.tcs
 *                                    (%04, %03 and %012 digits)
 *   refs/heads/city/keyring          keyring.json, the latest signed keyring
 *   refs/heads/city/pool             tips.txt, the device tips the city merged
 *   refs/heads/city/<district>/<desk>  the city's own change sets for the
 *                                    district (its desk, trust.h), as above
 *   refs/heads/enroll/<district>/<device>  request.json, until enrolled
 *
 * Fetched refs are kept under refs/remotes/<remote>/... Nothing here prints:
 * progress and password prompts go through the callbacks of tidu_sync_opts.
 * Code: src/core/sync/ (docs/sync.md, "Source files").
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/remote.h"
#include "tidu/store.h"
#include "tidu/trust.h"

#define TIDU_REPO_DIR "repo.git"           /* in the store's home */
#define TIDU_SYNC_LOCK "sync.lock"         /* in the store's home (flock) */
#define TIDU_SYNC_LOCK_WAIT_MS 10000       /* a second sync waits this long */
#define TIDU_SYNC_MAX_AUTH 3               /* credential attempts per connection */

/* ---- sync --------------------------------------------------------------- */

typedef struct {
	/* SSH private key file (its public key is FILE.pub if present); NULL:
	 * the SSH agent. $TIDU_SSH_PASSPHRASE unlocks an encrypted key. */
	const char *ssh_key;
	/*
	 * Asks for a user name and password for `url` when the server wants
	 * them and TIDU_GIT_USERNAME / TIDU_GIT_PASSWORD are not set; `user`
	 * may hold the name from the URL already. Returns 0, or < 0 to give up.
	 * NULL: never ask (no terminal).
	 */
	int (*ask_password)(void *ctx, const char *url, tidu_buf *user, tidu_buf *pass);
	/*
	 * Transfer progress: `what` is "fetch" or "push"; objects `done` of
	 * `total`, `bytes` transferred. NULL: quiet.
	 */
	void (*progress)(void *ctx, const char *what, size_t done, size_t total,
			 size_t bytes);
	void *ctx;
	int lock_wait_ms; /* 0: TIDU_SYNC_LOCK_WAIT_MS */
} tidu_sync_opts;

/* A sync repacks repo.git into one pack when it holds more packs than this. */
#define TIDU_REPACK_AT 32

/* What one sync did. Release with tidu_sync_report_free(). */
typedef struct {
	char remote[TIDU_REMOTE_NAME_MAX + 1];
	size_t sealed;           /* changes sealed now into a new change set */
	size_t sent;             /* own change sets the server did not have */
	size_t received;         /* change sets applied */
	size_t devices;          /* ... from this many devices */
	size_t changes;          /* changes merged */
	size_t conflicts;        /* conflicts recorded */
	size_t rejected;         /* change sets, refs, keyrings, requests refused */
	size_t held;             /* change sets waiting for an earlier one */
	size_t skipped;          /* change sets no key of this store opens */
	int enrolled;            /* this device is in the keyring (after sync) */
	int enroll_published;    /* its enrollment request was pushed now */
	int64_t keyring_version; /* keyring imported (device) or published (city) now; 0: none */
	int city_pinned;         /* the city key was pinned now (first keyring) */
	char city_fingerprint[TIDU_TRUST_FP_SIZE];
	size_t requests;         /* city: enrollment requests waiting for approval */
	size_t requests_new;     /* ... of which fetched now */
	int pool_committed;      /* city: a consolidation commit was made */
	size_t rules_taken;      /* device: rule packs of the city taken now */
	size_t rules_published;  /* city: rule packs on refs/heads/city/rules, committed now */
	size_t forms_taken;      /* device: forms of the city taken now */
	size_t forms_published;  /* city: forms on refs/heads/city/forms, committed now */
	size_t targets_taken;    /* device: the city's targets taken now (rows) */
	size_t targets_published; /* city: targets on refs/heads/city/targets, committed now */
	size_t services_taken;   /* device: the city's service institutions taken now */
	size_t services_published; /* city: institutions on refs/heads/city/services, committed now */
	int64_t ahead_ms;        /* a device's clock was this far ahead (0: none) */
	char ahead_device[TIDU_DEVICE_ID_LEN + 1];
	char **problems;         /* one line per refusal, for the user */
	size_t nproblems;
	char **notes;            /* warnings that are not refusals */
	size_t nnotes;
	size_t relayed;          /* relay: refs forwarded FROM -> TO */
	size_t relayed_back;     /* relay: city refs forwarded TO -> FROM */
} tidu_sync_report;

/*
 * One sync with remote `remote` (NULL: "origin"), under a lock on the home
 * (a second sync waits opts->lock_wait_ms, then TIDU_ERROR): fetch what
 * this store may read (its district's device refs and the city refs; the
 * city fetches every ref), import a newer city keyring (the city gathers
 * enrollment requests instead), seal the pending changes and commit every
 * own sealed change set not yet on this device's ref (one pack), apply the
 * new change sets of every other device in sequence order (refusing
 * rewound refs and removed or replaced files), on the city publish the
 * keyring and commit the pool, and push this store's refs (fast-forwards
 * only). When the server cannot be reached, the changes are still sealed
 * and committed locally. docs/sync.md has the details.
 *
 * Returns 0 when the sync completed (refusals are counted in
 * rep->rejected, the caller exits 4 for them), or TIDU_ERROR for a
 * network or server failure (the message names the server's reason; what
 * was committed locally stays and goes out next time), or another code.
 * `rep` is filled in either case. `opts` may be NULL.
 */
int tidu_sync(tidu_store *s, const char *remote, const tidu_sync_opts *opts,
	      tidu_sync_report *rep);

void tidu_sync_report_free(tidu_sync_report *rep);

/*
 * City store: makes `url` the central repository and publishes the city's
 * refs there. A local path (or file:// URL) that does not exist is created
 * as a bare repository; a network URL must name an existing (empty or
 * tidu) repository. Adds the remote `name` (NULL: "origin") if missing,
 * then runs tidu_sync(). TIDU_EINVAL if not a city store; TIDU_EEXISTS if
 * `name` names another URL, or the path exists and is not a repository.
 */
int tidu_sync_init_central(tidu_store *city, const char *url, const char *name,
			   const tidu_sync_opts *opts, tidu_sync_report *rep);

/*
 * District hub or city store: relays the district's refs from remote
 * `from` (a LAN repository) to remote `to` (the central one), after
 * verifying them (docs/sync.md, "Relay"). The city's keyring is fetched
 * from `to` first and imported; then every device ref of the district on
 * `from` is checked and its new change sets applied to this store
 * (signature, keyring, chain, district), and a ref is forwarded, as it
 * is, only when every file of every commit to push is a change set this
 * store holds as applied (or sealed itself). A ref with anything refused
 * is not forwarded and counted in rep->rejected. Enrollment requests of
 * the district are forwarded when well formed; the verified keyring goes
 * the other way, `to` -> `from`. Same return codes as tidu_sync().
 * TIDU_EINVAL if the store is an officer's, or `from` equals `to`.
 */
int tidu_relay(tidu_store *s, const char *from, const char *to,
	       const tidu_sync_opts *opts, tidu_sync_report *rep);

/* ---- what sync saw ------------------------------------------------------ */

/* A device of the keyring and when a sync last saw it. */
typedef struct {
	tidu_trust_device dev;
	uint64_t last_seq;   /* highest change set held from it (not waiting); 0: none */
	int64_t last_seen;   /* ms: when a sync last saw its ref move (else when
				a change set of it was last received); 0: never */
} tidu_sync_device_seen;

/*
 * Every device of the keyring but this store's own and the city's desks, by district then
 * device, with what sync saw of it. `*out` is the caller's (free()).
 */
int tidu_sync_devices_seen(tidu_store *s, tidu_sync_device_seen **out, size_t *n);

/*
 * When this store last completed a sync (or relay) and with which remote.
 * TIDU_ENOTFOUND if it never did.
 */
int tidu_sync_last(tidu_store *s, int64_t *ms,
			char remote[TIDU_REMOTE_NAME_MAX + 1]);

/* ---- enrollment requests fetched by the city --------------------------- */

typedef struct {
	tidu_trust_request req; /* verified again when listed */
	char ref[128];          /* where it was found */
	int64_t received;       /* ms */
} tidu_sync_request;

/*
 * Enrollment requests fetched by the city's syncs that still wait, each
 * verified again (requests of devices enrolled meanwhile are dropped).
 * `*out` is the caller's (free()). TIDU_EINVAL if not a city store.
 */
int tidu_sync_requests(tidu_store *city, tidu_sync_request **out, size_t *n);

/*
 * Admits the waiting request of `device` (tidu_trust_admit) and forgets it,
 * in one transaction. The next sync publishes the new keyring.
 * TIDU_ENOTFOUND if no request of that device waits.
 */
int tidu_sync_request_admit(tidu_store *city, const char *device,
			    tidu_trust_request *info_out);

/* ---- layout ------------------------------------------------------------- */

/* Writes the path of change set `seq` in a device's tree to `out` (>= 40 bytes). */
void tidu_sync_changeset_path(uint64_t seq, char *out, size_t size);

#endif
