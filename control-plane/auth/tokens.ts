/**
 * The admin token and the internal (gateway ⇄ control plane) token, per api.md. Postgres holds
 * only their sha256 hashes. The admin token: GANTRY_ADMIN_TOKEN, when set, replaces the stored
 * hash; when neither exists one is generated and printed once to stderr, never into the JSON log.
 * The internal token: GANTRY_INTERNAL_TOKEN, else the one in GANTRY_INTERNAL_TOKEN_FILE, which is
 * created at first start (below).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from '../../common/db.js';
import { createTokenFile, readTokenFile } from '../../common/internal-token-file.js';
import { ADMIN_HASH_KEY, INTERNAL_HASH_KEY, LEGACY_INTERNAL_TOKEN_KEY } from '../../common/stored-tokens.js';

export { matchesHash } from '../../common/stored-tokens.js';

export interface Tokens {
  readonly adminHash: Buffer;
  readonly internalToken: string;
}

/** Serialises the internal token's bootstrap between control planes starting on one database. */
const INTERNAL_TOKEN_LOCK_KEY = 7_358_121_005;

export async function bootstrapTokens(
  pool: Pool,
  opts: {
    adminToken: string | undefined;
    internalToken: string | undefined;
    /** Where the internal token is kept when `internalToken` is unset. */
    internalTokenFile: string;
    announce: (line: string) => void;
    warn?: (line: string) => void;
  },
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
  const internalToken = await inTransaction(pool, (client) =>
    opts.internalToken !== undefined ? storeConfiguredHash(client, opts.internalToken) : fileInternalToken(client, opts.internalTokenFile, opts.warn),
  );
  return { adminHash: Buffer.from(adminHash, 'hex'), internalToken };
}

/**
 * A configured internal token replaces the stored hash, like the admin token, and a plain copy
 * left by an earlier version is deleted: gateways then need GANTRY_INTERNAL_TOKEN too, which is
 * what configuring it means.
 */
async function storeConfiguredHash(client: PoolClient, token: string): Promise<string> {
  await upsert(client, INTERNAL_HASH_KEY, sha256Hex(token));
  await client.query('DELETE FROM settings WHERE key = $1', [LEGACY_INTERNAL_TOKEN_KEY]);
  return token;
}

/**
 * Without GANTRY_INTERNAL_TOKEN the token lives in GANTRY_INTERNAL_TOKEN_FILE (created once when
 * absent) and Postgres keeps its hash, which tells every later start, gateways included, whether
 * it has the token the others use. A start with another token (or none) fails rather than replace
 * one that running processes hold. The plain `internal_token` row of earlier versions moves into
 * the file and gives way to its hash, in the caller's transaction: a failure leaves the row.
 */
async function fileInternalToken(client: PoolClient, file: string, warn: ((line: string) => void) | undefined): Promise<string> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [INTERNAL_TOKEN_LOCK_KEY]);
  const rows = (await client.query<{ key: string; value: string }>('SELECT key, value FROM settings WHERE key = ANY($1)', [[LEGACY_INTERNAL_TOKEN_KEY, INTERNAL_HASH_KEY]])).rows;
  const plain = rows.find((r) => r.key === LEGACY_INTERNAL_TOKEN_KEY)?.value;
  const storedHash = rows.find((r) => r.key === INTERNAL_HASH_KEY)?.value;
  const inFile = await readTokenFile(file);
  if (plain !== undefined) {
    const token = inFile ?? (await createTokenFile(file, plain));
    if (token !== plain) throw mismatch(file, 'the internal token an earlier version kept in Postgres (settings row internal_token)');
    await upsert(client, INTERNAL_HASH_KEY, sha256Hex(token));
    await client.query('DELETE FROM settings WHERE key = $1', [LEGACY_INTERNAL_TOKEN_KEY]);
    warn?.(`the internal token is moved from Postgres into GANTRY_INTERNAL_TOKEN_FILE (${file}); Postgres keeps only its sha256: give gateways that file or GANTRY_INTERNAL_TOKEN`);
    return token;
  }
  if (storedHash !== undefined) {
    if (inFile === undefined) {
      throw new Error(
        `GANTRY_INTERNAL_TOKEN_FILE ${file} does not exist, but another start stored the hash of the internal token that gateways and control planes use: give this control plane that token (the same file, or GANTRY_INTERNAL_TOKEN); to replace it everywhere, delete the settings row internal_token_sha256 and restart every process with the new token`,
      );
    }
    if (sha256Hex(inFile) !== storedHash) throw mismatch(file, 'the one whose hash another start stored (settings row internal_token_sha256)');
    return inFile;
  }
  const token = inFile ?? (await createTokenFile(file, randomBytes(32).toString('base64url')));
  await upsert(client, INTERNAL_HASH_KEY, sha256Hex(token));
  return token;
}

function mismatch(file: string, other: string): Error {
  return new Error(
    `GANTRY_INTERNAL_TOKEN_FILE ${file} holds another internal token than ${other}, which other processes use: give this control plane that token (the same file, or GANTRY_INTERNAL_TOKEN); to replace it everywhere, delete the settings row internal_token_sha256 and restart every process with the new token`,
  );
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

async function upsert(db: Pool | PoolClient, key: string, value: string): Promise<void> {
  await db.query(
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

/**
 * Not postgres/transaction.ts's: that one turns any error without a SQLSTATE into "database
 * unavailable", and a start must fail with its own message (a token file that does not match).
 */
async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
