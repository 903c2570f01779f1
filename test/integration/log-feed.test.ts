// The live log feed against real Redis: lines stored by one node reach the followers of another,
// only the followed function's, in order; followers per process are bounded; close ends them.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createLogger } from '../../common/logger.js';
import { createRedis, RedisKeys } from '../../common/redis.js';
import type { LogLine } from '../../control-plane/logs/environment-log.js';
import { LogFeed } from '../../control-plane/logs/log-feed.js';
import { requireServices, TEST_REDIS_URL } from '../support/services.js';
import { eventually } from '../support/stack.js';

await requireServices(t, { docker: false });
const keys = new RedisKeys(`test:logfeed:${randomBytes(4).toString('hex')}:`);
const logger = createLogger({ level: 'silent', name: 'log-feed-test' });
const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
t.teardown(() => redis.quit());

async function node(maxFollowers = 10): Promise<LogFeed> {
  const feed = new LogFeed({ redis, subscriber: createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000, lazyConnect: true }), keys, logger }, { maxFollowers });
  await feed.start();
  t.teardown(() => feed.close());
  return feed;
}

const line = (functionName: string, message: string) => ({ tenantId: 'default', functionName, invocationId: null, time: new Date(), stream: 'stdout' as const, message });

t.test('a line stored on one node reaches a follower on another, only for its function', async (t) => {
  const [writer, reader] = [await node(), await node()];
  const got: LogLine[] = [];
  const f = reader.follow('default', 'a', (l) => got.push(l), () => undefined);
  writer.publish([line('a', 'one'), line('b', 'not mine'), line('a', 'two')]);
  t.ok(await eventually(async () => got.length >= 2, 2_000, 10));
  t.same(got.map((l) => l.message), ['one', 'two']);
  t.type(got[0]?.time, Date);
  f.stop();
  writer.publish([line('a', 'after stop')]);
  // Proof the stopped follower would have had time to get it: a live one on the same node does.
  const later: string[] = [];
  reader.follow('default', 'a', (l) => later.push(l.message), () => undefined);
  writer.publish([line('a', 'marker')]);
  t.ok(await eventually(async () => later.includes('marker'), 2_000, 10));
  t.notOk(got.some((l) => l.message === 'after stop'));
});

t.test('a big batch is split into bounded messages and arrives whole, in order', async (t) => {
  const [writer, reader] = [await node(), await node()];
  const got: string[] = [];
  reader.follow('default', 'big', (l) => got.push(l.message), () => undefined);
  const lines = Array.from({ length: 40 }, (_, i) => line('big', `${i}:${'x'.repeat(20_000)}`));
  writer.publish(lines);
  t.ok(await eventually(async () => got.length === 40, 5_000, 10));
  t.same(got.map((m) => Number(m.split(':')[0])), lines.map((_, i) => i));
});

t.test('followers per process are bounded; close ends every follower', async (t) => {
  const feed = await node(2);
  let ended = 0;
  feed.follow('default', 'x', () => undefined, () => (ended += 1));
  const second = feed.follow('default', 'y', () => undefined, () => (ended += 1));
  t.throws(() => feed.follow('default', 'z', () => undefined, () => undefined), { name: 'FollowersFull' });
  second.stop();
  feed.follow('default', 'z', () => undefined, () => (ended += 1));
  t.equal(feed.followerCount, 2, 'a stopped follower frees its place');
  await feed.close();
  t.equal(ended, 2, 'both live followers were told');
  t.equal(feed.followerCount, 0);
  t.throws(() => feed.follow('default', 'x', () => undefined, () => undefined), { name: 'FollowersFull' }, 'closed: no new follower');
});
