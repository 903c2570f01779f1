import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { FunctionId, FunctionVersion, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';
import { Scheduler, type EnvironmentLease, type SchedulerOptions } from '../../../../control-plane/scheduler/scheduler.js';
import { FakeContainerRuntime } from '../../../support/fake-container-runtime.js';
import { ManualClock } from '../../../support/manual-clock.js';

function fn(name: string, versionId: number): FunctionVersion {
  return {
    tenantId: 'default' as TenantId,
    functionId: `fn-${name}` as FunctionId,
    versionId: versionId as VersionId,
    name,
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 3000,
    environment: { GREETING: 'hi' },
    network: 'default',
    codeSha256: 'abc',
    codeSize: 1,
  };
}

async function harness(t: Test, over: Partial<SchedulerOptions> = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-sched-'));
  const containers = new FakeContainerRuntime();
  const clock = new ManualClock(1_000_000);
  const scheduler = new Scheduler(
    { containers, codeDirFor: async () => path.join(dataDir, 'code'), imageFor: (r) => `gantry/${r}:test`, logger: pino({ level: 'silent' }), nowMs: clock.now },
    { nodeId: 'node-test', dataDir, region: 'us-east-1', user: '1000:1000', functionNetwork: 'gantry-fn', keepWarmMs: 60_000, maxConcurrentStarts: 4, initTimeoutMs: 2_000, ...over },
  );
  t.teardown(async () => {
    await scheduler.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const socketDirs = () => readdir(path.join(dataDir, 'containers')).catch(() => [] as string[]);
  return { dataDir, containers, clock, scheduler, socketDirs };
}

async function leaseOf(s: Scheduler, v: FunctionVersion): Promise<EnvironmentLease> {
  const a = await s.acquire(v);
  if (a.kind !== 'lease') throw new Error(`expected a lease, got ${a.kind}`);
  return a.lease;
}

/** One invocation through the lease; the fake runtime echoes the payload. */
async function echo(lease: EnvironmentLease, text: string): Promise<string> {
  const r = await lease.channel.dispatch({ requestId: randomUUID(), payload: Buffer.from(text), invokedFunctionArn: 'arn:x' }, 2000, 2000);
  return r.kind === 'response' ? r.body.toString() : r.kind;
}

/** Polls `cond` until it holds, for at most `ms` (no fixed sleeps). */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const counts = (idle: number, busy: number) => ({ environments: { starting: 0, idle, busy, dead: 0 } });

t.test('a cold start starts a container and reports coldStart container', async (t) => {
  const { scheduler, containers } = await harness(t);
  const lease = await leaseOf(scheduler, fn('a', 1));
  t.equal(lease.coldStart, 'container');
  t.ok(lease.initDurationUs >= 0);
  t.equal(containers.started.length, 1);
  t.equal(await echo(lease, 'one'), 'one');
  t.strictSame(scheduler.stats(), counts(0, 1));
});

t.test('a released environment is reused warm with coldStart none', async (t) => {
  const { scheduler, containers } = await harness(t);
  const first = await leaseOf(scheduler, fn('a', 1));
  t.equal(await echo(first, 'one'), 'one');
  first.release('reuse');
  t.strictSame(scheduler.stats(), counts(1, 0));
  const second = await leaseOf(scheduler, fn('a', 1));
  t.equal(second.environmentId, first.environmentId);
  t.equal(second.coldStart, 'none');
  t.equal(second.initDurationUs, 0);
  t.equal(await echo(second, 'two'), 'two');
  t.equal(containers.started.length, 1);
  t.strictSame(containers.destroyed, []);
});

t.test('concurrent acquires for one version get two environments', async (t) => {
  const { scheduler, containers } = await harness(t);
  const [a, b] = await Promise.all([leaseOf(scheduler, fn('a', 1)), leaseOf(scheduler, fn('a', 1))]);
  t.not(a.environmentId, b.environmentId);
  t.strictSame([a.coldStart, b.coldStart], ['container', 'container']);
  t.equal(containers.started.length, 2);
  t.strictSame(await Promise.all([echo(a, 'x'), echo(b, 'y')]), ['x', 'y']);
});

t.test('an idle environment of another version is not reused', async (t) => {
  const { scheduler, containers } = await harness(t);
  (await leaseOf(scheduler, fn('a', 1))).release('reuse');
  const other = await leaseOf(scheduler, fn('a', 2));
  t.equal(other.coldStart, 'container');
  t.equal(containers.started.length, 2);
});

t.test('the container is started from the version spec with its socket under dataDir', async (t) => {
  const { scheduler, containers, dataDir, socketDirs } = await harness(t);
  const lease = await leaseOf(scheduler, fn('a', 1));
  const spec = containers.started[0]?.spec;
  t.equal(spec?.image, 'gantry/nodejs20:test');
  t.equal(spec?.env._HANDLER, 'index.handler');
  t.equal(spec?.env.GREETING, 'hi');
  t.equal(spec?.labels['gantry.node'], 'node-test');
  t.equal(spec?.labels['gantry.environment'], lease.environmentId);
  t.strictSame(spec?.mounts.map((m) => [m.hostPath, m.containerPath]), [
    [path.join(dataDir, 'code'), '/var/task'],
    [path.join(dataDir, 'containers', lease.environmentId), '/run/gantry'],
  ]);
  t.strictSame(await socketDirs(), [lease.environmentId]);
});

t.test('release(discard) destroys the container and its socket directory', async (t) => {
  const { scheduler, containers, socketDirs } = await harness(t);
  const lease = await leaseOf(scheduler, fn('a', 1));
  lease.release('discard');
  await waitFor('the container to be destroyed', () => containers.destroyed.length === 1);
  t.strictSame(containers.destroyed, [containers.started[0]?.id]);
  await waitFor('the socket directory to go', async () => (await socketDirs()).length === 0);
  t.strictSame(scheduler.stats(), counts(0, 0));
  t.equal((await leaseOf(scheduler, fn('a', 1))).coldStart, 'container');
});

t.test('releasing a lease twice throws', async (t) => {
  const { scheduler } = await harness(t);
  const lease = await leaseOf(scheduler, fn('a', 1));
  lease.release('reuse');
  t.throws(() => lease.release('reuse'), { message: `lease on environment ${lease.environmentId} released twice` });
  t.throws(() => lease.release('discard'));
  t.strictSame(scheduler.stats(), counts(1, 0));
});

t.test('retire() destroys idle environments now and busy ones at release', async (t) => {
  const { scheduler, containers } = await harness(t);
  const [idleA, busyA, idleB] = await Promise.all([leaseOf(scheduler, fn('a', 1)), leaseOf(scheduler, fn('a', 1)), leaseOf(scheduler, fn('b', 9))]);
  const idOf = (l: EnvironmentLease) => containers.started.find((s) => s.spec.labels['gantry.environment'] === l.environmentId)?.id;
  idleA.release('reuse');
  idleB.release('reuse');
  scheduler.retire(fn('a', 1).functionId);
  await waitFor('the idle environment to be destroyed', () => containers.destroyed.length === 1);
  t.strictSame(containers.destroyed, [idOf(idleA)]);
  t.strictSame(scheduler.stats(), counts(1, 1), 'the busy one keeps running, b is untouched');
  t.equal(await echo(busyA, 'still works'), 'still works');
  busyA.release('reuse');
  await waitFor('the busy environment to be destroyed at release', () => containers.destroyed.length === 2);
  t.equal(containers.destroyed[1], idOf(busyA));
  t.strictSame(scheduler.stats(), counts(1, 0));
  t.equal((await leaseOf(scheduler, fn('a', 1))).coldStart, 'container', 'a retired version starts fresh');
});

t.test('close() destroys every environment and is idempotent', async (t) => {
  const { scheduler, containers, socketDirs } = await harness(t);
  const [idle, busy] = await Promise.all([leaseOf(scheduler, fn('a', 1)), leaseOf(scheduler, fn('b', 2))]);
  idle.release('reuse');
  const first = scheduler.close();
  t.equal(scheduler.close(), first, 'a second close shares the first');
  await first;
  await scheduler.close();
  t.strictSame([...containers.destroyed].sort(), containers.started.map((s) => s.id).sort());
  t.strictSame(containers.running, []);
  t.strictSame(await socketDirs(), []);
  t.strictSame(scheduler.stats(), counts(0, 0));
  t.doesNotThrow(() => busy.release('reuse'), 'a lease outstanding at close can still be released');
  t.equal(containers.destroyed.length, 2, 'and nothing is destroyed twice');
});

t.test('acquire after close() is refused with ServiceUnavailable', async (t) => {
  const { scheduler, containers } = await harness(t);
  await scheduler.close();
  await t.rejects(scheduler.acquire(fn('a', 1)), { name: 'GantryError', type: 'ServiceUnavailable' });
  t.equal(containers.startAttempts.length, 0);
});
