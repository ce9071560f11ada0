-- tidu store, migration 10: cultivation services (docs/services.md).
--
-- institution: the service institutions (优质服务机构清单) and the city's
-- cultivation service package. Owned by src/core/service.c. The city's rows
-- (origin 'city') are published signed on refs/heads/city/services and
-- replaced whole on every device from that document; a district's own
-- local institutions (origin 'local') stay on its store. Lists are
-- space-separated codes: needs (choices `need`), districts (empty: all),
-- tiers (1 2 3; empty: all).
CREATE TABLE institution(
  id        TEXT PRIMARY KEY NOT NULL,
  name      TEXT NOT NULL,
  kind      TEXT NOT NULL,
  needs     TEXT NOT NULL DEFAULT '',
  districts TEXT NOT NULL DEFAULT '',
  tiers     TEXT NOT NULL DEFAULT '',
  contact   TEXT NOT NULL DEFAULT '',
  origin    TEXT NOT NULL DEFAULT 'city' CHECK (origin IN ('city', 'local')),
  updated   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Referrals of a firm to an institution for a need, events (matchmaking,
-- trainings, competitions) and who attended: records like visits, logged,
-- sealed for the firm's district (an event: for its district) and merged
-- field by field. Owned by src/core/service.c (referral) and
-- src/core/event.c (event, attendance).
CREATE TABLE referral(
  id            TEXT PRIMARY KEY NOT NULL,
  uscc          TEXT,
  institution   TEXT,
  need          TEXT,
  date          TEXT,
  officer       TEXT,
  outcome       TEXT,
  follow_up_due TEXT,
  note          TEXT,
  _deleted      INTEGER NOT NULL DEFAULT 0,
  _clock        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX referral_firm ON referral(uscc, date);

CREATE TABLE event(
  id        TEXT PRIMARY KEY NOT NULL,
  district  TEXT,
  kind      TEXT,
  date      TEXT,
  title     TEXT,
  place     TEXT,
  note      TEXT,
  _deleted  INTEGER NOT NULL DEFAULT 0,
  _clock    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX event_date ON event(date);

CREATE TABLE attendance(
  id        TEXT PRIMARY KEY NOT NULL,
  event     TEXT,
  uscc      TEXT,
  people    INTEGER,
  note      TEXT,
  _deleted  INTEGER NOT NULL DEFAULT 0,
  _clock    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX attendance_event ON attendance(event);
CREATE INDEX attendance_firm ON attendance(uscc);
