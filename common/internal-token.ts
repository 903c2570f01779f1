/**
 * The gateway ⇄ control-plane secret, as the control plane stored it (api.md: when
 * GANTRY_INTERNAL_TOKEN is unset, the control plane generates one and gateways read it here).
 */
import type { Pool } from './db.js';

export const INTERNAL_TOKEN_KEY = 'internal_token';

export async function readInternalToken(pool: Pool): Promise<string | undefined> {
  const r = await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [INTERNAL_TOKEN_KEY]);
  return r.rows[0]?.value;
}
