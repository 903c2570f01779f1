import t from 'tap';
import { authorizerContextFor, LambdaAuthorizer, type AuthorizerRequest } from '../../../../gateway/auth/lambda-authorizer.js';
import { buildHttpV1Event } from '../../../../gateway/events/http-v1-event.js';
import { buildHttpV2Event, type HttpV2EventInput } from '../../../../gateway/events/http-v2-event.js';
import type { FunctionAuthorizerConfig } from '../../../../gateway/routing/route-snapshot.js';
import { UpstreamError, type Upstream, type UpstreamResult } from '../../../../gateway/upstream/upstream.js';

/** Records each call and answers with the next scripted result. */
class ScriptedUpstream implements Upstream {
  readonly calls: { fn: string; event: Record<string, any>; timeoutMs: number }[] = [];
  constructor(private readonly answer: (event: Record<string, any>) => UpstreamResult | Error) {}
  async invoke(fn: string, payload: Buffer, timeoutMs: number): Promise<UpstreamResult> {
    const event = JSON.parse(payload.toString()) as Record<string, any>;
    this.calls.push({ fn, event, timeoutMs });
    const a = this.answer(event);
    if (a instanceof Error) throw a;
    return a;
  }
  async close(): Promise<void> {}
}

const ok = (v: unknown): UpstreamResult => ({ functionError: false, payload: Buffer.from(JSON.stringify(v)), invocationId: 'i' });
const ARN = 'arn:aws:execute-api:us-east-1:000000000000:api1/$default/GET/pets';
const INPUT: HttpV2EventInput = {
  routeKey: 'GET /pets', method: 'GET', rawPath: '/pets', rawQueryString: 'a=1', rawHeaders: ['Authorization', 'Bearer t0k', 'Cookie', 'c=1'],
  body: Buffer.from('secret body'), sourceIp: '1.2.3.4', httpVersion: '1.1', apiId: 'api1', domainName: 'localhost', requestId: 'rid', timeEpochMs: 0, pathParameters: undefined,
};
const SIMPLE: FunctionAuthorizerConfig = { type: 'function', function: 'auth', payloadFormatVersion: '2.0', enableSimpleResponses: true, identitySource: ['$request.header.Authorization'], resultTtlSeconds: 60 };

function request(config: Partial<FunctionAuthorizerConfig> = {}, headers: Record<string, string> = { authorization: 'Bearer t0k' }, routeArn = ARN): AuthorizerRequest {
  return {
    config: { ...SIMPLE, ...config },
    identity: { headers, query: { a: '1' }, context: { routeKey: 'GET /pets' } },
    routeArn,
    v2Event: () => buildHttpV2Event(INPUT),
    v1Event: () => buildHttpV1Event({ ...INPUT, resource: '/pets', resourceId: 'r1', requestPath: '/shop/pets', deploymentId: '1' }),
  };
}

function setup(answer: (event: Record<string, any>) => UpstreamResult | Error) {
  let now = 1_000_000;
  const upstream = new ScriptedUpstream(answer);
  const authorizer = new LambdaAuthorizer(upstream, { timeoutMs: 10_000, maxCacheEntries: 3 }, () => now);
  return { upstream, authorizer, advance: (ms: number) => (now += ms) };
}

t.test('sends the 2.0 REQUEST event without the body and allows with the context', async (t) => {
  const { upstream, authorizer } = setup(() => ok({ isAuthorized: true, context: { tenant: 'acme' } }));
  t.strictSame(await authorizer.authorize(request()), { kind: 'allow', context: { tenant: 'acme' }, principalId: undefined });
  const call = upstream.calls[0];
  t.equal(call?.fn, 'auth');
  t.equal(call?.timeoutMs, 10_000);
  t.strictSame(Object.keys(call?.event ?? {}), ['version', 'type', 'routeArn', 'identitySource', 'routeKey', 'rawPath', 'rawQueryString', 'cookies', 'headers', 'queryStringParameters', 'requestContext']);
  t.match(call?.event, { version: '2.0', type: 'REQUEST', routeArn: ARN, identitySource: ['Bearer t0k'], routeKey: 'GET /pets', rawPath: '/pets', cookies: ['c=1'] });
});

t.test('sends the 1.0 REST-style event with methodArn and joined identity sources', async (t) => {
  const { upstream, authorizer } = setup(() => ok({ principalId: 'u1', policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ARN }] }, context: { n: 1 } }));
  const out = await authorizer.authorize(request({ payloadFormatVersion: '1.0', enableSimpleResponses: false, identitySource: ['$request.header.Authorization', '$request.querystring.a'] }));
  t.strictSame(out, { kind: 'allow', context: { n: 1 }, principalId: 'u1' });
  const e = upstream.calls[0]?.event ?? {};
  t.match(e, { version: '1.0', type: 'REQUEST', methodArn: ARN, identitySource: 'Bearer t0k,1', authorizationToken: 'Bearer t0k,1', resource: '/pets', path: '/pets', httpMethod: 'GET' });
  t.notOk('body' in e);
  t.ok('multiValueHeaders' in e);
});

t.test('answers unauthorized without calling the function when an identity source is missing or empty', async (t) => {
  const { upstream, authorizer } = setup(() => ok({ isAuthorized: true }));
  t.strictSame(await authorizer.authorize(request({}, {})), { kind: 'unauthorized' });
  t.strictSame(await authorizer.authorize(request({}, { authorization: '' })), { kind: 'unauthorized' });
  t.equal(upstream.calls.length, 0);
});

