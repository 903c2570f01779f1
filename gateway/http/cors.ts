/**
 * CORS for HTTP APIs, as API Gateway does it when an API has a `cors` configuration: it answers
 * preflight requests itself (no route, authorizer or function is involved), adds the configured
 * headers to every response of a matching origin, and ignores `access-control-*` headers the
 * function returned (the configuration wins).
 * Pure: header lists in, header lists out.
 */
import { isToken, originProblem } from '../../common/http-grammar.js';
import type { CorsConfig } from '../routing/route-snapshot.js';

type HeaderList = [string, string][];

/**
 * A stored configuration with every value that could not be written into a header left out. The
 * admin API refuses such values; rows stored before it did are not trusted to be clean. Run once
 * per route snapshot, never per request.
 */
export function headerSafeCors(cors: CorsConfig | null): CorsConfig | null {
  if (cors === null || typeof cors !== 'object') return null;
  const tokens = (list: unknown) => (Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string' && isToken(v)) : undefined);
  const origins = Array.isArray(cors.allowOrigins) ? cors.allowOrigins.filter((o): o is string => typeof o === 'string' && originProblem(o) === undefined) : undefined;
  const safe: { -readonly [K in keyof CorsConfig]: CorsConfig[K] } = {};
  if (origins !== undefined) safe.allowOrigins = origins;
  const methods = tokens(cors.allowMethods);
  if (methods !== undefined) safe.allowMethods = methods;
  const allowHeaders = tokens(cors.allowHeaders);
  if (allowHeaders !== undefined) safe.allowHeaders = allowHeaders;
  const exposeHeaders = tokens(cors.exposeHeaders);
  if (exposeHeaders !== undefined) safe.exposeHeaders = exposeHeaders;
  if (typeof cors.maxAge === 'number' && Number.isInteger(cors.maxAge) && cors.maxAge >= 0) safe.maxAge = cors.maxAge;
  if (typeof cors.allowCredentials === 'boolean') safe.allowCredentials = cors.allowCredentials;
  return safe;
}

/** A browser preflight: `OPTIONS` carrying `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(method: string, origin: string | undefined, requestMethod: string | undefined): boolean {
  return method === 'OPTIONS' && origin !== undefined && requestMethod !== undefined;
}

/** The `access-control-allow-origin` value for `origin`, or undefined when it is not allowed. */
export function allowedOrigin(cors: CorsConfig, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  const origins = cors.allowOrigins ?? [];
  // With credentials a browser refuses `*`, so the origin is echoed (the admin API refuses that
  // combination, but a stored config is not trusted to be clean).
  if (origins.includes('*')) return cors.allowCredentials === true ? origin : '*';
  const lower = origin.toLowerCase();
  return origins.some((o) => o.toLowerCase() === lower) ? origin : undefined;
}

/** Headers of the gateway's own `204` answer to a preflight; none when the origin is not allowed. */
export function preflightHeaders(cors: CorsConfig, origin: string | undefined): HeaderList {
  const headers = originHeaders(cors, origin);
  if (headers.length === 0) return headers;
  if (cors.allowMethods && cors.allowMethods.length > 0) headers.push(['access-control-allow-methods', cors.allowMethods.join(',')]);
  if (cors.allowHeaders && cors.allowHeaders.length > 0) headers.push(['access-control-allow-headers', cors.allowHeaders.join(',')]);
  if (cors.maxAge !== undefined) headers.push(['access-control-max-age', String(cors.maxAge)]);
  return headers;
}

/** Headers added to an actual (non-preflight) response for `origin`. */
export function responseCorsHeaders(cors: CorsConfig, origin: string | undefined): HeaderList {
  const headers = originHeaders(cors, origin);
  if (headers.length === 0) return headers;
  if (cors.exposeHeaders && cors.exposeHeaders.length > 0) headers.push(['access-control-expose-headers', cors.exposeHeaders.join(',')]);
  return headers;
}

/** Allow-origin (and allow-credentials) for an allowed origin; nothing for any other. */
function originHeaders(cors: CorsConfig, origin: string | undefined): HeaderList {
  const allowOrigin = allowedOrigin(cors, origin);
  if (allowOrigin === undefined) return [];
  const headers: HeaderList = [['access-control-allow-origin', allowOrigin]];
  if (cors.allowCredentials === true) headers.push(['access-control-allow-credentials', 'true']);
  return headers;
}

/** The function's headers without its own `access-control-*` lines, then the configured ones. */
export function applyCors(headers: HeaderList, cors: CorsConfig, origin: string | undefined): HeaderList {
  const kept = headers.filter(([name]) => !name.toLowerCase().startsWith('access-control-'));
  return [...kept, ...responseCorsHeaders(cors, origin)];
}
