// The bounds as a runtime sees them on a real unix socket: connections past the cap are closed
// unread, idle requests past their rate get 429, the poll and the answer are never counted, the
// fd budget refuses extras but not an environment's own connection, and a body flood is slowed.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { FdBudget, FDS_PER_ENVIRONMENT } from '../../../../control-plane/runtime-api/fd-budget.js';
import { DEFAULT_RUNTIME_API_LIMITS, RuntimeApiBounds, type RuntimeApiLimits } from '../../../../control-plane/runtime-api/runtime-api-bounds.js';
import { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import { ManualClock } from '../../../support/manual-clock.js';

const ID = '8d0c5a7e-2b1f-4c1e-9a51-6a3f0e2d7c11';
const event = (requestId = ID) => ({ requestId, payload: Buffer.from('{}'), invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' });

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function call(socketPath: string, method: string, p: string, body?: string | Buffer, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function open(t: Test, limits: Partial<RuntimeApiLimits> = {}, budget?: FdBudget, nowMs?: () => number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-rb-'));
  const socketPath = path.join(dir, 'runtime.sock');
  const bounds = new RuntimeApiBounds({ ...DEFAULT_RUNTIME_API_LIMITS, ...limits }, budget, nowMs);
  const channel = new RuntimeChannel(socketPath, { bounds });
  await channel.listen();
  const raws: net.Socket[] = [];
  t.teardown(async () => {
    for (const s of raws) s.destroy();
    await channel.close();
    await rm(dir, { recursive: true, force: true });
  });
  /** A raw connection; resolves once connected, with a promise of how it ended. */
  const connect = () =>
    new Promise<{ socket: net.Socket; ended: Promise<{ bytes: number }> }>((resolve, reject) => {
      const socket = net.connect(socketPath);
      raws.push(socket);
      let bytes = 0;
      const ended = new Promise<{ bytes: number }>((done) => socket.on('close', () => done({ bytes })));
      socket.on('data', (d: Buffer) => (bytes += d.length));
      socket.on('error', () => undefined);
      socket.once('connect', () => resolve({ socket, ended }));
      socket.once('error', reject);
    });
  return { channel, bounds, socketPath, connect, api: (m: string, p: string, body?: string | Buffer) => call(socketPath, m, `/2018-06-01/runtime${p}`, body) };
}

/** Polls `cond` every 5 ms for at most `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; ) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}

/** Resolves true when `p` settles within `ms`. */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

t.test('connections past the cap are closed at once, unanswered; one closing makes room', async (t) => {
  const c = await open(t, { maxConnections: 2 });
  const held = [await c.connect(), await c.connect()];
  const refused = [];
  for (let i = 0; i < 20; i++) refused.push(await c.connect());
  for (const r of refused) {
    r.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    t.ok(await within(r.ended, 2000), 'closed');
    t.equal((await r.ended).bytes, 0, 'without an answer');
  }
  t.equal(c.bounds.refusals.connectionCap, 20);
  t.equal(c.bounds.openConnections(), 2);
  held[0]?.socket.destroy();
  t.ok(await until(() => c.bounds.openConnections() === 1), 'the server saw it close');
  const ping = await call(c.socketPath, 'GET', '/ping');
  t.ok(ping.status > 0, 'a new connection is served once one closed');
});

t.test('a flood of idle requests gets 429 and closed connections; the poll and its answer still pass', async (t) => {
  // A stopped clock: the count does not depend on how fast this machine runs the loop.
  const c = await open(t, { requestsPerSecond: 5 }, undefined, new ManualClock().now);
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const a = await call(c.socketPath, 'GET', '/ping');
    statuses.push(a.status);
    if (a.status === 429) {
      t.equal(a.headers.connection, 'close', 'the 429 closes its connection');
      t.equal(JSON.parse(a.body).errorType, 'TooManyRequestsException');
    }
  }
  t.equal(statuses.filter((s) => s === 200).length, 10, 'the burst: two seconds of the rate');
  t.equal(statuses.filter((s) => s === 429).length, 30);
  // The rate is spent, yet a runtime can still take work and answer it.
  for (let i = 0; i < 10; i++) {
    const requestId = `${ID.slice(0, -2)}${String(i).padStart(2, '0')}`;
    const next = c.api('GET', '/invocation/next');
    const reply = c.channel.dispatch(event(requestId), 5000, 2000);
    t.equal((await next).status, 200);
    t.equal((await c.api('POST', `/invocation/${requestId}/response`, '"ok"')).status, 202);
    t.equal((await reply).kind, 'response');
    c.channel.finishInvocation();
  }
  t.equal(c.bounds.refusals.requestRate, 30);
});

t.test('a second post for an answered invocation is idle, and counted', async (t) => {
  const c = await open(t, { requestsPerSecond: 1 }, undefined, new ManualClock().now);
  const next = c.api('GET', '/invocation/next');
  const reply = c.channel.dispatch(event(), 5000, 2000);
  await next;
  t.equal((await c.api('POST', `/invocation/${ID}/response`, '"a"')).status, 202);
  await reply;
  const again = [];
  for (let i = 0; i < 4; i++) again.push((await c.api('POST', `/invocation/${ID}/response`, '"b"')).status);
  t.strictSame(again, [403, 403, 429, 429]);
});

t.test('an idle request with a body gets its answer and a closed connection, not a drained body', async (t) => {
  const c = await open(t);
  const { socket, ended } = await c.connect();
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n');
  // The body never ends: the server must answer and close anyway.
  t.ok(await within(ended, 3000), 'closed while the body was still open');
  t.match(text, /^HTTP\/1\.1 404/);
  t.match(text, /connection: close/i);
});

t.test("the fd budget refuses an environment's extra connections but never its first", async (t) => {
  const budget = new FdBudget(FDS_PER_ENVIRONMENT + 1, 0);
  const c = await open(t, {}, budget);
  const first = await c.connect();
  const extra = await c.connect();
  t.ok(await within(extra.ended, 2000), 'the extra connection is closed');
  t.equal(c.bounds.refusals.fdBudget, 1);
  first.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
  let text = '';
  await new Promise<void>((resolve) => first.socket.on('data', (d: Buffer) => ((text += d.toString()), text.includes('"OK"') && resolve())));
  t.match(text, /^HTTP\/1\.1 200/, 'the first connection is served');
  first.socket.destroy();
  t.ok(await until(() => c.bounds.openConnections() === 0), 'the server saw it close');
  t.equal((await call(c.socketPath, 'GET', '/ping')).status > 0, true);
  t.equal(budget.stats().inUse, FDS_PER_ENVIRONMENT + 1, 'all given back but the reservation');
});

t.test('a response body past the byte burst is read at the byte rate', async (t) => {
  const c = await open(t, { bytesPerSecond: 1024 * 1024, byteBurst: 256 * 1024 });
  const next = c.api('GET', '/invocation/next');
  const reply = c.channel.dispatch(event(), 30_000, 2000);
  await next;
  const started = performance.now();
  const body = Buffer.alloc(1024 * 1024 + 256 * 1024, 0x61);
  t.equal((await c.api('POST', `/invocation/${ID}/response`, body)).status, 202);
  const ms = performance.now() - started;
  const r = await reply;
  t.equal(r.kind, 'response');
  t.equal(r.kind === 'response' ? r.body.length : 0, body.length, 'every byte arrives');
  t.ok(ms >= 900, `1 MiB past the burst at 1 MiB/s takes about a second (${Math.round(ms)} ms)`);
  t.ok(c.bounds.refusals.bytePauses > 0);
});

t.test('a chunked error body past its limit, sent slower than it is read, ends as too large', async (t) => {
  const c = await open(t, { bytesPerSecond: 8 * 1024 * 1024, byteBurst: 1024 * 1024 });
  const next = c.api('GET', '/invocation/next');
  const reply = c.channel.dispatch(event(), 30_000, 2000);
  await next;
  const { socket } = await c.connect();
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  socket.write(`POST /2018-06-01/runtime/invocation/${ID}/error HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
  for (let i = 0; i < 4; i++) {
    socket.write(`${chunk.length.toString(16)}\r\n`);
    socket.write(chunk);
    socket.write('\r\n');
  }
  socket.write('0\r\n\r\n');
  const r = await reply;
  t.equal(r.kind, 'too-large');
  t.ok(c.bounds.refusals.bytePauses > 0);
});
