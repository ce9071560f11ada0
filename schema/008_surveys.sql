-- tidu store, migration 8: survey responses (docs/surveys.md). Owned by
-- src/core/survey.c.
--
-- A finalised response is a record like a visit: synced, merged, sealed for
-- the district of its firm. Its answers are one field, the canonical JSON
-- object of include/tidu/answers.h (a response is one document: two edits
-- of one response conflict as one value, kept for review like any field).
CREATE TABLE response(
  id            TEXT PRIMARY KEY NOT NULL,
  uscc          TEXT,
  form          TEXT,
  form_version  TEXT,
  officer       TEXT,
  started       TEXT,
  finished      TEXT,
  answers       TEXT,
  _deleted      INTEGER NOT NULL DEFAULT 0,
  _clock        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX response_uscc ON response(uscc);
CREATE INDEX response_form ON response(form, form_version);

-- The files of a response's file questions (image, audio, video, file),
-- synced: one row per part of at most 256 KiB (base64 in `data`), so a
-- file of up to 20 MiB travels in change sets whose values are at most
-- 1 MiB. Part 0 holds the description; every part names its firm, so
-- each is sealed for the firm's district.
CREATE TABLE attachment(
  id            TEXT NOT NULL,
  part          INTEGER NOT NULL,
  uscc          TEXT,
  response      TEXT,
  question      TEXT,
  name          TEXT,
  size          INTEGER,
  sha256        TEXT,
  parts         INTEGER,
  data          TEXT,
  _deleted      INTEGER NOT NULL DEFAULT 0,
  _clock        TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(id, part)
) WITHOUT ROWID;
CREATE INDEX attachment_response ON attachment(response);

-- Drafts: local to this store (encrypted with it, never in the change
-- log) until finalised. `answers` is the JSON of answers.h; `started`
-- the response's start (kept across resumes).
CREATE TABLE survey_draft(
  id            TEXT PRIMARY KEY NOT NULL,
  uscc          TEXT NOT NULL,
  form          TEXT NOT NULL,
  form_version  TEXT NOT NULL,
  officer       TEXT NOT NULL DEFAULT '',
  started       TEXT NOT NULL,
  updated       INTEGER NOT NULL DEFAULT 0,
  answers       TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

-- The files a draft's answers name, read when answered (so a file moved
-- away later is still the one given). Keyed by the question's path.
CREATE TABLE survey_draft_file(
  draft         TEXT NOT NULL,
  question      TEXT NOT NULL,
  name          TEXT NOT NULL,
  data          BLOB NOT NULL,
  PRIMARY KEY(draft, question)
) WITHOUT ROWID;
