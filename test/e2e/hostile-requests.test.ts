// Hostile input from outside and from inside a function (issue 21 §1): the two one-request
// crashers as regression tests, the 500s that belonged to the caller as 400s, then a bounded
// fuzz run against each server (admin API, invoke endpoint, routed gateway, WebSocket upgrade,
// `@connections`), after each of which the next good request is answered correctly. The stack
// runs in this process: a request that ended the process would end this test.
import fc from 'fast-check';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { rawRequest } from '../support/http-client.js';
import { FUZZ_LIMITS, hostilePath, hostileRequest, requestBytes, sendRaw, type RawRequest } from '../support/hostile-input.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const SLOW_MACHINE = { timeoutMs: 30_000 };
const ECHO = `exports.handler = async (event) => ({ echoed: event });`;
// A function turned against its own Runtime API socket: the malformed ids that ended the node.
const POKER = `const http = require('http');
const post = (p) => new Promise((resolve) => {
  const req = http.request({ socketPath: '/run/gantry/runtime.sock', method: 'POST', path: p }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  req.on('error', (e) => resolve(String(e.code)));
  req.end('{}');
});
exports.handler = async () => ({ statuses: [await post('/2018-06-01/runtime/invocation/%E0%A4%A/response'), await post('/2018-06-01/runtime/invocation/%zz/error')] });`;
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

const fatal: Record<string, unknown>[] = [];
const stack = await startStack(t, { onLog: (line) => void ((line.level as number) >= 60 && fatal.push(line)) });
const cp = stack.controlPlaneUrl;
const gw = stack.gatewayUrl;
const cpPort = Number(new URL(cp).port);
const gwPort = Number(new URL(gw).port);
const auth = `Bearer ${stack.token}`;

const invokeEcho = async (payload: unknown) => {
  const res = await fetch(`${cp}/v1/functions/echo/invoke`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify(payload) });
  return { status: res.status, body: (await res.json()) as unknown };
};

/** The next good request on every server is answered, and correctly. */
async function stillServing(t: Test): Promise<void> {
  t.equal((await fetch(`${cp}/healthz`)).status, 200, 'control plane /healthz');
  t.equal((await fetch(`${gw}/healthz`)).status, 200, 'gateway /healthz');
  t.same(await invokeEcho({ good: 1 }), { status: 200, body: { echoed: { good: 1 } } }, 'a direct invoke');
  const routed = await fetch(`${gw}/fz/ok?x=1`);
  t.equal(routed.status, 200, 'a routed request');
  t.match(await routed.json(), { echoed: { rawPath: '/ok', rawQueryString: 'x=1' } });
  t.equal(await websocketOpens(), true, 'a WebSocket connection opens');
  const gone = await fetch(`${gw}/ws/@connections/AAAAAAAAAAAAAAA%3D`, { headers: { authorization: auth } });
  t.equal(gone.status, 410, '@connections for an unknown id');
  t.same(fatal, [], 'nothing fatal was logged');
}

