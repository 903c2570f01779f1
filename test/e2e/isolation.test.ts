// Isolation on the real engine, each property attacked by a hostile function: writes outside /tmp,
// a fork bomb, memory past memoryMb, reading another function's code or socket (from a new
// container and from a specialised stem cell), root and capabilities. A control function is
// called after every attack, directly and through the gateway, and must keep answering.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { containersDirOf } from '../../control-plane/scheduler/environment-paths.js';
import Docker from 'dockerode';
import t from 'tap';
import type { Test } from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { makeZip, nodeZip } from '../support/zip.js';

const stack = await startStack(t);

/** Every call here is bounded: a hung platform fails the test instead of hanging it. */
const invoke = (name: string, body: unknown = {}, timeoutMs = 60_000) =>
  fetch(`${stack.controlPlaneUrl}/v1/functions/${name}/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
const metrics = async () => (await fetch(`${stack.controlPlaneUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
const stemCellsReady = async () => Number(/^gantry_environments\{state="stem-cell"\} (\S+)$/m.exec(await metrics())?.[1] ?? 0);
const containersDir = () => containersDirOf(stack.dataDir, stack.nodeId);
const docker = new Docker();

/**
 * Unspecialised 128 MB stem cells that have been running long enough to have asked for a
 * function. The metrics count cells of every shape (the pool also keeps one of each recently
 * used memory size), so the shape is read from the container itself.
 */
async function idleDefaultStemCells(): Promise<number> {
  let n = 0;
  for (const c of await stack.containers()) {
    if (c.Labels['gantry.stem-cell'] !== 'true' || c.State !== 'running') continue;
    const task = path.join(containersDir(), c.Labels['gantry.environment'] ?? '', 'task');
    if ((await readdir(task).catch(() => ['unknown'])).length > 0) continue;
    const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
    if (info?.HostConfig.Memory !== 128 * 1024 * 1024) continue;
    if (Date.now() - Date.parse(info.State.StartedAt) < 1_000) continue;
    n++;
  }
  return n;
}

/**
 * Deploys a function and makes its first call, which must start the way `kind` says: a new
 * container (a memory size no function here used before) or a stem cell (128 MB, once a cell of
 * that shape is ready). Readiness is seen from outside, so a first call that still found no
 * cell is retried under a new name, at most three times; the last attempt's kind is asserted.
 */
async function deployAndCallFirst(
  t: Test,
  base: string,
  zipOf: (name: string) => Buffer,
  extra: Record<string, unknown>,
  kind: 'container' | 'stem-cell',
  body: unknown = {},
): Promise<{ name: string; created: Record<string, unknown>; res: Response }> {
  for (let attempt = 1; ; attempt++) {
    const name = attempt === 1 ? base : `${base}-${attempt}`;
    if (kind === 'stem-cell') {
      t.ok(await eventually(async () => (await stemCellsReady()) >= 1 && (await idleDefaultStemCells()) >= 1, 30_000, 100), 'a 128 MB stem cell is ready');
    }
    const created = await deployFunction(t, stack, name, zipOf(name), extra);
    const res = await invoke(name, body, 90_000);
    const got = res.headers.get('x-gantry-cold-start-kind');
    if (got === kind || attempt === 3) {
      t.equal(got, kind, `${name}'s first call started from a ${kind}`);
      return { name, created, res };
    }
    t.comment(`${name} started from a ${got}, not a ${kind}: trying again under a new name`);
    await res.arrayBuffer();
    t.equal((await stack.admin('DELETE', `/v1/functions/${name}`)).status, 204);
  }
}

// ---------------------------------------------------------------------------------------------
// The control function, its route, and the check run after every hostile case.

const CONTROL = `exports.handler = async (e) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: Number(e.n ?? e.queryStringParameters?.n), double: 2 * Number(e.n ?? e.queryStringParameters?.n) }) });`;

let controlCalls = 0;
/** One direct and one routed call of the control function; true when both answer right. */
async function controlOk(): Promise<boolean> {
  const n = ++controlCalls;
  try {
    const direct = await invoke('control', { n });
    const body = (await direct.json()) as { body?: string };
    const routed = await fetch(`${stack.gatewayUrl}/iso/control?n=${n}`, { signal: AbortSignal.timeout(30_000) });
    const routedBody = await routed.text();
    return direct.status === 200 && !direct.headers.get('x-gantry-function-error') && body.body === JSON.stringify({ n, double: 2 * n }) && routed.status === 200 && routedBody === JSON.stringify({ n, double: 2 * n });
  } catch {
    return false;
  }
}
async function controlAnswers(t: Test, when: string): Promise<void> {
  const n = ++controlCalls;
  const direct = await invoke('control', { n });
  t.equal(direct.status, 200, `control answers directly ${when}`);
  t.notOk(direct.headers.get('x-gantry-function-error'), `control does not fail ${when}`);
  t.same(JSON.parse(((await direct.json()) as { body: string }).body), { n, double: 2 * n }, `control's answer is right ${when}`);
  const routed = await fetch(`${stack.gatewayUrl}/iso/control?n=${n}`, { signal: AbortSignal.timeout(30_000) });
  t.equal(routed.status, 200, `control answers through the gateway ${when}`);
  t.same(await routed.json(), { n, double: 2 * n });
}

await t.test('the control function answers before any attack', async (t) => {
  await deployFunction(t, stack, 'control', nodeZip(CONTROL), { memoryMb: 144 });
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'iso' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/iso/routes', { routeKey: 'GET /control', function: 'control' })).status, 201);
  t.ok(await eventually(async () => (await fetch(`${stack.gatewayUrl}/iso/control?n=0`, { signal: AbortSignal.timeout(10_000) })).status === 200, 5_000), 'route served');
  await controlAnswers(t, 'at the start');
});

// ---------------------------------------------------------------------------------------------
// 1. Read-only everything but /tmp.

const WRITER = `const fs = require('fs');
exports.handler = async () => {
  const dirs = {};
  for (const d of ['/var/task', '/', '/etc', '/var/runtime', '/run/gantry', '/usr/local/bin', '/dev/shm', '/tmp']) {
    const p = (d === '/' ? '' : d) + '/gantry-write-probe';
    try { fs.writeFileSync(p, 'written'); dirs[d] = fs.readFileSync(p, 'utf8'); fs.unlinkSync(p); } catch (e) { dirs[d] = e.code; }
  }
  const files = {};
  for (const f of ['/var/task/index.js', '/etc/passwd', '/var/runtime/bootstrap.mjs']) {
    try { fs.appendFileSync(f, '//'); files[f] = 'appended'; } catch (e) { files[f] = e.code; }
  }
  const other = {};
  try { fs.mkdirSync('/var/task/sub'); other.mkdir = 'made'; } catch (e) { other.mkdir = e.code; }
  try { fs.renameSync('/var/task/index.js', '/var/task/moved.js'); other.rename = 'renamed'; } catch (e) { other.rename = e.code; }
  try { fs.chmodSync('/var/task/index.js', 0o777); other.chmod = 'changed'; } catch (e) { other.chmod = e.code; }
  try { fs.unlinkSync('/run/gantry/runtime.sock'); other.unlinkSocket = 'unlinked'; } catch (e) { other.unlinkSocket = e.code; }
  const sh = require('child_process').spawnSync('/bin/sh', ['-c', 'echo x > /etc/shell-probe; echo $?'], { encoding: 'utf8' });
  other.shell = sh.stdout.trim();
  return { dirs, files, other };
};`;

const REFUSED = ['EROFS', 'EACCES'];

async function checkWrites(t: Test, base: string, memoryMb: number, kind: 'container' | 'stem-cell'): Promise<void> {
  const { name, res } = await deployAndCallFirst(t, base, () => nodeZip(WRITER), { memoryMb }, kind);
  t.notOk(res.headers.get('x-gantry-function-error'), 'the probe itself ran');
  const out = (await res.json()) as { dirs: Record<string, string>; files: Record<string, string>; other: Record<string, string> };
  t.equal(out.dirs['/tmp'], 'written', '/tmp is writable');
  for (const d of ['/var/task', '/', '/etc', '/var/runtime', '/run/gantry', '/usr/local/bin']) {
    t.ok(REFUSED.includes(out.dirs[d] ?? ''), `creating a file in ${d} is refused (got ${out.dirs[d]})`);
  }
  // /dev/shm is Docker's default per-container shm tmpfs (64 MB): writable unless the container
  // is created with IpcMode "none", which removes it (Lambda has no /dev/shm either).
  t.ok(REFUSED.includes(out.dirs['/dev/shm'] ?? '') || out.dirs['/dev/shm'] === 'ENOENT', `creating a file in /dev/shm is refused (got ${out.dirs['/dev/shm']})`);
  for (const [f, code] of Object.entries(out.files)) t.ok(REFUSED.includes(code), `appending to ${f} is refused (got ${code})`);
  for (const [op, code] of Object.entries(out.other).filter(([k]) => k !== 'shell')) t.ok(REFUSED.includes(code), `${op} in a read-only place is refused (got ${code})`);
  t.not(out.other.shell, '0', 'a shell redirection into /etc fails too');
  const again = await invoke(name);
  t.notOk(again.headers.get('x-gantry-function-error'), 'the code is intact: the function still loads and runs');
  t.match(await again.json(), { dirs: { '/tmp': 'written' } });
}

await t.test('a function cannot write anywhere outside /tmp, and can write to /tmp', async (t) => {
  await t.test('in a new container', async (t) => checkWrites(t, 'writer-container', 160, 'container'));
  await t.test('in a specialised stem cell', async (t) => checkWrites(t, 'writer-stem', 128, 'stem-cell'));
  await controlAnswers(t, 'after the write attempts');
});

// ---------------------------------------------------------------------------------------------
// 2. The pids limit.

const FORKER = `const fs = require('fs');
const { spawn } = require('child_process');
const read = (...paths) => { for (const p of paths) { try { return fs.readFileSync(p, 'utf8').trim(); } catch {} } return null; };
const pidsMax = () => read('/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/pids.max');
const tasks = () => fs.readdirSync('/proc').filter((d) => /^\\d+$/.test(d)).reduce((n, d) => { try { return n + fs.readdirSync('/proc/' + d + '/task').length; } catch { return n; } }, 0);
// A shell forks short sleeps until fork fails (dash then gives up with "Cannot fork"); Node,
// sharing the same pids cgroup, then tries to spawn too until it is refused.
function forkUntilRefused() {
  return new Promise((resolve) => {
    const sh = spawn('/bin/sh', ['-c', 'i=0; while [ $i -lt 400 ]; do sleep 8 >/dev/null 2>&1 & i=$((i+1)); done; echo never'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    sh.stdout.on('data', (d) => (out += d));
    sh.stderr.on('data', (d) => (err += d));
    sh.once('close', (code) => {
      const busy = tasks();
      let spawnedAfter = 0;
      for (let i = 0; i < 10; i++) {
        const probe = spawn('/bin/sleep', ['8'], { stdio: 'ignore' });
        if (probe.pid === undefined) {
          probe.once('error', (e) => resolve({ shellExit: code, shellOut: out.trim(), shellErr: err.trim(), tasks: busy, spawnedAfter, refused: e.code, pidsMax: pidsMax() }));
          return;
        }
        spawnedAfter++;
      }
      resolve({ shellExit: code, shellOut: out.trim(), shellErr: err.trim(), tasks: busy, spawnedAfter, refused: null, pidsMax: pidsMax() });
    });
  });
}
function spawnOnce() {
  return new Promise((resolve) => {
    const c = spawn('/bin/true', [], { stdio: 'ignore' });
    c.once('error', (e) => resolve(e.code));
    c.once('exit', (code) => resolve(code === 0 ? 'ok' : 'exit ' + code));
  });
}
exports.handler = async (e) => {
  if (e.mode === 'fork') return forkUntilRefused();
  if (e.mode === 'spawn-once') return spawnOnce();
  if (e.mode === 'bomb') {
    // A classic shell fork bomb; the handler never answers (the timer keeps the event loop
    // alive, so this is a hung handler rather than an early exit).
    spawn('/bin/sh', ['-c', 'b() { b | b & }; b'], { stdio: 'ignore', detached: true }).on('error', () => {});
    return new Promise(() => setInterval(() => {}, 1000));
  }
  return { alive: process.pid };
};`;

await t.test('a fork bomb hits the pids limit and only that function fails', async (t) => {
  // Forking 128 processes takes a while on a loaded machine: the measuring function gets time
  // enough; the bomb itself runs in a function with a 3 s timeout.
  await deployFunction(t, stack, 'forker', nodeZip(FORKER), { memoryMb: 168, timeoutMs: 20_000 });
  await deployFunction(t, stack, 'bomber', nodeZip(FORKER), { memoryMb: 184, timeoutMs: 3000 });
  t.notOk((await invoke('forker', { mode: 'hello' })).headers.get('x-gantry-function-error'));
  t.notOk((await invoke('bomber', { mode: 'hello' })).headers.get('x-gantry-function-error'));

  // Forking until refused, with the control function called at the same time.
  const [forkRes] = await Promise.all([invoke('forker', { mode: 'fork' }), controlAnswers(t, 'while forker forks')]);
  t.notOk(forkRes.headers.get('x-gantry-function-error'), 'the forking call itself answered');
  const report = (await forkRes.json()) as { shellExit: number; shellErr: string; tasks: number; spawnedAfter: number; refused: string | null; pidsMax: string | null };
  t.equal(report.pidsMax, '128', 'the container has a pids limit of 128');
  t.match(report.shellErr, /Cannot fork/, `the shell ran out of processes (${JSON.stringify(report)})`);
  t.not(report.shellExit, 0);
  t.equal(report.refused, 'EAGAIN', 'then spawn() is refused with EAGAIN');
  t.ok(report.spawnedAfter <= 2, `at most the shell's own slot was free (${report.spawnedAfter})`);
  t.ok(report.tasks >= 120 && report.tasks <= 128, `the container held ${report.tasks} tasks, never more than 128`);
  await controlAnswers(t, 'right after the fork loop');
  // The sleeps end after 8 s: the same container can spawn again.
  t.ok(await eventually(async () => (await (await invoke('forker', { mode: 'spawn-once' })).json()) === 'ok', 30_000, 250), 'forker spawns again once its children are gone');

  // A real fork bomb that never returns: the function times out, its container is replaced,
  // and the control function keeps answering during the whole bomb and right after it.
  const bomb = invoke('bomber', { mode: 'bomb' });
  let bombSettled = false;
  void bomb.finally(() => (bombSettled = true)).catch(() => undefined);
  const during: boolean[] = [];
  while (!bombSettled && during.length < 200) during.push(await controlOk());
  t.ok(during.length >= 1, `control was called ${during.length} time(s) while the bomb ran`);
  t.equal(during.filter((ok) => !ok).length, 0, 'and answered right every time');
  const bombRes = await bomb;
  t.equal(bombRes.status, 200);
  t.equal(bombRes.headers.get('x-gantry-function-error'), 'Unhandled');
  const err = (await bombRes.json()) as { errorType: string; errorMessage: string };
  t.equal(err.errorType, 'Sandbox.Timedout', `the bomb ends in a timeout (${JSON.stringify(err)})`);
  t.match(err.errorMessage, /Task timed out after 3\.00 seconds$/);
  await controlAnswers(t, 'right after the fork bomb');

  const again = await invoke('bomber', { mode: 'hello' });
  t.notOk(again.headers.get('x-gantry-function-error'), 'the bombed function works again');
  t.equal(again.headers.get('x-gantry-cold-start'), 'true', 'in a new container');
  t.match(await again.json(), { alive: Number });
});

// ---------------------------------------------------------------------------------------------
// 3. Memory past memoryMb.

const HOG = `exports.handler = async (e) => {
  if (!e.eat) return { fine: true };
  const held = [];
  // Off the V8 heap: only the cgroup can stop this.
  for (let i = 0; i < 256; i++) held.push(Buffer.alloc(8 * 1024 * 1024, i & 0xff));
  return { survived: held.length * 8 };
};`;

await t.test('allocating past memoryMb ends in Runtime.OutOfMemory and the next call works', async (t) => {
  await deployFunction(t, stack, 'hog', nodeZip(HOG), { memoryMb: 128, timeoutMs: 20_000 });
  const res = await invoke('hog', { eat: true });
  t.equal(res.status, 200);
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  const err = (await res.json()) as { errorType: string; errorMessage: string };
  t.equal(err.errorType, 'Runtime.OutOfMemory', JSON.stringify(err));
  t.match(err.errorMessage, /Runtime exited with error: signal: killed$/);
  await controlAnswers(t, 'after the out-of-memory kill');
  const next = await invoke('hog', {});
  t.notOk(next.headers.get('x-gantry-function-error'));
  t.equal(next.headers.get('x-gantry-cold-start'), 'true', 'a new container');
  t.same(await next.json(), { fine: true });
});

// ---------------------------------------------------------------------------------------------
// 4. Another function's code and socket.

const SECRET = `gantry-isolation-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;

/** B: a function whose code holds a secret; it reports its own view. */
const holderZip = (tag: string) =>
  makeZip([
    { name: 'index.js', content: `// ${SECRET} ${tag}\nconst fs = require('fs');\nexports.handler = async () => ({ task: fs.readdirSync('/var/task').sort(), run: fs.readdirSync('/run/gantry') });` },
    { name: 'secret.txt', content: `${SECRET}\n` },
  ]);

