// WebSocket APIs end to end (api.md; compat.md §6) through real Docker, Postgres and Redis, with
// two gateways and real `ws` clients: a chat room across gateways where the function broadcasts
// through @connections from inside its container, $connect rejecting the handshake, $disconnect
// on every kind of close, the @connections API itself, and oversized messages.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { rawRequest } from '../support/http-client.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { deployFunction, eventually, startStack, type Stack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const SLOW_MACHINE = { timeoutMs: 30_000 };

const CONNECT = `
const header = (h, name) => Object.entries(h || {}).find(([k]) => k.toLowerCase() === name)?.[1];
exports.handler = async (event) => {
  console.log('CONNECT ' + JSON.stringify(event));
  const q = event.queryStringParameters || {};
  if (q.deny) return { statusCode: 403, headers: { 'content-type': 'text/plain' }, body: 'go away: ' + q.deny };
  if (q.boom) throw new Error('boom');
  if (q.selfpost) {
    const id = event.requestContext.connectionId;
    const r = await fetch(process.env.GANTRY_CONNECTIONS_URL + '/@connections/' + encodeURIComponent(id), {
      method: 'POST', body: 'too early', headers: { authorization: 'Bearer ' + process.env.GANTRY_CONNECTIONS_TOKEN } });
    console.log('SELFPOST ' + id + ' ' + r.status + ' ' + r.headers.get('x-amzn-errortype'));
  }
  const offered = header(event.headers, 'sec-websocket-protocol');
  return { statusCode: 200, ...(offered ? { headers: { 'Sec-WebSocket-Protocol': offered.split(',')[0].trim() } } : {}) };
};`;

const CHAT = `
const post = async (id, data) => {
  const r = await fetch(process.env.GANTRY_CONNECTIONS_URL + '/@connections/' + encodeURIComponent(id), {
    method: 'POST', body: data, headers: { authorization: 'Bearer ' + process.env.GANTRY_CONNECTIONS_TOKEN, 'content-type': 'application/octet-stream' } });
  return r.status;
};
exports.handler = async (event) => {
  const ctx = event.requestContext;
  if (ctx.routeKey === 'whoami') return { statusCode: 200, body: ctx.connectionId };
  if (ctx.routeKey === 'silent') return { statusCode: 200, body: 'one-way routes send nothing back' };
  if (ctx.routeKey === 'broadcast' || ctx.routeKey === 'postto') {
    const msg = JSON.parse(event.body);
    const statuses = {};
    for (const id of msg.to) statuses[id] = await post(id, JSON.stringify({ from: ctx.connectionId, text: msg.text }));
    return { statusCode: 200, body: JSON.stringify({ statuses }) };
  }
  return { statusCode: 200, body: JSON.stringify(event) };
};`;

const AUTHORIZER = `
exports.handler = async (e) => {
  const token = e.queryStringParameters && e.queryStringParameters.token;
  const effect = token === 'good' ? 'Allow' : 'Deny';
  return { principalId: 'user-' + token, policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: e.methodArn }] },
    context: { tier: 'gold', routeKey: e.requestContext.routeKey, type: e.type } };
};`;

const DISCONNECT = `exports.handler = async (event) => { console.log('DISCONNECT ' + JSON.stringify(event)); return { statusCode: 200 }; };`;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

// Gateway 0 listens on all addresses at a known port, so functions reach it from their bridge
// network at the address the control plane works out itself (GANTRY_PUBLIC_URL's port), through
// the function firewall's opening for that port (on a network of this stack's own, so the rules
// concern no one else).
const port = await freePort();
const stack = await startStack(t, {
  ownFunctionNetwork: true,
  secondGateway: true,
  env: { GANTRY_PUBLIC_URL: `http://127.0.0.1:${port}` },
  gatewayEnv: [{ GANTRY_BIND_HOST: '0.0.0.0', GANTRY_GATEWAY_PORT: String(port) }],
});
const gw1 = stack.gatewayUrl;
const gw2 = stack.secondGatewayUrl as string;
const wsUrl = (http: string, rest: string) => http.replace(/^http/, 'ws') + rest;

