// Metering as a user sees it: every invocation (direct and routed, succeeded and failed) appears
// once in the ledger with what its response headers said; usage, invoice and prices follow
// api.md exactly, in exact decimals; throttled requests are counted and never billed; bad query
// parameters are 400s.
import t from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const SLEEPER = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 1)); if (e.fail) throw new Error('asked to fail'); return { ok: true }; };`;
const stack = await startStack(t);
const seen = new Map<string, { billed: number; status: string }>();

interface Invocation {
  id: string; attempt: number; startedAt: string; durationMs: number; billedDurationMs: number; memoryMb: number;
  coldStart: boolean; status: string; errorType: string | null; source: string;
}

async function invoke(body: unknown): Promise<Response> {
  const res = await stack.admin('POST', '/v1/functions/meter/invoke', body);
  const id = res.headers.get('x-gantry-invocation-id');
  if (res.status === 200 && id) seen.set(id, { billed: Number(res.headers.get('x-gantry-billed-duration-ms')), status: res.headers.get('x-gantry-function-error') ? 'failed' : 'succeeded' });
  return res;
}

async function listAll(limit: number): Promise<Invocation[]> {
  const out: Invocation[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res = await stack.admin('GET', `/v1/functions/meter/invocations?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    const body = (await res.json()) as { invocations: Invocation[]; nextCursor: string | null };
    out.push(...body.invocations);
    cursor = body.nextCursor;
    if (cursor === null) break;
  }
  return out;
}

const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
const month = new Date().toISOString().slice(0, 7);

await t.test('every invocation that ran has one ledger entry matching its response', async (t) => {
  await deployFunction(t, stack, 'meter', nodeZip(SLEEPER), { memoryMb: 256 });
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'm' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/m/routes', { routeKey: 'POST /run', function: 'meter' })).status, 201);
  for (const body of [{ ms: 5 }, { ms: 30 }, { ms: 1 }, { ms: 2, fail: true }]) t.equal((await invoke(body)).status, 200);
  t.ok(await eventually(async () => (await fetch(`${stack.gatewayUrl}/m/run`, { method: 'POST', body: '{"ms":3}' })).status === 200, 5_000), 'routed call');
  t.ok(await eventually(async () => (await listAll(50)).length === 5, 10_000), 'five entries arrive');
  const all = await listAll(50);
  const ids = all.map((i) => i.id);
  t.equal(new Set(ids).size, 5, 'no duplicates');
  for (const [id, s] of seen) {
    const e = all.find((i) => i.id === id);
    t.ok(e, `entry for ${id}`);
    t.equal(e?.billedDurationMs, s.billed, 'billed as the header said');
    t.equal(e?.status, s.status);
  }
  const routed = all.filter((i) => !seen.has(i.id));
  t.equal(routed.length, 1);
  t.equal(routed[0]?.source, 'gateway');
  const failed = all.find((i) => i.status === 'failed');
  t.equal(failed?.errorType, 'Error');
  const sorted = [...all].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  t.same(all.map((i) => i.startedAt), sorted.map((i) => i.startedAt), 'newest first');
  for (const i of all) {
    t.equal(i.memoryMb, 256);
    t.equal(typeof i.coldStart, 'boolean');
    t.ok(Number.isInteger(i.billedDurationMs));
    t.ok(i.billedDurationMs >= Math.ceil(i.durationMs) || i.coldStart, 'billed ≥ duration, rounded up');
  }
  t.ok(all.some((i) => !Number.isInteger(i.durationMs)), 'durationMs has sub-millisecond precision');
});

await t.test('pages follow the cursor without gaps or repeats', async (t) => {
  const whole = await listAll(50);
  const paged = await listAll(2);
  t.same(paged.map((i) => i.id), whole.map((i) => i.id));
  const first = (await (await stack.admin('GET', '/v1/functions/meter/invocations?limit=5')).json()) as { nextCursor: string | null };
  t.equal(first.nextCursor, null, 'no cursor after the last page');
});

