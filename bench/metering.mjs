/**
 * Metering part of the bench (bench/run.mjs calls `meteringBench`; `node bench/metering.mjs` runs it
 * alone). In a database of its own (`gantry_bench_meter_<random>`, dropped at the end) it measures:
 *
 *   1. scale: 10 million ledger entries (BENCH_METERING_ENTRIES) generated with INSERT … SELECT
 *      generate_series over one month, 200 functions, and their hourly rollup built from them; then
 *      the usage (by function, with partial-hour edges; by day), invoice and invocation-list queries
 *      of the control plane (the same modules, from dist/), each run 5 times;
 *   2. ingest: entries/s from appends to rows committed in Postgres through the real SpoolLedger
 *      (spool with group fsync + shipper with the rollup) into that 10M-row ledger, with 256
 *      invocations appending at once;
 *   3. added latency per invocation: `append` of one entry at a time (an idle node) and under the
 *      ingest load, p50/p99, next to the previous direct-to-Postgres group commit (PostgresLedger).
 *
 * Every loop is bounded in count and time. Only this run's database and temp dir are touched.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, log as benchLog, nowMs, num, r2, stats, withDatabase } from './lib.mjs';
import { postgresLedgerClass } from './postgres-ledger.mjs';

const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);

const ENTRIES = Math.min(num('BENCH_METERING_ENTRIES', 10_000_000), 50_000_000);
const INGEST = Math.min(num('BENCH_METERING_INGEST', 200_000), 2_000_000);
const INGEST_CONCURRENCY = 256;
const LATENCY_SAMPLES = 2_000;
const QUERY_RUNS = 5;
const FUNCTIONS = 200;
const MONTH_FROM = new Date('2026-01-01T00:00:00Z');
const MONTH_TO = new Date('2026-02-01T00:00:00Z');

export async function meteringBench({ dbBase = 'postgres://postgres@127.0.0.1:5432/postgres', log = benchLog } = {}) {
  const { createPool, ensureDatabase, dropDatabase } = await dist('common/db.js');
  const { createLogger } = await dist('common/logger.js');
  const { migrate } = await dist('control-plane/postgres/migrator.js');
  const { SpoolLedger } = await dist('control-plane/metering/write/spool-ledger.js');
  const PostgresLedger = await postgresLedgerClass(dist);
  const { UsageStore } = await dist('control-plane/metering/read/usage-store.js');
  const { PriceStore } = await dist('control-plane/metering/pricing/price-store.js');
  const { buildInvoice, exactCost } = await dist('control-plane/metering/pricing/pricing.js');
  const { newInvocationId } = await dist('control-plane/invocation/invocation-id.js');

  const url = withDatabase(dbBase, `gantry_bench_meter_${randomBytes(4).toString('hex')}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-bench-meter-'));
  const logger = createLogger({ level: 'warn', name: 'bench-metering' });
  await ensureDatabase(url);
  const pool = createPool({ url, max: 6, statementTimeoutMs: 900_000, applicationName: 'gantry-bench' });
  const t0 = Date.now();
  try {
    await migrate(pool, path.join(ROOT, 'migrations'));
    log(`metering: generating ${ENTRIES} ledger entries and their hourly rollup`);
    const generateMs = await generate(pool, ENTRIES);

    const entry = (fn, at) => ({
      invocationId: newInvocationId(at.getTime()), attempt: 1, tenantId: 'default', functionId: FN_ID, functionName: fn, versionId: 1,
      source: 'gateway', startedAt: at, durationUs: 812, initDurationUs: 0, billedMs: 1, memoryMb: 128, coldStart: 'none', status: 'succeeded', errorType: null,
    });

    log('metering: added latency of one append at a time (idle node)');
    const spoolOpts = (d) => ({ spoolDir: d, segmentMaxBytes: 8 * 1024 * 1024, segmentMaxAgeMs: 60_000, maxBacklogBytes: 1024 ** 3, shipBatchMaxEntries: 5_000, rejectionFlushIntervalMs: 1_000, closeShipDeadlineMs: 10_000 });
    const spool1 = new SpoolLedger({ pool, logger }, spoolOpts(path.join(dir, 'seq')));
    await spool1.start();
    const seqSpool = await sequential((i) => spool1.append(entry('bench-seq', new Date())), LATENCY_SAMPLES);
    await spool1.drained(30_000);
    await spool1.close();
    const direct = new PostgresLedger(pool);
    const seqDirect = await sequential(() => direct.append(entry('bench-seq-direct', new Date())), LATENCY_SAMPLES);
    await direct.close();

    log(`metering: ingest of ${INGEST} entries from ${INGEST_CONCURRENCY} concurrent invocations into the ${ENTRIES}-entry ledger`);
    const spool2 = new SpoolLedger({ pool, logger }, spoolOpts(path.join(dir, 'ingest')));
    await spool2.start();
    const before = await count(pool);
    const lat = [];
    let next = 0;
    const start = nowMs();
    const deadline = Date.now() + 120_000;
    await Promise.all(Array.from({ length: INGEST_CONCURRENCY }, async (_, w) => {
      while (next < INGEST && Date.now() < deadline) {
        next += 1;
        const s = nowMs();
        await spool2.append(entry(`bench-ingest-${w % 16}`, new Date()));
        lat.push(nowMs() - s);
      }
    }));
    const durableMs = nowMs() - start;
    const drained = await spool2.drained(180_000);
    const shippedMs = nowMs() - start;
    const inserted = (await count(pool)) - before;
    await spool2.close();

    log('metering: usage, invoice and invocation-list queries');
    const usage = new UsageStore(pool);
    const prices = await new PriceStore(pool, { pricePerGbSecond: '0.0000166667', pricePerMillionRequests: '0.20', currency: 'USD' }).prices('default');
    const edgeFrom = new Date('2026-01-01T00:30:00Z');
    const edgeTo = new Date('2026-01-31T23:30:00Z');
    const queries = {
      usageByFunction: await timed(async () => (await usage.usage('default', edgeFrom, edgeTo, 'function')).map((r) => exactCost(r, prices).toString()).length),
      usageByDay: await timed(async () => (await usage.usage('default', MONTH_FROM, MONTH_TO, 'day')).map((r) => exactCost(r, prices).toString()).length),
      invoice: await timed(async () => buildInvoice('2026-01', await usage.byFunction('default', MONTH_FROM, MONTH_TO), prices).lines.length),
      invocationsFirstPage: await timed(async () => (await usage.invocations('default', 'fn-7', 50)).invocations.length),
      invocationsPage20: await timed(async () => {
        let page = await usage.invocations('default', 'fn-7', 50);
        for (let i = 0; i < 19 && page.nextCursor; i++) page = await usage.invocations('default', 'fn-7', 50, decodeCursorLike(page.nextCursor));
        return page.invocations.length;
      }, 2),
    };
    const invoice = buildInvoice('2026-01', await usage.byFunction('default', MONTH_FROM, MONTH_TO), prices);
    const ledgerRows = await count(pool);

    return {
      entries: ledgerRows,
      generateMs,
      ingest: {
        entries: INGEST,
        concurrency: INGEST_CONCURRENCY,
        inserted,
        allShipped: drained,
        durablePerS: Math.round(INGEST / (durableMs / 1000)),
        intoPostgresPerS: Math.round(inserted / (shippedMs / 1000)),
        appendMs: compact(stats(lat)),
      },
      addedLatencyMs: { spoolSequential: compact(stats(seqSpool)), postgresGroupCommitSequential: compact(stats(seqDirect)), spoolUnderIngest: compact(stats(lat)) },
      queriesMs: Object.fromEntries(Object.entries(queries).map(([k, v]) => [k, v])),
      invoice: { lines: invoice.lines.length, total: invoice.total, requests: invoice.lines.reduce((a, l) => a + l.requests, 0) },
      totalMs: Date.now() - t0,
    };
  } finally {
    await pool.end().catch(() => undefined);
    await dropDatabase(url).catch((e) => log(`metering: could not drop ${url}: ${e.message}`));
    await rm(dir, { recursive: true, force: true });
  }

  function decodeCursorLike(c) {
    const [startedAtUs, id, attempt] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    return { startedAtUs, id, attempt };
  }
}

const FN_ID = randomUUID();

/** 10M entries over January 2026: two halves in parallel (2 cores), indexes built afterwards. */
async function generate(pool, n) {
  const t = Date.now();
  await pool.query('ALTER TABLE invocations DROP CONSTRAINT invocations_pkey');
  await pool.query('DROP INDEX invocations_function_time_idx, invocations_started_at_idx');
  const half = Math.floor(n / 2);
  const span = (MONTH_TO.getTime() - MONTH_FROM.getTime()) / 1000;
  const insert = (lo, hi) =>
    pool.query(
      `INSERT INTO invocations (id, attempt, tenant_id, function_id, function_name, version_id, source, started_at, duration_us,
         init_duration_us, billed_ms, memory_mb, cold_start, status, error_type)
       SELECT gen_random_uuid(), 1, 'default', $4, 'fn-' || (i % ${FUNCTIONS}), 1, 'gateway',
              $5::timestamptz + (i * ($6::float8 / $3)) * interval '1 second',
              d, CASE WHEN i % 50 = 0 THEN 180000 ELSE 0 END, ceil((d + CASE WHEN i % 50 = 0 THEN 180000 ELSE 0 END) / 1000.0)::int,
              (ARRAY[128, 256, 512, 1024, 1769])[1 + i % 5], CASE WHEN i % 50 = 0 THEN 'container' ELSE 'none' END,
              CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'succeeded' END, CASE WHEN i % 97 = 0 THEN 'Error' END
       FROM (SELECT i, 300 + (i * 7919) % 250000 AS d FROM generate_series($1::bigint, $2::bigint) AS i) g`,
      [lo, hi, n, FN_ID, MONTH_FROM, span],
    );
  await Promise.all([insert(1, half), insert(half + 1, n)]);
  const inserted = Date.now() - t;
  const session = async (sql) => {
    const c = await pool.connect();
    try {
      await c.query("SET maintenance_work_mem = '256MB'");
      await c.query(sql);
    } finally {
      c.release();
    }
  };
  await Promise.all([
    session('ALTER TABLE invocations ADD PRIMARY KEY (id, attempt)'),
    session('CREATE INDEX invocations_function_time_idx ON invocations (tenant_id, function_name, started_at DESC, id)'),
    session('CREATE INDEX invocations_started_at_idx ON invocations (started_at)'),
  ]);
  const indexed = Date.now() - t;
  // The rollup exactly as the shipper keeps it, built from the entries (two halves of the functions).
  const rollup = (mod) =>
    pool.query(`INSERT INTO usage_hourly (tenant_id, function_name, hour, requests, billed_ms, mb_ms, duration_us, init_duration_us, errors, cold_starts)
      SELECT tenant_id, function_name, date_trunc('hour', started_at, 'UTC'), count(*), sum(billed_ms), sum(billed_ms::bigint * memory_mb),
             sum(duration_us), sum(init_duration_us), count(*) FILTER (WHERE status <> 'succeeded'), count(*) FILTER (WHERE cold_start <> 'none')
      FROM invocations WHERE (hashtext(function_name) & 1) = ${mod} GROUP BY 1, 2, 3`);
  await Promise.all([rollup(0), pool.query('SELECT 1').then(() => rollup(1))]);
  await pool.query('ANALYZE invocations; ANALYZE usage_hourly');
  return { insertMs: inserted, indexMs: indexed - inserted, rollupMs: Date.now() - t - indexed, totalMs: Date.now() - t };
}

