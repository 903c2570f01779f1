/**
 * Postgres connection handling shared by both processes: a bounded pool with statement timeouts,
 * and the "database named in DATABASE_URL is created if missing" rule of api.md.
 */
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly statementTimeoutMs: number;
  readonly applicationName: string;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max,
    statement_timeout: opts.statementTimeoutMs,
    connectionTimeoutMillis: 5_000,
    application_name: opts.applicationName,
  });
  // An idle client losing its connection (Postgres restart) must not crash the process; the pool
  // replaces it and the next query reports the failure to its caller.
  pool.on('error', () => undefined);
  return pool;
}

/** Creates the database named in `url` when it does not exist, via the `postgres` database. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (dbName === '' || dbName === 'postgres') return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${quoteIdent(dbName)}`).catch((e: unknown) => {
        // Two processes racing to create it: the loser sees duplicate_database, which is success.
        if ((e as { code?: string }).code !== '42P04') throw e;
      });
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
