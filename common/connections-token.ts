/**
 * The `@connections` token of a websocket API (api.md): what functions behind the API get as
 * GANTRY_CONNECTIONS_TOKEN. Derived from the internal token and the API's id, so the control
 * plane (which hands it out) and every gateway (which checks it) agree without storing it; a new
 * internal token rotates every connections token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function connectionsToken(internalToken: string, apiId: string): string {
  return `gct_${createHmac('sha256', internalToken).update(`connections:${apiId}`).digest('base64url')}`;
}

export function isConnectionsToken(candidate: string, internalToken: string, apiId: string): boolean {
  const expected = Buffer.from(connectionsToken(internalToken, apiId));
  const given = Buffer.from(candidate);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
