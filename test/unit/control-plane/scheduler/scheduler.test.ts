import path from 'node:path';
import t from 'tap';
import type { EnvironmentLease } from '../../../../control-plane/scheduler/scheduler.js';
import { counts, echo, fn, harness, leaseOf, NODE_ID, waitFor } from '../../../support/scheduler-harness.js';

t.test('a cold start starts a container and reports coldStart container', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(lease.coldStart, 'container');
  t.ok(lease.initDurationUs >= 0);
  t.equal(h.containers.started.length, 1);
  t.equal(await echo(lease, 'one'), 'one');
  t.strictSame(h.scheduler.stats(), counts({ busy: 1 }));
  await h.closeClean(t);
});

t.test('a released environment is reused warm with coldStart none', async (t) => {
  const h = await harness(t);
  const first = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(await echo(first, 'one'), 'one');
  first.release('reuse');
  t.strictSame(h.scheduler.stats(), counts({ idle: 1 }));
  const second = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(second.environmentId, first.environmentId);
  t.equal(second.coldStart, 'none');
  t.equal(second.initDurationUs, 0);
  t.equal(await echo(second, 'two'), 'two');
  t.equal(h.containers.started.length, 1);
  t.strictSame(h.containers.destroyed, []);
  await h.closeClean(t);
});

t.test('concurrent acquires for one version get two environments', async (t) => {
  const h = await harness(t);
  const [a, b] = await Promise.all([leaseOf(h.scheduler, fn('a', 1)), leaseOf(h.scheduler, fn('a', 1))]);
  t.not(a.environmentId, b.environmentId);
  t.strictSame([a.coldStart, b.coldStart], ['container', 'container']);
  t.equal(h.containers.started.length, 2);
  t.strictSame(await Promise.all([echo(a, 'x'), echo(b, 'y')]), ['x', 'y']);
  await h.closeClean(t);
});

t.test('an idle environment of another version is not reused', async (t) => {
  const h = await harness(t);
  (await leaseOf(h.scheduler, fn('a', 1))).release('reuse');
  const other = await leaseOf(h.scheduler, fn('a', 2));
  t.equal(other.coldStart, 'container');
  t.equal(h.containers.started.length, 2);
  await h.closeClean(t);
});

t.test('the container is started from the version spec, its socket in its own directory under the node dir', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  const spec = h.containers.started[0]?.spec;
  t.equal(spec?.image, 'gantry/nodejs20:test');
  t.equal(spec?.env._HANDLER, 'index.handler');
  t.equal(spec?.env.GREETING, 'hi from a');
  t.equal(spec?.env.AWS_LAMBDA_INITIALIZATION_TYPE, 'on-demand');
  t.match(spec?.labels, { 'gantry.managed': 'true', 'gantry.node': NODE_ID, 'gantry.environment': lease.environmentId, 'gantry.runtime': 'nodejs20', 'gantry.function': 'a' });
  t.equal(spec?.labels['gantry.stem-cell'], undefined);
  t.strictSame(spec?.mounts.map((m) => [m.hostPath, m.containerPath, m.readOnly]), [
    [path.join(h.dataDir, 'code', fn('a', 1).codeSha256), '/var/task', true],
    [path.join(h.nodeDir, lease.environmentId, 'runtime'), '/run/gantry', true],
  ]);
  t.strictSame(await h.envDirs(), [lease.environmentId]);
  await h.closeClean(t);
});

t.test('release(discard) destroys the container and its directory', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  lease.release('discard');
  await waitFor('the container to be destroyed', () => h.containers.destroyed.length === 1);
  t.strictSame(h.containers.destroyed, [h.containers.started[0]?.id]);
  await waitFor('the directory to go', async () => (await h.envDirs()).length === 0);
  t.strictSame(h.scheduler.stats(), counts({}));
  t.equal((await leaseOf(h.scheduler, fn('a', 1))).coldStart, 'container');
  await h.closeClean(t);
});

t.test('releasing a lease twice throws', async (t) => {
  const h = await harness(t);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  lease.release('reuse');
  t.throws(() => lease.release('reuse'), { message: `lease on environment ${lease.environmentId} released twice` });
  t.throws(() => lease.release('discard'));
  t.strictSame(h.scheduler.stats(), counts({ idle: 1 }));
  await h.closeClean(t);
});

t.test('retire() destroys idle environments now and busy ones at release', async (t) => {
  const h = await harness(t);
  const [idleA, busyA, idleB] = await Promise.all([leaseOf(h.scheduler, fn('a', 1)), leaseOf(h.scheduler, fn('a', 1)), leaseOf(h.scheduler, fn('b', 9))]);
  const idOf = (l: EnvironmentLease) => h.containers.containerOf(l.environmentId);
  idleA.release('reuse');
  idleB.release('reuse');
  h.scheduler.retire(fn('a', 1).functionId);
  await waitFor('the idle environment to be destroyed', () => h.containers.destroyed.length === 1);
  t.strictSame(h.containers.destroyed, [idOf(idleA)]);
  t.strictSame(h.scheduler.stats(), counts({ idle: 1, busy: 1 }), 'the busy one keeps running, b is untouched');
  t.equal(await echo(busyA, 'still works'), 'still works');
  busyA.release('reuse');
  await waitFor('the busy environment to be destroyed at release', () => h.containers.destroyed.length === 2);
  t.equal(h.containers.destroyed[1], idOf(busyA));
  t.strictSame(h.scheduler.stats(), counts({ idle: 1 }));
  t.equal((await leaseOf(h.scheduler, fn('a', 1))).coldStart, 'container', 'a retired version starts fresh');
  await h.closeClean(t);
});

t.test('close() destroys every environment and is idempotent', async (t) => {
  const h = await harness(t);
  const [idle, busy] = await Promise.all([leaseOf(h.scheduler, fn('a', 1)), leaseOf(h.scheduler, fn('b', 2))]);
  idle.release('reuse');
  const first = h.scheduler.close();
  t.equal(h.scheduler.close(), first, 'a second close shares the first');
  await first;
  await h.scheduler.close();
  t.strictSame([...h.containers.destroyed].sort(), h.containers.started.map((s) => s.id).sort());
  t.strictSame(h.scheduler.stats(), counts({}));
  t.doesNotThrow(() => busy.release('reuse'), 'a lease outstanding at close can still be released');
  t.equal(h.containers.destroyed.length, 2, 'and nothing is destroyed twice');
  await h.closeClean(t);
});

t.test('acquire after close() is refused with ServiceUnavailable', async (t) => {
  const h = await harness(t);
  await h.scheduler.close();
  await t.rejects(h.scheduler.acquire(fn('a', 1)), { name: 'GantryError', type: 'ServiceUnavailable' });
  t.equal(h.containers.startAttempts.length, 0);
  await h.closeClean(t);
});
