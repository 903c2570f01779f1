/**
 * The control plane's composition root: builds every component from the config (real adapters by
 * default; tests may override the container runtime), starts them in order, and closes them in
 * reverse on shutdown: stop accepting, drain in-flight invocations, destroy owned containers,
 * flush metering, close connections.
 */
import { mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { createPool, ensureDatabase, type Pool } from '../common/db.js';
import { GantryError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { createRedis, RedisKeys, type Redis } from '../common/redis.js';
import { TokenAuth } from './auth/token-auth.js';
import { NodeHeartbeat } from './cluster/node-heartbeat.js';
import { bootstrapTokens } from './auth/tokens.js';
import { CodeCache } from './code/code-cache.js';
import { CodeGc } from './code/code-gc.js';
import { API_ZIP_LIMITS } from './code/zip-archive.js';
import type { ControlPlaneConfig } from './config.js';
import type { ContainerRuntime } from './containers/container-runtime.js';
import { ExitedContainerSweeper } from './containers/exited-container-sweeper.js';
import { DockerContainerRuntime } from './containers/docker/docker-container-runtime.js';
import { IptablesFunctionFirewall, type FunctionFirewall } from './containers/function-firewall.js';
import { FunctionCache } from './functions/function-cache.js';
import { FunctionService } from './functions/function-service.js';
import { AsyncService } from './async/async-service.js';
import { apisRouter } from './admin-api/apis-router.js';
import { asyncRouter } from './admin-api/async-router.js';
import { schedulesRouter } from './admin-api/schedules-router.js';
import { usagePlansRouter } from './admin-api/usage-plans-router.js';
import { errorHandler, notFoundHandler, wellFormedTarget } from './admin-api/express-helpers.js';
import { apiErrorBody } from './error-family.js';
import { answerClientErrors, guarded } from '../common/http-boundary.js';
import { functionsRouter } from './admin-api/functions-router.js';
import { createInvokeHandler } from './invoke-api/invoke-handler.js';
import { opsRouter, probe } from '../common/ops-router.js';
import { logsRouter } from './admin-api/logs-router.js';
import { Invoker } from './invocation/invoker.js';
import { LogStore } from './logs/log-store.js';
import { LedgerRetention } from './metering/write/ledger-retention.js';
import { PriceStore } from './metering/pricing/price-store.js';
import { SpoolLedger } from './metering/write/spool-ledger.js';
import { UsageStore } from './metering/read/usage-store.js';
import { usageRouter } from './admin-api/usage-router.js';
import { ControlPlaneMetrics } from './metrics.js';
import { RuntimeCatalog } from './runtimes/runtime-catalog.js';
import { ConcurrencyLimiter } from './scheduler/concurrency-limiter.js';
import { containersDirOf, legacyContainersDirOf } from './scheduler/environment-paths.js';
import { Scheduler } from './scheduler/scheduler.js';
import { ApiStore } from './apis/api-store.js';
import { FunctionStore } from './functions/function-store.js';
import { UsagePlanStore } from './usage-plans/usage-plan-store.js';
import { UsageKeys } from '../common/usage-keys.js';
import { defaultMigrationsDir, migrate } from './postgres/migrator.js';
import { ConnectionsEnvironment, functionGatewayUrl } from './websocket/connections-environment.js';
import { nodeRuntimeApiBounds } from './runtime-api/node-bounds.js';

export interface ControlPlaneOverrides {
  readonly containers?: ContainerRuntime;
  readonly firewall?: FunctionFirewall;
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
}

export function createControlPlane(config: ControlPlaneConfig, logger: Logger, overrides: ControlPlaneOverrides = {}): ControlPlane {
  const pool = createPool({ url: config.DATABASE_URL, max: 10, statementTimeoutMs: config.GANTRY_DB_STATEMENT_TIMEOUT_MS, applicationName: 'gantry-control-plane' });
  const redis = createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  const subscriber = createRedis(config.REDIS_URL, { commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  const keys = new RedisKeys(config.GANTRY_REDIS_PREFIX);
  const containers = overrides.containers ?? new DockerContainerRuntime({ dockerHost: config.DOCKER_HOST, callTimeoutMs: config.GANTRY_DOCKER_TIMEOUT_MS });
  const firewall = overrides.firewall ?? new IptablesFunctionFirewall();
  const firewallScope = { network: config.GANTRY_FUNCTION_NETWORK, nodeId: config.GANTRY_NODE_ID };
  // Known once at start (the network and the firewall are set up then), shown in /readyz.
  const isolation = { functionNetwork: false, functionFirewall: false };
  const codeCache = new CodeCache({ rootDir: path.join(config.GANTRY_DATA_DIR, 'code'), limits: API_ZIP_LIMITS });
  const catalog = new RuntimeCatalog(containers, config.GANTRY_IMAGE_PREFIX);
  const exitedSweeper = new ExitedContainerSweeper(
    { containers, logger: logger.child({ component: 'containers' }) },
    { nodeId: config.GANTRY_NODE_ID, intervalMs: config.GANTRY_CONTAINER_SWEEP_INTERVAL_MS },
  );
  const functionStore = new FunctionStore(pool);
  const apiStore = new ApiStore(pool);
  const functionCache = new FunctionCache((tenant, name) => functionStore.get(tenant, name));
  const logStore = new LogStore(pool, logger.child({ component: 'function-logs' }), {
    retentionMs: config.GANTRY_LOG_RETENTION_MS,
    maxQueuedLines: 100_000,
    flushIntervalMs: 200,
  });
  const runtimeApiBounds = nodeRuntimeApiBounds(config);
  const connectionsEnv = new ConnectionsEnvironment({ pool, retire: (id) => scheduler.retire(id), internalToken: () => internalToken, logger: logger.child({ component: 'websocket-env' }) });
  const scheduler = new Scheduler(
    {
      platformEnvironment: (v) => connectionsEnv.variablesFor(v),
      containers,
      codeDirFor: (v) => codeCache.ensure(v.codeSha256, () => loadArchive(functionStore, v.codeSha256)),
      imageFor: (runtime) => catalog.imageFor(runtime),
      logSink: (tenantId, functionName, line) => logStore.add(tenantId, functionName, line),
      stemCellRuntimes: async () => catalog.stemCellRuntimes(config.GANTRY_STEM_CELL_RUNTIMES),
      logger: logger.child({ component: 'scheduler' }),
      ensureNetwork: () => ensureFunctionNetwork(),
      onStartFailure: (cause, retried) => {
        metrics.environmentStartFailures.inc({ cause });
        if (retried) metrics.environmentStartRetries.inc({ cause });
      },
      runtimeApiBounds,
    },
    {
      nodeId: config.GANTRY_NODE_ID,
      dataDir: config.GANTRY_DATA_DIR,
      region: config.GANTRY_REGION,
      user: config.GANTRY_FUNCTION_USER,
      functionNetwork: config.GANTRY_FUNCTION_NETWORK,
      keepWarmMs: config.GANTRY_KEEP_WARM_MS,
      maxConcurrentStarts: config.GANTRY_DOCKER_MAX_CONCURRENT_STARTS,
      initTimeoutMs: config.GANTRY_INIT_TIMEOUT_MS,
      nodeMemoryMb: config.GANTRY_NODE_MEMORY_MB,
      stemCellsPerRuntime: config.GANTRY_STEM_CELLS_PER_RUNTIME,
      stemCellMemoryMb: config.GANTRY_STEM_CELL_MEMORY_MB,
      initFailureBackoffMs: config.GANTRY_INIT_FAILURE_BACKOFF_MS,
      logMaxBytesPerInvocation: config.GANTRY_LOG_MAX_BYTES_PER_INVOCATION,
    },
  );
  const meteringLogger = logger.child({ component: 'metering' });
  const ledger = new SpoolLedger(
    { pool, logger: meteringLogger },
    {
      // Per node: several nodes may share one data dir.
      spoolDir: path.join(config.GANTRY_DATA_DIR, 'spool', config.GANTRY_NODE_ID),
      segmentMaxBytes: config.GANTRY_METERING_SEGMENT_MAX_BYTES,
      segmentMaxAgeMs: 60_000,
      maxBacklogBytes: config.GANTRY_METERING_SPOOL_MAX_BYTES,
      shipBatchMaxEntries: config.GANTRY_METERING_BATCH_MAX_ENTRIES,
      rejectionFlushIntervalMs: 1_000,
      closeShipDeadlineMs: 5_000,
    },
  );
  const retention = new LedgerRetention({ pool, logger: meteringLogger }, { retentionMs: config.GANTRY_LEDGER_RETENTION_MS, intervalMs: config.GANTRY_LEDGER_RETENTION_INTERVAL_MS });
  const limiter = new ConcurrencyLimiter();
  const metrics = new ControlPlaneMetrics(() => scheduler.stats(), () => limiter.inUse(), () => scheduler.stemCellsByRuntime(), runtimeApiBounds);
  const invoker = new Invoker(
    { functions: functionCache, scheduler, limiter, ledger, gate: ledger, metrics, logger: logger.child({ component: 'invoker' }) },
    { region: config.GANTRY_REGION, nodeId: config.GANTRY_NODE_ID },
  );
  const publishChange = async () => {
    await redis.publish(keys.configChannel, String(Date.now()));
  };
  const codeGc = new CodeGc(
    { store: functionStore, codeCache, inUse: () => scheduler.codeInUse(), logger: logger.child({ component: 'code-gc' }) },
    { intervalMs: config.GANTRY_CODE_GC_INTERVAL_MS, recentMs: 2 * config.GANTRY_CODE_GC_INTERVAL_MS },
  );
  const functionService = new FunctionService({ store: functionStore, cache: functionCache, codeCache, catalog, scheduler, publishChange, logger });
  const asyncService = new AsyncService(
    { pool, functions: functionCache, functionStore, invoke: (req) => invoker.invoke(req), publishChange, registry: metrics.registry, logger },
    {
      redisUrl: config.REDIS_URL,
      redisPrefix: config.GANTRY_REDIS_PREFIX,
      commandTimeoutMs: config.GANTRY_REDIS_COMMAND_TIMEOUT_MS,
      region: config.GANTRY_REGION,
      concurrency: config.GANTRY_ASYNC_WORKER_CONCURRENCY,
      lockMs: config.GANTRY_ASYNC_LOCK_MS,
      slotWaitMs: config.GANTRY_ASYNC_SLOT_WAIT_MS,
      throttleMinDelayMs: config.GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS,
      throttleMaxDelayMs: config.GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS,
    },
  );

  let heartbeat: NodeHeartbeat | undefined;
  let auth: TokenAuth | undefined;
  let internalToken = '';
  let server: http.Server | undefined;
  let closing: Promise<void> | undefined;

  const readiness = async () => ({
    postgres: await probe(() => pool.query('SELECT 1')),
    redis: await probe(() => redis.ping()),
    asyncQueue: await probe(() => asyncService.ping()),
    docker: await probe(async () => {
      if (!(await containers.ping())) throw new Error('docker unreachable');
    }),
    metering: ledger.writable(),
  });
  // Shown, not a readiness check: an unisolated node still serves (a network older nodes still
  // use is made anew only once it is empty), and the operator sees why in the log and here.
  const isolationFacts = () => ({
    isolation: { functionNetwork: isolation.functionNetwork, functionFirewall: config.GANTRY_FUNCTION_FIREWALL === 'on' ? isolation.functionFirewall : 'off' },
  });

  function buildServer(): http.Server {
    const app = express();
    app.disable('x-powered-by');
    app.use(wellFormedTarget);
    app.use(opsRouter(readiness, metrics.registry, isolationFacts));
    app.use('/v1', (req, _res, next) => {
      (auth as TokenAuth).authenticate(req.headers.authorization, false);
      next();
    });
    app.use(functionsRouter({ service: functionService, store: functionStore, catalog, provisionedReady: (id) => scheduler.provisionedReady(id) }));
    app.use(logsRouter({ store: functionStore, logs: logStore }));
    app.use(asyncRouter({ service: asyncService }));
    app.use(schedulesRouter({ service: asyncService }));
    const prices = new PriceStore(pool, { pricePerGbSecond: config.GANTRY_PRICE_PER_GB_SECOND, pricePerMillionRequests: config.GANTRY_PRICE_PER_MILLION_REQUESTS, currency: config.GANTRY_PRICE_CURRENCY });
    app.use(usageRouter({ usage: new UsageStore(pool), prices, functions: functionStore, defaultCurrency: config.GANTRY_PRICE_CURRENCY }));
    app.use(apisRouter({ apis: apiStore, functions: functionStore, publicUrl: config.GANTRY_PUBLIC_URL, publishChange }));
    app.use(usagePlansRouter({ plans: new UsagePlanStore(pool), apis: apiStore, counters: { read: (names) => readCounters(redis, names) }, usageKeys: new UsageKeys(keys), publishChange }));
    app.use(notFoundHandler());
    app.use(errorHandler(logger.child({ component: 'admin-api' })));
    const invoke = createInvokeHandler({
      auth: auth as TokenAuth,
      invoker,
      async: { accept: (t, name, event) => asyncService.accept(t, name, event), maxPayloadBytes: config.GANTRY_ASYNC_MAX_PAYLOAD_BYTES },
      logger: logger.child({ component: 'invoke-api' }),
    });
    const srv = http.createServer(
      guarded(
        (req, res) => {
          if (!invoke(req, res)) app(req, res);
        },
        logger.child({ component: 'http' }),
        apiErrorBody,
      ),
    );
    answerClientErrors(srv, apiErrorBody);
    srv.keepAliveTimeout = 65_000;
    srv.headersTimeout = 66_000;
    return srv;
  }

  async function start(): Promise<number> {
    await ensureDatabase(config.DATABASE_URL);
    const migrated = await migrate(pool, defaultMigrationsDir(import.meta.url));
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
    const tokens = await bootstrapTokens(pool, {
      adminToken: config.GANTRY_ADMIN_TOKEN,
      internalToken: config.GANTRY_INTERNAL_TOKEN,
      internalTokenFile: config.GANTRY_INTERNAL_TOKEN_FILE,
      announce: overrides.announce ?? ((line) => process.stderr.write(`${line}\n`)),
      warn: (line) => logger.warn(line),
    });
    auth = new TokenAuth(tokens);
    // Before any invocation: replays whatever a crashed or stopped process left in the spool.
    await ledger.start();
    retention.start();
    internalToken = tokens.internalToken;
    await Promise.all([redis.connect(), subscriber.connect()]);
    await subscribeToChanges();
    await sweepOrphans();
    exitedSweeper.start();
    codeGc.start();
    void codeGc.run();
    // Before any container starts (provisioned ones are started by syncProvisioned): a connection
    // a function opened before the rules were in place would outlive them.
    await isolateFunctions();
    await connectionsEnv.reload();
    // Containers only from here on: after the sweep (which would remove them), with the network
    // there and the platform variables they get known.
    await syncProvisioned();
    scheduler.startMaintenance();
    await asyncService.start();
    server = buildServer();
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(config.GANTRY_CONTROL_PLANE_PORT, config.GANTRY_BIND_HOST, () => resolve());
    });
    const port = (srv.address() as AddressInfo).port;
    heartbeat = new NodeHeartbeat(
      { redis, keys, load: () => ({ inFlight: invoker.inFlightCount, freeMemoryMb: config.GANTRY_NODE_MEMORY_MB - scheduler.stats().memoryInUseMb }), logger: logger.child({ component: 'cluster' }) },
      { nodeId: config.GANTRY_NODE_ID, url: config.GANTRY_NODE_URL ?? defaultNodeUrl(config.GANTRY_BIND_HOST, port), intervalMs: config.GANTRY_NODE_HEARTBEAT_INTERVAL_MS },
    );
    await heartbeat.start();
    logger.info({ port, node: config.GANTRY_NODE_ID }, 'control plane listening');
    return port;
  }

  /**
   * The function network without inter-container traffic, and host firewall rules on its bridge.
   * Neither failure stops the start: the node serves, says why in the log, and /readyz shows
   * `isolation` false until a start succeeds.
   */
  async function isolateFunctions(): Promise<void> {
    const network = await containers.ensureNetwork(config.GANTRY_FUNCTION_NETWORK, { 'gantry.managed': 'true' }).catch((e: unknown) => {
      logger.warn({ err: e as Error }, 'function network not ready; functions with network "default" will fail to start');
      return undefined;
    });
    isolation.functionNetwork = network?.isolated ?? false;
    if (network && !network.isolated) {
      logger.warn({ network: config.GANTRY_FUNCTION_NETWORK }, 'function network allows traffic between containers: remove it (or name another) so Gantry makes it anew');
    }
    const bridgeIp = await containers.networkGateway(config.GANTRY_FUNCTION_NETWORK).catch(() => undefined);
    const firewallOn = config.GANTRY_FUNCTION_FIREWALL === 'on';
    // Functions find the gateway on the host only where the firewall lets them.
    const derivedOk = !firewallOn || config.GANTRY_FUNCTIONS_REACH_GATEWAY;
    const gatewayUrl = functionGatewayUrl(config.GANTRY_FUNCTION_GATEWAY_URL, config.GANTRY_PUBLIC_URL, derivedOk ? bridgeIp : undefined);
    connectionsEnv.setGatewayUrl(gatewayUrl);
    if (!firewallOn) return;
    if (network?.bridge === undefined) {
      logger.warn({ network: config.GANTRY_FUNCTION_NETWORK }, 'function firewall not installed: the function network has no bridge interface');
      return;
    }
    const gatewayPort = config.GANTRY_FUNCTIONS_REACH_GATEWAY ? urlPort(config.GANTRY_FUNCTION_GATEWAY_URL ?? config.GANTRY_PUBLIC_URL) : undefined;
    try {
      await firewall.install({ ...firewallScope, bridge: network.bridge, allowTcpPorts: gatewayPort === undefined ? [] : [gatewayPort] });
      isolation.functionFirewall = true;
    } catch (e) {
      logger.warn({ err: e as Error, network: config.GANTRY_FUNCTION_NETWORK }, 'function firewall not installed (is iptables installed and may this process use it?): functions can reach the host\'s ports');
    }
  }

  async function subscribeToChanges(): Promise<void> {
    const onChange = () => {
      functionCache.invalidateAll();
      asyncService.invalidate();
      void syncProvisioned();
      void connectionsEnv.reload();
    };
    subscriber.on('message', onChange);
    // Messages may have been missed while disconnected: forget everything on reconnect.
    subscriber.on('ready', onChange);
    await subscriber.subscribe(keys.configChannel);
  }

  /** Hands the scheduler the provisioned concurrency every function currently asks for. */
  async function syncProvisioned(): Promise<void> {
    try {
      const list = await functionStore.listProvisioned();
      scheduler.setProvisioned(new Map(list.map((f) => [f.functionId, { version: f, count: f.provisionedConcurrency ?? 0 }])));
    } catch (e) {
      logger.warn({ err: e as Error }, 'provisioned concurrency not loaded');
    }
  }

  async function ensureFunctionNetwork(): Promise<void> {
    await containers.ensureNetwork(config.GANTRY_FUNCTION_NETWORK, { 'gantry.managed': 'true' });
  }

  async function sweepOrphans(): Promise<void> {
    const orphans = await containers.listManaged({ 'gantry.managed': 'true', 'gantry.node': config.GANTRY_NODE_ID });
    await Promise.all(orphans.map((o) => containers.destroy(o.id)));
    if (orphans.length > 0) logger.info({ count: orphans.length }, 'orphan containers removed');
    // Only this node's directories: another node may share the data dir.
    const mine = containersDirOf(config.GANTRY_DATA_DIR, config.GANTRY_NODE_ID);
    await rm(mine, { recursive: true, force: true });
    await rm(legacyContainersDirOf(config.GANTRY_DATA_DIR, config.GANTRY_NODE_ID), { recursive: true, force: true });
    await mkdir(mine, { recursive: true, mode: 0o755 });
  }

  function close(): Promise<void> {
    closing ??= shutdown(pool, redis, subscriber);
    return closing;
  }

  async function shutdown(p: Pool, r: Redis, s: Redis): Promise<void> {
    // Withdrawn first, so gateways send new work elsewhere while this node drains.
    await heartbeat?.close().catch((e: unknown) => logger.warn({ err: e as Error, step: 'heartbeat' }, 'shutdown step failed'));
    const stopped = server ? new Promise<void>((resolve) => (server as http.Server).close(() => resolve())) : Promise.resolve();
    // The worker first: it takes no new event, and running ones finish (or are left for redelivery).
    await asyncService.close(config.GANTRY_SHUTDOWN_GRACE_MS);
    const drained = await Promise.race([
      invoker.drained().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.GANTRY_SHUTDOWN_GRACE_MS).unref()),
    ]);
    if (!drained) logger.warn({ inFlight: invoker.inFlightCount }, 'shutdown grace expired with invocations in flight');
    server?.closeAllConnections();
    const steps: [string, () => Promise<unknown>][] = [
      ['exited container sweep', () => exitedSweeper.close()],
      ['code GC', () => codeGc.close()],
      ['scheduler', () => scheduler.close()],
      // After the scheduler: none of this node's functions runs any more.
      ['function firewall', () => (isolation.functionFirewall ? firewall.remove(firewallScope) : Promise.resolve())],
      ['http', () => stopped],
      ['ledger', () => ledger.close()],
      ['ledger retention', () => retention.close()],
      ['function logs', () => logStore.close()],
      ['redis', () => Promise.all([r.quit(), s.quit()])],
      ['postgres', () => p.end()],
    ];
    for (const [name, step] of steps) {
      // Every step runs even when an earlier one failed (style.md: close() runs every cleanup).
      await step().catch((e: unknown) => logger.warn({ err: e as Error, step: name }, 'shutdown step failed'));
    }
    logger.info('control plane stopped');
  }

  return { start, close, invoker, internalToken: () => internalToken };
}

function urlPort(url: string): number {
  const u = new URL(url);
  return u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}

/** A single-machine default: loopback unless the bind address names one interface. */
function defaultNodeUrl(bindHost: string, port: number): string {
  const host = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '' ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  return `http://${host}:${port}`;
}

async function readCounters(redis: Redis, names: readonly string[]): Promise<number[]> {
  if (names.length === 0) return [];
  const values = await redis.mget(...names).catch((e: unknown) => {
    throw new GantryError('ServiceUnavailable', 'Usage counters are unavailable; try again shortly.', { component: 'store', cause: e });
  });
  return values.map((v) => Number(v ?? 0));
}

async function loadArchive(store: FunctionStore, sha256: string): Promise<Buffer> {
  const zip = await store.getArchive(sha256);
  if (zip === undefined) throw new Error(`code archive ${sha256} is missing`);
  return zip;
}
