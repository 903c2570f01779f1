#!/usr/bin/env node
/**
 * Gantry latency bench (`npm run bench`). Starts an isolated Gantry from dist/ as child processes
 * (own database, Redis prefix, data dir, node id, ports on 127.0.0.1), and measures, in one run:
 *
 *   1. warm latency p50/p99 of a trivial handler: plain Node http server (baseline), direct
 *      invoke on the control plane, routed through a separate gateway process, and routed
 *      through the one-process mode (`node dist/main.js`);
 *   2. cold start: first invocation of a freshly created function vs warm p50;
 *   3. concurrency: 4 clients, throughput and p99;
 *   4. per runtime (bench/runtimes.mjs): cold start and warm latency of an echo function.
 *
 * Only ratios and differences against a baseline measured in the same phase are reported: the
 * machine is shared and noisy, so absolute numbers are context, never a pass/fail criterion.
 * Scenarios of one phase are interleaved in rounds so drift hits them alike. Every loop is bounded
 * in count and in time. Everything started here is removed at the end, also on failure.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import Docker from 'dockerode';
import { benchRuntimes, formatRuntimes } from './runtimes.mjs';
import pg from 'pg';
import { Pool } from 'undici';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const num = (name, def) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : def;
};
/** Hard caps: every scenario stops at whichever comes first. */
const MAX_REQUESTS = 2000;
const MAX_SCENARIO_MS = 20_000;
const SEQ_REQUESTS = Math.min(num('BENCH_REQUESTS', 2000), MAX_REQUESTS); // per latency scenario
const CONC_REQUESTS = Math.min(num('BENCH_CONC_REQUESTS', 2000), MAX_REQUESTS); // per concurrency scenario
const CONC_CLIENTS = 4;
const COLD_SAMPLES = Math.min(num('BENCH_COLD_SAMPLES', 5), 20);
const ROUNDS = 4; // interleaving rounds per phase
const WARMUP = 100;
const RT_REQUESTS = Math.min(num('BENCH_RT_REQUESTS', 300), MAX_REQUESTS); // warm requests per runtime
const WATCHDOG_MS = num('BENCH_WATCHDOG_MS', 420_000); // whole run, then clean up and fail
const REQUEST_TIMEOUT_MS = 15_000;
const DB_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const HANDLER_SRC = "exports.handler = async (e) => ({statusCode: 200, body: 'ok'});\n";

// ---------------------------------------------------------------------------------------------
// Small helpers

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length); // nearest rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean };
}
const r2 = (x) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const r3 = (x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

/** A stored (uncompressed) zip, per the PKWARE APPNOTE layout; `mode` defaults to 0o100644. */
function makeZip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content, 'utf8');
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function withDatabase(base, name) {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set();

function childEnv(extra) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  // Nothing from the caller's Gantry configuration may leak into the isolated instance.
  for (const k of Object.keys(env)) if (k.startsWith('GANTRY_') || k === 'DATABASE_URL' || k === 'REDIS_URL' || k === 'DOCKER_HOST') delete env[k];
  return { ...env, ...extra };
}

function spawnChild(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    tail.push(chunk.toString('utf8'));
    while (tail.length > 50) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handle = { name, child, exited, output: () => tail.join('').slice(-4000) };
  children.add(handle);
  exited.then(() => children.delete(handle));
  return handle;
}

