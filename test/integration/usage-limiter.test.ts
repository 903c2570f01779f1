// The admission script against real Redis, with two clients standing in for two gateways:
// quotas and buckets are exact under concurrency, and a rejected request consumes nothing.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createRedis, type Redis } from '../../common/redis.js';
import { RedisUsageLimiter, type Admission, type AdmissionRequest } from '../../gateway/throttle/usage-limiter.js';
import { requireServices, TEST_REDIS_URL } from '../support/services.js';
import { eventually } from '../support/stack.js';

await requireServices(t, { docker: false });
const prefix = `test:limiter:${randomBytes(4).toString('hex')}:`;
const clients: Redis[] = [createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 }), createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 })];
const [a, b] = clients.map((c) => new RedisUsageLimiter(c, `${prefix}unused`)) as [RedisUsageLimiter, RedisUsageLimiter];
t.teardown(async () => {
  const names = await clients[0]?.keys(`${prefix}*`);
  if (names && names.length > 0) await clients[0]?.del(...names);
  await Promise.all(clients.map((c) => c.quit()));
});

let n = 0;
const fresh = (what: string) => `${prefix}${what}:${++n}`;

/** `count` admissions split across both clients, all in flight at once. */
async function burst(count: number, request: AdmissionRequest): Promise<Record<Admission, number>> {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => (i % 2 === 0 ? a : b).admit(request)));
  const tally: Record<Admission, number> = { admitted: 0, throttled: 0, 'quota-exceeded': 0 };
  for (const r of results) tally[r] += 1;
  return tally;
}

t.test('a quota of N admits exactly N of many concurrent requests from two clients', async (t) => {
  const quota = { name: fresh('quota'), limit: 25, ttlMs: 60_000 };
  const usageDay = { name: fresh('day'), ttlMs: 60_000 };
  t.strictSame(await burst(80, { quota, usageDay }), { admitted: 25, throttled: 0, 'quota-exceeded': 55 });
  t.equal(await clients[0]?.get(quota.name), '25');
  t.equal(await clients[0]?.get(usageDay.name), '25', 'only admitted requests are counted for the day');
  t.ok(Number(await clients[0]?.pttl(quota.name)) > 0, 'the quota counter expires');
});

t.test('a bucket that never refills admits exactly its burst', async (t) => {
  const keyBucket = { name: fresh('bucket'), rateLimit: 0, burstLimit: 7 };
  t.strictSame(await burst(40, { keyBucket }), { admitted: 7, throttled: 33, 'quota-exceeded': 0 });
});

t.test('a throttled request consumes no quota and is not counted', async (t) => {
  const keyBucket = { name: fresh('bucket'), rateLimit: 0, burstLimit: 3 };
  const quota = { name: fresh('quota'), limit: 100, ttlMs: 60_000 };
  const usageDay = { name: fresh('day'), ttlMs: 60_000 };
  t.strictSame(await burst(10, { keyBucket, quota, usageDay }), { admitted: 3, throttled: 7, 'quota-exceeded': 0 });
  t.equal(await clients[0]?.get(quota.name), '3');
  t.equal(await clients[0]?.get(usageDay.name), '3');
});

t.test('a request over quota takes no token from the bucket', async (t) => {
  const keyBucket = { name: fresh('bucket'), rateLimit: 0, burstLimit: 5 };
  const quota = { name: fresh('quota'), limit: 2, ttlMs: 60_000 };
  t.strictSame(await burst(4, { keyBucket, quota }), { admitted: 2, throttled: 0, 'quota-exceeded': 2 });
  const raised = { ...quota, limit: 10 };
  t.strictSame(await burst(10, { keyBucket, quota: raised }), { admitted: 3, throttled: 7, 'quota-exceeded': 0 }, '5 tokens - 2 used = 3 left');
});

t.test('the route bucket and the key bucket must both have a token', async (t) => {
  const keyBucket = { name: fresh('bucket'), rateLimit: 0, burstLimit: 10 };
  const routeBucket = { name: fresh('bucket'), rateLimit: 0, burstLimit: 4 };
  t.strictSame(await burst(12, { keyBucket, routeBucket }), { admitted: 4, throttled: 8, 'quota-exceeded': 0 });
  t.strictSame(await burst(6, { keyBucket }), { admitted: 6, throttled: 0, 'quota-exceeded': 0 }, 'the key bucket lost only 4 tokens');
});

t.test('an empty bucket refills at rateLimit per second', async (t) => {
  const routeBucket = { name: fresh('bucket'), rateLimit: 50, burstLimit: 2 };
  t.equal((await burst(10, { routeBucket })).admitted <= 3, true, 'about the burst at once');
  // 50 tokens/s: a token is back within 20 ms; poll rather than sleep a fixed time.
  t.ok(await eventually(async () => (await a.admit({ routeBucket })) === 'admitted', 2_000, 10), 'admitted again after a refill');
});

t.test('a burst of zero admits nothing', async (t) => {
  t.strictSame(await burst(3, { routeBucket: { name: fresh('bucket'), rateLimit: 100, burstLimit: 0 } }), { admitted: 0, throttled: 3, 'quota-exceeded': 0 });
});

t.test('nothing is written for a rejected request to a never-seen bucket key', async (t) => {
  const quota = { name: fresh('quota'), limit: 0, ttlMs: 60_000 };
  const keyBucket = { name: fresh('bucket'), rateLimit: 1, burstLimit: 1 };
  t.equal(await a.admit({ keyBucket, quota }), 'quota-exceeded');
  t.equal(await clients[0]?.exists(keyBucket.name, quota.name), 0);
});