interface Client {
  readonly ws: WebSocket;
  readonly frames: string[];
  next(timeoutMs?: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, protocols?: string[], headers?: Record<string, string>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, headers ? { headers } : {});
    const frames: string[] = [];
    const waiters: ((s: string) => void)[] = [];
    ws.on('message', (data: Buffer) => {
      const s = data.toString('utf8');
      const w = waiters.shift();
      if (w) w(s);
      else frames.push(s);
    });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        closed,
        next: (timeoutMs = 30_000) =>
          new Promise<string>((res, rej) => {
            const queued = frames.shift();
            if (queued !== undefined) return res(queued);
            const timer = setTimeout(() => rej(new Error('no frame in time')), timeoutMs);
            waiters.push((s) => {
              clearTimeout(timer);
              res(s);
            });
          }),
      }),
    );
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`handshake ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })));
    });
  });
}

async function rejected(url: string): Promise<{ status: number; body: string }> {
  try {
    const c = await open(url);
    c.ws.close();
    return { status: 101, body: '' };
  } catch (e) {
    return e as { status: number; body: string };
  }
}

async function whoami(c: Client): Promise<string> {
  c.ws.send(JSON.stringify({ action: 'whoami' }));
  return c.next();
}

/** The `$disconnect` (or `$connect`) event a function logged for a connection, once it is there. */
async function loggedEvent(t: Test, s: Stack, fn: string, marker: string, connectionId: string): Promise<Record<string, any> | undefined> {
  let found: Record<string, any> | undefined;
  await eventually(async () => {
    const res = await s.admin('GET', `/v1/functions/${fn}/logs?limit=1000`);
    const { lines } = (await res.json()) as { lines: { message: string }[] };
    for (const l of lines) {
      const i = l.message.indexOf(`${marker} `);
      if (i < 0) continue;
      const event = JSON.parse(l.message.slice(i + marker.length + 1)) as Record<string, any>;
      if (event.requestContext?.connectionId === connectionId) found = event;
    }
    return found !== undefined;
  }, 30_000, 200);
  if (!found) t.fail(`no ${marker} logged for ${connectionId}`);
  return found;
}

const admin = { authorization: `Bearer ${stack.token}` };
const connections = (base: string, id: string) => `${base}/chat/@connections/${encodeURIComponent(id)}`;

await t.test('sets up a chat API on two gateways', async (t) => {
  for (const [name, code] of [['connect', CONNECT], ['chat', CHAT], ['disconnect', DISCONNECT]] as const) await deployFunction(t, stack, name, nodeZip(code), SLOW_MACHINE);
  const api = await stack.admin('POST', '/v1/apis', { name: 'chat', protocol: 'websocket' });
  t.equal(api.status, 201);
  t.match(await api.json(), { protocol: 'websocket', endpoint: `ws://127.0.0.1:${port}/chat`, routeSelectionExpression: '$request.body.action' });
  const routes = [
    { routeKey: '$connect', function: 'connect' },
    { routeKey: '$disconnect', function: 'disconnect' },
    { routeKey: '$default', function: 'chat', routeResponseSelectionExpression: '$default' },
    { routeKey: 'whoami', function: 'chat', routeResponseSelectionExpression: '$default' },
    { routeKey: 'postto', function: 'chat', routeResponseSelectionExpression: '$default' },
    { routeKey: 'broadcast', function: 'chat' },
    { routeKey: 'silent', function: 'chat' },
  ];
  for (const r of routes) {
    const res = await stack.admin('POST', '/v1/apis/chat/routes', r);
    t.equal(res.status, 201, `${r.routeKey}: ${await res.text()}`);
  }
  t.equal((await stack.admin('POST', '/v1/apis/chat/routes', { routeKey: '$bogus', function: 'chat' })).status, 400, 'a $ key that is not reserved');
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'bad-rse', protocol: 'websocket', routeSelectionExpression: '$request.header.x' })).status, 400, 'selection outside the body');
  // A second API with no $default route, with a combined selection expression.
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'strict', protocol: 'websocket', routeSelectionExpression: '${request.body.service}/${request.body.action}' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/strict/routes', { routeKey: 'chat/whoami', function: 'chat', routeResponseSelectionExpression: '$default' })).status, 201);
  // Served by both gateways within a second; the first connect is a cold start.
  let c: Client | undefined;
  t.ok(await eventually(async () => (c = await open(wsUrl(gw2, '/chat')).catch(() => undefined)) !== undefined, 30_000, 200), 'connects');
  t.ok(c && (await whoami(c)));
  c?.ws.close();
});

