/**
 * Schedule expressions (api.md, schedules; EventBridge's syntax), parsed and validated once at
 * create, pure. Three forms:
 * - `rate(N unit)`: minute(s), hour(s), day(s), singular exactly when N is 1 (as AWS requires);
 *   Gantry also takes second(s), for schedules finer than a minute;
 * - `cron(Minutes Hours Day-of-month Month Day-of-week Year)`: AWS's six fields, where one of the
 *   two day fields is `?`, day-of-week counts 1-7 from Sunday, and the year is `*`, a year or a
 *   range of years;
 * - five-field Unix cron (`*\/5 * * * *`), day-of-week 0-7 from Sunday.
 * Both cron forms run in the schedule's IANA time zone. The result is what BullMQ's job
 * schedulers take: a fixed interval, or a cron-parser pattern with a time zone and date bounds.
 */
import cronParser from 'cron-parser';

export type ScheduleSpec =
  | { readonly kind: 'every'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly pattern: string; readonly tz: string; readonly startDate?: Date; readonly endDate?: Date };

export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const RATE = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/;
const AWS_CRON = /^cron\((.*)\)$/;
const UNIT_MS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** AWS day-of-week numbers are 1 (Sunday) to 7 (Saturday); cron-parser's are 0 to 6. */
const AWS_DOW_ITEM = /^(\*|\d+|[A-Z]{3})(?:-(\d+|[A-Z]{3}))?(?:\/(\d+))?$/;

export function parseSchedule(expression: string, timezone: string): ScheduleSpec {
  const e = expression.trim();
  checkTimezone(timezone);
  const rate = RATE.exec(e);
  if (rate) return parseRate(Number(rate[1]), rate[2] as string);
  if (e.startsWith('rate(')) throw new ScheduleExpressionError('rate expressions look like rate(5 minutes): a positive whole number and a unit (minute, hour, day or second, plural when the number is not 1).');
  const aws = AWS_CRON.exec(e);
  if (aws) return awsCron(aws[1] as string, timezone);
  return unixCron(e, timezone);
}

function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ScheduleExpressionError(`"${tz}" is not an IANA time zone (e.g. UTC, Europe/Paris).`);
  }
}

function parseRate(value: number, unit: string): ScheduleSpec {
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  const ms = UNIT_MS[singular];
  if (ms === undefined) throw new ScheduleExpressionError(`rate unit "${unit}" is not one of minute(s), hour(s), day(s), second(s).`);
  if (!Number.isSafeInteger(value) || value < 1) throw new ScheduleExpressionError('rate value must be a positive whole number.');
  if ((value === 1) !== (singular === unit)) {
    throw new ScheduleExpressionError(`rate(${value} ${unit}): use the singular unit for 1 and the plural otherwise (e.g. rate(1 minute), rate(5 minutes)).`);
  }
  const everyMs = value * ms;
  if (everyMs > 365 * UNIT_MS.day!) throw new ScheduleExpressionError('rate must be at most 365 days.');
  return { kind: 'every', everyMs };
}

function awsCron(body: string, tz: string): ScheduleSpec {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(`cron(...) takes six fields (minutes hours day-of-month month day-of-week year); got ${fields.length}.`);
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError('cron(...): exactly one of day-of-month and day-of-week must be "?".');
  }
  if (/W/i.test(dom)) throw new ScheduleExpressionError('cron(...): the W (nearest weekday) wildcard is not supported.');
  const pattern = ['0', min, hour, dom === '?' ? '*' : dom, month, dow === '?' ? '*' : awsDayOfWeek(dow.toUpperCase())].join(' ');
  const bounds = yearBounds(year, tz);
  checkPattern(pattern, tz, `cron(${body})`, bounds);
  return { kind: 'cron', pattern, tz, ...bounds };
}

