/**
 * An environment: one container and its Runtime API channel. A function environment is bound to
 * one function version for life; a stem cell starts unbound and is bound exactly once, when it is
 * specialised. Its life is an explicit state machine; an invalid transition is a bug and throws.
 *
 *   starting ──ready──> idle ──acquire──> busy ──release(reuse)──> idle
 *       │  └──(function, first call)──────> busy                     │
 *       └────────────── any failure, retire, reap, evict ───────────┴──> dead (terminal)
 */
import type { ContainerId } from '../containers/container-runtime.js';
import type { FunctionVersion } from '../functions/function-types.js';
import type { EnvironmentLog } from '../logs/environment-log.js';
import type { RuntimeChannel } from '../runtime-api/runtime-channel.js';
import type { EnvironmentView } from './placement.js';

export type EnvironmentId = string & { readonly __brand: 'EnvironmentId' };
export type EnvironmentState = 'starting' | 'idle' | 'busy' | 'dead';

const ALLOWED: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = {
  starting: ['idle', 'busy', 'dead'],
  busy: ['idle', 'dead'],
  idle: ['busy', 'dead'],
  dead: [],
};

export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
}

/** Host directories of one environment: removed whole when it dies. */
export interface EnvironmentDirs {
  readonly root: string;
  /** Holds runtime.sock; mounted read-only at /run/gantry. */
  readonly socketDir: string;
  /** A stem cell's own /var/task (empty until specialised); unused by function environments. */
  readonly taskDir: string;
}

export class Environment {
  private _state: EnvironmentState = 'starting';
  private _version: FunctionVersion | undefined;
  /** The function changed: finish the current invocation, then die. */
  retired = false;
  /** The container stopped: never hand this environment out again. */
  exited = false;
  /** Kept initialised for provisioned concurrency: never reaped or evicted while set. */
  provisioned = false;
  containerId: ContainerId | undefined;
  lastUsedMs: number;
  /** Set when its variables expire (function credentials): no new invocation from then on. */
  reuseUntilMs: number | undefined;

  constructor(
    readonly id: EnvironmentId,
    readonly channel: RuntimeChannel,
    readonly log: EnvironmentLog,
    readonly dirs: EnvironmentDirs,
    readonly memoryMb: number,
    readonly runtime: string,
    readonly network: 'default' | 'none',
    nowMs: number,
    version?: FunctionVersion,
  ) {
    this.lastUsedMs = nowMs;
    this._version = version;
    if (version) log.bindFunction(version.tenantId, version.name);
  }

  get state(): EnvironmentState {
    return this._state;
  }

  get version(): FunctionVersion | undefined {
    return this._version;
  }

  get versionId(): number | undefined {
    return this._version?.versionId;
  }

  get isDead(): boolean {
    return this._state === 'dead';
  }

  get isStemCell(): boolean {
    return this._version === undefined;
  }

  transition(to: EnvironmentState): void {
    if (!ALLOWED[this._state].includes(to)) {
      throw new InvalidTransitionError(`environment ${this.id}: ${this._state} -> ${to} is not allowed`);
    }
    this._state = to;
  }

  /** Specialisation: a stem cell becomes this version's environment, once. */
  bind(version: FunctionVersion): void {
    if (this._version !== undefined) throw new InvalidTransitionError(`environment ${this.id} is already bound`);
    this._version = version;
    this.log.bindFunction(version.tenantId, version.name);
  }

  /** The shape a stem cell was created for (limits and network are fixed at creation). */
  stemKey(): { runtime: string; memoryMb: number; network: 'default' | 'none' } {
    return { runtime: this.runtime, memoryMb: this.memoryMb, network: this.network };
  }

  view(): EnvironmentView {
    return {
      id: this.id,
      versionId: this._version?.versionId,
      state: this._state,
      lastUsedMs: this.lastUsedMs,
      memoryMb: this.memoryMb,
      provisioned: this.provisioned,
      retired: this.retired,
      ...(this.reuseUntilMs !== undefined ? { reuseUntilMs: this.reuseUntilMs } : {}),
    };
  }
}
