// Exactly-once metering against what clients saw, with the control plane run as users run it (the
// built process): SIGKILLed in the middle of a concurrent load and restarted (same node id and data
// dir: orphans swept, spool replayed); Postgres cut off behind a proxy this test owns (invocations
// are spooled, then shipped once it is back); and, past the spool's backlog bound, invocations
// refused with 503 before they run. The shared Postgres itself is never touched.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import t from 'tap';
import { dropDatabase, ensureDatabase } from '../../common/db.js';
import { freePort, spawnControlPlane, type Running } from '../support/control-plane-process.js';
import { requireServices, TEST_DATABASE_BASE, TEST_REDIS_URL } from '../support/services.js';
import { eventually, withDatabase } from '../support/stack.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { nodeZip } from '../support/zip.js';

await requireServices(t);
const id = randomBytes(4).toString('hex');
const nodeId = `test-meterkill-${id}`;
const token = `meter-token-${randomBytes(16).toString('hex')}`;
const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-meterkill-'));
const dbName = `gantry_test_${id}`;
const directUrl = withDatabase(TEST_DATABASE_BASE, dbName);
const pgTarget = new URL(TEST_DATABASE_BASE);
const proxy = new TcpProxy(pgTarget.hostname, Number(pgTarget.port || 5432));
await proxy.start();
const proxiedUrl = (() => {
  const u = new URL(directUrl);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
})();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const docker = new Docker();
const containers = () => docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });
await ensureDatabase(directUrl);
const db = new pg.Pool({ connectionString: directUrl, max: 2 });
let current: Running | undefined;

t.teardown(async () => {
  if (current && current.child.exitCode === null) {
    current.child.kill('SIGTERM');
    await Promise.race([current.exited, new Promise((r) => setTimeout(r, 30_000))]);
  }
  for (const c of await containers()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  await db.end();
  await proxy.stop();
  await dropDatabase(directUrl).catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
});

async function startControlPlane(extraEnv: Record<string, string> = {}): Promise<Running> {
  current = await spawnControlPlane(
    {
      DATABASE_URL: proxiedUrl,
      REDIS_URL: TEST_REDIS_URL,
      GANTRY_REDIS_PREFIX: `test:${id}:`,
      GANTRY_ADMIN_TOKEN: token,
      GANTRY_DATA_DIR: dataDir,
      GANTRY_NODE_ID: nodeId,
      GANTRY_CONTROL_PLANE_PORT: String(port),
      GANTRY_BIND_HOST: '127.0.0.1',
      GANTRY_LOG_LEVEL: 'info',
      GANTRY_STEM_CELLS_PER_RUNTIME: '0',
      GANTRY_SHUTDOWN_GRACE_MS: '5000',
      ...extraEnv,
    },
    `${base}/healthz`,
  );
  return current;
}

async function stopControlPlane(r: Running): Promise<void> {
  r.child.kill('SIGTERM');
  await r.exited;
}

const admin = (method: string, p: string, body?: unknown) =>
  fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });

interface LoadResult {
  readonly ok: string[];
  readonly refused: number;
  /** Sent but never answered (the connection broke): these may or may not have run. */
  readonly unanswered: number;
}

