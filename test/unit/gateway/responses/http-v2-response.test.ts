import t from 'tap';
import type { MappedResponse } from '../../../../gateway/responses/http-v2-response.js';
import { mapHttpV2Result } from '../../../../gateway/responses/http-v2-response.js';

type Wire = { statusCode: number; headers: [string, string][]; body: string };

/** Maps a payload given as JSON text (or raw bytes) and shows the body as text for exact comparison. */
function map(payload: string | Buffer, functionError = false): Wire {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return asWire(mapHttpV2Result({ payload: bytes, functionError }));
}

/** Maps a result given as a value, serialised the way a runtime would post it. */
function mapValue(value: unknown): Wire {
  return map(JSON.stringify(value));
}

function asWire(response: MappedResponse): Wire {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body.toString('utf8') };
}

const JSON_TYPE: [string, string] = ['content-type', 'application/json'];
const INTERNAL_ERROR: Wire = { statusCode: 500, headers: [JSON_TYPE], body: '{"message":"Internal Server Error"}' };

t.test('answers a function error with 500 Internal Server Error whatever the payload says', async (t) => {
  t.strictSame(map('{"errorMessage":"boom","errorType":"Error"}', true), INTERNAL_ERROR);
  t.strictSame(map('{"statusCode":200,"body":"fine"}', true), INTERNAL_ERROR);
});

t.test('answers a payload that is not JSON with 500 Internal Server Error', async (t) => {
  for (const payload of ['', 'hello', '{"statusCode":200', 'undefined', "{'a':1}"]) {
    t.strictSame(map(payload), INTERNAL_ERROR, JSON.stringify(payload));
  }
});

t.test('infers 200 application/json with the JSON text for results without statusCode', async (t) => {
  const cases: [payload: string, body: string][] = [
    ['{"hello":"world"}', '{"hello":"world"}'],
    ['{"status":404}', '{"status":404}'],
    ['[1,2,3]', '[1,2,3]'],
    ['42', '42'],
    ['12345678901234567890', '12345678901234567890'],
    ['null', 'null'],
    ['true', 'true'],
    ['false', 'false'],
    [' {"a": 1}\n', '{"a": 1}'],
    ['[{"statusCode":500}]', '[{"statusCode":500}]'],
  ];
  for (const [payload, body] of cases) {
    t.strictSame(map(payload), { statusCode: 200, headers: [JSON_TYPE], body }, payload);
  }
});

t.test('sends a JSON string result as its bare value without quotes', async (t) => {
  t.strictSame(map('"hello"'), { statusCode: 200, headers: [JSON_TYPE], body: 'hello' });
  t.strictSame(map('"line\\nbreak \\"quoted\\" \\u00e9"'), {
    statusCode: 200,
    headers: [JSON_TYPE],
    body: 'line\nbreak "quoted" é',
  });
  t.strictSame(map('""'), { statusCode: 200, headers: [JSON_TYPE], body: '' });
});

t.test('maps a structured response: status, headers as given, body', async (t) => {
  t.strictSame(map('{"statusCode":201,"headers":{"Content-Type":"text/plain","X-Id":"7"},"body":"created"}'), {
    statusCode: 201,
    headers: [['Content-Type', 'text/plain'], ['X-Id', '7']],
    body: 'created',
  });
});

t.test('accepts every integer status code from 200 to 599', async (t) => {
  for (const statusCode of [200, 204, 301, 404, 418, 500, 599]) {
    t.equal(mapValue({ statusCode, headers: { 'content-type': 'text/plain' } }).statusCode, statusCode);
  }
});

t.test('treats a non-integer or out-of-range statusCode as malformed', async (t) => {
  const statusCodes = ['"201"', '200.5', 'null', 'true', '"abc"', '{}', '99', '100', '199', '600', '1000', '-200'];
  for (const statusCode of statusCodes) {
    t.strictSame(map(`{"statusCode":${statusCode},"body":"x"}`), INTERNAL_ERROR, statusCode);
  }
});

