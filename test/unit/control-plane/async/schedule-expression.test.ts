import t, { type Test } from 'tap';
import { nextFireTimes, parseSchedule, ScheduleExpressionError } from '../../../../control-plane/async/schedule-expression.js';

const fails = (t: Test, expression: string, message: RegExp, tz = 'UTC') => {
  t.throws(() => parseSchedule(expression, tz), { name: 'ScheduleExpressionError', message }, expression);
};

t.test('rate expressions become fixed intervals', async (t) => {
  t.same(parseSchedule('rate(5 minutes)', 'UTC'), { kind: 'every', everyMs: 300_000 });
  t.same(parseSchedule('rate(1 minute)', 'UTC'), { kind: 'every', everyMs: 60_000 });
  t.same(parseSchedule('rate(2 hours)', 'UTC'), { kind: 'every', everyMs: 7_200_000 });
  t.same(parseSchedule('rate(1 day)', 'UTC'), { kind: 'every', everyMs: 86_400_000 });
  t.same(parseSchedule(' rate(30 seconds) ', 'UTC'), { kind: 'every', everyMs: 30_000 }, 'seconds: a Gantry addition');
});

t.test('rate expressions are validated as AWS does', async (t) => {
  fails(t, 'rate(1 minutes)', /singular unit for 1/);
  fails(t, 'rate(5 minute)', /plural otherwise/);
  fails(t, 'rate(0 minutes)', /positive whole number/);
  fails(t, 'rate(5 weeks)', /not one of minute/);
  fails(t, 'rate(five minutes)', /rate\(5 minutes\)/);
  fails(t, 'rate(400 days)', /at most 365 days/);
});

t.test('AWS cron: six fields, ? in one day field, day-of-week from 1 (Sunday)', async (t) => {
  t.same(parseSchedule('cron(0/5 * * * ? *)', 'UTC'), { kind: 'cron', pattern: '0 0/5 * * * *', tz: 'UTC' });
  t.same(parseSchedule('cron(0 10 ? * 2-6 *)', 'UTC'), { kind: 'cron', pattern: '0 0 10 * * 1-5', tz: 'UTC' }, 'MON-FRI by number');
  t.same(parseSchedule('cron(0 10 ? * MON-FRI *)', 'Europe/Paris'), { kind: 'cron', pattern: '0 0 10 * * MON-FRI', tz: 'Europe/Paris' });
  t.same(parseSchedule('cron(15 12 ? * 1,7 *)', 'UTC'), { kind: 'cron', pattern: '0 15 12 * * 0,6', tz: 'UTC' }, 'Sunday and Saturday');
  t.same(parseSchedule('cron(0 8 ? * 6L *)', 'UTC').kind, 'cron');
  t.match(parseSchedule('cron(0 8 ? * 6L *)', 'UTC'), { pattern: '0 0 8 * * 5L' }, 'last Friday');
  t.match(parseSchedule('cron(0 8 ? * 3#2 *)', 'UTC'), { pattern: '0 0 8 * * 2#2' }, 'second Tuesday');
  t.match(parseSchedule('cron(0 0 L * ? *)', 'UTC'), { pattern: '0 0 0 L * *' }, 'last day of the month');
});

t.test('AWS cron years become date bounds in the schedule time zone', async (t) => {
  const s = parseSchedule('cron(0 12 1 1 ? 2099)', 'Asia/Tokyo');
  t.match(s, { kind: 'cron', pattern: '0 0 12 1 1 *' });
  if (s.kind !== 'cron') throw new Error('cron expected');
  t.equal(s.startDate?.toISOString(), '2098-12-31T15:00:00.000Z', 'midnight of 1 January in Tokyo');
  t.equal(s.endDate?.toISOString(), '2099-12-31T14:59:59.999Z');
  t.same(nextFireTimes(s, new Date('2026-01-01T00:00:00Z'), 3).map((d) => d.toISOString()), ['2099-01-01T03:00:00.000Z'], 'only in 2099');
  fails(t, 'cron(0 12 1 1 ? 2020)', /never fires again/);
  fails(t, 'cron(0 12 1 1 ? 2027,2028)', /year field/);
  fails(t, 'cron(0 12 1 1 ? 2030-2029)', /range goes upwards/);
});

t.test('AWS cron mistakes are named', async (t) => {
  fails(t, 'cron(0 10 * * * *)', /exactly one of day-of-month and day-of-week must be "\?"/);
  fails(t, 'cron(0 10 ? * ? *)', /exactly one/);
  fails(t, 'cron(0 10 * * ?)', /six fields/);
  fails(t, 'cron(0 10 ? * 8 *)', /outside 1-7/);
  fails(t, 'cron(0 10 ? * 0 *)', /outside 1-7/);
  fails(t, 'cron(0 10 15W * ? *)', /W \(nearest weekday\)/);
  fails(t, 'cron(61 10 * * ? *)', /not a valid cron expression/);
});

t.test('five-field cron runs in its time zone', async (t) => {
  const s = parseSchedule('0 9 * * *', 'America/New_York');
  t.same(s, { kind: 'cron', pattern: '0 0 9 * * *', tz: 'America/New_York' });
  // 9:00 in New York on 1 July 2030 is 13:00 UTC (EDT), on 1 December 14:00 UTC (EST).
  t.equal(nextFireTimes(s, new Date('2030-07-01T00:00:00Z'), 1)[0]?.toISOString(), '2030-07-01T13:00:00.000Z');
  t.equal(nextFireTimes(s, new Date('2030-12-01T00:00:00Z'), 1)[0]?.toISOString(), '2030-12-01T14:00:00.000Z');
  t.same(
    nextFireTimes(parseSchedule('*/5 * * * *', 'UTC'), new Date('2030-01-01T00:01:00Z'), 2).map((d) => d.toISOString()),
    ['2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z'],
  );
  fails(t, '* * * *', /not a schedule expression/);
  fails(t, '0 0 9 * * *', /not a schedule expression/); // six bare fields: use cron(...)
  fails(t, '0 25 * * *', /not a valid cron expression/);
  fails(t, '* * * * *', /not an IANA time zone/, 'Mars/Olympus');
});

t.test('errors are ScheduleExpressionErrors', async (t) => {
  try {
    parseSchedule('nonsense', 'UTC');
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof ScheduleExpressionError);
  }
});
