/** The gateway's configuration, parsed once from the environment. */
import { z } from 'zod';
import { intFrom, parseConfig, sharedShape, urlString, type Env } from '../common/config.js';

const schema = z.object({
  ...sharedShape,
  GANTRY_GATEWAY_PORT: intFrom(8080, 0, 65535),
  GANTRY_BIND_HOST: z.string().default('0.0.0.0'),
  GANTRY_CONTROL_PLANE_URL: urlString('http://127.0.0.1:9000'),
  // API Gateway's default integration timeout is 29 s (api.md).
  GANTRY_INTEGRATION_TIMEOUT_MS: intFrom(29_000, 50, 900_000),
  // A safety net under Redis pub/sub: a missed notification is picked up within this time.
  GANTRY_ROUTE_RESYNC_INTERVAL_MS: intFrom(5_000, 100, 300_000),
  // API Gateway's payload quota for HTTP APIs: 10 MB.
  GANTRY_GATEWAY_MAX_BODY_BYTES: intFrom(10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  // Keep-alive connections to one control plane; more than concurrent invocations buys nothing.
  GANTRY_UPSTREAM_CONNECTIONS: intFrom(128, 1, 4096),
});

export type GatewayConfig = Readonly<z.output<typeof schema>>;

export function loadGatewayConfig(env: Env): GatewayConfig {
  return parseConfig(schema, env);
}