t.test('an authorizer on $connect: 401 without identity, 403 when denied, its context on every event', async (t) => {
  await deployFunction(t, stack, 'wsauth', nodeZip(AUTHORIZER), SLOW_MACHINE);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'secure', protocol: 'websocket' })).status, 201);
  const authorizer = { type: 'function', function: 'wsauth', identitySource: ['$request.querystring.token'], resultTtlSeconds: 0 };
  t.equal((await stack.admin('POST', '/v1/apis/secure/routes', { routeKey: '$connect', function: 'connect', authorizer })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/secure/routes', { routeKey: '$default', function: 'chat', routeResponseSelectionExpression: '$default' })).status, 201);
  const onMessage = await stack.admin('POST', '/v1/apis/secure/routes', { routeKey: 'other', function: 'chat', authorizer });
  t.equal(onMessage.status, 400, 'authorizers only on $connect');
  t.match(await onMessage.json(), { error: { type: 'ValidationError', message: /only possible on the \$connect route/ } });
  t.equal((await stack.admin('POST', '/v1/apis/secure/routes', { routeKey: 'simple', function: 'chat', authorizer: { ...authorizer, enableSimpleResponses: true } })).status, 400);
  let missing = { status: 0, body: '' };
  t.ok(await eventually(async () => (missing = await rejected(wsUrl(gw2, '/secure'))).status === 401, 10_000), 'no token: 401');
  t.same(JSON.parse(missing.body), { message: 'Unauthorized' });
  const denied = await rejected(wsUrl(gw2, '/secure?token=bad'));
  t.equal(denied.status, 403, 'a Deny policy: 403');
  t.same(JSON.parse(denied.body), { message: 'Forbidden' });
  const c = await open(wsUrl(gw1, '/secure?token=good'));
  c.ws.send('hi');
  const event = JSON.parse(await c.next()) as Record<string, any>;
  t.same(event.requestContext.authorizer, { principalId: 'user-good', tier: 'gold', routeKey: '$connect', type: 'REQUEST' }, 'the authorizer saw the $connect request');
  const connect = await loggedEvent(t, stack, 'connect', 'CONNECT', event.requestContext.connectionId);
  t.match(connect, { requestContext: { authorizer: { principalId: 'user-good', tier: 'gold' } } });
  c.ws.close();
});

t.test('chat room across gateways: the function broadcasts through @connections from its container', async (t) => {
  const alice = await open(wsUrl(gw1, '/chat'));
  const bob = await open(wsUrl(gw2, '/chat'));
  const [a, b] = [await whoami(alice), await whoami(bob)];
  t.not(a, b);
  alice.ws.send(JSON.stringify({ action: 'broadcast', to: [a, b], text: 'hello room' }));
  t.same(JSON.parse(await bob.next()), { from: a, text: 'hello room' }, 'bob, on the other gateway, receives it');
  t.same(JSON.parse(await alice.next()), { from: a, text: 'hello room' }, 'alice receives her own broadcast');
  // One-way route: nothing else comes back to alice.
  alice.ws.send(JSON.stringify({ action: 'silent' }));
  alice.ws.send(JSON.stringify({ action: 'whoami' }));
  t.equal(await alice.next(), a, 'the next frame is the whoami answer, not the one-way result');
  alice.ws.close();
  bob.ws.close();
  // Metered as WebSocket-routed (the spool ships to the ledger a moment later).
  const sources = async () => {
    const { invocations } = (await (await stack.admin('GET', '/v1/functions/chat/invocations?limit=1000')).json()) as { invocations: { source: string }[] };
    return new Set(invocations.map((i) => i.source));
  };
  t.ok(await eventually(async () => (await sources()).has('websocket'), 10_000), 'ledger entries have source websocket');
  t.same([...(await sources())], ['websocket'], 'and nothing else');
});

