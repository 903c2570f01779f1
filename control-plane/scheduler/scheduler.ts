/**
 * Gives each invocation an environment of its function version, in preference order: an idle
 * warm one; a stem cell specialised now; a new container; else 429 (the node's memory budget is
 * full even after evicting idle environments, least recently used first). One invocation per
 * environment; leases are released exactly once; a retired, exited or failed environment is
 * destroyed, never reused. Idle environments are reaped after keepWarmMs; provisioned ones and
 * the stem-cell pool are kept at their targets in the background. This is the lease/warm-pool
 * core; taking, binding and refilling stem cells is stem-cell-path.ts.
 */
import type { Logger } from '../../common/logger.js';
import { GantryError } from '../../common/errors.js';
import { THROTTLE_REASONS } from '../../common/invoke-protocol.js';
import { ContainerRuntimeError, type ContainerExit, type ContainerRuntime } from '../containers/container-runtime.js';
import { LATEST, type FunctionId, type FunctionVersion } from '../functions/function-types.js';
import type { ColdStartKind } from '../metering/ledger.js';
import type { EnvironmentLog, LogLineSink } from '../logs/environment-log.js';
import type { RuntimeChannel } from '../runtime-api/runtime-channel.js';
import type { RuntimeApiBounds } from '../runtime-api/runtime-api-bounds.js';
import type { ReadyOutcome } from '../runtime-api/runtime-reply.js';
import { Environment, type EnvironmentId, type EnvironmentState } from './environment.js';
import { EnvironmentIndex } from './environment-index.js';
import { EnvironmentStarter, type ExpiringEnvironment } from './environment-starter.js';
import { pickEvictions, pickExpired, pickIdle, pickOutlived } from './placement.js';
import { ProvisionedConcurrency } from './provisioned-concurrency.js';
import { StemCellPath } from './stem-cell-path.js';

export interface EnvironmentLease {
  readonly environmentId: EnvironmentId;
  readonly coldStart: ColdStartKind;
  readonly initDurationUs: number;
  readonly channel: RuntimeChannel;
  readonly log: EnvironmentLog;
  /** Exactly once. 'discard' after a timeout, a crash or a protocol violation. */
  release(disposition: 'reuse' | 'discard'): void;
}

export type InitFailure = Exclude<ReadyOutcome, { kind: 'ready' }>;

export type AcquireOutcome =
  | { readonly kind: 'lease'; readonly lease: EnvironmentLease }
  /** `cached`: a recent init failure of this version, answered without starting anything. */
  | { readonly kind: 'init-failed'; readonly outcome: InitFailure; readonly initDurationUs: number; readonly coldStart: ColdStartKind; readonly cached: boolean };

export interface SchedulerDeps {
  readonly containers: ContainerRuntime;
  readonly codeDirFor: (v: FunctionVersion) => Promise<string>;
  readonly imageFor: (runtime: string) => string;
  /** Runtimes whose image is present and whose client can be specialised. */
  readonly stemCellRuntimes: () => Promise<readonly string[]>;
  readonly logSink: LogLineSink;
  readonly logger: Logger;
  readonly nowMs?: () => number;
  /** Platform variables a function's environment gets (GANTRY_CONNECTIONS_* behind a websocket API). */
  readonly platformEnvironment?: (v: FunctionVersion) => Readonly<Record<string, string>>;
  /** The function CA's public directory every container mounts and trusts, once there is one. */
  readonly functionCaDir?: () => string | undefined;
  /** `name:address` host lines a function's containers get (its WebSocket API's names). */
  readonly extraHostsFor?: (v: FunctionVersion) => readonly string[];
  /** Variables that expire (function credentials): an environment is replaced before they do. */
  readonly expiringEnvironment?: ExpiringEnvironment;
  /** Recreates the function network, after a start found it gone (removed behind Gantry's back). */
  readonly ensureNetwork?: () => Promise<void>;
  /** Every failed start of an environment by the platform itself, and whether it is retried. */
  readonly onStartFailure?: (cause: StartFailureCause, retried: boolean) => void;
  /** The node's Runtime API bounds and fd budget, shared by every environment's socket. */
  readonly runtimeApiBounds?: RuntimeApiBounds;
}

