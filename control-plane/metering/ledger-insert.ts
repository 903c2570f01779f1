/**
 * Writes a batch of ledger entries and their hourly rollup in one statement. Only the rows the
 * INSERT actually added (RETURNING, after ON CONFLICT (id, attempt) DO NOTHING) feed the rollup,
 * so writing the same batch twice — a spool replayed after a crash — changes nothing. Entries
 * older than the retention watermark were already rolled up and removed; they are skipped.
 * Arrays (unnest) instead of one parameter per value: one statement of 15 parameters whatever
 * the batch size.
 */
import type { Pool, PoolClient } from '../../common/db.js';
import type { LedgerEntry } from './ledger.js';

const SQL = `
WITH batch AS (
  SELECT b.* FROM unnest($1::uuid[], $2::int[], $3::text[], $4::uuid[], $5::text[], $6::bigint[], $7::text[],
                         $8::timestamptz[], $9::bigint[], $10::bigint[], $11::int[], $12::int[], $13::text[],
                         $14::text[], $15::text[])
    AS b(id, attempt, tenant_id, function_id, function_name, version_id, source, started_at, duration_us,
         init_duration_us, billed_ms, memory_mb, cold_start, status, error_type)
  WHERE b.started_at >= (SELECT purged_before FROM ledger_retention WHERE id = 1)
), ins AS (
  INSERT INTO invocations (id, attempt, tenant_id, function_id, function_name, version_id, source, started_at,
                           duration_us, init_duration_us, billed_ms, memory_mb, cold_start, status, error_type)
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

/** Inserts what is new in `entries`; resolves with how many were new. */
export async function insertLedgerEntries(db: Pool | PoolClient, entries: readonly LedgerEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const cols: unknown[][] = Array.from({ length: 15 }, () => new Array<unknown>(entries.length));
  entries.forEach((e, i) => {
    const values = [
      e.invocationId, e.attempt, e.tenantId, e.functionId, e.functionName, e.versionId, e.source, e.startedAt.toISOString(),
      Math.round(e.durationUs), Math.round(e.initDurationUs), e.billedMs, e.memoryMb, e.coldStart, e.status, e.errorType,
    ];
    for (let c = 0; c < 15; c++) (cols[c] as unknown[])[i] = values[c];
  });
  const r = await db.query<{ inserted: number }>(SQL, cols);
  return r.rows[0]?.inserted ?? 0;
}
