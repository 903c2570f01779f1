/**
 * Gives each invocation an environment of its function version: an idle warm one when there is
 * one, else a new container. One invocation per environment at a time; concurrent invocations
 * scale out to more containers. Idle environments are reaped after keepWarmMs. A lease is
 * released exactly once, and a retired or failed environment is destroyed, never reused.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../common/logger.js';
import { GantryError } from '../../common/errors.js';
import {
  ContainerRuntimeError,
  type ContainerExit,
  type ContainerRuntime,
} from '../containers/container-runtime.js';
import type { FunctionId, FunctionVersion } from '../functions/function-types.js';
import { RuntimeChannel } from '../runtime-api/runtime-channel.js';
import type { ReadyOutcome } from '../runtime-api/runtime-reply.js';
import { Environment, type EnvironmentId, type EnvironmentState } from './environment.js';
import { buildContainerSpec } from './isolation.js';
import { Semaphore } from './semaphore.js';

export type ColdStartKind = 'none' | 'container' | 'stem-cell';

export interface EnvironmentLease {
  readonly environmentId: EnvironmentId;
  readonly coldStart: ColdStartKind;
  readonly initDurationUs: number;
  readonly channel: RuntimeChannel;
  /** Exactly once. 'discard' after a timeout, a crash or a protocol violation. */
  release(disposition: 'reuse' | 'discard'): void;
}

export type AcquireOutcome =
  | { readonly kind: 'lease'; readonly lease: EnvironmentLease }
  | { readonly kind: 'init-failed'; readonly outcome: Exclude<ReadyOutcome, { kind: 'ready' }>; readonly initDurationUs: number };

export interface SchedulerDeps {
  readonly containers: ContainerRuntime;
  /** The extracted code directory for a version, extracting it when needed. */
  readonly codeDirFor: (v: FunctionVersion) => Promise<string>;
  readonly imageFor: (runtime: string) => string;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

export interface SchedulerOptions {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly region: string;
  readonly user: string;
  readonly functionNetwork: string;
  readonly keepWarmMs: number;
  readonly maxConcurrentStarts: number;
  readonly initTimeoutMs: number;
}

export interface SchedulerStats {
  readonly environments: Readonly<Record<EnvironmentState, number>>;
}

export class Scheduler {
  private readonly envs = new Map<EnvironmentId, Environment>();
  private readonly startSlots: Semaphore;
  private readonly reaper: NodeJS.Timeout;
  private readonly nowMs: () => number;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly opts: SchedulerOptions,
  ) {
    this.nowMs = deps.nowMs ?? Date.now;
    this.startSlots = new Semaphore(opts.maxConcurrentStarts);
    const every = Math.min(60_000, Math.max(1_000, Math.floor(opts.keepWarmMs / 10)));
    this.reaper = setInterval(() => this.reapIdle(), every);
    this.reaper.unref();
  }

  async acquire(version: FunctionVersion): Promise<AcquireOutcome> {
    if (this.closing) throw unavailable('The control plane is shutting down.');
    const warm = this.pickIdle(version);
    if (warm) {
      warm.transition('busy');
      return { kind: 'lease', lease: this.leaseFor(warm, 'none', 0) };
    }
    return this.startEnvironment(version);
  }

  /** The function changed or was deleted: idle environments die now, busy ones after their call. */
  retire(functionId: FunctionId): void {
    for (const env of this.envs.values()) {
      if (env.version.functionId !== functionId) continue;
      env.retired = true;
      if (env.state === 'idle') void this.destroy(env, 'retired');
    }
  }

  stats(): SchedulerStats {
    const environments: Record<EnvironmentState, number> = { starting: 0, idle: 0, busy: 0, dead: 0 };
    for (const env of this.envs.values()) environments[env.state] += 1;
    return { environments };
  }

