import t from 'tap';
import { allowedOrigin, applyCors, headerSafeCors, isPreflight, preflightHeaders, responseCorsHeaders } from '../../../../gateway/http/cors.js';
import type { CorsConfig } from '../../../../gateway/routing/route-snapshot.js';

const FULL: CorsConfig = {
  allowOrigins: ['https://app.example.com'],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['content-type', 'x-api-key'],
  exposeHeaders: ['x-request-id', 'x-total'],
  maxAge: 600,
  allowCredentials: true,
};

t.test('recognises a preflight only with OPTIONS, Origin and Access-Control-Request-Method', async (t) => {
  const cases: [string, string | undefined, string | undefined, boolean][] = [
    ['OPTIONS', 'https://a', 'GET', true],
    ['OPTIONS', undefined, 'GET', false],
    ['OPTIONS', 'https://a', undefined, false],
    ['GET', 'https://a', 'GET', false],
  ];
  for (const [method, origin, requested, expected] of cases) t.equal(isPreflight(method, origin, requested), expected, `${method} ${origin} ${requested}`);
});

t.test('allows listed origins case-insensitively, echoing the request origin', async (t) => {
  const cases: [CorsConfig, string | undefined, string | undefined][] = [
    [FULL, 'https://app.example.com', 'https://app.example.com'],
    [FULL, 'HTTPS://APP.EXAMPLE.COM', 'HTTPS://APP.EXAMPLE.COM'],
    [FULL, 'https://evil.example.com', undefined],
    [FULL, undefined, undefined],
    [{ allowOrigins: ['*'] }, 'https://x.test', '*'],
    [{ allowOrigins: ['*'], allowCredentials: true }, 'https://x.test', 'https://x.test'],
    [{}, 'https://x.test', undefined],
  ];
  for (const [cors, origin, expected] of cases) t.equal(allowedOrigin(cors, origin), expected, `${JSON.stringify(cors)} ${origin}`);
});

t.test('answers a preflight with every configured header', async (t) => {
  t.strictSame(preflightHeaders(FULL, 'https://app.example.com'), [
    ['access-control-allow-origin', 'https://app.example.com'],
    ['access-control-allow-credentials', 'true'],
    ['access-control-allow-methods', 'GET,POST'],
    ['access-control-allow-headers', 'content-type,x-api-key'],
    ['access-control-max-age', '600'],
  ]);
});

t.test('answers a preflight of a foreign origin without CORS headers', async (t) => {
  t.strictSame(preflightHeaders(FULL, 'https://evil.example.com'), []);
});

t.test('leaves unset options out of a preflight answer', async (t) => {
  t.strictSame(preflightHeaders({ allowOrigins: ['*'] }, 'https://a.test'), [['access-control-allow-origin', '*']]);
  t.strictSame(preflightHeaders({ allowOrigins: ['*'], maxAge: 0 }, 'https://a.test'), [['access-control-allow-origin', '*'], ['access-control-max-age', '0']]);
});

t.test('adds origin, credentials and expose headers to an actual response', async (t) => {
  t.strictSame(responseCorsHeaders(FULL, 'https://app.example.com'), [
    ['access-control-allow-origin', 'https://app.example.com'],
    ['access-control-allow-credentials', 'true'],
    ['access-control-expose-headers', 'x-request-id,x-total'],
  ]);
  t.strictSame(responseCorsHeaders(FULL, undefined), []);
});

t.test('replaces the function CORS headers with the configured ones', async (t) => {
  const fn: [string, string][] = [['content-type', 'text/plain'], ['Access-Control-Allow-Origin', '*'], ['access-control-max-age', '1']];
  t.strictSame(applyCors(fn, FULL, 'https://app.example.com'), [
    ['content-type', 'text/plain'],
    ['access-control-allow-origin', 'https://app.example.com'],
    ['access-control-allow-credentials', 'true'],
    ['access-control-expose-headers', 'x-request-id,x-total'],
  ]);
  t.strictSame(applyCors(fn, FULL, 'https://evil.example.com'), [['content-type', 'text/plain']], 'a foreign origin gets none');
});

t.test('a stored configuration loses every value that could not be written into a header', async (t) => {
  const stored = {
    allowOrigins: ['https://app.test', 'https://a.example\r\nSet-Cookie: s=1', '*'],
    allowMethods: ['GET', 'POST\r\n'],
    allowHeaders: ['content-type', 'x-a\r\nX-Injected: yes'],
    exposeHeaders: ['e\r\nSet-Cookie: s=1', 'x-total'],
    maxAge: 300,
    allowCredentials: false,
  };
  t.strictSame(headerSafeCors(stored), { allowOrigins: ['https://app.test', '*'], allowMethods: ['GET'], allowHeaders: ['content-type'], exposeHeaders: ['x-total'], maxAge: 300, allowCredentials: false });
  t.strictSame(headerSafeCors({ allowOrigins: ['https://app.test'] }), { allowOrigins: ['https://app.test'] }, 'a clean configuration is kept as it is');
  t.equal(headerSafeCors(null), null);
  const headers = preflightHeaders(headerSafeCors(stored) ?? {}, 'https://app.test');
  t.notOk(headers.some(([, v]) => /[\r\n]/.test(v)), 'no header value with CR or LF');
});
