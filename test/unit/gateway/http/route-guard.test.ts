import t from 'tap';
import { RedisKeys } from '../../../../common/redis.js';
import { hashApiKey, UsageKeys } from '../../../../common/usage-keys.js';
import type { JwtAuthorizer, JwtOutcome } from '../../../../gateway/auth/jwt-authorizer.js';
import type { LambdaAuthorizer, LambdaAuthOutcome } from '../../../../gateway/auth/lambda-authorizer.js';
import { RouteGuard, type GuardRequest } from '../../../../gateway/http/route-guard.js';
import type { ApiDefinition, ApiKeyDefinition, RouteDefinition } from '../../../../gateway/routing/route-snapshot.js';
import type { Admission, AdmissionRequest, UsageLimiter } from '../../../../gateway/throttle/usage-limiter.js';

const API: ApiDefinition = { id: 'api1', name: 'shop', protocol: 'http', hosts: [], cors: null, routes: [] };
const KEY: ApiKeyDefinition = { id: 'ak1', usagePlanId: 'up1', apis: new Set(['shop']), throttle: { rateLimit: 1, burstLimit: 1 }, quota: undefined };
const JWT = { type: 'jwt' as const, issuer: 'https://i', audience: ['a'], identitySource: ['$request.header.Authorization'] };
const FN = { type: 'function' as const, function: 'auth', payloadFormatVersion: '2.0' as const, enableSimpleResponses: true, identitySource: [], resultTtlSeconds: 0 };

function setup(o: { jwt?: JwtOutcome; lambda?: LambdaAuthOutcome; admission?: Admission | Error } = {}) {
  const seen: { events: string[]; admissions: AdmissionRequest[]; routeArns: string[] } = { events: [], admissions: [], routeArns: [] };
  const jwt = { authorize: async () => (seen.events.push('jwt'), o.jwt ?? { kind: 'allow', claims: { sub: 'u' }, scopes: null }) } as unknown as JwtAuthorizer;
  const lambda = {
    authorize: async (r: { routeArn: string }) => (seen.events.push('lambda'), seen.routeArns.push(r.routeArn), o.lambda ?? { kind: 'allow', context: { a: 1 }, principalId: undefined }),
  } as unknown as LambdaAuthorizer;
  const limiter: UsageLimiter = {
    admit: async (r) => {
      seen.events.push('limits');
      seen.admissions.push(r);
      if (o.admission instanceof Error) throw o.admission;
      return o.admission ?? 'admitted';
    },
  };
  const guard = new RouteGuard({ jwt, lambda, limiter, usageKeys: new UsageKeys(new RedisKeys('p:')), now: () => Date.parse('2026-11-25T00:00:00Z') }, 'eu-west-1');
  return { guard, seen };
}

function request(route: Partial<RouteDefinition>, apiKeyValue?: string): GuardRequest {
  return {
    api: API,
    route: { id: 'r1', routeKey: 'GET /x', functionName: 'f', payloadFormatVersion: '2.0', ...route },
    method: 'GET',
    path: '/x',
    apiKeyValue,
    apiKeys: new Map([[hashApiKey('good-key-value-123456'), KEY]]),
    identity: () => ({ headers: {}, query: {}, context: {} }),
    v2Event: () => { throw new Error('not needed'); },
    v1Event: () => { throw new Error('not needed'); },
  };
}

t.test('an open route needs nothing checked', async (t) => {
  t.ok(RouteGuard.isOpen(request({}).route));
  t.notOk(RouteGuard.isOpen(request({ apiKeyRequired: true }).route));
  t.notOk(RouteGuard.isOpen(request({ throttle: { rateLimit: 1, burstLimit: 1 } }).route));
  t.notOk(RouteGuard.isOpen(request({ authorizer: JWT }).route));
});

t.test('refuses a missing, unknown or foreign key with Forbidden before touching the limits', async (t) => {
  for (const [what, value, apis] of [['missing', undefined, ['shop']], ['unknown', 'other-key-value-123456', ['shop']], ['foreign', 'good-key-value-123456', ['other']]] as const) {
    const { guard, seen } = setup();
    const req = request({ apiKeyRequired: true }, value);
    const out = await guard.check({ ...req, apiKeys: new Map([[hashApiKey('good-key-value-123456'), { ...KEY, apis: new Set(apis) }]]) });
    t.match(out, { kind: 'reject', message: 'forbidden' }, what);
    t.strictSame(seen.events, [], what);
  }
});

