-- tidu store, migration 3: remotes and the state of `tidu sync`
-- (docs/sync.md). Local to this store, never synced.

-- Central repositories this store syncs with ("origin" by default).
CREATE TABLE remote(
  name TEXT PRIMARY KEY NOT NULL,
  url  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Per remote, the tip of each device ref last read and checked. A later
-- tip must descend from it and keep every file it had: a ref rewound or
-- rewritten on the server, or a file removed or replaced, is refused.
-- `seen` is when the tip last moved (ms).
CREATE TABLE sync_ref(
  remote TEXT NOT NULL DEFAULT '',
  ref    TEXT NOT NULL DEFAULT '',
  tip    TEXT NOT NULL DEFAULT '',
  seen   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(remote, ref)
) WITHOUT ROWID;

-- Files sync refused ('rejected') or could not read ('skipped'), by git
-- object id: reported once, tried again when the keyring version changes.
CREATE TABLE sync_refused(
  oid     TEXT PRIMARY KEY NOT NULL,
  device  TEXT NOT NULL DEFAULT '',
  seq     INTEGER NOT NULL DEFAULT 0,
  outcome TEXT NOT NULL DEFAULT '',
  reason  TEXT NOT NULL DEFAULT '',
  keyring INTEGER NOT NULL DEFAULT 0,
  at      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- City store: enrollment requests fetched from refs/heads/enroll/..., as
-- signed by their devices, waiting for `tidu admin pending`.
CREATE TABLE enroll_pending(
  device   TEXT PRIMARY KEY NOT NULL,
  ref      TEXT NOT NULL DEFAULT '',
  oid      TEXT NOT NULL DEFAULT '',
  doc      BLOB NOT NULL DEFAULT x'',
  received INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
