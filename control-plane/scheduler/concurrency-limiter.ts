/**
 * Per-function concurrency leases (reservedConcurrency, api.md). A lease is taken before an
 * environment is sought and released in `finally`, exactly once; over the limit the caller gets
 * 429 at once, never a queue. Node-wide capacity is the scheduler's memory budget, not this.
 */
import { GantryError } from '../../common/errors.js';
import { THROTTLE_REASONS } from '../../common/invoke-protocol.js';

export interface ConcurrencyLease {
  release(): void;
}

export class ConcurrencyLimiter {
  private readonly inFlight = new Map<string, number>();

  /** Throws TooManyRequests when `functionId` already runs `limit` invocations on this node. */
  acquire(functionId: string, limit: number | null): ConcurrencyLease {
    const current = this.inFlight.get(functionId) ?? 0;
    if (limit !== null && current >= limit) {
      throw new GantryError('TooManyRequests', 'Rate Exceeded: the function is at its reserved concurrency.', {
        component: 'scheduler',
        details: { reason: THROTTLE_REASONS.reservedConcurrency, limit },
      });
    }
    this.inFlight.set(functionId, current + 1);
    let released = false;
    return {
      release: () => {
        if (released) throw new Error('concurrency lease released twice');
        released = true;
        const n = (this.inFlight.get(functionId) ?? 1) - 1;
        if (n === 0) this.inFlight.delete(functionId);
        else this.inFlight.set(functionId, n);
      },
    };
  }

  /** Slots in use (tests assert nothing leaks). */
  inUse(functionId?: string): number {
    if (functionId !== undefined) return this.inFlight.get(functionId) ?? 0;
    let sum = 0;
    for (const n of this.inFlight.values()) sum += n;
    return sum;
  }
}
