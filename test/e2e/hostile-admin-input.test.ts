// Hostile values for stored fields over the admin API: JSON nested far too deep, CR/LF in what the
// gateway writes into headers, dot segments in route paths. Each is a 400 ValidationError naming
// the field, the control plane keeps answering, and nothing is stored or half-created.
import pg from 'pg';
import t, { type Test } from 'tap';
import { deployFunction, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t);
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
t.teardown(() => db.end());

const DEEP = 100_000;
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** A raw JSON body: too deep for JSON.stringify to write, so it is sent as bytes. */
function raw(method: string, path: string, text: string, contentType = 'application/json'): Promise<Response> {
  const body = contentType.includes('utf-16le') ? Buffer.from(text, 'utf16le') : Buffer.from(text);
  return stack.admin(method, path, body, { 'content-type': contentType });
}

async function expect400(t: Test, res: Response, message: RegExp): Promise<void> {
  const body = (await res.json()) as { error?: { type: string; message: string } };
  t.equal(res.status, 400, JSON.stringify(body).slice(0, 300));
  t.equal(body.error?.type, 'ValidationError');
  t.match(body.error?.message, message);
}

async function count(table: string): Promise<number> {
  return ((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0] as { n: number }).n;
}

await t.test('set up a function and an API', async (t) => {
  await deployFunction(t, stack, 'f', nodeZip('exports.handler = async (e) => e;'));
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'demo' })).status, 201);
});

await t.test(`a schedule input nested ${DEEP} deep is a 400 naming input`, async (t) => {
  await expect400(t, await raw('POST', '/v1/functions/f/schedules', `{"expression":"rate(5 minutes)","input":${deepArray(DEEP)}}`), /input: nested deeper than 64 levels/);
  await expect400(t, await raw('POST', '/v1/functions/f/schedules', `{"expression":"rate(5 minutes)","input":{"a":${deepArray(65)}}}`), /input: nested deeper than 64 levels/);
  // Bytes in another charset are not scanned before parsing; the parsed body is checked instead.
  await expect400(t, await raw('POST', '/v1/functions/f/schedules', `{"expression":"rate(5 minutes)","input":${deepArray(DEEP)}}`, 'application/json; charset=utf-16le'), /input: nested deeper than 64 levels/);
  t.equal(await count('schedules'), 0, 'no schedule stored');
});

await t.test('a schedule input at exactly 64 levels is accepted', async (t) => {
  const res = await raw('POST', '/v1/functions/f/schedules', `{"expression":"rate(5 minutes)","input":${deepArray(64)}}`);
  const body = (await res.json()) as { id: string };
  t.equal(res.status, 201);
  t.equal((await stack.admin('DELETE', `/v1/functions/f/schedules/${body.id}`)).status, 204);
});

await t.test('every other stored JSON field is bounded the same way', async (t) => {
  const deep = deepArray(DEEP);
  await expect400(t, await raw('PUT', '/v1/functions/f/async-config', `{"onSuccess":${deep}}`), /onSuccess: nested deeper than 64 levels/);
  await expect400(t, await raw('PATCH', '/v1/functions/f', `{"environment":${deep}}`), /environment: nested deeper than 64 levels/);
  await expect400(t, await raw('POST', '/v1/apis', `{"name":"deep","cors":${deep}}`), /cors: nested deeper than 64 levels/);
  await expect400(t, await raw('POST', '/v1/apis/demo/routes', `{"routeKey":"GET /x","function":"f","authorizer":${deep}}`), /authorizer: nested deeper than 64 levels/);
  await expect400(t, await raw('POST', '/v1/usage-plans', `{"name":"p","quota":${deep}}`), /quota: nested deeper than 64 levels/);
  t.equal(await count('async_configs'), 0);
  t.equal(await count('usage_plans'), 0);
});

await t.test("the issue's CR/LF CORS body is a 400 and no API is created", async (t) => {
  const cors = { allowHeaders: ['x-a\r\nX-Injected: yes'], exposeHeaders: ['e\r\nSet-Cookie: s=1'], allowOrigins: ['https://a.example\r\nSet-Cookie: s=1'] };
  await expect400(t, await stack.admin('POST', '/v1/apis', { name: 'cors', cors }), /cors\.allowHeaders\.0.*cors\.exposeHeaders\.0|cors\.allowOrigins\.0/);
  t.equal((await stack.admin('GET', '/v1/apis/cors')).status, 404);
  await expect400(t, await stack.admin('PATCH', '/v1/apis/demo', { cors: { allowOrigins: ['https://a.example\r\nSet-Cookie: s=1'] } }), /cors\.allowOrigins\.0/);
  await expect400(t, await stack.admin('PATCH', '/v1/apis/demo', { hosts: ['demo.example.test\r\nX-Injected: yes'] }), /hosts\.0/);
  const demo = (await (await stack.admin('GET', '/v1/apis/demo')).json()) as { cors: unknown; hosts: unknown };
  t.equal(demo.cors, null, 'the API kept its settings');
  t.same(demo.hosts, []);
});

await t.test('a route path with dot segments is a 400 and no route is created', async (t) => {
  for (const routeKey of ['GET /../x', 'GET /./x', 'GET /%2e%2e/x', 'GET /a/%2E/b']) {
    await expect400(t, await stack.admin('POST', '/v1/apis/demo/routes', { routeKey, function: 'f' }), /routeKey.*dot segment/);
  }
  await expect400(t, await stack.admin('POST', '/v1/apis/demo/routes', { routeKey: 'GET /x', function: 'f', authorizer: { type: 'jwt', issuer: 'https://idp.example.test', audience: ['a'], jwksUri: 'https://idp.example.test/jwks\r\nX: y' } }), /authorizer\.jwksUri/);
  t.equal(await count('routes'), 0, 'no route stored');
  t.equal(await count('apis'), 1, 'only the API made in the setup');
});

await t.test('the control plane still answers after all of it', async (t) => {
  t.equal((await fetch(`${stack.controlPlaneUrl}/healthz`)).status, 200);
  t.equal((await stack.admin('GET', '/v1/functions/f')).status, 200);
});
