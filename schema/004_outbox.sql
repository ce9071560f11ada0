-- tidu store, migration 4: pending changes that cannot be sealed
-- (docs/sync.md, "The outbox"). Local to this store, never synced.

-- A change the seal could not put in a change set (a value over a limit,
-- a damaged change-log row, a change too large for one file) is set aside
-- here, and its change row gets seq 0, so that it never blocks the rest
-- of the outbox. `tidu changes pending` lists these with the reason;
-- `tidu changes retry` puts them back in the outbox. `at` is when (ms).
CREATE TABLE change_aside(
  change INTEGER PRIMARY KEY,
  reason TEXT NOT NULL DEFAULT '',
  at     INTEGER NOT NULL DEFAULT 0
);
