// The Runtime API socket is reachable by a hostile function: nothing it sends may end the
// control plane. A regression test for the malformed request id that did (issue 21), then a
// bounded fuzz run of malformed paths, headers, bodies and chunked framings over the socket,
// after which an invocation still goes through the channel end to end.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { createLogger } from '../../../../common/logger.js';
import { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import type { RuntimeEvent } from '../../../../control-plane/runtime-api/runtime-reply.js';
import { FUZZ_LIMITS, hostilePath, hostileRequest, requestBytes, sendRaw } from '../../../support/hostile-input.js';

const PREFIX = '/2018-06-01/runtime';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:pets';
const event = (requestId: string): RuntimeEvent => ({ requestId, payload: Buffer.from('{"hello":"world"}'), invokedFunctionArn: ARN });

function call(socketPath: string, method: string, p: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function openChannel(t: Test) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-rch-'));
  const socketPath = path.join(dir, 'runtime.sock');
  const errors: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'error', name: 'runtime-api', destination: { write: (line: string) => void errors.push(JSON.parse(line) as Record<string, unknown>) } });
  const channel = new RuntimeChannel(socketPath, { logger });
  await channel.listen();
  t.teardown(async () => {
    await channel.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { channel, socketPath, errors };
}

/** One whole invocation through the channel, as a well-behaved runtime does it. */
async function roundTrip(channel: RuntimeChannel, socketPath: string, requestId: string): Promise<string> {
  const next = call(socketPath, 'GET', `${PREFIX}/invocation/next`);
  const reply = channel.dispatch(event(requestId), 5_000, 5_000);
  const polled = await next;
  if (polled.status !== 200) throw new Error(`next answered ${polled.status}`);
  const posted = await call(socketPath, 'POST', `${PREFIX}/invocation/${requestId}/response`, '{"ok":true}');
  if (posted.status !== 202) throw new Error(`response answered ${posted.status}`);
  const r = await reply;
  channel.finishInvocation();
  return r.kind === 'response' ? r.body.toString('utf8') : r.kind;
}

t.test('a malformed percent-escape in the request id is a 400, and the invocation in flight still completes', async (t) => {
  const { channel, socketPath } = await openChannel(t);
  const next = call(socketPath, 'GET', `${PREFIX}/invocation/next`);
  const reply = channel.dispatch(event('r-1'), 5_000, 5_000);
  t.equal((await next).status, 200);
  for (const id of ['%E0%A4%A', '%zz', '%', '%C0%AF']) {
    for (const kind of ['response', 'error']) {
      const bad = await call(socketPath, 'POST', `${PREFIX}/invocation/${id}/${kind}`, '{}');
      t.equal(bad.status, 400, `${id}/${kind}`);
      t.match(JSON.parse(bad.body), { errorType: 'InvalidRequestID' });
    }
  }
  t.equal((await call(socketPath, 'POST', `${PREFIX}/invocation/r-1/response`, '"done"')).status, 202);
  const r = await reply;
  t.equal(r.kind === 'response' ? r.body.toString() : r.kind, '"done"');
});

t.test('an escaped request id that decodes to the current one is accepted', async (t) => {
  const { channel, socketPath } = await openChannel(t);
  const next = call(socketPath, 'GET', `${PREFIX}/invocation/next`);
  const reply = channel.dispatch(event('a=b'), 5_000, 5_000);
  await next;
  t.equal((await call(socketPath, 'POST', `${PREFIX}/invocation/a%3Db/response`, '1')).status, 202);
  t.equal((await reply).kind, 'response');
});

t.test('broken HTTP is answered 400 in the Runtime API shape', async (t) => {
  const { channel, socketPath } = await openChannel(t);
  const badHeader = await sendRaw({ path: socketPath }, Buffer.from(`POST ${PREFIX}/init/error HTTP/1.1\r\ncontent-length: abc\r\n\r\n{}`), 5_000);
  t.equal(badHeader.status, 400);
  t.match(badHeader.text, /"errorType":"InvalidRequest"/);
  const badChunk = await sendRaw({ path: socketPath }, Buffer.from(`POST ${PREFIX}/init/error HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`), 5_000);
  t.equal(badChunk.status, 400, 'a broken chunk size after the head');
  t.equal(await roundTrip(channel, socketPath, 'after-broken'), '{"ok":true}');
});

t.test('fuzz: no malformed request ends the process, and the channel still serves an invocation', async (t) => {
  const { channel, socketPath, errors } = await openChannel(t);
  const statuses = new Map<string, number>();
  const target = fc.oneof(hostilePath(`${PREFIX}/invocation/`), hostilePath(`${PREFIX}/`), hostilePath('/'));
  await fc.assert(
    fc.asyncProperty(hostileRequest(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'], target, [['host', 'localhost']]), async (req) => {
      // A poll this run parks is never answered: a second is ample for everything else.
      const answer = await sendRaw({ path: socketPath }, requestBytes(req), 1_000);
      const key = String(answer.status ?? 'none');
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      return answer.status === undefined || answer.status < 500;
    }),
    FUZZ_LIMITS,
  );
  t.comment(`answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  t.ok(statuses.size > 0, 'requests were sent');
  t.same(errors, [], 'nothing reached the error boundary');
  t.equal(await roundTrip(channel, socketPath, 'after-fuzz'), '{"ok":true}', 'an invocation still goes through');
});
