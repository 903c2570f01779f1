/**
 * Which gateway holds which connection, in Redis, so a `@connections` call reaching any gateway
 * finds the one holding the socket.
 *
 * Layout (under the installation's prefix):
 * - `ws:conn:{id}` = `"{gw} {api}"`: the owner of a connection (one SET with its TTL);
 * - `ws:gw:{gw}:conns` hash `{id → ConnectionRecord JSON}`: a gateway's connections, with what a
 *   `$disconnect` event needs, so another gateway can run them if this one dies;
 * - `ws:gw:{gw}:alive`: the gateway's heartbeat, with a short TTL;
 * - `ws:gateways`: the set of gateway ids that have registered anything.
 *
 * A connection counts as alive only while its owner's heartbeat key exists (checked atomically
 * in the lookup), so a dead gateway's connections stop claiming to be alive one TTL after its
 * last heartbeat, whatever happens to its entries. The heartbeat is one write per gateway, not
 * one per connection. Entries also expire on their own after the maximum connection duration.
 */
import type { Redis } from '../../common/redis.js';
import type { RedisKeys } from '../../common/redis.js';

export interface ConnectionRecord {
  readonly apiId: string;
  readonly apiName: string;
  readonly connectedAt: number;
  readonly domainName: string;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
}

export interface ConnectionOwner {
  readonly gatewayId: string;
  readonly apiId: string;
}

export interface ConnectionRegistry {
  register(connectionId: string, record: ConnectionRecord): Promise<void>;
  deregister(connectionId: string): Promise<void>;
  /** The live owner of a connection; undefined when unknown or its gateway is dead. */
  lookup(connectionId: string): Promise<ConnectionOwner | undefined>;
  /** Writes this gateway's heartbeat; false when it had expired (others may have reaped us). */
  heartbeat(): Promise<boolean>;
  /** Registers again connections still held (after a heartbeat found this gateway reaped). */
  registerAll(entries: readonly [string, ConnectionRecord][]): Promise<void>;
  /** Gateways whose heartbeat has expired and that nobody is cleaning up yet; claims them. */
  claimDeadGateways(): Promise<string[]>;
  /** A claimed dead gateway's connections, for their `$disconnect`s. */
  connectionsOf(gatewayId: string): Promise<Map<string, ConnectionRecord>>;
  /** Removes every trace of a gateway: at its own shutdown, or once its `$disconnect`s ran (then
   *  only while it is still dead, so a gateway that came back keeps what it re-registered). */
  forgetGateway(gatewayId: string, onlyIfDead: boolean): Promise<void>;
}

export interface RedisConnectionRegistryOptions {
  readonly gatewayId: string;
  readonly ttlMs: number;
  /** How long entries live without their gateway's cleanup: the longest a connection may last. */
  readonly entryTtlMs: number;
}

/** A dead gateway is cleaned up by one live gateway; the claim lapses if that one dies too. */
const CLAIM_MS = 60_000;

// KEYS[1] = ws:conn:{id}; ARGV[1] = prefix. Returns {gw, api} only while gw's heartbeat lives.
const LOOKUP = `
local v = redis.call('GET', KEYS[1])
if not v then return nil end
local sp = string.find(v, ' ', 1, true)
if not sp then return nil end
local gw = string.sub(v, 1, sp - 1)
if redis.call('EXISTS', ARGV[1] .. 'ws:gw:' .. gw .. ':alive') == 0 then return nil end
return {gw, string.sub(v, sp + 1)}`;

// KEYS: conns hash, alive, claim, gateways set. ARGV: conn key prefix, gateway id, "1" = only if dead.
const FORGET = `
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  local k = ARGV[1] .. id
  local v = redis.call('GET', k)
  if v and string.sub(v, 1, #ARGV[2] + 1) == ARGV[2] .. ' ' then redis.call('DEL', k) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[2])
return 1`;

interface Pending {
  readonly connectionId: string;
  /** Undefined: a deregistration. */
  readonly record: ConnectionRecord | undefined;
  readonly settle: (e?: unknown) => void;
}

export class RedisConnectionRegistry implements ConnectionRegistry {
  /** Registrations and deregistrations of one event-loop turn, written in one transaction. */
  private pending: Pending[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly opts: RedisConnectionRegistryOptions,
  ) {}

  register(connectionId: string, record: ConnectionRecord): Promise<void> {
    return this.enqueue(connectionId, record);
  }

