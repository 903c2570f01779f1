/**
 * Runs a unit of work in one Postgres transaction and translates pg errors at the boundary
 * (style.md 3.5.4): nothing above the store ever sees a pg error shape.
 */
import type { Pool, PoolClient } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((e: unknown) => {
    throw unavailable(e);
  });
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw translatePgError(e);
  } finally {
    client.release();
  }
}

export async function query<T extends object>(pool: Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  try {
    return (await pool.query<T>(sql, params)).rows;
  } catch (e) {
    throw translatePgError(e);
  }
}

export function translatePgError(e: unknown): unknown {
  if (e instanceof GantryError) return e;
  const code = (e as { code?: string }).code;
  if (code === '23505') {
    return new GantryError('ResourceConflict', 'The resource already exists.', { component: 'store', cause: e });
  }
  // Socket errors (ECONNREFUSED…), connection-class SQLSTATEs and admin shutdown all mean "not
  // reachable right now", which callers may retry; anything else is a bug and stays a 500.
  if (code === undefined || /^E[A-Z]+$/.test(code) || code.startsWith('08') || code.startsWith('57P')) {
    return unavailable(e);
  }
  return e;
}

function unavailable(e: unknown): GantryError {
  return new GantryError('ServiceUnavailable', 'The database is unavailable; try again shortly.', {
    component: 'store',
    cause: e,
  });
}

/** Every change a gateway or another node must see bumps the revision in the same transaction. */
export async function bumpConfigRevision(client: PoolClient): Promise<number> {
  const r = await client.query<{ revision: string }>(
    'UPDATE config_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
  );
  return Number(r.rows[0]?.revision ?? 0);
}
