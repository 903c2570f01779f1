// Unmodified handlers written for REST APIs (payload 1.0) and HTTP APIs (payload 2.0) answer
// correctly through Gantry: events field by field (compat.md §3.1, §4.1), responses including
// multi-value headers, cookies and binary bodies both ways, and malformed results (§3.2, §4.2).
import t from 'tap';
import { rawRequest } from '../support/http-client.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

// A function timeout of 30 s makes the integration timeout 29 s, so a cold start on a loaded
// machine is never cut off as a 504 in the middle of a test.
const SLOW_MACHINE = { timeoutMs: 30_000 };

/** Written for a REST API Lambda proxy integration, as found in the wild. */
const REST_HANDLER = `
exports.handler = async (event) => {
  if (event.path === '/r/binary') {
    const bytes = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    return { statusCode: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from(bytes).reverse().toString('base64'), isBase64Encoded: true };
  }
  if (event.path === '/r/malformed') return { statusCode: 200, body: 'x', extra: 1 };
  if (event.path === '/r/bare') return 'hello';
  if (event.path === '/r/throws') throw new Error('boom');
  const name = (event.queryStringParameters || {}).name || 'world';
  return {
    statusCode: '201',
    multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Multi': ['m'] },
    headers: { 'X-Multi': 'solo', 'Content-Type': 'application/json' },
    body: JSON.stringify({ greeting: 'hello ' + name, method: event.httpMethod, event }),
  };
};`;

/** Written for an HTTP API (payload 2.0). */
const HTTP_API_HANDLER = `
exports.handler = async (event) => {
  if (event.rawPath === '/binary') {
    return { statusCode: 200, headers: { 'content-type': 'image/png' }, body: Buffer.from(event.body, 'base64').reverse().toString('base64'), isBase64Encoded: true };
  }
  if (event.rawPath === '/bare') return 'just text';
  return { statusCode: 200, cookies: ['s=1; Path=/', 't=2'], headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event }) };
};`;

const stack = await startStack(t);
const gw = stack.gatewayUrl;
let v1RouteBody: { id: string; payloadFormatVersion: string } = { id: '', payloadFormatVersion: '' };

