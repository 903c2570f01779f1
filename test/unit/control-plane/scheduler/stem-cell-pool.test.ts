import t from 'tap';
import { StemCellPool } from '../../../../control-plane/scheduler/stem-cell-pool.js';

const key = (runtime: string, memoryMb: number, network: 'default' | 'none' = 'default') => ({ runtime, memoryMb, network });

t.test('keeps perRuntime cells of the default shape for each runtime', async (t) => {
  const pool = new StemCellPool({ perRuntime: 3, defaultMemoryMb: 128, maxLearnedShapes: 4 });
  t.equal(pool.enabled, true);
  t.strictSame(pool.targets(['nodejs20', 'python3.11']), [
    { key: key('nodejs20', 128), count: 3 },
    { key: key('python3.11', 128), count: 3 },
  ]);
  t.strictSame(pool.targets([]), []);
});

t.test('perRuntime 0 turns stem cells off, learned shapes included', async (t) => {
  const pool = new StemCellPool({ perRuntime: 0, defaultMemoryMb: 128, maxLearnedShapes: 4 });
  pool.noteDemand(key('nodejs20', 256));
  t.equal(pool.enabled, false);
  t.strictSame(pool.targets(['nodejs20']), []);
});

t.test('a demanded shape is kept with one cell, for runtimes that can specialise only', async (t) => {
  const pool = new StemCellPool({ perRuntime: 2, defaultMemoryMb: 128, maxLearnedShapes: 4 });
  pool.noteDemand(key('nodejs20', 512));
  pool.noteDemand(key('nodejs20', 512));
  pool.noteDemand(key('provided', 256));
  t.strictSame(pool.targets(['nodejs20']), [
    { key: key('nodejs20', 128), count: 2 },
    { key: key('nodejs20', 512), count: 1 },
  ]);
});

t.test('the default shape itself is never learned again', async (t) => {
  const pool = new StemCellPool({ perRuntime: 2, defaultMemoryMb: 128, maxLearnedShapes: 4 });
  pool.noteDemand(key('nodejs20', 128));
  t.strictSame(pool.targets(['nodejs20']), [{ key: key('nodejs20', 128), count: 2 }]);
});

t.test('a default-memory shape on network none is learned (the network is part of the shape)', async (t) => {
  const pool = new StemCellPool({ perRuntime: 2, defaultMemoryMb: 128, maxLearnedShapes: 4 });
  pool.noteDemand(key('nodejs20', 128, 'none'));
  t.strictSame(pool.targets(['nodejs20']), [
    { key: key('nodejs20', 128), count: 2 },
    { key: key('nodejs20', 128, 'none'), count: 1 },
  ]);
});

t.test('learned shapes are bounded, the least recently demanded dropped first', async (t) => {
  const pool = new StemCellPool({ perRuntime: 1, defaultMemoryMb: 128, maxLearnedShapes: 2 });
  pool.noteDemand(key('nodejs20', 256));
  pool.noteDemand(key('nodejs20', 512));
  pool.noteDemand(key('nodejs20', 256)); // 256 is now the most recent
  pool.noteDemand(key('nodejs20', 1024)); // drops 512
  t.strictSame(
    pool.targets(['nodejs20']).map((x) => x.key.memoryMb),
    [128, 256, 1024],
  );
});
