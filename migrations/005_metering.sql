-- Metering at scale: an hourly rollup kept in the same statement as every ledger insert (so a
-- replayed batch can never count twice), counters of rejected requests (never billed), per-tenant
-- prices, and the retention watermark below which ledger entries have been rolled up and removed.

-- Usage queries read whole hours from here and only the partial edge hours from the ledger.
CREATE INDEX invocations_started_at_idx ON invocations (started_at);

-- One row per (tenant, function, UTC hour) with at least one ledger entry. mb_ms is
-- Σ billed_ms × memory_mb, an exact integer: GB-seconds = mb_ms / 1 024 000.
CREATE TABLE usage_hourly (
  tenant_id         text NOT NULL,
  function_name     text NOT NULL,
  hour              timestamptz NOT NULL,
  requests          bigint NOT NULL,
  billed_ms         bigint NOT NULL,
  mb_ms             bigint NOT NULL,
  duration_us       bigint NOT NULL,
  init_duration_us  bigint NOT NULL,
  errors            bigint NOT NULL,
  cold_starts       bigint NOT NULL,
  PRIMARY KEY (tenant_id, function_name, hour)
);
CREATE INDEX usage_hourly_tenant_hour_idx ON usage_hourly (tenant_id, hour);

-- Requests refused before any code ran (429 throttles, 503 unavailable, suppressed init retries):
-- counted, never billed.
CREATE TABLE usage_rejections (
  tenant_id      text NOT NULL,
  function_name  text NOT NULL,
  hour           timestamptz NOT NULL,
  reason         text NOT NULL CHECK (reason IN ('throttled', 'unavailable', 'init-failed')),
  count          bigint NOT NULL,
  PRIMARY KEY (tenant_id, function_name, hour, reason)
);
CREATE INDEX usage_rejections_tenant_hour_idx ON usage_rejections (tenant_id, hour);

-- A tenant without a row pays the configured default prices.
CREATE TABLE tenant_prices (
  tenant_id                   text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  price_per_gb_second         numeric NOT NULL CHECK (price_per_gb_second >= 0),
  price_per_million_requests  numeric NOT NULL CHECK (price_per_million_requests >= 0),
  currency                    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- Entries that started before purged_before have been removed from invocations (their usage
-- lives on in usage_hourly); a late replay of such an entry is not inserted again.
CREATE TABLE ledger_retention (
  id             integer PRIMARY KEY CHECK (id = 1),
  purged_before  timestamptz NOT NULL
);
INSERT INTO ledger_retention (id, purged_before) VALUES (1, '-infinity');
