import t from 'tap';
import type { HttpV2EventInput } from '../../../../gateway/events/http-v2-event.js';
import { buildHttpV2Event, formatClfTime } from '../../../../gateway/events/http-v2-event.js';

const BASE: HttpV2EventInput = {
  routeKey: 'GET /pets/{id}',
  method: 'GET',
  rawPath: '/pets/42',
  rawQueryString: '',
  rawHeaders: [],
  body: undefined,
  sourceIp: '10.0.0.7',
  httpVersion: '1.1',
  apiId: 'a1b2c3',
  domainName: 'a1b2c3.execute-api.example.internal',
  requestId: 'Xy12AbCdEFGhIj=',
  timeEpochMs: 1736072130000,
  pathParameters: undefined,
};

function eventWith(overrides: Partial<HttpV2EventInput>) {
  return buildHttpV2Event({ ...BASE, ...overrides });
}

t.test('builds the compat.md example event with its exact keys and key order', async (t) => {
  const event = eventWith({
    rawQueryString: 'tag=a&tag=b&limit=5',
    rawHeaders: [
      'Accept', 'application/json',
      'Host', 'a1b2c3.execute-api.example.internal',
      'X-Multi', 'one',
      'Cookie', 'sid=abc123; theme=dark',
      'X-Multi', 'two',
      'User-Agent', 'curl/8.5.0',
      'Content-Type', 'application/json',
    ],
    body: Buffer.from('{"name":"rex"}'),
    pathParameters: { id: '42' },
  });
  t.equal(
    JSON.stringify(event),
    JSON.stringify({
      version: '2.0',
      routeKey: 'GET /pets/{id}',
      rawPath: '/pets/42',
      rawQueryString: 'tag=a&tag=b&limit=5',
      cookies: ['sid=abc123', 'theme=dark'],
      headers: {
        accept: 'application/json',
        host: 'a1b2c3.execute-api.example.internal',
        'x-multi': 'one,two',
        'user-agent': 'curl/8.5.0',
        'content-type': 'application/json',
      },
      queryStringParameters: { tag: 'a,b', limit: '5' },
      pathParameters: { id: '42' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'a1b2c3',
        domainName: 'a1b2c3.execute-api.example.internal',
        domainPrefix: 'a1b2c3',
        http: { method: 'GET', path: '/pets/42', protocol: 'HTTP/1.1', sourceIp: '10.0.0.7', userAgent: 'curl/8.5.0' },
        requestId: 'Xy12AbCdEFGhIj=',
        routeKey: 'GET /pets/{id}',
        stage: '$default',
        time: '05/Jan/2025:10:15:30 +0000',
        timeEpoch: 1736072130000,
      },
      body: '{"name":"rex"}',
      isBase64Encoded: false,
    }),
  );
});

t.test('leaves out cookies, query, path parameters and body for a bare GET, keeping isBase64Encoded', async (t) => {
  const event = eventWith({
    routeKey: '$default',
    rawPath: '/',
    rawHeaders: ['Host', 'localhost:8080'],
    domainName: 'localhost:8080',
  });
  t.equal(
    JSON.stringify(event),
    JSON.stringify({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/',
      rawQueryString: '',
      headers: { host: 'localhost:8080' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'a1b2c3',
        domainName: 'localhost:8080',
        domainPrefix: 'localhost',
        http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '10.0.0.7', userAgent: '' },
        requestId: 'Xy12AbCdEFGhIj=',
        routeKey: '$default',
        stage: '$default',
        time: '05/Jan/2025:10:15:30 +0000',
        timeEpoch: 1736072130000,
      },
      isBase64Encoded: false,
    }),
  );
});

t.test('lower-cases header names and joins repeated headers with a comma in arrival order', async (t) => {
  const event = eventWith({
    rawHeaders: ['X-Trace', 'a', 'x-TRACE', 'b, c', 'Accept', '*/*', 'X-Trace', 'd', 'X-Empty', ''],
  });
  t.strictSame(event.headers, { 'x-trace': 'a,b, c,d', accept: '*/*', 'x-empty': '' });
});

t.test('ignores a dangling header name without a value', async (t) => {
  t.strictSame(eventWith({ rawHeaders: ['Accept', '*/*', 'X-Dangling'] }).headers, { accept: '*/*' });
});

