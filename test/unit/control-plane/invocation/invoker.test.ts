/**
 * Invoker with fakes around it: a scripted scheduler whose leases record how they were released,
 * a recording ledger and metering gate, the real ConcurrencyLimiter and FunctionCache. What is
 * checked is the invoker's own contract: a concurrency slot before an environment, both released
 * on every path, exactly one ledger entry per attempt that ran (none for refusals or for what ran
 * nothing), the ledger durable before the result is released, and the deadline handed to the
 * Runtime API.
 */
import t from 'tap';
import { pino } from 'pino';
import { GantryError } from '../../../../common/errors.js';
import { THROTTLE_REASONS } from '../../../../common/invoke-protocol.js';
import { FunctionCache } from '../../../../control-plane/functions/function-cache.js';
import type { FunctionId, FunctionRecord, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';
import { Invoker, type InvokeRequest } from '../../../../control-plane/invocation/invoker.js';
import type { EnvironmentLog } from '../../../../control-plane/logs/environment-log.js';
import type { LedgerEntry, MeteringGate, MeteringLedger } from '../../../../control-plane/metering/ledger.js';
import { ControlPlaneMetrics } from '../../../../control-plane/metrics.js';
import type { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import type { RuntimeEvent, RuntimeReply } from '../../../../control-plane/runtime-api/runtime-reply.js';
import { ConcurrencyLimiter } from '../../../../control-plane/scheduler/concurrency-limiter.js';
import type { ColdStartKind } from '../../../../control-plane/metering/ledger.js';
import type { AcquireOutcome, EnvironmentLease, Scheduler } from '../../../../control-plane/scheduler/scheduler.js';
import type { EnvironmentId } from '../../../../control-plane/scheduler/environment.js';

const TENANT = 'default' as TenantId;
const REGION = 'eu-west-1';

function record(over: Partial<FunctionRecord> = {}): FunctionRecord {
  return {
    tenantId: TENANT,
    functionId: 'fn-hello' as FunctionId,
    versionId: 42 as VersionId,
    name: 'hello',
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 256,
    timeoutMs: 3000,
    environment: {},
    network: 'default',
    codeSha256: 'sha',
    codeSize: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    reservedConcurrency: null,
    provisionedConcurrency: null,
    ...over,
  };
}

/** A reply that took `us` microseconds. */
function timing(us: number) {
  return { startedAtNs: 1_000_000n, endedAtNs: 1_000_000n + BigInt(us) * 1000n };
}

type Step = RuntimeReply | Error | ((event: RuntimeEvent) => Promise<RuntimeReply>);

interface FakeLease extends EnvironmentLease {
  readonly releases: ('reuse' | 'discard')[];
  readonly dispatched: { event: RuntimeEvent; timeoutMs: number; pollWaitMs: number }[];
  readonly logCalls: string[];
}

function lease(id: string, step: Step, o: { coldStart?: ColdStartKind; initDurationUs?: number; tail?: string; onDispatch?: () => void } = {}): FakeLease {
  const releases: ('reuse' | 'discard')[] = [];
  const dispatched: FakeLease['dispatched'] = [];
  const logCalls: string[] = [];
  const channel = {
    dispatch: async (event: RuntimeEvent, timeoutMs: number, pollWaitMs: number): Promise<RuntimeReply> => {
      dispatched.push({ event, timeoutMs, pollWaitMs });
      o.onDispatch?.();
      if (step instanceof Error) throw step;
      if (typeof step === 'function') return step(event);
      return step;
    },
  } as unknown as RuntimeChannel;
  const log = {
    begin: (invocationId: string, version: string) => logCalls.push(`begin ${invocationId} ${version}`),
    end: (report: string) => logCalls.push(`end ${report.split('\t')[0]}`),
    settle: async () => void logCalls.push('settle'),
    tailText: () => o.tail ?? '',
  } as unknown as EnvironmentLog;
  return {
    environmentId: id as EnvironmentId,
    coldStart: o.coldStart ?? 'none',
    initDurationUs: o.initDurationUs ?? 0,
    channel,
    log,
    releases,
    dispatched,
    logCalls,
    release: (d) => void releases.push(d),
  };
}

function setup(o: { fn?: FunctionRecord | undefined; outcomes?: (AcquireOutcome | Error)[]; ledgerFails?: Error; admitFails?: Error } = {}) {
  const fn = 'fn' in o ? o.fn : record();
  const events: string[] = [];
  const entries: LedgerEntry[] = [];
  const rejected: string[] = [];
  let holdLedger: Promise<void> | undefined;
  const outcomes = o.outcomes ?? [];
  const acquired: string[] = [];
  const limiter = new ConcurrencyLimiter();
  const scheduler = {
    acquire: async (v: FunctionRecord): Promise<AcquireOutcome> => {
      events.push(`acquire environment (slots in use ${limiter.inUse(v.functionId)})`);
      acquired.push(v.name);
      const next = outcomes.shift();
      if (next === undefined) throw new Error('the test scripted no more environments');
      if (next instanceof Error) throw next;
      return next;
    },
  } as unknown as Scheduler;
  const ledger: MeteringLedger = {
    append: async (e) => {
      events.push('ledger append');
      if (holdLedger) await holdLedger;
      if (o.ledgerFails) throw o.ledgerFails;
      entries.push(e);
    },
    close: async () => undefined,
  };
  const gate: MeteringGate = {
    admit: () => {
      events.push('gate admit');
      if (o.admitFails) throw o.admitFails;
    },
    rejected: (tenantId, name, reason) => void rejected.push(`${tenantId}/${name}: ${reason}`),
  };
  const metrics = new ControlPlaneMetrics(
    () => ({ environments: { starting: 0, idle: 0, busy: 0, dead: 0, 'stem-cell': 0 }, memoryInUseMb: 0 }),
    () => limiter.inUse(),
  );
  const functions = new FunctionCache(async (_tenant, name) => (fn !== undefined && name === fn.name ? fn : undefined));
  const invoker = new Invoker({ functions, scheduler, limiter, ledger, gate, metrics, logger: pino({ level: 'silent' }) }, { region: REGION, nodeId: 'node-1' });
  return {
    invoker,
    limiter,
    events,
    entries,
    rejected,
    acquired,
    metrics,
    /** Makes ledger appends wait until the returned function runs. */
    holdLedger(): () => void {
      let open!: () => void;
      holdLedger = new Promise<void>((r) => (open = r));
      return () => open();
    },
    async throttles(): Promise<number> {
      const m = await metrics.throttles.get();
      return m.values.reduce((sum, v) => sum + v.value, 0);
    },
    async invocations(): Promise<Record<string, number>> {
      const m = await metrics.invocations.get();
      return Object.fromEntries(m.values.map((v) => [String(v.labels.outcome), v.value]));
    },
  };
}

const REQ: InvokeRequest = { tenantId: TENANT, functionName: 'hello', payload: Buffer.from('{"a":1}'), source: 'direct' };
const ok = (body: string, us = 1500): RuntimeReply => ({ kind: 'response', body: Buffer.from(body), contentType: 'application/json', timing: timing(us) });

async function rejection(p: Promise<unknown>): Promise<GantryError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GantryError) return e;
    throw e;
  }
  throw new Error('expected the invocation to be refused');
}

