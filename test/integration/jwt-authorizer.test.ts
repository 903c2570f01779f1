// The JWT authorizer against a real JWKS server on 127.0.0.1: every validation rule of
// compat.md §8.1, key caching and refresh on an unknown kid, PEM keys and OIDC discovery.
import { SignJWT } from 'jose';
import t from 'tap';
import { JwtAuthorizer, type JwtOutcome } from '../../gateway/auth/jwt-authorizer.js';
import { JwtKeys } from '../../gateway/auth/jwt-keys.js';
import type { JwtAuthorizerConfig } from '../../gateway/routing/route-snapshot.js';
import { makeKey, startJwksServer } from '../support/jwks-server.js';

const k1 = await makeKey('k1');
const k2 = await makeKey('k2');
const idp = await startJwksServer([k1]);
t.teardown(() => idp.close());

const newAuthorizer = (cooldownMs = 0) => new JwtAuthorizer(new JwtKeys({ fetchTimeoutMs: 1500, refreshCooldownMs: cooldownMs, cacheMaxAgeMs: 600_000 }));
const CONFIG: JwtAuthorizerConfig = { type: 'jwt', issuer: idp.issuer, audience: ['api://shop'], jwksUri: idp.jwksUri, identitySource: ['$request.header.Authorization'] };
const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization }, query: {}, context: {} });
const authorize = (a: JwtAuthorizer, token: string | undefined, config: Partial<JwtAuthorizerConfig> = {}): Promise<JwtOutcome> =>
  a.authorize({ ...CONFIG, ...config }, request(token === undefined ? undefined : `Bearer ${token}`));

t.test('allows a valid token and passes its claims as strings and its scopes as a list', async (t) => {
  const token = await idp.sign(k1, { sub: 'u-1', aud: 'api://shop', scope: 'pets/read pets/write', groups: ['a', 'b'], n: 5, admin: true });
  const out = await authorize(newAuthorizer(), token);
  if (out.kind !== 'allow') throw new Error(JSON.stringify(out));
  t.match(out.claims, { sub: 'u-1', aud: 'api://shop', scope: 'pets/read pets/write', groups: '[a b]', n: '5', admin: 'true', iss: idp.issuer });
  t.match(out.claims['exp'], /^\d+$/);
  t.strictSame(out.scopes, ['pets/read', 'pets/write']);
});

t.test('accepts the bare token as well as Bearer <token>', async (t) => {
  const token = await idp.sign(k1, { aud: 'api://shop' });
  t.equal((await newAuthorizer().authorize(CONFIG, request(token))).kind, 'allow');
});

t.test('reads the token from another identity source', async (t) => {
  const token = await idp.sign(k1, { aud: 'api://shop' });
  const out = await newAuthorizer().authorize({ ...CONFIG, identitySource: ['$request.querystring.token'] }, { headers: {}, query: { token }, context: {} });
  t.equal(out.kind, 'allow');
});

