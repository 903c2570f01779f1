// The WebSocket gateway against real Redis and real `ws` clients, with functions faked at the
// Upstream seam (no Docker): idle timeout and maximum duration, the message rate limit, a slow
// reader bounded by the send queue, the registry's TTL and the `$disconnect`s of a dead gateway,
// and shutdown.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { createLogger } from '../../common/logger.js';
import { createRedis, RedisKeys } from '../../common/redis.js';
import type { RouteDefinition } from '../../gateway/routing/route-snapshot.js';
import { compileRouteTable } from '../../gateway/routing/route-table.js';
import type { LiveRoutes } from '../../gateway/routing/route-sync.js';
import type { Upstream, UpstreamResult } from '../../gateway/upstream/upstream.js';
import { RedisConnectionRegistry } from '../../gateway/websocket/connection-registry.js';
import type { ConnectionLimits } from '../../gateway/websocket/connection-limits.js';
import { WebsocketGateway } from '../../gateway/websocket/websocket-gateway.js';
import { WebsocketMetrics } from '../../gateway/websocket/websocket-metrics.js';
import { requireServices, TEST_REDIS_URL } from '../support/services.js';
import { eventually } from '../support/stack.js';

await requireServices(t, { docker: false });
const prefix = `test:ws:${randomBytes(4).toString('hex')}:`;
const keys = new RedisKeys(prefix);
const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
const logger = createLogger({ level: 'silent', name: 'ws-test' });
t.teardown(async () => {
  const names = await redis.keys(`${prefix}*`);
  if (names.length > 0) await redis.del(...names);
  await redis.quit();
});

const route = (routeKey: string, functionName: string, twoWay = false): RouteDefinition => ({
  id: routeKey,
  routeKey,
  functionName,
  payloadFormatVersion: '2.0',
  ...(twoWay ? { routeResponseSelectionExpression: '$default' as const } : {}),
});
const live: LiveRoutes = {
  table: compileRouteTable({
    revision: 1,
    apis: [{ id: 'api1', name: 'room', protocol: 'websocket', hosts: [], cors: null, routes: [route('$disconnect', 'disc'), route('$default', 'echo', true), route('noop', 'noop')] }],
  }),
  functionTimeoutsMs: new Map(),
  apiKeys: new Map(),
};

/** Functions as plain code: echo returns the body, disc records its events. */
class FakeFunctions implements Upstream {
  readonly disconnects: Record<string, any>[] = [];
  async invoke(functionName: string, payload: Buffer): Promise<UpstreamResult> {
    const event = JSON.parse(payload.toString()) as Record<string, any>;
    if (functionName === 'disc') this.disconnects.push(event);
    const result = functionName === 'echo' ? { statusCode: 200, body: event.body } : { statusCode: 200 };
    return { functionError: false, payload: Buffer.from(JSON.stringify(result)), invocationId: undefined };
  }
  async close(): Promise<void> {}
  disconnectOf(connectionId: string): Record<string, any> | undefined {
    return this.disconnects.find((e) => e.requestContext.connectionId === connectionId);
  }
}

const LIMITS: ConnectionLimits = { idleTimeoutMs: 60_000, maxDurationMs: 600_000, messageRatePerSecond: 1000, messageBurst: 1000, maxQueuedBytes: 256 * 1024 };

