// Schedules end to end: validation, list and delete, ticks recorded as invocations, the
// EventBridge scheduled event when there is no fixed input, and exactly one run per tick with two
// control planes on the same installation (BullMQ job schedulers).
import pg from 'pg';
import t from 'tap';
import { secondControlPlane } from '../support/async.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

/** "invocation finished" lines of both control planes, by invocation id. */
const runs = new Map<string, { source: unknown; node: unknown }[]>();
const onLog = (line: Record<string, unknown>) => {
  if (line.msg !== 'invocation finished') return;
  const id = line.invocationId as string;
  runs.set(id, [...(runs.get(id) ?? []), { source: line.source, node: line.node }]);
};
const stack = await startStack(t, { onLog });
const admin = stack.admin;
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
t.teardown(() => db.end());
let secondUrl = '';

await t.test('deploy and start a second control plane', async (t) => {
  await deployFunction(t, stack, 'tick', nodeZip(`exports.handler = async (e) => { console.log(JSON.stringify(e)); return { got: e }; };`));
  secondUrl = await secondControlPlane(t, stack, onLog);
  t.ok(secondUrl);
});

await t.test('bad schedules get a 400 that says what is wrong', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ expression: 'rate(5 minute)' }, /plural/],
    [{ expression: 'rate(0 minutes)' }, /positive/],
    [{ expression: 'cron(0 10 * * * *)' }, /exactly one of day-of-month and day-of-week/],
    [{ expression: 'cron(0 10 ? * 9 *)' }, /day-of-week 9 is outside 1-7/],
    [{ expression: '0 61 * * *' }, /not a valid cron expression/],
    [{ expression: 'every day' }, /not a schedule expression/],
    [{ expression: '* * * * *', timezone: 'Mars/Olympus' }, /IANA time zone/],
    [{}, /expression/],
    [{ expression: 'rate(1 minute)', extra: 1 }, /extra|Unrecognized/],
  ];
  for (const [body, message] of cases) {
    const res = await admin('POST', '/v1/functions/tick/schedules', body);
    t.equal(res.status, 400, JSON.stringify(body));
    t.match(await res.json(), { error: { type: 'ValidationError', message } });
  }
  t.equal((await admin('POST', '/v1/functions/nobody/schedules', { expression: 'rate(1 minute)' })).status, 404);
  t.equal((await admin('DELETE', '/v1/functions/tick/schedules/6f1c1d1e-0000-4000-8000-000000000000')).status, 404);
});

let cronId = '';
await t.test('a five-field cron with a time zone and an AWS cron report their next run', async (t) => {
  const res = await admin('POST', '/v1/functions/tick/schedules', { expression: '* * * * *', timezone: 'Asia/Kolkata' });
  t.equal(res.status, 201);
  const body = (await res.json()) as Record<string, unknown>;
  cronId = body.id as string;
  t.match(body, { id: /^[0-9a-f-]{36}$/, function: 'tick', expression: '* * * * *', timezone: 'Asia/Kolkata', input: null, createdAt: /Z$/ });
  const next = Date.parse(body.nextRunAt as string);
  t.ok(next > Date.now() - 1000 && next <= Date.now() + 61_000 && next % 60_000 === 0, `next minute (${String(body.nextRunAt)})`);
  const aws = await admin('POST', '/v1/functions/tick/schedules', { expression: 'cron(30 9 ? * MON *)', timezone: 'Asia/Kolkata' });
  const awsBody = (await aws.json()) as Record<string, unknown>;
  t.equal(aws.status, 201);
  const at = new Date(awsBody.nextRunAt as string);
  t.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kolkata', weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(at), 'Mon 09:30', '09:30 on a Monday in Kolkata');
  const list = (await (await admin('GET', '/v1/functions/tick/schedules')).json()) as { schedules: { id: string }[] };
  t.same(list.schedules.map((s) => s.id).sort(), [cronId, awsBody.id as string].sort());
  t.equal((await admin('DELETE', `/v1/functions/tick/schedules/${awsBody.id as string}`)).status, 204);
});

await t.test('a rate schedule runs each tick exactly once across two control planes, each run an invocation', async (t) => {
  const res = await admin('POST', '/v1/functions/tick/schedules', { expression: 'rate(1 second)', input: { fixed: 'input' } });
  t.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  const ticks = async () =>
    (await db.query<{ id: string; n: string }>(`SELECT id, count(*) AS n FROM invocations WHERE function_name = 'tick' AND source = 'schedule' GROUP BY id`)).rows;
  t.ok(await eventually(async () => (await ticks()).length >= 6, 30_000), 'ticks ran');
  t.equal((await admin('DELETE', `/v1/functions/tick/schedules/${id}`)).status, 204);
  await new Promise((r) => setTimeout(r, 1_500));
  // Every tick that ran is in the ledger once the metering spool has shipped it.
  t.ok(await eventually(async () => (await ticks()).length >= [...runs.values()].filter((r) => r[0]?.source === 'schedule').length, 30_000), 'every run is in the ledger');
  const rows = await ticks();
  t.ok(rows.every((r) => r.n === '1'), 'one ledger row per tick');
  const scheduled = [...runs.entries()].filter(([, r]) => r[0]?.source === 'schedule');
  t.ok(scheduled.length >= 6);
  t.ok(scheduled.every(([, r]) => r.length === 1), 'no tick ran twice, on either node');
  const nodes = new Set(scheduled.map(([, r]) => r[0]?.node));
  t.comment(`ticks ran on ${nodes.size} node(s)`);
  const view = (await (await admin('GET', `/v1/invocations/${rows[0]?.id ?? ''}`)).json()) as Record<string, unknown>;
  t.match(view, { status: 'succeeded', function: 'tick', attempts: 1 });
  const ran = () => [...runs.values()].filter((r) => r[0]?.source === 'schedule').length;
  const before = ran();
  await new Promise((r) => setTimeout(r, 2_000));
  t.ok(ran() <= before + 1, 'deleted: no more ticks');
});

await t.test('a cron tick delivers the EventBridge scheduled event', async (t) => {
  let event: Record<string, unknown> | undefined;
  const seen = await eventually(async () => {
    const rows = (await db.query<{ id: string }>(`SELECT id FROM async_invocations WHERE function_name = 'tick' AND source = 'schedule' AND status = 'succeeded' ORDER BY created_at`)).rows;
    for (const r of rows) {
      const v = (await (await admin('GET', `/v1/invocations/${r.id}`)).json()) as { result?: { got?: Record<string, unknown> } };
      if (v.result?.got?.['detail-type'] === 'Scheduled Event') {
        event = v.result.got;
        return true;
      }
    }
    return false;
  }, 75_000, 1_000);
  t.ok(seen, 'the every-minute schedule fired');
  t.match(event, { version: '0', source: 'aws.events', account: '000000000000', region: 'us-east-1', time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/, resources: [`arn:aws:events:us-east-1:000000000000:rule/${cronId}`], detail: {} });
  t.equal((await admin('DELETE', `/v1/functions/tick/schedules/${cronId}`)).status, 204);
  t.same((await (await admin('GET', '/v1/functions/tick/schedules')).json()), { schedules: [] });
});
