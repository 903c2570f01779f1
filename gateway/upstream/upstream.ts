/**
 * The gateway's seam to "something that runs functions": a remote control plane over a keep-alive
 * pool, or the invoker itself when both roles share a process (one hop fewer).
 */

export interface UpstreamResult {
  readonly functionError: boolean;
  readonly payload: Buffer;
  readonly invocationId: string | undefined;
}

export type UpstreamErrorKind = 'timeout' | 'throttled' | 'not-found' | 'unavailable' | 'failed';

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What brought the invocation to the gateway: the ledger records it (issue: metering by source). */
export type UpstreamSource = 'gateway' | 'websocket';

export interface Upstream {
  /** Runs the function synchronously. Rejects with UpstreamError for platform outcomes; a
   *  function's own failure resolves with `functionError: true`. After `timeoutMs` it rejects with
   *  kind 'timeout' while the invocation itself runs on and is metered. `source` defaults to
   *  'gateway' (routed HTTP and authorizers). */
  invoke(functionName: string, payload: Buffer, timeoutMs: number, source?: UpstreamSource): Promise<UpstreamResult>;
  close(): Promise<void>;
}
