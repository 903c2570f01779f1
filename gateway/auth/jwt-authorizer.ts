/**
 * The JWT authorizer of HTTP APIs (compat.md §8.1), in API Gateway's order: a token from the
 * identity source (bare or `Bearer <token>`); an RSA signature by a key of the issuer; `iss`
 * equal to the issuer, `aud` or `client_id` among the audiences, `exp` in the future, `nbf` and
 * `iat` in the past; then, when the route names scopes, at least one of them in the token's
 * `scope` or `scp`. A missing or invalid token is `unauthorized` (401); a valid token without a
 * required scope is `forbidden` (403, api.md).
 */
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { JwtAuthorizerConfig } from '../routing/route-snapshot.js';
import { resolveIdentitySource, type IdentityRequest } from './identity-source.js';
import type { JwtKeys } from './jwt-keys.js';

export type JwtOutcome =
  | { readonly kind: 'allow'; readonly claims: Record<string, string>; readonly scopes: string[] | null }
  | { readonly kind: 'unauthorized'; readonly description: string }
  | { readonly kind: 'forbidden' };

/** API Gateway accepts only RSA-based algorithms. */
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

export class JwtAuthorizer {
  constructor(
    private readonly keys: JwtKeys,
    private readonly now: () => number = Date.now,
  ) {}

  async authorize(config: JwtAuthorizerConfig, request: IdentityRequest): Promise<JwtOutcome> {
    const raw = resolveIdentitySource(config.identitySource[0] ?? '$request.header.Authorization', request);
    if (raw === undefined) return unauthorized('no token in the identity source');
    const token = raw.replace(/^bearer\s+/i, '');
    let payload: JWTPayload;
    try {
      payload = await this.verify(config, token);
    } catch (e) {
      return unauthorized(describe(e));
    }
    if (!audienceMatches(payload, config.audience)) return unauthorized('the token has no audience of this authorizer');
    if (typeof payload.iat === 'number' && payload.iat * 1000 > this.now()) return unauthorized('the token was issued in the future');
    const scopes = tokenScopes(payload);
    if (config.scopes && config.scopes.length > 0 && !config.scopes.some((s) => scopes?.includes(s))) return { kind: 'forbidden' };
    return { kind: 'allow', claims: stringifyClaims(payload), scopes };
  }

  private async verify(config: JwtAuthorizerConfig, token: string): Promise<JWTPayload> {
    const options = { issuer: config.issuer, algorithms: RSA_ALGORITHMS, requiredClaims: ['exp'], currentDate: new Date(this.now()) };
    if (config.publicKeys) return (await verifyWithAny(token, config.publicKeys.map((pem) => this.keys.pem(pem)), options)).payload;
    const uri = config.jwksUri ?? (await this.keys.discover(config.issuer));
    const keySet: JWTVerifyGetKey = this.keys.jwks(uri);
    return (await jwtVerify(token, keySet, options)).payload;
  }
}

/** PEM keys carry no `kid`: the first key whose signature checks out wins. */
async function verifyWithAny(token: string, keys: readonly KeyObject[], options: Parameters<typeof jwtVerify>[2]) {
  let last: unknown = new Error('no public key configured');
  for (const key of keys) {
    try {
      return await jwtVerify(token, key, options);
    } catch (e) {
      last = e;
      if ((e as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break;
    }
  }
  throw last;
}

/** `aud` (a string or a list) or `client_id` must name one of the configured audiences. */
export function audienceMatches(payload: JWTPayload, audiences: readonly string[]): boolean {
  const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const clientId = payload['client_id'];
  return aud.some((a) => audiences.includes(a)) || (typeof clientId === 'string' && audiences.includes(clientId));
}

/** The token's scopes from `scope` (space-separated) or `scp` (a list or a string); null without. */
export function tokenScopes(payload: JWTPayload): string[] | null {
  const raw = payload['scope'] ?? payload['scp'];
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s !== '');
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return null;
}

/** Claim values as API Gateway passes them: strings, lists as `[a b]` (compat.md §8.1). */
export function stringifyClaims(payload: JWTPayload): Record<string, string> {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(payload)) out.push([name, claimText(value)]);
  return Object.fromEntries(out);
}

function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(claimText).join(' ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

function unauthorized(description: string): JwtOutcome {
  return { kind: 'unauthorized', description };
}

/** jose's error codes as short sentences for `error_description` (never token contents). */
function describe(e: unknown): string {
  const code = (e as { code?: string }).code;
  const claim = (e as { claim?: string }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `the ${claim ?? 'claims'} claim is invalid`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the signing algorithm is not allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the signature is invalid';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no key matches the token';
    case 'ERR_JWT_INVALID':
    case 'ERR_JWS_INVALID':
      return 'the token is malformed';
    default:
      return 'the token could not be verified';
  }
}
