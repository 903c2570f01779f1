/**
 * The control plane's composition root: builds every component from the config (real adapters by
 * default; tests may override the container runtime and the firewall), starts them in order, and
 * closes them in reverse on shutdown: stop accepting, drain in-flight invocations, destroy owned
 * containers, flush metering, close connections. Each folder builds its own part from its slice
 * of the config; this file only wires them.
 */
import { ensureFunctionCa, functionCaPaths } from '../common/function-ca.js';
import { mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createPool, ensureDatabase, type Pool } from '../common/db.js';
import { GantryError } from '../common/errors.js';
import { answerClientErrors, guarded } from '../common/http-boundary.js';
import type { Logger } from '../common/logger.js';
import { probe } from '../common/ops-router.js';
import { createRedis, RedisKeys, type Redis } from '../common/redis.js';
import { createAdminApp } from './admin-api/admin-app.js';
import { ApiStore } from './apis/api-store.js';
import type { AsyncService } from './async/async-service.js';
import { createAsyncService } from './async/create-async-service.js';
import { AccessKeyCache } from './access-keys/access-key-cache.js';
import { AccessKeyService, accessKeysChannel } from './access-keys/access-key-service.js';
import { AccessKeyStore } from './access-keys/access-key-store.js';
import { awsIdentity, createAwsAuth } from './auth/aws-auth.js';
import { FunctionCredentialsEnvironment } from './auth/function-credentials-environment.js';
import { TokenAuth } from './auth/token-auth.js';
import { bootstrapTokens } from './auth/tokens.js';
import { NodeHeartbeat } from './cluster/node-heartbeat.js';
import { CodeCache } from './code/code-cache.js';
import { CodeGc } from './code/code-gc.js';
import { API_ZIP_LIMITS } from './code/zip-archive.js';
import type { ControlPlaneConfig } from './config.js';
import type { ContainerRuntime } from './containers/container-runtime.js';
import { DockerContainerRuntime } from './containers/docker/docker-container-runtime.js';
import { ExitedContainerSweeper } from './containers/exited-container-sweeper.js';
import { IptablesFunctionFirewall, type FunctionFirewall } from './containers/function-firewall.js';
import { FunctionIsolation } from './containers/function-isolation.js';
import { apiErrorBody } from './error-family.js';
import { FunctionCache } from './functions/function-cache.js';
import { FunctionService } from './functions/function-service.js';
import { FunctionStore } from './functions/function-store.js';
import type { TenantId } from './functions/function-types.js';
import { VersionStore } from './functions/version-store.js';
import { Invoker } from './invocation/invoker.js';
import { createInvokeHandler } from './invoke-api/invoke-handler.js';
import { createLambdaApi, type LambdaApi } from './lambda-api/create-lambda-api.js';
import { authenticationOf, type LambdaAuthentication, type LambdaAuthenticator } from './lambda-api/lambda-app.js';
import { setCaller } from './lambda-api/lambda-context.js';
import { LogFeed } from './logs/log-feed.js';
import { LogStore } from './logs/log-store.js';
import { createMeteringWrite, type MeteringWrite } from './metering/write/create-metering-write.js';
import { ControlPlaneMetrics } from './metrics.js';
import { defaultMigrationsDir, migrate } from './postgres/migrator.js';
import { nodeRuntimeApiBounds } from './runtime-api/node-bounds.js';
import { RuntimeCatalog } from './runtimes/runtime-catalog.js';
import { ConcurrencyLimiter } from './scheduler/concurrency-limiter.js';
import { createScheduler } from './scheduler/create-scheduler.js';
import { containersDirOf, legacyContainersDirOf } from './scheduler/environment-paths.js';
import type { Scheduler } from './scheduler/scheduler.js';
import { ConnectionsEnvironment, functionGatewayUrl } from './websocket/connections-environment.js';
import { loadSecretBox } from './secrets/encryption-key-file.js';
import { FunctionCredentialIssuer } from '../common/sigv4/function-credentials.js';
import { SigV4Verifier } from '../common/sigv4/sigv4-verifier.js';
import type { RequestHandler } from 'express';

