/**
 * Removes ledger entries older than the retention age once the hourly rollup is known to cover
 * them, a UTC day at a time, each day in one transaction: check that every (tenant, function,
 * hour) of the day has rollup totals equal to its entries (or at least them, for an hour a
 * previous run already thinned), delete the entries, move the watermark. Usage and invoices read
 * whole hours from the rollup, so they do not change. If the check fails, nothing is removed and
 * retention stops with an error: the rollup is then the thing to repair, not the ledger to trim.
 */
import type { Pool } from '../../../common/db.js';
import type { Logger } from '../../../common/logger.js';
import { PeriodicPass } from '../../periodic-pass.js';

export interface LedgerRetentionOptions {
  readonly retentionMs: number;
  readonly intervalMs: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export class LedgerRetention extends PeriodicPass<number> {
  constructor(
    private readonly deps: { pool: Pool; logger: Logger; now?: () => number },
    private readonly opts: LedgerRetentionOptions,
  ) {
    super({
      intervalMs: opts.intervalMs,
      onError: (e) => {
        deps.logger.error({ err: e as Error }, 'ledger retention failed');
        return 0;
      },
    });
  }

  protected async pass(): Promise<number> {
    const cutoff = new Date(Math.floor(((this.deps.now ?? Date.now)() - this.opts.retentionMs) / HOUR_MS) * HOUR_MS);
    let removed = 0;
    for (let day = 0; day < 10_000; day++) {
      const n = await this.purgeOneDay(cutoff);
      if (n === undefined) break;
      removed += n;
    }
    if (removed > 0) this.deps.logger.info({ removed, before: cutoff.toISOString() }, 'ledger entries rolled up and removed');
    return removed;
  }

  /** Purges the oldest day below `cutoff`; undefined when nothing is left to purge. */
  private async purgeOneDay(cutoff: Date): Promise<number | undefined> {
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      const mark = await client.query<{ purged_before: string }>('SELECT purged_before::text AS purged_before FROM ledger_retention WHERE id = 1 FOR UPDATE');
      const previous = mark.rows[0]?.purged_before;
      const oldest = await client.query<{ t: Date | null }>('SELECT min(started_at) AS t FROM invocations WHERE started_at < $1', [cutoff]);
      const t = oldest.rows[0]?.t;
      if (!t) {
        await client.query('UPDATE ledger_retention SET purged_before = greatest(purged_before, $1) WHERE id = 1', [cutoff]);
        await client.query('COMMIT');
        return undefined;
      }
      const lo = new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
      const hi = new Date(Math.min(cutoff.getTime(), Math.floor(t.getTime() / DAY_MS) * DAY_MS + DAY_MS));
      const uncovered = await client.query<{ tenant_id: string; function_name: string; h: Date }>(
        `SELECT r.tenant_id, r.function_name, r.h FROM (
           SELECT tenant_id, function_name, date_trunc('hour', started_at, 'UTC') AS h, count(*) AS n, sum(billed_ms) AS b,
                  sum(billed_ms::bigint * memory_mb) AS m
           FROM invocations WHERE started_at >= $1 AND started_at < $2 GROUP BY 1, 2, 3) r
         LEFT JOIN usage_hourly u ON u.tenant_id = r.tenant_id AND u.function_name = r.function_name AND u.hour = r.h
         WHERE u.hour IS NULL
            OR (r.h >= $3 AND (u.requests <> r.n OR u.billed_ms <> r.b OR u.mb_ms <> r.m))
            OR (u.requests < r.n OR u.billed_ms < r.b OR u.mb_ms < r.m)
         LIMIT 10`,
        [lo, hi, previous ?? '-infinity'],
      );
      if (uncovered.rows.length > 0) {
        await client.query('ROLLBACK');
        throw new Error(`the hourly rollup does not cover ledger entries of ${JSON.stringify(uncovered.rows)}; nothing removed`);
      }
      const del = await client.query('DELETE FROM invocations WHERE started_at >= $1 AND started_at < $2', [lo, hi]);
      await client.query('UPDATE ledger_retention SET purged_before = greatest(purged_before, $1) WHERE id = 1', [hi]);
      await client.query('COMMIT');
      return del.rowCount ?? 0;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
