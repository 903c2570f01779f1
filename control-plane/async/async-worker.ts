/**
 * Runs queued async events: one BullMQ worker per control plane, calling the invoker with the
 * event's invocation id, attempt number and source, so attempts are metered exactly like
 * synchronous invocations (and an attempt redelivered after a crash is billed once: the ledger is
 * keyed by id and attempt). Per event, in order:
 * - too old (maximum event age) → failure destination, not run;
 * - wait for a concurrency slot of the function (FunctionGate), else back to the queue;
 * - invoke; a throttle (429) or platform error consumes no retry: back to the queue, later;
 * - a function error uses a retry after the configured delay, until none is left;
 * - the outcome goes to the destination (function or dead-letter list) and to Postgres, and
 *   only then is the job removed from Redis.
 * Retries and returns are `moveToDelayed` + DelayedError: the job stays in Redis throughout.
 * A step that can never succeed (a poison event) ends the event at once: a dead letter or a
 * failed outcome naming the cause.
 */
import { DelayedError, Worker, type Job } from 'bullmq';
import { GantryError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Redis } from '../../common/redis.js';
import type { FunctionCache } from '../functions/function-cache.js';
import type { FunctionRecord, TenantId } from '../functions/function-types.js';
import type { InvokeRequest, InvokeResult } from '../invocation/invoker.js';
import { functionArn } from '../functions/lambda-contract.js';
import type { AsyncConfig } from './async-config.js';
import { derivedUuid, invocationIdOf, type AsyncJobData } from './async-job.js';
import type { AsyncMetrics } from './async-metrics.js';
import { bullPrefix, QUEUE_NAME, tickTimeOf } from './async-queue.js';
import type { AsyncStore } from './async-store.js';
import { destinationRecord, type DestinationCondition, type LastAttempt } from './destination-record.js';
import { FunctionGate } from './function-gate.js';
import { parseOrText } from './json-text.js';
import { isPermanentError } from './permanent-error.js';
import { afterFunctionError, isExpired, throttleDelayMs, type FailureCondition } from './retry-policy.js';
import { scheduledEvent } from './scheduled-event.js';
import type { ScheduleStore } from './schedule-store.js';

export interface AsyncWorkerDeps {
  readonly invoke: (req: InvokeRequest) => Promise<InvokeResult>;
  readonly functions: FunctionCache;
  readonly store: AsyncStore;
  readonly schedules: ScheduleStore;
  /** Queues a destination's event (a new async invocation of another function). */
  readonly enqueue: (id: string, data: AsyncJobData) => Promise<void>;
  readonly removeSchedule: (id: string) => Promise<void>;
  readonly metrics: AsyncMetrics;
  readonly logger: Logger;
}

export interface AsyncWorkerOptions {
  readonly redisPrefix: string;
  readonly region: string;
  readonly concurrency: number;
  /** A crashed worker's jobs go back to the queue after this (BullMQ's lock duration). */
  readonly lockMs: number;
  /** How long an event waits here for a concurrency slot before it goes back to the queue. */
  readonly slotWaitMs: number;
  readonly throttleMinDelayMs: number;
  readonly throttleMaxDelayMs: number;
}

type Requeue = 'throttled' | 'platform-error' | 'shutdown';

/** How far a step got: a poison event's outcome counts the attempt that ran. */
interface Progress {
  ran: boolean;
  startedAt: Date | undefined;
}

export class AsyncWorker {
  private readonly gate = new FunctionGate();
  private readonly worker: Worker<AsyncJobData>;
  private closing = false;