await t.test('usage by function and by day, in exact decimals', async (t) => {
  const res = await stack.admin('GET', `/v1/usage?from=${hourAgo}&to=${inAnHour}&groupBy=function`);
  t.equal(res.status, 200);
  const body = (await res.json()) as { rows: { key: string; requests: number; billedMs: number; gbSeconds: string; cost: string }[]; currency: string };
  t.equal(body.currency, 'USD');
  const row = body.rows.find((r) => r.key === 'meter');
  const entries = await listAll(50);
  const billedMs = entries.reduce((a, i) => a + i.billedDurationMs, 0);
  t.equal(row?.requests, 5);
  t.equal(row?.billedMs, billedMs);
  // 256 MB: GB-s = billedMs/1000 × 0.25 exactly.
  t.equal(row?.gbSeconds, exactDecimal(BigInt(billedMs) * 25n, 5));
  // cost = 5 × 0.20/1e6 + GB-s × 0.0000166667, exactly.
  // In units of 1e-15: requests 5 × 20e-2 × 1e-6; compute (billedMs × 25e-5) × 166667e-10.
  const cost = 5n * 20n * 10n ** 7n + BigInt(billedMs) * 25n * 166667n;
  t.equal(row?.cost, exactDecimal(cost, 15));
  const byDay = (await (await stack.admin('GET', `/v1/usage?from=${hourAgo}&to=${inAnHour}&groupBy=day`)).json()) as { rows: { key: string; requests: number }[] };
  t.equal(byDay.rows.reduce((a, r) => a + r.requests, 0), 5);
  t.ok(byDay.rows.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(r.key)), 'UTC days as YYYY-MM-DD');
});

await t.test('the invoice has a line per function that adds up to the smallest unit', async (t) => {
  const res = await stack.admin('GET', `/v1/usage/invoice?month=${month}`);
  t.equal(res.status, 200);
  const inv = (await res.json()) as { month: string; currency: string; total: string; lines: { function: string; requests: number; gbSeconds: string; requestCost: string; computeCost: string; total: string }[] };
  t.equal(inv.month, month);
  t.equal(inv.currency, 'USD');
  const line = inv.lines.find((l) => l.function === 'meter');
  const billedMs = (await listAll(50)).reduce((a, i) => a + i.billedDurationMs, 0);
  t.equal(line?.requests, 5);
  t.equal(line?.requestCost, '0.000001', '5 × $0.20/M = 0.000001 (half-up)');
  t.equal(line?.computeCost, roundMicros(BigInt(billedMs) * 25n * 166667n, 15));
  t.equal(line?.total, addMicros(line?.requestCost ?? '', line?.computeCost ?? ''));
  t.equal(inv.total, inv.lines.map((l) => l.total).reduce(addMicros, '0.000000'), 'total = sum of lines');
});

await t.test('throttled requests are counted as such and never billed', async (t) => {
  t.equal((await stack.admin('PATCH', '/v1/functions/meter', { reservedConcurrency: 0 })).status, 200);
  const res = await invoke({ ms: 1 });
  t.equal(res.status, 429);
  t.equal(((await res.json()) as { error: { type: string } }).error.type, 'TooManyRequests');
  const usage = async () => ((await (await stack.admin('GET', `/v1/usage?from=${hourAgo}&to=${inAnHour}`)).json()) as { rows: { key: string; requests: number; rejected: { throttled: number } }[] }).rows.find((r) => r.key === 'meter');
  t.ok(await eventually(async () => (await usage())?.rejected.throttled === 1, 5_000), 'one throttle counted');
  t.equal((await usage())?.requests, 5, 'not a request');
  t.equal((await listAll(50)).length, 5, 'no ledger entry');
  t.equal((await stack.admin('PATCH', '/v1/functions/meter', { reservedConcurrency: null })).status, 200);
});