/** `clients` closed-loop clients invoking `fn` until `stop()` says so (bounded by `max` requests). */
function load(fn: string, clients: number, max: number, stop: () => boolean): Promise<LoadResult> {
  const ok: string[] = [];
  let refused = 0;
  let unanswered = 0;
  let sent = 0;
  const worker = async () => {
    while (!stop() && sent < max) {
      sent += 1;
      try {
        const res = await admin('POST', `/v1/functions/${fn}/invoke`, { ms: 15 });
        await res.arrayBuffer();
        const invocationId = res.headers.get('x-gantry-invocation-id');
        if (res.status === 200 && invocationId) ok.push(invocationId);
        else refused += 1;
      } catch {
        unanswered += 1;
        if (stop()) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  return Promise.all(Array.from({ length: clients }, worker)).then(() => ({ ok, refused, unanswered }));
}

async function entriesOf(fn: string): Promise<Map<string, number>> {
  const rows = (await db.query<{ id: string; n: number }>(`SELECT id::text, count(*)::int AS n FROM invocations WHERE function_name = $1 GROUP BY id`, [fn])).rows;
  return new Map(rows.map((r) => [r.id, r.n]));
}

async function rollupRequests(fn: string): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT coalesce(sum(requests), 0)::int AS n FROM usage_hourly WHERE function_name = $1`, [fn])).rows[0]?.n ?? -1;
}

const WORK = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 1)); return { ok: true }; };`;
const COUNTER = `let n = 0; exports.handler = async () => ({ n: ++n });`;

await t.test('SIGKILL during a concurrent load: every answered invocation billed exactly once after restart', async (t) => {
  let cp = await startControlPlane();
  t.equal((await admin('POST', '/v1/functions', { name: 'busy', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: nodeZip(WORK).toString('base64') } })).status, 201);
  t.equal((await admin('POST', '/v1/functions/busy/invoke', { ms: 1 })).status, 200, 'warm');
  let killed = false;
  const running = load('busy', 8, 5_000, () => killed);
  const started = Date.now();
  // Let a few hundred invocations finish (or 8 s pass), then kill mid-flight.
  while (Date.now() - started < 8_000) {
    await new Promise((r) => setTimeout(r, 100));
    if ((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM invocations WHERE function_name = 'busy'`)).rows[0]!.n >= 150) break;
  }
  cp.child.kill('SIGKILL');
  killed = true;
  await cp.exited;
  const seen = await running;
  t.ok(seen.ok.length >= 50, `${seen.ok.length} invocations answered before the kill`);

  cp = await startControlPlane();
  t.ok(await eventually(async () => cp.logs().some((l) => l.msg === 'metering spool replayed'), 30_000), 'the spool was replayed at start');
  const replay = cp.logs().find((l) => l.msg === 'metering spool replayed') as { entries: number; inserted: number };
  t.ok(replay.entries > 0, `replayed ${replay.entries} entries, ${replay.inserted} of them new`);
  t.ok(cp.logs().some((l) => l.msg === 'orphan containers removed'), 'the killed process\'s containers were swept');

  const entries = await entriesOf('busy');
  const missing = seen.ok.filter((i) => entries.get(i) !== 1);
  t.same(missing, [], 'every invocation whose caller got a result has exactly one entry');
  const seenSet = new Set(seen.ok);
  const extra = [...entries.keys()].filter((i) => !seenSet.has(i));
  // The warm-up call, plus at most the calls in flight at the kill (they may have run).
  t.ok(extra.length <= seen.unanswered + 1, `${extra.length} entries without an answer ≤ ${seen.unanswered} in flight + the warm-up`);
  t.equal(await rollupRequests('busy'), entries.size, 'the hourly rollup counted every entry once');
  await stopControlPlane(cp);
});

await t.test('Postgres unreachable: invocations are spooled, none lost or billed twice once it is back', async (t) => {
  const cp = await startControlPlane();
  t.equal((await admin('POST', '/v1/functions', { name: 'held', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: nodeZip(WORK).toString('base64') } })).status, 201);
  t.equal((await admin('POST', '/v1/functions/held/invoke', { ms: 1 })).status, 200, 'warm (and cached: invoking needs no Postgres)');
  let done = false;
  const running = load('held', 4, 3_000, () => done);
  await new Promise((r) => setTimeout(r, 500));
  await proxy.stop();
  const during: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await admin('POST', '/v1/functions/held/invoke', { ms: 1 });
    if (res.status === 200) during.push(res.headers.get('x-gantry-invocation-id') as string);
  }
  t.equal(during.length, 20, 'invocations keep being answered while Postgres is away');
  const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, boolean> };
  t.equal(ready.checks.postgres, false);
  t.equal(ready.checks.metering, true, 'metering is fine: the spool holds the entries');
  const inDb = await entriesOf('held');
  t.ok(during.every((i) => !inDb.has(i)), 'none of them reached Postgres yet');
  await new Promise((r) => setTimeout(r, 1_000));
  await proxy.start();
  await new Promise((r) => setTimeout(r, 500));
  done = true;
  const seen = await running;
  t.equal(seen.unanswered, 0);
  const all = [...seen.ok, ...during];
  t.ok(await eventually(async () => {
    const e = await entriesOf('held');
    return all.every((i) => e.get(i) === 1);
  }, 30_000, 200), `all ${all.length} answered invocations arrive exactly once`);
  const entries = await entriesOf('held');
  t.equal(entries.size, all.length + 1, 'no other entry (only the warm-up)');
  t.equal(await rollupRequests('held'), entries.size, 'rollup counted each once');
  await stopControlPlane(cp);
});

await t.test('past the spool backlog bound, invocations get 503 before they run; none runs unbilled', async (t) => {
  const cp = await startControlPlane({ GANTRY_METERING_SPOOL_MAX_BYTES: '8192' });
  t.equal((await admin('POST', '/v1/functions', { name: 'counter', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: nodeZip(COUNTER).toString('base64') } })).status, 201);
  t.equal((await admin('POST', '/v1/functions/counter/invoke', {})).status, 200, 'warm');
  await proxy.stop();
  const answered: number[] = [];
  let firstRefusal: Response | undefined;
  for (let i = 0; i < 200 && firstRefusal === undefined; i++) {
    const res = await admin('POST', '/v1/functions/counter/invoke', {});
    if (res.status === 200) answered.push(((await res.json()) as { n: number }).n);
    else firstRefusal = res;
  }
  t.ok(firstRefusal, `refused after ${answered.length} spooled invocations`);
  t.equal(firstRefusal?.status, 503);
  t.match(await firstRefusal?.json(), { error: { type: 'ServiceUnavailable' } });
  for (let i = 0; i < 5; i++) t.equal((await admin('POST', '/v1/functions/counter/invoke', {})).status, 503, 'still refused');
  t.equal(((await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, boolean> }).checks.metering, false, '/readyz says metering is not ready');
  await proxy.start();
  t.ok(await eventually(async () => ((await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, boolean> }).checks.metering === true, 30_000, 200), 'ready again once shipped');
  const after = await admin('POST', '/v1/functions/counter/invoke', {});
  t.equal(after.status, 200);
  const n = ((await after.json()) as { n: number }).n;
  // The counter lives in the one warm environment: had a refused call run, it would have counted.
  t.equal(n, answered.length + 2, 'the refused invocations never ran');
  t.ok(await eventually(async () => (await entriesOf('counter')).size === n, 30_000, 200), 'one entry per invocation that ran, no more');
  await stopControlPlane(cp);
});
