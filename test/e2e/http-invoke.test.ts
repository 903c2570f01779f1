// Deploy over HTTP, add an API and routes, call through the gateway and directly: the core slice
// end to end on the real Docker engine, Postgres and Redis.
import t from 'tap';
import { nodeZip } from '../support/zip.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';

const ECHO = `exports.handler = async (event, context) => ({
  statusCode: 201,
  headers: { 'x-echo': 'yes', 'content-type': 'application/json' },
  cookies: ['session=abc; Path=/'],
  body: JSON.stringify({ event, requestId: context.awsRequestId, fn: context.functionName, env: process.env.GREETING ?? null }),
});`;

const THROWS = `exports.handler = async () => { const e = new TypeError('bad thing happened'); throw e; };`;

// A short integration timeout makes the 504 case quick; every other function here answers fast.
const stack = await startStack(t, { env: { GANTRY_INTEGRATION_TIMEOUT_MS: '1500' } });

await t.test('a routed request reaches the function with its path, query, headers, cookies and body', async (t) => {
  await deployFunction(t, stack, 'echo', nodeZip(ECHO), { environment: { GREETING: 'hi' } });
  // Warm it directly first: on a busy machine a cold start can outlast the 1.5 s integration timeout.
  t.equal((await stack.admin('POST', '/v1/functions/echo/invoke', {})).status, 200);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'shop' })).status, 201);
  const route = await stack.admin('POST', '/v1/apis/shop/routes', { routeKey: 'POST /items/{id}', function: 'echo' });
  t.equal(route.status, 201);
  const url = `${stack.gatewayUrl}/shop/items/42?tag=a&tag=b&q=hello%20world`;
  const call = () => fetch(url, { method: 'POST', headers: { 'x-custom': 'v1', cookie: 'a=1; b=2', 'content-type': 'application/json' }, body: '{"name":"rex"}' });
  t.ok(await eventually(async () => (await call()).status !== 404, 1_000), 'route served within 1 s of creation');
  const res = await call();
  t.equal(res.status, 201);
  t.equal(res.headers.get('x-echo'), 'yes');
  t.equal(res.headers.get('set-cookie'), 'session=abc; Path=/');
  t.ok(res.headers.get('apigw-requestid'));
  const out = (await res.json()) as { event: Record<string, any>; fn: string; env: string };
  const e = out.event;
  t.equal(out.fn, 'echo');
  t.equal(out.env, 'hi');
  t.equal(e.version, '2.0');
  t.equal(e.routeKey, 'POST /items/{id}');
  t.equal(e.rawPath, '/items/42');
  t.equal(e.rawQueryString, 'tag=a&tag=b&q=hello%20world');
  t.same(e.queryStringParameters, { tag: 'a,b', q: 'hello world' });
  t.same(e.pathParameters, { id: '42' });
  t.same(e.cookies, ['a=1', 'b=2']);
  t.equal(e.headers['x-custom'], 'v1');
  t.notOk('cookie' in e.headers, 'cookie header moved to cookies');
  t.equal(e.body, '{"name":"rex"}');
  t.equal(e.isBase64Encoded, false);
  t.equal(e.requestContext.http.method, 'POST');
  t.equal(e.requestContext.stage, '$default');
  t.equal(e.requestContext.http.path, '/items/42');
});

await t.test('the second call of a function reuses its warm container', async (t) => {
  await deployFunction(t, stack, 'warm', nodeZip(`let n = 0; exports.handler = async () => ({ n: ++n });`));
  const first = await stack.admin('POST', '/v1/functions/warm/invoke', {});
  t.equal(first.headers.get('x-gantry-cold-start'), 'true');
  t.same(await first.json(), { n: 1 });
  const second = await stack.admin('POST', '/v1/functions/warm/invoke', {});
  t.equal(second.headers.get('x-gantry-cold-start'), 'false');
  t.same(await second.json(), { n: 2 }, 'same process served the second call');
  t.ok(second.headers.get('x-gantry-invocation-id'));
  t.match(second.headers.get('x-gantry-billed-duration-ms'), /^\d+$/);
});

await t.test('a thrown error is 500 through the gateway and X-Gantry-Function-Error directly', async (t) => {
  await deployFunction(t, stack, 'thrower', nodeZip(THROWS));
  const direct = await stack.admin('POST', '/v1/functions/thrower/invoke', { a: 1 });
  t.equal(direct.status, 200);
  t.equal(direct.headers.get('x-gantry-function-error'), 'Unhandled');
  const err = (await direct.json()) as { errorType: string; errorMessage: string; trace: string[] };
  t.equal(err.errorType, 'TypeError');
  t.equal(err.errorMessage, 'bad thing happened');
  t.ok(Array.isArray(err.trace) && err.trace[0]?.startsWith('TypeError: bad thing happened'));
  await stack.admin('POST', '/v1/apis', { name: 'errs' });
  await stack.admin('POST', '/v1/apis/errs/routes', { routeKey: 'ANY /{proxy+}', function: 'thrower' });
  const url = `${stack.gatewayUrl}/errs/any/path`;
  t.ok(await eventually(async () => (await fetch(url)).status !== 404, 1_000));
  const routed = await fetch(url);
  t.equal(routed.status, 500);
  t.same(await routed.json(), { message: 'Internal Server Error' });
});