/** Why the platform (the engine or Gantry, never the function) failed to start an environment. */
export type StartFailureCause = ContainerRuntimeError['kind'] | 'network-missing' | 'internal';

export interface SchedulerOptions {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly region: string;
  readonly user: string;
  readonly functionNetwork: string;
  readonly keepWarmMs: number;
  readonly maxConcurrentStarts: number;
  readonly initTimeoutMs: number;
  readonly nodeMemoryMb: number;
  readonly stemCellsPerRuntime: number;
  readonly stemCellMemoryMb: number;
  readonly initFailureBackoffMs: number;
  readonly logMaxBytesPerInvocation: number;
}

export interface SchedulerStats {
  readonly environments: Readonly<Record<EnvironmentState | 'stem-cell', number>>;
  readonly memoryInUseMb: number;
}

/** How often the background loop reaps, refills stem cells and reconciles provisioned concurrency. */
const MAINTENANCE_INTERVAL_MS = 1_000;
/** A call's environment is started at most this often when the platform fails it. */
const MAX_START_ATTEMPTS = 3;
/** Failures a fresh environment may well not meet again; an engine that is away or slow, or a
 *  missing image, would only fail the next attempt as well (the caller gets 503 at once). */
const RETRIED_CAUSES: ReadonlySet<StartFailureCause> = new Set(['failed', 'conflict', 'not-found', 'network-missing', 'internal']);

export class Scheduler {
  private readonly envs = new EnvironmentIndex();
  private readonly starter: EnvironmentStarter;
  private readonly stemCells: StemCellPath;
  private readonly provisioned: ProvisionedConcurrency;
  private readonly initFailures = new Map<number, { outcome: InitFailure; untilMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly nowMs: () => number;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly opts: SchedulerOptions,
  ) {
    this.nowMs = deps.nowMs ?? Date.now;
    this.starter = new EnvironmentStarter(
      {
        containers: deps.containers,
        codeDirFor: deps.codeDirFor,
        imageFor: deps.imageFor,
        nowMs: this.nowMs,
        logSink: deps.logSink,
        onExit: (e, x) => this.onExit(e, x),
        platformEnvironment: deps.platformEnvironment,
        functionCaDir: deps.functionCaDir,
        extraHostsFor: deps.extraHostsFor,
        expiringEnvironment: deps.expiringEnvironment,
        logger: deps.logger,
        runtimeApiBounds: deps.runtimeApiBounds,
      },
      opts,
    );
    this.stemCells = new StemCellPath(
      {
        envs: this.envs,
        starter: this.starter,
        codeDirFor: deps.codeDirFor,
        stemCellRuntimes: deps.stemCellRuntimes,
        logger: deps.logger,
        nowMs: this.nowMs,
        closing: () => this.closing !== undefined,
        register: (env) => this.register(env),
        destroy: (env, reason) => this.destroy(env, reason),
      },
      opts,
    );
    this.provisioned = new ProvisionedConcurrency({
      environments: () => this.envs.values(),
      prewarm: (v) => this.prewarm(v),
      logger: deps.logger,
      nowMs: this.nowMs,
    });
  }

  /**
   * Starts the background loop (reaping, stem cells, provisioned concurrency). Called once the
   * node is ready for containers: orphans swept and the function network there. Started earlier,
   * the sweep would remove the first stem cells while the engine is still creating them.
   */
  startMaintenance(): void {
    if (this.timer || this.closing) return;
    this.timer = setInterval(() => this.maintain(), Math.min(MAINTENANCE_INTERVAL_MS, Math.max(100, this.opts.keepWarmMs / 10)));
    this.timer.unref();
  }

