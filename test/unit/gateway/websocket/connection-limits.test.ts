import t from 'tap';
import { expiryOf, fitsSendQueue, TokenBucket } from '../../../../gateway/websocket/connection-limits.js';

t.test('the token bucket admits a burst, then the sustained rate', async (t) => {
  const b = new TokenBucket(2, 3, 0);
  t.same([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false], 'burst of 3');
  t.equal(b.take(499), false, 'under one token refilled');
  t.equal(b.take(500), true, 'one token per 500 ms at 2/s');
  t.equal(b.take(500), false);
  t.same([b.take(10_000), b.take(10_000), b.take(10_000), b.take(10_000)], [true, true, true, false], 'refills up to the burst only');
});

t.test('connections expire when idle or too old', async (t) => {
  const limits = { idleTimeoutMs: 600_000, maxDurationMs: 7_200_000 };
  t.equal(expiryOf(limits, 0, 0, 599_999), undefined);
  t.match(expiryOf(limits, 0, 0, 600_000), { code: 1001, reason: /idle/ });
  t.equal(expiryOf(limits, 0, 7_000_000, 7_199_999), undefined, 'active: not idle');
  t.match(expiryOf(limits, 0, 7_199_999, 7_200_000), { code: 1001, reason: /maximum connection duration/ });
});

t.test('the send queue is bounded', async (t) => {
  t.equal(fitsSendQueue(1024, 0, 1024), true);
  t.equal(fitsSendQueue(1024, 1, 1024), false);
  t.equal(fitsSendQueue(1024, 1000, 24), true);
});