t.test('admits a known key, counting it against its plan, and hands the key to the event', async (t) => {
  const { guard, seen } = setup();
  const out = await guard.check(request({ apiKeyRequired: true }, 'good-key-value-123456'));
  t.strictSame(out, { kind: 'pass', authorizer: undefined, apiKey: { value: 'good-key-value-123456', id: 'ak1' } });
  t.equal(seen.admissions[0]?.keyBucket?.name, 'p:bucket:key:ak1');
  t.equal(seen.admissions[0]?.usageDay?.name, 'p:usage:ak1:2026-11-25');
});

t.test('maps the limiter verdicts to 429 bodies and a Redis failure to 503, naming the key', async (t) => {
  const cases: [Admission | Error, string][] = [
    ['throttled', 'throttled'],
    ['quota-exceeded', 'limitExceeded'],
    [new Error('redis down'), 'unavailable'],
  ];
  for (const [admission, message] of cases) {
    const { guard } = setup({ admission });
    t.match(await guard.check(request({ apiKeyRequired: true }, 'good-key-value-123456')), { kind: 'reject', message, apiKeyId: 'ak1' }, message);
  }
});

t.test('runs the authorizer before the key check and the limits', async (t) => {
  const { guard, seen } = setup();
  await guard.check(request({ authorizer: JWT, apiKeyRequired: true, throttle: { rateLimit: 1, burstLimit: 1 } }, 'good-key-value-123456'));
  t.strictSame(seen.events, ['jwt', 'limits']);
  const denied = setup({ jwt: { kind: 'forbidden' } });
  await denied.guard.check(request({ authorizer: JWT, throttle: { rateLimit: 1, burstLimit: 1 } }));
  t.strictSame(denied.seen.events, ['jwt'], 'a refused request consumes no limit');
});

t.test('answers JWT failures with 401 plus a Bearer challenge, or 403 for a missing scope', async (t) => {
  const out = await setup({ jwt: { kind: 'unauthorized', description: 'the token has expired' } }).guard.check(request({ authorizer: JWT }));
  t.strictSame(out, { kind: 'reject', message: 'unauthorized', headers: [['www-authenticate', 'Bearer scope="" error="invalid_token" error_description="the token has expired"']], reason: 'the token has expired' });
  t.match(await setup({ jwt: { kind: 'forbidden' } }).guard.check(request({ authorizer: JWT })), { kind: 'reject', message: 'forbidden' });
});

t.test('puts JWT claims under jwt for 2.0 targets and bare for 1.0 targets', async (t) => {
  t.match(await setup().guard.check(request({ authorizer: JWT })), { kind: 'pass', authorizer: { jwt: { claims: { sub: 'u' }, scopes: null } } });
  t.match(await setup().guard.check(request({ authorizer: JWT, payloadFormatVersion: '1.0' })), { kind: 'pass', authorizer: { claims: { sub: 'u' }, scopes: null } });
});

t.test('maps Lambda authorizer outcomes and builds the route ARN with the region', async (t) => {
  const cases: [LambdaAuthOutcome, string][] = [
    [{ kind: 'unauthorized' }, 'unauthorized'],
    [{ kind: 'forbidden' }, 'forbidden'],
    [{ kind: 'error', reason: 'x' }, 'internal'],
  ];
  for (const [lambda, message] of cases) t.match(await setup({ lambda }).guard.check(request({ authorizer: FN })), { kind: 'reject', message });
  const { guard, seen } = setup();
  t.match(await guard.check(request({ authorizer: FN })), { kind: 'pass', authorizer: { lambda: { a: 1 } } });
  t.strictSame(seen.routeArns, ['arn:aws:execute-api:eu-west-1:000000000000:api1/$default/GET/x']);
});

t.test('fails an unreadable stored authorizer closed with 500', async (t) => {
  t.match(await setup().guard.check(request({ authorizer: { type: 'invalid' } })), { kind: 'reject', message: 'internal' });
});
