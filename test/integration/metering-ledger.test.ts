// The metering path on real Postgres: spool → shipper → ledger + hourly rollup, idempotent on
// (invocation id, attempt) even when a whole spool is replayed; usage and invoices from the
// rollup agree with the ledger entries; retention removes old entries without changing a total.
import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createPool, dropDatabase, ensureDatabase } from '../../common/db.js';
import { createLogger } from '../../common/logger.js';
import { newInvocationId } from '../../control-plane/invocation/invocation-id.js';
import { insertLedgerEntries } from '../../control-plane/metering/write/ledger-insert.js';
import { LedgerRetention } from '../../control-plane/metering/write/ledger-retention.js';
import type { LedgerEntry } from '../../control-plane/metering/ledger.js';
import { PriceStore } from '../../control-plane/metering/pricing/price-store.js';
import { buildInvoice } from '../../control-plane/metering/pricing/pricing.js';
import { SpoolLedger, type SpoolLedgerOptions } from '../../control-plane/metering/write/spool-ledger.js';
import { UsageStore } from '../../control-plane/metering/read/usage-store.js';
import { defaultMigrationsDir, migrate } from '../../control-plane/postgres/migrator.js';
import { requireServices, TEST_DATABASE_BASE } from '../support/services.js';
import { eventually, withDatabase } from '../support/stack.js';

await requireServices(t, { docker: false });
const url = withDatabase(TEST_DATABASE_BASE, `gantry_test_meter_${randomBytes(4).toString('hex')}`);
await ensureDatabase(url);
const pool = createPool({ url, max: 4, statementTimeoutMs: 30_000, applicationName: 'test' });
await migrate(pool, defaultMigrationsDir(import.meta.url));
const root = await mkdtemp(path.join(tmpdir(), 'gantry-meter-it-'));
const logger = createLogger({ level: process.env.GANTRY_TEST_LOG_LEVEL ?? 'silent', name: 'metering-it' });
t.teardown(async () => {
  await pool.end();
  await dropDatabase(url);
  await rm(root, { recursive: true, force: true });
});

const usage = new UsageStore(pool);
const prices = new PriceStore(pool, { pricePerGbSecond: '0.0000166667', pricePerMillionRequests: '0.20', currency: 'USD' });
const functionId = randomUUID();

function entry(fn: string, startedAt: Date, billedMs: number, memoryMb = 128, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    invocationId: newInvocationId(startedAt.getTime()),
    attempt: 1,
    tenantId: 'default',
    functionId,
    functionName: fn,
    versionId: 1,
    source: 'direct',
    startedAt,
    durationUs: billedMs * 1000 - 321,
    initDurationUs: 0,
    billedMs,
    memoryMb,
    coldStart: 'none',
    status: 'succeeded',
    errorType: null,
    ...over,
  };
}

function options(dir: string, over: Partial<SpoolLedgerOptions> = {}): SpoolLedgerOptions {
  return {
    spoolDir: dir,
    segmentMaxBytes: 64 * 1024,
    segmentMaxAgeMs: 60_000,
    maxBacklogBytes: 64 * 1024 * 1024,
    shipBatchMaxEntries: 500,
    rejectionFlushIntervalMs: 50,
    closeShipDeadlineMs: 5_000,
    ...over,
  };
}

async function ledgerTotals(fn: string) {
  const raw = (await pool.query(`SELECT count(*)::int AS n, coalesce(sum(billed_ms),0)::text AS b, coalesce(sum(billed_ms::bigint*memory_mb),0)::text AS m FROM invocations WHERE function_name = $1`, [fn])).rows[0];
  const roll = (await pool.query(`SELECT coalesce(sum(requests),0)::int AS n, coalesce(sum(billed_ms),0)::text AS b, coalesce(sum(mb_ms),0)::text AS m FROM usage_hourly WHERE function_name = $1`, [fn])).rows[0];
  return { raw, roll };
}

await t.test('concurrent appends all reach the ledger once, with a rollup equal to the entries', async (t) => {
  const dir = path.join(root, 'a');
  const ledger = new SpoolLedger({ pool, logger }, options(dir));
  await ledger.start();
  const base = Date.now() - 3 * 3_600_000;
  const entries = Array.from({ length: 3000 }, (_, i) => entry('alpha', new Date(base + i * 3_600), 1 + (i % 50), i % 2 === 0 ? 128 : 1024));
  await Promise.all(entries.map((e) => ledger.append(e)));
  t.ok(await ledger.drained(20_000), 'shipped');
  const { raw, roll } = await ledgerTotals('alpha');
  t.equal(raw.n, 3000);
  t.same(roll, raw, 'rollup totals equal the ledger entries');
  const hours = (await pool.query(`SELECT count(*)::int AS n FROM usage_hourly WHERE function_name = 'alpha'`)).rows[0].n;
  t.ok(hours >= 3 && hours <= 4, `spread over ${hours} hours`);
  await ledger.close();
});

