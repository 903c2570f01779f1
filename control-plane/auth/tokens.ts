/**
 * The admin token and the internal (gateway ⇄ control plane) token, per api.md: the admin token
 * is stored only as a sha256 hash; GANTRY_ADMIN_TOKEN, when set, replaces the stored hash; when
 * neither exists one is generated and printed once to stderr, never into the JSON log. The
 * internal token is stored hashed when configured, in plain text only when generated (below).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import { ADMIN_HASH_KEY, INTERNAL_HASH_KEY, INTERNAL_TOKEN_KEY as INTERNAL_KEY } from '../../common/stored-tokens.js';

export { matchesHash } from '../../common/stored-tokens.js';

export interface Tokens {
  readonly adminHash: Buffer;
  readonly internalToken: string;
}

export async function bootstrapTokens(
  pool: Pool,
  opts: { adminToken: string | undefined; internalToken: string | undefined; announce: (line: string) => void; warn?: (line: string) => void },
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
  const internalToken = opts.internalToken ?? (await generatedInternalToken(pool, opts.warn));
  if (opts.internalToken !== undefined) await storeInternalHash(pool, opts.internalToken);
  return { adminHash: Buffer.from(adminHash, 'hex'), internalToken };
}

/**
 * A configured internal token is stored only as its sha256, like the admin token, and a plain
 * copy left by an earlier start without the setting is deleted (in one transaction): gateways
 * then need GANTRY_INTERNAL_TOKEN too, which is what configuring it means.
 */
async function storeInternalHash(pool: Pool, token: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [INTERNAL_HASH_KEY, sha256Hex(token)],
    );
    await client.query('DELETE FROM settings WHERE key = $1', [INTERNAL_KEY]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Without GANTRY_INTERNAL_TOKEN the token is generated once and kept in `settings`, where
 * gateways and other nodes started without configuration read it: zero-configuration setups
 * (`docker compose up`, separate processes) keep working, at the price of a secret that whoever
 * can read the database can use. A hash left by a configured start is dropped: it no longer applies.
 */
async function generatedInternalToken(pool: Pool, warn: ((line: string) => void) | undefined): Promise<string> {
  await pool.query('DELETE FROM settings WHERE key = $1', [INTERNAL_HASH_KEY]);
  warn?.('GANTRY_INTERNAL_TOKEN is not set: the internal token is kept in Postgres in plain text; set it (at least 32 characters) on every control plane and gateway to store only its hash');
  return insertIfAbsent(pool, INTERNAL_KEY, randomBytes(32).toString('base64url'));
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
