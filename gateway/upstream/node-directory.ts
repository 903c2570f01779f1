/**
 * The gateway's view of the live control-plane nodes (common/cluster-nodes.ts), refreshed from
 * Redis in the background, never per request. When Redis knows no live node (a single node of
 * an older version, or Redis unreachable at start) the seed URL from the configuration stands in,
 * so one control plane on its own always works. A node that stops refreshing its key drops out
 * at the next refresh; the last good view is kept while Redis cannot be read.
 */
import { nodeKey, nodesSetKey, parseNodeRecord, type NodeRecord } from '../../common/cluster-nodes.js';
import type { Logger } from '../../common/logger.js';
import { coalesced } from '../../common/coalesced.js';
import type { Redis, RedisKeys } from '../../common/redis.js';
import { byLoad, homeNode } from './node-selector.js';

export interface NodeDirectoryDeps {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly logger: Logger;
}

export interface NodeDirectoryOptions {
  /** GANTRY_CONTROL_PLANE_URL: used while no node is advertised. */
  readonly seedUrl: string;
  readonly refreshIntervalMs: number;
}

/** Bound on memoised home nodes (cleared whenever the node set changes). */
const MAX_CACHED_HOMES = 10_000;

export class NodeDirectory {
  private nodes: readonly NodeRecord[];
  private readonly seed: readonly NodeRecord[];
  private readonly homes = new Map<string, NodeRecord>();
  private timer: NodeJS.Timeout | undefined;
  private readFailed = false;
  /** Refreshes never overlap: a slow Redis cannot let an older view overwrite a newer one. */
  readonly refresh = coalesced(() => this.load());

  constructor(
    private readonly deps: NodeDirectoryDeps,
    private readonly opts: NodeDirectoryOptions,
  ) {
    this.seed = [{ id: 'seed', url: opts.seedUrl, inFlight: 0, freeMemoryMb: 0 }];
    this.nodes = this.seed;
  }

  /** One refresh (errors are logged and the seed or the last view kept), then periodic ones. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Where `functionName` runs: its home node (memoised until the node set changes). */
  homeFor(functionName: string): NodeRecord {
    if (this.nodes.length === 1) return this.nodes[0] as NodeRecord;
    let home = this.homes.get(functionName);
    if (!home) {
      if (this.homes.size >= MAX_CACHED_HOMES) this.homes.clear();
      home = homeNode(this.nodes, functionName) as NodeRecord;
      this.homes.set(functionName, home);
    }
    return home;
  }

  /** The other live nodes, least loaded first (by their last report): where to go when `home` cannot take it. */
  fallbacksFor(home: NodeRecord): NodeRecord[] {
    return byLoad(this.nodes, home);
  }

  /** The live nodes as last read (the seed when none is advertised). */
  current(): readonly NodeRecord[] {
    return this.nodes;
  }

  private async load(): Promise<void> {
    try {
      const live = await this.read();
      this.replace(live.length > 0 ? live : this.seed);
      if (this.readFailed) this.deps.logger.info({ nodes: this.nodes.length }, 'control-plane nodes readable again');
      this.readFailed = false;
    } catch (e) {
      if (!this.readFailed) this.deps.logger.warn({ err: e as Error }, 'control-plane nodes unreadable; keeping the last view');
      this.readFailed = true;
    }
  }

  private async read(): Promise<NodeRecord[]> {
    const { redis, keys } = this.deps;
    const ids = (await redis.smembers(nodesSetKey(keys))).sort();
    if (ids.length === 0) return [];
    const raw = await redis.mget(...ids.map((id) => nodeKey(keys, id)));
    const live: NodeRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const record = parseNodeRecord(raw[i] ?? null);
      if (record) live.push(record);
      else gone.push(id);
    });
    // A member whose key expired died without withdrawing: tidy the set for everyone.
    if (gone.length > 0) await redis.srem(nodesSetKey(keys), ...gone);
    return live;
  }

  private replace(next: readonly NodeRecord[]): void {
    const sameSet = next.length === this.nodes.length && next.every((n, i) => n.id === this.nodes[i]?.id && n.url === this.nodes[i]?.url);
    this.nodes = next;
    // Loads change every beat, homes only when the set does.
    if (!sameSet) this.homes.clear();
  }
}