  constructor(
    connection: Redis,
    private readonly deps: AsyncWorkerDeps,
    private readonly opts: AsyncWorkerOptions,
  ) {
    this.worker = new Worker<AsyncJobData>(QUEUE_NAME, (job, token) => this.process(job, token ?? ''), {
      connection,
      prefix: bullPrefix(opts.redisPrefix),
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: opts.lockMs,
      // At least once: a job whose worker died is given back however often that happens.
      maxStalledCount: 1_000_000,
      autorun: false,
    });
    this.worker.on('error', (e) => deps.logger.warn({ err: e }, 'async worker error (it reconnects by itself)'));
    this.worker.on('failed', (job, e) => deps.logger.warn({ err: e, jobId: job?.id }, 'async event step failed; BullMQ tries it again in 5 s'));
  }

  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  start(): void {
    this.worker.run().catch((e: unknown) => this.deps.logger.error({ err: e as Error }, 'async worker stopped'));
  }

  /**
   * Stops taking jobs, sends events waiting for a slot back to the queue, and waits up to
   * `graceMs` for running ones; past that, they are left to BullMQ's redelivery. Idempotent.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.gate.close();
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.worker.close().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!graceful) {
      this.deps.logger.warn('async events still running at the end of the grace period: they will be redelivered');
      await this.worker.close(true);
    }
  }

  /**
   * One step of an event. A step that fails for a reason that cannot go away by trying again (a
   * poison event: see permanent-error.ts) ends the event here, with the cause recorded, instead
   * of going back to BullMQ's safety net, which would retry it until its age limit.
   */
  private async process(job: Job<AsyncJobData>, token: string): Promise<void> {
    const progress: Progress = { ran: false, startedAt: undefined };
    try {
      await this.step(job, token, progress);
    } catch (e) {
      if (e instanceof DelayedError || !isPermanentError(e)) throw e;
      await this.poisoned(job, progress, e as Error);
    }
  }

  private async step(job: Job<AsyncJobData>, token: string, progress: Progress): Promise<void> {
    const id = invocationIdOf(job.id as string);
    let data = job.data;
    if (data.scheduleId !== undefined && data.createdAtMs === 0) {
      const tick = await this.tick(job, data.scheduleId);
      if (tick === undefined) return;
      data = tick;
    }
    if ((job.stalledCounter > 0 || data.derived === true) && (await this.deps.store.outcome(id)) !== undefined) return;
    const tenantId = data.tenantId as TenantId;
    const fn = await this.deps.functions.get(tenantId, data.functionName);
    if (fn === undefined) {
      await this.finish(id, data, undefined, 'failed', data.attempt - 1, null, { errorType: 'ResourceNotFound', errorMessage: `Function not found: ${data.functionName}` });
      return;
    }
    const config = await this.deps.store.config(fn.functionId);
    if (isExpired(data.createdAtMs, Date.now(), config)) {
      await this.giveUp(id, data, fn, config, 'EventAgeExceeded', undefined);
      return;
    }
    if (fn.reservedConcurrency === 0) {
      // Lambda sends events of a function reserved at 0 straight to the failure destination.
      const payload = Buffer.from(JSON.stringify({ errorType: 'TooManyRequests', errorMessage: 'The function is throttled: its reserved concurrency is 0.' }));
      await this.giveUp(id, data, fn, config, 'RetriesExhausted', undefined, payload);
      return;
    }
    const slot = await this.gate.enter(fn.functionId, fn.reservedConcurrency, this.opts.slotWaitMs);
    if (slot === undefined) return this.requeue(job, token, data, config, this.closing ? 'shutdown' : 'throttled');
    const startedAt = new Date();
    progress.startedAt = startedAt;
    let result: InvokeResult;
    try {
      const qualified = data.qualifier === undefined ? {} : { qualifier: data.qualifier };
      result = await this.deps.invoke({ tenantId, functionName: data.functionName, ...qualified, payload: Buffer.from(data.event), source: data.source, invocationId: id, attempt: data.attempt });
    } catch (e) {
      if (e instanceof GantryError && e.type === 'ResourceNotFound') {
        await this.finish(id, data, startedAt, 'failed', data.attempt - 1, null, { errorType: 'ResourceNotFound', errorMessage: e.message });
        return;
      }
      // Throttles and platform failures ran nothing (nothing billed): Lambda re-queues them.
      const reason = e instanceof GantryError && e.type === 'TooManyRequests' ? 'throttled' : 'platform-error';
      if (reason === 'platform-error') this.deps.logger.warn({ err: e as Error, invocationId: id }, 'async attempt could not run; back to the queue');
      return this.requeue(job, token, data, config, reason);
    } finally {
      slot.release();
    }
    progress.ran = true;
    await this.afterAttempt(job, token, id, data, fn, config, result, startedAt);
  }

