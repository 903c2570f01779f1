/**
 * Where a JWT authorizer's public keys come from (compat.md §8.1): a JWKS URL, found directly or
 * by OIDC discovery from the issuer, or PEM public keys given in the route. Remote key sets are
 * cached per URL and refetched when a token names a `kid` the cached set lacks (at most once per
 * cooldown, so random `kid`s cannot turn every request into a fetch); every fetch has API
 * Gateway's 1500 ms timeout and 150000-byte limit.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from 'jose';

export interface JwtKeyOptions {
  /** Per fetch; API Gateway's is 1500 ms. */
  readonly fetchTimeoutMs: number;
  /** Least time between two fetches of one key set for an unknown `kid`. */
  readonly refreshCooldownMs: number;
  /** A cached key set is refetched after this, even when every `kid` is known. */
  readonly cacheMaxAgeMs: number;
}

/** API Gateway's limit on a JWKS (and on a discovery document). */
export const MAX_JWKS_BYTES = 150_000;

export class JwtKeys {
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  private readonly discovered = new Map<string, { jwksUri: Promise<string>; atMs: number }>();
  private readonly pems = new Map<string, KeyObject>();
  private readonly fetchLimited: FetchImplementation;

  constructor(private readonly options: JwtKeyOptions) {
    this.fetchLimited = async (url, init) => limitedResponse(await fetch(url, init));
  }

  /** The key set of a JWKS URL, created once and shared by every route naming it. */
  jwks(uri: string): JWTVerifyGetKey {
    let set = this.remote.get(uri);
    if (!set) {
      set = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: this.options.fetchTimeoutMs,
        cooldownDuration: this.options.refreshCooldownMs,
        cacheMaxAge: this.options.cacheMaxAgeMs,
        [customFetch]: this.fetchLimited,
      });
      this.remote.set(uri, set);
    }
    return set;
  }

  /** `jwks_uri` from `{issuer}/.well-known/openid-configuration`; cached like a key set. */
  async discover(issuer: string): Promise<string> {
    const cached = this.discovered.get(issuer);
    if (cached && Date.now() - cached.atMs < this.options.cacheMaxAgeMs) return cached.jwksUri;
    const jwksUri = this.fetchDiscovery(issuer);
    this.discovered.set(issuer, { jwksUri, atMs: Date.now() });
    jwksUri.catch(() => this.discovered.delete(issuer));
    return jwksUri;
  }

  /** A PEM public key, parsed once. */
  pem(pem: string): KeyObject {
    let key = this.pems.get(pem);
    if (!key) {
      key = createPublicKey(pem);
      this.pems.set(pem, key);
    }
    return key;
  }

  private async fetchDiscovery(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await this.fetchLimited(url, { headers: new Headers(), method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(this.options.fetchTimeoutMs) });
    if (res.status !== 200) throw new Error(`OIDC discovery answered ${res.status}`);
    const doc = (await res.json()) as { jwks_uri?: unknown };
    if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//i.test(doc.jwks_uri)) throw new Error('OIDC discovery document has no jwks_uri');
    return doc.jwks_uri;
  }
}

/** Reads at most MAX_JWKS_BYTES of the body; a larger body fails the fetch. */
async function limitedResponse(res: Response): Promise<Response> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_JWKS_BYTES) throw new Error('key set larger than 150000 bytes');
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > MAX_JWKS_BYTES) throw new Error('key set larger than 150000 bytes');
      chunks.push(chunk);
    }
  }
  return new Response(Buffer.concat(chunks), { status: res.status, headers: res.headers });
}
