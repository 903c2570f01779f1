import t from 'tap';
import type { NodeRecord } from '../../../../common/cluster-nodes.js';
import { byLoad, homeNode } from '../../../../gateway/upstream/node-selector.js';

const node = (id: string, inFlight = 0, freeMemoryMb = 1000): NodeRecord => ({ id, url: `http://${id}:9000`, inFlight, freeMemoryMb });
const names = Array.from({ length: 400 }, (_, i) => `fn-${i}`);

t.test('every function has one home, the same whatever order the nodes come in', async (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  for (const n of names) t.equal(homeNode(nodes, n)?.id, homeNode([...nodes].reverse(), n)?.id);
  t.equal(homeNode([], 'x'), undefined);
  t.equal(homeNode([node('solo')], 'x')?.id, 'solo');
});

t.test('homes spread over the nodes', async (t) => {
  const nodes = [node('a'), node('b'), node('c'), node('d')];
  const count = new Map<string, number>();
  for (const n of names) count.set(homeNode(nodes, n)?.id ?? '', (count.get(homeNode(nodes, n)?.id ?? '') ?? 0) + 1);
  // 100 each on average; a hash this skewed would show at 60 or 140.
  for (const id of ['a', 'b', 'c', 'd']) t.ok((count.get(id) ?? 0) > 60 && (count.get(id) ?? 0) < 140, `${id}: ${count.get(id)}`);
});

t.test('a node leaving moves only the functions it held; one joining takes only what it wins', async (t) => {
  const three = [node('a'), node('b'), node('c')];
  const two = [node('a'), node('b')];
  for (const n of names) {
    const before = homeNode(three, n)?.id;
    const after = homeNode(two, n)?.id;
    if (before !== 'c') t.equal(after, before, `${n} stays on ${before}`);
  }
  const four = [...three, node('d')];
  let moved = 0;
  for (const n of names) {
    const now = homeNode(four, n)?.id;
    if (now !== homeNode(three, n)?.id) {
      moved += 1;
      t.equal(now, 'd', `${n} moves only to the new node`);
    }
  }
  t.ok(moved > 0 && moved < names.length / 2, `${moved} of ${names.length} moved`);
});

t.test('fallbacks are the other nodes, fewest in flight first, then most free memory', async (t) => {
  const home = node('a', 0);
  const nodes = [home, node('b', 5, 100), node('c', 1, 100), node('d', 1, 900)];
  t.same(byLoad(nodes, home).map((n) => n.id), ['d', 'c', 'b']);
  t.same(byLoad([home], home), []);
});
