/**
 * Admission of one request against the shared counters in Redis: a usage plan's token bucket for
 * the client's key, the route's own bucket, the key's quota for the current period, and the
 * key's requests-per-day counter (api.md, Usage plans and keys; compat.md §7).
 *
 * Promises: exact across any number of gateways. One Lua script checks every limit and, only when
 * all of them pass, takes the tokens and counts the request, in a single atomic step; so a quota
 * of N admits exactly N, a throttled or over-quota request consumes nothing, and buckets refill
 * on Redis's clock (`TIME`), not on each gateway's. One round trip per checked request; requests
 * with nothing to check never reach Redis.
 */
import type { Redis } from '../../common/redis.js';

export interface BucketLimit {
  /** Redis key of the bucket. */
  readonly name: string;
  /** Tokens added per second. */
  readonly rateLimit: number;
  /** Bucket size: the most requests admitted at once. */
  readonly burstLimit: number;
}

export interface AdmissionRequest {
  readonly keyBucket?: BucketLimit;
  readonly routeBucket?: BucketLimit;
  readonly quota?: { readonly name: string; readonly limit: number; readonly ttlMs: number };
  readonly usageDay?: { readonly name: string; readonly ttlMs: number };
}

/** `throttled` is either bucket (429 Too Many Requests); `quota-exceeded` is 429 Limit Exceeded. */
export type Admission = 'admitted' | 'throttled' | 'quota-exceeded';

export interface UsageLimiter {
  /** Rejects when Redis cannot answer; the caller fails the request closed. */
  admit(request: AdmissionRequest): Promise<Admission>;
}

// Buckets are hashes {tokens, ts (µs)}. A bucket that never refills (rate 0) keeps its state for a
// day, otherwise until it would be full again anyway; expiry then just means "full".
const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function level(key, rate, burst)
  local v = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens, ts = tonumber(v[1]), tonumber(v[2])
  if tokens == nil or ts == nil then return burst end
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  return math.min(burst, tokens + elapsed * rate / 1000000)
end
local function ttl(rate, burst)
  if rate <= 0 then return 86400000 end
  return math.ceil(burst / rate * 1000) + 1000
end
local kb = ARGV[1] == '1'
local rb = ARGV[4] == '1'
local q = ARGV[7] == '1'
local u = ARGV[10] == '1'
local kbLevel, rbLevel
if kb then
  kbLevel = level(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
  if kbLevel < 1 then return 1 end
end
if rb then
  rbLevel = level(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]))
  if rbLevel < 1 then return 1 end
end
if q then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used >= tonumber(ARGV[8]) then return 2 end
end
if kb then
  redis.call('HSET', KEYS[1], 'tokens', tostring(kbLevel - 1), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[1], ttl(tonumber(ARGV[2]), tonumber(ARGV[3])))
end
if rb then
  redis.call('HSET', KEYS[2], 'tokens', tostring(rbLevel - 1), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[2], ttl(tonumber(ARGV[5]), tonumber(ARGV[6])))
end
if q then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
end
if u then
  redis.call('INCR', KEYS[4])
  redis.call('PEXPIRE', KEYS[4], ARGV[11])
end
return 0
`;

type AdmitCommand = (k1: string, k2: string, k3: string, k4: string, ...argv: string[]) => Promise<number>;

export class RedisUsageLimiter implements UsageLimiter {
  private readonly admitScript: AdmitCommand;

  /** `unusedKey` names a key the script is handed for absent limits and never touches. */
  constructor(
    redis: Redis,
    private readonly unusedKey: string,
  ) {
    redis.defineCommand('gantryAdmit', { numberOfKeys: 4, lua: ADMIT_SCRIPT });
    this.admitScript = (redis as unknown as { gantryAdmit: AdmitCommand }).gantryAdmit.bind(redis);
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const { keyBucket: kb, routeBucket: rb, quota: q, usageDay: u } = request;
    const none = this.unusedKey;
    const code = await this.admitScript(
      kb?.name ?? none,
      rb?.name ?? none,
      q?.name ?? none,
      u?.name ?? none,
      flag(kb), String(kb?.rateLimit ?? 0), String(kb?.burstLimit ?? 0),
      flag(rb), String(rb?.rateLimit ?? 0), String(rb?.burstLimit ?? 0),
      flag(q), String(q?.limit ?? 0), String(Math.max(1, Math.ceil(q?.ttlMs ?? 1))),
      flag(u), String(Math.max(1, Math.ceil(u?.ttlMs ?? 1))),
    );
    return code === 0 ? 'admitted' : code === 2 ? 'quota-exceeded' : 'throttled';
  }
}

function flag(v: unknown): string {
  return v === undefined ? '0' : '1';
}
