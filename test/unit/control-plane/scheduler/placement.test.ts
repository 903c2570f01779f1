import t from 'tap';
import {
  defaultNodeMemoryMb,
  memoryInUseMb,
  pickEvictions,
  pickExpired,
  pickIdle,
  type EnvironmentView,
} from '../../../../control-plane/scheduler/placement.js';

function env(id: string, over: Partial<EnvironmentView> = {}): EnvironmentView {
  return { id, versionId: 1, state: 'idle', lastUsedMs: 0, memoryMb: 128, provisioned: false, retired: false, ...over };
}
const ids = (es: readonly EnvironmentView[] | undefined) => es?.map((e) => e.id);

const idleCases: readonly [string, EnvironmentView[], string | undefined][] = [
  ['nothing at all', [], undefined],
  ['the only idle environment of the version', [env('a')], 'a'],
  ['the most recently used of several', [env('old', { lastUsedMs: 1 }), env('new', { lastUsedMs: 3 }), env('mid', { lastUsedMs: 2 })], 'new'],
  ['nothing when the only one is busy', [env('a', { state: 'busy' })], undefined],
  ['nothing when the only one is starting', [env('a', { state: 'starting' })], undefined],
  ['nothing when the only one is dead', [env('a', { state: 'dead' })], undefined],
  ['nothing when the only one is retired', [env('a', { retired: true, lastUsedMs: 9 })], undefined],
  ['nothing from another version', [env('a', { versionId: 2 })], undefined],
  ['never a stem cell', [env('cell', { versionId: undefined, lastUsedMs: 9 })], undefined],
  [
    'the idle one, skipping newer busy, retired and stem-cell ones',
    [env('ok', { lastUsedMs: 1 }), env('busy', { state: 'busy', lastUsedMs: 5 }), env('ret', { retired: true, lastUsedMs: 6 }), env('cell', { versionId: undefined, lastUsedMs: 7 })],
    'ok',
  ],
  ['a provisioned one like any other', [env('p', { provisioned: true })], 'p'],
];
for (const [what, envs, want] of idleCases) {
  t.test(`pickIdle picks ${what}`, async (t) => {
    t.equal(pickIdle(envs, 1)?.id, want);
  });
}

const memoryCases: readonly [string, EnvironmentView[], number][] = [
  ['nothing', [], 0],
  ['every state but dead', [env('s', { state: 'starting' }), env('i'), env('b', { state: 'busy', memoryMb: 256 }), env('d', { state: 'dead', memoryMb: 1024 })], 512],
  ['stem cells and provisioned ones', [env('c', { versionId: undefined }), env('p', { provisioned: true, memoryMb: 64 })], 192],
];
for (const [what, envs, want] of memoryCases) {
  t.test(`memoryInUseMb counts ${what}`, async (t) => {
    t.equal(memoryInUseMb(envs), want);
  });
}

const evictionCases: readonly [string, EnvironmentView[], number, number, string[] | undefined][] = [
  ['[] when it already fits', [env('a')], 128, 256, []],
  ['[] when it fits exactly', [env('a'), env('b')], 128, 384, []],
  ['[] on an empty node', [], 1024, 1024, []],
  ['the least recently used idle one', [env('new', { lastUsedMs: 2 }), env('old', { lastUsedMs: 1 })], 128, 256, ['old']],
  [
    'as many as needed, in LRU order',
    [env('c', { lastUsedMs: 3 }), env('a', { lastUsedMs: 1 }), env('b', { lastUsedMs: 2 }), env('d', { lastUsedMs: 4 })],
    256,
    512,
    ['a', 'b'],
  ],
  ['idle stem cells like idle function environments', [env('cell', { versionId: undefined, lastUsedMs: 1 }), env('fn', { lastUsedMs: 2 })], 128, 256, ['cell']],
  ['never a provisioned one', [env('p', { provisioned: true, lastUsedMs: 0 }), env('a', { lastUsedMs: 5 })], 128, 256, ['a']],
  ['never a busy one', [env('busy', { state: 'busy', lastUsedMs: 0 }), env('a', { lastUsedMs: 5 })], 128, 256, ['a']],
  ['never a starting one', [env('s', { state: 'starting', lastUsedMs: 0 }), env('a', { lastUsedMs: 5 })], 128, 256, ['a']],
  ['undefined when only busy ones hold the memory', [env('a', { state: 'busy' }), env('b', { state: 'busy' })], 128, 256, undefined],
  ['undefined when only provisioned ones hold it', [env('p', { provisioned: true }), env('q', { provisioned: true })], 128, 256, undefined],
  ['undefined when evicting everything is not enough', [env('a'), env('b', { state: 'busy' })], 256, 256, undefined],
  ['undefined when the request exceeds the whole budget', [], 512, 256, undefined],
  ['a dead one is neither counted nor evicted', [env('d', { state: 'dead' }), env('a', { lastUsedMs: 5 })], 128, 128, ['a']],
];
for (const [what, envs, neededMb, budgetMb, want] of evictionCases) {
  t.test(`pickEvictions: ${what}`, async (t) => {
    t.strictSame(ids(pickEvictions(envs, neededMb, budgetMb)), want);
  });
}

