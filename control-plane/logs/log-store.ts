/**
 * Function output in Postgres, written in batches off the invocation path: `add` only queues.
 * The queue is bounded (beyond it lines are dropped and counted, never buffered without limit),
 * and lines older than the retention are deleted periodically.
 */
import type { Pool } from '../../common/db.js';
import type { Logger } from '../../common/logger.js';
import type { LogLine } from './environment-log.js';

export interface LogStoreOptions {
  readonly retentionMs: number;
  readonly maxQueuedLines: number;
  readonly flushIntervalMs: number;
}

interface Queued extends LogLine {
  readonly tenantId: string;
  readonly functionName: string;
}

const BATCH = 1000;
const COLUMNS = 7;

export class LogStore {
  private queue: Queued[] = [];
  private dropped = 0;
  private flushing: Promise<void> | undefined;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly retentionTimer: NodeJS.Timeout;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly opts: LogStoreOptions,
  ) {
    this.flushTimer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.flushTimer.unref();
    this.retentionTimer = setInterval(() => void this.expire(), Math.min(60_000, Math.max(1_000, opts.retentionMs / 10)));
    this.retentionTimer.unref();
  }

  add(tenantId: string, functionName: string, line: LogLine): void {
    if (this.queue.length >= this.opts.maxQueuedLines) {
      this.dropped += 1;
      return;
    }
    this.queue.push({ ...line, tenantId, functionName });
  }

  async lines(tenantId: string, functionName: string, invocationId: string | undefined, limit: number): Promise<LogLine[]> {
    await this.flush();
    const rows = (
      invocationId === undefined
        ? await this.pool.query(
            `SELECT * FROM (SELECT id, invocation_id, time, stream, message, executed_version FROM function_logs
               WHERE tenant_id = $1 AND function_name = $2 ORDER BY id DESC LIMIT $3) newest ORDER BY id`,
            [tenantId, functionName, limit],
          )
        : await this.pool.query(
            `SELECT id, invocation_id, time, stream, message, executed_version FROM function_logs
              WHERE tenant_id = $1 AND function_name = $2 AND invocation_id = $3 ORDER BY id LIMIT $4`,
            [tenantId, functionName, invocationId, limit],
          )
    ).rows as { invocation_id: string | null; time: Date; stream: 'stdout' | 'stderr'; message: string; executed_version: string }[];
    return rows.map((r) => ({ invocationId: r.invocation_id, time: r.time, stream: r.stream, message: r.message, executedVersion: r.executed_version }));
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.retentionTimer);
    await this.flush();
  }

  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.warn({ lines: this.dropped }, 'function log lines dropped: queue full');
      this.dropped = 0;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      const params: unknown[] = [];
      const values = batch.map((l, i) => {
        params.push(l.tenantId, l.functionName, l.invocationId, l.time, l.stream, l.message.replace(/\0/g, ''), l.executedVersion ?? '$LATEST');
        return `(${Array.from({ length: COLUMNS }, (_, k) => `$${i * COLUMNS + k + 1}`).join(',')})`;
      });
      try {
        await this.pool.query(`INSERT INTO function_logs (tenant_id, function_name, invocation_id, time, stream, message, executed_version) VALUES ${values.join(',')}`, params);
      } catch (e) {
        // Logs are best effort: a failed batch is reported and dropped, never retried forever.
        this.logger.warn({ err: e as Error, lines: batch.length }, 'function log batch not stored');
      }
    }
  }

  private async expire(): Promise<void> {
    await this.pool
      .query(`DELETE FROM function_logs WHERE time < now() - make_interval(secs => $1)`, [this.opts.retentionMs / 1000])
      .catch((e: unknown) => this.logger.warn({ err: e as Error }, 'function log retention failed'));
  }
}
