/**
 * Keeps the gateway's compiled route table current: reloads on every Redis change notification,
 * after a Redis reconnect, and whenever the periodic revision check finds the stored revision
 * moved (a missed message). Reloads are coalesced; the live table is swapped in one assignment
 * and never patched, so a request always sees one whole table.
 */
import { coalesced } from '../../common/coalesced.js';
import type { Pool } from '../../common/db.js';
import type { Logger } from '../../common/logger.js';
import type { Redis } from '../../common/redis.js';
import type { ApiKeyDefinition } from './route-snapshot.js';
import { compileRouteTable, type RouteTable } from './route-table.js';
import { loadSnapshot, readRevision } from './snapshot-loader.js';

export interface LiveRoutes {
  readonly table: RouteTable;
  readonly functionTimeoutsMs: ReadonlyMap<string, number>;
  readonly apiKeys: ReadonlyMap<string, ApiKeyDefinition>;
}

export interface RouteSyncDeps {
  readonly pool: Pool;
  readonly subscriber: Redis;
  readonly channel: string;
  readonly logger: Logger;
}

export class RouteSync {
  private live: LiveRoutes | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RouteSyncDeps,
    private readonly resyncIntervalMs: number,
  ) {}

  current(): LiveRoutes {
    if (!this.live) throw new Error('route table not loaded yet');
    return this.live;
  }

  get isLoaded(): boolean {
    return this.live !== undefined;
  }

  async start(): Promise<void> {
    this.deps.subscriber.on('message', (channel: string) => {
      if (channel === this.deps.channel) void this.reload();
    });
    this.deps.subscriber.on('ready', () => void this.reload());
    await this.deps.subscriber.subscribe(this.deps.channel);
    await this.reload();
    this.timer = setInterval(() => void this.checkRevision(), this.resyncIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Coalesces: a change arriving during a reload triggers exactly one more. */
  readonly reload = coalesced(() => this.loadOnce());

  private async loadOnce(): Promise<void> {
    try {
      const loaded = await loadSnapshot(this.deps.pool);
      const table = compileRouteTable(loaded.snapshot);
      if (table.problems.length > 0) this.deps.logger.warn({ problems: table.problems }, 'routes left out of the table');
      this.live = { table, functionTimeoutsMs: loaded.functionTimeoutsMs, apiKeys: loaded.apiKeys };
      this.deps.logger.debug({ revision: table.revision }, 'route table replaced');
    } catch (e) {
      // Keep serving the last good table; the periodic check retries.
      this.deps.logger.warn({ err: e as Error }, 'route table reload failed');
      if (!this.live) throw e;
    }
  }

  private async checkRevision(): Promise<void> {
    try {
      const revision = await readRevision(this.deps.pool);
      if (revision !== this.live?.table.revision) await this.reload();
    } catch (e) {
      this.deps.logger.warn({ err: e as Error }, 'route revision check failed');
    }
  }
}
