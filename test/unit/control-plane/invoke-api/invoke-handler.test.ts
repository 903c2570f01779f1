/**
 * The invoke endpoint (api.md, Invoking directly) on a server of its own on 127.0.0.1, with a
 * recording invoker and async acceptor in place of the real ones: authentication, what the
 * invoker is asked (payload bytes, source, Tail), the status codes, X-Gantry-* headers and error
 * bodies of every outcome, and the asynchronous hand-off.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { pino } from 'pino';
import { GantryError } from '../../../../common/errors.js';
import { THROTTLE_REASONS } from '../../../../common/invoke-protocol.js';
import { TokenAuth } from '../../../../control-plane/auth/token-auth.js';
import { sha256Hex } from '../../../../control-plane/auth/tokens.js';
import { createInvokeHandler, MAX_SYNC_PAYLOAD_BYTES, type AsyncAcceptor } from '../../../../control-plane/invoke-api/invoke-handler.js';
import type { InvokeRequest, InvokeResult, Invoker } from '../../../../control-plane/invocation/invoker.js';
import { rawRequest, type RawResponse } from '../../../support/http-client.js';

const ADMIN = 'admin-token-of-the-invoke-handler-test-000';
const INTERNAL = 'internal-token-of-the-invoke-handler-test-0';
const ASYNC_LIMIT = 1024;

const RESULT: InvokeResult = {
  status: 'succeeded',
  errorType: null,
  payload: Buffer.from('{"hello":"world"}'),
  contentType: 'application/json',
  reusable: true,
  invocationId: 'inv-1',
  billedMs: 12,
  durationUs: 11_200,
  initDurationUs: 0,
  coldStart: 'none',
  environmentId: 'env-7',
};

type Outcome = InvokeResult | Error;

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

async function server(t: Tap, outcome: Outcome = RESULT) {
  const calls: InvokeRequest[] = [];
  const accepted: { tenantId: string; functionName: string; event: Buffer }[] = [];
  const state = { outcome };
  const invoker = {
    invoke: async (req: InvokeRequest) => {
      calls.push(req);
      if (state.outcome instanceof Error) throw state.outcome;
      return state.outcome;
    },
  } as unknown as Invoker;
  const asyncAcceptor: AsyncAcceptor = {
    accept: async (tenantId, functionName, event) => (accepted.push({ tenantId, functionName, event }), 'async-inv-9'),
    maxPayloadBytes: ASYNC_LIMIT,
  };
  const auth = new TokenAuth({ adminHash: Buffer.from(sha256Hex(ADMIN), 'hex'), internalToken: INTERNAL });
  const handler = createInvokeHandler({ auth, invoker, async: asyncAcceptor, logger: pino({ level: 'silent' }) });
  const passedOn: string[] = [];
  const srv = http.createServer((req, res) => {
    if (handler(req, res)) return;
    passedOn.push(`${req.method} ${req.url}`);
    res.writeHead(418).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  const post = (path: string, o: { token?: string | null; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<RawResponse> =>
    rawRequest(base + path, {
      method: 'POST',
      headers: { ...(o.token === null ? {} : { authorization: `Bearer ${o.token ?? ADMIN}` }), ...(o.headers ?? {}) },
      ...(o.body === undefined ? {} : { body: o.body }),
    });
  return { post, base, calls, accepted, passedOn, state };
}

const errorOf = (r: RawResponse) => r.json() as { error: { type: string; message: string } };

t.test('200 with the result bytes and every header api.md promises', async (t) => {
  const s = await server(t);
  const r = await s.post('/v1/functions/hello/invoke', { body: '{"name":"x"}' });
  t.equal(r.status, 200);
  t.equal(r.body.toString(), '{"hello":"world"}');
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.headers['content-length'], String(RESULT.payload.length));
  t.equal(r.headers['x-gantry-invocation-id'], 'inv-1');
  t.equal(r.headers['x-gantry-billed-duration-ms'], '12');
  t.equal(r.headers['x-gantry-cold-start'], 'false');
  t.equal(r.headers['x-gantry-executed-version'], '$LATEST');
  t.equal(r.headers['x-gantry-environment-id'], 'env-7');
  t.equal(r.headers['x-gantry-cold-start-kind'], undefined, 'warm: no cold-start kind');
  t.equal(r.headers['x-gantry-init-duration-ms'], undefined);
  t.equal(r.headers['x-gantry-function-error'], undefined);
  t.equal(r.headers['x-gantry-log-result'], undefined);
  t.equal(s.calls.length, 1);
  t.strictSame({ ...s.calls[0], payload: s.calls[0]?.payload.toString() }, { tenantId: 'default', functionName: 'hello', payload: '{"name":"x"}', source: 'direct', logTail: false });
});

t.test('the payload reaches the invoker byte for byte; an empty body is {}', async (t) => {
  const s = await server(t);
  const odd = '{ "b" : [1,2],\n "a":"\u00e9\\u00e9" }';
  await s.post('/v1/functions/hello/invoke', { body: odd });
  t.ok(s.calls[0]?.payload.equals(Buffer.from(odd)), 'not re-serialised');
  await s.post('/v1/functions/hello/invoke');
  await s.post('/v1/functions/hello/invoke', { body: ' \n ' });
  t.equal(s.calls[1]?.payload.toString(), '{}');
  t.equal(s.calls[2]?.payload.toString(), '{}');
});

t.test('a cold start says so, with its kind and init duration in milliseconds', async (t) => {
  const s = await server(t, { ...RESULT, coldStart: 'stem-cell', initDurationUs: 80_400 });
  const r = await s.post('/v1/functions/hello/invoke');
  t.equal(r.headers['x-gantry-cold-start'], 'true');
  t.equal(r.headers['x-gantry-cold-start-kind'], 'stem-cell');
  t.equal(r.headers['x-gantry-init-duration-ms'], '80.40');
});

t.test('a function error is 200 with X-Gantry-Function-Error: Unhandled and the error document', async (t) => {
  const doc = '{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: inv-2 Error: Task timed out after 3.00 seconds"}';
  const { environmentId: _ranNowhere, ...rest } = RESULT;
  const s = await server(t, { ...rest, status: 'failed', errorType: 'Sandbox.Timedout', payload: Buffer.from(doc), reusable: false });
  const r = await s.post('/v1/functions/hello/invoke');
  t.equal(r.status, 200);
  t.equal(r.headers['x-gantry-function-error'], 'Unhandled');
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.body.toString(), doc);
  t.equal(r.headers['x-gantry-environment-id'], undefined, 'nothing ran: no environment');
});

t.test('a result that is not JSON goes back as it is, as application/octet-stream', async (t) => {
  const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]);
  const s = await server(t, { ...RESULT, payload: bytes, contentType: 'application/octet-stream' });
  const r = await s.post('/v1/functions/hello/invoke');
  t.equal(r.headers['content-type'], 'application/octet-stream');
  t.ok(r.body.equals(bytes));
  s.state.outcome = { ...RESULT, payload: Buffer.from('[1,2]'), contentType: 'text/plain' };
  const j = await s.post('/v1/functions/hello/invoke');
  t.equal(j.headers['content-type'], 'application/json', 'JSON is JSON whatever the runtime called it');
});

t.test('Tail asks the invoker for the log and returns it in X-Gantry-Log-Result', async (t) => {
  const tail = Buffer.from('START RequestId: inv-1\nhello\n').toString('base64');
  const s = await server(t, { ...RESULT, logResult: tail });
  const r = await s.post('/v1/functions/hello/invoke', { headers: { 'X-Gantry-Log-Type': 'Tail' } });
  t.equal(r.headers['x-gantry-log-result'], tail);
  await s.post('/v1/functions/hello/invoke', { headers: { 'X-Gantry-Log-Type': 'tail' } });
  await s.post('/v1/functions/hello/invoke', { headers: { 'X-Gantry-Log-Type': 'None' } });
  t.strictSame(s.calls.map((c) => c.logTail), [true, true, false]);
});

t.test('the source is direct for the admin token, gateway or websocket for the internal one', async (t) => {
  const s = await server(t);
  await s.post('/v1/functions/hello/invoke', { token: ADMIN });
  await s.post('/v1/functions/hello/invoke', { token: INTERNAL });
  await s.post('/v1/functions/hello/invoke', { token: INTERNAL, headers: { 'x-gantry-invocation-source': 'websocket' } });
  await s.post('/v1/functions/hello/invoke', { token: ADMIN, headers: { 'x-gantry-invocation-source': 'websocket' } });
  await s.post('/v1/functions/hello/invoke', { token: INTERNAL, headers: { 'x-gantry-invocation-source': 'schedule' } });
  t.strictSame(s.calls.map((c) => c.source), ['direct', 'gateway', 'websocket', 'direct', 'gateway']);
});

t.test('no token or a wrong one is 401 in the api.md error shape, and nothing runs', async (t) => {
  const s = await server(t);
  const none = await s.post('/v1/functions/hello/invoke', { token: null });
  t.equal(none.status, 401);
  t.equal(none.headers['content-type'], 'application/json');
  t.strictSame(errorOf(none), { error: { type: 'Unauthorized', message: 'Missing bearer token: send "Authorization: Bearer <admin token>".' } });
  const wrong = await s.post('/v1/functions/hello/invoke', { token: 'not-the-token' });
  t.equal(wrong.status, 401);
  t.strictSame(errorOf(wrong), { error: { type: 'Unauthorized', message: 'The bearer token is not valid.' } });
  const asyncWrong = await s.post('/v1/functions/hello/invoke?async=true', { token: 'not-the-token' });
  t.equal(asyncWrong.status, 401);
  t.strictSame(s.calls, []);
  t.strictSame(s.accepted, []);
});

t.test('a payload that is not JSON is 400 ValidationError', async (t) => {
  const s = await server(t);
  const r = await s.post('/v1/functions/hello/invoke', { body: '{"a":' });
  t.equal(r.status, 400);
  t.strictSame(errorOf(r), { error: { type: 'ValidationError', message: 'The invoke payload is not valid JSON.' } });
  t.strictSame(s.calls, []);
});

t.test('over 6 MiB is 413 RequestTooLarge, declared or streamed, and the connection is closed', async (t) => {
  const s = await server(t);
  const declared = await new Promise<RawResponse>((resolve, reject) => {
    // Declares more than the limit and sends nothing: refused without reading.
    const req = http.request(`${s.base}/v1/functions/hello/invoke`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-length': String(MAX_SYNC_PAYLOAD_BYTES + 1) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, json: () => JSON.parse(body.toString()) as unknown });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  t.equal(declared.status, 413);
  t.equal(declared.headers.connection, 'close');
  t.strictSame(errorOf(declared), { error: { type: 'RequestTooLarge', message: `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for a synchronous invocation.` } });

  const streamed = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${s.base}/v1/functions/hello/invoke`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The server may close the socket while we still write: that is the point.
    req.on('error', (e) => ((e as { code?: string }).code === 'ECONNRESET' || (e as { code?: string }).code === 'EPIPE' ? undefined : reject(e)));
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < 7; i++) req.write(chunk);
    req.end();
  });
  t.equal(streamed, 413);
  t.strictSame(s.calls, [], 'nothing ran');
});

t.test('?async=true or X-Gantry-Invocation-Type: Event hands the event off: 202 with its id', async (t) => {
  const s = await server(t);
  const a = await s.post('/v1/functions/hello/invoke?async=true', { body: '{"e":1}' });
  t.equal(a.status, 202);
  t.equal(a.headers['content-type'], 'application/json');
  t.equal(a.headers['x-gantry-invocation-id'], 'async-inv-9');
  t.strictSame(a.json(), { invocationId: 'async-inv-9' });
  const b = await s.post('/v1/functions/hello/invoke', { headers: { 'X-Gantry-Invocation-Type': 'Event' } });
  t.equal(b.status, 202);
  t.strictSame(
    s.accepted.map((x) => ({ ...x, event: x.event.toString() })),
    [
      { tenantId: 'default', functionName: 'hello', event: '{"e":1}' },
      { tenantId: 'default', functionName: 'hello', event: '{}' },
    ],
  );
  t.strictSame(s.calls, [], 'nothing runs synchronously');
  const sync = await s.post('/v1/functions/hello/invoke?async=false', { headers: { 'X-Gantry-Invocation-Type': 'RequestResponse' } });
  t.equal(sync.status, 200, 'anything else is synchronous');
});

t.test('an async event over its limit is 413 with the Event wording', async (t) => {
  const s = await server(t);
  const body = `{"x":"${'a'.repeat(ASYNC_LIMIT)}"}`;
  const r = await s.post('/v1/functions/hello/invoke?async=true', { body });
  t.equal(r.status, 413);
  t.strictSame(errorOf(r), {
    error: { type: 'RequestTooLarge', message: `${Buffer.byteLength(body)} byte payload is too large for the Event invocation type (limit ${ASYNC_LIMIT} bytes).` },
  });
  t.strictSame(s.accepted, []);
  const invalid = await s.post('/v1/functions/hello/invoke?async=true', { body: 'nope' });
  t.equal(invalid.status, 400);
  t.equal(errorOf(invalid).error.type, 'ValidationError');
});

t.test('throttles are 429 with Retry-After and the reason the limit gives', async (t) => {
  const reserved = new GantryError('TooManyRequests', 'Rate Exceeded: the function is at its reserved concurrency.', {
    component: 'scheduler',
    details: { reason: THROTTLE_REASONS.reservedConcurrency, limit: 1 },
  });
  const s = await server(t, reserved);
  const r = await s.post('/v1/functions/hello/invoke');
  t.equal(r.status, 429);
  t.equal(r.headers['retry-after'], '1');
  t.equal(r.headers['x-gantry-throttle-reason'], 'ReservedFunctionConcurrentInvocationLimitExceeded');
  t.strictSame(errorOf(r), { error: { type: 'TooManyRequests', message: 'Rate Exceeded: the function is at its reserved concurrency.' } });

  s.state.outcome = new GantryError('TooManyRequests', 'Rate Exceeded.', { component: 'scheduler', details: { reason: THROTTLE_REASONS.nodeFull } });
  const full = await s.post('/v1/functions/hello/invoke');
  t.equal(full.headers['x-gantry-throttle-reason'], 'ConcurrentInvocationLimitExceeded');

  s.state.outcome = new GantryError('TooManyRequests', 'Rate Exceeded.', { component: 'scheduler' });
  const bare = await s.post('/v1/functions/hello/invoke');
  t.equal(bare.status, 429);
  t.equal(bare.headers['retry-after'], '1');
  t.equal(bare.headers['x-gantry-throttle-reason'], undefined, 'no reason, no header');
});

t.test('platform errors keep their status and message; anything else is a bare 500', async (t) => {
  const cases: [Error, number, { type: string; message: string }][] = [
    [new GantryError('ResourceNotFound', 'Function not found: hello', { component: 'invoke-api' }), 404, { type: 'ResourceNotFound', message: 'Function not found: hello' }],
    [new GantryError('ServiceUnavailable', 'No environment could take the invocation.', { component: 'scheduler' }), 503, { type: 'ServiceUnavailable', message: 'No environment could take the invocation.' }],
    [new Error('secret internals: /var/lib/x'), 500, { type: 'InternalError', message: 'An internal error occurred.' }],
  ];
  const s = await server(t);
  for (const [error, status, body] of cases) {
    s.state.outcome = error;
    const r = await s.post('/v1/functions/hello/invoke');
    t.equal(r.status, status, body.type);
    t.equal(r.headers['content-type'], 'application/json');
    t.equal(r.headers['retry-after'], undefined);
    t.strictSame(errorOf(r), { error: body });
  }
});

t.test('decodes the function name and passes on everything that is not an invoke', async (t) => {
  const s = await server(t);
  await s.post('/v1/functions/my%2Dfn/invoke');
  t.equal(s.calls[0]?.functionName, 'my-fn');
  await s.post('/v1/functions/hello/invoke/extra');
  await s.post('/v1/functions/hello');
  const get = await rawRequest(`${s.base}/v1/functions/hello/invoke`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(get.status, 418);
  t.strictSame(s.passedOn, ['POST /v1/functions/hello/invoke/extra', 'POST /v1/functions/hello', 'GET /v1/functions/hello/invoke']);
  t.equal(s.calls.length, 1);
});
