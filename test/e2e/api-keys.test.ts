// API keys and usage plans through two gateways sharing one control plane, database and Redis
// prefix (api.md, Usage plans and keys; compat.md §7): exact quotas and throttles across
// gateways, the exact refusal bodies, usage per key per day, keys stored hashed.
import { createHash } from 'node:crypto';
import pg from 'pg';
import t, { type Test } from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t, { secondGateway: true });
const gateways = [stack.gatewayUrl, stack.secondGatewayUrl as string];
const ECHO = `exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });`;
const keys: Record<string, { id: string; value: string }> = {};
const plans: Record<string, string> = {};

async function json<T>(res: Response, status: number, t: Test): Promise<T> {
  const text = await res.text();
  t.equal(res.status, status, text.slice(0, 300));
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Sends `count` requests at once, alternating gateways; tallies "status body". */
async function spread(path: string, count: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await fetch(gateways[i % 2] + path, { headers });
      return `${res.status} ${await res.text()}`;
    }),
  );
  const tally: Record<string, number> = {};
  for (const a of answers) tally[a] = (tally[a] ?? 0) + 1;
  return tally;
}

await t.test('sets up an API, usage plans and keys over the admin API', async (t) => {
  // A long timeout: the quota test starts several containers at once on a small machine.
  await deployFunction(t, stack, 'echo', nodeZip(ECHO), { timeoutMs: 60_000 });
  for (const name of ['shop', 'other']) t.equal((await stack.admin('POST', '/v1/apis', { name })).status, 201);
  const routes: [string, Record<string, unknown>][] = [
    ['shop', { routeKey: 'GET /keyed', apiKeyRequired: true }],
    ['shop', { routeKey: 'GET /tight', apiKeyRequired: true }],
    ['shop', { routeKey: 'GET /keyed1', apiKeyRequired: true, payloadFormatVersion: '1.0' }],
    ['shop', { routeKey: 'GET /limited', throttle: { rateLimit: 0, burstLimit: 3 } }],
    ['other', { routeKey: 'GET /keyed', apiKeyRequired: true }],
  ];
  for (const [api, route] of routes) t.equal((await stack.admin('POST', `/v1/apis/${api}/routes`, { function: 'echo', ...route })).status, 201);
  const gold = await json<{ id: string; quota: unknown }>(await stack.admin('POST', '/v1/usage-plans', { name: 'gold', apis: ['shop'], quota: { limit: 10, period: 'DAY' } }), 201, t);
  t.strictSame(gold.quota, { limit: 10, period: 'DAY' });
  plans['gold'] = gold.id;
  plans['tight'] = (await json<{ id: string }>(await stack.admin('POST', '/v1/usage-plans', { name: 'tight', apis: ['shop'], throttle: { rateLimit: 0.001, burstLimit: 2 } }), 201, t)).id;
  plans['roomy'] = (await json<{ id: string }>(await stack.admin('POST', '/v1/usage-plans', { name: 'roomy', apis: ['shop'] }), 201, t)).id;
  for (const [name, plan] of [['gold', 'gold'], ['tight', 'tight'], ['roomy', 'roomy'], ['roomy2', 'roomy']] as const) {
    const key = await json<{ id: string; name: string; value: string }>(await stack.admin('POST', '/v1/api-keys', { name, usagePlanId: plans[plan] }), 201, t);
    t.match(key.value, /^[A-Za-z0-9]{40}$/, 'a generated key is 40 alphanumerics');
    keys[name] = { id: key.id, value: key.value };
  }
  // Warm first: the wait below measures route propagation alone, not a cold start on a busy
  // machine (the two together once took over 10 s).
  t.equal((await stack.admin('POST', '/v1/functions/echo/invoke', {})).status, 200, 'echo is warm');
  // A route created after the keys: once both gateways serve it, their snapshot holds the keys.
  t.equal((await stack.admin('POST', '/v1/apis/shop/routes', { function: 'echo', routeKey: 'GET /sentinel' })).status, 201);
  for (const gw of gateways) t.ok(await eventually(async () => (await fetch(`${gw}/shop/sentinel`)).status === 200, 3_000), `${gw} serves the new route`);
});

