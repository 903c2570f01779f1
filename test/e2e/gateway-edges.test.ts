// CORS, custom domains, limits and slow clients, and the access log, end to end through the
// gateway (api.md: API options, Limits; compat.md §3.2 quotas).
import net from 'node:net';
import t from 'tap';
import { rawRequest } from '../support/http-client.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

// A function timeout of 30 s makes the integration timeout 29 s, so a cold start on a loaded
// machine is never cut off as a 504 in the middle of a test.
const SLOW_MACHINE = { timeoutMs: 30_000 };

// Counts its calls, and sets CORS headers of its own that the API's configuration must replace.
const COUNTER = `let calls = 0;
exports.handler = async (event) => ({ statusCode: 200, headers: { 'access-control-allow-origin': '*', 'x-total': '3', 'content-type': 'application/json' },
  body: JSON.stringify({ calls: ++calls, rawPath: event.rawPath, domainName: event.requestContext.domainName }) });`;

const logs: Record<string, unknown>[] = [];
const stack = await startStack(t, { env: { GANTRY_GATEWAY_HEADERS_TIMEOUT_MS: '1000', GANTRY_ACCESS_LOG_EVERY: '1' }, onLog: (line) => logs.push(line) });
const gw = stack.gatewayUrl;
const CORS = { allowOrigins: ['https://app.test'], allowMethods: ['GET', 'POST'], allowHeaders: ['content-type', 'x-api-key'], exposeHeaders: ['x-total'], maxAge: 300, allowCredentials: true };
const ORIGIN = { origin: 'https://app.test' };
const calls = async () => ((await (await fetch(`${gw}/web/items`)).json()) as { calls: number }).calls;

await t.test('sets up a CORS API with a custom domain and a plain API', async (t) => {
  await deployFunction(t, stack, 'counter', nodeZip(COUNTER), SLOW_MACHINE);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'web', cors: CORS, hosts: ['api.example.test'] })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'plain' })).status, 201);
  for (const api of ['web', 'plain']) t.equal((await stack.admin('POST', `/v1/apis/${api}/routes`, { routeKey: 'GET /items', function: 'counter' })).status, 201);
  t.ok(await eventually(async () => (await fetch(`${gw}/web/items`)).status === 200, 10_000), 'served (the first call is a cold start)');
});