async function count(pool) {
  return Number((await pool.query('SELECT count(*) AS n FROM invocations')).rows[0].n);
}

async function sequential(fn, n) {
  const out = [];
  const end = Date.now() + 30_000;
  for (let i = 0; i < n && Date.now() < end; i++) {
    const s = nowMs();
    await fn(i);
    out.push(nowMs() - s);
  }
  return out;
}

async function timed(fn, runs = QUERY_RUNS) {
  const samples = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const s = nowMs();
    rows = await fn();
    samples.push(nowMs() - s);
  }
  const s = stats(samples);
  return { p50: r2(s.p50), max: r2(s.max), rows };
}

function compact(s) {
  return { n: s.n, p50: r2(s.p50), p99: r2(s.p99), max: r2(s.max) };
}

/** Table lines for the bench report. */
export function formatMetering(m) {
  const q = m.queriesMs;
  return [
    `Metering (${m.entries} ledger entries; generated in ${Math.round(m.generateMs.totalMs / 1000)} s)`,
    `  ingest into Postgres          ${m.ingest.intoPostgresPerS} entries/s (${m.ingest.inserted} entries, ${m.ingest.concurrency} concurrent; durable in the spool at ${m.ingest.durablePerS}/s)`,
    `  added latency, one at a time  spool p50 ${m.addedLatencyMs.spoolSequential.p50} ms p99 ${m.addedLatencyMs.spoolSequential.p99} ms | direct Postgres group commit p50 ${m.addedLatencyMs.postgresGroupCommitSequential.p50} ms p99 ${m.addedLatencyMs.postgresGroupCommitSequential.p99} ms`,
    `  added latency under ingest    spool p50 ${m.addedLatencyMs.spoolUnderIngest.p50} ms p99 ${m.addedLatencyMs.spoolUnderIngest.p99} ms`,
    `  usage by function (edges)     p50 ${q.usageByFunction.p50} ms max ${q.usageByFunction.max} ms`,
    `  usage by day                  p50 ${q.usageByDay.p50} ms max ${q.usageByDay.max} ms`,
    `  invoice (${m.invoice.lines} lines)           p50 ${q.invoice.p50} ms max ${q.invoice.max} ms`,
    `  invocations page 1 / page 20  p50 ${q.invocationsFirstPage.p50} ms / ${q.invocationsPage20.p50} ms (20 pages)`,
    `  targets: ingest >= 20000/s ${m.ingest.intoPostgresPerS >= 20_000 ? 'PASS' : 'MISS'}; usage and invoice < 1 s ${Math.max(q.usageByFunction.max, q.usageByDay.max, q.invoice.max) < 1000 ? 'PASS' : 'MISS'}`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const m = await meteringBench({ dbBase: process.env.BENCH_DATABASE_URL });
  for (const line of formatMetering(m)) process.stdout.write(`${line}\n`);
  process.stdout.write(`${JSON.stringify(m)}\n`);
}
