/**
 * Asynchronous invocations and schedules, composed: what the invoke handler and the admin
 * routers call (accept an event, show an invocation, async config, dead letters, schedules), and
 * the lifecycle of the queue and its worker (start after migrations; close before the scheduler
 * destroys containers).
 */
import type { Registry } from 'prom-client';
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Redis } from '../../common/redis.js';
import type { FunctionCache } from '../functions/function-cache.js';
import { LATEST, type FunctionRecord, type InvocableFunction, type TenantId } from '../functions/function-types.js';
import { splitQualifiedName } from '../functions/lambda-contract.js';
import { resolveQualifier } from '../functions/qualifier.js';
import { newInvocationId } from '../invocation/invocation-id.js';
import type { InvokeRequest, InvokeResult } from '../invocation/invoker.js';
import type { InvocationSource } from '../metering/ledger.js';
import type { FunctionStore } from '../functions/function-store.js';
import { destinationFunctions, type AsyncConfig } from './async-config.js';
import type { AsyncJobData } from './async-job.js';
import { AsyncMetrics } from './async-metrics.js';
import { AsyncQueue, bullConnections } from './async-queue.js';
import { AsyncStore, type AsyncOutcome } from './async-store.js';
import { AsyncWorker, type AsyncWorkerOptions } from './async-worker.js';
import { parseOrText } from './json-text.js';
import { nextFireTimes, parseSchedule, ScheduleExpressionError, type ScheduleSpec } from './schedule-expression.js';
import { ScheduleStore, type Schedule } from './schedule-store.js';

export interface AsyncServiceDeps {
  readonly pool: Pool;
  readonly functions: FunctionCache;
  readonly functionStore: FunctionStore;
  readonly invoke: (req: InvokeRequest) => Promise<InvokeResult>;
  /** Tells every node that a config changed (their async-config caches are cleared). */
  readonly publishChange: () => Promise<void>;
  readonly registry: Registry;
  readonly logger: Logger;
}

export interface AsyncServiceOptions extends Omit<AsyncWorkerOptions, 'redisPrefix'> {
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly commandTimeoutMs: number;
}

export interface ScheduleInput {
  readonly expression: string;
  readonly timezone: string;
  readonly input: unknown;
  /** A version number or alias to fire instead of $LATEST. */
  readonly qualifier?: string;
}

const unavailable = (cause: unknown) =>
  new GantryError('ServiceUnavailable', 'The event could not be queued (Redis is unreachable); it was not accepted.', { component: 'store', cause });

export class AsyncService {
  readonly store: AsyncStore;
  private readonly schedules: ScheduleStore;
  private readonly queue: AsyncQueue;
  private readonly worker: AsyncWorker;
  private readonly connections: { producer: Redis; worker: Redis };
  private readonly metrics: AsyncMetrics;

  constructor(
    private readonly deps: AsyncServiceDeps,
    opts: AsyncServiceOptions,
  ) {
    this.store = new AsyncStore(deps.pool);
    this.schedules = new ScheduleStore(deps.pool);
    this.connections = bullConnections(opts.redisUrl, opts.commandTimeoutMs);
    this.queue = new AsyncQueue(this.connections.producer, opts.redisPrefix);
    this.metrics = new AsyncMetrics(deps.registry, () => this.queue.counts());
    this.worker = new AsyncWorker(
      this.connections.worker,
      {
        invoke: deps.invoke,
        functions: deps.functions,
        store: this.store,
        schedules: this.schedules,
        enqueue: (id, data) => this.queue.add(id, data),
        removeSchedule: (id) => this.queue.removeSchedule(id),
        metrics: this.metrics,
        logger: deps.logger.child({ component: 'async-worker' }),
      },
      opts,
    );
  }

  async start(): Promise<void> {
    // BullMQ connects its clients itself.
    await Promise.all([this.queue.queue.waitUntilReady(), this.worker.ready()]);
    await this.reconcileSchedules();
    this.worker.start();
  }

  async close(graceMs: number): Promise<void> {
    const steps: [string, () => Promise<unknown>][] = [
      ['async worker', () => this.worker.close(graceMs)],
      ['async queue', () => this.queue.close()],
      ['async redis', () => Promise.all([this.connections.producer.quit(), this.connections.worker.quit()])],
    ];
    for (const [name, step] of steps) {
      await step().catch((e: unknown) => this.deps.logger.warn({ err: e as Error, step: name }, 'shutdown step failed'));
    }
  }

  ping(): Promise<void> {
    return this.queue.ping();
  }

  invalidate(): void {
    this.store.invalidate();
  }

