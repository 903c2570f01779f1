/**
 * Function credentials (issue 15 §4): what every function environment gets as
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. They are stateless, so a
 * gateway verifies them as a control plane does, without Postgres: the session token carries
 * `{tenant, function, expiry}` and a MAC under a key derived from the internal token (which both
 * processes hold); the access key id (`ASIA…`, AWS's prefix for temporary keys) and the secret
 * are derived from the token. A new internal token invalidates every issued credential.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CredentialLookup, CredentialSource } from './sigv4-verifier.js';

export interface FunctionCredentialClaims {
  readonly tenant: string;
  readonly functionName: string;
  /** Milliseconds since the epoch; refused from then on. */
  readonly expiresAtMs: number;
}

export interface FunctionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

const TOKEN_PREFIX = 'GFC1.';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function functionPrincipal(functionName: string): string {
  return `function:${functionName}`;
}

export class FunctionCredentialIssuer implements CredentialSource {
  private readonly key: Buffer;

  constructor(internalToken: string) {
    // Its own key: a MAC made for one purpose is never valid for another (connections tokens).
    this.key = createHmac('sha256', internalToken).update('gantry function credentials v1').digest();
  }

  issue(claims: FunctionCredentialClaims): FunctionCredentials {
    const payload = Buffer.from(JSON.stringify({ t: claims.tenant, f: claims.functionName, e: Math.floor(claims.expiresAtMs) })).toString('base64url');
    const sessionToken = `${TOKEN_PREFIX}${payload}.${this.mac('token', payload).toString('base64url')}`;
    return { accessKeyId: this.accessKeyIdFor(sessionToken), secretAccessKey: this.secretFor(sessionToken), sessionToken };
  }

  /** The claims of a token this issuer made, or undefined. */
  claims(sessionToken: string): FunctionCredentialClaims | undefined {
    if (!sessionToken.startsWith(TOKEN_PREFIX)) return undefined;
    const [payload, mac, extra] = sessionToken.slice(TOKEN_PREFIX.length).split('.');
    if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac('token', payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { t?: unknown; f?: unknown; e?: unknown };
      if (typeof c.t !== 'string' || typeof c.f !== 'string' || typeof c.e !== 'number') return undefined;
      return { tenant: c.t, functionName: c.f, expiresAtMs: c.e };
    } catch {
      return undefined;
    }
  }

  lookup(accessKeyId: string, sessionToken: string | undefined, nowMs: number): CredentialLookup | undefined {
    if (!accessKeyId.startsWith('ASIA')) return undefined;
    const claims = sessionToken === undefined ? undefined : this.claims(sessionToken);
    if (claims === undefined || sessionToken === undefined) return { kind: 'unknown' };
    const expectedId = Buffer.from(this.accessKeyIdFor(sessionToken));
    const givenId = Buffer.from(accessKeyId);
    if (expectedId.length !== givenId.length || !timingSafeEqual(expectedId, givenId)) return { kind: 'unknown' };
    if (nowMs >= claims.expiresAtMs) return { kind: 'expired' };
    return { kind: 'found', secretAccessKey: this.secretFor(sessionToken), tenant: claims.tenant, principal: functionPrincipal(claims.functionName) };
  }

  private accessKeyIdFor(sessionToken: string): string {
    const bytes = this.mac('id', sessionToken);
    let id = 'ASIA';
    for (let i = 0; i < 16; i++) id += BASE32[(bytes[i] as number) & 31];
    return id;
  }

  private secretFor(sessionToken: string): string {
    return this.mac('secret', sessionToken).toString('base64').slice(0, 40);
  }

  private mac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.key).update(`${purpose}\u0000${data}`).digest();
  }
}
