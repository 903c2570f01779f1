/**
 * How API keys are hashed, where their usage lives in Redis, and the quota calendar (api.md: UTC calendar days, ISO
 * weeks from Monday, calendar months). Gateways write these counters; the control plane reads
 * them for `GET /v1/api-keys/{id}/usage`, so both must agree on names and periods: that is why
 * this sits in common/.
 * Pure: no I/O; the time is always the caller's.
 */
import { createHash } from 'node:crypto';
import type { RedisKeys } from './redis.js';

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

const DAY_MS = 86_400_000;
/** Requests per key per day are kept this long, then Redis drops them. */
export const USAGE_RETENTION_DAYS = 400;

/** How an API key is stored and looked up: the sha256 (hex) of its value, never the value. */
export function hashApiKey(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** `YYYY-MM-DD` of the UTC day holding `epochMs`. */
export function utcDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** First instant (epoch ms, UTC) of the quota period holding `epochMs`. */
export function quotaPeriodStartMs(period: QuotaPeriod, epochMs: number): number {
  const d = new Date(epochMs);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case 'DAY':
      return dayStart;
    case 'WEEK':
      // getUTCDay: 0 = Sunday. ISO weeks start on Monday, so Sunday is 6 days in.
      return dayStart - ((d.getUTCDay() + 6) % 7) * DAY_MS;
    case 'MONTH':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/** First instant after the quota period holding `epochMs` (exclusive end). */
export function quotaPeriodEndMs(period: QuotaPeriod, epochMs: number): number {
  const start = quotaPeriodStartMs(period, epochMs);
  switch (period) {
    case 'DAY':
      return start + DAY_MS;
    case 'WEEK':
      return start + 7 * DAY_MS;
    case 'MONTH': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/**
 * The quota limit in force at `epochMs` (compat.md §7, the AWS API reference's reading of
 * `offset`): `offset` requests are subtracted from the limit in the plan's initial period, the
 * one holding its creation; every later period has the full limit.
 */
export function quotaLimitAt(
  quota: { readonly limit: number; readonly period: QuotaPeriod; readonly offset?: number | undefined },
  planCreatedAtMs: number,
  epochMs: number,
): number {
  const offset = quota.offset ?? 0;
  if (offset === 0 || quotaPeriodStartMs(quota.period, epochMs) !== quotaPeriodStartMs(quota.period, planCreatedAtMs)) return quota.limit;
  return Math.max(0, quota.limit - offset);
}

/** Redis key names for one installation (its prefix). */
export class UsageKeys {
  constructor(private readonly keys: RedisKeys) {}

  /** Requests admitted for a key on one UTC day (`date` is `YYYY-MM-DD`). */
  day(apiKeyId: string, date: string): string {
    return this.keys.key('usage', apiKeyId, date);
  }

  /** Requests admitted for a key in one quota period, named by its kind and first day. */
  quota(apiKeyId: string, period: QuotaPeriod, epochMs: number): string {
    return this.keys.key('quota', apiKeyId, period, utcDate(quotaPeriodStartMs(period, epochMs)));
  }

  /** A usage plan's token bucket for one key (plan throttles are per client). */
  keyBucket(apiKeyId: string): string {
    return this.keys.key('bucket', 'key', apiKeyId);
  }

  /** A route's token bucket, shared by every client of the route. */
  routeBucket(routeId: string): string {
    return this.keys.key('bucket', 'route', routeId);
  }
}
