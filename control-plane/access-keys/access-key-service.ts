/**
 * Creating, listing and revoking access keys: the store, this node's cache, and the message
 * that tells every other node. A revocation is in this node's cache before the call returns and
 * in every other node's as soon as the message arrives.
 */
import type { Logger } from '../../common/logger.js';
import type { Redis, RedisKeys } from '../../common/redis.js';
import type { TenantId } from '../functions/function-types.js';
import type { AccessKeyCache } from './access-key-cache.js';
import type { AccessKeyRecord, AccessKeySecret, AccessKeyStore } from './access-key-store.js';

export type AccessKeyMessage = { readonly revoked: string } | { readonly added: string };

export function accessKeysChannel(keys: RedisKeys): string {
  return keys.key('access-keys-changed');
}

export class AccessKeyService {
  constructor(
    private readonly deps: { store: AccessKeyStore; cache: AccessKeyCache; redis: Redis; keys: RedisKeys; logger: Logger },
  ) {}

  async create(tenant: TenantId, description: string): Promise<AccessKeySecret> {
    const key = await this.deps.store.create(tenant, description);
    this.deps.cache.add(key);
    await this.announce({ added: key.accessKeyId });
    return key;
  }

  list(): Promise<AccessKeyRecord[]> {
    return this.deps.store.list();
  }

  async revoke(accessKeyId: string): Promise<void> {
    // Refused here first: a concurrent request on this node must not pass while the row goes.
    this.deps.cache.revoke(accessKeyId);
    await this.deps.store.delete(accessKeyId);
    await this.announce({ revoked: accessKeyId });
  }

  /** After a reconnect: messages may have been missed. */
  reload(): Promise<void> {
    return this.deps.cache.reload();
  }

  /** What another node's message means for this node's cache. */
  onMessage(text: string): void {
    let m: Partial<{ revoked: unknown; added: unknown }>;
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    if (typeof m.revoked === 'string') this.deps.cache.revoke(m.revoked);
    else void this.deps.cache.reload();
  }

  private async announce(m: AccessKeyMessage): Promise<void> {
    try {
      await this.deps.redis.publish(accessKeysChannel(this.deps.keys), JSON.stringify(m));
    } catch (e) {
      // Other nodes reload on their next reconnect; this node is already right.
      this.deps.logger.warn({ err: e as Error }, 'access key change not announced');
    }
  }
}
