/**
 * What happens to an async event next (compat.md §2.1, Lambda's asynchronous invocation model),
 * as pure functions of the config, the event's age and `now`:
 * - an event older than its maximum age is not run: it goes to the failure destination;
 * - a function error consumes a retry, after the configured delay, until none is left;
 * - a throttle or a platform error consumes nothing: the event goes back to the queue with a
 *   delay growing from a minimum to a maximum (Lambda: 1 s to 5 min), never past its age limit,
 *   so an event that can never run is expired on time.
 */
import type { AsyncConfig } from './async-config.js';

export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';

export function ageLimitAt(createdAtMs: number, c: AsyncConfig): number {
  return createdAtMs + c.maximumEventAgeSeconds * 1000;
}

export function isExpired(createdAtMs: number, nowMs: number, c: AsyncConfig): boolean {
  return nowMs > ageLimitAt(createdAtMs, c);
}

/** Delay before retry `n` (1-based). */
export function retryDelayMs(c: AsyncConfig, n: number): number {
  const d = c.retryDelaysMs;
  return d[n - 1] ?? d[d.length - 1] ?? 0;
}

export type AfterFailure = { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'give-up'; readonly condition: FailureCondition };

/** After attempt `attemptsRun` (1-based) ended in a function error. */
export function afterFunctionError(c: AsyncConfig, attemptsRun: number): AfterFailure {
  const retriesUsed = attemptsRun - 1;
  if (retriesUsed >= c.maximumRetryAttempts) return { kind: 'give-up', condition: 'RetriesExhausted' };
  return { kind: 'retry', delayMs: retryDelayMs(c, retriesUsed + 1) };
}

export interface ThrottleBackoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Delay before the `bounces`-th return to the queue (1-based) of an event that could not run.
 * Doubles from the minimum, capped at the maximum, and never beyond the moment the event expires
 * (plus 1 ms, so it is seen as expired then, not run).
 */
export function throttleDelayMs(b: ThrottleBackoff, bounces: number, createdAtMs: number, nowMs: number, c: AsyncConfig): number {
  const grown = Math.min(b.maxDelayMs, b.minDelayMs * 2 ** Math.min(Math.max(bounces - 1, 0), 30));
  const untilExpiry = Math.max(0, ageLimitAt(createdAtMs, c) - nowMs + 1);
  return Math.min(grown, untilExpiry);
}