export interface ControlPlaneOverrides {
  readonly containers?: ContainerRuntime;
  readonly firewall?: FunctionFirewall;
  /** Who sent a Lambda API request (default: SigV4 with the tenant's access keys). */
  readonly lambdaAuthenticator?: LambdaAuthenticator;
  /** Where the generated admin token is announced (default: stderr, never the JSON log). */
  readonly announce?: (line: string) => void;
}

export interface ControlPlane {
  /** Migrates, sweeps orphans, then listens. Resolves with the bound port. */
  start(): Promise<number>;
  /** Idempotent graceful shutdown. */
  close(): Promise<void>;
  readonly invoker: Invoker;
  readonly internalToken: () => string;
  /** This node's SigV4 verifier (access keys and function credentials), once started. */
  readonly sigv4: () => SigV4Verifier;
}

/** What every part stands on: connections, the container runtime and where code and logs live. */
interface Base {
  readonly config: ControlPlaneConfig;
  readonly logger: Logger;
  readonly pool: Pool;
  readonly redis: Redis;
  readonly subscriber: Redis;
  readonly keys: RedisKeys;
  readonly containers: ContainerRuntime;
  readonly codeCache: CodeCache;
  readonly catalog: RuntimeCatalog;
  readonly functionStore: FunctionStore;
  readonly logStore: LogStore;
  readonly logFeed: LogFeed;
}

/** Everything built before start; `Live` holds what start produces. */
interface Parts extends Base, MeteringWrite {
  readonly isolation: FunctionIsolation;
  readonly exitedSweeper: ExitedContainerSweeper;
  readonly apiStore: ApiStore;
  readonly functionCache: FunctionCache;
  readonly connectionsEnv: ConnectionsEnvironment;
  readonly scheduler: Scheduler;
  readonly metrics: ControlPlaneMetrics;
  readonly invoker: Invoker;
  readonly codeGc: CodeGc;
  readonly functionService: FunctionService;
  readonly asyncService: AsyncService;
  readonly lambdaApi: LambdaApi;
  readonly publishChange: () => Promise<void>;
}

/** SigV4 on this node: the access keys and the verifier, made at start (they need the key file and the internal token). */
interface Aws {
  readonly accessKeys: AccessKeyService;
  readonly verifier: SigV4Verifier;
  /** The middleware the Lambda API mounts (service `lambda`). */
  readonly lambdaAuth: RequestHandler;
}

/** Bodies the Lambda API may carry: CreateFunction's base64 zip, as the admin API's limit. */
const LAMBDA_API_MAX_BODY_BYTES = 72 * 1024 * 1024;

interface Live {
  internalToken: string;
  /** The function CA's public directory, once created (function TLS on and reachable). */
  functionCaDir?: string;
  aws?: Aws;
  server?: http.Server;
  heartbeat?: NodeHeartbeat;
}

export function createControlPlane(config: ControlPlaneConfig, logger: Logger, overrides: ControlPlaneOverrides = {}): ControlPlane {
  const live: Live = { internalToken: '' };
  const parts = buildParts(buildBase(config, logger, overrides), overrides, live);
  let closing: Promise<void> | undefined;
  return {
    start: () => start(parts, live, overrides),
    close: () => (closing ??= shutdown(parts, live)),
    invoker: parts.invoker,
    internalToken: () => live.internalToken,
    sigv4: () => {
      if (!live.aws) throw new Error('the control plane has not started');
      return live.aws.verifier;
    },
  };
}

function buildBase(config: ControlPlaneConfig, logger: Logger, overrides: ControlPlaneOverrides): Base {
  const pool = createPool({ url: config.DATABASE_URL, max: 10, statementTimeoutMs: config.GANTRY_DB_STATEMENT_TIMEOUT_MS, applicationName: 'gantry-control-plane' });
  const redis = createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  const subscriber = createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  const containers = overrides.containers ?? new DockerContainerRuntime({ dockerHost: config.DOCKER_HOST, callTimeoutMs: config.GANTRY_DOCKER_TIMEOUT_MS });
  const logFeed = new LogFeed(
    { redis, subscriber: createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true }), keys: new RedisKeys(config.GANTRY_REDIS_PREFIX), logger: logger.child({ component: 'function-logs' }) },
    { maxFollowers: config.GANTRY_LOG_MAX_FOLLOWERS },
  );
  const logStore = new LogStore(pool, logger.child({ component: 'function-logs' }), {
    retentionMs: config.GANTRY_LOG_RETENTION_MS,
    maxQueuedLines: 100_000,
    flushIntervalMs: 200,
    onStored: (batch) => logFeed.publish(batch),
  });
  return {
    config, logger, pool, redis, subscriber, keys: new RedisKeys(config.GANTRY_REDIS_PREFIX), containers,
    codeCache: new CodeCache({ rootDir: path.join(config.GANTRY_DATA_DIR, 'code'), limits: API_ZIP_LIMITS }),
    catalog: new RuntimeCatalog(containers, config.GANTRY_IMAGE_PREFIX),
    functionStore: new FunctionStore(pool),
    logStore,
    logFeed,
  };
}

