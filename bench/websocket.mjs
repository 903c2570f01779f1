/**
 * WebSocket bench (called from run.mjs, phase 1: the gateway is a process of its own).
 *
 *   W1. 10 000 idle connections on one gateway (a process of its own with phase 1's config):
 *       time to open them, and the gateway's memory per connection (RSS and JS heap, after minus
 *       before, each read after a full GC over the inspector), against a plain `ws` server holding
 *       as many (same Node, same ws, its own process, measured the same way);
 *   W2. message round trip through a function ($default route with a route response): p50/p99
 *       on one connection and on 8, against a plain `ws` echo server, and against the same
 *       function behind an HTTP route of the same gateway (keep-alive POST), interleaved in rounds.
 *
 * Every loop is bounded in count and time. The fd limit of this process and of both servers is
 * raised with prlimit when it is too low for the connection count (and the count is lowered, and
 * reported, when it cannot be). Sockets are closed in `finally`; the echo server is a child that
 * run.mjs's cleanup stops.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { HOST, childEnv, f, freePort, inspectorUrl, num, pad, r2, r3, sleep, spawnChild, stats, stopChild, waitReady, zipFor } from './lib.mjs';

const IDLE_CONNECTIONS = Math.min(num('BENCH_WS_CONNECTIONS', 10_000), 20_000);
const OPEN_CONCURRENCY = 200;
const OPEN_BUDGET_MS = 90_000;
const RTT_MESSAGES = Math.min(num('BENCH_WS_MESSAGES', 2_000), 10_000); // per target, round and client count
const RTT_MS = Math.min(num('BENCH_WS_MS', 5_000), 20_000);
const RTT_CLIENTS = 8;
const ROUNDS = 2;
const FD_HEADROOM = 2_000;

const ECHO_FN = "exports.handler = async (event) => ({ statusCode: 200, body: event.body });\n";

/** A plain ws echo server in its own process: the reference. */
const ECHO_SERVER = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => process.stdout.write('PORT=' + wss.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

/** `env`: the phase's gateway environment; `gwUrl`: its running gateway (for W2). */
export async function benchWebsocket({ admin, gwUrl, env, log }) {
  await admin('POST', '/v1/functions', { name: 'wsecho', runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 30_000, network: 'none', code: { zipBase64: zipFor(ECHO_FN) } });
  await admin('POST', '/v1/apis', { name: 'wsecho', protocol: 'websocket' });
  await admin('POST', '/v1/apis/wsecho/routes', { routeKey: '$default', function: 'wsecho', routeResponseSelectionExpression: '$default' });
  await admin('POST', '/v1/apis', { name: 'wsidle', protocol: 'websocket' });
  await admin('POST', '/v1/apis', { name: 'wshttp' });
  await admin('POST', '/v1/apis/wshttp/routes', { routeKey: 'POST /echo', function: 'wsecho' });
  const echo = await startEchoServer();
  const idlePort = await freePort();
  const idleGw = spawnChild('ws-gateway', ['--inspect=127.0.0.1:0', 'dist/gateway/main.js'], { ...env, GANTRY_GATEWAY_PORT: String(idlePort) });
  try {
    await waitReady(idleGw, `http://${HOST}:${idlePort}/readyz`);
    const wantFds = IDLE_CONNECTIONS + FD_HEADROOM;
    const fds = { self: await raiseFdLimit(process.pid, wantFds), gateway: await raiseFdLimit(idleGw.child.pid, wantFds), echo: await raiseFdLimit(echo.handle.child.pid, wantFds) };
    const count = Math.max(100, Math.min(IDLE_CONNECTIONS, ...Object.values(fds).map((n) => n - FD_HEADROOM)));
    if (count < IDLE_CONNECTIONS) log(`websocket: fd limit ${JSON.stringify(fds)} allows ${count} connections, not ${IDLE_CONNECTIONS}`);

    const gwWs = gwUrl.replace(/^http/, 'ws');
    await waitForApi(`ws://${HOST}:${idlePort}/wsidle`);
    await waitForApi(`${gwWs}/wsecho`);
    log(`websocket W1: ${count} idle connections on a gateway, then on a plain ws server`);
    const idleGateway = await idleConnections(`ws://${HOST}:${idlePort}/wsidle`, count, memoryReader(idleGw));
    const idleEcho = await idleConnections(echo.url, count, memoryReader(echo.handle));
    await stopChild(idleGw);

    log(`websocket W2: message round trip through a function vs a plain ws echo (1 and ${RTT_CLIENTS} connections, ${ROUNDS} rounds)`);
    const runners = {
      gateway: (clients, count, budget, samples, errs) => roundTrips(`${gwWs}/wsecho`, clients, count, budget, samples, errs),
      echo: (clients, count, budget, samples, errs) => roundTrips(echo.url, clients, count, budget, samples, errs),
      http: (clients, count, budget, samples, errs) => httpRoundTrips(gwUrl, clients, count, budget, samples, errs),
    };
    const acc = {};
    const errors = {};
    for (const name of Object.keys(runners)) for (const k of [`${name}1`, `${name}N`]) [acc[k], errors[k]] = [[], 0];
    // Warm-up: as many environments as the concurrent runs need are started here, not measured.
    for (const run of Object.values(runners)) await run(RTT_CLIENTS, 400, 20_000, [], { n: 0 });
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['gateway', 'http', 'echo'] : ['echo', 'http', 'gateway'];
      for (const name of order) {
        const e1 = { n: 0 };
        await runners[name](1, RTT_MESSAGES, RTT_MS, acc[`${name}1`], e1);
        errors[`${name}1`] += e1.n;
        const eN = { n: 0 };
        await runners[name](RTT_CLIENTS, RTT_MESSAGES, RTT_MS, acc[`${name}N`], eN);
        errors[`${name}N`] += eN.n;
      }
    }
    const rtt = Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, { ...stats(v), errors: errors[k] }]));
    return { connections: count, fdLimits: fds, idle: { gateway: idleGateway, plainWs: idleEcho }, rtt, rttClients: RTT_CLIENTS };
  } finally {
    await stopChild(idleGw);
    await stopChild(echo.handle);
  }
}

