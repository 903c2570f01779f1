/**
 * RemoteUpstream against real HTTP servers this test starts on 127.0.0.1, standing in for control
 * planes: what goes on the wire (path, token, source header, the payload's exact bytes), what
 * comes back (bytes as sent, function error, invocation id), keep-alive reuse, the deadlines, the
 * status mapping, and which failures may go to another node (only those where nothing ran).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import t from 'tap';
import type { NodeRecord } from '../../../../common/cluster-nodes.js';
import { THROTTLE_REASONS } from '../../../../common/invoke-protocol.js';
import { RemoteUpstream, type NodeSource } from '../../../../gateway/upstream/remote-upstream.js';
import { UpstreamError } from '../../../../gateway/upstream/upstream.js';

const TOKEN = 'internal-token-for-the-upstream-test-0123456789';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

type Reply = (req: Seen, res: http.ServerResponse) => void;

interface Node {
  record: NodeRecord;
  readonly seen: Seen[];
  /** TCP connections accepted so far. */
  connections(): number;
  reply: Reply;
}

async function node(t: Tap, id: string, reply: Reply): Promise<Node> {
  const seen: Seen[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const n: Node = { record: { id, url: '', inFlight: 0, freeMemoryMb: 0 }, seen, connections: () => connections, reply };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      n.reply(s, res);
    });
  });
  server.on('connection', (s) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  n.record = { ...n.record, url: `http://127.0.0.1:${port}` };
  return n;
}

/** A URL on 127.0.0.1 where nothing listens (a port we held and let go). */
async function closedNode(id: string): Promise<NodeRecord> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return { id, url: `http://127.0.0.1:${port}`, inFlight: 0, freeMemoryMb: 0 };
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

function fixed(home: NodeRecord, ...fallbacks: NodeRecord[]): NodeSource & { homes: string[] } {
  const homes: string[] = [];
  return {
    homes,
    homeFor: (name) => (homes.push(name), home),
    fallbacksFor: (h) => (h.id === home.id ? fallbacks : []),
  };
}

function upstream(t: Tap, nodes: NodeSource): RemoteUpstream {
  const u = new RemoteUpstream(nodes, { internalToken: TOKEN, connections: 4 });
  t.teardown(() => u.close());
  return u;
}

const answer = (status: number, body: string | Buffer, headers: Record<string, string> = {}): Reply => (_req, res) => {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
};

async function upstreamError(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UpstreamError) return e;
    throw e;
  }
  throw new Error('expected an UpstreamError');
}

t.test('posts the payload bytes unchanged to the invoke endpoint with the internal token', async (t) => {
  const n = await node(t, 'n1', answer(200, '{"statusCode":201,  "body":"x"}', { 'x-gantry-invocation-id': 'inv-123' }));
  const u = upstream(t, fixed(n.record));
  // Odd spacing and key order: re-serialising would change these bytes.
  const payload = Buffer.from('{ "b":1,\n  "a" : "\u00e9\\u0041" }');
  const r = await u.invoke('my fn', payload, 5000);
  t.equal(n.seen.length, 1);
  const s = n.seen[0]!;
  t.equal(s.method, 'POST');
  t.equal(s.url, '/v1/functions/my%20fn/invoke');
  t.equal(s.headers.authorization, `Bearer ${TOKEN}`);
  t.equal(s.headers['content-type'], 'application/json');
  t.equal(s.headers['x-gantry-invocation-source'], undefined, 'routed HTTP is the default source and is not sent');
  t.ok(s.body.equals(payload), 'the body arrives byte for byte');
  t.strictSame(r, { functionError: false, payload: Buffer.from('{"statusCode":201,  "body":"x"}'), invocationId: 'inv-123' });
});

t.test('says when a WebSocket message brought the call', async (t) => {
  const n = await node(t, 'n1', answer(200, '{}'));
  const u = upstream(t, fixed(n.record));
  await u.invoke('f', Buffer.from('{}'), 5000, 'websocket');
  await u.invoke('f', Buffer.from('{}'), 5000, 'gateway');
  t.equal(n.seen[0]?.headers['x-gantry-invocation-source'], 'websocket');
  t.equal(n.seen[1]?.headers['x-gantry-invocation-source'], undefined);
});

t.test('returns a function error and non-JSON bytes as they came', async (t) => {
  const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x7b]);
  const n = await node(t, 'n1', answer(200, bytes, { 'x-gantry-function-error': 'Unhandled' }));
  const r = await upstream(t, fixed(n.record)).invoke('f', Buffer.from('{}'), 5000);
  t.equal(r.functionError, true);
  t.ok(r.payload.equals(bytes));
  t.equal(r.invocationId, undefined, 'no id header, no id');
});

t.test('reuses one keep-alive connection for calls in sequence', async (t) => {
  const n = await node(t, 'n1', answer(200, '{}'));
  const u = upstream(t, fixed(n.record));
  // undici may open a second connection while the first one's response is being finished; after
  // that, calls in sequence open none.
  for (let i = 0; i < 3; i++) await u.invoke('f', Buffer.from(`{"i":${i}}`), 5000);
  const warm = n.connections();
  t.ok(warm >= 1 && warm <= 2, `warm-up opened ${warm} connection(s)`);
  for (let i = 0; i < 20; i++) await u.invoke('f', Buffer.from(`{"i":${i}}`), 5000);
  t.equal(n.seen.length, 23);
  t.equal(n.connections(), warm, 'twenty more invocations, no new TCP connection');
  t.equal(n.seen.filter((s) => s.headers.connection === 'close').length, 0);
});

