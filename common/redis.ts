/**
 * Redis clients. Every key and channel Gantry uses goes through `RedisKeys`, so that tests (and
 * several installations sharing one Redis) are isolated by a prefix.
 */
import { Redis } from 'ioredis';

export type { Redis } from 'ioredis';

export function createRedis(url: string, opts: { commandTimeoutMs: number; lazyConnect?: boolean }): Redis {
  const redis = new Redis(url, {
    commandTimeout: opts.commandTimeoutMs,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    lazyConnect: opts.lazyConnect ?? false,
  });
  // Connection errors surface on the commands that need Redis; the client reconnects on its own.
  redis.on('error', () => undefined);
  return redis;
}

export class RedisKeys {
  constructor(private readonly prefix: string) {}

  /** Published whenever functions, APIs or routes change; payload is the new config revision. */
  get configChannel(): string {
    return `${this.prefix}config-changed`;
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }
}
