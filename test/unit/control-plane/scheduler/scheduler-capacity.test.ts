import t from 'tap';
import { GantryError } from '../../../../common/errors.js';
import type { FunctionId, FunctionVersion } from '../../../../control-plane/functions/function-types.js';
import type { EnvironmentLease } from '../../../../control-plane/scheduler/scheduler.js';
import { counts, echo, fn, harness, leaseOf, sleep, waitFor, type Harness } from '../../../support/scheduler-harness.js';

function provision(h: Harness, ...wants: [FunctionVersion, number][]): void {
  h.scheduler.setProvisioned(new Map<FunctionId, { version: FunctionVersion; count: number }>(wants.map(([version, count]) => [version.functionId, { version, count }])));
}

/** Resolves to 'pending' when `p` has not settled within `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([p.then(() => 'settled' as const), sleep(ms).then(() => 'pending' as const)]);
}

t.test('over the node budget, idle environments are evicted least recently used first, and all busy gives TooManyRequests', async (t) => {
  const h = await harness(t, { nodeMemoryMb: 384 });
  const [la, lb, lc] = [await leaseOf(h.scheduler, fn('a', 1)), await leaseOf(h.scheduler, fn('b', 1)), await leaseOf(h.scheduler, fn('c', 1))];
  const idOf = (l: EnvironmentLease) => h.containers.containerOf(l.environmentId);

  const full = await h.scheduler.acquire(fn('d', 1)).then(() => undefined, (e: unknown) => e);
  t.type(full, GantryError);
  t.equal((full as GantryError).type, 'TooManyRequests', 'all three busy: nothing can be evicted');
  t.equal(h.containers.startAttempts.length, 3, 'and nothing was started');

  // Release order a, c, b: that is the LRU order.
  la.release('reuse');
  h.clock.advance(10);
  lc.release('reuse');
  h.clock.advance(10);
  lb.release('reuse');
  const ld = await leaseOf(h.scheduler, fn('d', 1));
  t.equal(ld.coldStart, 'container');
  t.strictSame(h.containers.destroyed, [idOf(la)], 'a, the least recently used, made room');
  const le = await leaseOf(h.scheduler, fn('e', 1));
  t.strictSame(h.containers.destroyed, [idOf(la), idOf(lc)], 'then c');
  t.equal((await leaseOf(h.scheduler, fn('b', 1))).coldStart, 'none', 'b stayed warm');

  const again = await h.scheduler.acquire(fn('f', 1)).then(() => undefined, (e: unknown) => e);
  t.equal((again as GantryError).type, 'TooManyRequests');
  t.equal(h.containers.startAttempts.length, 5);
  await waitFor('the evicted directories to go', async () => (await h.envDirs()).length === 3);
  t.strictSame((await h.envDirs()).sort(), [ld.environmentId, le.environmentId, lb.environmentId].sort(), 'no directory leaked');
  t.strictSame(h.scheduler.stats(), counts({ busy: 3 }));
  await h.closeClean(t);
});

t.test('a larger function evicts as many idle environments as it needs', async (t) => {
  const h = await harness(t, { nodeMemoryMb: 384 });
  const leases = [await leaseOf(h.scheduler, fn('a', 1)), await leaseOf(h.scheduler, fn('b', 1)), await leaseOf(h.scheduler, fn('c', 1))];
  for (const l of leases) {
    l.release('reuse');
    h.clock.advance(10);
  }
  const big = await leaseOf(h.scheduler, fn('big', 1, { memoryMb: 256 }));
  t.equal(big.coldStart, 'container');
  t.strictSame(
    h.containers.destroyed,
    leases.slice(0, 2).map((l) => h.containers.containerOf(l.environmentId)),
  );
  t.strictSame(h.scheduler.stats(), counts({ idle: 1, busy: 1 }, 384));
  await h.closeClean(t);
});

t.test('provisioned environments are never evicted to make room', async (t) => {
  const h = await harness(t, { nodeMemoryMb: 256 });
  const p = fn('p', 1);
  provision(h, [p, 2]);
  await waitFor('two provisioned environments', () => h.scheduler.provisionedReady(p.functionId) === 2);
  await t.rejects(h.scheduler.acquire(fn('a', 1)), { name: 'GantryError', type: 'TooManyRequests' });
  t.strictSame(h.containers.destroyed, []);
  await h.closeClean(t);
});

t.test('an init failure is cached for initFailureBackoffMs: no new start until it expires', async (t) => {
  const h = await harness(t, { initFailureBackoffMs: 5_000 });
  h.containers.queued.push({ kind: 'init-error', errorType: 'Runtime.ImportModuleError' });
  const first = await h.scheduler.acquire(fn('a', 1));
  t.match(first, { kind: 'init-failed', cached: false, coldStart: 'container', outcome: { kind: 'init-error', errorType: 'Runtime.ImportModuleError' } });
  t.equal(h.containers.startAttempts.length, 1);

  h.clock.advance(4_999);
  const second = await h.scheduler.acquire(fn('a', 1));
  t.match(second, { kind: 'init-failed', cached: true, initDurationUs: 0, outcome: { kind: 'init-error', errorType: 'Runtime.ImportModuleError' } });
  t.equal(h.containers.startAttempts.length, 1, 'no start within the backoff');

  const otherVersion = await leaseOf(h.scheduler, fn('a', 2));
  t.equal(otherVersion.coldStart, 'container', 'another version is not affected');
  otherVersion.release('reuse');

  h.clock.advance(2);
  const third = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(third.coldStart, 'container', 'after the backoff a new start happens');
  t.equal(h.containers.startAttempts.length, 3);
  t.equal(await echo(third, 'ok'), 'ok');
  await h.closeClean(t);
});

t.test('provisioned concurrency keeps initialised environments ready, used warm and replaced when they die', async (t) => {
  const h = await harness(t);
  const p = fn('p', 1);
  t.equal(h.scheduler.provisionedReady(p.functionId), 0);
  provision(h, [p, 2]);
  await waitFor('two provisioned environments', () => h.scheduler.provisionedReady(p.functionId) === 2);
  t.equal(h.containers.started.length, 2);
  for (const s of h.containers.started) t.equal(s.spec.env.AWS_LAMBDA_INITIALIZATION_TYPE, 'provisioned-concurrency');
  t.strictSame(h.scheduler.stats(), counts({ idle: 2 }));

  const lease = await leaseOf(h.scheduler, p);
  t.equal(lease.coldStart, 'none');
  t.equal(lease.initDurationUs, 0);
  t.equal(h.scheduler.provisionedReady(p.functionId), 2, 'a busy provisioned environment still counts');
  t.equal(await echo(lease, 'warm'), 'warm');
  lease.release('reuse');

  const victim = h.containers.started[0]?.id;
  if (!victim) throw new Error('no container');
  h.containers.exit(victim, { exitCode: 1, oomKilled: false });
  await waitFor('the dead one to be destroyed', () => h.containers.destroyed.includes(victim));
  await waitFor('a replacement', () => h.containers.started.length === 3 && h.scheduler.provisionedReady(p.functionId) === 2);
  t.equal(h.containers.started[2]?.spec.env.AWS_LAMBDA_INITIALIZATION_TYPE, 'provisioned-concurrency');
  await h.passes(2);
  t.equal(h.containers.started.length, 3, 'no more than the target');
  await h.closeClean(t);
});

t.test('retire() drops the provisioned flags, destroys idle environments and does not provision the retired version again', async (t) => {
  const h = await harness(t);
  const p = fn('p', 1);
  provision(h, [p, 2]);
  await waitFor('two provisioned environments', () => h.scheduler.provisionedReady(p.functionId) === 2);
  const busy = await leaseOf(h.scheduler, p);
  const idleId = h.containers.started.map((s) => s.id).find((id) => id !== h.containers.containerOf(busy.environmentId));
  h.scheduler.retire(p.functionId);
  await waitFor('the idle one to be destroyed', () => idleId !== undefined && h.containers.destroyed.includes(idleId));
  t.equal(h.scheduler.provisionedReady(p.functionId), 0, 'the busy one is no longer provisioned');
  busy.release('reuse');
  await waitFor('the busy one to be destroyed at release', () => h.containers.destroyed.length === 2);
  // Until setProvisioned says otherwise, the retired version must not be started again.
  await h.passes(3);
  t.strictSame(
    h.containers.startAttempts.slice(2).map((s) => `${s.labels['gantry.function']} v${s.labels['gantry.version']} ${s.env.AWS_LAMBDA_INITIALIZATION_TYPE}`),
    [],
    'no environment of the retired version is started',
  );
  await h.closeClean(t);
});

t.test('reaping after keepWarmMs removes idle function environments, never stem cells or provisioned ones', async (t) => {
  const h = await harness(t, { keepWarmMs: 1000, runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  const p = fn('p', 1);
  provision(h, [p, 1]);
  await waitFor('a provisioned environment and a stem cell', () => h.scheduler.provisionedReady(p.functionId) === 1 && h.scheduler.stats().environments['stem-cell'] === 1);
  // A 256 MB function does not fit the default cell: a container of its own (and a learned cell shape).
  const lease = await leaseOf(h.scheduler, fn('a', 1, { memoryMb: 256 }));
  t.equal(lease.coldStart, 'container');
  lease.release('reuse');
  await waitFor('the learned cell too', () => h.scheduler.stats().environments['stem-cell'] === 2);
  const before = [...h.containers.running];
  h.clock.advance(999);
  await h.passes(2);
  t.strictSame(h.containers.destroyed, [], 'nothing is reaped before keepWarmMs');
  h.clock.advance(2);
  const reaped = h.containers.containerOf(lease.environmentId);
  await waitFor('the idle function environment to be reaped', () => reaped !== undefined && h.containers.destroyed.includes(reaped));
  await h.passes(2);
  t.strictSame(h.containers.destroyed, [reaped], 'only it');
  t.strictSame([...h.containers.running].sort(), before.filter((id) => id !== reaped).sort(), 'stem cells and the provisioned environment stay');
  t.equal(h.scheduler.provisionedReady(p.functionId), 1);
  await h.closeClean(t);
});

t.test('close() destroys idle stem cells, provisioned and function environments, and is idempotent', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 2 });
  const p = fn('p', 1);
  provision(h, [p, 1]);
  await waitFor('a provisioned environment and two stem cells', () => h.scheduler.provisionedReady(p.functionId) === 1 && h.scheduler.stats().environments['stem-cell'] === 2);
  const busy = await leaseOf(h.scheduler, fn('a', 1, { memoryMb: 512 }));
  const first = h.scheduler.close();
  t.equal(h.scheduler.close(), first);
  await first;
  t.strictSame(h.containers.running, [], 'everything is destroyed once close() resolves');
  t.strictSame(await h.envDirs(), []);
  t.strictSame([...h.containers.destroyed].sort(), h.containers.started.map((s) => s.id).sort());
  busy.release('reuse');
  await h.scheduler.close();
  t.equal(h.containers.destroyed.length, h.containers.started.length, 'nothing destroyed twice');
  await h.closeClean(t);
});

t.test('close() waits for a container start in flight and removes it', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  const release = h.containers.holdStarts();
  await waitFor('a stem cell start to be in flight', () => h.containers.startAttempts.length === 1);
  const closing = h.scheduler.close();
  const early = await settledWithin(closing, 150);
  release();
  await closing;
  t.equal(early, 'pending', 'close() does not resolve while a start it cannot cancel is in flight');
  t.strictSame(h.containers.running, [], 'the late container is removed by the time close() resolves');
  t.strictSame(await h.envDirs(), []);
  await h.closeClean(t);
});

t.test('close() waits for removals already in flight', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  const open = h.containers.holdDestroys();
  lease.release('discard');
  await waitFor('the removal to begin', () => h.containers.destroyed.length === 1);
  const closing = h.scheduler.close();
  const early = await settledWithin(closing, 150);
  open();
  await closing;
  t.equal(early, 'pending', 'close() does not resolve while an environment is still being removed');
  t.strictSame(h.containers.running, []);
  t.strictSame(await h.envDirs(), []);
  await h.closeClean(t);
});
