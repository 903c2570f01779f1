/**
 * One environment's output, attributed to invocations as Lambda does: lines go to the invocation
 * in flight, or to the last one until the next starts; output before the first invocation (init)
 * goes to the first. Memory is bounded whatever the function prints: a partial line is cut at
 * MAX_LINE_BYTES, each invocation stores at most `maxBytesPerInvocation` (the rest is counted and
 * dropped), and the tail kept for `X-Gantry-Log-Type: Tail` is the last 4 KB.
 */

export interface LogLine {
  readonly invocationId: string | null;
  readonly time: Date;
  readonly stream: 'stdout' | 'stderr';
  readonly message: string;
  /** `$LATEST` or the published number of the version whose environment wrote it. */
  readonly executedVersion?: string;
}

/** Where finished lines go (batched by the store); must not block. */
export type LogLineSink = (tenantId: string, functionName: string, line: LogLine) => void;

const MAX_LINE_BYTES = 64 * 1024;
export const TAIL_BYTES = 4096;

export class EnvironmentLog {
  private owner: { tenantId: string; functionName: string; executedVersion: string } | undefined;
  private current: string | null = null;
  private pendingInit: LogLine[] = [];
  private readonly partial: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  private storedBytes = 0;
  private droppedBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private lastDataMs = 0;
  /** Output arrived since the current invocation began. */
  private heardSinceBegin = false;

  constructor(
    private readonly sink: LogLineSink,
    private readonly maxBytesPerInvocation: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The function this environment serves (a stem cell learns it when specialised). */
  bindFunction(tenantId: string, functionName: string, executedVersion = '$LATEST'): void {
    this.owner = { tenantId, functionName, executedVersion };
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.lastDataMs = this.nowMs();
    this.heardSinceBegin = true;
    let data = chunk;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
      this.partial[stream].push(data.subarray(0, nl));
      this.flushPartial(stream);
      data = data.subarray(nl + 1);
    }
    if (data.length > 0) {
      this.partial[stream].push(data);
      if (this.partialBytes(stream) > MAX_LINE_BYTES) this.flushPartial(stream);
    }
  }

  /** A new invocation starts: what follows is its output. */
  begin(invocationId: string, version: string): void {
    this.flushPartial('stdout');
    this.flushPartial('stderr');
    this.current = invocationId;
    this.heardSinceBegin = false;
    this.storedBytes = 0;
    this.droppedBytes = 0;
    this.tail = Buffer.alloc(0);
    this.emit('stdout', `START RequestId: ${invocationId} Version: ${version}`);
    for (const l of this.pendingInit.splice(0)) this.emit(l.stream, l.message);
  }

  /** The invocation is over: Lambda's END and REPORT lines. */
  end(report: string): void {
    this.flushPartial('stdout');
    this.flushPartial('stderr');
    if (this.droppedBytes > 0) this.emitAlways('stderr', `[gantry] ${this.droppedBytes} bytes of output were dropped (limit ${this.maxBytesPerInvocation} bytes per invocation)`);
    this.emitAlways('stdout', `END RequestId: ${this.current ?? ''}`);
    this.emitAlways('stdout', report);
  }

  /** The last 4 KB of the current invocation's log (what Lambda returns for LogType Tail). */
  tailText(): string {
    return this.tail.toString('utf8');
  }

  /**
   * Resolves once this invocation's output has gone quiet for `quietMs`, or after `maxMs`, so late
   * lines make the tail: output travels through the engine's attach stream and may trail the
   * result, which comes over the socket. Until the invocation's first output has arrived, it waits
   * for it (a function that prints nothing pays `maxMs`, and only when it asked for the tail).
   */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const deadline = this.nowMs() + maxMs;
    const quiet = () => this.heardSinceBegin && this.nowMs() - this.lastDataMs >= quietMs;
    while (this.nowMs() < deadline && !quiet()) {
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  private partialBytes(stream: 'stdout' | 'stderr'): number {
    return this.partial[stream].reduce((n, b) => n + b.length, 0);
  }

  private flushPartial(stream: 'stdout' | 'stderr'): void {
    const parts = this.partial[stream];
    if (parts.length === 0) return;
    const text = Buffer.concat(parts).subarray(0, MAX_LINE_BYTES).toString('utf8');
    parts.length = 0;
    if (this.current === null) {
      // Init output, before any invocation: belongs to the first one (bounded like any other).
      if (this.pendingInit.length < 1000) this.pendingInit.push({ invocationId: null, time: new Date(this.nowMs()), stream, message: text });
      return;
    }
    this.emit(stream, text);
  }

  private emit(stream: 'stdout' | 'stderr', message: string): void {
    const bytes = Buffer.byteLength(message) + 1;
    if (this.storedBytes + bytes > this.maxBytesPerInvocation) {
      this.droppedBytes += bytes;
      return;
    }
    this.storedBytes += bytes;
    this.emitAlways(stream, message);
  }

  private emitAlways(stream: 'stdout' | 'stderr', message: string): void {
    this.appendTail(`${message}\n`);
    if (this.owner !== undefined) {
      this.sink(this.owner.tenantId, this.owner.functionName, { invocationId: this.current, time: new Date(this.nowMs()), stream, message, executedVersion: this.owner.executedVersion });
    }
  }

  private appendTail(text: string): void {
    const joined = Buffer.concat([this.tail, Buffer.from(text)]);
    this.tail = joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
  }
}

/** Lambda's REPORT line: tab-separated fields, ending with a tab (compat.md §2.1). */
export function reportLine(r: { requestId: string; durationUs: number; billedMs: number; memoryMb: number; initDurationUs: number }): string {
  const fields = [
    `REPORT RequestId: ${r.requestId}`,
    `Duration: ${(r.durationUs / 1000).toFixed(2)} ms`,
    `Billed Duration: ${r.billedMs} ms`,
    `Memory Size: ${r.memoryMb} MB`,
    `Max Memory Used: ${r.memoryMb} MB`,
  ];
  if (r.initDurationUs > 0) fields.push(`Init Duration: ${(r.initDurationUs / 1000).toFixed(2)} ms`);
  return `${fields.join('\t')}\t`;
}
