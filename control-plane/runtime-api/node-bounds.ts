/** The node's Runtime API bounds and fd budget, from the control plane's configuration. */
import type { ControlPlaneConfig } from '../config.js';
import { defaultFdHeadroom, FdBudget, readFdLimit } from './fd-budget.js';
import { DEFAULT_RUNTIME_API_LIMITS, RuntimeApiBounds } from './runtime-api-bounds.js';

/** Where the limit cannot be read (no procfs), the common soft default. */
const FALLBACK_FD_LIMIT = 1024;

export function nodeRuntimeApiBounds(config: ControlPlaneConfig): RuntimeApiBounds {
  const limit = config.GANTRY_FD_LIMIT ?? readFdLimit() ?? FALLBACK_FD_LIMIT;
  const headroom = config.GANTRY_FD_HEADROOM ?? defaultFdHeadroom(limit);
  return new RuntimeApiBounds(
    {
      ...DEFAULT_RUNTIME_API_LIMITS,
      maxConnections: config.GANTRY_RUNTIME_API_MAX_CONNECTIONS,
      connectionsPerSecond: config.GANTRY_RUNTIME_API_CONNECTIONS_PER_SECOND,
      requestsPerSecond: config.GANTRY_RUNTIME_API_REQUESTS_PER_SECOND,
      bytesPerSecond: config.GANTRY_RUNTIME_API_BYTES_PER_SECOND,
    },
    new FdBudget(limit, headroom),
  );
}
