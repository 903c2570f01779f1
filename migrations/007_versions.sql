-- Published versions and aliases (Lambda's versioning). $LATEST stays functions.current_version_id.
-- A published version is its own immutable function_versions row (a copy of $LATEST's at publish
-- time), so its warm environments, keyed by that row, are never retired by a change to $LATEST.

ALTER TABLE functions
  ADD COLUMN description   text NOT NULL DEFAULT '',
  -- Changes on every code or configuration change: Lambda's RevisionId preconditions.
  ADD COLUMN revision_id   uuid NOT NULL DEFAULT gen_random_uuid(),
  -- The highest version number ever published: numbers are never reused, not even after a delete.
  ADD COLUMN last_version  integer NOT NULL DEFAULT 0;

CREATE TABLE published_versions (
  function_id        uuid NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
  version            integer NOT NULL CHECK (version >= 1),
  version_id         bigint NOT NULL REFERENCES function_versions (id),
  -- The $LATEST row it was taken from: publishing an unchanged $LATEST returns this version.
  source_version_id  bigint NOT NULL,
  description        text NOT NULL DEFAULT '',
  revision_id        uuid NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (function_id, version)
);

CREATE TABLE function_aliases (
  function_id         uuid NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
  name                text NOT NULL,
  -- NULL is $LATEST.
  function_version    integer,
  additional_version  integer,
  additional_weight   double precision CHECK (additional_weight >= 0 AND additional_weight <= 1),
  description         text NOT NULL DEFAULT '',
  revision_id         uuid NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (function_id, name),
  FOREIGN KEY (function_id, function_version) REFERENCES published_versions (function_id, version),
  FOREIGN KEY (function_id, additional_version) REFERENCES published_versions (function_id, version),
  CHECK ((additional_version IS NULL) = (additional_weight IS NULL))
);

-- Which version ran: '$LATEST' or the published number (the ledger's version_id is the row).
ALTER TABLE invocations ADD COLUMN executed_version text NOT NULL DEFAULT '$LATEST';
ALTER TABLE function_logs ADD COLUMN executed_version text NOT NULL DEFAULT '$LATEST';

-- A schedule may fire a version or an alias of its function (NULL: $LATEST).
ALTER TABLE schedules ADD COLUMN qualifier text;
