import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { isFieldValue, isHostName, isToken, isVisibleAscii, originProblem } from '../../../common/http-grammar.js';

const SPLITTERS = ['\r', '\n', '\r\n', '\0'];
/** Any string with a CR, LF or NUL somewhere in it. */
const withSplitter = fc
  .tuple(fc.string(), fc.constantFrom(...SPLITTERS), fc.string())
  .map(([a, s, b]) => a + s + b);

t.test('nothing with CR, LF or NUL passes any check', async (t) => {
  fc.assert(
    fc.property(withSplitter, (s) => !isToken(s) && !isFieldValue(s) && !isHostName(s) && !isVisibleAscii(s) && originProblem(s) !== undefined),
    { numRuns: 1000 },
  );
  t.pass('1000 strings refused');
});

t.test('whatever passes is accepted by Node as a header name or value', async (t) => {
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[\x00-\x7f]{0,12}$/));
  fc.assert(
    fc.property(text, (s) => {
      if (isToken(s)) validateHeaderName(s);
      if (isFieldValue(s)) validateHeaderValue('x', s);
      if (originProblem(s) === undefined) validateHeaderValue('access-control-allow-origin', s);
      return true;
    }),
    { numRuns: 1500 },
  );
  t.pass('no accepted value made Node throw');
});

t.test('tokens are the RFC 9110 tchar set', async (t) => {
  for (const s of ['content-type', 'X-Api-Key', '*', 'GET', "a!#$%&'*+-.^_`|~9"]) t.ok(isToken(s), s);
  for (const s of ['', 'a b', 'a:b', 'a,b', '(a)', 'é', 'a\tb', 'x-a\r\nX-Injected: yes']) t.notOk(isToken(s), JSON.stringify(s));
});

t.test('field values: visible characters, inner spaces, no edges of whitespace', async (t) => {
  for (const s of ['', 'a', 'text/html; charset=utf-8', 'a\tb']) t.ok(isFieldValue(s), JSON.stringify(s));
  for (const s of [' a', 'a ', 'a\u0001', 'a\u007f', 'é', 'a\r\nSet-Cookie: s=1']) t.notOk(isFieldValue(s), JSON.stringify(s));
});

t.test('host names are RFC 1123 labels', async (t) => {
  for (const s of ['a', 'api.example.com', 'x-1.test', `${'a'.repeat(63)}.test`]) t.ok(isHostName(s), s);
  for (const s of ['', '-a.test', 'a-.test', 'a..b', 'a.', `${'a'.repeat(64)}.test`, 'a_b.test', 'a b', `${'a.'.repeat(127)}ab`]) t.notOk(isHostName(s), s);
});

t.test('origins are scheme://host[:port] or *', async (t) => {
  for (const s of ['*', 'https://app.example.com', 'http://localhost:3000', 'https://127.0.0.1', 'http://[::1]:8080', 'chrome-extension://abcdef']) {
    t.equal(originProblem(s), undefined, s);
  }
  for (const s of ['', 'null', 'app.example.com', 'https://', 'https://a.example/', 'https://a.example/path', 'https://u@a.example', 'https://a.example:0', 'https://a.example:65536', 'https://a.example:x', 'https://*.example.com', '1http://a.test', 'https://a.example\r\nSet-Cookie: s=1']) {
    t.type(originProblem(s), 'string', JSON.stringify(s));
  }
});
