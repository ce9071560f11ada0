-- tidu store, migration 7: survey forms (docs/surveys.md). Every version
-- of every form this store has imported (tidu form import) or received
-- from the city; a response names its form and version, so none is ever
-- replaced. Owned by src/core/forms.c. Local: forms travel as the city's
-- signed document, not through the change log.
--   xlsx     the workbook as imported, byte for byte (read again on use)
--   title    in the form's default language, for lists
--   source   'local' (tidu form import), 'city' (published by the city) or
--            'builtin' (a built-in form of schema/forms, pinned when used)
--   published  city: 1 once `tidu form publish` sent it to every device
--   at       when this store took it (ms since 1970)
CREATE TABLE form(
  id        TEXT NOT NULL,
  version   TEXT NOT NULL,
  title     TEXT NOT NULL DEFAULT '',
  questions INTEGER NOT NULL DEFAULT 0,
  xlsx      BLOB NOT NULL,
  sha256    TEXT NOT NULL,
  source    TEXT NOT NULL DEFAULT 'local',
  published INTEGER NOT NULL DEFAULT 0,
  at        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(id, version)
);