const now = () => Math.floor(Date.now() / 1000);
const invalid: [string, () => Promise<string | undefined>, Partial<JwtAuthorizerConfig>?][] = [
  ['no token', async () => undefined],
  ['garbage', async () => 'not.a.jwt'],
  ['an expired token', () => idp.sign(k1, { aud: 'api://shop' }, { expiresInS: -10 })],
  ['a token not valid yet (nbf)', () => idp.sign(k1, { aud: 'api://shop', nbf: now() + 300 })],
  ['a token issued in the future (iat)', () => new SignJWT({ aud: 'api://shop', iat: now() + 300 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(idp.issuer).setExpirationTime('10m').sign(k1.privateKey)],
  ['a token without exp', () => new SignJWT({ aud: 'api://shop' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(idp.issuer).sign(k1.privateKey)],
  ['another issuer', () => idp.sign(k1, { aud: 'api://shop' }), { issuer: 'https://other.example' }],
  ['another audience', () => idp.sign(k1, { aud: 'api://other' })],
  ['no audience at all', () => idp.sign(k1, {})],
  ['an HMAC token', () => new SignJWT({ aud: 'api://shop' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(idp.issuer).setExpirationTime('10m').sign(new TextEncoder().encode('x'.repeat(32)))],
  ['a token signed by an unpublished key', async () => idp.sign(await makeKey('k1'), { aud: 'api://shop' })],
  ['a tampered payload', async () => {
    const [h, , s] = (await idp.sign(k1, { aud: 'api://shop', sub: 'a' })).split('.');
    return `${h}.${Buffer.from(JSON.stringify({ aud: 'api://shop', sub: 'admin', iss: idp.issuer, exp: now() + 60 })).toString('base64url')}.${s}`;
  }],
];
for (const [what, make, config] of invalid) {
  t.test(`refuses ${what} as unauthorized`, async (t) => {
    const out = await authorize(newAuthorizer(), await make(), config);
    t.equal(out.kind, 'unauthorized');
    if (out.kind === 'unauthorized') t.type(out.description, 'string');
  });
}

t.test('accepts client_id in place of aud', async (t) => {
  t.equal((await authorize(newAuthorizer(), await idp.sign(k1, { client_id: 'api://shop' }))).kind, 'allow');
});

t.test('needs at least one of the route scopes, from scope or scp, else forbidden', async (t) => {
  const a = newAuthorizer();
  const scopes = ['pets/read', 'pets/admin'];
  t.equal((await authorize(a, await idp.sign(k1, { aud: 'api://shop', scope: 'pets/read' }), { scopes })).kind, 'allow');
  t.equal((await authorize(a, await idp.sign(k1, { aud: 'api://shop', scp: ['pets/admin'] }), { scopes })).kind, 'allow');
  t.equal((await authorize(a, await idp.sign(k1, { aud: 'api://shop', scope: 'pets/write' }), { scopes })).kind, 'forbidden');
  t.equal((await authorize(a, await idp.sign(k1, { aud: 'api://shop' }), { scopes })).kind, 'forbidden');
});

t.test('caches the key set and refetches it for an unknown kid', async (t) => {
  idp.keys = [k1];
  const a = newAuthorizer();
  idp.jwksFetches = 0;
  for (let i = 0; i < 5; i++) t.equal((await authorize(a, await idp.sign(k1, { aud: 'api://shop' }))).kind, 'allow');
  t.equal(idp.jwksFetches, 1, 'one fetch for five tokens');
  idp.keys = [k1, k2]; // key rotation at the issuer
  t.equal((await authorize(a, await idp.sign(k2, { aud: 'api://shop' }))).kind, 'allow', 'the new kid is found by a refetch');
  t.equal(idp.jwksFetches, 2);
});

t.test('refetches at most once per cooldown for kids nobody publishes', async (t) => {
  idp.keys = [k1];
  const a = newAuthorizer(60_000);
  idp.jwksFetches = 0;
  const stranger = await makeKey('nobody');
  for (let i = 0; i < 5; i++) t.equal((await authorize(a, await idp.sign(stranger, { aud: 'api://shop' }))).kind, 'unauthorized');
  t.ok(idp.jwksFetches <= 2, `fetches: ${idp.jwksFetches}`);
});

t.test('verifies with PEM public keys given in the route, any of them', async (t) => {
  const { jwksUri: _omit, ...noUri } = CONFIG;
  const a = newAuthorizer();
  t.equal((await a.authorize({ ...noUri, publicKeys: [k2.publicPem, k1.publicPem] }, request(await idp.sign(k1, { aud: 'api://shop' })))).kind, 'allow');
  t.equal((await a.authorize({ ...noUri, publicKeys: [k2.publicPem] }, request(await idp.sign(k1, { aud: 'api://shop' })))).kind, 'unauthorized');
});

t.test('finds the key set by OIDC discovery from the issuer', async (t) => {
  idp.keys = [k1];
  const { jwksUri: _omit, ...noUri } = CONFIG;
  t.equal((await newAuthorizer().authorize(noUri, request(await idp.sign(k1, { aud: 'api://shop' })))).kind, 'allow');
});

t.test('refuses a key set over 150000 bytes and one slower than the fetch timeout', async (t) => {
  idp.keys = [k1];
  const token = await idp.sign(k1, { aud: 'api://shop' });
  idp.padBytes = 150_001;
  t.equal((await authorize(newAuthorizer(), token)).kind, 'unauthorized', 'too large');
  idp.padBytes = 0;
  idp.delayMs = 300;
  const slow = new JwtAuthorizer(new JwtKeys({ fetchTimeoutMs: 100, refreshCooldownMs: 0, cacheMaxAgeMs: 600_000 }));
  t.equal((await authorize(slow, token)).kind, 'unauthorized', 'too slow');
  idp.delayMs = 0;
  t.equal((await authorize(newAuthorizer(), token)).kind, 'allow', 'fine again');
});
