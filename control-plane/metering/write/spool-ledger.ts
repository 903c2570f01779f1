/**
 * The MeteringLedger the control plane runs: entries are made durable in the node-local spool
 * (group fsync, no Postgres round trip per invocation) and shipped to the Postgres ledger in
 * batches by the shipper; refused requests are counted beside them. It is also the MeteringGate:
 * while the spool cannot take entries, invocations are refused before they run.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../../../common/db.js';
import type { Logger } from '../../../common/logger.js';
import { insertLedgerRecords } from './ledger-insert.js';
import type { LedgerEntry, MeteringGate, MeteringLedger } from '../ledger.js';
import { RejectionCounter, type RejectionReason } from './rejection-counter.js';
import { Shipper } from './shipper.js';
import { Spool } from './spool.js';
import type { SpoolFiles } from './spool-files.js';

/** Records Postgres refused as data, kept for an operator (never shipped, never deleted). */
export const QUARANTINE_FILE = 'quarantine.jsonl';

export interface SpoolLedgerDeps {
  readonly pool: Pool;
  readonly logger: Logger;
  readonly files?: SpoolFiles;
}

export interface SpoolLedgerOptions {
  readonly spoolDir: string;
  readonly segmentMaxBytes: number;
  readonly segmentMaxAgeMs: number;
  readonly maxBacklogBytes: number;
  readonly shipBatchMaxEntries: number;
  readonly rejectionFlushIntervalMs: number;
  /** At close, how long unshipped entries may still be shipped before they are left spooled. */
  readonly closeShipDeadlineMs: number;
}

export interface MeteringStatus {
  readonly writable: boolean;
  readonly reason: string | null;
  readonly backlogBytes: number;
  readonly shipping: 'ok' | 'retrying';
  readonly shipped: number;
  readonly inserted: number;
}

export class SpoolLedger implements MeteringLedger, MeteringGate {
  private readonly spool: Spool;
  private readonly shipper: Shipper;
  private readonly rejections: RejectionCounter;
  private closing: Promise<void> | undefined;

  constructor(deps: SpoolLedgerDeps, private readonly opts: SpoolLedgerOptions) {
    const logger = deps.logger;
    this.spool = new Spool(
      { logger, ...(deps.files ? { files: deps.files } : {}) },
      { dir: opts.spoolDir, segmentMaxBytes: opts.segmentMaxBytes, segmentMaxAgeMs: opts.segmentMaxAgeMs, maxBacklogBytes: opts.maxBacklogBytes, retryMs: 1_000 },
    );
    this.shipper = new Shipper(
      {
        spool: this.spool,
        sink: { insert: (records) => insertLedgerRecords(deps.pool, records) },
        logger,
        quarantine: (record, error) => appendFile(path.join(opts.spoolDir, QUARANTINE_FILE), `${JSON.stringify({ record, error: String(error) })}\n`, { mode: 0o600 }),
      },
      { batchMaxEntries: opts.shipBatchMaxEntries, concurrency: 2, retryMinMs: 100, retryMaxMs: 5_000 },
    );
    this.rejections = new RejectionCounter({ pool: deps.pool, logger }, { flushIntervalMs: opts.rejectionFlushIntervalMs });
  }

  /** Opens the spool and starts shipping, replaying whatever an earlier process left. */
  async start(): Promise<void> {
    const found = await this.spool.open();
    this.shipper.start(found.segments);
    this.rejections.start();
  }

  append(entry: LedgerEntry): Promise<void> {
    return this.spool.append(entry);
  }

  admit(): void {
    this.spool.admit();
  }

  rejected(tenantId: string, functionName: string, reason: RejectionReason): void {
    this.rejections.record(tenantId, functionName, reason);
  }

  /** For /readyz: can this node meter (and so run) invocations right now? */
  writable(): boolean {
    return this.spool.healthy();
  }

  status(): MeteringStatus {
    const s = this.shipper.stats;
    return {
      writable: this.spool.healthy(),
      reason: this.spool.unhealthyReason() ?? null,
      backlogBytes: this.spool.backlogBytes(),
      shipping: this.shipper.lagging ? 'retrying' : 'ok',
      shipped: s.shipped,
      inserted: s.inserted,
    };
  }

  /** Waits until every durable entry is in Postgres (tests and the bench), or the deadline. */
  async drained(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.spool.backlogBytes() > 0) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.spool.close();
      await this.shipper.close(this.opts.closeShipDeadlineMs);
      await this.rejections.close();
    })();
    return this.closing;
  }
}