  /** Queues an event; resolves with its invocation id once Redis has it (then, and only then, 202). */
  /** `functionName` may be `name:qualifier`; the qualifier travels with the event and is resolved when it runs. */
  async accept(tenantId: TenantId, qualifiedName: string, event: Buffer, source: InvocationSource = 'async'): Promise<string> {
    const { name: functionName, qualifier } = splitQualifiedName(qualifiedName);
    const fn = await this.requireFunction(tenantId, functionName);
    // An unknown version or alias is the caller's 404 now, not a failed event later.
    if (qualifier !== undefined) resolveQualifier(fn, qualifier);
    // Time-ordered, like synchronous invocation ids (the ledger's index stays append-only).
    const id = newInvocationId();
    const qualified = qualifier === undefined ? {} : { qualifier };
    await this.queue.add(id, { tenantId, functionName, ...qualified, event: event.toString('utf8'), source, createdAtMs: Date.now(), attempt: 1, bounces: 0 }).catch((e: unknown) => {
      throw unavailable(e);
    });
    this.metrics.accepted.inc({ source });
    return id;
  }

  /** api.md `GET /v1/invocations/{id}`: an async invocation from acceptance, a sync one once finished. */
  async status(id: string): Promise<Record<string, unknown> | undefined> {
    const done = await this.store.outcome(id);
    if (done) return outcomeView(done);
    const job = await this.queue.job(id).catch((e: unknown) => {
      throw new GantryError('ServiceUnavailable', 'The queue is unreachable; try again shortly.', { component: 'store', cause: e });
    });
    if (job !== undefined && job.state !== 'done') {
      const attempts = job.state === 'running' ? job.data.attempt : job.data.attempt - 1;
      return {
        id,
        function: job.data.functionName,
        status: job.state,
        attempts,
        ...(job.data.lastError === undefined ? {} : { error: parseOrText(job.data.lastError) }),
        createdAt: new Date(job.createdAtMs).toISOString(),
        updatedAt: new Date(job.updatedAtMs).toISOString(),
      };
    }
    // It may have finished between the two reads.
    const late = await this.store.outcome(id);
    if (late) return outcomeView(late);
    const sync = await this.store.fromLedger(id);
    if (sync === undefined) return undefined;
    return {
      id,
      function: sync.functionName,
      status: sync.status,
      attempts: sync.attempts,
      ...(sync.status === 'failed' ? { error: { errorType: sync.errorType } } : {}),
      createdAt: sync.createdAt.toISOString(),
      updatedAt: sync.updatedAt.toISOString(),
    };
  }

  async getConfig(tenantId: TenantId, functionName: string): Promise<AsyncConfig> {
    const fn = await this.deps.functionStore.require(tenantId, functionName);
    return this.store.config(fn.functionId);
  }

