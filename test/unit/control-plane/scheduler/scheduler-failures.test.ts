import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { FunctionId, FunctionVersion, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';
import { Scheduler, type EnvironmentLease, type SchedulerOptions } from '../../../../control-plane/scheduler/scheduler.js';
import { ContainerRuntimeError, type ContainerId } from '../../../../control-plane/containers/container-runtime.js';
import { GantryError } from '../../../../common/errors.js';
import { FakeContainerRuntime, KILLED } from '../../../support/fake-container-runtime.js';
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

function firstId(containers: FakeContainerRuntime): ContainerId {
  const first = containers.started[0];
  if (!first) throw new Error('no container was started');
  return first.id;
}

const counts = (idle: number, busy: number) => ({ environments: { starting: 0, idle, busy, dead: 0 } });


const startFailures: readonly [string, Error, string][] = [
  ['the engine is unavailable', new ContainerRuntimeError('engine-unavailable', 'connect ENOENT /var/run/docker.sock'), 'ServiceUnavailable'],
  ['the engine times out', new ContainerRuntimeError('timeout', 'deadline exceeded'), 'ServiceUnavailable'],
  ['the image is missing', new ContainerRuntimeError('image-missing', 'no such image'), 'ServiceUnavailable'],
  ['the engine fails otherwise', new ContainerRuntimeError('failed', 'boom'), 'InternalError'],
  ['start throws something unexpected', new TypeError('bug'), 'InternalError'],
];
for (const [why, error, type] of startFailures) {
  t.test(`a start that rejects because ${why} leaves nothing behind and rejects with ${type}`, async (t) => {
    const { scheduler, containers, socketDirs } = await harness(t);
    containers.queued.push({ kind: 'fail-start', error });
    const e = await scheduler.acquire(fn('a', 1)).then(() => undefined, (err: unknown) => err);
    t.type(e, GantryError);
    t.equal((e as GantryError).type, type);
    t.equal((e as GantryError).cause, error);
    t.equal(containers.startAttempts.length, 1);
    t.strictSame(containers.destroyed, [], 'there was no container to destroy');
    t.strictSame(await socketDirs(), [], 'the socket directory is gone');
    t.strictSame(scheduler.stats(), counts(0, 0));
    t.equal((await leaseOf(scheduler, fn('a', 1))).coldStart, 'container', 'the next acquire starts cleanly');
  });
}

t.test('a code directory that cannot be prepared leaves nothing behind', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-sched-'));
  const containers = new FakeContainerRuntime();
  const scheduler = new Scheduler(
    { containers, codeDirFor: () => Promise.reject(new Error('extract failed')), imageFor: () => 'img', logger: pino({ level: 'silent' }) },
    { nodeId: 'n', dataDir, region: 'us-east-1', user: '1:1', functionNetwork: 'net', keepWarmMs: 60_000, maxConcurrentStarts: 1, initTimeoutMs: 1000 },
  );
  t.teardown(async () => {
    await scheduler.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await t.rejects(scheduler.acquire(fn('a', 1)), { name: 'GantryError', type: 'InternalError' });
  t.equal(containers.startAttempts.length, 0);
  t.strictSame(await readdir(path.join(dataDir, 'containers')), []);
  t.strictSame(scheduler.stats(), counts(0, 0));
});

t.test('an init error returns init-failed with the error and destroys the environment', async (t) => {
  const { scheduler, containers, socketDirs } = await harness(t);
  containers.queued.push({ kind: 'init-error', errorType: 'Runtime.ImportModuleError' });
  const a = await scheduler.acquire(fn('a', 1));
  t.equal(a.kind, 'init-failed');
  if (a.kind !== 'init-failed') return;
  t.equal(a.outcome.kind, 'init-error');
  if (a.outcome.kind === 'init-error') {
    t.equal(a.outcome.errorType, 'Runtime.ImportModuleError');
    t.match(JSON.parse(a.outcome.body.toString()), { errorType: 'Runtime.ImportModuleError', errorMessage: 'fake init failure' });
  }
  t.ok(a.initDurationUs > 0);
  await waitFor('the container to be destroyed', () => containers.destroyed.includes(firstId(containers)));
  await waitFor('the socket directory to go', async () => (await socketDirs()).length === 0);
  t.strictSame(scheduler.stats(), counts(0, 0));
});

const initExits = [
  { exitCode: 2, oomKilled: false },
  { exitCode: 137, oomKilled: true },
] as const;
for (const exit of initExits) {
  t.test(`an exit during init (${JSON.stringify(exit)}) returns init-failed exited and destroys`, async (t) => {
    const { scheduler, containers, socketDirs } = await harness(t);
    containers.queued.push({ kind: 'exit-during-init', exit });
    const a = await scheduler.acquire(fn('a', 1));
    t.strictSame(a.kind === 'init-failed' ? a.outcome : a, { kind: 'exited', exit });
    await waitFor('the container to be destroyed', () => containers.destroyed.length === 1);
    await waitFor('the socket directory to go', async () => (await socketDirs()).length === 0);
    t.strictSame(scheduler.stats(), counts(0, 0));
  });
}

t.test('a runtime that never polls times out init and is destroyed', async (t) => {
  const { scheduler, containers } = await harness(t, { initTimeoutMs: 50 });
  containers.queued.push({ kind: 'silent' });
  const a = await scheduler.acquire(fn('a', 1));
  t.strictSame(a.kind === 'init-failed' ? a.outcome : a, { kind: 'timeout' });
  await waitFor('the container to be destroyed', () => containers.destroyed.length === 1);
  t.strictSame(containers.running, []);
});

t.test('an idle container that exits is destroyed and not reused', async (t) => {
  const { scheduler, containers } = await harness(t);
  const lease = await leaseOf(scheduler, fn('a', 1));
  lease.release('reuse');
  const id = firstId(containers);
  containers.exit(id, { exitCode: 0, oomKilled: false });
  await waitFor('the exited container to be destroyed', () => containers.destroyed.includes(id));
  t.strictSame(scheduler.stats(), counts(0, 0));
  t.equal((await leaseOf(scheduler, fn('a', 1))).coldStart, 'container');
});

t.test('a container that exits while busy is destroyed at release, even when released for reuse', async (t) => {
  const { scheduler, containers } = await harness(t);
  const lease = await leaseOf(scheduler, fn('a', 1));
  t.equal(await echo(lease, 'done'), 'done');
  const id = firstId(containers);
  // The function answered, then its process died (e.g. process.exit from a timer).
  containers.exit(id, { exitCode: 1, oomKilled: false });
  // The scheduler's own waitForExit callback was registered first, so it has run once this resolves.
  await containers.waitForExit(id);
  lease.release('reuse');
  await waitFor('the exited container to be destroyed', () => containers.destroyed.includes(id), 500).catch(() => undefined);
  t.strictSame(containers.destroyed, [id], 'the dead environment is destroyed');
  t.strictSame(scheduler.stats(), counts(0, 0), 'and is not offered as idle');
  const next = await leaseOf(scheduler, fn('a', 1));
  t.equal(next.coldStart, 'container', 'the next invocation gets a live container');
});

t.test('the reaper destroys environments idle longer than keepWarmMs', async (t) => {
  const { scheduler, containers, clock } = await harness(t, { keepWarmMs: 500 });
  const [old, recent] = await Promise.all([leaseOf(scheduler, fn('a', 1)), leaseOf(scheduler, fn('a', 1))]);
  const idOf = (l: EnvironmentLease) => containers.started.find((s) => s.spec.labels['gantry.environment'] === l.environmentId)?.id;
  old.release('reuse');
  clock.advance(1000);
  recent.release('reuse');
  clock.advance(400); // old: idle 1400 ms > 500; recent: idle 400 ms
  // The reaper runs every max(1 s, keepWarmMs / 10).
  await waitFor('the reaper to destroy the old environment', () => containers.destroyed.length > 0, 3000);
  t.strictSame(containers.destroyed, [idOf(old)]);
  t.strictSame(scheduler.stats(), counts(1, 0));
  const again = await leaseOf(scheduler, fn('a', 1));
  t.equal(again.environmentId, recent.environmentId);
  t.equal(again.coldStart, 'none');
});

t.test('the container runtime exit code reaches waitForExit as KILLED after destroy', async (t) => {
  const { scheduler, containers } = await harness(t);
  (await leaseOf(scheduler, fn('a', 1))).release('discard');
  const id = firstId(containers);
  await waitFor('the container to be destroyed', () => containers.destroyed.includes(id));
  t.strictSame(await containers.waitForExit(id), KILLED);
});

t.test('a container whose start was in flight at close() is destroyed, not leaked', async (t) => {
  const { scheduler, containers, socketDirs } = await harness(t);
  const release = containers.holdStarts();
  const acquiring = scheduler.acquire(fn('a', 1)).then(
    (a) => a.kind,
    (e: unknown) => (e as GantryError).type,
  );
  await waitFor('start() to be called', () => containers.startAttempts.length === 1);
  const closing = scheduler.close();
  release();
  await closing;
  t.not(await acquiring, 'lease', 'no lease is handed out after close');
  await waitFor('the late container to be destroyed', () => containers.running.length === 0, 500).catch(() => undefined);
  t.strictSame(containers.running, [], 'the container that started during close is destroyed');
  t.strictSame(await socketDirs(), []);
});