export function formatWebsocket(w, L) {
  if (!w) return;
  const g = w.idle.gateway;
  const p = w.idle.plainWs;
  L(`W. WebSocket (phase 1, gateway process): ${w.connections} idle connections, round trips through a function vs a plain ws echo`);
  L(`${pad('', 34)}${pad('opened in s', 13)}${pad('conn/s', 9)}${pad('RSS KB/conn', 13)}${pad('heap KB/conn', 14)}open p99 ms  failed`);
  const irow = (label, s) => L(`${pad(label, 34)}${pad(f(s.openMs / 1000, 1), 13)}${pad(f(s.opened / (s.openMs / 1000), 0), 9)}${pad(f(s.rssKbPerConnection, 2), 13)}${pad(f(s.heapKbPerConnection, 2), 14)}${pad(f(s.openP99Ms, 1), 12)}${s.failed}`);
  irow('gateway (registry in Redis)', g);
  irow('plain ws server', p);
  L(`  memory per connection, gateway / plain ws: RSS ${f(g.rssKbPerConnection / p.rssKbPerConnection, 2)}x, JS heap ${f(g.heapKbPerConnection / p.heapKbPerConnection, 2)}x (each read after a full GC)`);
  L(`${pad('', 34)}${pad('p50', 8)}${pad('p99', 8)}${pad('x p50', 8)}${pad('x p99', 8)}n/err`);
  const rrow = (label, s, base) => L(`${pad(label, 34)}${pad(f(s.p50), 8)}${pad(f(s.p99), 8)}${pad(f(s.p50 / base.p50, 1), 8)}${pad(f(s.p99 / base.p99, 1), 8)}${s.n}/${s.errors}`);
  rrow('plain ws echo, 1 conn', w.rtt.echo1, w.rtt.echo1);
  rrow('ws through a function, 1 conn', w.rtt.gateway1, w.rtt.echo1);
  rrow('HTTP POST, same function, 1 conn', w.rtt.http1, w.rtt.echo1);
  rrow(`plain ws echo, ${w.rttClients} conns`, w.rtt.echoN, w.rtt.echoN);
  rrow(`ws through a function, ${w.rttClients} conns`, w.rtt.gatewayN, w.rtt.echoN);
  rrow(`HTTP POST, same function, ${w.rttClients} conns`, w.rtt.httpN, w.rtt.echoN);
  L(`  ws through a function / HTTP route to it: p50 ${f(w.rtt.gateway1.p50 / w.rtt.http1.p50, 2)}x (1 conn), ${f(w.rtt.gatewayN.p50 / w.rtt.httpN.p50, 2)}x (${w.rttClients} conns)`);
  L();
}

export function websocketJson(w) {
  if (!w) return undefined;
  const c = (s) => ({ n: s.n, errors: s.errors, p50: r3(s.p50), p90: r3(s.p90), p99: r3(s.p99), mean: r3(s.mean), max: r3(s.max) });
  return { connections: w.connections, fdLimits: w.fdLimits, idle: w.idle, rttClients: w.rttClients, rtt: Object.fromEntries(Object.entries(w.rtt).map(([k, v]) => [k, c(v)])) };
}

async function startEchoServer() {
  const handle = spawnChild('ws-echo', ['--inspect=127.0.0.1:0', '-e', ECHO_SERVER], childEnv({}));
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('ws echo server did not start')), 10_000);
    handle.child.stdout.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      const m = /PORT=(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    handle.exited.then(() => reject(new Error(`ws echo server exited: ${handle.output()}`)));
  });
  return { handle, url: `ws://${HOST}:${port}` };
}