  async putConfig(tenantId: TenantId, functionName: string, config: AsyncConfig): Promise<AsyncConfig> {
    const fn = await this.deps.functionStore.require(tenantId, functionName);
    for (const d of destinationFunctions(config)) {
      if (d.name === fn.name) throw invalid(`${d.field}.function: a function cannot be its own destination.`);
      if ((await this.deps.functionStore.get(tenantId, d.name)) === undefined) throw invalid(`${d.field}.function: function "${d.name}" does not exist.`);
    }
    await this.store.putConfig(tenantId, fn.functionId, config);
    await this.deps.publishChange().catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, 'config change not published; other nodes see it after their next change'));
    return config;
  }

  async deadLetters(tenantId: TenantId, functionName: string, limit: number): Promise<Record<string, unknown>[]> {
    await this.deps.functionStore.require(tenantId, functionName);
    const list = await this.store.deadLetters(tenantId, functionName, limit);
    return list.map((d) => ({ id: d.id, event: parseOrText(d.event), error: d.error, attempts: d.attempts, failedAt: d.failedAt.toISOString() }));
  }

  /** A new invocation of the dead letter's event; the dead letter goes once that is queued. */
  async replay(tenantId: TenantId, functionName: string, deadLetterId: string): Promise<string> {
    await this.deps.functionStore.require(tenantId, functionName);
    const id = await this.store.replay(tenantId, functionName, deadLetterId, (event) => this.accept(tenantId, functionName, Buffer.from(event)));
    if (id === undefined) throw new GantryError('ResourceNotFound', `Dead letter not found: ${deadLetterId}`, { component: 'admin-api' });
    return id;
  }

  async createSchedule(tenantId: TenantId, functionName: string, s: ScheduleInput): Promise<Record<string, unknown>> {
    const fn = await this.deps.functionStore.require(tenantId, functionName);
    const spec = specOf(s.expression, s.timezone);
    const qualifier = s.qualifier === undefined || s.qualifier === LATEST ? null : s.qualifier;
    if (qualifier !== null) resolveQualifier(await this.requireFunction(tenantId, functionName), qualifier);
    const schedule = await this.schedules.create({ tenantId, functionId: fn.functionId, functionName: fn.name, expression: s.expression, timezone: s.timezone, input: s.input, qualifier });
    try {
      await this.queue.upsertSchedule(schedule.id, spec, tickTemplate(schedule));
    } catch (e) {
      await this.schedules.delete(tenantId, functionName, schedule.id).catch(() => undefined);
      throw new GantryError('ServiceUnavailable', 'The schedule could not be registered (Redis is unreachable).', { component: 'store', cause: e });
    }
    return this.scheduleView(schedule, spec);
  }

  async listSchedules(tenantId: TenantId, functionName: string): Promise<Record<string, unknown>[]> {
    await this.deps.functionStore.require(tenantId, functionName);
    const list = await this.schedules.list(tenantId, functionName);
    return Promise.all(list.map((s) => this.scheduleView(s, storedSpec(s))));
  }

  async deleteSchedule(tenantId: TenantId, functionName: string, id: string): Promise<void> {
    await this.deps.functionStore.require(tenantId, functionName);
    if (!(await this.schedules.delete(tenantId, functionName, id))) throw new GantryError('ResourceNotFound', `Schedule not found: ${id}`, { component: 'admin-api' });
    await this.queue.removeSchedule(id);
  }

  private async scheduleView(s: Schedule, spec: ScheduleSpec | undefined): Promise<Record<string, unknown>> {
    const next = (await this.queue.nextRun(s.id).catch(() => undefined)) ?? (spec === undefined ? null : nextFireTimes(spec, new Date(), 1)[0] ?? null);
    return { id: s.id, function: s.functionName, qualifier: s.qualifier ?? LATEST, expression: s.expression, timezone: s.timezone, input: s.input, createdAt: s.createdAt.toISOString(), nextRunAt: next?.toISOString() ?? null };
  }

  /** Postgres is the source of truth: missing job schedulers are added, stray ones removed. */
  private async reconcileSchedules(): Promise<void> {
    const [stored, registered] = await Promise.all([this.schedules.all(), this.queue.scheduleIds()]);
    const known = new Set(stored.map((s) => s.id));
    const present = new Set(registered);
    for (const s of stored) {
      const spec = storedSpec(s);
      if (present.has(s.id) || spec === undefined) continue;
      try {
        await this.queue.upsertSchedule(s.id, spec, tickTemplate(s));
      } catch (e) {
        this.deps.logger.error({ err: e as Error, schedule: s.id }, 'schedule could not be registered');
      }
    }
    for (const id of registered) if (!known.has(id)) await this.queue.removeSchedule(id);
  }

  private async requireFunction(tenantId: TenantId, name: string): Promise<InvocableFunction> {
    const fn = await this.deps.functions.get(tenantId, name);
    if (fn === undefined) throw new GantryError('ResourceNotFound', `Function not found: ${name}`, { component: 'invoke-api' });
    return fn;
  }
}

function invalid(message: string): GantryError {
  return new GantryError('ValidationError', `Invalid request: ${message}`, { component: 'admin-api' });
}

function specOf(expression: string, timezone: string): ScheduleSpec {
  try {
    return parseSchedule(expression, timezone);
  } catch (e) {
    if (e instanceof ScheduleExpressionError) throw invalid(e.message);
    throw e;
  }
}

/** A stored schedule's spec; undefined once it can no longer fire (its last year has passed). */
function storedSpec(s: Schedule): ScheduleSpec | undefined {
  try {
    return parseSchedule(s.expression, s.timezone);
  } catch {
    return undefined;
  }
}

function tickTemplate(s: Schedule): AsyncJobData {
  return { tenantId: s.tenantId, functionName: s.functionName, event: '', source: 'schedule', createdAtMs: 0, attempt: 1, bounces: 0, scheduleId: s.id };
}

function outcomeView(o: AsyncOutcome): Record<string, unknown> {
  return {
    id: o.id,
    function: o.functionName,
    status: o.status,
    attempts: o.attempts,
    ...(o.status === 'succeeded' && o.result !== null ? { result: parseOrText(o.result.toString('utf8')) } : {}),
    ...(o.status !== 'succeeded' && o.error !== null ? { error: o.error } : {}),
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}