t.test('a key value is shown once and stored only as its sha256', async (t) => {
  const one = await json<Record<string, unknown>>(await stack.admin('GET', `/v1/api-keys/${keys['gold']?.id}`), 200, t);
  t.notOk('value' in one);
  const list = await json<{ items: Record<string, unknown>[] }>(await stack.admin('GET', '/v1/api-keys'), 200, t);
  t.equal(list.items.length, 4);
  t.ok(list.items.every((k) => !('value' in k)));
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const row = (await db.query('SELECT * FROM api_keys WHERE id = $1', [keys['gold']?.id])).rows[0] as Record<string, unknown>;
  t.equal(row['key_sha256'], createHash('sha256').update(keys['gold']?.value ?? '').digest('hex'));
  t.notOk(Object.values(row).includes(keys['gold']?.value), 'the value itself is nowhere in the row');
});

t.test('a missing, unknown or foreign key is 403 Forbidden on both gateways', async (t) => {
  const cases: [string, string, Record<string, string>][] = [
    ['missing', '/shop/keyed', {}],
    ['unknown', '/shop/keyed', { 'x-api-key': 'A'.repeat(40) }],
    ['empty', '/shop/keyed', { 'x-api-key': '' }],
    ['not in the plan of this API', '/other/keyed', { 'x-api-key': keys['roomy']?.value ?? '' }],
  ];
  for (const [what, path, headers] of cases) {
    for (const gw of gateways) {
      const res = await fetch(gw + path, { headers });
      t.equal(res.status, 403, what);
      t.equal(await res.text(), '{"message":"Forbidden"}', what);
    }
  }
});

t.test('a quota of 10 admits exactly 10 requests across two gateways, then Limit Exceeded', async (t) => {
  const tally = await spread('/shop/keyed', 30, { 'x-api-key': keys['gold']?.value ?? '' });
  const ok = Object.entries(tally).filter(([k]) => k.startsWith('200 ')).reduce((n, [, v]) => n + v, 0);
  t.equal(ok, 10, JSON.stringify(Object.keys(tally).map((k) => k.slice(0, 40))));
  t.equal(tally['429 {"message":"Limit Exceeded"}'], 20);
});

t.test("a quota offset is taken off the limit in the plan's first period (compat.md §7)", async (t) => {
  const plan = await json<{ id: string; quota: unknown }>(await stack.admin('POST', '/v1/usage-plans', { name: 'offset', apis: ['shop'], quota: { limit: 5, period: 'DAY', offset: 3 } }), 201, t);
  t.strictSame(plan.quota, { limit: 5, period: 'DAY', offset: 3 });
  const key = await json<{ id: string; value: string }>(await stack.admin('POST', '/v1/api-keys', { name: 'offset', usagePlanId: plan.id }), 201, t);
  const headers = { 'x-api-key': key.value };
  let admitted = 0;
  // Until a gateway has the new key it answers 403, which counts nothing.
  for (const gw of gateways) {
    const knows = async () => {
      const res = await fetch(`${gw}/shop/keyed`, { headers });
      await res.text();
      if (res.status === 200) admitted += 1;
      return res.status !== 403;
    };
    t.ok(await eventually(knows, 5_000), `${gw} knows the key`);
  }
  const tally = await spread('/shop/keyed', 10, headers);
  admitted += Object.entries(tally).filter(([k]) => k.startsWith('200 ')).reduce((n, [, v]) => n + v, 0);
  t.equal(admitted, 2, 'a limit of 5 less an offset of 3, this first day');
  const usage = await json<{ remaining: number }>(await stack.admin('GET', `/v1/api-keys/${key.id}/usage`), 200, t);
  t.equal(usage.remaining, 0);
});

t.test('usage per key per day is queryable, with what is left of the quota', async (t) => {
  const usage = await json<{ items: { date: string; used: number }[]; remaining: number }>(await stack.admin('GET', `/v1/api-keys/${keys['gold']?.id}/usage`), 200, t);
  const today = new Date().toISOString().slice(0, 10);
  t.equal(usage.items.length, 30, 'the last 30 days by default');
  t.strictSame(usage.items.at(-1), { date: today, used: 10 });
  t.equal(usage.remaining, 0);
  const ranged = await json<{ items: { date: string; used: number }[]; remaining: number | null }>(await stack.admin('GET', `/v1/api-keys/${keys['roomy']?.id}/usage?from=${today}&to=${today}`), 200, t);
  t.strictSame(ranged.items, [{ date: today, used: 0 }]);
  t.equal(ranged.remaining, null, 'no quota, nothing remaining to count');
  await json(await stack.admin('GET', `/v1/api-keys/${keys['gold']?.id}/usage?from=2026-13-01`), 400, t);
  await json(await stack.admin('GET', '/v1/api-keys/ak-nope/usage'), 404, t);
});

