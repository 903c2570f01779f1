import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import type { RuntimeEvent } from '../../../../control-plane/runtime-api/runtime-reply.js';

const ID = '8d0c5a7e-2b1f-4c1e-9a51-6a3f0e2d7c11';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:pets';
const MAX = 6_291_556;
const event = (over: Partial<RuntimeEvent> = {}): RuntimeEvent => ({
  requestId: ID,
  payload: Buffer.from('{"hello":"world"}'),
  invokedFunctionArn: ARN,
  ...over,
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Plays the runtime: Node's http client over the unix socket, one connection per call. */
function call(socketPath: string, method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: `/2018-06-01/runtime${p}`, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function openChannel(t: Test) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-rc-'));
  const socketPath = path.join(dir, 'runtime.sock');
  const channel = new RuntimeChannel(socketPath);
  await channel.listen();
  t.teardown(async () => {
    await channel.close();
    await rm(dir, { recursive: true, force: true });
  });
  const api = (method: string, p: string, body?: string | Buffer, headers?: Record<string, string>) => call(socketPath, method, p, body, headers);
  /** A `next` poll that may never be answered: its rejection on close is expected. */
  const poll = () => {
    const p = api('GET', '/invocation/next');
    p.catch(() => undefined);
    return p;
  };
  return { channel, socketPath, api, poll };
}

/** Parks a poll, dispatches, and returns once the runtime holds the event. */
async function delivered(t: Test, timeoutMs = 3000) {
  const c = await openChannel(t);
  const next = c.poll();
  const reply = c.channel.dispatch(event(), timeoutMs, 1000);
  t.equal((await next).status, 200);
  return { ...c, reply };
}

const json = (a: Answer) => JSON.parse(a.body) as unknown;

t.test('creates the socket with mode 0666 so the non-root function can connect', async (t) => {
  const { socketPath } = await openChannel(t);
  t.equal((await stat(socketPath)).mode & 0o777, 0o666);
});

t.test('ready() resolves when the runtime first polls next', async (t) => {
  const { channel, poll } = await openChannel(t);
  const ready = channel.ready(5000);
  void poll();
  t.strictSame(await ready, { kind: 'ready' });
  t.strictSame(await channel.ready(5000), { kind: 'ready' }, 'and stays ready');
});

t.test('ready() times out when the runtime never polls', async (t) => {
  const { channel } = await openChannel(t);
  t.strictSame(await channel.ready(30), { kind: 'timeout' });
});

t.test('ready() reports an exit during init', async (t) => {
  const { channel } = await openChannel(t);
  const ready = channel.ready(5000);
  channel.markExited({ exitCode: 1, oomKilled: false });
  t.strictSame(await ready, { kind: 'exited', exit: { exitCode: 1, oomKilled: false } });
  t.strictSame(await channel.ready(5000), { kind: 'exited', exit: { exitCode: 1, oomKilled: false } });
});

const initErrors: readonly { name: string; body: string; header?: string; errorType: string }[] = [
  { name: 'takes the errorType from the body', body: '{"errorType":"Runtime.ImportModuleError","errorMessage":"x"}', errorType: 'Runtime.ImportModuleError' },
  { name: 'prefers the body over the header', body: '{"errorType":"KeyError"}', header: 'Runtime.Unknown', errorType: 'KeyError' },
  { name: 'falls back to the header when the body is not JSON', body: 'oops', header: 'Runtime.NoSuchHandler', errorType: 'Runtime.NoSuchHandler' },
  { name: 'falls back to the header when the body has no errorType', body: '{"errorMessage":"x"}', header: 'Runtime.ConfigInvalid', errorType: 'Runtime.ConfigInvalid' },
  { name: 'falls back to the header when the body errorType is empty', body: '{"errorType":""}', header: 'Runtime.ConfigInvalid', errorType: 'Runtime.ConfigInvalid' },
  { name: 'says Runtime.Unknown with neither', body: '', errorType: 'Runtime.Unknown' },
];
for (const c of initErrors) {
  t.test(`init/error before the first poll gives an init-error outcome that ${c.name}`, async (t) => {
    const { channel, api } = await openChannel(t);
    const ready = channel.ready(5000);
    const headers = c.header ? { 'Lambda-Runtime-Function-Error-Type': c.header } : {};
    const posted = await api('POST', '/init/error', c.body, headers);
    t.equal(posted.status, 202);
    t.strictSame(json(posted), { status: 'OK' });
    const outcome = await ready;
    t.strictSame({ ...outcome, body: 'body' in outcome ? outcome.body.toString() : undefined }, { kind: 'init-error', errorType: c.errorType, body: c.body });
  });
}

t.test('an init/error posted before ready() is called is still reported by ready()', async (t) => {
  const { channel, api } = await openChannel(t);
  // The container can post before start() has resolved and the scheduler has called ready().
  const posted = await api('POST', '/init/error', '{"errorType":"Runtime.ImportModuleError"}');
  t.equal(posted.status, 202);
  const outcome = await channel.ready(200);
  t.equal(outcome.kind, 'init-error');
});

t.test('an init/error during an invocation (suppressed init) becomes that invocation error', async (t) => {
  const { api, reply } = await delivered(t);
  t.equal((await api('POST', '/init/error', '{"errorType":"Runtime.UserCodeSyntaxError"}')).status, 202);
  const r = await reply;
  t.equal(r.kind, 'error');
  if (r.kind === 'error') t.equal(r.errorType, 'Runtime.UserCodeSyntaxError');
});

t.test('an init/error after init with nothing in flight gets 403', async (t) => {
  const { channel, api, poll } = await openChannel(t);
  void poll();
  await channel.ready(5000);
  const posted = await api('POST', '/init/error', '{}');
  t.equal(posted.status, 403);
  t.strictSame(json(posted), { errorType: 'InvalidStateTransition', errorMessage: 'Not initializing' });
});

const eventHeaders: readonly { name: string; over: Partial<RuntimeEvent>; extra: Record<string, string | undefined> }[] = [
  { name: 'without trace id or client context', over: {}, extra: { 'lambda-runtime-trace-id': undefined, 'lambda-runtime-client-context': undefined } },
  {
    name: 'with trace id and client context',
    over: { traceId: 'Root=1-abc;Sampled=0', clientContext: '{"custom":{"k":"v"}}' },
    extra: { 'lambda-runtime-trace-id': 'Root=1-abc;Sampled=0', 'lambda-runtime-client-context': '{"custom":{"k":"v"}}' },
  },
];
for (const c of eventHeaders) {
  t.test(`dispatch delivers the event and its headers ${c.name}`, async (t) => {
    const { channel, poll } = await openChannel(t);
    const next = poll();
    const before = Date.now();
    void channel.dispatch(event(c.over), 3000, 1000);
    const got = await next;
    const after = Date.now();
    t.equal(got.status, 200);
    t.equal(got.body, '{"hello":"world"}');
    t.equal(got.headers['lambda-runtime-aws-request-id'], ID);
    t.equal(got.headers['lambda-runtime-invoked-function-arn'], ARN);
    t.equal(got.headers['content-type'], 'application/json');
    const deadline = Number(got.headers['lambda-runtime-deadline-ms']);
    t.ok(deadline >= before + 3000 && deadline <= after + 3000, `deadline ${deadline} is now + 3000 ms`);
    for (const [h, v] of Object.entries(c.extra)) t.equal(got.headers[h], v, h);
  });
}

t.test('dispatch resolves with the posted response and answers 202 {"status":"OK"}', async (t) => {
  const { api, reply } = await delivered(t);
  const posted = await api('POST', `/invocation/${ID}/response`, '{"ok":true}', { 'Content-Type': 'application/json' });
  t.equal(posted.status, 202);
  t.strictSame(json(posted), { status: 'OK' });
  const r = await reply;
  t.equal(r.kind, 'response');
  if (r.kind !== 'response') return;
  t.equal(r.body.toString(), '{"ok":true}');
  t.equal(r.contentType, 'application/json');
  t.ok(r.timing.endedAtNs >= r.timing.startedAtNs);
});

t.test('dispatch resolves with the posted error and its errorType', async (t) => {
  const { api, reply } = await delivered(t);
  const body = '{"errorType":"TypeError","errorMessage":"x is undefined","trace":[]}';
  t.equal((await api('POST', `/invocation/${ID}/error`, body)).status, 202);
  const r = await reply;
  t.strictSame(r.kind === 'error' ? { errorType: r.errorType, body: r.body.toString() } : r, { errorType: 'TypeError', body });
});

t.test('a post for another request id gets 400 InvalidRequestID and leaves the invocation open', async (t) => {
  const { api, reply } = await delivered(t);
  const wrong = await api('POST', '/invocation/not-the-id/response', '{}');
  t.equal(wrong.status, 400);
  t.strictSame(json(wrong), { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
  t.equal((await api('POST', `/invocation/${ID}/response`, '"right"')).status, 202);
  t.equal((await reply).kind, 'response');
});

t.test('a second post for the same request id gets 403 InvalidStateTransition', async (t) => {
  const { api, reply } = await delivered(t);
  t.equal((await api('POST', `/invocation/${ID}/response`, '1')).status, 202);
  await reply;
  for (const kind of ['response', 'error']) {
    const again = await api('POST', `/invocation/${ID}/${kind}`, '2');
    t.equal(again.status, 403, kind);
    t.strictSame(json(again), { errorType: 'InvalidStateTransition', errorMessage: 'Invocation already answered' });
  }
});

t.test('a post after finishInvocation gets 400', async (t) => {
  const { channel, api, reply } = await delivered(t);
  await api('POST', `/invocation/${ID}/response`, '1');
  await reply;
  channel.finishInvocation();
  t.equal((await api('POST', `/invocation/${ID}/response`, '2')).status, 400);
});

const sizes: readonly [number, number, string][] = [
  [MAX, 202, 'response'],
  [MAX + 1, 413, 'too-large'],
];
for (const [size, status, kind] of sizes) {
  t.test(`a ${size}-byte response gets ${status} and a ${kind} reply`, async (t) => {
    const { api, reply } = await delivered(t);
    const posted = await api('POST', `/invocation/${ID}/response`, Buffer.alloc(size, 0x61));
    t.equal(posted.status, status);
    if (status === 413) {
      t.strictSame(json(posted), { errorType: 'RequestEntityTooLarge', errorMessage: `Exceeded maximum allowed payload size (${MAX} bytes).` });
    }
    const r = await reply;
    t.equal(r.kind, kind);
    if (r.kind === 'response') t.equal(r.body.length, size);
  });
}

t.test('an unanswered invocation times out and a late answer gets 403', async (t) => {
  const { api, reply } = await delivered(t, 50);
  const r = await reply;
  t.equal(r.kind, 'timeout');
  if (r.kind === 'timeout') t.ok(r.timing.endedAtNs - r.timing.startedAtNs >= 45_000_000n, 'after about the timeout');
  t.equal((await api('POST', `/invocation/${ID}/response`, '1')).status, 403);
});

t.test('markExited during an invocation resolves it as exited', async (t) => {
  const { channel, reply } = await delivered(t);
  channel.markExited({ exitCode: 137, oomKilled: true });
  const r = await reply;
  t.strictSame(r.kind === 'exited' ? r.exit : r, { exitCode: 137, oomKilled: true });
});

t.test('dispatch is not delivered when the runtime never polls within pollWaitMs', async (t) => {
  const { channel } = await openChannel(t);
  t.strictSame(await channel.dispatch(event(), 1000, 30), { kind: 'not-delivered' });
});

t.test('dispatch is not delivered once the container has exited', async (t) => {
  const { channel, poll } = await openChannel(t);
  void poll();
  await channel.ready(5000);
  channel.markExited({ exitCode: 0, oomKilled: false });
  t.strictSame(await channel.dispatch(event(), 1000, 1000), { kind: 'not-delivered' });
});

t.test('answers unknown paths with 404', async (t) => {
  const { api } = await openChannel(t);
  t.equal((await api('GET', '/nope')).status, 404);
});

t.test('close() settles a pending ready() as exited and is safe to call twice', async (t) => {
  const { channel } = await openChannel(t);
  const ready = channel.ready(5000);
  await channel.close();
  await channel.close();
  t.strictSame(await ready, { kind: 'exited', exit: undefined });
});

t.test('close() ends a parked poll', async (t) => {
  const { channel, poll } = await openChannel(t);
  const next = poll();
  await channel.ready(5000);
  await channel.close();
  await t.rejects(next);
});
