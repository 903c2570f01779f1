/**
 * Per-connection limits that need no I/O: the message rate (a token bucket), the idle timeout and
 * maximum duration (compat.md §6.5), and the bound on what a gateway queues for one slow reader.
 * Pure: the caller passes the clock.
 */

export interface ConnectionLimits {
  readonly idleTimeoutMs: number;
  readonly maxDurationMs: number;
  /** Messages per second a connection may send, sustained… */
  readonly messageRatePerSecond: number;
  /** …and in a burst. */
  readonly messageBurst: number;
  /** Bytes queued towards one client before it counts as too slow and is closed. */
  readonly maxQueuedBytes: number;
}

/** A token bucket of `burst` tokens refilled at `ratePerSecond`, full at creation. */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.updatedMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type Expiry = { readonly code: number; readonly reason: string } | undefined;

/** Why a connection must end now, if it must: idle too long, or open too long. */
export function expiryOf(limits: Pick<ConnectionLimits, 'idleTimeoutMs' | 'maxDurationMs'>, connectedAtMs: number, lastActiveMs: number, nowMs: number): Expiry {
  if (nowMs - connectedAtMs >= limits.maxDurationMs) return { code: 1001, reason: 'Going away: maximum connection duration reached' };
  if (nowMs - lastActiveMs >= limits.idleTimeoutMs) return { code: 1001, reason: 'Going away: idle timeout' };
  return undefined;
}

/** Whether `bytes` more may be queued behind `queuedBytes` already waiting for the client. */
export function fitsSendQueue(maxQueuedBytes: number, queuedBytes: number, bytes: number): boolean {
  return queuedBytes + bytes <= maxQueuedBytes;
}