/**
 * A: tries every way to B's code and socket it is given or can construct, and scans what it can
 * read of its own filesystem for the secret.
 */
const READER = `const fs = require('fs');
const net = require('net');
const path = require('path');
function tryConnect(p) {
  return new Promise((resolve) => {
    const s = net.connect({ path: p });
    const timer = setTimeout(() => { s.destroy(); resolve('TIMEOUT'); }, 1000);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve('connected'); });
    s.once('error', (e) => { clearTimeout(timer); resolve(e.code ?? String(e)); });
  });
}
function tryRead(p) {
  try { const st = fs.statSync(p); if (st.isDirectory()) return 'listed:' + fs.readdirSync(p).join(','); return 'read:' + fs.readFileSync(p, 'utf8').slice(0, 200); } catch (e) { return e.code ?? String(e); }
}
function scan(dir, secret, found, budget) {
  let ents;
  try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of ents) {
    if (budget.files <= 0) return;
    const p = path.join(dir, e.name);
    if (['/proc', '/sys', '/dev'].includes(p)) continue;
    if (e.isDirectory()) scan(p, secret, found, budget);
    else if (e.isFile()) {
      try {
        if (fs.statSync(p).size > 4 * 1024 * 1024) continue;
        budget.files--;
        if (fs.readFileSync(p).includes(secret)) found.push(p);
      } catch {}
    }
  }
}
exports.handler = async (e) => {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').map((l) => l.split(' '));
  const rootOf = (mp) => { const m = mounts.find((f) => f[4] === mp); return m ? m[3] : null; };
  const taskSrc = rootOf('/var/task');
  const runSrc = rootOf('/run/gantry');
  const paths = new Set(e.paths);
  const sockets = new Set(e.sockets);
  if (taskSrc && /[0-9a-f]{64}/.test(taskSrc)) for (const sha of e.shas) paths.add(taskSrc.replace(/[0-9a-f]{64}/, sha));
  if (runSrc) {
    // <data>/containers/<node>/<env>/runtime: B's environment and the code cache are siblings.
    const envRoot = path.dirname(runSrc);
    const containersDir = path.dirname(envRoot);
    const codeRoot = path.join(path.dirname(path.dirname(containersDir)), 'code');
    for (const sha of e.shas) { paths.add(path.join(codeRoot, sha)); paths.add(path.join(codeRoot, sha, 'secret.txt')); }
    for (const id of e.envIds) {
      paths.add(path.join(containersDir, id, 'task'));
      paths.add(path.join(containersDir, id, 'task', 'secret.txt'));
      sockets.add(path.join(containersDir, id, 'runtime', 'runtime.sock'));
      if (taskSrc) paths.add(taskSrc.split(path.basename(envRoot)).join(id));
    }
    paths.add(containersDir);
    paths.add(codeRoot);
  }
  for (const id of e.envIds) sockets.add('/run/gantry/../../' + id + '/runtime/runtime.sock');
  const reads = {};
  for (const p of paths) reads[p] = tryRead(p);
  const connects = {};
  for (const s of sockets) connects[s] = await tryConnect(s);
  const found = [];
  scan('/', e.secret, found, { files: 20000 });
  return {
    task: fs.readdirSync('/var/task').sort(),
    run: fs.readdirSync('/run/gantry').sort(),
    taskSrc, runSrc, reads, connects, found,
    ownSocket: await tryConnect('/run/gantry/runtime.sock'),
    dockerSocket: await tryConnect('/var/run/docker.sock'),
  };
};`;