t.test('a function posting to a gone connection gets 410, and to one in its own $connect too', async (t) => {
  const c = await open(wsUrl(gw1, '/chat?selfpost=1'));
  const me = await whoami(c);
  const selfpost = await eventually(async () => {
    const res = await stack.admin('GET', '/v1/functions/connect/logs?limit=1000');
    const { lines } = (await res.json()) as { lines: { message: string }[] };
    return lines.some((l) => l.message.includes(`SELFPOST ${me} 410 GoneException`));
  }, 30_000, 200);
  t.ok(selfpost, 'a POST during its own $connect is 410 GoneException');
  const gone = await open(wsUrl(gw2, '/chat'));
  const goneId = await whoami(gone);
  gone.ws.close();
  await gone.closed;
  t.ok(await eventually(async () => (await fetch(connections(gw1, goneId), { headers: admin })).status === 410, 10_000), 'the registry forgets a closed connection');
  c.ws.send(JSON.stringify({ action: 'postto', to: [goneId, 'bm9wZQ=='], text: 'anyone?' }));
  t.same(JSON.parse(await c.next()), { statuses: { [goneId]: 410, 'bm9wZQ==': 410 } });
  c.ws.close();
});

t.test('$connect decides the handshake: status and body of a rejection, errors, the subprotocol', async (t) => {
  const denied = await rejected(wsUrl(gw1, '/chat?deny=nope'));
  t.equal(denied.status, 403, 'non-2xx: that status…');
  t.equal(denied.body, 'go away: nope', '…and that body');
  const boom = await rejected(wsUrl(gw2, '/chat?boom=1'));
  t.equal(boom.status, 502, 'a function error rejects with 502');
  t.same(JSON.parse(boom.body), { message: 'Internal server error' });
  t.equal((await rejected(wsUrl(gw1, '/nope'))).status, 404, 'unknown API');
  const c = await open(wsUrl(gw1, '/chat'), ['chat.v2', 'chat.v1']);
  t.equal(c.ws.protocol, 'chat.v2', 'Sec-WebSocket-Protocol from the $connect result');
  const id = await whoami(c);
  const connect = await loggedEvent(t, stack, 'connect', 'CONNECT', id);
  t.match(connect, {
    headers: { 'Sec-WebSocket-Protocol': 'chat.v2,chat.v1' },
    multiValueHeaders: { 'Sec-WebSocket-Protocol': ['chat.v2,chat.v1'] },
    isBase64Encoded: false,
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: id, messageDirection: 'IN', stage: '$default', identity: { sourceIp: '127.0.0.1' } },
  });
  t.notOk('queryStringParameters' in (connect ?? {}), 'no query string, no query fields');
  c.ws.close();
  const q = await open(wsUrl(gw1, '/chat?room=a&room=b&x=1'));
  const qid = await whoami(q);
  t.match(await loggedEvent(t, stack, 'connect', 'CONNECT', qid), { queryStringParameters: { room: 'b', x: '1' }, multiValueQueryStringParameters: { room: ['a', 'b'], x: ['1'] } });
  q.ws.close();
});