function buildParts(b: Base, overrides: ControlPlaneOverrides, live: Live): Parts {
  const { config, logger, pool, containers, codeCache, catalog, functionStore, logStore } = b;
  const isolation = new FunctionIsolation({ containers, firewall: overrides.firewall ?? new IptablesFunctionFirewall(), logger }, config);
  const exitedSweeper = new ExitedContainerSweeper(
    { containers, logger: logger.child({ component: 'containers' }) },
    { nodeId: config.GANTRY_NODE_ID, intervalMs: config.GANTRY_CONTAINER_SWEEP_INTERVAL_MS },
  );
  const versionStore = new VersionStore(pool);
  const functionCache = new FunctionCache(async (tenant, name) => versionStore.getInvocable(tenant, name, await functionStore.get(tenant, name)));
  const runtimeApiBounds = nodeRuntimeApiBounds(config);
  const connectionsEnv = new ConnectionsEnvironment({ pool, retire: (id) => scheduler.retire(id), internalToken: () => live.internalToken, logger: logger.child({ component: 'websocket-env' }), region: config.GANTRY_REGION });
  const credentials = new FunctionCredentialsEnvironment(() => live.internalToken, config.GANTRY_FUNCTION_CREDENTIALS_TTL_MS);
  const scheduler = createScheduler(
    {
      platformEnvironment: (v) => ({ ...connectionsEnv.variablesFor(v), ...lambdaApi.functionEndpoint.variables() }),
      extraHostsFor: (v) => connectionsEnv.extraHostsFor(v),
      functionCaDir: () => live.functionCaDir,
      expiringEnvironment: (v, issuedAtMs) => credentials.variablesFor(v, issuedAtMs),
      containers,
      codeDirFor: (v) => codeCache.ensure(v.codeSha256, () => loadArchive(functionStore, v.codeSha256)),
      imageFor: (runtime) => catalog.imageFor(runtime),
      logSink: (tenantId, functionName, line) => logStore.add(tenantId, functionName, line),
      stemCellRuntimes: async () => catalog.stemCellRuntimes(config.GANTRY_STEM_CELL_RUNTIMES),
      logger: logger.child({ component: 'scheduler' }),
      ensureNetwork: async () => {
        await containers.ensureNetwork(config.GANTRY_FUNCTION_NETWORK, { 'gantry.managed': 'true' });
      },
      onStartFailure: (cause, retried) => {
        metrics.environmentStartFailures.inc({ cause });
        if (retried) metrics.environmentStartRetries.inc({ cause });
      },
      runtimeApiBounds,
    },
    config,
  );
  const { ledger, retention } = createMeteringWrite({ pool, logger: logger.child({ component: 'metering' }) }, config);
  const limiter = new ConcurrencyLimiter();
  const metrics = new ControlPlaneMetrics(() => scheduler.stats(), () => limiter.inUse(), () => scheduler.stemCellsByRuntime(), runtimeApiBounds);
  const invoker = new Invoker(
    { functions: functionCache, scheduler, limiter, ledger, gate: ledger, metrics, logger: logger.child({ component: 'invoker' }) },
    { region: config.GANTRY_REGION, nodeId: config.GANTRY_NODE_ID },
  );
  const publishChange = async () => {
    await b.redis.publish(b.keys.configChannel, String(Date.now()));
  };
  const codeGc = new CodeGc(
    { store: functionStore, codeCache, inUse: () => scheduler.codeInUse(), logger: logger.child({ component: 'code-gc' }) },
    { intervalMs: config.GANTRY_CODE_GC_INTERVAL_MS, recentMs: 2 * config.GANTRY_CODE_GC_INTERVAL_MS },
  );
  const functionService = new FunctionService({ store: functionStore, versions: versionStore, cache: functionCache, codeCache, catalog, scheduler, publishChange, logger });
  const asyncService = createAsyncService(
    { pool, functions: functionCache, functionStore, invoke: (req) => invoker.invoke(req), publishChange, registry: metrics.registry, logger },
    config,
  );
  const lambdaApi = createLambdaApi(
    {
      pool, service: functionService, store: functionStore, cache: functionCache, invoker, asyncService,
      provisionedReady: (id) => scheduler.provisionedReady(id), secret: () => live.internalToken,
      authenticate: overrides.lambdaAuthenticator === undefined ? sigv4ForLambda(live) : authenticationOf(overrides.lambdaAuthenticator),
      errorBody: apiErrorBody, logger,
    },
    config,
  );
  return {
    ...b, isolation, exitedSweeper, apiStore: new ApiStore(pool), functionCache, connectionsEnv, scheduler, ledger, retention,
    metrics, invoker, codeGc, functionService, asyncService, lambdaApi, publishChange,
  };
}

