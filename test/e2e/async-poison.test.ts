// Poison async events: an event nested 100 000 deep (200 KB of brackets), and an error body a
// function posts nested as deep, parse fine but cannot be serialised again by recursion. Each
// must end within its retry policy: the success destination receives its record, the failure
// goes to the dead-letter list with its cause, and nothing stays queued.
import t from 'tap';
import { derivedUuid } from '../../control-plane/async/async-job.js';
import { invocation, settled } from '../support/async.js';
import { deployFunction, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t);
const admin = stack.admin;
const DEPTH = 100_000;
const deep = Buffer.from('['.repeat(DEPTH) + ']'.repeat(DEPTH));

const OK = `exports.handler = async () => ({ ok: true });`;
// The destination reports what it received without walking the deep value (that would recurse).
const SINK = `exports.handler = async (e) => ({ condition: e.requestContext.condition, payloadIsArray: Array.isArray(e.requestPayload), response: e.responsePayload });`;
// Answers its invocation with a deeply nested error body through its own Runtime API.
const DEEP_ERROR = `
const http = require('node:http');
exports.handler = (e, context) => new Promise((resolve) => {
  const body = '['.repeat(${DEPTH}) + ']'.repeat(${DEPTH});
  const socketPath = process.env.GANTRY_RUNTIME_API_SOCKET || '/run/gantry/runtime.sock';
  const req = http.request({ socketPath, method: 'POST', path: '/2018-06-01/runtime/invocation/' + context.awsRequestId + '/error',
    headers: { 'content-type': 'application/json', 'lambda-runtime-function-error-type': 'Unhandled' } }, (res) => { res.resume(); res.on('end', () => resolve('posted')); });
  req.end(body);
});`;

async function invokeRaw(fn: string, body: Buffer): Promise<string> {
  const res = await admin('POST', `/v1/functions/${fn}/invoke?async=true`, body);
  const json = (await res.json()) as { invocationId?: string };
  t.equal(res.status, 202, `async invoke of ${fn}: ${JSON.stringify(json)}`);
  return json.invocationId as string;
}

await t.test('deploy', async (t) => {
  await deployFunction(t, stack, 'deep-ok', nodeZip(OK));
  await deployFunction(t, stack, 'sink', nodeZip(SINK));
  await deployFunction(t, stack, 'deep-error', nodeZip(DEEP_ERROR));
  const put = await admin('PUT', '/v1/functions/deep-ok/async-config', { onSuccess: { function: 'sink' } });
  t.equal(put.status, 200);
  const noRetry = await admin('PUT', '/v1/functions/deep-error/async-config', { maximumRetryAttempts: 0, onFailure: { deadLetter: true } });
  t.equal(noRetry.status, 200);
});

await t.test('a 100 000-deep event runs once and its success destination receives the record', async (t) => {
  const id = await invokeRaw('deep-ok', deep);
  const done = await settled(admin, id, 60_000);
  t.match(done, { status: 'succeeded', attempts: 1, result: { ok: true } });
  const dest = await settled(admin, derivedUuid(id, 'destination', 'Success'), 60_000);
  t.match(dest, { function: 'sink', status: 'succeeded', result: { condition: 'Success', payloadIsArray: true, response: { ok: true } } }, 'the destination ran with the deep event in its record');
});

await t.test('a 100 000-deep error body ends in the dead-letter list with its cause, not back in the queue', async (t) => {
  const id = await invokeRaw('deep-error', Buffer.from('{"n":1}'));
  const done = await settled(admin, id, 60_000);
  t.match(done, { status: 'dead-lettered', attempts: 1, error: { condition: 'RetriesExhausted' } });
  const message = (done?.error as { errorMessage?: unknown } | undefined)?.errorMessage;
  t.ok(typeof message === 'string' && message.startsWith('[[[['), 'the deep error body is kept, as text');
  const list = await admin('GET', '/v1/functions/deep-error/dead-letters');
  t.equal(list.status, 200);
  const items = ((await list.json()) as { items: { id: string; event: unknown }[] }).items;
  t.match(items, [{ id, event: { n: 1 } }]);
  t.notOk((await invocation(admin, id))?.status === 'queued');
});

await t.test('a deep event is listed as a dead letter and read back without a 500', async (t) => {
  await admin('PUT', '/v1/functions/deep-error/async-config', { maximumRetryAttempts: 0, onFailure: { deadLetter: true } });
  const id = await invokeRaw('deep-error', deep);
  const done = await settled(admin, id, 60_000);
  t.match(done, { status: 'dead-lettered', attempts: 1 });
  const list = await admin('GET', '/v1/functions/deep-error/dead-letters?limit=10');
  t.equal(list.status, 200);
  const items = ((await list.json()) as { items: { id: string; event: unknown }[] }).items;
  const item = items.find((i) => i.id === id);
  t.equal(item?.event, deep.toString(), 'the deep event comes back whole, as text');
});
