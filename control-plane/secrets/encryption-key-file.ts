/**
 * The encryption key (GANTRY_ENCRYPTION_KEY_FILE, default `$GANTRY_DATA_DIR/encryption-key`):
 * generated once like the internal token's file, and shared the same way (compose's
 * gantry-secrets volume). The file holds one base64 key per line: the first encrypts, the ones
 * after it only decrypt (rotation: put the new key first and keep the old one until every row is
 * re-sealed).
 *
 * A check value sealed with the first key ever used is kept in `settings`: a start with a file
 * that holds none of the keys that sealed the stored secrets fails at once, with a message that
 * says so, instead of failing every SigV4 request later.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Pool } from '../../common/db.js';
import { createTokenFile, type TokenFileLabel } from '../../common/internal-token-file.js';
import { KEY_BYTES, SecretBox } from './secret-box.js';

const LABEL: TokenFileLabel = { variable: 'GANTRY_ENCRYPTION_KEY_FILE', alternative: 'point GANTRY_ENCRYPTION_KEY_FILE at a readable file' };
const CHECK_KEY = 'encryption_key_check';
const CHECK_TEXT = 'gantry encryption key check';

export async function loadSecretBox(pool: Pool, file: string): Promise<SecretBox> {
  const keys = (await readKeys(file)) ?? (await readKeys(file, await createTokenFile(file, randomBytes(KEY_BYTES).toString('base64'), LABEL)));
  if (keys === undefined) throw new Error(`GANTRY_ENCRYPTION_KEY_FILE ${file} vanished while it was created`);
  const box = new SecretBox(keys);
  await pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [CHECK_KEY, box.seal(CHECK_TEXT, CHECK_KEY)]);
  const stored = (await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [CHECK_KEY])).rows[0]?.value;
  let opened: string | undefined;
  try {
    opened = stored === undefined ? undefined : box.open(stored, CHECK_KEY);
  } catch {
    opened = undefined;
  }
  if (opened !== CHECK_TEXT) {
    throw new Error(
      `GANTRY_ENCRYPTION_KEY_FILE ${file} holds none of the keys that encrypted the secrets stored in this database: give this control plane the key file the others use (in compose, the gantry-secrets volume); a new key goes on the first line with the old one kept below it`,
    );
  }
  return box;
}

/** The keys in the file (first one current), undefined while there is no file. */
async function readKeys(file: string, _created?: string): Promise<Buffer[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`GANTRY_ENCRYPTION_KEY_FILE ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}): give this process read access`);
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const keys = lines.map((l) => Buffer.from(l, 'base64'));
  if (keys.length === 0 || keys.some((k, i) => k.length !== KEY_BYTES || k.toString('base64') !== lines[i])) {
    throw new Error(`GANTRY_ENCRYPTION_KEY_FILE ${file} holds no key (one base64 line of ${KEY_BYTES} bytes per key, e.g. from \`openssl rand -base64 32\`)`);
  }
  return keys;
}
