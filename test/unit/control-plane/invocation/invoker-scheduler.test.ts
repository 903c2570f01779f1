/**
 * Invoker over the real Scheduler on FakeContainerRuntime (scheduler-harness): which environment an
 * invocation gets, as the scheduler's contract orders it, a warm environment of the function first,
 * then a stem cell of its runtime, then a new container, seen through what the invoker returns
 * and meters.
 */
import t from 'tap';
import { pino } from 'pino';
import { FunctionCache } from '../../../../control-plane/functions/function-cache.js';
import type { FunctionRecord, FunctionVersion, TenantId } from '../../../../control-plane/functions/function-types.js';
import { Invoker } from '../../../../control-plane/invocation/invoker.js';
import type { LedgerEntry } from '../../../../control-plane/metering/ledger.js';
import { ControlPlaneMetrics } from '../../../../control-plane/metrics.js';
import { ConcurrencyLimiter } from '../../../../control-plane/scheduler/concurrency-limiter.js';
import { fn, harness, waitFor } from '../../../support/scheduler-harness.js';

const recordOf = (v: FunctionVersion): FunctionRecord => ({ ...v, createdAt: new Date(0), updatedAt: new Date(0), reservedConcurrency: null, provisionedConcurrency: null });

t.test('warm before stem cell before a new container', async (t) => {
  const h = await harness(t, { runtimes: ['nodejs20'], stemCellsPerRuntime: 1 });
  await waitFor('a stem cell', () => h.scheduler.stats().environments['stem-cell'] === 1);
  const node = recordOf(fn('inv-node', 1));
  const python = recordOf(fn('inv-py', 1, { runtime: 'python3.11' }));
  const entries: LedgerEntry[] = [];
  const limiter = new ConcurrencyLimiter();
  const invoker = new Invoker(
    {
      functions: new FunctionCache(async (_t, name) => [node, python].find((f) => f.name === name)),
      scheduler: h.scheduler,
      limiter,
      ledger: { append: async (e) => void entries.push(e), close: async () => undefined },
      metrics: new ControlPlaneMetrics(() => h.scheduler.stats(), () => limiter.inUse()),
      logger: pino({ level: 'silent' }),
    },
    { region: 'us-east-1', nodeId: 'node-test' },
  );
  const call = (name: string, payload: string) => invoker.invoke({ tenantId: 'default' as TenantId, functionName: name, payload: Buffer.from(payload), source: 'direct' });

  const first = await call('inv-node', '{"n":1}');
  t.equal(first.coldStart, 'stem-cell', 'no warm environment: the idle stem cell of its runtime');
  t.equal(first.payload.toString(), '{"n":1}');
  t.equal(h.containers.functionStarts.length, 0, 'no container was created for it');
  const second = await call('inv-node', '{"n":2}');
  t.equal(second.coldStart, 'none', 'then the warm environment');
  t.equal(second.environmentId, first.environmentId);
  const third = await call('inv-py', '{"n":3}');
  t.equal(third.coldStart, 'container', 'no stem cell of that runtime: a new container');
  t.equal(h.containers.functionStarts.length, 1);
  const fourth = await call('inv-py', '{"n":4}');
  t.equal(fourth.coldStart, 'none');
  t.equal(fourth.environmentId, third.environmentId);

  t.strictSame(entries.map((e) => [e.functionName, e.coldStart, e.status]), [
    ['inv-node', 'stem-cell', 'succeeded'],
    ['inv-node', 'none', 'succeeded'],
    ['inv-py', 'container', 'succeeded'],
    ['inv-py', 'none', 'succeeded'],
  ]);
  t.equal(limiter.inUse(), 0);
  t.equal(h.scheduler.stats().environments.busy, 0, 'every lease was released');
  await h.closeClean(t);
});
