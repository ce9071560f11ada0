-- tidu store, migration 2: device keys, the keyring, change sets, conflicts.
-- None of these tables is synced as rows: keys and keyrings travel as signed
-- documents, change sets as sealed files.

-- This device's key pairs and pins: 'sign_sk', 'sign_pk' (Ed25519),
-- 'box_sk', 'box_pk' (X25519), 'city_pin' (the city's signing public key,
-- pinned at the first keyring import or `tidu init --city-key`),
-- 'city_box_pk' (the city's box key) and 'city_fp' (its fingerprint text).
CREATE TABLE secret(
  name  TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL DEFAULT x''
) WITHOUT ROWID;

-- District read keys (X25519) by epoch. `sk` is NULL where this store holds
-- only the public key; the city holds all, an officer its district's grants.
CREATE TABLE district_key(
  district TEXT NOT NULL DEFAULT '',
  epoch    INTEGER NOT NULL DEFAULT 0,
  pk       BLOB NOT NULL DEFAULT x'',
  sk       BLOB,
  PRIMARY KEY(district, epoch)
) WITHOUT ROWID;

-- Signed keyring documents as received (or made, on the city); the current
-- keyring is the highest version.
CREATE TABLE keyring(
  version INTEGER PRIMARY KEY NOT NULL,
  doc     BLOB NOT NULL DEFAULT x''
);

-- The devices of the current keyring. `revoked_after` is the last sequence
-- number accepted from a revoked device (NULL while it is not revoked).
CREATE TABLE device(
  device        TEXT PRIMARY KEY NOT NULL,
  district      TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL DEFAULT '',
  officer       TEXT NOT NULL DEFAULT '',
  sign_pk       BLOB NOT NULL DEFAULT x'',
  box_pk        BLOB NOT NULL DEFAULT x'',
  revoked_after INTEGER
) WITHOUT ROWID;

-- Every sealed change set this store holds, its own and others', as the
-- immutable file. state: 'applied', 'held' (waiting for an earlier sequence
-- of its device) or 'sealed' (own, not yet sent anywhere — informative).
CREATE TABLE changeset(
  device   TEXT NOT NULL DEFAULT '',
  seq      INTEGER NOT NULL DEFAULT 0,
  district TEXT NOT NULL DEFAULT '',
  hash     BLOB NOT NULL DEFAULT x'',
  prev     BLOB NOT NULL DEFAULT x'',
  hlc_min  INTEGER NOT NULL DEFAULT 0,
  hlc_max  INTEGER NOT NULL DEFAULT 0,
  count    INTEGER NOT NULL DEFAULT 0,
  state    TEXT NOT NULL DEFAULT 'applied',
  file     BLOB NOT NULL DEFAULT x'',
  received INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(device, seq)
) WITHOUT ROWID;

-- Values that lost a merge against a concurrent edit of the same field from
-- the same base, kept for a person to review (`tidu conflicts`).
CREATE TABLE conflict(
  id           INTEGER PRIMARY KEY,
  entity       TEXT NOT NULL DEFAULT '',
  key          TEXT NOT NULL DEFAULT '',
  field        TEXT NOT NULL DEFAULT '',
  value        TEXT,
  hlc          INTEGER NOT NULL DEFAULT 0,
  device       TEXT NOT NULL DEFAULT '',
  lost_value   TEXT,
  lost_hlc     INTEGER NOT NULL DEFAULT 0,
  lost_device  TEXT NOT NULL DEFAULT '',
  resolved     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conflict_field ON conflict(entity, key, field);
