/**
 * Delivery of `@connections` calls to the gateway that holds the connection: request and reply
 * over Redis pub/sub, one inbox channel per gateway. A PUBLISH that reaches no subscriber means
 * the owner is gone, which is a 410 at once rather than a timeout.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { Redis, RedisKeys } from '../../common/redis.js';

export type ConnectionOp = 'post' | 'get' | 'delete';

export interface OpResult {
  /** 200, 204 or 410 (or 413 when the owner refuses the size). */
  readonly status: number;
  readonly body?: Readonly<Record<string, unknown>>;
}

export interface ConnectionOpRequest {
  readonly op: ConnectionOp;
  readonly connectionId: string;
  readonly apiId: string;
  readonly data?: Buffer;
}

/** What the owning gateway does with a request (the local connection table). */
export type OpHandler = (req: ConnectionOpRequest) => Promise<OpResult>;

export interface ConnectionRelayDeps {
  /** A client of its own, in subscriber mode. */
  readonly subscriber: Redis;
  readonly publisher: Redis;
  readonly keys: RedisKeys;
  readonly handle: OpHandler;
  readonly logger: Logger;
}

export interface ConnectionRelayOptions {
  readonly gatewayId: string;
  readonly timeoutMs: number;
}

type Wire =
  | { readonly t: 'req'; readonly rid: string; readonly from: string; readonly op: ConnectionOp; readonly id: string; readonly api: string; readonly data?: string }
  | { readonly t: 'res'; readonly rid: string; readonly status: number; readonly body?: Record<string, unknown> };

export class RelayTimeout extends Error {
  override readonly name = 'RelayTimeout';
}

export class ConnectionRelay {
  private readonly pending = new Map<string, { resolve: (r: OpResult) => void; timer: NodeJS.Timeout }>();
  private readonly inbox: string;
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === this.inbox) this.receive(message);
  };

  constructor(
    private readonly deps: ConnectionRelayDeps,
    private readonly opts: ConnectionRelayOptions,
  ) {
    this.inbox = inboxOf(deps.keys, opts.gatewayId);
  }

  async start(): Promise<void> {
    this.deps.subscriber.on('message', this.onMessage);
    await this.deps.subscriber.subscribe(this.inbox);
  }

  async stop(): Promise<void> {
    this.deps.subscriber.off('message', this.onMessage);
    await this.deps.subscriber.unsubscribe(this.inbox).catch(() => undefined);
    for (const [rid, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ status: 410 });
      this.pending.delete(rid);
    }
  }

  /** Sends `req` to `gatewayId`; rejects with RelayTimeout when it does not answer in time. */
  send(gatewayId: string, req: ConnectionOpRequest): Promise<OpResult> {
    const rid = randomBytes(9).toString('base64url');
    const wire: Wire = {
      t: 'req',
      rid,
      from: this.opts.gatewayId,
      op: req.op,
      id: req.connectionId,
      api: req.apiId,
      ...(req.data ? { data: req.data.toString('base64') } : {}),
    };
    return new Promise<OpResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new RelayTimeout(`gateway ${gatewayId} did not answer within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      this.pending.set(rid, { resolve, timer });
      this.deps.publisher.publish(inboxOf(this.deps.keys, gatewayId), JSON.stringify(wire)).then(
        (receivers) => {
          // Nobody listens on that inbox: the owner is gone, so is the connection.
          if (receivers === 0) this.settle(rid, { status: 410 });
        },
        (e: unknown) => {
          const p = this.pending.get(rid);
          if (!p) return;
          clearTimeout(p.timer);
          this.pending.delete(rid);
          reject(e as Error);
        },
      );
    });
  }

  private receive(message: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(message) as Wire;
    } catch {
      return;
    }
    if (wire.t === 'res') {
      this.settle(wire.rid, { status: wire.status, ...(wire.body ? { body: wire.body } : {}) });
      return;
    }
    const req: ConnectionOpRequest = { op: wire.op, connectionId: wire.id, apiId: wire.api, ...(wire.data !== undefined ? { data: Buffer.from(wire.data, 'base64') } : {}) };
    void this.deps
      .handle(req)
      .catch((e: unknown) => {
        this.deps.logger.warn({ err: e as Error }, 'relayed @connections call failed');
        return { status: 500 } as OpResult;
      })
      .then((r) => {
        const reply: Wire = { t: 'res', rid: wire.rid, status: r.status, ...(r.body ? { body: { ...r.body } } : {}) };
        return this.deps.publisher.publish(inboxOf(this.deps.keys, wire.from), JSON.stringify(reply));
      })
      .catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, '@connections reply not delivered'));
  }

  private settle(rid: string, r: OpResult): void {
    const p = this.pending.get(rid);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(rid);
    p.resolve(r);
  }
}

function inboxOf(keys: RedisKeys, gatewayId: string): string {
  return keys.key('ws', 'gw', gatewayId, 'inbox');
}
