/**
 * How control-plane nodes advertise themselves to gateways (design.md, Scaling out): each live
 * node keeps a short-lived key of its own (refreshed by its heartbeat, gone when it stops
 * refreshing) and its id in one set; a gateway reads the set, then the keys, and treats a member
 * without a key as dead. Expiry is Redis's clock, so no two machines' clocks are compared.
 * Shared because the control plane writes exactly what the gateway reads.
 */
import type { RedisKeys } from './redis.js';

export interface NodeRecord {
  readonly id: string;
  /** Where gateways reach this node's invoke API. */
  readonly url: string;
  /** Invocations running on the node when it last reported. */
  readonly inFlight: number;
  /** Node memory budget left for new environments (MB). */
  readonly freeMemoryMb: number;
}

export function nodesSetKey(keys: RedisKeys): string {
  return keys.key('nodes');
}

export function nodeKey(keys: RedisKeys, nodeId: string): string {
  return keys.key('node', nodeId);
}

/** Parses a stored record; anything malformed (another version, a stray write) is no node. */
export function parseNodeRecord(raw: string | null): NodeRecord | undefined {
  if (raw === null) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r['id'] !== 'string' || typeof r['url'] !== 'string') return undefined;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  return { id: r['id'], url: r['url'], inFlight: num(r['inFlight']), freeMemoryMb: num(r['freeMemoryMb']) };
}