t.test('message events, route selection, binary frames, the error frame without $default', async (t) => {
  const c = await open(wsUrl(gw1, '/chat'));
  c.ws.send('not json at all');
  const text = JSON.parse(await c.next()) as Record<string, any>;
  t.match(text, { body: 'not json at all', isBase64Encoded: false, requestContext: { routeKey: '$default', eventType: 'MESSAGE', messageDirection: 'IN', stage: '$default' } });
  const rc = text.requestContext as Record<string, unknown>;
  for (const field of ['connectionId', 'messageId', 'requestId', 'extendedRequestId', 'requestTime', 'domainName', 'apiId']) t.type(rc[field], 'string', field);
  for (const field of ['connectedAt', 'requestTimeEpoch']) t.type(rc[field], 'number', field);
  t.equal(rc.requestId, rc.extendedRequestId);
  c.ws.send(JSON.stringify({ action: 'nothing-matches' }));
  const again = JSON.parse(await c.next()) as Record<string, any>;
  t.equal(again.requestContext.routeKey, '$default');
  t.equal(again.requestContext.connectedAt, rc.connectedAt, 'connectedAt is the same on every event');
  t.not(again.requestContext.messageId, rc.messageId);
  c.ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
  t.match(JSON.parse(await c.next()), { body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true });
  c.ws.close();

  const s = await open(wsUrl(gw2, '/strict'));
  s.ws.send(JSON.stringify({ service: 'chat', action: 'whoami' }));
  const echoed = JSON.parse(await s.next()) as { requestContext: { routeKey: string; connectionId: string } };
  t.equal(echoed.requestContext.routeKey, 'chat/whoami', 'a combined expression selects "chat/whoami"');
  const id = echoed.requestContext.connectionId;
  s.ws.send(JSON.stringify({ service: 'chat', action: 'other' }));
  const err = JSON.parse(await s.next()) as Record<string, string>;
  t.equal(err.message, 'Forbidden');
  t.equal(err.connectionId, id);
  t.type(err.requestId, 'string');
  s.ws.close();
});

t.test("an API's own host: the socket at / and @connections without the prefix", async (t) => {
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'hosted', protocol: 'websocket', hosts: ['chat.example.test'] })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/hosted/routes', { routeKey: '$default', function: 'chat', routeResponseSelectionExpression: '$default' })).status, 201);
  const host = { Host: 'chat.example.test' };
  let c: Client | undefined;
  t.ok(await eventually(async () => (c = await open(wsUrl(gw1, '/'), undefined, host).catch(() => undefined)) !== undefined, 10_000, 200));
  if (!c) return;
  let event: { requestContext?: { domainName: string; connectionId: string } } = {};
  // Until the gateway has the $default route too (the API and its route are two changes).
  t.ok(await eventually(async () => (c?.ws.send('hello'), (event = JSON.parse(await (c as Client).next()) as typeof event).requestContext !== undefined), 10_000, 100));
  if (!event.requestContext) return;
  t.equal(event.requestContext.domainName, 'chat.example.test');
  const id = event.requestContext.connectionId;
  const res = await rawRequest(`${gw2}/@connections/${encodeURIComponent(id)}`, { method: 'POST', headers: { ...host, authorization: `Bearer ${stack.token}` }, body: 'by host' });
  t.equal(res.status, 200);
  t.equal(await c.next(), 'by host');
  c.ws.close();
});

