-- Asynchronous invocations (api.md, Asynchronous invocation and schedules). While an event is
-- queued or running it lives in the BullMQ queue on Redis (append-only); once it has an outcome,
-- that outcome is written here, so GET /v1/invocations/{id} survives the job's removal. The
-- attempts themselves are billed in the ledger (invocations), like synchronous ones.

-- Per-function async settings; absent means the defaults api.md gives.
CREATE TABLE async_configs (
  function_id  uuid PRIMARY KEY REFERENCES functions (id) ON DELETE CASCADE,
  tenant_id    text NOT NULL,
  config       jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The outcome of every async invocation (succeeded, failed, dead-lettered). No foreign keys: the
-- record outlives a deleted function, as the ledger does.
CREATE TABLE async_invocations (
  id             uuid PRIMARY KEY,
  tenant_id      text NOT NULL,
  function_name  text NOT NULL,
  source         text NOT NULL,
  status         text NOT NULL CHECK (status IN ('succeeded', 'failed', 'dead-lettered')),
  attempts       integer NOT NULL,
  result         bytea,
  error          jsonb,
  created_at     timestamptz NOT NULL,
  started_at     timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX async_invocations_function_idx ON async_invocations (tenant_id, function_name, created_at DESC);

-- Events that failed every attempt (or aged out) with onFailure = dead letter; replay removes them.
CREATE TABLE dead_letters (
  id             uuid PRIMARY KEY,
  tenant_id      text NOT NULL,
  function_name  text NOT NULL,
  event          bytea NOT NULL,
  error          jsonb NOT NULL,
  attempts       integer NOT NULL,
  failed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_function_idx ON dead_letters (tenant_id, function_name, failed_at);

-- Schedules are kept here (the source of truth) and mirrored as BullMQ job schedulers, which
-- produce each tick once however many control planes run. A deleted function takes its
-- schedules with it.
CREATE TABLE schedules (
  id             uuid PRIMARY KEY,
  tenant_id      text NOT NULL,
  function_id    uuid NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
  function_name  text NOT NULL,
  expression     text NOT NULL,
  timezone       text NOT NULL,
  input          jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_function_idx ON schedules (function_id);
