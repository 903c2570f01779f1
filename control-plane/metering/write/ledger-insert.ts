/**
 * Writes a batch of ledger entries and their hourly rollup in one statement. Only the rows the
 * INSERT actually added (RETURNING, after ON CONFLICT (id, attempt) DO NOTHING) feed the rollup,
 * so writing the same batch twice — a spool replayed after a crash — changes nothing. Entries
 * older than the retention watermark were already rolled up and removed; they are skipped.
 * The batch travels as one JSON array parameter (json_to_recordset): one statement whatever the
 * batch size, and Postgres, not the control plane's event loop, does the parsing.
 */
import type { Pool, PoolClient } from '../../../common/db.js';
import type { LedgerEntry } from '../ledger.js';

const SQL = `
WITH batch AS (
  SELECT b."invocationId", b.attempt, b."tenantId", b."functionId", b."functionName", b."versionId", b.source, b."startedAt",
         round(b."durationUs")::bigint AS duration_us, round(b."initDurationUs")::bigint AS init_duration_us, b."billedMs",
         b."memoryMb", b."coldStart", b.status, b."errorType", coalesce(b."executedVersion", '$LATEST') AS executed_version
  FROM json_to_recordset($1::json) AS b("invocationId" uuid, attempt int, "tenantId" text, "functionId" uuid, "functionName" text,
         "versionId" bigint, source text, "startedAt" timestamptz, "durationUs" numeric, "initDurationUs" numeric, "billedMs" int,
         "memoryMb" int, "coldStart" text, status text, "errorType" text, "executedVersion" text)
  WHERE b."startedAt" >= (SELECT purged_before FROM ledger_retention WHERE id = 1)
), ins AS (
  -- A duplicate inside one batch (a write retried after a failure) is skipped like any conflict.
  INSERT INTO invocations (id, attempt, tenant_id, function_id, function_name, version_id, source, started_at,
                           duration_us, init_duration_us, billed_ms, memory_mb, cold_start, status, error_type, executed_version)
  SELECT * FROM batch
  ON CONFLICT (id, attempt) DO NOTHING
  RETURNING tenant_id, function_name, started_at, billed_ms, memory_mb, duration_us, init_duration_us, cold_start, status
), rolled AS (
  INSERT INTO usage_hourly AS u (tenant_id, function_name, hour, requests, billed_ms, mb_ms, duration_us,
                                 init_duration_us, errors, cold_starts)
  SELECT tenant_id, function_name, date_trunc('hour', started_at, 'UTC'), count(*), sum(billed_ms),
         sum(billed_ms::bigint * memory_mb), sum(duration_us), sum(init_duration_us),
         count(*) FILTER (WHERE status <> 'succeeded'), count(*) FILTER (WHERE cold_start <> 'none')
  FROM ins GROUP BY 1, 2, 3
  -- A fixed lock order, so two nodes upserting the same hours cannot deadlock.
  ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, function_name, hour) DO UPDATE SET
    requests = u.requests + EXCLUDED.requests,
    billed_ms = u.billed_ms + EXCLUDED.billed_ms,
    mb_ms = u.mb_ms + EXCLUDED.mb_ms,
    duration_us = u.duration_us + EXCLUDED.duration_us,
    init_duration_us = u.init_duration_us + EXCLUDED.init_duration_us,
    errors = u.errors + EXCLUDED.errors,
    cold_starts = u.cold_starts + EXCLUDED.cold_starts
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted`;

/** Error types are short names (`Runtime.ExitError`); a runtime may report anything, so cap it. */
const MAX_ERROR_TYPE_CHARS = 256;

/** The JSON form of an entry: the spool's record body and the shape the insert reads. */
export function entryJson(e: LedgerEntry): string {
  const errorType = e.errorType !== null && e.errorType.length > MAX_ERROR_TYPE_CHARS ? e.errorType.slice(0, MAX_ERROR_TYPE_CHARS) : e.errorType;
  return JSON.stringify({ ...e, startedAt: e.startedAt.toISOString(), errorType });
}

/**
 * Inserts what is new among `records` (entries in their JSON form, as the spool holds them, so
 * shipping never parses or re-encodes them in Node); resolves with how many were new.
 */
export async function insertLedgerRecords(db: Pool | PoolClient, records: readonly string[]): Promise<number> {
  if (records.length === 0) return 0;
  const r = await db.query<{ inserted: number }>(SQL, [`[${records.join(',')}]`]);
  return r.rows[0]?.inserted ?? 0;
}

export function insertLedgerEntries(db: Pool | PoolClient, entries: readonly LedgerEntry[]): Promise<number> {
  return insertLedgerRecords(db, entries.map(entryJson));
}
