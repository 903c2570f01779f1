import t from 'tap';
import { splitRange } from '../../../../../control-plane/metering/read/usage-store.js';

const at = (iso: string) => new Date(iso);
const iso = (r: ReturnType<typeof splitRange>) => ({
  hours: r.hours?.map((d) => d.toISOString()),
  edges: r.edges.map(([a, b]) => [a.toISOString(), b.toISOString()]),
});

t.test('whole hours only: everything from the rollup', async (t) => {
  t.same(iso(splitRange(at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'))), { hours: ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'], edges: [] });
});

t.test('partial hours at both ends are read from the ledger', async (t) => {
  t.same(iso(splitRange(at('2026-01-01T00:30:00Z'), at('2026-01-01T05:10:00Z'))), {
    hours: ['2026-01-01T01:00:00.000Z', '2026-01-01T05:00:00.000Z'],
    edges: [
      ['2026-01-01T00:30:00.000Z', '2026-01-01T01:00:00.000Z'],
      ['2026-01-01T05:00:00.000Z', '2026-01-01T05:10:00.000Z'],
    ],
  });
});

t.test('a range inside one hour, or spanning one boundary without a whole hour, is all ledger', async (t) => {
  t.same(iso(splitRange(at('2026-01-01T00:10:00Z'), at('2026-01-01T00:20:00Z'))), { hours: undefined, edges: [['2026-01-01T00:10:00.000Z', '2026-01-01T00:20:00.000Z']] });
  t.same(iso(splitRange(at('2026-01-01T00:50:00Z'), at('2026-01-01T01:10:00Z'))), { hours: undefined, edges: [['2026-01-01T00:50:00.000Z', '2026-01-01T01:10:00.000Z']] });
});

t.test('an empty or inverted range reads nothing', async (t) => {
  t.same(iso(splitRange(at('2026-01-01T00:10:00Z'), at('2026-01-01T00:10:00Z'))), { hours: undefined, edges: [] });
  t.same(iso(splitRange(at('2026-01-01T02:00:00Z'), at('2026-01-01T01:00:00Z'))), { hours: undefined, edges: [] });
});
