/**
 * Reads usage out of the ledger: whole UTC hours from the hourly rollup (kept with every insert),
 * and only the partial hours at the edges of a range from the ledger entries themselves, so a
 * query costs the same over ten entries or ten million. Also the per-function invocation list,
 * newest first, as keyset pages.
 */
import type { Pool } from '../../../common/db.js';
import { query } from '../../postgres/transaction.js';
import { encodeCursor, type InvocationCursor } from './invocation-cursor.js';
import type { UsageTotals } from '../pricing/pricing.js';

export type GroupBy = 'function' | 'day';

export interface UsageRow extends UsageTotals {
  readonly key: string;
  readonly rejected: { readonly throttled: number; readonly unavailable: number; readonly initFailed: number };
}

export interface InvocationView {
  readonly id: string;
  readonly attempt: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly initDurationMs: number;
  readonly billedDurationMs: number;
  readonly memoryMb: number;
  readonly coldStart: boolean;
  readonly coldStartKind: string;
  readonly source: string;
  readonly status: string;
  readonly errorType: string | null;
  /** `$LATEST` or the published version number that ran. */
  readonly executedVersion: string;
}

const HOUR_MS = 3_600_000;

/** The SQL grouping key over a timestamp column. */
function keyOf(groupBy: GroupBy, column: string): string {
  return groupBy === 'function' ? 'function_name' : `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
}

/** [from, to) split into whole hours (rollup) and at most two partial edges (ledger entries). */
export function splitRange(from: Date, to: Date): { hours: [Date, Date] | undefined; edges: [Date, Date][] } {
  const f = from.getTime();
  const t = to.getTime();
  const ceilF = Math.ceil(f / HOUR_MS) * HOUR_MS;
  const floorT = Math.floor(t / HOUR_MS) * HOUR_MS;
  if (t <= f) return { hours: undefined, edges: [] };
  if (ceilF >= floorT) return { hours: undefined, edges: [[from, to]] };
  const edges: [Date, Date][] = [];
  if (f < ceilF) edges.push([from, new Date(ceilF)]);
  if (floorT < t) edges.push([new Date(floorT), to]);
  return { hours: [new Date(ceilF), new Date(floorT)], edges };
}

export class UsageStore {
  constructor(private readonly pool: Pool) {}

  async usage(tenantId: string, from: Date, to: Date, groupBy: GroupBy): Promise<UsageRow[]> {
    const { hours, edges } = splitRange(from, to);
    const parts: string[] = [];
    const params: unknown[] = [tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    if (hours) {
      parts.push(`SELECT ${keyOf(groupBy, 'hour')} AS key, requests, billed_ms, mb_ms FROM usage_hourly
                  WHERE tenant_id = $1 AND hour >= ${p(hours[0])} AND hour < ${p(hours[1])}`);
    }
    for (const [a, b] of edges) {
      parts.push(`SELECT ${keyOf(groupBy, 'started_at')} AS key, count(*) AS requests, sum(billed_ms) AS billed_ms,
                    sum(billed_ms::bigint * memory_mb) AS mb_ms
                  FROM invocations WHERE tenant_id = $1 AND started_at >= ${p(a)} AND started_at < ${p(b)} GROUP BY 1`);
    }
    const usage = parts.length === 0 ? [] : await query<{ key: string; requests: string; billed_ms: string; mb_ms: string }>(
      this.pool,
      `SELECT key, sum(requests)::text AS requests, sum(billed_ms)::text AS billed_ms, sum(mb_ms)::text AS mb_ms
       FROM (${parts.join(' UNION ALL ')}) u GROUP BY key`,
      params,
    );
    // Refusals are counted per hour: every hour the range touches counts whole.
    const refused = await query<{ key: string; reason: string; n: string }>(
      this.pool,
      `SELECT ${keyOf(groupBy, 'hour')} AS key, reason, sum(count)::text AS n FROM usage_rejections
       WHERE tenant_id = $1 AND hour > $2::timestamptz - interval '1 hour' AND hour < $3 GROUP BY 1, 2`,
      [tenantId, from, to],
    );
    const rows = new Map<string, { key: string; requests: bigint; billedMs: bigint; mbMs: bigint; rejected: { throttled: number; unavailable: number; initFailed: number } }>();
    const row = (key: string) => {
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { key, requests: 0n, billedMs: 0n, mbMs: 0n, rejected: { throttled: 0, unavailable: 0, initFailed: 0 } }));
      return r;
    };
    for (const u of usage) Object.assign(row(u.key), { requests: BigInt(u.requests), billedMs: BigInt(u.billed_ms), mbMs: BigInt(u.mb_ms) });
    for (const x of refused) {
      const rej = row(x.key).rejected;
      if (x.reason === 'throttled') rej.throttled += Number(x.n);
      else if (x.reason === 'unavailable') rej.unavailable += Number(x.n);
      else rej.initFailed += Number(x.n);
    }
    return [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Per-function totals of [from, to), both on whole hours (a calendar month). */
  async byFunction(tenantId: string, from: Date, to: Date): Promise<(UsageTotals & { function: string })[]> {
    const rows = await query<{ function_name: string; requests: string; billed_ms: string; mb_ms: string }>(
      this.pool,
      `SELECT function_name, sum(requests)::text AS requests, sum(billed_ms)::text AS billed_ms, sum(mb_ms)::text AS mb_ms
       FROM usage_hourly WHERE tenant_id = $1 AND hour >= $2 AND hour < $3
       GROUP BY function_name ORDER BY function_name`,
      [tenantId, from, to],
    );
    return rows.map((r) => ({ function: r.function_name, requests: BigInt(r.requests), billedMs: BigInt(r.billed_ms), mbMs: BigInt(r.mb_ms) }));
  }

  /** Newest first; `nextCursor` is set when there may be more. */
  async invocations(tenantId: string, functionName: string, limit: number, after?: InvocationCursor): Promise<{ invocations: InvocationView[]; nextCursor: string | null }> {
    const params: unknown[] = [tenantId, functionName, limit + 1];
    let position = '';
    if (after) {
      params.push(after.startedAtUs, after.id, after.attempt);
      // started_at DESC, then (id, attempt) ASC: the order of invocations_function_time_idx.
      position = `AND (started_at < t.at OR (started_at = t.at AND (id, attempt) > ($5::uuid, $6::int)))`;
    }
    const rows = await query<{
      id: string; attempt: number; started_us: string; started_at: Date; duration_us: string; init_duration_us: string;
      billed_ms: number; memory_mb: number; cold_start: string; source: string; status: string; error_type: string | null; executed_version: string;
    }>(
      this.pool,
      `SELECT id, attempt, (extract(epoch FROM started_at) * 1000000)::bigint::text AS started_us, started_at,
              duration_us::text, init_duration_us::text, billed_ms, memory_mb, cold_start, source, status, error_type, executed_version
       FROM invocations${after ? `, (SELECT timestamptz 'epoch' + $4::bigint * interval '1 microsecond' AS at) t` : ''}
       WHERE tenant_id = $1 AND function_name = $2 ${position}
       ORDER BY started_at DESC, id ASC, attempt ASC LIMIT $3`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor({ startedAtUs: last.started_us, id: last.id, attempt: last.attempt }) : null;
    return {
      invocations: page.map((r) => ({
        id: r.id,
        attempt: r.attempt,
        startedAt: r.started_at.toISOString(),
        durationMs: Number(r.duration_us) / 1000,
        initDurationMs: Number(r.init_duration_us) / 1000,
        billedDurationMs: r.billed_ms,
        memoryMb: r.memory_mb,
        coldStart: r.cold_start !== 'none',
        coldStartKind: r.cold_start,
        source: r.source,
        status: r.status,
        errorType: r.error_type,
        executedVersion: r.executed_version,
      })),
      nextCursor,
    };
  }
}
