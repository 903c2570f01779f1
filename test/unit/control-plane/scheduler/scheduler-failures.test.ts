import t from 'tap';
import { GantryError } from '../../../../common/errors.js';
import { ContainerRuntimeError, type ContainerId } from '../../../../control-plane/containers/container-runtime.js';
import { FakeContainerRuntime, KILLED } from '../../../support/fake-container-runtime.js';
import { counts, echo, fn, harness, leaseOf, waitFor } from '../../../support/scheduler-harness.js';

function firstId(containers: FakeContainerRuntime): ContainerId {
  const first = containers.started[0];
  if (!first) throw new Error('no container was started');
  return first.id;
}

/** [why, error, type the caller sees, starts tried: 1 when not retried, 3 when every retry fails too]. */
const startFailures: readonly [string, Error, string, number][] = [
  ['the engine is unavailable', new ContainerRuntimeError('engine-unavailable', 'connect ENOENT /var/run/docker.sock'), 'ServiceUnavailable', 1],
  ['the engine times out', new ContainerRuntimeError('timeout', 'deadline exceeded'), 'ServiceUnavailable', 1],
  ['the image is missing', new ContainerRuntimeError('image-missing', 'no such image'), 'ServiceUnavailable', 1],
  ['the engine fails otherwise', new ContainerRuntimeError('failed', 'boom'), 'InternalError', 3],
  ['start throws something unexpected', new TypeError('bug'), 'InternalError', 3],
];
for (const [why, error, type, attempts] of startFailures) {
  t.test(`a start that rejects because ${why} leaves nothing behind and rejects with ${type}`, async (t) => {
    const h = await harness(t);
    for (let i = 0; i < attempts; i++) h.containers.queued.push({ kind: 'fail-start', error });
    const e = await h.scheduler.acquire(fn('a', 1)).then(() => undefined, (err: unknown) => err);
    t.type(e, GantryError);
    t.equal((e as GantryError).type, type);
    t.equal((e as GantryError).cause, error);
    t.equal(h.containers.startAttempts.length, attempts);
    t.equal(h.startFailures.length, attempts, 'every failure is reported');
    t.equal(h.startFailures.filter((f) => f.retried).length, attempts - 1, 'all but the last are retried');
    t.strictSame(h.containers.destroyed, [], 'there was no container to destroy');
    t.strictSame(await h.envDirs(), [], 'the environment directory is gone');
    t.strictSame(h.scheduler.stats(), counts({}));
    t.equal((await leaseOf(h.scheduler, fn('a', 1))).coldStart, 'container', 'the next acquire starts cleanly');
    await h.closeClean(t);
  });
}

const retried: readonly [string, Error, string][] = [
  ['the engine fails (HTTP 500)', new ContainerRuntimeError('failed', 'docker start container failed: (HTTP code 500) server error - failed to create shim task'), 'failed'],
  ['a name conflicts', new ContainerRuntimeError('conflict', 'docker create container failed: (HTTP code 409) name in use'), 'conflict'],
  ['Gantry itself fails', new Error('EADDRINUSE'), 'internal'],
];
for (const [why, error, cause] of retried) {
  t.test(`a start that fails once because ${why} is retried on a fresh environment and the call succeeds`, async (t) => {
    const h = await harness(t);
    h.containers.queued.push({ kind: 'fail-start', error });
    const lease = await leaseOf(h.scheduler, fn('a', 1));
    t.equal(lease.coldStart, 'container');
    t.equal(h.containers.startAttempts.length, 2, 'a second start');
    t.strictSame(h.startFailures, [{ cause, retried: true }]);
    const [first, second] = h.containers.startAttempts.map((s) => s.labels['gantry.environment']);
    t.not(first, second, 'on a fresh environment');
    t.equal(lease.environmentId, second);
    t.strictSame(await echo(lease, 'after a retry'), 'after a retry');
    lease.release('reuse');
    t.strictSame(await h.envDirs(), [second], "the failed environment's directory is gone");
    await h.closeClean(t);
  });
}

