/**
 * The control plane's invoke endpoint as gateways speak to it, beyond api.md: the header that
 * says what brought a call, and the throttle reasons (Lambda's `Reason`, compat.md §2.2) a gateway
 * reads to decide whether another node may take the call. Both sides import these, so a rename on
 * one side cannot silently switch node fallback off.
 */

/** Sent by a gateway (honoured for the internal token only): `websocket` for WebSocket-routed calls. */
export const INVOCATION_SOURCE_HEADER = 'x-gantry-invocation-source';

/** Sent with every 429 of the invoke endpoint: which limit refused the call. */
export const THROTTLE_REASON_HEADER = 'x-gantry-throttle-reason';

export const THROTTLE_REASONS = {
  /** The node's memory budget is full: nothing ran, another node may take it. */
  nodeFull: 'ConcurrentInvocationLimitExceeded',
  /** The function is at its reservedConcurrency. */
  reservedConcurrency: 'ReservedFunctionConcurrentInvocationLimitExceeded',
} as const;