t.test('a success takes a concurrency slot, then an environment; meters once; releases both', async (t) => {
  const l = lease('env-1', ok('{"r":2}', 1500));
  const s2 = setup({ outcomes: [{ kind: 'lease', lease: l }] });
  const r = await s2.invoker.invoke({ ...REQ, invocationId: 'inv-1' });
  t.strictSame(s2.events, ['gate admit', 'acquire environment (slots in use 1)', 'ledger append']);
  t.equal(s2.limiter.inUse(), 0, 'the concurrency slot is released');
  t.strictSame(l.releases, ['reuse'], 'the environment goes back, reusable, exactly once');
  t.equal(l.dispatched.length, 1);
  const d = l.dispatched[0]!;
  t.equal(d.event.requestId, 'inv-1', 'the runtime sees the invocation id as the request id');
  t.equal(d.event.payload.toString(), '{"a":1}', 'the payload is passed as it came');
  t.equal(d.event.invokedFunctionArn, 'arn:aws:lambda:eu-west-1:000000000000:function:hello');
  t.equal(d.timeoutMs, 3000, "the function's timeout is the runtime deadline");
  t.equal(d.pollWaitMs, 2000);
  t.strictSame(l.logCalls, ['begin inv-1 $LATEST', 'end REPORT RequestId: inv-1']);
  t.equal(r.payload.toString(), '{"r":2}');
  t.equal(r.status, 'succeeded');
  t.equal(r.errorType, null);
  t.equal(r.invocationId, 'inv-1');
  t.equal(r.durationUs, 1500);
  t.equal(r.billedMs, 2, '1.5 ms is billed as 2');
  t.equal(r.coldStart, 'none');
  t.equal(r.environmentId, 'env-1');
  t.equal(r.logResult, undefined, 'no tail unless asked');
  t.equal(s2.entries.length, 1);
  const e = s2.entries[0]!;
  t.strictSame(
    { ...e, startedAt: e.startedAt instanceof Date },
    {
      invocationId: 'inv-1',
      attempt: 1,
      tenantId: 'default',
      functionId: 'fn-hello',
      functionName: 'hello',
      versionId: 42,
      source: 'direct',
      startedAt: true,
      durationUs: 1500,
      initDurationUs: 0,
      billedMs: 2,
      memoryMb: 256,
      coldStart: 'none',
      status: 'succeeded',
      errorType: null,
    },
  );
  t.strictSame(await s2.invocations(), { success: 1 });
  t.strictSame(s2.rejected, []);
  t.equal(s2.invoker.inFlightCount, 0);
});