t.test('the @connections API: GET, POST across gateways, encodings, errors', async (t) => {
  const c = await open(wsUrl(gw1, '/chat'), undefined);
  const id = await whoami(c);
  for (const base of [gw1, gw2]) {
    const res = await fetch(connections(base, id), { headers: admin });
    t.equal(res.status, 200);
    const info = (await res.json()) as Record<string, any>;
    t.match(info, { identity: { sourceIp: '127.0.0.1' } });
    t.ok(Date.parse(info.connectedAt) <= Date.parse(info.lastActiveAt), 'RFC 3339 times');
  }
  const post = await fetch(connections(gw2, id), { method: 'POST', headers: { ...admin, 'content-type': 'application/octet-stream' }, body: 'from gateway two' });
  t.equal(post.status, 200, 'POST to the gateway that does not hold it');
  t.equal(await post.text(), '');
  t.equal(await c.next(), 'from gateway two');
  const encodedAt = `${gw1}/chat/%40connections/${encodeURIComponent(id)}`;
  t.equal((await fetch(encodedAt, { method: 'POST', headers: admin, body: 'encoded @' })).status, 200, 'an encoded @ works too');
  t.equal(await c.next(), 'encoded @');
  const expectError = async (res: Response, status: number, type: string) => {
    t.equal(res.status, status, type);
    t.equal(res.headers.get('x-amzn-errortype'), type);
    t.type(((await res.json()) as { message: unknown }).message, 'string');
  };
  await expectError(await fetch(connections(gw1, id), { method: 'POST', body: 'x' }), 403, 'ForbiddenException');
  await expectError(await fetch(connections(gw1, id), { method: 'POST', body: 'x', headers: { authorization: 'Bearer wrong' } }), 403, 'ForbiddenException');
  await expectError(await fetch(connections(gw2, id), { method: 'POST', body: Buffer.alloc(128 * 1024 + 1, 97), headers: admin }), 413, 'PayloadTooLargeException');
  await expectError(await fetch(connections(gw2, 'dW5rbm93bg=='), { headers: admin }), 410, 'GoneException');
  await expectError(await fetch(`${gw2}/strict/@connections/${encodeURIComponent(id)}`, { headers: admin }), 410, 'GoneException');
  c.ws.close();
});

t.test('functions get GANTRY_CONNECTIONS_* once behind a websocket API, and lose them after', async (t) => {
  const ENV = `exports.handler = async () => ({ url: process.env.GANTRY_CONNECTIONS_URL ?? null, token: process.env.GANTRY_CONNECTIONS_TOKEN ?? null });`;
  await deployFunction(t, stack, 'envcheck', nodeZip(ENV), SLOW_MACHINE);
  const read = async () => (await (await stack.admin('POST', '/v1/functions/envcheck/invoke', {})).json()) as { url: string | null; token: string | null };
  t.same(await read(), { url: null, token: null }, 'not behind a websocket API: nothing (and the environment is now warm)');
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'late', protocol: 'websocket' })).status, 201);
  const route = (await (await stack.admin('POST', '/v1/apis/late/routes', { routeKey: '$default', function: 'envcheck' })).json()) as { id: string };
  let seen = await read();
  t.ok(await eventually(async () => (seen = await read()).url !== null, 10_000), 'the warm environment is replaced');
  t.match(seen.url, new RegExp(`^http://\\d+\\.\\d+\\.\\d+\\.\\d+:${port}/late$`), 'the bridge address with the public port');
  t.match(seen.token, /^gct_/);
  t.equal((await stack.admin('DELETE', `/v1/apis/late/routes/${route.id}`)).status, 204);
  t.ok(await eventually(async () => (await read()).url === null, 10_000), 'and gone again once no websocket route targets it');
});

t.test('a gateway process that dies: its connections are gone within the TTL and their $disconnect runs elsewhere', async (t) => {
  // A third gateway as its own process (built by `npm test`), killed without any chance to clean up.
  const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/gateway/main.js');
  t.ok(existsSync(main), 'dist/gateway/main.js exists (npm run build)');
  const childPort = await freePort();
  const child = spawn(process.execPath, [main], {
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: stack.databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      GANTRY_REDIS_PREFIX: stack.redisPrefix,
      GANTRY_CONTROL_PLANE_URL: stack.controlPlaneUrl,
      GANTRY_INTERNAL_TOKEN_FILE: stack.internalTokenFile,
      GANTRY_GATEWAY_PORT: String(childPort),
      GANTRY_BIND_HOST: '127.0.0.1',
      GANTRY_WS_REGISTRY_TTL_MS: '1000',
      GANTRY_LOG_LEVEL: 'silent',
    },
  });
  t.teardown(() => void child.kill('SIGKILL'));
  const doomedUrl = `http://127.0.0.1:${childPort}`;
  t.ok(await eventually(async () => (await fetch(`${doomedUrl}/readyz`).catch(() => undefined))?.status === 200, 30_000, 200), 'the third gateway is up');
  const c = await open(wsUrl(doomedUrl, '/chat'));
  const id = await whoami(c);
  t.equal((await fetch(connections(gw1, id), { headers: admin })).status, 200, 'reachable from another gateway while its owner lives');
  child.kill('SIGKILL');
  t.equal((await c.closed).code, 1006, 'the client sees the socket drop');
  const killedAt = Date.now();
  t.ok(await eventually(async () => (await fetch(connections(gw1, id), { headers: admin })).status === 410, 10_000, 100), 'then 410 from the live gateways');
  // 1 s TTL; a call already on its way to the dead gateway may wait out the 5 s relay timeout.
  t.ok(Date.now() - killedAt < 8_000, `within the TTL (${Date.now() - killedAt} ms)`);
  t.match(await loggedEvent(t, stack, 'disconnect', 'DISCONNECT', id), { requestContext: { eventType: 'DISCONNECT', disconnectStatusCode: 1006, connectionId: id } }, 'a live gateway ran its $disconnect');
});

