/**
 * Ships the spool to Postgres: reads durable, unshipped records in order, inserts them (with the
 * hourly rollup, idempotently) and only then marks them shipped, which lets the spool delete a
 * finished segment. One batch is in flight at a time; while Postgres is unreachable it retries
 * with a capped backoff and invocations go on being spooled. Entries found at start (left by a
 * crashed or stopped process) are replayed first and the replay is logged with what was new.
 */
import type { Logger } from '../../common/logger.js';
import type { LedgerEntry } from './ledger.js';
import type { Spool, SpoolBatch } from './spool.js';

export interface LedgerSink {
  /** Inserts what is new; resolves with how many entries were new. */
  insert(entries: readonly LedgerEntry[]): Promise<number>;
}

export interface ShipperDeps {
  readonly spool: Spool;
  readonly sink: LedgerSink;
  readonly logger: Logger;
}

export interface ShipperOptions {
  readonly batchMaxEntries: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export interface ShipperStats {
  shipped: number;
  inserted: number;
  corrupt: number;
  failures: number;
}

export class Shipper {
  readonly stats: ShipperStats = { shipped: 0, inserted: 0, corrupt: 0, failures: 0 };
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private poked = false;
  private outage = false;
  private replay = { entries: 0, inserted: 0, active: false };

  constructor(
    private readonly deps: ShipperDeps,
    private readonly opts: ShipperOptions,
  ) {
    deps.spool.onDurable(() => this.poke());
  }

  /** True while the last attempt to reach Postgres failed. */
  get lagging(): boolean {
    return this.outage;
  }

  start(recoveredSegments: number): void {
    this.replay.active = recoveredSegments > 0;
    this.running ??= this.loop();
  }

  /** Ships what is left for up to `deadlineMs`, then stops. What is not shipped stays spooled. */
  async close(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (!this.outage && Date.now() < deadline && this.deps.spool.backlogBytes() > 0) {
      this.poke();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    this.poke();
    await this.running;
  }

  private poke(): void {
    this.poked = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let backoffMs = this.opts.retryMinMs;
    while (!this.stopped) {
      let batch: SpoolBatch | undefined;
      try {
        this.poked = false;
        batch = await this.deps.spool.nextBatch(this.opts.batchMaxEntries);
        if (batch === undefined) {
          this.finishReplay();
          await this.sleep(60_000);
          continue;
        }
        const inserted = await this.deps.sink.insert(dedupe(batch.entries));
        await this.deps.spool.markShipped(batch);
        this.account(batch, inserted);
        backoffMs = this.opts.retryMinMs;
      } catch (e) {
        this.stats.failures += 1;
        if (!this.outage) this.deps.logger.warn({ err: e as Error, backlogBytes: this.deps.spool.backlogBytes() }, 'ledger entries not shipped; retrying');
        this.outage = true;
        await this.sleep(backoffMs, true);
        backoffMs = Math.min(backoffMs * 2, this.opts.retryMaxMs);
      }
    }
  }

  private account(batch: SpoolBatch, inserted: number): void {
    if (this.outage) this.deps.logger.info({ backlogBytes: this.deps.spool.backlogBytes() }, 'ledger reachable again; shipping');
    this.outage = false;
    this.stats.shipped += batch.entries.length;
    this.stats.inserted += inserted;
    this.stats.corrupt += batch.corrupt;
    if (batch.corrupt > 0) this.deps.logger.warn({ records: batch.corrupt, segment: batch.seq }, 'torn spool records skipped');
    if (batch.recovered) {
      this.replay.entries += batch.entries.length;
      this.replay.inserted += inserted;
    }
  }

  private finishReplay(): void {
    if (!this.replay.active) return;
    this.replay.active = false;
    this.deps.logger.info({ entries: this.replay.entries, inserted: this.replay.inserted }, 'metering spool replayed');
  }

  /** Sleeps until poked (new durable entries) or `ms`; a retry sleep ignores pokes. */
  private sleep(ms: number, ignorePokes = false): Promise<void> {
    if (!ignorePokes && this.poked) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        if (!ignorePokes || this.stopped) {
          this.wake = undefined;
          done();
        }
      };
    });
  }
}

/** The same attempt twice in one batch (a write retried after a failure): keep one. */
function dedupe(entries: LedgerEntry[]): LedgerEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = `${e.invocationId}/${e.attempt}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
