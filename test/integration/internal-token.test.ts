// Where the internal token is kept: a configured GANTRY_INTERNAL_TOKEN only as its sha256 (a
// plain copy from an earlier unconfigured start is deleted); a generated one in plain text, for
// gateways started without configuration, with a warning that says so.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createPool, dropDatabase, ensureDatabase } from '../../common/db.js';
import { readInternalToken } from '../../common/stored-tokens.js';
import { bootstrapTokens, sha256Hex } from '../../control-plane/auth/tokens.js';
import { defaultMigrationsDir, migrate } from '../../control-plane/postgres/migrator.js';
import { requireServices, TEST_DATABASE_BASE } from '../support/services.js';
import { withDatabase } from '../support/stack.js';

await requireServices(t, { docker: false });
const url = withDatabase(TEST_DATABASE_BASE, `gantry_test_tokens_${randomBytes(4).toString('hex')}`);
await ensureDatabase(url);
const pool = createPool({ url, max: 2, statementTimeoutMs: 5_000, applicationName: 'test' });
t.teardown(async () => {
  await pool.end();
  await dropDatabase(url);
});
await migrate(pool, defaultMigrationsDir(import.meta.url));
const settings = async () => Object.fromEntries((await pool.query<{ key: string; value: string }>('SELECT key, value FROM settings')).rows.map((r) => [r.key, r.value]));
const admin = 'a'.repeat(40);

await t.test('without configuration the token is generated once, kept for gateways, with a warning', async (t) => {
  const warnings: string[] = [];
  const first = await bootstrapTokens(pool, { adminToken: admin, internalToken: undefined, announce: () => undefined, warn: (l) => warnings.push(l) });
  const second = await bootstrapTokens(pool, { adminToken: admin, internalToken: undefined, announce: () => undefined });
  t.equal(second.internalToken, first.internalToken, 'a restart keeps it');
  t.equal(await readInternalToken(pool), first.internalToken, 'gateways without configuration read it');
  t.match(warnings, [/GANTRY_INTERNAL_TOKEN is not set/]);
});

await t.test('a configured token is stored only as its hash, and the plain copy is deleted', async (t) => {
  const configured = `internal-${randomBytes(16).toString('hex')}`;
  const tokens = await bootstrapTokens(pool, { adminToken: admin, internalToken: configured, announce: () => undefined });
  t.equal(tokens.internalToken, configured);
  const s = await settings();
  t.equal(s.internal_token, undefined, 'no plain text in settings');
  t.equal(s.internal_token_sha256, sha256Hex(configured));
  t.notOk(Object.values(s).includes(configured), 'the token appears nowhere in settings');
  t.equal(await readInternalToken(pool), undefined);
});