const readerZip = () => makeZip([{ name: 'index.js', content: READER }, { name: 'reader-marker.txt', content: 'mine\n' }]);

interface Holder {
  readonly name: string;
  readonly sha: string;
  readonly envId: string;
  readonly kind: string;
}
const holders: Holder[] = [];

/** The host directory of the environment whose task directory or code mount holds `name`'s code. */
async function envIdOf(name: string, kind: string): Promise<string> {
  if (kind === 'container') {
    const c = (await stack.containers()).find((x) => x.Labels['gantry.function'] === name);
    return c?.Labels['gantry.environment'] ?? 'missing';
  }
  // A specialised stem cell keeps its stem-cell labels: find it by the code placed in its task dir.
  for (const id of await readdir(containersDir())) {
    const marker = path.join(containersDir(), id, 'task', 'index.js');
    if (existsSync(marker) && existsSync(path.join(containersDir(), id, 'task', 'secret.txt'))) {
      if ((await readFile(marker, 'utf8')).includes(` ${name}\n`)) return id;
    }
  }
  return 'missing';
}

async function deployHolder(t: Test, base: string, memoryMb: number, expectKind: 'container' | 'stem-cell'): Promise<void> {
  const { name, created, res } = await deployAndCallFirst(t, base, holderZip, { memoryMb }, expectKind);
  t.same(await res.json(), { task: ['index.js', 'secret.txt'], run: ['runtime.sock'] }, `${name} sees its own code`);
  const envId = await envIdOf(name, expectKind);
  t.not(envId, 'missing', `${name}'s environment is found on the host`);
  t.ok(existsSync(path.join(containersDir(), envId, 'runtime', 'runtime.sock')), `${name}'s socket exists on the host`);
  holders.push({ name, sha: created.codeSha256 as string, envId, kind: expectKind });
}