await t.test('prices: defaults, a tenant override in exact decimals, and back', async (t) => {
  const def = await (await stack.admin('GET', '/v1/prices')).json();
  t.same(def, { pricePerGbSecond: '0.0000166667', pricePerMillionRequests: '0.20', currency: 'USD', source: 'default', updatedAt: null });
  const put = await stack.admin('PUT', '/v1/prices', { pricePerGbSecond: '0.00001', pricePerMillionRequests: '1000000', currency: 'EUR' });
  t.equal(put.status, 200);
  t.match(await put.json(), { pricePerGbSecond: '0.00001', pricePerMillionRequests: '1000000', currency: 'EUR', source: 'tenant' });
  const inv = (await (await stack.admin('GET', `/v1/usage/invoice?month=${month}`)).json()) as { currency: string; lines: { function: string; requestCost: string }[] };
  t.equal(inv.currency, 'EUR');
  t.equal(inv.lines.find((l) => l.function === 'meter')?.requestCost, '5.000000', '$1 per request × 5');
  for (const bad of [{ pricePerGbSecond: '-1', pricePerMillionRequests: '1' }, { pricePerGbSecond: '1e-5', pricePerMillionRequests: '1' }, { pricePerGbSecond: '1' }, { pricePerGbSecond: '1', pricePerMillionRequests: '1', currency: 'usd' }, { pricePerGbSecond: '1', pricePerMillionRequests: '1', extra: 1 }]) {
    const r = await stack.admin('PUT', '/v1/prices', bad);
    t.equal(r.status, 400, JSON.stringify(bad));
    t.equal(((await r.json()) as { error: { type: string } }).error.type, 'ValidationError');
  }
  t.equal((await stack.admin('DELETE', '/v1/prices')).status, 204);
  t.match(await (await stack.admin('GET', '/v1/prices')).json(), { source: 'default', currency: 'USD' });
});

await t.test('malformed query parameters are 400 ValidationError; unknown functions 404', async (t) => {
  for (const p of [
    '/v1/usage?groupBy=week',
    '/v1/usage?from=yesterday',
    '/v1/usage?from=2026-13-01',
    `/v1/usage?from=${inAnHour}&to=${hourAgo}`,
    '/v1/usage?from=2026-01-01&from=2026-01-02',
    '/v1/usage?colour=blue',
    '/v1/usage/invoice',
    '/v1/usage/invoice?month=2026-1',
    '/v1/usage/invoice?month=2026-13',
    '/v1/functions/meter/invocations?limit=0',
    '/v1/functions/meter/invocations?limit=1001',
    '/v1/functions/meter/invocations?limit=2.5',
    '/v1/functions/meter/invocations?cursor=bogus',
  ]) {
    const r = await stack.admin('GET', p);
    t.equal(r.status, 400, p);
    t.equal(((await r.json()) as { error: { type: string } }).error.type, 'ValidationError', p);
  }
  t.equal((await stack.admin('GET', '/v1/functions/nope/invocations')).status, 404);
  t.equal((await fetch(`${stack.controlPlaneUrl}/v1/usage`)).status, 401, 'admin token required');
});

await t.test('/readyz reports the metering check', async (t) => {
  const r = (await (await fetch(`${stack.controlPlaneUrl}/readyz`)).json()) as { checks: Record<string, boolean> };
  t.equal(r.checks.metering, true);
});

/** units × 10^-scale as the shortest exact decimal string. */
function exactDecimal(units: bigint, scale: number): string {
  const s = units.toString().padStart(scale + 1, '0');
  const int = s.slice(0, -scale);
  const frac = s.slice(-scale).replace(/0+$/, '');
  return frac === '' ? int : `${int}.${frac}`;
}

function roundMicros(units: bigint, scale: number): string {
  const d = 10n ** BigInt(scale - 6);
  const q = units / d + ((units % d) * 2n >= d ? 1n : 0n);
  return exactDecimalFixed(q);
}

function addMicros(a: string, b: string): string {
  return exactDecimalFixed(BigInt(a.replace('.', '')) + BigInt(b.replace('.', '')));
}

function exactDecimalFixed(micros: bigint): string {
  const s = micros.toString().padStart(7, '0');
  return `${s.slice(0, -6)}.${s.slice(-6)}`;
}
