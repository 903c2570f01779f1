/**
 * The scheduler part of `npm run bench` (issue 3 item 8), called by bench/run.mjs:
 *
 *   - the floor: the same handler in the same image (gantry/nodejs20) behind a plain Node HTTP
 *     server on a unix socket in a bind-mounted directory, reached directly, no Gantry;
 *   - the raw container create+start of the runtime image through the Engine API, with the
 *     HostConfig Gantry gives a 128 MB function;
 *   - first calls of new functions (new container or stem cell);
 *   - bursts of N concurrent calls of a function that sleeps 1 s (0 → N environments);
 *   - the scale-out of a closed loop of 50 clients;
 *   - a summary of V8 CPU profiles of the Gantry process (self time, owners, top functions);
 *   - the targets, PASS/MISS (informational: a miss never fails the run).
 *
 * Every container made here carries `gantry.node=<bench node id>` so run.mjs's cleanup removes
 * it on any exit path. Docker is driven through the Engine API (dockerode), never the CLI.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'undici';
import { f, log, metricSum, nowMs, pad, r2, r3, scrapeMetrics, sleep, stats } from './lib.mjs';

export const IMAGE = 'gantry/nodejs20:latest';

/** The HostConfig Gantry gives a function container (control-plane/containers + scheduler/isolation). */
export function gantryLikeHostConfig({ memoryMb = 128, network, binds }) {
  const bytes = memoryMb * 1024 * 1024;
  return {
    Memory: bytes,
    MemorySwap: bytes,
    CpuShares: Math.max(2, Math.round((1024 * memoryMb) / 1769)),
    PidsLimit: 128,
    ReadonlyRootfs: true,
    Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=512m,mode=1777' },
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    NetworkMode: network,
    Binds: binds,
    LogConfig: { Type: 'none', Config: {} },
    AutoRemove: false,
  };
}

// ---------------------------------------------------------------------------------------------
// The floor