async function attackFrom(t: Test, base: string, memoryMb: number, expectKind: 'container' | 'stem-cell'): Promise<void> {
  // A new container mounts the code cache directory itself; a stem cell its own task directory.
  const hostPaths = holders.flatMap((h) => [
    path.join(stack.dataDir, 'code', h.sha),
    path.join(stack.dataDir, 'code', h.sha, 'secret.txt'),
    ...(h.kind === 'stem-cell' ? [path.join(containersDir(), h.envId, 'task'), path.join(containersDir(), h.envId, 'task', 'secret.txt')] : []),
  ]);
  for (const p of hostPaths) t.ok(existsSync(p), `on the host, ${p} exists`);
  const hostSockets = holders.map((h) => path.join(containersDir(), h.envId, 'runtime', 'runtime.sock'));
  const probe = { secret: SECRET, paths: hostPaths, sockets: hostSockets, shas: holders.map((h) => h.sha), envIds: holders.map((h) => h.envId) };
  const { name: reader, res } = await deployAndCallFirst(t, base, readerZip, { memoryMb, timeoutMs: 60_000 }, expectKind, probe);
  t.notOk(res.headers.get('x-gantry-function-error'), `${reader}'s probe ran`);
  const out = (await res.json()) as {
    task: string[];
    run: string[];
    taskSrc: string | null;
    runSrc: string | null;
    reads: Record<string, string>;
    connects: Record<string, string>;
    found: string[];
    ownSocket: string;
    dockerSocket: string;
  };
  t.same(out.task, ['index.js', 'reader-marker.txt'], `${reader}'s /var/task holds exactly its own files`);
  t.same(out.run, ['runtime.sock'], `${reader}'s /run/gantry holds only its own runtime.sock`);
  t.ok(out.taskSrc && out.runSrc, `${reader} learned its mounts' host paths (${out.taskSrc}, ${out.runSrc})`);
  t.ok(Object.keys(out.reads).length >= hostPaths.length, 'every host path was tried');
  for (const [p, r] of Object.entries(out.reads)) t.ok(['ENOENT', 'EACCES'].includes(r), `${reader} cannot open ${p} (got ${r.slice(0, 80)})`);
  t.ok(Object.keys(out.connects).length >= hostSockets.length, 'every socket path was tried');
  for (const [p, r] of Object.entries(out.connects)) t.ok(['ENOENT', 'EACCES'].includes(r), `${reader} cannot connect to ${p} (got ${r})`);
  t.same(out.found, [], `the secret is nowhere in ${reader}'s filesystem`);
  t.equal(out.ownSocket, 'connected', `${reader} reaches its own socket (the probe works)`);
  t.equal(out.dockerSocket, 'ENOENT', 'no Docker socket inside');
}

