/**
 * Advertises this control-plane node to gateways (common/cluster-nodes.ts): its URL and load,
 * refreshed every interval with a time to live of three intervals, so a node that dies without
 * a word disappears from every gateway within that time. `close()` withdraws the node at once,
 * before the control plane drains, so gateways stop sending it new work.
 */
import { nodeKey, nodesSetKey, type NodeRecord } from '../../common/cluster-nodes.js';
import type { Logger } from '../../common/logger.js';
import type { Redis, RedisKeys } from '../../common/redis.js';

export interface NodeHeartbeatDeps {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  /** The node's load now (called once per beat). */
  readonly load: () => Pick<NodeRecord, 'inFlight' | 'freeMemoryMb'>;
  readonly logger: Logger;
}

export interface NodeHeartbeatOptions {
  readonly nodeId: string;
  readonly url: string;
  readonly intervalMs: number;
}

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly deps: NodeHeartbeatDeps,
    private readonly opts: NodeHeartbeatOptions,
  ) {}

  /** Advertises the node once (rejects when Redis cannot take it), then keeps it fresh. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beatQuietly(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Idempotent; best effort: an unreachable Redis lets the key expire on its own. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      const { redis, keys } = this.deps;
      await redis.multi().srem(nodesSetKey(keys), this.opts.nodeId).del(nodeKey(keys, this.opts.nodeId)).exec();
    })();
    return this.closing;
  }

  private async beat(): Promise<void> {
    const { redis, keys } = this.deps;
    const record: NodeRecord = { id: this.opts.nodeId, url: this.opts.url, ...this.deps.load() };
    await redis
      .multi()
      .set(nodeKey(keys, this.opts.nodeId), JSON.stringify(record), 'PX', this.opts.intervalMs * 3)
      .sadd(nodesSetKey(keys), this.opts.nodeId)
      .exec();
  }

  private async beatQuietly(): Promise<void> {
    if (this.closing) return;
    try {
      await this.beat();
      if (this.failing) this.deps.logger.info('node heartbeat restored');
      this.failing = false;
    } catch (e) {
      // Logged once per outage: the key expires and gateways fall back to other nodes or the seed.
      if (!this.failing) this.deps.logger.warn({ err: e as Error }, 'node heartbeat failed');
      this.failing = true;
    }
  }
}
