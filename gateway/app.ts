/**
 * The gateway's composition root. Routed traffic takes the lean handler; only the gateway's own
 * endpoints (health, metrics) go through Express. Server timeouts are set deliberately so slow
 * clients cannot hold connections open indefinitely.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPool, type Pool } from '../common/db.js';
import type { Logger } from '../common/logger.js';
import { opsRouter, probe } from '../common/ops-router.js';
import { createRedis, RedisKeys, type Redis } from '../common/redis.js';
import type { GatewayConfig } from './config.js';
import { answerClientErrors, failRequest, guarded } from '../common/http-boundary.js';
import { createRouteGuard } from './http/create-route-guard.js';
import { GatewayMetrics } from './http/gateway-metrics.js';
import { gatewayErrorBody } from './http/gateway-responses.js';
import { createRoutedHandler } from './http/routed-handler.js';
import { RouteSync } from './routing/route-sync.js';
import { resolveInternalToken } from './upstream/internal-token.js';
import { NodeDirectory } from './upstream/node-directory.js';
import { RemoteUpstream } from './upstream/remote-upstream.js';
import type { Upstream } from './upstream/upstream.js';
import { FunctionTlsListener } from './websocket/function-tls-listener.js';
import { createWebsocketApis, type WebsocketApis } from './websocket/websocket-apis.js';

export interface GatewayOverrides {
  /** When set (one-process mode), used instead of a remote control plane. */
  readonly upstream?: Upstream;
  /** One-process mode: the control plane's token, read once it has started. */
  readonly internalToken?: () => string;
}

export interface Gateway {
  start(): Promise<number>;
  close(): Promise<void>;
}

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** How long a gateway started before its control plane waits for the internal token's file. */
const TOKEN_WAIT_MS = 60_000;
const MAX_HEADER_BYTES = 10_240;

/** Everything built before start; `Live` holds what start produces. */
interface Parts {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly pool: Pool;
  readonly subscriber: Redis;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly metrics: GatewayMetrics;
  readonly routes: RouteSync;
  readonly nodes: NodeDirectory;
}

interface Live {
  upstream: Upstream | undefined;
  server?: http.Server;
  websockets?: WebsocketApis;
  functionTls?: FunctionTlsListener;
}

export function createGateway(config: GatewayConfig, logger: Logger, overrides: GatewayOverrides = {}): Gateway {
  const parts = buildParts(config, logger);
  const live: Live = { upstream: overrides.upstream };
  let closing: Promise<void> | undefined;
  return {
    start: () => start(parts, live, overrides),
    close: () => (closing ??= shutdown(parts, live)),
  };
}

function buildParts(config: GatewayConfig, logger: Logger): Parts {
  const pool = createPool({ url: config.DATABASE_URL, max: 3, statementTimeoutMs: config.GANTRY_DB_STATEMENT_TIMEOUT_MS, applicationName: 'gantry-gateway' });
  const subscriber = createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  // Commands (usage counters) need a client of their own: a subscribed client can run none.
  const redis = createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  const keys = new RedisKeys(config.GANTRY_REDIS_PREFIX);
  const routes = new RouteSync({ pool, subscriber, channel: keys.configChannel, logger: logger.child({ component: 'routes' }) }, config.GANTRY_ROUTE_RESYNC_INTERVAL_MS);
  const nodes = new NodeDirectory(
    { redis, keys, logger: logger.child({ component: 'nodes' }) },
    { seedUrl: config.GANTRY_CONTROL_PLANE_URL, refreshIntervalMs: config.GANTRY_NODE_REFRESH_INTERVAL_MS },
  );
  return { config, logger, pool, subscriber, redis, keys, metrics: new GatewayMetrics(), routes, nodes };
}

