/**
 * The admin token and the internal (gateway ⇄ control plane) token, per api.md: the admin token
 * is stored only as a sha256 hash; GANTRY_ADMIN_TOKEN, when set, replaces the stored hash; when
 * neither exists one is generated and printed once to stderr, never into the JSON log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import { INTERNAL_TOKEN_KEY as INTERNAL_KEY } from '../../common/internal-token.js';

/** Where the admin token's sha256 is stored (gateways read it to authorise `@connections`). */
export const ADMIN_HASH_KEY = 'admin_token_sha256';

export interface Tokens {
  readonly adminHash: Buffer;
  readonly internalToken: string;
}

export async function bootstrapTokens(
  pool: Pool,
  opts: { adminToken: string | undefined; internalToken: string | undefined; announce: (line: string) => void },
): Promise<Tokens> {
  let adminHash: string;
  if (opts.adminToken !== undefined) {
    adminHash = sha256Hex(opts.adminToken);
    await upsert(pool, ADMIN_HASH_KEY, adminHash);
  } else {
    const generated = randomBytes(32).toString('base64url');
    const stored = await insertIfAbsent(pool, ADMIN_HASH_KEY, sha256Hex(generated));
    if (stored === sha256Hex(generated)) opts.announce(`Gantry admin token (shown once, store it now): ${generated}`);
    adminHash = stored;
  }
  const internalToken =
    opts.internalToken !== undefined
      ? (await upsert(pool, INTERNAL_KEY, opts.internalToken), opts.internalToken)
      : await insertIfAbsent(pool, INTERNAL_KEY, randomBytes(32).toString('base64url'));
  return { adminHash: Buffer.from(adminHash, 'hex'), internalToken };
}

/** Constant-time check of a bearer token against a stored sha256 (both sides hashed: equal length). */
export function matchesHash(token: string, hash: Buffer): boolean {
  const candidate = createHash('sha256').update(token).digest();
  return candidate.length === hash.length && timingSafeEqual(candidate, hash);
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

async function upsert(pool: Pool, key: string, value: string): Promise<void> {
  await pool.query(
    `INSERT INTO settings (key, value) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [key, value],
  );
}

/** Inserts unless present; returns the stored value either way (first writer wins). */
async function insertIfAbsent(pool: Pool, key: string, value: string): Promise<string> {
  await pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
  const r = await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return r.rows[0]?.value ?? value;
}
