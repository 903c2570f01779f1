import t from 'tap';
import { apiKeyFrom, routeOptionsFrom } from '../../../../gateway/routing/route-options.js';

t.test('reads stored route options as the admin API wrote them', async (t) => {
  t.strictSame(routeOptionsFrom({}), {});
  t.strictSame(routeOptionsFrom(null), {});
  t.strictSame(routeOptionsFrom({ apiKeyRequired: true, throttle: { rateLimit: 5, burstLimit: 10 } }), { apiKeyRequired: true, throttle: { rateLimit: 5, burstLimit: 10 } });
  t.strictSame(routeOptionsFrom({ apiKeyRequired: false }), {});
  t.strictSame(routeOptionsFrom({ routeResponseSelectionExpression: '$default' }), { routeResponseSelectionExpression: '$default' }, 'a two-way websocket route');
  t.strictSame(routeOptionsFrom({ routeResponseSelectionExpression: '$other' }), {}, 'only $default exists');
  const jwt = { type: 'jwt', issuer: 'https://i', audience: ['a'], jwksUri: 'https://i/jwks', scopes: ['s'], identitySource: ['$request.header.Authorization'] };
  t.strictSame(routeOptionsFrom({ authorizer: jwt }), { authorizer: jwt });
  const fn = { type: 'function', function: 'auth', payloadFormatVersion: '2.0', enableSimpleResponses: true, identitySource: [], resultTtlSeconds: 0 };
  t.strictSame(routeOptionsFrom({ authorizer: fn }), { authorizer: fn });
});

t.test('fails an unreadable authorizer closed and drops an unreadable throttle', async (t) => {
  const bad: unknown[] = [
    'jwt',
    { type: 'iam' },
    { type: 'jwt', issuer: 'https://i' },
    { type: 'jwt', issuer: 'https://i', audience: 'a', identitySource: [] },
    { type: 'function', function: 'auth', payloadFormatVersion: '3.0', enableSimpleResponses: true, identitySource: [], resultTtlSeconds: 0 },
    { type: 'function', function: 'auth', payloadFormatVersion: '2.0', enableSimpleResponses: true, identitySource: [1], resultTtlSeconds: 0 },
  ];
  for (const authorizer of bad) t.strictSame(routeOptionsFrom({ authorizer }), { authorizer: { type: 'invalid' } }, JSON.stringify(authorizer));
  t.strictSame(routeOptionsFrom({ throttle: { rateLimit: -1, burstLimit: 1 } }), {});
  t.strictSame(routeOptionsFrom({ throttle: { rateLimit: '1', burstLimit: 1 } }), {});
});

t.test('reads an API key row with its plan', async (t) => {
  const created = new Date('2026-11-01T10:00:00Z');
  const key = apiKeyFrom({ id: 'ak1', usage_plan_id: 'up1', apis: ['shop', 5], throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 10, period: 'WEEK' }, plan_created_at: created });
  t.equal(key.id, 'ak1');
  t.strictSame([...key.apis], ['shop']);
  t.strictSame(key.throttle, { rateLimit: 1, burstLimit: 2 });
  t.strictSame(key.quota, { limit: 10, period: 'WEEK', planCreatedAtMs: created.getTime() });
  const offset = apiKeyFrom({ id: 'ak3', usage_plan_id: 'up1', apis: [], throttle: null, quota: { limit: 10, period: 'DAY', offset: 4 }, plan_created_at: created });
  t.strictSame(offset.quota, { limit: 10, period: 'DAY', planCreatedAtMs: created.getTime(), offset: 4 });
  const bare = apiKeyFrom({ id: 'ak2', usage_plan_id: 'up1', apis: null, throttle: null, quota: { limit: 10, period: 'YEAR' }, plan_created_at: created });
  t.equal(bare.apis.size, 0);
  t.equal(bare.throttle, undefined);
  t.equal(bare.quota, undefined);
});