t.test('a start that finds the function network gone recreates it, then retries', async (t) => {
  const h = await harness(t);
  h.containers.queued.push({ kind: 'fail-start', error: new ContainerRuntimeError('not-found', 'docker start container failed: (HTTP code 404) no such container - network gantry-fn not found') });
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  t.strictSame(h.startFailures, [{ cause: 'network-missing', retried: true }]);
  t.equal(h.networkRepairs(), 1);
  t.ok(h.containers.networks.includes('gantry-fn'), 'the network is there again');
  t.equal(h.containers.startAttempts.length, 2);
  lease.release('reuse');
  await h.closeClean(t);
});

t.test("a function's own init failure is not retried", async (t) => {
  const h = await harness(t);
  h.containers.queued.push({ kind: 'init-error', errorType: 'Runtime.ImportModuleError' });
  const a = await h.scheduler.acquire(fn('a', 1));
  t.equal(a.kind, 'init-failed');
  t.equal(h.containers.startAttempts.length, 1);
  t.strictSame(h.startFailures, [], 'not counted as a platform failure');
  await h.closeClean(t);
});

t.test('a code directory that cannot be prepared leaves nothing behind', async (t) => {
  const h = await harness(t, { codeDirFor: () => Promise.reject(new Error('extract failed')), maxConcurrentStarts: 1, initTimeoutMs: 1000 });
  await t.rejects(h.scheduler.acquire(fn('a', 1)), { name: 'GantryError', type: 'InternalError' });
  t.equal(h.containers.startAttempts.length, 0);
  t.strictSame(await h.envDirs(), []);
  t.strictSame(h.scheduler.stats(), counts({}));
  await h.closeClean(t);
});

t.test('an init error returns init-failed with the error and destroys the environment', async (t) => {
  const h = await harness(t);
  h.containers.queued.push({ kind: 'init-error', errorType: 'Runtime.ImportModuleError' });
  const a = await h.scheduler.acquire(fn('a', 1));
  t.equal(a.kind, 'init-failed');
  if (a.kind !== 'init-failed') return;
  t.equal(a.cached, false);
  t.equal(a.coldStart, 'container');
  t.equal(a.outcome.kind, 'init-error');
  if (a.outcome.kind === 'init-error') {
    t.equal(a.outcome.errorType, 'Runtime.ImportModuleError');
    t.match(JSON.parse(a.outcome.body.toString()), { errorType: 'Runtime.ImportModuleError', errorMessage: 'fake init failure' });
  }
  t.ok(a.initDurationUs > 0);
  await waitFor('the container to be destroyed', () => h.containers.destroyed.includes(firstId(h.containers)));
  await waitFor('the directory to go', async () => (await h.envDirs()).length === 0);
  t.strictSame(h.scheduler.stats(), counts({}));
  await h.closeClean(t);
});

const initExits = [
  { exitCode: 2, oomKilled: false },
  { exitCode: 137, oomKilled: true },
] as const;
for (const exit of initExits) {
  t.test(`an exit during init (${JSON.stringify(exit)}) returns init-failed exited and destroys`, async (t) => {
    const h = await harness(t);
    h.containers.queued.push({ kind: 'exit-during-init', exit });
    const a = await h.scheduler.acquire(fn('a', 1));
    t.strictSame(a.kind === 'init-failed' ? a.outcome : a, { kind: 'exited', exit });
    await waitFor('the container to be destroyed', () => h.containers.destroyed.length === 1);
    await waitFor('the directory to go', async () => (await h.envDirs()).length === 0);
    t.strictSame(h.scheduler.stats(), counts({}));
    await h.closeClean(t);
  });
}

