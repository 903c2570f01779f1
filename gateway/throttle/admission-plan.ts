/**
 * Decides which shared counters one request must pass (pure): the key's plan bucket and quota
 * and its per-day usage when the route requires a key, and the route's own bucket when it has a
 * throttle. `undefined` means nothing to check, so the request never touches Redis.
 */
import { quotaLimitAt, quotaPeriodEndMs, USAGE_RETENTION_DAYS, utcDate, type UsageKeys } from '../../common/usage-keys.js';
import type { ApiKeyDefinition, RouteDefinition } from '../routing/route-snapshot.js';
import type { AdmissionRequest } from './usage-limiter.js';

const DAY_MS = 86_400_000;

export function planAdmission(
  keys: UsageKeys,
  route: Pick<RouteDefinition, 'id' | 'throttle'>,
  apiKey: ApiKeyDefinition | undefined,
  nowMs: number,
): AdmissionRequest | undefined {
  const request: {
    -readonly [K in keyof AdmissionRequest]: AdmissionRequest[K];
  } = {};
  if (route.throttle) request.routeBucket = { name: keys.routeBucket(route.id), ...route.throttle };
  if (apiKey) {
    if (apiKey.throttle) request.keyBucket = { name: keys.keyBucket(apiKey.id), ...apiKey.throttle };
    if (apiKey.quota) {
      // A day of slack past the period's end: a gateway whose clock runs slightly behind still
      // finds the counter of the period it thinks it is in.
      const ttlMs = quotaPeriodEndMs(apiKey.quota.period, nowMs) - nowMs + DAY_MS;
      const limit = quotaLimitAt(apiKey.quota, apiKey.quota.planCreatedAtMs, nowMs);
      request.quota = { name: keys.quota(apiKey.id, apiKey.quota.period, nowMs), limit, ttlMs };
    }
    request.usageDay = { name: keys.day(apiKey.id, utcDate(nowMs)), ttlMs: USAGE_RETENTION_DAYS * DAY_MS };
  }
  return Object.keys(request).length === 0 ? undefined : request;
}
