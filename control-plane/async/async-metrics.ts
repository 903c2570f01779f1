/** Prometheus metrics of async invocations and the queue, on the control plane's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class AsyncMetrics {
  readonly accepted: Counter<'source'>;
  readonly outcomes: Counter<'status'>;
  readonly returned: Counter<'reason'>;
  readonly retries: Counter;
  readonly delay: Histogram;

  constructor(registry: Registry, counts: () => Promise<Record<string, number>>) {
    const registers = [registry];
    this.accepted = new Counter({ name: 'gantry_async_events_accepted_total', help: 'Async events durably queued, by source', labelNames: ['source'] as const, registers });
    this.outcomes = new Counter({
      name: 'gantry_async_events_finished_total',
      help: 'Async events with an outcome (succeeded, failed, dead-lettered), by status',
      labelNames: ['status'] as const,
      registers,
    });
    this.returned = new Counter({
      name: 'gantry_async_events_requeued_total',
      help: 'Times an event went back to the queue without using a retry (throttled, platform error, shutdown)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.retries = new Counter({ name: 'gantry_async_retries_total', help: 'Retries scheduled after a function error', registers });
    this.delay = new Histogram({
      name: 'gantry_async_end_to_end_seconds',
      help: 'From acceptance of an async event to its outcome',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600],
      registers,
    });
    new Gauge({
      name: 'gantry_async_queue_jobs',
      help: 'Jobs in the async queue by state (waiting, delayed, active, prioritized, failed)',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        // A scrape while Redis is away reports nothing rather than failing the whole page.
        const c = await counts().catch(() => undefined);
        if (c) for (const [state, n] of Object.entries(c)) this.set({ state }, n);
      },
    });
  }
}
