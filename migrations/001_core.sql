-- Core schema: tenants, settings, content-addressed code, functions and their immutable versions,
-- APIs and routes, and the invocation ledger. Every per-tenant table carries tenant_id from the
-- start; one tenant ('default') exists until multi-tenancy arrives.

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (id, name) VALUES ('default', 'Default tenant');

-- Process-wide secrets and knobs (admin token hash, internal token).
CREATE TABLE settings (
  key         text PRIMARY KEY,
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Zips by sha256: identical uploads are stored once, whichever function they belong to.
CREATE TABLE code_archives (
  sha256          text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  zip             bytea NOT NULL,
  size_bytes      integer NOT NULL,
  unzipped_bytes  bigint NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE functions (
  id                       uuid PRIMARY KEY,
  tenant_id                text NOT NULL REFERENCES tenants (id),
  name                     text NOT NULL,
  current_version_id       bigint NOT NULL,
  reserved_concurrency     integer CHECK (reserved_concurrency >= 0),
  provisioned_concurrency  integer CHECK (provisioned_concurrency >= 0),
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

-- A function version is an immutable snapshot of code + configuration. Every update inserts a
-- new row and moves functions.current_version_id, so warm environments keyed by version id can
-- never serve a later configuration by mistake.
CREATE TABLE function_versions (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  function_id  uuid NOT NULL REFERENCES functions (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  runtime      text NOT NULL,
  handler      text NOT NULL,
  memory_mb    integer NOT NULL,
  timeout_ms   integer NOT NULL,
  environment  jsonb NOT NULL DEFAULT '{}'::jsonb,
  network      text NOT NULL CHECK (network IN ('default', 'none')),
  code_sha256  text NOT NULL REFERENCES code_archives (sha256),
  code_size    integer NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX function_versions_function_idx ON function_versions (function_id);

CREATE TABLE apis (
  id                          text PRIMARY KEY,
  tenant_id                   text NOT NULL REFERENCES tenants (id),
  name                        text NOT NULL,
  protocol                    text NOT NULL CHECK (protocol IN ('http', 'websocket')),
  cors                        jsonb,
  hosts                       jsonb NOT NULL DEFAULT '[]'::jsonb,
  route_selection_expression  text,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE routes (
  id                      text PRIMARY KEY,
  tenant_id               text NOT NULL REFERENCES tenants (id),
  api_id                  text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
  route_key               text NOT NULL,
  function_name           text NOT NULL,
  payload_format_version  text NOT NULL CHECK (payload_format_version IN ('1.0', '2.0')),
  options                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (api_id, route_key)
);

-- One row per attempt that ran (design.md, Metering). Idempotent on (id, attempt): a replayed
-- write can never bill an attempt twice. No foreign keys: the ledger outlives deleted functions.
CREATE TABLE invocations (
  id                uuid NOT NULL,
  attempt           integer NOT NULL DEFAULT 1,
  tenant_id         text NOT NULL,
  function_id       uuid NOT NULL,
  function_name     text NOT NULL,
  version_id        bigint NOT NULL,
  source            text NOT NULL,
  started_at        timestamptz NOT NULL,
  duration_us       bigint NOT NULL,
  init_duration_us  bigint NOT NULL DEFAULT 0,
  billed_ms         integer NOT NULL,
  memory_mb         integer NOT NULL,
  cold_start        text NOT NULL CHECK (cold_start IN ('none', 'container', 'stem-cell')),
  status            text NOT NULL,
  error_type        text,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, attempt)
);
CREATE INDEX invocations_function_time_idx ON invocations (tenant_id, function_name, started_at DESC, id);

-- Bumped (and published on Redis) by every change a gateway must see; the gateway's periodic
-- resync compares it instead of reloading the whole route table.
CREATE TABLE config_revision (
  id        integer PRIMARY KEY CHECK (id = 1),
  revision  bigint NOT NULL
);
INSERT INTO config_revision (id, revision) VALUES (1, 1);
