/**
 * One open WebSocket connection held by this gateway: its fixed context, its activity clock, its
 * rate limit, and a send that refuses to queue without bound (a client that reads too slowly is
 * closed with 1008 instead). The end is recorded once, whoever starts it.
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';
import { fitsSendQueue, TokenBucket, type ConnectionLimits } from './connection-limits.js';
import type { ConnectionContext } from './websocket-events.js';

/** After a close frame, a client that does not answer is cut off (ws's own default is 30 s). */
const CLOSE_GRACE_MS = 5_000;

export const SLOW_READER = { code: 1008, reason: 'Policy violation: the client reads too slowly' } as const;

export class Connection {
  lastActiveMs: number;
  /** Set once when the gateway closes the connection, for the `$disconnect` event. */
  closedBy: { code: number; reason: string } | undefined;
  /** True once `$disconnect` has been scheduled: it runs exactly once. */
  ended = false;
  private readonly bucket: TokenBucket;

  constructor(
    readonly socket: WebSocket,
    readonly context: ConnectionContext,
    private readonly limits: ConnectionLimits,
  ) {
    this.lastActiveMs = context.connectedAt;
    this.bucket = new TokenBucket(limits.messageRatePerSecond, limits.messageBurst, context.connectedAt);
  }

  get id(): string {
    return this.context.connectionId;
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN && this.closedBy === undefined;
  }

  touch(nowMs: number): void {
    this.lastActiveMs = nowMs;
  }

  /** Whether the client may send another message now. */
  admit(nowMs: number): boolean {
    return this.bucket.take(nowMs);
  }

  /**
   * Queues a frame; text when `data` is a string or valid UTF-8 bytes, else binary. False when it
   * was not sent: the connection is closing, or the client is too slow (it is then closed).
   */
  send(data: string | Buffer): boolean {
    if (!this.isOpen) return false;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (!fitsSendQueue(this.limits.maxQueuedBytes, this.socket.bufferedAmount, size)) {
      this.close(SLOW_READER.code, SLOW_READER.reason);
      return false;
    }
    this.socket.send(data, { binary: typeof data !== 'string' && !isUtf8(data) });
    return true;
  }

  /** ws closed the connection itself after a receive error (too big, invalid frame). */
  closedByProtocol(code: number, reason: string): void {
    if (this.closedBy !== undefined) return;
    this.closedBy = { code, reason };
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Starts the closing handshake; a client that does not complete it is cut off shortly. */
  close(code: number, reason: string): void {
    if (this.closedBy !== undefined) return;
    this.closedBy = { code, reason };
    this.socket.close(code, reason.slice(0, 123));
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
