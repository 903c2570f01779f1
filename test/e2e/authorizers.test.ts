// JWT and Lambda authorizers end to end (compat.md §8): every failure mode returns its exact
// body, claims and authorizer context reach the target, Lambda authorizer answers are cached.
import t, { type Test } from 'tap';
import { makeKey, startJwksServer } from '../support/jwks-server.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

// A function timeout of 30 s makes the integration timeout 29 s, so a cold start on a loaded
// machine is never cut off as a 504 in the middle of a test.
const SLOW_MACHINE = { timeoutMs: 30_000 };

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });`;
const SIMPLE_AUTHORIZER = `
let calls = 0;
exports.handler = async (e) => {
  calls += 1;
  const token = e.identitySource[0];
  if (token === 'Bearer boom') throw new Error('boom');
  if (token === 'Bearer garbage') return { nope: true };
  return { isAuthorized: token === 'Bearer good', context: { tenant: 'acme', calls, type: e.type, routeArn: e.routeArn } };
};`;
const POLICY_AUTHORIZER = `
exports.handler = async (e) => {
  const statement = (effect) => ({ principalId: 'user-7', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: e.methodArn }] }, context: { tier: 2, version: e.version } });
  if (e.authorizationToken === 'deny') return statement('Deny');
  if (e.authorizationToken === 'unauth') throw new Error('Unauthorized');
  return statement('Allow');
};`;

const k1 = await makeKey('k1');
const idp = await startJwksServer([k1]);
t.teardown(() => idp.close());
// A cold authorizer on a loaded machine must not hit API Gateway's 10 s authorizer limit mid-test.
const stack = await startStack(t, { env: { GANTRY_AUTHORIZER_TIMEOUT_MS: '30000' } });
const gw = `${stack.gatewayUrl}/secure`;
const jwt = { type: 'jwt', issuer: idp.issuer, audience: ['api://secure'], jwksUri: idp.jwksUri };

async function expectMessage(t: Test, res: Response, status: number, message: string): Promise<void> {
  t.equal(res.status, status, message);
  t.equal(await res.text(), JSON.stringify({ message }));
}

await t.test('sets up routes with JWT and function authorizers', async (t) => {
  await deployFunction(t, stack, 'echo', nodeZip(ECHO), SLOW_MACHINE);
  await deployFunction(t, stack, 'simple', nodeZip(SIMPLE_AUTHORIZER), SLOW_MACHINE);
  await deployFunction(t, stack, 'policy', nodeZip(POLICY_AUTHORIZER), SLOW_MACHINE);
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'secure' })).status, 201);
  const simple = { type: 'function', function: 'simple', enableSimpleResponses: true };
  const routes: Record<string, unknown>[] = [
    { routeKey: 'GET /jwt', authorizer: jwt },
    { routeKey: 'GET /jwt-scoped', authorizer: { ...jwt, scopes: ['pets/admin', 'pets/root'] } },
    { routeKey: 'GET /jwt1', authorizer: jwt, payloadFormatVersion: '1.0' },
    { routeKey: 'GET /lam', authorizer: { ...simple, resultTtlSeconds: 300 } },
    { routeKey: 'GET /lam-nocache', authorizer: { ...simple, resultTtlSeconds: 0 } },
    { routeKey: 'GET /pol', authorizer: { type: 'function', function: 'policy', payloadFormatVersion: '1.0', resultTtlSeconds: 0 }, payloadFormatVersion: '1.0' },
    { routeKey: 'GET /open' },
  ];
  for (const route of routes) {
    const res = await stack.admin('POST', '/v1/apis/secure/routes', { function: 'echo', ...route });
    t.equal(res.status, 201, await res.text());
  }
  t.ok(await eventually(async () => (await fetch(`${gw}/open`)).status === 200, 10_000), 'routes served (the first call is a cold start)');
});

t.test('the admin API refuses bad authorizer configurations', async (t) => {
  const bad: [string, unknown][] = [
    ['an unknown authorizer function', { type: 'function', function: 'nope' }],
    ['simple responses on payload 1.0', { type: 'function', function: 'simple', payloadFormatVersion: '1.0', enableSimpleResponses: true }],
    ['a TTL over 3600', { type: 'function', function: 'simple', resultTtlSeconds: 3601 }],
    ['a bad identity source', { type: 'function', function: 'simple', identitySource: ['Authorization'] }],
    ['a JWT without audience', { type: 'jwt', issuer: idp.issuer, jwksUri: idp.jwksUri }],
    ['both jwksUri and publicKeys', { ...jwt, publicKeys: [k1.publicPem] }],
    ['a public key that is not RSA PEM', { ...jwt, jwksUri: undefined, publicKeys: ['-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----'] }],
    ['an unknown type', { type: 'iam' }],
  ];
  for (const [what, authorizer] of bad) {
    const res = await stack.admin('POST', '/v1/apis/secure/routes', { routeKey: 'GET /bad', function: 'echo', authorizer });
    t.equal(res.status, 400, what);
    t.match(await res.json(), { error: { type: 'ValidationError' } }, what);
  }
});

t.test('JWT: a missing or invalid token is 401 Unauthorized with a Bearer challenge', async (t) => {
  const tokens: [string, Record<string, string>][] = [
    ['no token', {}],
    ['garbage', { authorization: 'Bearer abc.def.ghi' }],
    ['expired', { authorization: `Bearer ${await idp.sign(k1, { aud: 'api://secure' }, { expiresInS: -5 })}` }],
    ['wrong audience', { authorization: `Bearer ${await idp.sign(k1, { aud: 'api://other' })}` }],
  ];
  for (const [what, headers] of tokens) {
    const res = await fetch(`${gw}/jwt`, { headers });
    t.match(res.headers.get('www-authenticate'), /^Bearer scope="" error="invalid_token" error_description=".+"$/, what);
    await expectMessage(t, res, 401, 'Unauthorized');
  }
});

t.test('JWT: claims and scopes reach a 2.0 target, claims a 1.0 target', async (t) => {
  const token = await idp.sign(k1, { aud: 'api://secure', sub: 'u-1', scope: 'pets/read', groups: ['a', 'b'] });
  const res = await fetch(`${gw}/jwt`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 200);
  const auth = ((await res.json()) as { requestContext: { authorizer: { jwt: { claims: Record<string, string>; scopes: string[] } } } }).requestContext.authorizer;
  t.match(auth.jwt.claims, { sub: 'u-1', aud: 'api://secure', groups: '[a b]', iss: idp.issuer });
  t.strictSame(auth.jwt.scopes, ['pets/read']);
  const v1 = await fetch(`${gw}/jwt1`, { headers: { authorization: token } });
  t.equal(v1.status, 200, 'a bare token works too');
  t.match(((await v1.json()) as { requestContext: { authorizer: unknown } }).requestContext.authorizer, { claims: { sub: 'u-1' }, scopes: ['pets/read'] });
});

t.test('JWT: a valid token without a required scope is 403 Forbidden', async (t) => {
  const reader = await idp.sign(k1, { aud: 'api://secure', scope: 'pets/read' });
  await expectMessage(t, await fetch(`${gw}/jwt-scoped`, { headers: { authorization: `Bearer ${reader}` } }), 403, 'Forbidden');
  const root = await idp.sign(k1, { aud: 'api://secure', scp: ['pets/root'] });
  t.equal((await fetch(`${gw}/jwt-scoped`, { headers: { authorization: `Bearer ${root}` } })).status, 200);
});

const contextOf = async (res: Response) => ((await res.json()) as { requestContext: { authorizer: Record<string, any> } }).requestContext.authorizer;

t.test('Lambda authorizer: the simple answer and its context reach the target, then the answer is cached', async (t) => {
  const first = await fetch(`${gw}/lam`, { headers: { authorization: 'Bearer good' } });
  t.equal(first.status, 200);
  const ctx = await contextOf(first);
  t.match(ctx, { lambda: { tenant: 'acme', calls: 1, type: 'REQUEST', routeArn: /^arn:aws:execute-api:us-east-1:000000000000:[a-z0-9]+\/\$default\/GET\/lam$/ } });
  const second = await fetch(`${gw}/lam`, { headers: { authorization: 'Bearer good' } });
  t.equal((await contextOf(second))['lambda'].calls, 1, 'served from the cache: the authorizer was not called again');
  const nocache = await contextOf(await fetch(`${gw}/lam-nocache`, { headers: { authorization: 'Bearer good' } }));
  t.equal(nocache['lambda'].calls, 2, 'a route without caching calls it');
});

t.test('Lambda authorizer: a missing identity is 401 and the function is not called', async (t) => {
  const before = (await contextOf(await fetch(`${gw}/lam-nocache`, { headers: { authorization: 'Bearer good' } })))['lambda'].calls as number;
  await expectMessage(t, await fetch(`${gw}/lam-nocache`), 401, 'Unauthorized');
  const after = (await contextOf(await fetch(`${gw}/lam-nocache`, { headers: { authorization: 'Bearer good' } })))['lambda'].calls as number;
  t.equal(after, before + 1);
});

t.test('Lambda authorizer: a denial is 403, an error or a malformed answer is 500', async (t) => {
  await expectMessage(t, await fetch(`${gw}/lam`, { headers: { authorization: 'Bearer bad' } }), 403, 'Forbidden');
  await expectMessage(t, await fetch(`${gw}/lam`, { headers: { authorization: 'Bearer bad' } }), 403, 'Forbidden');
  await expectMessage(t, await fetch(`${gw}/lam`, { headers: { authorization: 'Bearer boom' } }), 500, 'Internal Server Error');
  await expectMessage(t, await fetch(`${gw}/lam`, { headers: { authorization: 'Bearer garbage' } }), 500, 'Internal Server Error');
});

t.test('Lambda authorizer, payload 1.0 policy form: Allow passes principalId and context, Deny is 403, Unauthorized is 401', async (t) => {
  const res = await fetch(`${gw}/pol`, { headers: { authorization: 'allow' } });
  t.equal(res.status, 200);
  t.strictSame(await contextOf(res), { principalId: 'user-7', tier: '2', version: '1.0' });
  await expectMessage(t, await fetch(`${gw}/pol`, { headers: { authorization: 'deny' } }), 403, 'Forbidden');
  await expectMessage(t, await fetch(`${gw}/pol`, { headers: { authorization: 'unauth' } }), 401, 'Unauthorized');
});