async function start(p: Parts, live: Live, overrides: GatewayOverrides): Promise<number> {
  const { config, logger } = p;
  const internalToken =
    overrides.internalToken?.() ?? (await resolveInternalToken(p.pool, { configured: config.GANTRY_INTERNAL_TOKEN, file: config.GANTRY_INTERNAL_TOKEN_FILE, waitMs: TOKEN_WAIT_MS }));
  const upstream = (live.upstream ??= new RemoteUpstream(p.nodes, { internalToken, connections: config.GANTRY_UPSTREAM_CONNECTIONS }));
  await Promise.all([p.subscriber.connect(), p.redis.connect()]);
  // One process (`npm start`) has its invoker in hand and no nodes to look for.
  if (!overrides.upstream) await p.nodes.start();
  await p.routes.start();
  const guard = createRouteGuard({ upstream, redis: p.redis, keys: p.keys }, config);
  const ws = createWebsocketApis({ pool: p.pool, subscriber: p.subscriber, redis: p.redis, keys: p.keys, routes: p.routes, upstream, registry: p.metrics.registry, internalToken, guard, logger }, config);
  await ws.start();
  live.websockets = ws;
  const routed = createRoutedHandler(
    { routes: p.routes, upstream, guard, metrics: p.metrics, logger: logger.child({ component: 'access' }) },
    { integrationTimeoutMs: config.GANTRY_INTEGRATION_TIMEOUT_MS, maxBodyBytes: config.GANTRY_GATEWAY_MAX_BODY_BYTES, accessLogEvery: config.GANTRY_ACCESS_LOG_EVERY },
  );
  const srv = buildServer(p, ws, routed);
  live.server = srv;
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(config.GANTRY_GATEWAY_PORT, config.GANTRY_BIND_HOST, () => resolve());
  });
  const port = (srv.address() as AddressInfo).port;
  if (config.GANTRY_FUNCTION_TLS_PORT > 0) {
    const tlsListener = new FunctionTlsListener(
      { routes: p.routes, handleRequest: ws.handleRequest, logger: logger.child({ component: 'function-tls' }) },
      { port: config.GANTRY_FUNCTION_TLS_PORT, host: config.GANTRY_FUNCTION_TLS_BIND_HOST, caDir: config.GANTRY_FUNCTION_CA_DIR, caWaitMs: TOKEN_WAIT_MS },
    );
    live.functionTls = tlsListener;
    // In the background: it waits for the control plane's CA, and routed traffic need not.
    tlsListener.start().then(
      (tlsPort) => logger.info({ port: tlsPort }, 'function TLS listener for @connections listening'),
      (e: unknown) => logger.error({ err: e as Error }, 'function TLS listener not started: functions cannot reach @connections over https'),
    );
  }
  logger.info({ port }, 'gateway listening');
  return port;
}

function buildServer(p: Parts, ws: WebsocketApis, routed: http.RequestListener): http.Server {
  const httpLogger = p.logger.child({ component: 'http' });
  const ops = express();
  ops.disable('x-powered-by');
  ops.use(
    opsRouter(
      async () => ({
        routes: p.routes.isLoaded,
        postgres: await probe(() => p.pool.query('SELECT 1')),
        redis: await probe(() => p.redis.ping()),
      }),
      p.metrics.registry,
    ),
  );
  // Routed traffic's family on the gateway's own endpoints too: never Express's HTML page.
  ops.use((_req: express.Request, res: express.Response) => {
    const { contentType, text } = gatewayErrorBody(404);
    res.status(404).type(contentType).send(text);
  });
  ops.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => failRequest(res, err, httpLogger, gatewayErrorBody, req));
  // API Gateway's quota: request line plus headers 10240 bytes (compat.md §3.2); Node answers 431.
  // Timeouts are checked every second, not Node's default 30 s, so a slow client is cut off
  // close to its deadline.
  const srv = http.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: 1_000 },
    guarded(
      (req, res) => {
        const path = (req.url ?? '/').split('?', 1)[0] as string;
        if (OPS_PATHS.has(path)) ops(req, res);
        else if (!ws.handleRequest(req, res, path)) routed(req, res);
      },
      httpLogger,
      gatewayErrorBody,
    ),
  );
  answerClientErrors(srv, gatewayErrorBody);
  srv.on('upgrade', ws.handleUpgrade);
  // Headers must arrive promptly; a whole request (body included) may take the integration
  // timeout plus upload time, never unbounded.
  srv.headersTimeout = p.config.GANTRY_GATEWAY_HEADERS_TIMEOUT_MS;
  srv.requestTimeout = p.config.GANTRY_INTEGRATION_TIMEOUT_MS + 30_000;
  srv.keepAliveTimeout = 5_000;
  return srv;
}


async function shutdown(p: Parts, live: Live): Promise<void> {
  const { logger } = p;
  p.routes.stop();
  p.nodes.stop();
  await live.functionTls?.close();
  const srv = live.server;
  const stopped = new Promise<void>((resolve) => {
    if (!srv) return resolve();
    srv.close(() => resolve());
    srv.closeIdleConnections();
  });
  // Upgraded sockets keep the server open: close them (and run their $disconnects while the
  // upstream is still there) before waiting for the server.
  await live.websockets?.close().catch((e: unknown) => logger.warn({ err: e as Error }, 'websocket shutdown failed'));
  await stopped;
  const steps: [string, () => Promise<unknown>][] = [
    ['upstream', () => live.upstream?.close() ?? Promise.resolve()],
    ['redis', () => Promise.all([p.subscriber.quit(), p.redis.quit()])],
    ['postgres', () => p.pool.end()],
  ];
  for (const [name, step] of steps) {
    await step().catch((e: unknown) => logger.warn({ err: e as Error, step: name }, 'shutdown step failed'));
  }
  logger.info('gateway stopped');
}