await t.test('replaying a whole spool (a crash before segments were removed) bills nothing twice', async (t) => {
  const dir = path.join(root, 'b');
  const copy = path.join(root, 'b-copy');
  // One segment: it stays (active) after shipping, as the last one does in a crashed process.
  const ledger = new SpoolLedger({ pool, logger }, options(dir, { segmentMaxBytes: 16 * 1024 * 1024 }));
  await ledger.start();
  const now = Date.now();
  const entries = Array.from({ length: 400 }, (_, i) => entry('beta', new Date(now - i * 1000), 10));
  // Two attempts of one invocation are two entries (Lambda bills each retry).
  entries.push({ ...(entries[0] as LedgerEntry), attempt: 2 });
  await Promise.all(entries.map((e) => ledger.append(e)));
  await cp(dir, copy, { recursive: true });
  const copied = await readdir(copy);
  t.equal(copied.length, 1, `one segment copied: ${copied.join(', ')}`);
  t.ok(await ledger.drained(20_000));
  const before = await ledgerTotals('beta');
  t.equal(before.raw.n, 401);
  await ledger.close();

  const replay = new SpoolLedger({ pool, logger }, options(copy));
  await replay.start();
  t.ok(await replay.drained(20_000), 'the copied spool was shipped again');
  t.equal(replay.status().shipped, 401, 'every entry was sent again');
  t.equal(replay.status().inserted, 0, 'none of them was new');
  t.same(await ledgerTotals('beta'), before, 'ledger and rollup unchanged');
  await replay.close();
});

await t.test('entries written while Postgres refuses them are shipped once it is back', async (t) => {
  const dir = path.join(root, 'c');
  // A pool aimed at a port nothing listens on, then a good one: the same spool directory.
  const deadPool = createPool({ url: withPort(url, 1), max: 1, statementTimeoutMs: 1_000, applicationName: 'test' });
  const down = new SpoolLedger({ pool: deadPool, logger }, options(dir));
  await down.start();
  const e = Array.from({ length: 50 }, (_, i) => entry('gamma', new Date(Date.now() - i), 3));
  await Promise.all(e.map((x) => down.append(x)));
  t.ok(down.writable(), 'still admitting invocations: the spool holds them');
  t.ok(await eventually(async () => down.status().shipping === 'retrying', 5_000), 'the shipper retries');
  t.ok(down.status().backlogBytes > 0);
  await down.close();
  await deadPool.end();
  t.equal((await ledgerTotals('gamma')).raw.n, 0, 'nothing reached Postgres');

  const up = new SpoolLedger({ pool, logger }, options(dir));
  await up.start();
  t.ok(await up.drained(20_000));
  const totals = await ledgerTotals('gamma');
  t.equal(totals.raw.n, 50, 'all arrived after the restart');
  t.same(totals.roll, totals.raw);
  await up.close();
});

await t.test('rejected requests are counted per reason and never billed', async (t) => {
  const ledger = new SpoolLedger({ pool, logger }, options(path.join(root, 'd')));
  await ledger.start();
  ledger.rejected('default', 'delta', 'throttled');
  ledger.rejected('default', 'delta', 'throttled');
  ledger.rejected('default', 'delta', 'unavailable');
  await ledger.close();
  const from = new Date(Date.now() - 3_600_000);
  const rows = await usage.usage('default', from, new Date(Date.now() + 3_600_000), 'function');
  const delta = rows.find((r) => r.key === 'delta');
  t.same(delta?.rejected, { throttled: 2, unavailable: 1, initFailed: 0 });
  t.equal(delta?.requests, 0n, 'not requests');
  t.equal(delta?.billedMs, 0n, 'not billed');
});

