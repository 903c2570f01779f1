/**
 * The tokens the control plane keeps in Postgres `settings` and gateways read (api.md): the
 * gateway ⇄ control-plane secret (when GANTRY_INTERNAL_TOKEN is unset, the control plane
 * generates it and gateways read it here; when it is set, only its sha256 is stored and every
 * process is given the token by its own configuration) and the admin token's sha256 (gateways
 * check `@connections` callers against it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Pool } from './db.js';

export const INTERNAL_TOKEN_KEY = 'internal_token';
/** Set instead of INTERNAL_TOKEN_KEY when the token is configured (GANTRY_INTERNAL_TOKEN). */
export const INTERNAL_HASH_KEY = 'internal_token_sha256';
export const ADMIN_HASH_KEY = 'admin_token_sha256';

export async function readSetting(pool: Pool, key: string): Promise<string | undefined> {
  const r = await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return r.rows[0]?.value;
}

export function readInternalToken(pool: Pool): Promise<string | undefined> {
  return readSetting(pool, INTERNAL_TOKEN_KEY);
}

/** Constant-time check of a bearer token against a stored sha256 (both sides hashed: equal length). */
export function matchesHash(token: string, hash: Buffer): boolean {
  const candidate = createHash('sha256').update(token).digest();
  return candidate.length === hash.length && timingSafeEqual(candidate, hash);
}
