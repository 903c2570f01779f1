/**
 * The metering seam: one ledger entry per attempt that ran. Implementations make an entry durable
 * before `append` resolves and are idempotent on (invocationId, attempt).
 */

/** How the environment that ran the attempt came to be: warm, a fresh container, or a specialised stem cell. */
export type ColdStartKind = 'none' | 'container' | 'stem-cell';

export type InvocationSource = 'direct' | 'gateway' | 'websocket' | 'async' | 'schedule';
export type LedgerStatus = 'succeeded' | 'failed';

export interface LedgerEntry {
  readonly invocationId: string;
  readonly attempt: number;
  readonly tenantId: string;
  readonly functionId: string;
  readonly functionName: string;
  readonly versionId: number;
  /** `$LATEST` or the published number that ran (absent in entries spooled before versions: `$LATEST`). */
  readonly executedVersion?: string;
  readonly source: InvocationSource;
  readonly startedAt: Date;
  readonly durationUs: number;
  readonly initDurationUs: number;
  readonly billedMs: number;
  readonly memoryMb: number;
  readonly coldStart: ColdStartKind;
  readonly status: LedgerStatus;
  readonly errorType: string | null;
}

export interface MeteringLedger {
  /** Resolves once the entry is durable; rejects (and the caller fails the request) otherwise. */
  append(entry: LedgerEntry): Promise<void>;
  /** Flushes what is pending, then refuses new entries. Idempotent. */
  close(): Promise<void>;
}

/**
 * What the invoker asks before it runs anything: whether an invocation can be metered now, and
 * where refused requests are counted (compat.md §9: counted as such, never billed).
 */
export interface MeteringGate {
  /** Throws ServiceUnavailable (503) when the invocation could not be metered durably. */
  admit(): void;
  /** A request refused before any of the function's code ran. */
  rejected(tenantId: string, functionName: string, reason: 'throttled' | 'unavailable' | 'init-failed'): void;
}
