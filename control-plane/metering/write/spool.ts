/**
 * The node-local metering spool: append-only segment files under `<dataDir>/spool/<nodeId>`.
 * `append` resolves only once the entry is on stable storage. Writes are grouped: entries that
 * arrive while a write + fdatasync is in flight all go into the next one, so under load one
 * fsync covers many invocations and when idle nobody waits for a batch to fill.
 *
 * The shipper reads what is durable, in segment order, and marks it shipped once Postgres has
 * committed it; a segment is deleted only when it is sealed (rotated) and fully shipped. Nothing
 * about shipping progress is persisted: after a crash every remaining segment is shipped again,
 * and the idempotent insert (ledger-insert.ts) makes that harmless.
 *
 * If a write fails, its callers are refused (they get 503) but their entries are kept and
 * retried (the functions did run); until a write succeeds again, `admit` refuses new invocations,
 * as it does when the unshipped backlog passes its bound (Postgres away for too long).
 */
import path from 'node:path';
import type { Logger } from '../../../common/logger.js';
import { GantryError } from '../../../common/errors.js';
import type { LedgerEntry } from '../ledger.js';
import { decodeRecords, encodeRecord } from './spool-format.js';
import { NodeSpoolFiles, type SegmentFile, type SpoolFiles } from './spool-files.js';

export interface SpoolOptions {
  readonly dir: string;
  /** A segment is sealed once it holds this much (and then deleted once shipped). */
  readonly segmentMaxBytes: number;
  /** … or once it is this old, so a quiet node does not keep a shipped segment forever. */
  readonly segmentMaxAgeMs: number;
  /** Unshipped bytes past which new invocations are refused (503). */
  readonly maxBacklogBytes: number;
  /** How soon entries of a failed write are tried again. */
  readonly retryMs: number;
}

export interface SpoolDeps {
  readonly logger: Logger;
  readonly files?: SpoolFiles;
  readonly now?: () => number;
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  durableBytes: number;
  /** Handed to the shipper (possibly not committed yet): ≥ shippedBytes. */
  readBytes: number;
  shippedBytes: number;
  sealed: boolean;
  /** Found at start: left by an earlier process. */
  readonly recovered: boolean;
  readonly createdAtMs: number;
  handle?: SegmentFile | undefined;
}

interface Pending {
  readonly buf: Buffer;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface SpoolBatch {
  readonly seq: number;
  /** Entries in their JSON form (ledger-insert.ts reads them as they are). */
  readonly records: string[];
  /** Offset up to which the segment is shipped once these entries are committed. */
  readonly end: number;
  readonly recovered: boolean;
  readonly corrupt: number;
}

const SEGMENT = /^(\d{12})\.spool$/;
/** Bytes read per shipping step; a record is a few hundred bytes. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes per write; a bigger queue is written in several steps. */
const WRITE_MAX_BYTES = 8 * 1024 * 1024;

export class Spool {
  private readonly files: SpoolFiles;
  private readonly now: () => number;
  private readonly segments = new Map<number, Segment>();
  private active: Segment | undefined;
  private nextSeq = 1;
  private queue: Pending[] = [];
  /** Entries of failed writes, written again before anything else. */
  private retained: Buffer[] = [];
  private writing = false;
  private failed = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  private listeners: (() => void)[] = [];

  constructor(
    private readonly deps: SpoolDeps,
    private readonly opts: SpoolOptions,
  ) {
    this.files = deps.files ?? new NodeSpoolFiles();
    this.now = deps.now ?? Date.now;
  }

  /** Finds segments left by an earlier process; they are shipped first. */
  async open(): Promise<{ segments: number; bytes: number }> {
    await this.files.ensureDir(this.opts.dir);
    const found = (await this.files.list(this.opts.dir))
      .map((f) => ({ ...f, seq: Number(SEGMENT.exec(f.name)?.[1] ?? NaN) }))
      .filter((f) => Number.isInteger(f.seq))
      .sort((a, b) => a.seq - b.seq);
    let bytes = 0;
    for (const f of found) {
      this.segments.set(f.seq, { seq: f.seq, file: path.join(this.opts.dir, f.name), durableBytes: f.size, readBytes: 0, shippedBytes: 0, sealed: true, recovered: true, createdAtMs: this.now() });
      this.nextSeq = Math.max(this.nextSeq, f.seq + 1);
      bytes += f.size;
    }
    return { segments: found.length, bytes };
  }

  /** Throws ServiceUnavailable when an invocation could not be metered durably right now. */
  admit(): void {
    const why = this.unhealthyReason();
    if (why !== undefined) throw new GantryError('ServiceUnavailable', 'Metering is unavailable; the invocation was not run.', { component: 'metering', details: { reason: why } });
  }

  healthy(): boolean {
    return this.unhealthyReason() === undefined;
  }

  unhealthyReason(): string | undefined {
    if (this.closed) return 'closed';
    if (this.failed) return 'spool write failing';
    if (this.backlogBytes() > this.opts.maxBacklogBytes) return 'unshipped backlog over its limit';
    return undefined;
  }

  backlogBytes(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.durableBytes - s.shippedBytes;
    return n;
  }