/** A gateway that lives as long as the subtest `owner` (another live gateway could reap the ghost). */
async function startGateway(owner: Test, gatewayId: string, limits: Partial<ConnectionLimits> = {}) {
  const functions = new FakeFunctions();
  const registry = new RedisConnectionRegistry(redis, keys, { gatewayId, ttlMs: 300, entryTtlMs: 60_000 });
  const gateway = new WebsocketGateway(
    { routes: { current: () => live }, upstream: functions, registry, metrics: new WebsocketMetrics(new Registry()), logger },
    { gatewayId, limits: { ...LIMITS, ...limits }, maxMessageBytes: 128 * 1024, integrationTimeoutMs: 5_000, heartbeatIntervalMs: 100, shutdownGraceMs: 5_000 },
  );
  await gateway.start();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/room`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await gateway.close();
    await new Promise<void>((r) => server.close(() => r()));
  };
  owner.teardown(close);
  return { gateway, functions, registry, url, close };
}

interface Client {
  readonly ws: WebSocket;
  readonly id: string;
  readonly frames: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** Opens a client and learns its id from the echo route (its connectionId comes back in GET-free way). */
async function connect(url: string, gateway: WebsocketGateway): Promise<Client> {
  const before = new Set(heldIds(gateway));
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on('message', (d: Buffer) => frames.push(d.toString()));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const id = heldIds(gateway).find((x) => !before.has(x)) as string;
  return { ws, id, frames, closed };
}

function heldIds(gateway: WebsocketGateway): string[] {
  return [...(gateway as unknown as { held: Map<string, unknown> }).held.keys()];
}

t.test('idle connections and connections past the maximum duration are closed with 1001', async (t) => {
  const g = await startGateway(t, 'limits', { idleTimeoutMs: 1_500, maxDurationMs: 3_000 });
  const idle = await connect(g.url, g.gateway);
  const busy = await connect(g.url, g.gateway);
  const timer = setInterval(() => busy.ws.send('still here'), 200);
  t.teardown(() => clearInterval(timer));
  const idleClose = await idle.closed;
  t.equal(idleClose.code, 1001);
  t.match(idleClose.reason, /idle/);
  t.equal(busy.ws.readyState, WebSocket.OPEN, 'an active connection stays open past the idle timeout');
  const busyClose = await busy.closed;
  clearInterval(timer);
  t.equal(busyClose.code, 1001);
  t.match(busyClose.reason, /maximum connection duration/);
  t.ok(await eventually(async () => g.functions.disconnectOf(idle.id) !== undefined && g.functions.disconnectOf(busy.id) !== undefined, 5_000));
  t.match(g.functions.disconnectOf(idle.id), { requestContext: { disconnectStatusCode: 1001, disconnectReason: /idle/ } });
  t.equal(g.functions.disconnects.filter((e) => e.requestContext.connectionId === idle.id).length, 1, '$disconnect once');
});

t.test('the per-connection message rate is limited', async (t) => {
  const g = await startGateway(t, 'rate', { messageRatePerSecond: 1, messageBurst: 3 });
  const c = await connect(g.url, g.gateway);
  for (let i = 0; i < 6; i++) c.ws.send(`m${i}`);
  t.ok(await eventually(async () => c.frames.length === 6, 5_000));
  const throttled = c.frames.filter((f) => f.startsWith('{') && (JSON.parse(f) as { message?: string }).message === 'Too Many Requests');
  t.equal(throttled.length, 3, 'beyond the burst: an error frame each');
  t.same(c.frames.filter((f) => !f.startsWith('{')).sort(), ['m0', 'm1', 'm2'], 'the burst is echoed');
  c.ws.close();
});

t.test('a slow reader is closed with 1008 once its send queue is full; the gateway never buffers without bound', async (t) => {
  const g = await startGateway(t, 'slow');
  const c = await connect(g.url, g.gateway);
  c.ws.pause();
  const chunk = Buffer.alloc(64 * 1024, 120);
  let delivered = 0;
  let status = 200;
  // Bounded: 4000 × 64 KB is far beyond the kernel's socket buffers plus the 256 KB queue.
  for (let i = 0; i < 4000 && status === 200; i++) {
    status = (await g.gateway.local({ op: 'post', connectionId: c.id, apiId: 'api1', data: chunk })).status;
    if (status === 200) delivered += 1;
  }
  t.equal(status, 410, 'a POST to the slow reader ends up 410');
  t.ok(delivered < 4000, `stopped after ${delivered} messages`);
  c.ws.resume();
  t.equal((await c.closed).code, 1008);
  t.ok(await eventually(async () => g.functions.disconnectOf(c.id) !== undefined, 5_000));
  t.match(g.functions.disconnectOf(c.id), { requestContext: { disconnectStatusCode: 1008 } });
});

t.test("a dead gateway's connections stop counting as alive after the TTL, and a live gateway runs their $disconnect", async (t) => {
  const ghost = new RedisConnectionRegistry(redis, keys, { gatewayId: 'ghost', ttlMs: 300, entryTtlMs: 60_000 });
  await ghost.heartbeat();
  const record = { apiId: 'api1', apiName: 'room', connectedAt: 1_700_000_000_000, domainName: 'ws.test', sourceIp: '10.1.2.3', userAgent: 'ua' };
  await ghost.register('Z2hvc3QxAAAAAAA=', record);
  await ghost.register('Z2hvc3QyAAAAAAA=', record);
  t.same(await ghost.lookup('Z2hvc3QxAAAAAAA='), { gatewayId: 'ghost', apiId: 'api1' }, 'alive while its heartbeat lives');
  // The ghost stops beating (it died). A live gateway notices within its heartbeat interval.
  const live = await startGateway(t, 'survivor');
  t.ok(await eventually(async () => (await live.registry.lookup('Z2hvc3QxAAAAAAA=')) === undefined, 2_000), 'no longer alive after the TTL');
  t.ok(await eventually(async () => live.functions.disconnects.length === 2, 5_000), 'both $disconnects ran');
  t.match(live.functions.disconnectOf('Z2hvc3QxAAAAAAA='), {
    requestContext: { eventType: 'DISCONNECT', disconnectStatusCode: 1006, connectedAt: record.connectedAt, domainName: 'ws.test', identity: { sourceIp: '10.1.2.3', userAgent: 'ua' } },
  });
  t.ok(await eventually(async () => !(await redis.smembers(keys.key('ws', 'gateways'))).includes('ghost'), 2_000), 'the ghost is forgotten');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(live.functions.disconnects.length, 2, 'exactly once');
});

t.test('a gateway whose heartbeat expired (a Redis outage) registers its connections again', async (t) => {
  const g = await startGateway(t, 'partitioned');
  const c = await connect(g.url, g.gateway);
  t.same(await g.registry.lookup(c.id), { gatewayId: 'partitioned', apiId: 'api1' });
  // What another gateway's cleanup leaves after it took this one for dead.
  await redis.del(keys.key('ws', 'gw', 'partitioned', 'alive'), keys.key('ws', 'conn', c.id), keys.key('ws', 'gw', 'partitioned', 'conns'));
  t.ok(await eventually(async () => (await g.registry.lookup(c.id))?.gatewayId === 'partitioned', 2_000), 'found again after the next heartbeat');
  t.equal(c.ws.readyState, WebSocket.OPEN);
  c.ws.close();
});

t.test('connections of a deleted API are closed with 1001', async (t) => {
  const g = await startGateway(t, 'deleting');
  const c = await connect(g.url, g.gateway);
  const before = live.table;
  t.teardown(() => void ((live as { table: typeof before }).table = before));
  (live as { table: typeof before }).table = compileRouteTable({ revision: 2, apis: [] });
  const closed = await c.closed;
  t.equal(closed.code, 1001);
  t.match(closed.reason, /API was deleted/);
});

t.test('shutdown closes every connection with 1001, runs its $disconnect and deregisters', async (t) => {
  const g = await startGateway(t, 'closing');
  const a = await connect(g.url, g.gateway);
  const b = await connect(g.url, g.gateway);
  t.same(await g.registry.lookup(a.id), { gatewayId: 'closing', apiId: 'api1' });
  await g.close();
  t.equal((await a.closed).code, 1001);
  t.equal((await b.closed).code, 1001);
  t.same(g.functions.disconnects.map((e) => e.requestContext.connectionId).sort(), [a.id, b.id].sort(), '$disconnects ran before close() resolved');
  t.equal(await g.registry.lookup(a.id), undefined);
  t.equal(await redis.exists(keys.key('ws', 'gw', 'closing', 'conns')), 0);
  t.notOk((await redis.smembers(keys.key('ws', 'gateways'))).includes('closing'));
});