  async acquire(version: FunctionVersion): Promise<AcquireOutcome> {
    if (this.closing) throw unavailable('The control plane is shutting down.');
    const failed = this.initFailures.get(version.versionId);
    if (failed && failed.untilMs > this.nowMs()) {
      return { kind: 'init-failed', outcome: failed.outcome, initDurationUs: 0, coldStart: 'none', cached: true };
    }
    const warm = pickIdle(this.envs.ofVersion(version.versionId), version.versionId, this.nowMs());
    if (warm) {
      warm.transition('busy');
      return { kind: 'lease', lease: this.leaseFor(warm, 'none', 0) };
    }
    const cell = this.stemCells.take(version);
    if (cell) return this.specialize(cell, version);
    return this.startFunction(version);
  }

  /** The code (sha256) of every environment still alive: its directory may be mounted. */
  codeInUse(): Set<string> {
    const shas = new Set<string>();
    for (const env of this.envs.values()) if (!env.isDead && env.version !== undefined) shas.add(env.version.codeSha256);
    return shas;
  }

  /**
   * The function changed or was deleted: idle environments die now, busy ones after their call.
   * A change to $LATEST retires only $LATEST's environments: published versions are immutable.
   */
  retire(functionId: FunctionId, scope: 'latest' | 'all' | { readonly version: string } = 'all'): void {
    // Provisioned concurrency is kept for $LATEST only.
    if (scope === 'latest' || scope === 'all') this.provisioned.forget(functionId);
    for (const env of this.envs.values()) {
      if (env.version?.functionId !== functionId) continue;
      const runs = env.version.executedVersion ?? LATEST;
      if (scope === 'latest' ? runs !== LATEST : scope !== 'all' && runs !== scope.version) continue;
      env.retired = true;
      env.provisioned = false;
      if (env.state === 'idle') void this.destroy(env, 'retired');
    }
    for (const [versionId, f] of this.initFailures) if (f.untilMs <= this.nowMs()) this.initFailures.delete(versionId);
  }

  /** Desired provisioned concurrency by function (current versions only); reconciled in the background. */
  setProvisioned(desired: ReadonlyMap<FunctionId, { version: FunctionVersion; count: number }>): void {
    this.provisioned.setDesired(desired);
    this.provisioned.reconcile();
  }

  provisionedReady(functionId: FunctionId): number {
    return this.provisioned.ready(functionId);
  }

  stats(): SchedulerStats {
    const environments = { starting: 0, idle: 0, busy: 0, dead: 0, 'stem-cell': 0 };
    let memoryInUseMb = 0;
    for (const env of this.envs.values()) {
      if (env.isStemCell && env.state === 'idle') environments['stem-cell'] += 1;
      else environments[env.state] += 1;
      if (!env.isDead) memoryInUseMb += env.memoryMb;
    }
    return { environments, memoryInUseMb };
  }

