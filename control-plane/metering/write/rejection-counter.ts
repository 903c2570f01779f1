/**
 * Counts requests refused before any code ran (compat.md §9: not billed, not a request), per
 * tenant, function, UTC hour and reason, in memory, and adds them to `usage_rejections` every
 * interval. Not on the invocation path and not part of the bill, so a crash may lose at most one
 * interval of these counts; a failed flush keeps them for the next one.
 */
import type { Pool } from '../../../common/db.js';
import type { Logger } from '../../../common/logger.js';

export type RejectionReason = 'throttled' | 'unavailable' | 'init-failed';

const HOUR_MS = 3_600_000;

export interface RejectionCounterOptions {
  readonly flushIntervalMs: number;
}

export class RejectionCounter {
  private counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: { pool: Pool; logger: Logger; now?: () => number },
    private readonly opts: RejectionCounterOptions,
  ) {}

  record(tenantId: string, functionName: string, reason: RejectionReason): void {
    const hour = Math.floor((this.deps.now ?? Date.now)() / HOUR_MS) * HOUR_MS;
    const key = `${tenantId}\u0000${functionName}\u0000${hour}\u0000${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  /** Adds the counts so far to Postgres. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.counts.size === 0) return;
    const taken = this.counts;
    this.counts = new Map();
    const cols: [string[], string[], string[], string[], number[]] = [[], [], [], [], []];
    for (const [key, n] of [...taken].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [tenant, fn, hour, reason] = key.split('\u0000') as [string, string, string, string];
      cols[0].push(tenant);
      cols[1].push(fn);
      cols[2].push(new Date(Number(hour)).toISOString());
      cols[3].push(reason);
      cols[4].push(n);
    }
    try {
      await this.deps.pool.query(
        `INSERT INTO usage_rejections AS r (tenant_id, function_name, hour, reason, count)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[])
         ON CONFLICT (tenant_id, function_name, hour, reason) DO UPDATE SET count = r.count + EXCLUDED.count`,
        cols,
      );
    } catch (e) {
      for (const [k, n] of taken) this.counts.set(k, (this.counts.get(k) ?? 0) + n);
      this.deps.logger.warn({ err: e as Error }, 'rejection counts not written; keeping them');
    }
  }
}
