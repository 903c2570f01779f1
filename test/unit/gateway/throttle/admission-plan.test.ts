import t from 'tap';
import { RedisKeys } from '../../../../common/redis.js';
import { quotaPeriodEndMs, quotaPeriodStartMs, UsageKeys, utcDate } from '../../../../common/usage-keys.js';
import { planAdmission } from '../../../../gateway/throttle/admission-plan.js';
import type { ApiKeyDefinition } from '../../../../gateway/routing/route-snapshot.js';

const keys = new UsageKeys(new RedisKeys('p:'));
const NOW = Date.parse('2026-11-25T13:00:00Z'); // a Wednesday
const KEY: ApiKeyDefinition = { id: 'ak1', usagePlanId: 'up1', apis: new Set(['shop']), throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: 'WEEK', planCreatedAtMs: Date.parse('2026-10-01T00:00:00Z') } };

t.test('checks nothing for a route without throttle and without a key', async (t) => {
  t.equal(planAdmission(keys, { id: 'r1' }, undefined, NOW), undefined);
});

t.test('checks only the route bucket for a throttled route without a key', async (t) => {
  t.strictSame(planAdmission(keys, { id: 'r1', throttle: { rateLimit: 1, burstLimit: 2 } }, undefined, NOW), {
    routeBucket: { name: 'p:bucket:route:r1', rateLimit: 1, burstLimit: 2 },
  });
});

t.test('checks the plan bucket, the period quota and counts the day for a key', async (t) => {
  const plan = planAdmission(keys, { id: 'r1' }, KEY, NOW);
  t.strictSame(plan?.keyBucket, { name: 'p:bucket:key:ak1', rateLimit: 10, burstLimit: 20 });
  t.strictSame(plan?.quota, { name: 'p:quota:ak1:WEEK:2026-11-23', limit: 1000, ttlMs: Date.parse('2026-11-30T00:00:00Z') - NOW + 86_400_000 });
  t.equal(plan?.usageDay?.name, 'p:usage:ak1:2026-11-25');
  t.equal(plan?.routeBucket, undefined);
});

t.test('subtracts the offset from the limit in the plan\'s initial period only (compat.md §7)', async (t) => {
  const created = Date.parse('2026-11-24T08:00:00Z'); // Tuesday of NOW's ISO week
  const withOffset: ApiKeyDefinition = { ...KEY, quota: { limit: 1000, period: 'WEEK', offset: 300, planCreatedAtMs: created } };
  t.equal(planAdmission(keys, { id: 'r1' }, withOffset, NOW)?.quota?.limit, 700, 'the week the plan was created in');
  t.equal(planAdmission(keys, { id: 'r1' }, withOffset, Date.parse('2026-11-30T00:00:00Z'))?.quota?.limit, 1000, 'the next week');
  const older: ApiKeyDefinition = { ...KEY, quota: { limit: 1000, period: 'WEEK', offset: 300, planCreatedAtMs: Date.parse('2026-11-22T23:59:59Z') } };
  t.equal(planAdmission(keys, { id: 'r1' }, older, NOW)?.quota?.limit, 1000, 'a plan created the Sunday before');
  const over: ApiKeyDefinition = { ...KEY, quota: { limit: 10, period: 'DAY', offset: 10, planCreatedAtMs: NOW - 1000 } };
  t.equal(planAdmission(keys, { id: 'r1' }, over, NOW)?.quota?.limit, 0, 'an offset equal to the limit admits nothing that first day');
});

t.test('counts the day even for a key whose plan has no throttle and no quota', async (t) => {
  const plan = planAdmission(keys, { id: 'r1' }, { ...KEY, throttle: undefined, quota: undefined }, NOW);
  t.strictSame(Object.keys(plan ?? {}), ['usageDay']);
});

t.test('puts quota periods on UTC days, ISO weeks from Monday and calendar months', async (t) => {
  const cases: [string, 'DAY' | 'WEEK' | 'MONTH', string, string][] = [
    ['2026-11-25T23:59:59.999Z', 'DAY', '2026-11-25', '2026-11-26'],
    ['2026-11-25T00:00:00.000Z', 'DAY', '2026-11-25', '2026-11-26'],
    ['2026-11-23T00:00:00.000Z', 'WEEK', '2026-11-23', '2026-11-30'], // Monday
    ['2026-11-29T23:59:59.999Z', 'WEEK', '2026-11-23', '2026-11-30'], // Sunday
    ['2027-01-01T12:00:00.000Z', 'WEEK', '2026-12-28', '2027-01-04'], // across a year
    ['2026-11-30T23:00:00.000Z', 'MONTH', '2026-11-01', '2026-12-01'],
    ['2026-12-31T23:00:00.000Z', 'MONTH', '2026-12-01', '2027-01-01'],
    ['2028-02-29T10:00:00.000Z', 'MONTH', '2028-02-01', '2028-03-01'],
  ];
  for (const [at, period, start, end] of cases) {
    const ms = Date.parse(at);
    t.equal(utcDate(quotaPeriodStartMs(period, ms)), start, `${period} of ${at} starts ${start}`);
    t.equal(utcDate(quotaPeriodEndMs(period, ms)), end, `${period} of ${at} ends before ${end}`);
  }
});
