// Migrations on a fresh database: the database is created when missing, every file applies once
// under the advisory lock even when several processes start together, and a rerun is a no-op.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import t from 'tap';
import { createPool, dropDatabase, ensureDatabase } from '../../common/db.js';
import { defaultMigrationsDir, migrate } from '../../control-plane/postgres/migrator.js';
import { requireServices, TEST_DATABASE_BASE } from '../support/services.js';
import { withDatabase } from '../support/stack.js';

await requireServices(t, { docker: false });
const url = withDatabase(TEST_DATABASE_BASE, `gantry_test_migrate_${randomBytes(4).toString('hex')}`);
const dir = defaultMigrationsDir(import.meta.url);

t.teardown(() => dropDatabase(url));

await t.test('a missing database is created', async (t) => {
  await ensureDatabase(url);
  await ensureDatabase(url);
  const pool = createPool({ url, max: 1, statementTimeoutMs: 5_000, applicationName: 'test' });
  t.teardown(() => pool.end());
  t.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
});

await t.test('concurrent starts apply each migration exactly once', async (t) => {
  const pools = Array.from({ length: 3 }, () => createPool({ url, max: 2, statementTimeoutMs: 30_000, applicationName: 'test' }));
  t.teardown(() => Promise.all(pools.map((p) => p.end())));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  t.ok(files.length >= 1 && files[0] === '001_core.sql');
  const results = await Promise.all(pools.map((p) => migrate(p, dir)));
  const applied = results.flatMap((r) => r.applied).sort();
  t.same(applied, files, 'each file applied once in total');
  const rows = (await pools[0]!.query('SELECT name FROM schema_migrations ORDER BY name')).rows;
  t.same(rows.map((r: { name: string }) => r.name), files);
  const again = await migrate(pools[0]!, dir);
  t.same(again.applied, [], 'a rerun applies nothing');
});

await t.test('per-tenant tables carry a tenant id and the default tenant exists', async (t) => {
  const pool = createPool({ url, max: 1, statementTimeoutMs: 5_000, applicationName: 'test' });
  t.teardown(() => pool.end());
  const cols = await pool.query(
    `SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = 'public' ORDER BY table_name`,
  );
  const tables = cols.rows.map((r: { table_name: string }) => r.table_name);
  for (const table of ['apis', 'functions', 'invocations', 'routes']) t.ok(tables.includes(table), `${table} has tenant_id`);
  t.equal((await pool.query(`SELECT id FROM tenants`)).rows[0].id, 'default');
});
