import t from 'tap';
import { DEFAULT_ASYNC_CONFIG, type AsyncConfig } from '../../../../control-plane/async/async-config.js';
import { afterFunctionError, isExpired, retryDelayMs, throttleDelayMs } from '../../../../control-plane/async/retry-policy.js';

const cfg = (o: Partial<AsyncConfig> = {}): AsyncConfig => ({ ...DEFAULT_ASYNC_CONFIG, ...o });

t.test('by default two retries, after 1 and then 2 minutes, then the failure destination', async (t) => {
  t.same(afterFunctionError(cfg(), 1), { kind: 'retry', delayMs: 60_000 });
  t.same(afterFunctionError(cfg(), 2), { kind: 'retry', delayMs: 120_000 });
  t.same(afterFunctionError(cfg(), 3), { kind: 'give-up', condition: 'RetriesExhausted' });
});

t.test('no retries at 0; a short delay list repeats its last entry, an empty one means 0', async (t) => {
  t.same(afterFunctionError(cfg({ maximumRetryAttempts: 0 }), 1), { kind: 'give-up', condition: 'RetriesExhausted' });
  t.equal(retryDelayMs(cfg({ retryDelaysMs: [5] }), 2), 5);
  t.equal(retryDelayMs(cfg({ retryDelaysMs: [] }), 1), 0);
  t.same(afterFunctionError(cfg({ maximumRetryAttempts: 1, retryDelaysMs: [0] }), 1), { kind: 'retry', delayMs: 0 });
});

t.test('an event is expired strictly after its maximum age', async (t) => {
  const c = cfg({ maximumEventAgeSeconds: 60 });
  t.notOk(isExpired(0, 60_000, c));
  t.ok(isExpired(0, 60_001, c));
});

t.test('throttle returns double from the minimum up to the maximum', async (t) => {
  const b = { minDelayMs: 1_000, maxDelayMs: 300_000 };
  const c = cfg();
  t.same([1, 2, 3, 4, 9, 10, 50].map((n) => throttleDelayMs(b, n, 0, 0, c)), [1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
});

t.test('a throttled event comes back no later than the moment it expires', async (t) => {
  const c = cfg({ maximumEventAgeSeconds: 60 });
  const b = { minDelayMs: 1_000, maxDelayMs: 300_000 };
  t.equal(throttleDelayMs(b, 10, 0, 50_000, c), 10_001, 'capped at the age limit (+1 ms: seen as expired then)');
  t.equal(throttleDelayMs(b, 1, 0, 70_000, c), 0, 'already expired: at once');
});
