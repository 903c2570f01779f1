import t from 'tap';
import { decodeCursor, encodeCursor } from '../../../../../control-plane/metering/read/invocation-cursor.js';
import { newInvocationId } from '../../../../../control-plane/invocation/invocation-id.js';

const c = { startedAtUs: '1767225600123456', id: '0190f1a2-0000-7abc-8def-0123456789ab', attempt: 2 };

t.test('round-trips a cursor through its opaque text', async (t) => {
  const text = encodeCursor(c);
  t.match(text, /^[A-Za-z0-9_-]+$/, 'url-safe, no padding');
  t.same(decodeCursor(text), c);
});

t.test('refuses text that is not a cursor this endpoint issued', async (t) => {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  for (const bad of [
    '',
    'not base64!',
    Buffer.from('not json').toString('base64url'),
    enc({ startedAtUs: c.startedAtUs }),
    enc([c.startedAtUs, c.id]),
    enc([1767225600123456, c.id, 1]),
    enc([c.startedAtUs, 'not-a-uuid', 1]),
    enc([c.startedAtUs, c.id, 0]),
    enc([c.startedAtUs, c.id, 1.5]),
    enc(['12a', c.id, 1]),
    'A'.repeat(500),
  ]) {
    t.equal(decodeCursor(bad), undefined, bad.slice(0, 40));
  }
});

t.test('invocation ids are time-ordered UUID version 7', async (t) => {
  const a = newInvocationId(1_700_000_000_000);
  const b = newInvocationId(1_700_000_000_001);
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.ok(a < b, 'a later millisecond sorts later');
  t.equal(a.slice(0, 13).replace('-', ''), (1_700_000_000_000).toString(16).padStart(12, '0'));
  const many = new Set(Array.from({ length: 1000 }, () => newInvocationId()));
  t.equal(many.size, 1000, 'unique');
});
