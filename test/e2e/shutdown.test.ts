// The control plane as users run it (the built process): SIGTERM drains in-flight invocations and
// then removes its containers; a SIGKILLed control plane's containers are swept at next start.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import t from 'tap';
import { dropDatabase } from '../../common/db.js';
import { freePort, spawnControlPlane, type Running } from '../support/control-plane-process.js';
import { requireServices, TEST_DATABASE_BASE, TEST_REDIS_URL } from '../support/services.js';
import { eventually, withDatabase } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

await requireServices(t);
const id = randomBytes(4).toString('hex');
const nodeId = `test-shutdown-${id}`;
const token = `shutdown-token-${randomBytes(16).toString('hex')}`;
const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-shutdown-'));
const databaseUrl = withDatabase(TEST_DATABASE_BASE, `gantry_test_${id}`);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const docker = new Docker();
const containers = () => docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });

t.teardown(async () => {
  for (const c of await containers()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  await dropDatabase(databaseUrl).catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
});

const startControlPlane = (): Promise<Running> =>
  spawnControlPlane(
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      GANTRY_REDIS_PREFIX: `test:${id}:`,
      GANTRY_ADMIN_TOKEN: token,
      GANTRY_DATA_DIR: dataDir,
      GANTRY_NODE_ID: nodeId,
      GANTRY_CONTROL_PLANE_PORT: String(port),
      GANTRY_BIND_HOST: '127.0.0.1',
      // The per-invocation summary line is at debug level.
      GANTRY_LOG_LEVEL: 'debug',
    },
    `${base}/healthz`,
    20_000,
  );

/** Invocations holding a concurrency slot on the control plane at `url`, from its /metrics. */
async function concurrencyInUse(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return Number(/^gantry_concurrency_in_use (\S+)$/m.exec(text)?.[1] ?? 0);
}

const admin = (method: string, p: string, body?: unknown) =>
  fetch(base + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

await t.test('SIGTERM lets an in-flight invocation finish, then removes the containers', async (t) => {
  const cp = await startControlPlane();
  const slow = nodeZip(`exports.handler = (e) => new Promise((r) => setTimeout(() => r({ slept: e.ms }), e.ms));`);
  const created = await admin('POST', '/v1/functions', { name: 'slow', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: slow.toString('base64') } });
  t.equal(created.status, 201);
  t.same(await (await admin('POST', '/v1/functions/slow/invoke', { ms: 1 })).json(), { slept: 1 }, 'warm container ready');
  const inFlight = admin('POST', '/v1/functions/slow/invoke', { ms: 1500 });
  t.ok(await eventually(async () => (await concurrencyInUse(base)) >= 1, 5_000), 'the call is in flight');
  cp.child.kill('SIGTERM');
  const res = await inFlight;
  t.equal(res.status, 200, 'the in-flight call completed');
  t.same(await res.json(), { slept: 1500 });
  t.equal(await cp.exited, 0, 'exit code 0');
  t.same(await containers(), [], 'no container left');
  t.match(cp.output(), /"msg":"invocation finished"/, 'one summary line per invocation');
  t.notMatch(cp.output(), new RegExp(token), 'the admin token is never logged');
});

await t.test('a restarted control plane removes the containers a killed one left behind', async (t) => {
  const first = await startControlPlane();
  t.equal((await admin('POST', '/v1/functions/slow/invoke', { ms: 1 })).status, 200);
  first.child.kill('SIGKILL');
  await first.exited;
  const orphans = new Set((await containers()).map((c) => c.Id));
  t.ok(orphans.size >= 1, 'the killed process left its containers (warm environment, stem cells)');
  const second = await startControlPlane();
  t.ok(await eventually(async () => (await containers()).every((c) => !orphans.has(c.Id)), 10_000), 'every orphan removed at start');
  t.same(await (await admin('POST', '/v1/functions/slow/invoke', { ms: 2 })).json(), { slept: 2 }, 'and it serves again');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});