t.test('calls the function every time with no identity source and no caching', async (t) => {
  const { upstream, authorizer } = setup(() => ok({ isAuthorized: true }));
  await authorizer.authorize(request({ identitySource: [], resultTtlSeconds: 0 }, {}));
  await authorizer.authorize(request({ identitySource: [], resultTtlSeconds: 0 }, {}));
  t.equal(upstream.calls.length, 2);
});

t.test('denies with forbidden on isAuthorized false or a Deny', async (t) => {
  t.strictSame(await setup(() => ok({ isAuthorized: false })).authorizer.authorize(request()), { kind: 'forbidden' });
  const deny = { principalId: 'u', policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' }] } };
  t.strictSame(await setup(() => ok(deny)).authorizer.authorize(request({ enableSimpleResponses: false })), { kind: 'forbidden' });
});

t.test('answers error on a function error, a failed invoke or a malformed answer, and caches none of them', async (t) => {
  const cases: [string, UpstreamResult | Error][] = [
    ['function error', { functionError: true, payload: Buffer.from('{"errorMessage":"boom"}'), invocationId: 'i' }],
    ['timeout', new UpstreamError('timeout', 'integration timed out')],
    ['not JSON', { functionError: false, payload: Buffer.from('nope'), invocationId: 'i' }],
    ['wrong shape', ok({ allowed: true })],
  ];
  for (const [what, answer] of cases) {
    const { upstream, authorizer } = setup(() => answer);
    t.equal((await authorizer.authorize(request())).kind, 'error', what);
    await authorizer.authorize(request());
    t.equal(upstream.calls.length, 2, `${what} is not cached`);
  }
});

t.test('a 1.0 authorizer that throws or returns "Unauthorized" answers unauthorized', async (t) => {
  const v1 = { payloadFormatVersion: '1.0' as const, enableSimpleResponses: false };
  t.strictSame(await setup(() => ({ functionError: true, payload: Buffer.from('{"errorType":"Error","errorMessage":"Unauthorized"}'), invocationId: 'i' })).authorizer.authorize(request(v1)), { kind: 'unauthorized' });
  t.strictSame(await setup(() => ok('Unauthorized')).authorizer.authorize(request(v1)), { kind: 'unauthorized' });
});

t.test('caches per identity value for resultTtlSeconds, allows and denials alike', async (t) => {
  const { upstream, authorizer, advance } = setup((e) => ok({ isAuthorized: e['identitySource'][0] === 'Bearer good' }));
  const good = () => request({}, { authorization: 'Bearer good' });
  const bad = () => request({}, { authorization: 'Bearer bad' });
  t.equal((await authorizer.authorize(good())).kind, 'allow');
  t.equal((await authorizer.authorize(good())).kind, 'allow');
  t.equal((await authorizer.authorize(bad())).kind, 'forbidden');
  t.equal((await authorizer.authorize(bad())).kind, 'forbidden');
  t.equal(upstream.calls.length, 2, 'one call per identity');
  advance(60_001);
  await authorizer.authorize(good());
  t.equal(upstream.calls.length, 3, 'called again after the TTL');
});

t.test('does not cache with resultTtlSeconds 0', async (t) => {
  const { upstream, authorizer } = setup(() => ok({ isAuthorized: true }));
  await authorizer.authorize(request({ resultTtlSeconds: 0 }));
  await authorizer.authorize(request({ resultTtlSeconds: 0 }));
  t.equal(upstream.calls.length, 2);
});

t.test('evaluates a cached policy against each route ARN', async (t) => {
  const only = { principalId: 'u', policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ARN }] } };
  const { upstream, authorizer } = setup(() => ok(only));
  const cfg = { enableSimpleResponses: false };
  t.equal((await authorizer.authorize(request(cfg))).kind, 'allow');
  t.equal((await authorizer.authorize(request(cfg, undefined, ARN.replace('GET', 'DELETE')))).kind, 'forbidden');
  t.equal(upstream.calls.length, 1);
});

t.test('keeps at most maxCacheEntries answers, dropping the oldest', async (t) => {
  const { upstream, authorizer } = setup(() => ok({ isAuthorized: true }));
  for (const id of ['a', 'b', 'c', 'd']) await authorizer.authorize(request({}, { authorization: id }));
  await authorizer.authorize(request({}, { authorization: 'd' }));
  t.equal(upstream.calls.length, 4, 'd still cached');
  await authorizer.authorize(request({}, { authorization: 'a' }));
  t.equal(upstream.calls.length, 5, 'a was evicted');
});

t.test('gives the target its context as authorizer.lambda (2.0) or stringified with principalId (1.0)', async (t) => {
  const allow = { kind: 'allow' as const, context: { tenant: 'acme', tier: 2, ok: true }, principalId: 'u1' };
  t.strictSame(authorizerContextFor('2.0', allow), { lambda: { tenant: 'acme', tier: 2, ok: true } });
  t.strictSame(authorizerContextFor('1.0', allow), { principalId: 'u1', tenant: 'acme', tier: '2', ok: 'true' });
  t.strictSame(authorizerContextFor('2.0', { ...allow, context: null }), { lambda: null });
});
