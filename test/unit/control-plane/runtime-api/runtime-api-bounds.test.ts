// The limiter logic behind the Runtime API bounds: buckets on a manual clock, the fd budget's
// grants, the environment's own slot, and the limit read from /proc/self/limits.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import t from 'tap';
import { defaultFdHeadroom, FdBudget, FDS_PER_ENVIRONMENT, readFdLimit } from '../../../../control-plane/runtime-api/fd-budget.js';
import { RateBucket } from '../../../../control-plane/runtime-api/rate-bucket.js';
import { DEFAULT_RUNTIME_API_LIMITS, RuntimeApiBounds, type RuntimeApiLimits } from '../../../../control-plane/runtime-api/runtime-api-bounds.js';
import { ManualClock } from '../../../support/manual-clock.js';

/** Stands in for a net.Socket: only its close event matters to the bounds. */
const fakeSocket = () => new EventEmitter() as unknown as Socket;
const close = (s: Socket) => (s as unknown as EventEmitter).emit('close');

t.test('a bucket grants its burst at once, then its rate, and never stores more than its burst', async (t) => {
  const clock = new ManualClock(1000);
  const b = new RateBucket(10, 20, clock.now);
  let granted = 0;
  for (let i = 0; i < 100; i++) if (b.tryTake()) granted++;
  t.equal(granted, 20, 'the burst');
  t.notOk(b.tryTake(), 'empty');
  clock.advance(100);
  t.ok(b.tryTake(), 'one token after a tenth of a second');
  t.notOk(b.tryTake());
  clock.advance(60_000);
  granted = 0;
  for (let i = 0; i < 100; i++) if (b.tryTake()) granted++;
  t.equal(granted, 20, 'a long pause refills the burst, not more');
});

t.test('a refused take takes nothing', async (t) => {
  const clock = new ManualClock();
  const b = new RateBucket(10, 5, clock.now);
  t.notOk(b.tryTake(6));
  t.ok(b.tryTake(5));
});

t.test('charge goes into debt and says how long to wait until it is paid', async (t) => {
  const clock = new ManualClock();
  const b = new RateBucket(1000, 1000, clock.now);
  t.equal(b.charge(1000), 0, 'within the burst: no wait');
  t.equal(b.charge(500), 500, '500 tokens of debt at 1000/s: 500 ms');
  clock.advance(500);
  t.equal(b.charge(0), 0, 'paid back');
  t.equal(b.charge(1), 1);
});

t.test('the clock going backwards grants nothing', async (t) => {
  const clock = new ManualClock(10_000);
  const b = new RateBucket(10, 1, clock.now);
  t.ok(b.tryTake());
  clock.set(0);
  t.notOk(b.tryTake());
});

t.test('the fd budget grants extra connections up to limit - headroom, counting reservations', async (t) => {
  const budget = new FdBudget(100, 40);
  t.equal(budget.capacity, 60);
  budget.reserve(50);
  let granted = 0;
  for (let i = 0; i < 20; i++) if (budget.tryAcquire()) granted++;
  t.equal(granted, 10);
  t.strictSame(budget.stats(), { limit: 100, headroom: 40, inUse: 60, refused: 10 });
  budget.release(1);
  t.ok(budget.tryAcquire(), 'a release makes room for one');
  t.notOk(budget.tryAcquire());
  t.equal(new FdBudget(10, 50).capacity, 0, 'headroom past the limit leaves nothing, not a negative capacity');
});

t.test('the default headroom is a tenth of the limit, at least 1024, at most half', async (t) => {
  t.equal(defaultFdHeadroom(20_000), 2_000);
  t.equal(defaultFdHeadroom(4_096), 1_024);
  t.equal(defaultFdHeadroom(1_024), 512);
  t.equal(defaultFdHeadroom(1_048_576), 104_857);
});

t.test('readFdLimit reads the soft limit from /proc/self/limits', async (t) => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             63446                63446                processes ',
    'Max open files            20000                1048576              files     ',
    'Max locked memory         8388608              8388608              bytes     ',
  ].join('\n');
  t.equal(readFdLimit(text), 20_000);
  t.equal(readFdLimit('Max open files            unlimited            unlimited            files'), Number.MAX_SAFE_INTEGER);
  t.equal(readFdLimit('nothing here'), undefined);
  t.equal(readFdLimit('Max open files            -3            5            files'), undefined);
  const own = readFdLimit();
  t.ok(own === undefined || own > 0, 'this process has a readable limit, or no procfs');
});

