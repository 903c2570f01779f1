/** The route guard (JWT and Lambda authorizers, usage-plan limits) from its slice of the config. */
import type { RedisKeys, Redis } from '../../common/redis.js';
import { UsageKeys } from '../../common/usage-keys.js';
import { JwtAuthorizer } from '../auth/jwt-authorizer.js';
import { JwtKeys } from '../auth/jwt-keys.js';
import { LambdaAuthorizer } from '../auth/lambda-authorizer.js';
import type { GatewayConfig } from '../config.js';
import { RedisUsageLimiter } from '../throttle/usage-limiter.js';
import type { Upstream } from '../upstream/upstream.js';
import { RouteGuard } from './route-guard.js';

/** API Gateway's JWKS fetch timeout (compat.md §8.1). */
const JWKS_FETCH_TIMEOUT_MS = 1_500;

export type RouteGuardConfig = Pick<
  GatewayConfig,
  'GANTRY_REGION' | 'GANTRY_JWKS_COOLDOWN_MS' | 'GANTRY_JWKS_CACHE_MS' | 'GANTRY_AUTHORIZER_TIMEOUT_MS' | 'GANTRY_AUTHORIZER_CACHE_ENTRIES'
>;

export function createRouteGuard(deps: { readonly upstream: Upstream; readonly redis: Redis; readonly keys: RedisKeys }, c: RouteGuardConfig): RouteGuard {
  return new RouteGuard(
    {
      jwt: new JwtAuthorizer(new JwtKeys({ fetchTimeoutMs: JWKS_FETCH_TIMEOUT_MS, refreshCooldownMs: c.GANTRY_JWKS_COOLDOWN_MS, cacheMaxAgeMs: c.GANTRY_JWKS_CACHE_MS })),
      lambda: new LambdaAuthorizer(deps.upstream, { timeoutMs: c.GANTRY_AUTHORIZER_TIMEOUT_MS, maxCacheEntries: c.GANTRY_AUTHORIZER_CACHE_ENTRIES }),
      limiter: new RedisUsageLimiter(deps.redis, deps.keys.key('unused')),
      usageKeys: new UsageKeys(deps.keys),
    },
    c.GANTRY_REGION,
  );
}