function awsDayOfWeek(field: string): string {
  return field
    .split(',')
    .map((item) => {
      if (item === 'L') return '6';
      const nth = /^(\d)(L|#\d)$/.exec(item);
      if (nth) return `${awsDay(nth[1] as string)}${nth[2] as string}`;
      const m = AWS_DOW_ITEM.exec(item);
      if (!m) throw new ScheduleExpressionError(`cron(...): "${item}" is not a day-of-week value (1-7 or SUN-SAT, ranges, steps, nL, n#k).`);
      const [, from, to, step] = m as unknown as [string, string, string | undefined, string | undefined];
      return `${awsDay(from)}${to === undefined ? '' : `-${awsDay(to)}`}${step === undefined ? '' : `/${step}`}`;
    })
    .join(',');
}

function awsDay(v: string): string {
  if (v === '*' || /^[A-Z]{3}$/.test(v)) return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 7) throw new ScheduleExpressionError(`cron(...): day-of-week ${v} is outside 1-7 (1 is Sunday).`);
  return String(n - 1);
}

function yearBounds(year: string, tz: string): { startDate?: Date; endDate?: Date } {
  if (year === '*') return {};
  const m = /^(\d{4})(?:-(\d{4}))?$/.exec(year);
  if (!m) throw new ScheduleExpressionError(`cron(...): the year field must be *, a year or a range of years (e.g. 2027-2029); got "${year}".`);
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  if (from < 1970 || to > 2199 || to < from) throw new ScheduleExpressionError('cron(...): years run from 1970 to 2199, and a range goes upwards.');
  return { startDate: newYearIn(from, tz), endDate: new Date(newYearIn(to + 1, tz).getTime() - 1) };
}

/** Midnight of 1 January of `year` in the time zone `tz`, as an instant. */
function newYearIn(year: string | number, tz: string): Date {
  const utc = Date.UTC(Number(year), 0, 1);
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(utc));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asLocal = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return new Date(utc - (asLocal - utc));
}

function unixCron(e: string, tz: string): ScheduleSpec {
  const fields = e.split(/\s+/);
  if (fields.length !== 5) {
    throw new ScheduleExpressionError(
      `"${e}" is not a schedule expression: use rate(5 minutes), cron(0/5 * * * ? *) or five-field cron (*/5 * * * *).`,
    );
  }
  const pattern = `0 ${fields.join(' ')}`;
  checkPattern(pattern, tz, e, {});
  return { kind: 'cron', pattern, tz };
}

/** cron-parser is the judge of the fields; a pattern must also fire at least once. */
function checkPattern(pattern: string, tz: string, shown: string, bounds: { startDate?: Date; endDate?: Date }): void {
  let next: Date;
  try {
    const it = cronParser.parseExpression(pattern, { tz, currentDate: new Date(Math.max(Date.now(), bounds.startDate?.getTime() ?? 0)), ...(bounds.endDate ? { endDate: bounds.endDate } : {}) });
    next = it.next().toDate();
  } catch (err) {
    const why = (err as Error).message;
    throw new ScheduleExpressionError(/out of the timespan|Out of the time span/i.test(why) ? `${shown} never fires again.` : `${shown} is not a valid cron expression: ${why}.`);
  }
  if (Number.isNaN(next.getTime())) throw new ScheduleExpressionError(`${shown} never fires.`);
}

/** The next `n` fire times from `from` (for display and tests). */
export function nextFireTimes(spec: ScheduleSpec, from: Date, n: number): Date[] {
  if (spec.kind === 'every') return Array.from({ length: n }, (_, i) => new Date(Math.floor(from.getTime() / spec.everyMs) * spec.everyMs + (i + 1) * spec.everyMs));
  const start = new Date(Math.max(from.getTime(), spec.startDate?.getTime() ?? 0));
  const it = cronParser.parseExpression(spec.pattern, { tz: spec.tz, currentDate: start, ...(spec.endDate ? { endDate: spec.endDate } : {}) });
  const out: Date[] = [];
  for (let i = 0; i < n && it.hasNext(); i++) out.push(it.next().toDate());
  return out;
}
