-- Function output per invocation (GET /v1/functions/{name}/logs, X-Gantry-Log-Type: Tail).
-- Bounded: a per-invocation byte cap at capture, and rows older than the retention are deleted.
CREATE TABLE function_logs (
  id             bigserial PRIMARY KEY,
  tenant_id      text NOT NULL,
  function_name  text NOT NULL,
  invocation_id  uuid,
  time           timestamptz NOT NULL,
  stream         text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  message        text NOT NULL
);
CREATE INDEX function_logs_function_idx ON function_logs (tenant_id, function_name, id);
CREATE INDEX function_logs_invocation_idx ON function_logs (invocation_id, id);
CREATE INDEX function_logs_time_idx ON function_logs (time);