t.test('a plan throttle admits its burst across gateways, then Too Many Requests', async (t) => {
  const tally = await spread('/shop/tight', 8, { 'x-api-key': keys['tight']?.value ?? '' });
  t.equal(tally['429 {"message":"Too Many Requests"}'], 6);
  t.equal(Object.entries(tally).filter(([k]) => k.startsWith('200 ')).reduce((n, [, v]) => n + v, 0), 2);
});

t.test('a route throttle limits every client of the route together', async (t) => {
  const tally = await spread('/shop/limited', 8);
  t.equal(tally['429 {"message":"Too Many Requests"}'], 5);
});

t.test('a 1.0 event carries the key and its id in requestContext.identity', async (t) => {
  const res = await fetch(`${stack.gatewayUrl}/shop/keyed1`, { headers: { 'x-api-key': keys['roomy']?.value ?? '' } });
  t.equal(res.status, 200);
  const e = (await res.json()) as { requestContext: { identity: Record<string, unknown> } };
  t.equal(e.requestContext.identity['apiKey'], keys['roomy']?.value);
  t.equal(e.requestContext.identity['apiKeyId'], keys['roomy']?.id);
});

t.test('a deleted key is refused by every gateway within a second', async (t) => {
  const headers = { 'x-api-key': keys['roomy2']?.value ?? '' };
  t.equal((await fetch(`${stack.secondGatewayUrl}/shop/keyed`, { headers })).status, 200);
  t.equal((await stack.admin('DELETE', `/v1/api-keys/${keys['roomy2']?.id}`)).status, 204);
  for (const gw of gateways) t.ok(await eventually(async () => (await fetch(`${gw}/shop/keyed`, { headers })).status === 403, 1_000), gw);
  t.equal((await stack.admin('DELETE', `/v1/api-keys/${keys['roomy2']?.id}`)).status, 404);
});

t.test('bad usage plan and key requests get their admin errors', async (t) => {
  const cases: [string, string, unknown, number][] = [
    ['a plan for an unknown API', '/v1/usage-plans', { name: 'x', apis: ['nope'] }, 400],
    ['a quota with an unknown period', '/v1/usage-plans', { name: 'x', quota: { limit: 1, period: 'YEAR' } }, 400],
    ['a quota offset over its limit', '/v1/usage-plans', { name: 'x', quota: { limit: 1, period: 'DAY', offset: 2 } }, 400],
    ['a negative burst', '/v1/usage-plans', { name: 'x', throttle: { rateLimit: 1, burstLimit: -1 } }, 400],
    ['a key for an unknown plan', '/v1/api-keys', { name: 'x', usagePlanId: 'up-nope' }, 400],
    ['a key value too short', '/v1/api-keys', { name: 'x', usagePlanId: plans['roomy'], value: 'short' }, 400],
    ['a key value with symbols', '/v1/api-keys', { name: 'x', usagePlanId: plans['roomy'], value: `${'a'.repeat(20)}!` }, 400],
  ];
  for (const [what, path, body, status] of cases) {
    const res = await stack.admin('POST', path, body);
    t.equal(res.status, status, what);
    t.match(await res.json(), { error: { type: 'ValidationError' } }, what);
  }
  const chosen = { name: 'mine', usagePlanId: plans['roomy'], value: 'Z'.repeat(30) };
  t.equal((await stack.admin('POST', '/v1/api-keys', chosen)).status, 201, 'a chosen value is accepted');
  t.equal((await stack.admin('POST', '/v1/api-keys', chosen)).status, 409, 'but only once');
  t.equal((await stack.admin('DELETE', `/v1/usage-plans/${plans['roomy']}`)).status, 409, 'a plan with keys stays');
  const plan = await json<{ id: string }>(await stack.admin('POST', '/v1/usage-plans', { name: 'empty' }), 201, t);
  t.equal((await stack.admin('GET', `/v1/usage-plans/${plan.id}`)).status, 200);
  t.equal((await stack.admin('DELETE', `/v1/usage-plans/${plan.id}`)).status, 204);
  t.equal((await stack.admin('GET', `/v1/usage-plans/${plan.id}`)).status, 404);
});
