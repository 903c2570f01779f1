// Node advertisement and discovery against real Redis: a node's heartbeat makes it live for every
// gateway's directory, withdrawal removes it at once, a node that dies without a word drops out
// when its key expires, and a directory that cannot read Redis keeps what it knew.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createLogger } from '../../common/logger.js';
import { createRedis, RedisKeys } from '../../common/redis.js';
import { NodeHeartbeat } from '../../control-plane/cluster/node-heartbeat.js';
import { NodeDirectory } from '../../gateway/upstream/node-directory.js';
import { requireServices, TEST_REDIS_URL } from '../support/services.js';
import { eventually } from '../support/stack.js';

await requireServices(t, { docker: false });
const prefix = `test:nodes:${randomBytes(4).toString('hex')}:`;
const keys = new RedisKeys(prefix);
const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
const logger = createLogger({ level: 'silent', name: 'cluster-nodes-test' });
t.teardown(async () => {
  const names = await redis.keys(`${prefix}*`);
  if (names.length > 0) await redis.del(...names);
  await redis.quit();
});

const SEED = 'http://seed.invalid:9000';
const directory = () => new NodeDirectory({ redis, keys, logger }, { seedUrl: SEED, refreshIntervalMs: 60_000 });
const heartbeat = (nodeId: string, inFlight = 0) =>
  new NodeHeartbeat({ redis, keys, load: () => ({ inFlight, freeMemoryMb: 512 }), logger }, { nodeId, url: `http://${nodeId}:9000`, intervalMs: 100 });
const ids = (d: NodeDirectory) => d.current().map((n) => n.id);

t.test('with no node advertised, the seed URL stands in', async (t) => {
  const d = directory();
  await d.refresh();
  t.same(d.current().map((n) => n.url), [SEED]);
  t.equal(d.homeFor('anything').url, SEED);
});

t.test('live nodes are seen with their load; a withdrawn node is gone at the next refresh', async (t) => {
  const one = heartbeat('node-1', 3);
  const two = heartbeat('node-2', 1);
  await one.start();
  await two.start();
  const d = directory();
  await d.refresh();
  t.same(ids(d), ['node-1', 'node-2']);
  t.match(d.current()[0], { id: 'node-1', url: 'http://node-1:9000', inFlight: 3, freeMemoryMb: 512 });
  const home = d.homeFor('f');
  t.same(d.fallbacksFor(home).map((n) => n.id), ['node-1', 'node-2'].filter((n) => n !== home.id));
  await two.close();
  await two.close();
  await d.refresh();
  t.same(ids(d), ['node-1']);
  t.equal(d.homeFor('f').id, 'node-1', 'homes follow the node set');
  await one.close();
  await d.refresh();
  t.same(d.current().map((n) => n.url), [SEED], 'back to the seed');
});

t.test('a node that dies without withdrawing drops out when its key expires, and leaves the set', async (t) => {
  // What a SIGKILLed node leaves behind: its set member and an expiring key, no more beats.
  await redis.sadd(`${prefix}nodes`, 'ghost');
  await redis.set(`${prefix}node:ghost`, JSON.stringify({ id: 'ghost', url: 'http://ghost:9000', inFlight: 0, freeMemoryMb: 0 }), 'PX', 300);
  const d = directory();
  await d.refresh();
  t.same(ids(d), ['ghost']);
  t.ok(await eventually(async () => (await redis.exists(`${prefix}node:ghost`)) === 0, 5_000), 'the key expired');
  await d.refresh();
  t.same(d.current().map((n) => n.url), [SEED]);
  t.same(await redis.smembers(`${prefix}nodes`), [], 'the stale member is removed');
});

t.test('a directory that cannot read Redis keeps its last view', async (t) => {
  const live = heartbeat('node-3');
  await live.start();
  t.teardown(() => live.close());
  const own = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 200 });
  const d = new NodeDirectory({ redis: own, keys, logger }, { seedUrl: SEED, refreshIntervalMs: 60_000 });
  await d.refresh();
  t.same(ids(d), ['node-3']);
  own.disconnect();
  await d.refresh();
  t.same(ids(d), ['node-3'], 'Redis gone: the last view stays');
  const blind = new NodeDirectory({ redis: own, keys, logger }, { seedUrl: SEED, refreshIntervalMs: 60_000 });
  await blind.refresh();
  t.same(blind.current().map((n) => n.url), [SEED], 'nothing known yet: the seed');
});
