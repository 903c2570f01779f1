import t from 'tap';
import { GantryError } from '../../../../common/errors.js';
import { ContainerRuntimeError } from '../../../../control-plane/containers/container-runtime.js';
import type { FunctionVersion } from '../../../../control-plane/functions/function-types.js';
import { listFiles, type FakeBehaviour, type StemCellRecord } from '../../../support/fake-container-runtime.js';
import { codeOf, counts, echo, fn, harness, leaseOf, sleep, waitFor, type Harness } from '../../../support/scheduler-harness.js';

/** Waits until `n` stem cells are idle in the pool. */
async function cellsReady(h: Harness, n: number): Promise<void> {
  await waitFor(`${n} idle stem cells`, () => h.scheduler.stats().environments['stem-cell'] === n);
}

function cellOf(h: Harness, environmentId: string): StemCellRecord {
  const id = h.containers.containerOf(environmentId);
  const cell = id === undefined ? undefined : h.containers.stemCell(id);
  if (!cell) throw new Error(`environment ${environmentId} is not a stem cell`);
  return cell;
}

t.test('stem cells are started in the background up to stemCellsPerRuntime for each runtime', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20', 'python3.11'], stemCellsPerRuntime: 2 });
  t.equal(h.containers.startAttempts.length, 0, 'nothing starts before the first maintenance pass');
  await cellsReady(h, 4);
  await h.passes(3);
  t.equal(h.containers.started.length, 4, 'the pool is not overfilled by later passes');
  t.strictSame(h.scheduler.stats(), counts({ 'stem-cell': 4 }));
  t.strictSame(h.containers.stemCells.map((c) => c.spec.image).sort(), [
    'gantry/nodejs20:test',
    'gantry/nodejs20:test',
    'gantry/python3.11:test',
    'gantry/python3.11:test',
  ]);
  for (const cell of h.containers.stemCells) {
    const { spec } = cell;
    t.equal(spec.env._HANDLER, undefined, 'no handler');
    t.equal(spec.env.AWS_LAMBDA_FUNCTION_NAME, undefined, 'no function name');
    t.equal(spec.env.GREETING, undefined, 'no function variable');
    t.match(spec.labels, { 'gantry.stem-cell': 'true', 'gantry.runtime': /^(nodejs20|python3\.11)$/ });
    t.equal(spec.labels['gantry.function'], undefined);
    t.equal(spec.limits.memoryMb, 128);
    t.strictSame(cell.filesBefore, [], '/var/task was empty when it asked for a function');
    t.strictSame(await listFiles(cell.taskDir), {}, 'and still is');
    t.equal(cell.environment, undefined, 'no function was handed over');
  }
  await h.closeClean(t);
});

t.test('a 128 MB nodejs20 function takes a stem cell, which receives its environment and exactly its code', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  await cellsReady(h, 1);
  const v = fn('a', 1, { environment: { GREETING: 'hi', TABLE: 'pets' } });
  const lease = await leaseOf(h.scheduler, v);
  t.equal(lease.coldStart, 'stem-cell');
  t.ok(lease.initDurationUs >= 0);
  t.equal(h.containers.functionStarts.length, 0, 'no container was created for the call');
  const cell = cellOf(h, lease.environmentId);
  t.strictSame(cell.filesBefore, []);
  t.match(cell.environment, {
    _HANDLER: 'index.handler',
    GREETING: 'hi',
    TABLE: 'pets',
    AWS_LAMBDA_FUNCTION_NAME: 'a',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_REGION: 'us-east-1',
  });
  t.strictSame(cell.filesAfter, codeOf(v), '/var/task holds the function code, and nothing else');
  t.equal(await echo(lease, 'ping'), 'ping');
  lease.release('reuse');
  const again = await leaseOf(h.scheduler, v);
  t.equal(again.environmentId, lease.environmentId, 'the specialised cell is now a warm environment of the function');
  t.equal(again.coldStart, 'none');
  again.release('reuse');
  await h.closeClean(t);
});

t.test("one function's specialised cell never sees another function's code, and the refilled cells are empty", async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 2 });
  await cellsReady(h, 2);
  const a = fn('a', 1);
  const b = fn('b', 1);
  const la = await leaseOf(h.scheduler, a);
  const lb = await leaseOf(h.scheduler, b);
  t.strictSame([la.coldStart, lb.coldStart], ['stem-cell', 'stem-cell']);
  const cellA = cellOf(h, la.environmentId);
  const cellB = cellOf(h, lb.environmentId);
  t.not(cellA.taskDir, cellB.taskDir);
  t.strictSame(cellA.filesAfter, codeOf(a));
  t.strictSame(cellB.filesAfter, codeOf(b));
  t.strictSame(await listFiles(cellA.taskDir), codeOf(a), "a's /var/task did not receive b's code");
  t.strictSame(cellA.environment?.GREETING, 'hi from a');
  t.strictSame(cellB.environment?.GREETING, 'hi from b');
  await cellsReady(h, 2);
  const fresh = h.containers.stemCells.slice(2);
  t.equal(fresh.length, 2);
  for (const cell of fresh) {
    t.strictSame(cell.filesBefore, [], 'a refilled cell starts empty');
    t.strictSame(await listFiles(cell.taskDir), {}, 'and stays empty while it waits');
  }
  await h.closeClean(t);
});

