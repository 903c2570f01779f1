/**
 * What the Runtime API can tell the invoker about one environment. Function failures are values
 * here (style.md 3.5.1); only platform faults are thrown.
 */
import type { ContainerExit } from '../containers/container-runtime.js';

/** Monotonic clock readings, from process.hrtime.bigint(). */
export interface Interval {
  readonly startedAtNs: bigint;
  readonly endedAtNs: bigint;
}

export interface RuntimeEvent {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly invokedFunctionArn: string;
  /** JSON text, already base64-decoded (compat.md §1.2). */
  readonly clientContext?: string;
  readonly traceId?: string;
}

export type RuntimeReply =
  | { readonly kind: 'response'; readonly body: Buffer; readonly contentType: string; readonly timing: Interval }
  | { readonly kind: 'error'; readonly errorType: string; readonly body: Buffer; readonly timing: Interval }
  | { readonly kind: 'too-large'; readonly timing: Interval }
  | { readonly kind: 'timeout'; readonly timing: Interval }
  | { readonly kind: 'exited'; readonly exit: ContainerExit | undefined; readonly timing: Interval }
  /** The environment died before the event was handed over: safe to retry elsewhere. */
  | { readonly kind: 'not-delivered' };

export type ReadyOutcome =
  | { readonly kind: 'ready' }
  | { readonly kind: 'init-error'; readonly errorType: string; readonly body: Buffer }
  | { readonly kind: 'exited'; readonly exit: ContainerExit | undefined }
  | { readonly kind: 'timeout' };

/** Sync response ceiling Lambda enforces: 6 MiB + 100 bytes (compat.md §1.1, LS-AWS). */
export const MAX_RESPONSE_BYTES = 6_291_556;
