/**
 * Billing arithmetic (compat.md §9), pure. Duration is billed from handler start to its end,
 * plus init on a cold start (Lambda bills init for every configuration since Aug 2025; the
 * ⌈Duration + Init⌉ rounding is unconfirmed by AWS docs but matches observed REPORT lines),
 * rounded up to the next whole millisecond and never more than the function's timeout.
 */

export function billedDurationMs(durationUs: number, initDurationUs: number, timeoutMs: number): number {
  const totalUs = Math.max(0, durationUs) + Math.max(0, initDurationUs);
  return Math.min(Math.ceil(totalUs / 1000), timeoutMs);
}