t.test('the pool refills after a cell is taken', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  await cellsReady(h, 1);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(lease.coldStart, 'stem-cell');
  await cellsReady(h, 1);
  t.equal(h.containers.stemCells.length, 2, 'one new cell replaced the one taken');
  const second = await leaseOf(h.scheduler, fn('b', 1));
  t.equal(second.coldStart, 'stem-cell', 'the refilled cell serves the next cold start');
  await h.closeClean(t);
});

const shapes: readonly [string, Partial<FunctionVersion>, boolean][] = [
  ['another memory size', { memoryMb: 256 }, true],
  ['network none', { network: 'none' }, true],
  ['a runtime without stem cells', { runtime: 'python3.11' }, false],
];
for (const [what, over, learned] of shapes) {
  t.test(`a function with ${what} starts a new container${learned ? ' and that shape is learned' : ''}`, async (t) => {
    const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
    await cellsReady(h, 1);
    const first = await leaseOf(h.scheduler, fn('a', 1, over));
    t.equal(first.coldStart, 'container');
    t.equal(h.containers.functionStarts.length, 1);
    const isShape = (c: StemCellRecord) =>
      c.spec.limits.memoryMb === (over.memoryMb ?? 128) && (c.spec.network.mode === 'none') === (over.network === 'none') && c.spec.labels['gantry.runtime'] === (over.runtime ?? 'nodejs20');
    // A cell of the learned shape may already be starting; a taken default cell would have been replaced.
    t.equal(h.containers.stemCells.filter((c) => !isShape(c)).length, 1, 'the default-shape cell was not used');
    if (learned) {
      await cellsReady(h, 2);
      t.equal(h.containers.stemCells.filter(isShape).length, 1, 'one cell of the shape appears');
      await h.passes(2);
      t.equal(h.containers.stemCells.filter(isShape).length, 1, 'and only one');
      const next = await leaseOf(h.scheduler, fn('b', 1, over));
      t.equal(next.coldStart, 'stem-cell', 'the next function of that shape gets it');
    } else {
      await h.passes(3);
      t.equal(h.containers.stemCells.filter(isShape).length, 0, 'no cell of that shape is kept');
    }
    await h.closeClean(t);
  });
}

t.test('a stem cell whose function fails init reports init-failed with coldStart stem-cell and is destroyed', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1, initFailureBackoffMs: 5000 });
  h.containers.stemQueued.push({ kind: 'init-error', errorType: 'Runtime.ImportModuleError' });
  await cellsReady(h, 1);
  const first = h.containers.stemCells[0];
  const a = await h.scheduler.acquire(fn('a', 1));
  t.match(a, { kind: 'init-failed', coldStart: 'stem-cell', cached: false, outcome: { kind: 'init-error', errorType: 'Runtime.ImportModuleError' } });
  if (!first) throw new Error('no cell');
  await waitFor('the cell to be destroyed', () => h.containers.destroyed.includes(first.id));
  await waitFor('its directory to go', async () => !(await h.envDirs()).some((d) => first.taskDir.includes(d)));
  await cellsReady(h, 1);
  t.equal(h.containers.stemCells.length, 2, 'the pool refills with a fresh cell');
  const again = await h.scheduler.acquire(fn('a', 1));
  t.match(again, { kind: 'init-failed', cached: true }, 'within the backoff nothing else is tried');
  t.equal(h.scheduler.stats().environments['stem-cell'], 1, 'and the fresh cell is not spent on it');
  await h.closeClean(t);
});

const cellStartFailures: readonly [string, FakeBehaviour][] = [
  ['its start fails', { kind: 'fail-start', error: new ContainerRuntimeError('failed', 'boom') }],
  ['it never asks to be specialised', { kind: 'no-specialize' }],
];
for (const [why, behaviour] of cellStartFailures) {
  t.test(`a stem cell that fails because ${why} leaves nothing behind and the refill backs off`, async (t) => {
    const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1, initTimeoutMs: 150 });
    h.containers.stemQueued.push(behaviour);
    await waitFor('the first attempt', () => h.containers.startAttempts.length === 1);
    await waitFor('its removal', async () => h.containers.running.length === 0 && (await h.envDirs()).length === 0 && h.scheduler.stats().memoryInUseMb === 0);
    // The refill backs off for 5 s of the injected clock: no retry loop in the meantime.
    await sleep(400);
    t.equal(h.containers.startAttempts.length, 1, 'no retry while backing off');
    h.clock.advance(5_001);
    await cellsReady(h, 1);
    t.equal(h.containers.startAttempts.length, 2, 'after the backoff one new cell is started, and it is ready');
    await h.closeClean(t);
  });
}

