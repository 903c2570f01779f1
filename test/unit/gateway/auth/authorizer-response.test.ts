import t from 'tap';
import { arnMatches, isAllowed, parseAuthorizerResponse } from '../../../../gateway/auth/authorizer-response.js';

const ARN = 'arn:aws:execute-api:us-east-1:000000000000:a1b2c3/$default/GET/pets/42';
const parse = (v: unknown, simple: boolean) => parseAuthorizerResponse(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), simple);
const policy = (statements: unknown, extra: Record<string, unknown> = {}) => ({ principalId: 'user-1', policyDocument: { Version: '2012-10-17', Statement: statements }, ...extra });
const allow = (resource: unknown, action: unknown = 'execute-api:Invoke') => ({ Action: action, Effect: 'Allow', Resource: resource });
const deny = (resource: unknown) => ({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: resource });

t.test('reads simple responses, with or without context', async (t) => {
  t.strictSame(parse({ isAuthorized: true, context: { tenant: 'acme', tier: 2 } }, true), { kind: 'simple', isAuthorized: true, context: { tenant: 'acme', tier: 2 } });
  t.strictSame(parse({ isAuthorized: false }, true), { kind: 'simple', isAuthorized: false, context: null });
});

t.test('treats malformed answers as invalid', async (t) => {
  const cases: [string, unknown, boolean][] = [
    ['not JSON', 'nope', true],
    ['a bare string in simple mode', '"Allow"', true],
    ['isAuthorized not a boolean', { isAuthorized: 'true' }, true],
    ['a policy in simple mode', policy([allow(ARN)]), true],
    ['a simple answer in policy mode', { isAuthorized: true }, false],
    ['a context that is a list', { isAuthorized: true, context: [1] }, true],
    ['a statement without Effect', policy([{ Action: 'execute-api:Invoke', Resource: ARN }]), false],
    ['an Effect other than Allow/Deny', policy([{ Action: 'execute-api:Invoke', Effect: 'Maybe', Resource: ARN }]), false],
    ['a Resource that is a number', policy([allow(5)]), false],
    ['a principalId that is a number', policy([allow(ARN)], { principalId: 5 }), false],
    ['no policyDocument', { principalId: 'x' }, false],
  ];
  for (const [what, value, simple] of cases) t.equal(parse(value, simple).kind, 'invalid', what);
});

t.test('allows by simple flag or by a matching Allow, denies on a Deny or on no match', async (t) => {
  const cases: [string, unknown, boolean, boolean][] = [
    ['simple true', { isAuthorized: true }, true, true],
    ['simple false', { isAuthorized: false }, true, false],
    ['exact Allow', policy([allow(ARN)]), false, true],
    ['wildcard Allow', policy([allow('arn:aws:execute-api:us-east-1:000000000000:a1b2c3/*')]), false, true],
    ['Allow of a list of resources', policy([allow(['arn:x', ARN])]), false, true],
    ['single statement object', policy(allow(ARN)), false, true],
    ['Allow of another route', policy([allow('arn:aws:execute-api:us-east-1:000000000000:a1b2c3/$default/POST/*')]), false, false],
    ['Allow with action *', policy([allow('*', '*')]), false, true],
    ['Allow of another action', policy([allow('*', 's3:GetObject')]), false, false],
    ['explicit Deny', policy([deny(ARN)]), false, false],
    ['Deny beats Allow', policy([allow('*'), deny('arn:aws:execute-api:*:*:a1b2c3/*/GET/pets/*')]), false, false],
    ['no statements', policy([]), false, false],
    ['? matches one character', policy([allow(ARN.replace('42', '4?'))]), false, true],
  ];
  for (const [what, value, simple, expected] of cases) {
    const r = parse(value, simple);
    if (r.kind === 'invalid') throw new Error(`${what} parsed as invalid`);
    t.equal(isAllowed(r, ARN), expected, what);
  }
});

t.test('matches ARNs literally apart from * and ?', async (t) => {
  t.ok(arnMatches('a.b/$default/GET/x', 'a.b/$default/GET/x'));
  t.notOk(arnMatches('a.b/x', 'aXb/x'), 'a dot is a dot');
  t.ok(arnMatches('*', 'anything'));
  t.notOk(arnMatches('a/(b)', 'a/b'), 'parentheses are literal');
});
