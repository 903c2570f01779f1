/**
 * Connection ids and the `@connections` path (compat.md §6.4). Ids look like API Gateway's
 * (`Zk3pLq8vIAMCKlQ=`): base64 of 11 random bytes, so they may hold `+`, `/` and `=`, which
 * clients percent-encode in paths. Pure apart from the random source.
 */
import { decodeComponent } from '../../common/safe-decode.js';
import { randomBase64 } from '../random-ids.js';

export { newRequestId } from '../random-ids.js';

export function newConnectionId(): string {
  return randomBase64(11);
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
  const m = matchConnectionsPath(path);
  return m === undefined || m.connectionId === undefined ? undefined : { prefix: m.prefix, connectionId: m.connectionId };
}

/**
 * Like parseConnectionsPath, but tells a path that is no `@connections` path (undefined) from one
 * whose id does not decode (`connectionId` undefined), which deserves a 400 of its own.
 */
export function matchConnectionsPath(path: string): { readonly prefix: string; readonly connectionId: string | undefined } | undefined {
  const m = CONNECTIONS.exec(path);
  if (!m) return undefined;
  const id = decodeComponent(m[2] as string);
  return { prefix: m[1] as string, connectionId: id === '' ? undefined : id };
}

/** A cheap pre-check on the hot path before the full parse. */
export function mayBeConnectionsPath(path: string): boolean {
  return path.includes('connections/');
}
