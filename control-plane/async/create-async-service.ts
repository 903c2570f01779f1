/** The async service (queue, worker, schedules) from its slice of the control plane's config. */
import type { ControlPlaneConfig } from '../config.js';
import { AsyncService, type AsyncServiceDeps } from './async-service.js';

export type AsyncServiceConfig = Pick<
  ControlPlaneConfig,
  | 'REDIS_URL'
  | 'GANTRY_REDIS_PREFIX'
  | 'GANTRY_REDIS_COMMAND_TIMEOUT_MS'
  | 'GANTRY_REGION'
  | 'GANTRY_ASYNC_WORKER_CONCURRENCY'
  | 'GANTRY_ASYNC_LOCK_MS'
  | 'GANTRY_ASYNC_SLOT_WAIT_MS'
  | 'GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS'
  | 'GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS'
>;

export function createAsyncService(deps: AsyncServiceDeps, c: AsyncServiceConfig): AsyncService {
  return new AsyncService(deps, {
    redisUrl: c.REDIS_URL,
    redisPrefix: c.GANTRY_REDIS_PREFIX,
    commandTimeoutMs: c.GANTRY_REDIS_COMMAND_TIMEOUT_MS,
    region: c.GANTRY_REGION,
    concurrency: c.GANTRY_ASYNC_WORKER_CONCURRENCY,
    lockMs: c.GANTRY_ASYNC_LOCK_MS,
    slotWaitMs: c.GANTRY_ASYNC_SLOT_WAIT_MS,
    throttleMinDelayMs: c.GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS,
    throttleMaxDelayMs: c.GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS,
  });
}
