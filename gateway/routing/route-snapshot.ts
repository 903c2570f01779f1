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

export interface RouteDefinition {
  readonly id: string;
  /** `GET /items/{id}`, `ANY /{proxy+}`, `$default`; for websocket APIs `$connect` etc. */
  readonly routeKey: string;
  readonly functionName: string;
  readonly payloadFormatVersion: PayloadFormatVersion;
}

export interface ApiDefinition {
  readonly id: string;
  readonly name: string;
  readonly protocol: ApiProtocol;
  readonly hosts: readonly string[];
  readonly cors: CorsConfig | null;
  readonly routes: readonly RouteDefinition[];
}

export interface RouteSnapshot {
  /** Monotonic revision of the stored configuration this snapshot was read at. */
  readonly revision: number;
  readonly apis: readonly ApiDefinition[];
}