async function stopChild(h, graceMs = 20_000) {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  h.child.kill('SIGTERM');
  const done = await Promise.race([h.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    log(`${h.name} did not exit within ${graceMs} ms of SIGTERM; killing`);
    h.child.kill('SIGKILL');
    await Promise.race([h.exited, sleep(5_000)]);
  }
}

/** Polls `url` until 200, failing fast if the process died. */
async function waitReady(h, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (h.child.exitCode !== null) throw new Error(`${h.name} exited (${h.child.exitCode}) before ready:\n${h.output()}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${h.name} not ready at ${url} within ${timeoutMs} ms:\n${h.output()}`);
}

/** The baseline: the same handler logic behind a plain Node http server, in its own process. */
const BASELINE_SRC = `
const http = require('node:http');
const handler = async (e) => ({ statusCode: 200, body: 'ok' });
const srv = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const event = { rawPath: req.url, requestContext: { http: { method: req.method } }, body: raw === '' ? undefined : raw };
    const r = await handler(event);
    res.writeHead(r.statusCode, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(r.body) });
    res.end(r.body);
  });
});
srv.keepAliveTimeout = 5000;
srv.listen(0, '127.0.0.1', () => process.stdout.write('PORT=' + srv.address().port + '\\n'));
process.on('SIGTERM', () => { srv.close(() => process.exit(0)); srv.closeAllConnections(); });
`;

async function startBaseline() {
  const h = spawnChild('baseline', ['-e', BASELINE_SRC], childEnv({}));
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('baseline server did not start')), 10_000);
    h.child.stdout.on('data', (c) => {
      buf += c.toString('utf8');
      const m = /PORT=(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    h.exited.then(() => reject(new Error(`baseline exited: ${h.output()}`)));
  });
  return { handle: h, url: `http://${HOST}:${port}` };
}

// ---------------------------------------------------------------------------------------------
// Load generation: one undici keep-alive pool per target, the same client code for all targets.