t.test('a preflight is answered by the gateway with the configured headers, without invoking anything', async (t) => {
  const before = await calls();
  for (const path of ['/web/items', '/web/no-such-route']) {
    const res = await rawRequest(gw + path, { method: 'OPTIONS', headers: { ...ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    t.equal(res.status, 204, path);
    t.equal(res.body.length, 0);
    t.match(res.headers, {
      'access-control-allow-origin': 'https://app.test',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'content-type,x-api-key',
      'access-control-max-age': '300',
    });
    t.ok(res.headers['apigw-requestid']);
  }
  t.equal(await calls(), before + 1, 'the function ran only for the GET that counts');
  const foreign = await rawRequest(`${gw}/web/items`, { method: 'OPTIONS', headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } });
  t.equal(foreign.status, 204);
  t.equal(foreign.headers['access-control-allow-origin'], undefined, 'a foreign origin gets no CORS headers');
  const plain = await rawRequest(`${gw}/plain/items`, { method: 'OPTIONS', headers: { ...ORIGIN, 'access-control-request-method': 'GET' } });
  t.equal(plain.status, 404, 'an API without CORS answers OPTIONS by its routes');
});

t.test('function responses carry the configured CORS headers instead of their own', async (t) => {
  const res = await rawRequest(`${gw}/web/items`, { headers: ORIGIN });
  t.equal(res.status, 200);
  t.equal(res.headers['access-control-allow-origin'], 'https://app.test');
  t.equal(res.headers['access-control-allow-credentials'], 'true');
  t.equal(res.headers['access-control-expose-headers'], 'x-total');
  t.equal(res.rawHeaders.filter((h) => h.toLowerCase() === 'access-control-allow-origin').length, 1, 'the function\'s * is gone');
  const noOrigin = await rawRequest(`${gw}/web/items`);
  t.equal(noOrigin.headers['access-control-allow-origin'], undefined);
  const notFound = await rawRequest(`${gw}/web/nothing`, { headers: ORIGIN });
  t.equal(notFound.status, 404);
  t.equal(notFound.headers['access-control-allow-origin'], 'https://app.test', 'gateway answers carry them too');
  const plain = await rawRequest(`${gw}/plain/items`, { headers: ORIGIN });
  t.equal(plain.headers['access-control-allow-origin'], '*', 'without CORS configured the function\'s own headers pass');
});

t.test('CORS set by PATCH is served within a second; credentials with * are refused', async (t) => {
  t.equal((await stack.admin('PATCH', '/v1/apis/plain', { cors: { allowOrigins: ['*'] } })).status, 200);
  t.ok(await eventually(async () => (await rawRequest(`${gw}/plain/items`, { method: 'OPTIONS', headers: { ...ORIGIN, 'access-control-request-method': 'GET' } })).status === 204, 1_000));
  const bad = await stack.admin('PATCH', '/v1/apis/plain', { cors: { allowOrigins: ['*'], allowCredentials: true } });
  t.equal(bad.status, 400);
});

t.test('an API with hosts is served at that Host without the path prefix', async (t) => {
  for (const host of ['api.example.test', 'API.Example.Test:8080']) {
    const res = await rawRequest(`${gw}/items`, { headers: { host } });
    t.equal(res.status, 200, host);
    t.match(res.json(), { rawPath: '/items', domainName: host });
  }
  t.equal((await rawRequest(`${gw}/web/items`, { headers: { host: 'api.example.test' } })).status, 404, 'no prefix on a custom host');
  const clash = await stack.admin('PATCH', '/v1/apis/plain', { hosts: ['api.example.test'] });
  t.equal(clash.status, 409, 'a host another API serves is refused');
});

t.test('a body over 10 MB is 413, declared or streamed', async (t) => {
  const big = Buffer.alloc(10 * 1024 * 1024 + 1, 97);
  const declared = await rawRequest(`${gw}/web/items`, { method: 'GET', body: big, headers: { 'content-length': String(big.length) } });
  t.equal(declared.status, 413);
  t.equal(declared.body.toString(), '{"message":"Request Entity Too Large"}');
  const streamed = await rawRequest(`${gw}/web/items`, { method: 'GET', body: big, headers: { 'transfer-encoding': 'chunked' } });
  t.equal(streamed.status, 413);
});

t.test('request line plus headers over 10240 bytes is refused with 431', async (t) => {
  const res = await rawRequest(`${gw}/web/items`, { headers: { 'x-big': 'a'.repeat(10_300) } });
  t.equal(res.status, 431);
  t.equal((await rawRequest(`${gw}/web/items`, { headers: { 'x-fine': 'a'.repeat(8_000) } })).status, 200, 'below the limit is fine');
});

t.test('a client that sends headers too slowly is cut off at the headers timeout', async (t) => {
  const url = new URL(gw);
  const socket = net.connect(Number(url.port), '127.0.0.1');
  const started = Date.now();
  const closed = new Promise<string>((resolve) => {
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => undefined);
  });
  socket.write('GET /web/items HTTP/1.1\r\nHost: x\r\n');
  // One header byte every 100 ms: never completes; bounded to 100 bytes (10 s).
  let sent = 0;
  const drip = setInterval(() => {
    if (sent++ < 100 && !socket.destroyed) socket.write('x');
  }, 100);
  const answer = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 8_000))]);
  clearInterval(drip);
  socket.destroy();
  t.not(answer, 'still open', 'the gateway closed the connection');
  t.ok(answer === '' || answer.startsWith('HTTP/1.1 408 '), `with 408 or nothing: ${answer.slice(0, 40)}`);
  t.ok(Date.now() - started < 8_000, `closed after ${Date.now() - started} ms`);
});

t.test('with GANTRY_ACCESS_LOG_EVERY=1, one access-log line per request: route, status, latency, invocation id, key id', async (t) => {
  const plan = (await (await stack.admin('POST', '/v1/usage-plans', { name: 'p', apis: ['web'] })).json()) as { id: string };
  const key = (await (await stack.admin('POST', '/v1/api-keys', { name: 'k', usagePlanId: plan.id })).json()) as { id: string; value: string };
  t.equal((await stack.admin('POST', '/v1/apis/web/routes', { routeKey: 'GET /keyed', function: 'counter', apiKeyRequired: true })).status, 201);
  t.ok(await eventually(async () => (await fetch(`${gw}/web/keyed`, { headers: { 'x-api-key': key.value } })).status === 200, 2_000));
  const res = await fetch(`${gw}/web/keyed`, { headers: { 'x-api-key': key.value } });
  const requestId = res.headers.get('apigw-requestid');
  t.ok(await eventually(async () => logs.some((l) => l['requestId'] === requestId), 1_000));
  const line = logs.filter((l) => l['requestId'] === requestId);
  t.equal(line.length, 1);
  t.match(line[0], { msg: 'request', route: 'GET /keyed', status: 200, apiKeyId: key.id, invocationId: /^[0-9a-f-]{36}$/, method: 'GET', path: '/web/keyed' });
  t.type(line[0]?.['latencyMs'], 'number');
  t.notOk(JSON.stringify(logs).includes(key.value), 'the key value is never logged');
});
