// Every stored value the gateway later writes into a header, or into a URL it fetches, is refused
// when it does not follow RFC 9110's grammar, with the field named.
import t from 'tap';
import { GantryError } from '../../../../common/errors.js';
import { createRouteSchema } from '../../../../control-plane/admin-api/gateway-options-schemas.js';
import { createApiSchema, createFunctionSchema, parseBody, patchApiSchema } from '../../../../control-plane/admin-api/validation.js';

function problem(schema: Parameters<typeof parseBody>[0], body: unknown): string {
  try {
    parseBody(schema, body);
  } catch (err) {
    if (err instanceof GantryError && err.type === 'ValidationError') return err.message;
    throw err;
  }
  return '';
}

t.test("the issue's CR/LF CORS body is refused, each field named", async (t) => {
  const cors = { allowHeaders: ['x-a\r\nX-Injected: yes'], exposeHeaders: ['e\r\nSet-Cookie: s=1'], allowOrigins: ['https://a.example\r\nSet-Cookie: s=1'] };
  const message = problem(createApiSchema, { name: 'shop', cors });
  t.match(message, /cors\.allowHeaders\.0: must be a header name/);
  t.match(message, /cors\.exposeHeaders\.0: must be a header name/);
  t.match(message, /cors\.allowOrigins\.0: /);
  t.match(problem(patchApiSchema, { cors: { allowMethods: ['GET\r\n'] } }), /cors\.allowMethods\.0/);
});

t.test('ordinary CORS settings are still accepted as they are', async (t) => {
  const cors = { allowOrigins: ['https://app.example.com', 'http://localhost:3000'], allowMethods: ['GET', 'POST', '*'], allowHeaders: ['content-type', 'x-api-key', '*'], exposeHeaders: ['x-total'], maxAge: 300, allowCredentials: true };
  t.same(parseBody(createApiSchema, { name: 'shop', cors }).cors, cors);
  t.same(parseBody(patchApiSchema, { cors: { allowOrigins: ['*'] } }).cors, { allowOrigins: ['*'] });
});

t.test('CORS lists and items are bounded', async (t) => {
  t.match(problem(patchApiSchema, { cors: { allowHeaders: Array.from({ length: 101 }, (_, i) => `x-${i}`) } }), /cors\.allowHeaders/);
  t.match(problem(patchApiSchema, { cors: { exposeHeaders: ['x'.repeat(257)] } }), /cors\.exposeHeaders\.0/);
  t.match(problem(patchApiSchema, { cors: { allowOrigins: [`https://${'a'.repeat(2050)}.test`] } }), /cors\.allowOrigins\.0/);
});

t.test('hosts are host names, label by label', async (t) => {
  t.match(problem(patchApiSchema, { hosts: ['api.example.com\r\nX: y'] }), /hosts\.0: must be a host name/);
  t.match(problem(patchApiSchema, { hosts: [`${'a'.repeat(64)}.example.com`] }), /hosts\.0/);
  t.same(parseBody(patchApiSchema, { hosts: ['api.example.com'] }).hosts, ['api.example.com']);
});

const route = (authorizer: Record<string, unknown>) => ({ routeKey: 'GET /x', function: 'fn', authorizer });

t.test('authorizer settings that reach headers or URLs are checked', async (t) => {
  const jwt = { type: 'jwt', issuer: 'https://idp.example.com', audience: ['a'] };
  t.match(problem(createRouteSchema, route({ ...jwt, jwksUri: 'https://idp.example.com/jwks\r\nX-Injected: yes' })), /authorizer\.jwksUri: must be visible ASCII/);
  t.match(problem(createRouteSchema, route({ ...jwt, jwksUri: 'https://idp.exa\nmple.com/jwks' })), /authorizer\.jwksUri/, 'a URL parser would drop the LF');
  t.match(problem(createRouteSchema, route({ ...jwt, issuer: 'https://idp.example.com\r\n' })), /authorizer\.issuer/);
  t.match(problem(createRouteSchema, route({ ...jwt, audience: ['a\u0000b'] })), /authorizer\.audience\.0: must not contain control/);
  t.match(problem(createRouteSchema, route({ ...jwt, scopes: ['read write'] })), /authorizer\.scopes\.0/);
  t.match(problem(createRouteSchema, route({ ...jwt, identitySource: ['$request.header.X-A\r\nB'] })), /authorizer\.identitySource\.0/);
  t.match(problem(createRouteSchema, route({ type: 'function', function: 'auth', identitySource: ['$request.querystring.t\u0000'] })), /authorizer\.identitySource\.0/);
  t.match(problem(createRouteSchema, route({ type: 'function', function: 'auth', identitySource: ['$request.querystring.a#b'] })), /authorizer\.identitySource\.0/);
  t.equal(problem(createRouteSchema, route({ ...jwt, jwksUri: 'https://idp.example.com/.well-known/jwks.json', scopes: ['read:pets'] })), '');
  t.equal(problem(createRouteSchema, route({ type: 'function', function: 'auth', identitySource: ['$request.header.Authorization', '$request.querystring.token', '$context.requestId'] })), '');
});

t.test('environment values cannot carry NUL into a process environment', async (t) => {
  const fn = { name: 'f', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: 'UEs=' } };
  t.match(problem(createFunctionSchema, { ...fn, environment: { KEY: 'a\u0000b' } }), /environment\.KEY: values must not contain NUL/);
  t.equal(problem(createFunctionSchema, { ...fn, environment: { KEY: 'line 1\nline 2' } }), '');
});

t.test('every stored field nests at most 64 levels, checked before the schema', async (t) => {
  const deep = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)) as unknown;
  t.match(problem(createApiSchema, { name: 'shop', cors: deep }), /^Invalid request: cors: nested deeper than 64 levels\.$/);
  t.match(problem(createRouteSchema, { routeKey: 'GET /x', function: 'fn', authorizer: deep }), /authorizer: nested deeper than 64 levels/);
});
