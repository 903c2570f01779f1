import t from 'tap';
import { buildHttpV1Event, type HttpV1EventInput } from '../../../../gateway/events/http-v1-event.js';

const BASE: HttpV1EventInput = {
  routeKey: 'GET /pets/{id}',
  method: 'GET',
  rawPath: '/pets/42',
  rawQueryString: '',
  rawHeaders: [],
  body: undefined,
  sourceIp: '10.0.0.7',
  httpVersion: '1.1',
  apiId: 'r7s8t9',
  domainName: 'r7s8t9.execute-api.example.internal',
  requestId: 'Xy12AbCdEFGhIj=',
  timeEpochMs: 1736072130000,
  pathParameters: undefined,
  resource: '/pets/{id}',
  resourceId: 'ab12cd',
  requestPath: '/shop/pets/42',
  deploymentId: '7',
};

const eventWith = (o: Partial<HttpV1EventInput>) => buildHttpV1Event({ ...BASE, ...o });

const NULL_IDENTITY = {
  accessKey: null,
  accountId: null,
  caller: null,
  user: null,
  userArn: null,
  cognitoIdentityId: null,
  cognitoIdentityPoolId: null,
  cognitoAuthenticationType: null,
  cognitoAuthenticationProvider: null,
  principalOrgId: null,
};

t.test('builds the compat.md §4.1 example with its exact keys and key order (version first)', async (t) => {
  const event = eventWith({
    rawQueryString: 'tag=a&tag=b',
    rawHeaders: ['Accept', 'application/json', 'X-Multi', 'one', 'X-Multi', 'two', 'User-Agent', 'curl/8.5.0'],
    pathParameters: { id: '42' },
    apiKey: { value: 'k3yV4lu3k3yV4lu3k3yV4lu3', id: 'q1w2e3' },
    authorizer: { principalId: 'user-1', tenant: 'acme' },
  });
  t.equal(
    JSON.stringify(event),
    JSON.stringify({
      version: '1.0',
      resource: '/pets/{id}',
      path: '/pets/42',
      httpMethod: 'GET',
      headers: { accept: 'application/json', 'x-multi': 'two', 'user-agent': 'curl/8.5.0' },
      multiValueHeaders: { accept: ['application/json'], 'x-multi': ['one', 'two'], 'user-agent': ['curl/8.5.0'] },
      queryStringParameters: { tag: 'b' },
      multiValueQueryStringParameters: { tag: ['a', 'b'] },
      pathParameters: { id: '42' },
      stageVariables: null,
      requestContext: {
        accountId: '000000000000',
        apiId: 'r7s8t9',
        resourceId: 'ab12cd',
        resourcePath: '/pets/{id}',
        httpMethod: 'GET',
        path: '/shop/pets/42',
        stage: '$default',
        protocol: 'HTTP/1.1',
        requestId: 'Xy12AbCdEFGhIj=',
        extendedRequestId: 'Xy12AbCdEFGhIj=',
        requestTime: '05/Jan/2025:10:15:30 +0000',
        requestTimeEpoch: 1736072130000,
        domainName: 'r7s8t9.execute-api.example.internal',
        domainPrefix: 'r7s8t9',
        deploymentId: '7',
        identity: { sourceIp: '10.0.0.7', userAgent: 'curl/8.5.0', apiKey: 'k3yV4lu3k3yV4lu3k3yV4lu3', apiKeyId: 'q1w2e3', ...NULL_IDENTITY },
        authorizer: { principalId: 'user-1', tenant: 'acme' },
      },
      body: null,
      isBase64Encoded: false,
    }),
  );
});

t.test('sends null, never leaves out, empty query, path parameters, stage variables and body', async (t) => {
  const e = eventWith({ routeKey: '$default', resource: '$default' });
  for (const key of ['queryStringParameters', 'multiValueQueryStringParameters', 'pathParameters', 'stageVariables', 'body'] as const) {
    t.ok(Object.hasOwn(e, key), `${key} present`);
    t.equal(e[key], null, `${key} is null`);
  }
  t.equal(e.isBase64Encoded, false);
  t.notOk('authorizer' in e.requestContext, 'no authorizer key without an authorizer');
  t.strictSame(e.requestContext['identity'], { sourceIp: '10.0.0.7', userAgent: '', apiKey: null, apiKeyId: null, ...NULL_IDENTITY });
});

t.test('keeps the last value of a repeated query name and all of them in the multi-value map, decoded', async (t) => {
  const e = eventWith({ rawQueryString: 'category=electronics&category=books&q=a+b%21&flag' });
  t.strictSame(e.queryStringParameters, { category: 'books', q: 'a b!', flag: '' });
  t.strictSame(e.multiValueQueryStringParameters, { category: ['electronics', 'books'], q: ['a b!'], flag: [''] });
});

t.test('lower-cases header names and keeps the Cookie header as a header', async (t) => {
  const e = eventWith({ rawHeaders: ['tEsT-HEADeR', 'v', 'Cookie', 'a=1; b=2'] });
  t.strictSame(e.headers, { 'test-header': 'v', cookie: 'a=1; b=2' });
  t.strictSame(e.multiValueHeaders, { 'test-header': ['v'], cookie: ['a=1; b=2'] });
  t.notOk('cookies' in e);
});

t.test('sends a text body as UTF-8 and a binary body as base64 with isBase64Encoded', async (t) => {
  const text = eventWith({ rawHeaders: ['Content-Type', 'application/json'], body: Buffer.from('{"a":"é"}') });
  t.equal(text.body, '{"a":"é"}');
  t.equal(text.isBase64Encoded, false);
  const bytes = Buffer.from([0, 1, 2, 255, 254]);
  const bin = eventWith({ rawHeaders: ['Content-Type', 'application/octet-stream'], body: bytes });
  t.equal(bin.body, bytes.toString('base64'));
  t.equal(bin.isBase64Encoded, true);
});

t.test('passes a JWT authorizer context through as given', async (t) => {
  const e = eventWith({ authorizer: { claims: { sub: 'u' }, scopes: ['a'] } });
  t.strictSame(e.requestContext['authorizer'], { claims: { sub: 'u' }, scopes: ['a'] });
});
