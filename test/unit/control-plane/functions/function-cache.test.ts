import t from 'tap';
import { FunctionCache } from '../../../../control-plane/functions/function-cache.js';
import type { FunctionId, FunctionRecord, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';

const T1 = 'tenant-1' as TenantId;
const T2 = 'tenant-2' as TenantId;

function version(name: string, versionId: number): FunctionRecord {
  return {
    tenantId: T1,
    functionId: `fn-${name}` as FunctionId,
    versionId: versionId as VersionId,
    name,
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 3000,
    environment: {},
    network: 'default',
    codeSha256: 'x',
    codeSize: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    reservedConcurrency: null,
    provisionedConcurrency: null,
  };
}

interface PendingLoad {
  readonly tenantId: TenantId;
  readonly name: string;
  resolve(v: FunctionRecord | undefined): void;
  reject(e: Error): void;
}

/** A loader the test settles by hand; it records every call. */
function manualLoader() {
  const calls: PendingLoad[] = [];
  const load = (tenantId: TenantId, name: string) =>
    new Promise<FunctionRecord | undefined>((resolve, reject) => calls.push({ tenantId, name, resolve, reject }));
  return { calls, load };
}

/** Lets the cache's own `.then` bookkeeping run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

t.test('loads a function once and serves later gets from the cache', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const first = cache.get(T1, 'pets');
  calls[0]?.resolve(version('pets', 1));
  t.equal((await first)?.versionId, 1);
  t.equal((await cache.get(T1, 'pets'))?.versionId, 1);
  t.equal(calls.length, 1);
});

t.test('keys the cache by tenant and name', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const gets = [cache.get(T1, 'pets'), cache.get(T2, 'pets'), cache.get(T1, 'owners'), cache.get(T1, 'pets')];
  t.strictSame(
    calls.map((c) => [c.tenantId, c.name]),
    [
      [T1, 'pets'],
      [T2, 'pets'],
      [T1, 'owners'],
    ],
  );
  calls.forEach((c, i) => c.resolve(version(c.name, i + 1)));
  t.strictSame((await Promise.all(gets)).map((v) => v?.versionId), [1, 2, 3, 1]);
});

t.test('concurrent gets for one key share a single load', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const a = cache.get(T1, 'pets');
  const b = cache.get(T1, 'pets');
  t.equal(a, b);
  t.equal(calls.length, 1);
  calls[0]?.resolve(version('pets', 4));
  t.equal((await a)?.versionId, 4);
  t.equal((await b)?.versionId, 4);
});

t.test('invalidateAll forces the next get to load again', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const first = cache.get(T1, 'pets');
  calls[0]?.resolve(version('pets', 1));
  await first;
  cache.invalidateAll();
  const second = cache.get(T1, 'pets');
  t.equal(calls.length, 2);
  calls[1]?.resolve(version('pets', 2));
  t.equal((await second)?.versionId, 2);
});

t.test('a load that raced with invalidateAll is not kept for later gets', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const stale = cache.get(T1, 'pets');
  cache.invalidateAll();
  calls[0]?.resolve(version('pets', 1));
  t.equal((await stale)?.versionId, 1, 'the caller that asked before the change still gets an answer');
  await settle();
  const fresh = cache.get(T1, 'pets');
  t.equal(calls.length, 2);
  calls[1]?.resolve(version('pets', 2));
  t.equal((await fresh)?.versionId, 2);
});

const staleEndings: readonly [string, (c: PendingLoad) => void][] = [
  ['succeeds', (c) => c.resolve(version('pets', 1))],
  ['fails', (c) => c.reject(new Error('postgres down'))],
];
for (const [how, finish] of staleEndings) {
  t.test(`a stale load that ${how} after invalidateAll does not evict the fresh entry`, async (t) => {
    const { calls, load } = manualLoader();
    const cache = new FunctionCache(load);
    const stale = cache.get(T1, 'pets');
    stale.catch(() => undefined);
    cache.invalidateAll();
    const fresh = cache.get(T1, 'pets');
    calls[1]?.resolve(version('pets', 2));
    await fresh;
    finish(calls[0] as PendingLoad);
    await stale.catch(() => undefined);
    await settle();
    const again = cache.get(T1, 'pets');
    t.equal(calls.length, 2, 'the fresh version is still cached, so nothing loads again');
    calls[2]?.resolve(version('pets', 3)); // only reached when the fresh entry was evicted
    t.equal((await again)?.versionId, 2);
  });
}

t.test('a failed load is not cached', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const failing = cache.get(T1, 'pets');
  calls[0]?.reject(new Error('postgres down'));
  await t.rejects(failing, { message: 'postgres down' });
  await settle();
  const retry = cache.get(T1, 'pets');
  t.equal(calls.length, 2);
  calls[1]?.resolve(version('pets', 3));
  t.equal((await retry)?.versionId, 3);
});

t.test('callers that shared a failing load all see the failure', async (t) => {
  const { calls, load } = manualLoader();
  const cache = new FunctionCache(load);
  const a = cache.get(T1, 'pets');
  const b = cache.get(T1, 'pets');
  calls[0]?.reject(new Error('postgres down'));
  await t.rejects(a, { message: 'postgres down' });
  await t.rejects(b, { message: 'postgres down' });
  t.equal(calls.length, 1);
});