  private async afterAttempt(job: Job<AsyncJobData>, token: string, id: string, data: AsyncJobData, fn: FunctionRecord, config: AsyncConfig, r: InvokeResult, startedAt: Date): Promise<void> {
    const last: LastAttempt = { status: r.status, payload: r.payload };
    if (r.status === 'succeeded') {
      if (config.onSuccess !== null) await this.sendRecord(id, data, fn, config.onSuccess.function, 'Success', data.attempt, last);
      await this.finish(id, data, startedAt, 'succeeded', data.attempt, r.payload, undefined);
      return;
    }
    const next = afterFunctionError(config, data.attempt);
    if (next.kind === 'give-up') {
      await this.giveUp(id, data, fn, config, next.condition, last, undefined, startedAt);
      return;
    }
    this.deps.metrics.retries.inc();
    await job.updateData({ ...data, attempt: data.attempt + 1, bounces: 0, lastError: r.payload.toString('utf8') });
    await job.moveToDelayed(Date.now() + next.delayMs, token);
    throw new DelayedError();
  }

  /** Back to the queue without using a retry, later each time (Lambda: 1 s growing to 5 min). */
  private async requeue(job: Job<AsyncJobData>, token: string, data: AsyncJobData, config: AsyncConfig, reason: Requeue): Promise<void> {
    this.deps.metrics.returned.inc({ reason });
    const bounces = reason === 'shutdown' ? data.bounces : data.bounces + 1;
    const delay = reason === 'shutdown' ? 0 : throttleDelayMs({ minDelayMs: this.opts.throttleMinDelayMs, maxDelayMs: this.opts.throttleMaxDelayMs }, bounces, data.createdAtMs, Date.now(), config);
    if (bounces !== data.bounces || data !== job.data) await job.updateData({ ...data, bounces });
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  }

  private async giveUp(
    id: string,
    data: AsyncJobData,
    fn: FunctionRecord,
    config: AsyncConfig,
    condition: FailureCondition,
    last: LastAttempt | undefined,
    errorPayload?: Buffer,
    startedAt?: Date,
  ): Promise<void> {
    const attemptsRun = last === undefined ? data.attempt - 1 : data.attempt;
    const lastPayload = last?.payload ?? errorPayload ?? (data.lastError === undefined ? undefined : Buffer.from(data.lastError));
    const error = { condition, ...(lastPayload === undefined ? {} : asObject(parseOrText(lastPayload.toString('utf8')))) };
    const previous = last ?? (data.lastError === undefined ? undefined : { status: 'failed' as const, payload: Buffer.from(data.lastError) });
    const onFailure = config.onFailure;
    if (onFailure !== null && 'function' in onFailure && (await this.deps.functions.get(data.tenantId as TenantId, onFailure.function)) !== undefined) {
      await this.sendRecord(id, data, fn, onFailure.function, condition, attemptsRun, previous);
      await this.finish(id, data, startedAt, 'failed', attemptsRun, null, error);
      return;
    }
    if (onFailure !== null) {
      // A dead letter, or a failure function that no longer exists: keep the event rather than lose it.
      await this.deps.store.deadLetter(
        { id, tenantId: data.tenantId, functionName: data.functionName, source: data.source, attempts: attemptsRun, result: null, error, createdAt: new Date(data.createdAtMs), startedAt: startedAt ?? null },
        data.event,
      );
      this.observe(id, data, 'dead-lettered', attemptsRun);
      return;
    }
    await this.finish(id, data, startedAt, 'failed', attemptsRun, null, error);
  }