  /** Ready stem cells by runtime (the per-runtime split of `stats().environments['stem-cell']`). */
  stemCellsByRuntime(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const env of this.envs.values()) if (env.isStemCell && env.state === 'idle') out[env.runtime] = (out[env.runtime] ?? 0) + 1;
    return out;
  }

  /** Idempotent: destroys every environment this node owns, including ones still starting. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await Promise.all([...this.envs.values()].map((env) => this.destroy(env, 'shutdown')));
      await this.starter.settled();
      const left = await this.starter.retryRemovals();
      if (left > 0) this.deps.logger.warn({ containers: left }, 'containers left for the orphan sweep at the next start');
    })();
    return this.closing;
  }

  /** A taken stem cell bound to `version`; a lost cell, or one the platform failed, gives way to a new container. */
  private async specialize(cell: Environment, version: FunctionVersion): Promise<AcquireOutcome> {
    const binding = await this.stemCells.bind(cell, version);
    if (binding.kind === 'bound') return this.awaitInit(cell, version, binding.startedNs, 'stem-cell');
    // The cell was the platform's: a container of the function's own may well start.
    if (binding.kind === 'failed' && !this.retryableStart(binding.error, cell, 1, this.nowMs())) throw translateStartError(binding.error);
    return this.startFunction(version);
  }

  /**
   * A new container for `version`. A start the platform failed (not the function's init) is
   * tried again on a fresh environment, a few times within the init deadline, before the caller
   * sees an error.
   */
  private async startFunction(version: FunctionVersion): Promise<AcquireOutcome> {
    const firstMs = this.nowMs();
    for (let attempt = 1; ; attempt++) {
      if (this.closing) throw unavailable('The control plane is shutting down.');
      this.makeRoom(version.memoryMb);
      const env = this.register(this.starter.create(version.memoryMb, version.runtime, version, version.network));
      try {
        await this.starter.startFunction(env, 'on-demand');
      } catch (e) {
        await this.destroy(env, 'start failed');
        if (e instanceof GantryError || !this.retryableStart(e, env, attempt, firstMs)) throw translateStartError(e);
        if (startFailureCause(e) === 'network-missing') await this.deps.ensureNetwork?.().catch(() => undefined);
        continue;
      }
      return this.awaitInit(env, version, process.hrtime.bigint(), 'container');
    }
  }

  /** Counts and logs a start the platform failed; true when the call should try a fresh environment. */
  private retryableStart(e: unknown, env: Environment, attempt: number, firstMs: number): boolean {
    const cause = startFailureCause(e);
    const retried = !this.closing && RETRIED_CAUSES.has(cause) && attempt < MAX_START_ATTEMPTS && this.nowMs() - firstMs < this.opts.initTimeoutMs;
    this.deps.onStartFailure?.(cause, retried);
    this.deps.logger.warn({ environmentId: env.id, function: env.version?.name, cause, attempt, retried, err: e as Error }, 'environment start failed');
    return retried;
  }

  /** Waits for the runtime's first `next` poll: init done, or an init failure to report. */
  private async awaitInit(env: Environment, version: FunctionVersion, startedNs: bigint, kind: ColdStartKind): Promise<AcquireOutcome> {
    const ready = await env.channel.ready(this.opts.initTimeoutMs);
    const initDurationUs = Number((process.hrtime.bigint() - startedNs) / 1000n);
    const outcome: InitFailure | undefined = ready.kind !== 'ready' ? ready : env.isDead ? { kind: 'exited', exit: undefined } : undefined;
    if (outcome) {
      void this.destroy(env, `init ${outcome.kind}`);
      // A function whose init keeps failing answers from this for a moment instead of starting
      // a container per call (no retry storm).
      this.initFailures.set(version.versionId, { outcome, untilMs: this.nowMs() + this.opts.initFailureBackoffMs });
      return { kind: 'init-failed', outcome, initDurationUs, coldStart: kind, cached: false };
    }
    // A new container goes starting → busy; a stem cell was already taken (idle → busy).
    if (env.state === 'starting') env.transition('busy');
    return { kind: 'lease', lease: this.leaseFor(env, kind, initDurationUs) };
  }

  /** Provisioned concurrency: an initialised, idle environment of `version`. */
  private async prewarm(version: FunctionVersion): Promise<Environment | undefined> {
    if (this.closing) return undefined;
    this.makeRoom(version.memoryMb);
    const env = this.register(this.starter.create(version.memoryMb, version.runtime, version, version.network));
    env.provisioned = true;
    try {
      await this.starter.startFunction(env, 'provisioned-concurrency');
      const ready = await env.channel.ready(this.opts.initTimeoutMs);
      if (ready.kind !== 'ready' || env.isDead) throw new Error(`provisioned environment init ${ready.kind}`);
      env.lastUsedMs = this.nowMs();
      env.transition('idle');
      return env;
    } catch (e) {
      await this.destroy(env, 'prewarm failed');
      throw e;
    }
  }

  /** Evicts idle environments (LRU) until `memoryMb` more fits, or throws 429. */
  private makeRoom(memoryMb: number): void {
    const all = [...this.envs.values()];
    const evict = pickEvictions(all.map((e) => e.view()), memoryMb, this.opts.nodeMemoryMb);
    if (evict === undefined) {
      throw new GantryError('TooManyRequests', 'Rate Exceeded: this node has no capacity left for another environment.', {
        component: 'scheduler',
        details: { reason: THROTTLE_REASONS.nodeFull, nodeMemoryMb: this.opts.nodeMemoryMb },
      });
    }
    for (const v of evict) {
      const env = this.envs.get(v.id as EnvironmentId);
      if (env) void this.destroy(env, 'evicted');
    }
  }

  private register(env: Environment): Environment {
    this.envs.add(env);
    return env;
  }

  private onExit(env: Environment, exit: ContainerExit | undefined): void {
    env.exited = true;
    env.channel.markExited(exit);
    if (!env.isDead && env.state !== 'busy' && env.state !== 'starting') void this.destroy(env, 'container exited');
  }

  private leaseFor(env: Environment, coldStart: ColdStartKind, initDurationUs: number): EnvironmentLease {
    let released = false;
    return {
      environmentId: env.id,
      coldStart,
      initDurationUs,
      channel: env.channel,
      log: env.log,
      release: (disposition) => {
        if (released) throw new Error(`lease on environment ${env.id} released twice`);
        released = true;
        env.channel.finishInvocation();
        if (env.isDead) return;
        if (disposition === 'discard' || env.retired || env.exited || this.closing) {
          void this.destroy(env, disposition === 'discard' ? 'discarded' : 'retired');
          return;
        }
        if (env.reuseUntilMs !== undefined && this.nowMs() >= env.reuseUntilMs) {
          void this.destroy(env, 'credentials expiring');
          return;
        }
        env.lastUsedMs = this.nowMs();
        env.transition('idle');
      },
    };
  }

  private maintain(): void {
    if (this.closing) return;
    for (const v of pickExpired([...this.envs.values()].map((e) => e.view()), this.nowMs(), this.opts.keepWarmMs)) {
      const env = this.envs.get(v.id as EnvironmentId);
      if (env) void this.destroy(env, 'idle');
    }
    // Provisioned ones included: reconcile() below starts their replacements.
    for (const v of pickOutlived([...this.envs.values()].map((e) => e.view()), this.nowMs())) {
      const env = this.envs.get(v.id as EnvironmentId);
      if (env) void this.destroy(env, 'credentials expiring');
    }
    this.provisioned.reconcile();
    void this.stemCells.refill();
    void this.starter.retryRemovals();
  }

  /** Idempotent; never throws (cleanup of what is already gone is best effort). */
  private async destroy(env: Environment, reason: string): Promise<void> {
    if (env.isDead) return;
    env.transition('dead');
    this.envs.delete(env);
    this.deps.logger.debug({ environmentId: env.id, reason }, 'environment destroyed');
    for (const err of await this.starter.remove(env)) {
      // Best-effort cleanup: the orphan sweep at the next start removes what is left.
      this.deps.logger.warn({ environmentId: env.id, err: err as Error }, 'environment cleanup failed');
    }
  }
}

export function startFailureCause(e: unknown): StartFailureCause {
  if (!(e instanceof ContainerRuntimeError)) return 'internal';
  // The engine names a network that is gone (removed, or recreated under a new id) this way.
  if (e.kind === 'not-found' && /network [^ ]+ not found/i.test(e.message)) return 'network-missing';
  return e.kind;
}

function translateStartError(e: unknown): GantryError {
  if (e instanceof GantryError) return e;
  if (e instanceof ContainerRuntimeError) {
    if (e.kind === 'engine-unavailable' || e.kind === 'timeout') return unavailable('The container engine is unavailable; try again shortly.', e);
    if (e.kind === 'image-missing') {
      return new GantryError('ServiceUnavailable', 'The runtime image is not installed on this node.', { component: 'containers', cause: e });
    }
  }
  return new GantryError('InternalError', 'Starting the function environment failed.', { component: 'scheduler', cause: e });
}

function unavailable(message: string, cause?: unknown): GantryError {
  return new GantryError('ServiceUnavailable', message, { component: 'scheduler', cause });
}
