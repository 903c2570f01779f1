/** `npm run migrate`: create the database if missing and apply pending migrations, then exit. */
import { createPool, ensureDatabase } from '../common/db.js';
import { loadControlPlaneConfig } from './config.js';
import { defaultMigrationsDir, migrate } from './postgres/migrator.js';

const config = loadControlPlaneConfig(process.env);
await ensureDatabase(config.DATABASE_URL);
const pool = createPool({ url: config.DATABASE_URL, max: 1, statementTimeoutMs: 600_000, applicationName: 'gantry-migrate' });
try {
  const r = await migrate(pool, defaultMigrationsDir(import.meta.url));
  process.stdout.write(`migrations applied: ${r.applied.length === 0 ? 'none (up to date)' : r.applied.join(', ')}\n`);
} finally {
  await pool.end();
}
