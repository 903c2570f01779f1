// Where the internal token is kept: Postgres holds only its sha256, in either mode. Configured
// (GANTRY_INTERNAL_TOKEN) every process is given it; unconfigured it is generated once into
// GANTRY_INTERNAL_TOKEN_FILE (mode 0600), where gateways read it. The plain row of earlier versions
// moves into the file; a start or a gateway with another token than the stored hash's refuses to run.
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createPool, dropDatabase, ensureDatabase } from '../../common/db.js';
import { createTokenFile } from '../../common/internal-token-file.js';
import { bootstrapTokens, sha256Hex } from '../../control-plane/auth/tokens.js';
import { defaultMigrationsDir, migrate } from '../../control-plane/postgres/migrator.js';
import { resolveInternalToken } from '../../gateway/upstream/internal-token.js';
import { requireServices, TEST_DATABASE_BASE } from '../support/services.js';
import { withDatabase } from '../support/stack.js';

await requireServices(t, { docker: false });
const url = withDatabase(TEST_DATABASE_BASE, `gantry_test_tokens_${randomBytes(4).toString('hex')}`);
await ensureDatabase(url);
const pool = createPool({ url, max: 4, statementTimeoutMs: 5_000, applicationName: 'test' });
const dir = await mkdtemp(path.join(tmpdir(), 'gantry-token-'));
t.teardown(async () => {
  await pool.end();
  await dropDatabase(url);
  await rm(dir, { recursive: true, force: true });
});
await migrate(pool, defaultMigrationsDir(import.meta.url));
const settings = async () => Object.fromEntries((await pool.query<{ key: string; value: string }>('SELECT key, value FROM settings')).rows.map((r) => [r.key, r.value]));
const admin = 'a'.repeat(40);
let files = 0;
/** A path no test used yet, and no internal token stored: each test starts as a new installation. */
const fresh = async () => {
  await pool.query(`DELETE FROM settings WHERE key IN ('internal_token', 'internal_token_sha256')`);
  return path.join(dir, `node-${++files}`, 'internal-token');
};
const start = (internalTokenFile: string, extra: { internalToken?: string; warn?: (l: string) => void } = {}) =>
  bootstrapTokens(pool, { adminToken: admin, internalToken: extra.internalToken, internalTokenFile, announce: () => undefined, ...(extra.warn ? { warn: extra.warn } : {}) });
const modeOf = async (file: string) => (await stat(file)).mode & 0o777;
const BOTH = /GANTRY_INTERNAL_TOKEN_FILE[^]*GANTRY_INTERNAL_TOKEN[^_]/;

