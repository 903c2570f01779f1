import t from 'tap';
import { Decimal } from '../../../../../control-plane/metering/pricing/decimal.js';
import { buildInvoice, computeCost, exactCost, gbSeconds, requestCost, type Prices } from '../../../../../control-plane/metering/pricing/pricing.js';

const lambda: Prices = { pricePerGbSecond: Decimal.parse('0.0000166667'), pricePerMillionRequests: Decimal.parse('0.20'), currency: 'USD' };

t.test('computes GB-seconds from Σ billedMs × memoryMb exactly (compat.md §9 example)', async (t) => {
  // 256 MB, 121 ms billed → 0.25 × 0.121 = 0.03025 GB-s.
  t.equal(gbSeconds(121n * 256n).toString(), '0.03025');
  t.equal(gbSeconds(1000n * 1024n).toString(), '1', '1 s at 1 GB');
  t.equal(gbSeconds(1n * 128n).toString(), '0.000125');
  t.equal(gbSeconds(1n).toString(), '0.0000009765625', '1 ms at 1 MB: 1/1024000 terminates');
  t.equal(gbSeconds(0n).toString(), '0');
});

t.test('prices requests per million and compute per GB-second', async (t) => {
  t.equal(requestCost(1_000_000n, lambda).toString(), '0.2');
  t.equal(requestCost(1n, lambda).toString(), '0.0000002');
  t.equal(computeCost(1000n * 1024n, lambda).toString(), '0.0000166667');
  t.equal(exactCost({ requests: 1n, billedMs: 121n, mbMs: 121n * 256n }, lambda).toString(), '0.000000704167675');
});

t.test('an invoice rounds each line half-up to 1e-6 and totals the rounded lines', async (t) => {
  const invoice = buildInvoice(
    '2026-01',
    [
      { function: 'a', requests: 3n, billedMs: 363n, mbMs: 363n * 256n },
      { function: 'b', requests: 2_500_000n, billedMs: 2_500_000n * 100n, mbMs: 2_500_000n * 100n * 1024n },
    ],
    lambda,
  );
  t.same(invoice, {
    month: '2026-01',
    currency: 'USD',
    lines: [
      // 3 × 0.0000002 = 0.0000006 → 0.000001; 0.09075 GB-s × 0.0000166667 = 0.000001512503 → 0.000002.
      { function: 'a', requests: 3, gbSeconds: '0.09075', requestCost: '0.000001', computeCost: '0.000002', total: '0.000003' },
      // 2.5M requests → 0.50; 250000 GB-s × 0.0000166667 = 4.1666750.
      { function: 'b', requests: 2_500_000, gbSeconds: '250000', requestCost: '0.500000', computeCost: '4.166675', total: '4.666675' },
    ],
    total: '4.666678',
  });
});

t.test('an empty month is an invoice of zero', async (t) => {
  t.same(buildInvoice('2026-02', [], lambda), { month: '2026-02', currency: 'USD', lines: [], total: '0.000000' });
});

t.test('sums of many small amounts stay exact', async (t) => {
  // Ten thousand 1-ms invocations at 128 MB, priced one by one, equal the same usage priced at once.
  let perEntry = Decimal.ZERO;
  for (let i = 0; i < 10_000; i++) perEntry = perEntry.add(exactCost({ requests: 1n, billedMs: 1n, mbMs: 128n }, lambda));
  t.ok(perEntry.equals(exactCost({ requests: 10_000n, billedMs: 10_000n, mbMs: 1_280_000n }, lambda)));
});
