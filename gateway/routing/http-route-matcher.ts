/**
 * One HTTP API's routes compiled into a segment trie, and the matcher over it (compat.md §5).
 *
 * Promises, for a request path split on `/`:
 * - a full-length route (no greedy variable) always beats a greedy one, then `$default` is last;
 * - among routes of the same class, segments are compared left to right: static beats `{name}`
 *   beats `{name+}`;
 * - at equal path shape an explicit method beats `ANY`; `HEAD` matches only `HEAD` or `ANY`;
 * - `{name}` needs one non-empty segment, `{name+}` a non-empty rest; matching is exact
 *   (case-sensitive, `/items/` is not `/items`).
 * Built once per snapshot, then read-only; a match walks the trie (each node at most once per
 * pass) with no regexes, sorting or allocation beyond the split path and the parameters.
 */
import type { RouteDefinition } from './route-snapshot.js';
import type { HttpRouteMethod, ParsedRouteKey } from '../../common/route-key.js';
import { decodePathSegment } from '../../common/route-key.js';

export interface RouteMatch {
  readonly route: RouteDefinition;
  /** Percent-decoded values; `undefined` when the route has no variables (compat.md §3.1). */
  readonly pathParameters: Record<string, string> | undefined;
}

interface CompiledRoute {
  readonly route: RouteDefinition;
  readonly method: HttpRouteMethod;
  /** `[segment index, name]` for each `{name}`. */
  readonly variables: readonly (readonly [number, string])[];
  /** Set when the last segment is `{name+}`: its value is the request path from `index` on. */
  readonly greedy: { readonly index: number; readonly name: string } | undefined;
}

interface TrieNode {
  readonly statics: Map<string, TrieNode>;
  variable: TrieNode | undefined;
  /** Routes whose path ends exactly at this node, in snapshot order. */
  readonly routes: CompiledRoute[];
  /** Routes whose `{name+}` takes everything below this node, in snapshot order. */
  readonly greedyRoutes: CompiledRoute[];
}

export class HttpRouteMatcher {
  private readonly root: TrieNode = newNode();
  private defaultRoute: RouteDefinition | undefined;

  /**
   * Adds a parsed route. Returns the already-added route it conflicts with (same method, same
   * path shape, or a second `$default`) and leaves the matcher unchanged; `undefined` when added.
   */
  add(route: RouteDefinition, key: ParsedRouteKey): RouteDefinition | undefined {
    if (key.kind === 'default') {
      if (this.defaultRoute) return this.defaultRoute;
      this.defaultRoute = route;
      return undefined;
    }
    let node = this.root;
    const variables: (readonly [number, string])[] = [];
    let greedy: CompiledRoute['greedy'];
    for (const [index, segment] of key.segments.entries()) {
      if (segment.kind === 'greedy') {
        greedy = { index, name: segment.name };
        break; // parseRouteKey guarantees greedy is last
      }
      if (segment.kind === 'variable') variables.push([index, segment.name]);
      node = segment.kind === 'static' ? staticChild(node, segment.value) : variableChild(node);
    }
    const list = greedy ? node.greedyRoutes : node.routes;
    const clash = list.find((existing) => existing.method === key.method);
    if (clash) return clash.route;
    list.push({ route, method: key.method, variables, greedy });
    return undefined;
  }

  /** `path` is the API-relative path (starts with `/`), still percent-encoded, no query string. */
  match(method: string, path: string): RouteMatch | undefined {
    const segments = splitRequestPath(path);
    if (segments) {
      const decoded = segments.map(decodePathSegment);
      const found =
        findFullLength(this.root, segments, decoded, 0, method) ??
        findGreedy(this.root, segments, decoded, 0, method);
      if (found) return { route: found.route, pathParameters: extractParameters(found, decoded) };
    }
    return this.defaultRoute ? { route: this.defaultRoute, pathParameters: undefined } : undefined;
  }
}

function newNode(): TrieNode {
  return { statics: new Map(), variable: undefined, routes: [], greedyRoutes: [] };
}

function staticChild(node: TrieNode, value: string): TrieNode {
  let child = node.statics.get(value);
  if (!child) {
    child = newNode();
    node.statics.set(value, child);
  }
  return child;
}

function variableChild(node: TrieNode): TrieNode {
  node.variable ??= newNode();
  return node.variable;
}

/** `/` is zero segments, like the root route; anything not starting with `/` matches nothing. */
function splitRequestPath(path: string): string[] | undefined {
  if (path === '/' || path === '') return [];
  if (!path.startsWith('/')) return undefined;
  return path.slice(1).split('/');
}

// Static segments compare against the decoded request segment, so `/caf%C3%A9` reaches the route
// `/café`; raw segments are kept only to tell an empty segment from an encoded one.
function findFullLength(
  node: TrieNode,
  raw: readonly string[],
  decoded: readonly string[],
  index: number,
  method: string,
): CompiledRoute | undefined {
  if (index === raw.length) return pickByMethod(node.routes, method);
  const segment = decoded[index] ?? '';
  const viaStatic = node.statics.get(segment);
  const found = viaStatic && findFullLength(viaStatic, raw, decoded, index + 1, method);
  if (found) return found;
  if (node.variable && raw[index] !== '') return findFullLength(node.variable, raw, decoded, index + 1, method);
  return undefined;
}

function findGreedy(
  node: TrieNode,
  raw: readonly string[],
  decoded: readonly string[],
  index: number,
  method: string,
): CompiledRoute | undefined {
  if (index === raw.length) return undefined;
  const viaStatic = node.statics.get(decoded[index] ?? '');
  const found =
    (viaStatic && findGreedy(viaStatic, raw, decoded, index + 1, method)) ??
    (node.variable && raw[index] !== '' ? findGreedy(node.variable, raw, decoded, index + 1, method) : undefined);
  if (found) return found;
  // A greedy variable needs a non-empty rest: `/pets/` does not match `/pets/{proxy+}`.
  const rest = raw.length - index > 1 || raw[index] !== '';
  return rest ? pickByMethod(node.greedyRoutes, method) : undefined;
}

function pickByMethod(routes: readonly CompiledRoute[], method: string): CompiledRoute | undefined {
  return routes.find((r) => r.method === method) ?? routes.find((r) => r.method === 'ANY');
}

function extractParameters(found: CompiledRoute, decoded: readonly string[]): Record<string, string> | undefined {
  if (found.variables.length === 0 && !found.greedy) return undefined;
  // fromEntries defines own properties, so a variable named `__proto__` stays an ordinary key.
  const entries: [string, string][] = found.variables.map(([index, name]) => [name, decoded[index] ?? '']);
  if (found.greedy) entries.push([found.greedy.name, decoded.slice(found.greedy.index).join('/')]);
  return Object.fromEntries(entries);
}
