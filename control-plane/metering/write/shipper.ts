/**
 * Ships the spool to Postgres: reads durable, unshipped records in order, inserts them (with the
 * hourly rollup, idempotently) and only then marks them shipped, which lets the spool delete a
 * finished segment. One batch is in flight at a time; while Postgres is unreachable it retries
 * with a capped backoff and invocations go on being spooled. Entries found at start (left by a
 * crashed or stopped process) are replayed first and the replay is logged with what was new.
 */
import type { Logger } from '../../../common/logger.js';
import type { Spool, SpoolBatch } from './spool.js';

export interface LedgerSink {
  /** Inserts what is new among entries in their JSON form; resolves with how many were new. */
  insert(records: readonly string[]): Promise<number>;
}

export interface ShipperDeps {
  readonly spool: Spool;
  readonly sink: LedgerSink;
  readonly logger: Logger;
  /** Where a record Postgres refuses as data (never as a connection problem) is set aside. */
  readonly quarantine: (record: string, error: unknown) => Promise<void>;
}

export interface ShipperOptions {
  readonly batchMaxEntries: number;
  /** Batches in flight at once: Postgres runs each in its own backend (measured in bench/). */
  readonly concurrency: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export interface ShipperStats {
  shipped: number;
  inserted: number;
  corrupt: number;
  failures: number;
  quarantined: number;
}

export class Shipper {
  readonly stats: ShipperStats = { shipped: 0, inserted: 0, corrupt: 0, failures: 0, quarantined: 0 };
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
    let inFlight: { batch: SpoolBatch; result: Promise<number | Error> }[] = [];
    while (!this.stopped) {
      try {
        this.poked = false;
        while (inFlight.length < this.opts.concurrency) {
          const batch = await this.deps.spool.nextBatch(this.opts.batchMaxEntries);
          if (batch === undefined) break;
          inFlight.push({ batch, result: this.insert(batch.records).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))) });
        }
        const head = inFlight.shift();
        if (head === undefined) {
          this.finishReplay();
          await this.sleep(60_000);
          continue;
        }
        const inserted = await head.result;
        if (inserted instanceof Error) throw inserted;
        this.account(head.batch, inserted);
        // In order: a segment is only ever marked shipped up to a point all before it reached.
        await this.deps.spool.markShipped(head.batch);
        backoffMs = this.opts.retryMinMs;
      } catch (e) {
        // What else is in flight may commit or not: it is all handed out again (idempotent). Rows
        // a discarded batch did commit are new all the same (its resend finds them present).
        const settled = await Promise.all(inFlight.map((f) => f.result));
        settled.forEach((r, i) => {
          if (typeof r !== 'number') return;
          this.stats.inserted += r;
          if (inFlight[i]?.batch.recovered) this.replay.inserted += r;
        });
        inFlight = [];
        this.deps.spool.rewind();
        this.stats.failures += 1;
        if (!this.outage) this.deps.logger.warn({ err: e as Error, backlogBytes: this.deps.spool.backlogBytes() }, 'ledger entries not shipped; retrying');
        this.outage = true;
        await this.sleep(backoffMs, true);
        backoffMs = Math.min(backoffMs * 2, this.opts.retryMaxMs);
      }
    }
    await Promise.all(inFlight.map((f) => f.result));
  }

  /**
   * One record Postgres refuses as data (a bug, or an entry from a newer version with a value this
   * schema does not allow) must not block every entry behind it: halve the batch until the
   * refused records are alone, set those aside, and ship the rest. Connection errors are thrown.
   */
  private async insert(records: readonly string[]): Promise<number> {
    try {
      return await this.deps.sink.insert(records);
    } catch (e) {
      if (!isDataError(e)) throw e;
      if (records.length === 1) {
        await this.deps.quarantine(records[0] as string, e);
        this.stats.quarantined += 1;
        this.deps.logger.error({ err: e as Error }, 'ledger entry refused by Postgres; set aside in the quarantine file');
        return 0;
      }
      const mid = Math.ceil(records.length / 2);
      return (await this.insert(records.slice(0, mid))) + (await this.insert(records.slice(mid)));
    }
  }

  private account(batch: SpoolBatch, inserted: number): void {
    if (this.outage) this.deps.logger.info({ backlogBytes: this.deps.spool.backlogBytes() }, 'ledger reachable again; shipping');
    this.outage = false;
    this.stats.shipped += batch.records.length;
    this.stats.inserted += inserted;
    this.stats.corrupt += batch.corrupt;
    if (batch.corrupt > 0) this.deps.logger.warn({ records: batch.corrupt, segment: batch.seq }, 'torn spool records skipped');
    if (batch.recovered) {
      this.replay.entries += batch.records.length;
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

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}
