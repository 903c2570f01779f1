/**
 * Creates environments: the host directories, the Runtime API channel and the container, for a
 * function version (code mounted from the node's cache) or for a stem cell (an empty task
 * directory of its own). Container starts are bounded in parallel; every failure removes what was
 * made before it rejects. Exits are reported through `onExit`, from one wait per container.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerExit, ContainerId, ContainerRuntime, ContainerSpec } from '../containers/container-runtime.js';
import type { FunctionVersion } from '../functions/function-types.js';
import { EnvironmentLog, type LogLineSink } from '../logs/environment-log.js';
import { RuntimeChannel } from '../runtime-api/runtime-channel.js';
import type { RuntimeApiBounds } from '../runtime-api/runtime-api-bounds.js';
import { Environment, type EnvironmentId } from './environment.js';
import { containersDirOf, ENVIRONMENT_ID_CHARS, environmentPathsOf } from './environment-paths.js';
import { buildContainerSpec, buildStemCellSpec, type InitializationType, type IsolationOptions } from './isolation.js';
import type { Logger } from '../../common/logger.js';
import { Semaphore } from '../containers/semaphore.js';

export interface StemCellKey {
  readonly runtime: string;
  readonly memoryMb: number;
  readonly network: 'default' | 'none';
}

export function stemCellKeyOf(v: Pick<FunctionVersion, 'runtime' | 'memoryMb' | 'network'>): StemCellKey {
  return { runtime: v.runtime, memoryMb: v.memoryMb, network: v.network };
}

export function stemCellKeyString(k: StemCellKey): string {
  return `${k.runtime}/${k.memoryMb}/${k.network}`;
}

export { containersDirOf } from './environment-paths.js';

function hostsFileOf(env: Environment): string {
  return path.join(env.dirs.root, 'hosts');
}

/**
 * Variables valid for a limited time (function credentials), issued when an environment's
 * variables are fixed (container start, stem-cell binding). Container variables cannot change,
 * so the environment takes no invocation from `reuseUntilMs` on and is replaced instead.
 */
export type ExpiringEnvironment = (v: FunctionVersion, issuedAtMs: number) => { readonly variables: Readonly<Record<string, string>>; readonly reuseUntilMs: number };

export interface EnvironmentStarterDeps {
  readonly containers: ContainerRuntime;
  readonly codeDirFor: (v: FunctionVersion) => Promise<string>;
  readonly imageFor: (runtime: string) => string;
  readonly onExit: (env: Environment, exit: ContainerExit | undefined) => void;
  readonly logSink: LogLineSink;
  readonly nowMs: () => number;
  readonly platformEnvironment?: ((v: FunctionVersion) => Readonly<Record<string, string>>) | undefined;
  readonly functionCaDir?: (() => string | undefined) | undefined;
  readonly extraHostsFor?: ((v: FunctionVersion) => readonly string[]) | undefined;
  readonly expiringEnvironment?: ExpiringEnvironment | undefined;
  /** Where each environment's Runtime API logs what its error boundary caught. */
  readonly logger?: Logger | undefined;
  readonly runtimeApiBounds?: RuntimeApiBounds | undefined;
}

export interface EnvironmentStarterOptions {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly region: string;
  readonly user: string;
  readonly functionNetwork: string;
  readonly maxConcurrentStarts: number;
  readonly logMaxBytesPerInvocation: number;
}

export class EnvironmentStarter {
  private readonly startSlots: Semaphore;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Containers whose removal failed (engine away): retried until the engine takes it. */
  private readonly pendingRemovals = new Set<ContainerId>();
  private readonly containersDir: string;

  constructor(
    private readonly deps: EnvironmentStarterDeps,
    private readonly opts: EnvironmentStarterOptions,
  ) {
    this.startSlots = new Semaphore(opts.maxConcurrentStarts);
    this.containersDir = containersDirOf(opts.dataDir, opts.nodeId);
  }

  /** A new, not yet started environment (register it before `start*`, so budgets see it). */
  create(memoryMb: number, runtime: string, version: FunctionVersion | undefined, network: 'default' | 'none'): Environment {
    const id = randomBytes(ENVIRONMENT_ID_CHARS / 2).toString('hex') as EnvironmentId;
    const { socketPath, ...dirs } = environmentPathsOf(this.containersDir, id);
    const channel = new RuntimeChannel(socketPath, {
      logger: this.deps.logger?.child({ component: 'runtime-api', environment: id }),
      bounds: this.deps.runtimeApiBounds,
    });
    const log = new EnvironmentLog(this.deps.logSink, this.opts.logMaxBytesPerInvocation, this.deps.nowMs);
    return new Environment(id, channel, log, dirs, memoryMb, runtime, network, this.deps.nowMs(), version);
  }

