/**
 * Bench scenarios for the gateway's request guards (issue #5): the same warm function routed
 * with no auth, with an API key under a usage plan (throttle + quota checked in Redis), with a
 * JWT authorizer (JWKS from a local server on 127.0.0.1), and with a Lambda authorizer whose
 * answer is cached. Reported as p50/p99 added over the no-auth path, all measured in one run,
 * interleaved so machine drift hits them alike.
 */
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const AUTHORIZER_SRC = "exports.handler = async () => ({ isAuthorized: true, context: { tenant: 'bench' } });\n";

/** Starts the JWKS server, creates the routes, plan, key and authorizer; returns four targets. */
export async function setupAuthScenarios({ admin, gwUrl, makeTarget, zipFor, host }) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const jwks = http.createServer((req, res) => {
    res.writeHead(req.url === '/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/jwks.json' ? JSON.stringify({ keys: [jwk] }) : '{}');
  });
  await new Promise((resolve) => jwks.listen(0, host, resolve));
  const issuer = `http://${host}:${jwks.address().port}`;
  const token = await new SignJWT({ aud: 'bench', sub: 'bench-user', scope: 'bench/read' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);

  await admin('POST', '/v1/functions', { name: 'bench-authorizer', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: zipFor(AUTHORIZER_SRC) } });
  // Limits far above what the bench sends: every request is checked, none is refused.
  const plan = await admin('POST', '/v1/usage-plans', { name: 'bench', apis: ['bench'], throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 }, quota: { limit: 100_000_000, period: 'DAY' } });
  const key = await admin('POST', '/v1/api-keys', { name: 'bench', usagePlanId: plan.id });
  await admin('POST', '/v1/apis/bench/routes', { routeKey: 'GET /auth/key', function: 'warm', apiKeyRequired: true });
  await admin('POST', '/v1/apis/bench/routes', { routeKey: 'GET /auth/jwt', function: 'warm', authorizer: { type: 'jwt', issuer, audience: ['bench'], jwksUri: `${issuer}/jwks.json`, scopes: ['bench/read'] } });
  await admin('POST', '/v1/apis/bench/routes', {
    routeKey: 'GET /auth/lambda',
    function: 'warm',
    authorizer: { type: 'function', function: 'bench-authorizer', enableSimpleResponses: true, resultTtlSeconds: 3600 },
  });

  const check = (b) => b === 'ok';
  const targets = [
    makeTarget('auth_none', gwUrl, { path: '/bench/ok', check }),
    makeTarget('auth_key', gwUrl, { path: '/bench/auth/key', headers: { 'x-api-key': key.value }, check }),
    makeTarget('auth_jwt', gwUrl, { path: '/bench/auth/jwt', headers: { authorization: `Bearer ${token}` }, check }),
    makeTarget('auth_lambda', gwUrl, { path: '/bench/auth/lambda', headers: { authorization: 'Bearer bench' }, check }),
  ];
  return {
    targets,
    close: () => new Promise((resolve) => jwks.close(() => resolve())),
  };
}

/** Text lines and a JSON object: p50/p99 of each guard and what it adds over no auth. */
export function authReport(seq, f, r3) {
  const base = seq.auth_none;
  const rows = [
    ['no auth (open route)', 'auth_none'],
    ['API key + usage plan (Redis)', 'auth_key'],
    ['JWT authorizer (cached JWKS)', 'auth_jwt'],
    ['Lambda authorizer (cached answer)', 'auth_lambda'],
  ];
  const pad = (s, n) => String(s).padEnd(n);
  const lines = ['4. Gateway overhead per guard, routed via the gateway process (ms; + vs no auth, same run, interleaved)'];
  lines.push(`${pad('', 42)}${pad('p50', 8)}${pad('p99', 8)}${pad('+p50', 8)}${pad('+p99', 8)}n/err`);
  const json = {};
  for (const [label, name] of rows) {
    const s = seq[name];
    lines.push(`${pad(label, 42)}${pad(f(s.p50), 8)}${pad(f(s.p99), 8)}${pad(f(s.p50 - base.p50), 8)}${pad(f(s.p99 - base.p99), 8)}${s.n}/${s.errors}`);
    json[name] = { n: s.n, errors: s.errors, p50: r3(s.p50), p99: r3(s.p99), addedP50: r3(s.p50 - base.p50), addedP99: r3(s.p99 - base.p99) };
  }
  return { lines, json };
}
