/**
 * A token bucket refilled lazily from a monotonic clock: a take is two arithmetic steps, with no
 * timer, so it costs nothing on the hot path until something is over its rate.
 */
export class RateBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly nowMs: () => number = monotonicMs,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs();
  }

  /** Takes `n` tokens when there are that many; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens even past empty (bytes already received cannot be refused) and returns how
   * many milliseconds the caller should wait before taking more: 0 while in credit.
   */
  charge(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }

  private refill(): void {
    const now = this.nowMs();
    const elapsed = now - this.lastMs;
    if (elapsed <= 0) return;
    this.lastMs = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
  }
}

export function monotonicMs(): number {
  return performance.now();
}