t.test('$disconnect runs once on client close, on DELETE, on an oversized message and at shutdown', async (t) => {
  const byClient = await open(wsUrl(gw1, '/chat'));
  const clientId = await whoami(byClient);
  byClient.ws.close(4000, 'bye now');
  t.match(await loggedEvent(t, stack, 'disconnect', 'DISCONNECT', clientId), {
    requestContext: { routeKey: '$disconnect', eventType: 'DISCONNECT', disconnectStatusCode: 4000, disconnectReason: 'bye now', connectionId: clientId },
    headers: { 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    isBase64Encoded: false,
  });

  const noCode = await open(wsUrl(gw2, '/chat'));
  const noCodeId = await whoami(noCode);
  noCode.ws.close();
  t.match(await loggedEvent(t, stack, 'disconnect', 'DISCONNECT', noCodeId), { requestContext: { disconnectStatusCode: 1005, disconnectReason: 'Client-side close frame status not set' } });

  const deleted = await open(wsUrl(gw1, '/chat'));
  const deletedId = await whoami(deleted);
  const del = await fetch(connections(gw2, deletedId), { method: 'DELETE', headers: admin });
  t.equal(del.status, 204, 'DELETE through the other gateway');
  t.equal((await deleted.closed).code, 1000);
  t.match(await loggedEvent(t, stack, 'disconnect', 'DISCONNECT', deletedId), { requestContext: { disconnectStatusCode: 1000 } });
  t.equal((await fetch(connections(gw2, deletedId), { method: 'DELETE', headers: admin })).status, 410, 'then it is gone');

  const big = await open(wsUrl(gw2, '/chat'));
  const bigId = await whoami(big);
  big.ws.send(Buffer.alloc(128 * 1024 + 1, 97).toString());
  t.equal((await big.closed).code, 1009, 'over 128 KB closes with 1009');
  t.match(await loggedEvent(t, stack, 'disconnect', 'DISCONNECT', bigId), { requestContext: { disconnectStatusCode: 1009 } });
  const ok = await open(wsUrl(gw2, '/chat'));
  ok.ws.send(JSON.stringify({ action: 'x', pad: 'a'.repeat(120 * 1024) }));
  t.match(JSON.parse(await ok.next()), { requestContext: { routeKey: '$default' } }, 'just under the limit is fine');
  ok.ws.close();

  const atShutdown = await open(wsUrl(gw2, '/chat'));
  const shutdownId = await whoami(atShutdown);
  const stopping = stack.stopGateway(1);
  t.equal((await atShutdown.closed).code, 1001, 'SIGTERM closes with 1001');
  await stopping;
  t.match(await loggedEvent(t, stack, 'disconnect', 'DISCONNECT', shutdownId), { requestContext: { disconnectStatusCode: 1001 } });
  t.equal((await fetch(connections(gw1, shutdownId), { headers: admin })).status, 410, 'deregistered');
});