t.test('pickEvictions, for any mix, frees enough, evicts only idle unprovisioned ones, in LRU order, and no more than needed', async (t) => {
  // A small deterministic generator: property cases without a dependency.
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const states = ['starting', 'idle', 'busy', 'dead'] as const;
  for (let round = 0; round < 300; round++) {
    const envs = Array.from({ length: rnd(8) }, (_, i) =>
      env(`e${i}`, { state: states[rnd(4)] as EnvironmentView['state'], lastUsedMs: rnd(1000), memoryMb: 64 * (1 + rnd(4)), provisioned: rnd(4) === 0, versionId: rnd(3) === 0 ? undefined : 1 }),
    );
    const budget = 128 * (1 + rnd(6));
    const needed = 64 * (1 + rnd(4));
    const out = pickEvictions(envs, needed, budget);
    const free = budget - memoryInUseMb(envs);
    const evictable = envs.filter((e) => e.state === 'idle' && !e.provisioned);
    const maxFree = free + evictable.reduce((s, e) => s + e.memoryMb, 0);
    if (out === undefined) {
      if (maxFree >= needed) t.fail(`round ${round}: undefined although evicting could free ${maxFree} >= ${needed}`);
      continue;
    }
    const freed = out.reduce((s, e) => s + e.memoryMb, 0);
    if (free + freed < needed) t.fail(`round ${round}: not enough freed`);
    if (out.some((e) => e.state !== 'idle' || e.provisioned)) t.fail(`round ${round}: evicted a busy or provisioned one`);
    for (let i = 1; i < out.length; i++) if ((out[i] as EnvironmentView).lastUsedMs < (out[i - 1] as EnvironmentView).lastUsedMs) t.fail(`round ${round}: not LRU`);
    const last = out[out.length - 1];
    if (last && free + freed - last.memoryMb >= needed) t.fail(`round ${round}: evicted more than needed`);
  }
  t.pass('300 generated cases hold');
});

const expiredCases: readonly [string, EnvironmentView[], string[]][] = [
  ['an idle function environment unused for longer than keepWarmMs', [env('a', { lastUsedMs: 0 })], ['a']],
  ['not one unused for exactly keepWarmMs', [env('a', { lastUsedMs: 1000 })], []],
  ['not one used recently', [env('a', { lastUsedMs: 1500 })], []],
  ['never a stem cell', [env('cell', { versionId: undefined, lastUsedMs: 0 })], []],
  ['never a provisioned one', [env('p', { provisioned: true, lastUsedMs: 0 })], []],
  ['never a busy or starting one', [env('b', { state: 'busy', lastUsedMs: 0 }), env('s', { state: 'starting', lastUsedMs: 0 })], []],
  [
    'only the expired ones of a mix',
    [env('old', { lastUsedMs: 10 }), env('cell', { versionId: undefined }), env('p', { provisioned: true }), env('new', { lastUsedMs: 1900 }), env('old2', { lastUsedMs: 999 })],
    ['old', 'old2'],
  ],
];
for (const [what, envs, want] of expiredCases) {
  t.test(`pickExpired picks ${what}`, async (t) => {
    t.strictSame(ids(pickExpired(envs, 2000, 1000)), want);
  });
}

const nodeMemoryCases: readonly [number, number][] = [
  [0, 0],
  [1024 * 1024 * 1024, 768],
  [16 * 1024 * 1024 * 1024, 12288],
  [1000 * 1024 * 1024, 750],
  [1001 * 1024 * 1024, 750],
];
for (const [bytes, want] of nodeMemoryCases) {
  t.test(`defaultNodeMemoryMb gives ${want} MB for ${bytes} bytes of host memory (three quarters, rounded down)`, async (t) => {
    t.equal(defaultNodeMemoryMb(bytes), want);
  });
}
