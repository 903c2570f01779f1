// Async invocations survive the failures that matter: the control plane SIGKILLed while events
// are queued and running (every accepted event runs at least once after the restart, and the
// ledger bills each attempt once), SIGTERM (running events finish, queued ones wait for the next
// start), and Redis itself killed and restarted with its append-only file (no accepted event is
// lost). The Redis of the last test is this test's own redis-server, never the shared one.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { invocation, invokeAsync, settled, shippedAttempts } from '../support/async.js';
import { freePort, processStack } from '../support/control-plane-process.js';
import { requireServices } from '../support/services.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

await requireServices(t);
const SLOW = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return { n: e.n }; };`;
const slowZip = nodeZip(SLOW);

/** How many of `ids` have an outcome in Postgres (written before a job leaves the queue). */
async function outcomes(databaseUrl: string, ids: readonly string[]): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return Number((await db.query('SELECT count(*) AS n FROM async_invocations WHERE id = ANY($1::uuid[])', [ids])).rows[0].n);
  } finally {
    await db.end();
  }
}

await t.test('a SIGKILLed control plane delivers every accepted event after its restart, billing each attempt once', async (t) => {
  const cp = await processStack(t, { GANTRY_ASYNC_LOCK_MS: '2000', GANTRY_LOG_LEVEL: 'debug' });
  const first = await cp.start();
  const created = await cp.admin('POST', '/v1/functions', { name: 'slow', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: slowZip.toString('base64') } });
  t.equal(created.status, 201);
  t.equal((await cp.admin('PATCH', '/v1/functions/slow', { reservedConcurrency: 2 })).status, 200);
  const ids: string[] = [];
  for (let n = 0; n < 12; n++) ids.push(await invokeAsync(t, cp.admin, 'slow', { ms: 700, n }));
  const views = () => Promise.all(ids.map((id) => invocation(cp.admin, id)));
  t.ok(await eventually(async () => (await views()).filter((v) => v?.status === 'running').length >= 1, 30_000), 'some are running');
  first.child.kill('SIGKILL');
  await first.exited;
  const unfinished = ids.length - (await outcomes(cp.databaseUrl, ids));
  t.ok(unfinished >= 2, `events were queued or running at the kill (${unfinished} unfinished)`);
  const second = await cp.start();
  const done = await Promise.all(ids.map((id) => settled(cp.admin, id, 120_000)));
  t.ok(done.every((d) => d?.status === 'succeeded'), 'every accepted event succeeded after the restart');
  t.same(done.map((d) => (d?.result as { n: number }).n), ids.map((_, n) => n), 'each with its own event');
  const rows = await shippedAttempts(cp.databaseUrl, ids);
  t.ok([...rows.values()].every((a) => a.length === 1 && a[0] === 1), 'exactly one ledger row per event: no attempt billed twice');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

await t.test('SIGTERM lets running async events finish; queued ones run after the next start', async (t) => {
  const cp = await processStack(t, { GANTRY_ASYNC_LOCK_MS: '2000', GANTRY_LOG_LEVEL: 'debug' });
  const first = await cp.start();
  const created = await cp.admin('POST', '/v1/functions', { name: 'slow', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: slowZip.toString('base64') } });
  t.equal(created.status, 201);
  t.equal((await cp.admin('PATCH', '/v1/functions/slow', { reservedConcurrency: 1 })).status, 200);
  const ids: string[] = [];
  for (let n = 0; n < 4; n++) ids.push(await invokeAsync(t, cp.admin, 'slow', { ms: 1500, n }));
  t.ok(await eventually(async () => (await invocation(cp.admin, ids[0] as string))?.status === 'running', 30_000), 'the first is running');
  first.child.kill('SIGTERM');
  t.equal(await first.exited, 0, 'a clean exit');
  t.match(first.output(), /"msg":"async invocation finished"/, 'the running one finished before the exit');
  t.equal(await outcomes(cp.databaseUrl, [ids[0] as string]), 1, 'its outcome is recorded');
  t.ok(ids.length - (await outcomes(cp.databaseUrl, ids)) >= 2, 'queued ones did not run');
  const second = await cp.start();
  const done = await Promise.all(ids.map((id) => settled(cp.admin, id, 60_000)));
  t.ok(done.every((d) => d?.status === 'succeeded'), 'the rest ran after the restart');
  const rows = await shippedAttempts(cp.databaseUrl, ids);
  t.ok([...rows.values()].every((a) => a.length === 1 && a[0] === 1), 'each billed once, the one that ran before the SIGTERM included');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

await t.test('Redis killed and restarted with its append-only file loses no accepted event', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-redis-'));
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:${port}`;
  let redis = startRedis(dir, port);
  t.teardown(async () => {
    redis.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  t.ok(await redisUp(port), 'own redis-server up');
  const stack = await startStack(t, { env: { REDIS_URL: redisUrl, GANTRY_ASYNC_LOCK_MS: '2000', GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS: '50', GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: '500' } });
  await deployFunction(t, stack, 'slow', slowZip);
  t.equal((await stack.admin('PATCH', '/v1/functions/slow', { reservedConcurrency: 1 })).status, 200);
  const ids: string[] = [];
  for (let n = 0; n < 10; n++) ids.push(await invokeAsync(t, stack.admin, 'slow', { ms: 300, n }));
  redis.kill('SIGKILL');
  await new Promise((r) => redis.once('exit', r));
  const during = await stack.admin('POST', '/v1/functions/slow/invoke?async=true', { ms: 1, n: 99 });
  t.equal(during.status, 503, 'while Redis is down an event is refused, never accepted and lost');
  t.match(await during.json(), { error: { type: 'ServiceUnavailable' } });
  redis = startRedis(dir, port);
  t.ok(await redisUp(port), 'redis-server restarted on its append-only file');
  const done = await Promise.all(ids.map((id) => settled(stack.admin, id, 120_000)));
  t.ok(done.every((d) => d?.status === 'succeeded'), `every accepted event ran (${done.filter((d) => d?.status === 'succeeded').length}/10)`);
  const rows = await shippedAttempts(stack.databaseUrl, ids);
  t.ok([...rows.values()].every((a) => a.length === 1), 'each billed once');
  t.equal((await stack.admin('POST', '/v1/functions/slow/invoke?async=true', { ms: 1, n: 100 })).status, 202, 'and new events are accepted again');
});

function startRedis(dir: string, port: number) {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'], {
    stdio: 'ignore',
  });
}

async function redisUp(port: number): Promise<boolean> {
  const { default: Redis } = await import('ioredis');
  return eventually(async () => {
    const r = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      // Loading the append-only file answers LOADING until done.
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }, 15_000, 100);
}