await t.test('an unknown route is 404 Not Found, as API Gateway answers', async (t) => {
  for (const p of ['/shop/nothing-here', '/no-such-api/x', '/']) {
    const res = await fetch(stack.gatewayUrl + p);
    t.equal(res.status, 404, p);
    t.same(await res.json(), { message: 'Not Found' });
  }
});

await t.test('an empty invoke body reaches the handler as {}', async (t) => {
  await deployFunction(t, stack, 'raw', nodeZip(`exports.handler = async (event) => event;`));
  const res = await fetch(`${stack.controlPlaneUrl}/v1/functions/raw/invoke`, { method: 'POST', headers: { authorization: `Bearer ${stack.token}` } });
  t.same(await res.json(), {});
});

await t.test('new code and new configuration are served as soon as the update returns', async (t) => {
  await deployFunction(t, stack, 'versioned', nodeZip(`exports.handler = async () => ({ v: 1, g: process.env.GG ?? null });`));
  t.same(await (await stack.admin('POST', '/v1/functions/versioned/invoke', {})).json(), { v: 1, g: null });
  const put = await stack.admin('PUT', '/v1/functions/versioned/code', nodeZip(`exports.handler = async () => ({ v: 2, g: process.env.GG ?? null });`), { 'content-type': 'application/zip' });
  t.equal(put.status, 200);
  const v2 = await stack.admin('POST', '/v1/functions/versioned/invoke', {});
  t.same(await v2.json(), { v: 2, g: null }, 'no invocation runs old code after the update');
  t.equal(v2.headers.get('x-gantry-cold-start'), 'true', 'the old warm container was retired');
  const patch = await stack.admin('PATCH', '/v1/functions/versioned', { environment: { GG: 'x' }, memoryMb: 256 });
  t.equal(patch.status, 200);
  t.match(await patch.json(), { memoryMb: 256, environment: { GG: 'x' } });
  t.same(await (await stack.admin('POST', '/v1/functions/versioned/invoke', {})).json(), { v: 2, g: 'x' });
  const containers = await stack.containers();
  t.equal(containers.filter((c) => c.Labels['gantry.function'] === 'versioned').length, 1, 'only the current version keeps a container');
});

await t.test('a handler that fails to load is an init error reported to the caller', async (t) => {
  await deployFunction(t, stack, 'noexport', nodeZip(`exports.other = () => 1;`));
  const res = await stack.admin('POST', '/v1/functions/noexport/invoke', {});
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await res.json(), { errorType: 'Runtime.HandlerNotFound' });
});

await t.test('a function past its timeout gets Sandbox.Timedout and its container is replaced', async (t) => {
  await deployFunction(t, stack, 'slow', nodeZip(`exports.handler = () => new Promise((r) => setTimeout(() => r('late'), 5000));`), { timeoutMs: 300 });
  const res = await stack.admin('POST', '/v1/functions/slow/invoke', {});
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  const body = (await res.json()) as { errorType: string; errorMessage: string };
  t.equal(body.errorType, 'Sandbox.Timedout');
  t.match(body.errorMessage, /Error: Task timed out after 0\.30 seconds$/);
  t.ok(Number(res.headers.get('x-gantry-billed-duration-ms')) <= 300, 'billed no more than the timeout');
  t.ok(await eventually(async () => (await stack.containers()).every((c) => c.Labels['gantry.function'] !== 'slow'), 5_000), 'container removed');
});

await t.test('the gateway answers 504 when the integration timeout passes first', async (t) => {
  await deployFunction(t, stack, 'sleepy', nodeZip(`exports.handler = (e) => new Promise((r) => setTimeout(() => r({ statusCode: 200, body: 'ok' }), e.rawPath === '/fast' ? 0 : 2500));`));
  t.equal((await stack.admin('POST', '/v1/functions/sleepy/invoke', { rawPath: '/fast' })).status, 200, 'warm before the routed calls');
  await stack.admin('POST', '/v1/apis', { name: 'slowapi' });
  await stack.admin('POST', '/v1/apis/slowapi/routes', { routeKey: 'GET /{p}', function: 'sleepy' });
  t.ok(await eventually(async () => (await fetch(`${stack.gatewayUrl}/slowapi/fast`)).status === 200, 2_000));
  const res = await fetch(`${stack.gatewayUrl}/slowapi/slow`);
  t.equal(res.status, 504);
  t.same(await res.json(), { message: 'Endpoint request timed out' });
});

await t.test('deleting a function removes its containers and its routes stop answering', async (t) => {
  await deployFunction(t, stack, 'doomed', nodeZip(`exports.handler = async () => 'x';`));
  await stack.admin('POST', '/v1/functions/doomed/invoke', {});
  t.ok((await stack.containers()).some((c) => c.Labels['gantry.function'] === 'doomed'));
  t.equal((await stack.admin('DELETE', '/v1/functions/doomed')).status, 204);
  t.ok(await eventually(async () => (await stack.containers()).every((c) => c.Labels['gantry.function'] !== 'doomed'), 5_000));
  const res = await stack.admin('POST', '/v1/functions/doomed/invoke', {});
  t.equal(res.status, 404);
  t.match(await res.json(), { error: { type: 'ResourceNotFound' } });
});
