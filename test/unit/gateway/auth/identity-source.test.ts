import t from 'tap';
import { resolveIdentitySource, resolveIdentitySources } from '../../../../gateway/auth/identity-source.js';

const REQ = { headers: { authorization: 'Bearer x', 'x-tenant': 'acme', empty: '' }, query: { Token: 'q1', t: '' }, context: { routeKey: 'GET /a' } };

t.test('resolves each kind of expression', async (t) => {
  const cases: [string, string | undefined][] = [
    ['$request.header.Authorization', 'Bearer x'],
    ['$request.header.AUTHORIZATION', 'Bearer x'],
    ['$request.header.X-Tenant', 'acme'],
    ['$request.header.missing', undefined],
    ['$request.header.empty', undefined],
    ['$request.querystring.Token', 'q1'],
    ['$request.querystring.token', undefined],
    ['$request.querystring.t', undefined],
    ['$context.routeKey', 'GET /a'],
    ['$context.nothing', undefined],
    ['$stageVariables.x', undefined],
    ['$request.header.__proto__', undefined],
  ];
  for (const [expr, expected] of cases) t.equal(resolveIdentitySource(expr, REQ), expected, expr);
});

t.test('returns every value in order, or undefined when any is missing', async (t) => {
  t.strictSame(resolveIdentitySources(['$request.header.X-Tenant', '$request.querystring.Token'], REQ), ['acme', 'q1']);
  t.equal(resolveIdentitySources(['$request.header.X-Tenant', '$request.querystring.nope'], REQ), undefined);
  t.strictSame(resolveIdentitySources([], REQ), []);
});
