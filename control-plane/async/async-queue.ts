/**
 * The BullMQ adapter: one queue per installation (every control plane of it shares the queue and
 * runs a worker on it), under `GANTRY_REDIS_PREFIX`. Nothing else in Gantry sees BullMQ types
 * except the worker. `add` resolves once Redis has the job (Redis persists it with
 * `--appendonly yes --appendfsync always` before answering): that is when a 202 may be sent.
 * Jobs are removed once they have an outcome, which Postgres keeps from then on.
 */
import { Queue } from 'bullmq';
import { Redis as IORedis } from 'ioredis';
import type { Redis } from '../../common/redis.js';
import type { AsyncJobData } from './async-job.js';
import type { ScheduleSpec } from './schedule-expression.js';

export const QUEUE_NAME = 'async-invocations';
/**
 * The worker handles every outcome itself; BullMQ's own retries are only the safety net for a
 * step that failed unexpectedly (Postgres away while recording an outcome): every 5 s, for
 * longer than the longest maximum event age, after which the event expires anyway.
 */
const SAFETY_ATTEMPTS = 10_000;
const FAILED_KEEP_S = 7 * 86_400;

export type JobState = 'queued' | 'running' | 'done';

export interface QueuedJob {
  readonly state: JobState;
  readonly data: AsyncJobData;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}bull`;
}

const jobOptions = {
  removeOnComplete: true,
  removeOnFail: { age: FAILED_KEEP_S },
  attempts: SAFETY_ATTEMPTS,
  backoff: { type: 'fixed', delay: 5_000 },
} as const;

export class AsyncQueue {
  readonly queue: Queue<AsyncJobData>;

  constructor(
    private readonly connection: Redis,
    redisPrefix: string,
  ) {
    this.queue = new Queue<AsyncJobData>(QUEUE_NAME, { connection, prefix: bullPrefix(redisPrefix) });
    // Connection errors surface on the calls that need Redis (503 on enqueue, readiness false).
    this.queue.on('error', () => undefined);
  }

  /** Durably queues the event under `id`; adding an id that is already queued is a no-op. */
  async add(id: string, data: AsyncJobData, delayMs = 0): Promise<void> {
    await this.queue.add('event', data, { ...jobOptions, jobId: id, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }

  async job(id: string): Promise<QueuedJob | undefined> {
    const job = await this.queue.getJob(id);
    if (job === undefined || job === null) return undefined;
    const state = await job.getState();
    const mapped: JobState = state === 'active' ? 'running' : state === 'completed' || state === 'failed' || state === 'unknown' ? 'done' : 'queued';
    return { state: mapped, data: job.data, createdAtMs: job.data.createdAtMs || job.timestamp, updatedAtMs: job.processedOn ?? job.timestamp };
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'failed');
  }

  async ping(): Promise<void> {
    await this.connection.ping();
  }

  async upsertSchedule(id: string, spec: ScheduleSpec, template: AsyncJobData): Promise<void> {
    const repeat =
      spec.kind === 'every'
        ? { every: spec.everyMs }
        : { pattern: spec.pattern, tz: spec.tz, ...(spec.startDate ? { startDate: spec.startDate } : {}), ...(spec.endDate ? { endDate: spec.endDate } : {}) };
    await this.queue.upsertJobScheduler(id, repeat, { name: 'tick', data: template, opts: jobOptions });
  }

  async removeSchedule(id: string): Promise<void> {
    await this.queue.removeJobScheduler(id);
  }

  /** When the schedule fires next, or undefined when BullMQ has no scheduler of that id. */
  async nextRun(id: string): Promise<Date | undefined | null> {
    const s = await this.queue.getJobScheduler(id);
    if (s === undefined) return undefined;
    return s.next === undefined ? null : new Date(s.next);
  }

  async scheduleIds(): Promise<string[]> {
    const list = await this.queue.getJobSchedulers(0, -1);
    return list.map((s) => s.key);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** A tick's job id is `repeat:<schedule id>:<fire time in ms>`; the fire time is the event's time. */
export function tickTimeOf(jobId: string): number | undefined {
  const m = /^repeat:[^:]+:(\d+)$/.exec(jobId);
  return m ? Number(m[1]) : undefined;
}

/**
 * BullMQ's connections: the producer fails fast while Redis is away (the caller gets 503, never
 * a 202 for an event that is not stored); the worker's waits for Redis to come back (BullMQ
 * requires `maxRetriesPerRequest: null` there, and duplicates it for its blocking reads).
 */
export function bullConnections(url: string, commandTimeoutMs: number): { producer: Redis; worker: Redis } {
  const producer = new IORedis(url, { commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  const worker = new IORedis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  for (const r of [producer, worker]) r.on('error', () => undefined);
  return { producer, worker };
}
