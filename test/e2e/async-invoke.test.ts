// Asynchronous invocation end to end on real Docker, Postgres and Redis: 202 once queued, the
// invocation's life in GET /v1/invocations/{id}, async config, retries into the dead-letter list
// and replay, destinations with Lambda's record, concurrency limits that make a burst wait, and
// metering of every attempt that ran (and of nothing else).
import pg from 'pg';
import t from 'tap';
import { derivedUuid } from '../../control-plane/async/async-job.js';
import { invocation, invokeAsync, settled } from '../support/async.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t, { env: { GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS: '50', GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: '500' } });
const admin = stack.admin;
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
t.teardown(() => db.end());
/** The invocation's ledger rows once at least `min` have been shipped from the metering spool. */
const ledger = async (id: string, min = 1) => {
  const read = async () =>
    (await db.query<{ attempt: number; source: string; status: string; billed_ms: number }>('SELECT attempt, source, status, billed_ms FROM invocations WHERE id = $1 ORDER BY attempt', [id])).rows;
  await eventually(async () => (await read()).length >= min, 30_000, 100);
  return read();
};

const ECHO = `exports.handler = async (e) => ({ got: e });`;
const FLAKY = `exports.handler = async (e) => { if (e.poison) throw new Error('poisoned: ' + e.n); return { ok: e.n }; };`;
const SLEEP = `exports.handler = async (e) => { const start = Date.now(); await new Promise((r) => setTimeout(r, e.ms)); return { start, end: Date.now() }; };`;

await t.test('deploy the functions', async (t) => {
  await deployFunction(t, stack, 'echo', nodeZip(ECHO));
  await deployFunction(t, stack, 'flaky', nodeZip(FLAKY));
  await deployFunction(t, stack, 'sink', nodeZip(ECHO));
  t.equal((await admin('POST', '/v1/functions/flaky/invoke', { n: -1 })).status, 200, 'flaky is warm');
});

await t.test('an async invoke answers 202 with an id, then runs once and reports its result', async (t) => {
  const res = await admin('POST', '/v1/functions/echo/invoke', { hello: 'async' }, { 'X-Gantry-Invocation-Type': 'Event' });
  t.equal(res.status, 202);
  const { invocationId } = (await res.json()) as { invocationId: string };
  t.match(invocationId, /^[0-9a-f-]{36}$/);
  const first = await invocation(admin, invocationId);
  t.ok(first, 'visible from the moment it is queued');
  t.match(first, { id: invocationId, function: 'echo' });
  t.ok(['queued', 'running', 'succeeded'].includes(first?.status as string));
  const done = await settled(admin, invocationId);
  t.match(done, { id: invocationId, function: 'echo', status: 'succeeded', attempts: 1, result: { got: { hello: 'async' } } });
  t.ok(Date.parse(done?.updatedAt as string) >= Date.parse(done?.createdAt as string));
  const rows = await ledger(invocationId);
  t.equal(rows.length, 1, 'one ledger row: one attempt ran');
  t.match(rows[0], { attempt: 1, source: 'async', status: 'succeeded' });
});

await t.test('bad async requests get clear errors and queue nothing', async (t) => {
  const big = await admin('POST', '/v1/functions/echo/invoke?async=true', { blob: 'x'.repeat(1024 * 1024) });
  t.equal(big.status, 413);
  t.match(await big.json(), { error: { type: 'RequestTooLarge', message: /too large for the Event invocation type \(limit 1048576 bytes\)/ } });
  const notJson = await admin('POST', '/v1/functions/echo/invoke?async=true', Buffer.from('{nope'));
  t.equal(notJson.status, 400);
  t.match(await notJson.json(), { error: { type: 'ValidationError' } });
  const missing = await admin('POST', '/v1/functions/nobody/invoke?async=true', {});
  t.equal(missing.status, 404);
  t.match(await missing.json(), { error: { type: 'ResourceNotFound' } });
  const unknown = await admin('GET', '/v1/invocations/6f1c1d1e-0000-4000-8000-000000000000');
  t.equal(unknown.status, 404);
  t.equal((await admin('GET', '/v1/invocations/not-a-uuid')).status, 404);
});

