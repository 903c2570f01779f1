/**
 * The admin token and the internal (gateway ⇄ control plane) token, per api.md: the admin token
 * is stored only as a sha256 hash; GANTRY_ADMIN_TOKEN, when set, replaces the stored hash; when
 * neither exists one is generated and printed once to stderr, never into the JSON log.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import { ADMIN_HASH_KEY, INTERNAL_TOKEN_KEY as INTERNAL_KEY } from '../../common/stored-tokens.js';

export { matchesHash } from '../../common/stored-tokens.js';

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