t.test('a runtime that never polls times out init and is destroyed', async (t) => {
  const h = await harness(t, { initTimeoutMs: 50 });
  h.containers.queued.push({ kind: 'silent' });
  const a = await h.scheduler.acquire(fn('a', 1));
  t.strictSame(a.kind === 'init-failed' ? a.outcome : a, { kind: 'timeout' });
  await waitFor('the container to be destroyed', () => h.containers.destroyed.length === 1);
  t.strictSame(h.containers.running, []);
  await h.closeClean(t);
});

t.test('an idle container that exits is destroyed and not reused', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  lease.release('reuse');
  const id = firstId(h.containers);
  h.containers.exit(id, { exitCode: 0, oomKilled: false });
  await waitFor('the exited container to be destroyed', () => h.containers.destroyed.includes(id));
  t.strictSame(h.scheduler.stats(), counts({}));
  t.equal((await leaseOf(h.scheduler, fn('a', 1))).coldStart, 'container');
  await h.closeClean(t);
});

t.test('a container that exits while busy is destroyed at release, even when released for reuse', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(await echo(lease, 'done'), 'done');
  const id = firstId(h.containers);
  // The function answered, then its process died (e.g. process.exit from a timer).
  h.containers.exit(id, { exitCode: 1, oomKilled: false });
  // The scheduler's own waitForExit callback was registered first, so it has run once this resolves.
  await h.containers.waitForExit(id);
  lease.release('reuse');
  await waitFor('the exited container to be destroyed', () => h.containers.destroyed.includes(id), 500);
  t.strictSame(h.containers.destroyed, [id], 'the dead environment is destroyed');
  t.strictSame(h.scheduler.stats(), counts({}), 'and is not offered as idle');
  const next = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(next.coldStart, 'container', 'the next invocation gets a live container');
  await h.closeClean(t);
});

t.test('the container runtime exit code reaches waitForExit as KILLED after destroy', async (t) => {
  const h = await harness(t);
  (await leaseOf(h.scheduler, fn('a', 1))).release('discard');
  const id = firstId(h.containers);
  await waitFor('the container to be destroyed', () => h.containers.destroyed.includes(id));
  t.strictSame(await h.containers.waitForExit(id), KILLED);
  await h.closeClean(t);
});

t.test('a container whose start was in flight at close() is destroyed, not leaked', async (t) => {
  const h = await harness(t);
  const release = h.containers.holdStarts();
  const acquiring = h.scheduler.acquire(fn('a', 1)).then(
    (a) => a.kind,
    (e: unknown) => (e as GantryError).type,
  );
  await waitFor('start() to be called', () => h.containers.startAttempts.length === 1);
  const closing = h.scheduler.close();
  release();
  await closing;
  t.not(await acquiring, 'lease', 'no lease is handed out after close');
  await h.closeClean(t);
});

t.test('a removal that fails while the engine is away is retried by the background loop', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  const id = firstId(h.containers);
  h.containers.engineUp = false;
  lease.release('discard');
  await waitFor('the removal to be tried', () => h.containers.destroyed.includes(id));
  await waitFor('the directory to go anyway', async () => (await h.envDirs()).length === 0);
  t.strictSame(h.containers.running, [id], 'the engine could not remove it');
  t.strictSame(h.scheduler.stats(), counts({}), 'and it is no environment any more');
  h.containers.engineUp = true;
  await waitFor('a later pass to remove it', () => h.containers.running.length === 0);
  t.ok(h.containers.destroyed.filter((d) => d === id).length >= 2, 'removed on a retry');
  await h.closeClean(t);
});

t.test('close() retries removals that failed while the engine was away', async (t) => {
  // keepWarmMs 60 s: the background loop runs once a second, so close() does the retry here.
  const h = await harness(t, { keepWarmMs: 60_000 });
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  const id = firstId(h.containers);
  h.containers.engineUp = false;
  lease.release('discard');
  await waitFor('the removal to be tried', () => h.containers.destroyed.includes(id));
  h.containers.engineUp = true;
  await h.scheduler.close();
  t.strictSame(h.containers.running, [], 'close() removed it');
  await h.closeClean(t);
});