/** Plain Node http on a unix socket, calling the handler from /var/task like the baseline does. */
const FLOOR_SERVER_SRC = `'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { handler } = require('/var/task/index.js');
const SOCK = '/run/floor/floor.sock';
try { fs.unlinkSync(SOCK); } catch {}
const srv = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const event = { rawPath: req.url, requestContext: { http: { method: req.method } }, body: raw === '' ? undefined : raw };
    const r = await handler(event, {});
    const body = typeof r.body === 'string' ? r.body : JSON.stringify(r);
    res.writeHead(r.statusCode || 200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(SOCK, () => { fs.chmodSync(SOCK, 0o666); process.stdout.write('floor listening\\n'); });
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * Starts the floor container: code in <dir>/task (ro at /var/task), socket in <dir>/sock (rw at
 * /run/floor), same user and limits as a function. Resolves once the socket answers.
 */
export async function startFloor(docker, { nodeId, dir, handlerSrc }) {
  const taskDir = path.join(dir, 'task');
  const sockDir = path.join(dir, 'sock');
  await mkdir(taskDir, { recursive: true });
  await mkdir(sockDir, { recursive: true });
  await chmod(dir, 0o755);
  await chmod(taskDir, 0o755);
  await chmod(sockDir, 0o777); // the server runs as 993:993 and creates the socket here
  await writeFile(path.join(taskDir, 'index.js'), handlerSrc, { mode: 0o644 });
  await writeFile(path.join(taskDir, 'floor-server.js'), FLOOR_SERVER_SRC, { mode: 0o644 });
  const container = await docker.createContainer({
    name: `gantry-${nodeId}-floor`,
    Image: IMAGE,
    Entrypoint: ['/usr/local/bin/node', '/var/task/floor-server.js'],
    Cmd: [],
    User: '993:993',
    Labels: { 'gantry.node': nodeId, 'gantry.bench-floor': 'true' },
    HostConfig: gantryLikeHostConfig({ network: 'none', binds: [`${taskDir}:/var/task:ro`, `${sockDir}:/run/floor:rw`] }),
  });
  await container.start();
  const socketPath = path.join(sockDir, 'floor.sock');
  const probe = new Pool('http://floor', { socketPath, connections: 1 });
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await probe
        .request({ method: 'GET', path: '/ok', headersTimeout: 2_000, bodyTimeout: 2_000 })
        .then(async (r) => (await r.body.text()) === 'ok', () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('the floor container never answered on its socket');
      await sleep(100);
    }
  } finally {
    await probe.close();
  }
  const info = await container.inspect();
  return { id: info.Id, socketPath, stop: () => container.remove({ force: true }).catch(() => undefined) };
}

// ---------------------------------------------------------------------------------------------
// Raw container create+start (what a new-container cold start cannot avoid)

/**
 * create → start returned, then until `node -e 0` exits; the same HostConfig as a 128 MB function
 * on `network`, with two bind mounts like Gantry's (code ro, socket dir ro).
 */
export async function probeCreateStart(docker, { nodeId, network, dir }) {
  await mkdir(path.join(dir, 'task'), { recursive: true });
  await mkdir(path.join(dir, 'sock'), { recursive: true });
  const t0 = nowMs();
  const c = await docker.createContainer({
    Image: IMAGE,
    Entrypoint: ['/usr/local/bin/node', '-e', '0'],
    Cmd: [],
    User: '993:993',
    Labels: { 'gantry.node': nodeId, 'gantry.bench-probe': 'true' },
    HostConfig: gantryLikeHostConfig({ network, binds: [`${dir}/task:/var/task:ro`, `${dir}/sock:/run/gantry:ro`] }),
  });
  try {
    const created = nowMs();
    await c.start();
    const started = nowMs();
    await Promise.race([c.wait(), sleep(10_000)]);
    return { createMs: created - t0, createStartMs: started - t0, untilExitMs: nowMs() - t0 };
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// First calls

/** Creates a function with distinct code (nothing cached), then calls it twice. */
export async function firstCallSample({ admin, invoke, name, src, zip, memoryMb = 128 }) {
  const c0 = nowMs();
  await admin('POST', '/v1/functions', { name, runtime: 'nodejs20', handler: 'index.handler', memoryMb, code: { zipBase64: zip(src) } });
  const createMs = nowMs() - c0;
  const first = await invoke(name);
  const second = await invoke(name);
  return {
    name,
    createMs,
    firstMs: first.ms,
    secondMs: second.ms,
    coldStart: first.headers['x-gantry-cold-start'],
    kind: first.headers['x-gantry-cold-start-kind'] ?? 'none',
    initMs: Number(first.headers['x-gantry-init-duration-ms'] ?? NaN),
    billedMs: Number(first.headers['x-gantry-billed-duration-ms'] ?? NaN),
  };
}

/** Waits (bounded) until the control plane reports at least `n` ready stem cells of `runtime`. */
export async function waitForStemCells(cpUrl, n, timeoutMs = 15_000, runtime = 'nodejs20') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const have = metricSum(await scrapeMetrics(cpUrl), 'gantry_stem_cells', { runtime });
    if (have >= n) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Bursts: 0 → N concurrent environments

export const BURST_HANDLER_SRC = `const envId = require('node:crypto').randomBytes(6).toString('hex');
exports.handler = async () => {
  const t = Date.now();
  await new Promise((r) => setTimeout(r, 1000));
  return { statusCode: 200, body: JSON.stringify({ t, envId }) };
};
`;

/**
 * N concurrent direct invokes of a function whose handler records Date.now() on entry and sleeps
 * 1 s. Every call needs its own environment, so the last handler start is when N environments
 * exist. Connections are opened before the clock starts.
 */
export async function burst({ cpUrl, token, fn, n }) {
  const pool = new Pool(cpUrl, { connections: n, pipelining: 1 });
  try {
    await Promise.all(Array.from({ length: n }, () => pool.request({ method: 'GET', path: '/healthz' }).then((r) => r.body.text())));
    const t0 = Date.now();
    const h0 = nowMs();
    const calls = await Promise.all(
      Array.from({ length: n }, async () => {
        try {
          const res = await pool.request({
            method: 'POST',
            path: `/v1/functions/${fn}/invoke`,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{}',
            headersTimeout: 60_000,
            bodyTimeout: 60_000,
          });
          const text = await res.body.text();
          const doneMs = nowMs() - h0;
          if (res.statusCode !== 200) return { ok: false, status: res.statusCode, doneMs, error: text.slice(0, 200) };
          const inner = JSON.parse(JSON.parse(text).body);
          return {
            ok: true,
            doneMs,
            startedMs: inner.t - t0,
            envId: inner.envId,
            kind: res.headers['x-gantry-cold-start-kind'] ?? 'none',
            initMs: Number(res.headers['x-gantry-init-duration-ms'] ?? NaN),
          };
        } catch (e) {
          return { ok: false, error: String(e?.message ?? e) };
        }
      }),
    );
    const ok = calls.filter((c) => c.ok);
    const starts = ok.map((c) => c.startedMs).sort((a, b) => a - b);
    const cold = ok.filter((c) => c.kind !== 'none');
    const allStartedMs = starts.length === n ? starts[n - 1] : NaN;
    const kinds = {};
    for (const c of ok) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
    return {
      n,
      ok: ok.length,
      throttled: calls.filter((c) => c.status === 429).length,
      errors: calls.filter((c) => !c.ok).map((c) => c.error ?? c.status).slice(0, 3),
      environments: new Set(ok.map((c) => c.envId)).size,
      kinds,
      firstStartMs: starts[0] ?? NaN,
      p50StartMs: stats(starts).p50,
      allStartedMs,
      // Every handler sleeps 1 s: all N ran at once if the last one started before the first ended.
      allConcurrent: starts.length === n && starts[n - 1] < starts[0] + 1000,
      coldStartsPerS: cold.length / (allStartedMs / 1000),
      steadyColdStartsPerS: starts.length > 1 ? (starts.length - 1) / ((starts[starts.length - 1] - starts[0]) / 1000) : NaN,
      init: stats(cold.map((c) => c.initMs)),
      lastDoneMs: Math.max(...calls.map((c) => c.doneMs ?? NaN)),
    };
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Scale-out of a closed loop

/**
 * Scale-out to `n` environments: `n` simultaneous direct invokes of an instant handler (each one
 * finds every environment busy, so each starts its own), with a client deadline long enough that
 * no call is abandoned and retried while its environment is still starting (which would pile up
 * starts on a slow engine). Resolves when every call has answered.
 */
export async function scaleOut({ cpUrl, token, fn, n, timeoutMs = 90_000 }) {
  const pool = new Pool(cpUrl, { connections: n, pipelining: 1 });
  try {
    await Promise.all(Array.from({ length: n }, () => pool.request({ method: 'GET', path: '/healthz' }).then((r) => r.body.text())));
    const t0 = nowMs();
    const calls = await Promise.all(
      Array.from({ length: n }, async () => {
        try {
          const res = await pool.request({
            method: 'POST',
            path: `/v1/functions/${fn}/invoke`,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{}',
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          });
          await res.body.text();
          return { status: res.statusCode, ms: nowMs() - t0, kind: res.headers['x-gantry-cold-start-kind'] ?? 'none' };
        } catch (e) {
          return { status: 0, ms: nowMs() - t0, error: String(e?.message ?? e) };
        }
      }),
    );
    const ok = calls.filter((c) => c.status === 200);
    const kinds = {};
    for (const c of ok) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
    const done = stats(ok.map((c) => c.ms));
    return {
      n,
      ok: ok.length,
      coldStarts: ok.filter((c) => c.kind !== 'none').length,
      kinds,
      allDoneMs: ok.length === n ? done.max : NaN,
      p50DoneMs: done.p50,
      errors: calls.filter((c) => c.status !== 200).map((c) => c.error ?? c.status).slice(0, 3),
    };
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU profiles of the Gantry process (V8 sampling profiler, over the inspector protocol)

function categoryOf(cf) {
  const u = cf.url ?? '';
  if (u === '') {
    if (cf.functionName === '(garbage collector)') return 'V8 garbage collector';
    if (cf.functionName === '(program)') return 'V8/native (program)';
    if (cf.functionName === '(idle)') return '(idle)';
    return `native ${cf.functionName || '(anonymous)'}`;
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
  if (nm) return `npm ${nm[1]}`;
  const dist = /\/dist\/(.+)$/.exec(u);
  if (dist) return `gantry ${dist[1].replace(/\.js$/, '')}`;
  if (u.startsWith('node:')) {
    const m = u.slice(5);
    if (/^_http_|^internal\/http|^http$/.test(m)) return 'node http (server, parser, outgoing)';
    if (/^net$|stream|^internal\/streams|^internal\/stream_base/.test(m)) return 'node net/streams';
    if (/timers|task_queues|async_hooks|^events$|^internal\/process/.test(m)) return 'node event loop, timers, promises';
    if (/crypto|^buffer$|^internal\/buffer|^internal\/url|^url$|querystring/.test(m)) return 'node buffers, url, crypto';
    return `node ${m}`;
  }
  return `other ${u.slice(-40)}`;
}

/** Gantry's own modules and npm packages; node internals and natives are not owners. */
function ownerOf(cf) {
  const u = cf.url ?? '';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
  if (nm) return `npm ${nm[1]}`;
  const dist = /\/dist\/(.+)$/.exec(u);
  if (dist) return `gantry ${dist[1].replace(/\.js$/, '')}`;
  return undefined;
}

/**
 * Over the samples of a V8 CPU profile (optionally only those inside `windows`, [startUs, endUs]
 * pairs on the profile's clock): self time by category and by function, and time by owner (the nearest Gantry
 * module or npm package on the stack; "no app frame" is node's own machinery, e.g. the HTTP
 * parser and deferred socket writes).
 */
export function summarizeCpuProfile(prof, windows = [[-Infinity, Infinity]]) {
  if (!prof) return undefined;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownerCache = new Map();
  const owner = (id) => {
    if (ownerCache.has(id)) return ownerCache.get(id);
    let cur = id;
    let o;
    while (cur !== undefined && o === undefined) {
      o = ownerOf(byId.get(cur).callFrame);
      cur = parent.get(cur);
    }
    o ??= 'no app frame (node http/net machinery, natives)';
    ownerCache.set(id, o);
    return o;
  };
  const inWindow = (t) => windows.some(([a, b]) => t >= a && t <= b);
  const cats = new Map();
  const fns = new Map();
  const owners = new Map();
  const inc = (m, k) => m.set(k, (m.get(k) ?? 0) + 1);
  let t = prof.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    if (!inWindow(t)) continue;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    const cat = categoryOf(node.callFrame);
    if (cat === '(idle)') {
      idle += 1;
      continue;
    }
    total += 1;
    inc(cats, cat);
    inc(owners, owner(node.id));
    const cf = node.callFrame;
    const where = cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${cf.lineNumber + 1}` : '';
    inc(fns, `${cf.functionName || '(anonymous)'} ${where}`.trim());
  }
  const top = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, n]) => ({ name, pct: r2((100 * n) / (total || 1)) }));
  return { busySamples: total, idleSamples: idle, busyPct: r2((100 * total) / (total + idle || 1)), categories: top(cats, 14), owners: top(owners, 14), functions: top(fns, 14) };
}