  /** Starts `env`'s container with its version's code; resolves once the process runs. */
  async startFunction(env: Environment, initializationType: InitializationType): Promise<void> {
    const version = env.version;
    if (!version) throw new Error('startFunction needs a bound environment');
    await this.start(env, async (iso) => buildContainerSpec(version, { ...iso, codeDir: await this.deps.codeDirFor(version), initializationType }));
  }

  /** Starts a stem cell: the runtime waits for `GET /gantry/v1/specialize`, /var/task is empty. */
  async startStemCell(env: Environment, key: StemCellKey): Promise<void> {
    await this.start(env, async (iso) => {
      await mkdir(env.dirs.taskDir, { recursive: true, mode: 0o755 });
      return buildStemCellSpec(key, { ...iso, codeDir: env.dirs.taskDir });
    });
  }

  /** Called where the environment's variables are fixed: its expiring ones are issued here. */
  isolationFor(env: Environment): Omit<IsolationOptions, 'codeDir'> {
    const nowMs = this.deps.nowMs();
    const expiring = env.version ? this.deps.expiringEnvironment?.(env.version, nowMs) : undefined;
    if (expiring) env.reuseUntilMs = expiring.reuseUntilMs;
    const platform = env.version ? this.deps.platformEnvironment?.(env.version) : undefined;
    return {
      image: this.deps.imageFor(env.runtime),
      nodeId: this.opts.nodeId,
      region: this.opts.region,
      user: this.opts.user,
      functionNetwork: this.opts.functionNetwork,
      socketDir: env.dirs.socketDir,
      environmentId: env.id,
      nowMs,
      streamId: randomBytes(16).toString('hex'),
      platformEnvironment: expiring ? { ...platform, ...expiring.variables } : platform,
      functionCaDir: this.deps.functionCaDir?.(),
      hostsFile: this.deps.functionCaDir?.() === undefined ? undefined : hostsFileOf(env),
    };
  }

  /** Resolves once every start and removal begun so far has finished (close() waits on it). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.then(() => this.inFlight.delete(p), () => this.inFlight.delete(p));
    return p;
  }

  /** Removes the container (if any), closes the channel and deletes the directories. Never throws;
   *  a container the engine could not remove now is kept for `retryRemovals`. */
  remove(env: Environment): Promise<unknown[]> {
    return this.track(this.removeNow(env));
  }

  private async removeNow(env: Environment): Promise<unknown[]> {
    const id = env.containerId;
    const results = await Promise.allSettled([
      env.channel.close(),
      id === undefined
        ? Promise.resolve()
        : this.deps.containers.destroy(id).catch((e: unknown) => {
            this.pendingRemovals.add(id);
            throw e;
          }),
    ]);
    await rm(env.dirs.root, { recursive: true, force: true }).catch(() => undefined);
    return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  }

  /** Tries again to remove containers whose removal failed; resolves with how many are left. */
  async retryRemovals(): Promise<number> {
    for (const id of [...this.pendingRemovals]) {
      try {
        await this.deps.containers.destroy(id);
        this.pendingRemovals.delete(id);
      } catch {
        // Still unreachable: the next pass (or the orphan sweep at the next start) tries again.
      }
    }
    return this.pendingRemovals.size;
  }

  private start(env: Environment, makeSpec: (iso: Omit<IsolationOptions, 'codeDir'>) => Promise<ContainerSpec>): Promise<void> {
    return this.track(this.startNow(env, makeSpec));
  }

  /**
   * Writes `env`'s hosts file for `version` (none: a stem cell's, localhost only). In place, never
   * renamed: the container's bind mount follows the file, so a bound cell sees its function's names.
   */
  async writeHosts(env: Environment, version: FunctionVersion | undefined): Promise<void> {
    if (this.deps.functionCaDir?.() === undefined) return;
    const lines = version ? (this.deps.extraHostsFor?.(version) ?? []) : [];
    const entries = lines.map((l) => {
      const at = l.indexOf(':');
      return `${l.slice(at + 1)}\t${l.slice(0, at)}\n`;
    });
    await writeFile(hostsFileOf(env), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${entries.join('')}`, { mode: 0o644 });
  }

  private async startNow(env: Environment, makeSpec: (iso: Omit<IsolationOptions, 'codeDir'>) => Promise<ContainerSpec>): Promise<void> {
    await mkdir(env.dirs.socketDir, { recursive: true, mode: 0o755 });
    await env.channel.listen();
    await this.writeHosts(env, env.version);
    const spec = await makeSpec(this.isolationFor(env));
    env.containerId = await this.startSlots.run(() => this.deps.containers.start(spec, (stream, chunk) => env.log.write(stream, chunk)));
    if (env.isDead) {
      // Removed (shutdown, retire) while the engine was starting it: nothing else would remove it.
      await this.remove(env);
      throw new Error('environment removed while starting');
    }
    const id = env.containerId;
    this.deps.containers.waitForExit(id).then(
      (exit) => this.deps.onExit(env, exit),
      () => this.deps.onExit(env, undefined),
    );
  }
}
