/**
 * The internal token a separately started gateway calls control planes with: GANTRY_INTERNAL_TOKEN,
 * else the one in GANTRY_INTERNAL_TOKEN_FILE, waited for while the control plane creates it at its
 * first start. It must be the token whose sha256 the control plane stored: a gateway with another
 * token would answer every call with the control plane's 401, so it refuses to start instead.
 */
import { sleep } from '../../common/deadline.js';
import type { Pool } from '../../common/db.js';
import { readTokenFile } from '../../common/internal-token-file.js';
import { INTERNAL_HASH_KEY, matchesHash, readSetting } from '../../common/stored-tokens.js';

export interface InternalTokenSource {
  readonly configured: string | undefined;
  readonly file: string;
  /** How long to wait for the file to appear. */
  readonly waitMs: number;
}

export async function resolveInternalToken(pool: Pool, source: InternalTokenSource): Promise<string> {
  const token = source.configured ?? (await waitForFile(source.file, source.waitMs));
  const hash = await readSetting(pool, INTERNAL_HASH_KEY);
  if (hash !== undefined && !matchesHash(token, Buffer.from(hash, 'hex'))) {
    const from = source.configured !== undefined ? 'GANTRY_INTERNAL_TOKEN' : `GANTRY_INTERNAL_TOKEN_FILE (${source.file})`;
    throw new Error(`the internal token from ${from} is not the one the control plane stored the hash of: give this gateway the control plane's token (GANTRY_INTERNAL_TOKEN, or GANTRY_INTERNAL_TOKEN_FILE naming its file)`);
  }
  return token;
}

async function waitForFile(file: string, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const token = await readTokenFile(file);
    if (token !== undefined) return token;
    if (Date.now() > deadline) {
      throw new Error(`no internal token: GANTRY_INTERNAL_TOKEN is not set and GANTRY_INTERNAL_TOKEN_FILE ${file} did not appear within ${waitMs} ms; start the control plane first, point GANTRY_INTERNAL_TOKEN_FILE at its file, or set GANTRY_INTERNAL_TOKEN on both`);
    }
    await sleep(500);
  }
}
