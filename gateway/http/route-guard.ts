/**
 * Everything that may stop a matched request before its function runs, in API Gateway's order:
 * the route's authorizer (JWT or function), then the API key (`apiKeyRequired`), then the shared
 * limits (the key's plan throttle and quota, the route's throttle). Each refusal carries the exact
 * gateway answer of compat.md §7–§8. Postgres is never touched; Redis only when a limit applies.
 */
import { hashApiKey, type UsageKeys } from '../../common/usage-keys.js';
import type { IdentityRequest } from '../auth/identity-source.js';
import type { JwtAuthorizer } from '../auth/jwt-authorizer.js';
import { authorizerContextFor, type LambdaAuthorizer } from '../auth/lambda-authorizer.js';
import type { HttpV1Event } from '../events/http-v1-event.js';
import type { HttpV2Event } from '../events/http-v2-event.js';
import type { ApiDefinition, ApiKeyDefinition, RouteDefinition } from '../routing/route-snapshot.js';
import { planAdmission } from '../throttle/admission-plan.js';
import type { UsageLimiter } from '../throttle/usage-limiter.js';
import type { GatewayMessage } from './gateway-responses.js';

export interface GuardRequest {
  readonly api: ApiDefinition;
  readonly route: RouteDefinition;
  readonly method: string;
  /** API-relative path, as in `rawPath`. */
  readonly path: string;
  /** Value of `x-api-key`, when sent. */
  readonly apiKeyValue: string | undefined;
  readonly apiKeys: ReadonlyMap<string, ApiKeyDefinition>;
  readonly identity: () => IdentityRequest;
  readonly v2Event: () => HttpV2Event;
  readonly v1Event: () => HttpV1Event;
}

export type GuardOutcome =
  | {
      readonly kind: 'pass';
      /** `requestContext.authorizer` for the target's event, when the route has an authorizer. */
      readonly authorizer: Record<string, unknown> | undefined;
      readonly apiKey: { readonly value: string; readonly id: string } | undefined;
    }
  | { readonly kind: 'reject'; readonly message: GatewayMessage; readonly headers?: [string, string][]; readonly apiKeyId?: string; readonly reason: string };

export interface RouteGuardDeps {
  readonly jwt: JwtAuthorizer;
  readonly lambda: LambdaAuthorizer;
  readonly limiter: UsageLimiter;
  readonly usageKeys: UsageKeys;
  readonly now?: () => number;
}

export class RouteGuard {
  private readonly now: () => number;

  constructor(
    private readonly deps: RouteGuardDeps,
    private readonly region: string,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** True when the route needs nothing checked: the hot path skips the guard entirely. */
  static isOpen(route: RouteDefinition): boolean {
    return route.authorizer === undefined && route.apiKeyRequired !== true && route.throttle === undefined;
  }

  async check(req: GuardRequest): Promise<GuardOutcome> {
    const auth = await this.authorize(req);
    if (auth.kind === 'reject') return auth;
    let apiKey: ApiKeyDefinition | undefined;
    if (req.route.apiKeyRequired === true) {
      apiKey = req.apiKeyValue === undefined ? undefined : req.apiKeys.get(hashApiKey(req.apiKeyValue));
      if (!apiKey || !apiKey.apis.has(req.api.name)) return { kind: 'reject', message: 'forbidden', reason: 'invalid api key' };
    }
    const admission = planAdmission(this.deps.usageKeys, req.route, apiKey, this.now());
    if (admission) {
      const keyId = apiKey?.id;
      let verdict;
      try {
        verdict = await this.deps.limiter.admit(admission);
      } catch {
        // Fail closed: without the shared counters no limit can be enforced exactly.
        return { kind: 'reject', message: 'unavailable', reason: 'usage counters unavailable', ...(keyId ? { apiKeyId: keyId } : {}) };
      }
      if (verdict === 'throttled') return { kind: 'reject', message: 'throttled', reason: 'throttled', ...(keyId ? { apiKeyId: keyId } : {}) };
      if (verdict === 'quota-exceeded') return { kind: 'reject', message: 'limitExceeded', reason: 'quota exceeded', ...(keyId ? { apiKeyId: keyId } : {}) };
    }
    return { kind: 'pass', authorizer: auth.authorizer, apiKey: apiKey && req.apiKeyValue !== undefined ? { value: req.apiKeyValue, id: apiKey.id } : undefined };
  }

  private async authorize(req: GuardRequest): Promise<{ kind: 'pass'; authorizer: Record<string, unknown> | undefined } | Extract<GuardOutcome, { kind: 'reject' }>> {
    const authorizer = req.route.authorizer;
    const version = req.route.payloadFormatVersion;
    if (!authorizer) return { kind: 'pass', authorizer: undefined };
    switch (authorizer.type) {
      case 'invalid':
        return { kind: 'reject', message: 'internal', reason: 'stored authorizer is unreadable' };
      case 'jwt': {
        const out = await this.deps.jwt.authorize(authorizer, req.identity());
        if (out.kind === 'forbidden') return { kind: 'reject', message: 'forbidden', reason: 'missing scope' };
        if (out.kind === 'unauthorized') {
          const challenge = `Bearer scope="" error="invalid_token" error_description="${out.description}"`;
          return { kind: 'reject', message: 'unauthorized', headers: [['www-authenticate', challenge]], reason: out.description };
        }
        const jwt = { claims: out.claims, scopes: out.scopes };
        return { kind: 'pass', authorizer: version === '2.0' ? { jwt } : jwt };
      }
      case 'function': {
        const routeArn = `arn:aws:execute-api:${this.region}:000000000000:${req.api.id}/$default/${req.method}${req.path}`;
        const out = await this.deps.lambda.authorize({ config: authorizer, identity: req.identity(), routeArn, v2Event: req.v2Event, v1Event: req.v1Event });
        switch (out.kind) {
          case 'allow':
            return { kind: 'pass', authorizer: authorizerContextFor(version, out) };
          case 'unauthorized':
            return { kind: 'reject', message: 'unauthorized', reason: 'identity source missing' };
          case 'forbidden':
            return { kind: 'reject', message: 'forbidden', reason: 'authorizer denied' };
          case 'error':
            return { kind: 'reject', message: 'internal', reason: out.reason };
        }
      }
    }
  }
}
