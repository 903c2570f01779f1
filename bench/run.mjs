#!/usr/bin/env node
/**
 * Gantry bench (`npm run bench`). Starts an isolated Gantry from dist/ as child processes (own
 * database, Redis prefix, data dir, node id, ports on 127.0.0.1), plus two references: a plain
 * Node http server (the baseline, a host process) and the floor (the same handler in the same
 * runtime image, plain HTTP on a unix socket, reached directly). In one run it measures:
 *
 *   Phase 1, control plane and gateway as separate processes, stem cells off:
 *     1. warm latency on one connection: baseline, floor, direct invoke, routed via the gateway;
 *     3. 4 closed-loop clients, same targets;
 *     B. first calls of new functions (new containers), interleaved with raw create+start of the
 *        runtime image through the Engine API;
 *     C. 0 -> 20 concurrent environments (20 calls of a 1 s handler) without stem cells;
 *     4. gateway overhead per guard: no auth, API key + usage plan, JWT, cached Lambda authorizer;
 *     5. per runtime: first call on a new container and warm latency.
 *   Phase 2, one process (`npm start`), stem cells on (2 per runtime):
 *     1, 3. as in phase 1, in-process gateway;
 *     A. 50 closed-loop clients: floor, routed, direct (after scaling out to 50 environments);
 *        then, outside every measurement, CPU profiles of the process (inspector protocol) while
 *        the gateway serves 50 and 1 connections;
 *     B. first calls served by a stem cell;
 *     C. 0 -> 20 again, with stem cells;
 *     5. per runtime: first call on a stem cell.
 *
 * Then a profile (CPU per request by process, the gateway and in-container histograms, the
 * ledger-like INSERT, the CPU profile of the Gantry process) and the issue's targets, PASS/MISS.
 * Only ratios and differences within this run are meaningful: the machine is shared and noisy.
 * Every loop is bounded in count and in time; the whole run has a watchdog. Everything started
 * here is removed at the end, also on failure or Ctrl-C. Results: stdout table, one JSON line,
 * and bench/results/latest.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { Pool } from 'undici';
import {
  HOST,
  REQUEST_TIMEOUT_MS,
  ROOT,
  adminClient,
  children,
  childEnv,
  cpuMeter,
  f,
  freePort,
  inspectorUrl,
  interleaved,
  log,
  makeZip,
  metricSum,
  nowMs,
  num,
  pad,
  profileWhile,
  r2,
  r3,
  runConcurrent,
  runSequential,
  scrapeMetrics,
  sleep,
  spawnChild,
  stats,
  stopChild,
  summarize,
  target,
  waitReady,
  warmup,
  warmupConcurrent,
  withDatabase,
  zipFor,
} from './lib.mjs';
import { benchAsync } from './async.mjs';
import { authReport, setupAuthScenarios } from './auth-scenarios.mjs';
import { benchRuntimes, benchStemCells, formatRuntimes } from './runtimes.mjs';
import {
  BURST_HANDLER_SRC,
  IMAGE,
  burst,
  evaluateTargets,
  firstCallSample,
  formatTargets,
  probeCreateStart,
  scaleOut,
  startFloor,
  summarizeCpuProfile,
  waitForStemCells,
} from './scheduler.mjs';
import { formatMetering, meteringBench } from './metering.mjs';
import { benchWebsocket, formatWebsocket, websocketJson } from './websocket.mjs';

/** Hard caps: every scenario stops at whichever comes first. */
const MAX_REQUESTS = 2000;
const SCENARIO_MS = Math.min(num('BENCH_SCENARIO_MS', 6_000), 20_000); // per target and scenario
const SEQ_REQUESTS = Math.min(num('BENCH_REQUESTS', 2000), MAX_REQUESTS); // per latency scenario
const CONC_REQUESTS = Math.min(num('BENCH_CONC_REQUESTS', 2000), MAX_REQUESTS); // per concurrency scenario
const CONC_CLIENTS = 4;
const C50_CLIENTS = 50;
const C50_REQUESTS = Math.min(num('BENCH_C50_REQUESTS', 30_000), 100_000);
const C50_MS = Math.min(num('BENCH_C50_MS', 6_000), 20_000);
const COLD_SAMPLES = Math.min(num('BENCH_COLD_SAMPLES', 8), 20);
const RUNTIME_COLD_SAMPLES = Math.min(num('BENCH_RUNTIME_COLD_SAMPLES', 5), 20);
const RUNTIME_REQUESTS = Math.min(num('BENCH_RUNTIME_REQUESTS', 500), MAX_REQUESTS);
const STEM_SAMPLES = Math.min(num('BENCH_STEM_SAMPLES', 8), 20);
const BURST_N = 20;
const STEM_CELLS = 2;
const NODE_MEMORY_MB = 16_384; // 128 environments of 128 MB: the budget never throttles the bench
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE !== '0';
const PROFILE_MS = 3_000;
const PROFILE_INTERVAL_US = 500;
const ROUNDS = 4; // interleaving rounds per phase
const WARMUP = 100;
const WATCHDOG_MS = num('BENCH_WATCHDOG_MS', 1_320_000); // whole run (metering's 10M entries take ~3 min, the async burst ~1 min), then clean up and fail
const DB_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RESULTS_FILE = path.join(ROOT, 'bench', 'results', 'latest.json');
/** `npm run bench:runtimes`: only section 5 (per runtime), written to its own results file. */
const RUNTIMES_ONLY = process.env.BENCH_ONLY === 'runtimes';
const RUNTIMES_FILE = path.join(ROOT, 'bench', 'results', 'runtimes.json');

const HANDLER_SRC = "exports.handler = async (e) => ({statusCode: 200, body: 'ok'});\n";

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
// Run state and cleanup

const id = randomBytes(4).toString('hex');
const nodeId = `bench-${id}`;
const dbName = `gantry_bench_${id}`;
const databaseUrl = withDatabase(DB_BASE, dbName);
const redisPrefix = `bench:${id}:`;
const token = `bench-admin-token-${randomBytes(16).toString('hex')}`;
// Every Engine API call has a deadline (a wedged engine must not hang the bench); cleanup has its own.
const docker = new Docker({ timeout: 60_000 });
const dockerCleanup = new Docker({ timeout: 20_000 });
/** How long cleanup may take in all before the process exits anyway (leftovers are logged). */
const CLEANUP_DEADLINE_MS = 90_000;
let dataDir;
let cleaning;
const targets = [];
const pools = [];

