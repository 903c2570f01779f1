/**
 * The routed path end to end inside the gateway, on a server of its own on 127.0.0.1: a compiled
 * route table, a recording upstream and guard in place of the control plane and the authorizers.
 * Checked: which API and route a request finds (prefix or Host), the event the function gets, the
 * integration deadline, how results map to responses, the API Gateway bodies of 404, 413, 429 and
 * 5xx (compat.md), what each upstream failure becomes, CORS, and the access-log line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { pino } from 'pino';
import { GatewayMetrics } from '../../../../gateway/http/gateway-metrics.js';
import type { GuardOutcome, GuardRequest, RouteGuard } from '../../../../gateway/http/route-guard.js';
import { createRoutedHandler } from '../../../../gateway/http/routed-handler.js';
import type { ApiDefinition, RouteDefinition } from '../../../../gateway/routing/route-snapshot.js';
import type { LiveRoutes } from '../../../../gateway/routing/route-sync.js';
import { compileRouteTable } from '../../../../gateway/routing/route-table.js';
import { UpstreamError, type Upstream, type UpstreamResult } from '../../../../gateway/upstream/upstream.js';
import { rawRequest, type RawResponse } from '../../../support/http-client.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

const MAX_BODY = 64 * 1024;
const INTEGRATION_TIMEOUT_MS = 29_000;

const route = (id: string, routeKey: string, functionName: string, over: Partial<RouteDefinition> = {}): RouteDefinition => ({
  id,
  routeKey,
  functionName,
  payloadFormatVersion: '2.0',
  ...over,
});

const SHOP: ApiDefinition = {
  id: 'api-shop',
  name: 'shop',
  protocol: 'http',
  hosts: [],
  cors: null,
  routes: [
    route('r-item', 'GET /items/{id}', 'items'),
    route('r-post', 'POST /orders', 'orders'),
    route('r-v1', 'GET /legacy/{proxy+}', 'legacy', { payloadFormatVersion: '1.0' }),
    route('r-keyed', 'GET /keyed', 'keyed', { apiKeyRequired: true }),
  ],
};
const HOSTED: ApiDefinition = { id: 'api-hosted', name: 'hosted', protocol: 'http', hosts: ['api.example.com'], cors: null, routes: [route('r-root', 'GET /', 'root')] };
const CORS: ApiDefinition = {
  id: 'api-cors',
  name: 'web',
  protocol: 'http',
  hosts: [],
  cors: { allowOrigins: ['https://app.example'], allowMethods: ['GET', 'POST'], allowHeaders: ['x-custom'], exposeHeaders: ['x-total'], maxAge: 600 },
  routes: [route('r-web', 'GET /data', 'web')],
};
const SOCKETS: ApiDefinition = { id: 'api-ws', name: 'chat', protocol: 'websocket', hosts: [], cors: null, routes: [route('r-ws', '$default', 'chat')] };

type Answer = UpstreamResult | Error | (() => Promise<UpstreamResult>);

async function gateway(t: Tap, o: { answer?: Answer; guard?: GuardOutcome; timeouts?: Record<string, number>; accessLogEvery?: number } = {}) {
  const calls: { functionName: string; payload: Buffer; timeoutMs: number; source: string | undefined }[] = [];
  const guarded: GuardRequest[] = [];
  const state = { answer: o.answer ?? ok('{"statusCode":200,"body":"fine"}') };
  const upstream: Upstream = {
    invoke: async (functionName, payload, timeoutMs, source) => {
      calls.push({ functionName, payload, timeoutMs, source });
      const a = state.answer;
      if (a instanceof Error) throw a;
      return typeof a === 'function' ? a() : a;
    },
    close: async () => undefined,
  };
  const guard = {
    check: async (r: GuardRequest) => (guarded.push(r), o.guard ?? { kind: 'pass', authorizer: undefined, apiKey: undefined }),
  } as unknown as RouteGuard;
  const live: LiveRoutes = {
    table: compileRouteTable({ revision: 3, apis: [SHOP, HOSTED, CORS, SOCKETS] }),
    functionTimeoutsMs: new Map(Object.entries(o.timeouts ?? { items: 3000 })),
    apiKeys: new Map(),
  };
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const metrics = new GatewayMetrics();
  const handler = createRoutedHandler({ routes: { current: () => live }, upstream, guard, metrics, logger }, { integrationTimeoutMs: INTEGRATION_TIMEOUT_MS, maxBodyBytes: MAX_BODY, accessLogEvery: o.accessLogEvery ?? 1 });
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  const request = (path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) => rawRequest(base + path, opts);
  /** The access-log lines (the handler writes them after the response). */
  const accessLog = async (n: number) => {
    const deadline = Date.now() + 2000;
    while (logs.filter((l) => l['msg'] === 'request').length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} access-log lines`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return logs.filter((l) => l['msg'] === 'request');
  };
  return { base, request, calls, guarded, state, logs, accessLog, metrics };
}

function ok(payload: string, functionError = false, invocationId: string | undefined = 'inv-1'): UpstreamResult {
  return { payload: Buffer.from(payload), functionError, invocationId };
}

const message = (r: RawResponse) => r.json() as { message: string };
const eventOf = (payload: Buffer | undefined) => JSON.parse(payload?.toString() ?? 'null') as Record<string, any>;

function gatewayAnswer(t: Tap, r: RawResponse, status: number, text: string, what: string): void {
  t.equal(r.status, status, what);
  t.strictSame(r.json(), { message: text }, what);
  t.equal(r.headers['content-type'], 'application/json', what);
  t.match(r.headers['apigw-requestid'], /^\S+$/, `${what}: request id`);
}

t.test('a matched 2.0 route: the event, the deadline and the structured response', async (t) => {
  const g = await gateway(t, { answer: ok('{"statusCode":201,"headers":{"X-Reply":"yes"},"body":"made"}') });
  const r = await g.request('/shop/items/42?color=red&size=9', { headers: { host: 'gw.local:8080', 'x-trace': 'abc' } });
  t.equal(r.status, 201);
  t.equal(r.body.toString(), 'made');
  t.equal(r.headers['x-reply'], 'yes', "the function's header spelling passes through");
  t.equal(r.headers['content-length'], '4');
  t.match(r.headers['apigw-requestid'], /^\S+$/);
  t.equal(g.calls.length, 1);
  const call = g.calls[0]!;
  t.equal(call.functionName, 'items');
  t.equal(call.timeoutMs, 4000, 'function timeout + 1 s, under the integration timeout');
  t.equal(call.source, undefined, 'routed HTTP leaves the source at its default');
  const e = eventOf(call.payload);
  t.equal(e['version'], '2.0');
  t.equal(e['routeKey'], 'GET /items/{id}');
  t.equal(e['rawPath'], '/items/42', 'without the /{api} prefix');
  t.equal(e['rawQueryString'], 'color=red&size=9');
  t.strictSame(e['queryStringParameters'], { color: 'red', size: '9' });
  t.strictSame(e['pathParameters'], { id: '42' });
  t.equal(e['headers']['x-trace'], 'abc');
  t.equal(e['requestContext']['apiId'], 'api-shop');
  t.equal(e['requestContext']['stage'], '$default');
  t.equal(e['requestContext']['domainName'], 'gw.local:8080');
  t.equal(e['requestContext']['requestId'], r.headers['apigw-requestid'], 'the same id as the response header');
  t.equal(e['requestContext']['http']['method'], 'GET');
  t.equal(e['requestContext']['http']['sourceIp'], '127.0.0.1');
  t.equal(e['body'], undefined);
  const [line] = await g.accessLog(1);
  t.match(line, { route: 'GET /items/{id}', status: 201, invocationId: 'inv-1', method: 'GET', path: '/shop/items/42?color=red&size=9' });
  t.equal((await g.metrics.requests.get()).values.find((v) => v.labels.status === '201')?.value, 1);
});

t.test('an inferred response gets exactly content-type application/json and the JSON as it was', async (t) => {
  const g = await gateway(t, { answer: ok('{"n": 12345678901234567890, "a":[1, 2]}') });
  const r = await g.request('/shop/items/1');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.body.toString(), '{"n": 12345678901234567890, "a":[1, 2]}');
});

t.test('a body reaches the function; the integration deadline is capped by the gateway setting', async (t) => {
  const g = await gateway(t, { timeouts: { orders: 900_000 } });
  await g.request('/shop/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"qty":2}' });
  const e = eventOf(g.calls[0]?.payload);
  t.equal(e['body'], '{"qty":2}');
  t.equal(e['isBase64Encoded'], false);
  t.equal(g.calls[0]?.timeoutMs, INTEGRATION_TIMEOUT_MS);
  const unknown = await gateway(t, { timeouts: {} });
  await unknown.request('/shop/orders', { method: 'POST', body: '{}' });
  t.equal(unknown.calls[0]?.timeoutMs, INTEGRATION_TIMEOUT_MS, 'no known function timeout: the gateway setting');
});

t.test('a 1.0 route gets a 1.0 event and its result maps by 1.0 rules', async (t) => {
  const g = await gateway(t, { answer: ok('{"statusCode":202,"multiValueHeaders":{"x-m":["a","b"]},"body":"v1"}') });
  const r = await g.request('/shop/legacy/a/b?q=1&q=2');
  t.equal(r.status, 202);
  t.equal(r.body.toString(), 'v1');
  t.equal(r.headers['x-m'], 'a, b');
  const e = eventOf(g.calls[0]?.payload);
  t.equal(e['version'], '1.0');
  t.equal(e['httpMethod'], 'GET');
  t.equal(e['path'], '/legacy/a/b');
  t.equal(e['resource'], '/legacy/{proxy+}');
  t.strictSame(e['pathParameters'], { proxy: 'a/b' });
  t.strictSame(e['multiValueQueryStringParameters'], { q: ['1', '2'] });
});

t.test('a custom Host serves its API without the prefix', async (t) => {
  const g = await gateway(t, { answer: ok('"root"') });
  const r = await g.request('/', { headers: { host: 'api.example.com' } });
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'root');
  t.equal(g.calls[0]?.functionName, 'root');
  t.equal(eventOf(g.calls[0]?.payload)['rawPath'], '/');
});

t.test('no API, no route, or a WebSocket API over HTTP is 404 Not Found, and nothing is invoked', async (t) => {
  const g = await gateway(t);
  gatewayAnswer(t, await g.request('/nope/items/1'), 404, 'Not Found', 'unknown API');
  gatewayAnswer(t, await g.request('/shop/items'), 404, 'Not Found', 'no such route');
  gatewayAnswer(t, await g.request('/shop/items/1', { method: 'DELETE' }), 404, 'Not Found', 'wrong method');
  gatewayAnswer(t, await g.request('/chat'), 404, 'Not Found', 'websocket API');
  t.strictSame(g.calls, []);
  const lines = await g.accessLog(4);
  t.strictSame(lines.map((l) => l['status']), [404, 404, 404, 404]);
  t.strictSame(lines.map((l) => l['route']), [undefined, undefined, undefined, undefined]);
});

t.test('a body over the limit is 413, declared or streamed, and nothing is invoked', async (t) => {
  const g = await gateway(t);
  const declared = await g.request('/shop/orders', { method: 'POST', body: Buffer.alloc(MAX_BODY + 1, 0x61) });
  gatewayAnswer(t, declared, 413, 'Request Entity Too Large', 'declared');
  const streamed = await chunked(g.base, '/shop/orders', MAX_BODY + 10);
  gatewayAnswer(t, streamed, 413, 'Request Entity Too Large', 'streamed (chunked, no length)');
  t.strictSame(g.calls, []);
  const atLimit = await g.request('/shop/orders', { method: 'POST', body: Buffer.alloc(MAX_BODY, 0x61) });
  t.equal(atLimit.status, 200, 'exactly the limit is fine');
});

t.test('upstream failures become API Gateway answers', async (t) => {
  const cases: [Error, number, string][] = [
    [new UpstreamError('timeout', 'integration timed out'), 504, 'Endpoint request timed out'],
    [new UpstreamError('throttled', 'control plane answered 429'), 429, 'Too Many Requests'],
    [new UpstreamError('unavailable', 'control plane unreachable'), 503, 'Service Unavailable'],
    [new UpstreamError('not-found', 'control plane answered 404'), 500, 'Internal Server Error'],
    [new UpstreamError('failed', 'control plane answered 500'), 500, 'Internal Server Error'],
    [new TypeError('a bug'), 500, 'Internal Server Error'],
  ];
  for (const [error, status, text] of cases) {
    const g = await gateway(t, { answer: error });
    const r = await g.request('/shop/items/1');
    gatewayAnswer(t, r, status, text, `${error.name} ${(error as UpstreamError).kind ?? ''}`);
    const [line] = await g.accessLog(1);
    t.equal(line?.['status'], status);
    t.equal(line?.['route'], 'GET /items/{id}');
  }
  const g = await gateway(t, { answer: new TypeError('a bug') });
  await g.request('/shop/items/1');
  await g.accessLog(1);
  t.ok(g.logs.some((l) => l['msg'] === 'routed request failed' && l['level'] === 50), 'an unexpected error is logged as such');
});

t.test('a function error, a non-JSON or malformed result is 500 Internal Server Error', async (t) => {
  for (const [what, result] of [
    ['function error', ok('{"errorType":"Error","errorMessage":"boom"}', true)],
    ['not JSON', ok('<html>')],
    ['bad statusCode', ok('{"statusCode":"abc"}')],
  ] as const) {
    const g = await gateway(t, { answer: result });
    gatewayAnswer(t, await g.request('/shop/items/1'), 500, 'Internal Server Error', what);
  }
});

t.test('the guard sees guarded routes only; its refusal is answered with its message and headers', async (t) => {
  const open = await gateway(t);
  await open.request('/shop/items/1');
  t.strictSame(open.guarded, [], 'an open route skips the guard');

  const g = await gateway(t, { guard: { kind: 'reject', message: 'limitExceeded', headers: [['x-why', 'quota']], reason: 'quota', apiKeyId: 'ak-1' } });
  const r = await g.request('/shop/keyed', { headers: { 'x-api-key': 'the-key-value' } });
  gatewayAnswer(t, r, 429, 'Limit Exceeded', 'quota');
  t.equal(r.headers['x-why'], 'quota');
  t.equal(g.guarded.length, 1);
  t.equal(g.guarded[0]?.apiKeyValue, 'the-key-value');
  t.equal(g.guarded[0]?.path, '/keyed');
  t.strictSame(g.calls, []);
  const [line] = await g.accessLog(1);
  t.match(line, { status: 429, apiKeyId: 'ak-1', reason: 'quota', route: 'GET /keyed' });

  const f = await gateway(t, { guard: { kind: 'reject', message: 'forbidden', reason: 'no key' } });
  gatewayAnswer(t, await f.request('/shop/keyed'), 403, 'Forbidden', 'forbidden');
});

t.test('what the guard admits reaches the event', async (t) => {
  const g = await gateway(t, { guard: { kind: 'pass', authorizer: { lambda: { user: 'u-1' } }, apiKey: { value: 'kv', id: 'ak-2' } } });
  t.equal((await g.request('/shop/keyed')).status, 200);
  const e = eventOf(g.calls[0]?.payload);
  t.strictSame(e['requestContext']['authorizer'], { lambda: { user: 'u-1' } });
  const [line] = await g.accessLog(1);
  t.equal(line?.['apiKeyId'], 'ak-2');
});

t.test('CORS: preflight answered by the gateway; configured headers on results and refusals', async (t) => {
  const g = await gateway(t, { answer: ok('{"statusCode":200,"headers":{"access-control-allow-origin":"*","x-total":"3"},"body":"d"}') });
  const pre = await g.request('/web/data', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
  t.equal(pre.status, 204);
  t.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
  t.equal(pre.headers['access-control-allow-methods'], 'GET,POST');
  t.equal(pre.headers['access-control-allow-headers'], 'x-custom');
  t.equal(pre.headers['access-control-max-age'], '600');
  t.equal(pre.body.length, 0);
  t.strictSame(g.calls, [], 'a preflight invokes nothing');

  const r = await g.request('/web/data', { headers: { origin: 'https://app.example' } });
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example', "the configuration wins over the function's header");
  t.equal(r.headers['access-control-expose-headers'], 'x-total');
  t.equal(r.headers['x-total'], '3');

  const missing = await g.request('/web/nothing', { headers: { origin: 'https://app.example' } });
  gatewayAnswer(t, missing, 404, 'Not Found', 'cors 404');
  t.equal(missing.headers['access-control-allow-origin'], 'https://app.example', 'refusals carry CORS headers too');

  g.state.answer = new UpstreamError('timeout', 'integration timed out');
  const late = await g.request('/web/data', { headers: { origin: 'https://app.example' } });
  gatewayAnswer(t, late, 504, 'Endpoint request timed out', 'cors 504');
  t.equal(late.headers['access-control-allow-origin'], 'https://app.example');

  const foreign = await g.request('/web/data', { headers: { origin: 'https://evil.example' } });
  t.equal(foreign.headers['access-control-allow-origin'], undefined, 'an origin not allowed gets none');
});

/** POSTs `size` bytes with chunked transfer encoding (no content-length). */
function chunked(base: string, path: string, size: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, json: () => JSON.parse(body.toString()) as unknown });
      });
    });
    req.on('error', (e) => ((e as { code?: string }).code === 'ECONNRESET' || (e as { code?: string }).code === 'EPIPE' ? undefined : reject(e)));
    for (let sent = 0; sent < size; sent += 4096) req.write(Buffer.alloc(Math.min(4096, size - sent), 0x62));
    req.end();
  });
}

t.test('the access log: off by default except for 5xx answers, or one line per N requests', async (t) => {
  const quiet = await gateway(t, { accessLogEvery: 0 });
  for (let i = 0; i < 3; i++) t.equal((await quiet.request('/shop/items/1')).status, 200);
  quiet.state.answer = new UpstreamError('unavailable', 'no node');
  const failed = await quiet.request('/shop/items/1');
  t.ok(failed.status >= 500, `a platform failure answers ${failed.status}`);
  const lines = await quiet.accessLog(1);
  t.equal(lines.length, 1, 'only the 5xx is logged');
  t.equal(lines[0]?.['status'], failed.status);
  const sampled = await gateway(t, { accessLogEvery: 3 });
  for (let i = 0; i < 6; i++) t.equal((await sampled.request('/shop/items/1')).status, 200);
  t.equal((await sampled.accessLog(2)).length, 2, 'every third request is logged');
});