  async registerAll(entries: readonly [string, ConnectionRecord][]): Promise<void> {
    await Promise.all(entries.map(([connectionId, record]) => this.enqueue(connectionId, record)));
  }

  deregister(connectionId: string): Promise<void> {
    return this.enqueue(connectionId, undefined);
  }

  private enqueue(connectionId: string, record: ConnectionRecord | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ connectionId, record, settle: (e) => (e === undefined ? resolve() : reject(e as Error)) });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const tx = this.redis.multi();
    const conns = this.connsKey(this.opts.gatewayId);
    for (const { connectionId, record } of batch) {
      const conn = this.connKey(connectionId);
      if (record) {
        tx.set(conn, `${this.opts.gatewayId} ${record.apiId}`, 'PX', this.opts.entryTtlMs).hset(conns, connectionId, JSON.stringify(record));
      } else {
        tx.del(conn).hdel(conns, connectionId);
      }
    }
    tx.exec()
      .then(failOnError)
      .then(
        () => batch.forEach((p) => p.settle()),
        (e: unknown) => batch.forEach((p) => p.settle(e ?? new Error('redis transaction failed'))),
      );
  }

  async lookup(connectionId: string): Promise<ConnectionOwner | undefined> {
    const r = (await this.redis.eval(LOOKUP, 1, this.connKey(connectionId), this.keys.key('')) as [string, string] | null);
    return r === null ? undefined : { gatewayId: r[0], apiId: r[1] };
  }

  async heartbeat(): Promise<boolean> {
    const gw = this.opts.gatewayId;
    const results = await this.redis
      .multi()
      .call('SET', this.aliveKey(gw), String(Date.now()), 'PX', String(this.opts.ttlMs), 'GET')
      .sadd(this.gatewaysKey(), gw)
      .pexpire(this.connsKey(gw), this.opts.entryTtlMs)
      .exec();
    failOnError(results);
    return (results as [Error | null, unknown][])[0]?.[1] !== null;
  }

  async claimDeadGateways(): Promise<string[]> {
    const all = await this.redis.smembers(this.gatewaysKey());
    const dead: string[] = [];
    for (const gw of all) {
      if (gw === this.opts.gatewayId) continue;
      if ((await this.redis.exists(this.aliveKey(gw))) === 1) continue;
      const claimed = await this.redis.set(this.keys.key('ws', 'gw', gw, 'claim'), this.opts.gatewayId, 'PX', CLAIM_MS, 'NX');
      if (claimed === 'OK') dead.push(gw);
    }
    return dead;
  }

  async connectionsOf(gatewayId: string): Promise<Map<string, ConnectionRecord>> {
    const raw = await this.redis.hgetall(this.connsKey(gatewayId));
    const out = new Map<string, ConnectionRecord>();
    for (const [id, json] of Object.entries(raw)) {
      const record = parseRecord(json);
      if (record) out.set(id, record);
    }
    return out;
  }

  async forgetGateway(gatewayId: string, onlyIfDead: boolean): Promise<void> {
    await this.redis.eval(
      FORGET,
      4,
      this.connsKey(gatewayId),
      this.aliveKey(gatewayId),
      this.keys.key('ws', 'gw', gatewayId, 'claim'),
      this.gatewaysKey(),
      this.keys.key('ws', 'conn', ''),
      gatewayId,
      onlyIfDead ? '1' : '0',
    );
  }

  private connKey(id: string): string {
    return this.keys.key('ws', 'conn', id);
  }

  private connsKey(gw: string): string {
    return this.keys.key('ws', 'gw', gw, 'conns');
  }

  private aliveKey(gw: string): string {
    return this.keys.key('ws', 'gw', gw, 'alive');
  }

  private gatewaysKey(): string {
    return this.keys.key('ws', 'gateways');
  }
}

function failOnError(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('redis transaction aborted');
  for (const [err] of results) if (err) throw err;
}

function parseRecord(json: string): ConnectionRecord | undefined {
  try {
    const r = JSON.parse(json) as Partial<ConnectionRecord>;
    if (typeof r.apiId !== 'string' || typeof r.apiName !== 'string' || typeof r.connectedAt !== 'number' || typeof r.domainName !== 'string' || typeof r.sourceIp !== 'string') return undefined;
    return { apiId: r.apiId, apiName: r.apiName, connectedAt: r.connectedAt, domainName: r.domainName, sourceIp: r.sourceIp, userAgent: typeof r.userAgent === 'string' ? r.userAgent : undefined };
  } catch {
    return undefined;
  }
}
