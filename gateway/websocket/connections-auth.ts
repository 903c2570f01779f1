/**
 * Who may call `@connections` (api.md): the admin token, checked against the hash the control
 * plane stored in Postgres (re-read periodically, never per request), the API's own
 * connections token, derived from the internal token, or a SigV4 signature (service
 * `execute-api`) made with the function credentials of the API's tenant (issue 15 §4), which
 * are verified from the internal token alone.
 */
import type { Pool } from '../../common/db.js';
import type { Logger } from '../../common/logger.js';
import { isConnectionsToken } from '../../common/connections-token.js';
import { ADMIN_HASH_KEY, matchesHash, readSetting } from '../../common/stored-tokens.js';
import { FunctionCredentialIssuer } from '../../common/sigv4/function-credentials.js';
import { SigV4Failure, SigV4Verifier, type SignedRequest } from '../../common/sigv4/sigv4-verifier.js';

export interface ConnectionsAuthDeps {
  readonly pool: Pool;
  readonly internalToken: string;
  /** GANTRY_REGION: the region SigV4 scopes must name. */
  readonly region: string;
  readonly logger: Logger;
}

/** Whether the caller signs with SigV4 (then `verifySigned` decides, once the body is read). */
export function isSigV4(authorization: string | undefined): boolean {
  return authorization !== undefined && /^\s*AWS4-HMAC-SHA256\s/.test(authorization);
}

export class ConnectionsAuth {
  private adminHash: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sigv4: SigV4Verifier;

  constructor(
    private readonly deps: ConnectionsAuthDeps,
    private readonly refreshIntervalMs: number,
  ) {
    this.sigv4 = new SigV4Verifier([new FunctionCredentialIssuer(deps.internalToken)], { region: deps.region });
  }

  /** Undefined when `req` is signed by credentials of `tenant`, else why it is refused. */
  async verifySigned(req: SignedRequest, tenant: string): Promise<SigV4Failure | undefined> {
    try {
      const who = await this.sigv4.verify(req, 'execute-api');
      // Another tenant's function reaches none of this tenant's connections.
      return who.tenant === tenant ? undefined : new SigV4Failure('InvalidSignatureException', 'The credentials are not valid for this API.');
    } catch (e) {
      if (e instanceof SigV4Failure) return e;
      throw e;
    }
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** True when the `Authorization` header carries the admin token or `apiId`'s connections token. */
  allows(authorization: string | undefined, apiId: string): boolean {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return false;
    const token = m[1] as string;
    if (isConnectionsToken(token, this.deps.internalToken, apiId)) return true;
    return this.adminHash !== undefined && matchesHash(token, this.adminHash);
  }

  private async refresh(): Promise<void> {
    try {
      const value = await readSetting(this.deps.pool, ADMIN_HASH_KEY);
      if (value !== undefined) this.adminHash = Buffer.from(value, 'hex');
    } catch (e) {
      this.deps.logger.warn({ err: e as Error }, 'admin token hash not refreshed');
    }
  }
}