const limits = (over: Partial<RuntimeApiLimits>): RuntimeApiLimits => ({ ...DEFAULT_RUNTIME_API_LIMITS, ...over });

t.test("an environment's first connection is always granted; extras draw on the node's budget", async (t) => {
  const budget = new FdBudget(2 * (FDS_PER_ENVIRONMENT + 1) + 1, 0);
  const clock = new ManualClock();
  const node = new RuntimeApiBounds(limits({ connectionsPerSecond: 1000 }), budget, clock.now);
  const a = node.forEnvironment();
  const b = node.forEnvironment();
  a.reserve();
  b.reserve();
  a.reserve(); // idempotent
  t.equal(budget.stats().inUse, 2 * (FDS_PER_ENVIRONMENT + 1));
  const a1 = fakeSocket();
  const a2 = fakeSocket();
  t.ok(a.admit(a1), "a's own connection");
  t.ok(a.admit(a2), 'one extra fits the budget');
  t.notOk(a.admit(fakeSocket()), 'a second extra does not');
  t.ok(b.admit(fakeSocket()), "b's own connection is granted although the budget is full");
  t.equal(node.refusals.fdBudget, 1);
  t.equal(node.openConnections(), 3);
  close(a1);
  t.equal(node.openConnections(), 2);
  t.equal(budget.stats().inUse, 2 * (FDS_PER_ENVIRONMENT + 1) + 1, 'the own slot is not budget');
  t.ok(a.admit(fakeSocket()), 'the freed own slot is taken by the next connection');
  close(a2);
  t.equal(budget.stats().inUse, 2 * (FDS_PER_ENVIRONMENT + 1), 'the extra is given back');
  a.unreserve();
  a.unreserve();
  t.equal(budget.stats().inUse, FDS_PER_ENVIRONMENT + 1);
});

t.test('connections past the per-environment rate are refused until it refills', async (t) => {
  const clock = new ManualClock();
  const node = new RuntimeApiBounds(limits({ connectionsPerSecond: 5 }), new FdBudget(1_000_000, 0), clock.now);
  const env = node.forEnvironment();
  let granted = 0;
  for (let i = 0; i < 50; i++) {
    const s = fakeSocket();
    if (env.admit(s)) {
      granted++;
      close(s);
    }
  }
  t.equal(granted, 5);
  t.equal(node.refusals.connectionRate, 45);
  clock.advance(1000);
  t.ok(env.admit(fakeSocket()));
});

t.test('idle requests have a burst of two seconds, and each environment has its own', async (t) => {
  const clock = new ManualClock();
  const node = new RuntimeApiBounds(limits({ requestsPerSecond: 10 }), undefined, clock.now);
  const a = node.forEnvironment();
  const b = node.forEnvironment();
  let granted = 0;
  for (let i = 0; i < 100; i++) if (a.admitIdleRequest()) granted++;
  t.equal(granted, 20);
  t.ok(b.admitIdleRequest(), 'a flood of one environment costs another nothing');
  t.equal(node.refusals.requestRate, 80);
});

t.test('bytes: two maximal responses pass without a pause; a flood pauses at the byte rate', async (t) => {
  const clock = new ManualClock();
  const node = new RuntimeApiBounds(DEFAULT_RUNTIME_API_LIMITS, undefined, clock.now);
  const env = node.forEnvironment();
  const sixMiB = 6 * 1024 * 1024;
  t.equal(env.chargeBytes(sixMiB), 0);
  t.equal(env.chargeBytes(sixMiB), 0);
  t.equal(node.refusals.bytePauses, 0);
  const wait = env.chargeBytes(64 * 1024 * 1024);
  t.ok(wait > 800 && wait <= 1000, `64 MiB past the burst waits about a second (${wait} ms)`);
  t.equal(node.refusals.bytePauses, 1);
});
