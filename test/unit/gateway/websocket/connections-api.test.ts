// The @connections handler with its collaborators faked: who may call, the sizes, and where a
// call goes (this gateway, another one, or nowhere).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createLogger } from '../../../../common/logger.js';
import { compileRouteTable } from '../../../../gateway/routing/route-table.js';
import type { LiveRoutes } from '../../../../gateway/routing/route-sync.js';
import { RelayTimeout, type ConnectionOpRequest, type OpResult } from '../../../../gateway/websocket/connection-relay.js';
import { createConnectionsApi } from '../../../../gateway/websocket/connections-api.js';

const live: LiveRoutes = {
  table: compileRouteTable({
    revision: 1,
    apis: [
      { id: 'ws1', name: 'chat', protocol: 'websocket', hosts: ['chat.test'], cors: null, routes: [] },
      { id: 'http1', name: 'web', protocol: 'http', hosts: [], cors: null, routes: [] },
    ],
  }),
  functionTimeoutsMs: new Map(),
  apiKeys: new Map(),
};

const calls: { where: string; req: ConnectionOpRequest }[] = [];
let owners = new Map<string, { gatewayId: string; apiId: string } | undefined>();
let relayed: (req: ConnectionOpRequest) => Promise<OpResult> = async () => ({ status: 200 });
const handler = createConnectionsApi(
  {
    routes: { current: () => live },
    auth: { allows: (authorization, apiId) => authorization === `Bearer token-${apiId}` },
    registry: { lookup: async (id) => owners.get(id) },
    relay: async (gw, req) => {
      calls.push({ where: gw, req });
      return relayed(req);
    },
    holds: (id) => id === 'local=',
    local: async (req) => {
      calls.push({ where: 'local', req });
      return req.op === 'get' ? { status: 200, body: { connectedAt: 'x' } } : req.op === 'delete' ? { status: 204 } : { status: 200 };
    },
    logger: createLogger({ level: 'silent', name: 'test' }),
  },
  { gatewayId: 'me', maxMessageBytes: 16 },
);
const server = http.createServer((req, res) => {
  if (!handler(req, res, (req.url ?? '/').split('?')[0] as string)) res.writeHead(599).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
t.teardown(() => new Promise<void>((r) => server.close(() => r())));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const auth = { authorization: 'Bearer token-ws1' };

async function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(base + path, { method, headers: { ...auth, ...opts.headers }, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: await res.text() };
}

t.beforeEach(() => {
  calls.length = 0;
  owners = new Map();
  relayed = async () => ({ status: 200 });
});

t.test('success codes are exactly 200, 200, 204; ids are percent-decoded', async (t) => {
  t.match(await call('POST', '/chat/@connections/local%3D', { body: 'hi' }), { status: 200, body: '' });
  t.same(calls[0]?.req, { op: 'post', connectionId: 'local=', apiId: 'ws1', data: Buffer.from('hi') });
  t.match(await call('GET', '/chat/%40connections/local%3D'), { status: 200, body: '{"connectedAt":"x"}' });
  t.match(await call('DELETE', '/chat/@connections/local='), { status: 204, body: '' });
});

t.test('a connection on another gateway is reached through the relay', async (t) => {
  owners.set('far=', { gatewayId: 'other', apiId: 'ws1' });
  t.match(await call('POST', '/chat/@connections/far%3D', { body: 'x' }), { status: 200 });
  t.equal(calls[0]?.where, 'other');
  relayed = async () => ({ status: 410 });
  t.match(await call('POST', '/chat/@connections/far%3D', { body: 'x' }), { status: 410, type: 'GoneException' });
});

t.test('unknown, of another API, or an owner that died on the way: 410', async (t) => {
  t.match(await call('GET', '/chat/@connections/nobody'), { status: 410, type: 'GoneException', body: '{"message":"Gone"}' });
  owners.set('theirs', { gatewayId: 'other', apiId: 'ws2' });
  t.match(await call('GET', '/chat/@connections/theirs'), { status: 410 });
  t.equal(calls.length, 0, 'never relayed');
  owners.set('dying', { gatewayId: 'other', apiId: 'ws1' });
  relayed = async () => {
    owners.delete('dying');
    throw new RelayTimeout('no answer');
  };
  t.match(await call('GET', '/chat/@connections/dying'), { status: 410 });
  owners.set('slow', { gatewayId: 'other', apiId: 'ws1' });
  relayed = async () => {
    throw new RelayTimeout('no answer');
  };
  t.match(await call('GET', '/chat/@connections/slow'), { status: 500, type: 'InternalServerErrorException' }, 'alive but silent');
});

t.test('403 ForbiddenException without the right token or for other methods; 413 over the limit', async (t) => {
  t.match(await call('GET', '/chat/@connections/local%3D', { headers: { authorization: 'Bearer token-http1' } }), { status: 403, type: 'ForbiddenException', body: '{"message":"Forbidden"}' });
  t.match(await call('PUT', '/chat/@connections/local%3D', { body: 'x' }), { status: 403 });
  t.match(await call('POST', '/chat/@connections/local%3D', { body: 'x'.repeat(17) }), { status: 413, type: 'PayloadTooLargeException', body: '{"message":"Message too long"}' });
  t.match(await call('POST', '/chat/@connections/local%3D', { body: 'x'.repeat(16) }), { status: 200 }, 'exactly the limit is fine');
});

t.test('only websocket APIs have @connections; on an API host there is no prefix', async (t) => {
  t.equal((await call('GET', '/web/@connections/local%3D')).status, 599, "an HTTP API's path goes to its routes");
  t.equal((await call('GET', '/nope/@connections/local%3D')).status, 599);
  t.equal((await call('GET', '/chat/@connections/local%3D/more')).status, 599);
  const res = await new Promise<number>((resolve, reject) => {
    http.get(`${base}/@connections/local%3D`, { headers: { host: 'chat.test', ...auth } }, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject);
  });
  t.equal(res, 200);
});

/** Like call, with a Host header of its own (fetch will not send one). */
function callHost(method: string, path: string, opts: { headers: Record<string, string>; body?: string }): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers: { ...auth, ...opts.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['x-amzn-errortype'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

t.test("the https://{domainName}/{stage} forms: an API's execute-api name or own host, with or without /$default", async (t) => {
  const execHost = { host: 'ws1.execute-api.us-east-1.amazonaws.com' };
  for (const path of ['/$default/@connections/local%3D', '/%24default/@connections/local%3D', '/@connections/local%3D']) {
    t.match(await callHost('POST', path, { headers: execHost, body: 'x' }), { status: 200 }, `execute-api name, ${path}`);
    t.match(await callHost('POST', path, { headers: { host: 'chat.test' }, body: 'x' }), { status: 200 }, `own host, ${path}`);
  }
  t.equal(calls.length, 6);
  t.ok(calls.every((c) => c.req.apiId === 'ws1'));
  t.match(await callHost('POST', '/prod/@connections/local%3D', { headers: execHost, body: 'x' }), { status: 599 }, 'no other stage');
  t.match(await callHost('POST', '/$default/@connections/local%3D', { headers: { host: 'http1.execute-api.us-east-1.amazonaws.com' }, body: 'x' }), { status: 599 }, 'an HTTP API has no @connections');
  t.match(await callHost('POST', '/$default/@connections/local%3D', { headers: { host: 'nope.execute-api.us-east-1.amazonaws.com' }, body: 'x' }), { status: 599 }, 'an unknown id');
  t.match(await callHost('POST', '/$default/@connections/local%3D', { headers: { ...execHost, authorization: 'Bearer token-other' }, body: 'x' }), { status: 403, type: 'ForbiddenException' }, "another API's token");
});
