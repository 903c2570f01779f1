// Two control-plane nodes behind one gateway, on one database and Redis prefix (design.md,
// Scaling out): each node advertises itself in Redis; the gateway sends every function to its
// home node, so a function's environments gather on one node; a full node's calls go to another
// without running anything twice; a node that leaves stops getting calls.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import t from 'tap';
import type { NodeRecord } from '../../common/cluster-nodes.js';
import { dropDatabase } from '../../common/db.js';
import { createLogger } from '../../common/logger.js';
import { createRedis } from '../../common/redis.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/app.js';
import { loadControlPlaneConfig } from '../../control-plane/config.js';
import { createGateway } from '../../gateway/app.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { homeNode } from '../../gateway/upstream/node-selector.js';
import { requireServices, TEST_DATABASE_BASE, TEST_REDIS_URL } from '../support/services.js';
import { eventually, withDatabase } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

await requireServices(t);
const id = randomBytes(4).toString('hex');
const prefix = `test:${id}:`;
const token = `test-admin-token-${randomBytes(16).toString('hex')}`;
const databaseUrl = withDatabase(TEST_DATABASE_BASE, `gantry_test_${id}`);
const logger = createLogger({ level: process.env.GANTRY_TEST_LOG_LEVEL ?? 'silent', name: `cluster-${id}` });
const docker = new Docker();
const nodeIds = { a: `test-${id}-a`, b: `test-${id}-b` };
const shared = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: TEST_REDIS_URL,
  GANTRY_REDIS_PREFIX: prefix,
  GANTRY_ADMIN_TOKEN: token,
  // Nodes with data directories of their own share the token as nodes on several machines do.
  GANTRY_INTERNAL_TOKEN: `test-internal-token-${randomBytes(16).toString('hex')}`,
  GANTRY_BIND_HOST: '127.0.0.1',
  GANTRY_ROUTE_RESYNC_INTERVAL_MS: '1000',
  GANTRY_STEM_CELLS_PER_RUNTIME: '0',
  GANTRY_NODE_HEARTBEAT_INTERVAL_MS: '300',
};
// Likewise the key that seals stored secrets: every control plane of one database needs the same.
const secretsDir = await mkdtemp(path.join(tmpdir(), 'gantry-test-secrets-'));
const dataDirs: string[] = [secretsDir];

async function startNode(nodeId: string, env: Record<string, string> = {}): Promise<{ cp: ControlPlane; url: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-test-'));
  dataDirs.push(dataDir);
  const cp = createControlPlane(loadControlPlaneConfig({ ...shared, GANTRY_DATA_DIR: dataDir, GANTRY_ENCRYPTION_KEY_FILE: path.join(secretsDir, 'encryption-key'), GANTRY_NODE_ID: nodeId, GANTRY_CONTROL_PLANE_PORT: '0', ...env }), logger, { announce: () => undefined });
  return { cp, url: `http://127.0.0.1:${await cp.start()}` };
}

const a = await startNode(nodeIds.a);
// B's budget holds one 128 MB environment: a second concurrent call is "node full" there.
const b = await startNode(nodeIds.b, { GANTRY_NODE_MEMORY_MB: '128' });
const gateway = createGateway(loadGatewayConfig({ ...shared, GANTRY_CONTROL_PLANE_URL: a.url, GANTRY_GATEWAY_PORT: '0', GANTRY_NODE_REFRESH_INTERVAL_MS: '200' }), logger);
const gatewayUrl = `http://127.0.0.1:${await gateway.start()}`;
let bClosed = false;

t.teardown(async () => {
  await gateway.close();
  await a.cp.close();
  if (!bClosed) await b.cp.close();
  const left = await docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeIds.a}`, `gantry.node=${nodeIds.b}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
  const names = await redis.keys(`${prefix}*`);
  if (names.length > 0) await redis.del(...names);
  redis.disconnect();
  await dropDatabase(databaseUrl).catch(() => undefined);
  await Promise.all(dataDirs.map((d) => rm(d, { recursive: true, force: true })));
});