/** Raises RLIMIT_NOFILE of `pid` to `want` if lower (prlimit; needs the privilege); returns the limit now. */
async function raiseFdLimit(pid, want) {
  const current = await fdLimit(pid);
  if (current >= want) return current;
  await new Promise((resolve) => execFile('prlimit', ['--pid', String(pid), `--nofile=${want}:${want}`], () => resolve()));
  return fdLimit(pid);
}

async function fdLimit(pid) {
  const text = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => '');
  const m = /Max open files\s+(\d+|unlimited)/.exec(text);
  return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : 1024;
}

/** RSS and JS heap of a child started with --inspect, read after a full garbage collection. */
function memoryReader(h) {
  return async () => {
    const url = await inspectorUrl(h);
    await inspectorCall(url, 'HeapProfiler.collectGarbage');
    const r = await inspectorCall(url, 'Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const usage = JSON.parse(r.result.value);
    const status = await readFile(`/proc/${h.child.pid}/status`, 'utf8');
    return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN), heapBytes: usage.heapUsed };
  };
}

async function inspectorCall(url, method, params = {}) {
  const ws = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 30_000);
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString('utf8'));
        if (m.id !== 1) return;
        clearTimeout(timer);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result);
      });
      ws.send(JSON.stringify({ id: 1, method, params }));
    });
  } finally {
    ws.close();
  }
}

async function waitForApi(url) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await openOne(url).then((ws) => (ws.close(), true), () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} never accepted a connection`);
    await sleep(100);
  }
}

function openOne(url, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('open timed out'));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`handshake ${res.statusCode}`));
    });
  });
}

/** Opens `count` connections (OPEN_CONCURRENCY at a time, within OPEN_BUDGET_MS), measures, closes them. */
async function idleConnections(url, count, measure) {
  // Warm the server's code paths, so the "before" reading is not its cold start.
  const warm = await Promise.all(Array.from({ length: 50 }, () => openOne(url)));
  for (const ws of warm) ws.close();
  await sleep(1_000);
  const before = await measure();
  const sockets = [];
  const openMs = [];
  let failed = 0;
  const t0 = Date.now();
  try {
    let next = 0;
    const worker = async () => {
      while (next < count && Date.now() - t0 < OPEN_BUDGET_MS) {
        next += 1;
        const s = performance.now();
        try {
          sockets.push(await openOne(url));
          openMs.push(performance.now() - s);
        } catch {
          failed += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
    const totalMs = Date.now() - t0;
    await sleep(2_000);
    const after = await measure();
    const n = sockets.length;
    const open = stats(openMs);
    return {
      opened: n,
      failed,
      openMs: totalMs,
      openP50Ms: r2(open.p50),
      openP99Ms: r2(open.p99),
      rssKbBefore: before.rssKb,
      rssKbAfter: after.rssKb,
      rssKbPerConnection: r3((after.rssKb - before.rssKb) / n),
      heapKbPerConnection: r3((after.heapBytes - before.heapBytes) / 1024 / n),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await sleep(2_000);
  }
}

/** The same exchange as HTTP: POST the message to an HTTP route of the same function, keep-alive. */
async function httpRoundTrips(gwUrl, clients, count, budgetMs, samples, errors) {
  const pool = new Pool(gwUrl, { connections: clients, pipelining: 1 });
  const t0 = Date.now();
  let sent = 0;
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        while (sent < count && Date.now() - t0 < budgetMs) {
          sent += 1;
          const payload = `{"action":"echo","client":${i},"n":${sent}}`;
          const s = performance.now();
          const ok = await pool
            .request({ method: 'POST', path: '/wshttp/echo', body: payload, headersTimeout: 15_000, bodyTimeout: 15_000 })
            .then(async (res) => res.statusCode === 200 && (await res.body.text()) === payload, () => false);
          if (ok) samples.push(performance.now() - s);
          else errors.n += 1;
        }
      }),
    );
  } finally {
    await pool.close();
  }
}

/** `clients` connections, each sending a message and awaiting its echo, until `count` or `budgetMs`. */
async function roundTrips(url, clients, count, budgetMs, samples, errors) {
  const sockets = await Promise.all(Array.from({ length: clients }, () => openOne(url)));
  const t0 = Date.now();
  let sent = 0;
  try {
    await Promise.all(
      sockets.map(async (ws, i) => {
        while (sent < count && Date.now() - t0 < budgetMs) {
          sent += 1;
          const payload = `{"action":"echo","client":${i},"n":${sent}}`;
          const s = performance.now();
          const ok = await new Promise((resolve) => {
            const timer = setTimeout(() => resolve(false), 15_000);
            ws.once('message', (data) => {
              clearTimeout(timer);
              resolve(data.toString() === payload);
            });
            ws.send(payload);
          });
          if (ok) samples.push(performance.now() - s);
          else errors.n += 1;
          if (!ok && ws.readyState !== WebSocket.OPEN) return;
        }
      }),
    );
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}