function websocketOpens(): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${gw.replace('http', 'ws')}/ws`);
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(false);
    }, 10_000);
    ws.on('open', () => {
      clearTimeout(timer);
      ws.close();
      resolve(true);
    });
    ws.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** Runs one bounded fuzz property against a server and reports the statuses it saw. */
async function fuzz(t: Test, port: number, requests: fc.Arbitrary<RawRequest>, allowed: (status: number) => boolean = (s) => s < 500): Promise<void> {
  const seen = new Map<string, number>();
  const bad: string[] = [];
  await fc.assert(
    fc.asyncProperty(requests, async (req) => {
      const answer = await sendRaw({ port }, requestBytes(req));
      const key = String(answer.status ?? 'none');
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (answer.status !== undefined && !allowed(answer.status)) bad.push(`${req.method} ${req.target.slice(0, 80)} → ${answer.text.slice(0, 200)}`);
      return true;
    }),
    FUZZ_LIMITS,
  );
  t.comment(`answers by status: ${JSON.stringify(Object.fromEntries(seen))}`);
  t.ok(seen.size > 0, 'requests were sent');
  t.same(bad.slice(0, 5), [], 'no unexpected server error');
}

await t.test('sets up a function, an HTTP API and a WebSocket API', async (t) => {
  await deployFunction(t, stack, 'echo', nodeZip(ECHO), SLOW_MACHINE);
  await deployFunction(t, stack, 'poker', nodeZip(POKER), SLOW_MACHINE);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'fz' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/fz/routes', { routeKey: 'ANY /{proxy+}', function: 'echo' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'ws', protocol: 'websocket' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/ws/routes', { routeKey: '$default', function: 'echo' })).status, 201);
  t.ok(await eventually(async () => (await fetch(`${gw}/fz/ok`)).status === 200, 20_000), 'routes served (the first call is a cold start)');
  t.ok(await eventually(async () => (await fetch(`${gw}/ws/@connections/x`, { headers: { authorization: auth } })).status === 410, 10_000), '@connections served');
});

t.test('a malformed percent-escape in the invoke path is a 400, not the end of the control plane', async (t) => {
  for (const name of ['%E0%A4%A', '%zz', '%', 'a%00b', '%C0%AF']) {
    const res = await rawRequest(`${cp}/v1/functions/${name}/invoke`, { method: 'POST', headers: { authorization: auth }, body: '{}' });
    t.equal(res.status, 400, name);
    t.match(res.json(), { error: { type: 'ValidationError', message: /not validly encoded/ } });
  }
  await stillServing(t);
});

t.test('a function posting a malformed request id to its own Runtime API gets 400, and the node lives on', async (t) => {
  const res = await fetch(`${cp}/v1/functions/poker/invoke`, { method: 'POST', headers: { authorization: auth }, body: '{}' });
  t.equal(res.status, 200);
  t.same(await res.json(), { statuses: [400, 400] });
  await stillServing(t);
});

t.test('a NUL or a malformed escape in an admin path or query is a 400 ValidationError', async (t) => {
  for (const p of ['/v1/functions/a%00b', '/v1/functions/%E0%A4%A', '/v1/apis/%zz/routes', '/v1/functions/echo/logs?invocationId=%00', '/v1/usage?from=%E0%A4%A']) {
    const res = await rawRequest(cp + p, { headers: { authorization: auth } });
    t.equal(res.status, 400, p);
    t.equal((res.json() as { error: { type: string } }).error.type, 'ValidationError');
  }
});

t.test('a body with an unsupported or undecodable Content-Encoding is a 400 naming the header', async (t) => {
  const body = JSON.stringify({ name: 'enc', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: nodeZip(ECHO).toString('base64') } });
  for (const encoding of ['br', 'gzip', 'x-unknown']) {
    const res = await rawRequest(`${cp}/v1/functions`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json', 'content-encoding': encoding }, body });
    t.equal(res.status, 400, encoding);
    t.match(res.json(), { error: { type: 'ValidationError', message: new RegExp(`Content-Encoding "${encoding}"`) } });
    const invoke = await rawRequest(`${cp}/v1/functions/echo/invoke`, { method: 'POST', headers: { authorization: auth, 'content-encoding': encoding }, body: '{}' });
    t.equal(invoke.status, 400, `invoke with ${encoding}`);
    t.match(invoke.json(), { error: { type: 'ValidationError', message: /Content-Encoding/ } });
  }
  t.equal((await stack.admin('GET', '/v1/functions/enc')).status, 404, 'nothing was created');
});

t.test('invalid UTF-8 in a JSON body is a 400 ValidationError, never stored mangled', async (t) => {
  const zip = nodeZip(ECHO).toString('base64');
  const body = Buffer.concat([
    Buffer.from(`{"name":"mangled","runtime":"nodejs20","handler":"index.handler","code":{"zipBase64":"${zip}"},"environment":{"K":"v`),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}}'),
  ]);
  const res = await rawRequest(`${cp}/v1/functions`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body });
  t.equal(res.status, 400);
  t.match(res.json(), { error: { type: 'ValidationError', message: /UTF-8/ } });
  t.equal((await stack.admin('GET', '/v1/functions/mangled')).status, 404, 'nothing was stored');
  const nul = await stack.admin('POST', '/v1/functions', { name: 'nul', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: zip }, environment: { K: 'a\u0000b' } });
  t.equal(nul.status, 400, 'an escaped NUL in a string, which Postgres cannot store');
  t.match(await nul.json(), { error: { type: 'ValidationError', message: /NUL/ } });
  const invoke = await rawRequest(`${cp}/v1/functions/echo/invoke`, { method: 'POST', headers: { authorization: auth }, body: Buffer.from([0x22, 0xff, 0xfe, 0x22]) });
  t.equal(invoke.status, 400, 'an invoke payload likewise');
  t.match(invoke.json(), { error: { type: 'ValidationError', message: /UTF-8/ } });
});

