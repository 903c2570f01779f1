/**
 * Bounds on the platform side of each environment's Runtime API socket, so that a hostile
 * function exhausts only itself (issue 21 §2). A runtime needs one connection (the nodejs20 and
 * python3.11 clients keep one keep-alive connection; the provided relay opens one per bootstrap
 * connection, and curl-style bootstraps use one at a time), a couple of requests per invocation,
 * and at most one 6 MiB body per invocation. Everything is counters and lazily refilled buckets:
 * no timer unless a function is already over its byte rate.
 */
import type { Socket } from 'node:net';
import { FDS_PER_ENVIRONMENT, type FdBudget, unlimitedFdBudget } from './fd-budget.js';
import { RateBucket, monotonicMs } from './rate-bucket.js';

export interface RuntimeApiLimits {
  /** Open connections per environment socket; more are dropped on accept, unread. */
  readonly maxConnections: number;
  /** New connections per second per environment (burst: one second's worth). */
  readonly connectionsPerSecond: number;
  /**
   * Requests per second per environment that move no invocation forward (a superseding poll, a
   * post for a wrong or answered id, pings, unknown paths); burst: two seconds' worth. The poll
   * that picks up work and the one post that answers it are never counted.
   */
  readonly requestsPerSecond: number;
  /** Request body bytes per second per environment; past it, reading pauses (backpressure). */
  readonly bytesPerSecond: number;
  /** Body bytes an environment may send at once before its rate applies. */
  readonly byteBurst: number;
  /** Largest request head (request line and headers) the socket parses. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_RUNTIME_API_LIMITS: RuntimeApiLimits = {
  maxConnections: 4,
  connectionsPerSecond: 200,
  requestsPerSecond: 100,
  bytesPerSecond: 64 * 1024 * 1024,
  // Two maximal (6 MiB) responses back to back never wait.
  byteBurst: 16 * 1024 * 1024,
  maxHeaderBytes: 8 * 1024,
};

export interface RuntimeApiRefusals {
  /** Connections dropped because the environment already had maxConnections open. */
  connectionCap: number;
  /** Connections dropped because the node's fd budget had no room. */
  fdBudget: number;
  /** Connections dropped for opening faster than connectionsPerSecond. */
  connectionRate: number;
  /** Requests answered 429 for coming faster than requestsPerSecond. */
  requestRate: number;
  /** Times a body's reading was paused for its environment's byte rate. */
  bytePauses: number;
}

/** The node-wide part: limits, the fd budget, and what was refused (for /metrics). */
export class RuntimeApiBounds {
  readonly refusals: RuntimeApiRefusals = { connectionCap: 0, fdBudget: 0, connectionRate: 0, requestRate: 0, bytePauses: 0 };
  private open = 0;

  constructor(
    readonly limits: RuntimeApiLimits = DEFAULT_RUNTIME_API_LIMITS,
    readonly budget: FdBudget = unlimitedFdBudget(),
    private readonly nowMs: () => number = monotonicMs,
  ) {}

  /** Runtime API connections open on this node now. */
  openConnections(): number {
    return this.open;
  }

  forEnvironment(): EnvironmentBounds {
    return new EnvironmentBounds(this, this.nowMs);
  }

  /** @internal */ opened(): void {
    this.open++;
  }

  /** @internal */ closed(): void {
    this.open--;
  }
}

/** One environment's share: its buckets and its connections. */
export class EnvironmentBounds {
  private readonly connectionRate: RateBucket;
  private readonly requestRate: RateBucket;
  private readonly byteRate: RateBucket;
  /** Whether the environment's own (always granted) connection slot is taken. */
  private ownSlotTaken = false;
  private reserved = false;

  constructor(
    private readonly node: RuntimeApiBounds,
    nowMs: () => number,
  ) {
    const l = node.limits;
    this.connectionRate = new RateBucket(l.connectionsPerSecond, l.connectionsPerSecond, nowMs);
    this.requestRate = new RateBucket(l.requestsPerSecond, 2 * l.requestsPerSecond, nowMs);
    this.byteRate = new RateBucket(l.bytesPerSecond, l.byteBurst, nowMs);
  }

  get limits(): RuntimeApiLimits {
    return this.node.limits;
  }

  /** The environment's listener is up: its own fds (and first connection) are counted. */
  reserve(): void {
    if (this.reserved) return;
    this.reserved = true;
    this.node.budget.reserve(FDS_PER_ENVIRONMENT + 1);
  }

  unreserve(): void {
    if (!this.reserved) return;
    this.reserved = false;
    this.node.budget.release(FDS_PER_ENVIRONMENT + 1);
  }

  /** The socket's server dropped a connection past maxConnections. */
  droppedAtCap(): void {
    this.node.refusals.connectionCap++;
  }

  /**
   * A new connection (the server already keeps it under maxConnections): true when it may stay,
   * false when the caller must destroy it now. Its release is wired to its close.
   */
  admit(socket: Socket): boolean {
    if (!this.connectionRate.tryTake()) {
      this.node.refusals.connectionRate++;
      return false;
    }
    let extra = false;
    if (this.ownSlotTaken) {
      if (!this.node.budget.tryAcquire()) {
        this.node.refusals.fdBudget++;
        return false;
      }
      extra = true;
    } else {
      this.ownSlotTaken = true;
    }
    this.node.opened();
    socket.once('close', () => {
      this.node.closed();
      if (extra) this.node.budget.release(1);
      else this.ownSlotTaken = false;
    });
    return true;
  }

  /** A request that moves no invocation forward: true when within its rate. */
  admitIdleRequest(): boolean {
    if (this.requestRate.tryTake()) return true;
    this.node.refusals.requestRate++;
    return false;
  }

  /** Counts `n` body bytes; returns how long reading should pause (0: go on). */
  chargeBytes(n: number): number {
    const waitMs = this.byteRate.charge(n);
    if (waitMs > 0) this.node.refusals.bytePauses++;
    return waitMs;
  }
}
