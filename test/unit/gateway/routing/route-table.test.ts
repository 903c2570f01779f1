import t from 'tap';
import type { ApiDefinition, RouteDefinition } from '../../../../gateway/routing/route-snapshot.js';
import type { RouteTable } from '../../../../gateway/routing/route-table.js';
import { compileRouteTable, normalizeHost } from '../../../../gateway/routing/route-table.js';

let nextId = 1;

function route(routeKey: string): RouteDefinition {
  return { id: `r${nextId++}`, routeKey, functionName: 'fn', payloadFormatVersion: '2.0' };
}

function anApi(name: string, routeKeys: readonly string[], extra: Partial<ApiDefinition> = {}): ApiDefinition {
  return { id: `api-${name}`, name, protocol: 'http', hosts: [], cors: null, routes: routeKeys.map(route), ...extra };
}

function tableOf(...apis: ApiDefinition[]): RouteTable {
  return compileRouteTable({ revision: 7, apis });
}

/** Compiles one API and answers `[method, path]` requests with `{routeKey, pathParameters}`. */
function matcherFor(routeKeys: readonly string[]) {
  const api = anApi('shop', routeKeys);
  const table = tableOf(api);
  return (method: string, path: string) => {
    const m = table.match(api, method, path);
    return m && { routeKey: m.route.routeKey, pathParameters: m.pathParameters };
  };
}

type Case = [method: string, path: string, routeKey: string | undefined, params?: Record<string, string> | undefined];
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

function check(t: TapTest, routeKeys: readonly string[], cases: readonly Case[]): void {
  const match = matcherFor(routeKeys);
  for (const [method, path, routeKey, params] of cases) {
    const expected = routeKey === undefined ? undefined : { routeKey, pathParameters: params };
    t.strictSame(match(method, path), expected, `${method} ${path}`);
  }
}

const WORKED_EXAMPLE = ['GET /pets/dog/1', 'GET /pets/dog/{id}', 'GET /pets/{proxy+}', 'ANY /{proxy+}', '$default'];

t.test('selects the routes of the compat.md worked example', async (t) => {
  check(t, WORKED_EXAMPLE, [
    ['GET', '/pets/dog/1', 'GET /pets/dog/1'],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/test/5', 'ANY /{proxy+}', { proxy: 'test/5' }],
  ]);
});

t.test('selects the same routes whatever order the snapshot lists them in', async (t) => {
  const match = matcherFor([...WORKED_EXAMPLE].reverse());
  t.equal(match('GET', '/pets/dog/1')?.routeKey, 'GET /pets/dog/1');
  t.equal(match('GET', '/pets/dog/2')?.routeKey, 'GET /pets/dog/{id}');
  t.equal(match('GET', '/pets/cat/1')?.routeKey, 'GET /pets/{proxy+}');
  t.equal(match('POST', '/test/5')?.routeKey, 'ANY /{proxy+}');
});

t.test('prefers a static segment over a variable, comparing left to right', async (t) => {
  check(t, ['GET /{a}/b', 'GET /a/{b}', 'GET /{a}/{b}'], [
    ['GET', '/a/b', 'GET /a/{b}', { b: 'b' }],
    ['GET', '/x/b', 'GET /{a}/b', { a: 'x' }],
    ['GET', '/x/y', 'GET /{a}/{b}', { a: 'x', b: 'y' }],
  ]);
});

t.test('backtracks to a variable when the static branch has no full match', async (t) => {
  check(t, ['GET /pets/dog/food', 'GET /pets/{kind}/toys'], [
    ['GET', '/pets/dog/toys', 'GET /pets/{kind}/toys', { kind: 'dog' }],
    ['GET', '/pets/dog/food', 'GET /pets/dog/food'],
    ['GET', '/pets/dog/beds', undefined],
  ]);
});

t.test('prefers any full-length route over a greedy one', async (t) => {
  check(t, ['GET /pets/{proxy+}', 'GET /{a}/{b}'], [
    ['GET', '/pets/x', 'GET /{a}/{b}', { a: 'pets', b: 'x' }],
    ['GET', '/pets/x/y', 'GET /pets/{proxy+}', { proxy: 'x/y' }],
  ]);
});

