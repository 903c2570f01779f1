/**
 * Who may call `@connections` (api.md): the admin token, checked against the hash the control
 * plane stored in Postgres (re-read periodically, never per request), or the API's own
 * connections token, derived from the internal token.
 */
import type { Pool } from '../../common/db.js';
import type { Logger } from '../../common/logger.js';
import { isConnectionsToken } from '../../common/connections-token.js';
import { ADMIN_HASH_KEY, matchesHash, readSetting } from '../../common/stored-tokens.js';

export interface ConnectionsAuthDeps {
  readonly pool: Pool;
  readonly internalToken: string;
  readonly logger: Logger;
}

export class ConnectionsAuth {
  private adminHash: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: ConnectionsAuthDeps,
    private readonly refreshIntervalMs: number,
  ) {}

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