  /** Idempotent: destroys every environment this node owns. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.reaper);
      await Promise.all([...this.envs.values()].map((env) => this.destroy(env, 'shutdown')));
    })();
    return this.closing;
  }

  private pickIdle(version: FunctionVersion): Environment | undefined {
    let best: Environment | undefined;
    for (const env of this.envs.values()) {
      if (env.state !== 'idle' || env.retired || env.version.versionId !== version.versionId) continue;
      // Most recently used first: keeps the working set small so the rest can be reaped.
      if (!best || env.lastUsedMs > best.lastUsedMs) best = env;
    }
    return best;
  }

  private async startEnvironment(version: FunctionVersion): Promise<AcquireOutcome> {
    const id = randomBytes(6).toString('hex') as EnvironmentId;
    const socketDir = path.join(this.opts.dataDir, 'containers', id);
    const channel = new RuntimeChannel(path.join(socketDir, 'runtime.sock'));
    const env = new Environment(id, version, channel, socketDir, this.nowMs());
    this.envs.set(id, env);
    try {
      await mkdir(socketDir, { recursive: true, mode: 0o755 });
      await channel.listen();
      const codeDir = await this.deps.codeDirFor(version);
      const spec = buildContainerSpec(version, {
        image: this.deps.imageFor(version.runtime),
        nodeId: this.opts.nodeId,
        region: this.opts.region,
        user: this.opts.user,
        functionNetwork: this.opts.functionNetwork,
        codeDir,
        socketDir,
        environmentId: id,
        nowMs: this.nowMs(),
        streamId: randomBytes(16).toString('hex'),
      });
      env.containerId = await this.startSlots.run(() => this.deps.containers.start(spec));
      if (env.isDead) {
        // Destroyed (close()) while the engine was starting it: nothing else will remove it.
        await this.deps.containers.destroy(env.containerId).catch(() => undefined);
        await env.channel.close();
        await rm(socketDir, { recursive: true, force: true });
        throw unavailable('The control plane is shutting down.');
      }
      const startedNs = process.hrtime.bigint();
      this.watchExit(env);
      const ready = await channel.ready(this.opts.initTimeoutMs);
      const initDurationUs = Number((process.hrtime.bigint() - startedNs) / 1000n);
      if (ready.kind !== 'ready') {
        void this.destroy(env, `init ${ready.kind}`);
        return { kind: 'init-failed', outcome: ready, initDurationUs };
      }
      if (env.isDead) return { kind: 'init-failed', outcome: { kind: 'exited', exit: undefined }, initDurationUs };
      env.transition('busy');
      return { kind: 'lease', lease: this.leaseFor(env, 'container', initDurationUs) };
    } catch (e) {
      await this.destroy(env, 'start failed');
      throw translateStartError(e);
    }
  }

  private watchExit(env: Environment): void {
    const id = env.containerId;
    if (id === undefined) return;
    this.deps.containers.waitForExit(id).then(
      (exit) => this.onExit(env, exit),
      () => this.onExit(env, undefined),
    );
  }

  private onExit(env: Environment, exit: ContainerExit | undefined): void {
    env.exited = true;
    env.channel.markExited(exit);
    if (!env.isDead && env.state !== 'busy') void this.destroy(env, 'container exited');
  }

  private leaseFor(env: Environment, coldStart: ColdStartKind, initDurationUs: number): EnvironmentLease {
    let released = false;
    return {
      environmentId: env.id,
      coldStart,
      initDurationUs,
      channel: env.channel,
      release: (disposition) => {
        if (released) throw new Error(`lease on environment ${env.id} released twice`);
        released = true;
        env.channel.finishInvocation();
        if (env.isDead) return;
        if (disposition === 'discard' || env.retired || env.exited || this.closing) {
          void this.destroy(env, disposition === 'discard' ? 'discarded' : 'retired');
          return;
        }
        env.lastUsedMs = this.nowMs();
        env.transition('idle');
      },
    };
  }

  private reapIdle(): void {
    const cutoff = this.nowMs() - this.opts.keepWarmMs;
    for (const env of this.envs.values()) {
      if (env.state === 'idle' && env.lastUsedMs < cutoff) void this.destroy(env, 'idle');
    }
  }

  /** Idempotent; never throws (cleanup of an environment that is already dead is best effort). */
  private async destroy(env: Environment, reason: string): Promise<void> {
    if (env.isDead) return;
    env.transition('dead');
    this.envs.delete(env.id);
    this.deps.logger.debug({ environmentId: env.id, reason }, 'environment destroyed');
    const steps: Promise<unknown>[] = [env.channel.close()];
    if (env.containerId !== undefined) steps.push(this.deps.containers.destroy(env.containerId));
    const results = await Promise.allSettled(steps);
    await rm(env.socketDir, { recursive: true, force: true }).catch(() => undefined);
    for (const r of results) {
      if (r.status === 'rejected') {
        // Best-effort cleanup: the orphan sweep at the next start removes what is left.
        this.deps.logger.warn({ environmentId: env.id, err: r.reason as Error }, 'environment cleanup failed');
      }
    }
  }
}

function translateStartError(e: unknown): GantryError {
  if (e instanceof GantryError) return e;
  if (e instanceof ContainerRuntimeError) {
    if (e.kind === 'engine-unavailable' || e.kind === 'timeout') {
      return unavailable('The container engine is unavailable; try again shortly.', e);
    }
    if (e.kind === 'image-missing') {
      return new GantryError('ServiceUnavailable', 'The runtime image is not installed on this node.', { component: 'containers', cause: e });
    }
  }
  return new GantryError('InternalError', 'Starting the function environment failed.', { component: 'scheduler', cause: e });
}

function unavailable(message: string, cause?: unknown): GantryError {
  return new GantryError('ServiceUnavailable', message, { component: 'scheduler', cause });
}
