/**
 * Assembles the WebSocket side of a gateway (the upgrade handler, `@connections`, the Redis
 * registry and relay) from the gateway's clients and config, so the composition root only wires
 * three calls: start, the upgrade and request hooks, close.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Pool } from '../../common/db.js';
import type { Logger } from '../../common/logger.js';
import type { Redis, RedisKeys } from '../../common/redis.js';
import type { GatewayConfig } from '../config.js';
import type { RouteGuard } from '../http/route-guard.js';
import type { RouteSync } from '../routing/route-sync.js';
import type { Upstream } from '../upstream/upstream.js';
import { mayBeConnectionsPath } from './connection-ids.js';
import { RedisConnectionRegistry } from './connection-registry.js';
import { ConnectionRelay } from './connection-relay.js';
import { createConnectionsApi } from './connections-api.js';
import { ConnectionsAuth } from './connections-auth.js';
import { WebsocketGateway } from './websocket-gateway.js';
import { WebsocketMetrics } from './websocket-metrics.js';

export interface WebsocketApisDeps {
  readonly pool: Pool;
  /** In subscriber mode (shared with the route sync). */
  readonly subscriber: Redis;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly routes: Pick<RouteSync, 'current'>;
  readonly upstream: Upstream;
  readonly registry: Registry;
  readonly internalToken: string;
  readonly guard: Pick<RouteGuard, 'check'>;
  readonly logger: Logger;
}

export interface WebsocketApis {
  start(): Promise<void>;
  readonly handleUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Answers `@connections` requests; false for any other path. */
  readonly handleRequest: (req: http.IncomingMessage, res: http.ServerResponse, path: string) => boolean;
  readonly connectionCount: () => number;
  close(): Promise<void>;
}

/** How long a relayed `@connections` call waits for the gateway holding the connection. */
const RELAY_TIMEOUT_MS = 5_000;

export function createWebsocketApis(deps: WebsocketApisDeps, config: GatewayConfig): WebsocketApis {
  // One id per process: a restarted gateway is a new one, and its predecessor's connections are
  // cleaned up like any dead gateway's.
  const gatewayId = randomBytes(8).toString('hex');
  const logger = deps.logger.child({ component: 'websocket', gatewayId });
  const registry = new RedisConnectionRegistry(deps.redis, deps.keys, {
    gatewayId,
    ttlMs: config.GANTRY_WS_REGISTRY_TTL_MS,
    entryTtlMs: config.GANTRY_WS_MAX_CONNECTION_MS + config.GANTRY_WS_REGISTRY_TTL_MS,
  });
  const gateway = new WebsocketGateway(
    { routes: deps.routes, upstream: deps.upstream, registry, metrics: new WebsocketMetrics(deps.registry), logger, guard: deps.guard },
    {
      gatewayId,
      region: config.GANTRY_REGION,
      limits: {
        idleTimeoutMs: config.GANTRY_WS_IDLE_TIMEOUT_MS,
        maxDurationMs: config.GANTRY_WS_MAX_CONNECTION_MS,
        messageRatePerSecond: config.GANTRY_WS_MESSAGES_PER_SECOND,
        messageBurst: config.GANTRY_WS_MESSAGE_BURST,
        maxQueuedBytes: config.GANTRY_WS_SEND_QUEUE_BYTES,
      },
      maxMessageBytes: config.GANTRY_WS_MAX_MESSAGE_BYTES,
      integrationTimeoutMs: config.GANTRY_INTEGRATION_TIMEOUT_MS,
      heartbeatIntervalMs: Math.max(100, Math.floor(config.GANTRY_WS_REGISTRY_TTL_MS / 3)),
      shutdownGraceMs: config.GANTRY_SHUTDOWN_GRACE_MS,
    },
  );
  const relay = new ConnectionRelay(
    { subscriber: deps.subscriber, publisher: deps.redis, keys: deps.keys, handle: (req) => gateway.local(req), logger },
    { gatewayId, timeoutMs: RELAY_TIMEOUT_MS },
  );
  const auth = new ConnectionsAuth({ pool: deps.pool, internalToken: deps.internalToken, region: config.GANTRY_REGION, logger }, config.GANTRY_ROUTE_RESYNC_INTERVAL_MS);
  const connectionsApi = createConnectionsApi(
    {
      routes: deps.routes,
      auth,
      registry,
      relay: (gw, req) => relay.send(gw, req),
      holds: (id) => gateway.holds(id),
      local: (req) => gateway.local(req),
      logger: deps.logger.child({ component: 'access' }),
    },
    { gatewayId, maxMessageBytes: config.GANTRY_WS_MAX_MESSAGE_BYTES },
  );

  return {
    async start() {
      await auth.start();
      await relay.start();
      await gateway.start();
    },
    handleUpgrade: (req, socket, head) => gateway.handleUpgrade(req, socket, head),
    handleRequest: (req, res, path) => mayBeConnectionsPath(path) && connectionsApi(req, res, path),
    connectionCount: () => gateway.connectionCount,
    async close() {
      auth.stop();
      // Connections close (and their $disconnects run) before the relay stops answering.
      await gateway.close();
      await relay.stop();
    },
  };
}
