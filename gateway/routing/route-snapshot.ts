/**
 * The gateway's view of what the admin API stored: every API with its routes, as loaded from
 * Postgres in one read. A snapshot is immutable; the route table is compiled from it once per
 * change and swapped atomically, never patched in place.
 */

export type ApiProtocol = 'http' | 'websocket';
export type PayloadFormatVersion = '1.0' | '2.0';

export interface CorsConfig {
  readonly allowOrigins?: readonly string[];
  readonly allowMethods?: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly maxAge?: number;
  readonly allowCredentials?: boolean;
}

/** A token bucket: `burstLimit` tokens, refilled at `rateLimit` per second (compat.md §7). */
export interface ThrottleConfig {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface QuotaConfig {
  readonly limit: number;
  readonly period: 'DAY' | 'WEEK' | 'MONTH';
  /** Requests subtracted from the limit in the plan's initial period (the one holding `planCreatedAtMs`). */
  readonly offset?: number;
  readonly planCreatedAtMs: number;
}

/** api.md route option `authorizer` of type `jwt` (compat.md §8.1), defaults filled in. */
export interface JwtAuthorizerConfig {
  readonly type: 'jwt';
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly jwksUri?: string;
  readonly publicKeys?: readonly string[];
  readonly scopes?: readonly string[];
  readonly identitySource: readonly string[];
}

/** api.md route option `authorizer` of type `function` (compat.md §8.2), defaults filled in. */
export interface FunctionAuthorizerConfig {
  readonly type: 'function';
  readonly function: string;
  readonly payloadFormatVersion: PayloadFormatVersion;
  readonly enableSimpleResponses: boolean;
  readonly identitySource: readonly string[];
  readonly resultTtlSeconds: number;
}

/** A stored authorizer the gateway cannot read: requests fail closed with a 500. */
export interface InvalidAuthorizerConfig {
  readonly type: 'invalid';
}

export type AuthorizerConfig = JwtAuthorizerConfig | FunctionAuthorizerConfig | InvalidAuthorizerConfig;

export interface RouteDefinition {
  readonly id: string;
  /** `GET /items/{id}`, `ANY /{proxy+}`, `$default`; for websocket APIs `$connect` etc. */
  readonly routeKey: string;
  readonly functionName: string;
  readonly payloadFormatVersion: PayloadFormatVersion;
  readonly apiKeyRequired?: boolean;
  readonly authorizer?: AuthorizerConfig;
  /** The route's own bucket, shared by all its clients. */
  readonly throttle?: ThrottleConfig;
  /** WebSocket routes: `$default` makes the route two-way (its result's body goes back). */
  readonly routeResponseSelectionExpression?: '$default';
}

/** An API key as the gateway knows it: looked up by the sha256 of the value a client sends. */
export interface ApiKeyDefinition {
  readonly id: string;
  readonly usagePlanId: string;
  /** Names of the APIs the key's plan covers. */
  readonly apis: ReadonlySet<string>;
  readonly throttle: ThrottleConfig | undefined;
  readonly quota: QuotaConfig | undefined;
}

export interface ApiDefinition {
  readonly id: string;
  /** Whose API it is (function credentials on `@connections` must be this tenant's); unset: `default`. */
  readonly tenantId?: string;
  readonly name: string;
  readonly protocol: ApiProtocol;
  readonly hosts: readonly string[];
  readonly cors: CorsConfig | null;
  /** WebSocket APIs: how a message picks its route (null: `$request.body.action`). */
  readonly routeSelectionExpression?: string | null;
  readonly routes: readonly RouteDefinition[];
}

export interface RouteSnapshot {
  /** Monotonic revision of the stored configuration this snapshot was read at. */
  readonly revision: number;
  readonly apis: readonly ApiDefinition[];
}
