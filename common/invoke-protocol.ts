/**
 * The control plane's invoke endpoint as gateways speak to it, beyond api.md: the header that
 * says what brought a call, and the throttle reasons (Lambda's `Reason`, compat.md §2.2) a gateway
 * reads to decide whether another node may take the call. Both sides import these, so a rename on
 * one side cannot silently switch node fallback off.
 */

/**
 * A qualified target travels in the invoke path itself: `/v1/functions/{encodeURIComponent("fn:alias")}/invoke`
 * (Lambda's partial-ARN form `name:qualifier`; the qualifier is `$LATEST`, a version number or an
 * alias). The control plane resolves it per call; a gateway homes every qualifier of one function
 * on the same node, so their warm environments stay together.
 */
export function splitQualifiedName(text: string): { name: string; qualifier: string | undefined } {
  const colon = text.indexOf(':');
  return colon < 0 ? { name: text, qualifier: undefined } : { name: text.slice(0, colon), qualifier: text.slice(colon + 1) };
}

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
