-- tidu store, migration 1: firms, firm-years, visits and the change log.
-- Rules that keep rows mergeable (architecture.md section 4): no
-- AUTOINCREMENT keys for synced rows, no extra UNIQUE constraints, no enforced
-- foreign keys between synced tables, a DEFAULT for every NOT NULL column.
--
-- Every synced table has a `_clock` column: per field, the (HLC, device) of
-- the value it holds, one "field<TAB>hlc<TAB>device" line per field, sorted
-- by field. It is what a merge compares against (docs/design.md).

-- Local settings of this store; never synced.
CREATE TABLE meta(
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE firm(
  uscc                 TEXT PRIMARY KEY NOT NULL,
  name                 TEXT,
  district             TEXT,
  zone                 TEXT,
  address              TEXT,
  legal_rep            TEXT,
  contact              TEXT,
  phone                TEXT,
  industry             TEXT,
  chain                TEXT,
  main_product         TEXT,
  product_field        TEXT,
  founded              TEXT,
  niche_since          INTEGER,
  employees            INTEGER,
  rd_staff             INTEGER,
  ip_class1            INTEGER,
  ip_class1_self       INTEGER,
  ip_class1_high_value INTEGER,
  ip_class2            INTEGER,
  rd_institution       TEXT,
  digital_level        INTEGER,
  quality_award        INTEGER,
  iso_cert             INTEGER,
  own_brand            INTEGER,
  standards_work       INTEGER,
  niche_share          REAL,
  niche_rank           INTEGER,
  platform_score       REAL,
  platform_score_year  INTEGER,
  st_award             TEXT,
  high_tech_title      INTEGER,
  chuangke_rank        INTEGER,
  chuangke_year        INTEGER,
  tier                 INTEGER,
  tier_year            INTEGER,
  tier_rules           TEXT,
  reserve_tier         INTEGER,
  officer              TEXT,
  _deleted             INTEGER NOT NULL DEFAULT 0,
  _clock               TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX firm_district ON firm(district, uscc);

CREATE TABLE firm_year(
  uscc              TEXT NOT NULL DEFAULT '',
  year              INTEGER NOT NULL DEFAULT 0,
  revenue           REAL,
  main_revenue      REAL,
  rd_expense        REAL,
  net_profit        REAL,
  total_assets      REAL,
  total_liabilities REAL,
  equity_financing  REAL,
  _deleted          INTEGER NOT NULL DEFAULT 0,
  _clock            TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(uscc, year)
) WITHOUT ROWID;

CREATE TABLE visit(
  id            TEXT PRIMARY KEY NOT NULL,
  uscc          TEXT,
  date          TEXT,
  officer       TEXT,
  kind          TEXT,
  problems      TEXT,
  needs         TEXT,
  note          TEXT,
  follow_up     TEXT,
  follow_up_due TEXT,
  lat           REAL,
  lon           REAL,
  _deleted      INTEGER NOT NULL DEFAULT 0,
  _clock        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX visit_firm ON visit(uscc, date, id);

-- The change log: one row per write of one entity, in the same transaction
-- as the write. `fields` is a JSON array of [field, value, base] triples:
-- value is the canonical text (null clears the field), base is the
-- "hlc:device" of the value it replaced ("" if none) — what conflict
-- detection compares. `seq` is NULL while the change is pending (not yet
-- sealed into a change set).
CREATE TABLE change(
  id      INTEGER PRIMARY KEY,
  entity  TEXT NOT NULL DEFAULT '',
  key     TEXT NOT NULL DEFAULT '',
  hlc     INTEGER NOT NULL DEFAULT 0,
  device  TEXT NOT NULL DEFAULT '',
  wall    INTEGER NOT NULL DEFAULT 0,
  fields  TEXT NOT NULL DEFAULT '[]',
  seq     INTEGER
);
CREATE INDEX change_pending ON change(seq) WHERE seq IS NULL;
