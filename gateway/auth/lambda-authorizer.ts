/**
 * The Lambda (function) authorizer of HTTP APIs (compat.md §8.2): the gateway invokes a Gantry
 * function through its Upstream, the same way as a route's target, with the REQUEST event of the
 * authorizer's payload version, and caches the answer per identity for `resultTtlSeconds`.
 *
 * Promises: a missing identity source is `unauthorized` and the function is not called; a
 * denial is `forbidden`; a failed invoke, a timeout (10 s, API Gateway's) or a malformed answer
 * is `error` (500) and is never cached. The cache is per gateway and in memory, keyed by the
 * authorizer's configuration and every identity-source value; a cached policy is evaluated again
 * for each route ARN, so one cached answer serves every route of the authorizer correctly.
 */
import type { HttpV1Event } from '../events/http-v1-event.js';
import type { HttpV2Event } from '../events/http-v2-event.js';
import type { FunctionAuthorizerConfig } from '../routing/route-snapshot.js';
import type { Upstream } from '../upstream/upstream.js';
import { isAllowed, parseAuthorizerResponse, type AuthorizerResponse } from './authorizer-response.js';
import { resolveIdentitySources, type IdentityRequest } from './identity-source.js';

export type LambdaAuthOutcome =
  | { readonly kind: 'allow'; readonly context: Record<string, unknown> | null; readonly principalId: string | undefined }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'error'; readonly reason: string };

export interface AuthorizerRequest {
  readonly config: FunctionAuthorizerConfig;
  readonly identity: IdentityRequest;
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}` */
  readonly routeArn: string;
  /** The request as the route's events see it; built only when the function is called. */
  readonly v2Event: () => HttpV2Event;
  readonly v1Event: () => HttpV1Event;
}

export interface LambdaAuthorizerOptions {
  readonly timeoutMs: number;
  /** Bound on cached answers per gateway; the oldest go first. */
  readonly maxCacheEntries: number;
}

type Valid = Exclude<AuthorizerResponse, { kind: 'invalid' }>;

export class LambdaAuthorizer {
  private readonly cache = new Map<string, { expiresAtMs: number; response: Valid }>();

  constructor(
    private readonly upstream: Upstream,
    private readonly options: LambdaAuthorizerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async authorize(request: AuthorizerRequest): Promise<LambdaAuthOutcome> {
    const { config } = request;
    const values = resolveIdentitySources(config.identitySource, request.identity);
    if (values === undefined) return { kind: 'unauthorized' };
    const cacheKey = config.resultTtlSeconds > 0 ? JSON.stringify([config.function, config.payloadFormatVersion, config.enableSimpleResponses, config.identitySource, values]) : undefined;
    let response = cacheKey === undefined ? undefined : this.cached(cacheKey);
    if (!response) {
      const called = await this.call(request, values);
      if (called.kind === 'error' || called.kind === 'unauthorized') return called;
      response = called.response;
      if (cacheKey !== undefined) this.store(cacheKey, response, config.resultTtlSeconds * 1000);
    }
    if (!isAllowed(response, request.routeArn)) return { kind: 'forbidden' };
    return { kind: 'allow', context: response.context, principalId: response.kind === 'policy' ? response.principalId : undefined };
  }

  private async call(request: AuthorizerRequest, values: string[]): Promise<{ kind: 'ok'; response: Valid } | { kind: 'unauthorized' } | { kind: 'error'; reason: string }> {
    const { config } = request;
    const event = config.payloadFormatVersion === '2.0' ? authorizerEventV2(request.v2Event(), request.routeArn, values) : authorizerEventV1(request.v1Event(), request.routeArn, values);
    let result;
    try {
      result = await this.upstream.invoke(config.function, Buffer.from(JSON.stringify(event)), this.options.timeoutMs);
    } catch (e) {
      return { kind: 'error', reason: `authorizer invoke failed: ${(e as Error).message}` };
    }
    if (result.functionError) {
      // REST-style authorizers (payload 1.0) deny with a thrown "Unauthorized" → 401 (compat.md §8.2).
      if (config.payloadFormatVersion === '1.0' && isUnauthorizedError(result.payload)) return { kind: 'unauthorized' };
      return { kind: 'error', reason: 'authorizer function failed' };
    }
    if (config.payloadFormatVersion === '1.0' && result.payload.toString('utf8').trim() === '"Unauthorized"') return { kind: 'unauthorized' };
    const response = parseAuthorizerResponse(result.payload, config.enableSimpleResponses);
    return response.kind === 'invalid' ? { kind: 'error', reason: 'authorizer response is malformed' } : { kind: 'ok', response };
  }

  private cached(key: string): Valid | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (hit.expiresAtMs > this.now()) return hit.response;
    this.cache.delete(key);
    return undefined;
  }

  private store(key: string, response: Valid, ttlMs: number): void {
    if (this.cache.size >= this.options.maxCacheEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, { expiresAtMs: this.now() + ttlMs, response });
  }
}

/** compat.md §8.2: the 2.0 REQUEST event (no body). */
export function authorizerEventV2(e: HttpV2Event, routeArn: string, identitySource: string[]): Record<string, unknown> {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn,
    identitySource,
    routeKey: e.routeKey,
    rawPath: e.rawPath,
    rawQueryString: e.rawQueryString,
    ...(e.cookies ? { cookies: e.cookies } : {}),
    headers: e.headers,
    ...(e.queryStringParameters ? { queryStringParameters: e.queryStringParameters } : {}),
    requestContext: e.requestContext,
    ...(e.pathParameters ? { pathParameters: e.pathParameters } : {}),
  };
}

/** compat.md §8.2: the 1.0 (REST-style) REQUEST event, identity sources as one joined string. */
export function authorizerEventV1(e: HttpV1Event, methodArn: string, identitySource: string[]): Record<string, unknown> {
  const joined = identitySource.join(',');
  return {
    version: '1.0',
    type: 'REQUEST',
    methodArn,
    identitySource: joined,
    authorizationToken: joined,
    resource: e.resource,
    path: e.path,
    httpMethod: e.httpMethod,
    headers: e.headers,
    multiValueHeaders: e.multiValueHeaders,
    queryStringParameters: e.queryStringParameters,
    multiValueQueryStringParameters: e.multiValueQueryStringParameters,
    pathParameters: e.pathParameters,
    stageVariables: e.stageVariables,
    requestContext: e.requestContext,
  };
}

function isUnauthorizedError(payload: Buffer): boolean {
  try {
    return (JSON.parse(payload.toString('utf8')) as { errorMessage?: unknown }).errorMessage === 'Unauthorized';
  } catch {
    return false;
  }
}

/** `requestContext.authorizer` for the target's event: `{lambda: …}` (2.0) or the REST form (1.0). */
export function authorizerContextFor(version: '1.0' | '2.0', outcome: Extract<LambdaAuthOutcome, { kind: 'allow' }>): Record<string, unknown> {
  if (version === '2.0') return { lambda: outcome.context };
  // compat.md §4.1: principalId plus the context keys with stringified values.
  const entries: [string, string][] = Object.entries(outcome.context ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  return { ...(outcome.principalId !== undefined ? { principalId: outcome.principalId } : {}), ...Object.fromEntries(entries) };
}
