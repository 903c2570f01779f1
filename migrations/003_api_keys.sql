-- Usage plans and API keys (api.md, Usage plans and keys; compat.md §7). A key's value is shown
-- once at creation and only its sha256 is stored: gateways look keys up by that hash. Usage
-- counters (token buckets, quotas, requests per key per day) live in Redis, not here.

CREATE TABLE usage_plans (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  -- API names the plan's keys may call.
  apis        jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- {"rateLimit": requests per second, "burstLimit": bucket size} or null for no throttle.
  throttle    jsonb,
  -- {"limit": requests, "period": "DAY" | "WEEK" | "MONTH"} or null for no quota.
  quota       jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  name           text NOT NULL,
  usage_plan_id  text NOT NULL REFERENCES usage_plans (id),
  key_sha256     text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_plan_idx ON api_keys (usage_plan_id);