t.test('adds content-type application/json to a structured response that has none', async (t) => {
  t.strictSame(map('{"statusCode":200,"headers":{"X-A":"1"},"body":"{}"}'), {
    statusCode: 200,
    headers: [['X-A', '1'], JSON_TYPE],
    body: '{}',
  });
  t.strictSame(map('{"statusCode":204}'), { statusCode: 204, headers: [JSON_TYPE], body: '' });
});

t.test('keeps the function content-type in any case spelling, including in multiValueHeaders', async (t) => {
  const cases: [payload: string, headers: [string, string][]][] = [
    ['{"statusCode":200,"headers":{"CONTENT-TYPE":"text/html"}}', [['CONTENT-TYPE', 'text/html']]],
    ['{"statusCode":200,"multiValueHeaders":{"Content-type":["text/csv"]}}', [['Content-type', 'text/csv']]],
  ];
  for (const [payload, headers] of cases) t.strictSame(map(payload).headers, headers, payload);
});

t.test('stringifies number and boolean header values', async (t) => {
  const headers = { 'content-type': 'text/plain', 'X-Count': 3, 'X-Ratio': 1.5, 'X-Ok': true, 'X-No': false };
  t.strictSame(mapValue({ statusCode: 200, headers }).headers, [
    ['content-type', 'text/plain'],
    ['X-Count', '3'],
    ['X-Ratio', '1.5'],
    ['X-Ok', 'true'],
    ['X-No', 'false'],
  ]);
});

t.test('treats a header value that is not a string, number or boolean as malformed', async (t) => {
  for (const value of ['null', '["a","b"]', '{"a":1}']) {
    t.strictSame(map(`{"statusCode":200,"headers":{"X-Bad":${value}}}`), INTERNAL_ERROR, value);
  }
});

t.test('treats a header Node would refuse to send as malformed', async (t) => {
  const cases = [
    '{"statusCode":200,"headers":{"X-Bad":"a\\r\\nInjected: yes"}}',
    '{"statusCode":200,"headers":{"X-Bad":"nul\\u0000"}}',
    '{"statusCode":200,"headers":{"X-Bad":"snow \\u2603"}}',
    '{"statusCode":200,"headers":{"Bad Name":"v"}}',
    '{"statusCode":200,"headers":{"":"v"}}',
    '{"statusCode":200,"multiValueHeaders":{"X-Bad":["ok","a\\nb"]}}',
    '{"statusCode":200,"cookies":["a=1\\r\\nX: y"]}',
  ];
  for (const payload of cases) t.strictSame(map(payload), INTERNAL_ERROR, payload);
});

t.test('allows tabs and Latin-1 bytes in header values, as Node does', async (t) => {
  t.strictSame(map('{"statusCode":200,"headers":{"content-type":"text/plain","X-V":"a\\tb \\u00e9"}}').headers, [
    ['content-type', 'text/plain'],
    ['X-V', 'a\tb é'],
  ]);
});

t.test('treats headers, multiValueHeaders or cookies of the wrong type as malformed', async (t) => {
  const cases = [
    '{"statusCode":200,"headers":"x"}',
    '{"statusCode":200,"headers":["a"]}',
    '{"statusCode":200,"multiValueHeaders":{"X-A":"one"}}',
    '{"statusCode":200,"multiValueHeaders":["a"]}',
    '{"statusCode":200,"multiValueHeaders":{"X-A":[{"a":1}]}}',
    '{"statusCode":200,"cookies":"a=1"}',
    '{"statusCode":200,"cookies":[1]}',
    '{"statusCode":200,"cookies":{"a":"1"}}',
  ];
  for (const payload of cases) t.strictSame(map(payload), INTERNAL_ERROR, payload);
});

t.test('accepts null headers, multiValueHeaders and cookies as absent', async (t) => {
  t.strictSame(map('{"statusCode":202,"headers":null,"multiValueHeaders":null,"cookies":null,"body":"ok"}'), {
    statusCode: 202,
    headers: [JSON_TYPE],
    body: 'ok',
  });
});