t.test('splits every Cookie header into cookies and removes cookie from headers', async (t) => {
  const cases: [rawHeaders: string[], cookies: string[] | undefined][] = [
    [['Cookie', 'a=1'], ['a=1']],
    [['Cookie', 'a=1; b=2'], ['a=1', 'b=2']],
    [['Cookie', 'a=1;b=2'], ['a=1', 'b=2']],
    [['Cookie', 'a=1; b=2', 'COOKIE', 'c=3'], ['a=1', 'b=2', 'c=3']],
    [['Cookie', 'a=1; ; b=2;'], ['a=1', 'b=2']],
    [['Cookie', 'token=x=y'], ['token=x=y']],
    [['Cookie', ''], undefined],
    [['Accept', '*/*'], undefined],
  ];
  for (const [rawHeaders, cookies] of cases) {
    const event = eventWith({ rawHeaders });
    t.strictSame(event.cookies, cookies, JSON.stringify(rawHeaders));
    t.equal('cookies' in event, cookies !== undefined, `cookies key for ${JSON.stringify(rawHeaders)}`);
    t.equal(event.headers['cookie'], undefined, `no cookie header for ${JSON.stringify(rawHeaders)}`);
  }
});

t.test('decodes query parameters and joins repeated keys with a comma', async (t) => {
  const cases: [raw: string, params: Record<string, string> | undefined][] = [
    ['a=1', { a: '1' }],
    ['a=1&a=2&b=3&a=4', { a: '1,2,4', b: '3' }],
    ['q=a+b', { q: 'a b' }],
    ['q=a%2Bb', { q: 'a+b' }],
    ['q=caf%C3%A9%20au%20lait', { q: 'café au lait' }],
    ['na%20me=v&x+y=z', { 'na me': 'v', 'x y': 'z' }],
    ['flag', { flag: '' }],
    ['a=&b', { a: '', b: '' }],
    ['=x', { '': 'x' }],
    ['a=b=c', { a: 'b=c' }],
    ['a=1&&b=2&', { a: '1', b: '2' }],
    ['q=%zz&r=100%', { q: '%zz', r: '100%' }],
    ['list=a%2Cb&list=c', { list: 'a,b,c' }],
    ['&', undefined],
    ['', undefined],
  ];
  for (const [raw, params] of cases) {
    const event = eventWith({ rawQueryString: raw });
    t.equal(event.rawQueryString, raw, `rawQueryString kept for ${raw}`);
    t.strictSame(event.queryStringParameters, params, raw);
    t.equal('queryStringParameters' in event, params !== undefined, `key presence for "${raw}"`);
  }
});

t.test('keeps a __proto__ query key or header as an ordinary own key', async (t) => {
  const event = eventWith({ rawQueryString: '__proto__=x', rawHeaders: ['__proto__', 'y'] });
  t.strictSame(Object.keys(event.queryStringParameters ?? {}), ['__proto__']);
  t.equal(Object.getOwnPropertyDescriptor(event.queryStringParameters, '__proto__')?.value, 'x');
  t.equal(Object.getOwnPropertyDescriptor(event.headers, '__proto__')?.value, 'y');
});

t.test('passes path parameters through when the route has variables', async (t) => {
  t.strictSame(eventWith({ pathParameters: { id: 'a b', proxy: 'x/y' } }).pathParameters, { id: 'a b', proxy: 'x/y' });
  t.equal('pathParameters' in eventWith({ pathParameters: undefined }), false);
});

const TEXT = Buffer.from('héllo {"x":1}');
const NOT_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0x41]);

t.test('sends text-like bodies as UTF-8 and everything else as base64', async (t) => {
  const cases: [contentType: string | undefined, body: Buffer, base64: boolean][] = [
    ['application/json', TEXT, false],
    ['application/json; charset=utf-8', TEXT, false],
    ['application/vnd.api+json', TEXT, false],
    ['text/plain', TEXT, false],
    ['Text/HTML; charset=UTF-8', TEXT, false],
    ['text/csv', TEXT, false],
    ['application/xml', TEXT, false],
    ['application/atom+xml', TEXT, false],
    ['application/javascript', TEXT, false],
    ['application/x-www-form-urlencoded', TEXT, false],
    [undefined, TEXT, false],
    ['application/octet-stream', TEXT, true],
    ['image/png', TEXT, true],
    ['multipart/form-data; boundary=x', TEXT, true],
    ['application/pdf', TEXT, true],
    [undefined, NOT_UTF8, true],
    ['text/plain', NOT_UTF8, true],
    ['application/json', NOT_UTF8, true],
  ];
  for (const [contentType, body, base64] of cases) {
    const rawHeaders = contentType === undefined ? [] : ['Content-Type', contentType];
    const event = eventWith({ method: 'POST', rawHeaders, body });
    const label = `${contentType ?? 'no content-type'} with ${body === TEXT ? 'text' : 'binary'}`;
    t.equal(event.body, base64 ? body.toString('base64') : body.toString('utf8'), label);
    t.equal(event.isBase64Encoded, base64, label);
  }
});