await t.test('usage over partial hours adds ledger edges to whole rollup hours exactly', async (t) => {
  const h0 = Date.UTC(2025, 5, 10, 10);
  const list = [
    entry('eps', new Date(h0 + 10 * 60_000), 5),
    entry('eps', new Date(h0 + 50 * 60_000), 7),
    entry('eps', new Date(h0 + 3_600_000 + 30 * 60_000), 11),
    entry('eps', new Date(h0 + 2 * 3_600_000 + 5 * 60_000), 13),
    entry('eps', new Date(h0 + 2 * 3_600_000 + 40 * 60_000), 17),
  ];
  await insertLedgerEntries(pool, list);
  const billed = async (from: number, to: number) => (await usage.usage('default', new Date(from), new Date(to), 'function')).find((r) => r.key === 'eps')?.billedMs ?? 0n;
  t.equal(await billed(h0, h0 + 3 * 3_600_000), 53n, 'whole hours');
  t.equal(await billed(h0 + 30 * 60_000, h0 + 2 * 3_600_000 + 30 * 60_000), 7n + 11n + 13n, 'both edges partial');
  t.equal(await billed(h0 + 5 * 60_000, h0 + 20 * 60_000), 5n, 'inside one hour');
  t.equal(await billed(h0 + 50 * 60_000, h0 + 50 * 60_000), 0n, 'empty range');
  const days = await usage.usage('default', new Date(h0 - 86_400_000), new Date(h0 + 86_400_000), 'day');
  t.same(days.filter((d) => d.key === '2025-06-10').map((d) => d.billedMs), [53n], 'grouped by UTC day');
});

await t.test('retention removes old entries and no usage total or invoice changes', async (t) => {
  const now = Date.UTC(2026, 2, 15, 12);
  const old = Date.UTC(2026, 0, 20, 0);
  const list: LedgerEntry[] = [];
  for (let i = 0; i < 2000; i++) list.push(entry(`ret-${i % 3}`, new Date(old + i * 37_000), 1 + (i % 997), [128, 512, 1769][i % 3]));
  for (let i = 0; i < 200; i++) list.push(entry('ret-0', new Date(now - i * 60_000), 100));
  await insertLedgerEntries(pool, list);
  const snapshot = async () => ({
    byFunction: await usage.usage('default', new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2026, 3, 1)), 'function'),
    byDay: await usage.usage('default', new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2026, 3, 1)), 'day'),
    january: buildInvoice('2026-01', await usage.byFunction('default', new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2026, 1, 1))), await prices.prices('default')),
    march: buildInvoice('2026-03', await usage.byFunction('default', new Date(Date.UTC(2026, 2, 1)), new Date(Date.UTC(2026, 3, 1))), await prices.prices('default')),
  });
  const before = await snapshot();
  t.ok(before.january.lines.length === 3 && before.january.total !== '0.000000', 'January has usage');
  const retention = new LedgerRetention({ pool, logger, now: () => now }, { retentionMs: 30 * 86_400_000, intervalMs: 3_600_000 });
  const removed = await retention.run();
  t.ok(removed >= 2000, `removed ${removed} entries`);
  const left = (await pool.query(`SELECT count(*)::int AS n FROM invocations WHERE function_name LIKE 'ret-%' AND started_at < $1`, [new Date(now - 30 * 86_400_000)])).rows[0].n;
  t.equal(left, 0, 'nothing older than the retention age is left');
  t.equal((await pool.query(`SELECT count(*)::int AS n FROM invocations WHERE function_name = 'ret-0' AND started_at >= $1`, [new Date(now - 86_400_000)])).rows[0].n, 200, 'recent entries kept');
  t.same(await snapshot(), before, 'usage by function and day, and invoices, are identical');

  // A late replay of a removed entry must not count again.
  const late = list[0] as LedgerEntry;
  t.equal(await insertLedgerEntries(pool, [late]), 0, 'an entry older than the watermark is not inserted again');
  t.same(await snapshot(), before);
  await retention.close();
});

await t.test('retention refuses to remove entries the rollup does not cover', async (t) => {
  const now = Date.UTC(2027, 5, 1);
  const e = entry('uncovered', new Date(Date.UTC(2027, 2, 1, 5)), 9);
  // Written around the rollup, as a foreign writer would.
  await pool.query(
    `INSERT INTO invocations (id, attempt, tenant_id, function_id, function_name, version_id, source, started_at, duration_us, billed_ms, memory_mb, cold_start, status)
     VALUES ($1, 1, 'default', $2, 'uncovered', 1, 'direct', $3, 9000, 9, 128, 'none', 'succeeded')`,
    [e.invocationId, functionId, e.startedAt],
  );
  const retention = new LedgerRetention({ pool, logger, now: () => now }, { retentionMs: 30 * 86_400_000, intervalMs: 3_600_000 });
  t.equal(await retention.run(), 0);
  t.equal((await pool.query(`SELECT count(*)::int AS n FROM invocations WHERE function_name = 'uncovered'`)).rows[0].n, 1, 'the entry stays');
  await pool.query(`DELETE FROM invocations WHERE function_name = 'uncovered'`);
});

function withPort(u: string, port: number): string {
  const x = new URL(u);
  x.port = String(port);
  return x.toString();
}