async function start(p: Parts, live: Live, overrides: ControlPlaneOverrides): Promise<number> {
  const { config, logger } = p;
  await ensureDatabase(config.DATABASE_URL);
  const migrated = await migrate(p.pool, defaultMigrationsDir(import.meta.url));
  if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
  const tokens = await bootstrapTokens(p.pool, {
    adminToken: config.GANTRY_ADMIN_TOKEN,
    internalToken: config.GANTRY_INTERNAL_TOKEN,
    internalTokenFile: config.GANTRY_INTERNAL_TOKEN_FILE,
    announce: overrides.announce ?? ((line) => process.stderr.write(`${line}\n`)),
    warn: (line) => logger.warn(line),
  });
  const auth = new TokenAuth(tokens);
  // Before any invocation: replays whatever a crashed or stopped process left in the spool.
  await p.ledger.start();
  p.retention.start();
  live.internalToken = tokens.internalToken;
  const aws = await startAws(p, tokens.internalToken);
  live.aws = aws;
  await Promise.all([p.redis.connect(), p.subscriber.connect()]);
  await subscribeToChanges(p, aws);
  await p.logFeed.start();
  await sweepOrphans(p);
  p.exitedSweeper.start();
  p.codeGc.start();
  void p.codeGc.run();
  // Before any container starts (provisioned ones are started by syncProvisioned): a connection
  // a function opened before the rules were in place would outlive them.
  const { hostAddressForFunctions } = await p.isolation.setUp((address) => p.lambdaApi.functionEndpoint.listen(address));
  p.connectionsEnv.setGatewayUrl(functionGatewayUrl(config.GANTRY_FUNCTION_GATEWAY_URL, config.GANTRY_PUBLIC_URL, hostAddressForFunctions));
  if (config.GANTRY_FUNCTION_TLS_PORT > 0 && hostAddressForFunctions !== undefined) {
    await ensureFunctionCa(config.GANTRY_FUNCTION_CA_DIR);
    live.functionCaDir = functionCaPaths(config.GANTRY_FUNCTION_CA_DIR).publicDir;
    p.connectionsEnv.setFunctionTlsAddress(hostAddressForFunctions);
  }
  await p.connectionsEnv.reload();
  // Containers only from here on: after the sweep (which would remove them), with the network
  // there and the platform variables they get known.
  await syncProvisioned(p);
  p.scheduler.startMaintenance();
  await p.asyncService.start();
  const port = await listen(p, live, auth);
  live.heartbeat = new NodeHeartbeat(
    { redis: p.redis, keys: p.keys, load: () => ({ inFlight: p.invoker.inFlightCount, freeMemoryMb: config.GANTRY_NODE_MEMORY_MB - p.scheduler.stats().memoryInUseMb }), logger: logger.child({ component: 'cluster' }) },
    { nodeId: config.GANTRY_NODE_ID, url: config.GANTRY_NODE_URL ?? defaultNodeUrl(config.GANTRY_BIND_HOST, port), intervalMs: config.GANTRY_NODE_HEARTBEAT_INTERVAL_MS },
  );
  await live.heartbeat.start();
  logger.info({ port, node: config.GANTRY_NODE_ID }, 'control plane listening');
  return port;
}