t.test('leaves out body for a missing or empty body and still sets isBase64Encoded false', async (t) => {
  for (const body of [undefined, Buffer.alloc(0)]) {
    const event = eventWith({ method: 'POST', rawHeaders: ['Content-Type', 'image/png'], body });
    t.equal('body' in event, false);
    t.equal(event.isBase64Encoded, false);
  }
});

t.test('fills requestContext from the input: stage, protocol, user agent and domain prefix', async (t) => {
  const cases: [overrides: Partial<HttpV2EventInput>, path: string, expected: unknown][] = [
    [{}, 'stage', '$default'],
    [{ stage: 'prod' }, 'stage', 'prod'],
    [{ httpVersion: '1.0' }, 'protocol', 'HTTP/1.0'],
    [{ rawHeaders: ['User-Agent', 'curl/8.5.0'] }, 'userAgent', 'curl/8.5.0'],
    [{ rawHeaders: [] }, 'userAgent', ''],
    [{ domainName: 'api.example.com' }, 'domainPrefix', 'api'],
    [{ domainName: '127.0.0.1:8080' }, 'domainPrefix', '127'],
    [{ domainName: 'localhost' }, 'domainPrefix', 'localhost'],
    [{ method: 'DELETE', rawPath: '/a%20b' }, 'method+path', 'DELETE /a%20b'],
  ];
  for (const [overrides, field, expected] of cases) {
    const { requestContext: rc } = eventWith(overrides);
    const actual: Record<string, unknown> = {
      stage: rc.stage,
      protocol: rc.http.protocol,
      userAgent: rc.http.userAgent,
      domainPrefix: rc.domainPrefix,
      'method+path': `${rc.http.method} ${rc.http.path}`,
    };
    t.equal(actual[field], expected, `${field} for ${JSON.stringify(overrides)}`);
  }
});

t.test('formats time in Common Log Format, UTC, whole seconds', async (t) => {
  const cases: [epochMs: number, clf: string][] = [
    [0, '01/Jan/1970:00:00:00 +0000'],
    [1736072130000, '05/Jan/2025:10:15:30 +0000'],
    [1736072130999, '05/Jan/2025:10:15:30 +0000'],
    [Date.UTC(2024, 1, 29, 7, 8, 9), '29/Feb/2024:07:08:09 +0000'],
    [Date.UTC(2023, 11, 31, 23, 59, 59, 999), '31/Dec/2023:23:59:59 +0000'],
    [Date.UTC(2025, 5, 9, 12, 0, 0), '09/Jun/2025:12:00:00 +0000'],
  ];
  for (const [epochMs, clf] of cases) t.equal(formatClfTime(epochMs), clf, String(epochMs));
});

t.test('copies the route key and time into requestContext', async (t) => {
  const event = eventWith({ routeKey: 'ANY /{proxy+}', timeEpochMs: 1700000000123 });
  t.equal(event.requestContext.routeKey, 'ANY /{proxy+}');
  t.equal(event.requestContext.timeEpoch, 1700000000123);
  t.equal(event.requestContext.time, '14/Nov/2023:22:13:20 +0000');
});

t.test('puts the authorizer last in requestContext, and leaves it out without one', async (t) => {
  const withJwt = eventWith({ authorizer: { jwt: { claims: { sub: 'u-1' }, scopes: ['pets/read'] } } });
  t.strictSame(Object.keys(withJwt.requestContext).at(-1), 'authorizer');
  t.strictSame(withJwt.requestContext.authorizer, { jwt: { claims: { sub: 'u-1' }, scopes: ['pets/read'] } });
  t.notOk('authorizer' in eventWith({}).requestContext);
});
