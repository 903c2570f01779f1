import t from 'tap';
import { mapHttpV1Result } from '../../../../gateway/responses/http-v1-response.js';

const map = (payload: unknown, functionError = false) =>
  mapHttpV1Result({ payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), functionError });
const MALFORMED = '{"message": "Internal server error"}';

t.test('answers a function error and every malformed result with 502 Internal server error', async (t) => {
  const cases: [string, string][] = [
    ['a function error', '{"statusCode":200}'],
    ['not JSON', 'not json'],
    ['a bare JSON string', '"hello"'],
    ['a number', '42'],
    ['an array', '[1]'],
    ['null', 'null'],
    ['an unknown top-level key', '{"statusCode":200,"cookies":["a=1"]}'],
    ['a non-numeric statusCode', '{"statusCode":"test"}'],
    ['a statusCode below 200', '{"statusCode":100}'],
    ['a fractional statusCode', '{"statusCode":200.5}'],
    ['a header value that is an object', '{"headers":{"a":{"b":1}}}'],
    ['a header value that is a list', '{"headers":{"a":["b"]}}'],
    ['a multiValueHeaders entry that is not a list', '{"multiValueHeaders":{"a":"b"}}'],
    ['headers that are a list', '{"headers":["a"]}'],
    ['a non-string body', '{"body":{"a":1}}'],
    ['a numeric body', '{"body":5}'],
    ['isBase64Encoded of the wrong type', '{"isBase64Encoded":"yes"}'],
    ['a header Node would refuse', '{"headers":{"bad name":"x"}}'],
  ];
  for (const [what, payload] of cases) {
    const r = map(payload, what === 'a function error');
    t.equal(r.statusCode, 502, what);
    t.equal(r.body.toString(), MALFORMED, what);
    t.strictSame(r.headers, [['content-type', 'application/json']], what);
  }
});

t.test('answers 200 with an empty body for a result holding only headers', async (t) => {
  const r = map({ headers: { 'x-a': '1' } });
  t.equal(r.statusCode, 200);
  t.equal(r.body.length, 0);
  t.strictSame(r.headers, [['x-a', '1'], ['content-type', 'application/json']]);
});

t.test('accepts an empty object as 200 with an empty body', async (t) => {
  const r = map({});
  t.equal(r.statusCode, 200);
  t.equal(r.body.length, 0);
});

t.test('accepts a numeric string statusCode', async (t) => {
  t.equal(map({ statusCode: '201' }).statusCode, 201);
  t.equal(map({ statusCode: 404 }).statusCode, 404);
});

t.test('accepts null headers, multiValueHeaders, body and isBase64Encoded as absent', async (t) => {
  const r = map({ statusCode: 204, headers: null, multiValueHeaders: null, body: null, isBase64Encoded: null });
  t.equal(r.statusCode, 204);
  t.equal(r.body.length, 0);
});

t.test('stringifies boolean and number header values', async (t) => {
  const r = map({ headers: { 'x-bool': true, 'x-num': 3, 'content-type': 'text/plain' } });
  t.strictSame(r.headers, [['x-bool', 'true'], ['x-num', '3'], ['content-type', 'text/plain']]);
});

t.test('sends both headers and multiValueHeaders of one name, multi-value first; an identical pair once', async (t) => {
  const r = map({ multiValueHeaders: { 'tesT-Multi': ['value-multi'], 'Set-Cookie': ['a=1', 'b=2'], 'x-same': ['v'] }, headers: { 'test-multi': 'value-solo', 'X-Same': 'v', 'content-type': 'text/plain' } });
  t.strictSame(r.headers, [
    ['tesT-Multi', 'value-multi'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
    ['x-same', 'v'],
    ['test-multi', 'value-solo'],
    ['content-type', 'text/plain'],
  ]);
});

t.test('decodes a base64 body when isBase64Encoded is true, and sends it as text otherwise', async (t) => {
  const bytes = Buffer.from([0, 159, 146, 150, 255]);
  t.same(map({ body: bytes.toString('base64'), isBase64Encoded: true }).body, bytes);
  t.equal(map({ body: 'aGk=', isBase64Encoded: false }).body.toString(), 'aGk=');
  t.equal(map({ body: 'héllo' }).body.toString('utf8'), 'héllo');
});

t.test('keeps the function content-type and adds application/json only when none is set', async (t) => {
  t.strictSame(map({ headers: { 'Content-Type': 'text/html' } }).headers, [['Content-Type', 'text/html']]);
  t.strictSame(map({ multiValueHeaders: { 'content-type': ['image/png'] } }).headers, [['content-type', 'image/png']]);
});
