/**
 * Placement and eviction decisions, pure: no I/O, no clock reads (the caller passes `nowMs`).
 * The scheduler feeds them plain views of its environments and acts on what they return.
 */

export interface EnvironmentView {
  readonly id: string;
  /** Undefined for a stem cell (not yet bound to a function version). */
  readonly versionId: number | undefined;
  readonly state: 'starting' | 'idle' | 'busy' | 'dead';
  readonly lastUsedMs: number;
  readonly memoryMb: number;
  readonly provisioned: boolean;
  readonly retired: boolean;
  /** From then on the environment takes no new invocation (its credentials would expire during one). */
  readonly reuseUntilMs?: number | undefined;
}

/** The idle environment of `versionId` used most recently, so the others can age out. */
export function pickIdle<E extends EnvironmentView>(envs: Iterable<E>, versionId: number, nowMs = -Infinity): E | undefined {
  let best: E | undefined;
  for (const e of envs) {
    if (e.state !== 'idle' || e.retired || e.versionId !== versionId || outlived(e, nowMs)) continue;
    if (!best || e.lastUsedMs > best.lastUsedMs) best = e;
  }
  return best;
}

/** Memory held by environments that are alive (anything not dead counts, starting included). */
export function memoryInUseMb(envs: Iterable<EnvironmentView>): number {
  let sum = 0;
  for (const e of envs) if (e.state !== 'dead') sum += e.memoryMb;
  return sum;
}

/**
 * Which idle environments to remove so that `neededMb` more fits under `budgetMb`: least
 * recently used first, never a provisioned or busy one. Undefined when even evicting every
 * candidate would not make room (the caller throttles instead).
 */
export function pickEvictions<E extends EnvironmentView>(envs: readonly E[], neededMb: number, budgetMb: number): E[] | undefined {
  let free = budgetMb - memoryInUseMb(envs);
  if (free >= neededMb) return [];
  const candidates = envs.filter((e) => e.state === 'idle' && !e.provisioned).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  const chosen: E[] = [];
  for (const e of candidates) {
    if (free >= neededMb) break;
    chosen.push(e);
    free += e.memoryMb;
  }
  return free >= neededMb ? chosen : undefined;
}

/** Idle function environments unused for longer than `keepWarmMs` (stem cells and provisioned stay). */
export function pickExpired<E extends EnvironmentView>(envs: Iterable<E>, nowMs: number, keepWarmMs: number): E[] {
  const out: E[] = [];
  for (const e of envs) {
    if (e.state === 'idle' && !e.provisioned && e.versionId !== undefined && nowMs - e.lastUsedMs > keepWarmMs) out.push(e);
  }
  return out;
}

/** Idle environments, provisioned ones included, that may take no more invocations: replaced, not reused. */
export function pickOutlived<E extends EnvironmentView>(envs: Iterable<E>, nowMs: number): E[] {
  const out: E[] = [];
  for (const e of envs) if (e.state === 'idle' && outlived(e, nowMs)) out.push(e);
  return out;
}

function outlived(e: EnvironmentView, nowMs: number): boolean {
  return e.reuseUntilMs !== undefined && nowMs >= e.reuseUntilMs;
}

/** Default node budget: three quarters of the host's memory, leaving the rest to the OS and Gantry. */
export function defaultNodeMemoryMb(totalMemBytes: number): number {
  return Math.floor((totalMemBytes / 1024 / 1024) * 0.75);
}
