/**
 * The tokens' hashes the control plane keeps in Postgres `settings` and gateways read (api.md):
 * the gateway ⇄ control-plane secret's sha256 (every process gets the token itself from
 * GANTRY_INTERNAL_TOKEN or GANTRY_INTERNAL_TOKEN_FILE, and checks it against this hash at start)
 * and the admin token's sha256 (gateways check `@connections` callers against it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Pool } from './db.js';

/** Where earlier versions kept a generated internal token in plain text; moved out at start. */
export const LEGACY_INTERNAL_TOKEN_KEY = 'internal_token';
export const INTERNAL_HASH_KEY = 'internal_token_sha256';
export const ADMIN_HASH_KEY = 'admin_token_sha256';

export async function readSetting(pool: Pool, key: string): Promise<string | undefined> {
  const r = await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return r.rows[0]?.value;
}

/** Constant-time check of a bearer token against a stored sha256 (both sides hashed: equal length). */
export function matchesHash(token: string, hash: Buffer): boolean {
  const candidate = createHash('sha256').update(token).digest();
  return candidate.length === hash.length && timingSafeEqual(candidate, hash);
}
