/** The gateway's Prometheus metrics, on a registry of its own. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gantry_gateway_requests_total',
    help: 'Routed requests by response status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'gantry_gateway_request_duration_seconds',
    help: 'Routed request latency, first byte in to last byte out',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gantry_gateway_' });
  }
}
