/**
 * Bearer-token checks for the control plane's HTTP API. Tokens are compared in constant time and
 * never logged. A missing or wrong token is 401 (RFC 6750 invalid_token); the internal token on
 * an endpoint that only the admin may call is 403.
 */
import { timingSafeEqual } from 'node:crypto';
import { GantryError } from '../../common/errors.js';
import { matchesHash, type Tokens } from './tokens.js';

export type Caller = 'admin' | 'internal';

export class TokenAuth {
  private readonly internal: Buffer;

  constructor(private readonly tokens: Tokens) {
    this.internal = Buffer.from(tokens.internalToken);
  }

  /** Who is calling, or throws 401/403. `allowInternal`: gateways may call this endpoint. */
  authenticate(authorization: string | undefined, allowInternal: boolean): Caller {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) {
      throw new GantryError('Unauthorized', 'Missing bearer token: send "Authorization: Bearer <admin token>".', { component: 'admin-api' });
    }
    const token = m[1] as string;
    if (matchesHash(token, this.tokens.adminHash)) return 'admin';
    if (this.isInternal(token)) {
      if (allowInternal) return 'internal';
      throw new GantryError('Forbidden', 'The internal token may only invoke functions.', { component: 'admin-api' });
    }
    throw new GantryError('Unauthorized', 'The bearer token is not valid.', { component: 'admin-api' });
  }

  private isInternal(token: string): boolean {
    const candidate = Buffer.from(token);
    return candidate.length === this.internal.length && timingSafeEqual(candidate, this.internal);
  }
}
