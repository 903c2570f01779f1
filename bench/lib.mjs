/**
 * Helpers shared by bench/run.mjs and bench/scheduler.mjs: statistics, a stored zip writer, child
 * processes, one load-generation client (undici keep-alive pools) for every target, bounded loops
 * and CPU accounting. Nothing here starts anything by itself.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { makeZip } from '../test/support/stored-zip.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HOST = '127.0.0.1';
export const REQUEST_TIMEOUT_MS = 15_000;

/** A positive number from the environment, else `def`. */
export const num = (name, def) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : def;
};

export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.now();
export const log = (msg) => process.stderr.write(`[bench +${((Date.now() - T0) / 1000).toFixed(0)}s] ${msg}\n`);

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length); // nearest rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
export function stats(samples) {
  const s = [...samples].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean: s.length ? mean : NaN };
}
export const r2 = (x) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
export const r3 = (x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
export const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
export const pad = (s, n) => String(s).padEnd(n);

export { makeZip };
export const zipFor = (src) => makeZip([{ name: 'index.js', content: src }]).toString('base64');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function withDatabase(base, name) {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
// Child processes

export const children = new Set();

export function childEnv(extra) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  // Nothing from the caller's Gantry configuration may leak into the isolated instance.
  for (const k of Object.keys(env)) if (k.startsWith('GANTRY_') || k === 'DATABASE_URL' || k === 'REDIS_URL' || k === 'DOCKER_HOST') delete env[k];
  return { ...env, ...extra };
}

export function spawnChild(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  let head = '';
  const keep = (chunk) => {
    const text = chunk.toString('utf8');
    if (head.length < 8192) head += text.slice(0, 8192 - head.length);
    tail.push(text);
    while (tail.length > 50) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handle = { name, child, exited, head: () => head, output: () => tail.join('').slice(-4000) };
  children.add(handle);
  exited.then(() => children.delete(handle));
  return handle;
}

export async function stopChild(h, graceMs = 20_000) {
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
export async function waitReady(h, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (h.child.exitCode !== null) throw new Error(`${h.name} exited (${h.child.exitCode}) before ready:\n${h.output()}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${h.name} not ready at ${url} within ${timeoutMs} ms:\n${h.output()}`);
}

// ---------------------------------------------------------------------------------------------
// Load generation: one undici keep-alive pool per (target, connection count); the same client code
// for every target, over TCP or a unix socket.

export function target(name, origin, { method = 'GET', path: p, headers = {}, body, check, socketPath }) {
  const pools = new Map();
  const pool = (connections) => {
    let pl = pools.get(connections);
    if (!pl) {
      pl = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, ...(socketPath ? { socketPath } : {}) });
      pools.set(connections, pl);
    }
    return pl;
  };
  const one = async (pl) => {
    const t0 = nowMs();
    const res = await pl.request({ method, path: p, headers, body, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    const text = await res.body.text();
    const ms = nowMs() - t0;
    if (res.statusCode !== 200 || !check(text, res.headers)) throw new Error(`${name}: ${res.statusCode} ${text.slice(0, 200)}`);
    return { ms, headers: res.headers, text };
  };
  return {
    name,
    pool,
    once: () => one(pool(1)),
    onceOn: (connections) => one(pool(connections)),
    close: async () => {
      await Promise.allSettled([...pools.values()].map((pl) => pl.close()));
      pools.clear();
    },
  };
}

function noteError(t, acc, e) {
  acc.errors += 1;
  acc.lastError = String(e?.message ?? e);
  if (acc.errors > 20 && acc.errors > acc.samples.length / 20) throw new Error(`too many errors on ${t.name}: ${acc.lastError}`);
}

/** Sequential requests on one connection until `count` or `budgetMs`; errors are counted, not timed. */
export async function runSequential(t, count, budgetMs, acc) {
  const end = Date.now() + budgetMs;
  const t0 = nowMs();
  for (let i = 0; i < count && Date.now() < end; i++) {
    try {
      acc.samples.push((await t.once()).ms);
    } catch (e) {
      noteError(t, acc, e);
    }
  }
  acc.wallMs += nowMs() - t0;
}

/** `clients` closed-loop clients on `clients` connections, sharing `count` requests and a time budget. */
export async function runConcurrent(t, clients, count, budgetMs, acc) {
  const end = Date.now() + budgetMs;
  let issued = 0;
  const t0 = nowMs();
  const worker = async () => {
    while (issued < count && Date.now() < end) {
      issued += 1;
      try {
        acc.samples.push((await t.onceOn(clients)).ms);
      } catch (e) {
        noteError(t, acc, e);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  acc.wallMs += nowMs() - t0;
}

/**
 * Runs each target's scenario in `rounds` interleaved chunks (order rotated every round), so slow
 * drift of a shared machine affects all of them alike. Every target stops at `total` requests or
 * `maxMs` of its own time. `meter` (optional) is snapshotted around every chunk and its deltas
 * are credited to the chunk's target; `windows` records each chunk's monotonic interval (µs).
 */
export async function interleaved(targets, total, runChunk, { rounds = 4, maxMs, meter } = {}) {
  const acc = Object.fromEntries(targets.map((t) => [t.name, { samples: [], errors: 0, wallMs: 0, spentMs: 0, usage: {}, windows: [] }]));
  const chunk = Math.ceil(total / rounds);
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const t of order) {
      const a = acc[t.name];
      const left = maxMs - a.spentMs;
      if (left <= 0 || a.samples.length + a.errors >= total) continue;
      const before = meter ? await meter.snapshot('before') : undefined;
      const s = Date.now();
      const w0 = Number(process.hrtime.bigint() / 1000n);
      await runChunk(t, Math.min(chunk, total - a.samples.length - a.errors), left, a);
      a.windows.push([w0, Number(process.hrtime.bigint() / 1000n)]);
      a.spentMs += Date.now() - s;
      if (meter) {
        const after = await meter.snapshot('after');
        for (const [k, v] of Object.entries(after)) if (Number.isFinite(v) && Number.isFinite(before[k])) a.usage[k] = (a.usage[k] ?? 0) + (v - before[k]);
      }
    }
  }
  return acc;
}

export function summarize(acc) {
  const out = {};
  for (const [name, a] of Object.entries(acc)) {
    const s = stats(a.samples);
    out[name] = { ...s, errors: a.errors, usage: a.usage, windows: a.windows, wallMs: a.wallMs, ...(a.wallMs > 0 ? { rps: a.samples.length / (a.wallMs / 1000) } : {}) };
    if (a.lastError) out[name].lastError = a.lastError;
  }
  return out;
}

export async function warmup(t, n) {
  for (let i = 0; i < n; i++) await t.once();
}
/** `n` requests from `clients` closed-loop clients; a few errors are tolerated (and returned). */
export async function warmupConcurrent(t, clients, n) {
  let issued = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < n) {
        issued += 1;
        try {
          await t.onceOn(clients);
        } catch (e) {
          if (++errors > Math.max(5, n / 10)) throw new Error(`warm-up of ${t.name}: ${e?.message ?? e}`);
        }
      }
    }),
  );
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Gantry admin and metrics

export function adminClient(baseUrl, token) {
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

export async function scrapeMetrics(url) {
  return fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), () => '');
}