async function cleanup() {
  cleaning ??= (async () => {
    await Promise.allSettled([...targets.map((t) => t.close()), ...pools.map((p) => p.close())]);
    await Promise.allSettled([...children].map((h) => stopChild(h)));
    await sweepContainers();
    try {
      const admin = new pg.Client({ connectionString: withDatabase(DB_BASE, 'postgres'), connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
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
    // Interrupted mid-step, the main flow may have created a container (a probe) after the first sweep.
    await sweepContainers();
  })();
  return cleaning;
}

/** Removes every container labelled with this run's node id (Gantry's, the floor, the probes). */
async function sweepContainers() {
  try {
    const left = await dockerCleanup.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });
    if (left.length > 0) log(`removing ${left.length} container(s) labelled gantry.node=${nodeId}`);
    const results = await Promise.allSettled(left.map((c) => dockerCleanup.getContainer(c.Id).remove({ force: true })));
    const failed = results.filter((r) => r.status === 'rejected' && r.reason?.statusCode !== 404);
    if (failed.length > 0) log(`could not remove ${failed.length} container(s) labelled gantry.node=${nodeId}: ${failed[0].reason?.message ?? failed[0].reason}`);
  } catch (e) {
    log(`container cleanup failed (containers labelled gantry.node=${nodeId} may be left): ${e.message}`);
  }
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
    setTimeout(() => process.exit(130), CLEANUP_DEADLINE_MS).unref();
    cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  log(`watchdog: run exceeded ${WATCHDOG_MS} ms; cleaning up`);
  setTimeout(() => {
    log(`cleanup did not finish within ${CLEANUP_DEADLINE_MS} ms; exiting (containers labelled gantry.node=${nodeId}, database ${dbName} may be left)`);
    process.exit(1);
  }, CLEANUP_DEADLINE_MS).unref();
  cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// Helpers bound to this run

/**
 * Full ids of this node's running runtime containers (for CPU accounting through their cgroups).
 * By the managed label, not the function's: a specialised stem cell keeps its stem-cell labels.
 * Idle ones (stem cells, other functions) cost next to nothing; `idleRates` measures that.
 */
async function runtimeContainers() {
  const list = await docker.listContainers({ filters: { label: [`gantry.node=${nodeId}`, 'gantry.managed=true'] } }).catch(() => []);
  return list.map((c) => c.Id);
}

/** CPU each metered source burns per second while no request is in flight (ns/s). */
async function idleRates(meter, ms = 2_000) {
  const a = await meter.snapshot('before');
  const t = nowMs();
  await sleep(ms);
  const b = await meter.snapshot('after');
  const secs = (nowMs() - t) / 1000;
  const out = {};
  for (const k of ['gantry', 'controlPlane', 'gateway', 'runtimes', 'floorContainer', 'baseline', 'client']) {
    if (Number.isFinite(a[k]) && Number.isFinite(b[k])) out[k] = (b[k] - a[k]) / secs;
  }
  return out;
}

async function liveEnvironments(cpUrl) {
  const m = await scrapeMetrics(cpUrl);
  return (metricSum(m, 'gantry_environments', { state: 'idle' }) || 0) + (metricSum(m, 'gantry_environments', { state: 'busy' }) || 0);
}

/** Direct invoke on one keep-alive connection, for first-call samples. */
function directInvoker(cpUrl) {
  const pool = new Pool(cpUrl, { connections: 1, pipelining: 1 });
  pools.push(pool);
  return async (name) => {
    const t0 = nowMs();
    const res = await pool.request({
      method: 'POST',
      path: `/v1/functions/${name}/invoke`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    const text = await res.body.text();
    const ms = nowMs() - t0;
    if (res.statusCode !== 200 || JSON.parse(text).body !== 'ok') throw new Error(`invoke ${name}: ${res.statusCode} ${text.slice(0, 200)}`);
    return { ms, headers: res.headers };
  };
}

/** Scrapes of the two histograms that split a routed request (a meter `fn` source). */
function histogramSource(cpUrl, gwUrl) {
  return {
    fn: async () => {
      const [cp, gw] = await Promise.all([scrapeMetrics(cpUrl), scrapeMetrics(gwUrl)]);
      return {
        invSum: metricSum(cp, 'gantry_invocation_duration_seconds_sum'),
        invCount: metricSum(cp, 'gantry_invocation_duration_seconds_count'),
        gwSum: metricSum(gw, 'gantry_gateway_request_duration_seconds_sum'),
        gwCount: metricSum(gw, 'gantry_gateway_request_duration_seconds_count'),
      };
    },
  };
}

async function waitForRoute(t, h) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await t.once().then(() => true, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`route never reached the gateway:\n${h.output()}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const startedAt = new Date();
  const t0 = Date.now();
  const loadStart = loadavg()[0];
  dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-bench-'));
  const docker0 = await docker.ping().then(() => true, () => false);
  if (!docker0) throw new Error('the Docker engine is not reachable');
  // /_ping answers even when the daemon is wedged on an internal lock; /info does not.
  await new Docker({ timeout: 15_000 }).info().catch((e) => {
    throw new Error(`the Docker engine answers /_ping but not /info within 15 s (wedged?): ${e.message}`);
  });
  await docker.getImage(IMAGE).inspect().catch(() => {
    throw new Error(`runtime image ${IMAGE} missing (npm run images)`);
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
    GANTRY_NODE_MEMORY_MB: String(NODE_MEMORY_MB),
    GANTRY_KEEP_WARM_MS: '600000',
    GANTRY_WS_MESSAGES_PER_SECOND: '100000', // the round-trip bench sends faster than the default rate limit
  };

  log(`node ${nodeId}, database ${dbName}, data ${dataDir}`);
  const baseline = await startBaseline();
  const tBase = target('baseline', baseline.url, { path: '/ok', check: (b) => b === 'ok' });
  targets.push(tBase);
  const floor = await startFloor(docker, { nodeId, dir: path.join(dataDir, 'floor'), handlerSrc: HANDLER_SRC });
  const tFloor = target('floor', 'http://floor', { path: '/ok', socketPath: floor.socketPath, check: (b) => b === 'ok' });
  targets.push(tFloor);
  log(`floor container ${floor.id.slice(0, 12)} answering on ${floor.socketPath}`);
  const probeDir = path.join(dataDir, 'probe');
  await mkdir(probeDir, { recursive: true });

  // ---- Phase 1: control plane and gateway as separate processes, no stem cells --------------
  const cpPort = await freePort();
  const gwPort = await freePort();
  const cpUrl = `http://${HOST}:${cpPort}`;
  const gwUrl = `http://${HOST}:${gwPort}`;
  const env1 = childEnv({
    ...baseEnv,
    GANTRY_STEM_CELLS_PER_RUNTIME: '0',
    GANTRY_CONTROL_PLANE_PORT: String(cpPort),
    GANTRY_GATEWAY_PORT: String(gwPort),
    GANTRY_CONTROL_PLANE_URL: cpUrl,
    GANTRY_PUBLIC_URL: gwUrl,
  });
  let tStart = Date.now();
  const cp = spawnChild('control-plane', ['dist/control-plane/main.js'], env1);
  await waitReady(cp, `${cpUrl}/readyz`);
  const gw = spawnChild('gateway', ['dist/gateway/main.js'], env1);
  await waitReady(gw, `${gwUrl}/readyz`);
  const startupSplitMs = Date.now() - tStart;
  log(`phase 1: control plane :${cpPort} and gateway :${gwPort} ready in ${startupSplitMs} ms`);

  const admin = adminClient(cpUrl, token);
  // A long timeout: the gateway's integration deadline is the function's timeout + 1 s, and a
  // cold start on a loaded engine can take longer than Lambda's default 3 s.
  // Network "none": the warm path never uses the network, and 50 fewer endpoints on the bridge
  // make the mass removal at shutdown gentler on the engine (Docker 20.10's libnetwork can
  // deadlock when many endpoints leave a user-defined bridge at once: moby/moby#42545).
  await admin('POST', '/v1/functions', { name: 'warm', runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 30_000, network: 'none', code: { zipBase64: zipFor(HANDLER_SRC) } });
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
  const stemCellWaitMs = RUNTIMES_ONLY ? 60_000 : 15_000;
  const runtimeArgs = (url) => ({
    root: ROOT,
    admin: url === cpUrl ? admin : adminClient(url, token),
    invokeTarget: (name, p) => target(name, url, { ...invokeOpts, path: p, check: () => true }),
    imagePresent: (image) => docker.getImage(image).inspect().then(() => true, () => false),
    makeZip,
    interleaved,
    runSequential,
    log,
    coldSamples: RUNTIME_COLD_SAMPLES,
    requests: RUNTIME_REQUESTS,
    scenarioMs: SCENARIO_MS,
  });
  if (RUNTIMES_ONLY) return runtimesOnly({ runtimeArgs, cp, gw, env: { ...baseEnv, GANTRY_STEM_CELLS_PER_RUNTIME: String(STEM_CELLS) }, cpUrl, stemCellWaitMs });

  // First call of the warm function: a cold start (new container) through the direct invoke API.
  const firstCall = await tDirect.once();
  const firstCold = { ms: firstCall.ms, kind: firstCall.headers['x-gantry-cold-start-kind'], initMs: Number(firstCall.headers['x-gantry-init-duration-ms'] ?? NaN) };
  await waitForRoute(tRouted, gw);
  for (const t of [tBase, tFloor, tDirect, tRouted]) await warmup(t, WARMUP);

  let warmIds = await runtimeContainers();
  const meter1 = cpuMeter({
    controlPlane: { pid: cp.child.pid },
    gateway: { pid: gw.child.pid },
    runtimes: { containers: () => warmIds },
    floorContainer: { containers: () => [floor.id] },
    baseline: { pid: baseline.handle.child.pid },
    client: { self: true },
    hist: histogramSource(cpUrl, gwUrl),
  });
  const opts1 = { rounds: ROUNDS, maxMs: SCENARIO_MS, meter: meter1 };
  const idle0 = await idleRates(meter1);

  log('phase 1: sequential latency (baseline, floor, direct, routed via gateway process)');
  const seq1 = summarize(await interleaved([tBase, tFloor, tDirect, tRouted], SEQ_REQUESTS, runSequential, opts1));

  log(`phase 1: ${CONC_CLIENTS} concurrent clients`);
  for (const t of [tBase, tFloor, tDirect, tRouted]) await warmupConcurrent(t, CONC_CLIENTS, WARMUP);
  warmIds = await runtimeContainers();
  const conc1 = summarize(
    await interleaved([tBase, tFloor, tDirect, tRouted], CONC_REQUESTS, (t, n, b, a) => runConcurrent(t, CONC_CLIENTS, n, b, a), opts1),
  );
  const envCount1 = await liveEnvironments(cpUrl);

  log(`phase 1: ${COLD_SAMPLES} first calls on new containers, interleaved with raw create+start`);
  const invoke1 = directInvoker(cpUrl);
  const cold = [];
  const rawProbes = [];
  const coldEnd = Date.now() + 35_000;
  for (let i = 0; i < COLD_SAMPLES && Date.now() < coldEnd; i++) {
    const sample = () => firstCallSample({ admin, invoke: invoke1, name: `cold-${i}`, src: `// cold sample ${i} ${id}\n${HANDLER_SRC}`, zip: zipFor });
    const probe = () => probeCreateStart(docker, { nodeId, network: 'gantry-functions', dir: probeDir });
    if (i % 2 === 0) {
      rawProbes.push(await probe());
      cold.push(await sample());
    } else {
      cold.push(await sample());
      rawProbes.push(await probe());
    }
  }
  const noneProbes = [];
  for (let i = 0; i < 3; i++) noneProbes.push(await probeCreateStart(docker, { nodeId, network: 'none', dir: probeDir }));

  // Where the time goes: one single-row INSERT like the metering ledger's, committed per call.
  const pgProbe = await probeLedgerInsert();

  log(`phase 1: 0 -> ${BURST_N} concurrent environments, no stem cells`);
  await admin('POST', '/v1/functions', { name: 'burst', runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 20_000, code: { zipBase64: zipFor(BURST_HANDLER_SRC) } });
  const burstNoStem = await burst({ cpUrl, token, fn: 'burst', n: BURST_N });

  log('phase 1: gateway overhead per guard (no auth, API key + usage plan, JWT, cached Lambda authorizer)');
  const auth = await setupAuthScenarios({ admin, gwUrl, makeTarget: target, zipFor, host: HOST });
  targets.push(...auth.targets);
  for (const t of auth.targets) await waitForRoute(t, gw);
  for (const t of auth.targets) await warmup(t, WARMUP);
  const authSeq = summarize(await interleaved(auth.targets, SEQ_REQUESTS, runSequential, opts1));
  await auth.close();

  log('phase 1: runtimes (first call on a new container, warm latency)');
  const runtimeRows = await benchRuntimes(runtimeArgs(cpUrl));

  const websocket = await benchWebsocket({ admin, gwUrl, env: env1, log });

  log('stopping phase 1 processes');
  const s0 = Date.now();
  await stopChild(gw);
  await stopChild(cp, 60_000);
  const shutdownMs = Date.now() - s0;
  await tDirect.close();
  await tRouted.close();

  // ---- Phase 2: one process (`npm start`), in-process gateway, stem cells on -----------------
  const cpPort2 = await freePort();
  const gwPort2 = await freePort();
  const cpUrl2 = `http://${HOST}:${cpPort2}`;
  const gwUrl2 = `http://${HOST}:${gwPort2}`;
  const env2 = childEnv({
    ...baseEnv,
    GANTRY_STEM_CELLS_PER_RUNTIME: String(STEM_CELLS),
    GANTRY_CONTROL_PLANE_PORT: String(cpPort2),
    GANTRY_GATEWAY_PORT: String(gwPort2),
    GANTRY_PUBLIC_URL: gwUrl2,
  });
  tStart = Date.now();
  // The inspector is only listened on (127.0.0.1, a free port) until the profiling windows.
  const one = spawnChild('one-process', [...(CPU_PROFILE ? ['--inspect=127.0.0.1:0'] : []), 'dist/main.js'], env2);
  await waitReady(one, `${cpUrl2}/readyz`);
  await waitReady(one, `${gwUrl2}/readyz`);
  const startupOneMs = Date.now() - tStart;
  log(`phase 2: one-process mode ready in ${startupOneMs} ms`);
  const tDirect1p = target('direct_1p', cpUrl2, invokeOpts);
  const tRouted1p = target('routed_1p', gwUrl2, routedOpts);
  targets.push(tDirect1p, tRouted1p);
  const admin2 = adminClient(cpUrl2, token);
  await waitForStemCells(cpUrl2, STEM_CELLS, 20_000);
  await waitForRoute(tRouted1p, one);
  for (const t of [tBase, tFloor, tDirect1p, tRouted1p]) await warmup(t, WARMUP);

  warmIds = await runtimeContainers();
  const meter2 = cpuMeter({
    gantry: { pid: one.child.pid },
    runtimes: { containers: () => warmIds },
    floorContainer: { containers: () => [floor.id] },
    baseline: { pid: baseline.handle.child.pid },
    client: { self: true },
    hist: histogramSource(cpUrl2, gwUrl2),
  });
  const opts2 = { rounds: ROUNDS, maxMs: SCENARIO_MS, meter: meter2 };
  const idle1 = await idleRates(meter2);

  log('phase 2: sequential latency (baseline, floor, direct, routed in-process)');
  const seq2 = summarize(await interleaved([tBase, tFloor, tDirect1p, tRouted1p], SEQ_REQUESTS, runSequential, opts2));
  log(`phase 2: ${CONC_CLIENTS} concurrent clients`);
  for (const t of [tBase, tFloor, tDirect1p, tRouted1p]) await warmupConcurrent(t, CONC_CLIENTS, WARMUP);
  warmIds = await runtimeContainers();
  const conc2 = summarize(
    await interleaved([tBase, tFloor, tDirect1p, tRouted1p], CONC_REQUESTS, (t, n, b, a) => runConcurrent(t, CONC_CLIENTS, n, b, a), opts2),
  );

  log(`phase 2: scaling out to ${C50_CLIENTS} environments (${C50_CLIENTS} simultaneous direct invokes)`);
  const scale50 = await scaleOut({ cpUrl: cpUrl2, token, fn: 'warm', n: C50_CLIENTS });
  await warmupConcurrent(tRouted1p, C50_CLIENTS, 500);
  await warmupConcurrent(tFloor, C50_CLIENTS, 500);
  await warmupConcurrent(tDirect1p, C50_CLIENTS, 200);
  warmIds = await runtimeContainers();
  const idle50 = await idleRates(meter2);
  const envCount50 = await liveEnvironments(cpUrl2);
  log(`phase 2: ${C50_CLIENTS} concurrent clients (floor, routed, direct; ${envCount50} warm environments)`);
  const c50 = summarize(
    await interleaved([tFloor, tRouted1p, tDirect1p], C50_REQUESTS, (t, n, b, a) => runConcurrent(t, C50_CLIENTS, n, b, a), {
      rounds: 2,
      maxMs: C50_MS,
      meter: meter2,
    }),
  );

  let cpuProfile;
  if (CPU_PROFILE) {
    log(`phase 2: CPU profiles of the Gantry process (${PROFILE_MS} ms at ${C50_CLIENTS} connections, then at 1), not part of any figure above`);
    const ws = await inspectorUrl(one);
    const profiled = async (clients) => {
      const acc = { samples: [], errors: 0, wallMs: 0 };
      const { profile } = await profileWhile(ws, PROFILE_INTERVAL_US, () =>
        clients === 1 ? runSequential(tRouted1p, 1e9, PROFILE_MS, acc) : runConcurrent(tRouted1p, clients, 1e9, PROFILE_MS, acc),
      );
      return { ...summarizeCpuProfile(profile), rpsWhileProfiled: r2(acc.samples.length / (acc.wallMs / 1000)) };
    };
    cpuProfile = { intervalUs: PROFILE_INTERVAL_US, c50Routed: await profiled(C50_CLIENTS), seqRouted: await profiled(1) };
  }

  log(`phase 2: ${STEM_SAMPLES} first calls on stem cells`);
  const invoke2 = directInvoker(cpUrl2);
  const stem = [];
  const stemEnd = Date.now() + 25_000;
  for (let i = 0; i < STEM_SAMPLES && Date.now() < stemEnd; i++) {
    if (!(await waitForStemCells(cpUrl2, 1))) log('no stem cell became ready within 15 s; sampling anyway');
    stem.push(await firstCallSample({ admin: admin2, invoke: invoke2, name: `stem-${i}`, src: `// stem sample ${i} ${id}\n${HANDLER_SRC}`, zip: zipFor }));
  }

  log(`phase 2: 0 -> ${BURST_N} concurrent environments, ${STEM_CELLS} stem cells ready`);
  await admin2('POST', '/v1/functions', { name: 'burst2', runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 20_000, code: { zipBase64: zipFor(BURST_HANDLER_SRC) } });
  await waitForStemCells(cpUrl2, STEM_CELLS);
  const burstStem = await burst({ cpUrl: cpUrl2, token, fn: 'burst2', n: BURST_N });

  const asyncBurst = await benchAsync({ cpUrl: cpUrl2, token, databaseUrl, admin: admin2 });
  log('phase 2: runtimes (first call on a stem cell)');
  const stemByRuntime = await benchStemCells({ ...runtimeArgs(cpUrl2), waitForStemCell: (runtime) => waitForStemCells(cpUrl2, 1, stemCellWaitMs, runtime) });

  await stopChild(one, 60_000);
  await stopChild(baseline.handle);
  await floor.stop();

  const json = report({
    load: { start: r2(loadStart), end: r2(loadavg()[0]), cpus: (await import('node:os')).cpus().length },
    startedAt,
    totalMs: Date.now() - t0,
    seq1,
    seq2,
    conc1,
    conc2,
    c50,
    scale50,
    envCount50,
    idle0,
    idle1,
    idle50,
    cold,
    stem,
    rawProbes,
    noneProbes,
    firstCold,
    pgProbe,
    envCount1,
    burstNoStem,
    burstStem,
    cpuProfile,
    startupSplitMs,
    startupOneMs,
    shutdownMs,
    authSeq,
    runtimeRows,
    stemByRuntime,
    websocket,
  });
  json.async = asyncBurst;
  // Metering (ledger ingest, added latency, queries over 10M entries): its own database, bench/metering.mjs.
  json.metering = await meteringBench({ dbBase: DB_BASE, log });
  for (const line of formatMetering(json.metering)) process.stdout.write(`${line}\n`);
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(JSON.stringify(json) + '\n');
  log(`wrote ${path.relative(ROOT, RESULTS_FILE)}`);
}

/**
 * Section 5 alone: every runtime's first call on a new container and warm latency (control plane
 * and gateway as separate processes, no stem cells), then its first call on a stem cell (one
 * process, stem cells on), on the same machine in one run.
 */
async function runtimesOnly({ runtimeArgs, cp, gw, env, cpUrl, stemCellWaitMs }) {
  log('runtimes: first call on a new container, warm latency');
  const rows = await benchRuntimes(runtimeArgs(cpUrl));
  await stopChild(gw);
  await stopChild(cp, 60_000);
  const [port, gwPort] = [await freePort(), await freePort()];
  const url = `http://${HOST}:${port}`;
  const one = spawnChild('one-process', ['dist/main.js'], childEnv({ ...env, GANTRY_CONTROL_PLANE_PORT: String(port), GANTRY_GATEWAY_PORT: String(gwPort), GANTRY_PUBLIC_URL: `http://${HOST}:${gwPort}` }));
  await waitReady(one, `${url}/readyz`);
  log('runtimes: first call on a stem cell');
  const stem = await benchStemCells({ ...runtimeArgs(url), waitForStemCell: (runtime) => waitForStemCells(url, 1, stemCellWaitMs, runtime) });
  await stopChild(one, 60_000);
  const { lines, json } = formatRuntimes(rows, stats, stem);
  const out = { finishedAt: new Date().toISOString(), loadAverageAtEnd: r2(loadavg()[0]), runtimes: json };
  process.stdout.write(`${lines.join('\n')}\n${JSON.stringify(out)}\n`);
  await writeFile(RUNTIMES_FILE, JSON.stringify(out, null, 2) + '\n');
  log(`wrote ${path.relative(ROOT, RUNTIMES_FILE)}`);
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
    // The same INSERT without waiting for the WAL flush (what a ledger with synchronous_commit
    // off would pay; not what Gantry does).
    await client.query('SET synchronous_commit TO off');
    const async_ = [];
    for (let i = 0; i < 300 && Date.now() < end + 4_000; i++) {
      const t = nowMs();
      await client.query(
        `INSERT INTO bench_probe (id, attempt, tenant_id, function_id, function_name, version_id, source, started_at, duration_us,
           init_duration_us, billed_ms, memory_mb, cold_start, status, error_type)
         VALUES (gen_random_uuid(), 1, 'default', gen_random_uuid(), 'warm', 1, 'direct', now(), 500, 0, 1, 128, 'none', 'succeeded', NULL)
         ON CONFLICT (id, attempt) DO NOTHING`,
      );
      async_.push(nowMs() - t);
    }
    return { insert: stats(samples), select1: stats(sel), insertNoSyncCommit: stats(async_) };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

/**
 * µs of CPU per request of each metered process (net of what it burns idle, when `idle` is given,
 * over the target's wall time), and the histogram means (ms), for one target.
 */
function perRequest(s, idle = {}) {
  const n = s.n || NaN;
  const u = s.usage ?? {};
  const out = {};
  for (const k of ['gantry', 'controlPlane', 'gateway', 'runtimes', 'floorContainer', 'baseline', 'client']) {
    const net = u[k] - (idle[k] ?? 0) * ((s.wallMs ?? 0) / 1000);
    if (Number.isFinite(net) && u[k] / 1000 / n >= 5) out[k] = Math.max(0, net) / 1000 / n;
  }
  const hist = {
    gatewayMeanMs: u.gwCount > 0 ? (1000 * u.gwSum) / u.gwCount : NaN,
    inContainerMeanMs: u.invCount > 0 ? (1000 * u.invSum) / u.invCount : NaN,
  };
  return { cpuUs: out, ...hist };
}

function report(r) {
  const lines = [];
  const L = (s = '') => lines.push(s);
  const b1 = r.seq1.baseline;
  const b2 = r.seq2.baseline;
  const row = (label, s, base) => ({ label, p50: s.p50, p99: s.p99, addP50: s.p50 - base.p50, addP99: s.p99 - base.p99, xP50: s.p50 / base.p50, xP99: s.p99 / base.p99, n: s.n, errors: s.errors });
  const latency = [
    row('(a) baseline: plain node http  [phase 1]', b1, b1),
    row('(f) floor: container, unix socket', r.seq1.floor, b1),
    row('(b) direct invoke, control plane', r.seq1.direct, b1),
    row('(c) routed, gateway -> control plane', r.seq1.routed, b1),
    row('(a) baseline: plain node http  [phase 2]', b2, b2),
    row('(f) floor: container, unix socket', r.seq2.floor, b2),
    row("(b') direct invoke, one-process", r.seq2.direct_1p, b2),
    row('(d) routed, one-process in-process', r.seq2.routed_1p, b2),
  ];
  L();
  L(`Gantry bench ${r.startedAt.toISOString()}  node ${process.version}  ${(r.totalMs / 1000) | 0}s total  ${r.load.cpus} CPUs, load average ${r.load.start} at start, ${r.load.end} at end`);
  L();
  L('1. Warm latency, sequential, one keep-alive connection (ms; +ms and x vs the baseline of the same phase)');
  L(`${pad('', 42)}${pad('p50', 8)}${pad('p99', 8)}${pad('+p50', 8)}${pad('+p99', 8)}${pad('x p50', 8)}${pad('x p99', 8)}n/err`);
  for (const l of latency) L(`${pad(l.label, 42)}${pad(f(l.p50), 8)}${pad(f(l.p99), 8)}${pad(f(l.addP50), 8)}${pad(f(l.addP99), 8)}${pad(f(l.xP50, 1), 8)}${pad(f(l.xP99, 1), 8)}${l.n}/${l.errors}`);
  const gwHop = r.seq1.routed.p50 - r.seq1.direct.p50;
  const inProcHop = r.seq2.routed_1p.p50 - r.seq2.direct_1p.p50;
  L(`  gateway hop (c - b) p50: ${f(gwHop)} ms; in-process gateway (d - b') p50: ${f(inProcHop)} ms`);
  L(`  Postgres probe: committed 1-row INSERT like the ledger p50 ${f(r.pgProbe.insert.p50)} / p99 ${f(r.pgProbe.insert.p99)} ms (with synchronous_commit off: p50 ${f(r.pgProbe.insertNoSyncCommit.p50)}); SELECT 1 p50 ${f(r.pgProbe.select1.p50)} ms`);
  L();
  L(`3. Concurrency: ${CONC_CLIENTS} closed-loop clients (req/s, ms; x vs the baseline of the same phase)`);
  L(`${pad('', 42)}${pad('req/s', 9)}${pad('p50', 8)}${pad('p99', 8)}${pad('x rps', 8)}${pad('x p99', 8)}n/err`);
  const crow = (label, s, base) => L(`${pad(label, 42)}${pad(f(s.rps, 0), 9)}${pad(f(s.p50), 8)}${pad(f(s.p99), 8)}${pad(f(s.rps / base.rps), 8)}${pad(f(s.p99 / base.p99, 1), 8)}${s.n}/${s.errors}`);
  crow('(a) baseline [phase 1]', r.conc1.baseline, r.conc1.baseline);
  crow('(f) floor', r.conc1.floor, r.conc1.baseline);
  crow('(b) direct invoke', r.conc1.direct, r.conc1.baseline);
  crow('(c) routed via gateway process', r.conc1.routed, r.conc1.baseline);
  crow('(a) baseline [phase 2]', r.conc2.baseline, r.conc2.baseline);
  crow('(f) floor', r.conc2.floor, r.conc2.baseline);
  crow("(b') direct invoke, one-process", r.conc2.direct_1p, r.conc2.baseline);
  crow('(d) routed, one-process', r.conc2.routed_1p, r.conc2.baseline);
  L(`  warm containers of the function after the 4-client phase: ${r.envCount1}`);
  L(`  startup to ready: split ${r.startupSplitMs} ms, one-process ${r.startupOneMs} ms; SIGTERM to exit (gateway + control plane): ${r.shutdownMs} ms`);
  L();

  // A. warm, against the floor
  const fl1 = r.seq2.floor;
  const fl50 = r.c50.floor;
  L('A. Warm invoke vs the floor (same handler, same image, plain HTTP on a unix socket, reached directly)');
  L(`${pad('', 40)}${pad('1 conn p50', 12)}${pad('p99', 8)}${pad('+p50', 8)}| ${pad('50 conns req/s', 16)}${pad('p50', 8)}${pad('p99', 9)}${pad('x floor', 8)}n/err`);
  const arow = (label, s1, s50, base1) =>
    L(
      `${pad(label, 40)}${pad(f(s1.p50), 12)}${pad(f(s1.p99), 8)}${pad(f(s1.p50 - base1.p50), 8)}| ${pad(s50 ? f(s50.rps, 0) : '-', 16)}${pad(s50 ? f(s50.p50) : '-', 8)}${pad(s50 ? f(s50.p99) : '-', 9)}${pad(s50 ? f(s50.rps / fl50.rps, 3) : '-', 8)}${s1.n}/${s1.errors}${s50 ? ` ${s50.n}/${s50.errors}` : ''}`,
    );
  arow('floor [phase 2]', fl1, fl50, fl1);
  arow('gateway, one-process (npm start)', r.seq2.routed_1p, r.c50.routed_1p, fl1);
  arow('direct invoke, one-process', r.seq2.direct_1p, r.c50.direct_1p, fl1);
  arow('floor [phase 1]', r.seq1.floor, undefined, r.seq1.floor);
  arow('gateway, split processes [phase 1]', r.seq1.routed, undefined, r.seq1.floor);
  const sc = r.scale50;
  L(`  scale-out before the 50-connection runs: ${sc.n} simultaneous calls answered after ${f(sc.allDoneMs / 1000, 1)} s (p50 ${f(sc.p50DoneMs / 1000, 1)} s), ${sc.coldStarts} cold starts (${Object.entries(sc.kinds).map(([k, v]) => `${k}:${v}`).join(' ')}) = ${f(sc.coldStarts / (sc.allDoneMs / 1000), 1)}/s; ${r.envCount50} warm containers${sc.ok < sc.n ? `; ${sc.n - sc.ok} failed: ${sc.errors.join('; ')}` : ''}`);
  L();

  // B. first calls
  const rawCS = stats(r.rawProbes.map((p) => p.createStartMs));
  const rawExit = stats(r.rawProbes.map((p) => p.untilExitMs));
  const noneCS = stats(r.noneProbes.map((p) => p.createStartMs));
  const contSamples = r.cold.filter((c) => c.kind === 'container');
  const stemSamples = r.stem.filter((c) => c.kind === 'stem-cell');
  const cont = stats(contSamples.map((c) => c.firstMs));
  const stemS = stats(stemSamples.map((c) => c.firstMs));
  const contInit = stats(contSamples.map((c) => c.initMs));
  const stemInit = stats(stemSamples.map((c) => c.initMs));
  const second = stats([...r.cold, ...r.stem].map((c) => c.secondMs));
  L('B. First call of a new function (direct invoke; ms; p99 of few samples is their max)');
  L(`${pad('', 58)}${pad('n', 4)}${pad('p50', 9)}${pad('p99', 9)}${pad('min', 9)}init p50 (header)`);
  const brow = (label, s, init) => L(`${pad(label, 58)}${pad(s.n, 4)}${pad(f(s.p50, 1), 9)}${pad(f(s.p99, 1), 9)}${pad(f(s.min, 1), 9)}${init ? f(init.p50, 1) : ''}`);
  brow('raw create+start, Engine API (function network)', rawCS);
  brow("raw create+start until 'node -e 0' exits", rawExit);
  brow('raw create+start, network none', noneCS);
  brow('new container (phase 1, no stem cells)', cont, contInit);
  brow('stem cell (phase 2)', stemS, stemInit);
  brow('second call (warm)', second);
  L(`  new-container first call / raw create+start: ${f(cont.p50 / rawCS.p50)}x; stem cell / new container: ${f(stemS.p50 / cont.p50, 3)}`);
  L(`  kinds: phase 1 ${r.cold.map((c) => c.kind).join(',')}; phase 2 ${r.stem.map((c) => c.kind).join(',')}; first-ever call of 'warm': ${f(r.firstCold.ms, 0)} ms (${r.firstCold.kind})`);
  L();

  // C. bursts
  L(`C. 0 -> ${BURST_N} concurrent environments (${BURST_N} concurrent calls, 1 s handler; ms from the first request sent)`);
  L(`${pad('', 34)}${pad('all started', 13)}${pad('first', 8)}${pad('p50', 8)}${pad('cold/s', 8)}${pad('steady/s', 10)}${pad('envs', 6)}${pad('init p50', 10)}kinds`);
  const crow2 = (label, b) =>
    L(
      `${pad(label, 34)}${pad(f(b.allStartedMs, 0), 13)}${pad(f(b.firstStartMs, 0), 8)}${pad(f(b.p50StartMs, 0), 8)}${pad(f(b.coldStartsPerS, 1), 8)}${pad(f(b.steadyColdStartsPerS, 1), 10)}${pad(b.environments, 6)}${pad(f(b.init.p50, 0), 10)}${Object.entries(b.kinds).map(([k, v]) => `${k}:${v}`).join(' ')}${b.ok < b.n ? `  (${b.n - b.ok} failed: ${b.errors.join('; ')})` : ''}`,
    );
  crow2('no stem cells (phase 1)', r.burstNoStem);
  crow2(`${STEM_CELLS} stem cells ready (phase 2)`, r.burstStem);
  L(`  all ${BURST_N} handlers overlapped: ${r.burstNoStem.allConcurrent} / ${r.burstStem.allConcurrent}; GANTRY_DOCKER_MAX_CONCURRENT_STARTS default (4)`);
  L();
  formatWebsocket(r.websocket, L);

  // Profile
  const p1 = perRequest(r.seq2.routed_1p, r.idle1);
  const pd = perRequest(r.seq2.direct_1p, r.idle1);
  const pf = perRequest(r.seq2.floor, r.idle1);
  const p50r = perRequest(r.c50.routed_1p, r.idle50);
  const p50f = perRequest(r.c50.floor, r.idle50);
  const p50d = perRequest(r.c50.direct_1p, r.idle50);
  const ps = perRequest(r.seq1.routed, r.idle0);
  const routedMean = r.seq2.routed_1p.mean;
  const ledger = r.pgProbe.insert.p50;
  L('Profile: where the time goes (phase 2 unless noted; means in ms)');
  L(`  1 connection, gateway: the client sees ${f(routedMean)} mean; the gateway server holds the request ${f(p1.gatewayMeanMs)} (histogram), of which`);
  L(`    the runtime round trip (event written to the runtime socket -> result read; histogram) is ${f(p1.inContainerMeanMs)} and Gantry's own handling`);
  L(`    ${f(p1.gatewayMeanMs - p1.inContainerMeanMs)} (a ledger-like committed INSERT alone: p50 ${f(ledger)}); client + loopback TCP ${f(routedMean - p1.gatewayMeanMs)}.`);
  L(`    The whole floor hop: ${f(r.seq2.floor.mean)} mean. Direct invoke (no gateway layer): ${f(r.seq2.direct_1p.mean)} mean, runtime round trip ${f(pd.inContainerMeanMs)}.`);
  L(`  1 connection, split processes [phase 1]: client ${f(r.seq1.routed.mean)}, gateway server ${f(ps.gatewayMeanMs)}, runtime round trip ${f(ps.inContainerMeanMs)}`);
  L(`  50 connections, gateway: client ${f(r.c50.routed_1p.mean)}, gateway server ${f(p50r.gatewayMeanMs)}, runtime round trip ${f(p50r.inContainerMeanMs)}; floor ${f(r.c50.floor.mean)}`);
  const cpuLine = (label, p) => `    ${pad(label, 36)}${Object.entries(p.cpuUs).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}  = ${f(Object.values(p.cpuUs).reduce((a, b) => a + b, 0), 0)} µs`;
  L('  CPU per request (µs, net of idle burn; /proc for processes, cgroups for containers):');
  L(cpuLine('floor, 1 conn', pf));
  L(cpuLine('gateway, 1 conn', p1));
  L(cpuLine('direct invoke, 1 conn', pd));
  L(cpuLine('floor, 50 conns', p50f));
  L(cpuLine('gateway, 50 conns', p50r));
  L(cpuLine('direct invoke, 50 conns', p50d));
  L(cpuLine('gateway split, 1 conn [phase 1]', ps));
  const idleLine = (o) => Object.entries(o).map(([k, v]) => `${k} ${f(v / 1e6, 1)}`).join(', ');
  L(`    idle burn (ms of CPU per s): before 1 conn ${idleLine(r.idle1)}; with ${r.envCount50} environments ${idleLine(r.idle50)}`);
  if (r.cpuProfile) {
    for (const [label, prof] of [
      ['gateway at 50 connections', r.cpuProfile.c50Routed],
      ['gateway at 1 connection', r.cpuProfile.seqRouted],
    ]) {
      if (!prof) continue;
      L(`  CPU profile of the Gantry process, ${label} (${prof.busySamples} busy samples of ${r.cpuProfile.intervalUs} µs, ${f(prof.busyPct, 0)}% busy; ${f(prof.rpsWhileProfiled, 0)} req/s while profiled):`);
      L(`    self time: ${prof.categories.slice(0, 8).map((c) => `${c.name} ${f(c.pct, 1)}%`).join('; ')}`);
      L(`    by owner (nearest Gantry module or package on the stack): ${prof.owners.slice(0, 8).map((c) => `${c.name} ${f(c.pct, 1)}%`).join('; ')}`);
      if (label.includes('50')) L(`    top functions: ${prof.functions.slice(0, 8).map((c) => `${c.name} ${f(c.pct, 1)}%`).join('; ')}`);
    }
  }
  L();

  const auth = authReport(r.authSeq, f, r3);
  for (const l of auth.lines) L(l);
  L();
  const runtimes = formatRuntimes(r.runtimeRows, stats, r.stemByRuntime);
  for (const l of runtimes.lines) L(l);
  L();

  const targetsIn = {
    gw1: r.seq2.routed_1p,
    floor1: r.seq2.floor,
    gw50: r.c50.routed_1p,
    floor50: r.c50.floor,
    stemFirst: stemS,
    containerFirst: cont,
    rawCreateStart: rawCS,
    burstNoStem: r.burstNoStem,
  };
  const tgs = evaluateTargets(targetsIn);
  for (const l of formatTargets(tgs)) L(l);
  L();
  process.stdout.write(lines.join('\n') + '\n');

  const compact = (s) => (s ? { n: s.n, errors: s.errors, p50: r3(s.p50), p90: r3(s.p90), p99: r3(s.p99), mean: r3(s.mean), max: r3(s.max), ...(s.rps ? { rps: r2(s.rps) } : {}) } : undefined);
  const mapC = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, compact(v)]));
  const roundAll = (o) => JSON.parse(JSON.stringify(o, (_k, v) => (typeof v === 'number' ? r3(v) : v)));
  const json = {
    bench: 'gantry',
    date: r.startedAt.toISOString(),
    node: process.version,
    totalS: r2(r.totalMs / 1000),
    loadAverage1m: r.load,
    config: {
      seqRequests: SEQ_REQUESTS,
      concRequests: CONC_REQUESTS,
      clients: CONC_CLIENTS,
      c50Clients: C50_CLIENTS,
      c50Requests: C50_REQUESTS,
      c50Ms: C50_MS,
      scenarioMs: SCENARIO_MS,
      rounds: ROUNDS,
      coldSamples: COLD_SAMPLES,
      stemSamples: STEM_SAMPLES,
      burst: BURST_N,
      stemCellsPerRuntime: STEM_CELLS,
      nodeMemoryMb: NODE_MEMORY_MB,
      cpuProfile: CPU_PROFILE,
    },
    targets: tgs,
    warm: {
      floor1: compact(r.seq2.floor),
      gateway1: compact(r.seq2.routed_1p),
      direct1: compact(r.seq2.direct_1p),
      gatewaySplit1: compact(r.seq1.routed),
      floorPhase1: compact(r.seq1.floor),
      floor50: compact(r.c50.floor),
      gateway50: compact(r.c50.routed_1p),
      direct50: compact(r.c50.direct_1p),
      scaleOut50: roundAll(r.scale50),
      warmEnvironments50: r.envCount50,
    },
    firstCall: {
      rawCreateStart: compact(rawCS),
      rawUntilNodeExit: compact(rawExit),
      rawCreateStartNetworkNone: compact(noneCS),
      newContainer: compact(cont),
      newContainerInit: compact(contInit),
      stemCell: compact(stemS),
      stemCellInit: compact(stemInit),
      secondCall: compact(second),
      samples: {
        newContainer: r.cold.map((c) => roundAll(c)),
        stemCell: r.stem.map((c) => roundAll(c)),
        raw: r.rawProbes.map((p) => roundAll(p)),
      },
    },
    burst: { noStemCells: roundAll(r.burstNoStem), withStemCells: roundAll(r.burstStem) },
    profile: {
      gateway1: roundAll(p1),
      direct1: roundAll(pd),
      floor1: roundAll(pf),
      gateway50: roundAll(p50r),
      direct50: roundAll(p50d),
      floor50: roundAll(p50f),
      gatewaySplit1: roundAll(ps),
      idleBurnNsPerS: roundAll({ phase1: r.idle0, phase2: r.idle1, with50Environments: r.idle50 }),
      pgInsert: compact(r.pgProbe.insert),
      pgSelect1: compact(r.pgProbe.select1),
      pgInsertNoSyncCommit: compact(r.pgProbe.insertNoSyncCommit),
      cpuProfile: r.cpuProfile,
    },
    latency: mapC({ baseline_p1: b1, floor_p1: r.seq1.floor, direct: r.seq1.direct, routed: r.seq1.routed, baseline_p2: b2, floor_p2: r.seq2.floor, direct_1p: r.seq2.direct_1p, routed_1p: r.seq2.routed_1p }),
    gatewayHopP50: r3(gwHop),
    inProcessGatewayP50: r3(inProcHop),
    concurrency: mapC({ baseline_p1: r.conc1.baseline, floor_p1: r.conc1.floor, direct: r.conc1.direct, routed: r.conc1.routed, baseline_p2: r.conc2.baseline, floor_p2: r.conc2.floor, direct_1p: r.conc2.direct_1p, routed_1p: r.conc2.routed_1p }),
    warmContainers: r.envCount1,
    startupMs: { split: r.startupSplitMs, oneProcess: r.startupOneMs },
    shutdownMs: r.shutdownMs,
    guards: auth.json,
    runtimes: roundAll(runtimes.json),
    websocket: websocketJson(r.websocket),
  };
  return json;
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
