/**
 * An environment: one container bound to one function version, and its Runtime API channel.
 * Its life is an explicit state machine; an invalid transition is a bug and throws.
 *
 *   starting ──ready──> busy ──release(reuse)──> idle ──acquire──> busy
 *       │                 │                        │
 *       └──────────── any failure, retire, reap ───┴──> dead (terminal)
 */
import type { ContainerId } from '../containers/container-runtime.js';
import type { FunctionVersion } from '../functions/function-types.js';
import type { RuntimeChannel } from '../runtime-api/runtime-channel.js';

export type EnvironmentId = string & { readonly __brand: 'EnvironmentId' };
export type EnvironmentState = 'starting' | 'idle' | 'busy' | 'dead';

const ALLOWED: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = {
  starting: ['busy', 'dead'],
  busy: ['idle', 'dead'],
  idle: ['busy', 'dead'],
  dead: [],
};

export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
}

export class Environment {
  private _state: EnvironmentState = 'starting';
  /** Set when the function changed: the environment finishes its invocation, then dies. */
  retired = false;
  /** The container has stopped: never hand this environment out again. */
  exited = false;
  containerId: ContainerId | undefined;
  lastUsedMs: number;

  constructor(
    readonly id: EnvironmentId,
    readonly version: FunctionVersion,
    readonly channel: RuntimeChannel,
    readonly socketDir: string,
    nowMs: number,
  ) {
    this.lastUsedMs = nowMs;
  }

  get state(): EnvironmentState {
    return this._state;
  }

  transition(to: EnvironmentState): void {
    if (!ALLOWED[this._state].includes(to)) {
      throw new InvalidTransitionError(`environment ${this.id}: ${this._state} -> ${to} is not allowed`);
    }
    this._state = to;
  }

  get isDead(): boolean {
    return this._state === 'dead';
  }
}