/** The node's SigV4 middleware (made at start) in front of the Lambda API, naming the caller's tenant. */
function sigv4ForLambda(live: Live): LambdaAuthentication {
  return (req, res, next) => {
    if (!live.aws) throw new GantryError('ServiceUnavailable', 'The control plane is starting.', { component: 'admin-api' });
    live.aws.lambdaAuth(req, res, (err?: unknown) => {
      if (err !== undefined) return next(err);
      setCaller(res, { tenant: awsIdentity(res).tenant as TenantId });
      next();
    });
  };
}

/** Fails the start on a key file that cannot open the stored secrets (loadSecretBox, the cache's load). */
async function startAws(p: Parts, internalToken: string): Promise<Aws> {
  const box = await loadSecretBox(p.pool, p.config.GANTRY_ENCRYPTION_KEY_FILE);
  const store = new AccessKeyStore(p.pool, box);
  const cache = new AccessKeyCache(store, p.logger.child({ component: 'access-keys' }));
  await cache.load();
  const accessKeys = new AccessKeyService({ store, cache, redis: p.redis, keys: p.keys, logger: p.logger.child({ component: 'access-keys' }) });
  const verifier = new SigV4Verifier([cache, new FunctionCredentialIssuer(internalToken)], { region: p.config.GANTRY_REGION });
  return { accessKeys, verifier, lambdaAuth: createAwsAuth(verifier, { service: 'lambda', maxBodyBytes: LAMBDA_API_MAX_BODY_BYTES }) };
}

async function listen(p: Parts, live: Live, auth: TokenAuth): Promise<number> {
  if (!live.aws) throw new Error('listen() before the SigV4 parts exist');
  const srv = buildServer(p, auth, live.aws);
  live.server = srv;
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(p.config.GANTRY_CONTROL_PLANE_PORT, p.config.GANTRY_BIND_HOST, () => resolve());
  });
  return (srv.address() as AddressInfo).port;
}

/** The invoke endpoint answers before Express; AWS's dated paths are the Lambda API; the rest is the admin app. */
function buildServer(p: Parts, auth: TokenAuth, aws: Aws): http.Server {
  const app = createAdminApp(
    {
      auth, readiness: () => readiness(p), readinessFacts: () => p.isolation.facts(), registry: p.metrics.registry, pool: p.pool, redis: p.redis,
      keys: p.keys, functionService: p.functionService, functionStore: p.functionStore, apiStore: p.apiStore, catalog: p.catalog,
      logStore: p.logStore, logFeed: p.logFeed, asyncService: p.asyncService, provisionedReady: (id) => p.scheduler.provisionedReady(id),
      publishChange: p.publishChange, accessKeys: aws.accessKeys, logger: p.logger,
    },
    p.config,
  );
  const invoke = createInvokeHandler({
    auth,
    invoker: p.invoker,
    async: { accept: (t, name, event) => p.asyncService.accept(t, name, event), maxPayloadBytes: p.config.GANTRY_ASYNC_MAX_PAYLOAD_BYTES },
    logger: p.logger.child({ component: 'invoke-api' }),
  });
  const srv = http.createServer(
    guarded(
      (req, res) => {
        if (invoke(req, res)) return;
        if (p.lambdaApi.isLambdaPath(req.url)) p.lambdaApi.serve(req, res);
        else app(req, res);
      },
      p.logger.child({ component: 'http' }),
      apiErrorBody,
    ),
  );
  answerClientErrors(srv, apiErrorBody);
  srv.keepAliveTimeout = 65_000;
  srv.headersTimeout = 66_000;
  return srv;
}

async function readiness(p: Parts): Promise<Record<string, boolean>> {
  return {
    postgres: await probe(() => p.pool.query('SELECT 1')),
    redis: await probe(() => p.redis.ping()),
    asyncQueue: await probe(() => p.asyncService.ping()),
    docker: await probe(async () => {
      if (!(await p.containers.ping())) throw new Error('docker unreachable');
    }),
    metering: p.ledger.writable(),
  };
}

