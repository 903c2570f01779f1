/** The gateway's configuration, parsed once from the environment. */
import path from 'node:path';
import { z } from 'zod';
import { absolutePath, intFrom, parseConfig, sharedShape, urlString, type Env } from '../common/config.js';

const schema = z.object({
  ...sharedShape,
  GANTRY_GATEWAY_PORT: intFrom(8080, 0, 65535),
  GANTRY_BIND_HOST: z.string().default('0.0.0.0'),
  // The seed: used while Redis advertises no control-plane node (live nodes come from Redis).
  GANTRY_CONTROL_PLANE_URL: urlString('http://127.0.0.1:9000'),
  // Read only for the default of GANTRY_INTERNAL_TOKEN_FILE below.
  GANTRY_DATA_DIR: absolutePath.default('/var/lib/gantry'),
  // How often the live control-plane nodes are reread from Redis (a dead node's key expires
  // within three of its heartbeats; this adds at most one interval).
  GANTRY_NODE_REFRESH_INTERVAL_MS: intFrom(1_000, 100, 60_000),
  // API Gateway's default integration timeout is 29 s (api.md).
  GANTRY_INTEGRATION_TIMEOUT_MS: intFrom(29_000, 50, 900_000),
  // One access-log line per this many routed requests: 0 (the default) logs only 5xx answers,
  // 1 every request. Request counts and latencies are in /metrics either way.
  GANTRY_ACCESS_LOG_EVERY: intFrom(0, 0, 1_000_000),
  // A safety net under Redis pub/sub: a missed notification is picked up within this time.
  GANTRY_ROUTE_RESYNC_INTERVAL_MS: intFrom(5_000, 100, 300_000),
  // API Gateway's payload quota for HTTP APIs: 10 MB.
  GANTRY_GATEWAY_MAX_BODY_BYTES: intFrom(10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  // Keep-alive connections to one control plane; more than concurrent invocations buys nothing.
  GANTRY_UPSTREAM_CONNECTIONS: intFrom(128, 1, 4096),
  // Region in the route ARNs a Lambda authorizer sees (same meaning as on the control plane).
  GANTRY_REGION: z.string().regex(/^[a-z0-9-]+$/).default('us-east-1'),
  // Slow clients: headers must be complete within this (slowloris protection).
  GANTRY_GATEWAY_HEADERS_TIMEOUT_MS: intFrom(10_000, 100, 120_000),
  // API Gateway gives a Lambda authorizer 10 s.
  GANTRY_AUTHORIZER_TIMEOUT_MS: intFrom(10_000, 50, 30_000),
  // Bound on cached Lambda authorizer answers per gateway (memory).
  GANTRY_AUTHORIZER_CACHE_ENTRIES: intFrom(10_000, 1, 1_000_000),
  // A JWKS is refetched for an unknown kid at most this often (jose's default, 30 s), and
  // refetched anyway after GANTRY_JWKS_CACHE_MS.
  GANTRY_JWKS_COOLDOWN_MS: intFrom(30_000, 0, 3_600_000),
  GANTRY_JWKS_CACHE_MS: intFrom(600_000, 1_000, 86_400_000),
  // WebSocket limits: API Gateway's message size (128 KB), idle timeout (10 min) and maximum
  // connection duration (2 h), compat.md §6.5.
  GANTRY_WS_MAX_MESSAGE_BYTES: intFrom(128 * 1024, 1024, 16 * 1024 * 1024),
  GANTRY_WS_IDLE_TIMEOUT_MS: intFrom(600_000, 1_000, 86_400_000),
  GANTRY_WS_MAX_CONNECTION_MS: intFrom(7_200_000, 1_000, 7 * 86_400_000),
  // Per-connection message rate (token bucket): generous for chat, stops one client flooding functions.
  GANTRY_WS_MESSAGES_PER_SECOND: intFrom(100, 1, 100_000),
  GANTRY_WS_MESSAGE_BURST: intFrom(200, 1, 100_000),
  // Bytes queued towards one client before it counts as a slow reader and is closed (1008): room
  // for several maximum-size messages, bounded so a stalled client costs a bounded amount of memory.
  GANTRY_WS_SEND_QUEUE_BYTES: intFrom(1024 * 1024, 1024, 256 * 1024 * 1024),
  // A dead gateway's connections stop counting as alive this long after its last heartbeat.
  GANTRY_WS_REGISTRY_TTL_MS: intFrom(15_000, 300, 600_000),
  // The function-facing TLS listener for `@connections` (gateway/websocket/function-tls-listener.ts);
  // 0 turns it off. The control plane's GANTRY_FUNCTION_TLS_PORT must name the same port.
  GANTRY_FUNCTION_TLS_PORT: intFrom(8443, 0, 65535),
  GANTRY_FUNCTION_TLS_BIND_HOST: z.string().default('0.0.0.0'),
  // Where the control plane keeps the function CA (default: $GANTRY_DATA_DIR/function-ca).
  GANTRY_FUNCTION_CA_DIR: absolutePath.optional(),
})
  // Without GANTRY_INTERNAL_TOKEN: the file the control plane makes by default, beside its data, so
  // processes started with the same environment agree without more configuration.
  .transform((c) => ({
    ...c,
    GANTRY_INTERNAL_TOKEN_FILE: c.GANTRY_INTERNAL_TOKEN_FILE ?? path.join(c.GANTRY_DATA_DIR, 'internal-token'),
    GANTRY_FUNCTION_CA_DIR: c.GANTRY_FUNCTION_CA_DIR ?? path.join(c.GANTRY_DATA_DIR, 'function-ca'),
  }));

export type GatewayConfig = Readonly<z.output<typeof schema>>;

export function loadGatewayConfig(env: Env): GatewayConfig {
  return parseConfig(schema, env);
}