  /**
   * Ends a poison event: a dead letter (its event kept for replay) unless the function has no
   * failure destination at all, then a failed outcome; either way with the cause as its error.
   * The failure function is not sent a record: building or sending records is what may have failed.
   */
  private async poisoned(job: Job<AsyncJobData>, progress: Progress, e: Error): Promise<void> {
    const id = invocationIdOf(job.id as string);
    const data = job.data;
    const attemptsRun = progress.ran ? data.attempt : data.attempt - 1;
    const error = { condition: 'ProcessingFailed', errorType: 'Gantry.EventNotProcessable', errorMessage: `The event could not be processed: ${e.name}: ${e.message}` };
    this.deps.logger.warn({ err: e, invocationId: id, function: data.functionName }, 'async event cannot be processed; it ends without a retry');
    const fn = await this.deps.functions.get(data.tenantId as TenantId, data.functionName);
    const config = fn === undefined ? undefined : await this.deps.store.config(fn.functionId);
    if (config !== undefined && config.onFailure === null) {
      await this.finish(id, data, progress.startedAt, 'failed', attemptsRun, null, error);
      return;
    }
    await this.deps.store.deadLetter(
      { id, tenantId: data.tenantId, functionName: data.functionName, source: data.source, attempts: attemptsRun, result: null, error, createdAt: new Date(data.createdAtMs), startedAt: progress.startedAt ?? null },
      data.event,
    );
    this.observe(id, data, 'dead-lettered', attemptsRun);
  }

  private async sendRecord(id: string, data: AsyncJobData, fn: FunctionRecord, target: string, condition: DestinationCondition, attemptsRun: number, last: LastAttempt | undefined): Promise<void> {
    const record = destinationRecord({ invocationId: id, functionArn: functionArn(this.opts.region, fn.name), condition, attemptsRun, event: data.event, last, now: new Date() });
    // A deterministic id: a redelivered job re-sends the same destination event, not a second one.
    await this.deps.enqueue(derivedUuid(id, 'destination', condition), {
      tenantId: data.tenantId,
      functionName: target,
      event: record,
      source: 'async',
      createdAtMs: Date.now(),
      attempt: 1,
      bounces: 0,
      derived: true,
    });
  }

  private async finish(id: string, data: AsyncJobData, startedAt: Date | undefined, status: 'succeeded' | 'failed', attempts: number, result: Buffer | null, error: unknown): Promise<void> {
    await this.deps.store.recordOutcome({
      id, tenantId: data.tenantId, functionName: data.functionName, source: data.source, status, attempts, result, error, createdAt: new Date(data.createdAtMs), startedAt: startedAt ?? null,
    });
    this.observe(id, data, status, attempts);
  }

  private observe(id: string, data: AsyncJobData, status: string, attempts: number): void {
    this.deps.metrics.outcomes.inc({ status });
    this.deps.metrics.delay.observe((Date.now() - data.createdAtMs) / 1000);
    this.deps.logger.debug({ invocationId: id, function: data.functionName, source: data.source, status, attempts }, 'async invocation finished');
  }

  /** Fills a schedule tick with its event; undefined when the schedule is gone (it is removed). */
  private async tick(job: Job<AsyncJobData>, scheduleId: string): Promise<AsyncJobData | undefined> {
    const schedule = await this.deps.schedules.get(scheduleId);
    if (schedule === undefined) {
      await this.deps.removeSchedule(scheduleId);
      return undefined;
    }
    const firedAtMs = tickTimeOf(job.id as string) ?? job.timestamp;
    const event = schedule.input === null ? scheduledEvent(invocationIdOf(job.id as string), schedule.id, firedAtMs, this.opts.region) : schedule.input;
    // The stored schedule says which version or alias fires (the queue's template predates it).
    const data: AsyncJobData = { ...job.data, event: JSON.stringify(event), createdAtMs: firedAtMs, ...(schedule.qualifier === null ? {} : { qualifier: schedule.qualifier }) };
    await job.updateData(data);
    this.deps.metrics.accepted.inc({ source: 'schedule' });
    return data;
  }
}

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { errorMessage: v };
}
