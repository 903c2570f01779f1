import fc from 'fast-check';
import t from 'tap';
import { MAX_FIELD_DEPTH, nestsAtMost, rawFieldDepth, tooDeepField } from '../../../../control-plane/admin-api/json-limits.js';

/** `[[[…]]]` n levels deep, built without recursion. */
function deepArray(n: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < n; i++) v = [v];
  return v;
}

/** The nesting depth of a parsed value, by a recursive definition (fine for small values). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

t.test('nestsAtMost agrees with the recursive definition', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 14 }), (v, limit) => nestsAtMost(v, limit) === depthOf(v) <= limit),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test('a value nested 100 000 deep is measured without overflowing the stack', async (t) => {
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
  t.notOk(nestsAtMost(deep, MAX_FIELD_DEPTH));
  t.equal(tooDeepField({ expression: 'rate(1 minute)', input: deep }, MAX_FIELD_DEPTH), 'input');
  t.ok(nestsAtMost(deepArray(MAX_FIELD_DEPTH), MAX_FIELD_DEPTH), 'exactly the limit is allowed');
  t.notOk(nestsAtMost(deepArray(MAX_FIELD_DEPTH + 1), MAX_FIELD_DEPTH));
});

t.test('the raw scan agrees with the parsed check on any JSON object body', async (t) => {
  const body = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 10 }), { maxKeys: 5 });
  fc.assert(
    fc.property(body, fc.integer({ min: 0, max: 11 }), (b, limit) => {
      const raw = rawFieldDepth(Buffer.from(JSON.stringify(b)), limit);
      const parsed = tooDeepField(b, limit);
      return raw.ok ? parsed === undefined : parsed === raw.field;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test('the raw scan is not fooled by quotes, backslashes and brackets inside strings', async (t) => {
  const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '[', '{', ']', '}', ':', ',', 'a'), maxLength: 24 });
  const value = fc.letrec<{ v: unknown }>((tie) => ({ v: fc.oneof({ depthSize: 'small' }, tricky, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(tricky, tie('v'), { maxKeys: 3 })) })).v;
  fc.assert(
    fc.property(fc.dictionary(tricky, value, { maxKeys: 4 }), fc.integer({ min: 0, max: 6 }), (b, limit) => {
      const raw = rawFieldDepth(Buffer.from(JSON.stringify(b)), limit);
      const parsed = tooDeepField(b, limit);
      return raw.ok ? parsed === undefined : parsed === raw.field;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test('the raw scan names the field, ignores brackets in strings, and handles escapes', async (t) => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  t.same(rawFieldDepth(Buffer.from(`{"expression":"rate(1 minute)","input":${deep}}`), MAX_FIELD_DEPTH), { ok: false, field: 'input' });
  t.same(rawFieldDepth(Buffer.from(`{"a\\"b":${deep}}`), MAX_FIELD_DEPTH), { ok: false, field: 'a"b' });
  t.same(rawFieldDepth(Buffer.from(`{"s":"${'['.repeat(1000)}\\"${'{'.repeat(1000)}"}`), MAX_FIELD_DEPTH), { ok: true });
  t.same(rawFieldDepth(Buffer.from(deep), MAX_FIELD_DEPTH), { ok: false, field: undefined }, 'a non-object body names no field');
  t.same(rawFieldDepth(Buffer.from(`{"${'k'.repeat(100)}":${deep}}`), 3), { ok: false, field: `${'k'.repeat(64)}…` });
  // Unbalanced or broken text is the parser's to refuse; the scan must only stay bounded.
  t.same(rawFieldDepth(Buffer.from(']]]}}}{"a":1'), MAX_FIELD_DEPTH), { ok: true });
});