await t.test('without configuration the token is generated once into the file; Postgres keeps only its hash', async (t) => {
  const file = await fresh();
  const first = await start(file);
  t.match(first.internalToken, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.equal((await readFile(file, 'utf8')).trim(), first.internalToken, 'the file holds it');
  t.equal(await modeOf(file), 0o600, 'readable by its owner only');
  const s = await settings();
  t.equal(s.internal_token, undefined, 'no plain text in settings');
  t.equal(s.internal_token_sha256, sha256Hex(first.internalToken));
  t.notOk(Object.values(s).includes(first.internalToken), 'the token appears nowhere in settings');
  const second = await start(file);
  t.equal(second.internalToken, first.internalToken, 'a restart keeps it');
  t.same(await readdir(path.dirname(file)), ['internal-token'], 'no temporary file left beside it');
});

await t.test('two starts at once on one file and database agree on one token', async (t) => {
  const file = await fresh();
  const [a, b] = await Promise.all([start(file), start(file)]);
  t.equal(a.internalToken, b.internalToken);
  t.equal((await settings()).internal_token_sha256, sha256Hex(a.internalToken));
  // The file alone, without the database's lock: link() lets exactly one writer win.
  const raced = path.join(path.dirname(file), 'raced');
  const tokens = ['x', 'y', 'z'].map((c) => c.repeat(43));
  const got = await Promise.all(tokens.map((tk) => createTokenFile(raced, tk)));
  t.equal(new Set(got).size, 1, 'every writer reads the winner');
  t.ok(tokens.includes(got[0] as string));
  t.equal(await modeOf(raced), 0o600);
  t.same((await readdir(path.dirname(file))).sort(), ['internal-token', 'raced']);
});

await t.test('a configured token is stored only as its hash, and the plain copy is deleted', async (t) => {
  const file = await fresh();
  await pool.query(`INSERT INTO settings (key, value) VALUES ('internal_token', $1)`, [randomBytes(32).toString('base64url')]);
  const configured = `internal-${randomBytes(16).toString('hex')}`;
  const tokens = await start(file, { internalToken: configured });
  t.equal(tokens.internalToken, configured);
  const s = await settings();
  t.equal(s.internal_token, undefined, 'no plain text in settings');
  t.equal(s.internal_token_sha256, sha256Hex(configured));
  t.notOk(Object.values(s).includes(configured), 'the token appears nowhere in settings');
  await t.rejects(stat(file), { code: 'ENOENT' }, 'and no file is written');
});

await t.test("an earlier version's plain row moves into the file and gives way to its hash", async (t) => {
  const file = await fresh();
  const old = randomBytes(32).toString('base64url');
  await pool.query(`INSERT INTO settings (key, value) VALUES ('internal_token', $1)`, [old]);
  const warnings: string[] = [];
  const tokens = await start(file, { warn: (l) => warnings.push(l) });
  t.equal(tokens.internalToken, old, 'the token running gateways and nodes use is kept');
  t.equal((await readFile(file, 'utf8')).trim(), old);
  t.equal(await modeOf(file), 0o600);
  const s = await settings();
  t.equal(s.internal_token, undefined, 'the plain row is gone');
  t.equal(s.internal_token_sha256, sha256Hex(old));
  t.match(warnings, [/moved from Postgres into GANTRY_INTERNAL_TOKEN_FILE/]);
  t.equal((await start(file)).internalToken, old, 'and the next start finds it in the file');
});

await t.test('a plain row and a file with another token: a start error, and the row stays', async (t) => {
  const file = await fresh();
  const old = randomBytes(32).toString('base64url');
  await pool.query(`INSERT INTO settings (key, value) VALUES ('internal_token', $1)`, [old]);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${'o'.repeat(43)}\n`, { mode: 0o600 });
  await t.rejects(start(file), BOTH);
  t.same(await settings(), { admin_token_sha256: sha256Hex(admin), internal_token: old }, 'nothing changed in Postgres');
});

await t.test('a file whose token is not the stored hash is a start error naming both settings', async (t) => {
  const file = await fresh();
  const first = await start(file);
  const other = path.join(dir, 'other', 'internal-token');
  await mkdir(path.dirname(other), { recursive: true });
  await writeFile(other, `${'m'.repeat(43)}\n`, { mode: 0o600 });
  await t.rejects(start(other), BOTH, 'another token');
  const missing = path.join(dir, 'missing', 'internal-token');
  await t.rejects(start(missing), BOTH, 'no file while a hash is stored');
  await t.rejects(stat(missing), { code: 'ENOENT' }, 'and none is created: it could not be the token the others use');
  t.equal((await settings()).internal_token_sha256, sha256Hex(first.internalToken), 'the stored hash is untouched');
  t.equal((await readFile(other, 'utf8')).trim(), 'm'.repeat(43), 'so is the file');
});

await t.test('a file without a token is refused', async (t) => {
  const file = await fresh();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'short\n', { mode: 0o600 });
  await t.rejects(start(file), /GANTRY_INTERNAL_TOKEN_FILE .* holds no token/);
});

await t.test('gateways: the file, waited for; the configured token; either checked against the stored hash', async (t) => {
  const file = await fresh();
  const waiting = resolveInternalToken(pool, { configured: undefined, file, waitMs: 20_000 });
  const tokens = await start(file);
  t.equal(await waiting, tokens.internalToken, 'a gateway started first gets the token once the file appears');
  t.equal(await resolveInternalToken(pool, { configured: tokens.internalToken, file: '/nonexistent', waitMs: 0 }), tokens.internalToken);
  await t.rejects(resolveInternalToken(pool, { configured: 'c'.repeat(40), file, waitMs: 0 }), /GANTRY_INTERNAL_TOKEN[^]*GANTRY_INTERNAL_TOKEN_FILE/, 'a configured token of another installation');
  const wrong = path.join(dir, 'wrong-token');
  await writeFile(wrong, 'w'.repeat(43), { mode: 0o600 });
  await t.rejects(resolveInternalToken(pool, { configured: undefined, file: wrong, waitMs: 0 }), /GANTRY_INTERNAL_TOKEN_FILE[^]*GANTRY_INTERNAL_TOKEN[^_]/, 'a file of another installation');
  await t.rejects(resolveInternalToken(pool, { configured: undefined, file: path.join(dir, 'never'), waitMs: 600 }), /GANTRY_INTERNAL_TOKEN is not set and GANTRY_INTERNAL_TOKEN_FILE .* did not appear within 600 ms/, 'bounded wait');
});

await t.test('created by root in a directory of another user: the file is that user\'s', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async (t) => {
  const file = await fresh();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await chown(path.dirname(file), 1000, 1000);
  await start(file);
  const st = await stat(file);
  t.same([st.uid, st.gid, st.mode & 0o777], [1000, 1000, 0o600], 'the gateway of the compose file (uid 1000) reads it; nobody else');
});