t.test('@connections with an id that does not decode is a 400 BadRequestException', async (t) => {
  const res = await rawRequest(`${gw}/ws/@connections/%E0%A4%A`, { method: 'POST', headers: { authorization: auth }, body: 'hi' });
  t.equal(res.status, 400);
  t.equal(res.headers['x-amzn-errortype'], 'BadRequestException');
  t.match(res.json(), { message: String });
  t.equal((await rawRequest(`${gw}/ws/@connections/%E0%A4%A`)).status, 403, 'without credentials it is still a 403');
});

t.test('requests Node cannot parse get an error body in each server\'s family', async (t) => {
  const broken = Buffer.from('POST /v1/functions HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n{}');
  const fromCp = await sendRaw({ port: cpPort }, broken);
  t.equal(fromCp.status, 400);
  t.match(fromCp.text, /"type":"ValidationError"/);
  const fromGw = await sendRaw({ port: gwPort }, broken);
  t.equal(fromGw.status, 400);
  t.match(fromGw.text, /\{"message":"Bad Request"\}$/);
  t.equal((await rawRequest(`${gw}/healthz`, { method: 'POST' })).status, 404, 'the gateway\'s own endpoints answer JSON too');
});

const base = (host: string): [string, string][] => [['host', host], ['authorization', auth]];

t.test('fuzz: the admin API', async (t) => {
  await fuzz(t, cpPort, hostileRequest(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], fc.oneof(hostilePath('/v1/functions/'), hostilePath('/v1/'), hostilePath('/')), base('127.0.0.1')));
  // Real endpoints with hostile bodies and headers; writes only to what the checks do not use.
  const writable = ['/v1/functions', '/v1/functions/victim', '/v1/functions/victim/code', '/v1/functions/victim/async-config', '/v1/functions/victim/schedules', '/v1/apis', '/v1/apis/victim', '/v1/usage-plans', '/v1/api-keys'];
  const readable = ['/v1/functions/echo', '/v1/functions/echo/invocations?limit=2', '/v1/functions/echo/logs', '/v1/usage?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z', '/v1/usage/invoice?month=2026-12', '/v1/apis/fz/routes', '/v1/invocations/x'];
  await fuzz(t, cpPort, fc.oneof(hostileRequest(['POST', 'PUT', 'PATCH', 'DELETE'], fc.constantFrom(...writable), base('127.0.0.1')), hostileRequest(['GET'], fc.constantFrom(...readable), base('127.0.0.1'))));
  await stillServing(t);
});

t.test('fuzz: the invoke endpoint', async (t) => {
  const target = fc.oneof(
    hostilePath('/v1/functions/').map((p) => `${p.split('?', 1)[0]}/invoke`),
    fc.constantFrom('', '?async=%zz', '?async=true', '?%E0%A4%A').map((q) => `/v1/functions/echo/invoke${q}`),
  );
  await fuzz(t, cpPort, hostileRequest(['POST'], target, base('127.0.0.1')));
  await stillServing(t);
});

t.test('fuzz: the routed gateway', async (t) => {
  await fuzz(t, gwPort, hostileRequest(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD'], fc.oneof(hostilePath('/fz/'), hostilePath('/')), [['host', '127.0.0.1']]));
  await stillServing(t);
});

t.test('fuzz: the WebSocket upgrade', async (t) => {
  const handshake: [string, string][] = [['host', '127.0.0.1'], ['upgrade', 'websocket'], ['connection', 'Upgrade'], ['sec-websocket-version', '13'], ['sec-websocket-key', WS_KEY]];
  await fuzz(t, gwPort, hostileRequest(['GET', 'POST'], fc.oneof(fc.constant('/ws'), hostilePath('/ws'), hostilePath('/ws?')), handshake));
  await stillServing(t);
});

t.test('fuzz: @connections', async (t) => {
  await fuzz(t, gwPort, hostileRequest(['GET', 'POST', 'DELETE'], hostilePath('/ws/@connections/'), base('127.0.0.1')));
  await stillServing(t);
});
