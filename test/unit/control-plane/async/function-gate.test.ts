import t from 'tap';
import { FunctionGate } from '../../../../control-plane/async/function-gate.js';

t.test('up to the limit, slots are given at once', async (t) => {
  const g = new FunctionGate();
  const a = await g.enter('f', 2, 0);
  const b = await g.enter('f', 2, 0);
  t.ok(a && b);
  t.equal(g.running('f'), 2);
  t.equal(await g.enter('f', 2, 0), undefined, 'no wait allowed: refused at once');
  a?.release();
  b?.release();
  t.equal(g.running('f'), 0);
});

t.test('a waiter gets the next freed slot, first come first served', async (t) => {
  const g = new FunctionGate();
  const held = await g.enter('f', 1, 0);
  const order: string[] = [];
  const w1 = g.enter('f', 1, 10_000).then((s) => (order.push('w1'), s));
  const w2 = g.enter('f', 1, 10_000).then((s) => (order.push('w2'), s));
  held?.release();
  const s1 = await w1;
  t.ok(s1);
  s1?.release();
  const s2 = await w2;
  t.ok(s2);
  s2?.release();
  t.same(order, ['w1', 'w2']);
  t.equal(g.running('f'), 0);
});

t.test('a waiter gives up after its wait, and takes no slot', async (t) => {
  const g = new FunctionGate();
  const held = await g.enter('f', 1, 0);
  const started = Date.now();
  t.equal(await g.enter('f', 1, 30), undefined);
  t.ok(Date.now() - started >= 25);
  held?.release();
  t.equal(g.running('f'), 0);
});

t.test('functions do not share slots; null means no limit; 0 never admits', async (t) => {
  const g = new FunctionGate();
  const a = await g.enter('a', 1, 0);
  const b = await g.enter('b', 1, 0);
  t.ok(a && b);
  const many = await Promise.all(Array.from({ length: 50 }, () => g.enter('n', null, 0)));
  t.ok(many.every(Boolean));
  t.equal(await g.enter('z', 0, 1_000), undefined, 'reserved 0: refused without waiting');
});

t.test('close sends every waiter away empty-handed and refuses new ones', async (t) => {
  const g = new FunctionGate();
  const held = await g.enter('f', 1, 0);
  const waiting = g.enter('f', 1, 60_000);
  g.close();
  t.equal(await waiting, undefined);
  t.equal(await g.enter('other', null, 0), undefined);
  held?.release();
  t.throws(() => held?.release(), /released twice/);
});
