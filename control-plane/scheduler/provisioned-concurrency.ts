/**
 * Provisioned concurrency: keeps N initialised environments of each function's current version
 * (ready before traffic, replaced when they die). Reconciliation is idempotent and runs on every
 * change and periodically; at most one prewarm per function is in flight at a time, so a
 * function whose init fails cannot turn this into a retry storm (it backs off).
 */
import type { Logger } from '../../common/logger.js';
import type { FunctionId, FunctionVersion } from '../functions/function-types.js';
import type { Environment } from './environment.js';

export interface ProvisionedDeps {
  readonly environments: () => Iterable<Environment>;
  readonly prewarm: (v: FunctionVersion) => Promise<Environment | undefined>;
  readonly logger: Logger;
  readonly nowMs: () => number;
}

const FAILURE_BACKOFF_MS = 10_000;

export class ProvisionedConcurrency {
  private desired: ReadonlyMap<FunctionId, { version: FunctionVersion; count: number }> = new Map();
  private readonly inFlight = new Set<FunctionId>();
  private readonly backoffUntil = new Map<FunctionId, number>();

  constructor(private readonly deps: ProvisionedDeps) {}

  setDesired(desired: ReadonlyMap<FunctionId, { version: FunctionVersion; count: number }>): void {
    this.desired = desired;
  }

  /** The function changed or was deleted: provision nothing for it until setDesired says so. */
  forget(functionId: FunctionId): void {
    if (!this.desired.has(functionId)) return;
    const next = new Map(this.desired);
    next.delete(functionId);
    this.desired = next;
  }

  /** Initialised provisioned environments of the function's current version. */
  ready(functionId: FunctionId): number {
    const want = this.desired.get(functionId);
    if (!want) return 0;
    let n = 0;
    for (const env of this.deps.environments()) {
      if (env.provisioned && env.version?.versionId === want.version.versionId && (env.state === 'idle' || env.state === 'busy')) n += 1;
    }
    return n;
  }

  reconcile(): void {
    const counts = new Map<FunctionId, number>();
    for (const env of this.deps.environments()) {
      const v = env.version;
      if (!v || env.isDead || env.retired) continue;
      const want = this.desired.get(v.functionId);
      if (!want || want.version.versionId !== v.versionId) {
        env.provisioned = false;
        continue;
      }
      const have = counts.get(v.functionId) ?? 0;
      // Adopt warm environments of the version before starting new ones.
      if (!env.provisioned && env.state === 'idle' && have < want.count) env.provisioned = true;
      if (env.provisioned) {
        if (have < want.count) counts.set(v.functionId, have + 1);
        else env.provisioned = false;
      }
    }
    for (const [functionId, want] of this.desired) {
      if ((counts.get(functionId) ?? 0) < want.count) void this.startOne(functionId, want.version);
    }
  }

  private async startOne(functionId: FunctionId, version: FunctionVersion): Promise<void> {
    if (this.inFlight.has(functionId) || (this.backoffUntil.get(functionId) ?? 0) > this.deps.nowMs()) return;
    this.inFlight.add(functionId);
    try {
      await this.deps.prewarm(version);
      this.backoffUntil.delete(functionId);
    } catch (e) {
      this.backoffUntil.set(functionId, this.deps.nowMs() + FAILURE_BACKOFF_MS);
      this.deps.logger.warn({ err: e as Error, function: version.name }, 'provisioned environment failed to start');
    } finally {
      this.inFlight.delete(functionId);
    }
    // Keep going until the target is met (one start at a time per function).
    if (this.desired.get(functionId)?.version.versionId === version.versionId) this.reconcile();
  }
}
