/**
 * Async invocations under a burst (issue 7, item 7): 10 000 events (`?async=true`) sent as fast
 * as 32 keep-alive connections allow against a function with reserved concurrency 10, then
 * waited for. It reports the enqueue throughput (events accepted per second, each 202 only once
 * the event is in Redis), how fast the queue drains, and, per event, the delay from acceptance
 * to its start and to its outcome (server clocks, from the async_invocations table), p50/p99.
 * It also checks that every event ran exactly once and was billed once (ledger rows), and that
 * nothing was throttled away. Bounded in count and time.
 */
import pg from 'pg';
import { Pool } from 'undici';
import { log, nowMs, num, sleep, stats, zipFor } from './lib.mjs';

const EVENTS = Math.min(num('BENCH_ASYNC_EVENTS', 10_000), 10_000);
const RESERVED = 10;
const CLIENTS = 32;
const ENQUEUE_MS = 120_000;
const DRAIN_MS = 300_000;
const HANDLER_SRC = 'exports.handler = async (e) => ({ n: e.n });\n';

export async function benchAsync({ cpUrl, token, databaseUrl, admin }) {
  const fn = 'async-burst';
  await admin('POST', '/v1/functions', { name: fn, runtime: 'nodejs20', handler: 'index.handler', network: 'none', code: { zipBase64: zipFor(HANDLER_SRC) } });
  await admin('PATCH', `/v1/functions/${fn}`, { reservedConcurrency: RESERVED });
  await admin('PUT', `/v1/functions/${fn}/async-config`, { maximumRetryAttempts: 0 });
  await admin('POST', `/v1/functions/${fn}/invoke`, {});
  log(`async: ${EVENTS} events on ${CLIENTS} connections against reserved concurrency ${RESERVED}`);

  const pool = new Pool(cpUrl, { connections: CLIENTS, pipelining: 1 });
  let next = 0;
  let refused = 0;
  const deadline = Date.now() + ENQUEUE_MS;
  const t0 = nowMs();
  const sender = async () => {
    while (next < EVENTS && Date.now() < deadline) {
      const n = next++;
      const res = await pool.request({
        method: 'POST',
        path: `/v1/functions/${fn}/invoke?async=true`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ n }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 202) refused++;
      if (res.statusCode !== 202 && refused <= 3) log(`async: enqueue answered ${res.statusCode} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, sender));
  const enqueueMs = nowMs() - t0;
  await pool.close();
  const accepted = next - refused;
  log(`async: ${accepted} accepted in ${(enqueueMs / 1000).toFixed(1)} s; waiting for the queue to drain`);

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const drainEnd = Date.now() + DRAIN_MS;
    let finished = 0;
    while (Date.now() < drainEnd) {
      finished = Number((await db.query('SELECT count(*) AS n FROM async_invocations WHERE function_name = $1', [fn])).rows[0].n);
      if (finished >= accepted) break;
      await sleep(250);
    }
    const rows = (
      await db.query(
        `SELECT extract(epoch FROM started_at - created_at) * 1000 AS queued_ms, extract(epoch FROM updated_at - created_at) * 1000 AS e2e_ms,
                status, extract(epoch FROM created_at) * 1000 AS created, extract(epoch FROM updated_at) * 1000 AS done
           FROM async_invocations WHERE function_name = $1`,
        [fn],
      )
    ).rows;
    const ledger = (await db.query('SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM invocations WHERE function_name = $1 AND source = $2', [fn, 'async'])).rows[0];
    const first = Math.min(...rows.map((r) => Number(r.created)));
    const last = Math.max(...rows.map((r) => Number(r.done)));
    const result = {
      events: EVENTS,
      reservedConcurrency: RESERVED,
      clients: CLIENTS,
      accepted,
      refused,
      finished: rows.length,
      succeeded: rows.filter((r) => r.status === 'succeeded').length,
      enqueuePerS: Math.round(accepted / (enqueueMs / 1000)),
      enqueueMs: Math.round(enqueueMs),
      drainPerS: Math.round(rows.length / ((last - first) / 1000)),
      drainMs: Math.round(last - first),
      queuedMs: stats(rows.map((r) => Number(r.queued_ms))),
      endToEndMs: stats(rows.map((r) => Number(r.e2e_ms))),
      ledgerRows: Number(ledger.rows),
      ledgerInvocations: Number(ledger.ids),
    };
    log(
      `async: enqueue ${result.enqueuePerS}/s; drained ${result.finished}/${accepted} at ${result.drainPerS}/s; ` +
        `accept→start p50 ${result.queuedMs.p50?.toFixed(0)} p99 ${result.queuedMs.p99?.toFixed(0)} ms; accept→outcome p50 ${result.endToEndMs.p50?.toFixed(0)} p99 ${result.endToEndMs.p99?.toFixed(0)} ms; ` +
        `ledger ${result.ledgerRows} rows for ${result.ledgerInvocations} invocations`,
    );
    return result;
  } finally {
    await db.end();
  }
}
