import t from 'tap';
import { GantryError } from '../../../../common/errors.js';
import { ConcurrencyLimiter } from '../../../../control-plane/scheduler/concurrency-limiter.js';

t.test('a null limit is unlimited', async (t) => {
  const l = new ConcurrencyLimiter();
  const leases = Array.from({ length: 1000 }, () => l.acquire('f', null));
  t.equal(l.inUse('f'), 1000);
  for (const lease of leases) lease.release();
  t.equal(l.inUse('f'), 0);
});

t.test('at the limit, acquire throws TooManyRequests and takes no slot', async (t) => {
  const l = new ConcurrencyLimiter();
  l.acquire('f', 2);
  l.acquire('f', 2);
  const e = (() => {
    try {
      l.acquire('f', 2);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  t.type(e, GantryError);
  t.match(e, { type: 'TooManyRequests', status: 429, component: 'scheduler', details: { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', limit: 2 } });
  t.equal(l.inUse('f'), 2);
});

t.test('a limit of 0 throttles every call', async (t) => {
  const l = new ConcurrencyLimiter();
  t.throws(() => l.acquire('f', 0), { name: 'GantryError', type: 'TooManyRequests' });
  t.equal(l.inUse('f'), 0);
  t.equal(l.inUse(), 0);
});

t.test('release frees the slot for the next call', async (t) => {
  const l = new ConcurrencyLimiter();
  const first = l.acquire('f', 1);
  t.throws(() => l.acquire('f', 1), { name: 'GantryError', type: 'TooManyRequests' });
  first.release();
  t.equal(l.inUse('f'), 0);
  t.doesNotThrow(() => l.acquire('f', 1));
});

t.test('releasing a lease twice throws and frees only one slot', async (t) => {
  const l = new ConcurrencyLimiter();
  const a = l.acquire('f', null);
  l.acquire('f', null);
  a.release();
  t.throws(() => a.release(), { message: 'concurrency lease released twice' });
  t.equal(l.inUse('f'), 1);
});

t.test('functions are limited independently and inUse counts per function and in total', async (t) => {
  const l = new ConcurrencyLimiter();
  const f = l.acquire('f', 1);
  t.doesNotThrow(() => l.acquire('g', 1), 'g has a slot of its own');
  l.acquire('h', null);
  l.acquire('h', null);
  t.equal(l.inUse('f'), 1);
  t.equal(l.inUse('g'), 1);
  t.equal(l.inUse('h'), 2);
  t.equal(l.inUse('unknown'), 0);
  t.equal(l.inUse(), 4);
  f.release();
  t.equal(l.inUse(), 3);
});

t.test('a lowered limit throttles until enough leases are released', async (t) => {
  const l = new ConcurrencyLimiter();
  const leases = [l.acquire('f', 3), l.acquire('f', 3), l.acquire('f', 3)];
  t.throws(() => l.acquire('f', 2), { name: 'GantryError', type: 'TooManyRequests' });
  leases[0]?.release();
  t.throws(() => l.acquire('f', 2), { name: 'GantryError', type: 'TooManyRequests' }, 'still at 2 in use');
  leases[1]?.release();
  t.doesNotThrow(() => l.acquire('f', 2));
});
