import t from 'tap';
import { billedDurationMs } from '../../../../../control-plane/metering/pricing/billing.js';

// compat.md §9: duration (plus init) rounded up to the next whole millisecond, no minimum,
// never more than the configured timeout.
const cases: readonly { name: string; durationUs: number; initUs: number; timeoutMs: number; billed: number }[] = [
  { name: 'bills the compat.md §9 example of 120.3 ms as 121 ms', durationUs: 120_300, initUs: 0, timeoutMs: 3_000, billed: 121 },
  { name: 'bills a whole number of milliseconds unchanged', durationUs: 5_000, initUs: 0, timeoutMs: 3_000, billed: 5 },
  { name: 'rounds one microsecond past a millisecond up to the next one', durationUs: 5_001, initUs: 0, timeoutMs: 3_000, billed: 6 },
  { name: 'bills a sub-millisecond invocation as 1 ms', durationUs: 1, initUs: 0, timeoutMs: 3_000, billed: 1 },
  { name: 'bills 999 microseconds as 1 ms', durationUs: 999, initUs: 0, timeoutMs: 3_000, billed: 1 },
  { name: 'bills zero duration as zero (there is no minimum)', durationUs: 0, initUs: 0, timeoutMs: 3_000, billed: 0 },
  { name: 'adds init before rounding (395.99 + 265.72 ms → 662 ms)', durationUs: 395_990, initUs: 265_720, timeoutMs: 3_000, billed: 662 },
  { name: 'adds init before rounding (1293.83 + 1049.63 ms → 2344 ms)', durationUs: 1_293_830, initUs: 1_049_630, timeoutMs: 10_000, billed: 2344 },
  { name: 'rounds the sum, not each part (0.5 + 0.5 ms → 1 ms)', durationUs: 500, initUs: 500, timeoutMs: 3_000, billed: 1 },
  { name: 'bills init alone when the handler never ran', durationUs: 0, initUs: 250_100, timeoutMs: 3_000, billed: 251 },
  { name: 'caps a timed-out invocation at the timeout', durationUs: 3_000_400, initUs: 0, timeoutMs: 3_000, billed: 3_000 },
  { name: 'caps duration plus init at the timeout', durationUs: 2_500_000, initUs: 900_000, timeoutMs: 3_000, billed: 3_000 },
  { name: 'rounds up to exactly the timeout and no further', durationUs: 2_999_001, initUs: 0, timeoutMs: 3_000, billed: 3_000 },
  { name: 'treats a negative duration as zero', durationUs: -5_000, initUs: 1_200, timeoutMs: 3_000, billed: 2 },
  { name: 'treats a negative init duration as zero', durationUs: 1_200, initUs: -5_000, timeoutMs: 3_000, billed: 2 },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.equal(billedDurationMs(c.durationUs, c.initUs, c.timeoutMs), c.billed);
  });
}

t.test('computes the compat.md §9 GB-s example from the billed duration', async (t) => {
  const billed = billedDurationMs(120_300, 0, 3_000);
  t.equal((256 / 1024) * (billed / 1000), 0.03025);
});