/** Sum of every sample of `name` whose labels contain all of `labels` (exact series name). */
export function metricSum(text, name, labels = {}) {
  let sum = 0;
  let found = false;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const lab = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : '';
    if (!want.every((w) => lab.split(',').includes(w))) continue;
    const v = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) {
      sum += v;
      found = true;
    }
  }
  return found ? sum : NaN;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (ns): processes from /proc, containers from their cgroup (v1 cpuacct or v2).

const CLK_TCK = 100;
export async function pidCpuNs(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e9) / CLK_TCK; // utime + stime
  } catch {
    return NaN;
  }
}

export async function containerCpuNs(id) {
  try {
    return Number(await readFile(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8'));
  } catch {
    try {
      const s = await readFile(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 'utf8');
      return Number(/usage_usec (\d+)/.exec(s)?.[1]) * 1000;
    } catch {
      return NaN;
    }
  }
}

/** A meter over named sources: `pid`, `containers` (a function returning ids), `self`, or `fn`. */
export function cpuMeter(sources) {
  return {
    /** `fn` sources (metric scrapes, which cost the scraped process CPU) are read outside the CPU window. */
    async snapshot(when = 'before') {
      const out = {};
      const entries = Object.entries(sources).sort(([, a], [, b]) => (when === 'before' ? Number(!a.fn) - Number(!b.fn) : Number(!!a.fn) - Number(!!b.fn)));
      for (const [name, src] of entries) {
        if (src.pid !== undefined) out[name] = await pidCpuNs(src.pid);
        else if (src.containers) {
          let sum = 0;
          for (const id of src.containers()) sum += await containerCpuNs(id);
          out[name] = sum;
        } else if (src.self) {
          const u = process.cpuUsage();
          out[name] = (u.user + u.system) * 1000;
        } else if (src.fn) Object.assign(out, await src.fn());
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// V8 CPU profiles of a child started with --inspect=127.0.0.1:0, over the inspector protocol

/** The child's inspector WebSocket URL, from its "Debugger listening on ws://..." line. */
export async function inspectorUrl(h, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+)/.exec(h.head());
    if (m) return m[1];
    if (Date.now() > end) throw new Error(`${h.name}: no inspector URL in its output`);
    await sleep(50);
  }
}

/** Samples the child's main thread every `intervalUs` while `run()` runs; returns the profile. */
export async function profileWhile(wsUrl, intervalUs, run) {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString('utf8'));
    const p = m.id !== undefined ? pending.get(m.id) : undefined;
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}`));
    else p.resolve(m.result);
  });
  const call = (method, params) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`inspector ${method} timed out`));
      }, 30_000);
      pending.set(id, { method, resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('Profiler.enable');
    await call('Profiler.setSamplingInterval', { interval: intervalUs });
    await call('Profiler.start');
    const result = await run();
    const { profile } = await call('Profiler.stop');
    await call('Profiler.disable').catch(() => undefined);
    return { profile, result };
  } finally {
    ws.close();
  }
}
