/**
 * Live function output for `GET /v1/functions/{name}/logs?follow=true`. Every node publishes the
 * lines it has just stored on one Redis channel and every node listens on it, so a follower sees
 * lines wherever the function ran, as soon as they are stored (the store flushes every 200 ms),
 * with nothing polled. The number of followers per process is bounded; a follower that does not
 * read fast enough is dropped rather than buffered without limit.
 */
import type { Logger } from '../../common/logger.js';
import type { Redis, RedisKeys } from '../../common/redis.js';
import type { LogLine } from './environment-log.js';

export interface FedLine extends LogLine {
  readonly tenantId: string;
  readonly functionName: string;
}

/** What a follower receives: the stored line, without whose it is (the follower knows). */
export type LineHandler = (line: LogLine) => void;

export interface Following {
  /** Stops delivering; idempotent. */
  stop(): void;
}

export interface LogFeedOptions {
  readonly maxFollowers: number;
}

/** Published lines are split into messages of about this many bytes, so one busy batch never
 *  makes one huge Redis message. */
const MESSAGE_BYTES = 256 * 1024;

type WireLine = [tenantId: string, functionName: string, invocationId: string | null, timeMs: number, stream: 'stdout' | 'stderr', message: string, executedVersion: string];

export class FollowersFull extends Error {
  override readonly name = 'FollowersFull';
}

export class LogFeed {
  private readonly followers = new Map<string, Set<{ onLine: LineHandler; onEnd: () => void }>>();
  private count = 0;
  private closed = false;
  private readonly channel: string;

  constructor(
    private readonly deps: { redis: Redis; subscriber: Redis; keys: RedisKeys; logger: Logger },
    private readonly opts: LogFeedOptions,
  ) {
    this.channel = deps.keys.key('function-logs');
  }

  async start(): Promise<void> {
    this.deps.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.deliver(message);
    });
    await this.deps.subscriber.connect();
    await this.deps.subscriber.subscribe(this.channel);
  }

  /** Called by the store once a batch is in Postgres; never throws, never waits. */
  publish(lines: readonly FedLine[]): void {
    let chunk: WireLine[] = [];
    let bytes = 0;
    const send = () => {
      if (chunk.length === 0) return;
      const payload = JSON.stringify(chunk);
      chunk = [];
      bytes = 0;
      this.deps.redis.publish(this.channel, payload).catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, 'function log lines not published'));
    };
    for (const l of lines) {
      chunk.push([l.tenantId, l.functionName, l.invocationId, l.time.getTime(), l.stream, l.message, l.executedVersion ?? '$LATEST']);
      bytes += l.message.length + l.functionName.length + 64;
      if (bytes >= MESSAGE_BYTES) send();
    }
    send();
  }

  /** Throws FollowersFull when this process already serves its maximum. `onEnd` runs when the
   *  feed closes (shutdown), never after `stop()`. */
  follow(tenantId: string, functionName: string, onLine: LineHandler, onEnd: () => void): Following {
    if (this.closed || this.count >= this.opts.maxFollowers) throw new FollowersFull(`at most ${this.opts.maxFollowers} log followers per node`);
    const key = `${tenantId}\n${functionName}`;
    const entry = { onLine, onEnd };
    let set = this.followers.get(key);
    if (set === undefined) this.followers.set(key, (set = new Set()));
    set.add(entry);
    this.count += 1;
    let stopped = false;
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        const s = this.followers.get(key);
        if (s?.delete(entry) === true) {
          this.count -= 1;
          if (s.size === 0) this.followers.delete(key);
        }
      },
    };
  }

  get followerCount(): number {
    return this.count;
  }

  /** Ends every follower (their streams close cleanly) and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.followers.values()].flatMap((s) => [...s]);
    this.followers.clear();
    this.count = 0;
    for (const f of all) f.onEnd();
    await this.deps.subscriber.quit().catch(() => undefined);
  }

  private deliver(message: string): void {
    if (this.count === 0) return;
    let lines: WireLine[];
    try {
      lines = JSON.parse(message) as WireLine[];
    } catch {
      return;
    }
    if (!Array.isArray(lines)) return;
    for (const w of lines) {
      if (!Array.isArray(w) || w.length !== 7) continue;
      const set = this.followers.get(`${w[0]}\n${w[1]}`);
      if (set === undefined) continue;
      const line: LogLine = { invocationId: w[2], time: new Date(w[3]), stream: w[4], message: w[5], executedVersion: w[6] };
      for (const f of set) f.onLine(line);
    }
  }
}