await t.test('deploys both handlers unmodified and routes them, one route as payload 1.0', async (t) => {
  await deployFunction(t, stack, 'rest', nodeZip(REST_HANDLER), SLOW_MACHINE);
  await deployFunction(t, stack, 'httpapi', nodeZip(HTTP_API_HANDLER), SLOW_MACHINE);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'legacy' })).status, 201);
  const v1Route = await stack.admin('POST', '/v1/apis/legacy/routes', { routeKey: 'ANY /v1/{proxy+}', function: 'rest', payloadFormatVersion: '1.0' });
  t.equal(v1Route.status, 201);
  v1RouteBody = (await v1Route.json()) as typeof v1RouteBody;
  t.equal(v1RouteBody.payloadFormatVersion, '1.0', 'a 1.0 route is accepted and reported as such');
  t.equal((await stack.admin('POST', '/v1/apis/legacy/routes', { routeKey: 'ANY /r/{proxy+}', function: 'rest', payloadFormatVersion: '1.0' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/legacy/routes', { routeKey: '$default', function: 'httpapi' })).status, 201);
  t.ok(await eventually(async () => (await fetch(`${gw}/legacy/v1/ready`)).status === 201, 10_000), 'routes served (the first call is a cold start)');
});

t.test('a 1.0 route sends the REST proxy event, field by field', async (t) => {
  const res = await rawRequest(`${gw}/legacy/v1/items/a%20b?name=rex&tag=a&tag=b`, {
    method: 'POST',
    headers: { 'X-Trace': ['one', 'two'], 'Content-Type': 'application/json', 'User-Agent': 'tester/1', Cookie: 'c=1' },
    body: '{"x":1}',
  });
  t.equal(res.status, 201, 'numeric string statusCode honoured');
  const out = res.json() as { greeting: string; method: string; event: Record<string, any> };
  t.equal(out.greeting, 'hello rex');
  t.equal(out.method, 'POST');
  const e = out.event;
  t.strictSame(Object.keys(e), ['version', 'resource', 'path', 'httpMethod', 'headers', 'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters', 'pathParameters', 'stageVariables', 'requestContext', 'body', 'isBase64Encoded']);
  t.equal(e.version, '1.0');
  t.equal(e.resource, '/v1/{proxy+}');
  t.equal(e.path, '/v1/items/a%20b');
  t.equal(e.httpMethod, 'POST');
  t.equal(e.headers['x-trace'], 'two', 'last value of a repeated header');
  t.strictSame(e.multiValueHeaders['x-trace'], ['one', 'two']);
  t.equal(e.headers.cookie, 'c=1', 'the cookie header stays a header');
  t.strictSame(e.queryStringParameters, { name: 'rex', tag: 'b' });
  t.strictSame(e.multiValueQueryStringParameters, { name: ['rex'], tag: ['a', 'b'] });
  t.strictSame(e.pathParameters, { proxy: 'items/a b' });
  t.equal(e.stageVariables, null);
  t.equal(e.body, '{"x":1}');
  t.equal(e.isBase64Encoded, false);
  const rc = e.requestContext;
  t.match(rc, { accountId: '000000000000', resourceId: v1RouteBody.id, resourcePath: '/v1/{proxy+}', httpMethod: 'POST', path: '/legacy/v1/items/a%20b', stage: '$default', protocol: 'HTTP/1.1' });
  t.match(rc.requestTime, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  t.type(rc.requestTimeEpoch, 'number');
  t.equal(rc.requestId, res.headers['apigw-requestid']);
  t.strictSame(rc.identity, {
    sourceIp: '127.0.0.1', userAgent: 'tester/1', apiKey: null, apiKeyId: null, accessKey: null, accountId: null, caller: null, user: null, userArn: null,
    cognitoIdentityId: null, cognitoIdentityPoolId: null, cognitoAuthenticationType: null, cognitoAuthenticationProvider: null, principalOrgId: null,
  });
  t.notOk('authorizer' in rc);
});

t.test('a 1.0 response sends multiValueHeaders and headers both, multi-value first', async (t) => {
  const res = await fetch(`${gw}/legacy/v1/x`);
  t.equal(res.status, 201);
  t.strictSame(res.headers.getSetCookie(), ['a=1', 'b=2']);
  t.equal(res.headers.get('x-multi'), 'm, solo');
  t.equal(res.headers.get('content-type'), 'application/json');
});

t.test('a 1.0 GET without query or body gets null for them', async (t) => {
  const e = ((await (await fetch(`${gw}/legacy/v1/plain`)).json()) as { event: Record<string, unknown> }).event;
  for (const key of ['queryStringParameters', 'multiValueQueryStringParameters', 'body']) t.equal(e[key], null, key);
});

t.test('binary bodies travel both ways on a 1.0 route', async (t) => {
  const bytes = Buffer.from([0, 1, 2, 254, 255, 128]);
  const res = await rawRequest(`${gw}/legacy/r/binary`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  t.equal(res.status, 200);
  t.same(res.body, Buffer.from(bytes).reverse());
});

t.test('malformed 1.0 results and function errors are 502 Internal server error', async (t) => {
  for (const p of ['/legacy/r/malformed', '/legacy/r/bare', '/legacy/r/throws']) {
    const res = await rawRequest(gw + p);
    t.equal(res.status, 502, p);
    t.equal(res.body.toString(), '{"message": "Internal server error"}', p);
  }
});

t.test('a 2.0 route gets cookies in the event and sends one Set-Cookie per cookie', async (t) => {
  const res = await rawRequest(`${gw}/legacy/anything`, { headers: { cookie: 'a=1; b=2' } });
  t.equal(res.status, 200);
  const e = (res.json() as { event: Record<string, any> }).event;
  t.equal(e.version, '2.0');
  t.strictSame(e.cookies, ['a=1', 'b=2']);
  t.notOk('cookie' in e.headers);
  t.strictSame(res.headers['set-cookie'], ['s=1; Path=/', 't=2']);
});

t.test('binary bodies travel both ways on a 2.0 route, and a bare string result is the body', async (t) => {
  const bytes = Buffer.from([137, 80, 78, 71, 0, 255]);
  const res = await rawRequest(`${gw}/legacy/binary`, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: bytes });
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'image/png');
  t.same(res.body, Buffer.from(bytes).reverse());
  const bare = await rawRequest(`${gw}/legacy/bare`, { method: 'PATCH' });
  t.equal(bare.status, 200);
  t.equal(bare.body.toString(), 'just text');
  t.equal(bare.headers['content-type'], 'application/json');
});