t.test('emits each multiValueHeaders value as its own header line before headers', async (t) => {
  t.strictSame(
    mapValue({
      statusCode: 200,
      headers: { 'X-Solo': 's', 'content-type': 'text/plain' },
      multiValueHeaders: { 'X-Multi': ['a', 'b', 3], Vary: ['Accept'] },
    }).headers,
    [
      ['X-Multi', 'a'],
      ['X-Multi', 'b'],
      ['X-Multi', '3'],
      ['Vary', 'Accept'],
      ['X-Solo', 's'],
      ['content-type', 'text/plain'],
    ],
  );
});

t.test('sends a header named in both headers and multiValueHeaders twice, but an identical pair once', async (t) => {
  t.strictSame(
    mapValue({
      statusCode: 200,
      multiValueHeaders: { 'tesT-Multi': ['value-multi'], 'X-Same': ['v'] },
      headers: { 'test-multi': 'value-solo', 'x-same': 'v', 'content-type': 'text/plain' },
    }).headers,
    [
      ['tesT-Multi', 'value-multi'],
      ['X-Same', 'v'],
      ['test-multi', 'value-solo'],
      ['content-type', 'text/plain'],
    ],
  );
});

t.test('emits one set-cookie header per cookie, after the other headers', async (t) => {
  const cookies = ['a=1; Path=/', 'b=2; HttpOnly'];
  const headers = { 'content-type': 'text/plain', 'Set-Cookie': 'c=3' };
  t.strictSame(mapValue({ statusCode: 200, cookies, headers }).headers, [
    ['content-type', 'text/plain'],
    ['Set-Cookie', 'c=3'],
    ['set-cookie', 'a=1; Path=/'],
    ['set-cookie', 'b=2; HttpOnly'],
  ]);
  t.strictSame(map('{"statusCode":200,"cookies":[]}').headers, [JSON_TYPE]);
});

t.test('decodes a base64 body only when isBase64Encoded is true', async (t) => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
  const b64 = png.toString('base64');
  const decoded = mapHttpV2Result({
    payload: Buffer.from(
      JSON.stringify({ statusCode: 200, headers: { 'content-type': 'image/png' }, body: b64, isBase64Encoded: true }),
    ),
    functionError: false,
  });
  t.strictSame(decoded.body, png);
  const cases: [isBase64Encoded: unknown, body: string][] = [
    [false, b64],
    ['true', b64],
    [1, b64],
    [undefined, b64],
  ];
  for (const [isBase64Encoded, body] of cases) {
    t.equal(mapValue({ statusCode: 200, body: b64, isBase64Encoded }).body, body, String(isBase64Encoded));
  }
});

t.test('sends a missing or null body as empty and a non-string body as its JSON text', async (t) => {
  const cases: [body: string, sent: string][] = [
    ['', ''],
    [',"body":null', ''],
    [',"body":""', ''],
    [',"body":{"a":[1,2]}', '{"a":[1,2]}'],
    [',"body":[1,"x"]', '[1,"x"]'],
    [',"body":42', '42'],
    [',"body":false', 'false'],
    [',"body":{"a":1},"isBase64Encoded":true', '{"a":1}'],
  ];
  for (const [bodyPart, sent] of cases) {
    t.equal(map(`{"statusCode":200${bodyPart}}`).body, sent, bodyPart || 'no body');
  }
});

t.test('sends a string body as UTF-8 bytes', async (t) => {
  const payload = Buffer.from('{"statusCode":200,"body":"héllo ☃"}');
  const response = mapHttpV2Result({ payload, functionError: false });
  t.strictSame(response.body, Buffer.from('héllo ☃', 'utf8'));
});

t.test('ignores unknown top-level keys of a structured response', async (t) => {
  t.strictSame(map('{"statusCode":200,"body":"ok","extra":true,"headers":{"content-type":"text/plain"}}'), {
    statusCode: 200,
    headers: [['content-type', 'text/plain']],
    body: 'ok',
  });
});