function target(name, origin, { method = 'GET', path: p, headers = {}, body, check }) {
  const seq = new Pool(origin, { connections: 1, pipelining: 1, keepAliveTimeout: 30_000 });
  const conc = new Pool(origin, { connections: CONC_CLIENTS, pipelining: 1, keepAliveTimeout: 30_000 });
  const one = async (pool) => {
    const t0 = nowMs();
    const res = await pool.request({ method, path: p, headers, body, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    const text = await res.body.text();
    const ms = nowMs() - t0;
    if (res.statusCode !== 200 || !check(text, res.headers)) throw new Error(`${name}: ${res.statusCode} ${text.slice(0, 200)}`);
    return { ms, headers: res.headers };
  };
  return {
    name,
    once: () => one(seq),
    onceConcurrent: () => one(conc),
    close: async () => {
      await Promise.allSettled([seq.close(), conc.close()]);
    },
  };
}

/** Sequential requests until `count` or `budgetMs`; errors are counted, not timed. */
async function runSequential(t, count, budgetMs, acc) {
  const end = Date.now() + budgetMs;
  for (let i = 0; i < count && Date.now() < end; i++) {
    try {
      acc.samples.push((await t.once()).ms);
    } catch (e) {
      acc.errors += 1;
      acc.lastError = String(e.message ?? e);
      if (acc.errors > 20) throw new Error(`too many errors on ${t.name}: ${acc.lastError}`);
    }
  }
}

/** `clients` closed-loop clients sharing a request budget of `count` and a time budget. */
async function runConcurrent(t, clients, count, budgetMs, acc) {
  const end = Date.now() + budgetMs;
  let issued = 0;
  const t0 = nowMs();
  const worker = async () => {
    while (issued < count && Date.now() < end) {
      issued += 1;
      try {
        acc.samples.push((await t.onceConcurrent()).ms);
      } catch (e) {
        acc.errors += 1;
        acc.lastError = String(e.message ?? e);
        if (acc.errors > 20) throw new Error(`too many errors on ${t.name}: ${acc.lastError}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  acc.wallMs += nowMs() - t0;
}

/**
 * Runs each target's scenario in `ROUNDS` interleaved chunks (order rotated every round), so slow
 * drift of a shared machine affects all of them alike.
 */
async function interleaved(targets, total, runChunk) {
  const acc = Object.fromEntries(targets.map((t) => [t.name, { samples: [], errors: 0, wallMs: 0, spentMs: 0 }]));
  const chunk = Math.ceil(total / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const t of order) {
      const a = acc[t.name];
      const left = MAX_SCENARIO_MS - a.spentMs;
      if (left <= 0 || a.samples.length + a.errors >= total) continue;
      const s = Date.now();
      await runChunk(t, Math.min(chunk, total - a.samples.length - a.errors), left, a);
      a.spentMs += Date.now() - s;
    }
  }
  return acc;
}

async function warmup(t, n = WARMUP) {
  for (let i = 0; i < n; i++) await t.once();
}
async function warmupConcurrent(t, n = WARMUP) {
  let issued = 0;
  await Promise.all(
    Array.from({ length: CONC_CLIENTS }, async () => {
      while (issued < n) {
        issued += 1;
        await t.onceConcurrent();
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Gantry admin helpers

function adminClient(baseUrl, token) {
  return async (method, p, body) => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
    return text === '' ? undefined : JSON.parse(text);
  };
}

const zipFor = (src) => makeZip([{ name: 'index.js', content: src }]).toString('base64');

/** Mean in-container execution time from the control plane's histogram (sum/count delta). */
async function scrapeDuration(cpUrl) {
  const text = await fetch(`${cpUrl}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), () => '');
  const sum = Number(/^gantry_invocation_duration_seconds_sum(?:\{\})? ([0-9.e+-]+)$/m.exec(text)?.[1] ?? NaN);
  const count = Number(/^gantry_invocation_duration_seconds_count(?:\{\})? ([0-9.e+-]+)$/m.exec(text)?.[1] ?? NaN);
  return { sum, count };
}

// ---------------------------------------------------------------------------------------------
// Main

const id = randomBytes(4).toString('hex');
const nodeId = `bench-${id}`;
const dbName = `gantry_bench_${id}`;
const databaseUrl = withDatabase(DB_BASE, dbName);
const redisPrefix = `bench:${id}:`;
const token = `bench-admin-token-${randomBytes(16).toString('hex')}`;
const docker = new Docker();
let dataDir;
let cleaning;
const targets = [];

async function cleanup() {
  cleaning ??= (async () => {
    await Promise.allSettled(targets.map((t) => t.close()));
    await Promise.allSettled([...children].map((h) => stopChild(h)));
    try {
      const left = await docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });
      if (left.length > 0) log(`removing ${left.length} container(s) labelled gantry.node=${nodeId}`);
      await Promise.allSettled(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    } catch (e) {
      log(`container cleanup failed: ${e.message}`);
    }
    try {
      const admin = new pg.Client({ connectionString: withDatabase(DB_BASE, 'postgres'), connectionTimeoutMillis: 5_000 });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    } catch (e) {
      log(`dropping ${dbName} failed: ${e.message}`);
    }
    await cleanRedis().catch((e) => log(`redis cleanup failed: ${e.message}`));
    if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch((e) => log(`rm ${dataDir} failed: ${e.message}`));
  })();
  return cleaning;
}

/** Deletes any Redis key under this run's prefix (ioredis is a Gantry dependency). */
async function cleanRedis() {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2_000 });
  try {
    await redis.connect();
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0' && ++rounds < 10_000);
  } finally {
    redis.disconnect();
  }
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  log(`watchdog: run exceeded ${WATCHDOG_MS} ms; cleaning up`);
  cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

function summarize(acc) {
  const out = {};
  for (const [name, a] of Object.entries(acc)) {
    const s = stats(a.samples);
    out[name] = { ...s, errors: a.errors, ...(a.wallMs > 0 ? { rps: a.samples.length / (a.wallMs / 1000) } : {}) };
    if (a.lastError) out[name].lastError = a.lastError;
  }
  return out;
}

async function main() {
  const startedAt = new Date();
  const t0 = Date.now();
  dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-bench-'));
  const docker0 = await docker.ping().then(() => true, () => false);
  if (!docker0) throw new Error('the Docker engine is not reachable');
  await docker.getImage('gantry/nodejs20:latest').inspect().catch(() => {
    throw new Error('runtime image gantry/nodejs20:latest missing (npm run images)');
  });

  const baseEnv = {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    GANTRY_REDIS_PREFIX: redisPrefix,
    GANTRY_ADMIN_TOKEN: token,
    GANTRY_DATA_DIR: dataDir,
    GANTRY_NODE_ID: nodeId,
    GANTRY_BIND_HOST: HOST,
    GANTRY_LOG_LEVEL: 'warn',
    GANTRY_SHUTDOWN_GRACE_MS: '5000',
    GANTRY_ROUTE_RESYNC_INTERVAL_MS: '1000',
  };

  log(`node ${nodeId}, database ${dbName}, data ${dataDir}`);
  const baseline = await startBaseline();
  const tBase = target('baseline', baseline.url, { path: '/ok', check: (b) => b === 'ok' });
  targets.push(tBase);

  // ---- Phase 1: control plane and gateway as separate processes ------------------------------
  const cpPort = await freePort();
  const gwPort = await freePort();
  const cpUrl = `http://${HOST}:${cpPort}`;
  const gwUrl = `http://${HOST}:${gwPort}`;
  const env1 = childEnv({ ...baseEnv, GANTRY_CONTROL_PLANE_PORT: String(cpPort), GANTRY_GATEWAY_PORT: String(gwPort), GANTRY_CONTROL_PLANE_URL: cpUrl, GANTRY_PUBLIC_URL: gwUrl });
  let tStart = Date.now();
  const cp = spawnChild('control-plane', ['dist/control-plane/main.js'], env1);
  await waitReady(cp, `${cpUrl}/readyz`);
  const gw = spawnChild('gateway', ['dist/gateway/main.js'], env1);
  await waitReady(gw, `${gwUrl}/readyz`);
  const startupSplitMs = Date.now() - tStart;
  log(`control plane :${cpPort} and gateway :${gwPort} ready in ${startupSplitMs} ms`);

  const admin = adminClient(cpUrl, token);
  await admin('POST', '/v1/functions', { name: 'warm', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: zipFor(HANDLER_SRC) } });
  await admin('POST', '/v1/apis', { name: 'bench' });
  await admin('POST', '/v1/apis/bench/routes', { routeKey: 'GET /ok', function: 'warm' });

  const invokeOpts = {
    method: 'POST',
    path: '/v1/functions/warm/invoke',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
    check: (b) => JSON.parse(b).body === 'ok',
  };
  const routedOpts = { path: '/bench/ok', check: (b) => b === 'ok' };
  const tDirect = target('direct', cpUrl, invokeOpts);
  const tRouted = target('routed', gwUrl, routedOpts);
  targets.push(tDirect, tRouted);

  // First call of the warm function: a cold start through the direct invoke API.
  const firstCall = await tDirect.once();
  const firstCold = { ms: firstCall.ms, coldHeader: firstCall.headers['x-gantry-cold-start'], initMs: Number(firstCall.headers['x-gantry-init-duration-ms'] ?? NaN) };
  // The route reaches the gateway within a second (pub/sub); poll, bounded.
  const routeDeadline = Date.now() + 15_000;
  for (;;) {
    const ok = await tRouted.once().then(() => true, () => false);
    if (ok) break;
    if (Date.now() > routeDeadline) throw new Error(`route never reached the gateway:\n${gw.output()}`);
    await sleep(100);
  }
  for (const t of [tBase, tDirect, tRouted]) await warmup(t);

  log('phase 1: sequential latency (baseline, direct, routed via gateway process)');
  const m0 = await scrapeDuration(cpUrl);
  const seq1 = summarize(await interleaved([tBase, tDirect, tRouted], SEQ_REQUESTS, runSequential));
  const m1 = await scrapeDuration(cpUrl);
  const inContainerMeanMs = ((m1.sum - m0.sum) / (m1.count - m0.count)) * 1000;

  log(`phase 1: ${CONC_CLIENTS} concurrent clients`);
  for (const t of [tBase, tDirect, tRouted]) await warmupConcurrent(t);
  const conc1 = summarize(await interleaved([tBase, tDirect, tRouted], CONC_REQUESTS, (t, n, b, a) => runConcurrent(t, CONC_CLIENTS, n, b, a)));
  const envCount1 = (await docker.listContainers({ filters: { label: [`gantry.node=${nodeId}`, 'gantry.function=warm'] } }).catch(() => [])).length;

  log(`phase 1: ${COLD_SAMPLES} cold starts`);
  const cold = [];
  const coldEnd = Date.now() + 60_000;
  for (let i = 0; i < COLD_SAMPLES && Date.now() < coldEnd; i++) {
    const name = `cold-${i}`;
    const src = `// cold sample ${i} ${id}\n${HANDLER_SRC}`; // distinct code: nothing cached
    const c0 = nowMs();
    await admin('POST', '/v1/functions', { name, runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: zipFor(src) } });
    const createMs = nowMs() - c0;
    const t = target(name, cpUrl, { ...invokeOpts, path: `/v1/functions/${name}/invoke` });
    targets.push(t);
    const first = await t.once();
    const second = await t.once();
    cold.push({
      createMs,
      firstMs: first.ms,
      secondMs: second.ms,
      coldHeader: first.headers['x-gantry-cold-start'],
      initMs: Number(first.headers['x-gantry-init-duration-ms'] ?? NaN),
    });
  }

  log('runtimes: cold start and warm latency per runtime');
  const runtimeRows = await benchRuntimes({
    root: ROOT,
    admin,
    invokeTarget: (name, p) => {
      const t = target(name, cpUrl, { ...invokeOpts, path: p, body: '{"ok":1}', check: (b) => JSON.parse(b).ok === 1 });
      targets.push(t);
      return t;
    },
    imagePresent: (image) => docker.getImage(image).inspect().then(() => true, () => false),
    makeZip,
    interleaved,
    runSequential,
    log,
    coldSamples: COLD_SAMPLES,
    requests: RT_REQUESTS,
  });

  // Where the time goes: one single-row INSERT like the metering ledger's, committed per call,
  // and bare Docker create+start of the same image (what a cold start pays before the runtime).
  const pgProbe = await probeLedgerInsert();
  const dockerProbe = { bridge: await probeDocker('gantry-functions'), none: await probeDocker('none') };

  log('stopping phase 1 processes');
  const s0 = Date.now();
  await stopChild(gw);
  await stopChild(cp);
  const shutdownMs = Date.now() - s0;
  await tDirect.close();
  await tRouted.close();

  // ---- Phase 2: one process (`npm start`), gateway calls the invoker in-process --------------
  const cpPort2 = await freePort();
  const gwPort2 = await freePort();
  const cpUrl2 = `http://${HOST}:${cpPort2}`;
  const gwUrl2 = `http://${HOST}:${gwPort2}`;
  const env2 = childEnv({ ...baseEnv, GANTRY_CONTROL_PLANE_PORT: String(cpPort2), GANTRY_GATEWAY_PORT: String(gwPort2), GANTRY_PUBLIC_URL: gwUrl2 });
  tStart = Date.now();
  const one = spawnChild('one-process', ['dist/main.js'], env2);
  await waitReady(one, `${cpUrl2}/readyz`);
  await waitReady(one, `${gwUrl2}/readyz`);
  const startupOneMs = Date.now() - tStart;
  log(`one-process mode ready in ${startupOneMs} ms`);
  const tDirect1p = target('direct_1p', cpUrl2, invokeOpts);
  const tRouted1p = target('routed_1p', gwUrl2, routedOpts);
  targets.push(tDirect1p, tRouted1p);
  const routeDeadline2 = Date.now() + 15_000;
  for (;;) {
    const ok = await tRouted1p.once().then(() => true, () => false);
    if (ok) break;
    if (Date.now() > routeDeadline2) throw new Error(`one-process gateway never served the route:\n${one.output()}`);
    await sleep(100);
  }
  for (const t of [tBase, tDirect1p, tRouted1p]) await warmup(t);

  log('phase 2: sequential latency (baseline, direct, routed in-process)');
  const m2 = await scrapeDuration(cpUrl2);
  const seq2 = summarize(await interleaved([tBase, tDirect1p, tRouted1p], SEQ_REQUESTS, runSequential));
  const m3 = await scrapeDuration(cpUrl2);
  const inContainerMeanMs2 = ((m3.sum - m2.sum) / (m3.count - m2.count)) * 1000;
  log(`phase 2: ${CONC_CLIENTS} concurrent clients`);
  for (const t of [tBase, tDirect1p, tRouted1p]) await warmupConcurrent(t);
  const conc2 = summarize(await interleaved([tBase, tDirect1p, tRouted1p], CONC_REQUESTS, (t, n, b, a) => runConcurrent(t, CONC_CLIENTS, n, b, a)));
  await stopChild(one);
  await stopChild(baseline.handle);

  report({ startedAt, totalMs: Date.now() - t0, seq1, seq2, conc1, conc2, cold, firstCold, dockerProbe, inContainerMeanMs, inContainerMeanMs2, pgProbe, envCount1, startupSplitMs, startupOneMs, shutdownMs, runtimeRows });
}