const admin = (method: string, p: string, body?: unknown) =>
  fetch(a.url + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const nodeOf = async (fn: string) => {
  const list = await docker.listContainers({ all: true, filters: { label: [`gantry.function=${fn}`] } });
  return list.map((c) => c.Labels['gantry.node']).filter((n) => n === nodeIds.a || n === nodeIds.b).sort();
};
// The same pure choice the gateway makes, over the ids it reads from Redis.
const records: NodeRecord[] = [nodeIds.a, nodeIds.b].map((n) => ({ id: n, url: '', inFlight: 0, freeMemoryMb: 0 }));
const homedOn = (nodeId: string, count: number) => {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (homeNode(records, `fn-${i}-${id}`)?.id === nodeId) out.push(`fn-${i}-${id}`);
  return out;
};
const onA = homedOn(nodeIds.a, 2);
const onB = homedOn(nodeIds.b, 2);
const SLEEP = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.queryStringParameters?.ms ? Number(e.queryStringParameters.ms) : 0)); return { statusCode: 200, body: 'ok' }; };`;

await t.test('both nodes advertise themselves in Redis', async (t) => {
  const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
  t.teardown(() => redis.disconnect());
  t.same((await redis.smembers(`${prefix}nodes`)).sort(), [nodeIds.a, nodeIds.b].sort());
  const record = JSON.parse((await redis.get(`${prefix}node:${nodeIds.b}`)) ?? '{}') as NodeRecord;
  t.match(record, { id: nodeIds.b, url: b.url, inFlight: 0 });
  t.ok((await redis.pttl(`${prefix}node:${nodeIds.b}`)) <= 900, 'the advertisement expires unless refreshed');
});

await t.test('the gateway sends each function to its home node only', async (t) => {
  t.equal((await admin('POST', '/v1/apis', { name: 'spread' })).status, 201);
  for (const fn of [...onA, ...onB]) {
    t.equal((await admin('POST', '/v1/functions', { name: fn, runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 30_000, code: { zipBase64: nodeZip(SLEEP).toString('base64') } })).status, 201);
    t.equal((await admin('POST', '/v1/apis/spread/routes', { routeKey: `GET /${fn}`, function: fn })).status, 201);
  }
  // Checked right after each function's calls: node b's budget holds one environment, so the
  // next function there evicts the last one's.
  for (const [fn, home] of [...onA.map((f) => [f, nodeIds.a]), ...onB.map((f) => [f, nodeIds.b])] as [string, string][]) {
    t.ok(await eventually(async () => (await fetch(`${gatewayUrl}/spread/${fn}`)).status === 200, 30_000), `${fn} answers`);
    for (let i = 0; i < 3; i++) t.equal((await fetch(`${gatewayUrl}/spread/${fn}`)).status, 200);
    t.same(await nodeOf(fn), [home], `${fn} runs on its home node ${home} only`);
  }
});

await t.test('a call its full home node refuses runs on the other node, once', async (t) => {
  const fn = onB[0] as string;
  const calls = await Promise.all([1500, 1500].map((ms) => fetch(`${gatewayUrl}/spread/${fn}?ms=${ms}`)));
  t.same(calls.map((r) => r.status), [200, 200], 'both answered');
  t.same(await nodeOf(fn), [nodeIds.a, nodeIds.b].sort(), 'the second one on node a');
  const invocations = async (url: string) => Number(/^gantry_invocations_total\{function="[^"]+",outcome="success"\} (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
  t.ok((await invocations(a.url)) >= 1 && (await invocations(b.url)) >= 1);
});

await t.test('a node that leaves gets no more calls; its functions move to the other', async (t) => {
  await b.cp.close();
  bClosed = true;
  const fn = onB[1] as string;
  t.ok(await eventually(async () => (await fetch(`${gatewayUrl}/spread/${fn}`)).status === 200, 10_000), `${fn} answers again`);
  t.same(await nodeOf(fn), [nodeIds.a], 'served by node a now (node b removed its containers)');
});
