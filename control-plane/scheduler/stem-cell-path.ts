/**
 * The scheduler's stem-cell path: a cold start takes a ready cell of its shape and binds it to
 * the function (code in place, environment handed over), and a background pass keeps the pool
 * at its targets. The lease/warm-pool core (scheduler.ts) decides when to come here and what to
 * do when a cell is lost or the platform fails it.
 */
import { GantryError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { FunctionVersion } from '../functions/function-types.js';
import { placeCode } from './code-placement.js';
import type { Environment } from './environment.js';
import type { EnvironmentIndex } from './environment-index.js';
import { stemCellKeyOf, type EnvironmentStarter, type StemCellKey } from './environment-starter.js';
import { lambdaEnvironment } from './isolation.js';
import { memoryInUseMb } from './placement.js';
import { StemCellPool } from './stem-cell-pool.js';

export interface StemCellPathDeps {
  readonly envs: EnvironmentIndex;
  readonly starter: EnvironmentStarter;
  readonly codeDirFor: (version: FunctionVersion) => Promise<string>;
  readonly stemCellRuntimes: () => Promise<readonly string[]>;
  readonly logger: Logger;
  readonly nowMs: () => number;
  readonly closing: () => boolean;
  readonly register: (env: Environment) => Environment;
  readonly destroy: (env: Environment, reason: string) => Promise<void>;
}

export interface StemCellPathOptions {
  readonly stemCellsPerRuntime: number;
  readonly stemCellMemoryMb: number;
  readonly nodeMemoryMb: number;
  readonly initTimeoutMs: number;
}

/** How binding a taken cell ended: bound (init is awaited next), lost, or failed by the platform. */
export type Binding =
  | { readonly kind: 'bound'; readonly startedNs: bigint }
  | { readonly kind: 'lost' }
  | { readonly kind: 'failed'; readonly error: unknown };

export class StemCellPath {
  private readonly pool: StemCellPool;
  private refilling = false;
  private refillBackoffUntilMs = 0;

  constructor(
    private readonly deps: StemCellPathDeps,
    private readonly opts: StemCellPathOptions,
  ) {
    this.pool = new StemCellPool({ perRuntime: opts.stemCellsPerRuntime, defaultMemoryMb: opts.stemCellMemoryMb, maxLearnedShapes: 4 });
  }

  /** A ready cell of the version's shape, now busy; none noted as demand for that shape. */
  take(version: FunctionVersion): Environment | undefined {
    const key = stemCellKeyOf(version);
    for (const env of this.deps.envs.cellsOf(key)) {
      if (env.state !== 'idle' || env.exited) continue;
      env.transition('busy');
      return env;
    }
    this.pool.noteDemand(key);
    return undefined;
  }

  /** Binds a taken cell to `version`: code in place, environment handed over, handler loaded. */
  async bind(env: Environment, version: FunctionVersion): Promise<Binding> {
    const { envs, starter, destroy } = this.deps;
    env.bind(version);
    envs.bound(env);
    const startedNs = process.hrtime.bigint();
    try {
      await placeCode(await this.deps.codeDirFor(version), env.dirs.taskDir);
      await starter.writeHosts(env, version);
      if (env.isDead || this.deps.closing()) {
        // Shut down while the code was being placed, which recreated the directory.
        await destroy(env, 'shutdown');
        await starter.remove(env);
        throw new GantryError('ServiceUnavailable', 'The control plane is shutting down.', { component: 'scheduler' });
      }
      if (!env.channel.specialize(lambdaEnvironment(version, starter.isolationFor(env)))) {
        void destroy(env, 'stem cell lost');
        return { kind: 'lost' };
      }
    } catch (e) {
      void destroy(env, 'specialisation failed');
      if (e instanceof GantryError) throw e;
      return { kind: 'failed', error: e };
    }
    return { kind: 'bound', startedNs };
  }

  /** One background pass: start the stem cells that are missing, one at a time. */
  async refill(): Promise<void> {
    if (this.refilling || !this.pool.enabled || this.deps.nowMs() < this.refillBackoffUntilMs) return;
    this.refilling = true;
    try {
      for (const { key, count } of this.pool.targets(await this.deps.stemCellRuntimes())) {
        let have = 0;
        for (const e of this.deps.envs.cellsOf(key)) if (!e.isDead) have += 1;
        for (let i = have; i < count && !this.deps.closing(); i++) if (!(await this.start(key))) return;
      }
    } catch (e) {
      this.refillBackoffUntilMs = this.deps.nowMs() + 5_000;
      this.deps.logger.warn({ err: e as Error }, 'stem cell refill failed');
    } finally {
      this.refilling = false;
    }
  }

  private async start(key: StemCellKey): Promise<boolean> {
    const { envs, starter } = this.deps;
    // Cells use spare budget only: never evict a warm environment (or another cell) for one.
    if (memoryInUseMb([...envs.values()].map((e) => e.view())) + key.memoryMb > this.opts.nodeMemoryMb) return false;
    const env = this.deps.register(starter.create(key.memoryMb, key.runtime, undefined, key.network));
    try {
      await starter.startStemCell(env, key);
      if (!(await env.channel.awaitSpecializeRequest(this.opts.initTimeoutMs)) || env.isDead) throw new Error('stem cell did not become ready');
      env.lastUsedMs = this.deps.nowMs();
      env.transition('idle');
      return true;
    } catch (e) {
      await this.deps.destroy(env, 'stem cell start failed');
      throw e;
    }
  }
}