/** create → start returned, then until `node -e 0` exits; the container is labelled for cleanup. */
async function probeDocker(network, samples = 3) {
  const startMs = [];
  const exitMs = [];
  const end = Date.now() + 15_000;
  for (let i = 0; i < samples && Date.now() < end; i++) {
    const t = nowMs();
    const c = await docker.createContainer({
      Image: 'gantry/nodejs20:latest',
      Entrypoint: ['/usr/local/bin/node', '-e', '0'],
      User: '993:993',
      Labels: { 'gantry.node': nodeId, 'gantry.bench-probe': 'true' },
      HostConfig: { NetworkMode: network, ReadonlyRootfs: true, Memory: 128 * 1024 * 1024 },
    });
    try {
      await c.start();
      startMs.push(nowMs() - t);
      await Promise.race([c.wait(), sleep(10_000)]);
      exitMs.push(nowMs() - t);
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
    }
  }
  return { start: stats(startMs), exit: stats(exitMs) };
}

async function probeLedgerInsert() {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query('CREATE TABLE bench_probe (LIKE invocations INCLUDING ALL)');
    const samples = [];
    const end = Date.now() + 5_000;
    for (let i = 0; i < 300 && Date.now() < end; i++) {
      const t = nowMs();
      await client.query(
        `INSERT INTO bench_probe (id, attempt, tenant_id, function_id, function_name, version_id, source, started_at, duration_us,
           init_duration_us, billed_ms, memory_mb, cold_start, status, error_type)
         VALUES (gen_random_uuid(), 1, 'default', gen_random_uuid(), 'warm', 1, 'direct', now(), 500, 0, 1, 128, 'none', 'succeeded', NULL)
         ON CONFLICT (id, attempt) DO NOTHING`,
      );
      samples.push(nowMs() - t);
    }
    const sel = [];
    for (let i = 0; i < 300 && Date.now() < end + 2_000; i++) {
      const t = nowMs();
      await client.query('SELECT 1');
      sel.push(nowMs() - t);
    }
    return { insert: stats(samples), select1: stats(sel) };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function report(r) {
  const b1 = r.seq1.baseline;
  const b2 = r.seq2.baseline;
  const row = (label, s, base) => ({
    label,
    p50: s.p50,
    p99: s.p99,
    addP50: s.p50 - base.p50,
    addP99: s.p99 - base.p99,
    xP50: s.p50 / base.p50,
    xP99: s.p99 / base.p99,
    n: s.n,
    errors: s.errors,
  });
  const latency = [
    row('(a) baseline: plain node http  [phase 1]', b1, b1),
    row('(b) direct invoke, control plane', r.seq1.direct, b1),
    row('(c) routed, gateway -> control plane', r.seq1.routed, b1),
    row('(a) baseline: plain node http  [phase 2]', b2, b2),
    row("(b') direct invoke, one-process", r.seq2.direct_1p, b2),
    row('(d) routed, one-process in-process', r.seq2.routed_1p, b2),
  ];
  const pad = (s, n) => String(s).padEnd(n);
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const lines = [];
  lines.push('');
  lines.push(`Gantry bench ${r.startedAt.toISOString()}  node ${process.version}  ${r.totalMs / 1000 | 0}s total`);
  lines.push('');
  lines.push('1. Warm latency, sequential, one keep-alive connection (ms; +ms and x vs the baseline of the same phase)');
  lines.push(`${pad('', 42)}${pad('p50', 8)}${pad('p99', 8)}${pad('+p50', 8)}${pad('+p99', 8)}${pad('x p50', 8)}${pad('x p99', 8)}n/err`);
  for (const l of latency) {
    lines.push(`${pad(l.label, 42)}${pad(f(l.p50), 8)}${pad(f(l.p99), 8)}${pad(f(l.addP50), 8)}${pad(f(l.addP99), 8)}${pad(f(l.xP50, 1), 8)}${pad(f(l.xP99, 1), 8)}${l.n}/${l.errors}`);
  }
  const gwHop = r.seq1.routed.p50 - r.seq1.direct.p50;
  const inProcHop = r.seq2.routed_1p.p50 - r.seq2.direct_1p.p50;
  lines.push(`  gateway hop (c - b) p50: +${f(gwHop)} ms; in-process gateway (d - b') p50: +${f(inProcHop)} ms; (d)/(c) p50: ${f(r.seq2.routed_1p.p50 / r.seq1.routed.p50)} (different phases)`);
  lines.push(`  inside the container (handler start to result, mean from /metrics): phase 1 ${f(r.inContainerMeanMs, 3)} ms, phase 2 ${f(r.inContainerMeanMs2, 3)} ms`);
  lines.push(`  Postgres probe: committed 1-row INSERT like the ledger p50 ${f(r.pgProbe.insert.p50)} / p99 ${f(r.pgProbe.insert.p99)} ms; SELECT 1 p50 ${f(r.pgProbe.select1.p50)} ms`);
  lines.push('');
  lines.push(`2. Cold start (direct invoke, first call after create; ${r.cold.length} functions)`);
  const coldFirst = stats(r.cold.map((c) => c.firstMs));
  const coldInit = stats(r.cold.map((c) => c.initMs));
  const createS = stats(r.cold.map((c) => c.createMs));
  const second = stats(r.cold.map((c) => c.secondMs));
  const warmP50 = r.seq1.direct.p50;
  lines.push(`  first call p50 ${f(coldFirst.p50, 0)} ms (min ${f(coldFirst.min, 0)}, max ${f(coldFirst.max, 0)}) = ${f(coldFirst.p50 / warmP50, 0)}x warm direct p50; X-Gantry-Init-Duration-Ms p50 ${f(coldInit.p50, 0)} ms`);
  lines.push(`  second call p50 ${f(second.p50)} ms (${f(second.p50 / warmP50, 1)}x warm p50); create (POST /v1/functions) p50 ${f(createS.p50, 0)} ms`);
  const dp = r.dockerProbe;
  lines.push(`  bare docker create+start of the same image: bridge p50 ${f(dp.bridge.start.p50, 0)} ms, network none p50 ${f(dp.none.start.p50, 0)} ms (until 'node -e 0' exits: ${f(dp.bridge.exit.p50, 0)} / ${f(dp.none.exit.p50, 0)} ms)`);
  lines.push(`  cold headers: ${r.cold.map((c) => c.coldHeader).join(',')}; first-ever call of 'warm': ${f(r.firstCold.ms, 0)} ms (cold=${r.firstCold.coldHeader})`);
  lines.push('');
  lines.push(`3. Concurrency: ${CONC_CLIENTS} closed-loop clients (req/s, p99 ms; x vs the baseline of the same phase)`);
  lines.push(`${pad('', 42)}${pad('req/s', 9)}${pad('p50', 8)}${pad('p99', 8)}${pad('x rps', 8)}${pad('x p99', 8)}n/err`);
  const crow = (label, s, base) => lines.push(`${pad(label, 42)}${pad(f(s.rps, 0), 9)}${pad(f(s.p50), 8)}${pad(f(s.p99), 8)}${pad(f(s.rps / base.rps), 8)}${pad(f(s.p99 / base.p99, 1), 8)}${s.n}/${s.errors}`);
  crow('(a) baseline [phase 1]', r.conc1.baseline, r.conc1.baseline);
  crow('(b) direct invoke', r.conc1.direct, r.conc1.baseline);
  crow('(c) routed via gateway process', r.conc1.routed, r.conc1.baseline);
  crow('(a) baseline [phase 2]', r.conc2.baseline, r.conc2.baseline);
  crow("(b') direct invoke, one-process", r.conc2.direct_1p, r.conc2.baseline);
  crow('(d) routed, one-process', r.conc2.routed_1p, r.conc2.baseline);
  lines.push(`  warm containers of the function after the concurrent phase: ${r.envCount1}`);
  lines.push(`  startup to ready: split ${r.startupSplitMs} ms, one-process ${r.startupOneMs} ms; SIGTERM to exit (gateway + control plane): ${r.shutdownMs} ms`);
  lines.push('');
  const runtimes = formatRuntimes(r.runtimeRows, stats);
  lines.push(...runtimes.lines, '');
  process.stdout.write(lines.join('\n') + '\n');

  const compact = (s) => ({ n: s.n, errors: s.errors, p50: r3(s.p50), p90: r3(s.p90), p99: r3(s.p99), mean: r3(s.mean), max: r3(s.max), ...(s.rps ? { rps: r2(s.rps) } : {}) });
  const json = {
    bench: 'gantry',
    date: r.startedAt.toISOString(),
    node: process.version,
    totalS: r2(r.totalMs / 1000),
    config: { seqRequests: SEQ_REQUESTS, concRequests: CONC_REQUESTS, clients: CONC_CLIENTS, rounds: ROUNDS, coldSamples: COLD_SAMPLES, runtimeRequests: RT_REQUESTS },
    latency: Object.fromEntries(
      [['baseline_p1', b1], ['direct', r.seq1.direct], ['routed', r.seq1.routed], ['baseline_p2', b2], ['direct_1p', r.seq2.direct_1p], ['routed_1p', r.seq2.routed_1p]].map(([k, v]) => [k, compact(v)]),
    ),
    added: Object.fromEntries(latency.slice(1).filter((l) => !l.label.startsWith('(a)')).map((l, i) => [['direct', 'routed', 'direct_1p', 'routed_1p'][i], { p50: r3(l.addP50), p99: r3(l.addP99), xP50: r2(l.xP50), xP99: r2(l.xP99) }])),
    gatewayHopP50: r3(gwHop),
    inProcessGatewayP50: r3(inProcHop),
    inContainerMeanMs: { phase1: r3(r.inContainerMeanMs), phase2: r3(r.inContainerMeanMs2) },
    pgInsert: compact(r.pgProbe.insert),
    pgSelect1: compact(r.pgProbe.select1),
    cold: {
      samples: r.cold.map((c) => ({ createMs: r2(c.createMs), firstMs: r2(c.firstMs), secondMs: r2(c.secondMs), initMs: r2(c.initMs), cold: c.coldHeader })),
      firstP50: r2(coldFirst.p50),
      initP50: r2(coldInit.p50),
      xWarmP50: r2(coldFirst.p50 / warmP50),
      dockerCreateStartP50: { bridge: r2(r.dockerProbe.bridge.start.p50), none: r2(r.dockerProbe.none.start.p50) },
      dockerUntilExitP50: { bridge: r2(r.dockerProbe.bridge.exit.p50), none: r2(r.dockerProbe.none.exit.p50) },
    },
    concurrency: Object.fromEntries(
      [['baseline_p1', r.conc1.baseline], ['direct', r.conc1.direct], ['routed', r.conc1.routed], ['baseline_p2', r.conc2.baseline], ['direct_1p', r.conc2.direct_1p], ['routed_1p', r.conc2.routed_1p]].map(([k, v]) => [k, compact(v)]),
    ),
    concurrencyRatios: {
      direct: { xRps: r2(r.conc1.direct.rps / r.conc1.baseline.rps), xP99: r2(r.conc1.direct.p99 / r.conc1.baseline.p99) },
      routed: { xRps: r2(r.conc1.routed.rps / r.conc1.baseline.rps), xP99: r2(r.conc1.routed.p99 / r.conc1.baseline.p99) },
      direct_1p: { xRps: r2(r.conc2.direct_1p.rps / r.conc2.baseline.rps), xP99: r2(r.conc2.direct_1p.p99 / r.conc2.baseline.p99) },
      routed_1p: { xRps: r2(r.conc2.routed_1p.rps / r.conc2.baseline.rps), xP99: r2(r.conc2.routed_1p.p99 / r.conc2.baseline.p99) },
    },
    runtimes: runtimes.json,
    warmContainers: r.envCount1,
    startupMs: { split: r.startupSplitMs, oneProcess: r.startupOneMs },
    shutdownMs: r.shutdownMs,
  };
  process.stdout.write(JSON.stringify(json) + '\n');
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  exitCode = 1;
  if (!interrupted) {
    log(`FAILED: ${e?.stack ?? e}`);
    for (const h of children) log(`--- ${h.name} output (tail) ---\n${h.output()}`);
  }
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(exitCode);