async function subscribeToChanges(p: Parts, aws: Aws): Promise<void> {
  const onChange = () => {
    p.functionCache.invalidateAll();
    p.asyncService.invalidate();
    void syncProvisioned(p);
    void p.connectionsEnv.reload();
  };
  const keysChannel = accessKeysChannel(p.keys);
  p.subscriber.on('message', (channel: string, message: string) => {
    if (channel === keysChannel) aws.accessKeys.onMessage(message);
    else onChange();
  });
  // Messages may have been missed while disconnected: forget everything on reconnect.
  p.subscriber.on('ready', () => {
    onChange();
    void aws.accessKeys.reload();
  });
  await p.subscriber.subscribe(p.keys.configChannel, keysChannel);
}

/** Hands the scheduler the provisioned concurrency every function currently asks for. */
async function syncProvisioned(p: Parts): Promise<void> {
  try {
    const list = await p.functionStore.listProvisioned();
    p.scheduler.setProvisioned(new Map(list.map((f) => [f.functionId, { version: f, count: f.provisionedConcurrency ?? 0 }])));
  } catch (e) {
    p.logger.warn({ err: e as Error }, 'provisioned concurrency not loaded');
  }
}

async function sweepOrphans(p: Parts): Promise<void> {
  const orphans = await p.containers.listManaged({ 'gantry.managed': 'true', 'gantry.node': p.config.GANTRY_NODE_ID });
  await Promise.all(orphans.map((o) => p.containers.destroy(o.id)));
  if (orphans.length > 0) p.logger.info({ count: orphans.length }, 'orphan containers removed');
  // Only this node's directories: another node may share the data dir.
  const mine = containersDirOf(p.config.GANTRY_DATA_DIR, p.config.GANTRY_NODE_ID);
  await rm(mine, { recursive: true, force: true });
  await rm(legacyContainersDirOf(p.config.GANTRY_DATA_DIR, p.config.GANTRY_NODE_ID), { recursive: true, force: true });
  await mkdir(mine, { recursive: true, mode: 0o755 });
}

async function shutdown(p: Parts, live: Live): Promise<void> {
  const { config, logger } = p;
  const server = live.server;
  // Withdrawn first, so gateways send new work elsewhere while this node drains.
  await live.heartbeat?.close().catch((e: unknown) => logger.warn({ err: e as Error, step: 'heartbeat' }, 'shutdown step failed'));
  // Log followers get their stream's end now, not a cut connection after the drain.
  await p.logFeed.close();
  const stopped = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  // The worker first: it takes no new event, and running ones finish (or are left for redelivery).
  await p.asyncService.close(config.GANTRY_SHUTDOWN_GRACE_MS);
  const drained = await Promise.race([
    p.invoker.drained().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.GANTRY_SHUTDOWN_GRACE_MS).unref()),
  ]);
  if (!drained) logger.warn({ inFlight: p.invoker.inFlightCount }, 'shutdown grace expired with invocations in flight');
  server?.closeAllConnections();
  const steps: [string, () => Promise<unknown>][] = [
    ['exited container sweep', () => p.exitedSweeper.close()],
    ['code GC', () => p.codeGc.close()],
    ['scheduler', () => p.scheduler.close()],
    // After the scheduler: none of this node's functions runs any more.
    ['function firewall', () => p.isolation.remove()],
    ['http', () => stopped],
    ['function-facing lambda api', () => p.lambdaApi.functionEndpoint.close()],
    ['ledger', () => p.ledger.close()],
    ['ledger retention', () => p.retention.close()],
    ['function logs', () => p.logStore.close()],
    ['redis', () => Promise.all([p.redis.quit(), p.subscriber.quit()])],
    ['postgres', () => p.pool.end()],
  ];
  for (const [name, step] of steps) {
    // Every step runs even when an earlier one failed (style.md: close() runs every cleanup).
    await step().catch((e: unknown) => logger.warn({ err: e as Error, step: name }, 'shutdown step failed'));
  }
  logger.info('control plane stopped');
}

/** A single-machine default: loopback unless the bind address names one interface. */
function defaultNodeUrl(bindHost: string, port: number): string {
  const host = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '' ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  return `http://${host}:${port}`;
}

async function loadArchive(store: FunctionStore, sha256: string): Promise<Buffer> {
  const zip = await store.getArchive(sha256);
  if (zip === undefined) throw new Error(`code archive ${sha256} is missing`);
  return zip;
}