// ---------------------------------------------------------------------------------------------
// Targets (issue 3 item 8), informational

export function evaluateTargets(r) {
  const t = [];
  const add = (id, what, value, op, limit, unit = '') => {
    const pass = Number.isFinite(value) ? (op === '<=' ? value <= limit : value >= limit) : null;
    t.push({ id, what, value: r3(value), target: `${op === '<=' ? '≤' : '≥'} ${limit}${unit}`, pass });
  };
  add('gateway_p50_over_floor_1conn', 'gateway p50 - floor p50 at 1 connection (ms)', r.gw1.p50 - r.floor1.p50, '<=', 1, ' ms');
  add('gateway_rps_vs_floor_50conn', 'gateway throughput / floor throughput at 50 connections', r.gw50.rps / r.floor50.rps, '>=', 0.1);
  add('stem_vs_container_first_call', 'stem-cell first call p50 / new-container first call p50', r.stemFirst.p50 / r.containerFirst.p50, '<=', 0.1);
  add('container_first_call_vs_raw', 'new-container first call p50 / raw create+start p50', r.containerFirst.p50 / r.rawCreateStart.p50, '<=', 1.3);
  add('cold_starts_per_s', 'cold starts per second (0 -> 20 environments, no stem cells)', r.burstNoStem.coldStartsPerS, '>=', 5);
  return t;
}

export function formatTargets(targets) {
  const lines = ['Targets (issue 3 item 8; ratios within this run; informational, a MISS does not fail the bench)'];
  for (const x of targets) {
    lines.push(`  ${x.pass === null ? 'n/a ' : x.pass ? 'PASS' : 'MISS'}  ${pad(x.what, 64)} ${pad(f(x.value, 3), 10)} target ${x.target}`);
  }
  return lines;
}

export { log };
