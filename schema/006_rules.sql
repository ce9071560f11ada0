-- tidu store, migration 6: the rule packs the city publishes
-- (docs/assess.md, "How the city updates a pack"). Per pack id, the newest
-- pack the city published (on the city store) or that came signed on
-- refs/heads/city/rules (on a device); it replaces the embedded pack of
-- the same id when its version is higher. Owned by src/core/rules.c.
--   text  the pack file as the city published it
--   at    when this store stored it (ms since 1970)
CREATE TABLE rule_pack(
  id      TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  text    TEXT NOT NULL,
  at      INTEGER NOT NULL DEFAULT 0
);