t.test('orders greedy routes by their segments: static, then variable, then greedy', async (t) => {
  check(t, ['ANY /{proxy+}', 'GET /pets/{proxy+}', 'GET /pets/dog/{proxy+}', 'GET /{kind}/{rest+}'], [
    ['GET', '/pets/dog/1', 'GET /pets/dog/{proxy+}', { proxy: '1' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['GET', '/toys/ball', 'GET /{kind}/{rest+}', { kind: 'toys', rest: 'ball' }],
    ['GET', '/toys', 'ANY /{proxy+}', { proxy: 'toys' }],
  ]);
});

t.test('gives a greedy variable the rest of the path without its leading slash', async (t) => {
  check(t, ['GET /files/{path+}'], [
    ['GET', '/files/a', 'GET /files/{path+}', { path: 'a' }],
    ['GET', '/files/a/b/c', 'GET /files/{path+}', { path: 'a/b/c' }],
    ['GET', '/files/a/', 'GET /files/{path+}', { path: 'a/' }],
    ['GET', '/files//a', 'GET /files/{path+}', { path: '/a' }],
  ]);
});

t.test('requires at least one segment for a greedy variable', async (t) => {
  check(t, ['GET /pets/{proxy+}', 'GET /{all+}'], [
    ['GET', '/pets', 'GET /{all+}', { all: 'pets' }],
    ['GET', '/pets/', 'GET /{all+}', { all: 'pets/' }],
    ['GET', '/', undefined],
  ]);
});

t.test('requires a non-empty segment for a {name} variable', async (t) => {
  check(t, ['GET /items/{id}', 'GET /{a}/{b}/c'], [
    ['GET', '/items/', undefined],
    ['GET', '/items', undefined],
    ['GET', '//x/c', undefined],
    ['GET', '/items/7', 'GET /items/{id}', { id: '7' }],
  ]);
});

t.test('matches paths exactly: trailing slash and case matter', async (t) => {
  check(t, ['GET /items', 'GET /'], [
    ['GET', '/items', 'GET /items'],
    ['GET', '/items/', undefined],
    ['GET', '/Items', undefined],
    ['GET', '//', undefined],
    ['GET', '/', 'GET /'],
    ['GET', '', 'GET /'],
  ]);
});

t.test('prefers an explicit method over ANY for the same path, whatever the snapshot order', async (t) => {
  check(t, ['ANY /pets', 'GET /pets', 'ANY /pets/{id}', 'DELETE /pets/{id}'], [
    ['GET', '/pets', 'GET /pets'],
    ['POST', '/pets', 'ANY /pets'],
    ['DELETE', '/pets/1', 'DELETE /pets/{id}', { id: '1' }],
    ['PUT', '/pets/1', 'ANY /pets/{id}', { id: '1' }],
    ['PROPFIND', '/pets', 'ANY /pets'],
  ]);
});

t.test('prefers a more specific path with ANY over a less specific one with the exact method', async (t) => {
  check(t, ['GET /pets/{id}', 'ANY /pets/dog', 'GET /{proxy+}'], [
    ['GET', '/pets/dog', 'ANY /pets/dog'],
    ['GET', '/pets/cat', 'GET /pets/{id}', { id: 'cat' }],
  ]);
});

t.test('skips a path whose routes are all for other methods', async (t) => {
  check(t, ['POST /pets/dog', 'GET /pets/{id}', 'PUT /{proxy+}'], [
    ['GET', '/pets/dog', 'GET /pets/{id}', { id: 'dog' }],
    ['PUT', '/pets/dog', 'PUT /{proxy+}', { proxy: 'pets/dog' }],
    ['PATCH', '/pets/dog', undefined],
  ]);
});

t.test('matches HEAD only to HEAD or ANY routes, never to GET', async (t) => {
  check(t, ['GET /a', 'GET /b', 'ANY /b', 'GET /c', 'HEAD /c', 'ANY /c'], [
    ['HEAD', '/a', undefined],
    ['HEAD', '/b', 'ANY /b'],
    ['HEAD', '/c', 'HEAD /c'],
    ['GET', '/c', 'GET /c'],
  ]);
});

t.test('falls back to $default for any method and path that matches nothing else', async (t) => {
  check(t, ['GET /pets', '$default'], [
    ['GET', '/pets', 'GET /pets'],
    ['POST', '/pets', '$default'],
    ['GET', '/nothing/here', '$default'],
    ['HEAD', '/pets', '$default'],
    ['GET', 'no-leading-slash', '$default'],
  ]);
});

t.test('returns no match without a $default route', async (t) => {
  check(t, ['GET /pets'], [['GET', '/dogs', undefined]]);
});

t.test('percent-decodes path parameter values', async (t) => {
  check(t, ['GET /items/{id}', 'GET /files/{path+}'], [
    ['GET', '/items/a%20b', 'GET /items/{id}', { id: 'a b' }],
    ['GET', '/items/a%2Fb', 'GET /items/{id}', { id: 'a/b' }],
    ['GET', '/items/caf%C3%A9', 'GET /items/{id}', { id: 'café' }],
    ['GET', '/items/a+b', 'GET /items/{id}', { id: 'a+b' }],
    ['GET', '/files/a%20b/c%2Fd', 'GET /files/{path+}', { path: 'a b/c/d' }],
  ]);
});

t.test('keeps a malformed percent-sequence raw in a parameter value', async (t) => {
  check(t, ['GET /items/{id}', 'GET /files/{path+}'], [
    ['GET', '/items/100%', 'GET /items/{id}', { id: '100%' }],
    ['GET', '/items/%E0%A4%A', 'GET /items/{id}', { id: '%E0%A4%A' }],
    ['GET', '/files/ok%20/bad%zz', 'GET /files/{path+}', { path: 'ok /bad%zz' }],
  ]);
});

t.test('compares static segments after percent-decoding both sides', async (t) => {
  check(t, ['GET /café', 'GET /a%20b'], [
    ['GET', '/caf%C3%A9', 'GET /café'],
    ['GET', '/café', 'GET /café'],
    ['GET', '/a%20b', 'GET /a%20b'],
    ['GET', '/a b', 'GET /a%20b'],
  ]);
});

t.test('gives pathParameters undefined for a route without variables and every variable otherwise', async (t) => {
  check(t, ['GET /static/path', 'GET /{org}/repos/{repo}/{rest+}'], [
    ['GET', '/static/path', 'GET /static/path', undefined],
    [
      'GET',
      '/acme/repos/gantry/tree/main',
      'GET /{org}/repos/{repo}/{rest+}',
      { org: 'acme', repo: 'gantry', rest: 'tree/main' },
    ],
  ]);
});

t.test('keeps a variable named __proto__ as an ordinary own key', async (t) => {
  const params = matcherFor(['GET /{__proto__}'])('GET', '/x')?.pathParameters;
  t.strictSame(Object.keys(params ?? {}), ['__proto__']);
  t.equal(Object.getPrototypeOf(params), Object.prototype);
});

t.test('finds APIs by name', async (t) => {
  const shop = anApi('shop', []);
  const blog = anApi('blog', []);
  const table = tableOf(shop, blog);
  t.equal(table.findApiByName('shop'), shop);
  t.equal(table.findApiByName('blog'), blog);
  t.equal(table.findApiByName('Shop'), undefined);
  t.equal(table.findApiByName('none'), undefined);
});

t.test('finds APIs by host, ignoring case and a port', async (t) => {
  const shop = anApi('shop', [], { hosts: ['Shop.Example.com', 'shop.internal:8443'] });
  const table = tableOf(shop);
  const cases: [host: string, found: ApiDefinition | undefined][] = [
    ['shop.example.com', shop],
    ['SHOP.EXAMPLE.COM:8080', shop],
    ['shop.example.com.', shop],
    ['shop.internal', shop],
    ['shop.internal:80', shop],
    ['other.example.com', undefined],
    ['example.com', undefined],
  ];
  for (const [host, found] of cases) t.equal(table.findApiByHost(host), found, host);
});

t.test('normalizes hosts without touching an IPv6 literal', async (t) => {
  const cases: [host: string, normalized: string][] = [
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com:', 'example.com'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    [' example.com ', 'example.com'],
  ];
  for (const [host, normalized] of cases) t.equal(normalizeHost(host), normalized, host);
});

t.test('keeps the first API for a host claimed twice and records the second', async (t) => {
  const shop = anApi('shop', [], { hosts: ['api.example.com'] });
  const blog = anApi('blog', [], { hosts: ['API.example.com:443', 'blog.example.com'] });
  const table = tableOf(shop, blog);
  t.equal(table.findApiByHost('api.example.com'), shop);
  t.equal(table.findApiByHost('blog.example.com'), blog);
  t.strictSame(table.problems, [
    {
      kind: 'host',
      apiId: 'api-blog',
      apiName: 'blog',
      host: 'API.example.com:443',
      reason: 'host is already served by API "shop"',
    },
  ]);
});

t.test('carries the snapshot revision and reports no problems for a clean snapshot', async (t) => {
  const table = tableOf(anApi('shop', WORKED_EXAMPLE));
  t.equal(table.revision, 7);
  t.strictSame(table.problems, []);
});

t.test('skips an invalid route key, records why, and serves the other routes', async (t) => {
  const api = anApi('shop', ['GET /pets']);
  const bad: RouteDefinition = { ...route('GET /{proxy+}/x'), id: 'bad-1' };
  const withBad: ApiDefinition = { ...api, routes: [bad, ...api.routes] };
  const table = tableOf(withBad);
  t.equal(table.match(withBad, 'GET', '/pets')?.route.routeKey, 'GET /pets');
  t.equal(table.match(withBad, 'GET', '/a/x'), undefined);
  t.strictSame(table.problems, [
    {
      kind: 'route',
      apiId: 'api-shop',
      apiName: 'shop',
      routeId: 'bad-1',
      routeKey: 'GET /{proxy+}/x',
      reason: 'greedy variable {proxy+} in "/{proxy+}/x" must be the last segment',
    },
  ]);
});

t.test('records a route that conflicts with an earlier one and serves the first', async (t) => {
  const api = anApi('shop', ['GET /a/{x}', 'GET /a/{y}', 'POST /a/{y}', 'GET /a/{z+}', '$default', '$default']);
  const table = tableOf(api);
  const [first, second, , , firstDefault, secondDefault] = api.routes;
  t.strictSame(table.match(api, 'GET', '/a/1'), { route: first, pathParameters: { x: '1' } });
  t.equal(table.match(api, 'POST', '/a/1')?.route.routeKey, 'POST /a/{y}');
  t.equal(table.match(api, 'GET', '/a/1/2')?.route.routeKey, 'GET /a/{z+}');
  t.equal(table.match(api, 'PUT', '/zzz')?.route, firstDefault);
  t.strictSame(
    table.problems.map((p) => (p.kind === 'route' ? [p.routeId, p.reason] : [])),
    [
      [second?.id, `conflicts with route ${first?.id} ("GET /a/{x}")`],
      [secondDefault?.id, `conflicts with route ${firstDefault?.id} ("$default")`],
    ],
  );
});

t.test('looks up websocket routes by exact key only', async (t) => {
  const ws = anApi('chat', ['$connect', '$disconnect', '$default', 'sendMessage'], { protocol: 'websocket' });
  const table = tableOf(ws);
  for (const key of ['$connect', '$disconnect', '$default', 'sendMessage']) {
    t.equal(table.websocketRoute(ws, key)?.routeKey, key, key);
  }
  t.equal(table.websocketRoute(ws, 'sendmessage'), undefined);
  t.equal(table.websocketRoute(ws, 'other'), undefined);
  t.equal(table.match(ws, 'GET', '/'), undefined, 'no HTTP matching on a websocket API');
  t.strictSame(table.problems, []);
});

t.test('records invalid and duplicate websocket route keys', async (t) => {
  const ws = anApi('chat', ['$connect', '$connect', '$custom', ''], { protocol: 'websocket' });
  const table = tableOf(ws);
  t.equal(table.websocketRoute(ws, '$connect'), ws.routes[0]);
  t.strictSame(
    table.problems.map((p) => (p.kind === 'route' ? p.reason : '')),
    [
      `conflicts with route ${ws.routes[0]?.id} ("$connect")`,
      'websocket route key "$custom" starts with "$" but is not $connect, $disconnect or $default',
      'a websocket route key must not be empty',
    ],
  );
});

t.test('never resolves websocket routes on an HTTP API or APIs from another table', async (t) => {
  const shop = anApi('shop', ['$default']);
  const other = anApi('other', ['$default']);
  const table = tableOf(shop);
  t.equal(table.websocketRoute(shop, '$default'), undefined);
  t.equal(table.match(other, 'GET', '/'), undefined);
});