  /** Resolves once `entry` is durable; rejects with ServiceUnavailable when it could not be written. */
  append(entry: LedgerEntry): Promise<void> {
    if (this.closed) return Promise.reject(new GantryError('ServiceUnavailable', 'Metering is closed.', { component: 'metering' }));
    const buf = encodeRecord(entry);
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      if (!this.writing) void this.writeLoop();
    });
  }

  /** Called after every durable write (the shipper's wake-up). */
  onDurable(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * The next durable records not yet handed out, in segment order, or undefined when there are
   * none. Several batches may be out at once; `markShipped` them in the order they came.
   */
  async nextBatch(maxEntries: number): Promise<SpoolBatch | undefined> {
    for (const seg of [...this.segments.values()].sort((a, b) => a.seq - b.seq)) {
      if (seg.shippedBytes >= seg.durableBytes) {
        if (seg.sealed) await this.remove(seg);
        continue;
      }
      if (seg.readBytes >= seg.durableBytes) continue;
      const start = seg.readBytes;
      const length = Math.min(seg.durableBytes - start, READ_CHUNK_BYTES, maxEntries * 1024 + 64 * 1024);
      const buf = await this.files.read(seg.file, start, length);
      const decoded = decodeRecords(buf, maxEntries);
      let end = start + decoded.consumed;
      let corrupt = decoded.corrupt;
      const atEnd = start + buf.length >= seg.durableBytes;
      if (decoded.records.length < maxEntries && decoded.consumed < buf.length && (atEnd || buf.length < length)) {
        // A partial last record: a write torn by a crash, never acknowledged to anyone.
        end = seg.durableBytes;
        corrupt += 1;
      }
      if (end === start) {
        // A whole read without a newline: not something our writer produces (records are < 2 KB).
        end = start + buf.length;
        corrupt += 1;
      }
      seg.readBytes = end;
      return { seq: seg.seq, records: decoded.records, end, recovered: seg.recovered, corrupt };
    }
    return undefined;
  }

  /** Shipping failed: hand out again everything not committed. */
  rewind(): void {
    for (const seg of this.segments.values()) seg.readBytes = seg.shippedBytes;
  }

  /** Postgres committed the batch: advance, and delete the segment if it is sealed and done. */
  async markShipped(batch: SpoolBatch): Promise<void> {
    const seg = this.segments.get(batch.seq);
    if (!seg) return;
    seg.shippedBytes = Math.max(seg.shippedBytes, batch.end);
    seg.readBytes = Math.max(seg.readBytes, seg.shippedBytes);
    if (seg.sealed && seg.shippedBytes >= seg.durableBytes) await this.remove(seg);
  }

  /** Writes what is queued, then refuses new entries and seals the active segment. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    // Entries of a failed write get one last try: their functions ran.
    if (!this.writing && this.retained.length > 0) void this.writeLoop();
    if (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.active) await this.seal(this.active);
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 || this.retained.length > 0) {
        const retained = this.retained.splice(0);
        const batch = this.takeBatch();
        const buf = Buffer.concat([...retained, ...batch.map((p) => p.buf)]);
        try {
          const seg = await this.segmentFor(buf.length);
          await (seg.handle as SegmentFile).append(buf);
          seg.durableBytes += buf.length;
          if (this.failed) this.deps.logger.info('metering spool writable again');
          this.failed = false;
          for (const p of batch) p.resolve();
          for (const l of this.listeners) l();
        } catch (e) {
          this.writeFailed(e, retained, batch);
          break;
        }
      }
    } finally {
      this.writing = false;
      for (const w of this.idle.splice(0)) w();
    }
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + (this.queue[n] as Pending).buf.length <= WRITE_MAX_BYTES)) {
      bytes += (this.queue[n] as Pending).buf.length;
      n += 1;
    }
    return this.queue.splice(0, n);
  }

  private writeFailed(e: unknown, retained: Buffer[], batch: Pending[]): void {
    if (!this.failed) this.deps.logger.error({ err: e as Error }, 'metering spool write failed; refusing new invocations');
    this.failed = true;
    // The bytes may be partly on disk: never append after them. The durable prefix stays shippable.
    const broken = this.active;
    this.active = undefined;
    if (broken) void this.seal(broken).catch(() => undefined);
    this.retained = [...retained, ...batch.map((p) => p.buf)];
    const err = new GantryError('ServiceUnavailable', 'The invocation could not be metered.', { component: 'metering', cause: e });
    for (const p of batch) p.reject(err);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.writing && !this.closed) void this.writeLoop();
    }, this.opts.retryMs);
    this.retryTimer.unref();
  }

  private async segmentFor(bytes: number): Promise<Segment> {
    const a = this.active;
    const full = a !== undefined && a.durableBytes > 0 && a.durableBytes + bytes > this.opts.segmentMaxBytes;
    const old = a !== undefined && this.now() - a.createdAtMs > this.opts.segmentMaxAgeMs;
    if (a && !full && !old) return a;
    if (a) {
      this.active = undefined;
      await this.seal(a);
    }
    const seq = this.nextSeq++;
    const file = path.join(this.opts.dir, `${String(seq).padStart(12, '0')}.spool`);
    const handle = await this.files.create(file);
    const seg: Segment = { seq, file, durableBytes: 0, readBytes: 0, shippedBytes: 0, sealed: false, recovered: false, createdAtMs: this.now(), handle };
    this.segments.set(seq, seg);
    this.active = seg;
    return seg;
  }

  private async seal(seg: Segment): Promise<void> {
    if (seg.sealed) return;
    seg.sealed = true;
    const h = seg.handle;
    seg.handle = undefined;
    await h?.close().catch(() => undefined);
    if (seg.shippedBytes >= seg.durableBytes) await this.remove(seg);
  }

  private async remove(seg: Segment): Promise<void> {
    this.segments.delete(seg.seq);
    await this.files.remove(seg.file).catch((e: unknown) => this.deps.logger.warn({ err: e as Error, file: seg.file }, 'spool segment not removed'));
  }
}
