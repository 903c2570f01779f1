/** The scheduler from its slice of the control plane's config. */
import type { ControlPlaneConfig } from '../config.js';
import { Scheduler, type SchedulerDeps } from './scheduler.js';

export type SchedulerConfig = Pick<
  ControlPlaneConfig,
  | 'GANTRY_NODE_ID'
  | 'GANTRY_DATA_DIR'
  | 'GANTRY_REGION'
  | 'GANTRY_FUNCTION_USER'
  | 'GANTRY_FUNCTION_NETWORK'
  | 'GANTRY_KEEP_WARM_MS'
  | 'GANTRY_DOCKER_MAX_CONCURRENT_STARTS'
  | 'GANTRY_INIT_TIMEOUT_MS'
  | 'GANTRY_NODE_MEMORY_MB'
  | 'GANTRY_STEM_CELLS_PER_RUNTIME'
  | 'GANTRY_STEM_CELL_MEMORY_MB'
  | 'GANTRY_INIT_FAILURE_BACKOFF_MS'
  | 'GANTRY_LOG_MAX_BYTES_PER_INVOCATION'
>;

export function createScheduler(deps: SchedulerDeps, c: SchedulerConfig): Scheduler {
  return new Scheduler(deps, {
    nodeId: c.GANTRY_NODE_ID,
    dataDir: c.GANTRY_DATA_DIR,
    region: c.GANTRY_REGION,
    user: c.GANTRY_FUNCTION_USER,
    functionNetwork: c.GANTRY_FUNCTION_NETWORK,
    keepWarmMs: c.GANTRY_KEEP_WARM_MS,
    maxConcurrentStarts: c.GANTRY_DOCKER_MAX_CONCURRENT_STARTS,
    initTimeoutMs: c.GANTRY_INIT_TIMEOUT_MS,
    nodeMemoryMb: c.GANTRY_NODE_MEMORY_MB,
    stemCellsPerRuntime: c.GANTRY_STEM_CELLS_PER_RUNTIME,
    stemCellMemoryMb: c.GANTRY_STEM_CELL_MEMORY_MB,
    initFailureBackoffMs: c.GANTRY_INIT_FAILURE_BACKOFF_MS,
    logMaxBytesPerInvocation: c.GANTRY_LOG_MAX_BYTES_PER_INVOCATION,
  });
}
