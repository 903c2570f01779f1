/**
 * The control plane's Prometheus metrics, on a registry of its own (so two processes in one test
 * never share counters).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SchedulerStats } from './scheduler/scheduler.js';
import { countOpenFds } from './runtime-api/fd-budget.js';
import type { RuntimeApiBounds } from './runtime-api/runtime-api-bounds.js';

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly invocations = new Counter({
    name: 'gantry_invocations_total',
    help: 'Invocations that ran, by function and outcome',
    labelNames: ['function', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'gantry_invocation_duration_seconds',
    help: 'Function execution time (handler start to result)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });
  readonly coldStarts = new Counter({
    name: 'gantry_cold_starts_total',
    help: 'Invocations that needed a new environment, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly throttles = new Counter({
    name: 'gantry_throttles_total',
    help: 'Invocations refused for capacity or concurrency limits',
    labelNames: ['function'] as const,
    registers: [this.registry],
  });

  readonly environmentStartFailures = new Counter({
    name: 'gantry_environment_start_failures_total',
    help: 'Environment starts the platform failed (engine or Gantry, not the function), by cause',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly environmentStartRetries = new Counter({
    name: 'gantry_environment_start_retries_total',
    help: 'Failed environment starts tried again on a fresh environment, by cause',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });

  constructor(
    schedulerStats: () => SchedulerStats,
    concurrencyInUse: () => number,
    stemCellsByRuntime: () => Record<string, number> = () => ({}),
    runtimeApi?: RuntimeApiBounds,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'gantry_control_plane_' });
    new Gauge({
      name: 'gantry_environments',
      help: 'Environments on this node by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        for (const [state, n] of Object.entries(schedulerStats().environments)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'gantry_stem_cells',
      help: 'Stem cells ready to be specialised on this node, by runtime',
      labelNames: ['runtime'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [runtime, n] of Object.entries(stemCellsByRuntime())) this.set({ runtime }, n);
      },
    });
    new Gauge({
      name: 'gantry_environment_memory_mb',
      help: 'Memory reserved by live environments on this node (the node budget in use)',
      registers: [this.registry],
      collect() {
        this.set(schedulerStats().memoryInUseMb);
      },
    });
    new Gauge({
      name: 'gantry_concurrency_in_use',
      help: 'Invocations holding a concurrency slot on this node',
      registers: [this.registry],
      collect() {
        this.set(concurrencyInUse());
      },
    });
    if (runtimeApi) this.registerRuntimeApi(runtimeApi);
  }

  private registerRuntimeApi(bounds: RuntimeApiBounds): void {
    const registers = [this.registry];
    new Gauge({
      name: 'gantry_open_fds',
      help: 'File descriptors this process has open now (read at scrape time)',
      registers,
      collect() {
        const n = countOpenFds();
        if (n !== undefined) this.set(n);
      },
    });
    new Gauge({
      name: 'gantry_fd_budget',
      help: 'The fd budget: limit (RLIMIT_NOFILE), headroom kept for the platform, and in use by environments',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const s = bounds.budget.stats();
        this.set({ kind: 'limit' }, s.limit);
        this.set({ kind: 'headroom' }, s.headroom);
        this.set({ kind: 'in_use' }, s.inUse);
      },
    });
    new Gauge({
      name: 'gantry_runtime_api_connections',
      help: 'Runtime API connections open on this node',
      registers,
      collect() {
        this.set(bounds.openConnections());
      },
    });
    new Counter({
      name: 'gantry_runtime_api_refused_total',
      help: 'Runtime API connections and requests refused by the per-environment bounds and the fd budget, by reason',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        const r = bounds.refusals;
        this.reset();
        this.inc({ reason: 'connection_cap' }, r.connectionCap);
        this.inc({ reason: 'fd_budget' }, r.fdBudget);
        this.inc({ reason: 'connection_rate' }, r.connectionRate);
        this.inc({ reason: 'request_rate' }, r.requestRate);
      },
    });
    new Counter({
      name: 'gantry_runtime_api_byte_pauses_total',
      help: 'Times reading a Runtime API body paused for its environment byte rate',
      registers,
      collect() {
        this.reset();
        this.inc(bounds.refusals.bytePauses);
      },
    });
  }
}
