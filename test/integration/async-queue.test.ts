// The async queue and its workers with BullMQ on real Redis and Postgres (their own database and
// Redis prefix), with a scripted invoker in place of Docker: throttles and platform errors go back
// to the queue without using a retry, function errors use retries, a redelivered event is not
// re-run once it has an outcome, and schedule ticks run exactly once across several workers.
import { createHash, randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import t from 'tap';
import { createPool, dropDatabase, ensureDatabase } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { createRedis } from '../../common/redis.js';
import { AsyncService } from '../../control-plane/async/async-service.js';
import { FunctionCache } from '../../control-plane/functions/function-cache.js';
import { DEFAULT_TENANT } from '../../control-plane/functions/function-types.js';
import type { InvokeRequest, InvokeResult } from '../../control-plane/invocation/invoker.js';
import { FunctionStore } from '../../control-plane/functions/function-store.js';
import { defaultMigrationsDir, migrate } from '../../control-plane/postgres/migrator.js';
import { requireServices, TEST_DATABASE_BASE, TEST_REDIS_URL } from '../support/services.js';
import { eventually, withDatabase } from '../support/stack.js';

await requireServices(t, { docker: false });
const id = randomBytes(4).toString('hex');
const url = withDatabase(TEST_DATABASE_BASE, `gantry_test_async_${id}`);
const prefix = `test:${id}:`;
await ensureDatabase(url);
const pool = createPool({ url, max: 5, statementTimeoutMs: 10_000, applicationName: 'test' });
await migrate(pool, defaultMigrationsDir(import.meta.url));
const functionStore = new FunctionStore(pool);
const logger = createLogger({ level: process.env.GANTRY_TEST_LOG_LEVEL ?? 'silent', name: 'async-it' });

t.teardown(async () => {
  await pool.end();
  await dropDatabase(url).catch(() => undefined);
  const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** What the scripted invoker did: each call, and its answer. */
const calls: InvokeRequest[] = [];
type Script = (req: InvokeRequest, n: number) => 'ok' | 'error' | 'throttle' | 'unavailable';
const scripts = new Map<string, Script>();

async function fakeInvoke(req: InvokeRequest): Promise<InvokeResult> {
  calls.push(req);
  const n = calls.filter((c) => c.invocationId === req.invocationId).length;
  const what = (scripts.get(req.functionName) ?? (() => 'ok'))(req, n);
  if (what === 'throttle') throw new GantryError('TooManyRequests', 'Rate Exceeded.', { component: 'scheduler' });
  if (what === 'unavailable') throw new GantryError('ServiceUnavailable', 'Docker is away.', { component: 'containers' });
  const failed = what === 'error';
  const payload = Buffer.from(failed ? '{"errorType":"Error","errorMessage":"scripted"}' : `{"echo":${req.payload.toString()}}`);
  return { status: failed ? 'failed' : 'succeeded', errorType: failed ? 'Error' : null, payload, contentType: 'application/json', reusable: true, invocationId: req.invocationId ?? '', billedMs: 1, durationUs: 1, initDurationUs: 0, coldStart: 'none' };
}

function service(concurrency = 8): AsyncService {
  const functions = new FunctionCache((tenant, name) => functionStore.get(tenant, name));
  const svc = new AsyncService(
    { pool, functions, functionStore, invoke: fakeInvoke, publishChange: async () => undefined, registry: new Registry(), logger },
    { redisUrl: TEST_REDIS_URL, redisPrefix: prefix, commandTimeoutMs: 2_000, region: 'us-east-1', concurrency, lockMs: 2_000, slotWaitMs: 200, throttleMinDelayMs: 20, throttleMaxDelayMs: 100 },
  );
  return svc;
}

async function createFunction(name: string): Promise<void> {
  const zip = Buffer.from(`zip of ${name}`);
  await functionStore.create({
    tenantId: DEFAULT_TENANT, name, runtime: 'nodejs20', handler: 'index.handler', memoryMb: 128, timeoutMs: 3000, environment: {}, network: 'none',
    code: { sha256: createHash('sha256').update(zip).digest('hex'), zip, unzippedBytes: zip.length },
  });
}

const a = service();
await a.start();
t.teardown(() => a.close(5_000));

const outcome = async (svc: AsyncService, invocationId: string) => {
  let view: Record<string, unknown> | undefined;
  await eventually(async () => {
    view = await svc.status(invocationId);
    return view !== undefined && ['succeeded', 'failed', 'dead-lettered'].includes(view.status as string);
  }, 20_000);
  return view;
};

await t.test('an accepted event is in Redis as queued before it runs, then has its outcome in Postgres', async (t) => {
  await createFunction('plain');
  const invocationId = await a.accept(DEFAULT_TENANT, 'plain', Buffer.from('{"x":1}'));
  t.match(await outcome(a, invocationId), { status: 'succeeded', attempts: 1, result: { echo: { x: 1 } } });
  const mine = calls.filter((c) => c.invocationId === invocationId);
  t.equal(mine.length, 1);
  t.match(mine[0], { source: 'async', attempt: 1, functionName: 'plain' });
  const row = (await pool.query('SELECT status, attempts FROM async_invocations WHERE id = $1', [invocationId])).rows[0];
  t.same(row, { status: 'succeeded', attempts: 1 });
});

await t.test('throttles and platform errors go back to the queue without using a retry', async (t) => {
  await createFunction('busy');
  t.equal((await a.putConfig(DEFAULT_TENANT, 'busy', { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60, retryDelaysMs: [], onSuccess: null, onFailure: { deadLetter: true } })).maximumRetryAttempts, 0);
  scripts.set('busy', (_req, n) => (n <= 3 ? 'throttle' : n <= 5 ? 'unavailable' : 'ok'));
  const invocationId = await a.accept(DEFAULT_TENANT, 'busy', Buffer.from('{}'));
  t.match(await outcome(a, invocationId), { status: 'succeeded', attempts: 1 }, 'no retry allowed, yet it succeeded: bounces are not attempts');
  const attempts = calls.filter((c) => c.invocationId === invocationId).map((c) => c.attempt);
  t.same(attempts, [1, 1, 1, 1, 1, 1], 'every try ran as attempt 1');
});

await t.test('function errors use the retries, then the dead-letter list', async (t) => {
  await createFunction('broken');
  await a.putConfig(DEFAULT_TENANT, 'broken', { maximumRetryAttempts: 2, maximumEventAgeSeconds: 60, retryDelaysMs: [0, 10], onSuccess: null, onFailure: { deadLetter: true } });
  scripts.set('broken', () => 'error');
  const invocationId = await a.accept(DEFAULT_TENANT, 'broken', Buffer.from('{"n":1}'));
  t.match(await outcome(a, invocationId), { status: 'dead-lettered', attempts: 3, error: { condition: 'RetriesExhausted', errorMessage: 'scripted' } });
  t.same(calls.filter((c) => c.invocationId === invocationId).map((c) => c.attempt), [1, 2, 3]);
  const letters = await a.deadLetters(DEFAULT_TENANT, 'broken', 10);
  t.match(letters, [{ id: invocationId, event: { n: 1 }, attempts: 3 }]);
});

await t.test('an event queued under an id twice is one event', async (t) => {
  await createFunction('dedup');
  const queue = (a as unknown as { queue: { add(id: string, data: unknown): Promise<void> } }).queue;
  const eventId = '0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
  // As a destination's event is queued: a redelivered parent queues it again, maybe after it ran.
  const data = { tenantId: DEFAULT_TENANT, functionName: 'dedup', event: '{}', source: 'async', createdAtMs: Date.now(), attempt: 1, bounces: 0, derived: true };
  await Promise.all([queue.add(eventId, data), queue.add(eventId, data)]);
  await outcome(a, eventId);
  await queue.add(eventId, data);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(calls.filter((c) => c.invocationId === eventId).length, 1, 'ran once; once it has an outcome, a redelivery is not re-run');
});

await t.test('a rate schedule ticks exactly once per tick with two workers on the queue', async (t) => {
  await createFunction('ticker');
  const b = service();
  await b.start();
  t.teardown(() => b.close(5_000));
  const created = await a.createSchedule(DEFAULT_TENANT, 'ticker', { expression: 'rate(1 second)', timezone: 'UTC', input: { fixed: true } });
  t.match(created, { function: 'ticker', expression: 'rate(1 second)', timezone: 'UTC', input: { fixed: true } });
  t.ok(await eventually(async () => calls.filter((c) => c.functionName === 'ticker').length >= 4, 15_000), 'ticks arrive');
  await a.deleteSchedule(DEFAULT_TENANT, 'ticker', created.id as string);
  const ticks = calls.filter((c) => c.functionName === 'ticker');
  const ids = ticks.map((c) => c.invocationId);
  t.equal(new Set(ids).size, ids.length, 'no tick ran twice');
  t.ok(ticks.every((c) => c.source === 'schedule' && c.payload.toString() === '{"fixed":true}'));
  const before = ticks.length;
  await new Promise((r) => setTimeout(r, 2_500));
  t.ok(calls.filter((c) => c.functionName === 'ticker').length <= before + 1, 'deleting the schedule stops it');
  t.same(await b.listSchedules(DEFAULT_TENANT, 'ticker'), []);
});

await t.test('schedules stored in Postgres are registered again when missing from Redis', async (t) => {
  await createFunction('restored');
  const created = await a.createSchedule(DEFAULT_TENANT, 'restored', { expression: 'cron(0 12 * * ? *)', timezone: 'Europe/Paris', input: null });
  const queue = (a as unknown as { queue: { removeSchedule(id: string): Promise<void>; nextRun(id: string): Promise<Date | undefined | null> } }).queue;
  await queue.removeSchedule(created.id as string);
  t.equal(await queue.nextRun(created.id as string), undefined);
  const c = service();
  await c.start();
  t.teardown(() => c.close(5_000));
  const next = await queue.nextRun(created.id as string);
  t.ok(next instanceof Date, 'reconciled at start');
  t.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(next as Date), '12:00');
});
