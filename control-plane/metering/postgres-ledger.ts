/**
 * MeteringLedger on Postgres with group commit: entries that arrive while a write is in flight
 * are written together by the next one, so there is no per-invocation INSERT round trip under
 * load and no added wait when idle. ON CONFLICT DO NOTHING makes a replayed write harmless, and the
 * hourly rollup is kept in the same statement (ledger-insert.ts). Spool-less: the SpoolLedger is
 * what the control plane runs; this one stays as the simpler reference and for the bench.
 */
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import { insertLedgerEntries } from './write/ledger-insert.js';
import type { LedgerEntry, MeteringLedger } from './ledger.js';

interface Pending {
  readonly entry: LedgerEntry;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface PostgresLedgerOptions {
  /** Rows per INSERT (one array parameter per column, so any size fits one statement). */
  readonly maxBatch: number;
}

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
    await insertLedgerEntries(this.pool, entries);
  }
}