await t.test('async config: defaults, a full PUT, partial PUT resets to defaults, and validation', async (t) => {
  const def = await admin('GET', '/v1/functions/echo/async-config');
  t.equal(def.status, 200);
  t.same(await def.json(), { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600, retryDelaysMs: [60000, 120000], onSuccess: null, onFailure: { deadLetter: true } });
  const put = await admin('PUT', '/v1/functions/echo/async-config', { maximumRetryAttempts: 1, maximumEventAgeSeconds: 60, retryDelaysMs: [0], onSuccess: { function: 'sink' }, onFailure: null });
  t.equal(put.status, 200);
  const stored = { maximumRetryAttempts: 1, maximumEventAgeSeconds: 60, retryDelaysMs: [0], onSuccess: { function: 'sink' }, onFailure: null };
  t.same(await put.json(), stored);
  t.same(await (await admin('GET', '/v1/functions/echo/async-config')).json(), stored);
  const partial = await admin('PUT', '/v1/functions/echo/async-config', { maximumRetryAttempts: 0 });
  t.match(await partial.json(), { maximumRetryAttempts: 0, maximumEventAgeSeconds: 21600, onFailure: { deadLetter: true } });
  const bad: [unknown, RegExp][] = [
    [{ maximumRetryAttempts: 3 }, /maximumRetryAttempts/],
    [{ maximumEventAgeSeconds: 59 }, /maximumEventAgeSeconds/],
    [{ maximumEventAgeSeconds: 21601 }, /maximumEventAgeSeconds/],
    [{ retryDelaysMs: [1, 2, 3] }, /retryDelaysMs/],
    [{ retryDelaysMs: [900001] }, /retryDelaysMs/],
    [{ onFailure: { deadLetter: false } }, /onFailure/],
    [{ onSuccess: { deadLetter: true } }, /onSuccess/],
    [{ onSuccess: { function: 'echo' } }, /own destination/],
    [{ onFailure: { function: 'ghost' } }, /does not exist/],
    [{ surprise: 1 }, /surprise|Unrecognized/],
  ];
  for (const [body, message] of bad) {
    const res = await admin('PUT', '/v1/functions/echo/async-config', body);
    t.equal(res.status, 400, JSON.stringify(body));
    t.match(await res.json(), { error: { type: 'ValidationError', message } });
  }
  t.equal((await admin('GET', '/v1/functions/ghost/async-config')).status, 404);
  t.equal((await admin('PUT', '/v1/functions/echo/async-config', {})).status, 200, 'back to the defaults');
});

