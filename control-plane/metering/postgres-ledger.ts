/**
 * MeteringLedger on Postgres with group commit: entries that arrive while a write is in flight
 * are written together by the next one, so there is no per-invocation INSERT round trip under
 * load and no added wait when idle. ON CONFLICT DO NOTHING makes a replayed write harmless.
 */
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import type { LedgerEntry, MeteringLedger } from './ledger.js';

interface Pending {
  readonly entry: LedgerEntry;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface PostgresLedgerOptions {
  /** Rows per INSERT; Postgres allows 65535 parameters per statement, 15 per row. */
  readonly maxBatch: number;
}

const COLUMNS = 15;

export class PostgresLedger implements MeteringLedger {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly opts: PostgresLedgerOptions = { maxBatch: 1000 },
  ) {}

  append(entry: LedgerEntry): Promise<void> {
    if (this.closed) return Promise.reject(new GantryError('ServiceUnavailable', 'Metering is closed.', { component: 'metering' }));
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.flushing ??= this.drain();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
  }

  private async drain(): Promise<void> {
    // Yield once so entries appended in the same tick share the first write.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      try {
        await this.write(batch.map((p) => p.entry));
        for (const p of batch) p.resolve();
      } catch (e) {
        const err = new GantryError('ServiceUnavailable', 'The invocation could not be metered.', { component: 'metering', cause: e });
        for (const p of batch) p.reject(err);
      }
    }
    this.flushing = undefined;
  }

  private async write(entries: readonly LedgerEntry[]): Promise<void> {
    const params: unknown[] = [];
    const rows = entries.map((e, i) => {
      params.push(
        e.invocationId, e.attempt, e.tenantId, e.functionId, e.functionName, e.versionId, e.source,
        e.startedAt, e.durationUs, e.initDurationUs, e.billedMs, e.memoryMb, e.coldStart, e.status, e.errorType,
      );
      const base = i * COLUMNS;
      return `(${Array.from({ length: COLUMNS }, (_, k) => `$${base + k + 1}`).join(',')})`;
    });
    await this.pool.query(
      `INSERT INTO invocations (id, attempt, tenant_id, function_id, function_name, version_id, source,
         started_at, duration_us, init_duration_us, billed_ms, memory_mb, cold_start, status, error_type)
       VALUES ${rows.join(',')} ON CONFLICT (id, attempt) DO NOTHING`,
      params,
    );
  }
}