t.test('a stem cell that exits while idle in the pool is destroyed and replaced', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  await cellsReady(h, 1);
  const dead = h.containers.stemCells[0]?.id;
  if (!dead) throw new Error('no cell');
  h.containers.exit(dead, { exitCode: 1, oomKilled: false });
  await waitFor('the exited cell to be destroyed', () => h.containers.destroyed.includes(dead));
  await cellsReady(h, 1);
  const lease = await leaseOf(h.scheduler, fn('a', 1));
  t.equal(lease.coldStart, 'stem-cell');
  t.not(h.containers.containerOf(lease.environmentId), dead, 'the replacement is used, never the dead cell');
  await h.closeClean(t);
});

t.test('a stem cell that dies while it is being specialised: the call falls back to a new container', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  await cellsReady(h, 1);
  const cell = h.containers.stemCells[0];
  if (!cell) throw new Error('no cell');
  const open = h.holdCode();
  const acquiring = leaseOf(h.scheduler, fn('a', 1));
  await waitFor('the code to be asked for', () => h.codeRequests.length === 1);
  h.containers.exit(cell.id, { exitCode: 137, oomKilled: false });
  // The scheduler's waitForExit callback was registered first, so it has run once this resolves.
  await h.containers.waitForExit(cell.id);
  open();
  const lease = await acquiring;
  t.equal(lease.coldStart, 'container');
  t.equal(h.containers.functionStarts.length, 1);
  t.equal(cell.environment, undefined, 'the dead cell was never handed the function');
  await waitFor('the dead cell to be destroyed', () => h.containers.destroyed.includes(cell.id));
  t.equal(await echo(lease, 'still served'), 'still served');
  await h.closeClean(t);
});

t.test('close() while a stem cell is being specialised starts nothing new and leaves no directory behind', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  await cellsReady(h, 1);
  const open = h.holdCode();
  const acquiring = h.scheduler.acquire(fn('a', 1)).then(
    (a) => {
      // Whatever came back, give it back, so nothing outlives the test.
      if (a.kind === 'lease') a.lease.release('reuse');
      return a.kind;
    },
    (e: unknown) => (e instanceof GantryError ? e.type : String(e)),
  );
  await waitFor('the code to be asked for', () => h.codeRequests.length === 1);
  await h.scheduler.close();
  open();
  t.not(await acquiring, 'lease', 'no lease is handed out after close');
  t.equal(h.containers.functionStarts.length, 0, 'no container is started after close');
  await h.closeClean(t);
});

t.test('a cold start of another shape evicts idle stem cells when the node budget is full', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 2, nodeMemoryMb: 256 });
  await cellsReady(h, 2);
  const cells = h.containers.stemCells.map((c) => c.id);
  const lease = await leaseOf(h.scheduler, fn('big', 1, { memoryMb: 256 }));
  t.equal(lease.coldStart, 'container');
  await waitFor('both cells to be destroyed', () => cells.every((id) => h.containers.destroyed.includes(id)));
  t.strictSame(h.scheduler.stats(), counts({ busy: 1 }, 256));
  await h.closeClean(t);
});

t.test('the pool never grows past the node budget', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 4, nodeMemoryMb: 256 });
  await cellsReady(h, 2);
  await sleep(400);
  t.equal(h.containers.startAttempts.length, 2, 'no cell is evicted to start another');
  t.strictSame(h.scheduler.stats(), counts({ 'stem-cell': 2 }));
  await h.closeClean(t);
});

t.test('refilling the pool never evicts a warm function environment', async (t) => {
  const h = await harness(t, { runtimes: [], stemCellsPerRuntime: 1, nodeMemoryMb: 256 });
  // Two warm environments fill the node: a (used first) and b.
  const la = await leaseOf(h.scheduler, fn('a', 1));
  const lb = await leaseOf(h.scheduler, fn('b', 1));
  la.release('reuse');
  h.clock.advance(10);
  lb.release('reuse');
  const warm = [h.containers.containerOf(la.environmentId), h.containers.containerOf(lb.environmentId)];
  // Now the runtime can have stem cells, but the node has no free room for one.
  h.runtimes.push('nodejs20');
  await h.passes(3);
  t.strictSame(h.containers.destroyed.filter((id) => warm.includes(id)), [], 'neither warm environment was evicted for a stem cell');
  t.equal(h.containers.stemCells.length, 0, 'no stem cell was started');
  t.equal((await leaseOf(h.scheduler, fn('a', 1))).coldStart, 'none');
  t.equal((await leaseOf(h.scheduler, fn('b', 1))).coldStart, 'none');
  await h.closeClean(t);
});