await t.test('a poisoned event is retried, then dead-lettered without delaying the others; replay runs it again', async (t) => {
  t.equal((await admin('PUT', '/v1/functions/flaky/async-config', { maximumRetryAttempts: 2, retryDelaysMs: [5000, 5000] })).status, 200);
  const poison = await invokeAsync(t, admin, 'flaky', { poison: true, n: 0 });
  const good = await Promise.all([1, 2, 3, 4, 5].map((n) => invokeAsync(t, admin, 'flaky', { n })));
  const goodDone = await Promise.all(good.map((id) => settled(admin, id)));
  t.ok(goodDone.every((d) => d?.status === 'succeeded'), 'every good event succeeded');
  const dead = await settled(admin, poison);
  t.match(dead, { status: 'dead-lettered', attempts: 3, error: { condition: 'RetriesExhausted', errorType: 'Error', errorMessage: 'poisoned: 0' } });
  const lastGood = Math.max(...goodDone.map((d) => Date.parse(d?.updatedAt as string)));
  t.ok(lastGood < Date.parse(dead?.updatedAt as string), 'the good events finished while the poisoned one waited for its retries');
  const rows = await ledger(poison, 3);
  t.same(rows.map((r) => r.attempt), [1, 2, 3], 'three attempts, each billed once');
  t.ok(rows.every((r) => r.status === 'failed' && r.source === 'async'));
  const list = await admin('GET', '/v1/functions/flaky/dead-letters');
  const { items } = (await list.json()) as { items: Record<string, unknown>[] };
  t.equal(items.length, 1);
  t.match(items[0], { id: poison, event: { poison: true, n: 0 }, attempts: 3, error: { errorMessage: 'poisoned: 0' } });
  t.match(items[0]?.failedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.equal((await admin('POST', `/v1/functions/flaky/dead-letters/${derivedUuid('nope')}/replay`)).status, 404);
  t.equal((await admin('PUT', '/v1/functions/flaky/async-config', { maximumRetryAttempts: 0 })).status, 200);
  const replay = await admin('POST', `/v1/functions/flaky/dead-letters/${poison}/replay`);
  t.equal(replay.status, 202);
  const { invocationId } = (await replay.json()) as { invocationId: string };
  t.not(invocationId, poison, 'a new invocation');
  const after = (await (await admin('GET', '/v1/functions/flaky/dead-letters')).json()) as { items: { id: string }[] };
  t.notOk(after.items.some((i) => i.id === poison), 'the dead letter is removed');
  t.match(await settled(admin, invocationId), { status: 'dead-lettered', attempts: 1 }, 'it ran again (and, still poisoned, failed again)');
  const again = (await (await admin('GET', '/v1/functions/flaky/dead-letters')).json()) as { items: { id: string }[] };
  t.same(again.items.map((i) => i.id), [invocationId], 'listed under its new id');
  t.equal((await admin('POST', `/v1/functions/flaky/dead-letters/${poison}/replay`)).status, 404, 'a dead letter replays once');
});

await t.test('destinations receive Lambda invocation records on success and on failure', async (t) => {
  t.equal((await admin('PUT', '/v1/functions/flaky/async-config', { maximumRetryAttempts: 1, retryDelaysMs: [0], onSuccess: { function: 'sink' }, onFailure: { function: 'sink' } })).status, 200);
  const ok = await invokeAsync(t, admin, 'flaky', { n: 7 });
  const bad = await invokeAsync(t, admin, 'flaky', { poison: true, n: 8 });
  t.match(await settled(admin, ok), { status: 'succeeded' });
  t.match(await settled(admin, bad), { status: 'failed', attempts: 2, error: { condition: 'RetriesExhausted' } });
  const okRecord = await settled(admin, derivedUuid(ok, 'destination', 'Success'));
  t.match(okRecord, { function: 'sink', status: 'succeeded' });
  const rec = (okRecord?.result as { got: Record<string, unknown> }).got;
  t.same(Object.keys(rec).sort(), ['requestContext', 'requestPayload', 'responseContext', 'responsePayload', 'timestamp', 'version']);
  t.match(rec, {
    version: '1.0',
    timestamp: /Z$/,
    requestContext: { requestId: ok, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST', condition: 'Success', approximateInvokeCount: 1 },
    requestPayload: { n: 7 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST' },
    responsePayload: { ok: 7 },
  });
  t.notOk('functionError' in (rec.responseContext as object));
  const badRecord = (await settled(admin, derivedUuid(bad, 'destination', 'RetriesExhausted')))?.result as { got: Record<string, unknown> };
  t.match(badRecord.got, {
    requestContext: { requestId: bad, condition: 'RetriesExhausted', approximateInvokeCount: 2 },
    requestPayload: { poison: true, n: 8 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'Error', errorMessage: 'poisoned: 8' },
  });
  const { items } = (await (await admin('GET', '/v1/functions/flaky/dead-letters')).json()) as { items: { id: string }[] };
  t.notOk(items.some((i) => i.id === bad), 'a failure function, not the dead-letter list');
});

await t.test('a burst waits for the reserved concurrency instead of being throttled away', async (t) => {
  await deployFunction(t, stack, 'narrow', nodeZip(SLEEP));
  t.equal((await admin('PATCH', '/v1/functions/narrow', { reservedConcurrency: 2 })).status, 200);
  const ids = await Promise.all(Array.from({ length: 10 }, () => invokeAsync(t, admin, 'narrow', { ms: 300 })));
  const done = await Promise.all(ids.map((id) => settled(admin, id, 90_000)));
  t.ok(done.every((d) => d?.status === 'succeeded' && d.attempts === 1), 'all ten ran, each on its first attempt');
  const spans = done.map((d) => d?.result as { start: number; end: number });
  const maxOverlap = Math.max(...spans.map((s) => spans.filter((o) => o.start <= s.start && s.start < o.end).length));
  t.ok(maxOverlap <= 2, `never more than 2 at once (saw ${maxOverlap})`);
  const rows = await Promise.all(ids.map(ledger));
  t.ok(rows.every((r) => r.length === 1 && (r[0]?.billed_ms ?? 0) >= 300), 'each billed once, for the time it ran');
  // A synchronous call meanwhile still gets its immediate 429 when the slots are taken.
  const more = await Promise.all(Array.from({ length: 4 }, () => invokeAsync(t, admin, 'narrow', { ms: 1500 })));
  t.ok(await eventually(async () => (await Promise.all(more.map((id) => invocation(admin, id)))).filter((v) => v?.status === 'running').length >= 2, 20_000));
  const sync = await admin('POST', '/v1/functions/narrow/invoke', { ms: 1 });
  t.equal(sync.status, 429, 'sync traffic is throttled at once, as before');
  const moreDone = await Promise.all(more.map((id) => settled(admin, id, 90_000)));
  t.ok(moreDone.every((d) => d?.status === 'succeeded'));
});

await t.test('events of a function deleted before they run end as failed with ResourceNotFound', async (t) => {
  await deployFunction(t, stack, 'doomed', nodeZip(SLEEP));
  t.equal((await admin('PATCH', '/v1/functions/doomed', { reservedConcurrency: 1 })).status, 200);
  const ids = await Promise.all([1, 2, 3].map(() => invokeAsync(t, admin, 'doomed', { ms: 1500 })));
  t.ok(await eventually(async () => (await Promise.all(ids.map((id) => invocation(admin, id)))).some((v) => v?.status === 'running'), 20_000));
  t.equal((await admin('DELETE', '/v1/functions/doomed')).status, 204);
  const done = await Promise.all(ids.map((id) => settled(admin, id, 30_000)));
  const failed = done.filter((d) => d?.status === 'failed');
  t.ok(failed.length >= 2, `the ones still queued failed (${failed.length})`);
  t.ok(failed.every((d) => (d?.error as { errorType?: string }).errorType === 'ResourceNotFound'));
  t.ok(done.every((d) => d !== undefined), 'none left without an outcome');
});

await t.test('a synchronous invocation shows in GET /v1/invocations once finished, without its result', async (t) => {
  const res = await admin('POST', '/v1/functions/echo/invoke', { sync: true });
  const id = res.headers.get('x-gantry-invocation-id') as string;
  t.ok(await eventually(async () => (await invocation(admin, id)) !== undefined, 10_000), 'visible once the ledger has it');
  const view = await invocation(admin, id);
  t.match(view, { id, function: 'echo', status: 'succeeded', attempts: 1 });
  t.notOk(view && 'result' in view, 'no result for sync invocations');
  const failed = await admin('POST', '/v1/functions/flaky/invoke', { poison: true, n: 1 });
  const fid = failed.headers.get('x-gantry-invocation-id') as string;
  t.ok(await eventually(async () => (await invocation(admin, fid)) !== undefined, 10_000));
  t.match(await invocation(admin, fid), { status: 'failed', attempts: 1, error: { errorType: 'Error' } });
});

await t.test('/readyz and /metrics include the queue', async (t) => {
  const ready = (await (await fetch(`${stack.controlPlaneUrl}/readyz`)).json()) as { checks: Record<string, boolean> };
  t.equal(ready.checks.asyncQueue, true);
  const metrics = await (await fetch(`${stack.controlPlaneUrl}/metrics`)).text();
  t.match(metrics, /gantry_async_queue_jobs\{state="waiting"\} \d+/);
  t.match(metrics, /gantry_async_events_accepted_total\{source="async"\} \d+/);
  t.match(metrics, /gantry_async_events_finished_total\{status="dead-lettered"\} \d+/);
  t.match(metrics, /gantry_async_end_to_end_seconds_count \d+/);
});
