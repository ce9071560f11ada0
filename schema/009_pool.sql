-- tidu store, migration 9: the reserve pool (docs/pool.md). Owned by
-- src/core/pool.c.
--
-- A firm's place on a reserve list is firm fields like any other (logged,
-- sealed, merged field by field; the change log is the list's history):
-- reserve_tier (already there), officer (already there), and
--   reserve_since        the date it joined its list
--   reserve_reason       why it joined (free text: "recognised tier below",
--                        "assessed close", "high-tech firm" ...)
--   reserve_left         the date it left the lists (empty while on one)
--   reserve_left_reason  why it left
ALTER TABLE firm ADD COLUMN reserve_since TEXT;
ALTER TABLE firm ADD COLUMN reserve_reason TEXT;
ALTER TABLE firm ADD COLUMN reserve_left TEXT;
ALTER TABLE firm ADD COLUMN reserve_left_reason TEXT;
CREATE INDEX firm_reserve ON firm(reserve_tier) WHERE reserve_tier > 0;

-- The year's targets by tier, for the city (district '') and each
-- district. Set on the city, published signed on refs/heads/city/targets;
-- a district's store keeps the city's rows and its own. Not in the change
-- log: the city's signed document is the truth, replaced whole.
CREATE TABLE pool_target(
  year      INTEGER NOT NULL,
  tier      INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 3),
  district  TEXT NOT NULL DEFAULT '',
  target    INTEGER NOT NULL CHECK (target >= 0),
  updated   TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (year, tier, district)
) WITHOUT ROWID;
