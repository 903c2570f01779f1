/**
 * Reads a route's stored `options` (jsonb, written by the admin API after validation) into the
 * gateway's typed view. The admin API already filled in defaults; this only guards against rows
 * it should never have written. An authorizer it cannot read becomes `invalid`, which fails the
 * route's requests closed (500) instead of serving them unauthenticated.
 * Pure.
 */
import type { ApiKeyDefinition, AuthorizerConfig, QuotaConfig, RouteDefinition, ThrottleConfig } from './route-snapshot.js';

type RouteOptions = Pick<RouteDefinition, 'apiKeyRequired' | 'authorizer' | 'throttle' | 'routeResponseSelectionExpression'>;

export function routeOptionsFrom(options: unknown): RouteOptions {
  if (!isObject(options)) return {};
  const throttle = throttleFrom(options['throttle']);
  return {
    ...(options['apiKeyRequired'] === true ? { apiKeyRequired: true } : {}),
    ...(options['authorizer'] !== undefined ? { authorizer: authorizerFrom(options['authorizer']) } : {}),
    ...(throttle ? { throttle } : {}),
    ...(options['routeResponseSelectionExpression'] === '$default' ? { routeResponseSelectionExpression: '$default' as const } : {}),
  };
}

export function throttleFrom(raw: unknown): ThrottleConfig | undefined {
  if (!isObject(raw)) return undefined;
  const { rateLimit, burstLimit } = raw;
  return typeof rateLimit === 'number' && typeof burstLimit === 'number' && rateLimit >= 0 && burstLimit >= 0 ? { rateLimit, burstLimit } : undefined;
}

export function quotaFrom(raw: unknown, planCreatedAtMs: number): QuotaConfig | undefined {
  if (!isObject(raw)) return undefined;
  const { limit, period, offset } = raw;
  const okPeriod = period === 'DAY' || period === 'WEEK' || period === 'MONTH';
  if (typeof limit !== 'number' || limit < 0 || !okPeriod) return undefined;
  return { limit, period, planCreatedAtMs, ...(typeof offset === 'number' && offset > 0 ? { offset } : {}) };
}

export function apiKeyFrom(row: { id: string; usage_plan_id: string; apis: unknown; throttle: unknown; quota: unknown; plan_created_at: Date }): ApiKeyDefinition {
  return {
    id: row.id,
    usagePlanId: row.usage_plan_id,
    apis: new Set(Array.isArray(row.apis) ? row.apis.filter((a): a is string => typeof a === 'string') : []),
    throttle: throttleFrom(row.throttle),
    quota: quotaFrom(row.quota, row.plan_created_at.getTime()),
  };
}

function authorizerFrom(raw: unknown): AuthorizerConfig {
  if (!isObject(raw)) return { type: 'invalid' };
  const identitySource = stringList(raw['identitySource']);
  if (raw['type'] === 'jwt') {
    const audience = stringList(raw['audience']);
    if (typeof raw['issuer'] !== 'string' || !audience || !identitySource) return { type: 'invalid' };
    const jwksUri = raw['jwksUri'];
    const publicKeys = stringList(raw['publicKeys']);
    const scopes = stringList(raw['scopes']);
    return {
      type: 'jwt',
      issuer: raw['issuer'],
      audience,
      identitySource,
      ...(typeof jwksUri === 'string' ? { jwksUri } : {}),
      ...(publicKeys ? { publicKeys } : {}),
      ...(scopes ? { scopes } : {}),
    };
  }
  if (raw['type'] === 'function') {
    const { function: fn, payloadFormatVersion: v, enableSimpleResponses: simple, resultTtlSeconds: ttl } = raw;
    if (typeof fn !== 'string' || (v !== '1.0' && v !== '2.0') || typeof simple !== 'boolean' || typeof ttl !== 'number' || !identitySource) {
      return { type: 'invalid' };
    }
    return { type: 'function', function: fn, payloadFormatVersion: v, enableSimpleResponses: simple, identitySource, resultTtlSeconds: ttl };
  }
  return { type: 'invalid' };
}

function stringList(raw: unknown): string[] | undefined {
  return Array.isArray(raw) && raw.every((x) => typeof x === 'string') ? (raw as string[]) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
