/**
 * A whole Gantry (control plane + gateway, as separate components talking HTTP) on real Docker,
 * Postgres and Redis, isolated for one test file: its own database, Redis prefix, data directory
 * and node id (which labels its containers). Teardown closes both, then checks that nothing this
 * stack started is left behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { Test } from 'tap';
import { dropDatabase } from '../../common/db.js';
import { createLogger } from '../../common/logger.js';
import { createRedis } from '../../common/redis.js';
import { createControlPlane, type ControlPlaneOverrides } from '../../control-plane/app.js';
import { loadControlPlaneConfig } from '../../control-plane/config.js';
import { createGateway } from '../../gateway/app.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { requireServices, TEST_DATABASE_BASE, TEST_REDIS_URL } from './services.js';

export interface Stack {
  readonly controlPlaneUrl: string;
  readonly gatewayUrl: string;
  /** A second gateway on the same control plane, database and Redis prefix (`secondGateway`). */
  readonly secondGatewayUrl: string | undefined;
  readonly token: string;
  readonly nodeId: string;
  readonly databaseUrl: string;
  readonly redisPrefix: string;
  readonly dataDir: string;
  /** The internal token's file: the control plane creates it, every gateway of the stack reads it. */
  readonly internalTokenFile: string;
  /** The Docker network functions with network "default" join. */
  readonly functionNetwork: string;
  /** Admin API call with the admin token; JSON bodies are serialised. */
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Containers of this stack currently known to Docker. */
  containers(): Promise<Docker.ContainerInfo[]>;
  /** Shuts gateway `index` down as SIGTERM would (teardown closing it again is harmless). */
  stopGateway(index: number): Promise<void>;
}

export interface StackOptions {
  readonly env?: Record<string, string>;
  /** Start a second gateway against the same control plane, database and Redis prefix. */
  readonly secondGateway?: boolean;
  /** Extra environment per gateway, by index (e.g. a fixed port or bind address for one of them). */
  readonly gatewayEnv?: readonly Record<string, string>[];
  /** Receives every log line (info and above) of both processes, parsed. */
  readonly onLog?: (line: Record<string, unknown>) => void;
  /** Functions join a network of this stack's own (removed at teardown), not the shared default:
   *  the firewall rules Gantry puts on it then concern this stack alone. */
  readonly ownFunctionNetwork?: boolean;
  /** Passed to the control plane (e.g. a Lambda API authenticator of the test's own). */
  readonly controlPlaneOverrides?: Omit<ControlPlaneOverrides, 'announce'>;
}

export async function startStack(t: Test, opts: StackOptions = {}): Promise<Stack> {
  await requireServices(t);
  const id = randomBytes(4).toString('hex');
  const nodeId = `test-${id}`;
  const databaseUrl = withDatabase(TEST_DATABASE_BASE, `gantry_test_${id}`);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-test-'));
  const token = `test-admin-token-${randomBytes(16).toString('hex')}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    GANTRY_REDIS_PREFIX: `test:${id}:`,
    GANTRY_ADMIN_TOKEN: token,
    GANTRY_DATA_DIR: dataDir,
    // The zero-configuration default, spelled out for the gateways (theirs is another path).
    GANTRY_INTERNAL_TOKEN_FILE: path.join(dataDir, 'internal-token'),
    GANTRY_NODE_ID: nodeId,
    GANTRY_CONTROL_PLANE_PORT: '0',
    GANTRY_FUNCTION_LAMBDA_PORT: '0',
    GANTRY_GATEWAY_PORT: '0',
    GANTRY_BIND_HOST: '127.0.0.1',
    GANTRY_ROUTE_RESYNC_INTERVAL_MS: '1000',
    // Stem cells of the runtimes most tests use; a test of another runtime's stem cells names it.
    GANTRY_STEM_CELL_RUNTIMES: 'nodejs20,python3.11',
    // Off unless a test asks for it (with a port of its own): parallel stacks would share 8443.
    GANTRY_FUNCTION_TLS_PORT: '0',
    ...(opts.ownFunctionNetwork === true ? { GANTRY_FUNCTION_NETWORK: `gantry-test-${id}` } : {}),
    ...opts.env,
  };
  const functionNetwork = (env as Record<string, string | undefined>).GANTRY_FUNCTION_NETWORK ?? 'gantry-functions';
  const onLog = opts.onLog;
  const logger = onLog
    ? createLogger({ level: 'debug', name: nodeId, destination: { write: (line: string) => onLog(JSON.parse(line) as Record<string, unknown>) } })
    : createLogger({ level: process.env.GANTRY_TEST_LOG_LEVEL ?? 'silent', name: nodeId });
  const controlPlane = createControlPlane(loadControlPlaneConfig(env), logger, { ...opts.controlPlaneOverrides, announce: () => undefined });
  const cpPort = await controlPlane.start();
  const controlPlaneUrl = `http://127.0.0.1:${cpPort}`;
  const gatewayConfig = (index: number) => loadGatewayConfig({ ...env, GANTRY_CONTROL_PLANE_URL: controlPlaneUrl, ...opts.gatewayEnv?.[index] });
  const gateways = [createGateway(gatewayConfig(0), logger)];
  if (opts.secondGateway === true) gateways.push(createGateway(gatewayConfig(1), logger));
  const gwPorts: number[] = [];
  for (const gateway of gateways) gwPorts.push(await gateway.start());
  const docker = new Docker();
  const containers = () => docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });

  t.teardown(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await controlPlane.close();
    await deleteRedisKeys(env.GANTRY_REDIS_PREFIX);
    const left = await containers();
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    if (opts.ownFunctionNetwork === true) await docker.getNetwork(functionNetwork).remove().catch(() => undefined);
    await dropDatabase(databaseUrl).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`${left.length} container(s) of ${nodeId} survived shutdown`);
  });

  return {
    controlPlaneUrl,
    gatewayUrl: `http://127.0.0.1:${gwPorts[0] ?? 0}`,
    secondGatewayUrl: gwPorts[1] === undefined ? undefined : `http://127.0.0.1:${gwPorts[1]}`,
    token,
    nodeId,
    databaseUrl,
    redisPrefix: env.GANTRY_REDIS_PREFIX,
    dataDir,
    internalTokenFile: env.GANTRY_INTERNAL_TOKEN_FILE,
    functionNetwork,
    admin: (method, p, body, headers = {}) =>
      fetch(controlPlaneUrl + p, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined || Buffer.isBuffer(body) ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
      }),
    containers,
    stopGateway: async (index) => {
      await gateways[index]?.close();
    },
  };
}

/** Usage counters outlive a test by days: remove every key under the test's prefix. */
async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 });
  try {
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, names] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (names.length > 0) await redis.del(...names);
      cursor = next;
    } while (cursor !== '0' && ++rounds < 10_000);
  } finally {
    redis.disconnect();
  }
}

export function withDatabase(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a nodejs20 function from a zip; fails the test on anything but 201. */
export async function deployFunction(
  t: Test,
  stack: Stack,
  name: string,
  zip: Buffer,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const res = await stack.admin('POST', '/v1/functions', {
    name,
    runtime: 'nodejs20',
    handler: 'index.handler',
    code: { zipBase64: zip.toString('base64') },
    ...extra,
  });
  const body = (await res.json()) as Record<string, unknown>;
  t.equal(res.status, 201, `create ${name}: ${JSON.stringify(body)}`);
  return body;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; never a fixed sleep. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
