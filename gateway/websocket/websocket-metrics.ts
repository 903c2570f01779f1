/** WebSocket metrics, on the gateway's registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

export class WebsocketMetrics {
  readonly connections: Gauge;
  readonly messages: Counter<'direction'>;
  readonly closes: Counter<'code'>;

  constructor(registry: Registry) {
    this.connections = new Gauge({ name: 'gantry_gateway_websocket_connections', help: 'Open WebSocket connections held by this gateway', registers: [registry] });
    this.messages = new Counter({
      name: 'gantry_gateway_websocket_messages_total',
      help: 'WebSocket messages: in from clients, out to clients (route responses and @connections)',
      labelNames: ['direction'] as const,
      registers: [registry],
    });
    this.closes = new Counter({ name: 'gantry_gateway_websocket_closes_total', help: 'Ended WebSocket connections by close code', labelNames: ['code'] as const, registers: [registry] });
  }
}
