// An event older than its function's maximum event age is not run: it goes to the failure
// destination with condition EventAgeExceeded. Here the function's only concurrency slot is held
// by a synchronous call for longer than the minimum age (60 s), so the event waits in the queue,
// throttled, until it expires. Also: a function reserved at 0 sends async events straight to the
// failure destination, as Lambda does.
import pg from 'pg';
import t from 'tap';
import { derivedUuid } from '../../control-plane/async/async-job.js';
import { invokeAsync, settled, shippedAttempts } from '../support/async.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t, { env: { GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS: '100', GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: '2000' } });
const admin = stack.admin;
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
t.teardown(() => db.end());

/** Invocations holding a concurrency slot on the control plane at `url`, from its /metrics. */
async function concurrencyInUse(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return Number(/^gantry_concurrency_in_use (\S+)$/m.exec(text)?.[1] ?? 0);
}

await t.test('deploy', async (t) => {
  await deployFunction(t, stack, 'hog', nodeZip(`exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 0)); return { ran: e.n ?? null }; };`), { timeoutMs: 120_000 });
  await deployFunction(t, stack, 'catcher', nodeZip(`exports.handler = async (e) => ({ caught: e });`));
  t.equal((await admin('PATCH', '/v1/functions/hog', { reservedConcurrency: 1 })).status, 200);
  t.equal((await admin('PUT', '/v1/functions/hog/async-config', { maximumEventAgeSeconds: 60, onFailure: { function: 'catcher' } })).status, 200);
});

await t.test('an over-age event goes to the failure destination and never runs', async (t) => {
  const hold = admin('POST', '/v1/functions/hog/invoke', { ms: 68_000 });
  // The async event must find hog's only slot taken: wait until the holding call has it.
  t.ok(await eventually(async () => (await concurrencyInUse(stack.controlPlaneUrl)) >= 1, 10_000), 'the holding call has the slot');
  const id = await invokeAsync(t, admin, 'hog', { n: 1 });
  const view = await settled(admin, id, 90_000);
  t.match(view, { status: 'failed', attempts: 0, error: { condition: 'EventAgeExceeded' } });
  const age = Date.parse(view?.updatedAt as string) - Date.parse(view?.createdAt as string);
  t.ok(age >= 60_000 && age < 67_000, `expired at its age limit, not at the next try (${age} ms)`);
  const record = (await settled(admin, derivedUuid(id, 'destination', 'EventAgeExceeded'), 30_000))?.result as { caught: Record<string, unknown> };
  t.match(record.caught, {
    version: '1.0',
    requestContext: { requestId: id, condition: 'EventAgeExceeded', approximateInvokeCount: 0, functionArn: /function:hog:\$LATEST$/ },
    requestPayload: { n: 1 },
  });
  t.notOk('responsePayload' in record.caught, 'nothing ran, so there is no response');
  const held = await hold;
  t.equal(held.status, 200, 'the synchronous call that held the slot finished');
  // The spool ships in order: once the later call is in Postgres, any attempt of the event would be.
  await shippedAttempts(stack.databaseUrl, [held.headers.get('x-gantry-invocation-id') as string]);
  const rows = (await db.query('SELECT attempt FROM invocations WHERE id = $1', [id])).rows;
  t.same(rows, [], 'never run, never billed');
});

await t.test('reserved concurrency 0 sends async events to the failure destination at once', async (t) => {
  t.equal((await admin('PATCH', '/v1/functions/hog', { reservedConcurrency: 0 })).status, 200);
  const id = await invokeAsync(t, admin, 'hog', { n: 2 });
  t.match(await settled(admin, id, 20_000), { status: 'failed', attempts: 0, error: { condition: 'RetriesExhausted', errorType: 'TooManyRequests' } });
  t.match(await settled(admin, derivedUuid(id, 'destination', 'RetriesExhausted'), 20_000), { status: 'succeeded', result: { caught: { requestContext: { requestId: id } } } });
});
