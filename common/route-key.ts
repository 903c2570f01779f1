/**
 * Parsing and validation of route keys: HTTP API keys (compat.md §5), `"<METHOD> <path>"` or
 * `$default`, and websocket keys (§6.1). The admin API reuses these to reject bad keys with a
 * reason, and the route table compiles from the same parse, so what is accepted at create time
 * is exactly what matches.
 *
 * Pure: no I/O. Never throws; an invalid key is a value with a human-readable `reason`.
 */

import { decodeComponent } from './safe-decode.js';

export const HTTP_ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;
export type HttpRouteMethod = (typeof HTTP_ROUTE_METHODS)[number];

export type RouteSegment =
  /** `value` is percent-decoded so it compares equal to a decoded request segment. */
  | { readonly kind: 'static'; readonly value: string }
  /** `{name}`: exactly one non-empty segment. */
  | { readonly kind: 'variable'; readonly name: string }
  /** `{name+}`: the rest of the path, at least one segment; only ever the last segment. */
  | { readonly kind: 'greedy'; readonly name: string };

export type ParsedRouteKey =
  | { readonly kind: 'default' }
  | { readonly kind: 'route'; readonly method: HttpRouteMethod; readonly segments: readonly RouteSegment[] };

export type RouteKeyParseResult =
  | { readonly ok: true; readonly key: ParsedRouteKey }
  | { readonly ok: false; readonly reason: string };

const VARIABLE_NAME = /^[A-Za-z0-9._-]+$/;
const VARIABLE_SEGMENT = /^\{([^{}]*?)(\+?)\}$/;
// Whitespace would make the key ambiguous ("GET /a b"), `?`/`#` can never appear in a matched
// path, and braces outside a whole-segment variable are partial variables, which HTTP APIs lack.
const FORBIDDEN_IN_STATIC = /[\s?#{}]/;

export function parseRouteKey(routeKey: string): RouteKeyParseResult {
  if (routeKey === '$default') return { ok: true, key: { kind: 'default' } };
  const space = routeKey.indexOf(' ');
  if (space < 0) return invalid(`route key "${routeKey}" must be "$default" or "<METHOD> <path>"`);
  const method = routeKey.slice(0, space);
  const path = routeKey.slice(space + 1);
  if (!isHttpRouteMethod(method)) {
    return invalid(`method "${method}" must be one of ${HTTP_ROUTE_METHODS.join(', ')}`);
  }
  if (!path.startsWith('/')) return invalid(`path "${path}" must start with "/"`);
  const segments = parsePathSegments(path);
  if (typeof segments === 'string') return invalid(segments);
  return { ok: true, key: { kind: 'route', method, segments } };
}

/** The admin API's check: `undefined` when the key is valid, else why it is not. */
export function httpRouteKeyProblem(routeKey: string): string | undefined {
  const parsed = parseRouteKey(routeKey);
  return parsed.ok ? undefined : parsed.reason;
}

export function isValidHttpRouteKey(routeKey: string): boolean {
  return parseRouteKey(routeKey).ok;
}

const WEBSOCKET_RESERVED_KEYS: readonly string[] = ['$connect', '$disconnect', '$default'];

/**
 * WebSocket route keys are matched exactly (compat.md §6.1): the three reserved keys, or a custom
 * route-selection value, which must be non-empty and must not start with `$`.
 */
export function websocketRouteKeyProblem(routeKey: string): string | undefined {
  if (WEBSOCKET_RESERVED_KEYS.includes(routeKey)) return undefined;
  if (routeKey === '') return 'a websocket route key must not be empty';
  if (routeKey.startsWith('$')) {
    return `websocket route key "${routeKey}" starts with "$" but is not $connect, $disconnect or $default`;
  }
  return undefined;
}

export function isHttpRouteMethod(method: string): method is HttpRouteMethod {
  return (HTTP_ROUTE_METHODS as readonly string[]).includes(method);
}

/** Decodes percent-escapes; a malformed sequence keeps the raw text rather than failing the request. */
export function decodePathSegment(segment: string): string {
  return decodeComponent(segment) ?? segment;
}

/** Returns the segments, or a reason string when the path is invalid. */
function parsePathSegments(path: string): RouteSegment[] | string {
  // `/` alone is the root route: zero segments, just like a request for `/`.
  if (path === '/') return [];
  const raw = path.slice(1).split('/');
  const segments: RouteSegment[] = [];
  const names = new Set<string>();
  for (const [index, text] of raw.entries()) {
    const segment = parseSegment(text, path);
    if (typeof segment === 'string') return segment;
    if (segment.kind !== 'static') {
      if (names.has(segment.name)) return `path "${path}" repeats the variable name "${segment.name}"`;
      names.add(segment.name);
    }
    if (segment.kind === 'greedy' && index !== raw.length - 1) {
      return `greedy variable {${segment.name}+} in "${path}" must be the last segment`;
    }
    segments.push(segment);
  }
  return segments;
}

function parseSegment(text: string, path: string): RouteSegment | string {
  if (text === '') return `path "${path}" has an empty segment (a doubled or trailing "/")`;
  const variable = VARIABLE_SEGMENT.exec(text);
  if (variable) {
    const name = variable[1] ?? '';
    if (!VARIABLE_NAME.test(name)) {
      return `variable name "${name}" in "${path}" must be 1 or more of [A-Za-z0-9._-]`;
    }
    return variable[2] === '+' ? { kind: 'greedy', name } : { kind: 'variable', name };
  }
  if (FORBIDDEN_IN_STATIC.test(text)) {
    return (
      `segment "${text}" in "${path}" may not contain whitespace, "?", "#", ` +
      'or braces outside a whole-segment {variable}'
    );
  }
  const value = decodePathSegment(text);
  // A client or proxy resolves `.` and `..` before the request arrives (RFC 3986 §5.2.4), so such
  // a route could never match, and one that seemed to would address a different path.
  if (value === '.' || value === '..') return `path "${path}" has a dot segment ("${text}"); routes cannot contain "." or ".." segments`;
  return { kind: 'static', value };
}

function invalid(reason: string): RouteKeyParseResult {
  return { ok: false, reason };
}
