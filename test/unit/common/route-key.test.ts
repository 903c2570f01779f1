import t from 'tap';
import {
  HTTP_ROUTE_METHODS,
  httpRouteKeyProblem,
  isValidHttpRouteKey,
  parseRouteKey,
  websocketRouteKeyProblem,
} from '../../../common/route-key.js';

t.test('parses $default as the default route', async (t) => {
  t.strictSame(parseRouteKey('$default'), { ok: true, key: { kind: 'default' } });
});

t.test('parses static, variable and greedy segments in order', async (t) => {
  t.strictSame(parseRouteKey('GET /pets/{id}/{rest+}'), {
    ok: true,
    key: {
      kind: 'route',
      method: 'GET',
      segments: [
        { kind: 'static', value: 'pets' },
        { kind: 'variable', name: 'id' },
        { kind: 'greedy', name: 'rest' },
      ],
    },
  });
});

t.test('parses the root path as zero segments', async (t) => {
  t.strictSame(parseRouteKey('ANY /'), { ok: true, key: { kind: 'route', method: 'ANY', segments: [] } });
});

t.test('stores static segments percent-decoded', async (t) => {
  t.strictSame(parseRouteKey('GET /caf%C3%A9'), {
    ok: true,
    key: { kind: 'route', method: 'GET', segments: [{ kind: 'static', value: 'café' }] },
  });
});

t.test('accepts every documented method', async (t) => {
  t.strictSame([...HTTP_ROUTE_METHODS], ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']);
  for (const method of HTTP_ROUTE_METHODS) t.equal(isValidHttpRouteKey(`${method} /x`), true, method);
});

t.test('accepts variable names made of letters, digits, dot, underscore and dash', async (t) => {
  for (const key of ['GET /{a.b_c-D9}', 'GET /{proxy+}', 'GET /a/{b}/c/{d+}', 'GET /v1.0/items']) {
    t.equal(httpRouteKeyProblem(key), undefined, key);
  }
});

const STATIC_CHARS = 'may not contain whitespace, "?", "#", or braces outside a whole-segment {variable}';

t.test('rejects invalid keys with a reason naming the problem', async (t) => {
  const cases: [key: string, reason: string][] = [
    ['', 'route key "" must be "$default" or "<METHOD> <path>"'],
    ['GET', 'route key "GET" must be "$default" or "<METHOD> <path>"'],
    ['$connect', 'route key "$connect" must be "$default" or "<METHOD> <path>"'],
    ['get /x', 'method "get" must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY'],
    ['TRACE /x', 'method "TRACE" must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY'],
    ['GET x', 'path "x" must start with "/"'],
    ['GET  /x', 'path " /x" must start with "/"'],
    ['GET /a//b', 'path "/a//b" has an empty segment (a doubled or trailing "/")'],
    ['GET /a/', 'path "/a/" has an empty segment (a doubled or trailing "/")'],
    ['GET /{proxy+}/x', 'greedy variable {proxy+} in "/{proxy+}/x" must be the last segment'],
    ['GET /{id}/{id}', 'path "/{id}/{id}" repeats the variable name "id"'],
    ['GET /{id}/{id+}', 'path "/{id}/{id+}" repeats the variable name "id"'],
    ['GET /{}', 'variable name "" in "/{}" must be 1 or more of [A-Za-z0-9._-]'],
    ['GET /{a b}', 'variable name "a b" in "/{a b}" must be 1 or more of [A-Za-z0-9._-]'],
    ['GET /{a$}', 'variable name "a$" in "/{a$}" must be 1 or more of [A-Za-z0-9._-]'],
    ['GET /{+}', 'variable name "" in "/{+}" must be 1 or more of [A-Za-z0-9._-]'],
    ['GET /a{id}', `segment "a{id}" in "/a{id}" ${STATIC_CHARS}`],
    ['GET /a?b=1', `segment "a?b=1" in "/a?b=1" ${STATIC_CHARS}`],
    ['GET /a#b', `segment "a#b" in "/a#b" ${STATIC_CHARS}`],
  ];
  for (const [key, reason] of cases) {
    t.strictSame(parseRouteKey(key), { ok: false, reason }, JSON.stringify(key));
    t.equal(httpRouteKeyProblem(key), reason, JSON.stringify(key));
    t.equal(isValidHttpRouteKey(key), false, JSON.stringify(key));
  }
});

t.test('accepts reserved and custom websocket keys and rejects other $ keys', async (t) => {
  const cases: [key: string, problem: string | undefined][] = [
    ['$connect', undefined],
    ['$disconnect', undefined],
    ['$default', undefined],
    ['sendMessage', undefined],
    ['chat/join', undefined],
    ['', 'a websocket route key must not be empty'],
    ['$custom', 'websocket route key "$custom" starts with "$" but is not $connect, $disconnect or $default'],
  ];
  for (const [key, problem] of cases) t.equal(websocketRouteKeyProblem(key), problem, JSON.stringify(key));
});

t.test('refuses dot segments, plain or percent-encoded, anywhere in the path', async (t) => {
  for (const key of ['GET /../x', 'GET /./x', 'GET /a/..', 'GET /a/.', 'GET /%2e%2e/x', 'GET /%2E%2e/x', 'GET /.%2e/x', 'GET /%2e/x', 'ANY /a/../{proxy+}']) {
    t.match(httpRouteKeyProblem(key), /dot segment/, key);
  }
  // Dots inside a segment are ordinary characters.
  for (const key of ['GET /...', 'GET /.well-known/x', 'GET /a..b', 'GET /v1.2/{id}', 'GET /%2e%2e%2e']) {
    t.equal(httpRouteKeyProblem(key), undefined, key);
  }
});