await t.test("a function cannot read another function's code or reach another container's socket", async (t) => {
  await deployHolder(t, 'holder-container', 208, 'container');
  await deployHolder(t, 'holder-stem', 128, 'stem-cell');
  await t.test('from a new container', async (t) => attackFrom(t, 'reader-container', 176, 'container'));
  await t.test('from a specialised stem cell', async (t) => attackFrom(t, 'reader-stem', 128, 'stem-cell'));
  for (const h of holders) t.same(await (await invoke(h.name)).json(), { task: ['index.js', 'secret.txt'], run: ['runtime.sock'] }, `${h.name} still sees only its own code`);
  await controlAnswers(t, 'after the code and socket probes');
});

// ---------------------------------------------------------------------------------------------
// 5. Non-root, no capabilities.

const WHOAMI = `const fs = require('fs');
exports.handler = async () => {
  const status = Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => l.includes(':')).map((l) => { const i = l.indexOf(':'); return [l.slice(0, i), l.slice(i + 1).trim()]; }));
  let setuid; try { process.setuid(0); setuid = 'became root'; } catch (e) { setuid = e.code; }
  let chown; try { fs.writeFileSync('/tmp/mine', 'x'); fs.chownSync('/tmp/mine', 0, 0); chown = 'chowned'; } catch (e) { chown = e.code; }
  return { uid: process.getuid(), gid: process.getgid(), euid: process.geteuid(), groups: process.getgroups(), status, setuid, chown };
};`;

