/**
 * Connection ids and the `@connections` path (compat.md §6.4). Ids look like API Gateway's
 * (`Zk3pLq8vIAMCKlQ=`): base64 of 11 random bytes, so they may hold `+`, `/` and `=`, which
 * clients percent-encode in paths. Pure apart from the random source.
 */
import { randomFillSync } from 'node:crypto';

// Ids are made per connection and per message: random bytes come from a pool refilled 4 KB at a
// time instead of one getrandom call each.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomBase64(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.toString('base64', offset, offset + bytes);
  offset += bytes;
  return out;
}

export function newConnectionId(): string {
  return randomBase64(11);
}

/** Message ids and request ids share the shape of API Gateway's request ids. */
export function newRequestId(): string {
  return `${randomBase64(10).slice(0, 13)}=`;
}

export interface ConnectionsPath {
  /** The path before `/@connections`: `/{api}`, or empty on an API's own host. */
  readonly prefix: string;
  readonly connectionId: string;
}

// `@connections` arrives literally from the SDK and as `%40connections` from awscurl.
const CONNECTIONS = /^(.*?)\/(?:@|%40)connections\/([^/]+)$/i;

/** The `{prefix}/@connections/{id}` parts of a request path (without query), or undefined. */
export function parseConnectionsPath(path: string): ConnectionsPath | undefined {
  const m = CONNECTIONS.exec(path);
  if (!m) return undefined;
  const id = decodeSegment(m[2] as string);
  if (id === undefined || id === '') return undefined;
  return { prefix: m[1] as string, connectionId: id };
}

/** A cheap pre-check on the hot path before the full parse. */
export function mayBeConnectionsPath(path: string): boolean {
  return path.includes('connections/');
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