t.test('the concurrency slot is held while the function runs', async (t) => {
  let slots = -1;
  const outcomes: AcquireOutcome[] = [];
  const s = setup({ outcomes });
  outcomes.push({ kind: 'lease', lease: lease('env-1', ok('1'), { onDispatch: () => (slots = s.limiter.inUse('fn-hello')) }) });
  await s.invoker.invoke(REQ);
  t.equal(slots, 1);
  t.equal(s.limiter.inUse(), 0);
});

t.test('a cold start bills init too and reports its kind', async (t) => {
  const l = lease('env-9', ok('"x"', 1200), { coldStart: 'stem-cell', initDurationUs: 80_400 });
  const s = setup({ outcomes: [{ kind: 'lease', lease: l }] });
  const r = await s.invoker.invoke({ ...REQ, source: 'gateway' });
  t.equal(r.coldStart, 'stem-cell');
  t.equal(r.initDurationUs, 80_400);
  t.equal(r.billedMs, 82, 'ceil((1200 + 80400) µs) = 82 ms');
  t.match(s.entries, [{ coldStart: 'stem-cell', initDurationUs: 80_400, billedMs: 82, source: 'gateway' }]);
  t.equal(s.entries.length, 1);
});

t.test('every outcome that ran is metered once and releases the environment as it should', async (t) => {
  const cases: { what: string; reply: RuntimeReply; disposition: 'reuse' | 'discard'; errorType: string | null; status: string; billedMs: number }[] = [
    { what: 'function error', reply: { kind: 'error', errorType: 'Error', body: Buffer.from('{"errorType":"Error"}'), timing: timing(2000) }, disposition: 'reuse', errorType: 'Error', status: 'failed', billedMs: 2 },
    { what: 'timeout', reply: { kind: 'timeout', timing: timing(3_000_700) }, disposition: 'discard', errorType: 'Sandbox.Timedout', status: 'failed', billedMs: 3000 },
    { what: 'runtime crash', reply: { kind: 'exited', exit: { exitCode: 2, oomKilled: false }, timing: timing(10) }, disposition: 'discard', errorType: 'Runtime.ExitError', status: 'failed', billedMs: 1 },
    { what: 'out of memory', reply: { kind: 'exited', exit: { exitCode: 137, oomKilled: true }, timing: timing(5000) }, disposition: 'discard', errorType: 'Runtime.OutOfMemory', status: 'failed', billedMs: 5 },
    { what: 'response too large', reply: { kind: 'too-large', timing: timing(999) }, disposition: 'discard', errorType: 'Function.ResponseSizeTooLarge', status: 'failed', billedMs: 1 },
  ];
  for (const c of cases) {
    const l = lease('env-1', c.reply);
    const s = setup({ outcomes: [{ kind: 'lease', lease: l }] });
    const r = await s.invoker.invoke({ ...REQ, invocationId: 'inv-x' });
    t.equal(r.status, c.status, c.what);
    t.equal(r.errorType, c.errorType, c.what);
    t.equal(r.billedMs, c.billedMs, `${c.what}: billed`);
    t.strictSame(l.releases, [c.disposition], `${c.what}: environment released once, ${c.disposition}`);
    t.equal(s.limiter.inUse(), 0, `${c.what}: slot released`);
    t.equal(s.entries.length, 1, `${c.what}: one ledger entry`);
    t.match(s.entries[0], { status: c.status, errorType: c.errorType, billedMs: c.billedMs }, c.what);
    t.strictSame(s.rejected, [], `${c.what}: not a refusal`);
  }
  const timedOut = setup({ outcomes: [{ kind: 'lease', lease: lease('e', { kind: 'timeout', timing: timing(3_000_000) }) }] });
  const r = await timedOut.invoker.invoke({ ...REQ, invocationId: 'inv-t' });
  t.same(JSON.parse(r.payload.toString()), { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: inv-t Error: Task timed out after 3.00 seconds' });
});

t.test('an exception from the channel releases the environment (discarded) and the slot, and meters nothing', async (t) => {
  const l = lease('env-1', new Error('dispatch while an invocation is in flight'));
  const s = setup({ outcomes: [{ kind: 'lease', lease: l }] });
  await t.rejects(s.invoker.invoke(REQ), { message: 'dispatch while an invocation is in flight' });
  t.strictSame(l.releases, ['discard']);
  t.equal(s.limiter.inUse(), 0);
  t.strictSame(s.entries, [], 'nothing was delivered, nothing is billed');
  t.equal(s.invoker.inFlightCount, 0);
});

t.test('the result waits for the ledger; a ledger failure fails the request but releases everything', async (t) => {
  const l = lease('env-1', ok('"done"'));
  const s = setup({ outcomes: [{ kind: 'lease', lease: l }] });
  const open = s.holdLedger();
  let settled = false;
  const p = s.invoker.invoke(REQ).finally(() => (settled = true));
  await waitUntil(() => s.events.includes('ledger append'));
  await new Promise((r) => setImmediate(r));
  t.equal(settled, false, 'not released before the entry is durable');
  t.strictSame(l.releases, [], 'the environment is still leased while metering');
  open();
  t.equal((await p).payload.toString(), '"done"');
  t.strictSame(l.releases, ['reuse']);

  const failing = new GantryError('ServiceUnavailable', 'metering is unavailable', { component: 'metering' });
  const l2 = lease('env-2', ok('"lost"'));
  const f = setup({ outcomes: [{ kind: 'lease', lease: l2 }], ledgerFails: failing });
  const e = await rejection(f.invoker.invoke(REQ));
  t.equal(e, failing);
  t.strictSame(l2.releases, ['reuse'], 'the environment did nothing wrong');
  t.equal(f.limiter.inUse(), 0);
  t.strictSame(f.rejected, [], 'a metering failure after the run is not a refusal');
});

t.test('an environment that died before delivery is replaced, up to three times, and never metered', async (t) => {
  const dead = () => lease(`dead`, { kind: 'not-delivered' });
  const [d1, d2] = [dead(), dead()];
  const good = lease('env-3', ok('"third time"'));
  const s = setup({ outcomes: [{ kind: 'lease', lease: d1 }, { kind: 'lease', lease: d2 }, { kind: 'lease', lease: good }] });
  const r = await s.invoker.invoke({ ...REQ, invocationId: 'inv-r' });
  t.equal(r.environmentId, 'env-3');
  t.strictSame(d1.releases, ['discard']);
  t.strictSame(d2.releases, ['discard']);
  t.strictSame(good.releases, ['reuse']);
  t.equal(s.entries.length, 1, 'one entry, for the delivery that ran');
  t.equal(s.entries[0]?.attempt, 1, 'the redeliveries are not attempts');
  t.equal(good.dispatched[0]?.event.requestId, 'inv-r', 'same invocation id each time');

  const all = [dead(), dead(), dead()];
  const f = setup({ outcomes: [...all.map((lease) => ({ kind: 'lease' as const, lease })), { kind: 'lease', lease: lease('never', ok('1')) }] });
  const e = await rejection(f.invoker.invoke(REQ));
  t.equal(e.type, 'ServiceUnavailable');
  t.equal(e.message, 'No environment could take the invocation.');
  t.strictSame(f.acquired.length, 3, 'gives up after three environments');
  for (const d of all) t.strictSame(d.releases, ['discard']);
  t.strictSame(f.entries, []);
  t.strictSame(f.rejected, ['default/hello: unavailable']);
  t.equal(f.limiter.inUse(), 0);
});

t.test('reserved concurrency throttles before any environment is sought, and meters nothing', async (t) => {
  const outcomes: AcquireOutcome[] = [];
  const s = setup({ fn: record({ reservedConcurrency: 1 }), outcomes });
  let release!: () => void;
  const held = new Promise<RuntimeReply>((r) => (release = () => r(ok('"first"'))));
  const first = lease('env-1', () => held);
  outcomes.push({ kind: 'lease', lease: first });
  const running = s.invoker.invoke(REQ);
  await waitUntil(() => first.dispatched.length === 1);
  const e = await rejection(s.invoker.invoke(REQ));
  t.equal(e.type, 'TooManyRequests');
  t.equal(e.details?.['reason'], THROTTLE_REASONS.reservedConcurrency);
  t.equal(s.acquired.length, 1, 'the throttled call never asked the scheduler');
  t.equal(await s.throttles(), 1, 'counted once');
  t.strictSame(s.rejected, ['default/hello: throttled']);
  release();
  await running;
  t.equal(s.entries.length, 1, 'only the call that ran is metered');
  t.equal(s.limiter.inUse(), 0);
});

t.test('a full node (the scheduler refuses) is a throttle too: counted, slot released, nothing metered', async (t) => {
  const full = new GantryError('TooManyRequests', 'Rate Exceeded.', { component: 'scheduler', details: { reason: THROTTLE_REASONS.nodeFull } });
  const s = setup({ outcomes: [full] });
  const e = await rejection(s.invoker.invoke(REQ));
  t.equal(e, full);
  t.equal(await s.throttles(), 1);
  t.strictSame(s.rejected, ['default/hello: throttled']);
  t.strictSame(s.entries, []);
  t.equal(s.limiter.inUse(), 0);
});

t.test('a platform failure to start is counted as unavailable; other errors are not refusals', async (t) => {
  const down = new GantryError('ServiceUnavailable', 'The container engine is unavailable.', { component: 'scheduler' });
  const s = setup({ outcomes: [down] });
  t.equal(await rejection(s.invoker.invoke(REQ)), down);
  t.strictSame(s.rejected, ['default/hello: unavailable']);
  t.equal(await s.throttles(), 0);
  t.equal(s.limiter.inUse(), 0);

  const broken = new GantryError('InternalError', 'Starting the function environment failed.', { component: 'scheduler' });
  const b = setup({ outcomes: [broken] });
  t.equal(await rejection(b.invoker.invoke(REQ)), broken);
  t.strictSame(b.rejected, []);
  t.equal(b.limiter.inUse(), 0);
});

t.test('when metering cannot take entries, nothing runs: 503 before the slot and the scheduler', async (t) => {
  const unmeterable = new GantryError('ServiceUnavailable', 'Metering is unavailable.', { component: 'metering' });
  const s = setup({ admitFails: unmeterable, outcomes: [{ kind: 'lease', lease: lease('e', ok('1')) }] });
  t.equal(await rejection(s.invoker.invoke(REQ)), unmeterable);
  t.strictSame(s.events, ['gate admit']);
  t.strictSame(s.rejected, ['default/hello: unavailable']);
  t.equal(s.limiter.inUse(), 0);
});

t.test('an unknown function is 404 and asks nothing else', async (t) => {
  const s = setup({ fn: undefined });
  const e = await rejection(s.invoker.invoke(REQ));
  t.equal(e.type, 'ResourceNotFound');
  t.equal(e.message, 'Function not found: hello');
  t.strictSame(s.events, []);
  t.equal(s.invoker.inFlightCount, 0);
});

t.test('an init failure that ran is metered; a cached one ran nothing and is not', async (t) => {
  const outcome = { kind: 'init-error' as const, errorType: 'Runtime.ImportModuleError', body: Buffer.from('{"errorType":"Runtime.ImportModuleError"}') };
  const s = setup({ outcomes: [{ kind: 'init-failed', outcome, initDurationUs: 40_100, coldStart: 'container', cached: false }] });
  const r = await s.invoker.invoke({ ...REQ, invocationId: 'inv-i' });
  t.equal(r.status, 'failed');
  t.equal(r.errorType, 'Runtime.ImportModuleError');
  t.equal(r.billedMs, 41);
  t.equal(r.environmentId, undefined);
  t.equal(s.entries.length, 1);
  t.match(s.entries[0], { invocationId: 'inv-i', durationUs: 0, initDurationUs: 40_100, billedMs: 41, coldStart: 'container', status: 'failed', errorType: 'Runtime.ImportModuleError' });
  t.strictSame(s.rejected, []);
  t.equal(s.limiter.inUse(), 0);

  const c = setup({ outcomes: [{ kind: 'init-failed', outcome, initDurationUs: 40_100, coldStart: 'container', cached: true }] });
  const cached = await c.invoker.invoke(REQ);
  t.equal(cached.errorType, 'Runtime.ImportModuleError');
  t.equal(cached.billedMs, 0);
  t.equal(cached.coldStart, 'none');
  t.strictSame(c.entries, []);
  t.strictSame(c.rejected, ['default/hello: init-failed']);
  t.equal(c.limiter.inUse(), 0);
});

t.test('an async attempt is metered under its own id and attempt number', async (t) => {
  const s = setup({ outcomes: [{ kind: 'lease', lease: lease('e', ok('1')) }] });
  const r = await s.invoker.invoke({ ...REQ, source: 'async', invocationId: 'evt-7', attempt: 3 });
  t.equal(r.invocationId, 'evt-7');
  t.match(s.entries, [{ invocationId: 'evt-7', attempt: 3, source: 'async' }]);
});

t.test('Tail waits for the output to settle and returns the tail as base64', async (t) => {
  const l = lease('e', ok('1'), { tail: 'hello log\n' });
  const s = setup({ outcomes: [{ kind: 'lease', lease: l }] });
  const r = await s.invoker.invoke({ ...REQ, logTail: true, invocationId: 'inv-l' });
  t.equal(r.logResult, Buffer.from('hello log\n').toString('base64'));
  t.strictSame(l.logCalls, ['begin inv-l $LATEST', 'settle', 'end REPORT RequestId: inv-l']);
});

t.test('drained() resolves once the last invocation finishes, whatever its outcome', async (t) => {
  let release!: () => void;
  const held = new Promise<RuntimeReply>((r) => (release = () => r({ kind: 'timeout', timing: timing(1) })));
  const s = setup({ outcomes: [{ kind: 'lease', lease: lease('e', () => held) }] });
  t.equal(s.invoker.inFlightCount, 0);
  await s.invoker.drained();
  const p = s.invoker.invoke(REQ);
  await waitUntil(() => s.invoker.inFlightCount === 1);
  let drained = false;
  const d = s.invoker.drained().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  t.equal(drained, false);
  release();
  await p;
  await d;
  t.equal(drained, true);
  t.equal(s.invoker.inFlightCount, 0);
});

/** Bounded wait for a condition (no fixed sleeps). */
async function waitUntil(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 1));
  }
}