async function checkIdentity(t: Test, base: string, memoryMb: number, expectKind: 'container' | 'stem-cell'): Promise<void> {
  const { res } = await deployAndCallFirst(t, base, () => nodeZip(WHOAMI), { memoryMb }, expectKind);
  const out = (await res.json()) as { uid: number; gid: number; euid: number; groups: number[]; status: Record<string, string>; setuid: string; chown: string };
  t.equal(out.uid, 993, 'uid 993');
  t.equal(out.euid, 993, 'euid 993');
  t.equal(out.gid, 993, 'gid 993');
  t.same(out.groups, [993], 'no supplementary groups');
  t.equal(out.status.Uid, '993\t993\t993\t993');
  for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.equal(out.status[cap], '0000000000000000', `${cap} is empty`);
  t.equal(out.status.NoNewPrivs, '1', 'no-new-privileges');
  t.equal(out.setuid, 'EPERM', 'setuid(0) is refused');
  t.equal(out.chown, 'EPERM', 'chown to root is refused');
}

await t.test('a function runs as a non-root user with no capabilities', async (t) => {
  await t.test('in a new container', async (t) => checkIdentity(t, 'whoami-container', 240, 'container'));
  await t.test('in a specialised stem cell', async (t) => checkIdentity(t, 'whoami-stem', 128, 'stem-cell'));
  await controlAnswers(t, 'after the identity checks');
});

// ---------------------------------------------------------------------------------------------
// 6. The platform is still healthy.

await t.test('the platform keeps serving other functions throughout and is ready at the end', async (t) => {
  await controlAnswers(t, 'at the end');
  t.ok(controlCalls >= 8, `control was called after every attack (${controlCalls} calls)`);
  for (const url of [stack.controlPlaneUrl, stack.gatewayUrl]) {
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    t.equal(ready.status, 200, `${url}/readyz is 200`);
  }
  // Let the stem-cell pool finish the cells it is starting (one per memory size used above):
  // a container still being created when the stack closes can outlive close() (a shutdown race
  // outside this file's subject, reported separately), and the teardown counts survivors.
  const starting = async () => Number(/^gantry_environments\{state="starting"\} (\S+)$/m.exec(await metrics())?.[1] ?? NaN);
  let quietPolls = 0;
  t.ok(await eventually(async () => ((quietPolls = (await starting()) === 0 ? quietPolls + 1 : 0) >= 3), 60_000, 750), 'no environment is starting any more');
});
