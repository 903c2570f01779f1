/**
 * The gateway's compiled route table: built once from a RouteSnapshot, then read-only, so the
 * live table can be swapped atomically on each configuration change (style.md lesson 16).
 *
 * Promises:
 * - API lookup by name (the `/{name}` prefix) and by Host (case-insensitive, `:port` ignored);
 * - HTTP route matching per compat.md §5 (see http-route-matcher.ts for the precedence rules);
 * - exact websocket route-key lookup (§6.1);
 * - compiling never throws on bad data. An invalid route key, a route that conflicts with an
 *   earlier one, or a host already claimed by another API is left out and listed in `problems`.
 *   The admin API validates first, so these only appear when the store holds data it should
 *   not; failing the whole compile would stop every API from picking up changes because of one
 *   bad row, which is worse than serving the rest.
 */
import type { ApiDefinition, RouteDefinition, RouteSnapshot } from './route-snapshot.js';
import type { RouteMatch } from './http-route-matcher.js';
import { HttpRouteMatcher } from './http-route-matcher.js';
import { parseRouteKey, websocketRouteKeyProblem } from '../../common/route-key.js';

export type { RouteMatch } from './http-route-matcher.js';
export type { HttpRouteMethod, ParsedRouteKey, RouteKeyParseResult, RouteSegment } from '../../common/route-key.js';
export {
  HTTP_ROUTE_METHODS,
  httpRouteKeyProblem,
  isValidHttpRouteKey,
  parseRouteKey,
  websocketRouteKeyProblem,
} from '../../common/route-key.js';

/** Something in the snapshot the table left out, and why. */
export type CompileProblem =
  | {
      readonly kind: 'route';
      readonly apiId: string;
      readonly apiName: string;
      readonly routeId: string;
      readonly routeKey: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'host';
      readonly apiId: string;
      readonly apiName: string;
      readonly host: string;
      readonly reason: string;
    };

export interface RouteTable {
  /** The snapshot revision this table was compiled from. */
  readonly revision: number;
  /** Routes and hosts left out at compile time; empty for a clean snapshot. */
  readonly problems: readonly CompileProblem[];
  findApiByName(name: string): ApiDefinition | undefined;
  findApiById(id: string): ApiDefinition | undefined;
  /** `host` as sent in the Host header: case-insensitive, a `:port` suffix is ignored. */
  findApiByHost(host: string): ApiDefinition | undefined;
  /**
   * Matches an HTTP API route. `path` is the path after the `/{apiName}` prefix (starts with
   * `/`, may be `/` alone), still percent-encoded, without the query string. Returns `undefined`
   * when nothing matches and the API has no `$default` route, or when `api` is not an HTTP API
   * of this table.
   */
  match(api: ApiDefinition, method: string, path: string): RouteMatch | undefined;
  /** Exact lookup of a websocket API's route (`$connect`, `$disconnect`, `$default`, custom). */
  websocketRoute(api: ApiDefinition, routeKey: string): RouteDefinition | undefined;
}

export function compileRouteTable(snapshot: RouteSnapshot): RouteTable {
  const problems: CompileProblem[] = [];
  const byName = new Map<string, ApiDefinition>();
  const byHost = new Map<string, ApiDefinition>();
  const byId = new Map<string, ApiDefinition>();
  const httpMatchers = new Map<string, HttpRouteMatcher>();
  const websocketRoutes = new Map<string, Map<string, RouteDefinition>>();
  for (const api of snapshot.apis) {
    // Names are unique in the store; first wins so a duplicate cannot hijack an existing prefix.
    if (!byName.has(api.name)) byName.set(api.name, api);
    byId.set(api.id, api);
    registerHosts(api, byHost, problems);
    if (api.protocol === 'http') httpMatchers.set(api.id, compileHttpRoutes(api, problems));
    else websocketRoutes.set(api.id, compileWebsocketRoutes(api, problems));
  }
  return {
    revision: snapshot.revision,
    problems,
    findApiByName: (name) => byName.get(name),
    findApiById: (id) => byId.get(id),
    findApiByHost: (host) => byHost.get(normalizeHost(host)),
    match: (api, method, path) => httpMatchers.get(api.id)?.match(method, path),
    websocketRoute: (api, routeKey) => websocketRoutes.get(api.id)?.get(routeKey),
  };
}

/** Lower-cases and drops a `:port` suffix (an IPv6 literal keeps its brackets) and a trailing dot. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/:\d*$/, '').replace(/\.$/, '');
}

function registerHosts(api: ApiDefinition, byHost: Map<string, ApiDefinition>, problems: CompileProblem[]): void {
  for (const host of api.hosts) {
    const key = normalizeHost(host);
    const owner = byHost.get(key);
    if (owner && owner.id !== api.id) {
      const reason = `host is already served by API "${owner.name}"`;
      problems.push({ kind: 'host', apiId: api.id, apiName: api.name, host, reason });
    } else {
      byHost.set(key, api);
    }
  }
}

function compileHttpRoutes(api: ApiDefinition, problems: CompileProblem[]): HttpRouteMatcher {
  const matcher = new HttpRouteMatcher();
  for (const route of api.routes) {
    const parsed = parseRouteKey(route.routeKey);
    if (!parsed.ok) {
      problems.push(routeProblem(api, route, parsed.reason));
      continue;
    }
    const clash = matcher.add(route, parsed.key);
    if (clash) problems.push(routeProblem(api, route, conflictReason(clash)));
  }
  return matcher;
}

function compileWebsocketRoutes(api: ApiDefinition, problems: CompileProblem[]): Map<string, RouteDefinition> {
  const routes = new Map<string, RouteDefinition>();
  for (const route of api.routes) {
    const problem = websocketRouteKeyProblem(route.routeKey);
    const clash = routes.get(route.routeKey);
    if (problem) problems.push(routeProblem(api, route, problem));
    else if (clash) problems.push(routeProblem(api, route, conflictReason(clash)));
    else routes.set(route.routeKey, route);
  }
  return routes;
}

function conflictReason(earlier: RouteDefinition): string {
  return `conflicts with route ${earlier.id} ("${earlier.routeKey}")`;
}

function routeProblem(api: ApiDefinition, route: RouteDefinition, reason: string): CompileProblem {
  return { kind: 'route', apiId: api.id, apiName: api.name, routeId: route.id, routeKey: route.routeKey, reason };
}