t.test('a control plane that does not answer in time is a timeout, headers or body', async (t) => {
  const stalled = await node(t, 'n1', () => undefined);
  const u = upstream(t, fixed(stalled.record));
  const started = Date.now();
  const e = await upstreamError(u.invoke('f', Buffer.from('{}'), 200));
  const took = Date.now() - started;
  t.equal(e.kind, 'timeout');
  t.equal(e.message, 'integration timed out');
  t.ok(took >= 150 && took < 3000, `gave up after about 200 ms (${took} ms)`);

  const halfway = await node(t, 'n2', (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('{"partial":');
  });
  const e2 = await upstreamError(upstream(t, fixed(halfway.record)).invoke('f', Buffer.from('{}'), 200));
  t.equal(e2.kind, 'timeout', 'a body that stops arriving times out too');
});

t.test('maps the control plane statuses to upstream error kinds, without trying elsewhere', async (t) => {
  const cases: [number, UpstreamError['kind']][] = [
    [404, 'not-found'],
    [429, 'throttled'],
    [500, 'failed'],
    [502, 'failed'],
    [503, 'unavailable'],
    [504, 'timeout'],
    [400, 'failed'],
  ];
  for (const [status, kind] of cases) {
    const home = await node(t, 'home', answer(status, '{"error":{"type":"X","message":"m"}}'));
    const other = await node(t, 'other', answer(200, '{}'));
    const e = await upstreamError(upstream(t, fixed(home.record, other.record)).invoke('f', Buffer.from('{}'), 5000));
    t.equal(e.kind, kind, `${status} → ${kind}`);
    t.equal(e.message, `control plane answered ${status}: {"error":{"type":"X","message":"m"}}`);
    t.equal(other.seen.length, 0, `${status}: the call may have run, so no other node is asked`);
  }
});

t.test('a function at its reserved concurrency is throttled; a full node sends the call elsewhere', async (t) => {
  const reserved = await node(t, 'home', answer(429, '{}', { 'x-gantry-throttle-reason': THROTTLE_REASONS.reservedConcurrency }));
  const spare = await node(t, 'spare', answer(200, '"ran on spare"'));
  const e = await upstreamError(upstream(t, fixed(reserved.record, spare.record)).invoke('f', Buffer.from('{}'), 5000));
  t.equal(e.kind, 'throttled');
  t.equal(spare.seen.length, 0, 'the limit is per function: another node would break it');

  const full = await node(t, 'full', answer(429, '{}', { 'x-gantry-throttle-reason': THROTTLE_REASONS.nodeFull }));
  const r = await upstream(t, fixed(full.record, spare.record)).invoke('f', Buffer.from('{"p":1}'), 5000);
  t.equal(r.payload.toString(), '"ran on spare"');
  t.equal(full.seen.length, 1);
  t.equal(spare.seen.length, 1);
  t.equal(spare.seen[0]?.body.toString(), '{"p":1}', 'the same bytes go to the next node');
});

t.test('a refused connection goes to the next node; at most three nodes are tried', async (t) => {
  const down = await closedNode('down');
  const up = await node(t, 'up', answer(200, '"ok"'));
  t.equal((await upstream(t, fixed(down, up.record)).invoke('f', Buffer.from('{}'), 5000)).payload.toString(), '"ok"');

  const fulls = await Promise.all(['a', 'b', 'c', 'd'].map((id) => node(t, id, answer(429, 'full', { 'x-gantry-throttle-reason': THROTTLE_REASONS.nodeFull }))));
  const [home, ...rest] = fulls as [Node, ...Node[]];
  const e = await upstreamError(upstream(t, fixed(home.record, ...rest.map((n) => n.record))).invoke('f', Buffer.from('{}'), 5000));
  t.equal(e.kind, 'throttled', 'the last refusal is what the caller gets');
  t.strictSame(fulls.map((n) => n.seen.length), [1, 1, 1, 0], 'home and two others, never a fourth');

  const allDown = await upstreamError(upstream(t, fixed(await closedNode('x'), await closedNode('y'))).invoke('f', Buffer.from('{}'), 5000));
  t.equal(allDown.kind, 'unavailable');
  t.equal(allDown.message, 'control plane unreachable');
});

t.test('a connection that breaks after the request went out is unavailable and never retried', async (t) => {
  const breaking = await node(t, 'home', (_req, res) => res.socket?.destroy());
  const spare = await node(t, 'spare', answer(200, '{}'));
  const e = await upstreamError(upstream(t, fixed(breaking.record, spare.record)).invoke('f', Buffer.from('{}'), 5000));
  t.equal(e.kind, 'unavailable');
  t.equal(breaking.seen.length, 1);
  t.equal(spare.seen.length, 0, 'it may have run: it must not run twice');
});

t.test('asks the node source for the function by name, once per call', async (t) => {
  const n = await node(t, 'n1', answer(200, '{}'));
  const source = fixed(n.record);
  const u = upstream(t, source);
  await u.invoke('alpha', Buffer.from('{}'), 5000);
  await u.invoke('beta', Buffer.from('{}'), 5000);
  t.strictSame(source.homes, ['alpha', 'beta']);
});
